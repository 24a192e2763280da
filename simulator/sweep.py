"""Parameter sweeps: solve a game on a grid of parameter values and locate where its answer changes.

A sweep varies one or more parameters of a scenario over ranges written
``NAME=LO:HI:N`` (``N`` evenly spaced values from ``LO`` to ``HI``, both
included); the grid is their Cartesian product, the first range varying
slowest, so that consecutive points are neighbours along the last range and
warm-start each other. Every point is solved by
:class:`simulator.outcomes.PointTask` through :func:`simulator.runner.run_points`
(local cores, a Dask cluster, chunks on disk, resume).

Thresholds. Each record carries a ``signature`` that changes exactly when the
kind of answer does (an equilibrium set, whether a deal exists, which deal terms
sit at a bound; see :mod:`simulator.outcomes`). For every pair of grid
neighbours along one axis whose signatures differ, the change is located by
bisection along that axis, the other parameters fixed, until the bracket is at
most ``threshold_tol`` wide (default ``1e-6`` of the axis span): the
bisection points are solved like the grid's. A midpoint with a third signature
splits the bracket in two, so several changes between two grid points are all
found (up to :data:`MAX_SPLITS` per pair); two changes that cancel out between
neighbouring grid points cannot be seen, so a grid should be fine enough to
separate them.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np

from simulator.errors import InputError
from simulator.outcomes import PointTask, Record
from simulator.runner import (
    MANIFEST,
    RunResult,
    Workers,
    assemble,
    read_records,
    remove_run,
    run_points,
)

__all__ = [
    "DEFAULT_RTOL",
    "MAX_SPLITS",
    "Grid",
    "Range",
    "SweepResult",
    "Threshold",
    "parse_range",
    "sweep",
]

DEFAULT_RTOL = 1e-6
"""Default bisection tolerance, relative to the span ``HI - LO`` of the swept axis."""

MAX_SPLITS = 8
"""At most this many changes are located between one pair of grid neighbours."""

_RANGE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([^:]+):([^:]+):([^:]+)\s*$")


@dataclass(frozen=True)
class Range:
    """One swept parameter: ``n`` evenly spaced values from ``lo`` to ``hi`` (both included)."""

    name: str
    lo: float
    hi: float
    n: int

    def values(self) -> np.ndarray:
        """The ``n`` values, shape ``(n,)``."""
        return np.linspace(self.lo, self.hi, self.n)

    @property
    def span(self) -> float:
        return self.hi - self.lo

    def __str__(self) -> str:
        return f"{self.name}={self.lo:g}:{self.hi:g}:{self.n}"


def _range_error(text: str, message: str) -> InputError:
    return InputError.at("--param", None, "", f"{text!r}: {message}")


def parse_range(text: str) -> Range:
    """Read ``"NAME=LO:HI:N"`` (e.g. ``"guarantee_cost_us=0:0.5:51"``).

    Raises :class:`~simulator.errors.InputError` unless ``LO`` and ``HI`` are
    finite numbers with ``LO < HI`` and ``N`` is a whole number ``>= 2``.
    """
    match = _RANGE.match(text)
    if match is None:
        raise _range_error(
            text, "expected NAME=LO:HI:N, e.g. guarantee_cost_us=0:0.5:51 (N values, LO < HI)"
        )
    name, lo_text, hi_text, n_text = match.groups()
    try:
        lo, hi = float(lo_text), float(hi_text)
    except ValueError:
        raise _range_error(text, "LO and HI must be numbers") from None
    try:
        n = int(n_text)
    except ValueError:
        raise _range_error(text, f"N must be a whole number of values, got {n_text!r}") from None
    return _checked(Range(name, lo, hi, n), text)


def _checked(item: Range, text: str) -> Range:
    if not (math.isfinite(item.lo) and math.isfinite(item.hi)):
        raise _range_error(text, "LO and HI must be finite")
    if not item.lo < item.hi:
        raise _range_error(text, f"expected LO < HI, got {item.lo:g} and {item.hi:g}")
    if item.n < 2:
        raise _range_error(text, f"N must be at least 2 (the two ends), got {item.n}")
    return item


class Grid(Sequence[dict[str, float]]):
    """The Cartesian product of ranges as a sequence of points, computed on demand.

    Point ``i`` is the ``i``-th grid point in C order (the last range varies
    fastest); it maps every range's name to its value there. ``shape`` is
    ``(n_0, n_1, ...)``. ``describe()`` is what the run's fingerprint records.
    """

    def __init__(self, ranges: Sequence[Range]) -> None:
        self.ranges = tuple(ranges)
        self.axes = [r.values() for r in self.ranges]
        self.shape = tuple(r.n for r in self.ranges)
        self.size = int(np.prod(self.shape))

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> dict[str, float]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, float]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, float] | list[dict[str, float]]:
        if isinstance(index, slice):
            return [self._point(i) for i in range(*index.indices(self.size))]
        if index < 0:
            index += self.size
        if not 0 <= index < self.size:
            raise IndexError(f"grid point {index} out of range ({self.size} points)")
        return self._point(index)

    def _point(self, index: int) -> dict[str, float]:
        where = np.unravel_index(index, self.shape)
        return {
            r.name: float(axis[k]) for r, axis, k in zip(self.ranges, self.axes, where, strict=True)
        }

    def describe(self) -> dict[str, Any]:
        return {"grid": [[r.name, r.lo, r.hi, r.n] for r in self.ranges]}


@dataclass(frozen=True)
class Threshold:
    """Where the answer changes along one parameter, the others fixed.

    ``value``: the middle of the final bracket ``[low, high]`` (at most the
    tolerance wide) in which the signature goes from ``below`` (at ``low``) to
    ``above`` (at ``high``). ``fixed``: the values of the other swept
    parameters (the rest are at the scenario's values). ``record_below`` and
    ``record_above``: the records at ``low`` and ``high``.
    """

    parameter: str
    value: float
    low: float
    high: float
    fixed: Mapping[str, float]
    below: str
    above: str
    record_below: Record = field(repr=False)
    record_above: Record = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The threshold without its records (JSON-able)."""
        return {
            "parameter": self.parameter,
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "fixed": dict(self.fixed),
            "below": self.below,
            "above": self.above,
        }


@dataclass(frozen=True)
class SweepResult:
    """A finished sweep: the grid's records, the thresholds, and where things were written.

    ``run``: the grid's :class:`~simulator.runner.RunResult` (records in grid
    order, in memory or in chunk files). ``out``: the assembled output file,
    if one was asked for. ``tolerances``: the bisection tolerance per swept
    parameter. ``bisection_points``: how many extra points the thresholds cost.
    """

    scenario: str
    game: str
    kind: str
    ranges: tuple[Range, ...]
    run: RunResult
    thresholds: tuple[Threshold, ...]
    tolerances: Mapping[str, float]
    bisection_points: int
    out: Path | None = None

    @property
    def grid(self) -> Grid:
        return Grid(self.ranges)

    @property
    def records(self) -> list[Record]:
        """Every grid record, in grid order (loaded from disk for a run written there)."""
        return list(self.iter_records())

    def iter_records(self) -> Iterator[Record]:
        """The grid records in grid order: from memory, the chunk files, or the output file."""
        if self.run.records is not None:
            return iter(self.run.records)
        if self.run.out_dir is not None and (self.run.out_dir / MANIFEST).exists():
            return self.run.iter_records()
        if self.out is None:
            raise FileNotFoundError("the sweep's records are gone (no chunks, no output file)")
        return iter(read_records(self.out))


# ------------------------------------------------------------------ sweeping
def sweep(
    scenario_path: str | os.PathLike[str],
    game: str,
    ranges: Sequence[str | Range],
    *,
    concepts: Sequence[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    threshold_tol: float | Mapping[str, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_chunks: bool = False,
) -> SweepResult:
    """Solve ``game`` of the scenario at every grid point and locate the thresholds.

    ``ranges``: ``"NAME=LO:HI:N"`` texts or :class:`Range` objects, one per
    swept parameter (distinct, each a parameter of the scenario).
    ``concepts``: bargaining or coalition solution concepts (default: the
    game's). ``workers``, ``scheduler``, ``chunk_size``: see
    :func:`simulator.runner.run_points`. ``out``: a ``.csv``, ``.parquet`` or
    ``.json`` file for the grid's records; chunks go to the folder
    ``<out>.parts`` while the run lasts (removed after the output is written,
    unless ``keep_chunks``), and ``resume`` continues an interrupted run there.
    The thresholds go into the output's metadata (``.json``, ``.parquet``).
    ``threshold_tol``: bisection tolerance, in the parameter's units, for all
    parameters or per name (default :data:`DEFAULT_RTOL` times each span).
    ``progress(done, total)``: points finished (grid, then bisection).

    Raises :class:`~simulator.errors.InputError` for a malformed or unknown
    range, an unknown game or concept, or an output folder holding another run.
    """
    parsed = [r if isinstance(r, Range) else parse_range(r) for r in ranges]
    task = PointTask(str(scenario_path), game, None if concepts is None else tuple(concepts))
    _check_ranges(parsed, task)
    tolerances = _tolerances(parsed, threshold_tol)
    grid = Grid(parsed)
    out_file = None if out is None else Path(out)
    parts = None if out_file is None else out_file.with_name(out_file.name + ".parts")
    counter = _Progress(progress, grid.size)
    with Workers(workers, scheduler) as pool:
        run = run_points(
            task,
            grid,
            chunk_size=chunk_size,
            out_dir=parts,
            resume=resume,
            progress=counter.grid,
            pool=pool,
        )
        brackets = _brackets(grid, run)
        # Bisection points start cold: their records must not depend on how
        # the points happen to be chunked (in process, on a pool, on a cluster).
        cold = dataclasses.replace(task, warm_start=False)
        thresholds, extra = _bisect(cold, brackets, tolerances, pool, counter)
    if out_file is not None and parts is not None:
        assemble(
            parts,
            out_file,
            metadata={
                "scenario": str(scenario_path),
                "game": task.game,
                "ranges": [str(r) for r in parsed],
                "thresholds": [t.as_dict() for t in thresholds],
                "threshold_tolerance": dict(tolerances),
            },
        )
        if not keep_chunks:
            remove_run(parts)
    return SweepResult(
        scenario=str(scenario_path),
        game=task.game,
        kind=task.kind,
        ranges=tuple(parsed),
        run=run,
        thresholds=tuple(thresholds),
        tolerances=dict(tolerances),
        bisection_points=extra,
        out=out_file,
    )


def _check_ranges(ranges: Sequence[Range], task: PointTask) -> None:
    if not ranges:
        raise InputError.at("--param", None, "", "give at least one range NAME=LO:HI:N to sweep")
    known = task.parameters
    seen: set[str] = set()
    for r in ranges:
        _checked(r, str(r))
        if r.name not in known:
            from simulator.kinds import did_you_mean

            listed = ", ".join(known) or "(the scenario defines none)"
            raise InputError.at(
                task.scenario_path,
                None,
                "parameters",
                f"cannot sweep {r.name!r}: no such parameter{did_you_mean(r.name, known)}; "
                f"parameters are: {listed}",
            )
        if r.name in seen:
            raise InputError.at("--param", None, "", f"{r.name!r} is swept twice; give it once")
        seen.add(r.name)


def _tolerances(
    ranges: Sequence[Range], given: float | Mapping[str, float] | None
) -> dict[str, float]:
    out = {}
    for r in ranges:
        if given is None:
            tol = DEFAULT_RTOL * r.span
        elif isinstance(given, Mapping):
            tol = float(given.get(r.name, DEFAULT_RTOL * r.span))
        else:
            tol = float(given)
        if not (math.isfinite(tol) and tol > 0):
            raise InputError.at(
                "--threshold-tol", None, "", f"expected a positive tolerance, got {tol!r}"
            )
        out[r.name] = tol
    return out


class _Progress:
    """Adds bisection points to the grid's count for one ``progress(done, total)``."""

    def __init__(self, callback: Callable[[int, int], None] | None, grid: int) -> None:
        self.callback = callback
        self.grid_total = grid
        self.grid_done = 0
        self.extra_done = 0
        self.extra_total = 0

    def grid(self, done: int, total: int) -> None:
        self.grid_done = done
        self.report()

    def bisection(self, done: int, expected: int) -> None:
        self.extra_done = done
        self.extra_total = max(expected, done)
        self.report()

    def report(self) -> None:
        if self.callback is not None:
            self.callback(self.grid_done + self.extra_done, self.grid_total + self.extra_total)


# ------------------------------------------------------------------ thresholds
@dataclass
class _Bracket:
    axis: int
    name: str
    fixed: dict[str, float]
    low: float
    high: float
    below: Record
    above: Record
    family: int  # the grid pair it came from, to cap the splits per pair

    def point(self, value: float) -> dict[str, float]:
        return {**self.fixed, self.name: value}


def _brackets(grid: Grid, run: RunResult) -> list[_Bracket]:
    """One bracket per pair of grid neighbours along one axis whose signatures differ."""
    codes = np.empty(grid.size, dtype=np.int64)
    names: dict[str, int] = {}
    for i, record in enumerate(run.iter_records()):
        codes[i] = names.setdefault(str(record["signature"]), len(names))
    if len(names) <= 1:
        return []
    table = codes.reshape(grid.shape)
    pairs: list[tuple[int, int, int]] = []  # (axis, flat index below, flat index above)
    for axis in range(len(grid.shape)):
        left = [slice(None)] * table.ndim
        right = [slice(None)] * table.ndim
        left[axis] = slice(0, -1)
        right[axis] = slice(1, None)
        differ = np.argwhere(table[tuple(left)] != table[tuple(right)])
        for where in differ:
            below = np.ravel_multi_index(tuple(where), grid.shape)
            above_at = where.copy()
            above_at[axis] += 1
            above = np.ravel_multi_index(tuple(above_at), grid.shape)
            pairs.append((axis, int(below), int(above)))
    wanted = {i for _, b, a in pairs for i in (b, a)}
    kept = {i: r for i, r in enumerate(run.iter_records()) if i in wanted}
    out = []
    for family, (axis, below, above) in enumerate(pairs):
        name = grid.ranges[axis].name
        point = grid[below]
        fixed = {k: v for k, v in point.items() if k != name}
        out.append(
            _Bracket(
                axis=axis,
                name=name,
                fixed=fixed,
                low=point[name],
                high=grid[above][name],
                below=kept[below],
                above=kept[above],
                family=family,
            )
        )
    return out


def _rounds(bracket: _Bracket, tol: float) -> int:
    width = bracket.high - bracket.low
    return max(0, math.ceil(math.log2(width / tol))) if width > tol else 0


def _bisect(
    task: PointTask,
    brackets: list[_Bracket],
    tolerances: Mapping[str, float],
    pool: Workers,
    counter: _Progress,
) -> tuple[list[Threshold], int]:
    """Narrow every bracket to its tolerance, a round of midpoints at a time."""
    found: list[Threshold] = []
    splits: dict[int, int] = {}
    solved = 0
    expected = sum(_rounds(b, tolerances[b.name]) for b in brackets)
    while brackets:
        active = []
        for b in brackets:
            middle = 0.5 * (b.low + b.high)
            narrow = b.high - b.low <= tolerances[b.name] or not b.low < middle < b.high
            if narrow:
                found.append(_threshold(b))
            else:
                active.append(b)
        if not active:
            break
        points = [b.point(0.5 * (b.low + b.high)) for b in active]
        per_chunk = max(1, math.ceil(len(points) / max(1, pool.slots)))
        records = run_points(task, points, chunk_size=per_chunk, pool=pool).all_records()
        solved += len(points)
        counter.bisection(solved, expected)
        brackets = []
        for b, record in zip(active, records, strict=True):
            middle = 0.5 * (b.low + b.high)
            signature = record["signature"]
            if signature == b.below["signature"]:
                brackets.append(dataclasses.replace(b, low=middle, below=record))
            elif signature == b.above["signature"] or splits.get(b.family, 0) >= MAX_SPLITS:
                brackets.append(dataclasses.replace(b, high=middle, above=record))
            else:
                splits[b.family] = splits.get(b.family, 0) + 1
                expected += _rounds(b, tolerances[b.name])
                brackets.append(dataclasses.replace(b, high=middle, above=record))
                brackets.append(dataclasses.replace(b, low=middle, below=record))
    if solved:
        counter.bisection(solved, solved)  # the estimate was an estimate: end at 100%
    found.sort(key=lambda t: (t.parameter, sorted(t.fixed.items()), t.value))
    return found, solved


def _threshold(b: _Bracket) -> Threshold:
    return Threshold(
        parameter=b.name,
        value=0.5 * (b.low + b.high),
        low=b.low,
        high=b.high,
        fixed=dict(b.fixed),
        below=str(b.below["signature"]),
        above=str(b.above["signature"]),
        record_below=b.below,
        record_above=b.above,
    )
