"""Iterated strict dominance: textbook answers, certificates, order independence."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest
from game_strategies import bimatrix_games, n_player_games
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.equilibrium import verify
from simulator.game import StrategicGame
from simulator.solvers.dominance import (
    DominanceResult,
    find_dominator,
    is_strictly_dominated,
    iterated_strict_dominance,
)
from simulator.solvers.pure_nash import pure_nash


def pure_set(game: StrategicGame) -> set[tuple[int, ...]]:
    return {tuple(int(np.argmax(s)) for s in eq.strategies) for eq in pure_nash(game).equilibria}


def test_prisoners_dilemma_reduces_to_defect_defect() -> None:
    game = StrategicGame.from_bimatrix(
        [[3, 0], [5, 1]], [[3, 5], [0, 1]], strategies=[["C", "D"], ["C", "D"]]
    )
    result = iterated_strict_dominance(game)
    assert result.kept == ((1,), (1,))
    assert result.solved
    assert result.rounds == 1
    assert result.game.strategies == (("D",), ("D",))
    assert [(e.player, e.strategy, e.dominated_by) for e in result.eliminations] == [
        ("1", "C", "D"),
        ("2", "C", "D"),
    ]
    assert all(e.margin == 1.0 for e in result.eliminations)


def test_gibbons_three_rounds() -> None:
    # Gibbons (1992), Fig. 1.1.1: R goes (M beats it), then Down (Up beats it
    # once R is gone), then L (M beats it once Down is gone).
    a = [[1, 1, 0], [0, 0, 2]]
    b = [[0, 2, 1], [3, 1, 0]]
    game = StrategicGame.from_bimatrix(a, b, strategies=[["U", "D"], ["L", "M", "R"]])
    result = iterated_strict_dominance(game)
    assert [(e.round, e.strategy, e.dominated_by) for e in result.eliminations] == [
        (1, "R", "M"),
        (2, "D", "U"),
        (3, "L", "M"),
    ]
    assert result.kept == ((0,), (1,))
    assert result.rounds == 3


def test_strategy_dominated_only_by_a_mixture() -> None:
    # B earns 1 against both columns; an even mix of T and M earns 1.5.
    game = StrategicGame.from_bimatrix(
        [[3, 0], [0, 3], [1, 1]],
        [[1, 0], [0, 1], [0, 0]],
        strategies=[["T", "M", "B"], ["L", "R"]],
    )
    assert not is_strictly_dominated(game, 0, "B", mixed=False)
    assert is_strictly_dominated(game, 0, "B")
    mixture = find_dominator(game, "1", 2)
    assert isinstance(mixture, Mapping)
    assert mixture.keys() == {"T", "M"}
    assert sum(mixture.values()) == pytest.approx(1.0)

    pure_only = iterated_strict_dominance(game, mixed=False)
    assert pure_only.kept == ((0, 1, 2), (0, 1))
    assert not pure_only.reduced

    result = iterated_strict_dominance(game)
    assert result.kept == ((0, 1), (0, 1))
    (elimination,) = result.eliminations
    assert elimination.by_mixture
    assert elimination.strategy == "B"
    assert elimination.margin == pytest.approx(0.5)


def test_best_response_somewhere_is_never_dominated() -> None:
    # B ties with the best reply against R, so no mixture beats it strictly there.
    game = StrategicGame.from_bimatrix([[3, 0], [0, 3], [1, 3]], [[1, 0], [0, 1], [0, 0]])
    assert find_dominator(game, 0, 2) is None


def test_three_player_game() -> None:
    # Player 3's strategy 1 is worse than 0 whatever the others do; after it goes,
    # player 1 prefers strategy 1, and then player 2 prefers strategy 0.
    payoffs = np.zeros((3, 2, 2, 2))
    payoffs[2, :, :, 0] = 1.0
    payoffs[0, 1, :, 0] = 2.0
    payoffs[0, 0, :, 1] = 3.0
    payoffs[1, 1, 0, :] = 1.0
    result = iterated_strict_dominance(StrategicGame.from_payoffs(payoffs))
    assert result.kept == ((1,), (0,), (0,))
    assert [(e.round, e.player_index, e.strategy_index) for e in result.eliminations] == [
        (1, 2, 1),
        (2, 0, 0),
        (3, 1, 1),
    ]


def test_bad_arguments() -> None:
    game = StrategicGame.from_bimatrix([[1, 0]], [[0, 1]])
    with pytest.raises(KeyError, match="no strategy"):
        find_dominator(game, 0, "nope")
    with pytest.raises(KeyError, match="no player"):
        find_dominator(game, "X", 0)
    with pytest.raises(IndexError):
        find_dominator(game, 1, 5)


def check_certificates(result: DominanceResult) -> None:
    """Replay the eliminations: each dominator beats its strategy by ``margin`` > tol."""
    game = result.original
    tol = game.tolerance.payoff
    kept = [list(range(m)) for m in game.shape]
    for round_number in range(1, result.rounds + 1):
        batch = [e for e in result.eliminations if e.round == round_number]
        for e in batch:
            i = e.player_index
            sub = game.payoffs[i][np.ix_(*kept)]
            rows = np.moveaxis(sub, i, 0).reshape(len(kept[i]), -1)
            labels = [game.strategies[i][k] for k in kept[i]]
            mixture = {e.dominated_by: 1.0} if isinstance(e.dominated_by, str) else e.dominated_by
            sigma = np.zeros(len(labels))
            for label, p in mixture.items():
                sigma[labels.index(label)] = p
            assert sigma.sum() == pytest.approx(1.0)
            assert sigma[labels.index(e.strategy)] == 0.0
            gain = sigma @ rows - rows[labels.index(e.strategy)]
            assert gain.min() > tol
            assert gain.min() == pytest.approx(e.margin, rel=1e-9, abs=tol)
        for e in batch:
            kept[e.player_index].remove(e.strategy_index)
    assert tuple(tuple(k) for k in kept) == result.kept


def eliminate_one_at_a_time(
    game: StrategicGame, mixed: bool, data: st.DataObject
) -> tuple[tuple[int, ...], ...]:
    """Delete one dominated strategy at a time, chosen by hypothesis, until none is left."""
    kept = [list(range(m)) for m in game.shape]
    while True:
        current = game.restrict(kept)
        dominated = [
            (i, s)
            for i in range(game.n_players)
            for s in range(current.shape[i])
            if is_strictly_dominated(current, i, s, mixed=mixed)
        ]
        if not dominated:
            return tuple(tuple(k) for k in kept)
        i, s = data.draw(st.sampled_from(dominated))
        del kept[i][s]


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        bimatrix_games(min_size=2, max_size=4, low=-3, high=3),
        n_player_games(min_players=3, max_players=3, min_strategies=2, max_strategies=3),
    ),
    st.booleans(),
    st.data(),
)
def test_order_of_elimination_does_not_matter(
    game: StrategicGame, mixed: bool, data: st.DataObject
) -> None:
    result = iterated_strict_dominance(game, mixed=mixed)
    check_certificates(result)
    assert eliminate_one_at_a_time(game, mixed, data) == result.kept


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        bimatrix_games(min_size=2, max_size=4, low=-3, high=3),
        n_player_games(min_players=3, max_players=4, min_strategies=2, max_strategies=3),
    )
)
def test_pure_equilibria_survive_and_nothing_new_appears(game: StrategicGame) -> None:
    result = iterated_strict_dominance(game)
    lifted = {
        tuple(result.kept[i][k] for i, k in enumerate(profile)) for profile in pure_set(result.game)
    }
    assert lifted == pure_set(game)


@settings(max_examples=40, deadline=None)
@given(bimatrix_games(min_size=2, max_size=4, low=-3, high=3))
def test_mixed_equilibria_of_the_reduced_game_lift_back(game: StrategicGame) -> None:
    vertex_enumeration = pytest.importorskip("simulator.solvers.vertex_enumeration")
    result = iterated_strict_dominance(game)
    for eq in vertex_enumeration.vertex_enumeration(result.game).equilibria:
        lifted = []
        for i, m in enumerate(game.shape):
            p = np.zeros(m)
            p[list(result.kept[i])] = eq.strategies[i]
            lifted.append(p)
        assert verify(game, lifted) is not None
    # And no equilibrium of the full game uses an eliminated strategy.
    for eq in vertex_enumeration.vertex_enumeration(game).equilibria:
        for i in range(game.n_players):
            assert set(eq.support(i)) <= set(result.kept[i])


def test_rounds_delete_all_dominated_strategies_at_once() -> None:
    # Rows 0 and 1 are both dominated by row 2 in round 1; nothing else goes.
    a = [[0, 0], [1, 1], [2, 2]]
    b = [[1, 0], [0, 1], [1, 0]]
    result = iterated_strict_dominance(StrategicGame.from_bimatrix(a, b))
    assert [(e.round, e.strategy_index) for e in result.eliminations][:2] == [(1, 0), (1, 1)]
    assert result.kept == ((2,), (0,))
