"""The utilitarian bargaining solution: the individually rational deal of largest total payoff.

Notation as in :mod:`simulator.bargaining.problem`::

    max_{z in X}  sum_i u_i(z)   subject to   u(z) >= d.

The sum is not invariant to rescaling a player's utility (only to a common
rescaling), so it presumes comparable payoff units. Ties are common (with
transferable payoffs every efficient split has the same sum); ``unique`` is
then ``False``. Ties are found by starting from two different deals even when
the problem is convex, because a convex problem can have a whole face of
optima.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from simulator.bargaining.optimize import (
    _max_min_gain,
    _max_weighted_from,
    _screen,
    _strongly_active,
    _uniqueness,
    _weighted_scores,
)
from simulator.bargaining.problem import (
    BargainingProblem,
    BargainingSolution,
    _check_start,
    _dominated_by_sample,
    _Evaluator,
    _no_agreement,
    _sample_concave,
    _solution,
)

__all__ = ["utilitarian"]


def utilitarian(
    problem: BargainingProblem, *, start: npt.ArrayLike | None = None
) -> BargainingSolution:
    """The utilitarian solution of ``problem`` (maximum of ``sum_i u_i`` over ``u >= d``).

    ``start``: optionally a deal of shape ``(k,)`` to try first (e.g. the
    answer at the previous point of a parameter sweep). Starts otherwise come
    from the individually rational sample deals of largest total; runs continue
    until two agree on the total.
    """
    concept = "utilitarian"
    first = _check_start(concept, problem, start)
    ev = _Evaluator(problem)
    n = problem.n_players
    d = problem.disagreement
    tol = problem.solve_tolerance
    inside = np.all(problem.sample_payoffs - d > tol, axis=-1)
    fallback: tuple[np.ndarray, ...] = ()
    if not np.any(inside):
        zone = _max_min_gain(problem, np.ones(n), ev)
        if zone is None or zone.value <= tol:
            margin = None if zone is None else zone.value
            return _no_agreement(
                concept, problem, {"max_min_gain": margin}, "no deal beats the disagreement point"
            )
        fallback = (zone.x[: problem.n_issues],)
    weights = np.ones(n)
    scores = _weighted_scores(problem, weights, d, np.ones(n, dtype=bool))
    starts = _screen(problem, scores, (*first, *fallback))
    best = _max_weighted_from(problem, weights, d, ev, starts, warm=len(first))
    if best is None:
        return _no_agreement(concept, problem, {}, "the optimizer did not converge from any start")
    deal = best.x
    u, jac = ev(deal)
    binding = _strongly_active(problem, deal, -(weights @ jac))
    # A convex problem can tie along a face, so the concavity test alone settles nothing here.
    unique, notes, optima = _uniqueness(problem, ev, best.runs, False, binding, "total")
    if unique is False and "payoff vectors" in notes[0]:
        notes.append("the utilitarian solution does not pick among them")
    evidence = {
        **best.evidence(),
        "optima_found": optima,
        "total": best.value,
        "concave_on_sample": _sample_concave(problem),
        "dominated_by_sample": _dominated_by_sample(problem, u),
    }
    return _solution(concept, problem, deal, unique, evidence, notes, payoffs=u)
