"""One player's payoff over two issues of a bargaining game, the other issues held fixed.

Notation as in :mod:`simulator.bargaining.problem`: ``k`` issues, deal ``z`` of
shape ``(k,)``, deal space ``X`` (box and ``A_ub z <= b_ub``), utilities ``u``
and disagreement point ``d``. :func:`payoff_surface` takes the *slice* of ``X``
in which issues ``x`` and ``y`` vary over their ranges and every other issue
keeps its value in a base deal (a solution's deal by default), and draws:

* filled contours of ``u_i`` on an ``(ny, nx)`` grid of that slice (the
  utility evaluated once on the whole ``(ny, nx, k)`` array of deals), or a
  3-D surface;
* the part of the slice outside ``X`` (the linear constraints), hatched grey:
  the exact polygon, clipped from the box by each constraint's half-plane
  (Sutherland & Hodgman 1974);
* every player's indifference curve through its disagreement payoff, the
  level set ``u_j(z) = d_j`` (traced by marching squares with ``contourpy``),
  and, dimmed, the deals some player likes less than no deal, so the deals
  every player accepts (``u(z) >= d``) stand out;
* each solution's deal, with a hollow marker when its other terms differ from
  the slice's (it lies off the plotted plane).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import contourpy
import numpy as np
import numpy.typing as npt
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.ticker import MaxNLocator

from simulator.bargaining.game import BargainingGame
from simulator.bargaining.nash import nash_bargaining
from simulator.bargaining.problem import BargainingProblem, BargainingSolution
from simulator.plotting.figure import Plot, add_legend, new_figure
from simulator.plotting.marks import SolutionsArg, coincides_with, marker_size, solution_list
from simulator.plotting.style import (
    CMAP,
    MUTED,
    axis_label,
    categorical,
    concept_label,
    concept_style,
    number,
    plain,
)

__all__ = ["SurfacePlot", "payoff_surface"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_RESOLUTION = 101
_CONTOUR_BINS = 12
_TITLE_TERMS = 5  # other terms listed in the subtitle before "..."


@dataclass(frozen=True, eq=False, kw_only=True)
class SurfacePlot(Plot):
    """A payoff surface (:func:`payoff_surface`) and the data drawn on it.

    ``x``: shape ``(nx,)``, values of ``x_issue``; ``y``: shape ``(ny,)``.
    ``deals``: shape ``(ny, nx, k)``, the grid of deals (row ``r``, column
    ``c`` is ``x[c]``, ``y[r]``, other issues at ``base``). ``payoffs``: shape
    ``(ny, nx, n)``, ``u`` on the grid (NaN where not finite). ``values``:
    shape ``(ny, nx)``, the plotted player's column of ``payoffs``.
    ``feasible``: shape ``(ny, nx)``, the deal lies in ``X``. ``acceptable``:
    feasible and every player gets at least its disagreement payoff.
    ``base``: shape ``(k,)``, the deal whose other terms the slice keeps;
    ``fixed``: those terms by issue name; ``fixed_from``: where they come from.
    ``feasible_region``: the slice's part of ``X`` as a polygon ``(p, 2)``
    (empty when none of the slice is feasible). ``indifference``: player ->
    curves ``u_j = d_j`` on the slice, each of shape ``(p, 2)`` in ``(x, y)``.
    ``marks``: concept -> ``(x, y)`` of its deal; ``on_slice``: concept ->
    whether its other terms equal the slice's. ``cmap``: the colour map.
    """

    player: str
    x_issue: str
    y_issue: str
    x: FloatArray
    y: FloatArray
    deals: FloatArray
    payoffs: FloatArray
    values: FloatArray
    feasible: BoolArray
    acceptable: BoolArray
    base: FloatArray
    fixed: Mapping[str, float]
    fixed_from: str
    feasible_region: FloatArray
    indifference: Mapping[str, tuple[FloatArray, ...]]
    marks: Mapping[str, FloatArray] = field(default_factory=lambda: MappingProxyType({}))
    on_slice: Mapping[str, bool] = field(default_factory=lambda: MappingProxyType({}))
    cmap: str = CMAP
    three_d: bool = False


def payoff_surface(
    game: BargainingGame | BargainingProblem,
    player: str | int,
    x_issue: str | int,
    y_issue: str | int,
    *,
    fixed: Mapping[str, float] | None = None,
    solutions: SolutionsArg = None,
    resolution: int | tuple[int, int] = DEFAULT_RESOLUTION,
    three_d: bool = False,
    units: Mapping[str, str] | None = None,
    payoff_unit: str | None = None,
    title: str | None = None,
) -> SurfacePlot:
    """Draw ``player``'s payoff over ``x_issue`` and ``y_issue`` (see the module docstring).

    ``game``: a bargaining game (or its problem). ``player``, ``x_issue``,
    ``y_issue``: labels or indices; the two issues must differ and both vary
    (``lower < upper``). ``fixed``: values of other issues, by name; issues not
    named keep their value in the default base deal: the Nash bargaining deal
    (from ``solutions`` if it holds one, else computed with the game's
    weights), else the first solution with a deal, else the Chebyshev centre
    of ``X``. ``solutions``: a :class:`~simulator.bargaining.game.BargainingResult`,
    one solution or a sequence, each marked at its deal. ``resolution``: grid
    points per axis, or ``(nx, ny)``. ``three_d``: draw a 3-D surface instead
    of filled contours. ``units``: issue name -> unit, for the axis labels
    (e.g. ``{name: scenario.issues[name].unit}``); ``payoff_unit`` labels the
    colour bar.

    Raises :class:`ValueError` for an unknown player or issue, equal or fixed
    issues, a ``fixed`` value outside its issue's range or for ``x``/``y``
    themselves, or a resolution below 2.
    """
    where = "payoff_surface"
    problem = game.problem if isinstance(game, BargainingGame) else game
    weights = game.weights if isinstance(game, BargainingGame) else None
    p = _index(player, problem.players, "player", where)
    xi = _index(x_issue, problem.issues, "issue", where)
    yi = _index(y_issue, problem.issues, "issue", where)
    if xi == yi:
        raise ValueError(
            f"{where}: x and y must be different issues, both are {problem.issues[xi]}"
        )
    for i in (xi, yi):
        if not problem.upper[i] > problem.lower[i]:
            raise ValueError(
                f"{where}: issue {problem.issues[i]} is fixed at {problem.lower[i]:g}; "
                "choose two issues whose range is not a single value"
            )
    nx, ny = (resolution, resolution) if isinstance(resolution, int) else resolution
    if min(nx, ny) < 2:
        raise ValueError(f"{where}: resolution must be at least 2 per axis, got {resolution}")
    units = units or {}
    marked, notes = solution_list(solutions, where)
    base, fixed_from = _base_deal(problem, weights, marked, fixed, (xi, yi), where)

    xs = np.linspace(problem.lower[xi], problem.upper[xi], nx)
    ys = np.linspace(problem.lower[yi], problem.upper[yi], ny)
    deals = np.broadcast_to(base, (ny, nx, problem.n_issues)).copy()
    deals[..., xi] = xs[None, :]
    deals[..., yi] = ys[:, None]
    payoffs = _utilities(problem, deals, where)
    values = payoffs[..., p]
    feasible = np.asarray(problem.feasible(deals))
    gains = payoffs - problem.disagreement
    with np.errstate(invalid="ignore"):
        slack = np.min(gains, axis=-1)
        acceptable = feasible & (slack >= -problem.tolerance.payoff)
    usable = feasible & np.all(np.isfinite(payoffs), axis=-1)
    indifference = {
        problem.players[j]: _level_curves(xs, ys, payoffs[..., j], usable, problem.disagreement[j])
        for j in range(problem.n_players)
    }
    region = _slice_polygon(problem, base, xi, yi)

    name = problem.players[p]
    x_name, y_name = problem.issues[xi], problem.issues[yi]
    heading = title or f"{plain(name)}'s payoff over {plain(x_name)} and {plain(y_name)}"
    span = problem.upper - problem.lower
    others = [
        f"{plain(problem.issues[i])} = {number(base[i], span[i])}"
        for i in range(problem.n_issues)
        if i not in (xi, yi)
    ]
    if len(others) > _TITLE_TERMS:
        others = [*others[:_TITLE_TERMS], "..."]
    subtitle = f"other terms at {fixed_from}: " + ", ".join(others) if others else ""

    figure = new_figure(9.0, 8.0) if three_d else new_figure(8.0, 6.5)
    figure.suptitle(heading)
    entries: list[tuple[object, str]] = []
    colour_label = axis_label(f"{name}'s payoff", payoff_unit)
    shown = np.ma.masked_invalid(np.where(usable, values, np.nan))
    levels = _levels(shown, problem.tolerance.payoff)
    if three_d:
        ax = figure.add_subplot(projection="3d")
        surface = ax.plot_surface(
            *np.meshgrid(xs, ys),
            shown.filled(np.nan),
            cmap=CMAP,
            vmin=levels[0],
            vmax=levels[-1],
            rstride=1,
            cstride=1,
            linewidth=0,
            antialiased=False,
            alpha=0.85,
        )
        figure.colorbar(surface, ax=ax, label=colour_label, shrink=0.7, pad=0.1)
        ax.set_zlabel(colour_label)
        if not np.all(feasible):
            entries.append((Patch(facecolor="white", edgecolor=MUTED), "hole: outside deal space"))
    else:
        ax = figure.add_subplot()
        # Filled over the whole box (the hatched patch then hides the infeasible part
        # exactly); a grid mask would leave a jagged blank strip along a constraint.
        everywhere = np.ma.masked_invalid(values)
        filled = ax.contourf(xs, ys, everywhere, levels=levels, cmap=CMAP, extend="both")
        figure.colorbar(filled, ax=ax, label=colour_label)
        if np.any(usable & ~acceptable):
            low = np.ma.masked_invalid(slack)
            ax.contourf(xs, ys, low, levels=[float(low.min()), 0.0], colors=["white"], alpha=0.55)
            entries.append(
                (
                    Patch(facecolor="white", alpha=0.55, edgecolor=MUTED),
                    "dimmed: some player prefers no deal",
                )
            )
        outside = _outside_patch(region, xs, ys)
        if outside is not None:
            ax.add_patch(outside)
            entries.append(
                (
                    Patch(facecolor="0.85", edgecolor=MUTED, hatch="//"),
                    "outside the deal space (constraints)",
                )
            )
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylim(ys[0], ys[-1])

    for j, (who, curves) in enumerate(indifference.items()):
        style = categorical(j)
        label = f"{plain(who)} indifferent to no deal (u = {number(problem.disagreement[j])})"
        if not curves:
            # No curve: the player is on one side of its disagreement payoff on the whole slice.
            above = bool(np.all(gains[..., j][usable] >= 0)) if np.any(usable) else False
            side = "more" if above else "less"
            text = f"{plain(who)}: {side} than no deal everywhere here"
            entries.append((Line2D([], [], linestyle="none"), text))
            notes = (*notes, text)
            continue
        for c, curve in enumerate(curves):
            kwargs = {"color": style.color, "linestyle": style.linestyle, "linewidth": 2.0}
            if three_d:
                heights = _utilities(problem, _on_slice(base, xi, yi, curve), where)[:, p]
                (line,) = ax.plot(curve[:, 0], curve[:, 1], heights, **kwargs)
            else:
                (line,) = ax.plot(curve[:, 0], curve[:, 1], **kwargs)
            if c == 0:
                entries.append((line, label))

    marks: dict[str, FloatArray] = {}
    on_slice: dict[str, bool] = {}
    labels: dict[str, FloatArray] = {}
    for position, solution in enumerate(marked):
        # 2-D: deals on the box's edge (common: bounds bind) must not be cut in half.
        # 3-D: unclipped artists throw off the constrained layout, and the box holds them.
        label = concept_label(solution.concept)
        if solution.deal is None:
            entries.append((Line2D([], [], linestyle="none"), f"{label}: no deal"))
            continue
        deal = np.asarray(solution.deal, dtype=float)
        point = np.array([deal[xi], deal[yi]])
        rest = np.ones(problem.n_issues, dtype=bool)
        rest[[xi, yi]] = False
        same = bool(np.all(np.abs(deal - base)[rest] <= problem.deal_tolerance[rest]))
        style = concept_style(solution.concept)
        face = style.color if same else "none"
        kwargs = {
            "marker": style.marker,
            "markersize": marker_size(position),
            "markerfacecolor": face,
            "markeredgecolor": "black" if same else style.color,
            "markeredgewidth": 1.2 if same else 2.0,
            "linestyle": "none",
            "clip_on": three_d,
            "zorder": 5 + position,
        }
        if three_d:
            height = float(solution.payoffs[p])
            (handle,) = ax.plot([point[0]], [point[1]], [height], **kwargs)
        else:
            (handle,) = ax.plot([point[0]], [point[1]], **kwargs)
        text = f"{label} ({number(point[0], span[xi])}, {number(point[1], span[yi])})"
        twin = coincides_with(deal, labels, problem.deal_tolerance)
        if twin:
            text += f", same deal as {twin}"
        entries.append((handle, text if same else f"{text}, other terms differ"))
        marks[solution.concept] = point
        labels[label] = deal
        on_slice[solution.concept] = same

    ax.set_xlabel(axis_label(x_name, units.get(x_name)))
    ax.set_ylabel(axis_label(y_name, units.get(y_name)))
    if subtitle:
        ax.set_title(subtitle, fontsize="small")
    legend = add_legend(figure, entries, loc="outside lower center", ncols=2)
    for array in (xs, ys, deals, payoffs, values, feasible, acceptable, base, region):
        array.flags.writeable = False
    return SurfacePlot(
        figure=figure,
        kind="surface",
        title=heading,
        legend=legend,
        notes=notes,
        player=name,
        x_issue=x_name,
        y_issue=y_name,
        x=xs,
        y=ys,
        deals=deals,
        payoffs=payoffs,
        values=values,
        feasible=feasible,
        acceptable=acceptable,
        base=base,
        fixed=MappingProxyType(
            {
                problem.issues[i]: float(base[i])
                for i in range(problem.n_issues)
                if i not in (xi, yi)
            }
        ),
        fixed_from=fixed_from,
        feasible_region=region,
        indifference=MappingProxyType(indifference),
        marks=MappingProxyType(marks),
        on_slice=MappingProxyType(on_slice),
        cmap=CMAP,
        three_d=three_d,
    )


def _index(key: str | int, labels: Sequence[str], what: str, where: str) -> int:
    """The index of ``key`` (a label or an index) among ``labels``."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        if 0 <= int(key) < len(labels):
            return int(key)
    elif key in labels:
        return list(labels).index(str(key))
    raise ValueError(f"{where}: unknown {what} {key!r}; known: {', '.join(labels)}")


