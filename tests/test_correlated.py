"""Correlated equilibria by linear programming (:mod:`simulator.solvers.correlated`).

Known answers first (Aumann's chicken, the prisoner's dilemma, matching pennies,
rock-paper-scissors), with uniqueness checked against an independent oracle: the
polytope written out by loops over profiles and every profile's probability
maximised and minimised over it. Then the check's verdicts and reasons, the
vectorised incentive violations against those loops, hypothesis properties over
random 2-4 player games (every answer satisfies every incentive constraint;
every Nash equilibrium is a correlated one; the LP's optima dominate every Nash
equilibrium), column generation against the single LP, the report, and the
Gambit reference games.
"""

from __future__ import annotations

import doctest
import json
from fractions import Fraction
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from game_strategies import n_player_games
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import simulator.solvers.correlated as correlated_module
from simulator.equilibrium import Equilibrium, expected_payoffs
from simulator.formats import read_nfg
from simulator.game import StrategicGame
from simulator.report.correlated_table import correlated_json, correlated_text
from simulator.solvers import solve
from simulator.solvers.correlated import (
    CorrelatedEquilibrium,
    CorrelatedResult,
    correlated_equilibria,
    correlated_equilibrium,
    incentive_violations,
    is_correlated_equilibrium,
)

F = Fraction
CHICKEN_LABELS = [["Chicken", "Dare"], ["Chicken", "Dare"]]


def chicken() -> StrategicGame:
    """Aumann's (1974) chicken: (C,C) = 6,6; (C,D) = 2,7; (D,C) = 7,2; (D,D) = 0,0."""
    return StrategicGame.from_bimatrix(
        [[6, 2], [7, 0]], [[6, 7], [2, 0]], players=["Row", "Col"], strategies=CHICKEN_LABELS
    )


def prisoners_dilemma() -> StrategicGame:
    return StrategicGame.from_bimatrix(
        [[3, 0], [5, 1]],
        [[3, 5], [0, 1]],
        players=["A", "B"],
        strategies=[["Cooperate", "Defect"], ["Cooperate", "Defect"]],
    )


def matching_pennies() -> StrategicGame:
    return StrategicGame.from_bimatrix([[1, -1], [-1, 1]], [[-1, 1], [1, -1]])


def rock_paper_scissors() -> StrategicGame:
    a = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
    return StrategicGame.from_bimatrix(a, -a)


def product_distribution(strategies: Any) -> np.ndarray:
    """The joint distribution of independent mixed strategies (an outer product)."""
    out = np.array(1, dtype=object if isinstance(strategies[0][0], Fraction) else float)
    for s in strategies:
        out = np.multiply.outer(out, np.asarray(s, dtype=out.dtype))
    return out


def check_equilibrium(game: StrategicGame, eq: CorrelatedEquilibrium) -> None:
    """Everything a returned correlated equilibrium promises."""
    p = eq.distribution
    assert p.shape == game.shape
    assert np.all(p >= 0)
    assert abs(p.sum() - 1) <= game.tolerance.probability
    assert incentive_violations(game, p).max() <= game.tolerance.payoff
    assert 0 <= eq.max_violation <= game.tolerance.payoff
    expected = [float(np.sum(p * game.payoffs[i])) for i in range(game.n_players)]
    np.testing.assert_allclose(eq.payoffs, expected, rtol=0, atol=game.tolerance.payoff)
    assert is_correlated_equilibrium(game, p).ok
    assert sum(prob for _, prob in eq.support()) == pytest.approx(1.0, abs=1e-12)
    if eq.exact is not None:
        assert game.exact_payoffs is not None
        assert sum(eq.exact.flat, F(0)) == 1
        check = is_correlated_equilibrium(game, eq.exact)
        assert check.ok, check.reason
        assert eq.exact_payoffs == tuple(
            sum(
                (q * u for q, u in zip(eq.exact.flat, game.exact_payoffs[i].flat, strict=True)),
                F(0),
            )
            for i in range(game.n_players)
        )


