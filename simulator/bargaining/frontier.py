"""The Pareto frontier of a bargaining problem in payoff space, for any number of players.

Notation as in :mod:`simulator.bargaining.problem`: ``n`` players, ``k`` issues,
deal space ``X`` (a polytope), utilities ``u: X -> R^n``, disagreement point
``d``. The *payoff set* is ``u(X)``; a payoff vector is *Pareto-optimal* when no
other vector of the set is at least as good for every player and better for
one. :func:`pareto_frontier` returns the Pareto-optimal payoffs (those with
``u >= d`` when ``individually_rational``) in one of three ways:

* **Exact, affine utilities.** When ``u(z) = C z + c0`` (detected numerically
  by :func:`affine_utility`), the payoff set is the polytope ``P = C X + c0``.
  The vertices of ``X`` (with the individually rational rows ``C z + c0 >= d``
  added) are enumerated by solving every ``k``-subset of active constraints
  (or, for many constraints, by a halfspace intersection around the Chebyshev
  centre), mapped to payoff space, and the convex hull of their images is
  computed with Qhull (Barber, Dobkin & Huhdanpaa 1996) in the affine hull of
  ``P`` (so constant-sum splits, whose payoffs lie in a hyperplane, work). A
  face of ``P`` is Pareto-optimal exactly when its normal cone contains a
  strictly positive vector (Isermann 1974), checked by one linear program per
  candidate face; that vector, scaled to sum 1, is the ``normals`` row: the
  weights of the utilitarian problem the face solves.
* **Sampled, two players: adaptive epsilon-constraint** (Haimes, Lasdon &
  Wismer 1971). ``max u_0`` subject to ``u_1 >= l`` (or with the roles
  swapped) on a grid of levels ``l``, then new levels between consecutive
  points until every pair is within the requested ``coverage`` or is
  certified to be a gap of the frontier (see :func:`pareto_frontier`).
* **Sampled, three or more players: adaptive Pascoletti-Serafini
  scalarization** (Pascoletti & Serafini 1984): ``max t`` subject to
  ``u(z) >= r + t p`` for directions ``p`` from a reference point ``r`` (``d``)
  towards the ideal point, on a simplex lattice of directions (Freudenthal's
  triangulation) refined by bisecting the edges (as in Rivara 1984) whose
  points are further apart than ``coverage``.

Distances between frontier points are measured after dividing each player's
payoff by its range on the frontier (the ``scale`` field), in the max-norm: a
coverage of 0.01 means every frontier point lies within 1% of every player's
range of a reported point.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import linprog
from scipy.spatial import ConvexHull, HalfspaceIntersection, QhullError
from scipy.stats import qmc

from simulator.bargaining.optimize import _max_min_gain, _max_weighted
from simulator.bargaining.problem import BargainingProblem, _Evaluator
from simulator.tolerance import SOLVE_RTOL

__all__ = ["ParetoFrontier", "affine_utility", "pareto_frontier"]

FloatArray = npt.NDArray[np.float64]

_FIT_SAMPLE = 128  # Halton deals on which affinity is tested (plus the vertices of X)
_MAX_SUBSETS = 20_000  # above this many k-subsets of constraints, use a halfspace intersection
# Default coverage by number of players (more players: the last entry). A frontier of
# dimension n - 1 needs about coverage ** (1 - n) points.
_DEFAULT_COVERAGE = {2: 0.01, 3: 0.1, 4: 0.25}
_DEFAULT_MAX_POINTS = 400
# Payoffs closer than _SAME solve tolerances are the same point; the probes that
# certify a gap sit _PROBE solve tolerances beyond an endpoint (so a point found
# there is distinguishable from the endpoint).
_SAME = 10.0
_PROBE = 30.0

METHOD_EXACT = "exact (affine utilities, vertex enumeration)"
METHOD_EPSILON = "epsilon-constraint, adaptive"
METHOD_PASCOLETTI_SERAFINI = "Pascoletti-Serafini, adaptive"


@dataclass(frozen=True, eq=False)
class ParetoFrontier:
    """Points on the Pareto frontier in payoff space, rows ordered by player 0's payoff.

    ``payoffs``: shape ``(m, n)``; ``deals``: shape ``(m, k)``, a deal achieving
    each row. Weakly dominated points (within the solve tolerance) have been
    removed. ``individually_rational``: whether only ``u >= d`` was considered.

    ``exact``: the frontier is the exact union of the faces in ``faces`` (affine
    utilities); otherwise the rows are a sample. ``method``: how it was found.
    ``coverage``: the largest normalised max-norm distance between neighbouring
    sampled points that is not a certified gap (two players: consecutive
    points, so every frontier point is within it of a row; three or more:
    points at the ends of an edge of the direction mesh), ``0.0`` when exact,
    ``inf`` when part of the mesh could not be solved, ``None`` when empty.
    ``scale``: shape ``(n,)``, each player's payoff range on the frontier, by
    which distances are normalised. ``tolerance``: payoff tolerance used.

    Exact frontiers: ``vertices``: rows that are vertices of the frontier (for
    two players the other rows are points interpolated along its edges);
    ``faces``: the maximal Pareto-optimal faces, each a tuple of rows (its
    vertices); ``normals``: shape ``(len(faces), n)``, strictly positive weights
    summing to 1 whose utilitarian problem ``max w . u`` the face solves.

    ``gaps``: pairs of rows between which the frontier is certified empty
    (two players: the epsilon-constraint just beyond one endpoint returns the
    other; three or more: the scalarization jumps between the two points for
    directions closer than the direction resolution).
    """

    players: tuple[str, ...]
    payoffs: FloatArray
    deals: FloatArray
    individually_rational: bool
    evidence: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    exact: bool = False
    method: str = ""
    coverage: float | None = None
    faces: tuple[tuple[int, ...], ...] = ()
    normals: FloatArray | None = None
    gaps: tuple[tuple[int, int], ...] = ()
    vertices: tuple[int, ...] = ()
    scale: FloatArray | None = None
    tolerance: float = 0.0

    def contains(self, payoff: npt.ArrayLike, tol: float | None = None) -> bool:
        """Whether ``payoff`` (shape ``(n,)``) lies on the frontier, within tolerance.

        Exact frontiers: within ``tol`` (default ``tolerance``) of some face, in
        every player's payoff. Sampled frontiers: within the achieved coverage
        (normalised max-norm, plus ``tol`` in payoff units) of some sampled point.
        """
        x = np.asarray(payoff, dtype=float).reshape(-1)
        if len(self.payoffs) == 0:
            return False
        tol = self.tolerance if tol is None else float(tol)
        if self.exact and self.faces:
            return any(_distance_to_hull(self.payoffs[list(f)], x) <= tol for f in self.faces)
        scale = self.scale if self.scale is not None else np.ones(x.size)
        dist = np.max((np.abs(self.payoffs - x) - tol) / scale, axis=1)
        return bool(np.min(dist) <= (self.coverage or 0.0))

    def dominated(self, payoff: npt.ArrayLike, tol: float | None = None) -> bool:
        """Whether a frontier point beats ``payoff`` (shape ``(n,)``) by more than ``tol``.

        True when some point ``q`` of the frontier (exact: any point of its
        faces; sampled: a sampled row) has ``q >= payoff`` for every player and
        ``sum(q - payoff) > tol`` (default ``tolerance``).
        """
        x = np.asarray(payoff, dtype=float).reshape(-1)
        if len(self.payoffs) == 0:
            return False
        tol = self.tolerance if tol is None else float(tol)
        if not self.exact:
            gain = self.payoffs - x
            return bool(np.any(np.all(gain >= 0, axis=1) & (gain.sum(axis=1) > tol)))
        # Every point of the payoff polytope is weakly dominated by a frontier point,
        # so the convex hull of the frontier vertices beats x exactly when the
        # polytope does: one LP, max sum(q - x) over q in that hull with q >= x.
        v = self.payoffs[list(self.vertices)] if self.vertices else self.payoffs
        m = len(v)
        res = linprog(
            c=-v.sum(axis=1),
            A_ub=-v.T,
            b_ub=-x,
            A_eq=np.ones((1, m)),
            b_eq=[1.0],
            bounds=[(0.0, None)] * m,
            method="highs",
        )
        return bool(res.status == 0 and -res.fun - x.sum() > tol)


# ---------------------------------------------------------------------------
# Affine utilities and the exact frontier


def affine_utility(problem: BargainingProblem) -> tuple[FloatArray, FloatArray] | None:
    """``(C, c0)`` with ``u(z) = C z + c0`` on ``X`` (shapes ``(n, k)``, ``(n,)``), or ``None``.

    Numerical detection, not a proof: an affine map is fitted by least squares
    to the utilities at the vertices of ``X``, its Chebyshev centre and
    ``_FIT_SAMPLE`` Halton points of ``X`` (Halton 1960), and accepted when no
    residual exceeds ``problem.tolerance.payoff``. A utility that bends only
    between the sampled deals would be missed. Columns of fixed issues
    (``lower == upper``) are zero; their value is folded into ``c0``.
    """
    k = problem.n_issues
    free = problem.upper > problem.lower
    span = problem.upper - problem.lower
    unit = qmc.Halton(d=k, scramble=False).random(_FIT_SAMPLE + 1)[1:]
    points = [problem.centre[None, :], problem.project(problem.lower + span * unit)]
    g, h, fixed = _deal_space(problem)
    corners = _polytope_vertices(g, h, _deal_feasibility(problem))
    if corners is not None and len(corners):
        points.append(_full_deals(corners, free, fixed))
    z = np.vstack(points)
    u = problem.payoffs(z)
    design = np.hstack([z[:, free], np.ones((len(z), 1))])
    coef, *_ = np.linalg.lstsq(design, u, rcond=None)
    residual = float(np.max(np.abs(design @ coef - u)))
    if residual > problem.tolerance.payoff:
        return None
    c = np.zeros((problem.n_players, k))
    c[:, free] = coef[:-1].T
    # Fixed issues contribute a constant, already absorbed by the intercept.
    return c, np.asarray(coef[-1], dtype=float)


def _deal_space(problem: BargainingProblem) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``X`` as ``G y <= h`` over the free issues ``y``, and the fixed issues' values.

    ``G``: shape ``(m, f)`` for ``f`` free issues (box rows, then ``A_ub`` rows);
    fixed issues (``lower == upper``) are substituted into ``h``. The third
    value has shape ``(k,)``: the fixed issues' values, zero elsewhere.
    """
    free = problem.upper > problem.lower
    fixed = np.where(free, 0.0, problem.lower)
    f = int(free.sum())
    eye = np.eye(f)
    rows = [eye, -eye]
    rhs = [problem.upper[free], -problem.lower[free]]
    if problem.A_ub is not None and problem.b_ub is not None:
        rows.append(problem.A_ub[:, free])
        rhs.append(problem.b_ub - problem.A_ub @ fixed)
    return np.vstack(rows), np.concatenate(rhs), fixed


