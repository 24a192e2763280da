"""The shortcuts that make sweeps fast change no answer.

* warm starts (``solve_bargaining(..., starts=)``, ``PointTask(warm_start=True)``)
  reach the cold answer to the optimizers' tolerance, with the same signatures;
* a deferred zone of agreement gives the same ``deal_exists`` as the zone solved
  up front, and is not solved at all when a solution already witnesses a deal;
* the Pareto screen's sample, evaluated once per problem, gives the same checks;
* the strategic kind's cached rule matching equals matching afresh, and its cache
  forgets a spec that is gone;
* a run of one chunk on a pool that has not started runs in this process.
"""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest

from simulator.bargaining import game as bargaining_game
from simulator.bargaining.game import (
    WARM_STARTED,
    BargainingGame,
    check_solution,
    solve_bargaining,
)
from simulator.bargaining.problem import BargainingProblem
from simulator.bargaining.zone import ZoneOfAgreement
from simulator.kinds import strategic
from simulator.outcomes import PointTask
from simulator.runner import Workers, run_points
from simulator.scenario import build_any_game, load_scenario

REPO = Path(__file__).resolve().parents[1]
US_UKRAINE = REPO / "scenarios" / "minerals_us_ukraine.yaml"
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))
AXIOMATIC = ("nash_bargaining", "kalai_smorodinsky", "egalitarian", "utilitarian")


def _split(**parameters: float) -> BargainingGame:
    game = build_any_game(load_scenario(US_UKRAINE), "split_the_deal", parameters=parameters)
    assert isinstance(game, BargainingGame)
    return game


def _strategic_spec(file: str, name: str) -> strategic.StrategicGameSpec:
    spec = load_scenario(REPO / "scenarios" / file).game(name)
    assert isinstance(spec, strategic.StrategicGameSpec)
    return spec


# ------------------------------------------------------------------ warm starts
def test_warm_started_records_agree_with_cold_ones() -> None:
    points = [{"guarantee_cost_us": 0.05 * i} for i in range(10)]
    warm = PointTask(str(US_UKRAINE), "split_the_deal", AXIOMATIC, warm_start=True)(points)
    cold = PointTask(str(US_UKRAINE), "split_the_deal", AXIOMATIC, warm_start=False)(points)
    problem = _split().problem
    deal_tol = float(np.max(problem.deal_tolerance))
    for w, c in zip(warm, cold, strict=True):
        assert w["signature"] == c["signature"]
        assert w["deal_exists"] == c["deal_exists"]
        for column, value in c.items():
            if isinstance(value, float) and not column.startswith("param."):
                tol = deal_tol if ".deal." in column else problem.solve_tolerance
                assert w[column] == pytest.approx(value, abs=tol), column
            else:
                assert w[column] == value, column


def test_a_start_is_used_by_the_axiomatic_concepts_and_ignored_by_rubinstein() -> None:
    game = _split(guarantee_cost_us=0.2)
    cold = solve_bargaining(game)
    near = _split(guarantee_cost_us=0.21)
    starts = {s.concept: s.deal for s in cold.solutions if s.deal is not None}
    assert set(WARM_STARTED) <= set(starts) and "rubinstein" in starts
    warm = solve_bargaining(near, starts=starts)
    again = solve_bargaining(near)
    assert warm.concepts == again.concepts
    for concept in warm.concepts:
        a, b = warm.solution(concept), again.solution(concept)
        assert a is not None and b is not None
        assert a.deal is not None and b.deal is not None
        np.testing.assert_allclose(a.deal, b.deal, rtol=0, atol=np.max(near.problem.deal_tolerance))


def test_malformed_starts_raise_rather_than_fail_a_concept() -> None:
    game = _split()
    with pytest.raises(ValueError, match="start for nash_bargaining"):
        solve_bargaining(game, ["nash_bargaining"], starts={"nash_bargaining": [0.5]})
    with pytest.raises(ValueError, match="unknown concept"):
        solve_bargaining(game, ["nash_bargaining"], starts={"nash": [0.5, 0.5, 1.0]})


