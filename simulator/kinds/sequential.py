"""Kind ``sequential``: a game tree, written as nested YAML.

A node is a mapping of one of these forms:

* a **decision**: ``player`` and ``actions`` (action label -> the node it leads
  to), with an optional ``infoset`` name: the decision nodes that name the same
  information set are the ones its player cannot tell apart (they need the same
  actions);
* a **chance move**: ``chance`` (outcome label -> ``{probability: p, then:
  node}``), the probabilities numbers or expressions of parameters summing to 1;
* a **terminal node**: ``deal`` (issue -> value, or the name of a deal from
  ``deals:``), whose payoffs are the actors' utilities at those terms as in
  strategic games (issues left out at their status quo); ``no_deal: true``
  (every issue at its status quo); or fixed ``payoffs`` (player -> value);
* a **reference** ``ref: NAME`` to a subtree named under the game's ``nodes:``;
  every reference makes a fresh copy, so the game stays a tree. Nodes inside a
  named subtree that name an ``infoset`` put every copy in that one set.

Every node may have a ``label``, which reports show. The built game is an
:class:`~simulator.extensive.tree.ExtensiveGame` whose terminal nodes carry
the deal (every issue's value; empty for fixed payoffs and no deal) and an
``outcome``: the deal's name from ``deals:``, ``"deal"`` for terms written in
place, ``"no_deal"``, or ``""`` for fixed payoffs.

Numbers are exact (fractions) where every probability, or every payoff, is a
literal number or a constant expression; anything computed from parameters or
from the utilities is a float.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import Field, PlainValidator, WithJsonSchema, model_validator

from simulator.errors import InputError, Problem
from simulator.extensive.tree import ExtensiveGame, TreeBuilder, TreeError
from simulator.kinds import CheckContext, check_player_list, did_you_mean, exact_constant, game_path
from simulator.kinds.deals import (
    NO_DEAL,
    check_deal,
    check_no_deal,
    deal_terms,
    evaluate_value,
    utilities_at_deals,
)
from simulator.kinds.fields import (
    IDENTIFIER_PATTERN,
    GameSpecBase,
    Name,
    SpecModel,
    Value,
    _value,
    shown_value,
)
from simulator.tolerance import RTOL

if TYPE_CHECKING:
    from simulator.scenario.model import Scenario
    from simulator.scenario.yaml_source import Path

__all__ = [
    "MAX_TREE_NODES",
    "ChanceBranch",
    "SequentialGameSpec",
    "Site",
    "Spec",
    "TreeNode",
    "build",
    "check",
]

MAX_TREE_NODES = 100_000
"""Most nodes a tree may have once every reference is copied out."""


# ------------------------------------------------------------------- model
def _deal(value: Any) -> dict[str, int | float | str] | str:
    if isinstance(value, str):
        if not re.fullmatch(IDENTIFIER_PATTERN, value):
            raise ValueError(
                f"expected the name of a deal (from `deals:`, or no_deal), got {value!r}"
            )
        return value
    if not isinstance(value, dict):
        raise ValueError(
            "expected a deal: issue -> value (a mapping) or the name of a deal from `deals:`, "
            f"got {shown_value(value)}"
        )
    terms: dict[str, int | float | str] = {}
    for issue, term in value.items():
        if not re.fullmatch(IDENTIFIER_PATTERN, str(issue)):
            raise ValueError(f"{issue!r} is not an issue name")
        try:
            terms[str(issue)] = _value(term)
        except ValueError as exc:
            raise ValueError(f"for {issue}: {exc}") from None
    return terms


DealField = Annotated[
    dict[str, int | float | str] | str,
    PlainValidator(_deal),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "object",
                    "description": "issue -> value (a number or an expression of parameters)",
                    "additionalProperties": {"type": ["number", "string"]},
                },
                {
                    "type": "string",
                    "description": "the name of a deal from `deals:` (or `no_deal`)",
                    "pattern": IDENTIFIER_PATTERN,
                },
            ]
        }
    ),
]


class ChanceBranch(SpecModel):
    """One outcome of a chance move: its probability and the node it leads to."""

    probability: Value = Field(
        description="The probability: a number or an expression of parameters, >= 0; a chance "
        "move's probabilities sum to 1."
    )
    then: TreeNode | None = Field(
        default=None, description="The node this outcome leads to (required)."
    )


_NODE_FORMS = ("actions", "chance", "deal", "payoffs", "no_deal", "ref")


class TreeNode(SpecModel):
    """A node of a game tree: a decision, a chance move, a terminal node or a reference."""

    label: str = Field(default="", description="Optional: a name for the node, shown in reports.")
    player: Name | None = Field(
        default=None, description="Decision nodes: the player who chooses (a player of the game)."
    )
    infoset: Name | None = Field(
        default=None,
        description="Decision nodes, optional: the information set. Nodes of one player that "
        "name the same set are the ones it cannot tell apart; they need the same actions.",
    )
    actions: dict[Name, TreeNode | None] | None = Field(
        default=None,
        min_length=1,
        description="Decision nodes: action label -> the node the action leads to.",
    )
    chance: dict[Name, ChanceBranch | None] | None = Field(
        default=None,
        min_length=1,
        description="Chance moves: outcome label -> {probability: p, then: node}.",
    )
    deal: DealField | None = Field(
        default=None,
        description="Terminal nodes: the deal, issue -> value (issues left out take their "
        "status_quo) or the name of a deal from `deals:`. Payoffs are the players' utilities.",
    )
    payoffs: dict[Name, Value] | None = Field(
        default=None,
        description="Terminal nodes: player -> fixed payoff (a number or an expression of "
        "parameters), for every player of the game.",
    )
    no_deal: bool = Field(
        default=False,
        strict=True,
        description="Terminal nodes: `true` for no deal (every issue at its status_quo; "
        "payoffs from the utilities).",
    )
    ref: Name | None = Field(
        default=None,
        description="A copy of the subtree named under the game's `nodes:` (alone: the other "
        "fields go in the named node).",
    )

    @model_validator(mode="after")
    def _one_form(self) -> TreeNode:
        given = [
            key
            for key in _NODE_FORMS
            if (self.no_deal if key == "no_deal" else getattr(self, key) is not None)
        ]
        if len(given) != 1:
            has = f" (this one has {' and '.join(given)})" if given else ""
            raise ValueError(
                "a node needs exactly one of `actions` (a decision, with `player`), `chance`, "
                f"`deal`, `payoffs`, `no_deal: true` and `ref`{has}"
            )
        if self.actions is not None and self.player is None:
            raise ValueError("a decision node (with `actions`) needs `player`: who chooses")
        if self.actions is None and (self.player is not None or self.infoset is not None):
            field = "player" if self.player is not None else "infoset"
            raise ValueError(f"`{field}` belongs to decision nodes, which have `actions`")
        if self.ref is not None and self.label:
            raise ValueError(
                "a reference stands for its named node: give the `label` in the named node"
            )
        return self

    def moves(self) -> list[str]:
        """The action (or chance outcome) labels, in file order."""
        return list(self.actions or self.chance or ())


ChanceBranch.model_rebuild()


class SequentialGameSpec(GameSpecBase):
    """A game tree: moves in turn, chance moves and information sets."""

    kind: Literal["sequential"] = Field(description="`sequential`.")
    players: tuple[Name, ...] = Field(
        min_length=2, description="Actor ids of the players, 2 or more, distinct."
    )
    tree: TreeNode = Field(description="The root node; the whole tree nests below it.")
    nodes: dict[Name, TreeNode] = Field(
        default_factory=dict,
        description="Optional: named subtrees, used where a node would go by `ref: NAME`; "
        "each use is a fresh copy. Every named node must be used.",
    )


Spec = SequentialGameSpec
"""The registry's name for this kind's spec model."""


# ------------------------------------------------------------- expansion
@dataclass(frozen=True)
class Site:
    """Where a node of the built tree is written in the file.

    ``path`` is the node's path in the scenario document; ``via`` the paths of
    the ``ref:`` entries followed to reach it (outermost first), which tell the
    copies of a named subtree apart. Sites are the ``key`` of the tree's nodes
    in :class:`~simulator.extensive.tree.TreeBuilder`.
    """

    path: Path
    via: tuple[Path, ...] = ()


_BROKEN = -1
"""A child that could not be made (unknown or cyclic reference), already reported."""


@dataclass
class _Flat:
    site: Site
    node: TreeNode
    children: list[int | None]  # per move: index into the expansion, None (no child), _BROKEN


@dataclass
class _Expansion:
    nodes: list[_Flat]
    problems: list[tuple[Path, str]]
    complete: bool  # False when the size limit stopped it


def _expand(spec: SequentialGameSpec, path: Path) -> _Expansion:
    """The tree with every reference copied out, in preorder, and what went wrong.

    Reports unknown references, reference cycles (a named node that would
    contain a copy of itself), trees too large, and named nodes never used.
    """
    flat: list[_Flat] = []
    problems: list[tuple[Path, str]] = []
    used: set[str] = set()
    # (node, site, parent index, move index, names of the references followed)
    stack: list[tuple[TreeNode, Site, int | None, int, tuple[str, ...]]] = [
        (spec.tree, Site((*path, "tree")), None, 0, ())
    ]
    complete = True
    while stack:
        node, site, parent, move, chain = stack.pop()
        resolved: TreeNode | None = node
        while resolved is not None and resolved.ref is not None:
            name = resolved.ref
            at = (*site.path, "ref")
            if name not in spec.nodes:
                known = ", ".join(spec.nodes) or "(none: the game has no `nodes:`)"
                problems.append(
                    (
                        at,
                        f"unknown node {name!r}{did_you_mean(name, spec.nodes)}; "
                        f"named nodes are: {known}",
                    )
                )
                resolved = None
            elif name in chain:
                cycle = " -> ".join((*chain[chain.index(name) :], name))
                problems.append(
                    (
                        at,
                        f"reference cycle: {cycle}; a named node cannot contain a copy of "
                        "itself (the game would be infinite)",
                    )
                )
                resolved = None
            else:
                used.add(name)
                chain = (*chain, name)
                site = Site((*path, "nodes", name), (*site.via, site.path))
                resolved = spec.nodes[name]
        if resolved is None:
            if parent is not None:
                flat[parent].children[move] = _BROKEN
            continue
        if len(flat) >= MAX_TREE_NODES:
            problems.append(
                (
                    (*path, "tree"),
                    f"the tree has more than {MAX_TREE_NODES} nodes once every reference is "
                    "copied out (each `ref:` copies its subtree)",
                )
            )
            complete = False
            break
        index = len(flat)
        moves = resolved.moves()
        flat.append(_Flat(site, resolved, [None] * len(moves)))
        if parent is not None:
            flat[parent].children[move] = index
        children: list[tuple[TreeNode | None, Path]] = []
        if resolved.actions is not None:
            children = [
                (child, (*site.path, "actions", label)) for label, child in resolved.actions.items()
            ]
        elif resolved.chance is not None:
            children = [
                (None if branch is None else branch.then, (*site.path, "chance", label, "then"))
                for label, branch in resolved.chance.items()
            ]
        for k in range(len(children) - 1, -1, -1):
            child_node, child_path = children[k]
            if child_node is not None:  # a missing child is the builder's to report
                stack.append((child_node, Site(child_path, site.via), index, k, chain))
    if complete:
        for name in spec.nodes:
            if name not in used:
                problems.append(
                    (
                        (*path, "nodes", name),
                        f"node {name!r} is never used: no `ref: {name}` is reachable from "
                        "`tree:`, so it is not part of the game; use it or remove it",
                    )
                )
    return _Expansion(flat, problems, complete)


# ---------------------------------------------------------------- numbers
Number = int | float | Fraction


def _chance_problems(
    labels: Sequence[str], values: Sequence[Number], at: Path
) -> list[tuple[Path, str]]:
    """Negative probabilities and sums other than 1 (exact when every value is)."""
    out = []
    for label, p in zip(labels, values, strict=True):
        if p < 0:
            out.append(((*at, label, "probability"), f"probability {float(p):g} is negative"))
    if out:
        return out
    total = sum(values)
    exact = all(isinstance(p, Fraction) for p in values)
    if (total != 1) if exact else abs(float(total) - 1.0) > RTOL:
        shown = " + ".join(f"{float(p):g}" for p in values)
        out.append((at, f"the probabilities sum to {float(total):.10g} ({shown}), not 1"))
    return out


def _uniform(count: int) -> tuple[Fraction, ...]:
    return tuple(Fraction(1, count) for _ in range(count))


# ------------------------------------------------------------- assembling
@dataclass
class _Numbers:
    """What the builder needs beyond the structure, per node of the expansion."""

    probabilities: dict[int, tuple[Number, ...]]
    payoffs: dict[int, tuple[Number, ...]]
    deals: dict[int, Mapping[str, float]]
    outcomes: dict[int, str]


def _assemble(spec: SequentialGameSpec, flat: Sequence[_Flat], numbers: _Numbers) -> ExtensiveGame:
    """The checked game (raises :class:`~simulator.extensive.tree.TreeError`)."""
    builder = TreeBuilder(spec.players, title=spec.name)
    handles: list[int] = []
    for k, item in enumerate(flat):
        node = item.node
        if node.actions is not None:
            player = spec.players.index(node.player) if node.player in spec.players else 0
            handle = builder.decision(
                player, node.moves(), infoset=node.infoset, label=node.label, key=item.site
            )
        elif node.chance is not None:
            handle = builder.chance(
                node.moves(), numbers.probabilities[k], label=node.label, key=item.site
            )
        else:
            handle = builder.terminal(
                numbers.payoffs[k],
                label=node.label,
                outcome=numbers.outcomes[k],
                deal=numbers.deals.get(k),
                key=item.site,
            )
        handles.append(handle)
    zeros = [0] * len(spec.players)
    for k, item in enumerate(flat):
        for a, child in enumerate(item.children):
            if child is None:
                continue  # the builder reports the missing child
            # A broken reference is reported already; a stand-in keeps the tree whole.
            target = builder.terminal(zeros) if child == _BROKEN else handles[child]
            builder.connect(handles[k], a, target)
    return builder.build(handles[0])


_FIELDS = {
    "probabilities": "chance",
    "payoffs": "payoffs",
    "infoset": "infoset",
    "player": "player",
}


def _tree_problems(error: TreeError, flat: Sequence[_Flat], root: Path) -> list[tuple[Path, str]]:
    """The builder's problems as (path in the file, message)."""
    nodes = {item.site: item.node for item in flat}
    out = []
    for problem in error.problems:
        site = problem.key if isinstance(problem.key, Site) else None
        node = nodes.get(site) if site is not None else None
        at: Path = site.path if site is not None else root
        message = problem.message
        moves_field = "chance" if node is not None and node.chance is not None else "actions"
        if problem.field.startswith("actions[") and node is not None:
            label = node.moves()[int(problem.field[len("actions[") : -1])]
            at = (*at, moves_field, label)
            if message.endswith("has no child"):
                message += (
                    "; give `then:` the node it leads to"
                    if moves_field == "chance"
                    else "; give the node it leads to (a decision, chance or terminal node, "
                    "or `ref: NAME`)"
                )
        elif problem.field == "actions":
            at = (*at, moves_field)
        elif problem.field in _FIELDS:
            at = (*at, _FIELDS[problem.field])
        if site is not None and site.via:
            from simulator.scenario.yaml_source import format_path

            message += f" (in the copy used by `ref` at {format_path(site.via[-1])})"
        out.append((at, message))
    return out


