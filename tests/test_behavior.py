"""Regret and verification of behaviour profiles of game trees.

Known answers (one-card poker, matching pennies as a tree, an entry game with
an incredible threat), the invariant that behaviour regret equals regret in
the reduced strategic form (Kuhn 1953) on random perfect-recall trees, and
Gambit's sequence-form equilibria of the reference trees passing our verifier.

:func:`random_tree` (seeded, valid by construction) is shared with the
reduced-form and sequence-form tests.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import reference_games_dir
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.equilibrium import regrets
from simulator.extensive.behavior import (
    behavior_regrets,
    subgame_regrets,
    verify_all_behavior,
    verify_behavior,
)
from simulator.extensive.reduced_form import reduced_strategic_form
from simulator.extensive.tree import ExtensiveGame, TreeBuilder


# ----------------------------------------------------------------- random trees
def random_tree(
    rng: np.random.Generator,
    players: int = 2,
    max_depth: int = 4,
    max_actions: int = 3,
    chance: float = 0.2,
    perfect_recall: bool = True,
    join: float = 0.7,
    payoff_range: int = 3,
) -> ExtensiveGame:
    """A random game tree with integer payoffs, valid by construction.

    Each node is terminal with a probability growing with depth (never the
    root), else a chance node (probability ``chance``; rational probabilities)
    or a decision node of a random player with 2 to ``max_actions`` actions.
    A decision node joins an existing information set of its player with
    probability ``join`` when one fits: same number of actions, not on the
    node's path, and (for ``perfect_recall``) the same own history, which is
    what perfect recall requires. Small payoff ranges make ties, hence
    degenerate games, common.
    """
    b = TreeBuilder([f"P{i + 1}" for i in range(players)])
    sets: dict[tuple[Any, ...], list[str]] = {}

    def build(
        depth: int, histories: tuple[tuple[tuple[str, int], ...], ...], path: frozenset[str]
    ) -> int:
        if depth >= max_depth or (depth > 0 and rng.random() < 0.15 + 0.15 * depth):
            pay = rng.integers(-payoff_range, payoff_range + 1, players)
            return b.terminal([int(v) for v in pay])
        k = int(rng.integers(2, max_actions + 1))
        if rng.random() < chance:
            weights = rng.integers(1, 4, k)
            node = b.chance(
                [f"c{a}" for a in range(k)],
                [Fraction(int(w), int(weights.sum())) for w in weights],
            )
            for a in range(k):
                b.connect(node, a, build(depth + 1, histories, path))
            return node
        player = int(rng.integers(players))
        key = (player, histories[player], k) if perfect_recall else (player, k)
        fitting = [s for s in sets.get(key, []) if s not in path]
        if fitting and rng.random() < join:
            name = fitting[int(rng.integers(len(fitting)))]
        else:
            name = f"s{sum(len(v) for v in sets.values()) + 1}"
            sets.setdefault(key, []).append(name)
        node = b.decision(player, [f"{name}{chr(97 + a)}" for a in range(k)], infoset=name)
        for a in range(k):
            own = list(histories)
            own[player] = (*own[player], (name, a))
            b.connect(node, a, build(depth + 1, tuple(own), path | {name}))
        return node

    root = build(0, tuple(() for _ in range(players)), frozenset())
    return b.build(root)


@st.composite
def trees(
    draw: st.DrawFn, players: int = 2, perfect_recall: bool = True, **kw: Any
) -> ExtensiveGame:
    """Random trees from :func:`random_tree` with a drawn seed."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return random_tree(rng, players=players, perfect_recall=perfect_recall, **kw)


