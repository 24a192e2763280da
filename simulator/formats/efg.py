r"""Gambit extensive-form files (``.efg``): read game trees exactly, write them back.

The format
----------
Gambit's extensive-form file (McKelvey, McLennan and Turocy, *Gambit: Software
Tools for Game Theory*, "The extensive game (.efg) file format") is a sequence
of tokens separated by whitespace, which is not significant outside quotes::

    EFG 2 R "title" { "Player 1" "Player 2" } ["comment"]
    NODE NODE ...

``EFG 2`` is the format version; the third token is ``R`` (or the old ``D``;
both are accepted and every number is read exactly). The nodes follow in
preorder (a node, then the subtree of its first action, then of its second
...), one of

* ``p "name" PLAYER INFOSET ["infoset label" { "action" ... }] OUTCOME`` — a
  personal (decision) node of player ``PLAYER`` (1-based) in information set
  ``INFOSET`` of that player;
* ``c "name" EVENT ["event label" { "action" PROB ... }] OUTCOME`` — a chance
  node; ``PROB`` is a number (``1/3``, ``0.25``);
* ``t "name" OUTCOME`` — a terminal node;

where ``OUTCOME`` is ``K ["outcome name" { u_1, u_2, ... }]`` (commas optional):
outcome ``K``'s payoffs, one per player. Information sets are numbered within
their player, chance events and outcomes within the file; the description in
brackets is given where the number first appears and may be omitted (or
repeated exactly) later. Outcome ``0`` means no outcome. Outcomes may sit at
non-terminal nodes: a player's payoff at a terminal node is the sum of the
outcomes on the path from the root (Gambit's "incremental payoffs").

How a file becomes an :class:`~simulator.extensive.tree.ExtensiveGame`
-------------------------------------------------------------------------
* Node ``k`` of the game is the ``k``-th node of the file (both are preorder).
* Payoffs are summed along each path down to the terminal nodes (non-terminal
  outcomes are *folded* into the terminals, which is the same game); a
  terminal's ``outcome`` is the name of its own outcome in the file.
* Numbers are kept exact as :class:`fractions.Fraction` (a decimal ``0.25`` is
  ``1/4``), so a game read from a file has exact payoffs and chance
  probabilities. Decimal chance probabilities that sum to 1 only to within
  :data:`~simulator.tolerance.RTOL` (``0.333333 0.333333 0.333334`` sums to 1
  exactly; ``0.3333333333 x 3`` does not) are kept as floats, with a note.
* Each chance node is an information set of its own (negsim's model), labelled
  with its event's label; a chance event that several nodes share in the file
  becomes one set per node, with the same label and probabilities.
* Information sets keep their file labels, so that reports can name them. Each
  player's sets are numbered 1, 2, ... in order of first appearance in the
  file (Gambit's order), whatever numbers the file used.

Labels
------
Reports name actions and information sets by their labels, so these must be
unambiguous. The reader keeps every label it can and says what it changed in
:attr:`EfgDocument.notes`, following the ``.nfg`` reader
(:mod:`simulator.formats.nfg`):

* empty player or action labels become their 1-based position (``"2"``);
* labels repeated among a player list, among the actions of one set, or among
  one player's information sets get suffixes ``_1``, ``_2`` ... (Gambit's own
  renaming). An information set without a label keeps it empty and is named by
  its number, which no other set of that player may then use as its label;
* node and outcome names may repeat and are kept as they are (pygambit 16.7
  refuses 11 reference files for repeated node or information set labels; this
  reader reads them).

What is refused
---------------
Every problem is an :class:`~simulator.errors.InputError` naming the file, the
1-based line, the field (``header``, ``players``, ``node``, ``player``,
``infoset``, ``actions``, ``probabilities``, ``outcome``, ``payoffs``) and what
was expected. Besides syntax errors, that is: a tree that is cut short or has
nodes beyond its end, numbers out of range, an information set, event or
outcome used without ever being described or described twice differently, and
an information set met twice on one path (*absent-mindedness*, Piccione and
Rubinstein 1997), which negsim's game trees do not represent.

Example
-------
>>> game = parse_efg('''EFG 2 R "Entry" { "Entrant" "Incumbent" }
... p "" 1 1 "enter?" { "in" "out" } 0
... p "" 2 1 "respond" { "fight" "accommodate" } 0
... t "" 1 "war" { -1, -1 }
... t "" 2 "peace" { 1, 1 }
... t "" 3 "stay out" { 0, 2 }''')
>>> [h.label for h in game.infosets], game.terminal_payoffs.tolist()
(['enter?', 'respond'], [[-1.0, -1.0], [1.0, 1.0], [0.0, 2.0]])
>>> parse_efg(write_efg(game)).terminal_payoffs.tolist() == game.terminal_payoffs.tolist()
True
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from simulator.atomic_write import write_text_atomic
from simulator.errors import InputError, Problem
from simulator.extensive.tree import ExtensiveGame, InfoSet, TreeBuilder, TreeError
from simulator.formats.gambit_text import read_game_text
from simulator.formats.nfg import (
    _END,
    _INTEGER,
    _STRING,
    _TOKEN,
    _format_number,
    _Parser,
    _quote,
    _unique_labels,
)
from simulator.tolerance import RTOL

__all__ = [
    "EfgDocument",
    "parse_efg",
    "parse_efg_document",
    "read_efg",
    "read_efg_document",
    "save_efg",
    "write_efg",
]

Number = int | Fraction


@dataclass(frozen=True)
class EfgDocument:
    """Everything read from one ``.efg`` file.

    ``game``: the game tree (exact payoffs and chance probabilities, labels made
    unambiguous as the module docstring says). ``comment``: the file's optional
    comment (``""`` if none). ``notes``: what the reader changed or assumed
    (relabelled players, actions or information sets, inexact chance
    probabilities, a non-UTF-8 encoding), one sentence each, for the user to see.
    """

    game: ExtensiveGame
    comment: str
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------- reading
def read_efg(path: str | Path) -> ExtensiveGame:
    """The game tree in the Gambit ``.efg`` file at ``path``.

    Raises :class:`~simulator.errors.InputError` (file, line, field, what was
    expected) for a file that cannot be read or is not a valid ``.efg`` file.
    """
    return read_efg_document(path).game


def read_efg_document(path: str | Path) -> EfgDocument:
    """Like :func:`read_efg`, with the file's comment and the reader's notes."""
    source = str(path)
    text, notes = read_game_text(path)
    document = parse_efg_document(text, source=source)
    if notes:
        document = EfgDocument(document.game, document.comment, (*notes, *document.notes))
    return document


def parse_efg(text: str, *, source: str = "<string>") -> ExtensiveGame:
    """The game tree described by ``text`` in Gambit's ``.efg`` format.

    ``source`` names the text in error messages. Node ``k`` of the returned
    game is the ``k``-th node of the text; see the module docstring for labels
    and numbers.
    """
    return parse_efg_document(text, source=source).game


def parse_efg_document(text: str, *, source: str = "<string>") -> EfgDocument:
    """Like :func:`parse_efg`, with the file's comment and the reader's notes."""
    return _EfgParser(text.removeprefix("\ufeff"), source).read()


@dataclass
class _Outcome:
    name: str
    payoffs: tuple[Number, ...]
    line: int


@dataclass
class _Infoset:
    """A player's information set or a chance event, as the file describes it."""

    player: int | None  # None: a chance event
    number: int  # the file's number
    label: str
    actions: list[str]
    probabilities: list[Number] | None
    line: int
    order: int = 0  # 1-based position among the player's sets (chance: events)
    name: str = ""  # unambiguous name: the label, made unique, or the order
    probability_note: str = ""