# ---------------------------------------------------------------- checking
def check(spec: SequentialGameSpec, context: CheckContext, path: Path) -> None:
    """Report what in ``spec`` contradicts the rest of the scenario (see module doc).

    The tree is expanded (references copied) and built with the file's
    parameter values, so that every tree problem (a move with no child,
    probabilities that are negative or do not sum to 1, information sets whose
    nodes differ or lie on one path, references that are unknown, cyclic or
    unused) is reported with its line and field.
    """
    check_player_list(spec.players, context, path)
    expansion = _expand(spec, path)
    seen: set[tuple[Path, str]] = set()

    def report(at: Path, message: str) -> None:
        if (at, message) not in seen:
            seen.add((at, message))
            context.report(at, message)

    for at, message in expansion.problems:
        report(at, message)
    if not expansion.nodes:
        return
    numbers = _check_nodes(spec, expansion.nodes, context, report)
    if not expansion.complete:
        return
    try:
        _assemble(spec, expansion.nodes, numbers)
    except TreeError as exc:
        for at, message in _tree_problems(exc, expansion.nodes, (*path, "tree")):
            report(at, message)


def _check_nodes(
    spec: SequentialGameSpec,
    flat: Sequence[_Flat],
    context: CheckContext,
    report: Callable[[Path, str], None],
) -> _Numbers:
    """Check each written node once; numbers for the builder (stand-ins where invalid)."""
    numbers = _Numbers({}, {}, {}, {})
    done: dict[int, tuple[tuple[Number, ...], str]] = {}  # id(node) -> its numbers, outcome
    owners: dict[str, tuple[str, Path]] = {}  # infoset -> (player, path of its first node)
    missing_utility: set[str] = set()
    n = len(spec.players)
    for k, item in enumerate(flat):
        node, at = item.node, item.site.path
        key = id(node)
        if node.actions is not None:
            if key in done:
                continue
            done[key] = ((), "")
            assert node.player is not None
            if node.player not in spec.players:
                report(
                    (*at, "player"),
                    f"{node.player!r} is not a player of this game"
                    f"{did_you_mean(node.player, spec.players)}; "
                    f"players are: {', '.join(spec.players)}",
                )
            if node.infoset is not None:
                owner = owners.setdefault(node.infoset, (node.player, at))
                if owner[0] != node.player:
                    report(
                        (*at, "infoset"),
                        f"information set {node.infoset!r} is {owner[0]}'s (at "
                        f"{_shown(owner[1])}), not {node.player}'s: the nodes of a set "
                        "belong to one player; give this one another name",
                    )
            continue
        if key not in done:
            done[key] = _check_numbers(spec, node, at, context, report, missing_utility)
        values, outcome = done[key]
        if node.chance is not None:
            numbers.probabilities[k] = values
        else:
            numbers.payoffs[k] = values if len(values) == n else tuple([0] * n)
            numbers.outcomes[k] = outcome
    return numbers


