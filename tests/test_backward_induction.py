"""Backward induction: every pure subgame-perfect equilibrium of perfect-information trees.

Known answers (centipede, entry deterrence, a tie that changes the play above it,
chance), brute force on random trees (the same set of equilibria, and zero
regret in the reduced strategic form), and Gambit's answers on the reference
games.
"""

from __future__ import annotations

import doctest
import itertools
import json
import os
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulator.extensive.backward_induction as bi_module
from simulator.errors import InputError
from simulator.extensive.backward_induction import (
    SCOPE,
    backward_induction,
    count_subgame_perfect,
)
from simulator.extensive.behavior import verify_behavior
from simulator.extensive.reduced_form import reduced_strategic_form
from simulator.extensive.results import SequentialResult
from simulator.extensive.tree import ExtensiveGame, TreeBuilder
from simulator.formats.efg import parse_efg, read_efg

Choice = tuple[int, ...]
"""A pure profile of a perfect-information game: the action at each player's set, in order."""


def choices(game: ExtensiveGame, result: SequentialResult) -> list[Choice]:
    out = []
    for eq in result.equilibria:
        assert eq.concept == "subgame_perfect"
        moves = [b for h, b in zip(game.infosets, eq.behavior, strict=True) if h.player is not None]
        # Pure at every player's set (BehaviorEquilibrium.is_pure also counts chance sets).
        assert all(sorted(b.tolist()) == [0.0] * (len(b) - 1) + [1.0] for b in moves)
        out.append(tuple(int(np.argmax(b)) for b in moves))
    return out


def pure_behavior(game: ExtensiveGame, choice: Choice) -> list[np.ndarray]:
    behavior = []
    moves = iter(choice)
    for h in game.infosets:
        if h.player is None:
            behavior.append(np.array(h.probabilities))
        else:
            p = np.zeros(len(h.actions))
            p[next(moves)] = 1.0
            behavior.append(p)
    return behavior


def path_words(result: SequentialResult, k: int = 0) -> list[tuple[str, str]]:
    return [(m.mover, m.action) for m in result.equilibria[k].path]


# ------------------------------------------------------------ known answers
def centipede(stages: int) -> ExtensiveGame:
    """Rosenthal's (1981) centipede: the pot doubles at each pass; taking ends the game."""
    builder = TreeBuilder(["Ann", "Bob"], title="centipede")

    def taken(k: int) -> list[int]:
        # Whoever takes at stage k gets 4 * 2**k, the other 2**k: more for both later,
        # but each mover gets more now than after the other takes next.
        big, small = 4 * 2**k, 2**k
        return [big, small] if k % 2 == 0 else [small, big]

    nodes = []
    for k in range(stages):
        node = builder.decision(k % 2, ["take", "pass"], label=f"stage {k + 1}")
        builder.connect(node, 0, builder.terminal(taken(k)))
        nodes.append(node)
    for node, following in itertools.pairwise(nodes):
        builder.connect(node, 1, following)
    builder.connect(nodes[-1], 1, builder.terminal(taken(stages)))  # the end: as if taken
    return builder.build(nodes[0])


def test_centipede_takes_at_once() -> None:
    game = centipede(6)
    result = backward_induction(game)
    assert result.method == "backward-induction" and result.scope == SCOPE
    assert result.complete and len(result) == 1
    assert choices(game, result) == [(0,) * 6]  # take everywhere, on and off the path
    assert path_words(result) == [("Ann", "take")]
    assert result.equilibria[0].payoffs == (4.0, 1.0)
    assert result.equilibria[0].regret == (0.0, 0.0)


def entry_deterrence() -> ExtensiveGame:
    builder = TreeBuilder(["Entrant", "Incumbent"], title="entry deterrence")
    root = builder.decision("Entrant", ["in", "out"])
    reply = builder.decision("Incumbent", ["fight", "accommodate"])
    builder.connect(root, 0, reply)
    builder.connect(root, 1, builder.terminal([0, 2]))
    builder.connect(reply, 0, builder.terminal([-1, -1]))
    builder.connect(reply, 1, builder.terminal([1, 1]))
    return builder.build(root)


def test_entry_deterrence_threat_is_not_credible() -> None:
    game = entry_deterrence()
    result = backward_induction(game)
    assert choices(game, result) == [(0, 1)]  # in, accommodate
    assert path_words(result) == [("Entrant", "in"), ("Incumbent", "accommodate")]
    # (out, fight) is a Nash equilibrium (fighting is off the path) but not subgame perfect.
    threat = pure_behavior(game, (1, 0))
    assert verify_behavior(game, threat, "nash") is not None
    assert verify_behavior(game, threat, "subgame_perfect") is None


