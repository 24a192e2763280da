r"""The core and the least core of a TU game (Gillies 1959; Maschler, Peleg & Shapley 1979).

The core is the set of efficient allocations no coalition can improve on,

.. math::

    C(v) = \{x \in \mathbb{R}^n : x(N) = v(N),\ x(S) \ge v(S) \text{ for all } S \subseteq N\},

a bounded polytope (possibly empty). The least core is the set of minimisers of
the largest excess, :math:`\varepsilon^* = \min_{x(N) = v(N)} \max_{S \ne \emptyset, N}
(v(S) - x(S))`: the core is non-empty exactly when :math:`\varepsilon^* \le 0`
(within ``game.tolerance``), and a least-core point is then the core point with
the largest minimum slack. Linear programs are solved with HiGHS through
:func:`scipy.optimize.linprog`, on ``v`` divided by its scale so that the solver's
tolerances are relative too.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

from simulator.coalition.tu_game import TUGame, coalition_matrix

MAX_VERTEX_PLAYERS = 5
"""Largest game for :func:`core_vertices`, which enumerates all candidate bases."""

_HIGHS_OPTIONS: dict[str, Any] = {
    "primal_feasibility_tolerance": 1e-10,
    "dual_feasibility_tolerance": 1e-10,
}
"""Tighter than HiGHS's defaults (1e-7), so that its answers meet :data:`RTOL` on scaled data."""


@dataclass(frozen=True)
class LeastCore:
    """The least-core value and one least-core allocation.

    ``epsilon``: the smallest possible largest excess over proper non-empty
    coalitions (``<= 0`` within tolerance exactly when the core is non-empty;
    ``-epsilon`` is then the largest uniform slack a core point can have).
    ``allocation``: an efficient allocation attaining it, shape ``(n,)``.
    ``tight``: the labels of a coalition whose excess equals ``epsilon`` there.
    """

    epsilon: float
    allocation: np.ndarray
    tight: tuple[str, ...]


@dataclass(frozen=True)
class CoreCheck:
    """Whether an allocation is in the core, with the evidence.

    ``member``: ``True`` when it is efficient and no coalition's excess is positive
    (both within ``game.tolerance``). ``efficiency_gap``: ``x(N) - v(N)``.
    ``worst``: labels of the proper non-empty coalition with the largest excess
    (the most violated constraint, or the tightest when none is violated);
    ``worst_excess``: that excess ``v(S) - x(S)`` (positive means violated).
    """

    member: bool
    efficiency_gap: float
    worst: tuple[str, ...]
    worst_excess: float


def _proper_masks(n: int) -> np.ndarray:
    return np.arange(1, (1 << n) - 1, dtype=np.int64)


def _scale(game: TUGame) -> float:
    top = float(np.abs(game.v).max())
    return top if top > 0 else 1.0


def in_core(game: TUGame, x: npt.ArrayLike, tol: float | None = None) -> CoreCheck:
    """Check whether ``x`` (shape ``(n,)``) is in the core of ``game``.

    ``tol`` defaults to ``game.tolerance``; pass another value only to ask a looser
    question on purpose.
    """
    alloc = np.asarray(x, dtype=float)
    if alloc.shape != (game.n,):
        raise ValueError(f"in_core: allocation must have shape ({game.n},), got {alloc.shape}")
    limit = game.tolerance if tol is None else float(tol)
    gap = float(alloc.sum() - game.v[game.grand])
    if game.n == 1:
        return CoreCheck(abs(gap) <= limit, gap, (), float("-inf"))
    proper = _proper_masks(game.n)
    excess = game.excesses(alloc)[proper]
    k = int(np.argmax(excess))
    worst = float(excess[k])
    return CoreCheck(abs(gap) <= limit and worst <= limit, gap, game.members(int(proper[k])), worst)