def _shown(path: Path) -> str:
    from simulator.scenario.yaml_source import format_path

    return format_path(path)


def _check_numbers(
    spec: SequentialGameSpec,
    node: TreeNode,
    at: Path,
    context: CheckContext,
    report: Callable[[Path, str], None],
    missing_utility: set[str],
) -> tuple[tuple[Number, ...], str]:
    """A chance node's probabilities or a terminal's payoffs at the file's values."""
    if node.chance is not None:
        labels = node.moves()
        values: list[Number] = []
        for label, branch in node.chance.items():
            if branch is None:
                values.append(0)  # no child either: the builder says so
                continue
            where = (*at, "chance", label, "probability")
            number = context.constant(branch.probability, where, "probability")
            if number is None:
                return _uniform(len(labels)), ""
            exact = exact_constant(branch.probability)
            values.append(exact if exact is not None else number)
        problems = _chance_problems(labels, values, (*at, "chance"))
        for where, message in problems:
            report(where, message)
        return (_uniform(len(labels)) if problems else tuple(values)), ""
    if node.payoffs is not None:
        _check_fixed(spec, node.payoffs, context, (*at, "payoffs"), report)
        return tuple([0] * len(spec.players)), ""
    outcome = _outcome(node)
    if node.no_deal or node.deal == NO_DEAL:
        check_no_deal(context, (*at, "no_deal" if node.no_deal else "deal"))
    elif isinstance(node.deal, str):
        if context.deals is not None and node.deal not in context.deals:
            known = ", ".join([NO_DEAL, *context.deals])
            report(
                (*at, "deal"),
                f"unknown deal {node.deal!r}{did_you_mean(node.deal, [NO_DEAL, *context.deals])}"
                f"; deals are: {known}",
            )
    else:
        assert node.deal is not None
        check_deal(node.deal, context, (*at, "deal"))
    if context.utilities is not None:
        for player in spec.players:
            if (
                player not in context.utilities
                and player not in missing_utility
                and (context.actors is None or player in context.actors)
            ):
                missing_utility.add(player)
                report(
                    (*at, "no_deal" if node.no_deal else "deal"),
                    f"player {player!r} has no utility under `payoffs:`; "
                    "it is needed to value this outcome",
                )
    return tuple([0] * len(spec.players)), outcome


