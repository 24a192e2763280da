"""Constrained optimizers shared by the bargaining solutions (private kernel).

Notation as in :mod:`simulator.bargaining.problem`. Two problems cover every
solution concept of :mod:`simulator.bargaining`:

* :func:`_max_min_gain`: ``max t`` subject to ``u(z) >= d + t p``, ``z in X``
  (the zone of agreement, Kalai-Smorodinsky, egalitarian);
* :func:`_max_weighted`: ``max c . u(z)`` subject to ``u(z) >= floors``
  (utilitarian, the Pareto frontier, Rubinstein's proposer problem).

Both run scipy's SLSQP (Kraft 1988) and keep every local optimum with its KKT
residual, so callers can report non-uniqueness. Starts are *screened*: the
objective is scored on the problem's whole sample of deals at once
(:attr:`~simulator.bargaining.problem.BargainingProblem.sample_payoffs`, no new
utility evaluations), and SLSQP starts from the best-scoring deals that lie at
least :data:`_SEPARATION` of an issue's range apart, best first
(:func:`_screen`). :func:`_multistart` stops once two starts reach the same
optimal value (numerical evidence that the optimum is global and, when the two
answers coincide, unique) and keeps trying while they disagree, up to the
problem's ``n_starts``.

Per SLSQP call the work is kept small: the objective returns its value and
gradient together (``jac=True``), all inequality rows (nonlinear and linear)
form one constraint, and utilities and their finite-difference Jacobian come
from one vectorised call per point (:class:`~simulator.bargaining.problem._Evaluator`).
A start that already satisfies the KKT conditions is kept without a run. From
a warm start (a sweep's previous answer, a neighbouring frontier point) Newton's
method on the KKT equations is tried first (:func:`_newton_kkt`), and
:func:`_newton_on_polytope` maximises smooth objectives over ``X`` (the Nash
product) with an active-set Newton method; SLSQP remains the fallback.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from simulator.bargaining.problem import (
    ACTIVE_RTOL,
    BargainingProblem,
    _active_normals,
    _distinct,
    _Evaluator,
    _free_direction,
    _kkt_fit,
    _kkt_residual,
    _linear_constraints,
    _polytope,
)
from simulator.tolerance import SOLVE_RTOL

FloatArray = npt.NDArray[np.float64]

_SLSQP = {"ftol": 1e-12, "maxiter": 100}
_SEPARATION = 0.1
"""Screened starts differ from each other by at least this fraction of some issue's range."""

_UNCONVERGED = 1e-3
"""A run whose KKT residual exceeds this did not reach a local optimum (see :func:`_multistart`)."""

_NEWTON_WEIGHTED = True

_POLISHED = 1e-8
"""A Newton-polished warm start is kept when its KKT residual is below this."""

_STATIONARY = 1e-9
"""A start whose KKT residual is below this is already optimal: no optimizer run from it."""

_FINE_FLOOR = 1e-9
"""Smallest ``|z_j|``, as a fraction of issue ``j``'s range, that a fine evaluator's
difference step still scales with (see :func:`_fine_evaluator`)."""


@dataclass(frozen=True)
class _Run:
    """One local optimum: variables ``x``, the maximised value, its KKT residual.

    ``multipliers``: for :func:`_max_min_gain`, the fitted KKT multiplier of each
    player's constraint ``u_i >= d_i + t p_i`` (shape ``(n,)``, zero when the
    constraint is slack); ``None`` otherwise.
    """

    x: FloatArray
    value: float
    kkt: float
    multipliers: FloatArray | None = None


@dataclass(frozen=True)
class _Best:
    """The best of several local optima, and what the other starts found."""

    x: FloatArray
    value: float
    kkt: float
    runs: tuple[_Run, ...]
    n_starts: int
    alternatives: tuple[FloatArray, ...]  # distinct payoff vectors as good as the best
    multipliers: FloatArray | None = None  # the best run's, see _Run

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
        multipliers=best.multipliers,
    )


def _accept(problem: BargainingProblem, z: FloatArray, slack: FloatArray) -> bool:
    """Whether an optimizer's answer is feasible: in ``X`` and nonlinear slacks ``>= 0``."""
    return bool(problem.feasible(z)) and bool(np.all(slack >= -problem.solve_tolerance))


