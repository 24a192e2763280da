"""From a file to verified answers: the one entry point the CLI and notebooks share.

``analyze_file(path)`` reads a scenario (``.yaml``/``.yml``) or a Gambit
strategic-form file (``.nfg``), builds each game, solves it with the chosen
method, and returns an :class:`Analysis`: frozen records holding the games, the
verified solver results, the strictly dominated strategies, and, for scenario
games, the deal behind each strategy profile. Reports (:mod:`simulator.report`)
only format these records.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.errors import InputError
from simulator.game import StrategicGame
from simulator.results import SolverResult
from simulator.tolerance import RTOL

if TYPE_CHECKING:
    from simulator.bargaining.game import BargainingGame, BargainingResult
    from simulator.coalition.game import CoalitionGame, CoalitionResult
    from simulator.extensive.results import SequentialResult
    from simulator.extensive.tree import ExtensiveGame
    from simulator.solvers.correlated import CorrelatedResult
    from simulator.solvers.logit_qre import QrePath

SCENARIO_SUFFIXES = (".yaml", ".yml")
NFG_SUFFIXES = (".nfg",)
EFG_SUFFIXES = (".efg",)
EXTRA_CONCEPTS = ("qre", "correlated")
"""Concepts a run can add beside Nash equilibria of strategic games (``--concept``)."""
# Iterated elimination solves a linear program per strategy and round; above this
# many pure profiles a run skips it rather than spend longer on it than on solving.
DOMINANCE_MAX_PROFILES = 20_000
DOMINANCE_MODES = ("none", "pure", "mixed")


@dataclass(frozen=True, eq=False)
class GameAnalysis:
    """One game of a file, solved.

    ``deals`` maps a pure profile (tuple of strategy indices) to the deal terms it
    leads to (issue -> value), or to ``None`` for fixed payoffs; it is empty for
    games given by a payoff table or a ``.nfg`` file. ``dominated`` lists the
    strictly dominated strategies found by iterated elimination, in order, as
    ``(player, strategy, dominated_by)`` labels.
    """

    name: str
    kind: str
    description: str
    game: StrategicGame
    result: SolverResult
    dominated: tuple[tuple[str, str, str], ...] = ()
    dominance: str = "pure"
    deals: Mapping[tuple[int, ...], Mapping[str, float] | None] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    qre: QrePath | None = None
    correlated: CorrelatedResult | None = None


@dataclass(frozen=True, eq=False)
class SequentialAnalysis:
    """One game tree, solved: verified equilibria in behaviour strategies.

    ``units``: issue -> unit, for the deal terms at terminal nodes.
    """

    name: str
    description: str
    game: ExtensiveGame
    result: SequentialResult
    units: Mapping[str, str] = field(default_factory=dict)
    kind: str = "sequential"


@dataclass(frozen=True, eq=False)
class BargainingAnalysis:
    """One bargaining game of a scenario, solved: every requested concept, checked.

    ``units``: issue -> unit, for reports.
    """

    name: str
    description: str
    game: BargainingGame
    result: BargainingResult
    units: Mapping[str, str] = field(default_factory=dict)
    kind: str = "bargaining"


@dataclass(frozen=True, eq=False)
class CoalitionAnalysis:
    """One coalition game of a scenario, solved: core, values, and NTU core checks."""

    name: str
    description: str
    game: CoalitionGame
    result: CoalitionResult
    units: Mapping[str, str] = field(default_factory=dict)
    kind: str = "coalition"


AnyGameAnalysis = GameAnalysis | SequentialAnalysis | BargainingAnalysis | CoalitionAnalysis
"""What :attr:`Analysis.games` holds: one record per game, by kind."""


@dataclass(frozen=True, eq=False)
class Analysis:
    """Every game of one input file, solved; ``meta`` records how (for reruns)."""

    title: str
    file: str
    question: str
    games: tuple[AnyGameAnalysis, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)


def analyze_game(
    game: StrategicGame,
    *,
    method: str = "auto",
    name: str = "",
    kind: str = "strategic",
    description: str = "",
    deals: Mapping[tuple[int, ...], Mapping[str, float] | None] | None = None,
    units: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
    dominance: str = "pure",
    concepts: Sequence[str] = (),
) -> GameAnalysis:
    """Solve one strategic game and collect what a report shows about it.

    ``concepts`` adds solution concepts beside the Nash equilibria of
    ``method``: ``"qre"`` traces the logit quantal response equilibrium path
    (McKelvey and Palfrey 1995) to its limit, ``"correlated"`` finds the
    correlated equilibria maximising welfare and each player's payoff (LP).

    ``dominance`` chooses the iterated elimination of strictly dominated
    strategies reported beside the equilibria: ``"pure"`` (domination by pure
    strategies), ``"mixed"`` (also by mixtures, one linear program per candidate;
    importing scipy's optimizer costs about half a second of start-up) or
    ``"none"``.
    """
    if dominance not in DOMINANCE_MODES:
        raise ValueError(f"analyze_game: dominance must be one of {DOMINANCE_MODES}")
    unknown = [c for c in concepts if c not in EXTRA_CONCEPTS]
    if unknown:
        raise ValueError(f"analyze_game: concepts must be among {EXTRA_CONCEPTS}, got {unknown}")
    from simulator.solvers import solve
    from simulator.solvers.dominance import iterated_strict_dominance

    start = time.perf_counter()
    result = solve(game, method, **dict(options or {}))
    if not result.elapsed:
        object.__setattr__(result, "elapsed", time.perf_counter() - start)
    dominated: tuple[tuple[str, str, str], ...] = ()
    if dominance != "none" and math.prod(game.shape) <= DOMINANCE_MAX_PROFILES:
        eliminated = iterated_strict_dominance(game, mixed=dominance == "mixed")
        dominated = tuple(
            (e.player, e.strategy, _dominator_text(e.dominated_by)) for e in eliminated.eliminations
        )
    qre = correlated = None
    if "qre" in concepts:
        from simulator.solvers.logit_qre import trace_logit_qre

        qre = trace_logit_qre(game)
    if "correlated" in concepts:
        from simulator.solvers.correlated import correlated_equilibria

        correlated = correlated_equilibria(game)
    return GameAnalysis(
        name=name or game.title or "game",
        kind=kind,
        description=description,
        game=game,
        result=result,
        dominated=dominated,
        dominance=dominance,
        deals=dict(deals or {}),
        units=dict(units or {}),
        qre=qre,
        correlated=correlated,
    )


def analyze_sequential(
    game: ExtensiveGame,
    *,
    method: str = "auto",
    name: str = "",
    description: str = "",
    units: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
    file: str = "",
) -> SequentialAnalysis:
    """Solve one game tree (see :func:`simulator.extensive.solve.solve_sequential`).

    A method that cannot apply to this tree (backward induction with an
    information set of several nodes, say) is bad input: an
    :class:`~simulator.errors.InputError` naming the game.
    """
    from simulator.extensive.solve import solve_sequential

    try:
        result = solve_sequential(game, method, **dict(options or {}))
    except ValueError as exc:
        where = f"game {name!r}: " if name else ""
        field = "--solver" if method != "auto" else "game"
        raise InputError.at(file or name or "game", None, field, f"{where}{exc}") from None
    return SequentialAnalysis(
        name=name or game.title or "game",
        description=description,
        game=game,
        result=result,
        units=dict(units or {}),
    )


def analyze_file(
    path: str | Path,
    *,
    method: str = "auto",
    games: Sequence[str] | None = None,
    options: Mapping[str, Any] | None = None,
    parameters: Mapping[str, float] | None = None,
    dominance: str = "pure",
    concepts: Sequence[str] = (),
) -> Analysis:
    """Read ``path`` (scenario YAML, ``.nfg`` or ``.efg``) and solve every game in it.

    ``games`` restricts a scenario to the named games; ``parameters`` overrides
    scenario parameter values by name (recorded in ``meta``). Raises
    :class:`~simulator.errors.InputError` for unreadable or invalid input.
    """
    from simulator import __version__

    file = str(path)
    suffix = Path(file).suffix.lower()
    meta: dict[str, Any] = {
        "negsim_version": __version__,
        "method": method,
        "dominance": dominance,
        "tolerance_rtol": RTOL,
    }
    if suffix in NFG_SUFFIXES + EFG_SUFFIXES:
        if games:
            raise InputError.at(file, None, "--game", f"a {suffix} file holds a single game")
        if parameters:
            raise InputError.at(file, None, "--set", f"a {suffix} file has no parameters")
    if suffix in EFG_SUFFIXES:
        from simulator.formats.efg import read_efg_document

        document = read_efg_document(file)
        tree = document.game
        _check_method(file, "", tree, method)
        if concepts:
            raise InputError.at(
                file, None, "--concept", "qre and correlated apply to strategic games only"
            )
        solved = analyze_sequential(
            tree, method=method, name=tree.title or Path(file).stem, options=options, file=file
        )
        if document.notes:
            # What the reader changed (relabelled duplicates, say) belongs in the report.
            result = replace(solved.result, notes=(*document.notes, *solved.result.notes))
            solved = replace(solved, result=result)
        return Analysis(
            title=tree.title or Path(file).stem,
            file=file,
            question="",
            games=(solved,),
            meta=meta,
        )
    if suffix in NFG_SUFFIXES:
        from simulator.formats.nfg import read_nfg_document

        nfg = read_nfg_document(file)
        game = nfg.game
        _check_method(file, "", game, method)
        analysis = analyze_game(
            game,
            method=method,
            name=game.title or Path(file).stem,
            options=options,
            dominance=dominance,
            concepts=concepts,
        )
        if nfg.notes:
            notes = (*nfg.notes, *analysis.result.notes)
            analysis = replace(analysis, result=replace(analysis.result, notes=notes))
        return Analysis(
            title=game.title or Path(file).stem,
            file=file,
            question="",
            games=(analysis,),
            meta=meta,
        )
    if suffix not in SCENARIO_SUFFIXES:
        raise InputError.at(
            file,
            None,
            "",
            f"unknown file type {suffix or '(none)'!r}; expected a scenario "
            "(.yaml, .yml) or a Gambit file (.nfg strategic form, .efg extensive form)",
        )
    from simulator.extensive.tree import ExtensiveGame as ExtensiveGameType
    from simulator.scenario import build_any_game, describe_outcomes, load_scenario

    scenario = load_scenario(file)
    meta["parameters"] = {**scenario.parameter_values(), **dict(parameters or {})}
    meta["overrides"] = dict(parameters or {})
    names = [g.name for g in scenario.games]
    if games:
        unknown = [g for g in games if g not in names]
        if unknown:
            raise InputError.at(
                file,
                None,
                "--game",
                f"no game named {', '.join(map(repr, unknown))}; the file has {', '.join(names)}",
            )
        selected = [g for g in scenario.games if g.name in games]
    else:
        selected = list(scenario.games)
    units = {name: issue.unit for name, issue in scenario.issues.items()}
    results: list[AnyGameAnalysis] = []
    for spec in selected:
        built = build_any_game(scenario, spec.name, parameters=parameters)
        if isinstance(built, ExtensiveGameType):
            _check_method(file, spec.name, built, method)
            results.append(
                analyze_sequential(
                    built,
                    method=method,
                    name=spec.name,
                    description=spec.description or "",
                    units=units,
                    options=options,
                    file=file,
                )
            )
            continue
        if not isinstance(built, StrategicGame):
            results.append(analyze_other(built, spec.name, spec.description or "", units))
            continue
        game = built
        _check_method(file, spec.name, game, method)
        deals = _deals_by_index(game, describe_outcomes(scenario, spec.name, parameters=parameters))
        results.append(
            analyze_game(
                game,
                method=method,
                name=spec.name,
                kind=spec.kind,
                description=spec.description or "",
                deals=deals,
                units=units,
                options=options,
                dominance=dominance,
                concepts=concepts,
            )
        )
    return Analysis(
        title=scenario.name,
        file=file,
        question=scenario.question,
        games=tuple(results),
        meta=meta,
    )


def analyze_other(
    game: Any, name: str, description: str = "", units: Mapping[str, str] | None = None
) -> BargainingAnalysis | CoalitionAnalysis:
    """Solve a bargaining or coalition game (every concept it asks for), checked."""
    from simulator.bargaining.game import BargainingGame, solve_bargaining
    from simulator.coalition.game import CoalitionGame, solve_coalition

    if isinstance(game, BargainingGame):
        return BargainingAnalysis(
            name=name,
            description=description,
            game=game,
            result=solve_bargaining(game),
            units=dict(units or {}),
        )
    if isinstance(game, CoalitionGame):
        return CoalitionAnalysis(
            name=name,
            description=description,
            game=game,
            result=solve_coalition(game),
            units=dict(units or {}),
        )
    raise TypeError(f"analyze_other: cannot solve a {type(game).__name__}")


def _dominator_text(by: str | Mapping[str, float]) -> str:
    if isinstance(by, str):
        return by
    return "mixing " + ", ".join(f"{label} {p:.4g}" for label, p in by.items())


def _check_method(file: str, name: str, game: StrategicGame | ExtensiveGame, method: str) -> None:
    """Refuse a method that cannot apply to ``game``, as bad input.

    Two-player methods need two players; tree methods need a tree. For a tree,
    strategic methods apply to its reduced strategic form.
    """
    from simulator.extensive.solve import TREE_METHODS
    from simulator.solvers import SOLVERS

    where = f"game {name!r} " if name else "the game "
    if method in TREE_METHODS and isinstance(game, StrategicGame):
        raise InputError.at(
            file,
            None,
            "--solver",
            f"{method} solves game trees, but {where}is a strategic game; "
            "see `negsim solvers` for the strategic methods",
        )
    if method == "sequence-form" and game.n_players != 2:
        raise InputError.at(
            file,
            None,
            "--solver",
            f"sequence-form is for two-player trees, but {where}has {game.n_players} players",
        )
    spec = SOLVERS.get(method)
    if spec is not None and spec.players == "2" and game.n_players != 2:
        raise InputError.at(
            file,
            None,
            "--solver",
            f"{method} is for two-player games, but {where}has {game.n_players} players; "
            "use --solver auto, support-enumeration-n, logit or pure",
        )


def _deals_by_index(
    game: StrategicGame, outcomes: Mapping[Any, Mapping[str, float] | None]
) -> dict[tuple[int, ...], Mapping[str, float] | None]:
    """Key the scenario's profile -> deal map by strategy indices.

    Empty when no profile leads to a deal (a payoff table), so that reports do
    not print "no deal" under every equilibrium of a textbook game.
    """
    if all(deal is None for deal in outcomes.values()):
        return {}
    out: dict[tuple[int, ...], Mapping[str, float] | None] = {}
    for profile, deal in outcomes.items():
        key = tuple(
            p if isinstance(p, int) else game.strategies[i].index(p) for i, p in enumerate(profile)
        )
        out[key] = deal
    return out
