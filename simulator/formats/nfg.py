r"""Gambit strategic-form files (``.nfg``): read them exactly, write them back.

The format
----------
Gambit's strategic-form file (McKelvey, McLennan and Turocy, *Gambit: Software
Tools for Game Theory*, section "Game representation formats") is a sequence of
tokens separated by whitespace, which is not significant outside quotes::

    NFG 1 R "title" { "Player 1" "Player 2" } STRATEGIES ["comment"] BODY

``NFG 1`` is the format version; the third token is ``R`` (rational) or ``D``
(the old "double" flag); both are accepted and every number is read exactly.
STRATEGIES is either a list of counts, ``{ 3 2 }`` (strategies labelled
``"1"``, ``"2"``, ...), or one list of labels per player,
``{ { "T" "M" "B" } { "L" "R" } }``. The comment is optional. BODY is either

* a **payoff list**: one number per player for every pure profile, the profiles
  listed with the *first* player's strategy changing fastest (then the second
  player's, and so on), each profile giving player 1's payoff, player 2's, ...;
* an **outcome list**: ``{ { "name" u_1, u_2, ... } ... }`` (the commas are
  optional) followed by one outcome index per pure profile, in the same profile
  order; outcomes are numbered from 1 and index ``0`` is the null outcome, in
  which every payoff is 0.

Numbers are integers, decimals with an optional exponent (``1.5``, ``-.5``,
``2e3``) or rationals (``3/2``). All are kept exact as
:class:`fractions.Fraction` (a decimal ``1.5`` is ``3/2``), so every game read
from a file has :attr:`~simulator.game.StrategicGame.exact_payoffs`. Strings
are double-quoted and may span lines; ``\"`` stands for a quote and ``\\`` for
a backslash (Gambit's own reader keeps ``\\`` as two characters).
This reader accepts commas between the numbers of a payoff list, which Gambit
does not.

Labels
------
negsim's results speak in labels (the JSON report maps each strategy label to
its probability), so labels must be non-empty, the players' labels distinct, and
each player's strategy labels distinct. The reader keeps every label it can,
changes only what would be ambiguous, and says so in :attr:`NfgDocument.notes`:

* an empty player or strategy label becomes its 1-based position (``"2"``);
* labels that occur more than once in the same list all get suffixes ``_1``,
  ``_2``, ... in order (a suffixed label already in use is skipped): this is what
  Gambit does (pygambit 16.7 shows ``"defect", "defect"`` as ``"defect_1",
  "defect_2"``), so that labels and equilibria agree with Gambit's. Gambit shows
  empty labels as ``"_1"``, ``"_2"``; negsim shows the position instead, as its
  reports promise.

Errors
------
Every problem with a file is an :class:`~simulator.errors.InputError` naming
the file, the 1-based line, the field (``header``, ``title``, ``players``,
``strategies``, ``payoffs``, ``outcomes``, ``outcome 3``, ``outcome indices``)
and what was expected, for instance::

    game.nfg:7: payoffs: expected a number (the payoff of player 'Player 2' at
    profile (2, 1)), found 'x'

Example
-------
>>> game = parse_nfg('NFG 1 R "PD" { "Row" "Col" } { 2 2 } 3 3 5 0 0 5 1 1')
>>> game.payoffs[0].tolist(), game.payoffs[1].tolist()
([[3.0, 0.0], [5.0, 1.0]], [[3.0, 5.0], [0.0, 1.0]])
>>> parse_nfg(write_nfg(game)).payoffs.tolist() == game.payoffs.tolist()
True
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import numpy as np

from simulator.atomic_write import write_text_atomic
from simulator.errors import InputError
from simulator.formats.gambit_text import read_game_text
from simulator.game import StrategicGame

__all__ = [
    "NfgDocument",
    "parse_nfg",
    "parse_nfg_document",
    "read_nfg",
    "read_nfg_document",
    "save_nfg",
    "write_nfg",
]

Number = int | Fraction

# One token: a brace, a comma, a complete double-quoted string (escapes allowed),
# a lone quote (a string that never closes), or a bare word (numbers, NFG, R, ...).
# The pattern never matches the empty string, which therefore marks the end.
_TOKEN = re.compile(r'[{},]|"[^"\\]*(?:\\.[^"\\]*)*"|"|[^\s{},"]+', re.DOTALL)
_ESCAPE = re.compile(r'\\(["\\])')
_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_NUMBER = re.compile(
    r"[+-]?(?:[0-9]+/[0-9]+|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE](?P<exp>[+-]?[0-9]+))?)\Z"
)
# Decimal exponents beyond this cannot give a finite float; refusing them early
# also keeps a hostile "1e999999999" from building a huge integer.
_MAX_EXPONENT = 400

_END = ""
_STRING = "string"
_WORD = "word"
_OPEN_STRING = "open string"


def _kind(word: str) -> str:
    if word in ("", "{", "}", ","):
        return word
    if word[0] == '"':
        return _OPEN_STRING if len(word) == 1 else _STRING
    return _WORD


@dataclass(frozen=True)
class NfgDocument:
    """Everything read from one ``.nfg`` file.

    ``game``: the strategic game (exact payoffs, labels made unique as the module
    docstring says). ``comment``: the file's optional comment (``""`` if none).
    ``variant``: ``"payoffs"`` (payoff list) or ``"outcomes"`` (outcome list).
    ``notes``: what the reader changed or assumed (relabelled players or
    strategies, a non-UTF-8 encoding), one sentence each, for the user to see.
    """

    game: StrategicGame
    comment: str
    variant: Literal["payoffs", "outcomes"]
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------- reading
def read_nfg(path: str | Path) -> StrategicGame:
    """The strategic game in the Gambit ``.nfg`` file at ``path``.

    Raises :class:`~simulator.errors.InputError` (file, line, field, what was
    expected) for a file that cannot be read or is not a valid ``.nfg`` file.
    """
    return read_nfg_document(path).game


def read_nfg_document(path: str | Path) -> NfgDocument:
    """Like :func:`read_nfg`, with the file's comment, variant and reader's notes."""
    source = str(path)
    text, notes = read_game_text(path)
    document = parse_nfg_document(text, source=source)
    if notes:
        document = NfgDocument(
            document.game, document.comment, document.variant, (*notes, *document.notes)
        )
    return document


def parse_nfg(text: str, *, source: str = "<string>") -> StrategicGame:
    """The strategic game described by ``text`` in Gambit's ``.nfg`` format.

    ``source`` names the text in error messages. The returned game's
    ``payoffs[i][s_0, ..., s_{n-1}]`` is player ``i``'s payoff (see
    :mod:`simulator.game`), with ``exact_payoffs`` as Fractions.
    """
    return parse_nfg_document(text, source=source).game


def parse_nfg_document(text: str, *, source: str = "<string>") -> NfgDocument:
    """Like :func:`parse_nfg`, with the file's comment, variant and reader's notes."""
    return _Parser(text.removeprefix("\ufeff"), source).parse()


class _Parser:
    """Recursive-descent parser over the tokens of one ``.nfg`` text.

    Tokens are kept as their raw text (``findall`` is fast on files with
    hundreds of thousands of payoffs); their positions are only worked out when
    an error needs a line number.
    """

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.words: list[str] = _TOKEN.findall(text)
        self.words.append(_END)
        self.pos = 0
        self._starts: list[int] | None = None

    # ------------------------------------------------------------ token access
    def line(self, index: int) -> int:
        """1-based line of token ``index`` (the end token: the last token's end)."""
        if self._starts is None:
            self._starts = []
            last_end = 0
            for match in _TOKEN.finditer(self.text):
                self._starts.append(match.start())
                last_end = match.end()
            self._starts.append(last_end)
        return self.text.count("\n", 0, self._starts[index]) + 1

    def kind(self, index: int) -> str:
        return _kind(self.words[index])

    def take(self) -> int:
        """Index of the next token, moving past it (the end token stays put)."""
        index = self.pos
        if self.words[index] != _END:
            self.pos += 1
        return index

    def string(self, index: int) -> str:
        return _ESCAPE.sub(r"\1", self.words[index][1:-1])

    def error(self, index: int, field: str, message: str) -> InputError:
        return InputError.at(self.source, self.line(index), field, message)

    def unexpected(self, index: int, field: str, expected: str) -> InputError:
        if self.kind(index) == _OPEN_STRING:
            return self.error(
                index,
                field,
                f"a string opened here never closes; expected {expected} "
                '(strings are enclosed in double quotes, a quote inside one is written \\")',
            )
        message = f"expected {expected}, found {self.describe(index)}"
        if index > 0 and self.kind(index - 1) == _STRING and "\n" in self.words[index - 1]:
            # A missing closing quote pairs with the next label's opening quote.
            message += (
                f"; the string before it, opened on line {self.line(index - 1)}, runs over "
                "a line break: is a closing quote missing?"
            )
        return self.error(index, field, message)

    def expect(self, kind: str, field: str, expected: str) -> int:
        index = self.take()
        if self.kind(index) != kind:
            raise self.unexpected(index, field, expected)
        return index

    def describe(self, index: int) -> str:
        kind = self.kind(index)
        if kind == _END:
            return "the end of the file"
        if kind == _OPEN_STRING:
            return "a string that never closes"
        shown = self.string(index) if kind == _STRING else self.words[index]
        if len(shown) > 40:
            shown = shown[:37] + "..."
        return f"the string {shown!r}" if kind == _STRING else repr(shown)

    def number(self, index: int, field: str) -> Number | None:
        """The exact value of token ``index``, or ``None`` if it is not a number.

        Raises for numbers that cannot be payoffs (zero denominator, beyond the
        float range); the caller says what it expected when this returns ``None``.
        """
        word = self.words[index]
        match = _NUMBER.match(word)
        if match is None:
            return None
        exponent = match.group("exp")
        if exponent is not None and abs(int(exponent)) > _MAX_EXPONENT:
            raise self.error(index, field, f"the number {word!r} is out of range")
        try:
            value: Number = int(word) if _INTEGER.match(word) else Fraction(word)
            float(value)  # raises OverflowError beyond the float range: no finite payoff
        except ZeroDivisionError:
            raise self.error(index, field, f"the rational {word!r} has denominator zero") from None
        except (OverflowError, ValueError):
            raise self.error(index, field, f"the number {word!r} is too large") from None
        return value

    # ------------------------------------------------------------------ grammar
    def parse(self) -> NfgDocument:
        self.header()
        title = self.string(self.expect(_STRING, "title", "the game's title in double quotes"))
        players = self.players()
        strategies = self.strategies(len(players))
        comment = ""
        if self.kind(self.pos) == _STRING:
            comment = self.string(self.take())
        notes: list[str] = []
        players = _unique_labels(players, "player {}".format, notes)
        strategies = [
            _unique_labels(labels, _strategy_of(players[i]), notes)
            for i, labels in enumerate(strategies)
        ]
        shape = tuple(len(s) for s in strategies)
        body = _Body(self, tuple(players), tuple(tuple(s) for s in strategies))
        variant: Literal["payoffs", "outcomes"]
        if self.kind(self.pos) == "{":
            variant = "outcomes"
            table = body.outcome_list()
        elif _NUMBER.match(self.words[self.pos]):
            variant = "payoffs"
            table = body.payoff_list()
        else:
            raise self.unexpected(
                self.pos,
                "payoffs",
                "the payoffs: a list of numbers, or '{' opening a list of outcomes",
            )
        end = self.take()
        if self.kind(end) != _END:
            raise self.error(
                end,
                "payoffs" if variant == "payoffs" else "outcome indices",
                f"expected the end of the file after the {body.profiles} profiles of a "
                f"{'x'.join(map(str, shape))} game, found {self.describe(end)}",
            )
        payoffs = _from_profile_rows(table, shape)
        game = StrategicGame.from_payoffs(payoffs, body.players, body.strategies, title=title)
        return NfgDocument(game, comment, variant, tuple(notes))

    def header(self) -> None:
        index = self.take()
        word = self.words[index]
        if word == _END:
            raise self.error(
                index,
                "header",
                "the file is empty; expected a Gambit strategic-form file starting with 'NFG 1 R'",
            )
        if word == "EFG":
            raise self.error(
                index,
                "header",
                "this is an extensive-form (EFG) file; expected a strategic-form file "
                "starting with 'NFG 1 R'",
            )
        if word != "NFG":
            raise self.unexpected(
                index, "header", "'NFG' (a Gambit strategic-form file starts with 'NFG 1 R')"
            )
        index = self.take()
        if self.words[index] != "1":
            raise self.unexpected(index, "header", "the format version '1' after 'NFG'")
        index = self.take()
        if self.words[index] not in ("R", "D"):
            raise self.unexpected(index, "header", "'R' or 'D' after 'NFG 1'")

    def players(self) -> list[str]:
        opening = self.expect("{", "players", "'{' opening the list of player labels")
        labels, _ = self.quoted_labels(
            "players", "a player label in double quotes, or '}' closing the list"
        )
        if not labels:
            raise self.error(opening, "players", "the list of players is empty")
        return labels

    def quoted_labels(self, field: str, expected: str) -> tuple[list[str], int]:
        """Quoted labels up to a closing brace; returns them and the brace's index."""
        labels: list[str] = []
        while True:
            index = self.take()
            kind = self.kind(index)
            if kind == "}":
                return labels, index
            if kind != _STRING:
                raise self.unexpected(index, field, expected)
            labels.append(self.string(index))

    def strategies(self, n: int) -> list[list[str]]:
        self.expect(
            "{", "strategies", "'{' opening the strategy counts or the strategy label lists"
        )
        if self.kind(self.pos) == "{":
            return self.strategy_labels(n)
        counts: list[list[str]] = []
        for i in range(n):
            index = self.take()
            word = self.words[index]
            if word == "}":
                raise self.error(
                    index,
                    "strategies",
                    f"strategy counts for only {i} of the {n} players; expected one "
                    "positive whole number per player",
                )
            if not _INTEGER.match(word) or int(word) < 1:
                raise self.unexpected(
                    index,
                    "strategies",
                    f"the number of strategies of player {i + 1} (a positive whole number)"
                    + (", or '{' opening a list of labels" if i == 0 else ""),
                )
            counts.append([str(k + 1) for k in range(int(word))])
        index = self.take()
        if self.words[index] != "}":
            raise self.unexpected(
                index, "strategies", f"'}}' closing the strategy counts of the {n} players"
            )
        return counts

    def strategy_labels(self, n: int) -> list[list[str]]:
        lists: list[list[str]] = []
        for i in range(n):
            index = self.take()
            if self.words[index] == "}":
                raise self.error(
                    index, "strategies", f"strategy label lists for only {i} of the {n} players"
                )
            if self.words[index] != "{":
                raise self.unexpected(
                    index, "strategies", f"'{{' opening the strategy labels of player {i + 1}"
                )
            labels, index = self.quoted_labels(
                "strategies", f"a strategy label of player {i + 1} in double quotes, or '}}'"
            )
            if not labels:
                raise self.error(index, "strategies", f"player {i + 1} has no strategies")
            lists.append(labels)
        index = self.take()
        if self.words[index] != "}":
            more = ""
            if self.words[index] == "{":
                more = " (there are more strategy lists than players)"
            raise self.unexpected(
                index, "strategies", f"'}}' closing the strategy lists of the {n} players{more}"
            )
        return lists


class _Body:
    """Reads the payoff list or the outcome list, once players and strategies are known."""

    def __init__(
        self,
        parser: _Parser,
        players: tuple[str, ...],
        strategies: tuple[tuple[str, ...], ...],
    ) -> None:
        self.parser = parser
        self.players = players
        self.strategies = strategies
        self.n = len(players)
        self.profiles = math.prod(len(s) for s in strategies)

    def profile(self, index: int) -> str:
        """Labels of the ``index``-th profile in file order (first player fastest)."""
        labels = []
        for labels_i in self.strategies:
            index, k = divmod(index, len(labels_i))
            labels.append(labels_i[k])
        return "(" + ", ".join(labels) + ")"

    def payoff_list(self) -> np.ndarray:
        """An object array of shape ``(profiles, n)``: row ``p`` is profile ``p``'s payoffs."""
        parser = self.parser
        words = parser.words
        total = self.profiles * self.n
        values: list[Number] = []
        append = values.append
        integer = _INTEGER.match
        # The loop is the hot path for large files: integers take the short way.
        while len(values) < total:
            index = parser.take()
            word = words[index]
            if len(word) < 300 and integer(word):
                append(int(word))
            elif word == "," and values:
                continue
            elif word == _END:
                raise parser.error(
                    index,
                    "payoffs",
                    f"the file ends after {len(values)} of the {total} payoffs "
                    f"({self.n} players x {self.profiles} profiles)",
                )
            else:
                value = parser.number(index, "payoffs")
                if value is None:
                    profile, player = divmod(len(values), self.n)
                    raise parser.unexpected(
                        index,
                        "payoffs",
                        f"a number (the payoff of player {self.players[player]!r} "
                        f"at profile {self.profile(profile)})",
                    )
                append(value)
        table = np.empty((self.profiles, self.n), dtype=object)
        table.reshape(-1)[:] = values
        return table

    def outcome_list(self) -> np.ndarray:
        """Outcome payoffs looked up for every profile: object array ``(profiles, n)``."""
        parser = self.parser
        words = parser.words
        parser.expect("{", "outcomes", "'{' opening the list of outcomes")
        outcomes: list[list[Number]] = [[0] * self.n]  # index 0: the null outcome
        while words[parser.pos] == "{":
            parser.take()
            k = len(outcomes)
            field = f"outcome {k}"
            parser.expect(_STRING, field, "the outcome's name in double quotes")
            payoffs: list[Number] = []
            for i in range(self.n):
                index = parser.take()
                if words[index] == "," and payoffs:
                    index = parser.take()
                if words[index] == "}":
                    raise parser.error(
                        index,
                        field,
                        f"outcome {k} gives {len(payoffs)} payoffs; expected one for each "
                        f"of the {self.n} players",
                    )
                value = parser.number(index, field)
                if value is None:
                    raise parser.unexpected(
                        index, field, f"a number (player {self.players[i]!r}'s payoff)"
                    )
                payoffs.append(value)
            index = parser.take()
            if words[index] == ",":
                index = parser.take()
            if words[index] != "}":
                extra = ""
                if _NUMBER.match(words[index]):
                    extra = f" (outcome {k} has more than {self.n} payoffs)"
                raise parser.unexpected(index, field, f"'}}' closing outcome {k}{extra}")
            outcomes.append(payoffs)
        parser.expect(
            "}", "outcomes", "'{' opening another outcome, or '}' closing the list of outcomes"
        )
        count = len(outcomes) - 1
        indices = np.empty(self.profiles, dtype=np.intp)
        for p in range(self.profiles):
            index = parser.take()
            word = words[index]
            if word == _END:
                raise parser.error(
                    index,
                    "outcome indices",
                    f"the file ends after {p} of the {self.profiles} outcome indices "
                    "(one per profile)",
                )
            if not _INTEGER.match(word):
                raise parser.unexpected(
                    index,
                    "outcome indices",
                    f"an outcome index (a whole number from 0 to {count}) for profile "
                    f"{self.profile(p)}",
                )
            value = int(word)
            if not 0 <= value <= count:
                raise parser.error(
                    index,
                    "outcome indices",
                    f"profile {self.profile(p)} has outcome index {value}, but the file "
                    f"defines outcomes 1 to {count} (0 means no outcome: all payoffs 0)",
                )
            indices[p] = value
        table = np.empty((len(outcomes), self.n), dtype=object)
        for k, row in enumerate(outcomes):
            table[k, :] = row
        return table[indices]


def _from_profile_rows(table: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The ``(n, m_0, ..., m_{n-1})`` payoff array from rows in file profile order.

    ``table[p, i]`` is player ``i``'s payoff at the ``p``-th profile, the first
    player's strategy changing fastest: that is C order over the *reversed*
    strategy axes, so reshape to ``(m_{n-1}, ..., m_0, n)`` and reverse all axes.
    """
    n = len(shape)
    return np.transpose(table.reshape((*reversed(shape), n)), tuple(range(n, -1, -1)))


def _unique_labels(labels: list[str], what: Callable[[int], str], notes: list[str]) -> list[str]:
    """Labels made non-empty (position numbers) and distinct (``_1``, ``_2`` suffixes)."""
    filled = []
    for k, label in enumerate(labels):
        if label == "":
            label = str(k + 1)
            notes.append(f"{what(k + 1)} has an empty label; it is shown as {label!r}")
        filled.append(label)
    counts = Counter(filled)
    taken = set(filled)
    used_suffix: Counter[str] = Counter()
    unique = []
    for k, label in enumerate(filled):
        if counts[label] > 1:
            # Gambit's own renaming, so that labels agree with what Gambit shows.
            new = label
            while new in taken:
                used_suffix[label] += 1
                new = f"{label}_{used_suffix[label]}"
            taken.add(new)
            notes.append(f"{what(k + 1)} repeats the label {label!r}; it is shown as {new!r}")
            label = new
        unique.append(label)
    return unique


def _strategy_of(player: str) -> Callable[[int], str]:
    return lambda k: f"strategy {k} of player {player!r}"


# --------------------------------------------------------------------- writing
def write_nfg(game: StrategicGame, *, comment: str = "") -> str:
    """``game`` as the text of a Gambit ``.nfg`` file (payoff-list variant, with labels).

    Exact payoffs are written as integers or ``p/q``; games without exact payoffs
    are written with ``repr`` of each float, which reads back to the same float
    (as the exact rational of that decimal). ``parse_nfg(write_nfg(g))`` has the
    same title, labels and payoffs as ``g`` whenever ``g``'s labels are non-empty
    and distinct (see the module docstring for how the reader treats others).
    """
    n = game.n_players
    lines = [
        f"NFG 1 R {_quote(game.title)} {{ {' '.join(_quote(p) for p in game.players)} }}",
        "",
    ]
    strategy_lines = [
        "{ " + " ".join(_quote(s) for s in labels) + " }" for labels in game.strategies
    ]
    lines.append("{ " + "\n".join(strategy_lines))
    lines.append("}")
    lines.append(_quote(comment))
    lines.append("")
    values = game.exact_payoffs if game.exact_payoffs is not None else game.payoffs
    rows = np.transpose(values, tuple(range(n, -1, -1))).reshape(-1, n)
    lines.extend(" ".join(_format_number(v) for v in row) for row in rows)
    return "\n".join(lines) + "\n"


def save_nfg(game: StrategicGame, path: str | Path, *, comment: str = "") -> Path:
    """Write ``game`` to ``path`` as a ``.nfg`` file, atomically; returns the path.

    The text goes to a new temporary file in the same directory, which is then
    renamed over ``path`` (:func:`os.replace`), so ``path`` is never seen
    half-written, and an existing file stays intact if writing fails.
    """
    target = Path(path)
    write_text_atomic(target, write_nfg(game, comment=comment))
    return target


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _format_number(value: object) -> str:
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return repr(float(value))  # type: ignore[arg-type]
