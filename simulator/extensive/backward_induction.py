r"""Every pure subgame-perfect equilibrium of a game of perfect information.

Notation
--------
In a game of perfect information every information set is a single node, so
every decision node :math:`v` roots a subgame. A pure behaviour profile
:math:`b` chooses one action :math:`b(v)` at each decision node; :math:`u(v; b)`
is the vector of the players' payoffs from :math:`v` on (expected over chance
below :math:`v`). The profile is **subgame perfect** (Selten 1965) exactly when
at every decision node :math:`v` of player :math:`i`

.. math:: u_i(c_{b(v)}; b) \ge u_i(c_a; b) \quad \text{for every action } a,

where :math:`c_a` is the child reached by :math:`a` (the one-shot deviation
principle: in a finite tree, no profitable deviation in a subgame means no
profitable one-step deviation at its root). Backward induction (Zermelo 1913;
Kuhn 1953) chooses a best action at each node from the leaves up.

All of them, ties included
--------------------------
When a mover is indifferent, every best action starts further equilibria, and
the values *above* the tie depend on which tied action is taken, so the set is
not a product of local choices. The solver therefore works with **value
classes**: for every node :math:`v`, the distinct payoff vectors
:math:`u(v; b)` over the subgame-perfect profiles :math:`b` of :math:`v`'s
subtree, each with the number of such profiles. Bottom up:

* at a terminal node, one class (its payoffs), count 1;
* at a chance node, one class per combination of the children's classes, whose
  value is the probability-weighted sum, whose count is the product;
* at a decision node of player :math:`i`, action :math:`a` with a class
  :math:`w` of child :math:`c_a` is optimal exactly when every other child
  :math:`c_b` plays a sub-profile worth at most :math:`w_i` to :math:`i`, so
  the class :math:`w` of :math:`v` gets
  :math:`n_a(w) \prod_{b \ne a} \#\{\text{profiles of } c_b : u_i \le w_i\}`
  profiles (zero when some child has none).

The root's counts add up to the number of pure subgame-perfect equilibria
(exact, as a Python integer, however large); the profiles themselves are then
listed by a depth-first walk that expands each node only into classes it can
take, so every profile listed is an equilibrium and none is listed twice. The
walk stops after ``max_equilibria`` profiles.

Exactness
---------
When every payoff and chance probability is rational, values are Fractions and
ties are exact ties. Otherwise values are floats and actions whose value is
within ``game.tolerance.payoff`` of the best count as tied (see
:mod:`simulator.tolerance`). Every profile goes through
:func:`~simulator.extensive.behavior.verify_behavior` (regret in every
subgame) before it is reported.

Mixed equilibria
----------------
Wherever a mover is indifferent, mixing among the tied actions gives further
subgame-perfect equilibria in behaviour strategies. They are not listed: the
result's scope is the pure ones.

Example
-------
>>> from simulator.extensive.tree import TreeBuilder
>>> b = TreeBuilder(["Entrant", "Incumbent"])
>>> root = b.decision("Entrant", ["in", "out"])
>>> reply = b.decision("Incumbent", ["fight", "accommodate"])
>>> b.connect(root, 0, reply)
>>> b.connect(root, 1, b.terminal([0, 2]))
>>> b.connect(reply, 0, b.terminal([-1, -1]))
>>> b.connect(reply, 1, b.terminal([1, 1]))
>>> result = backward_induction(b.build(root))
>>> [(m.mover, m.action) for m in result.equilibria[0].path], result.complete
([('Entrant', 'in'), ('Incumbent', 'accommodate')], True)
"""

from __future__ import annotations

import bisect
import itertools
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from simulator.extensive.behavior import verify_behavior
from simulator.extensive.results import BehaviorEquilibrium, SequentialResult
from simulator.extensive.tree import ExtensiveGame

__all__ = ["SCOPE", "backward_induction", "count_subgame_perfect"]

SCOPE = "all pure subgame-perfect equilibria"

MAX_CHANCE_COMBINATIONS = 1_000_000
"""Most combinations of the children's value classes examined at one chance node."""