def _outcome(node: TreeNode) -> str:
    if node.no_deal or node.deal == NO_DEAL:
        return NO_DEAL
    if isinstance(node.deal, str):
        return node.deal
    return "deal" if node.deal is not None else ""


def _check_fixed(
    spec: SequentialGameSpec,
    payoffs: Mapping[str, Any],
    context: CheckContext,
    at: Path,
    report: Callable[[Path, str], None],
) -> None:
    for player, value in payoffs.items():
        if player not in spec.players:
            report(
                (*at, player),
                f"{player!r} is not a player of this game{did_you_mean(player, spec.players)}; "
                f"players are: {', '.join(spec.players)}",
            )
            continue
        context.constant(value, (*at, player), "payoff")
    missing = [p for p in spec.players if p not in payoffs]
    if missing:
        report(
            at,
            f"missing payoff for {', '.join(missing)}; fixed `payoffs` give every player's payoff",
        )


# ---------------------------------------------------------------- building
def build(
    spec: SequentialGameSpec, scenario: Scenario, parameters: Mapping[str, float]
) -> ExtensiveGame:
    """The :class:`~simulator.extensive.tree.ExtensiveGame` of ``spec`` under ``parameters``.

    Players are the actor ids in ``players`` order; nodes are numbered in
    preorder, actions in file order. Chance probabilities are evaluated at
    ``parameters`` and checked again (a sweep may move them out of range);
    payoffs of deals are the players' utilities at the deal's terms. Raises
    :class:`~simulator.errors.InputError` listing every problem, with the
    file's line.
    """
    path = game_path(spec, scenario)
    expansion = _expand(spec, path)
    problems = [_problem(scenario, at, message) for at, message in expansion.problems]
    numbers = _Numbers({}, {}, {}, {})
    if not problems:
        problems += _build_numbers(spec, expansion.nodes, scenario, parameters, numbers)
    if not problems:
        try:
            return _assemble(spec, expansion.nodes, numbers)
        except TreeError as exc:
            for at, message in _tree_problems(exc, expansion.nodes, (*path, "tree")):
                problems.append(_problem(scenario, at, message))
    unique = list(dict.fromkeys(problems))
    raise InputError(sorted(unique, key=lambda p: (p.line is None, p.line or 0)))