def least_core(game: TUGame) -> LeastCore:
    """The least core's value and an allocation in it, by one linear program.

    Minimise :math:`\\varepsilon` subject to :math:`x(S) + \\varepsilon \\ge v(S)` for every
    proper non-empty :math:`S` and :math:`x(N) = v(N)` (Maschler, Peleg & Shapley 1979).
    For one player the only allocation is ``(v(N),)`` and ``epsilon`` is ``-inf``.
    """
    from scipy.optimize import linprog

    n = game.n
    if n == 1:
        return LeastCore(float("-inf"), np.array([game.v[1]]), ())
    scale = _scale(game)
    proper = _proper_masks(n)
    member = coalition_matrix(n)[proper].astype(float)
    # Variables (x_0, ..., x_{n-1}, eps); constraints -x(S) - eps <= -v(S).
    a_ub = -np.hstack([member, np.ones((proper.size, 1))])
    b_ub = -game.v[proper] / scale
    a_eq = np.hstack([np.ones((1, n)), np.zeros((1, 1))])
    b_eq = [game.v[game.grand] / scale]
    cost = np.zeros(n + 1)
    cost[-1] = 1.0
    result = linprog(
        cost,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=[(None, None)] * (n + 1),
        method="highs-ds",
        options=_HIGHS_OPTIONS,
    )
    if result.status != 0:
        raise RuntimeError(f"least_core: HiGHS failed ({result.message})")
    alloc = np.asarray(result.x[:n]) * scale + 0.0  # + 0.0 turns -0.0 into 0.0
    # Report the excess of the allocation itself, not the solver's epsilon.
    excess = game.excesses(alloc)[proper]
    k = int(np.argmax(excess))
    return LeastCore(float(excess[k]), alloc, game.members(int(proper[k])))


def core_is_empty(game: TUGame) -> bool:
    """Whether the core of ``game`` is empty (least-core value above ``game.tolerance``)."""
    return least_core(game).epsilon > game.tolerance


def core_point(game: TUGame) -> np.ndarray | None:
    """A point of the core, shape ``(n,)``, or ``None`` when the core is empty.

    The point returned is a least-core allocation: among core points it has the
    largest smallest slack ``min_S x(S) - v(S)`` (see :func:`least_core`).
    """
    found = least_core(game)
    if found.epsilon > game.tolerance:
        return None
    return found.allocation


def core_vertices(game: TUGame) -> np.ndarray:
    """All vertices of the core, array ``(k, n)`` (``k = 0`` when the core is empty).

    For games of at most :data:`MAX_VERTEX_PLAYERS` players: every vertex of the
    core polytope solves ``x(N) = v(N)`` together with ``n - 1`` tight coalition
    constraints whose system is non-singular, so all such bases are solved at once
    and the feasible solutions kept, duplicates (within ``game.tolerance``) merged.
    Rows are sorted lexicographically.
    """
    n = game.n
    if n > MAX_VERTEX_PLAYERS:
        raise ValueError(
            f"core_vertices: enumerates bases, so at most {MAX_VERTEX_PLAYERS} players; got {n}"
        )
    if n == 1:
        return np.array([[game.v[1]]])
    proper = _proper_masks(n)
    member = coalition_matrix(n)[proper].astype(float)
    bases = np.array(list(combinations(range(proper.size), n - 1)), dtype=np.int64)
    systems = np.empty((bases.shape[0], n, n))
    systems[:, 0, :] = 1.0
    systems[:, 1:, :] = member[bases]
    rhs = np.empty((bases.shape[0], n))
    rhs[:, 0] = game.v[game.grand]
    rhs[:, 1:] = game.v[proper][bases]
    # The systems have 0/1 entries, so a non-singular one has |det| >= 1.
    regular = np.abs(np.linalg.det(systems)) > 0.5
    points = np.linalg.solve(systems[regular], rhs[regular][..., None])[..., 0]
    slack = points @ member.T - game.v[proper][None, :]
    feasible = points[np.all(slack >= -game.tolerance, axis=1)]
    kept: list[np.ndarray] = []
    for point in feasible[np.lexsort(feasible.T[::-1])]:
        if not any(np.max(np.abs(point - other)) <= game.tolerance for other in kept):
            kept.append(point)
    return np.array(kept).reshape(len(kept), n)
