"""Smoke test of the sweep benchmark (``benchmarks/sweep.py``): structure, not times.

The quick mode runs in-process on tiny cases (a few points, 1 and 2 workers);
the test checks that every case ran with every worker count and solved every
point without an error, that the JSON and the printed table agree, and that the
target is not judged from too few points. Nothing here asserts a time.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import sweep as bench  # noqa: E402

CASES = {"sweep_nash", "sweep_all", "montecarlo_nash", "montecarlo_strategic"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    out = tmp_path_factory.mktemp("sweep") / "sweep.json"
    stream = io.StringIO()
    argv = ["--quick", "--points", "6", "--all-points", "3", "--draws", "6", "--out", str(out)]
    with contextlib.redirect_stdout(stream):
        code = bench.main(argv)
    assert code == 0
    return stream.getvalue(), json.loads(out.read_text())


def test_every_case_runs_on_one_and_two_workers(quick_run: tuple[str, dict]) -> None:
    _, payload = quick_run
    ran = {(c["key"], c["workers"]) for c in payload["cases"]}
    assert ran == {(key, w) for key in CASES for w in (1, 2)}
    for case in payload["cases"]:
        assert case["errors"] == 0, case["key"]
        assert len(case["wall_s"]) == 1 and case["wall_median_s"] > 0
        assert case["points_per_s"] > 0
        expected = {"sweep_nash": 6, "sweep_all": 3}.get(case["key"], 6)
        assert case["points"] == expected
        if case["kind"] == "sweep":
            assert case["grid_median_s"] <= case["wall_median_s"]


def test_single_worker_runs_stay_in_this_process(quick_run: tuple[str, dict]) -> None:
    _, payload = quick_run
    for case in payload["cases"]:
        if case["workers"] == 1:
            assert case["where"] == "this process"


def test_the_table_lists_every_case_and_the_verdict(quick_run: tuple[str, dict]) -> None:
    text, payload = quick_run
    for case in payload["cases"]:
        assert case["title"] in text
    assert payload["target"]["measured"] is False  # 6 points are too few to project from
    assert payload["target"]["text"] in text
    assert payload["machine"]["cores_usable"] is not None


def test_cases_picks_a_subset(tmp_path: Path) -> None:
    out = tmp_path / "nash.json"
    argv = ["--quick", "--points", "4", "--workers", "1", "--cases", "sweep_nash"]
    with contextlib.redirect_stdout(io.StringIO()):
        assert bench.main([*argv, "--out", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert [(c["key"], c["workers"]) for c in payload["cases"]] == [("sweep_nash", 1)]
    assert payload["settings"]["cases"] == ["sweep_nash"]
    assert payload["cases"][0]["errors"] == 0
