"""The egalitarian (proportional) bargaining solution (Kalai 1977).

Notation as in :mod:`simulator.bargaining.problem`. Given a direction ``p``
(shape ``(n,)``, non-negative; all ones by default, giving equal gains), the
solution is the deal reaching the largest ``t`` with ``u(z) >= d + t p``::

    max_{z in X, t}  t   subject to   u(z) >= d + t p.

Where the frontier is not strictly monotone the maximiser may be only weakly
Pareto-optimal (some player could gain more at no one's loss); the lexicographic
refinement (Imai 1983) is not applied.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from simulator.bargaining.optimize import _max_min_gain
from simulator.bargaining.problem import (
    BargainingProblem,
    BargainingSolution,
    _Evaluator,
    _no_agreement,
    _solution,
)

__all__ = ["egalitarian", "proportional_solution"]


def proportional_solution(
    problem: BargainingProblem, direction: npt.ArrayLike, concept: str = "egalitarian"
) -> BargainingSolution:
    """The deal maximising ``t`` subject to ``u(z) >= d + t * direction`` (Kalai 1977).

    ``direction``: shape ``(n,)``, non-negative, with a positive entry. Returns
    ``agreement=False`` when the best ``t`` is not positive (no deal moves every
    player with a positive direction above ``d``).
    """
    n = problem.n_players
    p = np.asarray(direction, dtype=float).reshape(-1)
    if p.shape != (n,) or not np.all(np.isfinite(p)) or np.any(p < 0) or not np.any(p > 0):
        raise ValueError(
            f"{concept}: direction must be {n} non-negative finite numbers, "
            f"not all zero, got {direction!r}"
        )
    ev = _Evaluator(problem)
    best = _max_min_gain(problem, p, ev)
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
    notes = []
    if best.unique is False:
        notes.append("several deals reach the same t with different payoffs")
    return _solution(concept, problem, best.x[: problem.n_issues], best.unique, evidence, notes)


def egalitarian(
    problem: BargainingProblem, direction: npt.ArrayLike | None = None
) -> BargainingSolution:
    """The egalitarian solution: equal gains over ``d`` (or gains proportional to ``direction``).

    See :func:`proportional_solution`.
    """
    p = np.ones(problem.n_players) if direction is None else direction
    return proportional_solution(problem, p, "egalitarian")