def _full_deals(y: FloatArray, free: npt.NDArray[np.bool_], fixed: FloatArray) -> FloatArray:
    """Deals of shape ``(m, k)`` from free-issue values ``y`` of shape ``(m, f)``."""
    z = np.tile(fixed, (len(y), 1))
    z[:, free] = y
    return z


def _deal_feasibility(problem: BargainingProblem) -> float:
    """Violation (in deal units, rows of unit norm) below which a vertex is feasible."""
    size = max(1.0, float(np.max(np.abs(np.concatenate([problem.lower, problem.upper])))))
    return problem.tolerance.rtol * size


def _polytope_vertices(g: FloatArray, h: FloatArray, tol: float) -> FloatArray | None:
    """Vertices (shape ``(v, f)``) of the bounded polytope ``{y : G y <= h}``.

    Every ``f``-subset of the ``m`` rows whose matrix is non-singular gives a
    candidate ``y``; the feasible ones are the vertices (enumeration by active
    sets; lower-dimensional polytopes are handled as they come). With more than
    ``_MAX_SUBSETS`` subsets the vertices are the dual hull of the halfspaces
    around the Chebyshev centre (scipy's HalfspaceIntersection, Qhull), which
    needs a full-dimensional polytope; ``None`` when neither applies. An empty
    array when the polytope is empty.
    """
    f = g.shape[1]
    norms = np.linalg.norm(g, axis=1)
    flat = norms <= tol
    if np.any(h[flat] < -tol):
        return np.empty((0, f))
    g = g[~flat] / norms[~flat, None]
    h = h[~flat] / norms[~flat]
    m = len(g)
    if f == 0:
        return np.zeros((1, 0))
    if math.comb(m, f) > _MAX_SUBSETS:
        return _halfspace_vertices(g, h, tol)
    subsets = np.array(list(itertools.combinations(range(m), f)))
    mats = g[subsets]
    sv = np.linalg.svd(mats, compute_uv=False)
    ok = sv[:, -1] > tol
    if not np.any(ok):
        return np.empty((0, f))
    y = np.linalg.solve(mats[ok], h[subsets[ok]][..., None])[..., 0]
    y = y[np.all(y @ g.T <= h + tol, axis=1)]
    return y[_distinct_index(y, 10 * tol)]