def _problem(scenario: Scenario, at: Path, message: str) -> Problem:
    from simulator.scenario.yaml_source import format_path

    return Problem(scenario.source_file, scenario.line_of(at), format_path(at), message)


def _exact_or_number(
    value: int | float | str, parameters: Mapping[str, float], scenario: Scenario, at: Path
) -> Number:
    exact = exact_constant(value)
    return exact if exact is not None else evaluate_value(value, parameters, scenario, at)


def _build_numbers(
    spec: SequentialGameSpec,
    flat: Sequence[_Flat],
    scenario: Scenario,
    parameters: Mapping[str, float],
    numbers: _Numbers,
) -> list[Problem]:
    """Fill ``numbers`` at ``parameters``; return every problem found."""
    problems: list[Problem] = []
    cache: dict[int, Any] = {}  # id(node) -> numbers, shared by the copies of a subtree
    valued: list[int] = []  # expansion indices of terminals valued by the utilities
    rows: list[Mapping[str, float]] = []
    for k, item in enumerate(flat):
        node, at = item.node, item.site.path
        key = id(node)
        if node.actions is not None:
            continue
        if key not in cache:
            try:
                cache[key] = _node_numbers(spec, node, at, scenario, parameters)
            except InputError as exc:
                problems += exc.problems
                cache[key] = None
        value = cache[key]
        if value is None:
            continue
        if node.chance is not None:
            numbers.probabilities[k] = value
        elif node.payoffs is not None:
            numbers.payoffs[k] = value
            numbers.outcomes[k] = ""
        else:
            valued.append(k)
            rows.append(value)
            numbers.outcomes[k] = _outcome(node)
            if not (node.no_deal or node.deal == NO_DEAL):
                numbers.deals[k] = value
    if valued and not problems:
        payoffs = _utilities_at(spec, scenario, parameters, rows, [flat[k].site for k in valued])
        for row, k in enumerate(valued):
            numbers.payoffs[k] = tuple(float(v) for v in payoffs[row])
    return problems