def _screen(
    problem: BargainingProblem,
    scores: FloatArray,
    first: Sequence[FloatArray] = (),
    limit: int | None = None,
    inside: bool = False,
) -> Iterator[FloatArray]:
    """Starting deals: ``first`` (projected into ``X``), then screened sample deals.

    ``scores`` (shape ``(len(problem.sample),)``, ``-inf`` = unusable) rank the
    sample; deals are taken best first, each at least :data:`_SEPARATION` of
    some issue's range away from every deal already taken, so that starts
    probe different regions. At most ``limit`` (default ``problem.n_starts``)
    sample deals are added; ``inside``: the ``first`` deals are already in
    ``X``. Lazy: a solve that stops after its first start never screens.
    """
    chosen = [z if inside else problem.project(np.asarray(z, dtype=float)) for z in first]
    yield from chosen
    sample = problem.sample
    span = problem.upper - problem.lower
    inv = 1.0 / np.where(span > 0, span, 1.0)
    masked = np.where(np.isfinite(scores), scores, -np.inf)
    for z in chosen:
        masked[np.max(np.abs(sample - z) * inv, axis=1) <= _SEPARATION] = -np.inf
    for _ in range(problem.n_starts if limit is None else limit):
        i = int(np.argmax(masked))
        if not np.isfinite(masked[i]):
            return
        z = sample[i].copy()
        masked[np.max(np.abs(sample - z) * inv, axis=1) <= _SEPARATION] = -np.inf
        yield z


def _multistart(
    starts: Iterable[FloatArray],
    solve: Callable[[FloatArray], _Run | None],
    tol: float,
    confirm: int = 2,
) -> tuple[list[_Run], int]:
    """Run ``solve`` from each start until ``confirm`` runs agree on the best value.

    Two runs agree when their values differ by at most ``tol * max(1, |value|)``.
    A run whose KKT residual exceeds :data:`_UNCONVERGED` (SLSQP stopped short,
    e.g. stalled on a steep utility) does not count towards agreement; such
    runs are returned only when no other run converged. Returns the runs and
    the number of starts tried.
    """
    runs: list[_Run] = []
    stalled: list[_Run] = []
    tried = 0
    for z0 in starts:
        tried += 1
        run = solve(z0)
        if run is None:
            continue
        if run.kkt > _UNCONVERGED:
            stalled.append(run)
            continue
        runs.append(run)
        best = max(r.value for r in runs)
        margin = tol * max(1.0, abs(best))
        if sum(1 for r in runs if r.value >= best - margin) >= confirm:
            break
    return (runs or stalled), tried


def _fine_evaluator(problem: BargainingProblem) -> _Evaluator:
    """An evaluator whose difference step keeps scaling with ``|z_j|`` down to :data:`_FINE_FLOOR`.

    The default evaluator's step stops shrinking at a thousandth of an issue's
    range, which keeps round-off small for smooth utilities at ``z_j = 0``. A
    floor constraint ``u_j(z) >= f_j`` can bind much closer to a bound, where a
    utility such as ``z ** 0.3`` is steep: when ``z_j`` is within a step of the
    bound, the difference is taken from the bound itself and misjudges the
    slope by tens of per cent. SLSQP's line search then never finds a step
    that lowers its merit function and stops at the iteration limit short of
    feasibility. The optimizers retry a stalled run with this evaluator
    (:func:`_retry_fine`).
    """
    fine = _Evaluator(problem)
    fine.floor = _FINE_FLOOR * np.where(fine.span > 0, fine.span, 1.0)
    return fine


def _retry_fine(
    run: _Run | None,
    x: FloatArray,
    retry: Callable[[FloatArray], _Run | None],
) -> _Run | None:
    """``run`` (SLSQP's answer ending at ``x``) or, when it stalled, a retry from ``x``.

    A run stalled when it is infeasible (``None``) or its KKT residual exceeds
    :data:`_UNCONVERGED`; ``retry`` runs SLSQP again from ``x`` with a
    :func:`_fine_evaluator` and checks the answer. The better converged run is kept.
    """
    if run is not None and run.kkt <= _UNCONVERGED:
        return run
    again = retry(x)
    if again is None:
        return run
    if run is None or again.kkt < run.kkt:
        return again
    return run


def _stacked_constraint(
    problem: BargainingProblem,
    rows: Callable[[FloatArray], FloatArray],
    rows_jac: Callable[[FloatArray], FloatArray],
    size: int,
) -> list[dict[str, Any]]:
    """One SLSQP inequality: the nonlinear ``rows(x) >= 0`` stacked over ``A_ub @ z <= b_ub``.

    ``size`` is the number of variables (``k`` plus any extra ones, which the
    linear rows do not involve). One constraint instead of two halves scipy's
    per-iteration bookkeeping.
    """
    k = problem.n_issues
    a, b = problem.A_ub, problem.b_ub
    if a is None or b is None:
        return [{"type": "ineq", "fun": rows, "jac": rows_jac}]
    a_pad = np.hstack([-a, np.zeros((a.shape[0], size - k))])

    def fun(x: FloatArray) -> FloatArray:
        return np.concatenate([rows(x), b - a @ x[:k]])

    def jac(x: FloatArray) -> FloatArray:
        return np.vstack([rows_jac(x), a_pad])

    return [{"type": "ineq", "fun": fun, "jac": jac}]