Value = tuple[Any, ...]
"""A payoff vector: Fractions (exact games) or floats."""

_Task = tuple[int, tuple[Value, ...]]
"""A node whose sub-profile is still to be chosen, and the value classes it may take."""
_Pending = Any
"""The tasks still to do, as a linked list: ``None`` or ``(task, rest)``."""


@dataclass
class _Classes:
    """The value classes of one node's subtree (see the module notes).

    ``count[w]``: how many subgame-perfect sub-profiles have value ``w``.
    ``ways[w]`` (decision nodes): the actions ``a`` through which ``w`` arises
    (``w`` is then a class of child ``a``); (chance nodes): the tuples of the
    children's classes whose weighted sum is ``w``.
    """

    count: dict[Value, int]
    ways: dict[Value, list[Any]]


class _Solver:
    """The bottom-up pass over one perfect-information tree."""

    def __init__(self, game: ExtensiveGame) -> None:
        self.game = game
        self.exact = game.exact_terminal_payoffs is not None and all(
            h.exact_probabilities is not None for h in game.chance_infosets
        )
        self.tol: Any = Fraction(0) if self.exact else game.tolerance.payoff
        self.classes: list[_Classes | None] = [None] * len(game.nodes)
        # Per node and player: the sub-profiles' values to that player, sorted, with
        # cumulative counts, to count those worth at most a bound.
        self._sorted: dict[tuple[int, int], tuple[list[Any], list[int]]] = {}
        self._rows = {t: k for k, t in enumerate(game.terminals)}
        for v in range(len(game.nodes) - 1, -1, -1):  # reverse preorder: children first
            self.classes[v] = self._classes(v)

    # ------------------------------------------------------------- bottom up
    def _classes(self, v: int) -> _Classes:
        game = self.game
        node = game.nodes[v]
        if node.is_terminal:
            row = self._rows[v]
            if self.exact:
                assert game.exact_terminal_payoffs is not None
                value: Value = tuple(game.exact_terminal_payoffs[row])
            else:
                value = tuple(float(x) for x in game.terminal_payoffs[row])
            return _Classes({value: 1}, {})
        assert node.infoset is not None
        h = game.infosets[node.infoset]
        if h.player is None:
            return self._chance(v)
        return self._decision(v, h.player)

    def _decision(self, v: int, player: int) -> _Classes:
        children = self.game.nodes[v].children
        count: dict[Value, int] = {}
        ways: dict[Value, list[Any]] = {}
        for a, child in enumerate(children):
            child_classes = self.child(child)
            for w, n in child_classes.count.items():
                total = n
                for b, other in enumerate(children):
                    if b == a:
                        continue
                    total *= self.at_most(other, player, w[player])
                    if total == 0:
                        break
                if total == 0:
                    continue
                count[w] = count.get(w, 0) + total
                ways.setdefault(w, []).append(a)
        return _Classes(count, ways)

    def _chance(self, v: int) -> _Classes:
        game = self.game
        h = game.infosets[game.nodes[v].infoset]  # type: ignore[index]
        probabilities: Sequence[Any] = (
            h.exact_probabilities if self.exact and h.exact_probabilities else h.probabilities
        ) or ()
        lists = [list(self.child(c).count.items()) for c in game.nodes[v].children]
        combinations = math.prod(len(items) for items in lists)
        if combinations > MAX_CHANCE_COMBINATIONS:
            raise ValueError(
                f"backward_induction: the chance node {v} combines {combinations:,} value "
                f"classes of its subtrees (more than {MAX_CHANCE_COMBINATIONS:,}): the "
                "subgames below it have too many distinct subgame-perfect values to list"
            )
        n = game.n_players
        count: dict[Value, int] = {}
        ways: dict[Value, list[Any]] = {}
        for combo in itertools.product(*lists):
            value = tuple(
                sum((p * w[i] for p, (w, _) in zip(probabilities, combo, strict=True)), start=0)
                for i in range(n)
            )
            if not self.exact:
                value = tuple(float(x) for x in value)
            number = math.prod(k for _, k in combo)
            count[value] = count.get(value, 0) + number
            ways.setdefault(value, []).append(tuple(w for w, _ in combo))
        return _Classes(count, ways)

    def child(self, v: int) -> _Classes:
        classes = self.classes[v]
        assert classes is not None
        return classes

    def at_most(self, v: int, player: int, bound: Any) -> int:
        """How many sub-profiles of ``v``'s subtree give ``player`` at most ``bound`` (+ tol)."""
        key = (v, player)
        if key not in self._sorted:
            items = sorted((w[player], n) for w, n in self.child(v).count.items())
            values = [u for u, _ in items]
            cumulative = list(itertools.accumulate(n for _, n in items))
            self._sorted[key] = (values, cumulative)
        values, cumulative = self._sorted[key]
        k = bisect.bisect_right(values, bound + self.tol)
        return cumulative[k - 1] if k else 0

    def allowed(self, v: int, player: int, bound: Any) -> tuple[Value, ...]:
        """The classes of ``v`` that give ``player`` at most ``bound`` (+ tol)."""
        limit = bound + self.tol
        return tuple(w for w in self.child(v).count if w[player] <= limit)

    # ------------------------------------------------------------- listing
    def profiles(self) -> Iterator[list[int]]:
        """Every pure subgame-perfect profile: the action chosen at each node (-1 elsewhere).

        A depth-first walk over *tasks* (a node and the classes its sub-profile
        may take), kept as a linked list so that backtracking is free; each
        frame on the explicit stack sets the action of its node.
        """
        game = self.game
        choice = [-1] * len(game.nodes)
        root = 0
        if game.nodes[root].is_terminal:
            yield choice
            return

        def push(tasks: list[_Task], rest: _Pending) -> _Pending:
            for task in reversed(tasks):
                if not game.nodes[task[0]].is_terminal:
                    rest = (task, rest)
            return rest

        def options(v: int, classes: tuple[Value, ...], rest: _Pending) -> Iterator[_Pending]:
            node = game.nodes[v]
            h = game.infosets[node.infoset]  # type: ignore[index]
            ways = self.child(v).ways
            if h.player is None:
                for w in classes:
                    for combo in ways[w]:
                        yield push(
                            [(c, (cw,)) for c, cw in zip(node.children, combo, strict=True)],
                            rest,
                        )
                return
            player = h.player
            pairs = sorted((a, k, w) for k, w in enumerate(classes) for a in ways[w])
            for a, _, w in pairs:
                choice[v] = a
                tasks = [
                    (c, (w,) if b == a else self.allowed(c, player, w[player]))
                    for b, c in enumerate(node.children)
                ]
                yield push(tasks, rest)

        start: _Pending = ((root, tuple(self.child(root).count)), None)
        stack: list[Iterator[_Pending]] = [iter([start])]
        while stack:
            try:
                pending = next(stack[-1])
            except StopIteration:
                stack.pop()
                continue
            if pending is None:
                yield choice
                continue
            (v, classes), rest = pending
            stack.append(options(v, classes, rest))

    @property
    def total(self) -> int:
        return sum(self.child(0).count.values())


