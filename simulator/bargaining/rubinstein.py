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

  solved by a scalar root-finding (Brent 1973) along the frontier.

How the problem is parametrised matters. The obvious frontier point "where
player ``i`` gains ``v``" (maximise the other's payoff subject to
``u_i - d_i >= v``) is ill-conditioned near the ends of the frontier: when a
utility is steeper than a square root at zero (``z ** 0.3``), a tiny share
carries a sizeable payoff, the constraint binds where the slope is huge, and
SLSQP stalls or misplaces the point. Every frontier point here is therefore
found along a *ray* from ``d`` instead: the largest ``t`` such that some deal
gives at least ``t`` times a given vector of gains (a max-min problem, whose
value is a gauge of the payoff set and is well conditioned at either end).

* The proposer's offer ``x`` is the frontier point on the ray at angle
  ``theta`` in ``[0, pi/2]``, gains proportional to
  ``(top_a cos theta, top_b sin theta)`` for proposer ``a`` and responder
  ``b`` (``top``: each player's best gain), from the proposer's best end
  (``theta = 0``) to the responder's (``theta = pi/2``).
* The two indifference conditions fix the gains the counter-offer must give,
  ``(delta_a g_a(x), g_b(x) / delta_b)``; the residual is ``1 - t*`` on the ray
  through them: zero exactly when those gains lie on the frontier, positive
  while the proposer could ask for more. Brent's method finds the root in
  ``theta``; the counter-offer is then polished by also constraining each of
  the two gains in turn and keeping the deal that meets both conditions best.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq

from simulator.bargaining.optimize import (
    _UNCONVERGED,
    _max_min_above,
    _max_weighted_from,
    _screen,
)
from simulator.bargaining.problem import (
    ACTIVE_RTOL,
    SOLVE_RTOL,
    BargainingProblem,
    BargainingSolution,
    _Evaluator,
    _no_agreement,
    _sample_concave,
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
    gain). ``first``: the first proposer (0 or 1). Finds the offers on the
    individually rational frontier that make both indifference conditions of
    the module docstring hold, by Brent's method on the frontier parameter
    ``s`` described there; returns the first proposer's offer, accepted at
    once. Uniqueness is claimed only as in Rubinstein (1982), for a frontier
    that is strictly decreasing; ``evidence`` holds both offers, the payoffs of
    the counter-offer and the indifference residuals (``indifference_residual_i``
    is player ``i``'s gain in the other's offer minus ``delta_i`` times his gain
    in his own).
    """
    where = "rubinstein_bargaining"
    if problem.n_players != 2:
        raise ValueError(f"{where}: needs exactly 2 players, got {problem.n_players}")
    delta = np.asarray(deltas, dtype=float).reshape(-1)
    if delta.shape != (2,):
        raise ValueError(f"{where}: deltas must be two numbers, got {deltas!r}")
    dl = (_check_delta(where, "deltas[0]", delta[0]), _check_delta(where, "deltas[1]", delta[1]))
    first = _check_first(where, first)
    return _rubinstein_core(problem, dl, first, "rubinstein")


class _Frontier:
    """Points of the individually rational Pareto frontier of a two-player problem, cached.

    ``point(i, v)``: the deal maximising the other player's payoff subject to
    ``u_i - d_i >= v`` (and ``u >= d``); ``ray(gains)``: the deal reaching the
    largest ``t`` with ``u - d >= t * gains`` and that ``t``. Each starts from
    the cached deal nearest in payoff, then the problem's screened deals.
    """

    def __init__(self, problem: BargainingProblem, ev: _Evaluator, seeds: tuple[FloatArray, ...]):
        self.problem = problem
        self.ev = ev
        self.deals: list[FloatArray] = []
        self.gains: list[FloatArray] = []
        for z in seeds:
            self.add(z)

    def add(self, deal: FloatArray) -> None:
        self.deals.append(deal)
        self.gains.append(self.ev(deal)[0] - self.problem.disagreement)

    def _near(self, target: FloatArray) -> tuple[FloatArray, ...]:
        """The known deal whose gains are closest in direction to ``target``."""
        gains = np.array(self.gains)
        unit = target / max(float(np.linalg.norm(target)), 1e-300)
        norms = np.maximum(np.linalg.norm(gains, axis=1), 1e-300)
        return (self.deals[int(np.argmax(gains @ unit / norms))],)

    def ray(self, gains: FloatArray) -> tuple[FloatArray, float]:
        p = self.problem
        found = _max_min_above(
            p, p.disagreement, gains, self.ev, self._near(gains), limit=2, confirm=1
        )
        if found is None:
            raise ValueError("rubinstein_bargaining: the optimizer did not converge from any start")
        deal = found.x[: p.n_issues]
        self.add(deal)
        return deal, found.value

    def point(self, i: int, v: float, start: FloatArray | None = None) -> FloatArray | None:
        p = self.problem
        floors = p.disagreement.copy()
        floors[i] += v
        if start is None:
            target = np.zeros(2)
            target[i] = v
            target[1 - i] = 1e-3 * max(v, 1.0)
            starts = self._near(target)
        else:
            starts = (start,)
        best = _max_weighted_from(p, np.eye(2)[1 - i], floors, self.ev, starts, 1, warm=1)
        if best is None or best.kkt > _UNCONVERGED:
            return None
        self.add(best.x)
        return best.x


_RESIDUAL = 1e-8
"""Brent's method stops once the counter-offer's ``1 - t*`` is this small."""


class _Root(Exception):
    """Raised inside the root-finding to stop at an angle that is close enough."""

    def __init__(self, theta: float) -> None:
        super().__init__(theta)
        self.theta = theta


def _rubinstein_core(
    problem: BargainingProblem, dl: tuple[float, float], a: int, concept: str
) -> BargainingSolution:
    """The stationary SPE with first proposer ``a`` (module docstring); ``b`` responds."""
    b = 1 - a
    ev = _Evaluator(problem)
    d = problem.disagreement
    tol = problem.solve_tolerance
    confirm = 1 if _sample_concave(problem) else 2
    zone = _max_min_above(problem, d, np.ones(2), ev, confirm=confirm)
    if zone is None or zone.value <= tol:
        return _no_agreement(concept, problem, {}, "no deal beats the disagreement point")
    k = problem.n_issues
    middle = zone.x[:k]
    frontier = _Frontier(problem, ev, (middle,))

    def gains(z: FloatArray) -> FloatArray:
        return ev(z)[0] - d

    # Each player's best gain, and a deal where he gets it (the frontier's end).
    top = np.empty(2)
    ends: dict[int, FloatArray] = {}
    rational = np.where(np.all(problem.sample_payoffs >= d - tol, axis=1), 0.0, -np.inf)
    for i in (a, b):
        scores = rational + problem.sample_payoffs[:, i]
        best = _max_weighted_from(
            problem, np.eye(2)[i], d, ev, _screen(problem, scores, (middle,)), confirm
        )
        if best is None:
            raise ValueError("rubinstein_bargaining: the optimizer did not converge from any start")
        top[i] = best.value - d[i]
        frontier.add(best.x)
        ends[i] = best.x

    offers: dict[float, FloatArray] = {0.0: ends[a], float(np.pi / 2): ends[b]}

    def offer(theta: float) -> FloatArray:
        if theta not in offers:
            direction = np.empty(2)
            direction[a] = top[a] * np.cos(theta)
            direction[b] = top[b] * np.sin(theta)
            offers[theta] = frontier.ray(direction)[0]
        return offers[theta]

    def needed(x: FloatArray) -> FloatArray:
        """The gains the counter-offer must give when ``x`` is offered (both conditions)."""
        gx = gains(x)
        need = np.empty(2)
        need[a] = dl[a] * gx[a]
        need[b] = gx[b] / dl[b]
        return need

    counters: dict[float, tuple[float, FloatArray]] = {}

    def residual(theta: float) -> float:
        if theta not in counters:
            deal, t = frontier.ray(needed(offer(theta)))
            counters[theta] = (1.0 - t, deal)
        r = counters[theta][0]
        if abs(r) <= _RESIDUAL:
            raise _Root(theta)
        return r

    try:
        if dl[b] == 0.0 or residual(0.0) >= 0:
            # The proposer's best deal leaves the responder no worse off than waiting a round.
            theta = 0.0
        else:
            theta = float(brentq(residual, 0.0, np.pi / 2, xtol=1e-9, rtol=1e-9))
    except _Root as root:
        theta = root.theta
    x = offer(theta)
    if theta == 0.0:
        # The proposer takes his best: of the deals that give it, the one best for the
        # responder (a slack far below the solve tolerance keeps that set from
        # collapsing to a point).
        slack = ACTIVE_RTOL * tol / SOLVE_RTOL
        end = frontier.point(a, float(top[a]) - slack, x)
        x = x if end is None else end
    gx = gains(x)

    def misfit(y: FloatArray) -> float:
        """How far ``y`` is from meeting both indifference conditions.

        A responder may get more than he needs when the other proposer already
        has his best (the frontier ends flat): only shortfalls count there.
        """
        gy = gains(y)
        short_b = gx[b] - dl[b] * gy[b]
        short_a = gy[a] - dl[a] * gx[a]
        at_top = gy[b] >= top[b] - tol
        return max(abs(short_b), -short_a if at_top else abs(short_a))

    # The counter-offer. Near an end of the frontier one player's payoff is steep in the
    # deal and only his level pins it; when the ray's answer misses either condition by
    # more than round-off, constrain each required gain in turn (the other maximised)
    # and keep the deal that meets both conditions best.
    need = needed(x) if dl[b] > 0 else np.array([np.inf, np.inf])
    candidates: list[FloatArray] = []
    if theta == 0.0:
        # The proposer takes his best and the responder, proposing in turn, offers the
        # deal best for himself that leaves the proposer indifferent about waiting.
        best_reply = frontier.point(a, float(dl[a] * gx[a]))
        if best_reply is not None:
            candidates.append(best_reply)
    elif dl[b] > 0:
        candidates.append(counters[theta][1] if theta in counters else frontier.ray(need)[0])
    if not candidates or misfit(candidates[0]) > _RESIDUAL * max(float(np.max(top)), 1.0):
        polished = [frontier.point(a, float(dl[a] * gx[a]))]
        if dl[b] > 0 and need[b] <= top[b] + tol:
            polished.append(frontier.point(b, float(need[b])))
        candidates += [z for z in polished if z is not None]
    if not candidates:
        raise ValueError("rubinstein_bargaining: the optimizer did not converge from any start")

    y = min(candidates, key=misfit)
    gy = gains(y)
    by = {a: x, b: y}
    evidence = {
        "deltas": dl,
        "offer_by_0": by[0],
        "offer_by_1": by[1],
        f"payoffs_offer_by_{b}": gy + d,
        f"indifference_residual_{b}": float(gx[b] - dl[b] * gy[b]),
        f"indifference_residual_{a}": float(gy[a] - dl[a] * gx[a]),
        "frontier_angle": theta,
        "offers_tried": len(offers),
        "closed_form": False,
    }
    return _solution(
        concept,
        problem,
        x,
        None,
        evidence,
        ("stationary SPE, first offer accepted",),
        payoffs=gx + d,
    )