def _bounds(problem: BargainingProblem, extra: int = 0) -> list[tuple[float | None, float | None]]:
    box: list[tuple[float | None, float | None]] = [
        (float(lo), float(hi)) for lo, hi in zip(problem.lower, problem.upper, strict=True)
    ]
    return box + [(None, None)] * extra


def _slsqp(
    fun: Callable[[FloatArray], tuple[float, FloatArray]],
    x0: FloatArray,
    bounds: list[tuple[float | None, float | None]],
    constraints: list[dict[str, Any]],
    maxiter: int = 100,
) -> FloatArray:
    """SLSQP (Kraft 1988) from ``x0``; ``fun`` returns the value and the gradient."""
    options = _SLSQP if maxiter == _SLSQP["maxiter"] else {**_SLSQP, "maxiter": maxiter}
    res = minimize(
        fun, x0, jac=True, bounds=bounds, constraints=constraints, method="SLSQP", options=options
    )
    return np.asarray(res.x, dtype=float)


def _max_min_gain(
    problem: BargainingProblem,
    direction: FloatArray,
    ev: _Evaluator | None = None,
    extra_starts: tuple[FloatArray, ...] = (),
) -> _Best | None:
    """``max t`` over ``(z, t)`` subject to ``u(z) >= d + t * direction``, ``z in X``.

    ``direction`` (shape ``(n,)``, non-negative, not all zero) sets the ray
    along which gains grow. ``extra_starts`` (deals) are tried before the
    screened sample deals. Returns ``None`` when no start converged.
    """
    return _max_min_above(problem, problem.disagreement, direction, ev, extra_starts)


def _max_min_above(
    problem: BargainingProblem,
    floors: FloatArray,
    direction: FloatArray,
    ev: _Evaluator | None = None,
    extra_starts: Sequence[FloatArray] = (),
    limit: int | None = None,
    confirm: int = 2,
    stationary: float = _STATIONARY,
    maxiter: int = 100,
) -> _Best | None:
    """``max t`` subject to ``u(z) >= floors + t * direction``, ``z in X``.

    As :func:`_max_min_gain`, with ``floors`` (shape ``(n,)``) in place of
    ``d``; a player with ``direction_i = 0`` only keeps ``u_i >= floors_i``.
    ``limit`` caps the screened sample starts (default ``problem.n_starts``);
    ``confirm``: how many runs must agree before stopping (see :func:`_multistart`);
    a start whose KKT residual is at most ``stationary`` is taken as it is;
    ``maxiter`` caps SLSQP's iterations per start.
    """
    ev = ev or _Evaluator(problem)
    k = problem.n_issues
    f = np.asarray(floors, dtype=float)
    p = np.asarray(direction, dtype=float)
    # A direction entry below the solve tolerance is a floor only: a ray that barely
    # rises for a player would ask the optimizer to resolve his gain below round-off.
    p = np.where(p > SOLVE_RTOL * float(np.max(p)), p, 0.0)
    pos = p > 0
    grad = np.zeros(k + 1)
    grad[k] = -1.0

    def ratio(u: FloatArray) -> FloatArray:
        return np.min((u[..., pos] - f[pos]) / p[pos], axis=-1)

    # Screening: t reachable at each sample deal, with the zero-direction floors as a penalty.
    gaps = problem.sample_payoffs - f
    scores = ratio(problem.sample_payoffs)
    if not np.all(pos):
        short = np.minimum(gaps[:, ~pos], 0.0).sum(axis=1)
        scores = np.where(short < 0, scores + short * 1e6 - 1e6, scores)
    starts_first = [problem.project(np.asarray(z, dtype=float)) for z in extra_starts]
    starts = _screen(problem, scores, starts_first, limit, inside=True)

    def fun(x: FloatArray) -> tuple[float, FloatArray]:
        return -x[k], grad

    col = -p[:, None]
    bounds = _bounds(problem, extra=1)
    tol = problem.solve_tolerance
    active = ACTIVE_RTOL * problem.solve_tolerance / SOLVE_RTOL

    def kernel(
        e: _Evaluator,
    ) -> tuple[list[dict[str, Any]], Callable[[FloatArray], _Run | None]]:
        """SLSQP's constraint and the run check, with derivatives from evaluator ``e``."""

        def slack(x: FloatArray) -> FloatArray:
            return e(x[:k])[0] - f - x[k] * p

        def slack_jac(x: FloatArray) -> FloatArray:
            return np.hstack([e(x[:k])[1], col])

        def check(z: FloatArray) -> _Run | None:
            """The run ending at deal ``z`` (t = its smallest ratio), if feasible."""
            x = np.append(np.clip(z, problem.lower, problem.upper), 0.0)
            # The binding t is the smallest ratio: report that, not SLSQP's t.
            x[k] = float(ratio(e(x[:k])[0]))
            s = slack(x)
            if not _accept(problem, x[:k], s):
                return None
            normals = _active_normals(problem, x[:k], extra=1)
            jac = slack_jac(x)
            binding = np.flatnonzero(s <= active)
            normals.extend(-jac[i] for i in binding)
            residual, lam = _kkt_fit(grad, normals)
            mult = np.zeros(p.size)
            if lam.size:
                mult[binding] = lam[len(lam) - binding.size :]
            return _Run(x=x, value=float(x[k]), kkt=residual, multipliers=mult)

        return _stacked_constraint(problem, slack, slack_jac, k + 1), check

    constraints, check = kernel(ev)

    def retry(z: FloatArray) -> _Run | None:
        fine_constraints, fine_check = kernel(_fine_evaluator(problem))
        t0 = float(ratio(ev(z)[0]))
        x = _slsqp(fun, np.append(z, t0), bounds, fine_constraints, maxiter)
        return fine_check(x[:k])

    warm = {np.asarray(z, dtype=float).tobytes() for z in starts_first}

    def solve(z0: FloatArray) -> _Run | None:
        # A start that already satisfies the KKT conditions (a warm start at the answer,
        # or a refinement stage where no one can rise) needs no optimizer run.
        done = check(z0)
        if done is not None and done.kkt <= stationary:
            return done
        if z0.tobytes() in warm:
            # Near the answer the active set is known: Newton's method on the KKT
            # equations converges in a few steps; SLSQP only when that fails.
            polished = _newton_max_min(problem, ev, f, p, z0)
            if polished is not None:
                done = check(polished)
                if done is not None and done.kkt <= _POLISHED:
                    return done
        t0 = float(ratio(ev(z0)[0]))
        x = _slsqp(fun, np.append(z0, t0), bounds, constraints, maxiter)
        z = np.clip(x[:k], problem.lower, problem.upper)
        return _retry_fine(check(z), z, retry)

    runs, tried = _multistart(starts, solve, tol, confirm)
    return _pick_best(problem, runs, tried, k, ev)