# ----------------------------------------------------------- an oracle by loops
def polytope_by_loops(game: StrategicGame) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """The incentive inequalities ``A p <= 0``, one row per (i, k, k2), by explicit loops."""
    profiles = list(product(*[range(m) for m in game.shape]))
    rows = []
    for i, m in enumerate(game.shape):
        for k, k2 in product(range(m), range(m)):
            if k == k2:
                continue
            row = np.zeros(len(profiles))
            for j, s in enumerate(profiles):
                if s[i] == k:
                    deviated = list(s)
                    deviated[i] = k2
                    row[j] = game.payoffs[i][tuple(deviated)] - game.payoffs[i][s]
            rows.append(row)
    return np.array(rows).reshape(-1, len(profiles)), profiles


def violations_by_loops(game: StrategicGame, p: np.ndarray) -> np.ndarray:
    size = max(game.shape)
    out = np.zeros((game.n_players, size, size))
    for s in product(*[range(m) for m in game.shape]):
        for i, m in enumerate(game.shape):
            for k2 in range(m):
                deviated = list(s)
                deviated[i] = k2
                out[i, s[i], k2] += p[s] * (game.payoffs[i][tuple(deviated)] - game.payoffs[i][s])
    return out


def probability_ranges(game: StrategicGame, min_welfare: float | None = None) -> np.ndarray:
    """For each profile, (min, max) of its probability over the correlated equilibria.

    With ``min_welfare``, only over those with at least that much welfare.
    """
    a, profiles = polytope_by_loops(game)
    if min_welfare is not None:
        welfare = np.array([game.payoffs[(slice(None), *s)].sum() for s in profiles])
        a = np.vstack([a, -welfare])
    b = np.zeros(len(a))
    if min_welfare is not None:
        b[-1] = -min_welfare
    ranges = np.empty((len(profiles), 2))
    for j in range(len(profiles)):
        for col, sign in enumerate((1.0, -1.0)):
            c = np.zeros(len(profiles))
            c[j] = sign
            res = linprog(
                c,
                A_ub=a if len(a) else None,
                b_ub=b if len(a) else None,
                A_eq=np.ones((1, len(profiles))),
                b_eq=[1.0],
                bounds=(0, None),
                method="highs",
            )
            assert res.status == 0
            ranges[j, col] = sign * res.fun
    return ranges


# ------------------------------------------------------------------ known answers
def test_module_examples() -> None:
    failures, tried = doctest.testmod(correlated_module)
    assert tried > 0 and failures == 0


def test_chicken_welfare_maximum_is_aumanns_lp_answer() -> None:
    game = chicken()
    result = correlated_equilibria(game)
    best = result.for_objective("welfare")
    assert best.exact is not None
    assert best.exact.tolist() == [[F(1, 2), F(1, 4)], [F(1, 4), F(0)]]
    assert best.exact_payoffs == (F(21, 4), F(21, 4))
    assert best.welfare == 10.5
    assert best.support() == [
        ({"Row": "Chicken", "Col": "Chicken"}, 0.5),
        ({"Row": "Chicken", "Col": "Dare"}, 0.25),
        ({"Row": "Dare", "Col": "Chicken"}, 0.25),
    ]
    check_equilibrium(game, best)
    # Each player's best correlated equilibrium is its favourite pure equilibrium.
    assert result.for_objective("max payoff of Row").support() == [
        ({"Row": "Dare", "Col": "Chicken"}, 1.0)
    ]
    assert result.for_objective("max payoff of Col").support() == [
        ({"Row": "Chicken", "Col": "Dare"}, 1.0)
    ]
    assert len(result) == 3


