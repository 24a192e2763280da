"""Tables for people: what ``negsim run`` prints without ``--json``.

For each game: its players and strategies, each verified equilibrium with its
probabilities (exact fractions where the game is rational) and every player's
payoff, one line on why it is an equilibrium (each player's best alternative and
what it would gain), the deal behind pure equilibria of scenario games, what the
method guarantees (complete or not, degenerate or not) and the tolerance used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, TextIO

from simulator.analysis import Analysis, GameAnalysis
from simulator.deviations import best_deviations
from simulator.equilibrium import Equilibrium
from simulator.results import PURE_SCOPE

if TYPE_CHECKING:
    from rich.console import Console


def fmt_number(value: float) -> str:
    """A payoff or deal value, short: 4 significant digits, no float noise."""
    if value == 0:
        return "0"
    text = f"{value:.4g}"
    return "-0" if text == "-0" else text


def fmt_probability(p: float, exact: Fraction | None) -> str:
    if exact is not None:
        return str(exact)
    return f"{p:.4f}".rstrip("0").rstrip(".")


def strategy_cell(
    labels: Sequence[str], probs: Sequence[float], exact: Sequence[Fraction] | None
) -> str:
    """``label`` for a pure strategy, else ``label p, label p`` over the support."""
    support = [k for k, p in enumerate(probs) if p > 0]
    if len(support) == 1:
        return labels[support[0]]
    return ", ".join(
        f"{labels[k]} {fmt_probability(probs[k], None if exact is None else exact[k])}"
        for k in support
    )


def why_line(ga: GameAnalysis, eq: Equilibrium) -> str:
    """One line: each player's best alternative outside its support, and the gain."""
    game = ga.game
    parts = []
    for dev in best_deviations(game, eq):
        player = game.players[dev.player]
        if dev.strategy is None:
            parts.append(f"{player} is indifferent among all its strategies")
            continue
        assert dev.payoff is not None and dev.gain is not None
        gain = dev.gain if abs(dev.gain) > game.tolerance.payoff else 0.0
        verdict = (
            "no gain: indifferent"
            if gain == 0
            else f"would lose {fmt_number(-gain)}"
            if gain < 0
            else f"would gain {fmt_number(gain)}"
        )
        parts.append(
            f"{player}'s best alternative {game.strategies[dev.player][dev.strategy]} "
            f"earns {fmt_number(dev.payoff)} ({verdict})"
        )
    return "; ".join(parts)


def deal_line(deal: Mapping[str, float] | None, units: Mapping[str, str]) -> str:
    if deal is None:
        return "no deal (status quo, or the fixed payoffs the scenario gives)"
    return ", ".join(
        f"{issue} {fmt_number(value)}" + (f" [{units[issue]}]" if units.get(issue) else "")
        for issue, value in deal.items()
    )


def hanging(text: str, indent: int, width: int) -> str:
    """``text`` wrapped to ``width`` and indented, without trailing spaces."""
    import textwrap

    return textwrap.fill(
        text,
        width=max(40, width - 1),
        initial_indent=" " * indent,
        subsequent_indent=" " * (indent + 3),
        break_on_hyphens=False,
    )


