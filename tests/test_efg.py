"""Gambit .efg files: the tree the reader builds, exact numbers, labels, errors for
people, the writer's round trip, and the reference files against Gambit's answers.
"""

from __future__ import annotations

import dataclasses
import doctest
import json
import os
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulator.formats.efg as efg_module
from simulator.errors import InputError
from simulator.extensive.tree import ExtensiveGame, TreeBuilder
from simulator.formats.efg import (
    parse_efg,
    parse_efg_document,
    read_efg,
    read_efg_document,
    save_efg,
    write_efg,
)


def reference_folder() -> Path | None:
    configured = os.environ.get("NEGSIM_REFERENCE_GAMES")
    folder = (
        Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared" / "games"
    )
    return folder if (folder / "games").is_dir() and (folder / "answers.json").is_file() else None


REFERENCE = reference_folder()
REFERENCE_FILES = sorted((REFERENCE / "games").glob("*.efg")) if REFERENCE else []
MISSING = "reference games not found: set NEGSIM_REFERENCE_GAMES or clone next to shared/games"
reference_files = pytest.mark.parametrize(
    "path",
    REFERENCE_FILES or [pytest.param(None, marks=pytest.mark.skip(reason=MISSING))],
    ids=[p.name for p in REFERENCE_FILES] or ["no-reference-games"],
)

# Files that negsim refuses, all for one reason: a player meets one of its
# information sets twice on a path (absent-mindedness), which negsim's trees do
# not represent. Gambit reads them but refuses to solve them (imperfect recall).
ABSENT_MINDED = {
    "AM-driver-one-infoset.efg",
    "AM-driver-subgame.efg",
    "AM-subgames.efg",
    "AM-unary-branches.efg",
    "AM-unary-hops.efg",
    "fig5_12.efg",
    "geb-gilboa1997__fig1.efg",
    "holdout.efg",
    "noPR-AM-driver-one-player.efg",
    "noPR-AM-driver-two-players.efg",
    "noPR-action-AM-three-chain.efg",
    "noPR-action-AM-two-hops.efg",
    "noPR-action-AM.efg",
    "noPR-action-AM2.efg",
    "not_perfect_recall.efg",
}

# Gambit's logit answers are floats; a check on their payoffs, not on us.
FLOAT_ANSWER_RTOL = 1e-6


# ------------------------------------------------------------------ reading
def test_reads_structure_labels_and_exact_numbers() -> None:
    # Bob's set 1 is described at its first node and only named at its second.
    text = """EFG 2 R "Bayes, two stages" { "Ann" "Bob" }
"stage payoffs add up"

c "root" 1 "nature" { "good" 1/4 "bad" 0.75 } 0
p "a1" 1 1 "Ann knows good" { "H" "L" } 1 "bonus" { 1/2, 0 }
t "end1" 2 "win" { 10, 2 }
p "b" 2 1 "Bob guesses" { "h" "l" } 0
t "" 2
t "" 3 "lose" { 0, 10 }
p "a2" 1 2 "Ann knows bad" { "H" "L" } 0
p "" 2 1 0
t "" 2
t "" 0
t "" 1
"""
    document = parse_efg_document(text)
    game = document.game
    assert document.comment == "stage payoffs add up"
    assert game.title == "Bayes, two stages"
    assert game.players == ("Ann", "Bob")
    assert [n.kind for n in game.nodes] == [
        "chance",
        "decision",
        "terminal",
        "decision",
        "terminal",
        "terminal",
        "decision",
        "decision",
        "terminal",
        "terminal",
        "terminal",
    ]
    assert [n.label for n in game.nodes[:4]] == ["root", "a1", "end1", "b"]
    chance = game.infosets[game.root.infoset]  # type: ignore[index]
    assert chance.player is None and chance.label == "nature"
    assert chance.exact_probabilities == (Fraction(1, 4), Fraction(3, 4))
    bob = game.player_infosets(1)
    assert len(bob) == 1 and bob[0].label == "Bob guesses" and bob[0].nodes == (3, 7)
    assert [h.label for h in game.player_infosets(0)] == ["Ann knows good", "Ann knows bad"]
    # Outcome "bonus" at Ann's first node adds to every terminal below it.
    assert game.exact_terminal_payoffs == (
        (Fraction(21, 2), Fraction(2)),
        (Fraction(21, 2), Fraction(2)),
        (Fraction(1, 2), Fraction(10)),
        (Fraction(10), Fraction(2)),
        (Fraction(0), Fraction(0)),
        (Fraction(1, 2), Fraction(0)),
    )
    assert [game.nodes[t].outcome for t in game.terminals] == [
        "win",
        "win",
        "lose",
        "win",
        "",
        "bonus",
    ]
    assert game.terminal_payoffs.dtype == float
    assert game.terminal_payoffs[0].tolist() == [10.5, 2.0]


