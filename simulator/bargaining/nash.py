"""The Nash bargaining solution, symmetric (Nash 1950) and generalized (Kalai 1977).

Notation as in :mod:`simulator.bargaining.problem`. The solution maximises the
(weighted) Nash product over the deals every player strictly prefers to
disagreement::

    max_{z in X, u(z) > d}  sum_i w_i log(u_i(z) - d_i)

with ``w = 1`` for the symmetric solution. With linear utilities and a unit
surplus the weighted solution gives player ``i`` the share ``w_i / sum w`` of
the surplus over ``d`` (Kalai 1977; Roth 1979, ch. 1).

When no deal gives every player more than ``d`` (the zone of possible agreement
is empty, see :func:`~simulator.bargaining.zone.zone_of_agreement`), the
answer is a solution with ``agreement=False`` naming the blocking players, not
an exception.

The only constraints besides ``u > d`` (which the logarithm enforces) are
linear, so the product is maximised by an active-set Newton method over ``X``
(Gill & Murray 1974) with second differences of the utilities, a few steps
from a screened start; SLSQP takes over if Newton stalls. Utilities that are
proved affine (a scenario's expressions linear in the issues, see
:attr:`simulator.expressions.BoundExpression.affine`) have an exact Jacobian
and no curvature of their own: the Newton step then uses the exact Hessian
of the Nash product, ``sum_i w_i C_i C_i^T / g_i^2``, and a warm start from
a sweep's previous answer converges in one or two steps.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from simulator.bargaining.optimize import (
    _bounds,
    _max_min_gain,
    _multistart,
    _newton_on_polytope,
    _Run,
    _screen,
    _slsqp,
    _stacked_constraint,
    _strongly_active,
    _uniqueness,
)
from simulator.bargaining.problem import (
    BargainingProblem,
    BargainingSolution,
    _active_normals,
    _check_start,
    _dominated_by_sample,
    _Evaluator,
    _kkt_fit,
    _no_agreement,
    _sample_concave,
    _solution,
)

__all__ = ["nash_bargaining"]

FloatArray = npt.NDArray[np.float64]


def nash_bargaining(
    problem: BargainingProblem,
    weights: npt.ArrayLike | None = None,
    *,
    start: npt.ArrayLike | None = None,
) -> BargainingSolution:
    """The (generalized) Nash bargaining solution of ``problem``.

    ``weights``: bargaining powers ``w`` of shape ``(n,)``, positive (default
    all 1, the symmetric solution; only ratios matter). ``start``: optionally
    a deal of shape ``(k,)`` to try first, e.g. the answer at the previous
    point of a parameter sweep (pulled into ``X`` if outside).

    Maximises ``sum_i w_i log(u_i(z) - d_i)`` (module docstring), from
    ``start`` and from the sample deals of largest Nash product that lie apart
    (see :mod:`simulator.bargaining.optimize`): one converged start when the
    utilities pass the concavity test on the sample, else until two starts
    agree; when no sample deal beats ``d``, from the max-min-gain deal (which
    lies strictly inside ``u > d`` if any deal does). ``evidence`` holds the
    Nash product's logarithm, the KKT residual, the starts tried and
    converged, the number of distinct optima found, the concavity test, and
    whether a sample deal dominates the answer; ``unique`` is ``False`` when
    distinct deals or payoffs reach the same product.
    """
    n = problem.n_players
    if weights is None:
        w = np.ones(n)
    else:
        w = np.asarray(weights, dtype=float).reshape(-1)
        if w.shape != (n,) or not np.isfinite(w).all() or (w <= 0).any():
            raise ValueError(
                f"nash_bargaining: weights must be {n} positive finite numbers, got {weights!r}"
            )
    first = _check_start("nash_bargaining", problem, start)
    concept = "nash_bargaining"
    ev = _Evaluator(problem)
    d = problem.disagreement
    k = problem.n_issues
    # Gains below this floor are treated as zero: log is kept finite off the feasible set.
    floor = problem.tolerance.payoff
    gains = problem.sample_payoffs - d
    inside = (gains > floor).all(axis=-1)
    if inside.any():
        starts = _screened(problem, gains, inside, floor, w, first)
    elif first:
        starts = iter(first)
    else:
        # No sample deal lies in the zone of agreement: look for one inside it (or prove none).
        zone = _max_min_gain(problem, np.ones(n), ev)
        margin = float(np.min(ev(zone.x[:k])[0] - d)) if zone is not None else -np.inf
        if zone is None or margin <= problem.solve_tolerance:
            if zone is not None:
                zone_gains = ev(zone.x[:k])[0] - d
                low = zone_gains <= margin + problem.solve_tolerance
                blockers = [p for p, b in zip(problem.players, low, strict=True) if b]
                note = (
                    f"no deal beats the disagreement point: at best {', '.join(blockers)} "
                    f"gain {margin:.6g}"
                )
            else:
                note = "no deal beats the disagreement point: the optimizer found no feasible deal"
            return _no_agreement(concept, problem, {"max_min_gain": margin, "weights": w}, note)
        starts = iter([zone.x[:k]])

    def fun(z: FloatArray) -> tuple[float, FloatArray]:
        u, jac = ev(z)
        g = np.maximum(u - d, floor)
        return -float(w @ np.log(g)), -((w / g) @ jac)

    def slsqp(z0: FloatArray) -> FloatArray:
        constraints = _stacked_constraint(
            problem, lambda z: ev(z)[0] - d - floor, lambda z: ev(z)[1], k
        )
        return _slsqp(fun, z0, _bounds(problem), constraints)

    def gradient_scale(z: FloatArray) -> float:
        # The size of the terms of grad f = -sum_i (w_i / g_i) grad u_i (see _kkt_residual).
        u, jac = ev(z)
        return float(np.sum(w / np.maximum(u - d, floor) * np.linalg.norm(jac, axis=1)))

    def newton(z: FloatArray) -> tuple[float, FloatArray, FloatArray] | None:
        u, jac, hess = ev.hessian(z)
        g = u - d
        if (g <= floor).any():
            return None
        r = w / g
        curvature = (jac.T * (r / g)) @ jac
        if not ev.affine:  # an affine utility's Hessian is zero
            curvature = curvature - (r @ hess.reshape(n, -1)).reshape(k, k)
        return -float(w @ np.log(g)), -(r @ jac), curvature

    def value(z: FloatArray) -> float:
        # The Newton line search's trial deals are nearly always accepted: evaluate the
        # Hessian with the value (one utility call) so the next step finds it cached.
        g = ev.hessian(z)[0] - d
        return -float(w @ np.log(g)) if (g > floor).all() else np.inf

    # The KKT fit of each run's deal: the answer's binding constraints reuse it.
    fits: dict[bytes, tuple[list[FloatArray], FloatArray]] = {}

    def solve(z0: FloatArray) -> _Run | None:
        # Newton first (a few steps from a good start); SLSQP when Newton stalls.
        z = _newton_on_polytope(problem, newton, value, z0) if value(z0) < np.inf else None
        if z is None:
            z = np.clip(slsqp(z0), problem.lower, problem.upper)
        if not problem.feasible(z) or (ev(z)[0] - d <= floor).any():
            return None
        f, grad = fun(z)
        normals = _active_normals(problem, z)
        kkt, lam = _kkt_fit(grad, normals, gradient_scale(z))
        fits[z.tobytes()] = (normals, lam)
        return _Run(x=z, value=-f, kkt=kkt)

    tol = problem.solve_tolerance
    concave = _sample_concave(problem)
    found, tried = _multistart(starts, solve, tol, confirm=1 if concave else 2)
    if not found:
        return _no_agreement(
            concept,
            problem,
            {"weights": w},
            "the optimizer did not converge from any start; no Nash solution found",
        )
    best = max(found, key=lambda r: r.value)
    deal = best.x
    grad = fun(deal)[1]
    fitted = fits.get(deal.tobytes())
    scale = gradient_scale(deal) if fitted is None else None
    binding = _strongly_active(problem, deal, grad, scale, fitted=fitted)
    unique, notes, optima = _uniqueness(problem, ev, found, concave, binding, "Nash product")
    evidence = {
        "log_nash_product": best.value,
        "weights": w,
        "kkt_residual": best.kkt,
        "starts": tried,
        "converged": len(found),
        "optima_found": optima,
        "concave_on_sample": concave,
        "dominated_by_sample": _dominated_by_sample(problem, ev(deal)[0]),
    }
    return _solution(concept, problem, deal, unique, evidence, notes, payoffs=ev(deal)[0])


def _screened(
    problem: BargainingProblem,
    gains: FloatArray,
    inside: npt.ArrayLike,
    floor: float,
    w: FloatArray,
    first: tuple[FloatArray, ...],
) -> Iterator[FloatArray]:
    """The starts: ``first``, then sample deals screened by their Nash product (lazily).

    A warm-started solve of a concave problem stops after ``first``: the
    sample's scores are computed only when a further start is wanted.
    """
    yield from first
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(inside, np.log(np.maximum(gains, floor)) @ w, -np.inf)
    # _screen yields ``first`` again before the sample deals, which it keeps apart from them.
    yield from itertools.islice(_screen(problem, scores, first, inside=True), len(first), None)
