"""Rubinstein's alternating-offers bargaining (Rubinstein 1982).

Two players alternate proposals; after each rejection the surplus is
discounted, by ``delta_i`` per round for player ``i``. Notation for the
general problem as in :mod:`simulator.bargaining.problem`.

* **Unit surplus, linear payoffs** (:func:`rubinstein_split`): the unique
  subgame-perfect equilibrium gives the first proposer ``i`` the share
  ``(1 - delta_j) / (1 - delta_i delta_j)`` and the responder the rest,
  accepted at once. The responder's share equals ``delta_j`` times what he
  would get as the next proposer, which is the indifference condition checked
  in ``evidence``.
* **Continuous-time limit** (:func:`rubinstein_limit`): with
  ``delta_i = exp(-r_i * dt)`` and ``dt -> 0`` the first proposer's share tends
  to ``r_j / (r_i + r_j)``, the asymmetric Nash solution with weights
  ``w_i = 1 / r_i`` (Binmore, Rubinstein & Wolinsky 1986).
* **General two-player problem** (:func:`rubinstein_bargaining`): stationary
  equilibrium offers ``x`` (by player 0) and ``y`` (by player 1) on the Pareto
  frontier make each responder indifferent::

      u_1(x) - d_1 = delta_1 (u_1(y) - d_1),   u_0(y) - d_0 = delta_0 (u_0(x) - d_0),

  solved by a scalar root-finding (Brent 1973) on ``u_0(x)`` along the frontier.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq

from simulator.bargaining.optimize import _max_min_gain, _max_weighted
from simulator.bargaining.problem import (
    BargainingProblem,
    BargainingSolution,
    _Evaluator,
    _no_agreement,
    _solution,
)

__all__ = ["rubinstein_bargaining", "rubinstein_limit", "rubinstein_split"]

FloatArray = npt.NDArray[np.float64]


def _check_delta(where: str, name: str, value: float) -> float:
    v = float(value)
    if not (0.0 <= v < 1.0):
        raise ValueError(f"{where}: {name} must be in [0, 1), got {value}")
    return v


def _check_first(where: str, first: int) -> int:
    if first not in (0, 1):
        raise ValueError(f"{where}: first must be 0 or 1, got {first}")
    return first


def _split_shares(d0: float, d1: float, first: int) -> tuple[float, float]:
    deltas = (d0, d1)
    proposer, responder = first, 1 - first
    share = (1.0 - deltas[responder]) / (1.0 - deltas[proposer] * deltas[responder])
    shares = [0.0, 0.0]
    shares[proposer] = share
    shares[responder] = 1.0 - share
    return shares[0], shares[1]


def rubinstein_split(
    delta1: float,
    delta2: float,
    first: int = 0,
    players: tuple[str, str] = ("player 1", "player 2"),
) -> BargainingSolution:
    """Subgame-perfect split of a unit surplus (Rubinstein 1982), closed form.

    ``delta1``, ``delta2``: discount factors of the two players, in ``[0, 1)``.
    ``first``: index (0 or 1) of the first proposer. The deal is the pair of
    shares ``(s_1, s_2)``; the first proposer gets
    ``(1 - delta_other) / (1 - delta1 * delta2)``. ``evidence`` holds the
    responder's indifference residual: his share minus his discount factor
    times his share as the next proposer (0 in equilibrium).
    """
    where = "rubinstein_split"
    d0 = _check_delta(where, "delta1", delta1)
    d1 = _check_delta(where, "delta2", delta2)
    first = _check_first(where, first)
    shares = np.array(_split_shares(d0, d1, first))
    other = np.array(_split_shares(d0, d1, 1 - first))
    responder = 1 - first
    deltas = (d0, d1)
    residual = shares[responder] - deltas[responder] * other[responder]
    evidence = {
        "deltas": (d0, d1),
        "first_proposer": players[first],
        "formula": "proposer gets (1 - delta_responder) / (1 - delta1 * delta2)",
        "indifference_residual": float(residual),
        "closed_form": True,
    }
    return BargainingSolution(
        concept="rubinstein",
        players=tuple(players),
        issues=tuple(f"share of {p}" for p in players),
        deal=shares,
        payoffs=shares.copy(),
        gains=shares.copy(),
        agreement=True,
        unique=True,
        evidence=MappingProxyType(evidence),
        notes=("unique subgame-perfect equilibrium; the first offer is accepted",),
    )


def rubinstein_limit(
    r1: float,
    r2: float,
    first: int = 0,
    steps: Sequence[float] = (1.0, 0.1, 0.01, 0.001, 0.0001),
    players: tuple[str, str] = ("player 1", "player 2"),
) -> BargainingSolution:
    """The Rubinstein split as the time between offers shrinks (Binmore et al. 1986).

    ``r1``, ``r2``: positive discount rates; ``delta_i = exp(-r_i * dt)``. The
    deal is the limit ``(r2, r1) / (r1 + r2)``, the same for either first
    proposer, equal to the asymmetric Nash solution with weights
    ``(1/r1, 1/r2)``. ``evidence["sequence"]`` lists ``(dt, shares)`` for each
    ``dt`` in ``steps``, showing the convergence (the gap shrinks like ``dt``).
    """
    where = "rubinstein_limit"
    rates = (float(r1), float(r2))
    if not all(math.isfinite(r) and r > 0 for r in rates):
        raise ValueError(f"{where}: r1 and r2 must be positive and finite, got {r1}, {r2}")
    first = _check_first(where, first)
    if not steps or any(not (s > 0) for s in steps):
        raise ValueError(f"{where}: steps must be positive, got {steps}")
    limit = np.array([rates[1], rates[0]]) / (rates[0] + rates[1])
    sequence = []
    for dt in steps:
        s = _split_shares(math.exp(-rates[0] * dt), math.exp(-rates[1] * dt), first)
        sequence.append((float(dt), s))
    evidence = {
        "rates": rates,
        "first_proposer": players[first],
        "sequence": tuple(sequence),
        "last_gap": float(np.max(np.abs(np.array(sequence[-1][1]) - limit))),
        "nash_weights": (1.0 / rates[0], 1.0 / rates[1]),
        "closed_form": True,
    }
    return BargainingSolution(
        concept="rubinstein",
        players=tuple(players),
        issues=tuple(f"share of {p}" for p in players),
        deal=limit,
        payoffs=limit.copy(),
        gains=limit.copy(),
        agreement=True,
        unique=True,
        evidence=MappingProxyType(evidence),
        notes=("limit as the time between offers tends to 0: the asymmetric Nash solution",),
    )


def rubinstein_bargaining(
    problem: BargainingProblem, deltas: npt.ArrayLike, first: int = 0
) -> BargainingSolution:
    """Stationary subgame-perfect offers for a general two-player problem (Rubinstein 1982).

    ``deltas``: the two discount factors, each in ``[0, 1)``. Payoffs are
    discounted towards ``d`` (a rejected round costs ``(1 - delta_i)`` of the
    gain). Finds ``a = u_0(x)`` on the individually rational frontier by Brent's
    method so that both indifference conditions of the module docstring hold;
    returns the first proposer's offer, accepted at once. Uniqueness is claimed
    only as in Rubinstein (1982), for a frontier that is strictly decreasing;
    ``evidence`` holds both offers and the indifference residuals.
    """
    where = "rubinstein_bargaining"
    if problem.n_players != 2:
        raise ValueError(f"{where}: needs exactly 2 players, got {problem.n_players}")
    delta = np.asarray(deltas, dtype=float).reshape(-1)
    if delta.shape != (2,):
        raise ValueError(f"{where}: deltas must be two numbers, got {deltas!r}")
    dl = (_check_delta(where, "deltas[0]", delta[0]), _check_delta(where, "deltas[1]", delta[1]))
    first = _check_first(where, first)
    concept = "rubinstein"
    if first == 1:
        # Relabel so that the proposer is player 0, then swap back.
        return _swap(_rubinstein_core(_swapped(problem), (dl[1], dl[0]), concept), problem)
    return _rubinstein_core(problem, dl, concept)


def _rubinstein_core(
    problem: BargainingProblem, dl: tuple[float, float], concept: str
) -> BargainingSolution:
    ev = _Evaluator(problem)
    d = problem.disagreement
    zone = _max_min_gain(problem, np.ones(2), ev)
    if zone is None or zone.value <= problem.solve_tolerance:
        return _no_agreement(concept, problem, {}, "no deal beats the disagreement point")
    start = zone.x[: problem.n_issues]
    starts: tuple[FloatArray, ...] = (start, *problem.starts[:2])
    e1 = np.array([0.0, 1.0])
    top0 = _max_weighted(problem, np.array([1.0, 0.0]), d, ev, starts)
    if top0 is None:
        raise ValueError("rubinstein_bargaining: the optimizer did not converge from any start")
    ideal0 = top0.value
    cache: dict[float, tuple[float, FloatArray]] = {}

    def frontier(v: float) -> tuple[float, FloatArray]:
        """Player 1's best payoff when player 0 gets at least ``v`` (and u >= d)."""
        if v not in cache:
            floors = np.array([v, d[1]])
            # Warm start from the nearest level solved so far (Brent's iterates cluster).
            near = tuple(cache[min(cache, key=lambda c: abs(c - v))][1:]) if cache else ()
            best = _max_weighted(problem, e1, floors, ev, (*near, *starts))
            if best is None:
                # Steep utilities near a bound can stall SLSQP: retry from every start.
                best = _max_weighted(problem, e1, floors, ev, (*starts, *problem.starts[2:]))
            if best is None:
                raise ValueError(f"rubinstein_bargaining: no deal gives player 0 at least {v}")
            cache[v] = (best.value, best.x)
        return cache[v]

    def gap(a: float) -> float:
        b = d[0] + dl[0] * (a - d[0])
        return frontier(a)[0] - d[1] - dl[1] * (frontier(b)[0] - d[1])

    tol = problem.solve_tolerance
    # The proposer takes his ideal payoff when even that leaves the responder no worse
    # off than waiting a round; otherwise the indifference condition has a root.
    a = ideal0 if gap(ideal0) >= 0 else float(brentq(gap, d[0], ideal0, xtol=tol * 1e-2))
    b = d[0] + dl[0] * (a - d[0])
    x = frontier(a)[1]
    y = frontier(b)[1]
    ux, uy = ev(x)[0], ev(y)[0]
    evidence = {
        "deltas": dl,
        "offer_by_0": x,
        "offer_by_1": y,
        "payoffs_offer_by_1": uy,
        "indifference_residual_1": float(ux[1] - d[1] - dl[1] * (uy[1] - d[1])),
        "indifference_residual_0": float(uy[0] - d[0] - dl[0] * (ux[0] - d[0])),
        "closed_form": False,
    }
    return _solution(concept, problem, x, None, evidence, ("stationary SPE, first offer accepted",))


