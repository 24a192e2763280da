"""All pure Nash equilibria: known answers, brute force, invariances, ties."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from game_strategies import bimatrix_games, n_player_games
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.game import StrategicGame
from simulator.results import SolverResult
from simulator.solvers.pure_nash import pure_equilibrium_indices, pure_nash


def brute_force_pure(game: StrategicGame) -> set[tuple[int, ...]]:
    """Pure equilibria by checking every unilateral deviation of every profile."""
    tol = game.tolerance.payoff
    found = set()
    for profile in itertools.product(*(range(m) for m in game.shape)):
        stable = True
        for i in range(game.n_players):
            own = game.payoffs[i][profile]
            for k in range(game.shape[i]):
                deviation = list(profile)
                deviation[i] = k
                if game.payoffs[i][tuple(deviation)] > own + tol:
                    stable = False
        if stable:
            found.add(profile)
    return found


def has_pure_ties(game: StrategicGame) -> bool:
    """Whether some player has two best responses to some pure profile of the others."""
    tol = game.tolerance.payoff
    for i in range(game.n_players):
        u = np.moveaxis(game.payoffs[i], i, 0).reshape(game.shape[i], -1)
        best = u.max(axis=0)
        if np.any((u >= best - tol).sum(axis=0) >= 2):
            return True
    return False


def profiles(result: SolverResult) -> set[tuple[int, ...]]:
    out = set()
    for eq in result.equilibria:
        assert eq.is_pure
        out.add(tuple(int(np.argmax(s)) for s in eq.strategies))
    return out


KNOWN = [
    # (name, A, B, pure equilibria as (row, column))
    ("prisoner's dilemma", [[3, 0], [5, 1]], [[3, 5], [0, 1]], {(1, 1)}),
    ("battle of the sexes", [[2, 0], [0, 1]], [[1, 0], [0, 2]], {(0, 0), (1, 1)}),
    ("matching pennies", [[1, -1], [-1, 1]], [[-1, 1], [1, -1]], set()),
    ("chicken", [[0, -1], [1, -10]], [[0, 1], [-1, -10]], {(0, 1), (1, 0)}),
    ("stag hunt", [[4, 1], [3, 3]], [[4, 3], [1, 3]], {(0, 0), (1, 1)}),
]


@pytest.mark.parametrize(("name", "a", "b", "expected"), KNOWN, ids=[k[0] for k in KNOWN])
def test_known_two_player_games(
    name: str, a: list[list[int]], b: list[list[int]], expected: set[tuple[int, int]]
) -> None:
    result = pure_nash(StrategicGame.from_bimatrix(a, b, title=name))
    assert result.complete
    assert result.scope == "all pure equilibria"
    assert result.method == "pure_nash"
    assert result.rejected == 0
    assert profiles(result) == expected
    assert all(eq.max_regret == 0.0 for eq in result.equilibria)
    assert all(eq.exact is not None for eq in result.equilibria)


def test_three_player_coordination_game() -> None:
    # Each player gets 1 when all three choose the same strategy, else 0.
    shape = (2, 3, 2)
    payoffs = np.zeros((3, *shape))
    for s in itertools.product(*(range(m) for m in shape)):
        if s[0] == s[1] == s[2]:
            payoffs[(slice(None), *s)] = 1
    result = pure_nash(StrategicGame.from_payoffs(payoffs))
    # (0,0,0) and (1,1,1) are strict; every profile where no single player can
    # complete a match is an equilibrium with payoff 0 too.
    assert profiles(result) == brute_force_pure(StrategicGame.from_payoffs(payoffs))
    assert {(0, 0, 0), (1, 1, 1)} <= profiles(result)
    assert result.degenerate


def test_non_square_orientation() -> None:
    # Row player (3 strategies) prefers row 2 against every column; the column
    # player (2 strategies) prefers column 1 against row 2. A transposed reading
    # of the payoffs would fail on the shapes or give another answer.
    a = [[0, 0], [1, 1], [2, 2]]
    b = [[1, 0], [1, 0], [0, 1]]
    result = pure_nash(StrategicGame.from_bimatrix(a, b))
    assert profiles(result) == {(2, 1)}
    assert result.equilibria[0].payoffs == (2.0, 1.0)


def test_one_player_game_picks_the_maxima() -> None:
    result = pure_nash(StrategicGame.from_payoffs([[1.0, 3.0, 3.0, 2.0]]))
    assert profiles(result) == {(1,), (2,)}
    assert result.degenerate


def test_zero_game_every_profile_is_an_equilibrium() -> None:
    game = StrategicGame.from_payoffs(np.zeros((3, 2, 3, 2)))
    result = pure_nash(game)
    assert len(result.equilibria) == 12
    assert result.degenerate


def test_generic_game_has_no_ties() -> None:
    rng = np.random.default_rng(7)
    game = StrategicGame.from_payoffs(rng.random((3, 4, 5, 6)))
    result = pure_nash(game)
    assert result.degenerate is None  # no pure ties; mixed degeneracy is not checked
    assert profiles(result) == brute_force_pure(game)


def test_ties_within_tolerance_count_as_best_responses() -> None:
    # 1 + 1e-13 and 1 differ by far less than the tolerance (1e-9 of the spread).
    a = [[1.0 + 1e-13, 0.0], [1.0, 0.0]]
    b = [[1.0, 0.0], [1.0, 0.0]]
    result = pure_nash(StrategicGame.from_bimatrix(a, b))
    assert profiles(result) == {(0, 0), (1, 0)}
    assert result.degenerate


def test_indices_are_in_c_order() -> None:
    game = StrategicGame.from_payoffs(np.zeros((2, 3, 2)))
    indices, ties = pure_equilibrium_indices(game)
    assert indices.tolist() == [list(p) for p in itertools.product(range(3), range(2))]
    assert ties


@settings(max_examples=60, deadline=None)
@given(n_player_games(min_players=2, max_players=4, max_strategies=3, low=-2, high=2))
def test_equals_brute_force_on_n_player_games(game: StrategicGame) -> None:
    result = pure_nash(game)
    assert profiles(result) == brute_force_pure(game)
    assert (result.degenerate is True) == has_pure_ties(game)
    assert result.degenerate in (True, None)
    assert result.rejected == 0
    assert all(eq.max_regret <= game.tolerance.payoff for eq in result.equilibria)


@settings(max_examples=40, deadline=None)
@given(bimatrix_games(max_size=5), st.data())
def test_invariant_under_affine_maps_and_relabelling(
    game: StrategicGame, data: st.DataObject
) -> None:
    a, b = game.bimatrix()
    scale_a = data.draw(st.integers(1, 5))
    shift_b = data.draw(st.integers(-10, 10))
    rows = data.draw(st.permutations(range(game.shape[0])))
    cols = data.draw(st.permutations(range(game.shape[1])))
    a2 = (scale_a * np.asarray(a, dtype=np.int64) + 3)[np.ix_(rows, cols)]
    b2 = (np.asarray(b, dtype=np.int64) + shift_b)[np.ix_(rows, cols)]
    transformed = pure_nash(StrategicGame.from_bimatrix(a2, b2))
    original = profiles(pure_nash(game))
    # Position (r, c) of the transformed game is (rows[r], cols[c]) of the original.
    assert {(rows[r], cols[c]) for r, c in profiles(transformed)} == original