def _node_numbers(
    spec: SequentialGameSpec,
    node: TreeNode,
    at: Path,
    scenario: Scenario,
    parameters: Mapping[str, float],
) -> tuple[Number, ...] | dict[str, float]:
    """A chance node's probabilities, fixed payoffs, or a deal's terms (raises InputError)."""
    if node.chance is not None:
        values = tuple(
            _exact_or_number(
                branch.probability if branch is not None else 0,
                parameters,
                scenario,
                (*at, "chance", label, "probability"),
            )
            for label, branch in node.chance.items()
        )
        found = _chance_problems(node.moves(), values, (*at, "chance"))
        if found:
            raise InputError([_problem(scenario, where, message) for where, message in found])
        return values
    if node.payoffs is not None:
        return tuple(
            _exact_or_number(node.payoffs[p], parameters, scenario, (*at, "payoffs", p))
            for p in spec.players
        )
    return _terms(node, scenario, parameters, at)


def _terms(
    node: TreeNode, scenario: Scenario, parameters: Mapping[str, float], at: Path
) -> dict[str, float]:
    """Every issue's value at a terminal node (no deal: every issue at its status quo)."""
    if node.no_deal or node.deal == NO_DEAL:
        return deal_terms(None, scenario, parameters, (*at, "no_deal" if node.no_deal else "deal"))
    if isinstance(node.deal, str):
        return deal_terms(scenario.deals[node.deal], scenario, parameters, ("deals", node.deal))
    return deal_terms(node.deal, scenario, parameters, (*at, "deal"))


def _utilities_at(
    spec: SequentialGameSpec,
    scenario: Scenario,
    parameters: Mapping[str, float],
    rows: Sequence[Mapping[str, float]],
    sites: Sequence[Site],
) -> np.ndarray:
    """Each player's utility at each deal: shape ``(len(rows), n_players)``.

    As for strategic games' deal outcomes, each utility is evaluated once on the
    arrays of every deal's terms.
    """
    from simulator.scenario.yaml_source import format_path

    def describe(row: int) -> str:
        where = sites[row].path
        return f"the terminal node {format_path(where)} (line {scenario.line_of(where)})"

    terms = {name: np.array([row[name] for row in rows]) for name in scenario.issues}
    return utilities_at_deals(scenario, spec.players, parameters, terms, describe)