def test_infoset_numbers_follow_first_appearance() -> None:
    game = parse_efg(
        'EFG 2 R "" { "A" "B" }\n'
        'p "" 1 7 "late" { "x" "y" } 0\n'
        'p "" 2 3 "" { "u" } 0\n'
        't "" 1 "" { 1 2 }\n'
        'p "" 1 2 "early" { "a" "b" } 0\n'
        't "" 2 "" { 3 4 }\n'
        't "" 3 "" { 5 6 }\n'
    )
    assert [(h.label, h.number) for h in game.player_infosets(0)] == [("late", 1), ("early", 2)]
    assert game.player_infosets(1)[0].name == "1"  # unlabelled: named by its number


def test_decimal_probabilities_that_miss_one_are_kept_as_floats() -> None:
    text = (
        'EFG 2 R "" { "A" }\n'
        'c "" 1 "" { "a" 0.3333333333 "b" 0.3333333333 "c" 0.3333333334 } 0\n'
        't "" 1 "" { 1 }\nt "" 2 "" { 2 }\nt "" 3 "" { 3 }\n'
    )
    exact = parse_efg_document(text)
    assert exact.notes == ()
    assert exact.game.infosets[0].exact_probabilities is not None
    inexact = parse_efg_document(text.replace("0.3333333334", "0.33333333335"))
    assert "used as floating-point numbers" in inexact.notes[0]
    h = inexact.game.infosets[0]
    assert h.exact_probabilities is None
    assert h.probabilities == (0.3333333333, 0.3333333333, 0.33333333335)


def test_repeated_labels_become_unambiguous_and_say_so() -> None:
    document = parse_efg_document(
        'EFG 2 R "" { "P" "P" }\n'
        'p "same" 1 1 "s" { "go" "go" } 0\n'
        'p "same" 2 1 "2" { "" "" } 0\n'
        't "same" 1 "o" { 1 1 }\n'
        'p "" 1 2 "s" { "a" } 0\n'
        'p "" 1 3 "" { "a" } 0\n'
        't "" 2 "o" { 2 2 }\n'
        't "" 3 "o" { 3 3 }\n'
    )
    game = document.game
    assert game.players == ("P_1", "P_2")
    first, second = game.player_infosets(0)[:2]
    assert first.actions == ("go_1", "go_2")
    assert (first.label, second.label) == ("s_1", "s_2")
    third = game.player_infosets(0)[2]
    assert third.label == "" and third.name == "3"
    bob = game.player_infosets(1)[0]
    assert bob.actions == ("1", "2")
    assert bob.label == "2"  # the number 2 is not a name taken by Bob's own sets
    assert [n.label for n in game.nodes[:3]] == ["same", "same", "same"]  # kept as they are
    assert len(document.notes) == 8


def test_an_unlabelled_set_keeps_its_number_free() -> None:
    document = parse_efg_document(
        'EFG 2 R "" { "A" }\n'
        'p "" 1 1 "" { "x" "y" } 0\n'
        'p "" 1 2 "1" { "u" } 0\n'
        't "" 1 "" { 1 }\n'
        't "" 2 "" { 2 }\n'
    )
    sets = document.game.player_infosets(0)
    assert [h.name for h in sets] == ["1", "1_1"]
    assert "has as its label the number" in document.notes[0]