def random_behavior(game: ExtensiveGame, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """A random behaviour profile: often pure at a set, sometimes with zeros, else mixed."""
    out = []
    for h in game.infosets:
        if h.probabilities is not None:
            out.append(np.array(h.probabilities))
            continue
        kind = rng.integers(3)
        if kind == 0:
            p = np.zeros(len(h.actions))
            p[rng.integers(len(h.actions))] = 1.0
        else:
            p = rng.random(len(h.actions))
            if kind == 1:
                p[rng.integers(len(h.actions))] = 0.0
            p = p / p.sum() if p.sum() > 0 else np.full(len(h.actions), 1 / len(h.actions))
        out.append(p)
    return tuple(out)


# ------------------------------------------------------------------ known games
def one_card_poker() -> ExtensiveGame:
    """Reiley, Urbancic and Walker (2008): Alice sees a red or black card, raises or
    folds; Bob, not seeing it, meets or passes. Unique equilibrium: Alice always
    raises on red and raises on black with probability 1/3; Bob meets with 2/3."""
    b = TreeBuilder(["Alice", "Bob"], title="One card poker")
    deal = b.chance(["Red", "Black"], [Fraction(1, 2), Fraction(1, 2)])
    for card, (win, lose) in enumerate([((2, -2), (1, -1)), ((-2, 2), (1, -1))]):
        alice = b.decision("Alice", ["Raise", "Fold"], infoset=["red", "black"][card])
        bob = b.decision("Bob", ["Meet", "Pass"], infoset="bob")
        b.connect(deal, card, alice)
        b.connect(alice, 0, bob)
        b.connect(alice, 1, b.terminal([-1, 1]))
        b.connect(bob, 0, b.terminal(list(win)))
        b.connect(bob, 1, b.terminal(list(lose)))
    return b.build(deal)


def poker_behavior(
    game: ExtensiveGame, red: Sequence[Any], black: Sequence[Any], bob: Sequence[Any]
) -> list[Any]:
    by_label = {"red": red, "black": black, "bob": bob}
    return [
        list(h.probabilities) if h.probabilities is not None else list(by_label[h.label])
        for h in game.infosets
    ]


def matching_pennies() -> ExtensiveGame:
    """Player 1 picks H or T; player 2 picks without seeing it (one information set)."""
    b = TreeBuilder(["P1", "P2"])
    root = b.decision("P1", ["H", "T"])
    for a in range(2):
        node = b.decision("P2", ["H", "T"], infoset="guess")
        b.connect(root, a, node)
        for c in range(2):
            b.connect(node, c, b.terminal([1, -1] if a == c else [-1, 1]))
    return b.build(root)


def entry_game() -> ExtensiveGame:
    """The entrant stays out (0, 2) or enters; the incumbent fights (-1, -1) or yields (1, 1)."""
    b = TreeBuilder(["Entrant", "Incumbent"])
    root = b.decision("Entrant", ["out", "in"])
    respond = b.decision("Incumbent", ["fight", "accommodate"])
    b.connect(root, 0, b.terminal([0, 2]))
    b.connect(root, 1, respond)
    b.connect(respond, 0, b.terminal([-1, -1]))
    b.connect(respond, 1, b.terminal([1, 1]))
    return b.build(root)


def forgetful_game() -> ExtensiveGame:
    """Player 1 moves, then moves again without remembering its first move."""
    b = TreeBuilder(["P1", "P2"])
    root = b.decision("P1", ["L", "R"])
    for a in range(2):
        node = b.decision("P1", ["l", "r"], infoset="forgot")
        b.connect(root, a, node)
        for c in range(2):
            b.connect(node, c, b.terminal([a + c, -a - c]))
    return b.build(root)


def test_one_card_poker_equilibrium_is_exact_and_has_zero_regret() -> None:
    game = one_card_poker()
    third = Fraction(1, 3)
    behavior = poker_behavior(game, [1, 0], [third, 1 - third], [1 - third, third])
    eq = verify_behavior(game, [np.array([float(p) for p in b]) for b in behavior])
    assert eq is not None
    assert eq.regret == (0.0, 0.0)
    assert eq.exact is not None
    assert [list(b) for b in eq.exact] == [[Fraction(p) for p in b] for b in behavior]
    assert eq.payoffs == pytest.approx((1 / 3, -1 / 3))
    assert eq.concept == "nash"


def test_one_card_poker_uniform_play_has_the_regrets_computed_by_hand() -> None:
    game = one_card_poker()
    # Uniform play. Alice on red: raise earns (2 + 1)/2 = 3/2, fold -1, so 1/4; on black:
    # raise (-2 + 1)/2 = -1/2, fold -1, so -3/4. She gets -1/4; raising on both earns
    # (3/2 - 1/2)/2 = 1/2: regret 3/4. Bob gets 1/4; meeting earns 1/4 (-2) + 1/4 (2) + 1/2 (1)
    # = 1/2 (red raise, black raise, fold): regret 1/4.
    assert behavior_regrets(game, game.uniform_behavior()) == pytest.approx([3 / 4, 1 / 4])


def test_matching_pennies_tree_regret_and_equilibrium() -> None:
    game = matching_pennies()
    pure = [np.array([1.0, 0.0]), np.array([0.0, 1.0])]  # P1 H, P2 T: P2 wins
    assert behavior_regrets(game, pure) == pytest.approx([2.0, 0.0])
    assert verify_behavior(game, pure) is None
    eq = verify_behavior(game, game.uniform_behavior())
    assert eq is not None and eq.exact is not None and eq.payoffs == (0.0, 0.0)


def test_incredible_threat_is_nash_but_not_subgame_perfect() -> None:
    game = entry_game()
    threat = [np.array([1.0, 0.0]), np.array([1.0, 0.0])]  # out; fight if in
    assert verify_behavior(game, threat, "nash") is not None
    assert verify_behavior(game, threat, "subgame_perfect") is None
    # The incumbent's subgame is unreached, and there fighting costs it 2.
    assert subgame_regrets(game, threat).tolist() == [[0.0, 0.0], [0.0, 2.0]]
    spe = verify_behavior(game, [np.array([0.0, 1.0]), np.array([0.0, 1.0])], "subgame_perfect")
    assert spe is not None and spe.concept == "subgame_perfect"
    assert [(m.mover, m.action) for m in spe.path] == [
        ("Entrant", "in"),
        ("Incumbent", "accommodate"),
    ]


def test_round_off_is_cleaned_and_chance_is_restored() -> None:
    game = one_card_poker()
    behavior = [
        np.array(b, dtype=float)
        for b in poker_behavior(game, [1 + 1e-13, -1e-13], [1 / 3, 2 / 3], [2 / 3, 1 / 3])
    ]
    eq = verify_behavior(game, behavior)
    assert eq is not None
    assert all(p.min() >= 0 and p.sum() == pytest.approx(1.0) for p in eq.behavior)
    assert verify_behavior(game, [np.array([0.5, 0.5])]) is None  # wrong length: not a profile
    assert verify_behavior(game, poker_behavior(game, [1.2, -0.2], [1, 0], [1, 0])) is None
    assert verify_behavior(game, poker_behavior(game, [2, 0], [1, 0], [1, 0])) is None
    wrong_chance = poker_behavior(game, [1, 0], [1 / 3, 2 / 3], [2 / 3, 1 / 3])
    wrong_chance[0] = [0.6, 0.4]
    assert verify_behavior(game, wrong_chance) is None


def test_imperfect_recall_is_refused_with_the_reason() -> None:
    game = forgetful_game()
    with pytest.raises(ValueError, match="perfect recall"):
        behavior_regrets(game, game.uniform_behavior())
    with pytest.raises(ValueError, match="reduced strategic form"):
        verify_behavior(game, game.uniform_behavior())


def test_verify_all_behavior_drops_duplicates_and_counts_rejections() -> None:
    game = matching_pennies()
    uniform = game.uniform_behavior()
    pure = [np.array([1.0, 0.0]), np.array([0.0, 1.0])]
    found, rejected = verify_all_behavior(game, [uniform, pure, [p + 0.0 for p in uniform]])
    assert len(found) == 1 and rejected == 1


@settings(max_examples=40, deadline=None)
@given(trees(players=2), st.integers(0, 2**32 - 1))
def test_behavior_regret_equals_reduced_form_regret(game: ExtensiveGame, seed: int) -> None:
    """Kuhn (1953): under perfect recall a behaviour profile and its mixed counterpart
    have the same payoffs against every strategy, so their regrets agree."""
    rf = reduced_strategic_form(game)
    behavior = random_behavior(game, np.random.default_rng(seed))
    mixed = rf.from_behavior(behavior)
    expected = regrets(rf.strategic, mixed)
    assert behavior_regrets(game, behavior) == pytest.approx(expected, abs=1e-9)
    roots = game.subgame_roots()
    assert roots[0] == 0
    assert subgame_regrets(game, behavior)[0] == pytest.approx(expected, abs=1e-9)


@settings(max_examples=15, deadline=None)
@given(trees(players=3, max_depth=3), st.integers(0, 2**32 - 1))
def test_three_player_regret_equals_reduced_form_regret(game: ExtensiveGame, seed: int) -> None:
    rf = reduced_strategic_form(game)
    behavior = random_behavior(game, np.random.default_rng(seed))
    expected = regrets(rf.strategic, rf.from_behavior(behavior))
    assert behavior_regrets(game, behavior) == pytest.approx(expected, abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(trees(players=2), st.integers(0, 2**32 - 1))
def test_subgame_regret_equals_regret_of_the_subgame_as_a_game(
    game: ExtensiveGame, seed: int
) -> None:
    """The regret in the subgame at node r is the regret of the tree cut at r."""
    behavior = random_behavior(game, np.random.default_rng(seed))
    table = subgame_regrets(game, behavior)
    for row, root in zip(table, game.subgame_roots(), strict=True):
        sub, sub_behavior = _cut(game, root, behavior)
        assert row == pytest.approx(behavior_regrets(sub, sub_behavior), abs=1e-9)


def _cut(
    game: ExtensiveGame, root: int, behavior: Sequence[np.ndarray]
) -> tuple[ExtensiveGame, list[np.ndarray]]:
    """The subtree at ``root`` as a game of its own, with ``behavior`` restricted to it."""
    b = TreeBuilder(game.players)
    handle: dict[int, int] = {}
    for v in game.subtree(root):
        node = game.nodes[v]
        if node.is_terminal:
            handle[v] = b.terminal(list(game.exact_terminal_payoffs[game.terminals.index(v)]))  # type: ignore[index]
            continue
        h = game.infosets[node.infoset]  # type: ignore[index]
        if h.player is None:
            handle[v] = b.chance(
                list(h.actions), list(h.exact_probabilities or h.probabilities or ())
            )
        else:
            handle[v] = b.decision(h.player, list(h.actions), infoset=f"h{h.index}")
    for v in game.subtree(root):
        for a, child in enumerate(game.nodes[v].children):
            b.connect(handle[v], a, handle[child])
    sub = b.build(handle[root])
    out = []
    for h in sub.infosets:
        if h.player is None:
            out.append(np.array(h.probabilities))
        else:
            out.append(np.asarray(behavior[int(h.label[1:])]))
    return sub, out


# -------------------------------------------------------------- reference games
def reference_efg_files() -> list[Any]:
    """Two-player perfect-recall ``.efg`` reference files (per answers.json) as pytest params.

    One skipped parameter when the reference folder is absent.
    """
    folder = reference_games_dir()
    if folder is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason="reference games not found"))]
    answers = reference_answers()
    return [
        pytest.param(path, id=path.name)
        for path in sorted((folder / "games").glob("*.efg"))
        if answers.get(path.name, {}).get("players") == 2
        and answers[path.name].get("tree", {}).get("is_perfect_recall")
    ]