def test_chicken_aumann_distribution_is_correlated_but_not_welfare_maximal() -> None:
    game = chicken()
    third = np.array([[F(1, 3), F(1, 3)], [F(1, 3), F(0)]], dtype=object)
    check = is_correlated_equilibrium(game, third)
    assert check.ok and check.max_violation == 0
    assert check.equilibrium is not None and check.equilibrium.objective == "check"
    assert check.equilibrium.exact_payoffs == (F(5), F(5))
    assert check.equilibrium.welfare == 10 < correlated_equilibrium(game).welfare == 10.5
    # The Nash equilibria: the two pure ones (welfare 9) and the mixed one (28/3).
    nash = solve(game, "vertex-enumeration").equilibria
    assert game.exact_payoffs is not None
    welfare = [sum(expected_payoffs(game.exact_payoffs, eq.exact)) for eq in nash if eq.exact]
    assert sorted(welfare) == [9, 9, F(28, 3)]


def test_chicken_welfare_maximum_is_unique() -> None:
    # The oracle: no correlated equilibrium has more welfare than 10.5, and the
    # ones with 10.5 (less a hair) all give every profile the same probability.
    with pytest.raises(AssertionError):
        probability_ranges(chicken(), min_welfare=10.5 + 1e-6)
    ranges = probability_ranges(chicken(), min_welfare=10.5 - 1e-9)
    np.testing.assert_allclose(ranges[:, 0], [0.5, 0.25, 0.25, 0], atol=1e-6)
    np.testing.assert_allclose(ranges[:, 1], [0.5, 0.25, 0.25, 0], atol=1e-6)


@pytest.mark.parametrize(
    ("factory", "expected"),
    [
        (prisoners_dilemma, [[0, 0], [0, 1]]),
        (matching_pennies, [[F(1, 4)] * 2] * 2),
        (rock_paper_scissors, [[F(1, 9)] * 3] * 3),
    ],
    ids=["prisoners-dilemma", "matching-pennies", "rock-paper-scissors"],
)
def test_games_with_a_unique_correlated_equilibrium(factory: Any, expected: Any) -> None:
    game = factory()
    ranges = probability_ranges(game)
    flat = np.array(expected, dtype=float).ravel()
    np.testing.assert_allclose(ranges[:, 0], flat, atol=1e-9)  # the oracle agrees it is unique
    np.testing.assert_allclose(ranges[:, 1], flat, atol=1e-9)
    result = correlated_equilibria(game)
    assert len(result) == 1, "every objective gives the one correlated equilibrium"
    (eq,) = result.equilibria
    assert eq.objectives == ("welfare", *[f"max payoff of {p}" for p in game.players])
    assert eq.exact is not None
    assert eq.exact.tolist() == [[F(v) for v in row] for row in expected]
    check_equilibrium(game, eq)
    assert any("the same distribution" in note for note in result.notes)


def test_three_player_game_with_exact_answer() -> None:
    # Each player gets 1 when it matches player 0... a 2x2x2 coordination game:
    # all three get 1 when all play the same strategy, else 0.
    payoffs = np.zeros((3, 2, 2, 2), dtype=int)
    payoffs[:, 0, 0, 0] = 1
    payoffs[:, 1, 1, 1] = 2
    game = StrategicGame.from_payoffs(payoffs)
    eq = correlated_equilibrium(game)
    assert eq.exact is not None and eq.exact[1, 1, 1] == 1
    assert eq.welfare == 6
    check_equilibrium(game, eq)


# ------------------------------------------------------------------ objectives
def test_objective_forms_agree() -> None:
    game = chicken()
    by_name = correlated_equilibrium(game, "Row")
    by_index = correlated_equilibrium(game, 0)
    by_weights = correlated_equilibrium(game, [1.0, 0.0])
    assert by_name.objective == by_index.objective == "max payoff of Row"
    assert by_weights.objective == "weighted payoffs (Row 1, Col 0)"
    assert by_name.payoffs[0] == by_index.payoffs[0] == by_weights.payoffs[0] == 7
    ones = correlated_equilibrium(game, np.ones(2))
    assert ones.welfare == pytest.approx(correlated_equilibrium(game).welfare)