def _halfspace_vertices(g: FloatArray, h: FloatArray, tol: float) -> FloatArray | None:
    """Vertices of ``{y : G y <= h}`` (rows of unit norm) by Qhull's halfspace intersection.

    The interior point is the Chebyshev centre (an LP); ``None`` when the
    polytope has no interior (its largest inscribed ball has radius ``<= tol``).
    """
    f = g.shape[1]
    res = linprog(
        c=np.concatenate([np.zeros(f), [-1.0]]),
        A_ub=np.hstack([g, np.ones((len(g), 1))]),
        b_ub=h,
        bounds=[(None, None)] * f + [(0.0, None)],
        method="highs",
    )
    if res.status != 0:
        return np.empty((0, f))
    if res.x[-1] <= tol:
        return None  # lower-dimensional: no interior point for Qhull
    hs = HalfspaceIntersection(np.hstack([g, -h[:, None]]), res.x[:f])
    y = np.asarray(hs.intersections, dtype=float)
    return y[_distinct_index(y, 10 * tol)]


def _exact_frontier(
    problem: BargainingProblem,
    affine: tuple[FloatArray, FloatArray],
    individually_rational: bool,
    n_points: int,
) -> ParetoFrontier | None:
    """The exact frontier for affine utilities; ``None`` if the vertices cannot be enumerated."""
    c, c0 = affine
    n = problem.n_players
    free = problem.upper > problem.lower
    g, h, fixed = _deal_space(problem)
    if individually_rational:
        # C z + c0 >= d, over the free issues.
        g = np.vstack([g, -c[:, free]])
        h = np.concatenate([h, c @ fixed + c0 - problem.disagreement])
    corners = _polytope_vertices(g, h, _deal_feasibility(problem))
    if corners is None:
        return None
    tol = problem.solve_tolerance
    evidence: dict[str, Any] = {"deal_vertices": len(corners)}
    if len(corners) == 0:
        evidence["note"] = "no deal is individually rational"
        return _empty(problem, individually_rational, True, METHOD_EXACT, evidence)
    # Round-off near a bound is put on it (and -0.0 becomes 0.0).
    deals = np.clip(_full_deals(corners, free, fixed), problem.lower, problem.upper)
    snap = 10 * _deal_feasibility(problem)
    deals = np.where(np.abs(deals - problem.lower) <= snap, problem.lower, deals)
    deals = np.where(np.abs(deals - problem.upper) <= snap, problem.upper, deals) + 0.0
    u = problem.payoffs(deals)
    keep = _distinct_index(u, tol)
    deals, u = deals[keep], u[keep]
    faces, normals, info = _efficient_faces(u, tol)
    evidence.update(info)
    rows = sorted({v for face in faces for v in face}, key=lambda v: tuple(u[v]))
    where = {v: a for a, v in enumerate(rows)}
    faces = [tuple(sorted(where[v] for v in face)) for face in faces]
    u, deals = u[rows], deals[rows]
    vertices = tuple(range(len(u)))
    if n == 2:
        u, deals, faces, normals, vertices = _densify_two(
            problem, u, deals, faces, normals, n_points
        )
    return ParetoFrontier(
        players=problem.players,
        payoffs=u,
        deals=deals,
        individually_rational=individually_rational,
        evidence=MappingProxyType(evidence),
        exact=True,
        method=METHOD_EXACT,
        coverage=0.0,
        faces=tuple(faces),
        normals=np.array(normals).reshape(len(faces), n),
        vertices=vertices,
        scale=_ranges(u),
        tolerance=tol,
    )


