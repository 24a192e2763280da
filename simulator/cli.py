"""The ``negsim`` command line: a thin layer over :mod:`simulator.analysis`.

Exit codes: 0 success, 2 bad input (file, line, field and what was expected;
no traceback), 1 anything else. Set ``NEGSIM_DEBUG=1`` to see tracebacks.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from simulator import __version__
from simulator.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


def _reports_errors(command: F) -> F:
    """Turn bad input into exit 2 and other failures into exit 1, without tracebacks."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as err:
            for problem in err.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as err:
            if os.environ.get("NEGSIM_DEBUG"):
                raise
            click.echo(f"negsim: internal error: {type(err).__name__}: {err}", err=True)
            click.echo("(set NEGSIM_DEBUG=1 for a traceback)", err=True)
            sys.exit(EXIT_FAILURE)

    return wrapper  # type: ignore[return-value]


def _solver_names() -> list[str]:
    from simulator.extensive.solve import TREE_METHODS
    from simulator.solvers import SOLVERS

    return ["auto", *SOLVERS, *TREE_METHODS]


_out_option = click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write to this file (atomically) instead of the terminal.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="negsim")
def cli() -> None:
    """negsim: negotiation scenarios in, verified equilibria out.

    Start with `negsim list` to see the bundled scenarios and
    `negsim run scenarios/minerals_us_ukraine.yaml` to solve one.
    """


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract instead of tables.")
@click.option(
    "--solver",
    default="auto",
    show_default=True,
    type=click.Choice(_solver_names()),
    help="Method for every game. auto: vertex enumeration for 2 players, support "
    "enumeration for more; for trees, backward induction (perfect information), else "
    "subgame by subgame (proper subgames), else the sequence form (2 players), else the "
    "reduced strategic form. See `negsim solvers`.",
)
@click.option(
    "--concept",
    "concepts",
    multiple=True,
    type=click.Choice(["qre", "correlated"]),
    help="Also report this concept for strategic games (repeatable): qre = the logit "
    "quantal response path to its limit, correlated = correlated equilibria maximising "
    "welfare and each player's payoff.",
)
@click.option("--game", "games", multiple=True, help="Only this game of a scenario (repeatable).")
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a scenario parameter for this run (repeatable), e.g. --set occupied_share=0.5.",
)
@click.option(
    "--dominance",
    type=click.Choice(["none", "pure", "mixed"]),
    default="pure",
    show_default=True,
    help="Also report strategies removed by iterated strict dominance: by pure strategies, "
    "or also by mixtures (linear programs; slower start-up).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Time limit in seconds for the nashpy-* backends (default 60).",
)
@_out_option
@_reports_errors
def run(
    files: tuple[str, ...],
    as_json: bool,
    solver: str,
    concepts: tuple[str, ...],
    games: tuple[str, ...],
    settings: tuple[str, ...],
    dominance: str,
    timeout: float | None,
    out: str | None,
) -> None:
    """Solve every game in scenario (.yaml) or Gambit (.nfg, .efg) FILES.

    Every equilibrium printed has been verified: no player gains more than the
    stated tolerance by deviating.
    """
    from simulator.analysis import analyze_file

    options: dict[str, Any] = {}
    if timeout is not None:
        if not solver.startswith("nashpy-"):
            raise click.UsageError("--timeout applies to the nashpy-* solvers only")
        options["timeout"] = timeout
    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        raise InputError.at(missing[0], None, "", "no such file")
    parameters = _parse_settings(settings)
    analyses = [
        analyze_file(
            f,
            method=solver,
            games=list(games) or None,
            options=options,
            parameters=parameters,
            dominance=dominance,
            concepts=concepts,
        )
        for f in files
    ]
    if as_json:
        from simulator.report.json_contract import analysis_to_json

        payload: Any = [analysis_to_json(a) for a in analyses]
        text = json.dumps(
            payload[0] if len(payload) == 1 else payload, indent=2, ensure_ascii=False
        )
        text += "\n"
    else:
        import io

        from simulator.report.table import print_analysis

        buffer = io.StringIO() if out else None
        for k, analysis in enumerate(analyses):
            if k:
                click.echo("", file=buffer)
            print_analysis(analysis, file=buffer if buffer is not None else sys.stdout)
        if buffer is None:
            return
        text = buffer.getvalue()
    _emit(text, out)