@pytest.mark.parametrize(
    ("objective", "error"),
    [("Nobody", KeyError), (2, ValueError), ([1.0], ValueError), ([1, np.nan], ValueError)],
)
def test_bad_objectives_are_errors(objective: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        correlated_equilibrium(chicken(), objective)


def test_tie_break_picks_the_most_welfare_among_a_players_maxima() -> None:
    # Column is indifferent everywhere, so every correlated equilibrium gives it 0;
    # with the tie broken by welfare, its "best" one is the welfare maximum.
    game = StrategicGame.from_bimatrix([[3, 0], [0, 1]], [[0, 0], [0, 0]])
    plain = correlated_equilibrium(game, 1, tie_break=False)
    broken = correlated_equilibrium(game, 1)
    assert broken.welfare == 3
    assert broken.welfare >= plain.welfare
    check_equilibrium(game, plain)
    check_equilibrium(game, broken)


# ------------------------------------------------------------------- the check
def test_check_names_the_failing_incentive_constraint() -> None:
    game = chicken()
    eps = 0.01
    p = np.array([[0.5 + eps, 0.25 - eps], [0.25, 0.0]])
    check = is_correlated_equilibrium(game, p)
    assert not check.ok
    # Row told Chicken gains p(C,C)*(7-6) + p(C,D)*(0-2) = 3 eps by daring.
    assert check.worst == (0, 0, 1)
    assert check.max_violation == pytest.approx(3 * eps)
    assert "Row, told to play Chicken" in check.reason
    assert "by playing Dare instead" in check.reason
    assert check.equilibrium is None


def test_check_accepts_within_tolerance_and_rejects_beyond() -> None:
    game = chicken()
    base = np.array([[0.5, 0.25], [0.25, 0.0]])
    tol = game.tolerance.payoff
    # Moving mass d from (C,D) to (C,C) costs Row's constraint 3d (see above).
    inside = base + np.array([[1, -1], [0, 0]]) * (tol / 30)
    outside = base + np.array([[1, -1], [0, 0]]) * (tol * 10)
    assert is_correlated_equilibrium(game, inside).ok
    assert not is_correlated_equilibrium(game, outside).ok


@pytest.mark.parametrize(
    ("distribution", "reason"),
    [
        (np.full((2, 3), 1 / 6), "wrong shape"),
        (np.full(4, 0.25), "wrong shape"),
        (np.array([[0.5, 0.5], [0.5, -0.5]]), "negative probability -0.5 at Row: Dare, Col: Dare"),
        (np.array([[0.5, 0.25], [0.25, 0.1]]), "sum to 1.1"),
        (np.array([[np.nan, 0.5], [0.5, 0.0]]), "finite"),
        (np.array([[F(1, 2), F(1, 4)], [F(1, 4), F(1, 4)]], dtype=object), "sum to 5/4"),
    ],
    ids=["shape", "flat", "negative", "sum", "nan", "exact-sum"],
)
def test_check_rejects_what_is_not_a_distribution(distribution: Any, reason: str) -> None:
    check = is_correlated_equilibrium(chicken(), distribution)
    assert not check.ok
    assert reason in check.reason
    assert check.max_violation == np.inf


def test_exact_check_rejects_the_smallest_violation() -> None:
    game = chicken()
    tiny = F(1, 10**15)
    p = np.array([[F(1, 2) + tiny, F(1, 4) - tiny], [F(1, 4), F(0)]], dtype=object)
    assert is_correlated_equilibrium(game, p.astype(float)).ok  # below float resolution
    exact = is_correlated_equilibrium(game, p)
    assert not exact.ok and exact.worst == (0, 0, 1)


@settings(max_examples=40, deadline=None)
@given(n_player_games(min_players=1, max_players=4, max_strategies=3), st.integers(0, 2**32 - 1))
def test_incentive_violations_match_the_definition(game: StrategicGame, seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.random(game.shape) * (rng.random(game.shape) < 0.7)
    p = p / p.sum() if p.sum() > 0 else np.full(game.shape, 1 / p.size)
    np.testing.assert_allclose(
        incentive_violations(game, p), violations_by_loops(game, p), rtol=0, atol=1e-12
    )


# ------------------------------------------------------------------ properties
def nash_equilibria(game: StrategicGame) -> tuple[Equilibrium, ...]:
    if game.n_players == 2:
        return solve(game, "vertex-enumeration").equilibria
    return solve(game, "pure").equilibria


def check_result_against_nash(game: StrategicGame, result: CorrelatedResult) -> None:
    for eq in result.equilibria:
        check_equilibrium(game, eq)
    tol = game.tolerance.payoff
    welfare = result.for_objective("welfare").welfare
    assert all(welfare >= eq.welfare - tol for eq in result.equilibria)
    best = [
        result.for_objective(f"max payoff of {p}").payoffs[i] for i, p in enumerate(game.players)
    ]
    for nash in nash_equilibria(game):
        joint = product_distribution(nash.exact if nash.exact is not None else nash.strategies)
        check = is_correlated_equilibrium(game, joint)
        assert check.ok, check.reason
        assert welfare >= sum(nash.payoffs) - tol
        assert all(b >= v - tol for b, v in zip(best, nash.payoffs, strict=True))
    for i in range(game.n_players):
        assert all(best[i] >= eq.payoffs[i] - tol for eq in result.equilibria)


@settings(max_examples=40, deadline=None)
@given(n_player_games(min_players=2, max_players=4, max_strategies=3, low=-3, high=3))
def test_random_integer_games(game: StrategicGame) -> None:
    check_result_against_nash(game, correlated_equilibria(game))


@st.composite
def float_games(draw: st.DrawFn) -> StrategicGame:
    n = draw(st.integers(2, 4))
    shape = tuple(draw(st.integers(1, 4 if n == 2 else 3)) for _ in range(n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e4]))
    return StrategicGame.from_payoffs(rng.normal(size=(n, *shape)) * scale)


@settings(max_examples=30, deadline=None)
@given(float_games())
def test_random_float_games(game: StrategicGame) -> None:
    check_result_against_nash(game, correlated_equilibria(game))


@settings(max_examples=12, deadline=None)
@given(
    n_player_games(min_players=3, max_players=4, min_strategies=2, max_strategies=3),
    st.booleans(),
)
def test_column_generation_finds_the_single_lps_optima(
    game: StrategicGame, tie_break: bool
) -> None:
    direct = correlated_equilibria(game, tie_break=tie_break)
    saved = correlated_module._DIRECT_LP_PROFILES, correlated_module._MIN_BATCH
    try:
        correlated_module._DIRECT_LP_PROFILES, correlated_module._MIN_BATCH = 1, 1
        generated = correlated_equilibria(game, tie_break=tie_break)
    finally:
        correlated_module._DIRECT_LP_PROFILES, correlated_module._MIN_BATCH = saved
    tol = game.tolerance.payoff
    assert generated.for_objective("welfare").welfare == pytest.approx(
        direct.for_objective("welfare").welfare, abs=tol
    )
    for i, player in enumerate(game.players):
        a = generated.for_objective(f"max payoff of {player}")
        b = direct.for_objective(f"max payoff of {player}")
        assert a.payoffs[i] == pytest.approx(b.payoffs[i], abs=tol)
        if tie_break:
            assert a.welfare == pytest.approx(b.welfare, abs=tol)
        check_equilibrium(game, a)


def test_larger_game_by_column_generation() -> None:
    rng = np.random.default_rng(3)
    game = StrategicGame.from_payoffs(rng.integers(-9, 10, size=(4, 5, 5, 5, 5)))
    assert np.prod(game.shape) < correlated_module._DIRECT_LP_PROFILES
    saved = correlated_module._DIRECT_LP_PROFILES
    try:
        correlated_module._DIRECT_LP_PROFILES = 100
        result = correlated_equilibria(game)
    finally:
        correlated_module._DIRECT_LP_PROFILES = saved
    assert result.variables == 625 and result.constraints == 4 * 5 * 4
    check_result_against_nash(game, result)


# ---------------------------------------------------------------------- report
def test_report_lines_and_json() -> None:
    result = correlated_equilibria(chicken())
    text = correlated_text(result)
    assert "Row: Chicken, Col: Chicken — 1/2" in text
    assert "Row: Dare, Col: Chicken — 1/4" in text
    assert "Payoffs: Row 5.25, Col 5.25 (welfare 10.5)" in text
    entries = correlated_json(result)
    assert json.loads(json.dumps(entries)) == entries
    assert [e["objective"] for e in entries] == [
        "welfare",
        "max payoff of Row",
        "max payoff of Col",
    ]
    first = entries[0]
    assert first["concept"] == "correlated"
    assert first["distribution"][0] == {
        "profile": {"Row": "Chicken", "Col": "Chicken"},
        "probability": 0.5,
        "exact_probability": "1/2",
    }
    assert sum(d["probability"] for d in first["distribution"]) == pytest.approx(1.0)
    assert first["payoffs"] == {"Row": 5.25, "Col": 5.25}
    assert first["max_violation"] == 0.0


def test_report_folds_long_supports_and_coincidences() -> None:
    result = correlated_equilibria(rock_paper_scissors())
    text = correlated_text(result, max_profiles=4)
    assert "… and 5 more profiles (total probability 0.5556)" in text
    assert "Most welfare (also max payoff of 1, max payoff of 2):" in text
    assert "the same distribution" not in text  # said once, in the heading


# --------------------------------------------------------- Gambit reference games
FLOAT_ANSWER_RTOL = 1e-6  # Gambit's float answers (enumpoly, logit) have regret ~1e-8..1e-6


@pytest.mark.reference
def test_reference_game_equilibria_are_correlated(
    reference_nfg: Path, reference_answers: dict[str, Any]
) -> None:
    answer = reference_answers[reference_nfg.name]
    game = read_nfg(reference_nfg)
    result = correlated_equilibria(game)
    for eq in result.equilibria:
        check_equilibrium(game, eq)
    tol = game.tolerance.payoff
    welfare = result.for_objective("welfare").welfare
    best = [
        result.for_objective(f"max payoff of {p}").payoffs[i] for i, p in enumerate(game.players)
    ]
    exact = answer["mixed_solver"].startswith("enummixed")
    if answer["mixed_solver"].startswith("logit") and answer["logit_relative_regret"] > 1e-6:
        pytest.skip("Gambit's logit answer here is not an equilibrium (README caveat 1)")
    scale = float(np.ptp(game.payoffs)) or 1.0
    for indices in answer["pure_equilibria_idx"]:
        point = np.zeros(game.shape, dtype=object)
        point[...] = F(0)
        point[tuple(indices)] = F(1)
        check = is_correlated_equilibrium(game, point)
        assert check.ok, check.reason
    for strings in answer["mixed_equilibria"]:
        if exact:
            joint = product_distribution([[F(p) for p in player] for player in strings])
            check = is_correlated_equilibrium(game, joint)
            assert check.ok, check.reason
            allowed = tol
        else:
            joint = product_distribution([[float(p) for p in player] for player in strings])
            assert incentive_violations(game, joint).max() <= FLOAT_ANSWER_RTOL * scale
            allowed = FLOAT_ANSWER_RTOL * scale
        payoffs = [
            float(np.sum(joint.astype(float) * game.payoffs[i])) for i in range(game.n_players)
        ]
        assert welfare >= sum(payoffs) - allowed * game.n_players
        assert all(b >= v - allowed for b, v in zip(best, payoffs, strict=True))
