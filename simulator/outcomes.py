"""One flat record per parameter point: the game built and solved, its answer as columns.

Sweeps and Monte Carlo runs solve one game of a scenario at many points
(parameter values). :func:`point_record` builds the game at a point
(:func:`simulator.scenario.build_any_game` with the point as overrides), solves
it and flattens the answer into a *record*, a ``dict`` of column name -> float,
int, str, bool or ``None``. Every record of one game has the same columns, in
the order :func:`record_columns` gives:

``param.<name>``
    every parameter's value at the point (all of them, not only the varied ones).

Bargaining games (solved by :func:`simulator.bargaining.game.solve_bargaining`):
    ``deal_exists`` (some deal beats disagreement for everyone); per concept
    ``c``: ``c.agreement``, ``c.deal.<issue>`` for every issue in play,
    ``c.payoff.<player>``, ``c.gain.<player>`` (``None`` when the concept failed
    or its answer was rejected by the checks; deal terms ``None`` without an
    agreement).

Strategic games (solved by :func:`simulator.solvers.solve`: vertex enumeration for
two players, pure equilibria for more, methods without a time limit):
    ``equilibria`` and ``pure_equilibria`` (counts), ``equilibrium_set`` (every
    equilibrium as ``player:strategy`` items, a probability after the label when
    it is below 1, items in player and strategy order, equilibria sorted and
    joined by ``" | "``); for the *selected* equilibrium (the only one, else the
    one with the largest payoff sum, ties to the first found) ``payoff.<player>``
    and ``deal.<issue>`` (every issue; ``None`` unless it is pure and its
    outcome is a deal).

Game trees (solved by :func:`simulator.extensive.solve.solve_sequential` with ``"auto"``):
    ``equilibria`` (count), ``path`` (the selected equilibrium's path of play in
    words: the only one, else the one with the largest payoff sum),
    ``payoff.<player>`` and ``deal.<issue>`` (every issue; ``None`` unless play
    ends in one deal).

Coalition games (solved by :func:`simulator.coalition.game.solve_coalition`):
    ``core_empty`` and ``c.payoff.<player>`` per concept (``None`` where there
    is no allocation, e.g. the core point of an empty core).

``signature``
    a text that changes exactly when the *kind* of answer changes, so that a
    sweep can locate where it does (:mod:`simulator.sweep`). Bargaining:
    ``deal`` or ``no_deal``, then per concept which free issues in play sit at a
    bound (``nash_bargaining:guarantee=hi,mineral_share=lo``; ``interior`` when
    none; ``no_deal``, or ``failed`` when there is no checked answer), and the
    rows ``j`` of the linear constraints that bind, as ``constraint<j>``; a
    term is at a bound when within the problem's ``deal_tolerance`` (the
    optimizers' accuracy) of it. Strategic: the equilibrium set
    with probabilities dropped (the supports). Trees: the actions each player
    uses at each information set (``player@set:action``), on and off the path,
    for every equilibrium. Coalition: ``core=empty`` or
    ``core=nonempty`` and the coalitions whose excess is largest (tight) at the
    core point.

``error``
    ``None``, or why the game could not be built or solved at this point (e.g.
    an override moves a deal value out of its issue's range); the other columns
    but ``param.*`` are then ``None`` and ``signature`` is ``"error"``.

:class:`PointTask` is the picklable unit of work that :mod:`simulator.runner`
sends to worker processes: it carries the scenario's text, parses it once per
process, and solves a chunk of points in order, warm-starting each bargaining
point from the previous one (the concepts in
:data:`simulator.bargaining.game.WARM_STARTED`).
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulator import __version__
from simulator.bargaining.game import (
    CONCEPTS,
    WARM_STARTED,
    BargainingGame,
    BargainingResult,
    applicable_concepts,
    solve_bargaining,
)
from simulator.coalition.game import COALITION_CONCEPTS, CoalitionGame, solve_coalition
from simulator.errors import InputError
from simulator.extensive.tree import ExtensiveGame
from simulator.game import StrategicGame
from simulator.scenario import Scenario, build_any_game, describe_outcomes, load_scenario_text

__all__ = [
    "ERROR_SIGNATURE",
    "RECORD_FORMAT",
    "PointTask",
    "Record",
    "Value",
    "point_record",
    "record_columns",
]

Value = float | int | str | bool | None
Record = dict[str, Value]

RECORD_FORMAT = 1
"""Version of the record layout above; part of every run's fingerprint."""

ERROR_SIGNATURE = "error"
"""The ``signature`` of a point whose game could not be built or solved."""

