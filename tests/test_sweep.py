"""Sweeps: ranges, grids, and thresholds located by bisection where the answer is known.

Each threshold test has a closed form: a best response that flips where two
payoffs cross, a deal that disappears where the zone of agreement closes, a
Nash bargaining term that reaches its bound. The bisection must land within
its stated tolerance of it (plus, for bargaining, the solver tolerance the
signature is read at, stated in each test).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import InputError
from simulator.runner import read_records
from simulator.scenario import build_any_game, load_scenario, load_scenario_text
from simulator.sweep import Grid, Range, parse_range, sweep

REPO = Path(__file__).resolve().parents[1]
US_UKRAINE = REPO / "scenarios" / "minerals_us_ukraine.yaml"

HEADER = """\
name: Synthetic
question: Where does the answer change?
actors: {A: Player A, B: Player B}
"""

# A's payoff from `up` is c, from `down` k; B always prefers `left`.
# (up, left) is the equilibrium exactly when c > k.
FLIP = (
    HEADER
    + """\
parameters:
  c: {value: 0.5, assumption: true}
  k: {value: 0.3, assumption: true}
games:
  - name: flip
    kind: strategic
    players: [A, B]
    strategies: {A: [up, down], B: [left, right]}
    table:
      - [[c, 1], [c, 0]]
      - [[k, 1], [k, 0]]
"""
)

# A's three strategies pay 0.3, c and 2c - 0.35: the best is the first below
# c = 0.3, the second between 0.3 and 0.35, the third above 0.35.
THREE = (
    HEADER
    + """\
parameters:
  c: {value: 0.5, assumption: true}
games:
  - name: three
    kind: strategic
    players: [A, B]
    strategies: {A: [low, middle, high], B: [left, right]}
    table:
      - [[0.3, 1], [0.3, 0]]
      - [[c, 1], [c, 0]]
      - [["2 * c - 0.35", 1], ["2 * c - 0.35", 0]]
"""
)

# Split a unit: A gets x, B gets 1 - x; A's fallback is d, B's 0.25. Some deal
# beats both fallbacks exactly when max_x min(x - d, 0.75 - x) = (0.75 - d) / 2 > 0.
SPLIT = (
    HEADER
    + """\
parameters:
  d: {value: 0.5, assumption: true}