def _efficient_faces(
    u: FloatArray, tol: float
) -> tuple[list[tuple[int, ...]], list[FloatArray], dict[str, Any]]:
    """The maximal Pareto-optimal faces of ``conv(u)`` (rows of ``u``, shape ``(m, n)``).

    Works in the affine hull of the points (rank ``r`` from a singular value
    decomposition of the normalised points), where Qhull (Barber, Dobkin &
    Huhdanpaa 1996) gives the facets. Every face is an intersection of facets;
    a face is Pareto-optimal when its normal cone (the cone of its facets'
    outward normals plus the orthogonal complement of the affine hull)
    contains a vector ``w >= 1`` (an LP). Returns the faces (row indices), the
    weights ``w`` rescaled to the original payoffs and summing to 1, and facts
    for the evidence.
    """
    n = u.shape[1]
    scale = _ranges(u)
    y = (u - u.min(axis=0)) / scale
    mean = y.mean(axis=0)
    _, sv, vt = np.linalg.svd(y - mean, full_matrices=True)
    geom = SOLVE_RTOL
    r = int(np.sum(sv > geom))
    basis, null = vt[:r].T, vt[r:].T
    p = (y - mean) @ basis
    facets: dict[frozenset[int], FloatArray] = {}
    if r == 0:
        extreme = [0]
    elif r == 1:
        lo, hi = int(np.argmin(p[:, 0])), int(np.argmax(p[:, 0]))
        extreme = [lo, hi]
        facets[frozenset([lo])] = -basis[:, 0]
        facets[frozenset([hi])] = basis[:, 0]
    else:
        try:
            hull = ConvexHull(p)
        except QhullError:
            # Nearly flat input: joggled input (Qhull's QJ) triangulates it regardless;
            # facets are regrouped below by which points lie on each hyperplane.
            hull = ConvexHull(p, qhull_options="QJ")
        extreme = [int(v) for v in hull.vertices]
        for eq in hull.equations:
            a, b = eq[:-1], eq[-1]
            on = frozenset(v for v in extreme if abs(p[v] @ a + b) <= geom)
            facets.setdefault(on, basis @ a)
    facet_items = list(facets.items())

    def cone_weights(face: frozenset[int]) -> FloatArray | None:
        gens = [w for s, w in facet_items if face <= s]
        cols = [*gens, *null.T]
        if not cols:
            return None
        mat = np.column_stack(cols)
        n_mu = len(gens)
        res = linprog(
            c=np.concatenate([np.ones(n_mu), np.zeros(mat.shape[1] - n_mu)]),
            A_ub=-mat,
            b_ub=-np.ones(n),
            bounds=[(0.0, None)] * n_mu + [(None, None)] * (mat.shape[1] - n_mu),
            method="highs",
        )
        if res.status != 0:
            return None
        w = (mat @ res.x) / scale
        return np.asarray(w / w.sum())

    def face_of(subset: frozenset[int]) -> frozenset[int]:
        """The smallest face containing ``subset``: the intersection of the facets holding it."""
        face = frozenset(extreme)
        for s, _ in facet_items:
            if subset <= s:
                face &= s
        return face

    efficient = frozenset(v for v in extreme if cone_weights(frozenset([v])) is not None)
    candidates = {face_of(s & efficient) for s in facets if s & efficient}
    if r < n:
        candidates.add(frozenset(extreme))
    candidates |= {frozenset([v]) for v in efficient}
    # Close under intersection: every face is an intersection of facets.
    frontier = set(candidates)
    while frontier:
        fresh = {face_of(a & b) for a in frontier for b in candidates if a & b}
        frontier = fresh - candidates
        candidates |= fresh
    faces: list[tuple[int, ...]] = []
    normals: list[FloatArray] = []
    for face in sorted(candidates, key=lambda s: (-len(s), sorted(s))):
        if not face <= efficient or any(face <= set(f) for f in faces):
            continue
        w = cone_weights(face)
        if w is not None:
            faces.append(tuple(sorted(face)))
            normals.append(w)
    info = {"payoff_rank": r, "hull_vertices": len(extreme), "facets": len(facets)}
    return faces, normals, info


def _densify_two(
    problem: BargainingProblem,
    u: FloatArray,
    deals: FloatArray,
    faces: list[tuple[int, ...]],
    normals: list[FloatArray],
    n_points: int,
) -> tuple[FloatArray, FloatArray, list[tuple[int, ...]], list[FloatArray], tuple[int, ...]]:
    """Two players: the breakpoints in order of ``u_0`` plus points along the edges.

    Deals along an edge are convex combinations of its endpoints' deals (the
    utilities are affine and ``X`` is convex), so at least ``n_points`` rows
    are reported, evenly spaced in normalised arc length. Returns the payoffs,
    deals, faces and normals (re-indexed, in order of ``u_0``) and the rows
    that are breakpoints.
    """
    order = np.argsort(u[:, 0], kind="stable")
    u, deals = u[order], deals[order]
    rank = {int(v): a for a, v in enumerate(order)}
    scale = _ranges(u)
    q = len(u)
    lengths = np.max(np.abs(np.diff(u, axis=0)) / scale, axis=1) if q > 1 else np.zeros(0)
    cum = np.concatenate([[0.0], np.cumsum(lengths)])
    marks = np.linspace(0.0, cum[-1], max(n_points, 2))
    # Marks closer than this to a breakpoint would duplicate it.
    near = SOLVE_RTOL * max(float(cum[-1]), 1.0)
    rows_z: list[FloatArray] = []
    breaks: list[int] = []
    for j in range(q):
        breaks.append(len(rows_z))
        rows_z.append(deals[j])
        if j + 1 < q:
            inner = marks[(marks > cum[j] + near) & (marks < cum[j + 1] - near)]
            for s in inner:
                lam = (s - cum[j]) / lengths[j]
                rows_z.append((1.0 - lam) * deals[j] + lam * deals[j + 1])
    z = np.array(rows_z)
    moved = [tuple(breaks[rank[v]] for v in sorted(f, key=lambda v: rank[v])) for f in faces]
    order_faces = np.argsort([min(f) for f in moved], kind="stable")
    return (
        problem.payoffs(z),
        z,
        [moved[i] for i in order_faces],
        [normals[i] for i in order_faces],
        tuple(breaks),
    )


# ---------------------------------------------------------------------------
# The entry point