_POINT_ERRORS = (ValueError, ArithmeticError)  # InputError is a ValueError


# ------------------------------------------------------------------ layout
@dataclass(frozen=True)
class _Layout:
    """What every record of one game shares: its kind, names and columns."""

    game: str
    kind: str
    parameters: tuple[str, ...]
    players: tuple[str, ...]
    issues: tuple[str, ...]  # deal columns: in play (bargaining), every issue (strategic)
    concepts: tuple[str, ...]
    columns: tuple[str, ...]


def _layout(scenario: Scenario, game_name: str | int, concepts: Sequence[str] | None) -> _Layout:
    """The columns of ``game_name``'s records, from the game built at the file's values."""
    built = build_any_game(scenario, game_name)
    name = scenario.game(game_name).name
    params = tuple(scenario.parameters)
    columns = [f"param.{p}" for p in params]
    players = tuple(built.players)
    issues: tuple[str, ...] = ()
    chosen: tuple[str, ...] = ()
    if isinstance(built, BargainingGame):
        kind = "bargaining"
        chosen = _chosen(scenario, name, concepts, CONCEPTS, built.concepts)
        if not chosen:
            chosen = applicable_concepts(built)
        issues = built.in_play
        columns.append("deal_exists")
        for c in chosen:
            columns.append(f"{c}.agreement")
            columns += [f"{c}.deal.{i}" for i in issues]
            columns += [f"{c}.payoff.{p}" for p in players]
            columns += [f"{c}.gain.{p}" for p in players]
    elif isinstance(built, StrategicGame):
        kind = "strategic"
        if concepts:
            raise InputError.at(
                scenario.source_file,
                None,
                f"games.{name}",
                f"game {name!r} is a strategic game; solution concepts apply to bargaining "
                "and coalition games (strategic games are solved for their Nash equilibria)",
            )
        issues = tuple(scenario.issues)
        columns += ["equilibria", "pure_equilibria", "equilibrium_set"]
        columns += [f"payoff.{p}" for p in players]
        columns += [f"deal.{i}" for i in issues]
    elif isinstance(built, ExtensiveGame):
        kind = "sequential"
        if concepts:
            raise InputError.at(
                scenario.source_file,
                None,
                f"games.{name}",
                f"game {name!r} is a game tree; solution concepts apply to bargaining and "
                "coalition games (trees are solved for subgame-perfect or Nash equilibria)",
            )
        issues = tuple(scenario.issues)
        columns += ["equilibria", "path"]
        columns += [f"payoff.{p}" for p in players]
        columns += [f"deal.{i}" for i in issues]
    else:
        kind = "coalition"
        chosen = _chosen(scenario, name, concepts, COALITION_CONCEPTS, built.concepts)
        if not chosen:
            chosen = tuple(COALITION_CONCEPTS)
        columns.append("core_empty")
        for c in chosen:
            columns += [f"{c}.payoff.{p}" for p in players]
    columns += ["signature", "error"]
    return _Layout(name, kind, params, players, issues, chosen, tuple(columns))


def _chosen(
    scenario: Scenario,
    game: str,
    concepts: Sequence[str] | None,
    known: Mapping[str, str],
    default: tuple[str, ...],
) -> tuple[str, ...]:
    if not concepts:
        return default
    unknown = [c for c in concepts if c not in known]
    if unknown:
        raise InputError.at(
            scenario.source_file,
            None,
            f"games.{game}",
            f"unknown solution concept {unknown[0]!r} for game {game!r}; "
            f"concepts are: {', '.join(known)}",
        )
    return tuple(dict.fromkeys(concepts))


def record_columns(
    scenario: Scenario, game_name: str | int, *, concepts: Sequence[str] | None = None
) -> list[str]:
    """The columns of every record of ``game_name``, in order (see the module docstring).

    Raises :class:`~simulator.errors.InputError` for an unknown game or concept,
    or concepts given for a strategic game.
    """
    return list(_layout(scenario, game_name, concepts).columns)


# ------------------------------------------------------------------ records
def point_record(
    scenario: Scenario,
    game_name: str | int,
    parameters: Mapping[str, float],
    *,
    concepts: Sequence[str] | None = None,
    start: Mapping[str, Value] | None = None,
) -> Record:
    """The record of ``game_name`` built with ``parameters`` overriding the file's values.

    ``concepts``: the bargaining or coalition solution concepts to compute
    (default: the game's own list, else every one that applies). ``start``: the
    record of a nearby point of the same game (e.g. the previous point of a
    sweep); its bargaining deals are tried first by the optimizers. A point
    whose game cannot be built or solved gives a record with ``error`` set
    rather than raising; an unknown game or concept raises
    :class:`~simulator.errors.InputError`.
    """
    return _record(scenario, _layout(scenario, game_name, concepts), parameters, start)


