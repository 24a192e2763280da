"""Shared fixtures: the Gambit reference games in ``../shared/games``.

The folder (with ``games/``, ``answers.json`` and a README) is found from the
environment variable ``NEGSIM_REFERENCE_GAMES`` or next to the repository clone
(``<clone>/../shared/games``). It is not part of the repository (the games are
GPL-2 licensed), so every test that needs it skips, with a reason, when it is
absent.

Fixtures and parameters:

* ``reference_games``: the folder as a :class:`~pathlib.Path` (skips if absent);
* ``reference_answers``: ``answers.json`` as a dict keyed by file name;
* a test with a parameter named ``reference_nfg`` runs once per ``.nfg`` file in
  ``games/`` (ids are the file names); ``reference_nfg_two_player`` and
  ``reference_nfg_n_player`` run over the two-player and the 3+-player files.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

_MISSING = "reference games not found: set NEGSIM_REFERENCE_GAMES or clone next to shared/games"


@cache
def reference_games_dir() -> Path | None:
    """The reference-games folder, or ``None`` when it is absent."""
    configured = os.environ.get("NEGSIM_REFERENCE_GAMES")
    folder = (
        Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared" / "games"
    )
    if (folder / "games").is_dir() and (folder / "answers.json").is_file():
        return folder
    return None


@cache
def _answers() -> dict[str, Any]:
    folder = reference_games_dir()
    if folder is None:
        return {}
    with open(folder / "answers.json", encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def _nfg_files(players: str) -> list[Path]:
    folder = reference_games_dir()
    if folder is None:
        return []
    files = sorted((folder / "games").glob("*.nfg"))
    if players == "all":
        return files
    answers = _answers()

    def count(path: Path) -> int:
        return int(answers.get(path.name, {}).get("players", 0))

    if players == "2":
        return [f for f in files if count(f) == 2]
    return [f for f in files if count(f) >= 3]


_PARAMETERS = {
    "reference_nfg": "all",
    "reference_nfg_two_player": "2",
    "reference_nfg_n_player": "n",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for name, players in _PARAMETERS.items():
        if name not in metafunc.fixturenames:
            continue
        files = _nfg_files(players)
        if files:
            metafunc.parametrize(name, files, ids=[f.name for f in files])
        else:
            metafunc.parametrize(
                name,
                [pytest.param(None, marks=pytest.mark.skip(reason=_MISSING))],
                ids=["no-reference-games"],
            )


@pytest.fixture(scope="session")
def reference_games() -> Path:
    folder = reference_games_dir()
    if folder is None:
        pytest.skip(_MISSING)
    return folder


@pytest.fixture(scope="session")
def reference_answers(reference_games: Path) -> dict[str, Any]:
    return _answers()