def pareto_frontier(
    problem: BargainingProblem,
    n_points: int = 50,
    individually_rational: bool = True,
    *,
    coverage: float | None = None,
    max_points: int = _DEFAULT_MAX_POINTS,
    exact: bool | None = None,
) -> ParetoFrontier:
    """The Pareto frontier of ``problem`` in payoff space, for any number of players.

    ``exact``: ``None`` (default) computes the exact frontier when
    :func:`affine_utility` finds the utilities affine and samples otherwise;
    ``True`` requires affine utilities (:class:`ValueError` if not); ``False``
    always samples. ``individually_rational``: only payoffs ``u >= d``.

    Exact (see the module docstring): the Pareto-optimal faces of ``C X + c0``
    with their vertices, deals and weight vectors; for two players the edges
    are also sampled so that at least ``n_points`` rows are reported.

    Two players, sampled (epsilon-constraint; Haimes, Lasdon & Wismer 1971):
    the two lexicographic extremes and ``n_points`` levels of ``u_1``; then,
    while two consecutive points ``a`` (better for player 0) and ``b`` are
    further apart than ``coverage`` (default 0.01), a level between them is
    solved along the axis where they are further apart (``max u_0`` s.t.
    ``u_1 >= l``, or ``max u_1`` s.t. ``u_0 >= l``), one ``coverage``-sized
    piece from the endpoint. If that returns an endpoint, the level lies in a
    gap of the frontier; a probe just beyond the other endpoint (e.g. ``max
    u_1`` s.t. ``u_0 >= u_0(b) + probe``) then returns either the far
    endpoint, certifying that no frontier point lies between ``a`` and ``b``,
    or the last frontier point before the gap, which is added and certifies
    its pair. Certificates rest on the optimizer finding the global optimum
    from its starts (the neighbouring deals and the Chebyshev centre), and
    hold up to ``probe`` (30 solve tolerances).

    Three or more players, sampled (Pascoletti & Serafini 1984): ``max t``
    subject to ``u(z) >= r + t * (w * (ideal - r))`` for direction weights ``w``
    on the simplex (``r = d``, or below the lowest payoffs when not
    ``individually_rational``). The directions start as a simplex lattice of
    at least ``n_points`` points in Freudenthal's triangulation; from how far
    apart neighbouring points are, a finer lattice is chosen that would meet
    ``coverage`` (default 0.1 for three players, 0.25 for more) if payoffs
    stretched evenly; then the mesh edge whose points are furthest apart is
    bisected until all are within ``coverage``. An edge shorter than
    ``coverage / 4`` in direction space whose points are still further apart
    is reported as a gap (the scalarization jumps there) and not refined.
    Coverage here is measured on the mesh's edges: a heuristic for a
    continuous frontier, not a bound like the two-player one. Points of
    weakly Pareto-optimal directions that another point beats are dropped.

    ``max_points`` caps the number of scalarized problems solved; when it is
    hit the evidence says so and ``coverage`` reports what was achieved.
    Returns an empty frontier when no deal is individually rational.
    """
    n = problem.n_players
    if n < 2:
        raise ValueError(f"pareto_frontier: needs at least 2 players, got {n}")
    if n_points < 2:
        raise ValueError(f"pareto_frontier: n_points must be at least 2, got {n_points}")
    if max_points < 2:
        raise ValueError(f"pareto_frontier: max_points must be at least 2, got {max_points}")
    target = _DEFAULT_COVERAGE[min(n, 4)] if coverage is None else coverage
    if not 0.0 < target <= 1.0:
        raise ValueError(f"pareto_frontier: coverage must be in (0, 1], got {coverage}")
    fallback = ""
    if exact is not False:
        affine = affine_utility(problem)
        if affine is None and exact:
            raise ValueError(
                "pareto_frontier: exact=True needs affine utilities, "
                "but the utility is not affine on the deal space"
            )
        if affine is not None:
            result = _exact_frontier(problem, affine, individually_rational, n_points)
            if result is not None:
                return result
            if exact:
                raise ValueError(
                    "pareto_frontier: too many constraints to enumerate the vertices of a "
                    "lower-dimensional deal space; use exact=False"
                )
            fallback = "utilities are affine but the deal space's vertices were not enumerated"
    if n == 2:
        result = _sampled_two(problem, n_points, individually_rational, target, max_points)
    else:
        result = _sampled_many(problem, n_points, individually_rational, target, max_points)
    if fallback:
        evidence = dict(result.evidence)
        evidence["note"] = fallback
        result = replace(result, evidence=MappingProxyType(evidence))
    return result


# ---------------------------------------------------------------------------
# Sampled frontiers