def _record(
    scenario: Scenario,
    layout: _Layout,
    parameters: Mapping[str, float],
    start: Mapping[str, Value] | None,
) -> Record:
    record: Record = dict.fromkeys(layout.columns)
    values = scenario.parameter_values()
    for name, value in parameters.items():
        if name in values:
            values[name] = value
    for name in layout.parameters:
        record[f"param.{name}"] = _number(values[name])
    try:
        built = build_any_game(scenario, layout.game, parameters=parameters)
        if isinstance(built, BargainingGame):
            _bargaining(record, layout, built, start)
        elif isinstance(built, StrategicGame):
            _strategic(record, layout, built, scenario, parameters)
        elif isinstance(built, ExtensiveGame):
            _sequential(record, layout, built)
        else:
            _coalition(record, layout, built)
    except _POINT_ERRORS as exc:
        for column in layout.columns:
            if not column.startswith("param."):
                record[column] = None
        record["signature"] = ERROR_SIGNATURE
        record["error"] = str(exc) or type(exc).__name__
    return record


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _bargaining(
    record: Record, layout: _Layout, game: BargainingGame, start: Mapping[str, Value] | None
) -> None:
    problem = game.problem
    columns = [problem.issues.index(i) for i in layout.issues]
    starts = _starts(start, layout, game) if start is not None else None
    # The zone of agreement costs a full solve; records need only whether a deal
    # exists, which a solution with positive gains settles (BargainingResult.deal_exists).
    result: BargainingResult = solve_bargaining(
        game, layout.concepts, starts=starts, defer_zone=True
    )
    exists = result.deal_exists
    record["deal_exists"] = exists
    parts = ["deal" if exists else "no_deal"]
    lower, upper, tol = problem.lower, problem.upper, problem.deal_tolerance
    free = [j for j in columns if upper[j] > lower[j]]
    for c in layout.concepts:
        solution = result.solution(c)
        if solution is None:
            parts.append(f"{c}:failed")
            continue
        record[f"{c}.agreement"] = bool(solution.agreement)
        for p, payoff, gain in zip(layout.players, solution.payoffs, solution.gains, strict=True):
            record[f"{c}.payoff.{p}"] = float(payoff)
            record[f"{c}.gain.{p}"] = float(gain)
        deal = solution.deal
        if not solution.agreement or deal is None:
            parts.append(f"{c}:no_deal")
            continue
        for name, j in zip(layout.issues, columns, strict=True):
            record[f"{c}.deal.{name}"] = float(deal[j])
        bounds = [
            f"{problem.issues[j]}={'lo' if deal[j] <= lower[j] + tol[j] else 'hi'}"
            for j in free
            if deal[j] <= lower[j] + tol[j] or deal[j] >= upper[j] - tol[j]
        ]
        if problem.A_ub is not None and problem.b_ub is not None:
            slack = problem.b_ub - problem.A_ub @ deal
            room = np.abs(problem.A_ub) @ tol
            bounds += [f"constraint{r}" for r in np.flatnonzero(slack <= room)]
        parts.append(f"{c}:{','.join(bounds) or 'interior'}")
    record["signature"] = "; ".join(parts)


def _starts(
    start: Mapping[str, Value], layout: _Layout, game: BargainingGame
) -> dict[str, np.ndarray]:
    """Concept -> a deal ``(k,)`` from a neighbouring point's record, for warm starts.

    Issues not in play are fixed, so their value in the start does not matter:
    the problem's lower bound stands in for it.
    """
    problem = game.problem
    out: dict[str, np.ndarray] = {}
    for c in layout.concepts:
        if c not in WARM_STARTED or start.get(f"{c}.agreement") is not True:
            continue
        deal = problem.lower.copy()
        for name in layout.issues:
            value = start.get(f"{c}.deal.{name}")
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                break
            deal[problem.issues.index(name)] = value
        else:
            out[c] = deal
    return out


