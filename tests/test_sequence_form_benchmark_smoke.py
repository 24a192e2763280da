"""Smoke test of the sequence-form benchmark (benchmarks/sequence_form.py): it runs.

The quick mode without Gambit and without the reference folder times our
solver on one random tree per size; the test checks that the run ends well,
prints its table and writes JSON naming every size. Nothing here asserts a time.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import sequence_form as bench  # noqa: E402


def test_quick_run_without_peers_writes_its_results(tmp_path: Path) -> None:
    out = tmp_path / "sf.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = bench.main(["--quick", "--no-gambit", "--no-references", "--out", str(out)])
    assert code == 0
    text = printed.getvalue()
    assert "2x2x1" in text and "2x2x2" in text
    data = json.loads(out.read_text(encoding="utf-8"))
    assert "2x2x1" in json.dumps(data) and "2x2x2" in json.dumps(data)