def _base_deal(
    problem: BargainingProblem,
    weights: FloatArray | None,
    solutions: Sequence[BargainingSolution],
    fixed: Mapping[str, float] | None,
    axes: tuple[int, int],
    where: str,
) -> tuple[FloatArray, str]:
    """The deal whose other terms the slice keeps, and a phrase saying where it comes from."""
    with_deal = [s for s in solutions if s.deal is not None]
    nash = [s for s in with_deal if s.concept == "nash_bargaining"]
    if nash or with_deal:
        chosen = (nash or with_deal)[0]
        assert chosen.deal is not None
        base, source = (
            np.array(chosen.deal, dtype=float),
            f"the {concept_label(chosen.concept)} deal",
        )
    else:
        try:
            solution: BargainingSolution | None = nash_bargaining(problem, weights)
        except ValueError:  # the optimizer failed: fall back to the centre, as without a deal
            solution = None
        if solution is not None and solution.deal is not None:
            base, source = np.array(solution.deal, dtype=float), "the Nash bargaining deal"
        else:
            base, source = problem.centre.copy(), "the centre of the deal space (no Nash deal)"
    if fixed:
        for name, value in fixed.items():
            i = _index(name, problem.issues, "issue", where)
            if i in axes:
                raise ValueError(f"{where}: {name} is plotted on an axis, it cannot be fixed")
            if not problem.lower[i] <= float(value) <= problem.upper[i]:
                raise ValueError(
                    f"{where}: fixed {name} = {value} lies outside its range "
                    f"[{problem.lower[i]:g}, {problem.upper[i]:g}]"
                )
            base[i] = float(value)
        source = "the given values" if len(fixed) + 2 >= problem.n_issues else f"{source} / given"
    # Issues with a single value sit at it, whatever a solver's round-off says.
    single = problem.lower == problem.upper
    base[single] = problem.lower[single]
    return base, source