def _parse_settings(settings: tuple[str, ...]) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in settings:
        name, sep, text = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            values[name.strip()] = float(text)
        except ValueError:
            raise InputError.at(
                "--set", None, item, "expected NAME=VALUE with a number, e.g. occupied_share=0.5"
            ) from None
    return values


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_reports_errors
def validate(files: tuple[str, ...]) -> None:
    """Check scenario or .nfg FILES and report every problem found.

    Exits 0 when all files are valid and 2 when any is not.
    """
    from simulator.errors import Problem

    problems: list[Problem] = []
    for f in files:
        found = _validate_one(f)
        if found:
            problems.extend(found)
        else:
            click.echo(f"ok: {f}")
    if problems:
        raise InputError(problems)


def _validate_one(path: str) -> list[Any]:
    from simulator.errors import Problem

    if not Path(path).is_file():
        return [Problem(path, None, "", "no such file")]
    if Path(path).suffix.lower() == ".nfg":
        from simulator.formats.nfg import read_nfg

        try:
            read_nfg(path)
        except InputError as err:
            return list(err.problems)
        return []
    from simulator.scenario import validate_file

    return list(validate_file(path))


@cli.command("list")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Folder of scenarios (default: ./scenarios, else the one beside the package).",
)
@_reports_errors
def list_scenarios(directory: str | None) -> None:
    """List the bundled scenarios, one line each."""
    from simulator.scenario import load_scenario

    folder = Path(directory) if directory else _scenario_dir()
    if folder is None:
        raise InputError.at("scenarios", None, "", "no scenarios folder found; pass --dir")
    files = sorted(list(folder.glob("*.yaml")) + list(folder.glob("*.yml")))
    width = max((len(str(f)) for f in files), default=0)
    for f in files:
        try:
            scenario = load_scenario(f)
        except InputError as err:
            click.echo(f"{f!s:<{width}}  (invalid: {len(err.problems)} problem(s))")
            continue
        kinds = ", ".join(sorted({g.kind for g in scenario.games}))
        click.echo(
            f"{f!s:<{width}}  {scenario.name} — {len(scenario.actors)} actors, "
            f"{len(scenario.games)} game(s) ({kinds})"
        )


def _scenario_dir() -> Path | None:
    here = Path("scenarios")
    if here.is_dir():
        return here
    beside = Path(__file__).resolve().parent.parent / "scenarios"
    return beside if beside.is_dir() else None


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["nfg", "efg"]),
    default="nfg",
    show_default=True,
    help="Output format: nfg (strategic form; a tree is written as its reduced strategic "
    "form) or efg (game trees only).",
)
@click.option("--game", default=None, help="Which game of a scenario (default: the first).")
@_out_option
@_reports_errors
def export(file: str, fmt: str, game: str | None, out: str | None) -> None:
    """Write a game of FILE in another format (Gambit .nfg or .efg)."""
    from simulator.extensive.tree import ExtensiveGame
    from simulator.formats.efg import read_efg, write_efg
    from simulator.formats.nfg import read_nfg, write_nfg

    if not Path(file).is_file():
        raise InputError.at(file, None, "", "no such file")
    suffix = Path(file).suffix.lower()
    built: Any
    if suffix == ".nfg":
        built = read_nfg(file)
    elif suffix == ".efg":
        built = read_efg(file)
    else:
        from simulator.scenario import build_any_game, load_scenario

        scenario = load_scenario(file)
        names = [g.name for g in scenario.games]
        name = game or names[0]
        if name not in names:
            raise InputError.at(
                file, None, "--game", f"no game named {name!r}; the file has {', '.join(names)}"
            )
        kind = next(g.kind for g in scenario.games if g.name == name)
        if kind not in ("strategic", "sequential"):
            raise InputError.at(
                file,
                None,
                "--game",
                f"game {name!r} is not a strategic game or a tree but a {kind} game; "
                "only strategic and sequential games export",
            )
        built = build_any_game(scenario, name)
    if fmt == "efg":
        if not isinstance(built, ExtensiveGame):
            raise InputError.at(
                file, None, "--format", "efg is for game trees; this game is in strategic form"
            )
        _emit(write_efg(built), out)
        return
    if isinstance(built, ExtensiveGame):
        from simulator.extensive.reduced_form import reduced_strategic_form

        try:
            built = reduced_strategic_form(built).strategic
        except ValueError as exc:
            raise InputError.at(file, None, "--format", str(exc)) from None
    _emit(write_nfg(built), out)


