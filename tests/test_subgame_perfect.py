"""Subgame-perfect equilibria subgame by subgame: known answers and invariants."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_behavior import random_tree

from simulator.extensive.backward_induction import backward_induction
from simulator.extensive.behavior import behavior_regrets, subgame_regrets
from simulator.extensive.solve import auto_method, solve_sequential
from simulator.extensive.subgame_perfect import subgame_perfect
from simulator.extensive.tree import ExtensiveGame, TreeBuilder


def entry_then_pennies(entrant_out: int) -> ExtensiveGame:
    """The entrant stays out (payoff ``entrant_out``, 2) or enters a simultaneous contest.

    After entry both choose at once, a matching-pennies contest shifted so
    that its unique equilibrium (both mix 1/2) is worth 1 to the entrant and
    0 to the incumbent. The entrant enters exactly when 1 beats staying out.
    """
    b = TreeBuilder(["E", "I"])
    root = b.decision("E", ["out", "in"])
    b.connect(root, 0, b.terminal([entrant_out, 2]))
    e = b.decision("E", ["heads", "tails"], infoset="E contest")
    b.connect(root, 1, e)
    for a, pays in enumerate([((2, -1), (0, 1)), ((0, 1), (2, -1))]):
        i = b.decision("I", ["heads", "tails"], infoset="I contest")
        b.connect(e, a, i)
        for c in range(2):
            b.connect(i, c, b.terminal(list(pays[c])))
    return b.build(root)


@pytest.mark.parametrize(("out", "enters"), [(0, True), (2, False)])
def test_the_entrant_compares_staying_out_with_the_contest_value(out: int, enters: bool) -> None:
    game = entry_then_pennies(out)
    assert auto_method(game) == "subgame-perfect"
    result = solve_sequential(game)
    assert result.method == "subgame-perfect"
    (eq,) = result.equilibria
    assert eq.concept == "subgame_perfect"
    first = game.infosets[game.root.infoset].actions[int(np.argmax(eq.behavior[0]))]
    assert first == ("in" if enters else "out")
    # The contest is played at its equilibrium whether or not it is reached.
    for h in game.infosets[1:]:
        assert eq.behavior[h.index] == pytest.approx([0.5, 0.5])
    assert eq.payoffs[0] == pytest.approx(1.0 if enters else 2.0)


def test_a_nash_equilibrium_with_an_incredible_threat_is_not_returned() -> None:
    # After entry both choose at once; sharing is dominant for the incumbent,
    # so the contest is worth 1 to the entrant, more than the 1/2 of staying
    # out. Staying out because the incumbent would fight is a Nash equilibrium
    # of the whole game (entering would then cost the entrant), but not
    # subgame perfect, and must not appear.
    from simulator.extensive.behavior import verify_behavior

    b = TreeBuilder(["E", "I"])
    root = b.decision("E", ["out", "in"])
    b.connect(root, 0, b.terminal([Fraction(1, 2), 2]))
    e = b.decision("E", ["aggressive", "soft"], infoset="E contest")
    b.connect(root, 1, e)
    for a, pays in enumerate([((-2, -1), (1, 1)), ((-1, -2), (0, 2))]):
        i = b.decision("I", ["fight", "share"], infoset="I contest")
        b.connect(e, a, i)
        for c in range(2):
            b.connect(i, c, b.terminal(list(pays[c])))
    game = b.build(root)
    threat = [np.array([1.0, 0.0]), np.array([1.0, 0.0]), np.array([1.0, 0.0])]
    assert verify_behavior(game, threat, "nash") is not None
    assert verify_behavior(game, threat, "subgame_perfect") is None
    (eq,) = subgame_perfect(game).equilibria
    assert eq.behavior[0][1] == 1  # enters: the contest is worth 1 > 1/2


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([2, 3]))
def test_every_answer_is_an_equilibrium_of_every_subgame(seed: int, players: int) -> None:
    game = random_tree(np.random.default_rng(seed), players=players, max_depth=4)
    result = subgame_perfect(game)
    tol = game.tolerance.payoff
    if players == 2:
        # Backward induction and Lemke's algorithm always end at an equilibrium.
        assert result.equilibria
    for eq in result.equilibria:
        assert np.all(behavior_regrets(game, eq.behavior) <= tol)
        assert np.all(subgame_regrets(game, eq.behavior) <= tol)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_generic_perfect_information_trees_give_the_backward_induction_answer(seed: int) -> None:
    rng = np.random.default_rng(seed)
    b = TreeBuilder(["A", "B"])

    def grow(depth: int) -> int:
        if depth == 3 or (depth and rng.random() < 0.3):
            # Payoffs in general position: no ties, so one subgame-perfect equilibrium.
            return b.terminal([Fraction(int(v), 997) for v in rng.integers(0, 10**6, 2)])
        node = b.decision(int(rng.integers(2)), ["l", "r"])
        for a in range(2):
            b.connect(node, a, grow(depth + 1))
        return node

    game = b.build(grow(0))
    (expected,) = backward_induction(game).equilibria
    (found,) = subgame_perfect(game).equilibria
    assert found.key() == expected.key()


def test_refuses_a_tree_without_perfect_recall() -> None:
    b = TreeBuilder(["A"])
    root = b.decision("A", ["l", "r"])
    for a in range(2):
        node = b.decision("A", ["x", "y"], infoset="forgot")
        b.connect(root, a, node)
        for c in range(2):
            b.connect(node, c, b.terminal([a + c]))
    game = b.build(root)
    with pytest.raises(ValueError, match="perfect recall"):
        subgame_perfect(game)


def test_the_cap_is_reported() -> None:
    # Two tied moves inside a subgame below a chance move: two equilibria per
    # subgame, four in all; a cap of 2 keeps 2 and says so.
    b = TreeBuilder(["A", "B"])
    root = b.chance(["l", "r"], [Fraction(1, 2), Fraction(1, 2)])
    for a in range(2):
        node = b.decision("A", ["x", "y"], infoset=f"s{a}")
        b.connect(root, a, node)
        for c in range(2):
            inner = b.decision("B", ["u"], infoset=f"t{a}{c}")
            b.connect(node, c, inner)
            b.connect(inner, 0, b.terminal([1, c]))
    game = b.build(root)
    assert len(subgame_perfect(game).equilibria) == 4
    capped = subgame_perfect(game, max_equilibria=2)
    assert len(capped.equilibria) == 2 and not capped.complete
    assert any("max_equilibria" in note for note in capped.notes)
