"""Gambit .nfg files: the reader's orientation, both variants, labels, exact numbers,
errors for people, and the writer's round trip.
"""

from __future__ import annotations

import doctest
import itertools
import math
import os
import string
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulator.formats.nfg as nfg_module
from simulator.errors import InputError
from simulator.formats import (
    parse_nfg,
    parse_nfg_document,
    read_nfg,
    read_nfg_document,
    save_nfg,
    write_nfg,
)
from simulator.game import StrategicGame


def encoded_payoff(player: int, profile: tuple[int, ...]) -> int:
    """A payoff that spells out whose payoff it is and at which profile."""
    return 1000 * (player + 1) + sum(10**j * (s + 1) for j, s in enumerate(profile))


def payoff_list_text(shape: tuple[int, ...]) -> str:
    """A payoff-list file written with plain nested loops, the first player fastest."""
    n = len(shape)
    numbers = []
    for reversed_profile in itertools.product(*[range(m) for m in reversed(shape)]):
        profile = tuple(reversed(reversed_profile))
        numbers.extend(str(encoded_payoff(i, profile)) for i in range(n))
    players = " ".join(f'"P{i}"' for i in range(n))
    counts = " ".join(map(str, shape))
    return f'NFG 1 R "encoded" {{ {players} }} {{ {counts} }}\n' + " ".join(numbers) + "\n"


# ---------------------------------------------------------------- orientation
@pytest.mark.parametrize(
    "shape", [(3, 2), (2, 3), (1, 4), (2, 3, 4), (2, 2, 2, 2), (3, 1, 2, 2, 2)]
)
def test_payoff_list_orientation(shape: tuple[int, ...]) -> None:
    game = parse_nfg(payoff_list_text(shape))
    assert game.shape == shape
    assert game.payoffs.shape == (len(shape), *shape)
    for profile in itertools.product(*[range(m) for m in shape]):
        for i in range(len(shape)):
            assert game.payoffs[i][profile] == encoded_payoff(i, profile)
            assert game.exact_payoffs is not None
            assert game.exact_payoffs[i][profile] == encoded_payoff(i, profile)


def test_two_player_file_gives_row_and_column_matrices() -> None:
    # Selten's (1975) Figure 2 in normal form, a 3x2 game, as Gambit ships it.
    game = parse_nfg('NFG 1 R "e02" { "Player 1" "Player 2" } { 3 2 }\n1 1 0 2 0 2 1 1 0 3 2 0')
    a, b = game.bimatrix()
    assert a.tolist() == [[1, 1], [0, 0], [0, 2]]
    assert b.tolist() == [[1, 1], [2, 3], [2, 0]]


def test_outcome_list_equals_payoff_list() -> None:
    payoff_version = parse_nfg(
        'NFG 1 R "t" { "A" "B" } { 2 3 }\n'
        "1 2  3 4  5 6  7 8  0 0  9 -1"  # profiles (1,1) (2,1) (1,2) (2,2) (1,3) (2,3)
    )
    outcome_version = parse_nfg_document(
        'NFG 1 R "t" { "A" "B" }\n'
        '{ { "1" "2" } { "1" "2" "3" } }\n""\n'
        '{ { "w" 1, 2 } { "x" 3 4 } { "y" 5, 6 } { "z" 7, 8 } { "v" 9, -1 } }\n'
        "1 2 3 4 0 5\n"
    )
    assert outcome_version.variant == "outcomes"
    assert outcome_version.game.payoffs.tolist() == payoff_version.payoffs.tolist()
    assert outcome_version.game.strategies == payoff_version.strategies


def test_null_outcome_and_shared_outcomes() -> None:
    game = parse_nfg(
        'NFG 1 R "coord" { "1" "2" } { { "a" "b" } { "c" "d" } }\n{ { "hit" 1, 1 } }\n1 0 0 1\n'
    )
    assert game.payoffs[0].tolist() == [[1, 0], [0, 1]]
    assert game.payoffs[1].tolist() == [[1, 0], [0, 1]]


