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
    from simulator.solvers import SOLVERS

    return ["auto", *SOLVERS]


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
    help="Method for every game. auto: vertex enumeration for 2 players, pure equilibria "
    "for more. See `negsim solvers`.",
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
    games: tuple[str, ...],
    settings: tuple[str, ...],
    dominance: str,
    timeout: float | None,
    out: str | None,
) -> None:
    """Solve every game in scenario (.yaml) or Gambit (.nfg) FILES.

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
    type=click.Choice(["nfg"]),
    default="nfg",
    show_default=True,
    help="Output format.",
)
@click.option("--game", default=None, help="Which game of a scenario (default: the first).")
@_out_option
@_reports_errors
def export(file: str, fmt: str, game: str | None, out: str | None) -> None:
    """Write a game of FILE in another format (Gambit .nfg)."""
    from simulator.formats.nfg import read_nfg, write_nfg

    if not Path(file).is_file():
        raise InputError.at(file, None, "", "no such file")
    if Path(file).suffix.lower() == ".nfg":
        strategic = read_nfg(file)
    else:
        from simulator.scenario import build_game, load_scenario

        scenario = load_scenario(file)
        names = [g.name for g in scenario.games]
        name = game or names[0]
        if name not in names:
            raise InputError.at(
                file, None, "--game", f"no game named {name!r}; the file has {', '.join(names)}"
            )
        strategic = build_game(scenario, name)
    _emit(write_nfg(strategic), out)


@cli.command()
def solvers() -> None:
    """List the solvers `negsim run --solver` accepts."""
    from simulator.solvers import SOLVERS

    width = max(len(n) for n in SOLVERS)
    for spec in SOLVERS.values():
        click.echo(f"{spec.name:<{width}}  {spec.summary}")


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
