"""The Nash bargaining solution, symmetric (Nash 1950) and generalized (Kalai 1977).

Notation as in :mod:`simulator.bargaining.problem`. The solution maximises the
(weighted) Nash product over the deals every player strictly prefers to
disagreement::

    max_{z in X, u(z) > d}  sum_i w_i log(u_i(z) - d_i)

with ``w = 1`` for the symmetric solution. With linear utilities and a unit
surplus the weighted solution gives player ``i`` the share ``w_i / sum w`` of
the surplus over ``d`` (Kalai 1977; Roth 1979, ch. 1).

When no deal gives every player more than ``d`` (the zone of possible agreement
is empty, see :func:`~simulator.bargaining.frontier.zone_of_agreement`), the
answer is a solution with ``agreement=False`` naming the blocking players, not
an exception.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from simulator.bargaining.optimize import _SLSQP, _max_min_gain
from simulator.bargaining.problem import (
    BargainingProblem,
    BargainingSolution,
    _active_normals,
    _distinct,
    _Evaluator,
    _kkt_residual,
    _linear_constraints,
    _no_agreement,
    _solution,
)

__all__ = ["nash_bargaining"]

FloatArray = npt.NDArray[np.float64]


def nash_bargaining(
    problem: BargainingProblem, weights: npt.ArrayLike | None = None
) -> BargainingSolution:
    """The (generalized) Nash bargaining solution of ``problem``.

    ``weights``: bargaining powers ``w`` of shape ``(n,)``, positive (default
    all 1, the symmetric solution; only ratios matter). Maximises
    ``sum_i w_i log(u_i(z) - d_i)`` by SLSQP from the problem's starts and from
    the max-min-gain deal (which lies strictly inside ``u > d``). ``evidence``
    holds the Nash product's logarithm, the KKT residual, the starts, and the
    number of distinct optima found; ``unique`` is ``False`` when distinct deals
    or payoffs reach the same product.
    """
    n = problem.n_players
    if weights is None:
        w = np.ones(n)
    else:
        w = np.asarray(weights, dtype=float).reshape(-1)
        if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise ValueError(
                f"nash_bargaining: weights must be {n} positive finite numbers, got {weights!r}"
            )
    concept = "nash_bargaining"
    ev = _Evaluator(problem)
    d = problem.disagreement
    k = problem.n_issues
    # Gains below this floor are treated as zero: log is kept finite off the feasible set.
    floor = problem.tolerance.payoff
    inside = np.all(problem.payoffs(problem.starts) - d > floor, axis=-1)
    starts = list(problem.starts[inside])
    if not starts:
        # No start lies in the zone of agreement: look for a deal inside it (or prove none).
        zone = _max_min_gain(problem, np.ones(n), ev)
        margin = float(np.min(ev(zone.x[:k])[0] - d)) if zone is not None else -np.inf
        if zone is None or margin <= problem.solve_tolerance:
            if zone is not None:
                gains = ev(zone.x[:k])[0] - d
                low = gains <= margin + problem.solve_tolerance
                blockers = [p for p, b in zip(problem.players, low, strict=True) if b]
                note = (
                    f"no deal beats the disagreement point: at best {', '.join(blockers)} "
                    f"gain {margin:.6g}"
                )
            else:
                note = "no deal beats the disagreement point: the optimizer found no feasible deal"
            return _no_agreement(concept, problem, {"max_min_gain": margin, "weights": w}, note)
        starts = [zone.x[:k]]

    def fun(z: FloatArray) -> float:
        g = np.maximum(ev(z)[0] - d, floor)
        return -float(w @ np.log(g))

    def jac(z: FloatArray) -> FloatArray:
        u, J = ev(z)
        g = np.maximum(u - d, floor)
        return -((w / g) @ J)

    constraints: list[dict[str, Any]] = [
        {"type": "ineq", "fun": lambda z: ev(z)[0] - d - floor, "jac": lambda z: ev(z)[1]},
        *_linear_constraints(problem),
    ]
    bounds = list(zip(problem.lower, problem.upper, strict=True))
    found: list[tuple[float, FloatArray, float]] = []
    for z0 in starts:
        res = minimize(
            fun, z0, jac=jac, bounds=bounds, constraints=constraints, method="SLSQP", options=_SLSQP
        )
        z = np.clip(np.asarray(res.x, dtype=float), problem.lower, problem.upper)
        if not problem.feasible(z) or np.any(ev(z)[0] - d <= floor):
            continue
        kkt = _kkt_residual(jac(z), _active_normals(problem, z))
        found.append((-fun(z), z, kkt))
    if not found:
        return _no_agreement(
            concept,
            problem,
            {"weights": w},
            "the optimizer did not converge from any start; no Nash solution found",
        )
    value, deal, kkt = max(found, key=lambda f: f[0])
    tol = problem.solve_tolerance
    ties = [z for v, z, _ in found if v >= value - tol * max(1.0, abs(value))]
    deals = _distinct([deal, *ties], problem.deal_tolerance)
    pay = _distinct([ev(z)[0] for z in deals], tol * 10)
    notes: list[str] = []
    unique: bool | None = True if len(found) >= 2 else None
    if len(pay) > 1:
        unique = False
        notes.append(f"{len(pay)} distinct payoff vectors reach the same Nash product")
    elif len(deals) > 1:
        unique = False
        notes.append(
            f"payoffs are unique but {len(deals)} distinct deals give them "
            "(some issue does not matter to anyone there)"
        )
    if unique:
        notes.append(f"all {len(found)} converged starts reached this deal (numerical evidence)")
    evidence = {
        "log_nash_product": value,
        "weights": w,
        "kkt_residual": kkt,
        "starts": len(starts),
        "converged": len(found),
        "optima_found": len(deals),
    }
    return _solution(concept, problem, deal, unique, evidence, notes)
