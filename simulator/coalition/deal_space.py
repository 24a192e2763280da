r"""Coalition games derived from a bargaining problem's deal space.

A :class:`~simulator.bargaining.problem.BargainingProblem` says what every deal
``z`` of the deal space ``X`` (shape ``(k,)``) is worth to each of the ``n``
players (notation of :mod:`simulator.bargaining.problem`). This module adds who
may move each issue, and from that derives what every coalition can do on its
own, as a characteristic function in the sense of von Neumann & Morgenstern
(1944, ch. VI).

The model
---------
* **Consent.** Issue ``j`` has a set ``needs[j]`` of players (indices, not
  empty) whose consent it needs to move away from its status quo
  ``status_quo[j]``. A coalition :math:`S` sets issue ``j`` freely when
  ``needs[j]`` :math:`\subseteq S`; otherwise issue ``j`` stays at
  ``status_quo[j]``. The *reach* of :math:`S` is

  .. math::

      X_S = X \cap \{z : z_j = \mathrm{status\_quo}_j
      \text{ for every } j \text{ with } \mathrm{needs}_j \not\subseteq S\},

  so :math:`X_S \subseteq X_T` when :math:`S \subseteq T`, and :math:`X_N = X`.
  (Minerals: the mineral-share issue needs the US and Ukraine, an aluminium
  issue needs the US and Russia, so US + RU can do the aluminium deal without
  Ukraine but cannot touch the mineral shares.)
* **Transferable utility** (:func:`derived_tu_game`). The worth of a coalition
  is the best total its members can secure while everyone outside it stays at
  the status quo of the issues they control, or the members' disagreement
  payoffs if those are better:

  .. math::

      v(S) = \max\Bigl(\sum_{i \in S} d_i,\ \max_{z \in X_S} \sum_{i \in S} u_i(z)\Bigr),
      \qquad v(\emptyset) = 0.

  When :math:`X_S` is empty (the status quo of the issues :math:`S` cannot move
  violates the linear constraints whatever :math:`S` does with the rest) the
  second term is absent and :math:`v(S) = \sum_{i \in S} d_i`; the result's
  ``notes`` say so.
* **Non-transferable utility** (:mod:`simulator.coalition.ntu_core`): coalition
  :math:`S` can reach the payoff vectors :math:`V(S) = \{u_S(z) : z \in X_S\}`
  and its members' disagreement payoffs :math:`d_S` (Aumann & Peleg 1960).

What the worth does and does not promise
----------------------------------------
The players outside :math:`S` are passive: they keep the status quo of every
issue that needs them, and their own payoffs at :math:`S`'s deal (reported in
``payoffs``) may differ from their disagreement payoffs when :math:`S`'s deal
touches them (an externality). Two consequences, both tested:

* **Always:** a coalition can implement any deal of its sub-coalitions, so for
  :math:`S \subseteq T` with :math:`S`'s maximising deal :math:`z_S`,
  :math:`v(T) \ge \sum_{i \in T} u_i(z_S)`, and :math:`v(T) \ge \sum_{i \in T} d_i`.
  Hence :math:`v` is monotone when every payoff is non-negative.
* **Not always superadditive.** :math:`v(S \cup T) \ge v(S) + v(T)` for disjoint
  :math:`S, T` holds when the two can act side by side: each player's utility
  depends only on the issues that need his consent (no externalities), each
  linear constraint involves only issues with the same ``needs`` and the status
  quo satisfies them, and :math:`d_i \le u_i(\mathrm{status\_quo})`. (Then
  :math:`S`'s deal on its issues and :math:`T`'s on theirs combine into one deal
  of :math:`X_{S \cup T}` that pays each member what his own coalition's did.) It fails
  when :math:`S`'s deal hurts :math:`T` (each is valued as if the other stayed
  passive) or when a member's disagreement payoff beats the status quo (inside
  :math:`S \cup T` the members either all fall back on :math:`d` or all join
  one deal).

Computation
-----------
For each of the ``2**n - 1`` coalitions the issues out of reach are fixed
(``lower = upper = status_quo``) in a sub-problem and
``max sum_{i in S} u_i(z)`` is solved by the bargaining library's multistart
SLSQP kernel from its screened starts. The deals the coalition can copy (its
sub-coalitions', always in its reach; the status quo; the side-by-side
combination of its best split into two parts) are evaluated too: when the best
of them beats the optimizer's answer, SLSQP is run again from it, and the
better deal is kept. The cost is exponential in ``n``: ``2**n - 1``
optimizations and ``3**n`` deal evaluations, milliseconds each for the
2–4-player problems this is meant for. Worths are accurate to the problem's
``solve_tolerance`` (optimizer accuracy), which is coarser than
``game.tolerance``; differences between worths below it are not meaningful.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import linprog

from simulator.bargaining.optimize import _max_weighted
from simulator.bargaining.problem import BargainingProblem, Utility
from simulator.coalition.tu_game import MAX_PLAYERS, TUGame, coalition_matrix

__all__ = ["DerivedCoalitionGame", "derived_tu_game"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class DerivedCoalitionGame:
    """A TU game derived from a deal space, with the deal behind every worth.

    ``game``: the :class:`TUGame` (players = the problem's players; coalitions
    are bitmasks, bit ``i`` = ``players[i]``). ``deals[mask]``: a maximising deal
    of shape ``(k,)`` of that coalition, or ``None`` when its worth is its
    members' disagreement sum. ``payoffs[mask]``: every player's payoff (shape
    ``(n,)``) there: ``u(deal)``, or ``d`` when ``deals[mask]`` is ``None``;
    ``v(S)`` is the sum of its members' entries. ``reach[mask]``: labels of the
    issues the coalition can move. ``evidence[mask]``: the optimizer's objective,
    KKT residual, starts and where the worth came from. ``tolerance``: the
    accuracy of the worths (the problem's ``solve_tolerance``). Keys of the
    mappings are the non-empty coalitions ``1 .. 2**n - 1``.
    """

    game: TUGame
    issues: tuple[str, ...]
    needs: tuple[frozenset[int], ...]
    status_quo: FloatArray
    deals: Mapping[int, FloatArray | None]
    payoffs: Mapping[int, FloatArray]
    reach: Mapping[int, tuple[str, ...]]
    tolerance: float
    evidence: Mapping[int, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    notes: tuple[str, ...] = ()

    def deal_terms(self, mask: int) -> dict[str, float]:
        """Coalition ``mask``'s deal as ``{issue: value}`` (empty when it stays at ``d``)."""
        deal = self.deals[mask]
        if deal is None:
            return {}
        return {name: float(x) for name, x in zip(self.issues, deal, strict=True)}


# ---------------------------------------------------------------------------
# Private kernel shared with :mod:`simulator.coalition.ntu_core`.


def _consent(
    problem: BargainingProblem,
    needs: Sequence[Collection[int]],
    status_quo: npt.ArrayLike,
    where: str,
) -> tuple[tuple[frozenset[int], ...], FloatArray]:
    """Checked ``needs`` (one non-empty set of player indices per issue) and status quo."""
    n, k = problem.n_players, problem.n_issues
    if n > MAX_PLAYERS:
        raise ValueError(f"{where}: at most {MAX_PLAYERS} players are supported, got {n}")
    if isinstance(needs, str | bytes) or len(needs) != k:
        raise ValueError(
            f"{where}: needs must give one set of players per issue ({k} issues), got {needs!r}"
        )
    checked: list[frozenset[int]] = []
    for j, group in enumerate(needs):
        if isinstance(group, str | bytes):
            raise ValueError(
                f"{where}: needs[{j}] (issue {problem.issues[j]!r}) must be a collection of "
                f"player indices, not a string"
            )
        members = list(group)
        for i in members:
            if isinstance(i, bool) or not isinstance(i, int | np.integer) or not 0 <= i < n:
                raise ValueError(
                    f"{where}: needs[{j}] (issue {problem.issues[j]!r}) holds {i!r}; player "
                    f"indices are 0..{n - 1}"
                )
        if not members:
            raise ValueError(
                f"{where}: issue {problem.issues[j]!r} needs nobody's consent; every issue "
                "needs at least one player (fix it with lower == upper to keep it constant)"
            )
        checked.append(frozenset(int(i) for i in members))
    sq = np.asarray(status_quo, dtype=float).reshape(-1)
    if sq.shape != (k,) or not np.all(np.isfinite(sq)):
        raise ValueError(f"{where}: status_quo must be {k} finite numbers, got {status_quo!r}")
    tol = problem.deal_tolerance
    outside = (sq < problem.lower - tol) | (sq > problem.upper + tol)
    if np.any(outside):
        j = int(np.argmax(outside))
        raise ValueError(
            f"{where}: status quo {sq[j]} of issue {problem.issues[j]!r} is outside its range "
            f"[{problem.lower[j]}, {problem.upper[j]}]"
        )
    sq = np.clip(sq, problem.lower, problem.upper)
    sq.setflags(write=False)
    return tuple(checked), sq


def _free(needs: Sequence[frozenset[int]], mask: int) -> npt.NDArray[np.bool_]:
    """Which issues coalition ``mask`` can move: ``needs[j]`` is a subset of it."""
    return np.array([all(mask >> i & 1 for i in group) for group in needs], dtype=bool)


def _reach_bounds(
    problem: BargainingProblem, status_quo: FloatArray, free: npt.NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray] | None:
    """Box of the reach (out-of-reach issues fixed at the status quo), or ``None`` if empty."""
    lower = np.where(free, problem.lower, status_quo)
    upper = np.where(free, problem.upper, status_quo)
    if problem.A_ub is None or problem.b_ub is None:
        return lower, upper
    if np.all(problem.A_ub @ status_quo <= problem.b_ub):
        return lower, upper  # the status quo itself is in reach: no LP needed
    res = linprog(
        np.zeros(problem.n_issues),
        A_ub=problem.A_ub,
        b_ub=problem.b_ub,
        bounds=list(zip(lower, upper, strict=True)),
        method="highs",
    )
    if res.status != 0:
        return None
    return lower, upper


def _reach_problem(
    problem: BargainingProblem,
    bounds: tuple[FloatArray, FloatArray],
    players: tuple[str, ...] | None = None,
    utility: Utility | None = None,
    disagreement: FloatArray | None = None,
) -> BargainingProblem:
    """The problem restricted to a reach; optionally to some players' utilities and ``d``."""
    return BargainingProblem(
        players=problem.players if players is None else players,
        lower=bounds[0],
        upper=bounds[1],
        utility=problem.utility if utility is None else utility,
        disagreement=problem.disagreement if disagreement is None else disagreement,
        A_ub=problem.A_ub,
        b_ub=problem.b_ub,
        issues=problem.issues,
        n_starts=problem.n_starts,
    )


def _subsets(mask: int) -> list[int]:
    """All non-empty proper subsets of ``mask``."""
    out = []
    sub = (mask - 1) & mask
    while sub:
        out.append(sub)
        sub = (sub - 1) & mask
    return out


def _labels(players: Sequence[str], mask: int) -> str:
    return "{" + ", ".join(p for i, p in enumerate(players) if mask >> i & 1) + "}"


# ---------------------------------------------------------------------------


def derived_tu_game(
    problem: BargainingProblem,
    needs: Sequence[Collection[int]],
    status_quo: npt.ArrayLike,
    *,
    title: str = "",
) -> DerivedCoalitionGame:
    """The TU game of the module docstring: ``v(S)`` for every coalition of ``problem``'s players.

    ``needs``: length ``k``; ``needs[j]`` holds the indices of the players whose
    consent issue ``j`` needs (at least one). ``status_quo``: shape ``(k,)``, the
    value of each issue without their consent, within the issue's range (it may
    violate the linear constraints; coalitions whose reach is then empty are
    worth their disagreement sum). ``title`` is passed to the :class:`TUGame`.

    Each coalition's ``max_{z in X_S} sum_{i in S} u_i(z)`` is solved by SLSQP
    (Kraft 1988) from the sub-problem's screened starts, and again from the best
    deal it can copy (its sub-coalitions', the status quo, the side-by-side
    combination of its best two-part split) when that deal is better; the best
    deal found is kept, so a coalition is never worth less than what it could copy.

    Raises :class:`ValueError` (naming this function) on malformed ``needs`` or a
    status quo outside the issue ranges. Exponential in ``n`` (``2**n - 1``
    optimizations; see the module docstring).
    """
    where = "derived_tu_game"
    need_sets, sq = _consent(problem, needs, status_quo, where)
    n = problem.n_players
    d = problem.disagreement
    tol = problem.solve_tolerance
    table = coalition_matrix(n)
    sq_ok = bool(problem.feasible(sq))
    u_sq = problem.payoffs(sq)

    v = np.zeros(1 << n)
    deals: dict[int, FloatArray | None] = {}
    payoffs: dict[int, FloatArray] = {}
    reach: dict[int, tuple[str, ...]] = {}
    evidence: dict[int, Mapping[str, Any]] = {}
    empty: list[str] = []
    failed: list[str] = []

    for mask in range(1, 1 << n):
        weights = table[mask].astype(float)
        free = _free(need_sets, mask)
        reach[mask] = tuple(label for label, f in zip(problem.issues, free, strict=True) if f)
        fallback = float(weights @ d)
        info: dict[str, Any] = {"free_issues": reach[mask], "disagreement_sum": fallback}

        # Deals the coalition can copy: its sub-coalitions' (all in its reach) and the status quo.
        subs = _subsets(mask)
        copied = [z for s in subs if (z := deals[s]) is not None]
        if sq_ok:
            copied.append(np.asarray(sq))

        best_deal: FloatArray | None = None
        best_value = -np.inf
        bounds = _reach_bounds(problem, sq, free) if free.any() else None
        if free.any() and bounds is None:
            empty.append(_labels(problem.players, mask))
            info["source"] = "empty reach"
        elif bounds is None:
            # Nothing to move: the only deal in reach is the status quo itself.
            if sq_ok:
                best_deal, best_value = np.asarray(sq), float(weights @ u_sq)
            else:
                empty.append(_labels(problem.players, mask))
            info["source"] = "status quo" if sq_ok else "empty reach"
        else:
            sub = _reach_problem(problem, bounds)
            combined = _side_by_side(sub, sq, need_sets, mask, subs, v, deals)
            if combined is not None:
                copied.append(combined)
            if copied:
                values = problem.payoffs(np.vstack(copied)) @ weights
                top = int(np.argmax(values))
                best_deal, best_value = copied[top], float(values[top])
                info["source"] = "copied"
            floors = np.full(n, -np.inf)
            # Screened starts first: a copied deal can sit where SLSQP stalls (at a kink
            # or an infinite slope on the boundary), and two stalled runs would agree.
            found = _max_weighted(sub, weights, floors)
            if best_deal is not None and (found is None or found.value < best_value - tol):
                polished = _max_weighted(sub, weights, floors, starts=(best_deal,))
                info["polished_copy"] = True
                if polished is not None and (found is None or polished.value > found.value):
                    found = polished
            if found is None:
                failed.append(_labels(problem.players, mask))
            else:
                info.update(found.evidence())
                if found.value >= best_value:
                    best_deal, best_value = found.x[: problem.n_issues], float(found.value)
                    info["source"] = "optimizer"

        if best_deal is not None and best_value > fallback + tol:
            deal = np.array(best_deal, dtype=float)
            pay = problem.payoffs(deal)
            deal.setflags(write=False)
            deals[mask] = deal
            v[mask] = float(weights @ pay)
        else:
            if best_deal is not None:
                info["best_deal_value"] = best_value
                info["source"] = "disagreement"
            deals[mask] = None
            pay = d.copy()
            v[mask] = fallback
        pay.setflags(write=False)
        payoffs[mask] = pay
        evidence[mask] = MappingProxyType(info)

    notes = [
        f"worths come from a numerical optimizer and are accurate to about {tol:.3g} "
        "(the problem's solve tolerance), coarser than the TU game's own tolerance"
    ]
    if empty:
        notes.append(
            "no deal is feasible for " + ", ".join(empty) + " (the status quo of the issues "
            "they cannot move violates the linear constraints): each is worth its members' "
            "disagreement sum"
        )
    if failed:
        notes.append(
            "the optimizer converged from no start for " + ", ".join(failed) + "; their worths "
            "rest on the deals of their sub-coalitions and the status quo only"
        )
    game = TUGame(problem.players, v, title)
    return DerivedCoalitionGame(
        game=game,
        issues=problem.issues,
        needs=need_sets,
        status_quo=sq,
        deals=MappingProxyType(deals),
        payoffs=MappingProxyType(payoffs),
        reach=MappingProxyType(reach),
        tolerance=tol,
        evidence=MappingProxyType(evidence),
        notes=tuple(notes),
    )


def _side_by_side(
    sub: BargainingProblem,
    status_quo: FloatArray,
    needs: Sequence[frozenset[int]],
    mask: int,
    subs: Sequence[int],
    v: FloatArray,
    deals: Mapping[int, FloatArray | None],
) -> FloatArray | None:
    """The deals of the best split of ``mask`` into two parts, each on the issues it moves.

    The two parts' reaches share no issue (every issue needs someone), so their
    deals combine; the result is pulled into the coalition's reach. ``None`` when
    neither part of the best split has a deal.
    """
    if len(subs) < 2:
        return None
    best = max(subs, key=lambda s: v[s] + v[mask ^ s])
    parts = [s for s in (best, mask ^ best) if deals[s] is not None]
    if not parts:
        return None
    z = np.array(status_quo, dtype=float)
    for s in parts:
        free = _free(needs, s)
        z[free] = np.asarray(deals[s])[free]
    return sub.project(z)