# --------------------------------------------------------------------- labels
def test_counts_give_numbered_labels_and_label_lists_are_kept() -> None:
    counted = parse_nfg('NFG 1 R "" { "Row" "Col" } { 3 2 } ' + "0 " * 12)
    assert counted.players == ("Row", "Col")
    assert counted.strategies == (("1", "2", "3"), ("1", "2"))
    labelled = parse_nfg(
        'NFG 1 R "" { "Row" "Col" } { { "T" "M" "B" } { "L" "R" } } "c" ' + "0 " * 12
    )
    assert labelled.strategies == (("T", "M", "B"), ("L", "R"))


def test_strings_escapes_and_line_breaks() -> None:
    document = parse_nfg_document(
        'NFG 1 R "a \\"quoted\\" title" { "Ann \\\\ Bo" "Cy" }\n'
        '{ { "x y" "tab\there" } { "multi\nline" } }\n'
        '"a comment\nover two lines"\n'
        "1 2 3 4\n"
    )
    game = document.game
    assert game.title == 'a "quoted" title'
    assert game.players == ("Ann \\ Bo", "Cy")
    assert game.strategies == (("x y", "tab\there"), ("multi\nline",))
    assert document.comment == "a comment\nover two lines"
    assert document.variant == "payoffs"


def test_empty_and_repeated_labels_are_made_unique_and_noted() -> None:
    document = parse_nfg_document(
        'NFG 1 R "" { "" "" } { { "a" "" "a" } { "d" "d" } } ' + "0 " * 12
    )
    game = document.game
    assert game.players == ("1", "2")
    # Empty labels become the position; repeated ones get Gambit's _1, _2 suffixes.
    assert game.strategies == (("a_1", "2", "a_2"), ("d_1", "d_2"))
    assert len(document.notes) == 2 + 1 + 2 + 2
    assert any("empty label" in note for note in document.notes)
    assert any("repeats the label 'd'" in note for note in document.notes)


def test_renaming_skips_labels_already_taken() -> None:
    game = parse_nfg('NFG 1 R "" { "P" } { { "x" "x" "x_1" } } 1 2 3')
    assert game.strategies == (("x_2", "x_3", "x_1"),)
    assert len(set(game.strategies[0])) == 3


def test_distinct_labels_produce_no_notes() -> None:
    assert parse_nfg_document(payoff_list_text((2, 2))).notes == ()


# -------------------------------------------------------------------- numbers
def test_numbers_are_exact() -> None:
    game = parse_nfg('NFG 1 D "" { "A" } { 8 } 3 -2 1.5 -.5 1e3 1.25E-2 3/2 +7/4')
    assert game.exact_payoffs is not None
    expected = [
        Fraction(3),
        Fraction(-2),
        Fraction(3, 2),
        Fraction(-1, 2),
        Fraction(1000),
        Fraction(1, 80),
        Fraction(3, 2),
        Fraction(7, 4),
    ]
    assert list(game.exact_payoffs[0]) == expected
    assert game.payoffs[0].tolist() == [float(v) for v in expected]


def test_reader_accepts_commas_in_a_payoff_list() -> None:
    game = parse_nfg('NFG 1 R "" { "A" "B" } { 1 2 } 1, 2, 3, 4')
    assert game.payoffs[:, 0, :].tolist() == [[1, 3], [2, 4]]


def test_tokens_need_no_spaces_around_braces_and_quotes() -> None:
    game = parse_nfg('NFG 1 R""{"A""B"}{{"x"}{"y""z"}}{{"o"1,2}}1 0')
    assert game.players == ("A", "B")
    assert game.strategies == (("x",), ("y", "z"))
    assert game.payoffs[:, 0, :].tolist() == [[1, 0], [2, 0]]


# --------------------------------------------------------------------- errors
HEADER = 'NFG 1 R "t" { "A" "B" } { 2 2 }\n'
OUTCOMES = 'NFG 1 R "t" { "A" "B" } { 2 2 }\n{ { "o1" 1, 2 }\n{ "o2" 3, 4 } }\n'