def _newton_max_min(
    problem: BargainingProblem,
    ev: _Evaluator,
    floors: FloatArray,
    p: FloatArray,
    z0: FloatArray,
) -> FloatArray | None:
    """:func:`_newton_kkt` for ``max t`` s.t. ``u >= floors + t p``; all ``p_i > 0`` bind first."""
    return _newton_kkt(problem, ev, floors, p, z0, ray=True, binding=p > 0)


def _newton_kkt(
    problem: BargainingProblem,
    ev: _Evaluator,
    floors: FloatArray,
    weights: FloatArray,
    z0: FloatArray,
    ray: bool,
    binding: npt.NDArray[np.bool_],
    max_iter: int = 8,
    max_changes: int = 6,
) -> FloatArray | None:
    """Newton's method on the KKT equations of a bargaining kernel problem, from ``z0``.

    ``ray``: ``max t`` subject to ``u >= floors + t * weights`` (variables
    ``(z, t)``); otherwise ``max weights . u`` subject to ``u >= floors`` (finite
    floors only). An active-set method (Nocedal & Wright 2006, sections 16.5
    and 18.1): the players whose constraint binds are first guessed
    (``binding``), with the bounds and linear rows active at ``z0``; Newton
    steps on that equality-constrained problem's KKT system, with the
    Lagrangian's Hessian from the utilities' second differences, find its
    stationary point; then the most violated inactive row is added, or the
    row with the most negative multiplier dropped, and Newton runs again, at
    most ``max_changes`` times. No line search: this is for starts near the
    answer. Returns the deal, or ``None`` when the steps do not settle (the
    caller then runs SLSQP).
    """
    k = problem.n_issues
    size_x = k + 1 if ray else k
    g_mat, h_vec, scale = _polytope(problem)
    near = ACTIVE_RTOL * scale
    linear = h_vec - g_mat @ z0 <= near
    players = binding & np.isfinite(floors)
    slack_tol = ACTIVE_RTOL * problem.solve_tolerance / SOLVE_RTOL
    fl = np.where(np.isfinite(floors), floors, 0.0)
    u = ev(z0)[0]
    x = z0.copy()
    direction = weights if ray else np.zeros_like(weights)
    if ray:
        pos = weights > 0
        x = np.append(z0, float(np.min((u[pos] - fl[pos]) / weights[pos])))
    span = np.maximum(problem.upper - problem.lower, 1.0)
    lam: FloatArray | None = None
    for _ in range(max_changes + 1):
        m_p = int(players.sum())
        a_lin = np.hstack([-g_mat[linear], np.zeros((int(linear.sum()), size_x - k))])
        lam = None
        for _ in range(max_iter):
            u, jac, hess = ev.hessian(np.clip(x[:k], problem.lower, problem.upper))
            t = x[k] if ray else 0.0
            if ray:
                grad = np.zeros(size_x)
                grad[k] = -1.0
                w_obj = np.zeros((size_x, size_x))
                a_pl = np.hstack([jac[players], -direction[players, None]])
            else:
                grad = -(weights @ jac)
                w_obj = -np.tensordot(weights, hess, axes=1)
                a_pl = jac[players]
            a = np.vstack([a_pl, a_lin])
            c = np.concatenate(
                [
                    u[players] - fl[players] - t * direction[players],
                    h_vec[linear] - g_mat[linear] @ x[:k],
                ]
            )
            if lam is None:
                lam = np.linalg.lstsq(a.T, grad, rcond=None)[0] if a.shape[0] else np.zeros(0)
            w = w_obj.copy()
            if m_p:
                w[:k, :k] -= np.tensordot(lam[:m_p], hess[players], axes=1)
            size = a.shape[0]
            kkt = np.block([[w, -a.T], [a, np.zeros((size, size))]])
            try:
                sol = np.linalg.solve(kkt, np.concatenate([-grad, -c]))
            except np.linalg.LinAlgError:
                return None
            dx, lam = sol[:size_x], sol[size_x:]
            x = x + dx
            if not np.all(np.isfinite(x)):
                return None
            if np.all(np.abs(dx[:k]) <= 1e-9 * span):
                break
        else:
            return None
        assert lam is not None
        # Adjust the active set: first a violated row, else a negative multiplier.
        room = h_vec - g_mat @ x[:k]
        short = np.where(~linear, room + near, 0.0)
        u = ev(np.clip(x[:k], problem.lower, problem.upper))[0]
        t = x[k] if ray else 0.0
        gap = np.where(np.isfinite(floors), u - fl - t * direction, np.inf)
        slack_short = np.where(~players, gap + slack_tol, 0.0)
        if np.min(short) < 0 and np.min(short) <= np.min(slack_short):
            linear[int(np.argmin(short))] = True
            continue
        if np.min(slack_short) < 0:
            players[int(np.argmin(slack_short))] = True
            continue
        big = max(float(np.max(np.abs(lam))), 1.0) if lam.size else 1.0
        if not lam.size or float(np.min(lam)) >= -1e-9 * big:
            return np.clip(x[:k], problem.lower, problem.upper)
        worst = int(np.argmin(lam))
        if worst < m_p:
            players[np.flatnonzero(players)[worst]] = False
        else:
            linear[np.flatnonzero(linear)[worst - m_p]] = False
    return None


