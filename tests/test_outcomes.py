"""Records of one point: columns, known answers on the bundled scenarios, errors, tasks.

Known answers are worked out by hand from the scenario's utilities (comments
give the algebra), with the parameter values read from the file, so that a
change of a figure in the scenario does not silently change what is tested.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pytest

from simulator.errors import InputError
from simulator.outcomes import ERROR_SIGNATURE, PointTask, point_record, record_columns
from simulator.scenario import build_any_game, load_scenario
from simulator.solvers import solve

REPO = Path(__file__).resolve().parents[1]
US_UKRAINE = REPO / "scenarios" / "minerals_us_ukraine.yaml"
FOUR_PARTY = REPO / "scenarios" / "minerals_four_party.yaml"
AXIOMATIC = ("nash_bargaining", "kalai_smorodinsky", "egalitarian", "utilitarian")


@pytest.fixture(scope="module")
def us_ukraine():
    return load_scenario(US_UKRAINE)


@pytest.fixture(scope="module")
def four_party():
    return load_scenario(FOUR_PARTY)


def values(scenario, **overrides: float) -> dict[str, float]:
    v = scenario.parameter_values()
    v.update(overrides)
    return v


# ------------------------------------------------------------------ bargaining
def test_bargaining_record_columns_and_known_nash_deal(us_ukraine) -> None:
    cost = 0.5
    record = point_record(
        us_ukraine, "split_the_deal", {"guarantee_cost_us": cost}, concepts=AXIOMATIC
    )
    columns = record_columns(us_ukraine, "split_the_deal", concepts=AXIOMATIC)
    assert list(record) == columns
    assert columns[: len(us_ukraine.parameters)] == [f"param.{p}" for p in us_ukraine.parameters]
    assert record["param.guarantee_cost_us"] == cost
    assert record["param.us_demand"] == us_ukraine.parameters["us_demand"].value
    assert record["error"] is None and record["deal_exists"] is True
    v = values(us_ukraine, guarantee_cost_us=cost)
    occ = v["occupied_share"]

    def utilities(share: float, guarantee: float, support: float) -> tuple[float, float]:
        us = (
            v["mineral_value_us"] * share * (1 - occ)
            - v["guarantee_cost_us"] * guarantee
            - v["support_cost_us"] * support
        )
        ua = (
            v["support_value_ua"] * support
            + v["guarantee_value_ua"] * guarantee
            - v["mineral_value_ua"] * share * (1 - occ)
        )
        return us, ua

    d = utilities(0.0, 0.0, 0.5)  # no deal: every issue at its status quo
    for c in AXIOMATIC:
        assert record[f"{c}.agreement"] is True
        deal = [record[f"{c}.deal.{i}"] for i in ("mineral_share", "guarantee", "support")]
        assert all(0.0 <= z <= 1.0 for z in deal) and deal[2] == 1.0  # support is fixed at 1
        payoffs = utilities(*deal)
        for k, player in enumerate(("US", "UA")):
            assert record[f"{c}.payoff.{player}"] == pytest.approx(payoffs[k], abs=1e-9)
            assert record[f"{c}.gain.{player}"] == pytest.approx(payoffs[k] - d[k], abs=1e-9)
    # With the whole revenue to the US, the Nash product (a - c g)(b + w g) with
    # a = mv_us (1 - occ) - sc + sc/2 and b = sv_ua/2 + ... is largest at
    # g = (a w - b c) / (2 c w) when that is below 1.
    a = v["mineral_value_us"] * (1 - occ) - v["support_cost_us"] / 2
    b = v["support_value_ua"] / 2 - v["mineral_value_ua"] * (1 - occ)
    w = v["guarantee_value_ua"]
    assert record["nash_bargaining.deal.mineral_share"] == pytest.approx(1.0, abs=1e-6)
    assert record["nash_bargaining.deal.guarantee"] == pytest.approx(
        (a * w - b * cost) / (2 * cost * w), abs=1e-6
    )
    assert record["signature"].startswith("deal; nash_bargaining:mineral_share=hi; ")
    assert "utilitarian:mineral_share=hi,guarantee=hi" in record["signature"]


def test_no_deal_shows_in_record_and_signature(us_ukraine) -> None:
    # Ukraine values the deal's terms below the status quo once support is worth nothing to it.
    record = point_record(
        us_ukraine,
        "split_the_deal",
        {"support_value_ua": 0.0, "guarantee_value_ua": 0.0},
        concepts=("nash_bargaining",),
    )
    assert record["deal_exists"] is False
    assert record["nash_bargaining.agreement"] is False
    assert record["nash_bargaining.deal.guarantee"] is None
    assert record["nash_bargaining.gain.US"] == 0.0
    assert record["signature"] == "no_deal; nash_bargaining:no_deal"


def test_a_warm_start_gives_the_same_answer(us_ukraine) -> None:
    near = point_record(us_ukraine, "split_the_deal", {"guarantee_cost_us": 0.40})
    cold = point_record(us_ukraine, "split_the_deal", {"guarantee_cost_us": 0.41})
    warm = point_record(us_ukraine, "split_the_deal", {"guarantee_cost_us": 0.41}, start=near)
    assert warm["signature"] == cold["signature"]
    for column, value in cold.items():
        if isinstance(value, float):
            assert warm[column] == pytest.approx(value, abs=1e-6), column
        else:
            assert warm[column] == value, column


# ------------------------------------------------------------------ strategic
def test_strategic_record_known_equilibria(us_ukraine) -> None:
    v = values(us_ukraine, guarantee_cost_us=0.3)
    record = point_record(us_ukraine, "offer_and_response", {"guarantee_cost_us": 0.3})
    assert list(record) == record_columns(us_ukraine, "offer_and_response")
    # A guarantee costing more than it saves: the US offers half without one, Ukraine signs.
    assert record["equilibria"] == 1 and record["pure_equilibria"] == 1
    assert record["equilibrium_set"] == "US:half_no_guarantee,UA:sign_any"
    assert record["signature"] == record["equilibrium_set"]
    share = v["us_demand"] * (1 - v["occupied_share"])
    assert record["payoff.US"] == pytest.approx(
        share * v["mineral_value_us"] - v["support_cost_us"]
    )
    assert record["payoff.UA"] == pytest.approx(
        v["support_value_ua"] - v["mineral_value_ua"] * share
    )
    assert (record["deal.mineral_share"], record["deal.guarantee"], record["deal.support"]) == (
        v["us_demand"],
        0.0,
        1.0,
    )


def test_strategic_record_mixed_equilibrium_and_signature(us_ukraine) -> None:
    cost = 0.1
    record = point_record(us_ukraine, "offer_and_response", {"guarantee_cost_us": cost})
    v = values(us_ukraine, guarantee_cost_us=cost)
    # US indifferent between offering a guarantee (0.1 - c for sure) and not
    # (0.1 if Ukraine signs anything, -0.1 if it holds out for a guarantee):
    # p * 0.1 + (1 - p) * (-0.1) = 0.1 - c, so p = 1 - c / 0.2 with the file's figures.
    keep = v["us_demand"] * (1 - v["occupied_share"]) * v["mineral_value_us"]
    sure = keep - v["support_cost_us"] - cost
    lose = -v["support_cost_us"] * 0.5
    p = (sure - lose) / (keep - v["support_cost_us"] - lose)
    assert p == pytest.approx(0.5)
    mixed = f"US:half_with_guarantee,UA:sign_any {p:.6g},UA:sign_if_guaranteed {1 - p:.6g}"
    assert mixed in record["equilibrium_set"].split(" | ")
    assert record["equilibria"] == 3 and record["pure_equilibria"] == 2
    assert "US:half_with_guarantee,UA:sign_any,UA:sign_if_guaranteed" in record["signature"]
    assert " 0.5" not in record["signature"]
    # Selected: the largest payoff sum; both guarantee equilibria give (0.1 - c, ...).
    assert record["payoff.US"] == pytest.approx(sure)


def test_four_party_selects_the_largest_payoff_sum(four_party) -> None:
    record = point_record(four_party, "four_party", {})
    game = build_any_game(four_party, "four_party")
    # Records use the pure equilibria of n-player games: a method without a time limit.
    result = solve(game, "pure")
    assert record["equilibria"] == len(result.equilibria)
    assert record["pure_equilibria"] == sum(eq.is_pure for eq in result.equilibria)
    best = max(sum(eq.payoffs) for eq in result.equilibria)
    assert sum(record[f"payoff.{p}"] for p in game.players) == pytest.approx(best)
    assert len(record["equilibrium_set"].split(" | ")) == record["equilibria"]
    assert record["deal.aluminium"] is not None  # the selected profile leads to a deal


# ------------------------------------------------------------------ coalition
def test_coalition_record(four_party) -> None:
    record = point_record(four_party, "coalitions", {})
    game = build_any_game(four_party, "coalitions")
    grand = float(game.game.v[game.game.grand])
    assert record["core_empty"] is False
    for concept in ("core", "shapley", "nucleolus"):
        total = sum(record[f"{concept}.payoff.{p}"] for p in game.players)
        assert total == pytest.approx(grand)  # efficient
    assert record["signature"].startswith("core=nonempty; tight=")


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"us_demand": 1.5}, "outside"),
        ({"no_such_parameter": 1.0}, "unknown parameter 'no_such_parameter'"),
        ({"us_demand": math.inf}, "finite"),
    ],
)
def test_a_point_that_cannot_be_built_is_recorded_not_raised(
    us_ukraine, overrides: dict[str, float], message: str
) -> None:
    record = point_record(us_ukraine, "offer_and_response", overrides)
    assert message in record["error"]
    assert record["signature"] == ERROR_SIGNATURE
    assert record["equilibria"] is None and record["payoff.US"] is None
    assert record["param.soft_demand"] == us_ukraine.parameters["soft_demand"].value


def test_unknown_game_and_concepts_raise(us_ukraine) -> None:
    with pytest.raises(InputError, match="no game 'nope'"):
        point_record(us_ukraine, "nope", {})
    with pytest.raises(InputError, match="unknown solution concept 'nash'"):
        point_record(us_ukraine, "split_the_deal", {}, concepts=["nash"])
    with pytest.raises(InputError, match="is a strategic game"):
        record_columns(us_ukraine, "offer_and_response", concepts=["nash_bargaining"])


# ------------------------------------------------------------------ tasks
def test_point_task_is_picklable_and_solves_chunks_in_order() -> None:
    task = PointTask(str(US_UKRAINE), 0)  # a game given by index is named
    assert task.game == "offer_and_response" and task.kind == "strategic"
    copy = pickle.loads(pickle.dumps(task))
    points = [{"guarantee_cost_us": c} for c in np.linspace(0.0, 0.5, 6)]
    records = copy(points)
    scenario = load_scenario(US_UKRAINE)
    assert records == [point_record(scenario, "offer_and_response", p) for p in points]
    assert task.columns() == list(records[0])


def test_point_task_fingerprint_facts(tmp_path: Path) -> None:
    base = PointTask(str(US_UKRAINE), "split_the_deal")
    moved = tmp_path / "moved.yaml"
    moved.write_text(US_UKRAINE.read_text(encoding="utf-8"), encoding="utf-8")
    assert PointTask(str(moved), "split_the_deal").describe() == base.describe()
    assert PointTask(str(US_UKRAINE), "split_the_deal", ("egalitarian",)).describe() != (
        base.describe()
    )
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        US_UKRAINE.read_text(encoding="utf-8").replace("value: 0.15", "value: 0.16"),
        encoding="utf-8",
    )
    assert PointTask(str(changed), "split_the_deal").describe() != base.describe()


def test_point_task_reports_bad_input() -> None:
    with pytest.raises(InputError, match="no such file"):
        PointTask("no/such/file.yaml", "g")
    with pytest.raises(InputError, match="no game 'nope'"):
        PointTask(str(US_UKRAINE), "nope")