def print_analysis(analysis: Analysis, file: TextIO | None = None) -> None:
    """Print ``analysis`` as tables (colour only on a terminal)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=file, highlight=False, markup=False, soft_wrap=False)
    console.print(Text(analysis.title, style="bold"), Text(f"  ({analysis.file})", style="dim"))
    if analysis.question:
        console.print(Text("Question: ", style="bold") + Text(analysis.question))
    for any_ga in analysis.games:
        console.print()
        if not isinstance(any_ga, GameAnalysis):
            from simulator.analysis import BargainingAnalysis, SequentialAnalysis
            from simulator.report.bargaining_table import print_bargaining, print_coalition
            from simulator.report.sequential_table import print_sequential

            if isinstance(any_ga, SequentialAnalysis):
                print_sequential(any_ga, console)
            elif isinstance(any_ga, BargainingAnalysis):
                print_bargaining(any_ga, console)
            else:
                print_coalition(any_ga, console)
            continue
        ga = any_ga
        game, result = ga.game, ga.result
        shape = ", ".join(
            f"{p} {len(s)}" for p, s in zip(game.players, game.strategies, strict=True)
        )
        console.print(
            Text(f"Game {ga.name}", style="bold cyan"),
            Text(f"  {ga.kind}, {game.n_players} players (strategies: {shape})"),
        )
        if ga.description:
            console.print(Text(ga.description, style="italic"))
        for player, labels in zip(game.players, game.strategies, strict=True):
            console.print(f"  {player}: {', '.join(labels)}")
        table = Table(show_header=True, header_style="bold", title_justify="left")
        table.add_column("#", justify="right")
        for player in game.players:
            table.add_column(f"{player} plays")
        for player in game.players:
            table.add_column(f"{player} payoff", justify="right")
        for k, eq in enumerate(result.equilibria, 1):
            cells = [str(k)]
            for i in range(game.n_players):
                cells.append(
                    strategy_cell(
                        game.strategies[i],
                        eq.strategies[i].tolist(),
                        None if eq.exact is None else eq.exact[i],
                    )
                )
            cells += [fmt_number(v) for v in eq.payoffs]
            table.add_row(*cells)
        n = len(result.equilibria)
        kind = "pure " if result.scope == PURE_SCOPE else ""
        console.print(
            Text(f"{n} {kind}equilibri{'um' if n == 1 else 'a'} by {result.method}", style="bold")
        )
        if n:
            console.print(table)
            for k, eq in enumerate(result.equilibria, 1):
                console.print(hanging(f"{k}. Why: {why_line(ga, eq)}.", 2, console.width))
                if eq.is_pure and ga.deals:
                    key = tuple(int(s.argmax()) for s in eq.strategies)
                    deal = deal_line(ga.deals.get(key), ga.units)
                    console.print(hanging(f"Deal: {deal}", 5, console.width))
        if result.lists_all_equilibria:
            completeness = f"complete: the list has {result.scope}"
        elif result.complete:
            completeness = f"the list has {result.scope}; mixed equilibria were not searched"
        else:
            completeness = f"not guaranteed complete ({result.scope})"
        console.print(f"Method: {result.method}; {completeness}.")
        if result.degenerate is not None:
            console.print("Degenerate game: yes." if result.degenerate else "Degenerate game: no.")
        for note in result.notes:
            console.print(f"Note: {note}")
        if result.rejected:
            console.print(f"Dropped {result.rejected} candidate(s) that failed verification.")
        console.print(
            f"Verified: no player gains more than {result.tolerance:.3g} by deviating "
            f"({game.tolerance.rtol:g} x payoff spread)."
        )
        if ga.dominance != "none":
            how = "pure strategies" if ga.dominance == "pure" else "pure or mixed strategies"
            removed = "; ".join(f"{p} {s} (by {by})" for p, s, by in ga.dominated) or "none"
            console.print(f"Strictly dominated by {how}, iterated: {removed}.")
        if ga.qre is not None:
            print_qre(ga, console)
        if ga.correlated is not None:
            from simulator.report.correlated_table import print_correlated

            print_correlated(ga.correlated, console)


def print_qre(ga: GameAnalysis, console: Console) -> None:
    """The logit QRE path in one paragraph: where it ends and how far it was traced."""
    path = ga.qre
    assert path is not None
    game = ga.game
    if path.end is None:
        console.print(
            hanging(
                f"Logit QRE: the principal branch was traced to lambda = "
                f"{fmt_number(path.last_lambda)} in {path.steps} steps without reaching a "
                f"Nash equilibrium ({path.reason}).",
                0,
                console.width,
            )
        )
        return
    plays = "; ".join(
        f"{player} {strategy_cell(labels, probs.tolist(), None)}"
        for player, labels, probs in zip(
            game.players, game.strategies, path.end.strategies, strict=True
        )
    )
    console.print(
        hanging(
            f"Logit QRE: the principal branch from lambda = 0 (uniform play) leads to the "
            f"Nash equilibrium {plays} (traced to lambda = {fmt_number(path.last_lambda)} "
            f"in {path.steps} steps; {path.reason}; "
            f"`negsim plot FILE qre` draws the path).",
            0,
            console.width,
        )
    )
