"""Smoke test of the n-player benchmark (``benchmarks/nplayer.py``): structure, not times.

The quick mode runs on one tiny game per size, each library in its worker
process. The test checks that every method was measured (or reported as not
installed / missing), that our logit solver returned a verified equilibrium on
every game at a relative regret within the target, that the printed tables and
the JSON carry the same facts, and that a printed seed rebuilds its game.
Nothing here asserts a time.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import nplayer as bench  # noqa: E402
from benchmarks.games import DEFAULT_BASE_SEED, case_seed  # noqa: E402


def _run(tmp: Path, *extra: str) -> tuple[str, dict]:
    out = tmp / "nplayer.json"
    stream = io.StringIO()
    with contextlib.redirect_stdout(stream):
        quick = ["--quick", "--sizes", "3x2", "4x2", "--games", "1", "--repeat", "1"]
        code = bench.main([*quick, "--out", str(out), *extra])
    assert code == 0
    return stream.getvalue(), json.loads(out.read_text())


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    return _run(tmp_path_factory.mktemp("nplayer"))


def test_every_method_is_measured_or_explained(quick_run: tuple[str, dict]) -> None:
    _, payload = quick_run
    cells = payload["results"]
    assert {c["size"] for c in cells} == {"3x2", "4x2"}
    gambit = importlib.util.find_spec("pygambit") is not None
    support = importlib.util.find_spec("simulator.solvers.nplayer_support") is not None
    for cell in cells:
        method = bench.BY_KEY[cell["method"]]
        if method.library == "pygambit" and not gambit:
            assert cell["status"] == "not installed"
        elif method.module.endswith("nplayer_support") and not support:
            assert cell["status"] == "missing"
        else:
            assert cell["status"] == "ok", cell["note"]
            assert len(cell["samples_s"]) == 1 and cell["median_s"] > 0
            assert cell["counts"][0] is not None
    assert {c["method"] for c in cells} == {m.key for m in bench.METHODS}


def test_our_logit_reaches_the_target_regret(quick_run: tuple[str, dict]) -> None:
    _, payload = quick_run
    ours = [c for c in payload["results"] if c["method"] == "ours-logit"]
    assert len(ours) == 2
    for cell in ours:
        assert cell["counts"] == [1]
        assert cell["regrets"][0] is not None and cell["regrets"][0] <= bench.TARGET_REGRET


def test_tables_and_json_carry_the_same_facts(quick_run: tuple[str, dict]) -> None:
    stdout, payload = quick_run
    assert "usable cores" in stdout
    assert bench.report(payload) in stdout
    for method in bench.METHODS:
        assert method.label in stdout
    assert "worst relative regret" in stdout
    assert payload["command"][:2] == ["python", "benchmarks/nplayer.py"]
    assert payload["settings"]["base_seed"] == DEFAULT_BASE_SEED
    if importlib.util.find_spec("pygambit") is not None:
        assert "ratio: our time / their time" in stdout
        assert "target at 3x2" in stdout and "target at 4x2" in stdout


def test_a_printed_seed_rebuilds_its_game(quick_run: tuple[str, dict]) -> None:
    _, payload = quick_run
    size = payload["sizes"][0]
    assert size["seeds"] == [case_seed(DEFAULT_BASE_SEED, 3, 2, 0)]
    rebuilt = bench.parse_size("3x2", DEFAULT_BASE_SEED, 1).payoffs(0)
    expected = np.random.default_rng(size["seeds"][0]).random((3, 2, 2, 2))
    np.testing.assert_array_equal(rebuilt, expected)
    # The regret reported for our answer is the regret of a real equilibrium there.
    from simulator.game import StrategicGame
    from simulator.solvers.logit_qre import logit

    (eq,) = logit(StrategicGame.from_payoffs(rebuilt)).equilibria
    assert bench.relative_regret(rebuilt, list(eq.strategies)) <= bench.TARGET_REGRET


def test_report_is_reprinted_from_the_json(
    quick_run: tuple[str, dict], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, payload = quick_run
    saved = tmp_path / "again.json"
    saved.write_text(json.dumps(payload))
    assert bench.main(["--report", str(saved)]) == 0
    assert capsys.readouterr().out.strip() == bench.report(payload).strip()


def test_without_peers_only_ours_run(tmp_path: Path) -> None:
    stdout, payload = _run(tmp_path, "--peers", "none", "--sizes", "3x2")
    assert {bench.BY_KEY[c["method"]].library for c in payload["results"]} == {"negsim"}
    assert "gambit" not in stdout.split("== One mixed equilibrium")[1]


@pytest.mark.parametrize("bad", ["3", "1x3", "x", "3x0"])
def test_bad_sizes_are_refused(bad: str) -> None:
    with pytest.raises(SystemExit):
        bench.parse_args(["--sizes", bad])