def _strategic(
    record: Record,
    layout: _Layout,
    game: StrategicGame,
    scenario: Scenario,
    parameters: Mapping[str, float],
) -> None:
    from simulator.solvers import solve

    # A method without a time limit, so that a point's record does not depend on
    # how busy the machine was: all extreme equilibria for two players, all pure
    # ones for more (`negsim run` also searches n-player games for mixed ones).
    result = solve(game, "vertex-enumeration" if game.n_players == 2 else "pure")
    equilibria = result.equilibria
    record["equilibria"] = len(equilibria)
    record["pure_equilibria"] = sum(1 for eq in equilibria if eq.is_pure)
    shown, supports = [], []
    for eq in equilibria:
        items, labels = [], []
        for i, player in enumerate(game.players):
            for k in eq.support(i):
                label = f"{player}:{game.strategies[i][k]}"
                prob = float(eq.strategies[i][k])
                labels.append(label)
                items.append(label if prob >= 1.0 else f"{label} {prob:.6g}")
        shown.append(",".join(items))
        supports.append(",".join(labels))
    record["equilibrium_set"] = " | ".join(sorted(shown))
    record["signature"] = " | ".join(sorted(set(supports))) or "none"
    if not equilibria:
        return
    totals = [sum(eq.payoffs) for eq in equilibria]
    best = max(totals)
    chosen = next(eq for eq, t in zip(equilibria, totals, strict=True) if t >= best - _tie(game))
    for p, payoff in zip(game.players, chosen.payoffs, strict=True):
        record[f"payoff.{p}"] = float(payoff)
    if chosen.is_pure:
        profile = tuple(game.strategies[i][eq_k] for i, eq_k in enumerate(_pure(chosen)))
        deal = describe_outcomes(scenario, layout.game, parameters=parameters).get(profile)
        if deal is not None:
            for name in layout.issues:
                record[f"deal.{name}"] = float(deal[name])


def _sequential(record: Record, layout: _Layout, game: ExtensiveGame) -> None:
    from simulator.extensive.solve import solve_sequential
    from simulator.report.sequential_table import path_deal, path_text

    equilibria = solve_sequential(game, "auto").equilibria
    record["equilibria"] = len(equilibria)
    # The actions each player uses at each of its sets, on and off the path, without
    # probabilities: they change only where someone's choice does (a chance move
    # reaching probability 0 hides a branch from the path but changes no choice).
    tol = game.tolerance.probability
    supports = {
        ";".join(
            f"{game.players[h.player]}@{h.name}:"
            + "+".join(a for a, p in zip(h.actions, eq.behavior[h.index], strict=True) if p > tol)
            for h in game.infosets
            if h.player is not None
        )
        for eq in equilibria
    }
    record["signature"] = " | ".join(sorted(supports)) or "none"
    if not equilibria:
        return
    totals = [sum(eq.payoffs) for eq in equilibria]
    best = max(totals)
    tie = game.n_players * game.tolerance.payoff
    chosen = next(eq for eq, t in zip(equilibria, totals, strict=True) if t >= best - tie)
    record["path"] = path_text(game, chosen.path)
    for p, payoff in zip(game.players, chosen.payoffs, strict=True):
        record[f"payoff.{p}"] = float(payoff)
    deal = path_deal(game, chosen)
    if deal is not None:
        for name in layout.issues:
            record[f"deal.{name}"] = float(deal[name])


def _tie(game: StrategicGame) -> float:
    # Payoff sums of n players: n regrets' worth of round-off.
    return game.n_players * game.tolerance.payoff


def _pure(eq: Any) -> tuple[int, ...]:
    return tuple(int(np.argmax(s)) for s in eq.strategies)


def _coalition(record: Record, layout: _Layout, game: CoalitionGame) -> None:
    result = solve_coalition(game, layout.concepts)
    tu = game.game
    core = next((s for s in result.solutions if s.concept == "core"), None)
    for solution in result.solutions:
        if not solution.passed or solution.payoffs is None:
            continue
        for p, payoff in zip(layout.players, solution.payoffs, strict=True):
            record[f"{solution.concept}.payoff.{p}"] = float(payoff)
    point: np.ndarray | None
    if core is None:
        from simulator.coalition.core import least_core

        least = least_core(tu)
        empty = bool(least.epsilon > tu.tolerance)
        point = least.allocation
    else:
        empty = bool(core.details["empty"])
        point = core.payoffs
    record["core_empty"] = empty
    parts = [f"core={'empty' if empty else 'nonempty'}"]
    if point is not None:
        # Excess v(S) - x(S) of every proper coalition; the tight ones attain the largest.
        members = np.array(
            [[(mask >> i) & 1 for i in range(tu.n)] for mask in range(1, tu.grand)], dtype=float
        )
        excess = tu.v[1 : tu.grand] - members @ np.asarray(point, dtype=float)
        tight = np.flatnonzero(excess >= excess.max() - tu.tolerance * max(1, tu.n)) + 1
        names = ["+".join(p for i, p in enumerate(tu.players) if (m >> i) & 1) for m in tight]
        parts.append("tight=" + ",".join(names))
    elif core is not None and core.details.get("tight_coalition"):
        parts.append("tight=" + "+".join(core.details["tight_coalition"]))
    record["signature"] = "; ".join(parts)


