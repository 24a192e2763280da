"""The Kalai-Smorodinsky bargaining solution (Kalai & Smorodinsky 1975).

Notation as in :mod:`simulator.bargaining.problem`. The *ideal point* ``a``
gives each player the most he can get in any individually rational deal::

    a_i = max { u_i(z) : z in X, u(z) >= d }.

The solution is the deal reaching the largest ``t`` with
``u(z) >= d + t (a - d)``: gains proportional to each player's largest possible
gain. It is *individually monotone* (Kalai & Smorodinsky 1975): if the
feasible payoff set grows for player ``i`` while the ideal payoffs of the
others stay the same, ``i``'s payoff does not fall. Where the frontier is not
strictly monotone the maximiser may be only weakly Pareto-optimal.
"""

from __future__ import annotations

import numpy as np

from simulator.bargaining.egalitarian import proportional_solution
from simulator.bargaining.optimize import _max_weighted, _rational_starts
from simulator.bargaining.problem import (
    BargainingProblem,
    BargainingSolution,
    _Evaluator,
    _no_agreement,
)

__all__ = ["ideal_point", "kalai_smorodinsky"]


def ideal_point(problem: BargainingProblem) -> np.ndarray | None:
    """The ideal point ``a`` (shape ``(n,)``), or ``None`` when no deal is individually rational."""
    ev = _Evaluator(problem)
    n = problem.n_players
    d = problem.disagreement
    starts, _ = _rational_starts(problem, ev, strict=False)
    if not starts:
        return None
    ideal = np.empty(n)
    for i in range(n):
        best = _max_weighted(problem, np.eye(n)[i], d, ev, starts)
        if best is None:
            return None
        ideal[i] = best.value
    return ideal


def kalai_smorodinsky(problem: BargainingProblem) -> BargainingSolution:
    """The Kalai-Smorodinsky solution of ``problem``.

    Computes the ideal point (one constrained maximisation per player), then
    the proportional solution along ``a - d``. ``evidence`` adds ``ideal_point``.
    """
    concept = "kalai_smorodinsky"
    ideal = ideal_point(problem)
    if ideal is None:
        return _no_agreement(
            concept, problem, {}, "no deal beats the disagreement point: no ideal point"
        )
    direction = ideal - problem.disagreement
    if np.all(direction <= problem.solve_tolerance):
        return _no_agreement(
            concept,
            problem,
            {"ideal_point": ideal},
            "no deal beats the disagreement point: the ideal point equals d",
        )
    direction = np.maximum(direction, 0.0)
    sol = proportional_solution(problem, direction, concept)
    evidence = {**sol.evidence, "ideal_point": ideal}
    return BargainingSolution(
        concept=sol.concept,
        players=sol.players,
        issues=sol.issues,
        deal=sol.deal,
        payoffs=sol.payoffs,
        gains=sol.gains,
        agreement=sol.agreement,
        unique=sol.unique,
        evidence=evidence,
        notes=sol.notes,
    )
