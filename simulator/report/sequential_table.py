"""Tables for people: a game tree's equilibria, their paths in words, behaviour per set.

For each verified equilibrium :func:`print_sequential` shows the path of play
as a sentence ("US offers hard terms; UA holds out; …" in the scenario's own
action labels), every player's payoff, the deal reached where the path ends in
one deal, and each player's behaviour at every information set, including the
sets play never reaches (where subgame perfection is what makes a threat
credible or not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from simulator.extensive.tree import ExtensiveGame, Move
from simulator.report.table import deal_line, fmt_number, fmt_probability, hanging

if TYPE_CHECKING:
    from rich.console import Console

    from simulator.analysis import SequentialAnalysis
    from simulator.extensive.results import BehaviorEquilibrium

CONCEPT_NAMES = {"subgame_perfect": "subgame-perfect equilibri", "nash": "Nash equilibri"}


def path_text(game: ExtensiveGame, moves: Sequence[Move]) -> str:
    """The path of play in words, in the order the moves are made.

    A single line of play reads ``"US: demand_half; UA: sign"``. Where play
    branches (a chance move, or a mixed choice) each branch is given with its
    probability and followed to its end: ``"chance: strong (0.9) → S: beer;
    R: no_duel | weak (0.1) → S: quiche; R: duel"``, nested in brackets when
    a branch branches again.
    """
    by_node: dict[int, list[Move]] = {}
    for move in moves:
        by_node.setdefault(move.node, []).append(move)
    if not by_node:
        return "no move is made"
    return _branch_text(game, 0, by_node, top=True)


def _branch_text(
    game: ExtensiveGame, node: int, by_node: Mapping[int, list[Move]], *, top: bool = False
) -> str:
    parts: list[str] = []
    while node in by_node:
        here = by_node[node]
        if len(here) == 1:
            parts.append(f"{here[0].mover}: {here[0].action}")
            node = game.nodes[node].children[_action_index(game, here[0])]
            continue
        branches = []
        for move in here:
            child = game.nodes[node].children[_action_index(game, move)]
            rest = _branch_text(game, child, by_node)
            choice = f"{move.action} ({fmt_probability(move.choice, None)})"
            branches.append(f"{choice} → {rest}" if rest else choice)
        joined = " | ".join(branches)
        parts.append(
            f"{here[0].mover}: {joined}" if top and not parts else f"{here[0].mover}: [{joined}]"
        )
        break
    return "; ".join(parts)


def _action_index(game: ExtensiveGame, move: Move) -> int:
    return game.infosets[move.infoset].actions.index(move.action)


def behavior_lines(game: ExtensiveGame, eq: BehaviorEquilibrium) -> list[str]:
    """One line per player: its action (or mixture) at each information set."""
    reach = game.reach_probabilities(eq.behavior)
    tol = game.tolerance.probability
    lines = []
    for i, player in enumerate(game.players):
        cells = []
        for h in game.player_infosets(i):
            probs = eq.behavior[h.index]
            exact = [None] * len(probs) if eq.exact is None else eq.exact[h.index]
            support = [a for a, p in enumerate(probs) if p > tol]
            if len(support) == 1:
                choice = h.actions[support[0]]
            else:
                choice = ", ".join(
                    f"{h.actions[a]} {fmt_probability(float(probs[a]), exact[a])}" for a in support
                )
            reached = any(reach[v] > tol for v in h.nodes)
            cells.append(f"at {h.name}: {choice}" + ("" if reached else " (off the path)"))
        if cells:
            lines.append(f"{player}: " + "; ".join(cells))
    return lines


def path_deal(game: ExtensiveGame, eq: BehaviorEquilibrium) -> Mapping[str, float] | None:
    """The deal at the end of play when play ends at one terminal node that has one."""
    reach = game.reach_probabilities(eq.behavior)
    ends = [t for t in game.terminals if reach[t] > game.tolerance.probability]
    if len(ends) == 1 and game.nodes[ends[0]].deal:
        return game.nodes[ends[0]].deal
    return None


def print_sequential(sa: SequentialAnalysis, console: Console) -> None:
    """Print one solved game tree (see the module notes)."""
    from rich.text import Text

    game, result = sa.game, sa.result
    n_sets = sum(1 for h in game.infosets if h.player is not None)
    info = "perfect information" if game.is_perfect_information else "imperfect information"
    chance = ", with chance moves" if game.has_chance else ""
    console.print(
        Text(f"Game {sa.name}", style="bold cyan"),
        Text(
            f"  sequential, {game.n_players} players, {len(game.nodes)} nodes "
            f"({len(game.terminals)} terminal), {n_sets} information sets; {info}{chance}"
        ),
    )
    if sa.description:
        console.print(Text(sa.description, style="italic"))
    n = len(result.equilibria)
    concepts = {eq.concept for eq in result.equilibria} or {"nash"}
    concept = CONCEPT_NAMES["subgame_perfect" if concepts == {"subgame_perfect"} else "nash"]
    console.print(Text(f"{n} {concept}{'um' if n == 1 else 'a'} by {result.method}", style="bold"))
    width = console.width
    for k, eq in enumerate(result.equilibria, 1):
        console.print(hanging(f"{k}. Path: {path_text(game, eq.path)}.", 2, width))
        payoffs = ", ".join(
            f"{p} {fmt_number(v)}" for p, v in zip(game.players, eq.payoffs, strict=True)
        )
        console.print(hanging(f"Payoffs: {payoffs}.", 5, width))
        deal = path_deal(game, eq)
        if deal is not None:
            console.print(hanging(f"Deal: {deal_line(deal, sa.units)}", 5, width))
        for line in behavior_lines(game, eq):
            console.print(hanging(line, 5, width))
    if result.complete:
        completeness = f"complete: the list has {result.scope}"
    else:
        completeness = f"not guaranteed complete ({result.scope})"
    console.print(f"Method: {result.method}; {completeness}.")
    for note in result.notes:
        console.print(hanging(f"Note: {note}", 0, width))
    if result.rejected:
        console.print(f"Dropped {result.rejected} candidate(s) that failed verification.")
    scope = "in every subgame" if concepts == {"subgame_perfect"} else "in the whole game"
    console.print(
        f"Verified: no player gains more than {result.tolerance:.3g} by deviating {scope} "
        f"({game.tolerance.rtol:g} x payoff spread)."
    )


def behavior_json(game: ExtensiveGame, behavior: Sequence[np.ndarray]) -> dict[str, object]:
    """``{player: {infoset: {action: probability}}}`` as the JSON contract has it."""
    return dict(game.behavior_by_player(behavior))