def count_subgame_perfect(game: ExtensiveGame) -> int:
    """The number of pure subgame-perfect equilibria of a perfect-information ``game``.

    Exact however large (a Python integer), found without listing them (see
    the module notes). Raises ``ValueError`` as :func:`backward_induction` does.
    """
    _require_perfect_information(game, "count_subgame_perfect")
    return _Solver(game).total


def backward_induction(game: ExtensiveGame, *, max_equilibria: int = 10_000) -> SequentialResult:
    """Every pure subgame-perfect equilibrium of a game of perfect information.

    ``game``: a tree whose information sets are all single nodes (chance nodes
    allowed). Returns a :class:`~simulator.extensive.results.SequentialResult`
    (method ``"backward-induction"``) whose equilibria are behaviour profiles
    (one 0/1 array per information set; chance sets hold the chance
    probabilities), each verified subgame perfect by
    :func:`~simulator.extensive.behavior.verify_behavior`, with its path. Where
    movers are indifferent there are several; all are listed (see the module
    notes for how), up to ``max_equilibria``: beyond that the result says how
    many there are and has ``complete=False``.

    Raises ``ValueError`` when an information set has several nodes (use the
    sequence form or the reduced strategic form for such games) or when
    ``max_equilibria`` is not positive.

    Zermelo (1913); Kuhn (1953); Selten (1965) for subgame perfection.
    """
    if isinstance(max_equilibria, bool) or not isinstance(max_equilibria, int):
        raise TypeError(
            f"backward_induction: max_equilibria must be an integer, got {max_equilibria!r}"
        )
    if max_equilibria < 1:
        raise ValueError(f"backward_induction: max_equilibria must be >= 1, got {max_equilibria}")
    _require_perfect_information(game, "backward_induction")
    started = time.perf_counter()
    solver = _Solver(game)
    total = solver.total
    exact_zero = Fraction(0), Fraction(1)
    equilibria: list[BehaviorEquilibrium] = []
    rejected = 0
    for choice in itertools.islice(solver.profiles(), max_equilibria):
        behavior, exact = _behavior(game, choice, exact_zero if solver.exact else None)
        eq = verify_behavior(game, behavior, "subgame_perfect", exact=exact)
        if eq is None:
            rejected += 1
        else:
            equilibria.append(eq)
    listed = min(total, max_equilibria)
    notes = [
        "payoffs compared exactly (rational numbers): ties are exact ties"
        if solver.exact
        else f"payoffs compared in floating point: actions within {game.tolerance.payoff:.3g} "
        "of the best count as tied"
    ]
    if total > max_equilibria:
        notes.append(
            f"there are {total:,} pure subgame-perfect equilibria; the first "
            f"{max_equilibria:,} are listed (max_equilibria={max_equilibria:,})"
        )
    if total > 1:
        notes.append(
            "movers are indifferent between actions: mixing among tied actions gives "
            "further (mixed) subgame-perfect equilibria, which are not listed"
        )
    if rejected:
        notes.append(
            f"{rejected} of the {listed} profiles found failed verification (near-ties within "
            "the tolerance that add up along a path) and are not listed"
        )
    return SequentialResult(
        method="backward-induction",
        game=game,
        equilibria=tuple(equilibria),
        complete=total <= max_equilibria and rejected == 0,
        scope=SCOPE,
        rejected=rejected,
        notes=tuple(notes),
        options={"max_equilibria": max_equilibria},
        elapsed=time.perf_counter() - started,
    )


