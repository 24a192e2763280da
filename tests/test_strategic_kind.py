"""Building strategic games from scenario files: tables, rules, exactness, overrides."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import InputError
from simulator.game import StrategicGame
from simulator.kinds import KINDS, load_kind, spec_models
from simulator.kinds.strategic import StrategicGameSpec
from simulator.scenario import (
    Scenario,
    build_game,
    describe_outcomes,
    load_scenario,
    load_scenario_text,
)

DATA = Path(__file__).parent / "data"

HEADER = """\
name: T
question: q
actors: {A: Alice, B: Bob, C: Carol}
parameters:
  p: {value: 2, assumption: true}
  cost: {value: 0.3, assumption: true}
issues:
  share: {range: [0, 1], unit: u, description: d, status_quo: 0.1}
  level: {values: [0, 0.5, 1], unit: u, description: d, status_quo: 0}
payoffs:
  A: "share - cost * level"
  B: "level - share"
  C: "sqrt(share) + p"
games:
"""


def scenario_with(game: str) -> Scenario:
    return load_scenario_text(HEADER + game)


# ------------------------------------------------------------------- tables


def test_table_orientation_on_a_non_square_game() -> None:
    scenario = scenario_with(
        """\
  - name: t
    kind: strategic
    players: [A, B]
    strategies: {A: [x, y], B: [l, m, r]}
    table:
      - [[1, 2], [3, 4], [5, 6]]
      - [[7, 8], [9, 10], [11, 12]]
"""
    )
    game = build_game(scenario, "t")
    assert isinstance(game, StrategicGame)
    assert game.players == ("A", "B")
    assert game.strategies == (("x", "y"), ("l", "m", "r"))
    assert game.shape == (2, 3)
    # payoffs[i][row, column]: row = A's strategy, column = B's strategy.
    np.testing.assert_array_equal(game.payoffs[0], [[1, 3, 5], [7, 9, 11]])
    np.testing.assert_array_equal(game.payoffs[1], [[2, 4, 6], [8, 10, 12]])
    assert game.title == "t"


def test_integer_tables_are_exact() -> None:
    game = build_game(load_scenario(DATA / "minimal_scenario.yaml"), "pd")
    assert game.is_rational
    assert game.exact_payoffs is not None
    assert all(isinstance(v, Fraction) for v in game.exact_payoffs.flat)
    assert game.exact_payoffs[0][1, 0] == 5
    np.testing.assert_array_equal(game.payoffs[0], [[3, 0], [5, 1]])


def test_decimal_and_constant_entries_are_exact_as_written() -> None:
    scenario = scenario_with(
        """\
  - name: t
    kind: strategic
    players: [A, B]
    strategies: {A: [x], B: [l, r]}
    table:
      - [[0.1, "1/3"], [-2.5, "-0.2"]]
"""
    )
    game = build_game(scenario, "t")
    assert game.exact_payoffs is not None
    assert list(game.exact_payoffs[:, 0, 0]) == [Fraction(1, 10), Fraction(1, 3)]
    assert list(game.exact_payoffs[:, 0, 1]) == [Fraction(-5, 2), Fraction(-1, 5)]
    assert game.payoffs[1, 0, 0] == pytest.approx(1 / 3)


def test_parameter_entries_make_the_table_float() -> None:
    scenario = scenario_with(
        """\
  - name: t
    kind: strategic
    players: [A, B]
    strategies: {A: [x], B: [l, r]}
    table:
      - [[1, "p * 2"], [0, 1]]
"""
    )
    game = build_game(scenario, "t")
    assert not game.is_rational
    np.testing.assert_array_equal(game.payoffs[:, 0, :], [[1, 0], [4, 1]])
    overridden = build_game(scenario, "t", parameters={"p": 5})
    assert overridden.payoffs[1, 0, 0] == 10


def test_three_player_table() -> None:
    rows = []
    for a in range(2):
        rows.append([[[a, b, c] for c in range(2)] for b in range(3)])
    table = "\n".join(f"      - {row}" for row in rows)
    scenario = scenario_with(
        f"""\
  - name: t
    kind: strategic
    players: [A, B, C]
    strategies: {{A: [a0, a1], B: [b0, b1, b2], C: [c0, c1]}}
    table:
{table}
"""
    )
    game = build_game(scenario, 0)
    assert game.shape == (2, 3, 2)
    for a, b, c in itertools.product(range(2), range(3), range(2)):
        assert list(game.payoffs[:, a, b, c]) == [a, b, c]


# -------------------------------------------------------------------- rules


def test_rules_with_deals_fixed_payoffs_and_status_quo() -> None:
    scenario = load_scenario(DATA / "minimal_scenario.yaml")
    game = build_game(scenario, "one_shot")
    assert game.players == ("US", "UA")
    assert not game.is_rational  # deals are valued through float expressions
    # (hard, sign): share 0.5, guarantee at its status quo 0.
    # US = share * (1 - occupied) - cost * guarantee; UA = 0.8 * guarantee - share.
    expected_us = [[0.5 * 0.6, 0.0], [0.2 * 0.6 - 0.3, 0.0]]
    expected_ua = [[-0.5, -0.2], [0.8 - 0.2, -0.2]]
    np.testing.assert_allclose(game.payoffs[0], expected_us, rtol=1e-12)
    np.testing.assert_allclose(game.payoffs[1], expected_ua, rtol=1e-12)


def test_first_match_wins_and_wildcards() -> None:
    scenario = scenario_with(
        """\
  - name: r
    kind: strategic
    players: [A, B]
    strategies: {A: [x, y, z], B: [l, r]}
    outcomes:
      - when: {A: x, B: "*"}
        payoffs: {A: 1, B: 1}
      - when: {A: [x, y]}
        payoffs: {A: 2, B: 2}
      - when: {B: l}
        payoffs: {A: 3, B: 3}
      - when: {}
        payoffs: {A: 4, B: 4}
