r"""All extreme Nash equilibria of a two-player game by support enumeration.

The classic method (Nisan, Roughgarden, Tardos & Vazirani 2007, Algorithm 3.4;
Porter, Nudelman & Shoham 2008) solves, for every pair of equal-size supports,
the indifference equations of both players. It is complete only for
nondegenerate games: in a degenerate game an extreme equilibrium can have
supports of different sizes, and such equilibria are missed.

This module enumerates supports per player instead, which is complete for every
game. Each extreme strategy of the row player, scaled to
:math:`z = x / v` where :math:`v` is the column player's best payoff against
:math:`x`, is a vertex of the best-response polytope
:math:`\{z \ge 0 : Cz \le 1\}` with ``C = B^T`` (payoffs shifted positive; see
:mod:`simulator.solvers.best_response_polytope`), and every vertex is the unique
solution of a square system given by a set :math:`I \supseteq \mathrm{supp}(z)`
and an equal-size set :math:`J` of opponent best responses:

.. math:: z_i = 0 \ (i \notin I), \qquad (Cz)_j = 1 \ (j \in J).

(This is the system :math:`x_i = 0` off :math:`I`, :math:`(B^\top x)_j = v` on
:math:`J`, :math:`\sum_i x_i = 1` in the variables :math:`(x, v)`, divided by
:math:`v`.) All pairs :math:`(I, J)` of one size are solved at once with batched
``numpy.linalg.solve``; the nonsingular, feasible solutions are the vertices
(each found once per such pair). Vertices of both players are then labelled
and matched exactly as in vertex enumeration (von Stengel 2007), so the two
methods share that code and return the same set.
"""

from __future__ import annotations

import time
from itertools import combinations

import numpy as np

from simulator.game import StrategicGame
from simulator.results import SolverResult
from simulator.solvers.best_response_polytope import (
    Polytope,
    extreme_equilibria_result,
    label_tolerance,
    polytope_from_points,
    positive_bimatrix,
    two_player_bimatrix,
)

_BATCH_ENTRIES = 1 << 18
"""Matrix entries solved per batch: bounds memory, keeps temporaries in cache."""


def support_enumeration(game: StrategicGame) -> SolverResult:
    r"""All extreme Nash equilibria of the two-player ``game``, verified.

    Complete on degenerate games too (``result.degenerate`` says whether the game
    is degenerate). The work grows like :math:`\binom{m+n}{m}` systems per
    player; :func:`simulator.solvers.vertex_enumeration.vertex_enumeration`
    returns the same set much faster. Raises ``ValueError`` unless the game has
    two players.
    """
    start = time.perf_counter()
    two_player_bimatrix(game, "support_enumeration")
    a, b = positive_bimatrix(game)
    tol = label_tolerance(game)
    p = support_vertices(b.T, tol)
    q = support_vertices(a, tol)
    return extreme_equilibria_result(game, "support_enumeration", p, q, {}, start)


def support_vertices(constraint: np.ndarray, tol: float) -> Polytope:
    r"""Every nonzero vertex of :math:`\{z \in \mathbb{R}^d : z \ge 0,\ Cz \le 1\}`, labelled.

    ``constraint`` is ``C`` of shape ``(k, d)`` with positive entries; ``tol`` is
    the label tolerance. Solves :math:`C_{J,I} z_I = 1` for all index sets
    ``I`` (of variables) and ``J`` (of constraints) of equal size.
    """
    c = np.asarray(constraint, dtype=float)
    k, d = c.shape
    found = [np.zeros((0, d))]
    for size in range(1, min(k, d) + 1):
        supports = np.array(list(combinations(range(d), size)), dtype=np.intp)
        tight = np.array(list(combinations(range(k), size)), dtype=np.intp)
        # All systems C[J][:, I] for one block of supports I and every J.
        rows = c[tight]  # (nJ, size, d)
        block = max(1, _BATCH_ENTRIES // (len(tight) * size * size))
        for begin in range(0, len(supports), block):
            chosen = supports[begin : begin + block]  # (nI, size)
            systems = rows[:, :, chosen].transpose(2, 0, 1, 3)  # (nI, nJ, size, size)
            found.append(_feasible_vertices(c, chosen, systems, tol))
    return polytope_from_points(c, np.vstack(found), tol)


def _feasible_vertices(
    c: np.ndarray, supports: np.ndarray, systems: np.ndarray, tol: float
) -> np.ndarray:
    """Solutions of ``systems @ z_I = 1`` that are nonsingular and feasible, as ``(N, d)``.

    ``supports``: ``(nI, s)``; ``systems``: ``(nI, nJ, s, s)``, system ``[i, j]``
    in the variables ``supports[i]``.
    """
    n_support, n_tight, size, _ = systems.shape
    flat = systems.reshape(-1, size, size)
    solutions = np.full((len(flat), size), np.nan)
    solvable = _solve_nonsingular(flat, solutions)
    z_sub = solutions.reshape(n_support, n_tight, size)
    # Constraint values C[:, I] z_I for every system: (nI, nJ, k).
    columns = c[:, supports].transpose(1, 0, 2)  # (nI, k, size)
    values = np.einsum("iks,ijs->ijk", columns, z_sub)
    with np.errstate(invalid="ignore"):
        feasible = (
            solvable.reshape(n_support, n_tight)
            & np.all(z_sub >= -tol, axis=2)
            & np.all(values <= 1.0 + tol, axis=2)
        )
    i, j = np.nonzero(feasible)
    if len(i) == 0:
        return np.zeros((0, c.shape[1]))
    # A singular system with a consistent right-hand side has a line of
    # solutions, and round-off picks an arbitrary (perhaps feasible) point on
    # it; a nearly singular one (constraints parallel up to payoff differences
    # within the tolerance) picks a point of what is, within the tolerance, an
    # edge. Keep the systems that are nonsingular by more than the tolerance:
    # their solutions are the vertices.
    singular_values = np.linalg.svd(systems[i, j], compute_uv=False)
    full_rank = singular_values[:, -1] > tol * singular_values[:, 0]
    i, j = i[full_rank], j[full_rank]
    points = np.zeros((len(i), c.shape[1]))
    np.put_along_axis(points, supports[i], np.maximum(z_sub[i, j], 0.0), axis=1)
    return points


def _solve_nonsingular(systems: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Solve each ``systems[t] @ z = 1`` into ``out[t]``; return which were solvable.

    ``numpy.linalg.solve`` refuses a whole batch when one matrix is exactly
    singular (common in games with tied payoffs); those are found by their
    zero determinant and left out.
    """
    ones = np.ones((*systems.shape[:2], 1))
    try:
        out[:] = np.linalg.solve(systems, ones)[:, :, 0]
        return np.ones(len(systems), dtype=bool)
    except np.linalg.LinAlgError:
        solvable = np.linalg.det(systems) != 0.0
    try:
        out[solvable] = np.linalg.solve(systems[solvable], ones[solvable])[:, :, 0]
    except np.linalg.LinAlgError:  # a zero pivot despite a nonzero determinant
        for t in np.flatnonzero(solvable):
            try:
                out[t] = np.linalg.solve(systems[t], ones[t])[:, 0]
            except np.linalg.LinAlgError:
                solvable[t] = False
    return solvable
