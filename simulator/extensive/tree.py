r"""Extensive-form games (game trees) with chance moves and information sets.

Notation
--------
A game tree has players :math:`i = 0, \dots, n-1` and nodes numbered in
preorder from the root (node 0). A node is

* a **decision node** of player :math:`i`, which belongs to one of :math:`i`'s
  information sets: the nodes that player cannot tell apart when moving, all
  with the same actions;
* a **chance node**, whose actions have fixed probabilities (each chance node is
  an information set of its own, whose ``player`` is ``None``);
* a **terminal node**, with a payoff for every player (and, in scenario trees,
  the deal terms the payoffs come from).

``game.infosets`` lists the information sets; ``infoset.index`` is a set's
position in that tuple (the *global* index) and ``infoset.number`` its 1-based
position among its player's sets, which names it in reports when it has no
label (as Gambit numbers them).

**Behaviour profiles, stated once.** A behaviour profile is a sequence with
one 1-D probability array per information set, indexed by the global index:
``behavior[h][a]`` is the probability of action ``a`` at information set
``h``. Chance sets hold their fixed probabilities (see
:meth:`ExtensiveGame.uniform_behavior`). Players' strategies in behaviour form
(Kuhn 1953) are the entries of that player's sets.

Build a tree with :class:`TreeBuilder`, which checks that it is a tree (no
cycles, every node reachable, every action leading to exactly one node,
chance probabilities summing to 1, consistent information sets) and reports
every problem it finds at once as a :class:`TreeError`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from simulator.tolerance import RTOL, Tolerance

NodeKind = Literal["decision", "chance", "terminal"]
Behavior = Sequence[np.ndarray]
"""One probability array per information set (global index); see the module notes."""

CHANCE = "chance"
"""How chance is named where a player's name would stand (paths, reports)."""


@dataclass(frozen=True)
class Node:
    """One node of a game tree.

    ``children[a]`` is the node reached by action ``a`` (decision and chance
    nodes); ``parent_action`` is the action at ``parent`` that leads here.
    ``payoffs`` (terminal nodes only) has one float per player; ``deal`` holds
    the deal terms a scenario's terminal node names (empty otherwise).
    """

    index: int
    kind: NodeKind
    label: str
    parent: int | None
    parent_action: int | None
    children: tuple[int, ...]
    infoset: int | None
    payoffs: tuple[float, ...] | None = None
    outcome: str = ""
    deal: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def is_terminal(self) -> bool:
        return self.kind == "terminal"


@dataclass(frozen=True)
class InfoSet:
    """An information set: the decision nodes a player cannot tell apart.

    ``player`` is the mover's index, or ``None`` for a chance node (each chance
    node is a set of its own). ``number`` is the set's 1-based position among
    its player's sets (among chance sets for chance). ``probabilities`` (chance
    only) are floats, with ``exact_probabilities`` as Fractions when the file
    gave rational numbers.
    """

    index: int
    player: int | None
    number: int
    label: str
    actions: tuple[str, ...]
    nodes: tuple[int, ...]
    probabilities: tuple[float, ...] | None = None
    exact_probabilities: tuple[Fraction, ...] | None = None

    @property
    def is_chance(self) -> bool:
        return self.player is None

    @property
    def name(self) -> str:
        """The set's label, or its number within the player when it has none."""
        return self.label or str(self.number)


@dataclass(frozen=True)
class Move:
    """One move on an equilibrium path: ``mover`` chose ``action`` at ``node``.

    ``mover`` is a player's name or :data:`CHANCE`; ``probability`` is the
    probability that the move is made (reaching ``node`` and choosing
    ``action``); ``choice`` the probability of ``action`` at ``node``.
    """

    node: int
    mover: str
    infoset: int
    action: str
    probability: float
    choice: float


