"""The sequence form and Lemke's algorithm on it (two players, imperfect information).

Known answers (one-card poker, matching pennies as a tree, an entry game, a
coordination game with three equilibria), the sequence form's defining
identities on random trees, and the check the issue asks for: every
equilibrium found is turned into a mixed profile of the reduced strategic form
and has zero regret there (:func:`simulator.equilibrium.verify`), on random
degenerate trees and on every two-player perfect-recall reference tree.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_behavior import (
    entry_game,
    forgetful_game,
    matching_pennies,
    one_card_poker,
    random_behavior,
    random_tree,
    read_reference,
    reference_efg_files,
    trees,
)

from simulator.equilibrium import verify
from simulator.extensive.behavior import verify_behavior
from simulator.extensive.reduced_form import reduced_form_shape, reduced_strategic_form
from simulator.extensive.results import SequentialResult
from simulator.extensive.sequence_form import sequence_form, sequence_form_lemke
from simulator.extensive.tree import ExtensiveGame, TreeBuilder


def battle_of_the_sexes() -> ExtensiveGame:
    """P1 picks opera or football; P2 picks without seeing it: equilibria (O, O), (F, F), mixed."""
    b = TreeBuilder(["P1", "P2"])
    root = b.decision("P1", ["O", "F"])
    pay = {(0, 0): [2, 1], (1, 1): [1, 2]}
    for a in range(2):
        node = b.decision("P2", ["O", "F"], infoset="guess")
        b.connect(root, a, node)
        for c in range(2):
            b.connect(node, c, b.terminal(pay.get((a, c), [0, 0])))
    return b.build(root)


def assert_normal_form_check(game: ExtensiveGame, result: SequentialResult) -> None:
    """Each equilibrium, as a mixed profile of the reduced strategic form, has zero regret there."""
    rf = reduced_strategic_form(game)
    for eq in result.equilibria:
        mixed = rf.from_behavior(eq.behavior)
        assert verify(rf.strategic, mixed) is not None
        assert eq.payoffs == pytest.approx(
            [float(np.asarray(v)) for v in _expected(rf.strategic.payoffs, mixed)], abs=1e-9
        )


def _expected(payoffs: np.ndarray, mixed: tuple[np.ndarray, ...]) -> list[float]:
    return [float(np.einsum("ij,i,j->", payoffs[k], mixed[0], mixed[1])) for k in (0, 1)]


@pytest.mark.parametrize("arithmetic", ["auto", "exact", "float"])
def test_one_card_poker_has_its_unique_equilibrium(arithmetic: str) -> None:
    game = one_card_poker()
    result = sequence_form_lemke(game, arithmetic=arithmetic)  # type: ignore[arg-type]
    assert result.method == "sequence-form" and not result.complete
    (eq,) = result.equilibria
    assert eq.exact is not None
    by_label = {h.label: list(p) for h, p in zip(game.infosets, eq.exact, strict=True)}
    third = Fraction(1, 3)
    assert by_label["red"] == [1, 0]
    assert by_label["black"] == [third, 1 - third]
    assert by_label["bob"] == [1 - third, third]
    assert eq.payoffs == pytest.approx((1 / 3, -1 / 3))
    assert_normal_form_check(game, result)


def test_matching_pennies_tree_mixes_evenly() -> None:
    game = matching_pennies()
    (eq,) = sequence_form_lemke(game).equilibria
    assert [list(p) for p in eq.exact or ()] == [[Fraction(1, 2)] * 2] * 2


def test_entry_game_equilibrium_is_nash() -> None:
    game = entry_game()
    result = sequence_form_lemke(game)
    assert len(result.equilibria) == 1
    assert_normal_form_check(game, result)


def test_restarts_find_several_distinct_equilibria() -> None:
    game = battle_of_the_sexes()
    result = sequence_form_lemke(game, restarts=30, seed=1)
    keys = [eq.key() for eq in result.equilibria]
    assert len(set(keys)) == len(keys) >= 2
    assert_normal_form_check(game, result)


def test_unreached_sets_follow_the_chosen_convention() -> None:
    """P1 ends the game at once (2 > anything after), so its later set is never reached."""
    b = TreeBuilder(["P1", "P2"])
    root = b.decision("P1", ["stop", "go"])
    p2 = b.decision("P2", ["x", "y"])
    later = b.decision("P1", ["l", "r"], infoset="later")
    b.connect(root, 0, b.terminal([2, 0]))
    b.connect(root, 1, p2)
    b.connect(p2, 0, later)
    b.connect(p2, 1, b.terminal([0, 0]))
    b.connect(later, 0, b.terminal([0, 1]))
    b.connect(later, 1, b.terminal([1, 1]))
    game = b.build(root)
    later_set = next(h.index for h in game.infosets if h.label == "later")
    (best,) = sequence_form_lemke(game).equilibria
    assert best.behavior[later_set].tolist() == [0.0, 1.0]  # r is P1's best response there
    (uniform,) = sequence_form_lemke(game, unreached="uniform").equilibria
    assert uniform.behavior[later_set].tolist() == [0.5, 0.5]


def test_games_it_does_not_cover_are_refused() -> None:
    three = TreeBuilder(["A", "B", "C"])
    root = three.decision("A", ["x", "y"])
    three.connect(root, 0, three.terminal([0, 0, 0]))
    three.connect(root, 1, three.terminal([1, 1, 1]))
    with pytest.raises(ValueError, match="3 players"):
        sequence_form_lemke(three.build(root))
    with pytest.raises(ValueError, match="perfect recall"):
        sequence_form_lemke(forgetful_game())
    floats = TreeBuilder(["A", "B"])
    root = floats.decision("A", ["x", "y"])
    floats.connect(root, 0, floats.terminal([0.1, 0.2]))
    floats.connect(root, 1, floats.terminal([0.3, 0.4]))
    with pytest.raises(ValueError, match="rational"):
        sequence_form_lemke(floats.build(root), arithmetic="exact")


def test_pivot_cap_is_reported() -> None:
    result = sequence_form_lemke(one_card_poker(), max_pivots=3, arithmetic="float")
    assert result.equilibria == ()
    assert any("cap of 3 pivots" in note for note in result.notes)


def test_float_payoffs_are_solved_in_floating_point() -> None:
    rng = np.random.default_rng(7)
    game = random_tree(rng, max_depth=4)
    b = TreeBuilder(game.players)
    handles = {}
    for node in game.nodes:  # the same tree with irrational-looking float payoffs
        if node.is_terminal:
            handles[node.index] = b.terminal([float(v) + 0.1 * np.pi for v in node.payoffs or ()])
        else:
            h = game.infosets[node.infoset]  # type: ignore[index]
            if h.player is None:
                handles[node.index] = b.chance(list(h.actions), list(h.probabilities or ()))
            else:
                handles[node.index] = b.decision(h.player, list(h.actions), infoset=f"h{h.index}")
    for node in game.nodes:
        for a, child in enumerate(node.children):
            b.connect(handles[node.index], a, handles[child])
    floats = b.build(handles[0])
    result = sequence_form_lemke(floats)
    assert result.equilibria
    assert_normal_form_check(floats, result)


# -------------------------------------------------------------- random trees
@settings(max_examples=30, deadline=None)
@given(trees(players=2), st.integers(0, 2**32 - 1))
def test_sequence_form_identities(game: ExtensiveGame, seed: int) -> None:
    """Realization plans of any behaviour satisfy E x = e, F y = f, and x'Ay, x'By are
    the tree's expected payoffs (KMvS 1996, Sec. 3)."""
    form = sequence_form(game)
    behavior = random_behavior(game, np.random.default_rng(seed))
    x, y = form.realization_plan(behavior, 0), form.realization_plan(behavior, 1)
    assert form.constraints[0] @ x == pytest.approx(form.rhs[0])
    assert form.constraints[1] @ y == pytest.approx(form.rhs[1])
    assert form.expected_payoffs(x, y) == pytest.approx(game.expected_payoffs(behavior))
    again, _ = form.to_behavior((x, y), unreached="uniform")
    assert game.expected_payoffs(again) == pytest.approx(game.expected_payoffs(behavior))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**32 - 1).map(
        lambda s: random_tree(np.random.default_rng(s), max_depth=3 + s % 3, payoff_range=1 + s % 4)
    ),
    st.sampled_from(["auto", "float", "exact"]),
)
def test_lemke_ends_at_an_equilibrium_on_random_degenerate_trees(
    game: ExtensiveGame, arithmetic: str
) -> None:
    """Payoffs in a small integer range tie often: the trees are degenerate."""
    result = sequence_form_lemke(game, arithmetic=arithmetic, restarts=1)  # type: ignore[arg-type]
    assert result.equilibria and result.rejected == 0
    for eq in result.equilibria:
        assert verify_behavior(game, eq.behavior) is not None
        if arithmetic != "float":
            assert eq.exact is not None and eq.regret == (0.0, 0.0)
    if np.prod(reduced_form_shape(game)) <= 5_000:
        assert_normal_form_check(game, result)


# -------------------------------------------------------------- reference games
@pytest.mark.parametrize("path", reference_efg_files())
def test_reference_trees_are_solved_and_verified(path: Path) -> None:
    """Every two-player perfect-recall reference tree: an exact equilibrium that also has
    zero regret in the reduced strategic form (where that form is small)."""
    game = read_reference(path)
    result = sequence_form_lemke(game)
    assert result.equilibria, result.notes
    (eq,) = result.equilibria
    assert eq.exact is not None
    if np.prod(reduced_form_shape(game)) <= 20_000:
        assert_normal_form_check(game, result)
