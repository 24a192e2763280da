"""The object every figure function returns, and how it is saved.

Figures are built on :class:`matplotlib.figure.Figure` with an explicit Agg
canvas, never through ``pyplot``: no global figure registry, no display, so
plotting works headless, in worker processes and in threads (each figure is
its own object).

:meth:`Plot.save` renders the figure into memory in the format its file
suffix names (``.png``, ``.svg`` or ``.pdf``) and then writes the bytes
atomically (a temporary file in the same folder and a rename, as
:mod:`simulator.atomic_write` does for text), so a failed render or write
leaves the previous file, or none, in place. Dates are left out of the file's
metadata, so the same figure saves to the same PNG or PDF bytes (SVG element
ids are random unless ``rcParams["svg.hashsalt"]`` is set, a global that a
library running in threads should not change).
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from simulator.atomic_write import write_bytes_atomic

__all__ = ["FORMATS", "Plot", "new_figure"]

FORMATS: Mapping[str, str] = MappingProxyType(
    {".png": "png", ".svg": "svg", ".pdf": "pdf"},
)
"""File suffix -> the format :meth:`Plot.save` writes."""

# Metadata keys matplotlib would fill with the current time, per format.
_NO_DATES: Mapping[str, dict[str, Any]] = MappingProxyType(
    {"png": {}, "svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}}
)

DEFAULT_DPI = 150


@dataclass(frozen=True, eq=False, kw_only=True)
class Plot:
    """A finished figure and what was drawn on it.

    ``figure``: the matplotlib :class:`~matplotlib.figure.Figure` (Agg canvas).
    ``kind``: which figure function made it (``"surface"``, ``"frontier"``,
    ``"heatmap"``, ``"qre"``, ``"sweep"``). ``title``: the figure's title.
    ``legend``: the legend's entries, in order. ``notes``: caveats a reader
    should know (e.g. "projection of a 4-player frontier").
    Subclasses add the plotted arrays and marked points.
    """

    figure: Figure
    kind: str
    title: str
    legend: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def render(self, fmt: str, *, dpi: int = DEFAULT_DPI) -> bytes:
        """The figure as the bytes of a ``png``, ``svg`` or ``pdf`` file."""
        if fmt not in _NO_DATES:
            raise ValueError(f"Plot.render: format must be one of png, svg, pdf; got {fmt!r}")
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format=fmt, dpi=dpi, metadata=_NO_DATES[fmt])
        return buffer.getvalue()

    def save(self, path: str | os.PathLike[str], *, dpi: int = DEFAULT_DPI) -> Path:
        """Write the figure to ``path``; the suffix (``.png``, ``.svg``, ``.pdf``) picks the format.

        The whole file is rendered in memory first and written atomically, so
        an error leaves no partial file. Returns the path written. Raises
        :class:`ValueError` for any other suffix.
        """
        target = Path(path)
        fmt = FORMATS.get(target.suffix.lower())
        if fmt is None:
            raise ValueError(
                f"Plot.save: cannot tell the format of {str(target)!r}; "
                f"use a file name ending in {', '.join(FORMATS)}"
            )
        write_bytes_atomic(target, self.render(fmt, dpi=dpi))
        return target


def new_figure(width: float = 7.5, height: float = 5.0) -> Figure:
    """A figure with its own Agg canvas and constrained layout (no pyplot state)."""
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def add_legend(
    figure: Figure,
    entries: list[tuple[Any, str]],
    *,
    loc: Literal["outside lower center", "outside right upper"] = "outside lower center",
    ncols: int = 1,
    title: str | None = None,
) -> tuple[str, ...]:
    """Draw one figure-level legend of ``(handle, label)`` entries; return the labels.

    A figure legend (rather than an axes legend) sits outside the axes under
    constrained layout, so it never hides data. ``title`` heads the legend
    (with no entries it is shown as the figure's bottom caption instead).
    """
    if not entries:
        if title:
            figure.supxlabel(title, fontsize="small")
        return ()
    handles, labels = zip(*entries, strict=True)
    figure.legend(
        list(handles),
        list(labels),
        loc=loc,
        ncols=ncols,
        fontsize="small",
        title=title,
        title_fontsize="small",
    )
    return tuple(labels)
