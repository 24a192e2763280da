"""The reduced strategic form of game trees.

Known answers (one-card poker, a player who moves twice, a forgetful player),
invariants on random trees (every pure profile pays what the tree pays for
the same plans; behaviour and mixed strategies are realization equivalent,
Kuhn 1953), and the reference trees: our reduced forms have the sizes Gambit
reports and the same number of pure equilibria.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_behavior import (
    forgetful_game,
    one_card_poker,
    random_behavior,
    read_reference,
    reference_answers,
    reference_games_dir,
    trees,
)

from simulator.equilibrium import expected_payoffs
from simulator.extensive.reduced_form import reduced_form_shape, reduced_strategic_form
from simulator.extensive.tree import ExtensiveGame, TreeBuilder


def two_moves() -> ExtensiveGame:
    """P1 stays Out (1, 1) or goes In; P2 then picks a or b; P1 moves again (l or r) after a."""
    b = TreeBuilder(["P1", "P2"])
    root = b.decision("P1", ["Out", "In"], infoset="Offer")
    p2 = b.decision("P2", ["a", "b"])
    again = b.decision("P1", ["l", "r"], infoset="Counter")
    b.connect(root, 0, b.terminal([1, 1]))
    b.connect(root, 1, p2)
    b.connect(p2, 0, again)
    b.connect(p2, 1, b.terminal([0, 3]))
    b.connect(again, 0, b.terminal([3, 0]))
    b.connect(again, 1, b.terminal([Fraction(1, 2), 2]))
    return b.build(root)


def test_one_card_poker_reduced_form_has_the_known_payoffs() -> None:
    rf = reduced_strategic_form(one_card_poker())
    game = rf.strategic
    assert game.strategies == (
        ("Raise/Raise", "Raise/Fold", "Fold/Raise", "Fold/Fold"),
        ("Meet", "Pass"),
    )
    assert game.exact_payoffs is not None
    # Red: raise wins 2 if met, 1 if not; black: raise loses 2 if met, wins 1 if not;
    # fold always loses 1. Each card has probability 1/2.
    half = Fraction(1, 2)
    expected_a = [
        [0, 1],
        [half * 2 - half, half * 1 - half],
        [-half - half * 2, -half + half],
        [-1, -1],
    ]
    assert game.exact_payoffs[0].tolist() == expected_a
    assert game.exact_payoffs[1].tolist() == [[-v for v in row] for row in expected_a]


def test_plans_skip_sets_ruled_out_by_own_moves() -> None:
    rf = reduced_strategic_form(two_moves())
    assert rf.strategic.strategies[0] == ("Out/*", "In/l", "In/r")
    assert rf.plans[0] == ((0, None), (1, 0), (1, 1))
    assert rf.describe(0, 0) == "Offer:Out, Counter:*"
    assert rf.strategic.shape == (3, 2)
    assert reduced_form_shape(two_moves()) == (3, 2)
    # Out pays (1, 1) whatever P2 does; In/r against a pays (1/2, 2).
    assert rf.strategic.exact_payoffs[0][0].tolist() == [1, 1]  # type: ignore[index]
    assert rf.strategic.exact_payoffs[:, 2, 0].tolist() == [Fraction(1, 2), 2]  # type: ignore[index]


def test_unreached_sets_get_uniform_behaviour() -> None:
    rf = reduced_strategic_form(two_moves())
    behavior = rf.pure_behavior([0, 1])  # Out; P2 b
    counter = next(h for h in rf.game.infosets if h.label == "Counter")
    assert behavior[counter.index].tolist() == [0.5, 0.5]


def test_forgetful_player_keeps_every_plan() -> None:
    """Without perfect recall both of P1's sets are always reachable: 2 x 2 plans."""
    rf = reduced_strategic_form(forgetful_game())
    assert rf.strategic.shape == (4, 1)
    assert rf.strategic.strategies[1] == ("(no move)",)
    assert rf.strategic.payoffs[0, :, 0].tolist() == [0.0, 1.0, 1.0, 2.0]


def test_too_large_a_form_is_refused_with_its_size() -> None:
    with pytest.raises(ValueError, match="4x2 = 8 pure profiles, more than max_profiles=5"):
        reduced_strategic_form(one_card_poker(), max_profiles=5)


