"""The logit quantal response equilibrium (QRE) path: probabilities against lambda.

A logit QRE (McKelvey & Palfrey 1995) at precision ``lambda >= 0`` is a
profile in which every player plays each strategy with probability
proportional to ``exp(lambda * payoff)`` against the others; at ``lambda = 0``
everyone mixes uniformly and as ``lambda`` grows the branch that starts there
(the *principal branch*) approaches a Nash equilibrium. :func:`qre_plot`
draws a traced path, one panel per player, one line per strategy; it takes
plain arrays, so it does not depend on how the path was traced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from matplotlib.lines import Line2D

from simulator.game import StrategicGame
from simulator.plotting.figure import Plot, add_legend, new_figure
from simulator.plotting.style import categorical, plain
from simulator.tolerance import SOLVE_RTOL

__all__ = ["QrePlot", "qre_plot"]

FloatArray = npt.NDArray[np.float64]

_SCALES = ("linear", "log", "symlog")
_MARKERS_PER_LINE = 8


@dataclass(frozen=True, eq=False, kw_only=True)
class QrePlot(Plot):
    """A QRE path plot (:func:`qre_plot`) and the data drawn on it.

    ``lambdas``: shape ``(m,)``, increasing. ``probabilities``: one array per
    player, shape ``(m, m_i)``: row ``t`` is that player's mixed strategy at
    ``lambdas[t]``. ``players``, ``strategies``: the labels used. ``limit``:
    the Nash equilibrium marked at the right edge (one array per player), if any.
    """

    lambdas: FloatArray
    probabilities: tuple[FloatArray, ...]
    players: tuple[str, ...]
    strategies: tuple[tuple[str, ...], ...]
    limit: tuple[FloatArray, ...] | None = None


def qre_plot(
    lambdas: npt.ArrayLike,
    profiles: npt.ArrayLike | Sequence[npt.ArrayLike],
    strategies: StrategicGame | Sequence[Sequence[str]],
    *,
    players: Sequence[str] | None = None,
    x_scale: str = "linear",
    title: str | None = None,
    limit: Sequence[npt.ArrayLike] | None = None,
) -> QrePlot:
    """Draw a QRE path: each player's strategy probabilities against ``lambda``.

    ``lambdas``: shape ``(m,)``, non-negative. ``profiles``: either one array
    of shape ``(m, sum_i m_i)`` (players' probabilities side by side, player 0
    first) or one array per player of shape ``(m, m_i)``. ``strategies``: the
    game (its players and strategy labels are used) or the strategy labels per
    player. ``players``: player labels (default: the game's, else ``1, 2,
    ...``). ``x_scale``: ``"linear"``, ``"log"`` (needs ``lambda > 0``) or
    ``"symlog"``. Points are drawn in increasing ``lambda``. ``limit``: the
    Nash equilibrium the path tends to (one probability vector per player),
    marked at the right edge of each panel, since a traced path stops at a
    finite ``lambda`` short of it.

    Raises :class:`ValueError` when shapes disagree, a probability lies
    outside ``[0, 1]`` or a player's probabilities do not sum to 1 (both
    within :data:`~simulator.tolerance.SOLVE_RTOL`, the accuracy of a path
    follower), or ``lambda`` is negative or not finite.
    """
    where = "qre_plot"
    if isinstance(strategies, StrategicGame):
        labels = tuple(tuple(s) for s in strategies.strategies)
        names = tuple(players) if players is not None else strategies.players
    else:
        labels = tuple(tuple(str(x) for x in s) for s in strategies)
        names = (
            tuple(players) if players is not None else tuple(str(i + 1) for i in range(len(labels)))
        )
    if len(names) != len(labels) or not labels:
        raise ValueError(f"{where}: {len(names)} player labels for {len(labels)} strategy lists")
    if x_scale not in _SCALES:
        raise ValueError(f"{where}: x_scale must be one of {', '.join(_SCALES)}, got {x_scale!r}")
    lam = np.asarray(lambdas, dtype=float).reshape(-1)
    m = lam.size
    if m == 0 or not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError(f"{where}: lambdas must be finite, non-negative and not empty")
    if x_scale == "log" and np.any(lam <= 0):
        raise ValueError(f"{where}: a log scale needs every lambda > 0; use x_scale='symlog'")
    sizes = [len(s) for s in labels]
    per_player = _split(profiles, sizes, m, where)
    order = np.argsort(lam, kind="stable")
    lam = lam[order]
    per_player = [p[order] for p in per_player]
    for name, p in zip(names, per_player, strict=True):
        if np.any(~np.isfinite(p)) or np.any(p < -SOLVE_RTOL) or np.any(p > 1 + SOLVE_RTOL):
            raise ValueError(f"{where}: {name}'s probabilities must lie in [0, 1]")
        worst = float(np.max(np.abs(p.sum(axis=1) - 1.0)))
        if worst > SOLVE_RTOL:
            raise ValueError(
                f"{where}: {name}'s probabilities must sum to 1 at every lambda "
                f"(off by {worst:.2g})"
            )

    figure = new_figure(7.5, 2.4 + 2.2 * len(names))
    axes = figure.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    entries: list[tuple[object, str]] = []
    every = max(1, m // _MARKERS_PER_LINE)
    if limit is not None and [np.asarray(x).size for x in limit] != sizes:
        raise ValueError(f"{where}: the limit needs one probability vector per player")
    entries_for_limit: list[np.ndarray] = []
    for ax, name, strats, p in zip(axes, names, labels, per_player, strict=True):
        for k, strategy in enumerate(strats):
            style = categorical(k)
            (line,) = ax.plot(
                lam,
                p[:, k],
                color=style.color,
                linestyle=style.linestyle,
                marker=style.marker,
                # Staggered, so the markers of lines lying on top of each other all show.
                markevery=(k * every // len(strats), every),
                markersize=5,
                linewidth=1.8,
            )
            entries.append((line, f"{plain(name)}: {plain(strategy)}"))
        if limit is not None:
            ends = np.asarray(limit[len(entries_for_limit)], dtype=float)
            entries_for_limit.append(ends)
            for k, value in enumerate(ends):
                style = categorical(k)
                ax.plot(
                    [lam[-1]],
                    [value],
                    linestyle="none",
                    marker=">",
                    markersize=9,
                    markerfacecolor="white",
                    markeredgecolor=style.color,
                    markeredgewidth=1.8,
                    clip_on=False,
                )
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel(f"{plain(name)}: probability")
        ax.grid(True, color="0.9", linewidth=0.8)
        ax.set_xscale(x_scale)
    axes[-1].set_xlabel("λ (precision of the logit response; 0 = uniform random)")
    heading = title or "Logit quantal response equilibrium path"
    figure.suptitle(heading)
    if limit is not None:
        entries.append(
            (
                Line2D(
                    [], [], linestyle="none", marker=">", markerfacecolor="white",
                    markeredgecolor="0.3", markersize=9,
                ),
                "limit: the Nash equilibrium",
            )
        )  # fmt: skip
    legend = add_legend(figure, entries, ncols=min(3, max(sizes)))
    lam.flags.writeable = False
    for p in per_player:
        p.flags.writeable = False
    return QrePlot(
        figure=figure,
        kind="qre",
        title=heading,
        legend=legend,
        lambdas=lam,
        probabilities=tuple(per_player),
        players=tuple(str(n) for n in names),
        strategies=labels,
        limit=None if limit is None else tuple(entries_for_limit),
    )


def _split(
    profiles: npt.ArrayLike | Sequence[npt.ArrayLike], sizes: list[int], m: int, where: str
) -> list[FloatArray]:
    """Per-player arrays of shape ``(m, m_i)`` from either accepted layout of ``profiles``."""
    if isinstance(profiles, (list, tuple)) and len(profiles) == len(sizes):
        arrays = [np.asarray(p, dtype=float) for p in profiles]
        if all(a.ndim == 2 for a in arrays):
            for a, size in zip(arrays, sizes, strict=True):
                if a.shape != (m, size):
                    raise ValueError(
                        f"{where}: a player's probabilities have shape {a.shape}, "
                        f"expected {(m, size)}"
                    )
            return [a.copy() for a in arrays]
    stacked = np.asarray(profiles, dtype=float)
    if stacked.shape != (m, sum(sizes)):
        raise ValueError(
            f"{where}: profiles must have shape {(m, sum(sizes))} "
            f"(one row per lambda, every player's probabilities side by side), "
            f"got {stacked.shape}"
        )
    cuts = np.cumsum(sizes)[:-1]
    return [a.copy() for a in np.split(stacked, cuts, axis=1)]
