"""Colours, markers and line styles shared by every negsim figure.

Conventions (so that a figure reads in greyscale and for colour-blind readers):

* **Continuous data** (payoff surfaces, heatmaps) use :data:`CMAP`, ``cividis``
  (Nuñez, Anderton & Renslow 2018): perceptually uniform, monotone in
  lightness (so it survives greyscale printing) and designed to look the same
  to readers with red-green colour-vision deficiency.
* **Categories** (solution concepts, players, swept columns, strategies) take
  the *i*-th entry of :data:`PALETTE`, the Okabe-Ito palette (Okabe & Ito 2008),
  *and* the *i*-th marker shape and line style, so that two categories differ
  in shape and dash pattern even where their colours print as the same grey.
  :func:`categorical` gives the triple.
* **Solution concepts** always get the same style in every figure
  (:func:`concept_style`), indexed by their position in
  :data:`simulator.bargaining.game.CONCEPTS`; the disagreement point is a black
  cross (:data:`DISAGREEMENT`).
* Markers are drawn with a black edge so they stand out on any background of
  the colour map; outlines meant to be seen on a heatmap are drawn twice (thick
  black under thin white).
* Text from scenario files (player, issue and strategy labels) goes through
  :func:`plain`, which escapes ``$`` so that matplotlib never reads a label as
  mathematics.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.bargaining.game import CONCEPTS
from simulator.tolerance import SOLVE_RTOL

__all__ = [
    "CMAP",
    "CONCEPT_LABELS",
    "DISAGREEMENT",
    "LINESTYLES",
    "MARKERS",
    "PALETTE",
    "Style",
    "axis_label",
    "categorical",
    "concept_label",
    "concept_style",
    "number",
    "plain",
]

CMAP = "cividis"
"""Colour map for continuous data."""

PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
"""The Okabe-Ito colour-blind-safe palette, darkest and most distinct first."""

MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<")
"""Marker shapes, one per category, in the order categories are styled."""

LINESTYLES: tuple[str | tuple[int, tuple[int, ...]], ...] = (
    "-",
    "--",
    "-.",
    ":",
    (0, (5, 1, 1, 1, 1, 1)),
    (0, (8, 2)),
    (0, (1, 3)),
    (0, (3, 1, 3, 3)),
)
"""Line styles, one per category, distinguishable without colour."""

CONCEPT_LABELS: dict[str, str] = {
    "nash_bargaining": "Nash bargaining",
    "kalai_smorodinsky": "Kalai–Smorodinsky",
    "egalitarian": "egalitarian",
    "utilitarian": "utilitarian",
    "rubinstein": "Rubinstein",
    "baron_ferejohn": "Baron–Ferejohn",
}
"""Short legend names of the bargaining solution concepts."""

MUTED = "0.55"
"""Grey for infeasible regions and reference lines."""

ZONE_COLOUR = "#56B4E9"
"""Fill of the zone of agreement (sky blue, drawn light and hatched)."""


@dataclass(frozen=True)
class Style:
    """How one category is drawn: colour, marker shape and line style."""

    color: str
    marker: str
    linestyle: str | tuple[int, tuple[int, ...]]


DISAGREEMENT = Style(color="#000000", marker="X", linestyle=":")
"""The disagreement point (and the "no deal" reference lines)."""


def categorical(index: int) -> Style:
    """The style of the ``index``-th category (colour, marker and dashes all cycle)."""
    return Style(
        color=PALETTE[index % len(PALETTE)],
        marker=MARKERS[index % len(MARKERS)],
        linestyle=LINESTYLES[index % len(LINESTYLES)],
    )


def concept_style(concept: str) -> Style:
    """The fixed style of a bargaining solution concept (by its place in ``CONCEPTS``)."""
    names = list(CONCEPTS)
    return categorical(names.index(concept) if concept in names else len(names))


def concept_label(concept: str) -> str:
    """The legend name of a solution concept (its own name when unknown)."""
    return CONCEPT_LABELS.get(concept, plain(concept))


def plain(text: object) -> str:
    """``text`` with ``$`` escaped, so matplotlib shows it literally (no mathtext)."""
    return str(text).replace("$", r"\$")


def axis_label(name: str, unit: str | None) -> str:
    """``"name (unit)"``, or ``name`` alone when there is no unit."""
    return f"{plain(name)} ({plain(unit)})" if unit else plain(name)


def number(value: float, scale: float = 1.0) -> str:
    """``value`` to 3 significant digits, with optimizer round-off shown as 0.

    Values within :data:`~simulator.tolerance.SOLVE_RTOL` times ``scale`` (the
    quantity's range) of zero are what an optimizer leaves of an exact 0.
    """
    v = float(value)
    if abs(v) <= SOLVE_RTOL * abs(scale):
        v = 0.0
    return f"{v:.3g}"