def test_chance_event_shared_by_several_nodes_becomes_one_set_per_node() -> None:
    game = parse_efg(
        'EFG 2 R "" { "A" }\n'
        'p "" 1 1 "" { "x" "y" } 0\n'
        'c "" 1 "coin" { "h" 1/2 "t" 1/2 } 0\n'
        't "" 1 "" { 1 }\nt "" 2 "" { 2 }\n'
        'c "" 1 0\n'
        't "" 3 "" { 3 }\nt "" 4 "" { 4 }\n'
    )
    chance = game.chance_infosets
    assert [h.nodes for h in chance] == [(1,), (4,)]
    assert [h.label for h in chance] == ["coin", "coin"]
    assert [h.number for h in chance] == [1, 2]
    # Written back as one event, as in the file (Gambit wants chance labels unique).
    assert write_efg(game).count('c "" 1 "coin" { "h" 1/2 "t" 1/2 } 0') == 2


def test_one_player_games_and_a_lone_terminal() -> None:
    game = parse_efg('EFG 2 R "solo" { "Me" } t "" 1 "only" { 5 }')
    assert game.players == ("Me",) and len(game.nodes) == 1
    assert game.terminal_payoffs.tolist() == [[5.0]]
    assert parse_efg(write_efg(game)).terminal_payoffs.tolist() == [[5.0]]


