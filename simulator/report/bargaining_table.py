"""Tables for bargaining and coalition games, as ``negsim run`` prints them.

Bargaining: each solution concept in its own column, side by side: the deal
terms, every player's payoff and gain over its disagreement payoff, and whether
the answer is unique; above it, where each disagreement payoff comes from and
whether any deal beats all of them. Coalition games: each coalition's worth
(and, when derived from a deal space, the deal that earns it), the allocations
of each concept side by side, and the NTU core test of the bargaining deals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.report.table import fmt_number

if TYPE_CHECKING:
    from rich.console import Console

    from simulator.analysis import BargainingAnalysis, CoalitionAnalysis

__all__ = ["print_bargaining", "print_coalition"]


def fmt_term(value: float) -> str:
    """A deal term: like :func:`fmt_number`, with optimizer round-off below 1e-9 shown as 0."""
    return fmt_number(0.0 if abs(value) < 1e-9 else value)


def _snap(value: float, tiny: float) -> float:
    """``value``, or 0 when it is optimizer round-off (``|value| <= tiny``)."""
    return 0.0 if abs(value) <= tiny else value


def _signed(value: float) -> str:
    text = fmt_number(value)
    return text if text.startswith("-") or text == "0" else f"+{text}"


CONCEPT_HEADINGS = {
    "nash_bargaining": "Nash",
    "kalai_smorodinsky": "K-S",
    "egalitarian": "Egal.",
    "utilitarian": "Util.",
    "rubinstein": "Rubinstein",
    "baron_ferejohn": "B-F",
}
"""Short column headings; the legend under the table spells out the abbreviations."""
LEGEND = {
    "K-S": "Kalai-Smorodinsky",
    "Egal.": "egalitarian",
    "Util.": "utilitarian",
    "B-F": "Baron-Ferejohn (the first proposer's offer)",
}


def _unique_text(unique: bool | None) -> str:
    return {True: "yes", False: "NO", None: "untested"}[unique]


def print_bargaining(ba: BargainingAnalysis, console: Console) -> None:
    """Print one bargaining game's checked solutions side by side."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    game, result = ba.game, ba.result
    problem = game.problem
    free = [
        name
        for name, lo, hi in zip(problem.issues, problem.lower, problem.upper, strict=True)
        if hi > lo
    ]
    console.print(
        Text(f"Game {ba.name}", style="bold cyan"),
        Text(
            f"  bargaining, {problem.n_players} players ({', '.join(problem.players)}), "
            f"bargaining over {', '.join(free)}"
        ),
    )
    if ba.description:
        console.print(Text(ba.description, style="italic"))
    disagreement = "; ".join(
        f"{p} {fmt_number(d)} ({src})"
        for p, d, src in zip(
            problem.players, problem.disagreement, game.disagreement_sources, strict=True
        )
    )
    console.print(f"Disagreement payoffs: {disagreement}.")
    zone = result.zone
    if zone.exists:
        console.print(
            f"A deal exists: some deal gives every player at least {fmt_number(zone.margin)} "
            "more than its disagreement payoff."
        )
    else:
        console.print(
            Text(
                f"No deal beats every disagreement payoff: {', '.join(zone.blocking)} "
                f"block{'s' if len(zone.blocking) == 1 else ''} it, falling short by "
                f"{fmt_number(zone.shortfall)} at best.",
                style="bold",
            )
        )
    if result.solutions:
        table = Table(show_header=True, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("", no_wrap=True)
        headings = [CONCEPT_HEADINGS.get(sol.concept, sol.concept) for sol in result.solutions]
        for heading in headings:
            table.add_column(heading, justify="right")
        for j, issue in enumerate(problem.issues):
            if issue not in game.in_play:
                continue
            fixed = problem.upper[j] <= problem.lower[j]
            table.add_row(
                issue + ("*" if fixed else ""),
                *[
                    fmt_term(float(sol.deal[j])) if sol.deal is not None else "no deal"
                    for sol in result.solutions
                ],
            )
        tiny = problem.tolerance.payoff
        for i, player in enumerate(problem.players):
            table.add_row(
                f"{player} payoff",
                *[fmt_number(_snap(float(s.payoffs[i]), tiny)) for s in result.solutions],
            )
        for i, player in enumerate(problem.players):
            table.add_row(
                f"{player} gain",
                *[_signed(_snap(float(s.gains[i]), tiny)) for s in result.solutions],
            )
        table.add_row("unique", *[_unique_text(s.unique) for s in result.solutions])
        console.print(table)
        legend = [f"{h} {LEGEND[h]}" for h in headings if h in LEGEND]
        if any(
            problem.upper[j] <= problem.lower[j] and name in game.in_play
            for j, name in enumerate(problem.issues)
        ):
            legend.append("* fixed term")
        if legend:
            console.print(_wrapped("; ".join(legend) + ".", console.width))
        units = "; ".join(f"{k}: {v}" for k, v in ba.units.items() if v and k in game.in_play)
        if units:
            console.print(_wrapped(f"Units: {units}.", console.width))
    grouped: dict[str, list[str]] = {}
    for sol in result.solutions:
        for note in sol.notes:
            grouped.setdefault(note, []).append(CONCEPT_HEADINGS.get(sol.concept, sol.concept))
    for note, concepts in grouped.items():
        console.print(_wrapped(f"Note ({', '.join(concepts)}): {note}", console.width))
    for concept, reason in result.failed.items():
        console.print(f"Not computed ({concept}): {reason}")
    for sol, check in result.rejected:
        console.print(
            Text(f"Rejected ({sol.concept}): {'; '.join(check.failures)}", style="bold red")
        )
    if result.checks:
        tol = result.checks[0].tolerance
        console.print(
            f"Checked: every deal shown lies in the deal space, its payoffs are the utilities "
            f"of the deal, it is individually rational (except utilitarian), and no sampled "
            f"deal gives every player more (tolerance {tol:.3g})."
        )


def _wrapped(text: str, width: int) -> str:
    import textwrap

    return textwrap.fill(
        text, width=max(40, width - 1), subsequent_indent="  ", break_on_hyphens=False
    )


def _coalition_name(players: tuple[str, ...], mask: int) -> str:
    return "+".join(p for i, p in enumerate(players) if mask >> i & 1)


def _deal_text(deal: np.ndarray | None, issues: tuple[str, ...], moved: np.ndarray) -> str:
    if deal is None:
        return "disagreement"
    parts = [
        f"{name} {fmt_term(float(v))}" for name, v, m in zip(issues, deal, moved, strict=True) if m
    ]
    return ", ".join(parts) or "status quo"


def print_coalition(ca: CoalitionAnalysis, console: Console) -> None:
    """Print one coalition game: worths, allocations side by side, NTU core checks."""
    from rich.table import Table
    from rich.text import Text

    game, result = ca.game, ca.result
    tu = game.game
    players = tu.players
    origin = (
        f"worths derived from the deal space of {game.source}"
        if game.source
        else "worths given as a table"
    )
    console.print(
        Text(f"Game {ca.name}", style="bold cyan"),
        Text(f"  coalition, {tu.n} players ({', '.join(players)}), {origin}"),
    )
    if ca.description:
        console.print(Text(ca.description, style="italic"))
    worths = Table(show_header=True, header_style="bold")
    worths.add_column("coalition")
    worths.add_column("worth", justify="right")
    derived = game.derived
    if derived is not None:
        worths.add_column("best deal it can make alone (terms it can move)")
    for mask in range(1, 1 << tu.n):
        row = [_coalition_name(players, mask), fmt_number(float(tu.v[mask]))]
        if derived is not None:
            problem = game.problem
            moved = np.array(
                [
                    problem.upper[j] > problem.lower[j] and _can_move(game.needs[j], mask)
                    for j in range(problem.n_issues)
                ]
            )
            row.append(_deal_text(derived.deals.get(mask), problem.issues, moved))
        worths.add_row(*row)
    console.print(worths)
    if derived is not None:
        console.print(
            _wrapped(
                "Each deal shown attains its coalition's worth; where a term does not change "
                "the members' total, other deals attain it too.",
                console.width,
            )
        )
    if result.solutions:
        table = Table(show_header=True, header_style="bold")
        table.add_column("")
        for player in players:
            table.add_column(player, justify="right")
        for sol in result.solutions:
            label = sol.concept
            if sol.payoffs is None:
                table.add_row(label, *["-"] * tu.n)
                continue
            if sol.concept == "core":
                label = "core (a point)"
            table.add_row(label, *[fmt_number(float(v)) for v in sol.payoffs])
            if sol.concept == "banzhaf":
                index = sol.details["index"]
                table.add_row("banzhaf index", *[fmt_number(float(v)) for v in index])
        console.print(table)
    for sol in result.solutions:
        if sol.concept == "core":
            if sol.details.get("empty"):
                console.print(Text(f"Core: {sol.notes[0]}.", style="bold"))
            else:
                vertices = sol.details.get("vertices")
                count = f" with {len(vertices)} vertices" if vertices is not None else ""
                console.print(f"Core: non-empty{count}.")
        if not sol.passed:
            console.print(Text(f"Check failed ({sol.concept})", style="bold red"))
    for concept, reason in result.failed.items():
        console.print(f"Not computed ({concept}): {reason}")
    for name, check in result.ntu.items():
        if check.in_core:
            console.print(f"NTU core: the {name} deal of {game.source} is in the core.")
        else:
            worst = check.blocking[0] if check.blocking else None
            who = "+".join(worst[0]) if worst is not None else "a player"
            margin = f" by {fmt_number(float(worst[1]))} each" if worst is not None else ""
            console.print(
                f"NTU core: the {name} deal of {game.source} is blocked: {who} can do "
                f"better on its own{margin}."
            )
    checked = [f"{sol.concept}: {', '.join(sol.checked)}" for sol in result.solutions]
    if checked:
        console.print(_wrapped("Checked: " + "; ".join(checked) + ".", console.width))


def _can_move(needs: Any, mask: int) -> bool:
    return all(mask >> i & 1 for i in needs)


def deal_mapping(issues: tuple[str, ...], deal: Any) -> Mapping[str, float] | None:
    """``{issue: value}`` of a deal vector, ``None`` when there is no deal."""
    if deal is None:
        return None
    return {name: float(v) for name, v in zip(issues, deal, strict=True)}