class _ProgressBar:
    """``progress(done, total)`` for long runs: a bar on stderr, only on a terminal.

    Nothing is drawn in the first second (short runs stay quiet), with
    ``--quiet``, or when stderr is not a terminal (CI logs, pipes).
    """

    def __init__(self, label: str, quiet: bool) -> None:
        import time

        self.label = label
        self.enabled = not quiet and sys.stderr.isatty()
        self.started = time.perf_counter()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        import time

        if not self.enabled:
            return
        if self.bar is None:
            if time.perf_counter() - self.started < 1.0:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            # No refresh thread: a running thread would make local worker pools
            # start by the slower fork server; the callback refreshes instead.
            self.bar = Progress(
                f"[bold]{self.label}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
                auto_refresh=False,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        self.bar.update(self.task, completed=done, total=total)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


_parallel_options = [
    click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=None,
        help="Local worker processes (default: every core; 1 runs in this process).",
    ),
    click.option(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="Run on this Dask cluster (e.g. tcp://10.0.0.5:8786) instead of local cores.",
    ),
    click.option(
        "--chunk-size",
        type=click.IntRange(min=1),
        default=None,
        help="Points per chunk written to disk (default: chosen from the run's size).",
    ),
    click.option(
        "--resume",
        is_flag=True,
        help="Continue an interrupted run whose chunks are in OUT.parts, skipping finished ones.",
    ),
    click.option("--quiet", "-q", is_flag=True, help="No progress bar."),
    click.option(
        "--json", "as_json", is_flag=True, help="Print the result as JSON instead of tables."
    ),
]


_concept_option = click.option(
    "--concept",
    "concepts",
    multiple=True,
    help="Bargaining or coalition solution concept to compute (repeatable; default: the game's).",
)


def _with_parallel_options(command: F) -> F:
    for option in reversed(_parallel_options):
        command = option(command)
    return command


def _records_out_option(help_text: str) -> Callable[[F], F]:
    return click.option(
        "--out",
        type=click.Path(dir_okay=False, writable=True),
        default=None,
        help=help_text,
    )


def _first_game(file: str, game: str | None) -> str:
    if game:
        return game
    from simulator.scenario import load_scenario

    return load_scenario(file).games[0].name


