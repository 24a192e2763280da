"""The egalitarian (proportional) bargaining solution (Kalai 1977), lexicographically refined.

Notation as in :mod:`simulator.bargaining.problem`. Given a direction ``p``
(shape ``(n,)``, non-negative; all ones by default, giving equal gains), the
solution first reaches the largest ``t`` with ``u(z) >= d + t p``::

    max_{z in X, t}  t   subject to   u(z) >= d + t p.

Where the frontier is not strictly monotone that maximiser may be only weakly
Pareto-optimal: some player could gain more at no one's loss. The answer is
therefore refined lexicographically (Imai 1983; the lexicographic egalitarian
solution of Chun & Peters 1988): the players who cannot rise above ``t``
without pushing someone below it are *blocked* and keep their level; the others
then maximise their common level on the ray again, and so on until every player
is blocked. A player is blocked when the KKT multiplier of his constraint is
positive (by complementary slackness his constraint binds at every optimum of a
convex problem). The result is Pareto-optimal: a deal that made someone better
off and no one worse off would have let that player rise at his stage. When
every player is blocked at once (the usual case) nothing more is solved.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from simulator.bargaining.optimize import _Best, _max_min_above, _uniqueness
from simulator.bargaining.problem import (
    ACTIVE_RTOL,
    SOLVE_RTOL,
    BargainingProblem,
    BargainingSolution,
    _check_start,
    _dominated_by_sample,
    _Evaluator,
    _no_agreement,
    _sample_concave,
    _solution,
)

__all__ = ["egalitarian", "proportional_solution"]

FloatArray = npt.NDArray[np.float64]

_RISE = 1e-6
"""A refinement stage whose start has a KKT residual below this raises no one: not run."""

_STAGE_ITERATIONS = 15
"""SLSQP iterations per refinement start. Where the blocked players' constraints are nearly
dependent SLSQP crawls for a gain below the solve tolerance; the stage then keeps its start."""

_BLOCKED = 1e-6
"""Blocked: the share ``lambda_i p_i`` of the KKT multipliers (they sum to 1) exceeds this."""


def proportional_solution(
    problem: BargainingProblem,
    direction: npt.ArrayLike,
    concept: str = "egalitarian",
    *,
    start: npt.ArrayLike | None = None,
) -> BargainingSolution:
    """The deal maximising ``t`` subject to ``u(z) >= d + t * direction`` (Kalai 1977), refined.

    ``direction``: shape ``(n,)``, non-negative, with a positive entry.
    ``start``: optionally a deal of shape ``(k,)`` to try first (e.g. the answer
    at the previous point of a parameter sweep). Returns ``agreement=False``
    when the best ``t`` is not positive (no deal moves every player with a
    positive direction above ``d``). The max-min deal is refined
    lexicographically (module docstring); ``evidence`` holds ``t`` (the first
    level), ``levels`` (each player's final gain over ``d`` divided by his
    direction), ``stages`` (1 when no refinement was needed) and the KKT
    residual of the last stage.
    """
    n = problem.n_players
    p = np.asarray(direction, dtype=float).reshape(-1)
    if p.shape != (n,) or not np.all(np.isfinite(p)) or np.any(p < 0) or not np.any(p > 0):
        raise ValueError(
            f"{concept}: direction must be {n} non-negative finite numbers, "
            f"not all zero, got {direction!r}"
        )
    first = _check_start(concept, problem, start)
    ev = _Evaluator(problem)
    concave = _sample_concave(problem)
    confirm = 1 if concave else 2
    d = problem.disagreement
    best = _max_min_above(problem, d, p, ev, first, confirm=confirm)
    if best is None:
        return _no_agreement(
            concept, problem, {"direction": p}, "the optimizer found no feasible deal"
        )
    evidence = {**best.evidence(), "direction": p, "t": best.value}
    if best.value * float(np.max(p)) <= problem.solve_tolerance:
        return _no_agreement(
            concept,
            problem,
            evidence,
            f"no deal beats the disagreement point (t = {best.value:.6g})",
        )
    final, stages = _lexicographic(problem, p, best, ev)
    k = problem.n_issues
    deal = final.x[:k]
    payoffs = ev(deal)[0]
    # Payoffs fixed, the deal is free only along directions that keep every binding bound.
    unique, notes, optima = _uniqueness(problem, ev, final.runs, concave, [], "level")
    if stages > 1:
        notes.append(
            f"lexicographic refinement: the max-min deal was only weakly Pareto-optimal; "
            f"{stages - 1} more stage(s) raised the players who were not blocked"
        )
    pos = p > 0
    levels = np.full(n, np.nan)
    levels[pos] = (payoffs[pos] - d[pos]) / p[pos]
    evidence.update(
        {
            "kkt_residual": final.kkt,
            "optima_found": optima,
            "levels": levels,
            "stages": stages,
            "concave_on_sample": concave,
            "dominated_by_sample": _dominated_by_sample(problem, payoffs),
        }
    )
    return _solution(concept, problem, deal, unique, evidence, notes, payoffs=payoffs)


def _lexicographic(
    problem: BargainingProblem, p: FloatArray, best: _Best, ev: _Evaluator
) -> tuple[_Best, int]:
    """Raise the unblocked players stage by stage (module docstring); the last stage and the count.

    ``best``: the max-min solution along ``p``. Players with ``p_i = 0`` are
    never raised (their floor is ``d_i``). Each stage starts from the previous
    stage's deal only: it is a refinement of an optimum, not a new search.
    """
    k = problem.n_issues
    d = problem.disagreement
    tol = problem.solve_tolerance
    free = p > 0
    level = np.zeros(p.size)
    current, stages = best, 1
    while True:
        t = current.value
        gains = ev(current.x[:k])[0] - d
        ratio = np.full(p.size, np.inf)
        ratio[free] = gains[free] / p[free]
        mult = current.multipliers if current.multipliers is not None else np.zeros(p.size)
        blocked = free & (mult * p > _BLOCKED)
        if not blocked.any():
            # Multipliers unavailable or all round-off: the binding players are blocked.
            blocked = free & (ratio <= t + tol / max(float(np.max(p[free])), 1e-300))
        if not blocked.any():
            blocked = free.copy()
        level[blocked] = t
        free &= ~blocked
        if not free.any():
            return current, stages
        floors = d + np.where(free, 0.0, level * p)
        # From the current deal: when the free players cannot rise by more than the
        # optimizers resolve, its KKT residual for this stage is already small.
        raised = _max_min_above(
            problem,
            floors,
            np.where(free, p, 0.0),
            ev,
            (current.x[:k],),
            limit=0,
            confirm=1,
            stationary=_RISE,
            maxiter=_STAGE_ITERATIONS,
        )
        if raised is None or raised.value <= t + tol / max(float(np.max(p[free])), 1e-300):
            # No one can rise after all: everyone is blocked at this level.
            return current, stages
        # The optimizer accepts floors met to within its tolerance; a refinement must not
        # buy a rise with a blocked player's loss.
        held = ev(raised.x[:k])[0] - floors
        if np.any(held[~free & (p > 0)] < -ACTIVE_RTOL * tol / SOLVE_RTOL):
            return current, stages
        current, stages = raised, stages + 1


def egalitarian(
    problem: BargainingProblem,
    direction: npt.ArrayLike | None = None,
    *,
    start: npt.ArrayLike | None = None,
) -> BargainingSolution:
    """The egalitarian solution: equal gains over ``d`` (or gains proportional to ``direction``).

    See :func:`proportional_solution` (including ``start`` and the
    lexicographic refinement).
    """
    p = np.ones(problem.n_players) if direction is None else direction
    return proportional_solution(problem, p, "egalitarian", start=start)