def _check_pure_profiles(game: ExtensiveGame) -> None:
    rf = reduced_strategic_form(game)
    for profile in itertools.product(*(range(m) for m in rf.strategic.shape)):
        tree = game.expected_payoffs(rf.pure_behavior(profile))
        strategic = rf.strategic.payoffs[(slice(None), *profile)]
        assert strategic == pytest.approx(tree, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(trees(players=2))
def test_every_pure_profile_pays_what_the_tree_pays(game: ExtensiveGame) -> None:
    _check_pure_profiles(game)


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 3).flatmap(lambda n: trees(players=n, max_depth=3, perfect_recall=False)))
def test_every_pure_profile_pays_what_the_tree_pays_without_perfect_recall(
    game: ExtensiveGame,
) -> None:
    _check_pure_profiles(game)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(2, 3).flatmap(lambda n: trees(players=n, max_depth=3)), st.integers(0, 2**32 - 1)
)
def test_behaviour_and_mixed_strategies_are_realization_equivalent(
    game: ExtensiveGame, seed: int
) -> None:
    """Kuhn (1953): from_behavior and to_behavior preserve every player's payoff, and
    to_behavior(from_behavior(b)) agrees with b wherever b's own plan reaches a set."""
    rng = np.random.default_rng(seed)
    rf = reduced_strategic_form(game)
    behavior = random_behavior(game, rng)
    mixed = rf.from_behavior(behavior)
    assert all(m.sum() == pytest.approx(1.0) for m in mixed)
    tree = game.expected_payoffs(behavior)
    assert expected_payoffs(rf.strategic.payoffs, mixed) == pytest.approx(tree, abs=1e-9)
    again = rf.to_behavior(mixed)
    assert game.expected_payoffs(again) == pytest.approx(tree, abs=1e-9)
    random_mixed = [rng.dirichlet(np.ones(m)) for m in rf.strategic.shape]
    kuhn = rf.to_behavior(random_mixed)
    assert game.expected_payoffs(kuhn) == pytest.approx(
        expected_payoffs(rf.strategic.payoffs, random_mixed), abs=1e-9
    )


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3).flatmap(lambda n: trees(players=n, max_depth=3, perfect_recall=False)))
def test_shape_counts_the_plans(game: ExtensiveGame) -> None:
    rf = reduced_strategic_form(game)
    assert reduced_form_shape(game) == rf.strategic.shape
    for i, plans in enumerate(rf.plans):
        assert len(set(plans)) == len(plans)
        assert len(set(rf.strategic.strategies[i])) == len(plans)


# -------------------------------------------------------------- reference games
def _efg_files() -> list[Any]:
    folder = reference_games_dir()
    if folder is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason="reference games not found"))]
    return [pytest.param(p, id=p.name) for p in sorted((folder / "games").glob("*.efg"))]


def _pure_equilibria(payoffs: np.ndarray) -> int:
    """The number of pure equilibria, exactly (payoffs of Fractions or floats)."""
    ok = np.ones(payoffs.shape[1:], dtype=bool)
    for i in range(payoffs.shape[0]):
        best = np.max(payoffs[i], axis=i, keepdims=True)
        ok &= np.asarray(payoffs[i] == best, dtype=bool)
    return int(ok.sum())


@pytest.mark.parametrize("path", _efg_files())
def test_reference_reduced_forms_match_gambit(path: Path) -> None:
    """Sizes equal Gambit's reduced normal form, and so does the number of pure equilibria."""
    entry = reference_answers().get(path.name, {})
    if "strategies" not in entry:
        pytest.skip(f"{path.name}: answers.json gives no reduced form size")
    try:
        game = read_reference(path)
    except ValueError as exc:  # absent-minded trees: not game trees negsim represents
        pytest.skip(f"{path.name}: not read ({str(exc).split(': ', 2)[-1][:60]})")
    shape = reduced_form_shape(game)
    assert list(shape) == entry["strategies"]
    if np.prod(shape) > 20_000:
        return
    rf = reduced_strategic_form(game)
    assert list(rf.strategic.shape) == entry["strategies"]
    pure = entry.get("pure_equilibria")
    if entry.get("pure_solver", "").startswith("enumpure") and pure is not None:
        payoffs = rf.strategic.exact_payoffs
        count = _pure_equilibria(payoffs if payoffs is not None else rf.strategic.payoffs)
        assert count == len(pure)
