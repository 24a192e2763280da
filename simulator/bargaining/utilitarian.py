"""The utilitarian bargaining solution: the individually rational deal of largest total payoff.

Notation as in :mod:`simulator.bargaining.problem`::

    max_{z in X}  sum_i u_i(z)   subject to   u(z) >= d.

The sum is not invariant to rescaling a player's utility (only to a common
rescaling), so it presumes comparable payoff units. Ties are common (with
transferable payoffs every efficient split has the same sum); ``unique`` is
then ``False``.
"""

from __future__ import annotations

import numpy as np

from simulator.bargaining.optimize import _max_weighted, _rational_starts
from simulator.bargaining.problem import (
    BargainingProblem,
    BargainingSolution,
    _Evaluator,
    _no_agreement,
    _solution,
)

__all__ = ["utilitarian"]


def utilitarian(problem: BargainingProblem) -> BargainingSolution:
    """The utilitarian solution of ``problem`` (maximum of ``sum_i u_i`` over ``u >= d``)."""
    concept = "utilitarian"
    ev = _Evaluator(problem)
    n = problem.n_players
    starts, zone = _rational_starts(problem, ev, strict=True)
    if not starts:
        margin = None if zone is None else zone.value
        return _no_agreement(
            concept, problem, {"max_min_gain": margin}, "no deal beats the disagreement point"
        )
    best = _max_weighted(problem, np.ones(n), problem.disagreement, ev, starts)
    if best is None:
        return _no_agreement(concept, problem, {}, "the optimizer did not converge from any start")
    notes = []
    if best.unique is False:
        notes.append(
            f"{1 + len(best.alternatives)} different payoff vectors reach the same total; "
            "the utilitarian solution does not pick among them"
        )
    evidence = {**best.evidence(), "total": best.value}
    return _solution(concept, problem, best.x, best.unique, evidence, notes)
