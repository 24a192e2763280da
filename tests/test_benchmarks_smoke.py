"""Smoke tests of the benchmark harness (``benchmarks/run.py``): correctness only.

Nothing here asserts a time. The harness must run end to end on tiny games
without the optional peers, print its tables, write its JSON, regenerate every
game from the seed it prints, report counts that match a brute-force count, stop
a call that exceeds the time limit, and report a missing library as
"not installed" instead of crashing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import run as bench  # noqa: E402
from benchmarks.games import Case, parse_size, pure_case, two_player_case  # noqa: E402
from benchmarks.peers import BY_KEY, BenchSolver  # noqa: E402


def _brute_force_pure_count(payoffs: np.ndarray) -> int:
    """Pure equilibria counted profile by profile, the slow obvious way."""
    n, shape = payoffs.shape[0], payoffs.shape[1:]
    count = 0
    for profile in itertools.product(*[range(m) for m in shape]):
        stable = True
        for i in range(n):
            here = payoffs[(i, *profile)]
            for k in range(shape[i]):
                deviation = list(profile)
                deviation[i] = k
                if payoffs[(i, *deviation)] > here:
                    stable = False
        count += stable
    return count


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    out = tmp_path_factory.mktemp("bench") / "latest.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--peers", "none",
         "--no-cold", "--sizes", "3", "4", "3x4", "--repeat", "2", "--games", "2",
         "--pure-games", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=300, check=False, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads(out.read_text())


def test_quick_run_prints_both_tables_and_machine_facts(quick_run: tuple[str, dict]) -> None:
    stdout, _ = quick_run
    assert "Two players, all extreme equilibria" in stdout
    assert "n players, all pure equilibria" in stdout
    assert "ratio convention" in stdout
    assert "usable cores" in stdout and "numpy" in stdout
    for label in ("3x3", "4x4", "3x4"):
        assert label in stdout


def test_json_has_one_result_per_solver_and_game(quick_run: tuple[str, dict]) -> None:
    _, payload = quick_run
    cases = {(c["section"], c["case"]) for c in payload["cases"]}
    assert cases == {("two-player", "3x3"), ("two-player", "4x4"), ("pure", "3x4")}
    keys = {(r["case"], r["solver"]) for r in payload["results"]}
    assert len(keys) == len(payload["results"])  # no solver measured twice on one game
    solvers = {r["solver"] for r in payload["results"]}
    # --peers none: only negsim and the numpy floor ran
    assert {BY_KEY[s].library for s in solvers} <= {"negsim", "numpy"}
    for result in payload["results"]:
        assert result["status"] in ("ok", "missing"), result
        assert len(result["seeds"]) == 2 and len(set(result["seeds"])) == 2
        if result["status"] == "ok":
            assert len(result["samples_s"]) == len(result["game_medians_s"]) == 2
            for samples, median in zip(result["samples_s"], result["game_medians_s"], strict=True):
                assert 1 <= len(samples) <= 2
                assert 0 < min(samples) <= median <= max(samples)
            medians = result["game_medians_s"]
            assert min(medians) <= result["median_s"] <= max(medians)


def test_printed_seed_regenerates_the_game_and_counts_are_right(
    quick_run: tuple[str, dict],
) -> None:
    """The seed in the table rebuilds the game; every pure count matches brute force."""
    _, payload = quick_run
    case = next(c for c in payload["cases"] if c["section"] == "pure")
    expected = []
    for seed in case["seeds"]:
        payoffs = np.random.default_rng(seed).random((len(case["shape"]), *case["shape"]))
        expected.append(_brute_force_pure_count(payoffs))
    counted = [
        r for r in payload["results"] if r["case"] == case["case"] and r["count"] is not None
    ]
    assert any(r["solver"] == "numpy-check" for r in counted)
    for result in counted:
        assert result["game_counts"] == expected, result["solver"]
        assert result["count"] == sum(expected)


def test_two_player_counts_agree_with_nashpy_vertex_enumeration(
    quick_run: tuple[str, dict],
) -> None:
    """Orientation check: the harness hands our solver A = payoffs[0], B = payoffs[1]."""
    nashpy = pytest.importorskip("nashpy")
    _, payload = quick_run
    for result in payload["results"]:
        if result["section"] != "two-player" or result["status"] != "ok":
            continue
        expected = []
        for seed in result["seeds"]:
            payoffs = np.random.default_rng(seed).random((2, *result["shape"]))
            game = nashpy.Game(payoffs[0], payoffs[1])
            expected.append(sum(1 for _ in game.vertex_enumeration()))
        assert result["game_counts"] == expected, result["solver"]


def test_sizes_parse_to_sections_shapes_and_documented_seeds() -> None:
    assert parse_size("10") == two_player_case(10)
    assert parse_size("10").shape == (10, 10)
    four = parse_size("4x20", base_seed=7)
    assert four.section == "pure" and four.shape == (20, 20, 20, 20)
    assert four.seeds == (7 + 1000 * 4 + 20,)
    assert parse_size("6", base_seed=7, two_player_games=3).seeds == (2013, 102013, 202013)
    assert four.label == "4x20" and four.profiles == 20**4
    assert pure_case(3, 5).payoffs().shape == (3, 5, 5, 5)
    np.testing.assert_array_equal(pure_case(3, 5).payoffs(), pure_case(3, 5).payoffs())
    for bad in ("x", "0", "1x5", "3x4x5", "ten"):
        with pytest.raises(ValueError):
            parse_size(bad)


def _cell(status: str = "ok", median: float | None = None) -> bench.Cell:
    return bench.Cell("two-player", "4x4", [4, 4], [1], "k", "label", "lib", status, median)


def test_ratio_wording_follows_the_stated_convention() -> None:
    ours = _cell(median=0.01)
    assert bench._ratio_text(ours, _cell(median=0.05), 10.0) == "5x faster"
    assert bench._ratio_text(ours, _cell(median=0.005), 10.0) == "2x slower"
    # A peer stopped at the limit gives a lower bound: limit / our time.
    assert bench._ratio_text(ours, _cell("timeout"), 10.0) == "> 1000x faster"
    assert bench._ratio_text(ours, _cell("skipped"), 10.0) == "> 1000x faster"
    # A peer whose game could not even be built says nothing about its solve time.
    assert bench._ratio_text(ours, _cell("skipped-build"), 10.0) == "(build > limit)"
    assert bench._ratio_text(ours, _cell("not installed"), 10.0) == "-"
    assert bench._ratio_text(_cell("missing"), _cell(median=1.0), 10.0) == "-"


def test_a_library_that_is_not_installed_is_reported_not_run(tmp_path: Path) -> None:
    ghost = BenchSolver(
        "ghost", "ghost solver", "ghostlib", "two-player", "no_such_module_for_negsim_bench",
        lambda p: p, lambda g: 0,
    )  # fmt: skip
    assert ghost.availability() == "not installed"
    settings = argparse.Namespace(repeat=1, budget=0.1, slow=1.0, limit=1.0, verbose=False)
    pool = bench.Pool(tmp_path)
    cell = bench._measure_or_skip(
        pool, ghost, two_player_case(3), settings, {"ghost": ghost.availability()}, {}
    )
    assert cell.status == "not installed"
    assert bench._cell_text(cell, None) == "not installed"
    assert pool.workers == {}  # nothing was started for it


def test_a_solver_that_timed_out_is_skipped_on_larger_games(tmp_path: Path) -> None:
    solver = BY_KEY["numpy-max"]
    settings = argparse.Namespace(repeat=1, budget=0.1, slow=1.0, limit=1.0, verbose=False)
    pool = bench.Pool(tmp_path)
    for why, status, text in [
        ("timeout", "skipped", "> limit"),
        ("build-timeout", "skipped-build", "build > limit"),
    ]:
        earlier = {solver.key: (pure_case(3, 10), why)}
        cell = bench._measure_or_skip(
            pool, solver, pure_case(4, 10), settings, {solver.key: None}, earlier
        )
        assert cell.status == status and "3x10" in cell.note
        assert bench._cell_text(cell, None) == text
    assert pool.workers == {}  # nothing was run


@pytest.mark.parametrize(
    ("events", "status"),
    [
        (['{"event": "warm", "t": 0}', '{"event": "game", "game": 0}'], "build-timeout"),
        (
            [
                '{"event": "warm", "t": 0}',
                '{"event": "game", "game": 0}',
                '{"event": "built", "game": 0, "t": 0}',
            ],
            "timeout",
        ),
    ],
)
def test_a_call_over_the_limit_is_stopped(tmp_path: Path, events: list[str], status: str) -> None:
    """A worker that stops answering is killed after the limit, and the cell says so."""
    script = "import time\n" + "".join(f"print({e!r}, flush=True)\n" for e in events)
    script += "time.sleep(60)\n"
    pool = bench.Pool(tmp_path, command=[sys.executable, "-c", script])
    settings = argparse.Namespace(repeat=1, budget=0.1, slow=1.0, limit=0.5, verbose=False)
    start = time.monotonic()
    try:
        cell = bench.measure(pool, BY_KEY["numpy-max"], pure_case(3, 4), settings)
    finally:
        pool.close()
    assert time.monotonic() - start < 30  # stopped, not waited out
    assert cell.status == status
    assert cell.median_s is None
    assert bench._cell_text(cell, None) in ("> limit", "build > limit")
    assert pool.workers == {}


def test_case_payoffs_have_negsim_orientation() -> None:
    case = Case("pure", (2, 3, 4), (11,))
    payoffs = case.payoffs()
    assert payoffs.shape == (3, 2, 3, 4)
    assert np.all((payoffs >= 0) & (payoffs < 1))


def test_a_worker_that_dies_is_reported_as_an_error(tmp_path: Path) -> None:
    script = 'import sys\nprint(\'{"event": "warm", "t": 0}\', flush=True)\nsys.exit(3)\n'
    pool = bench.Pool(tmp_path, command=[sys.executable, "-c", script])
    settings = argparse.Namespace(repeat=1, budget=0.1, slow=1.0, limit=5.0, verbose=False)
    try:
        cell = bench.measure(pool, BY_KEY["numpy-max"], pure_case(3, 4), settings)
    finally:
        pool.close()
    assert cell.status == "error" and "code 3" in cell.note
    assert bench._cell_text(cell, None) == "error"


def test_report_from_json_reprints_the_same_tables(quick_run: tuple[str, dict]) -> None:
    stdout, payload = quick_run
    reprinted = bench.report_from_json(payload)
    start = stdout.index("== Two players")
    end = stdout.index("total wall time")
    assert stdout[start:end].strip() in reprinted
