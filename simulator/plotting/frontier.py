"""The Pareto frontier of a bargaining problem in payoff space, with its solutions.

Notation as in :mod:`simulator.bargaining.problem` and
:mod:`simulator.bargaining.frontier`: ``n`` players, payoffs ``u``,
disagreement point ``d``; the frontier is a
:class:`~simulator.bargaining.frontier.ParetoFrontier` whose ``payoffs`` rows
(shape ``(m, n)``) are Pareto-optimal payoff vectors.

:func:`frontier_plot` draws two players' payoffs (``x``: the first of the pair,
``y``: the second):

* **Two players**: the frontier as a line through its rows (exact frontiers:
  vertices and points along the edges; sampled ones: the samples), broken at
  certified gaps. The *zone of agreement* is the set of payoff pairs at least
  ``d`` and weakly below the frontier, shaded: the polygon from ``d`` up to the
  frontier's leftmost point, along the frontier (a step at each gap: below two
  points ``a``, ``b`` across a gap lies only what one of them dominates), and
  down to ``d``.
* **Three or more players**: a *projection*. The frontier's rows are shown at
  the pair's coordinates, and for an exact frontier each Pareto-optimal face
  is filled as the convex hull of its projected vertices (a face projects onto
  the hull of its vertices' images). The zone is the convex hull of ``d``, the
  projected rows and their drops to ``d`` on either axis, which is exact when
  the payoff set is convex (affine utilities; e.g. every exact frontier).

The disagreement point and each solution's payoffs are marked and labelled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon
from scipy.spatial import ConvexHull, QhullError

from simulator.bargaining.frontier import ParetoFrontier, pareto_frontier
from simulator.bargaining.game import BargainingGame, BargainingResult
from simulator.bargaining.problem import BargainingProblem
from simulator.bargaining.zone import ZoneOfAgreement
from simulator.plotting.figure import Plot, add_legend, new_figure
from simulator.plotting.marks import SolutionsArg, coincides_with, marker_size, solution_list
from simulator.plotting.style import (
    DISAGREEMENT,
    MUTED,
    ZONE_COLOUR,
    axis_label,
    concept_label,
    concept_style,
    number,
    plain,
)

__all__ = ["FrontierPlot", "frontier_plot"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False, kw_only=True)
class FrontierPlot(Plot):
    """A frontier plot (:func:`frontier_plot`) and the data drawn on it.

    ``players``: the pair drawn (x axis, y axis); ``pair``: their indices.
    ``frontier``: the frontier. ``points``: shape ``(m, 2)``, its rows at the
    pair's coordinates (``frontier.payoffs[:, pair]``), as drawn.
    ``projection``: true when the game has more than two players.
    ``disagreement``: shape ``(2,)``. ``zone``: the shaded zone of agreement as
    a polygon ``(p, 2)`` (empty when not shaded or empty). ``marks``: concept ->
    its payoffs at the pair, shape ``(2,)``.
    """

    players: tuple[str, str]
    pair: tuple[int, int]
    frontier: ParetoFrontier
    points: FloatArray
    projection: bool
    disagreement: FloatArray
    zone: FloatArray
    marks: Mapping[str, FloatArray] = field(default_factory=lambda: MappingProxyType({}))


def frontier_plot(
    source: BargainingProblem | BargainingGame | BargainingResult,
    frontier: ParetoFrontier | None = None,
    *,
    players: Sequence[str | int] | None = None,
    solutions: SolutionsArg = None,
    zone: bool | ZoneOfAgreement = True,
    payoff_unit: str | None = None,
    title: str | None = None,
) -> FrontierPlot:
    """Draw the Pareto frontier in the payoff space of two players (see the module docstring).

    ``source``: the problem, its game, or a solved
    :class:`~simulator.bargaining.game.BargainingResult` (whose solutions are
    then marked unless ``solutions`` is given, and whose zone explains an empty
    frontier). ``frontier``: default
    :func:`~simulator.bargaining.frontier.pareto_frontier` of the problem
    (individually rational part). ``players``: the pair to draw, labels or
    indices; default the first two (required to differ; with more than two
    players the figure is a projection and says so). ``solutions``: a
    result, one solution or a sequence, marked at their payoffs. ``zone``:
    ``False`` to leave the zone of agreement unshaded; a
    :class:`~simulator.bargaining.zone.ZoneOfAgreement` names the blocking
    players when no deal exists. ``payoff_unit`` labels both axes.

    Raises :class:`ValueError` for unknown or equal players, or a frontier of
    another number of players.
    """
    where = "frontier_plot"
    result = source if isinstance(source, BargainingResult) else None
    if isinstance(source, BargainingResult):
        problem = source.game.problem
    elif isinstance(source, BargainingGame):
        problem = source.problem
    else:
        problem = source
    if solutions is None and result is not None:
        solutions = result
    marked, notes = solution_list(solutions, where)
    agreement_zone = zone if isinstance(zone, ZoneOfAgreement) else None
    if agreement_zone is None and result is not None:
        agreement_zone = result.zone
    n = problem.n_players
    chosen = tuple(players) if players is not None else (0, 1)
    if len(chosen) != 2:
        raise ValueError(f"{where}: players must name two players, got {chosen}")
    a, b = (_player(key, problem.players, where) for key in chosen)
    if a == b:
        raise ValueError(f"{where}: the two players must differ, both are {problem.players[a]}")
    if frontier is None:
        frontier = pareto_frontier(problem)
    if frontier.payoffs.shape[1:] != (n,):
        raise ValueError(
            f"{where}: the frontier has {frontier.payoffs.shape[1]} players, the problem {n}"
        )
    projection = n > 2
    points = np.asarray(frontier.payoffs[:, [a, b]], dtype=float)
    d = np.asarray(problem.disagreement[[a, b]], dtype=float)
    name_a, name_b = problem.players[a], problem.players[b]
    rational = np.all(frontier.payoffs >= problem.disagreement - problem.solve_tolerance, axis=1)

    figure = new_figure(7.5, 7.0)
    ax = figure.add_subplot()
    entries: list[tuple[object, str]] = []
    polygon = np.empty((0, 2))
    if zone is not False and np.any(rational):
        # Round-off can leave a rational point a hair below d; the zone starts at d.
        lifted = np.maximum(points, d)
        if projection:
            polygon = _hull_zone(lifted[rational], d)
        else:
            polygon = _staircase_zone(lifted, rational, frontier.gaps, d)
        if len(polygon) >= 3:
            shade = Polygon(
                polygon,
                closed=True,
                facecolor=ZONE_COLOUR,
                alpha=0.3,
                hatch="..",
                edgecolor=ZONE_COLOUR,
                linewidth=0.0,
                zorder=1,
            )
            ax.add_patch(shade)
            entries.append(
                (
                    Patch(facecolor=ZONE_COLOUR, alpha=0.3, hatch="..", edgecolor=ZONE_COLOUR),
                    "zone of agreement (everyone gets at least d)",
                )
            )

    how = "exact" if frontier.exact else "sampled"
    if len(points) == 0:
        why = "no deal gives every player at least d"
        if agreement_zone is not None and agreement_zone.blocking:
            why += f" (blocked by {', '.join(plain(p) for p in agreement_zone.blocking)})"
        notes = (*notes, why)
        entries.append((Line2D([], [], linestyle="none"), f"Pareto frontier: empty, {why}"))
    elif projection:
        if frontier.exact and frontier.faces:
            for face in frontier.faces:
                _fill_face(ax, points[list(face)])
            entries.append(
                (Patch(facecolor="0.35", alpha=0.25, edgecolor="0.2"), "frontier faces, projected")
            )
        (dots,) = ax.plot(
            points[:, 0], points[:, 1], linestyle="none", marker="o", markersize=3.5, color="black"
        )
        entries.append((dots, f"frontier points ({how}, projected)"))
        notes = (
            *notes,
            f"projection of the {n}-player frontier on {name_a} and {name_b}: "
            "each point also fixes the other players' payoffs",
        )
    else:
        gaps = {frozenset(g) for g in frontier.gaps}
        for piece in _pieces(len(points), gaps):
            (line,) = ax.plot(
                points[piece, 0],
                points[piece, 1],
                color="black",
                linewidth=2.0,
                marker=None if frontier.exact else ".",
                markersize=4,
            )
        entries.append((line, f"Pareto frontier ({how})"))
        for i, j in frontier.gaps:
            (gap,) = ax.plot(
                points[[i, j], 0], points[[i, j], 1], color=MUTED, linestyle=":", linewidth=1.5
            )
        if frontier.gaps:
            entries.append((gap, "gap (no frontier point between)"))

    (dot,) = ax.plot(
        [d[0]],
        [d[1]],
        linestyle="none",
        marker=DISAGREEMENT.marker,
        markersize=11,
        color=DISAGREEMENT.color,
        clip_on=False,
        zorder=6,
    )
    entries.append((dot, f"disagreement d ({number(d[0])}, {number(d[1])})"))

    marks: dict[str, FloatArray] = {}
    labels: dict[str, FloatArray] = {}
    for position, solution in enumerate(marked):
        label = concept_label(solution.concept)
        if not solution.agreement:
            entries.append((Line2D([], [], linestyle="none"), f"{label}: no deal (at d)"))
            continue
        point = np.asarray(solution.payoffs, dtype=float)[[a, b]]
        style = concept_style(solution.concept)
        (handle,) = ax.plot(
            [point[0]],
            [point[1]],
            linestyle="none",
            marker=style.marker,
            markersize=marker_size(position),
            markerfacecolor=style.color,
            markeredgecolor="black",
            clip_on=False,
            zorder=5 + position,
        )
        text = f"{label} ({number(point[0])}, {number(point[1])})"
        same = coincides_with(point, labels, problem.solve_tolerance)
        entries.append((handle, f"{text}, same as {same}" if same else text))
        marks[solution.concept] = point
        labels[label] = point

    if projection:
        heading = title or (
            f"Pareto frontier of {n} players, projected on {plain(name_a)} and {plain(name_b)}"
        )
    else:
        heading = title or f"Pareto frontier of {plain(name_a)} and {plain(name_b)}"
    figure.suptitle(heading)
    if frontier.method:
        ax.set_title(f"{plain(frontier.method)}; {len(points)} points", fontsize="small")
    ax.set_xlabel(axis_label(f"{name_a}'s payoff", payoff_unit))
    ax.set_ylabel(axis_label(f"{name_b}'s payoff", payoff_unit))
    ax.grid(True, color="0.9", linewidth=0.8)
    ax.set_axisbelow(True)
    legend = add_legend(figure, entries, ncols=2)
    for array in (points, d, polygon):
        array.flags.writeable = False
    return FrontierPlot(
        figure=figure,
        kind="frontier",
        title=heading,
        legend=legend,
        notes=notes,
        players=(name_a, name_b),
        pair=(a, b),
        frontier=frontier,
        points=points,
        projection=projection,
        disagreement=d,
        zone=polygon,
        marks=MappingProxyType(marks),
    )


def _player(key: str | int, players: Sequence[str], where: str) -> int:
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        if 0 <= int(key) < len(players):
            return int(key)
    elif key in players:
        return list(players).index(str(key))
    raise ValueError(f"{where}: unknown player {key!r}; known: {', '.join(players)}")


def _pieces(m: int, gaps: set[frozenset[int]]) -> list[list[int]]:
    """Runs of consecutive rows ``0..m-1`` not separated by a gap."""
    pieces: list[list[int]] = [[0]] if m else []
    for i in range(1, m):
        if frozenset((i - 1, i)) in gaps:
            pieces.append([i])
        else:
            pieces[-1].append(i)
    return pieces


def _staircase_zone(
    points: FloatArray,
    rational: npt.NDArray[np.bool_],
    gaps: Sequence[tuple[int, int]],
    d: FloatArray,
) -> FloatArray:
    """The two-player zone of agreement as a polygon (see the module docstring)."""
    rows = np.flatnonzero(rational)
    rows = rows[np.argsort(points[rows, 0], kind="stable")]
    gap_set = {frozenset(g) for g in gaps}
    outline: list[FloatArray] = [d, np.array([d[0], points[rows[0], 1]])]
    for i, row in enumerate(rows):
        if i and frozenset((int(rows[i - 1]), int(row))) in gap_set:
            # Across a gap only what one endpoint dominates is reachable: a step.
            outline.append(np.array([points[rows[i - 1], 0], points[row, 1]]))
        outline.append(points[row])
    outline.append(np.array([points[rows[-1], 0], d[1]]))
    return np.array(outline, dtype=float)


def _hull_zone(points: FloatArray, d: FloatArray) -> FloatArray:
    """Convex hull of ``d``, ``points`` and their drops to ``d`` on either axis (anticlockwise)."""
    drops_x = np.column_stack([np.full(len(points), d[0]), points[:, 1]])
    drops_y = np.column_stack([points[:, 0], np.full(len(points), d[1])])
    cloud = np.vstack([d[None, :], points, drops_x, drops_y])
    try:
        hull = ConvexHull(cloud)
    except (QhullError, ValueError):
        return np.empty((0, 2))  # all on a line: no area to shade
    return np.asarray(cloud[hull.vertices], dtype=float)


def _fill_face(ax: Axes, corners: FloatArray) -> None:
    """Fill the convex hull of a face's projected vertices (a line if they are collinear)."""
    try:
        hull = ConvexHull(corners)
        outline = corners[hull.vertices]
    except (QhullError, ValueError):
        order = np.lexsort(corners.T[::-1])
        ends = corners[order[[0, -1]]]
        ax.plot(ends[:, 0], ends[:, 1], color="0.2", linewidth=1.5)
        return
    ax.add_patch(
        Polygon(outline, closed=True, facecolor="0.35", alpha=0.25, edgecolor="0.2", linewidth=0.8)
    )