@cache
def reference_answers() -> dict[str, Any]:
    folder = reference_games_dir()
    if folder is None:
        return {}
    with open(folder / "answers.json", encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def read_reference(path: Path) -> ExtensiveGame:
    """The tree in ``path``, read by negsim's ``.efg`` reader (skips if it is not there yet)."""
    efg = pytest.importorskip("simulator.formats.efg")
    game: ExtensiveGame = efg.read_efg(path)
    return game


def _gambit_behavior(game: ExtensiveGame, answer: dict[str, Any]) -> list[np.ndarray] | None:
    """A Gambit behaviour answer as our profile, or ``None`` when its labels collapsed.

    answers.json names a set ``"<index within player>:<label>"``; Gambit numbers
    a player's sets in order of first appearance in the file, as our reader does.
    """
    out = []
    for h in game.infosets:
        if h.player is None:
            out.append(np.array(h.probabilities))
            continue
        sets = answer[game.players[h.player]]
        key = next((k for k in sets if int(k.split(":", 1)[0]) == h.number - 1), None)
        if key is None or len(sets[key]) != len(h.actions):
            return None
        out.append(np.array([float(Fraction(p)) for p in sets[key].values()]))
    return out


@pytest.mark.parametrize("path", reference_efg_files())
def test_gambit_sequence_form_equilibria_pass_our_verifier(path: Path) -> None:
    """Gambit's lcp answers are exact equilibria: our verifier must accept every one."""
    lcp = reference_answers()[path.name].get("behavior_equilibria", {}).get("lcp")
    if not lcp or not lcp.get("equilibria"):
        pytest.skip(f"{path.name}: answers.json has no lcp equilibrium")
    game = read_reference(path)
    checked = 0
    for answer in lcp["equilibria"][:20]:
        behavior = _gambit_behavior(game, answer)
        if behavior is None:
            continue
        eq = verify_behavior(game, behavior)
        assert eq is not None, f"{path.name}: Gambit's lcp equilibrium fails our verifier"
        assert eq.payoffs == pytest.approx(
            [float(Fraction(v)) for v in lcp["expected_payoffs"][checked]], abs=1e-9
        )
        checked += 1
    if checked == 0:
        pytest.skip(f"{path.name}: action labels collapse in answers.json")