def _weighted_scores(
    problem: BargainingProblem, c: FloatArray, floors: FloatArray, bound: npt.NDArray[np.bool_]
) -> FloatArray:
    """Screening scores for ``max c . u`` over ``u >= floors``: feasible deals by value.

    When no sample deal meets the floors, the least violating deals rank first.
    """
    u = problem.sample_payoffs
    short = np.maximum(floors[bound] - u[:, bound], 0.0).sum(axis=1)
    ok = short <= problem.solve_tolerance
    if np.any(ok):
        return np.where(ok, u @ c, -np.inf)
    return -short


def _max_weighted(
    problem: BargainingProblem,
    weights: FloatArray,
    floors: FloatArray,
    ev: _Evaluator | None = None,
    starts: tuple[FloatArray, ...] | None = None,
) -> _Best | None:
    """``max weights . u(z)`` subject to ``u_i(z) >= floors_i`` (finite floors only), ``z in X``.

    ``starts``: the deals to start from, in order; default: screened sample deals.
    """
    ev = ev or _Evaluator(problem)
    c = np.asarray(weights, dtype=float)
    floors = np.asarray(floors, dtype=float)
    bound = np.isfinite(floors)
    if starts is None:
        chosen: Iterable[FloatArray] = _screen(problem, _weighted_scores(problem, c, floors, bound))
    else:
        chosen = starts
    return _max_weighted_from(problem, c, floors, ev, chosen)