def _sampled_two(
    problem: BargainingProblem,
    n_points: int,
    individually_rational: bool,
    coverage: float,
    max_points: int,
) -> ParetoFrontier:
    """Adaptive epsilon-constraint sampling of a two-player frontier (see pareto_frontier)."""
    ev = _Evaluator(problem)
    floors = problem.disagreement.copy() if individually_rational else np.full(2, -np.inf)
    tol = problem.solve_tolerance
    same, probe = _SAME * tol, _PROBE * tol
    centre = problem.centre
    kkt: list[float] = []
    solves = 0

    def solve(axis: int, level: float, starts: tuple[FloatArray, ...] | None) -> FloatArray | None:
        """``max u_other`` subject to ``u_axis >= level`` (and the floors)."""
        nonlocal solves
        solves += 1
        f = floors.copy()
        f[axis] = max(level, f[axis])
        w = np.zeros(2)
        w[1 - axis] = 1.0
        best = _max_weighted(problem, w, f, ev, starts)
        if best is None:
            return None
        kkt.append(best.kkt)
        return best.x

    ends: list[FloatArray] = []
    for axis in (0, 1):
        # Lexicographic extreme: player `axis`'s best, then the other's best at that level.
        w = np.zeros(2)
        w[axis] = 1.0
        solves += 1
        first = _max_weighted(problem, w, floors, ev)
        if first is None:
            return _empty(
                problem,
                individually_rational,
                False,
                METHOD_EPSILON,
                {"solves": solves, "note": "no deal is individually rational"},
            )
        kkt.append(first.kkt)
        polished = solve(axis, float(ev(first.x)[0][axis]), (first.x,))
        ends.append(first.x if polished is None else polished)

    points: dict[int, tuple[FloatArray, FloatArray]] = {}
    counter = itertools.count()

    def add(z: FloatArray) -> int | None:
        """Insert a deal's payoff unless it repeats or is dominated; drop points it dominates."""
        u = ev(z)[0].copy()
        if points:
            keys = list(points)
            others = np.array([points[key][0] for key in keys])
            repeat = np.all(np.abs(others - u) <= same, axis=1)
            if np.any(repeat | _beaten_by(others, u, same)):
                return None
            for i in np.flatnonzero(_beaten_by(u[None, :], others, same)):
                del points[keys[i]]
        key = next(counter)
        points[key] = (u, z.copy())
        return key

    for z in ends:
        add(z)
    if len(points) == 2:
        (u_a, _), (u_b, _) = points.values()
        low, high = sorted([u_a[1], u_b[1]])
        previous = ends[0]
        for level in np.linspace(low, high, n_points)[1:-1]:
            if solves >= max_points:
                break
            found_z = solve(1, level, (previous, *problem.starts[:2]))
            if found_z is not None:
                previous = found_z
                add(previous)
    gaps: set[tuple[int, int]] = set()
    stuck: set[tuple[int, int]] = set()

    def classify(z: FloatArray | None, a: int, b: int) -> str | int:
        """The endpoint ``z`` repeats (``"a"``, ``"b"``), the key it was added as, or ``"fail"``."""
        if z is None:
            return "fail"
        u = ev(z)[0]
        for name, end in (("a", a), ("b", b)):
            if np.all(np.abs(points[end][0] - u) <= same):
                return name
        key = add(z)
        return "fail" if key is None else key

    exhausted = False
    while True:
        keys = list(points)
        u_all = np.array([points[key][0] for key in keys])
        scale = _ranges(u_all)
        order = np.lexsort((-u_all[:, 0], u_all[:, 1]))
        dist = np.abs(np.diff(u_all[order], axis=0)) / scale
        worst = dist.max(axis=1)
        open_pairs = [
            i
            for i in np.flatnonzero(worst > coverage)
            if (keys[order[i]], keys[order[i + 1]]) not in gaps | stuck
        ]
        if not open_pairs:
            break
        if solves >= max_points:
            exhausted = True
            break
        i = max(open_pairs, key=lambda j: worst[j])
        a, b = keys[order[i]], keys[order[i + 1]]
        (ua, za), (ub, zb) = points[a], points[b]
        axis = int(np.argmax(dist[i]))
        # Split the pair along the axis where it is further apart, into as many
        # pieces as the coverage needs: the level sits one piece from the
        # endpoint the constraint is measured from (a is better for player 0,
        # b for player 1).
        share = 1.0 / math.ceil(dist[i, axis] / coverage)
        if axis == 1:
            level = ua[1] + share * (ub[1] - ua[1])
            found = classify(solve(1, level, (za, zb, centre)), a, b)
            endpoint, far = "b", "a"
        else:
            level = ub[0] + share * (ua[0] - ub[0])
            found = classify(solve(0, level, (zb, za, centre)), a, b)
            endpoint, far = "a", "b"
        if isinstance(found, int):
            continue
        if found != endpoint:
            stuck.add((a, b))
            continue
        if solves >= max_points:
            exhausted = True
            break
        # The level lies in a gap; probe just beyond the endpoint it returned.
        if axis == 1:
            last = classify(solve(0, ub[0] + probe, (za, zb, centre)), a, b)
        else:
            last = classify(solve(1, ua[1] + probe, (zb, za, centre)), a, b)
        if last == far:
            gaps.add((a, b))
        elif isinstance(last, int):
            gaps.add((last, b) if axis == 1 else (a, last))
        else:
            stuck.add((a, b))

    final = sorted(points, key=lambda key: (points[key][0][0], -points[key][0][1]))
    u = np.array([points[key][0] for key in final])
    z = np.array([points[key][1] for key in final])
    scale = _ranges(u)
    gap_rows: list[tuple[int, int]] = []
    achieved = 0.0
    for row in range(len(final) - 1):
        # Internal pairs run in order of u_1, i.e. reversed.
        if (final[row + 1], final[row]) in gaps:
            gap_rows.append((row, row + 1))
        else:
            achieved = max(achieved, float(np.max(np.abs(u[row + 1] - u[row]) / scale)))
    evidence = {
        "solves": solves,
        "max_points": max_points,
        "budget_exhausted": exhausted,
        "requested_coverage": coverage,
        "initial_levels": n_points,
        "gaps": len(gap_rows),
        "unresolved_pairs": len(stuck),
        "max_kkt_residual": float(max(kkt)) if kkt else None,
    }
    return ParetoFrontier(
        players=problem.players,
        payoffs=problem.payoffs(z),
        deals=z,
        individually_rational=individually_rational,
        evidence=MappingProxyType(evidence),
        exact=False,
        method=METHOD_EPSILON,
        coverage=achieved,
        gaps=tuple(gap_rows),
        scale=scale,
        tolerance=tol,
    )


