"""The zone of possible agreement: is there a deal every player prefers to disagreement?

Notation as in :mod:`simulator.bargaining.problem`. :func:`zone_of_agreement`
solves ``max_{z in X} min_i (u_i(z) - d_i)``. A deal that every player prefers
to disagreement exists exactly when the maximum is positive; otherwise the
players whose gain is smallest at the maximiser *block* the deal, by the
(negative) margin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from simulator.bargaining.optimize import _max_min_above
from simulator.bargaining.problem import BargainingProblem, _Evaluator, _sample_concave

__all__ = ["ZoneOfAgreement", "zone_of_agreement"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ZoneOfAgreement:
    """Whether some deal gives every player more than the disagreement point.

    ``margin``: ``max_z min_i (u_i(z) - d_i)``; positive exactly when such a deal
    exists. ``deal``, ``payoffs``, ``gains``: at the maximiser (``None`` for the
    deal when no start converged). ``blocking``: when no deal exists, the
    players whose gain is smallest at the maximiser (they block every deal);
    ``shortfall`` = ``max(0, -margin)``, by how much they fall short at best.
    """

    exists: bool
    margin: float
    deal: FloatArray | None
    payoffs: FloatArray | None
    gains: FloatArray | None
    blocking: tuple[str, ...]
    shortfall: float
    evidence: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def zone_of_agreement(problem: BargainingProblem) -> ZoneOfAgreement:
    """The zone of possible agreement: ``max_{z in X} min_i (u_i(z) - d_i)`` and its blockers.

    Solved as ``max t`` subject to ``u(z) >= d + t`` by SLSQP from the sample
    deals of largest smallest gain (one start when the utilities pass the
    concavity test on the sample, else until two starts agree); the KKT
    residual of the best start is in ``evidence``.
    """
    confirm = 1 if _sample_concave(problem) else 2
    best = _max_min_above(
        problem,
        problem.disagreement,
        np.ones(problem.n_players),
        _Evaluator(problem),
        confirm=confirm,
    )
    if best is None:
        raise ValueError("zone_of_agreement: the optimizer did not converge from any start")
    k = problem.n_issues
    deal = best.x[:k]
    payoffs = problem.payoffs(deal)
    gains = payoffs - problem.disagreement
    margin = float(np.min(gains))
    exists = margin > problem.solve_tolerance
    blocking: tuple[str, ...] = ()
    if not exists:
        low = gains <= margin + problem.solve_tolerance
        blocking = tuple(p for p, b in zip(problem.players, low, strict=True) if b)
    return ZoneOfAgreement(
        exists=exists,
        margin=margin,
        deal=deal,
        payoffs=payoffs,
        gains=gains,
        blocking=blocking,
        shortfall=max(0.0, -margin),
        evidence=MappingProxyType(best.evidence()),
    )
