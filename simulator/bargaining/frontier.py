"""The Pareto frontier, the zone of possible agreement, and the shared optimizers.

Notation as in :mod:`simulator.bargaining.problem`.

* :func:`zone_of_agreement` solves ``max_{z in X} min_i (u_i(z) - d_i)``. A deal
  that every player prefers to disagreement exists exactly when the maximum is
  positive; otherwise the players whose gain is smallest at the maximiser
  *block* the deal, by the (negative) margin.
* :func:`pareto_frontier` (two players) traces the frontier by the
  epsilon-constraint method (Haimes, Lasdon & Wismer 1971): for a grid of levels
  ``l`` of player 1's payoff, maximise ``u_0(z)`` subject to ``u_1(z) >= l``.

The private kernels :func:`_max_min_gain` (``max t`` subject to
``u(z) >= d + t p``) and :func:`_max_weighted` (``max c . u(z)`` subject to
``u(z) >= floors``) are shared by the Kalai-Smorodinsky, egalitarian and
utilitarian solutions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from simulator.bargaining.problem import (
    BargainingProblem,
    _active_normals,
    _distinct,
    _Evaluator,
    _kkt_residual,
    _linear_constraints,
)

__all__ = ["ParetoFrontier", "ZoneOfAgreement", "pareto_frontier", "zone_of_agreement"]

FloatArray = npt.NDArray[np.float64]

_SLSQP = {"ftol": 1e-12, "maxiter": 100}


@dataclass(frozen=True)
class _Run:
    """One local optimum: variables ``x``, the maximised value, its KKT residual."""

    x: FloatArray
    value: float
    kkt: float


@dataclass(frozen=True)
class _Best:
    """The best of several local optima, and what the other starts found."""

    x: FloatArray
    value: float
    kkt: float
    runs: tuple[_Run, ...]
    n_starts: int
    alternatives: tuple[FloatArray, ...]  # distinct payoff vectors as good as the best

    @property
    def unique(self) -> bool | None:
        if self.alternatives:
            return False
        return True if len(self.runs) >= 2 else None

    def evidence(self) -> dict[str, Any]:
        return {
            "objective": self.value,
            "kkt_residual": self.kkt,
            "starts": self.n_starts,
            "converged": len(self.runs),
            "optima_found": 1 + len(self.alternatives),
        }


def _pick_best(
    problem: BargainingProblem, runs: list[_Run], n_starts: int, k: int, ev: _Evaluator
) -> _Best | None:
    """The run with the highest value; equally good runs with other payoffs are alternatives."""
    if not runs:
        return None
    best = max(runs, key=lambda r: r.value)
    tol = problem.solve_tolerance
    ties = [r for r in runs if r.value >= best.value - tol * max(1.0, abs(best.value))]
    payoffs = [ev(r.x[:k])[0] for r in ties]
    distinct = _distinct([ev(best.x[:k])[0], *payoffs], tol * 10)
    return _Best(
        x=best.x,
        value=best.value,
        kkt=best.kkt,
        runs=tuple(runs),
        n_starts=n_starts,
        alternatives=tuple(distinct[1:]),
    )


def _accept(problem: BargainingProblem, z: FloatArray, slack: FloatArray) -> bool:
    """Whether an optimizer's answer is feasible: in ``X`` and nonlinear slacks ``>= 0``."""
    return bool(problem.feasible(z)) and bool(np.all(slack >= -problem.solve_tolerance))


def _max_min_gain(
    problem: BargainingProblem,
    direction: FloatArray,
    ev: _Evaluator | None = None,
    extra_starts: tuple[FloatArray, ...] = (),
) -> _Best | None:
    """``max t`` over ``(z, t)`` subject to ``u(z) >= d + t * direction``, ``z in X``.

    ``direction`` (shape ``(n,)``, non-negative, not all zero) sets the ray
    along which gains grow. Returns ``None`` when no start converged.
    """
    ev = ev or _Evaluator(problem)
    d = problem.disagreement
    k = problem.n_issues
    p = np.asarray(direction, dtype=float)
    grad = np.zeros(k + 1)
    grad[k] = -1.0
    pos = p > 0

    def slack(x: FloatArray) -> FloatArray:
        return ev(x[:k])[0] - d - x[k] * p

    def slack_jac(x: FloatArray) -> FloatArray:
        return np.hstack([ev(x[:k])[1], -p[:, None]])

    constraints = [
        {"type": "ineq", "fun": slack, "jac": slack_jac},
        *_linear_constraints(problem, extra=1),
    ]
    bounds = [*zip(problem.lower, problem.upper, strict=True), (None, None)]
    starts = [*extra_starts, *problem.starts]
    runs: list[_Run] = []
    for z0 in starts:
        gains = ev(z0)[0] - d
        t0 = float(np.min(gains[pos] / p[pos]))
        res = minimize(
            lambda x: -x[k],
            np.append(z0, t0),
            jac=lambda x: grad,
            bounds=bounds,
            constraints=constraints,
            method="SLSQP",
            options=_SLSQP,
        )
        x = np.asarray(res.x, dtype=float)
        x[:k] = np.clip(x[:k], problem.lower, problem.upper)
        s = slack(x)
        if not _accept(problem, x[:k], s):
            continue
        # The binding t is the smallest ratio: report that, not SLSQP's t.
        t = float(np.min((ev(x[:k])[0] - d)[pos] / p[pos]))
        x[k] = t
        s = slack(x)
        normals = _active_normals(problem, x[:k], extra=1)
        jac = slack_jac(x)
        for i in np.flatnonzero(s <= problem.solve_tolerance):
            normals.append(-jac[i])
        runs.append(_Run(x=x, value=t, kkt=_kkt_residual(grad, normals)))
    return _pick_best(problem, runs, len(starts), k, ev)