# ------------------------------------------------------------------- errors
GOOD_HEAD = 'EFG 2 R "g" { "A" "B" }\n'
ERRORS = [
    ("empty", "", 1, "header", "the file is empty"),
    ("nfg", 'NFG 1 R "g" { "A" } { 2 }\n1 2', 1, "header", "strategic-form"),
    ("version", 'EFG 1 R "g" { "A" }', 1, "header", "format version '2'"),
    ("no nodes", GOOD_HEAD, 1, "node", "no nodes"),
    ("node kind", GOOD_HEAD + 'x "" 1 1 "" { "a" } 0', 2, "node", "'p' (personal)"),
    ("player", GOOD_HEAD + 'p "" 3 1 "" { "a" } 0\nt "" 0', 2, "player", "player 3 does not"),
    (
        "first use undescribed",
        GOOD_HEAD + 'p "" 1 1 0\nt "" 0',
        2,
        "infoset",
        "for the first time without its label and actions",
    ),
    (
        "outcome undescribed",
        GOOD_HEAD + 'p "" 1 1 "" { "a" } 0\nt "" 4',
        3,
        "outcome",
        "outcome 4 appears here for the first time",
    ),
    (
        "repeat differs",
        GOOD_HEAD + 'p "" 1 1 "" { "a" "b" } 0\np "" 2 1 "" { "c" } 0\nt "" 0\n'
        'p "" 2 1 "" { "d" } 0\nt "" 0',
        5,
        "infoset",
        "described differently on line 3",
    ),
    (
        "outcome differs",
        GOOD_HEAD + 'p "" 1 1 "" { "a" "b" } 0\nt "" 1 "o" { 1 2 }\nt "" 1 "o" { 1 3 }',
        4,
        "outcome",
        "outcome 1 is described differently on line 3",
    ),
    (
        "payoff count",
        GOOD_HEAD + 'p "" 1 1 "" { "a" } 0\nt "" 1 "o" { 1 2 3 }',
        3,
        "payoffs",
        "outcome 1 gives 3 payoffs; expected one for each of the 2 players",
    ),
    (
        "too few payoffs",
        GOOD_HEAD + 'p "" 1 1 "" { "a" } 0\nt "" 1 "o" { 1 }',
        3,
        "payoffs",
        "gives 1 payoffs; expected one for each of the 2",
    ),
    (
        "outcome zero named",
        GOOD_HEAD + 't "" 0 "o" { 1 2 }',
        2,
        "outcome",
        "outcome 0 means no outcome",
    ),
    (
        "cut short",
        GOOD_HEAD + 'p "" 1 1 "" { "a" "b" } 0\nt "" 0',
        2,
        "node",
        "action 'b' of this node has no node after it",
    ),
    (
        "goes on",
        GOOD_HEAD + 't "" 0\nt "" 0',
        3,
        "node",
        "the tree is complete",
    ),
    (
        "probability word",
        GOOD_HEAD + 'c "" 1 "" { "a" half "b" 1/2 } 0\nt "" 0\nt "" 0',
        2,
        "probabilities",
        "the probability of action 'a' (a number)",
    ),
    (
        "probability sum",
        GOOD_HEAD + 'c "" 1 "" { "a" 1/2 "b" 1/3 } 0\nt "" 0\nt "" 0',
        2,
        "probabilities",
        "sum to 0.833333, not 1",
    ),
    (
        "zero denominator",
        GOOD_HEAD + 'c "" 1 "" { "a" 1/0 } 0\nt "" 0',
        2,
        "probabilities",
        "denominator zero",
    ),
    (
        "open string",
        GOOD_HEAD + 'p "" 1 1 "oops { "a" } 0\nt "" 0',
        2,
        "actions",
        "",
    ),
    (
        "empty actions",
        GOOD_HEAD + 'p "" 1 1 "" { } 0',
        2,
        "actions",
        "the list of actions is empty",
    ),
    (
        "absent-minded",
        'EFG 2 R "" { "Driver" }\np "" 1 1 "exit?" { "exit" "go" } 0\nt "" 1 "" { 0 }\n'
        'p "" 1 1 0\nt "" 2 "" { 4 }\nt "" 3 "" { 1 }',
        2,
        "infoset",
        "absent-mindedness",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "field", "phrase"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_errors_name_line_and_field(text: str, line: int, field: str, phrase: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_efg(text, source="game.efg")
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.field) == ("game.efg", line, field), str(
        caught.value
    )
    assert phrase in problem.message
    assert str(caught.value).startswith(f"game.efg:{line}: {field}: ")


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the file"):
        read_efg(tmp_path / "missing.efg")


def test_latin1_file_is_read_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "old.efg"
    path.write_bytes('EFG 2 R "café" { "A" } t "" 1 "" { 1 }'.encode("latin-1"))
    document = read_efg_document(path)
    assert document.game.title == "café"
    assert "Latin-1" in document.notes[0]


# ------------------------------------------------------------------ writing
def assert_same_game(a: ExtensiveGame, b: ExtensiveGame) -> None:
    """Same tree, information sets, labels, chance probabilities and payoffs."""
    assert a.title == b.title and a.players == b.players
    assert len(a.nodes) == len(b.nodes)
    for u, v in zip(a.nodes, b.nodes, strict=True):
        assert (u.kind, u.label, u.parent, u.parent_action, u.children, u.infoset) == (
            v.kind,
            v.label,
            v.parent,
            v.parent_action,
            v.children,
            v.infoset,
        )
        assert u.outcome == v.outcome
    for g, h in zip(a.infosets, b.infosets, strict=True):
        assert (g.player, g.number, g.label, g.actions, g.nodes) == (
            h.player,
            h.number,
            h.label,
            h.actions,
            h.nodes,
        )
        assert g.probabilities == h.probabilities
        assert g.exact_probabilities == h.exact_probabilities
    assert a.terminals == b.terminals
    assert a.exact_terminal_payoffs == b.exact_terminal_payoffs
    assert np.array_equal(a.terminal_payoffs, b.terminal_payoffs)


def test_writer_folds_nonterminal_outcomes_and_reads_back() -> None:
    text = (
        'EFG 2 R "" { "A" "B" }\n'
        'p "" 1 1 "" { "l" "r" } 1 "entry fee" { -1, 1 }\n'
        't "" 2 "x" { 3, 3 }\n'
        'p "" 2 1 "" { "u" "d" } 0\n'
        't "" 2\n'
        't "" 0\n'
    )
    game = parse_efg(text)
    written = write_efg(game)
    assert "entry fee" not in written
    assert 't "" 1 "x" { 2, 4 }' in written
    assert 't "" 2 "" { -1, 1 }' in written
    assert_same_game(game, parse_efg(written))


def test_float_games_round_trip_to_the_same_floats() -> None:
    builder = TreeBuilder(["A", "B"], title="floats")
    root = builder.chance(["x", "y", "z"], [1 / 3, 1 / 3, 1 / 3])
    for a in range(3):
        builder.connect(root, a, builder.terminal([0.1 * a, np.pi * a]))
    game = builder.build(root)
    again = read_back(game)
    assert again.infosets[0].probabilities == game.infosets[0].probabilities
    assert np.array_equal(again.terminal_payoffs, game.terminal_payoffs)


def read_back(game: ExtensiveGame) -> ExtensiveGame:
    return parse_efg(write_efg(game))


def test_save_efg_writes_atomically(tmp_path: Path) -> None:
    game = parse_efg('EFG 2 R "" { "A" } p "" 1 1 "" { "a" } 0 t "" 1 "" { 1 }')
    target = tmp_path / "out.efg"
    target.write_text("old", encoding="utf-8")
    assert save_efg(game, target, comment="saved") == target
    assert target.read_text(encoding="utf-8") == write_efg(game, comment="saved")
    assert read_efg_document(target).comment == "saved"
    assert [p.name for p in tmp_path.iterdir()] == ["out.efg"]


def test_module_docstring_examples() -> None:
    assert doctest.testmod(efg_module).failed == 0


# ------------------------------------------------------------ random trees
LABEL = st.text(alphabet=st.sampled_from([*'abcxyz ."\\{},é\n']), min_size=1, max_size=6).filter(
    lambda s: not s.isdigit()
)
NUMBER = st.one_of(
    st.integers(-50, 50),
    st.fractions(min_value=-20, max_value=20, max_denominator=12),
)


@st.composite
def random_trees(draw: st.DrawFn) -> ExtensiveGame:
    """A random tree with chance, labels and information sets, valid by construction.

    Information sets group decision nodes of one player with the same number of
    actions at the same depth (never on one path); action and set labels are
    unique where they must be, node and outcome labels may repeat.
    """
    n = draw(st.integers(1, 3))
    players = [f"{draw(LABEL)}#{i}" for i in range(n)]
    builder = TreeBuilder(players, title=draw(st.text(max_size=8)))
    budget = [draw(st.integers(1, 25))]
    # (player, depth, number of actions) -> the sets drawn there: (name, actions)
    groups: dict[tuple[int, int, int], list[tuple[str, list[str]]]] = {}

    def node(depth: int) -> int:
        kind = draw(st.sampled_from(["terminal", "decision", "chance"]))
        if budget[0] <= 0 or depth > 5:
            kind = "terminal"
        label = draw(st.sampled_from(["", "n", "same", draw(LABEL)]))
        if kind == "terminal":
            payoffs = [draw(NUMBER) for _ in range(n)]
            return builder.terminal(payoffs, label=label, outcome=draw(st.sampled_from(["", "o"])))
        budget[0] -= 1
        k = draw(st.integers(1, 3))
        actions = [f"{draw(LABEL)}{a}" for a in range(k)]
        if kind == "chance":
            weights = [draw(st.integers(0, 4)) for _ in range(k)]
            if sum(weights) == 0:
                weights[0] = 1
            probabilities = [Fraction(w, sum(weights)) for w in weights]
            handle = builder.chance(actions, probabilities, label=label)
        else:
            player = draw(st.integers(0, n - 1))
            sets = groups.setdefault((player, depth, k), [])
            infoset: str | None
            if sets and draw(st.booleans()):
                infoset, actions = draw(st.sampled_from(sets))
            elif draw(st.booleans()):
                infoset = None
            else:
                infoset = f"{draw(LABEL)}@{player}.{depth}.{k}.{sum(map(len, groups.values()))}"
                sets.append((infoset, actions))
            handle = builder.decision(player, actions, infoset=infoset, label=label)
        for a in range(k):
            builder.connect(handle, a, node(depth + 1))
        return handle

    root = node(0)
    return builder.build(root)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(game=random_trees(), comment=st.text(max_size=10))
def test_random_trees_round_trip(game: ExtensiveGame, comment: str) -> None:
    text = write_efg(game, comment=comment)
    document = parse_efg_document(text)
    assert document.notes == ()
    assert document.comment == comment
    assert_same_game(game, document.game)
    assert write_efg(document.game, comment=comment) == text


# ------------------------------------------------------- Gambit reads ours
def pygambit_tree(path: Path) -> Iterator[tuple[Any, ...]]:
    """Each node of the file as pygambit reads it, in preorder."""
    gbt = pytest.importorskip("pygambit", reason="pygambit (test extra) not installed")
    game = gbt.read_efg(str(path))
    players = list(game.players)

    def walk(node: Any) -> Iterator[tuple[Any, ...]]:
        if node.is_terminal:
            outcome = node.outcome
            payoffs = tuple(
                Fraction(str(outcome[p])) if outcome is not None else Fraction(0) for p in players
            )
            yield ("terminal", node.label, payoffs)
            return
        actions = list(node.infoset.actions)
        if node.player.is_chance:
            yield ("chance", node.label, tuple((a.label, Fraction(str(a.prob))) for a in actions))
        else:
            labels = (a.label for a in actions)
            yield ("decision", node.label, node.player.label, node.infoset.label, *labels)
        for child in node.children:
            yield from walk(child)

    yield from walk(game.root)


def ours(game: ExtensiveGame) -> Iterator[tuple[Any, ...]]:
    rows = {t: k for k, t in enumerate(game.terminals)}
    for node in game.nodes:
        if node.is_terminal:
            assert game.exact_terminal_payoffs is not None
            yield ("terminal", node.label, game.exact_terminal_payoffs[rows[node.index]])
            continue
        h = game.infosets[node.infoset]  # type: ignore[index]
        if h.player is None:
            assert h.exact_probabilities is not None
            yield ("chance", node.label, tuple(zip(h.actions, h.exact_probabilities, strict=True)))
        else:
            yield ("decision", node.label, game.players[h.player], h.label, *h.actions)


def assert_gambit_reads(game: ExtensiveGame) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = save_efg(game, Path(folder) / "ours.efg")
        assert list(pygambit_tree(path)) == list(ours(game))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(game=random_trees())
def test_gambit_reads_what_we_write(game: ExtensiveGame) -> None:
    assert_gambit_reads(gambit_safe(game))


def gambit_label(label: str) -> str:
    """``label`` as pygambit 16.7 accepts it: printable ASCII, single inner spaces.

    Backslashes go too: Gambit reads ``\\"`` as a quote but keeps ``\\\\`` as two
    characters, so a label with a backslash does not survive a trip through it.
    """
    printable = "".join(c if " " <= c <= "~" and c != "\\" else "?" for c in label)
    return " ".join(printable.split())


def gambit_safe(game: ExtensiveGame) -> ExtensiveGame:
    """``game`` with labels pygambit 16.7 accepts (it refuses more than the format does).

    Gambit wants printable-ASCII labels without leading, trailing or double
    spaces, and distinct non-empty node labels; negsim reads and writes others.
    """
    labels = [gambit_label(n.label) for n in game.nodes if gambit_label(n.label)]
    repeated = len(set(labels)) < len(labels)
    nodes = tuple(
        dataclasses.replace(
            n,
            label=f"node {n.index}" if repeated and n.label else gambit_label(n.label),
            outcome=gambit_label(n.outcome),
        )
        for n in game.nodes
    )
    infosets = []
    for h in game.infosets:
        actions = tuple(gambit_label(a) for a in h.actions)
        if len(set(actions)) < len(actions):
            actions = tuple(f"{a} {k}" for k, a in enumerate(actions))
        label = gambit_label(h.label)
        if label and (label != h.label or h.player is None):
            label = f"{label} #{h.index}"  # cleaned labels may meet; chance sets are per node
        infosets.append(dataclasses.replace(h, label=label, actions=actions))
    players = tuple(f"{gambit_label(p)} {i}" for i, p in enumerate(game.players))
    return dataclasses.replace(
        game,
        nodes=nodes,
        infosets=tuple(infosets),
        players=players,
        title=gambit_label(game.title),
    )


# --------------------------------------------------------- reference files
@cache
def answers() -> dict[str, Any]:
    assert REFERENCE is not None
    with open(REFERENCE / "answers.json", encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


@pytest.mark.reference
@reference_files
def test_reference_file_loads_and_round_trips(path: Path) -> None:
    if path.name in ABSENT_MINDED:
        with pytest.raises(InputError) as caught:
            read_efg(path)
        assert all("absent-mindedness" in p.message for p in caught.value.problems)
        assert all(p.line is not None and p.field == "infoset" for p in caught.value.problems)
        return
    game = read_efg(path)
    assert game.exact_terminal_payoffs is not None
    again = read_back(game)
    assert_same_game(game, again)
    assert write_efg(again) == write_efg(game)


@pytest.mark.reference
@reference_files
def test_reference_file_matches_gambits_tree_and_answers(path: Path) -> None:
    """Sizes as Gambit counts them, and Gambit's equilibria give Gambit's payoffs here.

    The payoff check is an orientation check needing no solver: it fails if a
    payoff, a chance probability, an action order or an information set's
    number were read differently from Gambit.
    """
    if path.name in ABSENT_MINDED:
        pytest.skip("absent-minded: refused (see test_reference_file_loads_and_round_trips)")
    game = read_efg(path)
    answer = answers()[path.name]
    tree = answer["tree"]
    assert len(game.nodes) == tree["nodes"]
    assert [len(game.player_infosets(i)) for i in range(game.n_players)] == tree["infosets"]
    assert game.has_perfect_recall == tree["is_perfect_recall"]
    assert (
        len(game.subgame_roots()) - (0 if game.root.is_terminal else 1) == (tree["proper_subgames"])
    )
    assert list(game.players) == answer["player_labels"]
    checked = 0
    for solver, listed in answer.get("behavior_equilibria", {}).items():
        for profile, payoffs in zip(listed["equilibria"], listed["expected_payoffs"], strict=True):
            behavior = gambit_behavior(game, profile)
            if behavior is None:
                continue
            want = np.array([float(Fraction(x)) for x in payoffs])
            scale = max(1.0, float(np.abs(game.terminal_payoffs).max()))
            rtol = 0.0 if solver != "logit" else FLOAT_ANSWER_RTOL
            got = game.expected_payoffs(behavior)
            assert np.allclose(got, want, rtol=rtol, atol=max(rtol, 1e-12) * scale), solver
            checked += 1
    if answer.get("behavior_equilibria") and not checked:
        pytest.fail("no Gambit equilibrium could be compared")


def gambit_behavior(game: ExtensiveGame, profile: dict[str, Any]) -> list[np.ndarray] | None:
    """A behaviour profile from answers.json (``{player: {'idx:label': {action: p}}}``).

    ``None`` where the answer cannot be mapped (repeated action labels collapse
    in answers.json's dictionaries).
    """
    behavior = []
    for h in game.infosets:
        if h.player is None:
            behavior.append(np.array(h.probabilities))
            continue
        sets = profile[game.players[h.player]]
        keys = [k for k in sets if k.split(":", 1)[0] == str(h.number - 1)]
        assert len(keys) == 1
        probabilities = sets[keys[0]]
        if len(probabilities) != len(h.actions):
            return None
        behavior.append(np.array([float(Fraction(p)) for p in probabilities.values()]))
    return behavior


@pytest.mark.reference
@reference_files
def test_gambit_reads_our_copy_of_reference_file(path: Path) -> None:
    if path.name in ABSENT_MINDED:
        pytest.skip("absent-minded: refused")
    # Where labels change, pygambit refuses the original file as well (README).
    assert_gambit_reads(gambit_safe(read_efg(path)))