MALFORMED = [
    # (id, text, line, field, words the message must contain)
    ("empty", "", 1, "header", "empty"),
    ("blank", "  \n\n", 1, "header", "empty"),
    ("not nfg", "hello", 1, "header", "'NFG'"),
    ("efg", 'EFG 2 R "t" { "A" }', 1, "header", "extensive-form"),
    ("version", 'NFG 2 R "t"', 1, "header", "version"),
    ("data type", 'NFG 1 X "t"', 1, "header", "'R' or 'D'"),
    ("no title", "NFG 1 R { }", 1, "title", "title"),
    ("unterminated title", 'NFG 1 R "title\n{ "A" }\n', 2, "players", "opened on line 1"),
    ("unterminated label", 'NFG 1 R "t"\n{ "A" "B }\n{ 2 2 }\n', 2, "players", "never closes"),
    ("players not open", 'NFG 1 R "t" "A" "B"', 1, "players", "'{'"),
    ("player not a string", 'NFG 1 R "t" { A }', 1, "players", "player label"),
    ("no players", 'NFG 1 R "t" { } { }', 1, "players", "empty"),
    ("players not closed", 'NFG 1 R "t" { "A" "B"', 1, "players", "end of the file"),
    ("no strategies", 'NFG 1 R "t" { "A" "B" }\n', 1, "strategies", "'{'"),
    ("zero strategies", 'NFG 1 R "t" { "A" "B" }\n{ 2 0 }', 2, "strategies", "positive"),
    ("fractional count", 'NFG 1 R "t" { "A" "B" }\n{ 2 2.5 }', 2, "strategies", "whole"),
    ("too few counts", 'NFG 1 R "t" { "A" "B" }\n{ 2 }', 2, "strategies", "only 1 of the 2"),
    ("too many counts", 'NFG 1 R "t" { "A" "B" }\n{ 2 2 2 }', 2, "strategies", "closing"),
    (
        "too few label lists",
        'NFG 1 R "t" { "A" "B" }\n{ { "x" } }',
        2,
        "strategies",
        "only 1 of the 2",
    ),
    (
        "too many label lists",
        'NFG 1 R "t" { "A" "B" }\n{ { "x" } { "y" } { "z" } }',
        2,
        "strategies",
        "more strategy lists",
    ),
    ("empty label list", 'NFG 1 R "t" { "A" "B" }\n{ { "x" } { } }', 2, "strategies", "no strat"),
    ("label not a string", 'NFG 1 R "t" { "A" "B" }\n{ { x } { "y" } }', 2, "strategies", "label"),
    ("no payoffs", HEADER, 1, "payoffs", "end of the file"),
    ("comment but no payoffs", HEADER + '"comment"\n', 2, "payoffs", "end of the file"),
    ("truncated payoffs", HEADER + "1 2 3 4\n5 6 7\n", 3, "payoffs", "after 7 of the 8"),
    ("too many payoffs", HEADER + "1 2 3 4 5 6 7 8\n9\n", 3, "payoffs", "end of the file"),
    ("bad number", HEADER + "1 2 3\nx 5 6 7 8", 3, "payoffs", "player 'B'"),
    ("bad number profile", HEADER + "1 2 3 4 5 1.2.3 7 8", 2, "payoffs", "profile (1, 2)"),
    ("underscore number", HEADER + "1_000 2 3 4 5 6 7 8", 2, "payoffs", "'1_000'"),
    ("zero denominator", HEADER + "1 2 3/0 4 5 6 7 8", 2, "payoffs", "denominator zero"),
    ("huge exponent", HEADER + "1 2 1e999999 4 5 6 7 8", 2, "payoffs", "out of range"),
    ("overflow", HEADER + "1 2 1" + "0" * 400 + " 4 5 6 7 8", 2, "payoffs", "too large"),
    ("string in payoffs", HEADER + '1 2 "3" 4 5 6 7 8', 2, "payoffs", "the string '3'"),
    ("outcome without name", HEADER + "{ { 1 2 } }\n1 1 1 1", 2, "outcome 1", "name"),
    ("outcome too short", HEADER + '{ { "o" 1 } }\n1 1 1 1', 2, "outcome 1", "gives 1 payoffs"),
    (
        "outcome too long",
        HEADER + '{ { "o" 1 2 } \n{ "p" 1, 2, 3 } }\n1 1 1 1',
        3,
        "outcome 2",
        "more than 2 payoffs",
    ),
    ("outcome bad payoff", HEADER + '{ { "o" 1 two } }\n1 1 1 1', 2, "outcome 1", "player 'B'"),
    ("outcomes not closed", HEADER + '{ { "o" 1 2 }\n', 2, "outcomes", "closing the list"),
    ("index out of range", OUTCOMES + "1 2\n3 0", 5, "outcome indices", "defines outcomes 1 to 2"),
    ("negative index", OUTCOMES + "1 2 -1 0", 4, "outcome indices", "index -1"),
    ("fractional index", OUTCOMES + "1 2 1.5 0", 4, "outcome indices", "whole number"),
    ("truncated indices", OUTCOMES + "1 2\n1", 5, "outcome indices", "after 3 of the 4"),
    ("extra index", OUTCOMES + "1 2 1 2\n1", 5, "outcome indices", "end of the file"),
    ("trailing text", HEADER + "1 2 3 4 5 6 7 8 end", 2, "payoffs", "'end'"),
]


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in MALFORMED],
)
def test_malformed_files_raise_input_error_with_place(
    text: str, line: int, field: str, words: str
) -> None:
    with pytest.raises(InputError) as caught:
        parse_nfg(text, source="bad.nfg")
    (problem,) = caught.value.problems
    assert problem.file == "bad.nfg"
    assert problem.line == line
    assert problem.field == field
    assert words in problem.message
    assert str(problem).startswith(f"bad.nfg:{line}: {field}: ")


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.nfg"
    with pytest.raises(InputError) as caught:
        read_nfg(missing)
    (problem,) = caught.value.problems
    assert problem.file == str(missing)
    assert "cannot read" in problem.message