"""
    )
    game = build_game(scenario, "r")
    np.testing.assert_array_equal(game.payoffs[0], [[1, 1], [2, 2], [3, 4]])
    assert game.is_rational  # every rule is a constant payoff


def test_no_deal_uses_every_status_quo() -> None:
    scenario = scenario_with(
        """\
  - name: r
    kind: strategic
    players: [A, B]
    strategies: {A: [x], B: [l, r]}
    outcomes:
      - when: {B: l}
        deal: {level: 1}
      - {when: {}, no_deal: true}
"""
    )
    game = build_game(scenario, "r")
    # (x, l): share at status quo 0.1, level 1; (x, r): share 0.1, level 0.
    np.testing.assert_allclose(game.payoffs[:, 0, 0], [0.1 - 0.3, 1 - 0.1])
    np.testing.assert_allclose(game.payoffs[:, 0, 1], [0.1, -0.1])
    outcomes = describe_outcomes(scenario, "r")
    assert outcomes == {("x", "l"): {"share": 0.1, "level": 1.0}, ("x", "r"): None}


def test_three_player_rules_are_vectorised_over_profiles() -> None:
    scenario = scenario_with(
        """\
  - name: three
    kind: strategic
    players: [A, B, C]
    strategies: {A: [lo, hi], B: [yes, no], C: [in, out]}
    outcomes:
      - when: {B: no}
        payoffs: {A: 0, B: 0, C: "p"}
      - when: {A: lo, C: in}
        deal: {share: 0.25, level: 0.5}
      - when: {A: hi}
        deal: {share: 0.64}
      - when: {}
        no_deal: true
"""
    )
    game = build_game(scenario, "three")
    assert game.shape == (2, 2, 2)

    def utilities(share: float, level: float) -> list[float]:
        return [share - 0.3 * level, level - share, np.sqrt(share) + 2]

    for a, b, c in itertools.product(range(2), repeat=3):
        if b == 1:
            expected = [0, 0, 2]
        elif a == 0 and c == 0:
            expected = utilities(0.25, 0.5)
        elif a == 1:
            expected = utilities(0.64, 0)
        else:
            expected = utilities(0.1, 0)
        np.testing.assert_allclose(game.payoffs[:, a, b, c], expected, rtol=1e-12)


def test_deal_values_may_be_parameter_expressions_and_follow_overrides() -> None:
    scenario = scenario_with(
        """\
  - name: r
    kind: strategic
    players: [A, B]
    strategies: {A: [x], B: [l]}
    outcomes:
      - when: {}
        deal: {share: "cost * 2"}
"""
    )
    assert build_game(scenario, "r").payoffs[0, 0, 0] == pytest.approx(0.6)
    game = build_game(scenario, "r", parameters={"cost": 0.4})
    # share = 0.8, level at status quo 0: A = share - cost * level.
    assert game.payoffs[0, 0, 0] == pytest.approx(0.8)
    assert describe_outcomes(scenario, "r", parameters={"cost": 0.4}) == {
        ("x", "l"): {"share": pytest.approx(0.8), "level": 0.0}
    }
    with pytest.raises(InputError) as info:
        build_game(scenario, "r", parameters={"cost": 0.6})
    [problem] = info.value.problems
    assert problem.field == "games[0].outcomes[0].deal.share"
    assert problem.line == (HEADER + "x").count("\n") + 7
    assert "outside its range [0, 1]" in problem.message


def test_unknown_or_non_finite_overrides_are_input_errors() -> None:
    scenario = load_scenario(DATA / "minimal_scenario.yaml")
    with pytest.raises(InputError, match="unknown parameter 'cots'; parameters are: cost"):
        build_game(scenario, "one_shot", parameters={"cots": 1.0})
    with pytest.raises(InputError, match="finite"):
        build_game(scenario, "one_shot", parameters={"cost": float("nan")})


def test_non_finite_utility_points_at_the_payoff_line_and_profile() -> None:
    text = (
        HEADER.replace('C: "sqrt(share) + p"', 'C: "log(share - 0.2)"')
        + """\
  - name: r
    kind: strategic
    players: [A, C]
    strategies: {A: [x, y], C: [l]}
    outcomes:
      - when: {A: x}
        deal: {share: 0.5}
      - when: {}
        no_deal: true