def tie_above() -> ExtensiveGame:
    """Bob is indifferent; which tied action he takes decides what Ann does first."""
    builder = TreeBuilder(["Ann", "Bob"])
    root = builder.decision("Ann", ["safe", "risky"])
    bob = builder.decision("Bob", ["reward", "punish"])
    builder.connect(root, 0, builder.terminal([1, 0]))
    builder.connect(root, 1, bob)
    builder.connect(bob, 0, builder.terminal([3, 5]))
    builder.connect(bob, 1, builder.terminal([0, 5]))
    return builder.build(root)


def test_a_tie_gives_exactly_two_equilibria_with_different_play() -> None:
    game = tie_above()
    result = backward_induction(game)
    assert result.complete and len(result) == 2
    assert sorted(choices(game, result)) == [(0, 1), (1, 0)]  # (safe, punish), (risky, reward)
    assert sorted(eq.payoffs for eq in result.equilibria) == [(1.0, 0.0), (3.0, 5.0)]
    assert any("mixing among tied actions" in note for note in result.notes)
    assert any("exactly" in note for note in result.notes)
    # Not a product of local ties: (risky, punish) and (safe, reward) are not equilibria.
    for choice in [(1, 1), (0, 0)]:
        assert verify_behavior(game, pure_behavior(game, choice), "subgame_perfect") is None


def test_chance_moves_are_averaged_exactly() -> None:
    game = parse_efg(
        """EFG 2 R "market" { "Firm" "Rival" }
c "" 1 "demand" { "high" 1/3 "low" 2/3 } 0
p "" 1 1 "invest when high?" { "invest" "wait" } 0
p "" 2 1 "follow?" { "follow" "stay" } 0
t "" 1 "" { 3, 1 }
t "" 2 "" { 4, 0 }
t "" 3 "" { 2, 0 }
p "" 1 2 "invest when low?" { "invest" "wait" } 0
t "" 4 "" { -1, 0 }
t "" 5 "" { 0, 0 }
"""
    )
    result = backward_induction(game)
    assert choices(game, result) == [(0, 0, 1)]  # invest when high, wait when low; rival follows
    eq = result.equilibria[0]
    assert eq.exact is not None
    assert eq.payoffs == pytest.approx((1, 1 / 3))
    assert [m.action for m in eq.path] == ["high", "low", "invest", "follow", "wait"]
    assert [m.probability for m in eq.path] == pytest.approx([1 / 3, 2 / 3, 1 / 3, 1 / 3, 2 / 3])


def test_refuses_imperfect_information_naming_the_set() -> None:
    game = parse_efg(
        'EFG 2 R "" { "A" "B" }\n'
        'p "" 1 1 "" { "l" "r" } 0\n'
        'p "" 2 1 "guess" { "L" "R" } 0\nt "" 1 "" { 1 1 }\nt "" 2 "" { 0 0 }\n'
        'p "" 2 1 0\nt "" 3 "" { 0 0 }\nt "" 4 "" { 1 1 }\n'
    )
    with pytest.raises(ValueError, match=r"B's information set 'guess' has nodes \[1, 4\]"):
        backward_induction(game)


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="max_equilibria must be >= 1"):
        backward_induction(entry_deterrence(), max_equilibria=0)
    with pytest.raises(TypeError, match="max_equilibria must be an integer"):
        backward_induction(entry_deterrence(), max_equilibria=2.5)  # type: ignore[arg-type]


def indifferent_chain(k: int) -> ExtensiveGame:
    """A chance node over ``k`` one-player decisions, each between two equal payoffs."""
    builder = TreeBuilder(["Solo"])
    root = builder.chance([f"c{j}" for j in range(k)], [Fraction(1, k)] * k)
    for j in range(k):
        node = builder.decision("Solo", ["a", "b"], label=f"d{j}")
        builder.connect(root, j, node)
        builder.connect(node, 0, builder.terminal([j]))
        builder.connect(node, 1, builder.terminal([j]))
    return builder.build(root)


def test_stops_at_max_equilibria_and_says_how_many() -> None:
    game = indifferent_chain(12)
    assert count_subgame_perfect(game) == 2**12
    result = backward_induction(game, max_equilibria=5)
    assert len(result) == 5 and not result.complete
    assert len(set(choices(game, result))) == 5
    assert any("there are 4,096 pure subgame-perfect equilibria" in n for n in result.notes)
    assert dict(result.options) == {"max_equilibria": 5}
    full = backward_induction(indifferent_chain(6))
    assert full.complete and len(full) == 64 == len(set(choices(full.game, full)))