VALID = (
    'NFG 1 R "a \\"game\\"" { "Ann" "Bob" "Cy" }\n'
    '{ { "x" "y" } { "u" "v" "w" } { "p" "q" } }\n'
    '"comment"\n'
    '{ { "o1" 1, 2, 3/4 }\n{ "o2" -.5 2e2 7 }\n}\n'
    "1 2 0 1 2 1 2 1 0 0 1 2\n"
)


@settings(max_examples=150, deadline=None)
@given(
    cut=st.integers(min_value=0, max_value=len(VALID)),
    junk=st.text(alphabet=string.printable, max_size=4),
    keep=st.integers(min_value=0, max_value=len(VALID)),
)
def test_corrupted_files_give_input_errors_only(cut: int, junk: str, keep: int) -> None:
    """Whatever happens to a valid file, the reader answers with a game or an InputError."""
    cut, keep = min(cut, keep), max(cut, keep)
    for text in (VALID[:cut], VALID[:cut] + junk + VALID[keep:]):
        try:
            game = parse_nfg(text)
        except InputError as error:
            assert error.problems[0].line is not None
            assert 1 <= error.problems[0].line <= text.count("\n") + 1
        else:
            assert game.payoffs.shape[0] == game.n_players


def test_valid_example_reads() -> None:
    document = parse_nfg_document(VALID)
    game = document.game
    assert game.title == 'a "game"'
    assert game.shape == (2, 3, 2)
    # Profile order: x fastest, then u/v/w, then p/q; outcome 1 at (x, u, p).
    assert game.exact_payoffs is not None
    assert list(game.exact_payoffs[:, 0, 0, 0]) == [1, 2, Fraction(3, 4)]
    assert list(game.exact_payoffs[:, 1, 0, 0]) == [Fraction(-1, 2), 200, 7]
    assert list(game.exact_payoffs[:, 0, 1, 0]) == [0, 0, 0]  # the null outcome
    assert list(game.exact_payoffs[:, 1, 2, 1]) == [Fraction(-1, 2), 200, 7]