def _max_weighted_from(
    problem: BargainingProblem,
    c: FloatArray,
    floors: FloatArray,
    ev: _Evaluator,
    starts: Iterable[FloatArray],
    confirm: int = 2,
    warm: int = 0,
) -> _Best | None:
    """:func:`_max_weighted` from the given ``starts``, stopping once ``confirm`` runs agree.

    The first ``warm`` starts are near the answer (a sweep's previous point, a
    neighbouring frontier point): Newton's method is tried from them first.
    """
    k = problem.n_issues
    bound = np.isfinite(floors)
    fb = floors[bound]

    bounds = _bounds(problem)
    tol = problem.solve_tolerance
    active = ACTIVE_RTOL * problem.solve_tolerance / SOLVE_RTOL

    def kernel(
        e: _Evaluator,
    ) -> tuple[
        Callable[[FloatArray], tuple[float, FloatArray]],
        list[dict[str, Any]],
        Callable[[FloatArray], _Run | None],
    ]:
        """SLSQP's objective and constraints and the run check, with derivatives from ``e``."""

        def slack(z: FloatArray) -> FloatArray:
            return e(z)[0][bound] - fb

        def slack_jac(z: FloatArray) -> FloatArray:
            return e(z)[1][bound]

        def fun(z: FloatArray) -> tuple[float, FloatArray]:
            u, jac = e(z)
            return -float(c @ u), -(c @ jac)

        if np.any(bound):
            constraints = _stacked_constraint(problem, slack, slack_jac, k)
        else:
            constraints = _linear_constraints(problem)

        def check(z: FloatArray) -> _Run | None:
            """The run ending at deal ``z``, if feasible."""
            z = np.clip(z, problem.lower, problem.upper)
            s = slack(z)
            if not _accept(problem, z, s):
                return None
            normals = _active_normals(problem, z)
            sj = slack_jac(z)
            normals.extend(-sj[i] for i in np.flatnonzero(s <= active))
            value, grad = fun(z)
            scale = float(np.abs(c) @ np.linalg.norm(e(z)[1], axis=1))
            return _Run(x=z, value=-value, kkt=_kkt_residual(grad, normals, scale))

        return fun, constraints, check

    fun, constraints, check = kernel(ev)

    def retry(z: FloatArray) -> _Run | None:
        fine_fun, fine_constraints, fine_check = kernel(_fine_evaluator(problem))
        return fine_check(_slsqp(fine_fun, z, bounds, fine_constraints))

    # From a warm start, Newton first, guessing that the floors binding there still bind;
    # SLSQP when that fails (and from every other start: far from the answer Newton's
    # guess of the active set is poor and SLSQP's line search pays).
    remaining = [warm]

    def solve(z0: FloatArray) -> _Run | None:
        done = check(z0)
        if done is not None and done.kkt <= _STATIONARY:
            return done
        if remaining[0] > 0:
            remaining[0] -= 1
            gap = ev(z0)[0] - np.where(bound, floors, -np.inf)
            held = bound & (gap <= 10 * tol)
            polished = _newton_kkt(problem, ev, floors, c, z0, ray=False, binding=held)
            if polished is not None:
                done = check(polished)
                if done is not None and done.kkt <= _POLISHED:
                    return done
        z = np.clip(_slsqp(fun, z0, bounds, constraints), problem.lower, problem.upper)
        return _retry_fine(check(z), z, retry)

    runs, tried = _multistart(starts, solve, tol, confirm)
    return _pick_best(problem, runs, tried, k, ev)


def _rational_starts(
    problem: BargainingProblem, ev: _Evaluator, strict: bool
) -> tuple[tuple[FloatArray, ...], _Best | None]:
    """Sample deals with ``u >= d`` (``u > d`` when ``strict``), at most ``n_starts``, cheaply.

    When none qualifies, the max-min-gain deal is the only start (empty when even
    that fails the test); its :class:`_Best` is returned too, else ``None``.
    """
    d = problem.disagreement
    floor = problem.solve_tolerance if strict else -problem.solve_tolerance
    inside = np.all(problem.sample_payoffs - d > floor, axis=-1)
    if np.any(inside):
        return tuple(problem.sample[inside][: problem.n_starts]), None
    zone = _max_min_gain(problem, np.ones(problem.n_players), ev)
    if zone is None or zone.value <= floor:
        return (), zone
    return (zone.x[: problem.n_issues],), zone