def _max_weighted(
    problem: BargainingProblem,
    weights: FloatArray,
    floors: FloatArray,
    ev: _Evaluator | None = None,
    starts: tuple[FloatArray, ...] | None = None,
) -> _Best | None:
    """``max weights . u(z)`` subject to ``u_i(z) >= floors_i`` (finite floors only), ``z in X``."""
    ev = ev or _Evaluator(problem)
    k = problem.n_issues
    c = np.asarray(weights, dtype=float)
    floors = np.asarray(floors, dtype=float)
    bound = np.isfinite(floors)

    def slack(z: FloatArray) -> FloatArray:
        return ev(z)[0][bound] - floors[bound]

    def slack_jac(z: FloatArray) -> FloatArray:
        return ev(z)[1][bound]

    def fun(z: FloatArray) -> float:
        return -float(c @ ev(z)[0])

    def jac(z: FloatArray) -> FloatArray:
        return -(c @ ev(z)[1])

    constraints: list[dict[str, Any]] = list(_linear_constraints(problem))
    if np.any(bound):
        constraints.insert(0, {"type": "ineq", "fun": slack, "jac": slack_jac})
    bounds = list(zip(problem.lower, problem.upper, strict=True))
    chosen = tuple(problem.starts) if starts is None else starts
    runs: list[_Run] = []
    for z0 in chosen:
        res = minimize(
            fun, z0, jac=jac, bounds=bounds, constraints=constraints, method="SLSQP", options=_SLSQP
        )
        z = np.clip(np.asarray(res.x, dtype=float), problem.lower, problem.upper)
        s = slack(z)
        if not _accept(problem, z, s):
            continue
        normals = _active_normals(problem, z)
        sj = slack_jac(z)
        for i in np.flatnonzero(s <= problem.solve_tolerance):
            normals.append(-sj[i])
        runs.append(_Run(x=z, value=-fun(z), kkt=_kkt_residual(jac(z), normals)))
    return _pick_best(problem, runs, len(chosen), k, ev)


def _rational_starts(
    problem: BargainingProblem, ev: _Evaluator, strict: bool
) -> tuple[tuple[FloatArray, ...], _Best | None]:
    """The problem's starts with ``u >= d`` (``u > d`` when ``strict``), cheaply.

    When none qualifies, the max-min-gain deal is the only start (empty when even
    that fails the test); its :class:`_Best` is returned too, else ``None``.
    """
    d = problem.disagreement
    floor = problem.solve_tolerance if strict else -problem.solve_tolerance
    inside = np.all(problem.payoffs(problem.starts) - d > floor, axis=-1)
    if np.any(inside):
        return tuple(problem.starts[inside]), None
    zone = _max_min_gain(problem, np.ones(problem.n_players), ev)
    if zone is None or zone.value <= floor:
        return (), zone
    return (zone.x[: problem.n_issues],), zone