def _check_records_file(out: str | None, resume: bool) -> None:
    if out is not None:
        from simulator.runner import FORMATS

        if Path(out).suffix.lower() not in FORMATS:
            raise InputError.at(
                out, None, "--out", f"expected a file ending in {', '.join(FORMATS)}"
            )
    if resume and out is None:
        raise click.UsageError("--resume continues a run written with --out; give the same --out")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--param",
    "params",
    multiple=True,
    required=True,
    metavar="NAME=LO:HI:N",
    help="Sweep this parameter over N evenly spaced values from LO to HI (repeatable: a grid).",
)
@click.option("--game", default=None, help="Which game (default: the first in the file).")
@_concept_option
@click.option(
    "--threshold-tol",
    type=float,
    default=None,
    help="Locate changes to within this many parameter units (default: 1e-6 x the range).",
)
@_records_out_option("Write every point's record here (.csv, .parquet or .json), atomically.")
@_with_parallel_options
@_reports_errors
def sweep(
    file: str,
    params: tuple[str, ...],
    game: str | None,
    concepts: tuple[str, ...],
    threshold_tol: float | None,
    out: str | None,
    workers: int | None,
    scheduler: str | None,
    chunk_size: int | None,
    resume: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Solve a game of FILE over a grid of parameter values; report where the answer changes.

    A change is a new equilibrium set, a deal appearing or vanishing, or a deal
    term reaching or leaving a bound; each is located by bisection, not only on
    the grid.
    """
    import time

    from simulator.sweep import sweep as run_sweep

    if not Path(file).is_file():
        raise InputError.at(file, None, "", "no such file")
    _check_records_file(out, resume)
    bar = _ProgressBar("sweep", quiet)
    started = time.perf_counter()
    try:
        result = run_sweep(
            file,
            _first_game(file, game),
            list(params),
            concepts=list(concepts) or None,
            workers=workers,
            scheduler=scheduler,
            chunk_size=chunk_size,
            out=out,
            resume=resume,
            threshold_tol=threshold_tol,
            progress=bar,
        )
    finally:
        bar.close()
    elapsed = time.perf_counter() - started
    points = result.grid.size + result.bisection_points
    if as_json:
        payload = {
            "scenario": result.scenario,
            "game": result.game,
            "kind": result.kind,
            "ranges": [str(r) for r in result.ranges],
            "points": result.grid.size,
            "bisection_points": result.bisection_points,
            "seconds": elapsed,
            "thresholds": [t.as_dict() for t in result.thresholds],
            "tolerances": dict(result.tolerances),
            "out": None if result.out is None else str(result.out),
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    ranges = ", ".join(str(r) for r in result.ranges)
    click.echo(f"Sweep of {result.game} ({result.kind}) in {result.scenario} over {ranges}")
    click.echo(
        f"{result.grid.size} grid points and {result.bisection_points} bisection points "
        f"in {elapsed:.2f} s ({points / max(elapsed, 1e-9):.0f} points/s)."
    )
    if not result.thresholds:
        click.echo("The answer is the same at every grid point: no threshold found.")
    for t in result.thresholds:
        fixed = ", ".join(f"{k}={v:g}" for k, v in t.fixed.items())
        where = f" (with {fixed})" if fixed else ""
        click.echo(
            f"Threshold: {t.parameter} = {t.value:.6g} +/- {(t.high - t.low) / 2:.2g}{where}\n"
            f"  below: {t.below}\n  above: {t.above}"
        )
    if result.out is not None:
        click.echo(f"Records written to {result.out}.")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "-n",
    "draws",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Number of draws.",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed of the draws (default: a fresh one, printed so the run can be redone).",
)
@click.option("--game", default=None, help="Which game (default: the first in the file).")
@_concept_option
@_records_out_option("Write every draw's record here (.csv, .parquet or .json), atomically.")
@_with_parallel_options
@_reports_errors
def montecarlo(
    file: str,
    draws: int,
    seed: int | None,
    game: str | None,
    concepts: tuple[str, ...],
    out: str | None,
    workers: int | None,
    scheduler: str | None,
    chunk_size: int | None,
    resume: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Draw FILE's uncertain parameters and report the distribution of a game's outcomes.

    Prints the probability that a deal exists and of each equilibrium set, and
    quantiles of every payoff and deal term, each with its standard error.
    """
    from simulator.montecarlo import montecarlo as run_montecarlo
    from simulator.uncertainty import new_seed

    if not Path(file).is_file():
        raise InputError.at(file, None, "", "no such file")
    _check_records_file(out, resume)
    if seed is None:
        if resume:
            raise click.UsageError("--resume needs the --seed of the run it continues")
        seed = new_seed()
    bar = _ProgressBar("montecarlo", quiet)
    try:
        result = run_montecarlo(
            file,
            _first_game(file, game),
            draws,
            seed,
            concepts=list(concepts) or None,
            workers=workers,
            scheduler=scheduler,
            chunk_size=chunk_size,
            out=out,
            resume=resume,
            progress=bar,
        )
    finally:
        bar.close()
    if as_json:
        payload = {
            "scenario": result.scenario,
            "game": result.game,
            "kind": result.kind,
            "n": result.n,
            "seed": result.seed,
            "uncertain": list(result.uncertain),
            "seconds": result.elapsed,
            "summary": result.summary.as_dict(),
            "out": None if result.out is None else str(result.out),
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    from simulator.report.montecarlo_table import print_montecarlo

    print_montecarlo(result)


PLOT_KINDS = ("surface", "frontier", "heatmap", "qre", "sweep")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("kind", type=click.Choice(PLOT_KINDS))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help="The figure file: .png, .svg or .pdf (written atomically).",
)
@click.option("--game", default=None, help="Which game (default: the first of a fitting kind).")
@click.option("--player", default=None, help="surface: whose payoff; heatmap: colour by it.")
@click.option("--x", "x_issue", default=None, help="surface: the issue on the x axis.")
@click.option("--y", "y_issue", default=None, help="surface: the issue on the y axis.")
@click.option(
    "--players",
    default=None,
    metavar="A,B",
    help="frontier: the pair of players to draw for games of more than two.",
)
@click.option("--3d", "three_d", is_flag=True, help="surface: a 3-D surface instead of contours.")
@click.option(
    "--resolution",
    type=click.IntRange(min=5, max=1001),
    default=101,
    show_default=True,
    help="surface: grid points per axis.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=LO:HI:N",
    help="sweep: the parameter to sweep (the first one is the x axis).",
)
@click.option(
    "--column",
    "columns",
    multiple=True,
    help="sweep: record columns to draw, e.g. nash_bargaining.deal.mineral_share "
    "(repeatable; * matches any concept; default: every concept's deal terms).",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="surface, frontier, heatmap: override a scenario parameter (repeatable).",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="sweep: local workers.")
@click.option("--quiet", "-q", is_flag=True, help="sweep: no progress bar.")
@_reports_errors
def plot(
    file: str,
    kind: str,
    out: str,
    game: str | None,
    player: str | None,
    x_issue: str | None,
    y_issue: str | None,
    players: str | None,
    three_d: bool,
    resolution: int,
    params: tuple[str, ...],
    columns: tuple[str, ...],
    settings: tuple[str, ...],
    workers: int | None,
    quiet: bool,
) -> None:
    """Draw a figure of a game in scenario FILE: KIND is surface, frontier, heatmap, qre or sweep.

    heatmap and qre also take a Gambit .nfg FILE.

    \b
    surface   one player's payoff over two issues of a bargaining game
    frontier  the Pareto frontier of a bargaining game, with its solutions
    heatmap   a strategic game's payoff table with its equilibria
    qre       a strategic game's logit QRE path: probabilities against lambda
    sweep     deal terms or payoffs against a parameter, thresholds marked
    """
    from simulator.plotting import FORMATS

    if not Path(file).is_file():
        raise InputError.at(file, None, "", "no such file")
    if Path(out).suffix.lower() not in FORMATS:
        raise InputError.at(out, None, "--out", f"expected a file ending in {', '.join(FORMATS)}")
    if kind == "sweep":
        figure = _sweep_figure(file, game, params, columns, workers, quiet)
    else:
        figure = _game_figure(
            file, kind, game, player, x_issue, y_issue, players, three_d, resolution, settings
        )
    figure.save(out)
    click.echo(f"{kind} figure of {figure.title or file} written to {out}.")


def _game_figure(
    file: str,
    kind: str,
    game: str | None,
    player: str | None,
    x_issue: str | None,
    y_issue: str | None,
    players: str | None,
    three_d: bool,
    resolution: int,
    settings: tuple[str, ...],
) -> Any:
    from simulator import plotting
    from simulator.bargaining.game import BargainingGame, solve_bargaining
    from simulator.game import StrategicGame
    from simulator.scenario import build_any_game, load_scenario

    wanted = "strategic" if kind in ("heatmap", "qre") else "bargaining"
    built: Any
    if Path(file).suffix.lower() == ".nfg":
        from simulator.formats.nfg import read_nfg

        if kind not in ("heatmap", "qre"):
            raise InputError.at(file, None, "KIND", f"a .nfg file has no bargaining game to {kind}")
        built = read_nfg(file)
        name = built.title or Path(file).stem
        units: dict[str, str] = {}
    else:
        scenario = load_scenario(file)
        name = game or next((g.name for g in scenario.games if g.kind == wanted), None)
        if name is None:
            raise InputError.at(file, None, "games", f"no {wanted} game to draw a {kind} of")
        built = build_any_game(scenario, name, parameters=_parse_settings(settings))
        units = {issue: spec.unit for issue, spec in scenario.issues.items()}
    if kind == "heatmap":
        if not isinstance(built, StrategicGame):
            raise InputError.at(file, None, "--game", f"{name!r} is not a strategic game")
        from simulator.solvers import solve

        return plotting.payoff_heatmap(built, result=solve(built, "auto"), player=player)
    if kind == "qre":
        if not isinstance(built, StrategicGame):
            raise InputError.at(file, None, "--game", f"{name!r} is not a strategic game")
        from simulator.solvers.logit_qre import trace_logit_qre

        path = trace_logit_qre(built)
        title = f"{name}: logit QRE path" + ("" if path.converged else " (no equilibrium reached)")
        limit = None if path.end is None else path.end.strategies
        return plotting.qre_plot(
            path.lambdas, path.profiles, built, x_scale="symlog", title=title, limit=limit
        )
    if not isinstance(built, BargainingGame):
        raise InputError.at(file, None, "--game", f"{name!r} is not a bargaining game")
    result = solve_bargaining(built)
    if kind == "frontier":
        pair = None if players is None else [p.strip() for p in players.split(",")]
        return plotting.frontier_plot(result, players=pair, solutions=result)
    free = [
        issue
        for issue, lo, hi in zip(
            built.problem.issues, built.problem.lower, built.problem.upper, strict=True
        )
        if hi > lo
    ]
    x = x_issue or (free[0] if free else None)
    y = y_issue or (free[1] if len(free) > 1 else None)
    if x is None or y is None:
        raise InputError.at(
            file, None, "--x/--y", "a surface needs two issues that are bargained over"
        )
    try:
        return plotting.payoff_surface(
            built,
            player or built.players[0],
            x,
            y,
            solutions=result,
            resolution=resolution,
            three_d=three_d,
            units=units,
        )
    except (KeyError, ValueError) as exc:
        raise InputError.at(file, None, "--player/--x/--y", str(exc)) from None


def _sweep_figure(
    file: str,
    game: str | None,
    params: tuple[str, ...],
    columns: tuple[str, ...],
    workers: int | None,
    quiet: bool,
) -> Any:
    from simulator import plotting
    from simulator.scenario import load_scenario
    from simulator.sweep import parse_range
    from simulator.sweep import sweep as run_sweep

    if not params:
        raise click.UsageError("a sweep figure needs --param NAME=LO:HI:N")
    from simulator.bargaining.game import CONCEPTS
    from simulator.coalition.game import COALITION_CONCEPTS

    scenario = load_scenario(file)
    name = _first_game(file, game)
    # Solve only the concepts drawn, so that only their thresholds are marked.
    named = {c.split(".")[0] for c in columns}
    concepts = sorted(named & (set(CONCEPTS) | set(COALITION_CONCEPTS))) or None
    if concepts is not None and named - set(concepts):
        concepts = None
    bar = _ProgressBar("sweep", quiet)
    try:
        result = run_sweep(
            file, name, list(params), concepts=concepts, workers=workers, progress=bar
        )
    finally:
        bar.close()
    swept = parse_range(params[0]).name
    x = f"param.{swept}"
    if columns:
        y: list[str] = list(columns)
    elif result.kind == "bargaining":
        y = ["*.deal.*"]
    else:
        y = [f"payoff.{p}" for p in scenario.game(name).players]  # type: ignore[attr-defined]
    units = {f"param.{k}": "" for k in scenario.parameters}
    units.update({issue: spec.unit for issue, spec in scenario.issues.items()})
    try:
        return plotting.sweep_plot(
            result.records,
            x,
            y,
            thresholds=result.thresholds,
            units=units,
            title=f"{name} as {swept} varies",
        )
    except (KeyError, ValueError) as exc:
        raise InputError.at(file, None, "--column", str(exc)) from None


@cli.command()
def solvers() -> None:
    """List the solvers `negsim run --solver` accepts."""
    from simulator.extensive.solve import TREE_METHODS
    from simulator.solvers import SOLVERS

    width = max(len(n) for n in [*SOLVERS, *TREE_METHODS])
    click.echo("Strategic games (and game trees, through their reduced strategic form):")
    for spec in SOLVERS.values():
        click.echo(f"  {spec.name:<{width}}  {spec.summary}")
    click.echo("Game trees:")
    for name, summary in TREE_METHODS.items():
        click.echo(f"  {name:<{width}}  {summary}")


@cli.command()
@_out_option
def schema(out: str | None) -> None:
    """Print the JSON Schema of scenario files (for editors)."""
    from simulator.scenario.schema import scenario_json_schema

    _emit(json.dumps(scenario_json_schema(), indent=2) + "\n", out)


def _emit(text: str, out: str | None) -> None:
    if out:
        from simulator.atomic_write import write_text_atomic

        write_text_atomic(out, text)
    else:
        click.echo(text, nl=False)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="negsim")