def test_float_payoffs_tie_within_the_tolerance() -> None:
    builder = TreeBuilder(["A"])
    root = builder.decision("A", ["x", "y", "z"])
    builder.connect(root, 0, builder.terminal([1.0]))
    builder.connect(root, 1, builder.terminal([1.0 + 1e-13]))
    builder.connect(root, 2, builder.terminal([0.0]))
    game = builder.build(root)
    result = backward_induction(game)
    assert sorted(choices(game, result)) == [(0,), (1,)]
    assert any("floating point" in note for note in result.notes)
    assert result.equilibria[0].exact is None


def test_a_lone_terminal_node_has_one_equilibrium() -> None:
    game = parse_efg('EFG 2 R "" { "A" } t "" 1 "" { 3 }')
    result = backward_induction(game)
    assert result.complete and len(result) == 1 and result.equilibria[0].payoffs == (3.0,)


def test_module_docstring_examples() -> None:
    assert doctest.testmod(bi_module).failed == 0


# ------------------------------------------------------------- brute force
@st.composite
def perfect_information_trees(draw: st.DrawFn) -> ExtensiveGame:
    """A small random tree of perfect information, with chance and many payoff ties."""
    n = draw(st.integers(1, 3))
    builder = TreeBuilder([f"P{i}" for i in range(n)])
    budget = [draw(st.integers(1, 7))]

    def node(depth: int) -> int:
        kind = draw(st.sampled_from(["terminal", "decision", "decision", "chance"]))
        if budget[0] <= 0 or depth >= 4:
            kind = "terminal"
        if kind == "terminal":
            return builder.terminal([draw(st.integers(0, 2)) for _ in range(n)])
        budget[0] -= 1
        k = draw(st.integers(1, 3))
        actions = [f"a{j}" for j in range(k)]
        if kind == "chance":
            weights = [draw(st.integers(1, 3)) for _ in range(k)]
            handle = builder.chance(actions, [Fraction(w, sum(weights)) for w in weights])
        else:
            handle = builder.decision(draw(st.integers(0, n - 1)), actions)
        for a in range(k):
            builder.connect(handle, a, node(depth + 1))
        return handle

    return builder.build(node(0))


def brute_force(game: ExtensiveGame) -> set[Choice]:
    """Every pure profile that is optimal at every decision node, by trying them all."""
    assert game.exact_terminal_payoffs is not None
    decision = [h for h in game.infosets if h.player is not None]
    rows = {t: k for k, t in enumerate(game.terminals)}
    found = set()
    for choice in itertools.product(*[range(len(h.actions)) for h in decision]):
        action = {h.nodes[0]: a for h, a in zip(decision, choice, strict=True)}
        value: dict[int, tuple[Fraction, ...]] = {}
        optimal = True
        for v in reversed(range(len(game.nodes))):
            node = game.nodes[v]
            if node.is_terminal:
                value[v] = tuple(game.exact_terminal_payoffs[rows[v]])
                continue
            h = game.infosets[node.infoset]  # type: ignore[index]
            kids = [value[c] for c in node.children]
            if h.player is None:
                assert h.exact_probabilities is not None
                value[v] = tuple(
                    sum(p * w[i] for p, w in zip(h.exact_probabilities, kids, strict=True))
                    for i in range(game.n_players)
                )
            else:
                value[v] = kids[action[v]]
                optimal = optimal and value[v][h.player] == max(w[h.player] for w in kids)
        if optimal:
            found.add(choice)
    return found


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(game=perfect_information_trees())
def test_all_equilibria_and_only_them_as_brute_force_finds(game: ExtensiveGame) -> None:
    expected = brute_force(game)
    assert count_subgame_perfect(game) == len(expected)
    result = backward_induction(game)
    found = choices(game, result)
    assert len(found) == len(set(found))  # none listed twice
    assert set(found) == expected
    assert result.complete and result.rejected == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(game=perfect_information_trees())
def test_equilibria_have_zero_regret_in_the_reduced_strategic_form(game: ExtensiveGame) -> None:
    result = backward_induction(game, max_equilibria=50)
    form = reduced_strategic_form(game)
    strategic = form.strategic
    assert strategic.exact_payoffs is not None
    for eq in result.equilibria:
        mixed = form.from_behavior(eq.behavior)
        profile = tuple(int(np.argmax(p)) for p in mixed)
        assert all(p[k] == 1.0 for p, k in zip(mixed, profile, strict=True))
        for i in range(game.n_players):
            # Player i's payoffs against the others' plans, exactly: none beats the plan.
            others = list(profile)
            others[i] = slice(None)
            deviations = strategic.exact_payoffs[i][tuple(others)]
            assert max(deviations) == deviations[profile[i]]
        assert eq.payoffs == pytest.approx(
            [float(strategic.exact_payoffs[i][profile]) for i in range(game.n_players)]
        )