@dataclass(frozen=True, eq=False)
class ZoneOfAgreement:
    """Whether some deal gives every player more than the disagreement point.

    ``margin``: ``max_z min_i (u_i(z) - d_i)``; positive exactly when such a deal
    exists. ``deal``, ``payoffs``, ``gains``: at the maximiser (``None`` for the
    deal when no start converged). ``blocking``: when no deal exists, the
    players whose gain is smallest at the maximiser (they block every deal);
    ``shortfall`` = ``max(0, -margin)``, by how much they fall short at best.
    """

    exists: bool
    margin: float
    deal: FloatArray | None
    payoffs: FloatArray | None
    gains: FloatArray | None
    blocking: tuple[str, ...]
    shortfall: float
    evidence: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def zone_of_agreement(problem: BargainingProblem) -> ZoneOfAgreement:
    """The zone of possible agreement: ``max_{z in X} min_i (u_i(z) - d_i)`` and its blockers.

    Solved as ``max t`` subject to ``u(z) >= d + t`` by SLSQP from the problem's
    starts; the KKT residual of the best start is in ``evidence``.
    """
    best = _max_min_gain(problem, np.ones(problem.n_players))
    if best is None:
        raise ValueError("zone_of_agreement: the optimizer did not converge from any start")
    k = problem.n_issues
    deal = best.x[:k]
    payoffs = problem.payoffs(deal)
    gains = payoffs - problem.disagreement
    margin = float(np.min(gains))
    exists = margin > problem.solve_tolerance
    blocking: tuple[str, ...] = ()
    if not exists:
        low = gains <= margin + problem.solve_tolerance
        blocking = tuple(p for p, b in zip(problem.players, low, strict=True) if b)
    return ZoneOfAgreement(
        exists=exists,
        margin=margin,
        deal=deal,
        payoffs=payoffs,
        gains=gains,
        blocking=blocking,
        shortfall=max(0.0, -margin),
        evidence=MappingProxyType(best.evidence()),
    )


@dataclass(frozen=True, eq=False)
class ParetoFrontier:
    """Points on the Pareto frontier of a two-player problem, ordered by player 0's payoff.

    ``payoffs``: shape ``(m, 2)``; ``deals``: shape ``(m, k)``. Weakly dominated
    points (within the solve tolerance) have been removed.
    """

    players: tuple[str, ...]
    payoffs: FloatArray
    deals: FloatArray
    individually_rational: bool
    evidence: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def pareto_frontier(
    problem: BargainingProblem, n_points: int = 50, individually_rational: bool = True
) -> ParetoFrontier:
    """Sample the Pareto frontier of a two-player problem (epsilon-constraint method).

    For ``n_points`` levels ``l`` evenly spaced from player 1's lowest to highest
    frontier payoff, maximise ``u_0(z)`` subject to ``u_1(z) >= l`` (and, when
    ``individually_rational``, ``u(z) >= d``). Each level starts from the
    previous level's deal and the problem's first starts. Returns an empty
    frontier when no deal is individually rational.
    """
    if problem.n_players != 2:
        raise ValueError(f"pareto_frontier: needs exactly 2 players, got {problem.n_players}")
    if n_points < 2:
        raise ValueError(f"pareto_frontier: n_points must be at least 2, got {n_points}")
    ev = _Evaluator(problem)
    floors = problem.disagreement if individually_rational else np.full(2, -np.inf)
    top0 = _max_weighted(problem, np.array([1.0, 0.0]), floors, ev)
    top1 = _max_weighted(problem, np.array([0.0, 1.0]), floors, ev)
    k = problem.n_issues
    empty = ParetoFrontier(problem.players, np.empty((0, 2)), np.empty((0, k)), True)
    if top0 is None or top1 is None:
        return empty
    # Player 1's payoff ranges from where player 0 is best off to his own best.
    low = float(ev(top0.x)[0][1])
    high = float(ev(top1.x)[0][1])
    levels = np.linspace(low, high, n_points)
    deals: list[FloatArray] = []
    kkt: list[float] = []
    previous = top0.x
    for level in levels:
        level_floors = np.array([floors[0], max(level, floors[1])])
        best = _max_weighted(
            problem, np.array([1.0, 0.0]), level_floors, ev, (previous, *problem.starts[:2])
        )
        if best is None:
            continue
        previous = best.x
        deals.append(best.x)
        kkt.append(best.kkt)
    if not deals:
        return empty
    z = np.array(deals)
    u = problem.payoffs(z)
    tol = problem.solve_tolerance
    keep = []
    for a in range(len(u)):
        dominated = np.any(np.all(u >= u[a] - tol, axis=1) & np.any(u > u[a] + tol, axis=1))
        if not dominated:
            keep.append(a)
    order = sorted(keep, key=lambda a: u[a, 0])
    kept = _distinct_rows(u[order], tol)
    idx = [order[a] for a in kept]
    return ParetoFrontier(
        players=problem.players,
        payoffs=u[idx],
        deals=z[idx],
        individually_rational=individually_rational,
        evidence=MappingProxyType(
            {"levels": n_points, "max_kkt_residual": float(max(kkt)) if kkt else None}
        ),
    )


def _distinct_rows(u: FloatArray, tol: float) -> list[int]:
    """Indices of rows of ``u`` that differ from the previous kept row by more than ``tol``."""
    kept: list[int] = []
    for a in range(len(u)):
        if not kept or np.any(np.abs(u[a] - u[kept[-1]]) > tol):
            kept.append(a)
    return kept