def _sampled_many(
    problem: BargainingProblem,
    n_points: int,
    individually_rational: bool,
    coverage: float,
    max_points: int,
) -> ParetoFrontier:
    """Adaptive Pascoletti-Serafini sampling for three or more players (see pareto_frontier)."""
    n, k = problem.n_players, problem.n_issues
    ev = _Evaluator(problem)
    d = problem.disagreement
    tol = problem.solve_tolerance
    same = _SAME * tol
    floors = d.copy() if individually_rational else np.full(n, -np.inf)
    solves = 0
    kkt: list[float] = []
    eye = np.eye(n)
    tops: list[FloatArray] = []
    for i in range(n):
        solves += 1
        best = _max_weighted(problem, eye[i], floors, ev)
        if best is None:
            return _empty(
                problem,
                individually_rational,
                False,
                METHOD_PASCOLETTI_SERAFINI,
                {"solves": solves, "note": "no deal is individually rational"},
            )
        tops.append(best.x)
    ideal = np.array([ev(z)[0][i] for i, z in enumerate(tops)])
    if individually_rational:
        solves += 1
        zone = _max_min_gain(problem, np.ones(n), ev)
        if zone is None or zone.value < -tol:
            return _empty(
                problem,
                individually_rational,
                False,
                METHOD_PASCOLETTI_SERAFINI,
                {"solves": solves, "note": "no deal is individually rational"},
            )
        reference = d.copy()
    else:
        low = np.empty(n)
        for i in range(n):
            solves += 1
            best = _max_weighted(problem, -eye[i], floors, ev)
            low[i] = (
                ev(best.x)[0][i]
                if best is not None
                else np.min(problem.payoffs(problem.starts)[:, i])
            )
        # Strictly below every payoff, so every Pareto point lies on some ray.
        reference = low - 0.01 * np.maximum(ideal - low, same)
    span = np.maximum(ideal - reference, same)
    # The refinement warm-starts from neighbouring deals, plus the centre only.
    fast = replace(problem, disagreement=reference, n_starts=1)
    fev = _Evaluator(fast)

    directions: list[FloatArray] = []
    deals: list[FloatArray] = []
    payoffs: list[FloatArray] = []

    def solve(w: FloatArray, starts: tuple[FloatArray, ...]) -> int | None:
        nonlocal solves
        solves += 1
        best = _max_min_gain(fast, w * span, fev, starts)
        if best is None:
            return None
        kkt.append(best.kkt)
        z = best.x[:k].copy()
        directions.append(w)
        deals.append(z)
        payoffs.append(fev(z)[0].copy())
        return len(directions) - 1

    failed = 0

    def lattice(h: int) -> list[tuple[int, ...]]:
        """Solve every direction of the simplex lattice of resolution ``h``; its simplices."""
        nonlocal failed
        points, simplices = _simplex_lattice(n, h)
        ids: list[int] = []
        for m in points:
            w = m / h
            starts: tuple[FloatArray, ...]
            if np.max(m) == h:
                starts = (tops[int(np.argmax(m))], *problem.starts)
            else:
                solved = np.array(directions)[~np.isnan(np.array(payoffs)[:, 0])]
                near = int(np.argmin(np.max(np.abs(solved - w), axis=1)))
                starts = (deals[near],)
            found = solve(w, starts)
            if found is None:
                found = solve(w, tuple(problem.starts))
            if found is None:
                failed += 1
                directions.append(w)
                deals.append(np.full(k, np.nan))
                payoffs.append(np.full(n, np.nan))
                found = len(directions) - 1
            ids.append(found)
        return [tuple(ids[v] for v in sx) for sx in simplices]

    def lengths(simplices: list[tuple[int, ...]], scale: FloatArray) -> FloatArray:
        edges = {e for sx in simplices for e in itertools.combinations(sorted(sx), 2)}
        u = np.array(payoffs)
        return np.array([np.max(np.abs(u[a] - u[b]) / scale) for a, b in edges])

    # A first simplex lattice (Freudenthal's triangulation) of about n_points
    # directions measures how far apart neighbouring points are; a second one,
    # fine enough for the coverage if the payoffs stretch evenly, replaces it
    # when the budget allows. Adaptive bisection does the rest.
    h = 1
    while math.comb(h + n - 1, n - 1) < n_points and math.comb(h + n, n - 1) <= max_points:
        h += 1
    simplices = lattice(h)

    def frontier_ranges() -> FloatArray:
        solved = np.array(payoffs)[~np.isnan(np.array(payoffs)[:, 0])]
        return _ranges(solved[_nondominated(solved, same)])

    scale = frontier_ranges()
    spread = lengths(simplices, scale)
    if spread.size:
        # The 90th percentile, so that a gap between regions does not set the resolution.
        fine = math.ceil(h * float(np.quantile(spread, 0.9)) / coverage)
        if fine > h and math.comb(fine + n - 1, n - 1) <= max_points - solves:
            h = fine
            simplices = lattice(h)
            scale = frontier_ranges()
    missing = {i for i, u in enumerate(payoffs) if np.isnan(u[0])}
    mesh = _SimplexMesh([sx for sx in simplices if not missing & set(sx)])
    stuck: set[tuple[int, int]] = set()

    def bisect(a: int, b: int) -> bool:
        m = solve((directions[a] + directions[b]) / 2, (deals[a], deals[b]))
        if m is None:
            stuck.add((a, b))
            return False
        mesh.bisect(a, b, m)
        return True

    def length(e: tuple[int, int]) -> float:
        return float(np.max(np.abs(payoffs[e[0]] - payoffs[e[1]]) / scale))

    resolution = coverage / 4
    gaps: set[tuple[int, int]] = set()
    heap = [(-length(e), e) for e in mesh.edges()]
    heapq.heapify(heap)
    exhausted = False
    while heap:
        neg, e = heapq.heappop(heap)
        if -neg <= coverage:
            break
        if not mesh.has(e) or e in stuck:
            continue
        if np.max(np.abs(directions[e[0]] - directions[e[1]])) < resolution:
            gaps.add(e)
            continue
        if solves >= max_points:
            exhausted = True
            break
        if bisect(*e):
            for new in mesh.edges_of(len(directions) - 1):
                heapq.heappush(heap, (-length(new), new))

    u = np.array(payoffs)
    z = np.array(deals)
    keep = np.flatnonzero(~np.isnan(u[:, 0]))
    keep = keep[_nondominated(u[keep], same)]
    keep = keep[_distinct_index(u[keep], same)]
    keep = keep[np.lexsort(u[keep].T[::-1])]
    where = {int(v): a for a, v in enumerate(keep)}
    achieved = max((length(e) for e in mesh.edges() if e not in gaps), default=0.0)
    if failed:
        achieved = math.inf  # the mesh has holes where the scalarization failed
    gap_rows = tuple(
        sorted(
            (min(where[a], where[b]), max(where[a], where[b]))
            for a, b in gaps
            if a in where and b in where
        )
    )
    evidence = {
        "solves": solves,
        "max_points": max_points,
        "budget_exhausted": exhausted,
        "requested_coverage": coverage,
        "directions": len(directions),
        "reference_point": reference.tolist(),
        "direction_resolution": resolution,
        "gaps": len(gaps),
        "unresolved_edges": len(stuck),
        "failed_directions": failed,
        "lattice_resolution": h,
        "max_kkt_residual": float(max(kkt)) if kkt else None,
    }
    return ParetoFrontier(
        players=problem.players,
        payoffs=u[keep],
        deals=z[keep],
        individually_rational=individually_rational,
        evidence=MappingProxyType(evidence),
        exact=False,
        method=METHOD_PASCOLETTI_SERAFINI,
        coverage=achieved,
        gaps=gap_rows,
        scale=scale,
        tolerance=tol,
    )