@dataclass(frozen=True, eq=False)
class ExtensiveGame:
    """A finite game tree with labelled players, actions and information sets.

    Build with :class:`TreeBuilder`. ``nodes`` are in preorder (the root is
    node 0); ``terminals`` lists the terminal nodes in preorder and
    ``terminal_payoffs[t, i]`` is player ``i``'s payoff at ``terminals[t]``
    (with ``exact_terminal_payoffs`` as Fractions when every payoff is rational).
    """

    players: tuple[str, ...]
    nodes: tuple[Node, ...]
    infosets: tuple[InfoSet, ...]
    terminals: tuple[int, ...]
    terminal_payoffs: np.ndarray
    exact_terminal_payoffs: tuple[tuple[Fraction, ...], ...] | None = None
    title: str = ""
    tolerance: Tolerance = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tolerance", Tolerance.for_payoffs(self.terminal_payoffs, RTOL))

    # -------------------------------------------------------------- structure
    @property
    def n_players(self) -> int:
        return len(self.players)

    @property
    def root(self) -> Node:
        return self.nodes[0]

    def player_index(self, player: str) -> int:
        try:
            return self.players.index(player)
        except ValueError:
            raise KeyError(f"no player {player!r}; players are {list(self.players)}") from None

    def player_infosets(self, player: int) -> tuple[InfoSet, ...]:
        """Player ``player``'s information sets, in order of their numbers."""
        return tuple(h for h in self.infosets if h.player == player)

    @property
    def chance_infosets(self) -> tuple[InfoSet, ...]:
        return tuple(h for h in self.infosets if h.player is None)

    @property
    def has_chance(self) -> bool:
        return any(h.player is None for h in self.infosets)

    @property
    def is_perfect_information(self) -> bool:
        """Whether every player's information set is a single node."""
        return all(len(h.nodes) == 1 for h in self.infosets)

    def mover(self, node: Node | int) -> str:
        """Who moves at ``node``: a player's name or :data:`CHANCE`."""
        n = self.nodes[node] if isinstance(node, int) else node
        if n.infoset is None:
            raise ValueError(f"node {n.index} is terminal: nobody moves there")
        player = self.infosets[n.infoset].player
        return CHANCE if player is None else self.players[player]

    def action_label(self, node: Node | int, action: int) -> str:
        n = self.nodes[node] if isinstance(node, int) else node
        if n.infoset is None:
            raise ValueError(f"node {n.index} is terminal: it has no actions")
        return self.infosets[n.infoset].actions[action]

    def own_history(self, node: int, player: int) -> tuple[tuple[int, int], ...]:
        """The (information set, action) pairs of ``player`` on the way to ``node``.

        Under perfect recall (Kuhn 1953) every node of an information set has
        the same history: the player's *sequence* at that set (von Stengel 1996).
        """
        history: list[tuple[int, int]] = []
        current = self.nodes[node]
        while current.parent is not None:
            parent = self.nodes[current.parent]
            assert parent.infoset is not None and current.parent_action is not None
            if self.infosets[parent.infoset].player == player:
                history.append((parent.infoset, current.parent_action))
            current = parent
        return tuple(reversed(history))

    @property
    def has_perfect_recall(self) -> bool:
        """Whether each player always remembers its own earlier moves and sets.

        True when, for every information set, all of its nodes share the
        mover's own history (the sets visited and actions taken there).
        """
        return not self.recall_violations()

    def recall_violations(self) -> tuple[str, ...]:
        """Readable reasons why perfect recall fails (empty when it holds)."""
        problems = []
        for h in self.infosets:
            if h.player is None or len(h.nodes) < 2:
                continue
            histories = {self.own_history(v, h.player) for v in h.nodes}
            if len(histories) > 1:
                problems.append(
                    f"{self.players[h.player]}'s information set {h.name!r}: its nodes "
                    f"{list(h.nodes)} follow different moves of {self.players[h.player]}'s own"
                )
        return tuple(problems)

    # -------------------------------------------------------------- behaviour
    def uniform_behavior(self) -> tuple[np.ndarray, ...]:
        """The behaviour profile that mixes uniformly at every player's set."""
        out = []
        for h in self.infosets:
            if h.probabilities is not None:
                out.append(np.array(h.probabilities, dtype=float))
            else:
                out.append(np.full(len(h.actions), 1.0 / len(h.actions)))
        return tuple(out)

    def check_behavior(self, behavior: Behavior) -> tuple[np.ndarray, ...]:
        """``behavior`` as float arrays, after checking lengths, signs and sums.

        Chance sets must carry the chance probabilities (within the tolerance).
        Raises ``ValueError`` saying which set is wrong.
        """
        if len(behavior) != len(self.infosets):
            raise ValueError(
                f"a behaviour profile needs one array per information set "
                f"({len(self.infosets)}), got {len(behavior)}"
            )
        tol = 1e3 * self.tolerance.probability
        out = []
        for h, probs in zip(self.infosets, behavior, strict=True):
            p = np.asarray(probs, dtype=float).reshape(-1)
            where = f"information set {h.name!r} of {self.describe_mover(h)}"
            if p.shape != (len(h.actions),):
                raise ValueError(f"{where}: {len(h.actions)} probabilities expected, got {p.size}")
            if not np.all(np.isfinite(p)) or p.min() < -tol or abs(p.sum() - 1.0) > tol:
                raise ValueError(f"{where}: probabilities {p.tolist()} are not a distribution")
            if h.probabilities is not None and np.abs(p - h.probabilities).max() > tol:
                raise ValueError(f"{where}: chance probabilities cannot change")
            out.append(np.clip(p, 0.0, None))
        return tuple(out)

    def describe_mover(self, h: InfoSet) -> str:
        return CHANCE if h.player is None else self.players[h.player]

    def reach_probabilities(self, behavior: Behavior) -> np.ndarray:
        """Probability of reaching each node under ``behavior`` (shape ``(n_nodes,)``)."""
        reach = np.zeros(len(self.nodes))
        reach[0] = 1.0
        for node in self.nodes:  # preorder: a parent comes before its children
            if node.infoset is None:
                continue
            probs = behavior[node.infoset]
            for a, child in enumerate(node.children):
                reach[child] = reach[node.index] * float(probs[a])
        return reach

    def expected_payoffs(self, behavior: Behavior) -> np.ndarray:
        """Each player's expected payoff under ``behavior`` (shape ``(n,)``)."""
        reach = self.reach_probabilities(behavior)
        return reach[list(self.terminals)] @ self.terminal_payoffs

    def path(self, behavior: Behavior) -> tuple[Move, ...]:
        """Every move made with positive probability under ``behavior``, in preorder.

        With pure behaviour and no chance this is the single equilibrium path,
        root to leaf; otherwise it lists each branch that play can take, with
        its probability.
        """
        reach = self.reach_probabilities(behavior)
        tol = self.tolerance.probability
        moves = []
        for node in self.nodes:
            if node.infoset is None or reach[node.index] <= tol:
                continue
            h = self.infosets[node.infoset]
            for a, child in enumerate(node.children):
                if reach[child] > tol:
                    moves.append(
                        Move(
                            node=node.index,
                            mover=self.describe_mover(h),
                            infoset=h.index,
                            action=h.actions[a],
                            probability=float(reach[child]),
                            choice=float(behavior[h.index][a]),
                        )
                    )
        return tuple(moves)

    def behavior_by_player(self, behavior: Behavior) -> dict[str, dict[str, dict[str, float]]]:
        """``{player: {infoset name: {action: probability}}}`` (the JSON contract's shape)."""
        out: dict[str, dict[str, dict[str, float]]] = {p: {} for p in self.players}
        for h in self.infosets:
            if h.player is None:
                continue
            out[self.players[h.player]][h.name] = {
                a: float(p) for a, p in zip(h.actions, behavior[h.index], strict=True)
            }
        return out

    def subtree(self, node: int) -> tuple[int, ...]:
        """The nodes of the subtree rooted at ``node``, in preorder."""
        out = []
        stack = [node]
        while stack:
            v = stack.pop()
            out.append(v)
            stack.extend(reversed(self.nodes[v].children))
        return tuple(out)

    def subgame_roots(self) -> tuple[int, ...]:
        """Nodes that root a proper subgame (or the whole game), in preorder.

        A node roots a subgame when every information set that meets its
        subtree lies inside it (Selten 1965).
        """
        inside = np.zeros(len(self.nodes), dtype=int)
        roots = []
        for node in self.nodes:
            if node.is_terminal:
                continue
            members = self.subtree(node.index)
            inside[:] = 0
            inside[list(members)] = 1
            if all(
                all(inside[v] for v in self.infosets[self.nodes[u].infoset].nodes)  # type: ignore[index]
                for u in members
                if self.nodes[u].infoset is not None
            ):
                roots.append(node.index)
        return tuple(roots)

    def __repr__(self) -> str:
        return (
            f"ExtensiveGame({len(self.nodes)} nodes, {len(self.terminals)} terminal, "
            f"players={list(self.players)}, title={self.title!r})"
        )