def _newton_on_polytope(
    problem: BargainingProblem,
    objective: Callable[[FloatArray], tuple[float, FloatArray, FloatArray] | None],
    value: Callable[[FloatArray], float],
    z0: FloatArray,
    max_iter: int = 40,
) -> FloatArray | None:
    """Minimise a smooth ``f`` over ``X`` from ``z0`` by an active-set Newton method.

    ``objective(z)`` returns ``(f, grad, hessian)`` (``None`` where ``f`` is not
    defined); ``value(z)`` returns ``f`` alone (``inf`` where undefined). The
    method is the primal active-set method for linearly constrained problems
    (Gill & Murray 1974; Nocedal & Wright 2006, sections 16.5 and 18.2): Newton
    steps in the null space of the active constraints, the reduced Hessian's
    eigenvalues raised to a positive floor so every step descends, a ratio
    test that adds the first blocking constraint, an Armijo backtracking line
    search, and the most negative multiplier's constraint dropped at a
    stationary point. Where ``f`` falls faster than its quadratic model
    predicts (utilities like ``z ** 0.3`` near 0, whose curvature shrinks
    quickly away from the bound), a full step is extended fourfold while that
    keeps paying. Returns the minimiser, or ``None`` when it stalls (the caller
    then falls back to SLSQP).
    """
    g_mat, h_vec, scale = _polytope(problem)
    k = problem.n_issues
    span = np.where(problem.upper > problem.lower, problem.upper - problem.lower, 1.0)
    fixed = problem.upper <= problem.lower
    sticky = np.concatenate([fixed, fixed, np.zeros(g_mat.shape[0] - 2 * k, dtype=bool)])
    z = np.asarray(z0, dtype=float).copy()
    if not problem.feasible(z):
        return None
    active = (h_vec - g_mat @ z <= 1e-12 * scale) | sticky
    dropped = -1
    null_key = b""
    null, solver = np.eye(k), np.zeros((0, k))
    polytope_key = np.int64(k).tobytes() + g_mat.tobytes()
    for _ in range(max_iter):
        evaluated = objective(z)
        if evaluated is None:
            return None
        f, grad, hess = evaluated
        rows = np.flatnonzero(active)
        normals = g_mat[rows]
        key = active.tobytes()
        if key != null_key:
            null_key = key
            null, solver = _null_space(polytope_key, key, normals, k)
        if null.shape[1]:
            reduced = null.T @ hess @ null
            if null.shape[1] == 1:
                # A 1 x 1 eigenproblem (one free direction): the entry, eigenvector 1.
                eig, vec = reduced[0], _ONE
            else:
                eig, vec = np.linalg.eigh(0.5 * (reduced + reduced.T))
            top = max(float(np.abs(eig).max()), 1e-300)
            eig = np.maximum(eig, 1e-6 * top)
            step = -null @ (vec @ ((vec.T @ (null.T @ grad)) / eig))
        else:
            step = np.zeros(k)
        decrement = -float(grad @ step)
        if (step.__abs__() <= 1e-11 * span).all() or decrement <= 1e-15 * max(1.0, abs(f)):
            if not rows.size:
                return z
            # Multipliers of the active rows: grad + normals^T lam = 0, lam >= 0 at a minimum.
            lam = solver @ -grad  # the least-squares solution, as lstsq(normals.T, -grad)
            lam[sticky[rows]] = np.inf
            worst = int(lam.argmin())
            tiny = 1e-9 * max(math.sqrt(float(grad @ grad)), 1.0)  # np.linalg.norm(grad)
            if lam[worst] >= -tiny or rows[worst] == dropped:
                return z
            dropped = int(rows[worst])
            active[dropped] = False
            continue
        dropped = -1
        # Ratio test: the longest step along `step` that keeps every inactive row.
        move = g_mat @ step
        room = np.maximum(h_vec - g_mat @ z, 0.0)
        blocking = (~active) & (move > 1e-14 * scale)
        reach = np.inf
        hit = -1
        if blocking.any():
            ratios = np.where(blocking, room / np.where(blocking, move, 1.0), np.inf)
            hit = int(ratios.argmin())
            reach = float(ratios[hit])
        alpha = min(1.0, reach)
        while True:
            trial = np.minimum(np.maximum(z + alpha * step, problem.lower), problem.upper)
            f_trial = value(trial)
            if f_trial <= f - 1e-4 * alpha * decrement:
                break
            alpha *= 0.5
            if alpha < 1e-10:
                return None
        if alpha == 1.0 and f - f_trial > 0.6 * decrement and reach > 1.0:
            # The quadratic model predicts a fall of decrement / 2: f is flattening out.
            while alpha < reach:
                longer = min(4.0 * alpha, reach)
                candidate = np.clip(z + longer * step, problem.lower, problem.upper)
                f_candidate = value(candidate)
                if not f_candidate < f_trial:
                    break
                alpha, trial, f_trial = longer, candidate, f_candidate
        z = trial
        if hit >= 0 and alpha == reach:
            active[hit] = True
    return None


_ONE = np.ones((1, 1))
_ONE.flags.writeable = False
_NULL_SPACES: dict[tuple[bytes, bytes], tuple[FloatArray, FloatArray]] = {}
_NULL_SPACE_CACHE_SIZE = 256


