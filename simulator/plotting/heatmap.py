"""A strategic game's payoff table as an annotated heatmap, with its equilibria marked.

Orientation as in :mod:`simulator.game`: ``game.payoffs[i][s_0, ..., s_{n-1}]``
is player ``i``'s payoff. Player 0 chooses the row, player 1 the column; each
cell shows every player's payoff at that profile (``"u_0, u_1, ..."``) and is
coloured by one player's payoff or by the sum of payoffs. With more than two
players the table is drawn as *small multiples*: one panel per profile of
players ``2, ..., n-1`` (in :func:`itertools.product` order), sharing one
colour scale.

Pure equilibria are outlined (a thick black line under a thin white one, so
the outline shows on any colour); every equilibrium, pure or mixed, is listed
in the legend with its strategies and payoffs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from simulator.equilibrium import Equilibrium
from simulator.game import StrategicGame
from simulator.plotting.figure import Plot, add_legend, new_figure
from simulator.plotting.style import CMAP, axis_label, number, plain
from simulator.results import SolverResult

__all__ = ["MAX_CELLS", "MAX_PANELS", "HeatmapPlot", "payoff_heatmap"]

FloatArray = npt.NDArray[np.float64]

MAX_PANELS = 36
"""Most panels (profiles of players beyond the first two) one figure shows."""

MAX_CELLS = 400
"""Most cells per panel that are annotated with their payoffs (by default)."""

_MAX_INCHES = 24.0  # figure side; bigger tables get smaller cells


@dataclass(frozen=True, eq=False, kw_only=True)
class HeatmapPlot(Plot):
    """A payoff heatmap (:func:`payoff_heatmap`) and the data drawn on it.

    ``game``: the game. ``colour_by``: the player whose payoff colours the
    cells, or ``"sum"``. ``values``: shape ``(m_0, ..., m_{n-1})``, the colour
    value of every profile. ``annotations``: profile (tuple of strategy
    indices) -> the cell's text (empty when cells are not annotated).
    ``panels``: the profiles of players ``2..n-1``, one per panel in drawing
    order (``((),)`` for two players). ``pure``: the outlined profiles.
    ``equilibria``: one legend text per equilibrium, in the result's order.
    ``cmap``: the colour map.
    """

    game: StrategicGame
    colour_by: str
    values: FloatArray
    annotations: Mapping[tuple[int, ...], str] = field(default_factory=lambda: MappingProxyType({}))
    panels: tuple[tuple[int, ...], ...] = ((),)
    pure: tuple[tuple[int, ...], ...] = ()
    equilibria: tuple[str, ...] = ()
    cmap: str = CMAP


def payoff_heatmap(
    game: StrategicGame,
    *,
    result: SolverResult | None = None,
    player: str | int | None = None,
    annotate: bool | None = None,
    payoff_unit: str | None = None,
    title: str | None = None,
) -> HeatmapPlot:
    """Draw ``game``'s payoff table as a heatmap (see the module docstring).

    ``result``: a :class:`~simulator.results.SolverResult` of this game whose
    equilibria are marked (pure: outlined) and listed. ``player``: colour by
    this player's payoff (label or index); ``None`` colours by the sum of all
    payoffs. ``annotate``: write the payoffs in the cells (default: when a
    panel has at most :data:`MAX_CELLS` cells).

    Raises :class:`ValueError` for an unknown player, a result of another
    game, or more than :data:`MAX_PANELS` panels (with more than two players,
    one panel per profile of players ``2..n-1``: reduce the game with
    :meth:`~simulator.game.StrategicGame.restrict` first).
    """
    where = "payoff_heatmap"
    n = game.n_players
    shape = tuple(int(m) for m in game.payoffs.shape[1:])
    if result is not None and (
        result.game.players != game.players or result.game.strategies != game.strategies
    ):
        raise ValueError(f"{where}: the result is of another game ({result.game.players})")
    payoffs = np.asarray(game.payoffs, dtype=float)
    if player is None:
        values = payoffs.sum(axis=0)
        colour_by = "sum"
        colour_label = axis_label("sum of payoffs", payoff_unit)
    else:
        p = _player(player, game.players, where)
        values = payoffs[p].copy()
        colour_by = game.players[p]
        colour_label = axis_label(f"{colour_by}'s payoff", payoff_unit)
    panels = list(itertools.product(*(range(m) for m in shape[2:])))
    if len(panels) > MAX_PANELS:
        raise ValueError(
            f"{where}: {n} players give {len(panels)} panels (one per profile of "
            f"{', '.join(game.players[2:])}); at most {MAX_PANELS} are drawn. "
            "Restrict the game to fewer strategies first."
        )
    cells = shape[0] * shape[1]
    if annotate is None:
        annotate = cells <= MAX_CELLS
    notes: tuple[str, ...] = ()
    if not annotate:
        notes = (f"{cells} cells per panel: payoffs not written in the cells",)

    ncols = math.ceil(math.sqrt(len(panels)))
    nrows = math.ceil(len(panels) / ncols)
    cell = 0.9 if n == 2 else 0.75
    width = max(6.5, 1.8 + ncols * (1.2 + cell * shape[1] * (1.0 + 0.35 * (n - 2))))
    height = max(4.5, 2.2 + nrows * (0.8 + cell * shape[0]))
    figure = new_figure(min(width, _MAX_INCHES), min(height, _MAX_INCHES))
    axes = figure.subplots(nrows, ncols, squeeze=False)
    norm = Normalize(vmin=float(values.min()), vmax=float(values.max()))
    if norm.vmin == norm.vmax:
        norm = Normalize(vmin=float(values.min()) - 0.5, vmax=float(values.max()) + 0.5)

    equilibria = tuple(result.equilibria) if result is not None else ()
    pure = tuple(_pure_profile(eq) for eq in equilibria if eq.is_pure)
    annotations: dict[tuple[int, ...], str] = {}
    image = None
    for number_, rest in enumerate(panels):
        ax = axes[number_ // ncols][number_ % ncols]
        # Panels run in itertools.product order, which is C order of the trailing axes.
        table = values.reshape(shape[0], shape[1], -1)[:, :, number_]
        image = ax.imshow(table, cmap=CMAP, norm=norm, aspect="auto")
        ax.set_xticks(range(shape[1]), [plain(s) for s in game.strategies[1]])
        ax.set_yticks(range(shape[0]), [plain(s) for s in game.strategies[0]])
        ax.tick_params(labelsize="small" if n == 2 else "x-small")
        ax.tick_params(axis="x", labelrotation=20 if n == 2 else 30)
        ax.set_xlabel(f"{plain(game.players[1])} (column)", fontsize="small")
        ax.set_ylabel(f"{plain(game.players[0])} (row)", fontsize="small")
        if rest:
            ax.set_title(
                ", ".join(
                    f"{plain(game.players[2 + j])}: {plain(game.strategies[2 + j][s])}"
                    for j, s in enumerate(rest)
                ),
                fontsize="small",
            )
        for r, c in itertools.product(range(shape[0]), range(shape[1])):
            profile = (r, c, *rest)
            if annotate:
                at: tuple[Any, ...] = (slice(None), *profile)
                text = ", ".join(number(v) for v in payoffs[at])
                annotations[profile] = text
                ax.text(
                    c,
                    r,
                    text,
                    ha="center",
                    va="center",
                    fontsize="medium" if n == 2 else "x-small",
                    color=_ink(image.cmap(norm(table[r, c]))),
                )
            if profile in pure:
                for colour, width_ in (("black", 4.5), ("white", 1.8)):
                    ax.add_patch(
                        Rectangle(
                            (c - 0.46, r - 0.46),
                            0.92,
                            0.92,
                            fill=False,
                            edgecolor=colour,
                            linewidth=width_,
                        )
                    )
    for spare in range(len(panels), nrows * ncols):
        axes[spare // ncols][spare % ncols].set_visible(False)
    assert image is not None
    figure.colorbar(image, ax=axes.ravel().tolist(), label=colour_label, shrink=0.9)

    entries: list[tuple[object, str]] = []
    texts: list[str] = []
    outline = Patch(facecolor="none", edgecolor="black", linewidth=2.5)
    for k, eq in enumerate(equilibria, start=1):
        kind = "pure" if eq.is_pure else "mixed"
        text = f"{kind} equilibrium {k}: {_describe(game, eq)}"
        texts.append(text)
        entries.append((outline if eq.is_pure else Line2D([], [], linestyle="none"), text))
    if result is not None:
        if not equilibria:
            entries.append(
                (Line2D([], [], linestyle="none"), f"no equilibrium found ({result.method})")
            )
        elif not result.lists_all_equilibria:
            scope = f"{result.scope} ({result.method})" if result.scope else result.method
            entries.append((Line2D([], [], linestyle="none"), f"listed: {plain(scope)} only"))

    heading = title or (
        plain(game.title)
        if game.title
        else f"Payoffs of {', '.join(plain(p) for p in game.players)}"
    )
    figure.suptitle(heading)
    order = ", ".join(plain(p) for p in game.players)
    caption = f"cells: payoffs of {order}; colour: {colour_label}"
    if n > 2:
        caption += f"; one panel per profile of {', '.join(plain(p) for p in game.players[2:])}"
    legend = add_legend(figure, entries, title=caption)
    values.flags.writeable = False
    return HeatmapPlot(
        figure=figure,
        kind="heatmap",
        title=heading,
        legend=legend,
        notes=notes,
        game=game,
        colour_by=colour_by,
        values=values,
        annotations=MappingProxyType(annotations),
        panels=tuple(tuple(int(s) for s in rest) for rest in panels),
        pure=pure,
        equilibria=tuple(texts),
        cmap=CMAP,
    )


def _player(key: str | int, players: tuple[str, ...], where: str) -> int:
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        if 0 <= int(key) < len(players):
            return int(key)
    elif key in players:
        return players.index(str(key))
    raise ValueError(f"{where}: unknown player {key!r}; known: {', '.join(players)}")


def _pure_profile(eq: Equilibrium) -> tuple[int, ...]:
    return tuple(int(np.argmax(s)) for s in eq.strategies)


def _describe(game: StrategicGame, eq: Equilibrium) -> str:
    """``US: a; UA: 0.25 x + 0.75 y -> (payoffs)`` for one equilibrium."""
    parts = []
    for i, probabilities in enumerate(eq.strategies):
        support = eq.support(i)
        if len(support) == 1:
            chosen = plain(game.strategies[i][support[0]])
        else:
            chosen = " + ".join(
                f"{number(probabilities[k])} {plain(game.strategies[i][k])}" for k in support
            )
        parts.append(f"{plain(game.players[i])}: {chosen}")
    return "; ".join(parts) + " → (" + ", ".join(number(v) for v in eq.payoffs) + ")"


def _ink(rgba: tuple[float, float, float, float]) -> str:
    """Black or white text, whichever reads better on ``rgba`` (luminance, ITU-R BT.709)."""
    r, g, b = rgba[:3]
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "white"