def _utilities(problem: BargainingProblem, deals: FloatArray, where: str) -> FloatArray:
    """``u`` at ``deals`` (shape ``(..., k)``), NaN where not finite (e.g. outside ``X``)."""
    with np.errstate(all="ignore"):
        values = np.asarray(problem.utility(deals), dtype=float)
    expected = (*deals.shape[:-1], problem.n_players)
    if values.shape != expected:
        raise ValueError(
            f"{where}: utility returned shape {values.shape} for deals of shape "
            f"{deals.shape}; expected {expected}"
        )
    return np.where(np.isfinite(values), values, np.nan)


def _on_slice(base: FloatArray, xi: int, yi: int, points: FloatArray) -> FloatArray:
    """Deals (shape ``(p, k)``) at the slice points ``points`` (shape ``(p, 2)``)."""
    deals = np.tile(base, (len(points), 1))
    deals[:, xi] = points[:, 0]
    deals[:, yi] = points[:, 1]
    return deals


def _level_curves(
    xs: FloatArray, ys: FloatArray, z: FloatArray, usable: BoolArray, level: float
) -> tuple[FloatArray, ...]:
    """The curves ``z = level`` on the grid (marching squares), each of shape ``(p, 2)``."""
    if not np.any(usable):
        return ()
    masked = np.ma.masked_array(np.where(usable, z, 0.0), mask=~usable)
    generator = contourpy.contour_generator(xs, ys, masked, line_type="Separate")
    lines = generator.lines(level)
    return tuple(np.asarray(line, dtype=float) for line in lines if len(line) >= 2)


