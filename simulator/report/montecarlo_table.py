"""What ``negsim montecarlo`` prints: the distribution of outcomes, with standard errors.

Probabilities (a deal exists, each equilibrium set, each concept reaching
agreement) with their standard error and confidence interval; for every payoff
and deal term the mean with its standard error and the 5, 25, 50, 75 and 95 %
quantiles; how the estimates settled as draws accumulated; and the seed to
repeat the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

import numpy as np

from simulator.report.table import fmt_number

if TYPE_CHECKING:
    from simulator.montecarlo import MonteCarloResult

__all__ = ["print_montecarlo"]

MAX_CATEGORIES = 8
SHOWN_QUANTILES = (0.05, 0.5, 0.95)
"""Quantiles in the table (``--json`` has every one computed)."""


def _wrapped(text: str, width: int) -> str:
    import textwrap

    return textwrap.fill(
        text, width=max(40, width - 1), subsequent_indent="  ", break_on_hyphens=False
    )


def _percent(p: float) -> str:
    return f"{100 * p:.2f} %"


def print_montecarlo(result: MonteCarloResult, file: TextIO | None = None) -> None:
    """Print ``result`` as tables (colour only on a terminal)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=file, highlight=False, markup=False, soft_wrap=False)
    summary = result.summary
    console.print(
        Text(f"Monte Carlo of {result.game}", style="bold cyan"),
        Text(f"  ({result.kind}, {result.scenario})"),
    )
    console.print(
        f"{result.n} draws of {', '.join(result.uncertain)} with seed {result.seed} "
        f"in {result.elapsed:.2f} s; redo with --seed {result.seed}."
    )
    if summary.errors:
        console.print(
            Text(
                f"{summary.errors} draw(s) could not be solved and are left out of what follows: "
                + "; ".join(f"{m} ({c})" for m, c in list(summary.error_messages.items())[:3]),
                style="bold",
            )
        )
    confidence = f"{100 * summary.confidence:g} %"
    probabilities = Table(box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    probabilities.add_column("probability of")
    probabilities.add_column("estimate", justify="right")
    probabilities.add_column("std. error", justify="right")
    probabilities.add_column(f"{confidence} interval", justify="right")
    rows = 0
    for column, estimate in summary.probabilities.items():
        lo, hi = estimate.interval
        probabilities.add_row(
            column,
            _percent(estimate.p),
            _percent(estimate.standard_error),
            f"{_percent(lo)} to {_percent(hi)}",
        )
        rows += 1
    legend: list[str] = []
    sets = list(summary.categories.get("equilibrium_set", {}).items())[:MAX_CATEGORIES]
    for k, (value, estimate) in enumerate(sets, 1):
        lo, hi = estimate.interval
        probabilities.add_row(
            f"equilibrium set {k}",
            _percent(estimate.p),
            _percent(estimate.standard_error),
            f"{_percent(lo)} to {_percent(hi)}",
        )
        rows += 1
        listed = value.replace(",", ", ").split(" | ") if value else ["none found"]
        legend.append(f"Set {k}: " + "; ".join(f"({e})" for e in listed) + ".")
    if rows:
        console.print(probabilities)
    for line in legend:
        console.print(_wrapped(line, console.width))
    numbers = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    numbers.add_column("quantity", no_wrap=True)
    numbers.add_column("mean ± s.e.", justify="right", no_wrap=True)
    for label in SHOWN_QUANTILES:
        numbers.add_column(f"{100 * label:g} %", justify="right", no_wrap=True)
    for column, stats in summary.numbers.items():
        if column.startswith("param.") and column.removeprefix("param.") not in result.uncertain:
            continue
        shown = {round(q.level, 6): q.value for q in stats.quantiles}
        numbers.add_row(
            column,
            f"{fmt_number(stats.mean)} ± {stats.standard_error:.2g}",
            *[fmt_number(shown[q]) if q in shown else "" for q in SHOWN_QUANTILES],
        )
    if summary.numbers:
        console.print(numbers)
    convergence = summary.convergence
    if len(convergence.n) >= 2 and summary.deal is not None:
        key = "deal_exists"
        if key in convergence.estimates:
            # At most eight checkpoints, evenly spread, the last one included.
            picks = sorted({round(k) for k in np.linspace(0, len(convergence.n) - 1, 8)})
            steps = ", ".join(
                f"{convergence.n[k]}: {_percent(convergence.estimates[key][k])}" for k in picks
            )
            console.print(f"Convergence of the deal probability (draws: estimate): {steps}.")
    console.print(
        f"Standard errors: sqrt(p(1-p)/n) for probabilities, sd/sqrt(n) for means; intervals "
        f"at {confidence} (Wilson for probabilities)."
    )
