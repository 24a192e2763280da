"""Columns of a parameter sweep against the swept parameter, with the thresholds marked.

A sweep (:mod:`simulator.sweep`) produces one flat *record* per parameter
point (:mod:`simulator.outcomes`): ``param.<name>`` for every parameter, and
the answer's columns, e.g. ``nash_bargaining.deal.mineral_share`` or
``payoff.US``. :func:`sweep_plot` draws chosen columns against one
``param.<name>`` column, one line per column (``None`` values, such as a deal
term without a deal or a point that failed, leave a gap), and a vertical line
at every *threshold*: a parameter value where the answer changes kind (an
equilibrium appears or vanishes, a solution's deal term reaches or leaves a
bound), as the sweep located them by bisection.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.lines import Line2D

from simulator.plotting.figure import Plot, add_legend, new_figure
from simulator.plotting.style import CONCEPT_LABELS, axis_label, categorical, plain
from simulator.tolerance import RTOL

__all__ = ["SweepPlot", "column_label", "sweep_plot"]

FloatArray = npt.NDArray[np.float64]

_MARKERS_PER_LINE = 12
_THRESHOLD_STYLE: dict[str, Any] = {"color": "black", "linestyle": (0, (4, 2)), "linewidth": 1.2}


@dataclass(frozen=True, eq=False, kw_only=True)
class SweepPlot(Plot):
    """A sweep plot (:func:`sweep_plot`) and the data drawn on it.

    ``x_column``: the swept parameter's column. ``x``: shape ``(p,)``, its
    values, increasing. ``series``: column -> values at ``x`` (shape ``(p,)``,
    NaN where the record had ``None``; booleans as 0/1), in drawing order.
    ``thresholds``: shape ``(t,)``, where the vertical lines are;
    ``threshold_labels``: their legend texts.
    """

    x_column: str
    x: FloatArray
    series: Mapping[str, FloatArray] = field(default_factory=lambda: MappingProxyType({}))
    thresholds: FloatArray = field(default_factory=lambda: np.empty(0))
    threshold_labels: tuple[str, ...] = ()


def sweep_plot(
    records: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]] | Any,
    x: str,
    y: str | Sequence[str],
    *,
    thresholds: Iterable[Any] = (),
    where: Mapping[str, Any] | None = None,
    units: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
) -> SweepPlot:
    """Draw columns ``y`` of sweep ``records`` against column ``x`` (see the module docstring).

    ``records``: a list of flat records (dicts), or columns (name -> values,
    e.g. a :class:`pandas.DataFrame`). ``x``: the swept column, e.g.
    ``"param.aluminium_volume"``. ``y``: column names; an entry with ``*`` or
    ``?`` is a pattern (``"*.deal.mineral_share"``: that term under every
    concept). ``thresholds``: numbers, or objects or mappings with a
    ``value`` (and optionally a ``parameter``, naming the column or parameter
    they belong to: thresholds of other parameters are skipped, and a
    ``label``, or ``before`` and ``after`` signatures, for the legend).
    ``where``: column -> value, keeping only matching records (to take one
    line of a multi-parameter sweep; numbers match to the project's relative
    tolerance). ``units``: unit per column name, per issue or per parameter
    name (``{"mineral_share": "share of revenue"}`` labels every
    ``*.deal.mineral_share`` column). ``labels``: legend text per column
    (default :func:`column_label`).

    Raises :class:`ValueError` for unknown or non-numeric columns, no records
    left, or other ``param.*`` columns that still vary (pick a slice with
    ``where``).
    """
    fn = "sweep_plot"
    units = units or {}
    labels = labels or {}
    columns = _columns(records, fn)
    if x not in columns:
        raise ValueError(f"{fn}: no column {x!r}; columns: {', '.join(columns)}")
    keep = np.ones(_length(columns), dtype=bool)
    for name, wanted in (where or {}).items():
        if name not in columns:
            raise ValueError(f"{fn}: where names no column {name!r}")
        keep &= np.array([_matches(v, wanted) for v in columns[name]], dtype=bool)
    xs = _numeric(columns[x], x, fn)
    keep &= np.isfinite(xs)
    if not np.any(keep):
        raise ValueError(f"{fn}: no records left to plot (check where= and the {x} column)")
    varying = [
        name
        for name, values in columns.items()
        if name.startswith("param.")
        and name != x
        and len({_key(v) for v, k in zip(values, keep, strict=True) if k}) > 1
    ]
    if varying:
        raise ValueError(
            f"{fn}: {', '.join(varying)} also vary in these records; plot one slice, e.g. "
            f"where={{{varying[0]!r}: value}}"
        )
    names = _expand(y, columns, fn)
    order = np.argsort(xs[keep], kind="stable")
    xv = xs[keep][order]
    series = {name: _numeric(columns[name], name, fn)[keep][order] for name in names}
    notes: tuple[str, ...] = ()
    if "error" in columns:
        failed = sum(1 for v, k in zip(columns["error"], keep, strict=True) if k and v)
        if failed:
            notes = (f"{failed} of {int(keep.sum())} points could not be solved (gaps)",)

    figure = new_figure(8.0, 5.5)
    ax = figure.add_subplot()
    entries: list[tuple[object, str]] = []
    every = max(1, len(xv) // _MARKERS_PER_LINE)
    found_units = {_unit(name, units) for name in names}
    shared_unit = found_units.pop() if len(found_units) == 1 else None
    for k, (name, values) in enumerate(series.items()):
        style = categorical(k)
        (line,) = ax.plot(
            xv,
            values,
            color=style.color,
            linestyle=style.linestyle,
            marker=style.marker,
            # Staggered, so the markers of lines lying on top of each other all show.
            markevery=(k * every // len(series), every),
            markersize=5,
            linewidth=1.8,
        )
        text = plain(labels[name]) if name in labels else column_label(name)
        unit = _unit(name, units)
        if unit and shared_unit is None:
            text += f" ({plain(unit)})"
        entries.append((line, text))

    parameter = x.removeprefix("param.")
    values_at: list[float] = []
    texts: list[str] = []
    for item in thresholds:
        value, owner, label = _threshold(item, fn)
        if owner is not None and owner not in (x, parameter):
            continue
        ax.axvline(value, **_THRESHOLD_STYLE)
        k = len(values_at) + 1
        ax.text(
            value,
            1.0,
            f" t{k}",
            transform=ax.get_xaxis_transform(),
            ha="left",
            va="top",
            fontsize="small",
        )
        text = f"threshold t{k}: {plain(parameter)} = {value:.6g}"
        texts.append(f"{text}, {plain(label)}" if label else text)
        values_at.append(value)
    for text in texts:
        entries.append((Line2D([], [], **_THRESHOLD_STYLE), text))

    ax.set_xlabel(axis_label(parameter, _unit(x, units)))
    if len(names) == 1:
        only = names[0]
        ax.set_ylabel(axis_label(labels.get(only, column_label(only)), shared_unit))
    else:
        tails = {name.rpartition(".")[2] for name in names}
        ax.set_ylabel(axis_label(tails.pop() if len(tails) == 1 else "value", shared_unit))
    ax.grid(True, color="0.9", linewidth=0.8)
    heading = title or f"Answer against {plain(parameter)}"
    figure.suptitle(heading)
    if where:
        ax.set_title(
            "at " + ", ".join(f"{plain(k)} = {plain(v)}" for k, v in where.items()),
            fontsize="small",
        )
    legend = add_legend(figure, entries, ncols=2 if len(entries) > 4 else 1)
    at = np.array(values_at, dtype=float)
    for array in (xv, at, *series.values()):
        array.flags.writeable = False
    return SweepPlot(
        figure=figure,
        kind="sweep",
        title=heading,
        legend=legend,
        notes=notes,
        x_column=x,
        x=xv,
        series=MappingProxyType(series),
        thresholds=at,
        threshold_labels=tuple(texts),
    )


def column_label(column: str) -> str:
    """A legend text for a record column: ``"Nash bargaining: deal mineral_share"`` etc."""
    head, _, rest = column.partition(".")
    if head in CONCEPT_LABELS and rest:
        return f"{CONCEPT_LABELS[head]}: {plain(rest.replace('.', ' '))}"
    if head == "param" and rest:
        return plain(rest)
    return plain(column.replace(".", " "))


def _columns(records: Any, fn: str) -> dict[str, list[Any]]:
    """Column name -> values, from records (list of dicts) or columns (mapping, DataFrame)."""
    if isinstance(records, Mapping):
        columns = {str(k): list(v) for k, v in records.items()}
    elif hasattr(records, "columns") and hasattr(records, "__getitem__"):
        columns = {str(k): list(records[k]) for k in records.columns}
    else:
        rows = list(records)
        if not all(isinstance(r, Mapping) for r in rows):
            raise ValueError(f"{fn}: records must be dicts (flat records) or a mapping of columns")
        columns = {}
        for r in rows:
            for k in r:
                columns.setdefault(str(k), [])
        for name in columns:
            columns[name] = [r.get(name) for r in rows]
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"{fn}: columns have different lengths {sorted(lengths)}")
    if not columns or lengths == {0}:
        raise ValueError(f"{fn}: there are no records")
    return columns


def _length(columns: Mapping[str, list[Any]]) -> int:
    return len(next(iter(columns.values())))


def _numeric(values: list[Any], name: str, fn: str) -> FloatArray:
    """Floats from a column: ``None`` (and NaN) as NaN, booleans as 0/1; text is an error."""
    out = np.empty(len(values))
    for i, v in enumerate(values):
        if v is None or type(v).__name__ == "NAType":  # pandas' missing value, too
            out[i] = np.nan
        elif isinstance(v, (bool, np.bool_, int, float, np.integer, np.floating)):
            out[i] = float(v)
        else:
            raise ValueError(f"{fn}: column {name!r} is not numeric (value {v!r})")
    return out


def _expand(y: str | Sequence[str], columns: Mapping[str, Any], fn: str) -> list[str]:
    """Column names from names and patterns, each once, in the order asked."""
    wanted = [y] if isinstance(y, str) else list(y)
    if not wanted:
        raise ValueError(f"{fn}: give at least one column to plot (y)")
    names: list[str] = []
    for item in wanted:
        if any(c in item for c in "*?["):
            hits = [c for c in columns if fnmatch.fnmatchcase(c, item)]
            if not hits:
                raise ValueError(f"{fn}: no column matches {item!r}")
        elif item in columns:
            hits = [item]
        else:
            raise ValueError(f"{fn}: no column {item!r}; columns: {', '.join(columns)}")
        names += [h for h in hits if h not in names]
    return names


def _unit(column: str, units: Mapping[str, str]) -> str | None:
    """The unit of ``column``: by its full name, else its last dotted part (issue/parameter)."""
    if column in units:
        return units[column]
    return units.get(column.rpartition(".")[2])


def _matches(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, (int, float)) and not isinstance(wanted, bool):
        if value is None or isinstance(value, str):
            return False
        return math.isclose(float(value), float(wanted), rel_tol=RTOL, abs_tol=RTOL)
    return bool(value == wanted)


def _key(value: Any) -> Any:
    """A hashable key under which equal values (NaN included) fall together."""
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


def _threshold(item: Any, fn: str) -> tuple[float, str | None, str | None]:
    """``(value, parameter or None, label or None)`` of one threshold (see :func:`sweep_plot`)."""

    def get(name: str) -> Any:
        if isinstance(item, Mapping):
            return item.get(name)
        return getattr(item, name, None)

    if isinstance(item, (int, float, np.integer, np.floating)) and not isinstance(item, bool):
        return float(item), None, None
    value = get("value")
    if value is None:
        raise ValueError(f"{fn}: a threshold must be a number or have a value, got {item!r}")
    owner = get("parameter")
    label = get("label")
    if label is None and get("before") is not None and get("after") is not None:
        label = f"{get('before')} → {get('after')}"
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{fn}: threshold value {value} is not finite")
    return value, None if owner is None else str(owner), None if label is None else str(label)