class _SimplexMesh:
    """A conforming simplicial mesh of direction space, refined by edge bisection.

    Simplices are tuples of vertex ids (``n`` each for ``n`` players); bisecting
    edge ``(a, b)`` at a new vertex ``m`` splits every simplex holding both
    ``a`` and ``b`` into two, so no vertex hangs on an edge (Rivara 1984).
    """

    def __init__(self, simplices: Iterable[tuple[int, ...]]) -> None:
        self._holders: dict[tuple[int, int], set[tuple[int, ...]]] = {}
        for simplex in simplices:
            self._add(simplex)

    def _add(self, simplex: tuple[int, ...]) -> None:
        for a, b in itertools.combinations(sorted(simplex), 2):
            self._holders.setdefault((a, b), set()).add(simplex)

    def _remove(self, simplex: tuple[int, ...]) -> None:
        for a, b in itertools.combinations(sorted(simplex), 2):
            holders = self._holders[(a, b)]
            holders.discard(simplex)
            if not holders:
                del self._holders[(a, b)]

    def edges(self) -> list[tuple[int, int]]:
        return list(self._holders)

    def has(self, edge: tuple[int, int]) -> bool:
        return edge in self._holders

    def edges_of(self, vertex: int) -> list[tuple[int, int]]:
        return [e for e in self._holders if vertex in e]

    def bisect(self, a: int, b: int, m: int) -> None:
        for simplex in list(self._holders[(min(a, b), max(a, b))]):
            self._remove(simplex)
            self._add(tuple(m if v == b else v for v in simplex))
            self._add(tuple(m if v == a else v for v in simplex))


def _simplex_lattice(n: int, h: int) -> tuple[FloatArray, list[tuple[int, ...]]]:
    """The points ``m`` (``m >= 0`` integer, ``sum m = h``; shape ``(p, n)``) and the simplices.

    Freudenthal's triangulation (Freudenthal 1942; Kuhn 1960): in the
    cumulative coordinates ``s_j = m_0 + ... + m_{j-1}`` (``0 <= s_1 <= ... <=
    s_{n-1} <= h``), every unit cube splits into the simplices ``b, b + e_p1,
    b + e_p1 + e_p2, ...`` over permutations ``p``; those inside the region
    triangulate it. Simplices are tuples of row indices of the points.
    """
    points = [
        np.diff(np.concatenate([[0], cut, [h]]))
        for cut in itertools.combinations_with_replacement(range(h + 1), n - 1)
    ]
    index = {tuple(int(v) for v in m): i for i, m in enumerate(points)}
    simplices: list[tuple[int, ...]] = []
    for base in itertools.product(range(h), repeat=n - 1):
        for perm in itertools.permutations(range(n - 1)):
            s = np.array(base)
            ids = []
            for step in (None, *perm):
                if step is not None:
                    s = s.copy()
                    s[step] += 1
                m = tuple(int(v) for v in np.diff(np.concatenate([[0], s, [h]])))
                if min(m) < 0:
                    break
                ids.append(index[m])
            else:
                simplices.append(tuple(ids))
    return np.array(points, dtype=float), simplices


# ---------------------------------------------------------------------------
# Small array kernels


def _beaten_by(u: FloatArray, v: FloatArray, tol: float) -> npt.NDArray[np.bool_]:
    """Whether each row of ``u`` beats ``v``: at least as good for all, better by ``tol`` in total.

    A total rather than a per-player margin: with a per-player margin, a point
    on a steep stretch of the frontier would beat its neighbours by giving up
    less than ``tol`` for one player and gaining more for another.
    """
    gain = u - v
    return np.asarray(np.all(gain >= 0, axis=-1) & (gain.sum(axis=-1) > tol))


def _nondominated(u: FloatArray, tol: float) -> npt.NDArray[np.bool_]:
    """Mask of the rows of ``u`` (shape ``(m, n)``) that no row beats (see ``_beaten_by``)."""
    beats = _beaten_by(u[:, None, :], u[None, :, :], tol)
    return np.asarray(~np.any(beats, axis=0))


def _distinct_index(u: FloatArray, tol: float) -> list[int]:
    """Indices of rows of ``u`` that differ from every earlier kept row by more than ``tol``."""
    kept: list[int] = []
    for a in range(len(u)):
        if not kept or np.all(np.max(np.abs(u[kept] - u[a]), axis=1) > tol):
            kept.append(a)
    return kept


def _ranges(u: FloatArray) -> FloatArray:
    """Each column's range (shape ``(n,)``), with 1 in place of a zero range."""
    if len(u) == 0:
        return np.ones(u.shape[1])
    spread = u.max(axis=0) - u.min(axis=0)
    return np.asarray(np.where(spread > 0, spread, 1.0))


def _distance_to_hull(v: FloatArray, x: FloatArray) -> float:
    """Max-norm distance from ``x`` (shape ``(n,)``) to ``conv(v)`` (``v``: shape ``(m, n)``)."""
    m, n = v.shape
    # Variables: lambda (m) >= 0 summing to 1, and e >= |v^T lambda - x| componentwise.
    c = np.concatenate([np.zeros(m), [1.0]])
    a_ub = np.vstack([np.hstack([v.T, -np.ones((n, 1))]), np.hstack([-v.T, -np.ones((n, 1))])])
    b_ub = np.concatenate([x, -x])
    res = linprog(
        c=c,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=np.concatenate([np.ones(m), [0.0]])[None, :],
        b_eq=[1.0],
        bounds=[(0.0, None)] * (m + 1),
        method="highs",
    )
    return float(res.x[-1]) if res.status == 0 else math.inf


def _empty(
    problem: BargainingProblem,
    individually_rational: bool,
    exact: bool,
    method: str,
    evidence: Mapping[str, Any],
) -> ParetoFrontier:
    n, k = problem.n_players, problem.n_issues
    return ParetoFrontier(
        players=problem.players,
        payoffs=np.empty((0, n)),
        deals=np.empty((0, k)),
        individually_rational=individually_rational,
        evidence=MappingProxyType(dict(evidence)),
        exact=exact,
        method=method,
        coverage=None,
        normals=np.empty((0, n)) if exact else None,
        tolerance=problem.solve_tolerance,
    )