@dataclass
class _NodeRecord:
    kind: str  # "p", "c" or "t"
    name: str
    line: int
    infoset: _Infoset | None
    outcome: _Outcome | None
    children: int = 0


class _EfgParser(_Parser):
    """Recursive-descent parser over the tokens of one ``.efg`` text.

    Token access (positions, strings, numbers, messages) is shared with the
    ``.nfg`` reader; the grammar here is the ``.efg`` one.
    """

    def line(self, index: int) -> int:
        """1-based line of token ``index``, by bisection (every node asks for its line)."""
        if self._starts is None:
            self._starts = [match.start() for match in _TOKEN.finditer(self.text)]
            self._starts.append(len(self.text.rstrip()))
            self._newlines = [k for k, c in enumerate(self.text) if c == "\n"]
        return bisect.bisect_left(self._newlines, self._starts[index]) + 1

    def read(self) -> EfgDocument:
        self.header()
        title = self.string(self.expect(_STRING, "title", "the game's title in double quotes"))
        notes: list[str] = []
        players = _unique_labels(self.players(), lambda k: f"player {k}", notes)
        self.n = len(players)
        self.player_names = players
        comment = ""
        if self.kind(self.pos) == _STRING:
            comment = self.string(self.take())
        self.infosets: dict[tuple[int | None, int], _Infoset] = {}
        self.outcomes: dict[int, _Outcome] = {}
        records = self.nodes()
        self.name_infosets(notes)
        game = self.build(records, players, title)
        return EfgDocument(game, comment, tuple(notes))

    def header(self) -> None:
        index = self.take()
        word = self.words[index]
        if word == _END:
            raise self.error(
                index,
                "header",
                "the file is empty; expected a Gambit extensive-form file starting with 'EFG 2 R'",
            )
        if word == "NFG":
            raise self.error(
                index,
                "header",
                "this is a strategic-form (NFG) file; expected an extensive-form file "
                "starting with 'EFG 2 R'",
            )
        if word != "EFG":
            raise self.unexpected(
                index, "header", "'EFG' (a Gambit extensive-form file starts with 'EFG 2 R')"
            )
        index = self.take()
        if self.words[index] != "2":
            raise self.unexpected(index, "header", "the format version '2' after 'EFG'")
        index = self.take()
        if self.words[index] not in ("R", "D"):
            raise self.unexpected(index, "header", "'R' or 'D' after 'EFG 2'")

    # ---------------------------------------------------------------- nodes
    def nodes(self) -> list[_NodeRecord]:
        """Every node of the file in order, checking that they form one tree."""
        records: list[_NodeRecord] = []
        # Nodes still waiting for children: (record, children found so far).
        open_nodes: list[list[int]] = []
        while True:
            index = self.take()
            word = self.words[index]
            if word == _END:
                break
            if records and not open_nodes:
                raise self.error(
                    index,
                    "node",
                    f"the tree is complete (every action has its node) but the file goes on "
                    f"with {self.describe(index)}; nodes are listed in preorder from one root",
                )
            record = self.node(index)
            if open_nodes:
                open_nodes[-1][1] += 1
                if open_nodes[-1][1] == records[open_nodes[-1][0]].children:
                    open_nodes.pop()
            records.append(record)
            if record.children:
                open_nodes.append([len(records) - 1, 0])
        if not records:
            raise self.error(
                self.pos, "node", "the file has no nodes; expected at least a root node"
            )
        if open_nodes:
            record = records[open_nodes[-1][0]]
            assert record.infoset is not None
            action = record.infoset.actions[open_nodes[-1][1]]
            raise InputError.at(
                self.source,
                record.line,
                "node",
                f"the file ends, but action {action!r} of this node has no node after it "
                "(nodes are listed in preorder: a node, then the subtree of each action)",
            )
        return records

    def node(self, index: int) -> _NodeRecord:
        kind = self.words[index]
        line = self.line(index)
        if kind not in ("p", "c", "t"):
            raise self.unexpected(
                index, "node", "a node: 'p' (personal), 'c' (chance) or 't' (terminal)"
            )
        what = {"p": "personal", "c": "chance", "t": "terminal"}[kind]
        name = self.string(self.expect(_STRING, "node", f"the {what} node's name in double quotes"))
        infoset: _Infoset | None = None
        if kind == "p":
            player_index = self.take()
            player = self.integer(player_index, "player", f"the player (1 to {self.n})")
            if not 1 <= player <= self.n:
                raise self.error(
                    player_index,
                    "player",
                    f"player {player} does not exist; players are numbered 1 to {self.n}",
                )
            infoset = self.infoset(player - 1, line)
        elif kind == "c":
            infoset = self.infoset(None, line)
        outcome = self.outcome()
        children = len(infoset.actions) if infoset is not None else 0
        return _NodeRecord(kind, name, line, infoset, outcome, children)

    def integer(self, index: int, field: str, expected: str, minimum: int = 1) -> int:
        word = self.words[index]
        if not _INTEGER.match(word) or int(word) < minimum:
            raise self.unexpected(index, field, expected)
        return int(word)

    def infoset(self, player: int | None, line: int) -> _Infoset:
        """The information set (or chance event) named next, reading its description."""
        chance = player is None
        field = "probabilities" if chance else "infoset"
        what = "chance event" if chance else "information set"
        number_index = self.take()
        number = self.integer(number_index, field, f"the {what} number (a whole number from 1)")
        owner = "" if chance else f" of player {self.player_names[player]!r}"  # type: ignore[index]
        known = self.infosets.get((player, number))
        if self.kind(self.pos) != _STRING:
            if known is None:
                raise self.error(
                    number_index,
                    field,
                    f"{what} {number}{owner} appears here for the first time without its "
                    "label and actions; the first node of a set must describe it",
                )
            return known
        label = self.string(self.take())
        actions, probabilities = self.actions(chance)
        if known is None:
            described = _Infoset(player, number, label, actions, probabilities, line)
            self.infosets[(player, number)] = described
            return described
        if (label, actions, probabilities) != (known.label, known.actions, known.probabilities):
            raise self.error(
                number_index,
                field,
                f"{what} {number}{owner} is described differently on line {known.line} "
                f"({known.label!r}, actions {known.actions}); a repeated description must "
                "match the first one exactly, or be left out",
            )
        return known

    def actions(self, chance: bool) -> tuple[list[str], list[Number] | None]:
        field = "probabilities" if chance else "actions"
        self.expect("{", field, "'{' opening the list of actions")
        labels: list[str] = []
        probabilities: list[Number] = []
        expected = "an action label in double quotes" + (", or '}'" if not chance else "")
        if chance:
            expected = "an action label in double quotes followed by its probability, or '}'"
        while True:
            index = self.take()
            kind = self.kind(index)
            if kind == "}":
                break
            if kind == "," and labels:
                continue
            if kind != _STRING:
                raise self.unexpected(index, field, expected)
            labels.append(self.string(index))
            if chance:
                index = self.take()
                value = self.number(index, field)
                if value is None:
                    raise self.unexpected(
                        index, field, f"the probability of action {labels[-1]!r} (a number)"
                    )
                probabilities.append(value)
        if not labels:
            raise self.error(index, field, "the list of actions is empty")
        return labels, probabilities if chance else None

    def outcome(self) -> _Outcome | None:
        index = self.take()
        number = self.integer(
            index, "outcome", "the outcome number (a whole number; 0 for none)", minimum=0
        )
        described = self.kind(self.pos) == _STRING
        if number == 0:
            if described:
                raise self.error(
                    self.pos, "outcome", "outcome 0 means no outcome and has no name or payoffs"
                )
            return None
        known = self.outcomes.get(number)
        if not described:
            if known is None:
                raise self.error(
                    index,
                    "outcome",
                    f"outcome {number} appears here for the first time without its name and "
                    "payoffs; the first use of an outcome must describe it",
                )
            return known
        name = self.string(self.take())
        payoffs = self.payoffs(number)
        if known is None:
            self.outcomes[number] = _Outcome(name, payoffs, self.line(index))
            return self.outcomes[number]
        if (name, payoffs) != (known.name, known.payoffs):
            raise self.error(
                index,
                "outcome",
                f"outcome {number} is described differently on line {known.line} "
                f"({known.name!r}); a repeated description must match the first one exactly, "
                "or be left out",
            )
        return known

    def payoffs(self, number: int) -> tuple[Number, ...]:
        field = "payoffs"
        self.expect("{", field, f"'{{' opening the payoffs of outcome {number}")
        values: list[Number] = []
        while True:
            index = self.take()
            word = self.words[index]
            if word == "}":
                break
            if word == "," and values:
                continue
            value = self.number(index, field)
            if value is None:
                expected = (
                    f"a number (player {self.player_names[len(values)]!r}'s payoff)"
                    if len(values) < self.n
                    else "'}' closing the payoffs"
                )
                raise self.unexpected(index, field, expected)
            values.append(value)
        if len(values) != self.n:
            raise self.error(
                index,
                field,
                f"outcome {number} gives {len(values)} payoffs; expected one for each of the "
                f"{self.n} players",
            )
        return tuple(values)

    # --------------------------------------------------------------- labels
    def name_infosets(self, notes: list[str]) -> None:
        """Number the sets by first appearance and give each an unambiguous name."""
        counters: Counter[int | None] = Counter()
        by_player: dict[int | None, list[_Infoset]] = {}
        for h in self.infosets.values():  # dicts keep first-appearance order
            counters[h.player] += 1
            h.order = counters[h.player]
            by_player.setdefault(h.player, []).append(h)
            h.actions = _unique_labels(h.actions, _action_of(h, self.player_names), notes)
            if h.probabilities is not None:
                h.probability_note = self.probability_check(h)
                if h.probability_note:
                    notes.append(h.probability_note)
        for player, sets in by_player.items():
            if player is None:
                for h in sets:
                    h.name = h.label
                continue
            reserved = {str(h.order) for h in sets if not h.label}
            taken = reserved | {h.label for h in sets if h.label}
            counts = Counter(h.label for h in sets if h.label)
            used: Counter[str] = Counter()
            for h in sets:
                if not h.label:
                    h.name = str(h.order)
                    continue
                if counts[h.label] == 1 and h.label not in reserved:
                    h.name = h.label
                    continue
                new = h.label
                while new in taken:
                    used[h.label] += 1
                    new = f"{h.label}_{used[h.label]}"
                taken.add(new)
                why = "repeats the label" if counts[h.label] > 1 else "has as its label the number"
                notes.append(
                    f"information set {h.number} of player {self.player_names[player]!r} "
                    f"(line {h.line}) {why} {h.label!r} of another set; it is shown as {new!r}"
                )
                h.name = new

    @staticmethod
    def probability_check(h: _Infoset) -> str:
        """A note when decimal probabilities sum to 1 only approximately ('' otherwise)."""
        assert h.probabilities is not None
        total = sum(h.probabilities)
        if total == 1 or abs(float(total) - 1.0) > RTOL:
            return ""  # exact, or wrong: the tree builder reports a wrong sum
        return (
            f"chance event {h.number} (line {h.line}) has probabilities that sum to "
            f"{total} rather than exactly 1; they are used as floating-point numbers"
        )

    # ---------------------------------------------------------------- build
    def absent_minded(self, records: list[_NodeRecord]) -> None:
        """Raise when a player's information set is met twice on one path.

        The player would not know that it has already moved there
        (absent-mindedness, Piccione and Rubinstein 1997); negsim's game trees
        require every node of a set to lie on a different path.
        """
        parents: list[int | None] = []
        open_nodes: list[list[int]] = []
        for k, record in enumerate(records):
            parents.append(open_nodes[-1][0] if open_nodes else None)
            if open_nodes:
                open_nodes[-1][1] += 1
                if open_nodes[-1][1] == records[open_nodes[-1][0]].children:
                    open_nodes.pop()
            if record.children:
                open_nodes.append([k, 0])
        repeated: dict[tuple[int | None, int], list[int]] = {}
        for k, record in enumerate(records):
            h = record.infoset
            if h is None or h.player is None:
                continue
            ancestor = parents[k]
            while ancestor is not None and records[ancestor].infoset is not h:
                ancestor = parents[ancestor]
            if ancestor is not None:
                lines = repeated.setdefault((h.player, h.number), [records[ancestor].line])
                lines.append(record.line)
        problems = []
        for (player, number), lines in repeated.items():
            assert player is not None
            shown = ", ".join(str(line) for line in sorted(set(lines)))
            problems.append(
                Problem(
                    self.source,
                    min(lines),
                    "infoset",
                    f"information set {number} of player {self.player_names[player]!r} is "
                    f"met more than once on one path (its nodes on lines {shown} follow "
                    "other nodes of the set): the player would not know it has already moved "
                    "there (absent-mindedness), which negsim's game trees do not represent",
                )
            )
        if problems:
            raise InputError(problems)

    def build(self, records: list[_NodeRecord], players: list[str], title: str) -> ExtensiveGame:
        self.absent_minded(records)
        builder = TreeBuilder(players, title=title)
        handles: list[int] = []
        zero: tuple[Number, ...] = (0,) * self.n
        accumulated: list[tuple[Number, ...]] = []
        stack: list[list[int]] = []  # [record index, next action] of nodes awaiting children
        for k, record in enumerate(records):
            parent_total = accumulated[stack[-1][0]] if stack else zero
            own = record.outcome.payoffs if record.outcome is not None else zero
            total = tuple(a + b for a, b in zip(parent_total, own, strict=True))
            accumulated.append(total)
            h = record.infoset
            if record.kind == "t":
                handle = builder.terminal(
                    total,
                    label=record.name,
                    outcome=record.outcome.name if record.outcome is not None else "",
                    key=record.line,
                )
            elif record.kind == "c":
                assert h is not None and h.probabilities is not None
                probabilities: list[float | Fraction] = [Fraction(p) for p in h.probabilities]
                if h.probability_note:
                    probabilities = [float(p) for p in probabilities]
                handle = builder.chance(
                    h.actions, probabilities, label=record.name, key=record.line
                )
            else:
                assert h is not None and h.player is not None
                handle = builder.decision(
                    h.player, h.actions, infoset=h.name, label=record.name, key=record.line
                )
            handles.append(handle)
            if stack:
                parent = stack[-1]
                builder.connect(handles[parent[0]], parent[1], handle)
                parent[1] += 1
                if parent[1] == records[parent[0]].children:
                    stack.pop()
            if record.children:
                stack.append([k, 0])
        try:
            game = builder.build(handles[0])
        except TreeError as error:
            problems = {
                Problem(
                    self.source,
                    problem.key if isinstance(problem.key, int) else None,
                    _field_of(problem.field),
                    problem.message,
                ): None
                for problem in error.problems
            }
            raise InputError(list(problems)) from None
        return self.relabel(game, records)

    @staticmethod
    def relabel(game: ExtensiveGame, records: list[_NodeRecord]) -> ExtensiveGame:
        """The game with each set's label as in the file.

        The builder identifies sets by name and labels chance sets by node; the
        file's own labels (empty ones included) replace them here.
        """
        infosets: list[InfoSet] = []
        for h in game.infosets:
            described = records[h.nodes[0]].infoset
            assert described is not None
            # A player's labelled set keeps its (unambiguous) name; an unlabelled one
            # stays unlabelled and is named by its number.
            label = described.name if h.player is not None and described.label else described.label
            infosets.append(dataclasses.replace(h, label=label))
        return dataclasses.replace(game, infosets=tuple(infosets))


