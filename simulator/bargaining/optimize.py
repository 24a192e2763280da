"""Constrained optimizers shared by the bargaining solutions (private kernel).

Notation as in :mod:`simulator.bargaining.problem`. Two problems cover every
solution concept of :mod:`simulator.bargaining`:

* :func:`_max_min_gain`: ``max t`` subject to ``u(z) >= d + t p``, ``z in X``
  (the zone of agreement, Kalai-Smorodinsky, egalitarian);
* :func:`_max_weighted`: ``max c . u(z)`` subject to ``u(z) >= floors``
  (utilitarian, the Pareto frontier, Rubinstein's proposer problem).

Both run scipy's SLSQP (Kraft 1988) from several starts and keep every local
optimum with its KKT residual, so callers can report non-uniqueness.
"""

from __future__ import annotations

from dataclasses import dataclass
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
