r"""The core of the non-transferable-utility game of a deal space (Aumann & Peleg 1960).

Notation and the consent model (``needs``, ``status_quo``, the reach
:math:`X_S`) are those of :mod:`simulator.coalition.deal_space`. Without side
payments a coalition cannot share a total; it can reach the payoff vectors

.. math::

    V(S) = \{u_S(z) : z \in X_S\} \cup \{d_S\}

(and everything below them), where :math:`u_S` and :math:`d_S` are the members'
payoffs and disagreement payoffs: an NTU game in the sense of Aumann & Peleg
(1960). A deal :math:`x \in X` is *blocked* by :math:`S` when some point of
:math:`V(S)` gives every member strictly more than :math:`u(x)`; the *core*
(Gillies 1959, for NTU games Aumann & Peleg 1960) is the set of deals no
coalition blocks. Singletons blocking through :math:`d_i` is individual
rationality; the grand coalition blocking is :math:`x` not being weakly Pareto
optimal.

The *blocking margin* of :math:`S` at :math:`x` is

.. math::

    e_S(x) = \max\Bigl(\max_{y \in X_S} \min_{i \in S} \bigl(u_i(y) - u_i(x)\bigr),\
    \min_{i \in S} \bigl(d_i - u_i(x)\bigr)\Bigr),

positive exactly when :math:`S` blocks :math:`x`. The inner maximum is the zone
of agreement of the sub-problem with :math:`S`'s players, the reach
:math:`X_S` and disagreement point :math:`u_S(x)`, solved by the bargaining
library's multistart SLSQP kernel. :math:`x` is in the core when every margin,
the grand coalition's included, is at most the problem's ``solve_tolerance``.
Cost: ``2**n - 1`` optimizations per deal checked.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from simulator.bargaining.optimize import _max_min_gain
from simulator.bargaining.problem import BargainingProblem, Utility
from simulator.coalition.deal_space import _consent, _free, _reach_bounds, _reach_problem

__all__ = ["NTUCoreCheck", "ntu_core_check", "ntu_core_deal"]

FloatArray = npt.NDArray[np.float64]
Blocking = tuple[tuple[str, ...], float, FloatArray | None]
"""``(coalition labels, margin, blocking deal or None when it blocks by disagreement)``."""


@dataclass(frozen=True, eq=False)
class NTUCoreCheck:
    """Whether a deal is in the NTU core, with every coalition's blocking margin.

    ``deal``: the deal checked, shape ``(k,)``; ``payoffs``: ``u(deal)``, ``(n,)``.
    ``in_core``: no coalition's margin exceeds ``tolerance`` (the problem's
    ``solve_tolerance``). ``individually_rational``: ``u_i(deal) >= d_i`` for every
    player within ``tolerance``. ``blocking``: the coalitions that block, as
    ``(labels, margin, blocking deal)``, largest margin first; the deal is
    ``None`` when the members block by falling back on ``d``.
    ``margins[mask]``: ``e_S`` for every non-empty coalition (bitmask, bit ``i`` =
    ``players[i]``); ``best_responses[mask]``: the deal attaining the deal part of
    it (``None`` when ``S`` has no feasible deal). ``evidence[mask]``: the
    optimizer's objective, KKT residual and starts.
    """

    players: tuple[str, ...]
    deal: FloatArray
    payoffs: FloatArray
    in_core: bool
    individually_rational: bool
    blocking: tuple[Blocking, ...]
    margins: Mapping[int, float]
    best_responses: Mapping[int, FloatArray | None]
    tolerance: float
    evidence: Mapping[int, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    notes: tuple[str, ...] = ()

    @property
    def worst_margin(self) -> float:
        """The largest blocking margin over all coalitions (``<= tolerance`` in the core)."""
        return max(self.margins.values())


@dataclass(frozen=True)
class _Members:
    """The utilities of some players only: ``(..., k) -> (..., len(columns))``."""

    utility: Utility
    columns: tuple[int, ...]

    def __call__(self, z: FloatArray) -> FloatArray:
        return np.asarray(self.utility(z), dtype=float)[..., list(self.columns)]


def ntu_core_check(
    problem: BargainingProblem,
    needs: Sequence[Collection[int]],
    status_quo: npt.ArrayLike,
    deal: npt.ArrayLike,
) -> NTUCoreCheck:
    """Whether ``deal`` (shape ``(k,)``, in the deal space) is in the NTU core.

    ``needs`` and ``status_quo`` as in
    :func:`~simulator.coalition.deal_space.derived_tu_game`. Computes the blocking
    margin of every non-empty coalition (module docstring): the deal part by
    SLSQP (Kraft 1988) on ``max t`` subject to ``u_S(y) >= u_S(x) + t``, ``y`` in
    the coalition's reach, started from the sub-problem's starts, from ``deal``
    with the out-of-reach issues reset and from the status quo; the margin
    reported is recomputed from the utilities at the deal found.

    Raises :class:`ValueError` (naming this function) on malformed ``needs``, a
    status quo outside the ranges, or a deal of the wrong shape or outside ``X``.
    """
    where = "ntu_core_check"
    need_sets, sq = _consent(problem, needs, status_quo, where)
    x = _checked_deal(problem, deal, where)
    return _check(problem, need_sets, sq, x)


def ntu_core_deal(
    problem: BargainingProblem,
    needs: Sequence[Collection[int]],
    status_quo: npt.ArrayLike,
    candidates: Sequence[npt.ArrayLike],
) -> tuple[FloatArray | None, NTUCoreCheck]:
    """The first of ``candidates`` (deals of shape ``(k,)``) in the NTU core, with its check.

    When none is in the core, ``(None, check)`` with the check of the least
    blocked candidate (smallest largest margin; the first of equals). Candidates
    are checked in order and the search stops at the first core deal. Raises
    :class:`ValueError` when ``candidates`` is empty or one is not a deal of ``X``.
    """
    where = "ntu_core_deal"
    need_sets, sq = _consent(problem, needs, status_quo, where)
    deals = [_checked_deal(problem, c, where) for c in candidates]
    if not deals:
        raise ValueError(f"{where}: give at least one candidate deal")
    least = _check(problem, need_sets, sq, deals[0])
    if least.in_core:
        return least.deal, least
    for x in deals[1:]:
        check = _check(problem, need_sets, sq, x)
        if check.in_core:
            return check.deal, check
        if check.worst_margin < least.worst_margin:
            least = check
    return None, least


def _checked_deal(problem: BargainingProblem, deal: npt.ArrayLike, where: str) -> FloatArray:
    x = np.asarray(deal, dtype=float).reshape(-1)
    if x.shape != (problem.n_issues,) or not np.all(np.isfinite(x)):
        raise ValueError(
            f"{where}: a deal must be {problem.n_issues} finite numbers, got {np.asarray(deal)!r}"
        )
    if not problem.feasible(x):
        raise ValueError(f"{where}: deal {x.tolist()} is outside the deal space")
    x = np.clip(x, problem.lower, problem.upper)
    x.setflags(write=False)
    return x


def _best_of(
    problem: BargainingProblem, deals: Sequence[FloatArray], idx: list[int], ux: FloatArray
) -> tuple[FloatArray | None, float]:
    """The deal of ``deals`` with the largest ``min_{i in idx} (u_i - ux_i)``, and that margin."""
    if not deals:
        return None, -np.inf
    worst = (problem.payoffs(np.vstack(deals))[:, idx] - ux[idx]).min(axis=1)
    best = int(np.argmax(worst))
    deal = np.array(deals[best], dtype=float)
    deal.setflags(write=False)
    return deal, float(worst[best])


def _check(
    problem: BargainingProblem,
    needs: Sequence[frozenset[int]],
    sq: FloatArray,
    x: FloatArray,
) -> NTUCoreCheck:
    n, k = problem.n_players, problem.n_issues
    d = problem.disagreement
    tol = problem.solve_tolerance
    ux = problem.payoffs(x)
    ux.setflags(write=False)
    margins: dict[int, float] = {}
    responses: dict[int, FloatArray | None] = {}
    evidence: dict[int, Mapping[str, Any]] = {}
    blocking: list[Blocking] = []
    failed: list[str] = []

    for mask in range(1, 1 << n):
        members = tuple(i for i in range(n) if mask >> i & 1)
        idx = list(members)
        labels = tuple(problem.players[i] for i in members)
        free = _free(needs, mask)
        fallback = float(np.min(d[idx] - ux[idx]))
        info: dict[str, Any] = {
            "free_issues": tuple(lbl for lbl, f in zip(problem.issues, free, strict=True) if f),
            "fallback_margin": fallback,
        }
        # Deals tried without optimizing: the checked deal with the out-of-reach issues
        # reset (in reach unless the reset breaks a linear constraint) and the status quo.
        tried = [z for z in (np.where(free, x, sq), sq) if problem.feasible(z)]
        response, reach_margin = _best_of(problem, tried, idx, ux)
        bounds = _reach_bounds(problem, sq, free) if free.any() else None
        if bounds is not None:
            sub = _reach_problem(
                problem,
                bounds,
                players=labels,
                utility=_Members(problem.utility, members),
                disagreement=ux[idx],
            )
            direction = np.ones(len(idx))
            # Screened starts first: the checked deal has margin 0 and may be a point where
            # SLSQP stalls, and two stalled runs would agree on that margin.
            found = _max_min_gain(sub, direction)
            if response is not None and (found is None or found.value < reach_margin - tol):
                polished = _max_min_gain(sub, direction, extra_starts=(response,))
                info["polished_start"] = True
                if polished is not None and (found is None or polished.value > found.value):
                    found = polished
            if found is None:
                failed.append("{" + ", ".join(labels) + "}")
            else:
                info.update(found.evidence())
                response, reach_margin = _best_of(problem, [*tried, found.x[:k]], idx, ux)
        info["reach_margin"] = reach_margin
        margin = max(reach_margin, fallback)
        margins[mask] = margin
        responses[mask] = response
        evidence[mask] = MappingProxyType(info)
        if margin > tol:
            blocker = response if reach_margin >= fallback else None
            blocking.append((labels, margin, blocker))

    blocking.sort(key=lambda b: -b[1])
    rational = bool(np.all(ux >= d - tol))
    notes: list[str] = []
    if failed:
        notes.append(
            "the optimizer converged from no start for " + ", ".join(failed) + "; their "
            "margins are lower bounds from the starting deals, so the deal may be blocked "
            "even if no blocking coalition is listed"
        )
    if not blocking:
        notes.append(f"no coalition can make all its members better off by more than {tol:.3g}")
    return NTUCoreCheck(
        players=problem.players,
        deal=x,
        payoffs=ux,
        in_core=not blocking,
        individually_rational=rational,
        blocking=tuple(blocking),
        margins=MappingProxyType(margins),
        best_responses=MappingProxyType(responses),
        tolerance=tol,
        evidence=MappingProxyType(evidence),
        notes=tuple(notes),
    )