# --------------------------------------------------------- reference games
def reference_folder() -> Path | None:
    configured = os.environ.get("NEGSIM_REFERENCE_GAMES")
    folder = (
        Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared" / "games"
    )
    return folder if (folder / "games").is_dir() and (folder / "answers.json").is_file() else None


def perfect_information_files() -> list[Path]:
    folder = reference_folder()
    if folder is None:
        return []
    out = []
    for path in sorted((folder / "games").glob("*.efg")):
        try:
            game = read_efg(path)
        except InputError:
            continue  # absent-minded files: see tests/test_efg.py
        if game.is_perfect_information:
            out.append(path)
    return out


PI_FILES = perfect_information_files()
MISSING = "reference games not found: set NEGSIM_REFERENCE_GAMES or clone next to shared/games"
reference_files = pytest.mark.parametrize(
    "path",
    PI_FILES or [pytest.param(None, marks=pytest.mark.skip(reason=MISSING))],
    ids=[p.name for p in PI_FILES] or ["no-reference-games"],
)

# logit stops at a finite lambda: its "pure" answers are within this of 0 or 1.
LOGIT_PURE = 1e-4
# A logit answer is trusted when its regret relative to the payoff spread is below this.
LOGIT_TRUSTED = 1e-6
# ttt.efg has 188,779,163,811,840 pure subgame-perfect equilibria; listing a few is enough.
LARGE = {"ttt.efg": 20}


@cache
def answers() -> dict[str, Any]:
    folder = reference_folder()
    assert folder is not None
    with open(folder / "answers.json", encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def gambit_profile(game: ExtensiveGame, listed: dict[str, Any]) -> list[np.ndarray]:
    """A behaviour profile from answers.json: ``{player: {'idx:label': {action: p}}}``."""
    behavior = []
    for h in game.infosets:
        if h.player is None:
            behavior.append(np.array(h.probabilities))
            continue
        sets = listed[game.players[h.player]]
        (key,) = [k for k in sets if k.split(":", 1)[0] == str(h.number - 1)]
        assert len(sets[key]) == len(h.actions)
        behavior.append(np.array([float(Fraction(p)) for p in sets[key].values()]))
    return behavior


def as_choice(game: ExtensiveGame, behavior: list[np.ndarray]) -> Choice:
    return tuple(
        int(np.argmax(b))
        for h, b in zip(game.infosets, behavior, strict=True)
        if h.player is not None
    )


@pytest.mark.reference
@reference_files
def test_reference_games_agree_with_gambit(path: Path) -> None:
    """Our SPE = Gambit's pure agent-form equilibria that are subgame perfect; logit's is ours."""
    game = read_efg(path)
    limit = LARGE.get(path.name, 10_000)
    result = backward_induction(game, max_equilibria=limit)
    ours = choices(game, result)
    assert len(ours) == len(set(ours)) and result.rejected == 0
    total = count_subgame_perfect(game)
    assert result.complete == (total <= limit) and len(ours) == min(total, limit)
    assert all(eq.max_regret == 0.0 and eq.exact is not None for eq in result.equilibria)
    answer = answers()[path.name]
    listed = answer.get("behavior_equilibria", {})
    agent = listed.get("enumpure_agent")
    if agent is not None:
        theirs = set()
        for profile in agent["equilibria"]:
            behavior = gambit_profile(game, profile)
            if verify_behavior(game, behavior, "subgame_perfect") is not None:
                theirs.add(as_choice(game, behavior))
        if agent["truncated_to_first_100"]:
            assert theirs <= set(ours)  # Gambit lists only its first 100
        else:
            assert theirs == set(ours)
    logit = listed.get("logit")
    if logit is not None and answer["logit_relative_regret"] <= LOGIT_TRUSTED:
        behavior = gambit_profile(game, logit["equilibria"][0])
        if all(np.abs(b - np.round(b)).max() <= LOGIT_PURE for b in behavior):
            assert as_choice(game, behavior) in set(ours)
    if agent is None and logit is None:
        pytest.skip(f"Gambit timed out on {path.name}: {answer['timeouts']}")


@pytest.mark.reference
def test_reference_games_are_found() -> None:
    if reference_folder() is None:
        pytest.skip(MISSING)
    assert len(PI_FILES) == 35  # of the 187 reference trees negsim reads