# ------------------------------------------------------------------ the zone, deferred
@pytest.mark.parametrize("support_cost", [0.0, 0.4, 0.8, 1.0, 1.2, 2.0])
def test_a_deferred_zone_gives_the_same_deal_exists(support_cost: float) -> None:
    # support_cost_us above about 1 leaves the US no deal worth signing (no_deal points).
    game = _split(support_cost_us=support_cost)
    eager = solve_bargaining(game, AXIOMATIC)
    lazy = solve_bargaining(game, AXIOMATIC, defer_zone=True)
    assert lazy.deal_exists == eager.zone.exists == eager.deal_exists
    assert lazy.zone.margin == eager.zone.margin  # read late, solved the same way
    assert lazy.zone.blocking == eager.zone.blocking


def test_a_witnessed_deal_skips_the_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[BargainingProblem] = []
    original = bargaining_game.zone_of_agreement

    def counting(problem: BargainingProblem) -> ZoneOfAgreement:
        calls.append(problem)
        return original(problem)

    monkeypatch.setattr(bargaining_game, "zone_of_agreement", counting)
    with_deal = solve_bargaining(_split(), ["nash_bargaining"], defer_zone=True)
    assert with_deal.deal_exists and not calls
    without = solve_bargaining(_split(support_cost_us=2.0), ["nash_bargaining"], defer_zone=True)
    assert not without.deal_exists and len(calls) == 1  # no witness: the zone decides
    assert without.zone is without.zone and len(calls) == 1  # solved once, kept


# ------------------------------------------------------------------ the check sample
def test_checks_inside_solve_bargaining_equal_check_solution() -> None:
    game = _split(guarantee_cost_us=0.3)
    result = solve_bargaining(game, AXIOMATIC)
    assert result.solutions
    for solution, check in zip(result.solutions, result.checks, strict=True):
        assert check == check_solution(game.problem, solution)


def test_the_remembered_check_deals_are_the_fresh_ones() -> None:
    problem = _split(guarantee_cost_us=0.1).problem
    fresh = np.vstack([problem.project(problem.starts), bargaining_game._sample_deals(problem)])
    first = bargaining_game._check_deals(problem)
    again = bargaining_game._check_deals(_split(guarantee_cost_us=0.4).problem)
    assert np.array_equal(first, fresh) and again is first  # same deal space: same sample
    assert not first.flags.writeable


# ------------------------------------------------------------------ strategic matching
def _rule_specs() -> list[tuple[str, str]]:
    found = []
    for path in SCENARIOS:
        for spec in load_scenario(path).games:
            if spec.kind == "strategic" and getattr(spec, "outcomes", None) is not None:
                found.append((path.name, spec.name))
    return found


@pytest.mark.parametrize(("file", "name"), _rule_specs())
def test_cached_matching_equals_matching_afresh(file: str, name: str) -> None:
    spec = _strategic_spec(file, name)
    cached = strategic._match(spec)
    assert np.array_equal(cached, strategic._match_rules(spec))
    assert strategic._match(spec) is cached and not cached.flags.writeable


def test_the_match_cache_forgets_a_spec_that_is_gone() -> None:
    file, name = _rule_specs()[0]
    spec = _strategic_spec(file, name)
    strategic._match(spec)
    key = id(spec)
    assert key in strategic._MATCHED
    del spec
    gc.collect()
    assert key not in strategic._MATCHED


# ------------------------------------------------------------------ small runs
def test_one_chunk_on_an_unstarted_pool_runs_here() -> None:
    task = PointTask(str(US_UKRAINE), "offer_and_response")
    points = [{"guarantee_cost_us": 0.1 * i} for i in range(3)]
    alone = run_points(task, points, workers=1)
    with Workers(workers=2) as pool:
        one = run_points(task, points, chunk_size=3, pool=pool)
        assert one.where == "this process" and not pool.started
        assert one.records == alone.records
        many = run_points(task, points, chunk_size=1, pool=pool)
        assert many.where == "2 local processes" and pool.started
        assert many.records == alone.records
