"""The Kalai-Smorodinsky bargaining solution (Kalai & Smorodinsky 1975).

Notation as in :mod:`simulator.bargaining.problem`. The *ideal point* ``a``
gives each player the most he can get in any individually rational deal::

    a_i = max { u_i(z) : z in X, u(z) >= d }.

The solution is the deal reaching the largest ``t`` with
``u(z) >= d + t (a - d)``: gains proportional to each player's largest possible
gain. It is *individually monotone* (Kalai & Smorodinsky 1975): if the
feasible payoff set grows for player ``i`` while the ideal payoffs of the
others stay the same, ``i``'s payoff does not fall. Where the frontier is not
strictly monotone the max-min deal may be only weakly Pareto-optimal; it is
refined lexicographically (Imai 1983), as in
:mod:`simulator.bargaining.egalitarian`, so the answer is Pareto-optimal.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from simulator.bargaining.egalitarian import proportional_solution
from simulator.bargaining.optimize import (
    _max_min_gain,
    _max_weighted_from,
    _screen,
)
from simulator.bargaining.problem import (
    BargainingProblem,
    BargainingSolution,
    _Evaluator,
    _no_agreement,
    _sample_concave,
)

__all__ = ["ideal_point", "kalai_smorodinsky"]

FloatArray = npt.NDArray[np.float64]


def ideal_point(problem: BargainingProblem) -> np.ndarray | None:
    """The ideal point ``a`` (shape ``(n,)``), or ``None`` when no deal is individually rational.

    Raises :class:`ValueError` when the optimizer fails from every start.
    """
    found = _ideal(problem, _Evaluator(problem))
    return None if found is None else found[0]


def _ideal(problem: BargainingProblem, ev: _Evaluator) -> tuple[FloatArray, FloatArray] | None:
    """The ideal point and, per player, the KKT residual of his maximisation.

    Player ``i``'s maximisation starts from the individually rational sample
    deals best for him (or the max-min-gain deal when no sample deal is
    individually rational); with utilities concave on the sample the problem is
    convex and one run is enough, otherwise runs continue until two agree.
    ``None`` when no deal is individually rational; raises :class:`ValueError`
    when one is but a maximisation fails from every start.
    """
    n = problem.n_players
    d = problem.disagreement
    tol = problem.solve_tolerance
    rational = np.all(problem.sample_payoffs - d >= -tol, axis=-1)
    fallback: tuple[FloatArray, ...] = ()
    if not np.any(rational):
        zone = _max_min_gain(problem, np.ones(n), ev)
        if zone is None or zone.value < -tol:
            return None
        fallback = (zone.x[: problem.n_issues],)
    confirm = 1 if _sample_concave(problem) else 2
    ideal = np.empty(n)
    kkt = np.empty(n)
    for i in range(n):
        scores = np.where(rational, problem.sample_payoffs[:, i], -np.inf)
        starts = _screen(problem, scores, fallback)
        best = _max_weighted_from(problem, np.eye(n)[i], d, ev, starts, confirm)
        if best is None:
            # Individually rational deals exist (the sample's, or the max-min one): a
            # failure here is the optimizer's, not the absence of a deal.
            raise ValueError(
                f"kalai_smorodinsky: the optimizer did not converge from any start "
                f"when maximising {problem.players[i]}'s payoff"
            )
        ideal[i] = best.value
        kkt[i] = best.kkt
    return ideal, kkt


def kalai_smorodinsky(
    problem: BargainingProblem, *, start: npt.ArrayLike | None = None
) -> BargainingSolution:
    """The Kalai-Smorodinsky solution of ``problem``.

    Computes the ideal point (one constrained maximisation per player), then
    the proportional solution along ``a - d``, lexicographically refined (see
    :func:`~simulator.bargaining.egalitarian.proportional_solution`; ``start``,
    a deal of shape ``(k,)``, is tried first there). ``evidence`` adds
    ``ideal_point`` and the ideal maximisations' KKT residuals.
    """
    concept = "kalai_smorodinsky"
    found = _ideal(problem, _Evaluator(problem))
    if found is None:
        return _no_agreement(
            concept, problem, {}, "no deal beats the disagreement point: no ideal point"
        )
    ideal, kkt = found
    direction = ideal - problem.disagreement
    if np.all(direction <= problem.solve_tolerance):
        return _no_agreement(
            concept,
            problem,
            {"ideal_point": ideal},
            "no deal beats the disagreement point: the ideal point equals d",
        )
    direction = np.maximum(direction, 0.0)
    sol = proportional_solution(problem, direction, concept, start=start)
    evidence = {**sol.evidence, "ideal_point": ideal, "ideal_kkt_residuals": kkt}
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