def _require_perfect_information(game: ExtensiveGame, function: str) -> None:
    for h in game.infosets:
        if h.player is not None and len(h.nodes) > 1:
            raise ValueError(
                f"{function}: the game does not have perfect information: "
                f"{game.players[h.player]}'s information set {h.name!r} has nodes "
                f"{list(h.nodes)}; backward induction needs every information set to be a "
                "single node (solve such games by the sequence form or the reduced "
                "strategic form)"
            )


def _behavior(
    game: ExtensiveGame, choice: Sequence[int], exact_units: tuple[Fraction, Fraction] | None
) -> tuple[tuple[np.ndarray, ...], tuple[tuple[Fraction, ...], ...] | None]:
    """The 0/1 behaviour profile choosing ``choice[v]`` at each decision node ``v``.

    Also returns it in Fractions (with exact chance probabilities) when
    ``exact_units`` (zero and one) is given.
    """
    behavior = []
    exact = []
    for h in game.infosets:
        if h.player is None:
            behavior.append(np.asarray(h.probabilities, dtype=float))
            if exact_units is not None:
                assert h.exact_probabilities is not None
                exact.append(tuple(h.exact_probabilities))
            continue
        a = choice[h.nodes[0]]
        probs = np.zeros(len(h.actions))
        probs[a] = 1.0
        behavior.append(probs)
        if exact_units is not None:
            zero, one = exact_units
            exact.append(tuple(one if k == a else zero for k in range(len(h.actions))))
    return tuple(behavior), (tuple(exact) if exact_units is not None else None)