# ------------------------------------------------------------------- building
@dataclass(frozen=True)
class TreeProblem:
    """One reason a tree is not a valid game tree.

    ``key`` is whatever the caller passed when it added the node (a scenario
    file's position, say), so that it can report file and line; ``field`` is
    the part of the node at fault (``"actions[1]"``, ``"probabilities"`` …).
    """

    key: Hashable | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.key}" if self.key is not None else "tree"
        if self.field:
            where += f" ({self.field})"
        return f"{where}: {self.message}"


class TreeError(ValueError):
    """The tree is not a valid game tree; carries every :class:`TreeProblem` found."""

    def __init__(self, problems: Sequence[TreeProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass
class _Draft:
    kind: NodeKind
    label: str
    key: Hashable | None
    player: int | None = None
    infoset: str | None = None
    actions: tuple[str, ...] = ()
    children: list[int | None] = field(default_factory=list)
    probabilities: tuple[Any, ...] | None = None
    payoffs: tuple[Any, ...] | None = None
    outcome: str = ""
    deal: Mapping[str, float] = field(default_factory=dict)


class TreeBuilder:
    """Assembles an :class:`ExtensiveGame` node by node, then checks it.

    Add nodes with :meth:`decision`, :meth:`chance` and :meth:`terminal` (each
    returns a handle), join them with :meth:`connect`, and call :meth:`build`
    with the root's handle. Decision nodes that name the same ``infoset`` (per
    player) form one information set; a decision node without a name is a set
    of its own. Numbers may be floats, ints or Fractions; when every payoff (and
    every chance probability) is rational the game keeps them exactly.
    """

    def __init__(self, players: Sequence[str], title: str = "") -> None:
        if not players:
            raise ValueError("TreeBuilder: a game needs at least one player")
        if len(set(players)) != len(players):
            raise ValueError(f"TreeBuilder: player names repeat: {list(players)}")
        self.players = tuple(players)
        self.title = title
        self._drafts: list[_Draft] = []
        self._problems: list[TreeProblem] = []

    def _add(self, draft: _Draft) -> int:
        self._drafts.append(draft)
        return len(self._drafts) - 1

    def decision(
        self,
        player: str | int,
        actions: Sequence[str],
        *,
        infoset: str | None = None,
        label: str = "",
        key: Hashable | None = None,
    ) -> int:
        """A decision node of ``player`` with ``actions``; returns its handle."""
        index = player if isinstance(player, int) else self._player(player, key)
        return self._add(
            _Draft(
                "decision",
                label,
                key,
                player=index,
                infoset=infoset,
                actions=tuple(actions),
                children=[None] * len(actions),
            )
        )

    def chance(
        self,
        actions: Sequence[str],
        probabilities: Sequence[float | Fraction],
        *,
        label: str = "",
        key: Hashable | None = None,
    ) -> int:
        """A chance node whose ``actions`` happen with ``probabilities``."""
        return self._add(
            _Draft(
                "chance",
                label,
                key,
                actions=tuple(actions),
                children=[None] * len(actions),
                probabilities=tuple(probabilities),
            )
        )

    def terminal(
        self,
        payoffs: Sequence[float | Fraction],
        *,
        label: str = "",
        outcome: str = "",
        deal: Mapping[str, float] | None = None,
        key: Hashable | None = None,
    ) -> int:
        """A terminal node with one payoff per player (in player order)."""
        return self._add(
            _Draft("terminal", label, key, payoffs=tuple(payoffs), outcome=outcome, deal=deal or {})
        )

    def connect(self, parent: int, action: int, child: int) -> None:
        """Make ``child`` the node reached by action number ``action`` at ``parent``."""
        draft = self._drafts[parent]
        if not 0 <= action < len(draft.children):
            raise IndexError(f"node {parent} has no action number {action}")
        draft.children[action] = child

    def problem(self, key: Hashable | None, field: str, message: str) -> None:
        """Record a problem found by the caller, to be raised with the others by :meth:`build`."""
        self._problems.append(TreeProblem(key, field, message))

    def _player(self, name: str, key: Hashable | None) -> int:
        try:
            return self.players.index(name)
        except ValueError:
            known = list(self.players)
            self.problem(key, "player", f"unknown player {name!r}; players are {known}")
            return 0

    # ------------------------------------------------------------- checking
    def build(self, root: int = 0) -> ExtensiveGame:
        """Check the drafted nodes and return the game rooted at ``root``.

        Raises :class:`TreeError` listing every problem: an action with no
        child, a node reached twice (a cycle, or a subtree shared without being
        copied), nodes not reachable from the root, chance probabilities that
        are negative or do not sum to 1, payoffs of the wrong length or not
        finite, and information sets whose nodes differ in player or actions or
        lie on one path.
        """
        problems = list(self._problems)
        drafts = self._drafts
        if not 0 <= root < len(drafts):
            raise TreeError([TreeProblem(None, "", "the tree has no root node")])
        order, parents = self._preorder(root, problems)
        for i, d in enumerate(drafts):
            if i not in parents and i != root:
                problems.append(TreeProblem(d.key, "", "node is not reachable from the root"))
        for d in drafts:
            problems.extend(self._check_node(d))
        if problems:
            raise TreeError(problems)
        return self._assemble(order, parents, problems)

    def _preorder(
        self, root: int, problems: list[TreeProblem]
    ) -> tuple[list[int], dict[int, tuple[int, int]]]:
        order: list[int] = []
        parents: dict[int, tuple[int, int]] = {}
        seen = {root}
        stack = [root]
        while stack:
            v = stack.pop()
            order.append(v)
            d = self._drafts[v]
            for a in range(len(d.children) - 1, -1, -1):
                child = d.children[a]
                if child is None:
                    problems.append(
                        TreeProblem(d.key, f"actions[{a}]", f"action {d.actions[a]!r} has no child")
                    )
                    continue
                if child in seen:
                    what = (
                        "a cycle"
                        if child == root or self._is_ancestor(child, v, parents)
                        else ("two parents")
                    )
                    problems.append(
                        TreeProblem(
                            self._drafts[child].key,
                            "",
                            f"node is reached again by action {d.actions[a]!r} ({what}): "
                            "a game tree reaches each node once; copy a shared subtree instead",
                        )
                    )
                    continue
                seen.add(child)
                parents[child] = (v, a)
                stack.append(child)
        return order, parents

    @staticmethod
    def _is_ancestor(a: int, v: int, parents: Mapping[int, tuple[int, int]]) -> bool:
        while v in parents:
            v = parents[v][0]
            if v == a:
                return True
        return False

    def _check_node(self, d: _Draft) -> list[TreeProblem]:
        out = []
        if d.kind != "terminal" and not d.actions:
            out.append(TreeProblem(d.key, "actions", "a move needs at least one action"))
        if len(set(d.actions)) != len(d.actions):
            out.append(TreeProblem(d.key, "actions", f"action labels repeat: {list(d.actions)}"))
        if d.kind == "chance":
            probs = d.probabilities or ()
            if len(probs) != len(d.actions):
                out.append(
                    TreeProblem(
                        d.key,
                        "probabilities",
                        f"{len(probs)} probabilities for {len(d.actions)} actions",
                    )
                )
            elif not all(_finite(p) and p >= 0 for p in probs):
                out.append(
                    TreeProblem(d.key, "probabilities", "probabilities must be numbers >= 0")
                )
            else:
                total = sum(probs)
                exact = all(isinstance(p, int | Fraction) for p in probs)
                if (total != 1) if exact else abs(float(total) - 1.0) > 1e-9:
                    out.append(
                        TreeProblem(
                            d.key, "probabilities", f"probabilities sum to {float(total):g}, not 1"
                        )
                    )
        if d.kind == "terminal":
            pay = d.payoffs or ()
            if len(pay) != len(self.players):
                out.append(
                    TreeProblem(
                        d.key, "payoffs", f"{len(pay)} payoffs for {len(self.players)} players"
                    )
                )
            elif not all(_finite(p) for p in pay):
                out.append(TreeProblem(d.key, "payoffs", "payoffs must be finite numbers"))
        return out

    def _assemble(
        self, order: list[int], parents: Mapping[int, tuple[int, int]], problems: list[TreeProblem]
    ) -> ExtensiveGame:
        drafts = self._drafts
        new_index = {old: new for new, old in enumerate(order)}
        # Information sets, numbered per player in order of first appearance.
        members: dict[tuple[int | None, str | int], list[int]] = {}
        for old in order:
            d = drafts[old]
            if d.kind == "decision":
                assert d.player is not None
                name: str | int = d.infoset if d.infoset is not None else -new_index[old] - 1
                members.setdefault((d.player, name), []).append(old)
            elif d.kind == "chance":
                members.setdefault((None, -new_index[old] - 1), []).append(old)
        infosets: list[InfoSet] = []
        explicit: set[int] = set()
        node_infoset: dict[int, int] = {}
        counters: dict[int | None, int] = {}
        for (player, name), olds in members.items():
            first = drafts[olds[0]]
            for other in olds[1:]:
                if drafts[other].actions != first.actions:
                    problems.append(
                        TreeProblem(
                            drafts[other].key,
                            "actions",
                            f"information set {name!r} has actions {list(first.actions)} at "
                            f"another node; every node of a set has the same actions",
                        )
                    )
            for a in olds:
                for b in olds:
                    if a != b and self._is_ancestor(a, b, parents):
                        problems.append(
                            TreeProblem(
                                drafts[b].key,
                                "infoset",
                                f"information set {name!r} contains this node and one before "
                                "it on the same path: a player knows it has already moved",
                            )
                        )
            counters[player] = counters.get(player, 0) + 1
            probs = first.probabilities
            exact_probs = (
                tuple(Fraction(p) for p in probs)
                if probs is not None and all(isinstance(p, int | Fraction) for p in probs)
                else None
            )
            h = InfoSet(
                index=len(infosets),
                player=player,
                number=counters[player],
                label=name if isinstance(name, str) else first.label,
                actions=first.actions,
                nodes=tuple(new_index[o] for o in olds),
                probabilities=None if probs is None else tuple(float(p) for p in probs),
                exact_probabilities=exact_probs,
            )
            if isinstance(name, str):
                explicit.add(h.index)
            infosets.append(h)
            for o in olds:
                node_infoset[o] = h.index
        if problems:
            raise TreeError(problems)
        infosets = _unique_names(infosets, explicit)
        nodes = []
        terminals = []
        for new, old in enumerate(order):
            d = drafts[old]
            parent = parents.get(old)
            if d.kind == "terminal":
                terminals.append(new)
            nodes.append(
                Node(
                    index=new,
                    kind=d.kind,
                    label=d.label,
                    parent=None if parent is None else new_index[parent[0]],
                    parent_action=None if parent is None else parent[1],
                    children=tuple(new_index[c] for c in d.children if c is not None),
                    infoset=node_infoset.get(old),
                    payoffs=None if d.payoffs is None else tuple(float(p) for p in d.payoffs),
                    outcome=d.outcome,
                    deal=MappingProxyType(dict(d.deal)),
                )
            )
        pay = np.array([nodes[t].payoffs for t in terminals], dtype=float).reshape(
            len(terminals), len(self.players)
        )
        pay.setflags(write=False)
        raw = [drafts[order[t]].payoffs or () for t in terminals]
        exact = (
            tuple(tuple(Fraction(p) for p in row) for row in raw)
            if all(isinstance(p, int | Fraction) for row in raw for p in row)
            else None
        )
        return ExtensiveGame(
            players=self.players,
            nodes=tuple(nodes),
            infosets=tuple(infosets),
            terminals=tuple(terminals),
            terminal_payoffs=pay,
            exact_terminal_payoffs=exact,
            title=self.title,
        )


def _unique_names(infosets: list[InfoSet], explicit: set[int]) -> list[InfoSet]:
    """Drop node labels that would name two sets of one player alike.

    A set without a name of its own takes its node's label, so that reports
    say "at move 3" rather than "at 3"; where two of a player's sets would then
    share a name (copies of one subtree, say), each adds its number ("the EU
    moves #3"), so names stay unique per player (they key the JSON). Names given
    as ``infoset=`` (the sets in ``explicit``) are kept as they are.
    """
    out = []
    for h in infosets:
        if h.index not in explicit and h.label:
            mine = [g for g in infosets if g.player == h.player and g.index != h.index]
            taken = {g.label for g in mine} | {str(g.number) for g in mine}
            if h.label in taken:
                numbered = f"{h.label} #{h.number}"
                h = replace(h, label="" if numbered in taken else numbered)
        out.append(h)
    return out


def _finite(x: Any) -> bool:
    try:
        return bool(np.isfinite(float(x)))
    except (TypeError, ValueError, OverflowError):
        return False