def _levels(shown: np.ma.MaskedArray, tol: float) -> FloatArray:
    """Contour levels spanning the shown values (a band around a value constant within ``tol``)."""
    if shown.count() == 0:
        return np.array([0.0, 1.0])
    low, high = float(shown.min()), float(shown.max())
    if high - low <= tol:
        return np.array([low - 0.5, high + 0.5])
    return np.asarray(MaxNLocator(nbins=_CONTOUR_BINS).tick_values(low, high), dtype=float)


def _slice_polygon(problem: BargainingProblem, base: FloatArray, xi: int, yi: int) -> FloatArray:
    """The slice's part of ``X`` as a convex polygon ``(p, 2)`` (counter-clockwise).

    The box of the two issues, clipped by each constraint row's half-plane
    ``a_x x + a_y y <= b - a_rest . base_rest`` (Sutherland & Hodgman 1974).
    """
    lo_x, hi_x = problem.lower[xi], problem.upper[xi]
    lo_y, hi_y = problem.lower[yi], problem.upper[yi]
    polygon = np.array([[lo_x, lo_y], [hi_x, lo_y], [hi_x, hi_y], [lo_x, hi_y]])
    if problem.A_ub is None or problem.b_ub is None:
        return polygon
    rest = np.ones(problem.n_issues, dtype=bool)
    rest[[xi, yi]] = False
    for row, bound in zip(problem.A_ub, problem.b_ub, strict=True):
        normal = np.array([row[xi], row[yi]])
        limit = float(bound - row[rest] @ base[rest])
        polygon = _clip(polygon, normal, limit)
        if len(polygon) == 0:
            break
    return polygon


