"""Correlated equilibria for people and for programs.

:func:`print_correlated` prints a :class:`~simulator.solvers.correlated.CorrelatedResult`
as ``negsim run`` shows it: for each objective (most welfare, then each
player's highest payoff) the recommended joint distribution, one line per
profile, most likely first::

    US: demand_half, RU: offer_aluminium, UA: sign_us, EU: stay_out — 0.375

then every player's expected payoff and the largest incentive violation.
:func:`correlated_json` gives the same as entries of the JSON contract's
``solutions`` list::

    {"concept": "correlated", "method": "correlated-lp", "objective": str,
     "also_optimal_for": [str],
     "distribution": [{"profile": {player: strategy}, "probability": float}],
     "payoffs": {player: float}, "welfare": float, "max_violation": float}

with ``exact_probability`` (a fraction as a string) in each distribution entry
and ``exact_payoffs`` beside ``payoffs`` when the distribution is exact.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from simulator.report.table import fmt_number, fmt_probability
from simulator.solvers.correlated import coincidence_note

if TYPE_CHECKING:
    from rich.console import Console

    from simulator.solvers.correlated import CorrelatedEquilibrium, CorrelatedResult

__all__ = ["correlated_json", "correlated_text", "heading", "print_correlated", "profile_line"]

METHOD = "correlated-lp"
"""The ``method`` of every JSON entry: the LP of :mod:`simulator.solvers.correlated`."""

EXPLANATION = (
    "A mediator draws one profile from the distribution and tells each player only "
    "its own part; no player gains by disobeying its recommendation."
)


def heading(objective: str) -> str:
    """``"Most welfare"`` for ``"welfare"``, else the objective with a capital letter."""
    if objective == "welfare":
        return "Most welfare"
    return objective[:1].upper() + objective[1:]


def profile_line(eq: CorrelatedEquilibrium, profile: tuple[int, ...], probability: float) -> str:
    """``"US: Sign, RU: Hold — 0.375"`` (the exact fraction when known)."""
    game = eq.game
    moves = ", ".join(
        f"{player}: {game.strategies[i][k]}"
        for i, (player, k) in enumerate(zip(game.players, profile, strict=True))
    )
    return f"{moves} — {fmt_probability(probability, eq.exact_probability(profile))}"


def _payoff_line(eq: CorrelatedEquilibrium) -> str:
    values = (
        [float(v) for v in eq.exact_payoffs] if eq.exact_payoffs is not None else list(eq.payoffs)
    )
    parts = ", ".join(
        f"{player} {fmt_number(v)}" for player, v in zip(eq.game.players, values, strict=True)
    )
    return f"Payoffs: {parts} (welfare {fmt_number(eq.welfare)})"


def _violation_line(eq: CorrelatedEquilibrium) -> str:
    if eq.exact is not None:
        return "Largest gain from disobeying: 0 (exact)"
    return (
        f"Largest gain from disobeying: {eq.max_violation:.3g} "
        f"(tolerance {eq.game.tolerance.payoff:.3g})"
    )


def print_correlated(result: CorrelatedResult, console: Console, *, max_profiles: int = 20) -> None:
    """Print every correlated equilibrium of ``result``; at most ``max_profiles`` lines each.

    The rest of a longer support is summed up in one line (the JSON lists all).
    """
    from rich.text import Text

    game = result.game
    width = max(40, console.width - 1)
    console.print(Text("Correlated equilibria", style="bold"))
    console.print(
        textwrap.fill(
            f"Linear program over {result.variables} profiles and {result.constraints} "
            f"incentive constraints ({result.elapsed:.2g} s). {EXPLANATION}",
            width=width,
        )
    )
    for eq in result.equilibria:
        title = heading(eq.objective)
        if eq.also:
            title += f" (also {', '.join(eq.also)})"
        console.print(Text(title + ":", style="bold cyan"))
        support = eq.support_indices()
        for profile, probability in support[:max_profiles]:
            console.print(_hanging(profile_line(eq, profile, probability), width))
        if len(support) > max_profiles:
            rest = sum(p for _, p in support[max_profiles:])
            console.print(
                f"  … and {len(support) - max_profiles} more profiles "
                f"(total probability {fmt_probability(rest, None)})"
            )
        console.print(_hanging(_payoff_line(eq), width))
        console.print(f"  {_violation_line(eq)}")
    shown = {coincidence_note(also, eq.objective) for eq in result.equilibria for also in eq.also}
    for note in result.notes:
        if note in shown:
            continue  # the heading says "(also ...)"
        console.print(textwrap.fill(f"Note: {note}", width=width, subsequent_indent="  "))
    console.print(
        f"Verified: every incentive constraint holds within {result.tolerance:.3g} "
        f"({game.tolerance.rtol:g} x payoff spread)."
    )


def correlated_text(result: CorrelatedResult, *, width: int = 100, max_profiles: int = 20) -> str:
    """What :func:`print_correlated` prints, as plain text ``width`` columns wide."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, highlight=False, markup=False, soft_wrap=False, color_system=None
    )
    print_correlated(result, console, max_profiles=max_profiles)
    return buffer.getvalue()


def _hanging(text: str, width: int) -> str:
    return textwrap.fill(
        text, width=width, initial_indent="  ", subsequent_indent="     ", break_on_hyphens=False
    )


def correlated_json(result: CorrelatedResult) -> list[dict[str, Any]]:
    """The JSON contract's ``solutions`` entries for ``result`` (plain Python types)."""
    return [equilibrium_json(eq) for eq in result.equilibria]


def equilibrium_json(eq: CorrelatedEquilibrium) -> dict[str, Any]:
    """One ``{"concept": "correlated", ...}`` entry (see the module docstring)."""
    game = eq.game
    distribution = []
    for profile, probability in eq.support_indices():
        entry: dict[str, Any] = {
            "profile": {
                player: game.strategies[i][k]
                for i, (player, k) in enumerate(zip(game.players, profile, strict=True))
            },
            "probability": probability,
        }
        exact = eq.exact_probability(profile)
        if exact is not None:
            entry["exact_probability"] = str(exact)
        distribution.append(entry)
    out: dict[str, Any] = {
        "concept": "correlated",
        "method": METHOD,
        "objective": eq.objective,
        "also_optimal_for": list(eq.also),
        "distribution": distribution,
        "payoffs": {p: float(v) for p, v in zip(game.players, eq.payoffs, strict=True)},
        "welfare": eq.welfare,
        "max_violation": float(eq.max_violation),
    }
    if eq.exact_payoffs is not None:
        out["exact_payoffs"] = {
            p: str(v) for p, v in zip(game.players, eq.exact_payoffs, strict=True)
        }
    return out