issues:
  x: {range: [0, 1], unit: share, description: A's share}
payoffs:
  A: x
  B: 1 - x
games:
  - name: split
    kind: bargaining
    players: [A, B]
    disagreement: {A: d, B: 0.25}
    solutions: [nash_bargaining]
"""
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "synthetic.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ ranges and grids
@settings(max_examples=40, deadline=None)
@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(1e-3, 1e6, allow_nan=False),
    st.integers(2, 10_000),
)
def test_parse_range_reads_what_str_writes(lo: float, width: float, n: int) -> None:
    item = parse_range(f"name_1={lo!r}:{lo + width!r}:{n}")
    assert item == Range("name_1", lo, lo + width, n)
    values = item.values()
    assert values[0] == lo and values[-1] == lo + width and len(values) == n


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("c=0:1", "expected NAME=LO:HI:N"),
        ("c 0:1:5", "expected NAME=LO:HI:N"),
        ("c=a:1:5", "LO and HI must be numbers"),
        ("c=0:1:2.5", "N must be a whole number"),
        ("c=0:1:1", "N must be at least 2"),
        ("c=1:1:5", "expected LO < HI"),
        ("c=2:1:5", "expected LO < HI"),
        ("c=0:inf:5", "must be finite"),
    ],
)
def test_parse_range_rejects_malformed_ranges(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_range(text)


def test_grid_is_the_cartesian_product_in_c_order() -> None:
    grid = Grid([Range("a", 0.0, 1.0, 3), Range("b", 10.0, 20.0, 2)])
    assert len(grid) == 6 and grid.shape == (3, 2)
    assert grid[1] == {"a": 0.0, "b": 20.0}
    assert grid[-1] == {"a": 1.0, "b": 20.0}
    assert grid[2:4] == [{"a": 0.5, "b": 10.0}, {"a": 0.5, "b": 20.0}]
    assert [p["a"] for p in grid] == [0.0, 0.0, 0.5, 0.5, 1.0, 1.0]
    with pytest.raises(IndexError):
        grid[6]
    assert grid.describe() == {"grid": [["a", 0.0, 1.0, 3], ["b", 10.0, 20.0, 2]]}


def test_sweeping_an_unknown_or_repeated_parameter_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, FLIP)
    with pytest.raises(
        InputError, match=r"cannot sweep 'cc'.*did you mean 'c'.*parameters are: c, k"
    ):
        sweep(path, "flip", ["cc=0:1:3"], workers=1)
    with pytest.raises(InputError, match="'c' is swept twice"):
        sweep(path, "flip", ["c=0:1:3", "c=0:2:3"], workers=1)
    with pytest.raises(InputError, match="at least one range"):
        sweep(path, "flip", [], workers=1)
    with pytest.raises(InputError, match="N must be at least 2"):
        sweep(path, "flip", [Range("c", 0.0, 1.0, 1)], workers=1)


# ------------------------------------------------------------------ thresholds: closed forms
def test_a_best_response_flip_is_found_within_the_tolerance(tmp_path: Path) -> None:
    tol = 1e-7
    # Seven steps: no bisection midpoint lands on the tie at c = k exactly (where
    # both are equilibria, a third signature, found as two thresholds a point apart).
    result = sweep(write(tmp_path, FLIP), "flip", ["c=0:1:8"], threshold_tol=tol, workers=1)
    assert [r["signature"] for r in result.records] == ["A:down,B:left"] * 3 + ["A:up,B:left"] * 5
    (found,) = result.thresholds
    assert found.parameter == "c" and found.fixed == {}
    assert (found.below, found.above) == ("A:down,B:left", "A:up,B:left")
    assert found.high - found.low <= tol
    assert found.low <= 0.3 + 1e-9 and found.high >= 0.3 - 1e-9  # k = 0.3 is inside the bracket
    assert abs(found.value - 0.3) <= tol
    assert found.record_below["signature"] == found.below
    assert found.record_above["param.c"] == found.high
    assert 0 < result.bisection_points <= 25


def test_thresholds_along_both_axes_of_a_two_parameter_grid(tmp_path: Path) -> None:
    result = sweep(write(tmp_path, FLIP), "flip", ["c=0:1:5", "k=0.1:0.8:3"], workers=1)
    assert result.grid.shape == (5, 3)
    tolerances = result.tolerances
    assert tolerances == {"c": pytest.approx(1e-6), "k": pytest.approx(0.7e-6)}
    for t in result.thresholds:
        other = "k" if t.parameter == "c" else "c"
        # The flip is where c = k, whichever parameter moves.
        assert abs(t.value - t.fixed[other]) <= tolerances[t.parameter]
    along_c = sorted(t.fixed["k"] for t in result.thresholds if t.parameter == "c")
    along_k = sorted(t.fixed["c"] for t in result.thresholds if t.parameter == "k")
    assert along_c == pytest.approx([0.1, 0.45, 0.8])
    assert along_k == pytest.approx([0.25, 0.5, 0.75])


def test_two_changes_between_grid_neighbours_are_both_found(tmp_path: Path) -> None:
    result = sweep(write(tmp_path, THREE), "three", ["c=0:1:5"], workers=1)
    found = [(t.value, t.below, t.above) for t in result.thresholds]
    assert [v for v, _, _ in found] == pytest.approx([0.3, 0.35], abs=1e-6)
    assert [(b.split(",")[0], a.split(",")[0]) for _, b, a in found] == [
        ("A:low", "A:middle"),
        ("A:middle", "A:high"),
    ]


def test_a_deal_disappears_where_the_zone_of_agreement_closes(tmp_path: Path) -> None:
    path = write(tmp_path, SPLIT)
    result = sweep(path, "split", ["d=0.5:1:6"], workers=1)
    (found,) = result.thresholds
    assert (found.below, found.above) == (
        "deal; nash_bargaining:interior",
        "no_deal; nash_bargaining:no_deal",
    )
    # A deal counts when its smallest gain exceeds the solver tolerance: (0.75 - d) / 2 > tol.
    game = build_any_game(load_scenario_text(SPLIT), "split", parameters={"d": 0.75})
    expected = 0.75 - 2 * game.problem.solve_tolerance
    assert abs(found.value - expected) <= result.tolerances["d"]
    assert found.record_below["nash_bargaining.deal.x"] == pytest.approx((found.low + 0.75) / 2)


# ------------------------------------------------------------------ thresholds: bundled scenarios
def test_guarantee_cost_threshold_in_offer_and_response() -> None:
    v = load_scenario(US_UKRAINE).parameter_values()
    # With a guarantee the US keeps its share of the revenue less the guarantee
    # and support costs; without one Ukraine (signing only with a guarantee)
    # holds out and support stays at half. The guarantee equilibrium exists while
    #   mv_us * demand * (1 - occ) - sc - g >= -sc / 2.
    g_star = (
        v["mineral_value_us"] * v["us_demand"] * (1 - v["occupied_share"])
        - v["support_cost_us"] / 2
    )
    result = sweep(US_UKRAINE, "offer_and_response", ["guarantee_cost_us=0.03:0.47:12"], workers=1)
    first, last = result.records[0], result.records[-1]
    assert "US:half_with_guarantee,UA:sign_if_guaranteed" in first["signature"].split(" | ")
    assert last["signature"] == "US:half_no_guarantee,UA:sign_any"
    # One change, or two a point apart if a midpoint lands on g* itself (a degenerate game).
    assert 1 <= len(result.thresholds) <= 2
    for found in result.thresholds:
        assert abs(found.value - g_star) <= result.tolerances["guarantee_cost_us"]
    assert result.thresholds[0].below == first["signature"]
    assert result.thresholds[-1].above == last["signature"]


def test_nash_guarantee_leaves_its_bound_in_split_the_deal() -> None:
    v = load_scenario(US_UKRAINE).parameter_values()
    result = sweep(
        US_UKRAINE,
        "split_the_deal",
        ["guarantee_cost_us=0.1:0.5:5"],
        concepts=["nash_bargaining"],
        workers=1,
    )
    (found,) = result.thresholds
    assert found.below == "deal; nash_bargaining:mineral_share=hi,guarantee=hi"
    assert found.above == "deal; nash_bargaining:mineral_share=hi"
    # Nash's guarantee (a w - b c) / (2 c w) (see test_outcomes) reaches 1 - tau,
    # where tau is the deal tolerance the signature reads bounds at.
    occ = v["occupied_share"]
    a = v["mineral_value_us"] * (1 - occ) - v["support_cost_us"] / 2
    b = v["support_value_ua"] / 2 - v["mineral_value_ua"] * (1 - occ)
    w = v["guarantee_value_ua"]
    game = build_any_game(load_scenario(US_UKRAINE), "split_the_deal")
    tau = float(game.problem.deal_tolerance[game.problem.issues.index("guarantee")])
    expected = a * w / (2 * w * (1 - tau) + b)
    assert abs(found.value - expected) <= result.tolerances["guarantee_cost_us"] + 1e-7


# ------------------------------------------------------------------ output and reuse
def test_sweep_writes_the_output_with_its_thresholds(tmp_path: Path) -> None:
    path = write(tmp_path, FLIP)
    out = tmp_path / "flip.json"
    seen: list[tuple[int, int]] = []
    result = sweep(
        path, "flip", ["c=0:1:6"], out=out, workers=1, progress=lambda d, t: seen.append((d, t))
    )
    assert not (tmp_path / "flip.json.parts").exists()  # the chunks are removed once assembled
    data = json.loads(out.read_text())
    assert data["run"]["thresholds"] == [t.as_dict() for t in result.thresholds]
    assert data["run"]["ranges"] == ["c=0:1:6"]
    assert read_records(out) == result.records
    assert [r["param.c"] for r in result.records] == pytest.approx(np.linspace(0, 1, 6))
    done = [d for d, _ in seen]
    assert done == sorted(done) and seen[-1][0] == seen[-1][1] == 6 + result.bisection_points


def test_sweep_output_is_the_same_on_a_pool(tmp_path: Path) -> None:
    path = write(tmp_path, FLIP)
    alone = sweep(path, "flip", ["c=0:1:6", "k=0:1:4"], workers=1)
    pooled = sweep(path, "flip", ["c=0:1:6", "k=0:1:4"], workers=2, chunk_size=5)
    assert pooled.records == alone.records
    assert [t.as_dict() for t in pooled.thresholds] == [t.as_dict() for t in alone.thresholds]


def test_a_sweep_kept_on_disk_resumes_without_recomputing(tmp_path: Path) -> None:
    path = write(tmp_path, FLIP)
    out = tmp_path / "flip.csv"
    first = sweep(path, "flip", ["c=0:1:6"], out=out, keep_chunks=True, chunk_size=2, workers=1)
    assert (tmp_path / "flip.csv.parts" / "manifest.json").exists()
    with pytest.raises(InputError, match="already holds a run"):
        sweep(path, "flip", ["c=0:1:6"], out=out, workers=1)
    again = sweep(path, "flip", ["c=0:1:6"], out=out, resume=True, workers=1)
    assert (again.run.computed, again.run.reused) == (0, 3)
    assert again.records == first.records
    assert [t.as_dict() for t in again.thresholds] == [t.as_dict() for t in first.thresholds]
    assert not (tmp_path / "flip.csv.parts").exists()
