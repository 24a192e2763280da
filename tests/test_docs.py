"""The README's Python examples run as doctests, so they cannot go stale."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_readme_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the examples name files relative to the repository
    result = doctest.testfile(
        str(ROOT / "README.md"), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} README example(s) failed"


def test_docs_link_only_to_files_that_exist() -> None:
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for target in _relative_links(text):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def _relative_links(text: str) -> list[str]:
    import re

    links = re.findall(r"\]\(([^)#\s]+)\)", text)
    return [link for link in links if "://" not in link and not link.startswith("mailto:")]
