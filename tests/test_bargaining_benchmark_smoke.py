"""Smoke test of the bargaining benchmark (``benchmarks/bargaining.py``): structure, not times.

The quick mode runs in-process on one tiny size; the test checks that every
concept was measured cold and warm, that the baselines ran and were scored
against ours, that the printed tables and the JSON agree in what they contain,
and that a problem's printed seed rebuilds it. Nothing here asserts a time.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import bargaining as bench  # noqa: E402


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    out = tmp_path_factory.mktemp("bargaining") / "bargaining.json"
    stream = io.StringIO()
    with contextlib.redirect_stdout(stream):
        code = bench.main(["--quick", "--sizes", "2x2", "3x2", "--repeat", "1", "--out", str(out)])
    assert code == 0
    return stream.getvalue(), json.loads(out.read_text())


def test_every_concept_is_measured_cold_and_warm(quick_run: tuple[str, dict]) -> None:
    _, payload = quick_run
    measured = {r["concept"] for r in payload["records"]}
    # 2 players: rubinstein included; 3 players: baron-ferejohn included.
    assert measured == {c.key for c in bench.CONCEPTS}
    for record in payload["records"]:
        assert record["size"] in {"2x2", "3x2"}
        assert len(record["cold_s"]) == 1 and len(record["warm_s"]) == 1
        assert record["cold_s"][0] > 0 and record["warm_s"][0] > 0
        assert record["score"] is not None


def test_baselines_are_scored_against_ours(quick_run: tuple[str, dict]) -> None:
    _, payload = quick_run
    for record in payload["records"]:
        expected = {
            k for k, (_, _, concepts) in bench.BASELINES.items() if record["concept"] in concepts
        }
        assert set(record["baselines"]) == expected, record["concept"]
        for base in record["baselines"].values():
            assert base["samples_s"] and base["samples_s"][0] > 0
            if base["score"] is not None and record["score"] is not None:
                assert base["difference"] == pytest.approx(record["score"] - base["score"])
    summary = payload["summary"]
    assert summary["nash"]["baselines"].keys() == {"slsqp-6", "trust-constr"}
    for entry in summary.values():
        assert entry["cold_median_s"] <= entry["cold_p90_s"] + 1e-12
        assert entry["cold_solves_per_s"] > 0 and entry["warm_solves_per_s"] > 0


def test_tables_and_json_carry_the_same_facts(quick_run: tuple[str, dict]) -> None:
    stdout, payload = quick_run
    assert "usable cores" in stdout
    assert "Bargaining solutions on random flagship problems" in stdout
    assert "against scipy alone" in stdout
    assert f"{bench.SWEEP} Nash solves" in stdout
    for concept in bench.CONCEPTS:
        assert concept.label in stdout
    assert payload["command"][:2] == ["python", "benchmarks/bargaining.py"]
    assert payload["settings"]["base_seed"] == bench.DEFAULT_BASE_SEED
    assert set(payload["construction"]) == {"new_deal_space_s", "known_deal_space_s"}
    assert bench.report(payload).splitlines()[0] in stdout


def test_a_printed_seed_rebuilds_its_problem(quick_run: tuple[str, dict]) -> None:
    _, payload = quick_run
    problem = payload["problems"][0]
    assert len(payload["problems"]) == 2
    assert problem["seed"] == bench.case_seed(bench.DEFAULT_BASE_SEED, 2, 2, 0)
    first = bench.flagship_problem(problem["players"], problem["issues"], problem["seed"])
    again = bench.flagship_problem(problem["players"], problem["issues"], problem["seed"])
    np.testing.assert_array_equal(first.disagreement, again.disagreement)
    deals = np.random.default_rng(0).dirichlet(np.ones(3), size=8)[:, :2]
    np.testing.assert_array_equal(first.utility(deals), again.utility(deals))
    # Valid by construction: some deal beats the disagreement point.
    assert np.any(np.all(first.problem().sample_payoffs > first.disagreement, axis=1))


@pytest.mark.parametrize("bad", ["1x3", "x", "3"])
def test_bad_sizes_are_refused(bad: str) -> None:
    with pytest.raises(SystemExit):
        bench.parse_args(["--sizes", bad])