def _clip(polygon: FloatArray, normal: FloatArray, limit: float) -> FloatArray:
    """The part of a convex ``polygon`` (shape ``(p, 2)``) with ``normal . v <= limit``."""
    side = polygon @ normal - limit
    if np.all(side <= 0):
        return polygon
    out: list[FloatArray] = []
    for a in range(len(polygon)):
        b = (a + 1) % len(polygon)
        if side[a] <= 0:
            out.append(polygon[a])
        if side[a] * side[b] < 0:  # a strict crossing; a vertex on the line is kept as it is
            t = side[a] / (side[a] - side[b])
            out.append(polygon[a] + t * (polygon[b] - polygon[a]))
    return np.array(out, dtype=float).reshape(-1, 2)


def _outside_patch(region: FloatArray, xs: FloatArray, ys: FloatArray) -> PathPatch | None:
    """A hatched patch over the box minus ``region`` (``None`` when the region is the box)."""
    box = np.array([[xs[0], ys[0]], [xs[-1], ys[0]], [xs[-1], ys[-1]], [xs[0], ys[-1]]])
    if len(region) == 4 and np.allclose(region, box):
        return None
    vertices = [*box, box[0]]
    codes = [MplPath.MOVETO] + [MplPath.LINETO] * 3 + [MplPath.CLOSEPOLY]
    if len(region) >= 3:
        # The hole runs clockwise (the reverse of the box), so the even-odd fill leaves it open.
        hole = region[::-1]
        vertices += [*hole, hole[0]]
        codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(hole) - 1) + [MplPath.CLOSEPOLY]
    return PathPatch(
        MplPath(np.array(vertices), codes),
        facecolor="0.85",
        edgecolor=MUTED,
        hatch="//",
        linewidth=1.0,
        zorder=2,
    )
