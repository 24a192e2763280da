"""The Pareto frontier of a bargaining problem in payoff space.

Notation as in :mod:`simulator.bargaining.problem`. :func:`pareto_frontier`
(two players) traces the frontier by the epsilon-constraint method (Haimes,
Lasdon & Wismer 1971): for a grid of levels ``l`` of player 1's payoff,
maximise ``u_0(z)`` subject to ``u_1(z) >= l``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from simulator.bargaining.optimize import _max_weighted
from simulator.bargaining.problem import BargainingProblem, _Evaluator

__all__ = ["ParetoFrontier", "pareto_frontier"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ParetoFrontier:
    """Points on the Pareto frontier of a two-player problem, ordered by player 0's payoff.

    ``payoffs``: shape ``(m, 2)``; ``deals``: shape ``(m, k)``. Weakly dominated
    points (within the solve tolerance) have been removed.
    """

    players: tuple[str, ...]
    payoffs: FloatArray
    deals: FloatArray
    individually_rational: bool
    evidence: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def pareto_frontier(
    problem: BargainingProblem, n_points: int = 50, individually_rational: bool = True
) -> ParetoFrontier:
    """Sample the Pareto frontier of a two-player problem (epsilon-constraint method).

    For ``n_points`` levels ``l`` evenly spaced from player 1's lowest to highest
    frontier payoff, maximise ``u_0(z)`` subject to ``u_1(z) >= l`` (and, when
    ``individually_rational``, ``u(z) >= d``). Each level starts from the
    previous level's deal and the problem's first starts. Returns an empty
    frontier when no deal is individually rational.
    """
    if problem.n_players != 2:
        raise ValueError(f"pareto_frontier: needs exactly 2 players, got {problem.n_players}")
    if n_points < 2:
        raise ValueError(f"pareto_frontier: n_points must be at least 2, got {n_points}")
    ev = _Evaluator(problem)
    floors = problem.disagreement if individually_rational else np.full(2, -np.inf)
    top0 = _max_weighted(problem, np.array([1.0, 0.0]), floors, ev)
    top1 = _max_weighted(problem, np.array([0.0, 1.0]), floors, ev)
    k = problem.n_issues
    empty = ParetoFrontier(problem.players, np.empty((0, 2)), np.empty((0, k)), True)
    if top0 is None or top1 is None:
        return empty
    # Player 1's payoff ranges from where player 0 is best off to his own best.
    low = float(ev(top0.x)[0][1])
    high = float(ev(top1.x)[0][1])
    levels = np.linspace(low, high, n_points)
    deals: list[FloatArray] = []
    kkt: list[float] = []
    previous = top0.x
    for level in levels:
        level_floors = np.array([floors[0], max(level, floors[1])])
        best = _max_weighted(
            problem, np.array([1.0, 0.0]), level_floors, ev, (previous, *problem.starts[:2])
        )
        if best is None:
            continue
        previous = best.x
        deals.append(best.x)
        kkt.append(best.kkt)
    if not deals:
        return empty
    z = np.array(deals)
    u = problem.payoffs(z)
    tol = problem.solve_tolerance
    keep = []
    for a in range(len(u)):
        dominated = np.any(np.all(u >= u[a] - tol, axis=1) & np.any(u > u[a] + tol, axis=1))
        if not dominated:
            keep.append(a)
    order = sorted(keep, key=lambda a: u[a, 0])
    kept = _distinct_rows(u[order], tol)
    idx = [order[a] for a in kept]
    return ParetoFrontier(
        players=problem.players,
        payoffs=u[idx],
        deals=z[idx],
        individually_rational=individually_rational,
        evidence=MappingProxyType(
            {"levels": n_points, "max_kkt_residual": float(max(kkt)) if kkt else None}
        ),
    )


def _distinct_rows(u: FloatArray, tol: float) -> list[int]:
    """Indices of rows of ``u`` that differ from the previous kept row by more than ``tol``."""
    kept: list[int] = []
    for a in range(len(u)):
        if not kept or np.any(np.abs(u[a] - u[kept[-1]]) > tol):
            kept.append(a)
    return kept