def _swapped(problem: BargainingProblem) -> BargainingProblem:
    u = problem.utility
    return BargainingProblem(
        players=problem.players[::-1],
        lower=problem.lower,
        upper=problem.upper,
        utility=lambda z: np.asarray(u(z))[..., ::-1],
        disagreement=problem.disagreement[::-1],
        A_ub=problem.A_ub,
        b_ub=problem.b_ub,
        issues=problem.issues,
        n_starts=problem.n_starts,
    )


def _swap(sol: BargainingSolution, problem: BargainingProblem) -> BargainingSolution:
    ev = dict(sol.evidence)
    if "payoffs_offer_by_1" in ev:
        ev["payoffs_offer_by_0"] = np.asarray(ev.pop("payoffs_offer_by_1"))[::-1]
        ev["offer_by_0"], ev["offer_by_1"] = ev["offer_by_1"], ev["offer_by_0"]
        ev["indifference_residual_0"], ev["indifference_residual_1"] = (
            ev["indifference_residual_1"],
            ev["indifference_residual_0"],
        )
    return BargainingSolution(
        concept=sol.concept,
        players=problem.players,
        issues=sol.issues,
        deal=sol.deal,
        payoffs=sol.payoffs[::-1].copy(),
        gains=sol.gains[::-1].copy(),
        agreement=sol.agreement,
        unique=sol.unique,
        evidence=MappingProxyType(ev),
        notes=sol.notes,
    )
