"""Lemke–Howson from every label: known answers, termination, agreement with vertex enumeration."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from fractions import Fraction

import numpy as np
import pytest
from game_strategies import bimatrix_games, degenerate_bimatrix_games, generic_bimatrix_games
from hypothesis import given, settings

from simulator.game import StrategicGame
from simulator.results import SolverResult
from simulator.solvers.lemke_howson import (
    default_max_pivots,
    lemke_howson,
    lemke_howson_paths,
)


def keys(equilibria: Iterable[Sequence[Sequence[float]]]) -> set[tuple[float, ...]]:
    """Profiles ``(x, y)`` as tuples rounded to 6 digits, comparable across solvers."""
    return {tuple(round(float(v), 6) + 0.0 for s in profile for v in s) for profile in equilibria}


def ours(result: SolverResult) -> set[tuple[float, ...]]:
    return keys([eq.strategies for eq in result.equilibria])


def nashpy_vertices(game: StrategicGame) -> set[tuple[float, ...]]:
    """All extreme equilibria by nashpy's vertex enumeration (complete on degenerate games).

    nashpy's polytopes are unbounded unless payoffs are positive (it only shifts
    negative ones up to 0), and qhull refuses one-dimensional ones, so payoffs
    are shifted to a minimum of 1 (equilibria unchanged) and both players need
    two strategies.
    """
    nashpy = pytest.importorskip("nashpy")
    assert min(game.shape) >= 2
    a, b = game.bimatrix()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = nashpy.Game(a - a.min() + 1, b - b.min() + 1).vertex_enumeration()
        return keys(list(pairs))


def check_every_label_returns(result: SolverResult, game: StrategicGame) -> None:
    m, n = game.shape
    assert result.rejected == 0, result.notes
    assert not any("cap" in note for note in result.notes), result.notes
    assert result.equilibria
    assert all(eq.max_regret <= game.tolerance.payoff for eq in result.equilibria)
    reached = [note for note in result.notes if note.startswith("equilibrium ")]
    assert len(reached) == len(result.equilibria)
    assert result.options["labels"] == tuple(range(m + n))


def test_battle_of_the_sexes_labels_lead_to_the_pure_equilibria() -> None:
    game = StrategicGame.from_bimatrix(
        [[2, 0], [0, 1]],
        [[1, 0], [0, 2]],
        players=["Ann", "Bob"],
        strategies=[["opera", "fight"], ["opera", "fight"]],
    )
    result = lemke_howson(game)
    assert not result.complete
    assert result.scope == "one equilibrium per starting label"
    assert result.method == "lemke_howson"
    assert ours(result) == {(1.0, 0.0, 1.0, 0.0), (0.0, 1.0, 0.0, 1.0)}
    # From (0, 0), dropping a label of "opera" pivots to the (opera, opera) corner.
    assert result.notes[0] == "equilibrium 1 reached from label(s) 0 (Ann:opera), 2 (Bob:opera)"
    assert result.notes[1] == "equilibrium 2 reached from label(s) 1 (Ann:fight), 3 (Bob:fight)"


def test_matching_pennies_exact_mixed_equilibrium() -> None:
    game = StrategicGame.from_bimatrix([[1, -1], [-1, 1]], [[-1, 1], [1, -1]])
    result = lemke_howson(game)
    (eq,) = result.equilibria
    assert eq.exact == ((Fraction(1, 2), Fraction(1, 2)), (Fraction(1, 2), Fraction(1, 2)))
    assert all(p.pivots >= 2 for p in lemke_howson_paths(game))


def test_von_stengel_degenerate_example() -> None:
    # von Stengel (2007), Fig. 3.3's game with a degenerate row: (top, left) is
    # an equilibrium where the top row has two best responses. Lexicographic
    # pivoting must not cycle and must end at extreme equilibria.
    a = [[3, 3], [2, 5], [0, 6]]
    b = [[3, 2], [2, 6], [3, 1]]
    game = StrategicGame.from_bimatrix(a, b)
    result = lemke_howson(game)
    check_every_label_returns(result, game)
    assert ours(result) <= nashpy_vertices(game)


@pytest.mark.parametrize(
    "game",
    [
        StrategicGame.from_payoffs(np.zeros((2, 3, 3)), title="zero game"),
        StrategicGame.from_bimatrix(
            [[1, 2], [1, 2], [1, 2]], [[3, 1], [3, 1], [3, 1]], title="identical rows"
        ),
        StrategicGame.from_bimatrix([[1, 1], [1, 1]], [[0, 0], [0, 0]], title="all indifferent"),
    ],
    ids=lambda g: g.title,
)
def test_degenerate_games_terminate(game: StrategicGame) -> None:
    result = lemke_howson(game)
    check_every_label_returns(result, game)
    assert result.degenerate
    assert ours(result) <= nashpy_vertices(game)


def test_games_with_a_single_strategy() -> None:
    result = lemke_howson(StrategicGame.from_bimatrix([[5]], [[7]]))
    assert ours(result) == {(1.0, 1.0)}
    game = StrategicGame.from_bimatrix([[1, 3, 2]], [[4, 4, 0]])
    result = lemke_howson(game)
    check_every_label_returns(result, game)
    # Both best replies of the column player, and every mix of them, are
    # equilibria; the extreme ones are the two pure ones.
    assert ours(result) <= {(1.0, 1.0, 0.0, 0.0), (1.0, 0.0, 1.0, 0.0)}


@settings(max_examples=40, deadline=None)
@given(generic_bimatrix_games(min_size=2, max_size=10))
def test_generic_games_every_label_reaches_an_equilibrium(game: StrategicGame) -> None:
    result = lemke_howson(game)
    check_every_label_returns(result, game)
    assert result.degenerate is None  # no ratio test tied


@settings(max_examples=40, deadline=None)
@given(generic_bimatrix_games(min_size=2, max_size=4))
def test_found_equilibria_are_extreme_equilibria_found_by_nashpy(game: StrategicGame) -> None:
    result = lemke_howson(game)
    check_every_label_returns(result, game)
    assert ours(result) <= nashpy_vertices(game)


@settings(max_examples=60, deadline=None)
@given(degenerate_bimatrix_games(min_size=2, max_size=5))
def test_degenerate_integer_games_end_at_extreme_equilibria(game: StrategicGame) -> None:
    vertex_enumeration = pytest.importorskip("simulator.solvers.vertex_enumeration")
    result = lemke_howson(game)
    check_every_label_returns(result, game)
    assert ours(result) <= ours(vertex_enumeration.vertex_enumeration(game))


@settings(max_examples=40, deadline=None)
@given(bimatrix_games(min_size=2, max_size=4, low=-2, high=2))
def test_small_integer_games_agree_with_nashpy_vertex_enumeration(game: StrategicGame) -> None:
    result = lemke_howson(game)
    check_every_label_returns(result, game)
    assert ours(result) <= nashpy_vertices(game)


def test_stress_random_games_all_terminate() -> None:
    # nashpy's Lemke-Howson loops for ever on about 1 in 6 of such games.
    rng = np.random.default_rng(20261123)
    for trial in range(200):
        m, n = (int(v) for v in rng.integers(8, 13, size=2))
        if trial % 4 == 3:
            # Small integer payoffs: ties and degenerate vertices are common.
            a, b = rng.integers(-3, 4, size=(2, m, n))
        else:
            a, b = rng.random((2, m, n))
        game = StrategicGame.from_bimatrix(a, b)
        result = lemke_howson(game)
        check_every_label_returns(result, game)


def test_cap_is_reported_not_hung() -> None:
    rng = np.random.default_rng(3)
    game = StrategicGame.from_bimatrix(rng.random((6, 6)), rng.random((6, 6)))
    paths = lemke_howson_paths(game, max_pivots=1)
    assert all(p.capped and p.profile is None and p.pivots == 1 for p in paths)
    result = lemke_howson(game, max_pivots=1)
    assert result.equilibria == ()
    assert any("cap of 1 pivots" in note for note in result.notes)
    assert result.options["max_pivots"] == 1


def test_label_subset_and_defaults() -> None:
    game = StrategicGame.from_bimatrix([[2, 0], [0, 1]], [[1, 0], [0, 2]])
    result = lemke_howson(game, labels=[3])
    assert ours(result) == {(0.0, 1.0, 0.0, 1.0)}
    assert result.options == {"labels": (3,), "max_pivots": default_max_pivots(2, 2)}
    assert default_max_pivots(2, 2) == 160


def test_bad_input() -> None:
    game = StrategicGame.from_bimatrix([[2, 0], [0, 1]], [[1, 0], [0, 2]])
    with pytest.raises(ValueError, match=r"labels must be in 0\.\.3"):
        lemke_howson(game, labels=[4])
    with pytest.raises(ValueError, match="max_pivots"):
        lemke_howson(game, max_pivots=0)
    with pytest.raises(ValueError, match="two-player"):
        lemke_howson(StrategicGame.from_payoffs(np.zeros((3, 2, 2, 2))))