# -------------------------------------------------------------------- writing
labels = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=6
)
exact_numbers = st.fractions(max_denominator=50).filter(lambda f: abs(f) < 10**6) | st.integers(
    -(10**20), 10**20
)
# Bounded so that the payoff spread (max - min) stays a finite float.
float_numbers = st.floats(min_value=-1e300, max_value=1e300, width=64)


@st.composite
def games(draw: st.DrawFn) -> StrategicGame:
    n = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=n, max_size=n)))
    size = n * math.prod(shape)
    if draw(st.booleans()):
        flat = draw(st.lists(exact_numbers, min_size=size, max_size=size))
        values = np.empty(size, dtype=object)
        values[:] = [Fraction(v) for v in flat]
    else:
        values = np.array(draw(st.lists(float_numbers, min_size=size, max_size=size)))
    players = draw(st.lists(labels, min_size=n, max_size=n, unique=True))
    strategies = [draw(st.lists(labels, min_size=m, max_size=m, unique=True)) for m in shape]
    return StrategicGame.from_payoffs(
        values.reshape((n, *shape)), players, strategies, title=draw(st.text(max_size=10))
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(game=games(), comment=st.text(max_size=20))
def test_round_trip_keeps_labels_payoffs_and_exactness(game: StrategicGame, comment: str) -> None:
    document = parse_nfg_document(write_nfg(game, comment=comment))
    again = document.game
    assert document.notes == ()
    assert document.comment == comment
    assert again.title == game.title
    assert again.players == game.players
    assert again.strategies == game.strategies
    assert np.array_equal(again.payoffs, game.payoffs)
    assert again.exact_payoffs is not None  # every number in a file is rational
    if game.exact_payoffs is not None:
        assert np.array_equal(again.exact_payoffs, game.exact_payoffs)


def test_writer_uses_fractions_for_exact_payoffs() -> None:
    game = StrategicGame.from_bimatrix(
        [[Fraction(1, 3), Fraction(2)], [Fraction(-5, 2), Fraction(0)]],
        [[Fraction(1), Fraction(7, 3)], [Fraction(0), Fraction(1, 2)]],
        players=["R", "C"],
        strategies=[["T", "B"], ["L", "R"]],
        title="fractions",
    )
    text = write_nfg(game)
    assert text.startswith('NFG 1 R "fractions" { "R" "C" }\n')
    assert '{ { "T" "B" }\n{ "L" "R" }\n}' in text
    # Profiles in Gambit order: (T,L) (B,L) (T,R) (B,R).
    assert text.rstrip().endswith("1/3 1\n-5/2 0\n2 7/3\n0 1/2")


def test_save_is_atomic_and_reads_back(tmp_path: Path) -> None:
    game = parse_nfg(VALID)
    target = tmp_path / "game.nfg"
    target.write_text("old contents")
    assert save_nfg(game, target, comment="saved") == target
    assert target.read_text(encoding="utf-8") == write_nfg(game, comment="saved")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["game.nfg"]  # no temporary left
    document = read_nfg_document(target)
    assert document.comment == "saved"
    assert np.array_equal(document.game.exact_payoffs, game.exact_payoffs)  # type: ignore[arg-type]


def test_failed_save_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "game.nfg"
    target.write_text("old contents")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_nfg(parse_nfg(VALID), target)
    assert target.read_text() == "old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["game.nfg"]


def test_latin1_file_is_read_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "latin.nfg"
    path.write_bytes('NFG 1 R "caf\u00e9" { "A" } { 1 } 1'.encode("latin-1"))
    document = read_nfg_document(path)
    assert document.game.title == "caf\u00e9"
    assert any("Latin-1" in note for note in document.notes)


def test_module_examples() -> None:
    failures, tried = doctest.testmod(nfg_module)
    assert tried > 0
    assert failures == 0