"""
    )
    scenario = load_scenario_text(text, source="s.yaml")
    with pytest.raises(InputError) as info:
        build_game(scenario, "r")
    [problem] = info.value.problems
    assert problem.file == "s.yaml"
    assert problem.field == "payoffs.C"
    assert problem.line == text.splitlines().index('  C: "log(share - 0.2)"') + 1
    assert "profile (A: y, C: l)" in problem.message
    assert "games[0].outcomes[1]" in problem.message
    assert "log of -0.1" in problem.message


def test_games_by_name_or_index_and_unknown_games() -> None:
    scenario = load_scenario(DATA / "minimal_scenario.yaml")
    assert build_game(scenario, 1).title == "pd"
    assert build_game(scenario, -1).title == "pd"
    with pytest.raises(InputError, match="no game 'nope'; games are: one_shot, pd"):
        build_game(scenario, "nope")
    with pytest.raises(InputError, match="no game number 5"):
        build_game(scenario, 5)


def test_describe_outcomes_of_the_fixture() -> None:
    scenario = load_scenario(DATA / "minimal_scenario.yaml")
    outcomes = describe_outcomes(scenario, "one_shot")
    assert list(outcomes) == [
        ("hard", "sign"),
        ("hard", "hold"),
        ("soft", "sign"),
        ("soft", "hold"),
    ]
    assert outcomes[("hard", "sign")] == {"share": 0.5, "guarantee": 0.0}
    assert outcomes[("soft", "sign")] == {"share": pytest.approx(0.2), "guarantee": 1.0}
    assert outcomes[("hard", "hold")] is None
    assert set(describe_outcomes(scenario, "pd").values()) == {None}


# --------------------------------------------------------------- registry


def test_registry_builds_the_union_of_kinds() -> None:
    assert KINDS["strategic"] == "simulator.kinds.strategic"
    assert StrategicGameSpec in spec_models()
    kind = load_kind("strategic")
    assert kind.Spec is StrategicGameSpec
    with pytest.raises(KeyError, match="unknown game kind"):
        load_kind("sequential_not_yet")


# ------------------------------------------- rules versus brute force


@st.composite
def rule_games(draw: st.DrawFn) -> tuple[list[int], list[tuple[dict[int, list[int]], int]]]:
    """A game shape and rules (when: player -> allowed strategies; payoff) ending in a catch-all."""
    shape = draw(st.lists(st.integers(1, 3), min_size=2, max_size=3))
    rules = []
    for payoff in range(draw(st.integers(0, 5))):
        when: dict[int, list[int]] = {}
        for player, m in enumerate(shape):
            if draw(st.booleans()):
                when[player] = sorted(draw(st.sets(st.integers(0, m - 1), min_size=1)))
        rules.append((when, payoff))
    rules.append(({}, 99))
    return shape, rules


@settings(max_examples=60, deadline=None)
@given(rule_games())
def test_rule_payoffs_equal_first_match_by_brute_force(
    drawn: tuple[list[int], list[tuple[dict[int, list[int]], int]]],
) -> None:
    shape, rules = drawn
    players = ["A", "B", "C"][: len(shape)]
    strategies = {p: [f"s{k}" for k in range(m)] for p, m in zip(players, shape, strict=True)}
    lines = [
        "  - name: g",
        "    kind: strategic",
        f"    players: [{', '.join(players)}]",
        "    strategies: {"
        + ", ".join(f"{p}: [{', '.join(s)}]" for p, s in strategies.items())
        + "}",
        "    outcomes:",
    ]
    for when, payoff in rules:
        pattern = ", ".join(
            f"{players[i]}: [{', '.join(f's{k}' for k in allowed)}]" for i, allowed in when.items()
        )
        fixed = ", ".join(f"{p}: {payoff}" for p in players)
        lines.append(f"      - when: {{{pattern}}}")
        lines.append(f"        payoffs: {{{fixed}}}")
    game = build_game(scenario_with("\n".join(lines) + "\n"), "g")
    for profile in itertools.product(*(range(m) for m in shape)):
        first = next(
            payoff
            for when, payoff in rules
            if all(profile[i] in allowed for i, allowed in when.items())
        )
        assert list(game.payoffs[(slice(None), *profile)]) == [first] * len(players)
    assert game.is_rational