def _action_of(h: _Infoset, players: list[str]) -> Callable[[int], str]:
    where = (
        f"chance event {h.number}"
        if h.player is None
        else f"information set {h.number} of player {players[h.player]!r}"
    )
    return lambda k: f"action {k} of {where} (line {h.line})"


def _field_of(field: str) -> str:
    if field.startswith("actions"):
        return "actions"
    return field or "node"


# --------------------------------------------------------------------- writing
def write_efg(game: ExtensiveGame, *, comment: str = "") -> str:
    r"""``game`` as the text of a Gambit ``.efg`` file (version 2, with labels).

    Payoffs are written at the terminal nodes (a game read from a file with
    outcomes at non-terminal nodes has them folded into the terminals, which is
    the same game), each terminal with an outcome of its own name, numbered in
    order of first appearance. Exact payoffs and chance probabilities are
    written as integers or ``p/q``; floats as ``repr``, which reads back to the
    same float. Information sets are written with their numbers within the
    player and their labels; chance nodes with the same label, actions and
    probabilities share one chance event (the reader gives each chance node a
    set of its own again).
    ``parse_efg(write_efg(g))`` has the same tree, information sets, labels,
    chance probabilities and payoffs as ``g`` whenever ``g``'s labels are
    unambiguous (see the module docstring for how the reader treats others).

    Labels are written as they are. Gambit (16.6 and later) reads the result
    when the labels also meet its own stricter rules: printable ASCII without
    leading, trailing or doubled spaces, and no backslash (a quote is written
    ``\"``; Gambit keeps ``\\`` as two characters); node labels distinct
    unless empty; chance events with distinct labels. Files Gambit itself
    refuses (repeated node labels, say) are written back the same way.
    """
    lines = [
        f"EFG 2 R {_quote(game.title)} {{ {' '.join(_quote(p) for p in game.players)} }}",
        _quote(comment),
        "",
    ]
    exact_payoffs = game.exact_terminal_payoffs
    outcome_numbers: dict[tuple[str, tuple[str, ...]], int] = {}
    events: dict[tuple[str, str], int] = {}
    terminal_row = {t: k for k, t in enumerate(game.terminals)}
    for node in game.nodes:
        label = _quote(node.label)
        if node.infoset is None:
            row = terminal_row[node.index]
            values = exact_payoffs[row] if exact_payoffs is not None else game.terminal_payoffs[row]
            payoffs = tuple(_format_number(v) for v in values)
            number = outcome_numbers.setdefault((node.outcome, payoffs), len(outcome_numbers) + 1)
            lines.append(f"t {label} {number} {_quote(node.outcome)} {{ {', '.join(payoffs)} }}")
            continue
        h = game.infosets[node.infoset]
        if h.player is None:
            probabilities = h.exact_probabilities or h.probabilities or ()
            actions = " ".join(
                f"{_quote(a)} {_format_number(p)}"
                for a, p in zip(h.actions, probabilities, strict=True)
            )
            # Chance nodes alike in label, actions and probabilities share one event,
            # as in the file they came from (Gambit wants chance labels unique).
            event = events.setdefault((h.label, actions), len(events) + 1)
            lines.append(f"c {label} {event} {_quote(h.label)} {{ {actions} }} 0")
        else:
            actions = " ".join(_quote(a) for a in h.actions)
            lines.append(f"p {label} {h.player + 1} {h.number} {_quote(h.label)} {{ {actions} }} 0")
    return "\n".join(lines) + "\n"


def save_efg(game: ExtensiveGame, path: str | Path, *, comment: str = "") -> Path:
    """Write ``game`` to ``path`` as a ``.efg`` file, atomically; returns the path.

    The text (:func:`write_efg`) goes to a new temporary file in the same
    directory, which is then renamed over ``path``, so ``path`` is never seen
    half-written and an existing file stays intact if writing fails.
    """
    target = Path(path)
    write_text_atomic(target, write_efg(game, comment=comment))
    return target