def _null_space(
    polytope: bytes, active: bytes, normals: FloatArray, k: int
) -> tuple[FloatArray, FloatArray]:
    """The directions along the active rows ``normals`` ``(m, k)``, and their multiplier map.

    Returns an orthonormal basis ``(k, r)`` of the null space of ``normals``
    (from its SVD: rows with singular value above ``1e-10`` of the largest span
    the row space) and the pseudo-inverse ``(m, k)`` of ``normals.T``, which
    maps a gradient to the least-squares multipliers of the active rows. Both
    depend on the deal space's rows and which are active alone, and a sweep's
    problems share their deal space, so they are remembered per
    ``(polytope, active)`` key (the rows' and the active mask's bytes; emptied
    when full).
    """
    key = (polytope, active)
    found = _NULL_SPACES.get(key)
    if found is not None:
        return found
    if normals.shape[0]:
        _, sv, vt = np.linalg.svd(normals)
        rank = int(np.sum(sv > 1e-10 * sv[0]))
        null = np.asarray(vt[rank:].T, dtype=float)
        solver = np.asarray(np.linalg.pinv(normals.T), dtype=float)
    else:
        null, solver = np.eye(k), np.zeros((0, k))
    null.flags.writeable = False
    solver.flags.writeable = False
    if len(_NULL_SPACES) >= _NULL_SPACE_CACHE_SIZE:
        _NULL_SPACES.clear()  # rare (a sweep has a few active sets); safe with threads
    _NULL_SPACES[key] = (null, solver)
    return null, solver


def _strongly_active(
    problem: BargainingProblem,
    z: FloatArray,
    grad: FloatArray,
    scale: float | None = None,
    fitted: tuple[list[FloatArray], FloatArray] | None = None,
) -> list[FloatArray]:
    """Normals of the bounds and linear rows active at ``z`` with a positive KKT multiplier.

    ``grad``: gradient of the minimised objective over the issues. A constraint
    whose multiplier is zero could be left without changing the optimum, so
    only these bind the answer. ``fitted``: the active normals at ``z`` and
    their multipliers from :func:`~simulator.bargaining.problem._kkt_fit` with
    this ``grad`` and ``scale``, when the caller has them (the same fit again).
    """
    if fitted is None:
        normals = _active_normals(problem, z)
        if not normals:
            return []
        _, lam = _kkt_fit(grad, normals, scale)
    else:
        normals, lam = fitted
        if not normals:
            return []
    top = float(np.max(lam)) if lam.size else 0.0
    return [nrm for nrm, m in zip(normals, lam, strict=True) if m > 1e-6 * max(top, 1e-300)]


def _uniqueness(
    problem: BargainingProblem,
    ev: _Evaluator,
    runs: Sequence[_Run],
    concave: bool,
    binding: Sequence[FloatArray],
    objective: str,
) -> tuple[bool | None, list[str], int]:
    """``(unique, notes, optima_found)`` for the best of ``runs`` (see :class:`_Best`).

    Distinct payoffs or deals among the runs that tie with the best mean not
    unique. Otherwise the best deal is probed for another deal with the same
    payoffs (:func:`~simulator.bargaining.problem._free_direction`, given the
    ``binding`` normals). With utilities concave on the sample
    (:func:`~simulator.bargaining.problem._sample_concave`) one run suffices:
    the problem is convex, a KKT point is the global optimum, and the payoffs
    are unique; otherwise uniqueness needs two runs that agree (``None`` with
    one).
    """
    k = problem.n_issues
    tol = problem.solve_tolerance
    best = max(runs, key=lambda r: r.value)
    ties = [r.x[:k] for r in runs if r.value >= best.value - tol * max(1.0, abs(best.value))]
    deals = _distinct([best.x[:k], *ties], problem.deal_tolerance)
    pay = _distinct([ev(z)[0] for z in deals], tol * 10)
    if len(pay) > 1:
        return False, [f"{len(pay)} distinct payoff vectors reach the same {objective}"], len(deals)
    if len(deals) > 1:
        return False, [f"payoffs are unique but {len(deals)} distinct deals give them"], len(deals)
    if _free_direction(problem, ev, best.x[:k], binding) is not None:
        note = (
            "payoffs are unique but other deals give them too "
            "(moving the deal along some direction changes no one's payoff)"
        )
        return False, [note], 2
    if concave:
        note = (
            "utilities pass a concavity test on the sample: the problem is convex, so this "
            "KKT point is the global optimum and its payoffs are unique"
        )
        return True, [note], 1
    if len(ties) >= 2:
        return True, [f"{len(ties)} starts reached this deal (numerical evidence)"], 1
    return None, ["only one start converged; uniqueness not checked"], 1