# ------------------------------------------------------------------ tasks
_CACHE_SIZE = 8
_SCENARIOS: OrderedDict[tuple[str, str], Scenario] = OrderedDict()
_LAYOUTS: dict[tuple[str, str, str, tuple[str, ...] | None], _Layout] = {}


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _parsed(text: str, source: str) -> Scenario:
    """The scenario of ``text``, parsed once per process (a small LRU cache)."""
    key = (_text_digest(text), source)
    scenario = _SCENARIOS.get(key)
    if scenario is None:
        scenario = load_scenario_text(text, source=source)
        _SCENARIOS[key] = scenario
        if len(_SCENARIOS) > _CACHE_SIZE:
            _SCENARIOS.popitem(last=False)
    else:
        _SCENARIOS.move_to_end(key)
    return scenario


def _read(path: str) -> str:
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError.at(path, None, "", "no such file") from None
    except UnicodeDecodeError:
        raise InputError.at(path, None, "", "the file is not UTF-8 text") from None
    except OSError as exc:
        raise InputError.at(path, None, "", f"cannot read the file: {exc.strerror}") from None


@dataclass(frozen=True)
class PointTask:
    """Solve one game of a scenario file at chunks of points; picklable, for workers.

    ``scenario_path``: the scenario file, read once, at construction; the task
    carries its text, so workers on other machines (a Dask cluster) need not
    see the file, and each worker process parses it once (cached by content).
    ``game``: the game's name (an index is resolved to the name).
    ``concepts``: as in :func:`point_record`. ``warm_start``: start each
    bargaining point's optimizers from the previous point's deals (useful when
    consecutive points are neighbours, as in a sweep; results agree with cold
    starts to the solvers' tolerance).

    Calling the task on a sequence of points (each a mapping parameter ->
    value) returns their records, in order. Construction validates the file,
    the game and the concepts, raising :class:`~simulator.errors.InputError`.
    """

    scenario_path: str
    game: str
    concepts: tuple[str, ...] | None = None
    warm_start: bool = True
    text: str = field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scenario_path", str(self.scenario_path))
        if not self.text:
            object.__setattr__(self, "text", _read(self.scenario_path))
        if self.concepts is not None:
            object.__setattr__(self, "concepts", tuple(self.concepts))
        scenario = _parsed(self.text, self.scenario_path)
        game: str | int = self.game
        try:
            game = scenario.game(game).name
        except KeyError as exc:
            raise InputError.at(self.scenario_path, None, "games", str(exc.args[0])) from None
        object.__setattr__(self, "game", game)
        self._state()  # validates the concepts

    def _state(self) -> tuple[Scenario, _Layout]:
        scenario = _parsed(self.text, self.scenario_path)
        key = (_text_digest(self.text), self.scenario_path, self.game, self.concepts)
        layout = _LAYOUTS.get(key)
        if layout is None:
            layout = _layout(scenario, self.game, self.concepts)
            if len(_LAYOUTS) >= 4 * _CACHE_SIZE:
                _LAYOUTS.clear()
            _LAYOUTS[key] = layout
        return scenario, layout

    @property
    def kind(self) -> str:
        """The game's kind: ``"bargaining"``, ``"strategic"`` or ``"coalition"``."""
        return self._state()[1].kind

    @property
    def parameters(self) -> tuple[str, ...]:
        """The scenario's parameter names, in file order."""
        return self._state()[1].parameters

    def columns(self) -> list[str]:
        """The records' columns, in order (see the module docstring)."""
        return list(self._state()[1].columns)

    def describe(self) -> dict[str, Any]:
        """What determines the records (JSON-able): the run fingerprint is built from it.

        The scenario enters by content (its SHA-256), not by path, so that a
        run can be resumed after the file moves but not after it changes.
        """
        return {
            "task": "negsim.point_record",
            "record_format": RECORD_FORMAT,
            "negsim": __version__,
            "scenario_sha256": _text_digest(self.text),
            "game": self.game,
            "concepts": None if self.concepts is None else list(self.concepts),
            "warm_start": self.warm_start,
        }

    def __call__(self, points: Sequence[Mapping[str, float]]) -> list[Record]:
        scenario, layout = self._state()
        records: list[Record] = []
        previous: Record | None = None
        for point in points:
            record = _record(scenario, layout, point, previous if self.warm_start else None)
            records.append(record)
            if record["error"] is None:
                previous = record
        return records
