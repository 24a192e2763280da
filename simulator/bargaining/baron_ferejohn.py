"""Multilateral bargaining: the stationary equilibrium of Baron & Ferejohn (1989).

Notation as in :mod:`simulator.bargaining.problem`: ``n >= 2`` players, deals
``z`` in ``X``, utilities ``u``, disagreement point ``d``. The players bargain
in rounds. In each round one of them, the *proposer*, offers a deal; it passes
when at least ``q`` players accept (the *quota*, counting the proposer;
``q = n`` is unanimity), and otherwise the next round begins. Delay discounts
gains over ``d``: a payoff ``w`` one round later is worth ``d_j + delta_j (w - d_j)``
to player ``j`` now, so perpetual disagreement gives ``d``.

Who proposes:

* ``"random"`` recognition (Baron & Ferejohn 1989): in every round player ``i``
  is recognised with probability ``p_i``, independently of the past.
* ``"rotation"``: the players propose in the fixed order ``first, first + 1,
  ..., n - 1, 0, 1, ...``, the n-player alternating-offers game (Osborne &
  Rubinstein 1990, section 3.13). With two players and unanimity it is
  Rubinstein's (1982) game.

**Stationary equilibrium.** Let ``v_j`` be player ``j``'s value at the start of
the next round, should the current proposal fail (with random recognition, before
the proposer is drawn, so one ``v`` serves every round; in a rotation ``v``
depends on who proposes next). Responder ``j`` accepts ``z`` iff::

    u_j(z) - d_j >= delta_j (v_j - d_j)            (acceptance threshold t_j)

and proposer ``i`` buys the ``q - 1`` votes that are cheapest for him: for every
coalition ``C`` of ``q - 1`` other players he solves::

    max_{z in X} u_i(z)   subject to   u_j(z) >= t_j  for j in C

and proposes the best of these deals; if even that is worth less to him than
waiting (``d_i + delta_i (v_i - d_i)``) he lets the round pass. Players outside
``C`` get whatever the deal gives them, ``u_j(z)``, not ``d_j``. Where several
coalitions are equally cheap the proposer mixes uniformly over them (the
symmetric equilibrium of Baron & Ferejohn 1989) when that is consistent; when it
is not (heterogeneous players under a quota, where buying the cheapest player
makes him dear), he mixes with the probabilities that keep him indifferent, as
in Eraslan (2002), who shows that in the linear model the stationary payoffs are
unique though the mixing need not be. ``v`` is the fixed point of the map ``F``
from continuation values to the expected payoffs the proposals yield.

Only stationary equilibria are computed. With ``n >= 3`` the subgame-perfect
equilibria of both games include almost every division when players are patient
(Shaked's example for the rotation, reported by Osborne & Rubinstein 1990,
section 3.13, and Herrero 1985; Baron & Ferejohn 1989 for random recognition
under majority rule), so the set of all SPE predicts nothing; the stationary one
is the standard selection, and its payoffs are unique in the linear model.

Known answers (unit surplus, ``u_i = z_i``, ``d = 0``, common ``delta``):
random recognition with ``p_i = 1/n`` and quota ``q``: the proposer keeps
``1 - delta (q - 1) / n``, each partner gets ``delta / n`` and ``v_i = 1/n``;
with unanimity and any ``p``, ``v_i = p_i``. Rotation with unanimity: the
player ``k`` places after the proposer gets ``delta^k (1 - delta) / (1 - delta^n)``.

**Algorithm.** Policy iteration (Howard 1960) over the proposers' choices.
For fixed choices the values solve ``v = F(v)`` (for a rotation ``F`` is one
full cycle of rounds, swept backwards from the first proposer), a contraction
of modulus about ``max delta``. Plain (damped) iteration from ``v = d`` would
need about ``log(tol) / log(delta)`` rounds, hundreds for patient players, so
it is accelerated by Newton's method: the Jacobian of ``F`` comes free from
each proposal's sensitivity to its thresholds (parametric optimisation, Fiacco
1976), and a Newton step is taken where the linearised proposals stay feasible
and it lowers ``|v - F(v)|``; otherwise an Anderson (1965) step, and failing
that the plain step ``v <- F(v)``. Then the proposer who gains most by
re-choosing does so, mixing uniformly over the coalitions within solve
tolerance of his best, until the choices reproduce themselves. If they cycle,
no uniform mix is consistent, and the values and mixing probabilities are
solved together: an active-set loop over the supports of the mixes (``v = F(v)``
and equal proposer payoffs on each support, by bounded Levenberg-Marquardt,
Levenberg 1944, Marquardt 1963), backed by the same system as a nonlinear
complementarity problem over every option (Fischer 1992). The answer's
``evidence["fixed_point_residual"]`` and ``evidence["proposer_regret"]`` (what
a proposer would gain by changing his mix) certify it.

Each proposer's problem is solved by SLSQP (Kraft 1988, through
:func:`~simulator.bargaining.optimize._max_weighted`), started from the previous
answer moved to the new thresholds; the binding members' constraints are then
polished by Newton steps so that they hold exactly, not just within the
optimizer's tolerance. At the end every coalition's problem is solved again from
the most promising sampled deal elsewhere in ``X``, to check that the proposals
are global optima.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

from simulator.bargaining.optimize import _max_weighted
from simulator.bargaining.problem import (
    BargainingProblem,
    BargainingSolution,
    _Evaluator,
    _no_agreement,
    _solution,
)
from simulator.tolerance import RTOL

__all__ = ["baron_ferejohn"]

FloatArray = npt.NDArray[np.float64]
Policy = list[FloatArray]  # per proposer: the probability of each option (coalitions, then delay)

_PROTOCOLS = ("random", "rotation")
_INNER_EVALS = 60  # Newton steps per fixed policy before giving up
_STALL = 2  # Newton steps without halving the residual, near the noise floor, end a solve
_POLICY_ROUNDS = 4  # policy changes per player before switching to the mixed-strategy solve
_SUPPORT_ROUNDS = 6  # support adjustments in the mixed-strategy solve
_LSQ_EVALS = 60  # Levenberg-Marquardt iterations per support
_LSQ_PATIENCE = 4  # successful steps in which the squared residual must halve
_RETRY_STARTS = 3  # starts tried before a coalition's thresholds are declared unreachable
_ACTIVE = 1e-10  # a bound or linear row this close (relative to the issue ranges) is active
_DIFF_STEP = float(np.cbrt(np.finfo(float).eps))  # central differences, relative to the deal scale
_HESS_STEP = float(np.finfo(float).eps ** 0.25)  # second differences, relative to the deal scale


@dataclass(frozen=True)
class _Offer:
    """A proposer's best deal for one option at given thresholds.

    ``value``: the proposer's payoff (``-inf`` when no deal meets the
    thresholds). ``payoffs``: everyone's, shape ``(n,)`` (the thresholds
    themselves when the round passes). ``deal``: ``None`` for delay or a failed
    coalition. ``sensitivity``: ``dP/dt``, shape ``(n, n)``, how the payoffs move
    with the thresholds, and ``motion``: ``dz/dt``, shape ``(k, n)``, how the
    deal moves (see :meth:`_Model.sensitivity`).
    """

    value: float
    payoffs: FloatArray
    deal: FloatArray | None
    kkt: float
    sensitivity: FloatArray
    motion: FloatArray


@dataclass(frozen=True)
class _Round:
    """One proposer's round: the thresholds he faces, his options, his mix and its outcome."""

    thresholds: FloatArray
    offers: dict[int, _Offer]
    policy: FloatArray
    outcome: FloatArray  # expected payoffs (n,) of the round under ``policy``


@dataclass(frozen=True)
class _Eval:
    """The map ``F`` at ``x``: ``fx = F(x)`` and the rounds that produced it."""

    x: FloatArray
    fx: FloatArray
    rounds: tuple[_Round, ...]

    @property
    def residual(self) -> float:
        return float(np.max(np.abs(self.fx - self.x)))


class _Model:
    """The stationary bargaining game on plain arrays (the private kernel).

    The state ``x`` (shape ``(n,)``) is the ex-ante value ``v`` for random
    recognition, and the values at the start of the first proposer's round for a
    rotation (the other rounds' values are recomputed by sweeping backwards).
    Options of proposer ``i`` are indexed: his coalitions (``combinations`` order),
    then delay.
    """

    def __init__(
        self,
        problem: BargainingProblem,
        delta: FloatArray,
        protocol: str,
        recognition: FloatArray | None,
        quota: int,
        first: int,
    ) -> None:
        self.problem = problem
        self.n = n = problem.n_players
        self.delta = delta
        self.protocol = protocol
        self.recognition = recognition
        self.first = first
        self.options: list[list[tuple[int, ...] | None]] = [
            [*combinations([j for j in range(n) if j != i], quota - 1), None] for i in range(n)
        ]
        self.ev = _Evaluator(problem)
        self.tol = problem.solve_tolerance
        self.scale = problem.tolerance.payoff / problem.tolerance.rtol
        # Per option: the last answer (a cache), and the last deal found with its thresholds.
        self._cache: dict[tuple[int, int], tuple[FloatArray, _Offer]] = {}
        self._anchor: dict[tuple[int, int], tuple[FloatArray, _Offer]] = {}
        # Thresholds at which an option had no deal: higher ones have none either.
        self._hopeless: dict[tuple[int, int], list[FloatArray]] = {}
        self.evaluations = 0
        self.solves = 0

    def thresholds(self, cont: FloatArray) -> FloatArray:
        d = self.problem.disagreement
        return np.asarray(d + self.delta * (cont - d))

    def solve(self, i: int, o: int, t: FloatArray, warm: FloatArray | None) -> _Offer:
        """Proposer ``i``'s best deal buying option ``o``'s coalition at thresholds ``t``."""
        n, k = self.n, self.problem.n_issues
        coalition = self.options[i][o]
        if coalition is None:
            return _Offer(float(t[i]), t.copy(), None, 0.0, np.eye(n), np.zeros((k, n)))
        p = self.problem
        floors = np.full(n, -np.inf)
        members = list(coalition)
        floors[members] = t[members]
        weights = np.zeros(n)
        weights[i] = 1.0
        best = _max_weighted(p, weights, floors, self.ev, (warm if warm is not None else p.centre,))
        self.solves += 1
        if best is None:
            # A stalled warm start, or thresholds no deal meets: try more starts before concluding.
            more = tuple(p.starts[:_RETRY_STARTS])
            best = _max_weighted(p, weights, floors, self.ev, more)
            self.solves += len(more)
        if best is None:
            return self.unreachable(t)
        z = best.x.copy()
        if warm is None or not np.array_equal(z, warm):
            # The optimizer moved (a polished start it accepts as it is needs nothing).
            z = self.polish(z, members, t)
        u, jac = self.ev(z)
        dp, dz = self.sensitivity(i, z, u, jac, members, t)
        return _Offer(float(u[i]), u.copy(), z, best.kkt, dp, dz)

    def unreachable(self, t: FloatArray) -> _Offer:
        """A coalition whose thresholds no deal meets: the proposal fails and the round passes."""
        n, k = self.n, self.problem.n_issues
        return _Offer(-np.inf, t.copy(), None, float("nan"), np.eye(n), np.zeros((k, n)))

    def polish(self, z: FloatArray, members: list[int], t: FloatArray) -> FloatArray:
        """Newton steps that make the binding members' thresholds hold exactly.

        The optimizer accepts a deal once its constraints hold within the solve
        tolerance; a fixed point that prices every vote needs them to bind
        exactly, or the continuation values drift by that much. Each step moves
        the deal along the active bounds and linear rows (least-norm), and is
        kept only if the deal stays in ``X`` and the shortfall falls.
        """
        p = self.problem
        exact = p.tolerance.payoff
        for _ in range(3):
            u, jac = self.ev(z)
            binding = [j for j in members if u[j] - t[j] <= self.tol]
            if not binding:
                break
            short = t[binding] - u[binding]
            rows, room = _active_rows(p, z)
            if np.max(np.abs(short)) <= exact and (room.size == 0 or np.max(np.abs(room)) <= exact):
                break
            lhs = np.vstack([jac[binding], *rows]) if rows else jac[binding]
            step = np.linalg.lstsq(lhs, np.concatenate([short, room]), rcond=None)[0]
            moved = np.clip(z + step, p.lower, p.upper)
            after = t[binding] - self.ev(moved)[0][binding]
            if not p.feasible(moved) or np.max(np.abs(after)) >= np.max(np.abs(short)):
                break
            z = moved
        return z

    def sensitivity(
        self,
        i: int,
        z: FloatArray,
        u: FloatArray,
        jac: FloatArray,
        members: list[int],
        t: FloatArray,
    ) -> tuple[FloatArray, FloatArray]:
        """``dP/dt`` (shape ``(n, n)``) and ``dz/dt`` (``(k, n)``) at proposer ``i``'s optimum.

        Parametric optimisation (Fiacco 1976): while the active set stays, the
        deal moves so that binding members keep ``u_j(z) = t_j``, active bounds
        and linear rows stay active, and the Lagrangian
        ``L = u_i + sum_j lambda_j u_j`` stays stationary along the directions
        ``Z`` those constraints leave free. So ``dz = dz_0 + Z w``, with ``dz_0``
        the least-norm solution of the linearised constraints and ``w`` solving
        ``(Z' H Z) w = -Z' H dz_0`` for the Hessian ``H`` of ``L``, whose needed
        entries come from second differences of ``L`` along those directions
        (Nocedal & Wright 2006, sections 12.8 and 16.2). ``dP/dt`` is the central
        difference of ``u`` along each column of ``dz/dt``; the binding members'
        rows are set exactly (each gets his threshold). Differencing along the
        motion, not ``J_u dz/dt``, keeps the deal on its active constraints,
        where a utility such as ``(1 - z_0 - z_1) ** 0.5`` has a kink that a
        Jacobian's stencil would straddle.
        """
        n = self.n
        binding = [j for j in members if u[j] - t[j] <= self.tol]
        if not binding:
            return np.zeros((n, n)), np.zeros((z.size, n))
        p = self.problem
        rows, _ = _active_rows(p, z)
        lhs = np.vstack([jac[binding], *rows]) if rows else jac[binding]
        rhs = np.zeros((lhs.shape[0], n))
        rhs[np.arange(len(binding)), binding] = 1.0
        dz = np.asarray(np.linalg.lstsq(lhs, rhs, rcond=None)[0])
        dz[:, binding] += self.curvature(i, z, jac, binding, lhs, dz[:, binding])
        size = np.max(np.abs(dz[:, binding]), axis=0)
        moving = [j for j, s in zip(binding, size, strict=True) if s > 0]
        dp = np.zeros((n, n))
        if moving:
            span = float(np.max(np.maximum(p.upper - p.lower, 1.0)))
            h = _DIFF_STEP * span / np.max(np.abs(dz[:, moving]), axis=0)
            steps = (dz[:, moving] * h).T  # (m, k)
            ends = np.clip(np.concatenate([z + steps, z - steps]), p.lower, p.upper)
            values = p.payoffs(ends)
            m = len(moving)
            dp[:, moving] = ((values[:m] - values[m:]) / (2.0 * h[:, None])).T
        # Binding members get exactly their thresholds, whatever the utilities' slopes.
        dp[binding, :] = 0.0
        dp[binding, binding] = 1.0
        return dp, dz

    def curvature(
        self,
        i: int,
        z: FloatArray,
        jac: FloatArray,
        binding: list[int],
        lhs: FloatArray,
        base: FloatArray,
    ) -> FloatArray:
        """The correction ``Z w`` to the least-norm motion ``base`` (see :meth:`sensitivity`).

        ``lhs``: the active constraints' rows (binding members first). Zero at a
        vertex (no free direction) or where the reduced Hessian is singular.
        """
        p = self.problem
        k = z.size
        _, sv, vt = np.linalg.svd(lhs)
        rank = int(np.sum(sv > 1e-10 * max(float(sv[0]), 1e-300))) if sv.size else 0
        free = vt[rank:].T  # (k, m): directions the active constraints leave free
        m = free.shape[1]
        if m == 0:
            return np.zeros_like(base)
        # Multipliers of the binding members from stationarity of the Lagrangian.
        normals = np.vstack([-jac[binding], *lhs[len(binding) :]]).T
        lam = np.linalg.lstsq(normals, jac[i], rcond=None)[0][: len(binding)]
        weights = np.zeros(self.n)
        weights[i] = 1.0
        weights[binding] = lam
        dirs = np.hstack([free, base / np.maximum(np.linalg.norm(base, axis=0), 1e-300)])
        pairs = [(a, b) for a in range(m) for b in range(a, dirs.shape[1])]
        h = _HESS_STEP * float(np.max(np.maximum(p.upper - p.lower, 1.0)))
        signs = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], dtype=float)
        points = np.array(
            [z + h * (sa * dirs[:, a] + sb * dirs[:, b]) for a, b in pairs for sa, sb in signs]
        )
        lag = (p.payoffs(np.clip(points, p.lower, p.upper)) @ weights).reshape(len(pairs), 4)
        second = (lag[:, 0] - lag[:, 1] - lag[:, 2] + lag[:, 3]) / (4 * h * h)
        hess = np.zeros((m, dirs.shape[1]))
        for (a, b), value in zip(pairs, second, strict=True):
            hess[a, b] = value
            if b < m:
                hess[b, a] = value
        reduced, cross = hess[:, :m], hess[:, m:] * np.linalg.norm(base, axis=0)
        try:
            w = np.linalg.solve(reduced, -cross)
        except np.linalg.LinAlgError:
            return np.zeros((k, base.shape[1]))
        if not np.all(np.isfinite(w)):
            return np.zeros((k, base.shape[1]))
        return np.asarray(free @ w)

    def offer(self, i: int, o: int, t: FloatArray) -> _Offer:
        """:meth:`solve` at thresholds ``t``, cached, and warm-started by prediction.

        The start is the last deal found for this option moved by its
        :attr:`_Offer.motion` to the new thresholds and polished: when the
        active set has not changed this is the new optimum already, and the
        optimizer accepts it without iterating.
        """
        cached = self._cache.get((i, o))
        if cached is not None and np.array_equal(cached[0], t):
            return cached[1]
        coalition = self.options[i][o]
        if coalition is not None:
            members = list(coalition)
            for t0 in self._hopeless.get((i, o), ()):
                if np.all(t[members] >= t0[members]):
                    return self.unreachable(t)
        start = None
        anchor = self._anchor.get((i, o))
        if anchor is not None and anchor[1].deal is not None and coalition is not None:
            t0, f0 = anchor
            assert f0.deal is not None
            p = self.problem
            moved = np.clip(f0.deal + f0.motion @ (t - t0), p.lower, p.upper)
            start = self.polish(moved, list(coalition), t)
        result = self.solve(i, o, t, start)
        self.remember(i, o, t, result)
        return result

    def remember(self, i: int, o: int, t: FloatArray, offer: _Offer) -> None:
        self._cache[(i, o)] = (t.copy(), offer)
        if offer.deal is not None:
            self._anchor[(i, o)] = (t.copy(), offer)
        elif self.options[i][o] is not None:
            self._hopeless.setdefault((i, o), []).append(t.copy())

    def value(self, offer: _Offer, t: FloatArray, i: int) -> float:
        """The proposer's payoff from an option; a failed coalition is worth waiting, no more."""
        return offer.value if np.isfinite(offer.value) else float(t[i])

    def choose(self, i: int, offers: dict[int, _Offer], t: FloatArray) -> FloatArray:
        """Uniform over the coalitions within solve tolerance of the best; delay if waiting pays."""
        m = len(self.options[i])
        policy = np.zeros(m)
        values = np.array([offers[o].value for o in range(m - 1)])
        best = float(np.max(values))
        if np.isfinite(best) and best >= t[i] - self.tol:
            support = values >= best - self.tol
            policy[: m - 1][support] = 1.0 / np.count_nonzero(support)
        else:
            policy[m - 1] = 1.0
        return policy

    def round(
        self, i: int, t: FloatArray, policy: FloatArray | None, wanted: Sequence[int] | None
    ) -> _Round:
        """Proposer ``i``'s round: the options in ``wanted`` (default all) at thresholds ``t``."""
        m = len(self.options[i])
        offers = {o: self.offer(i, o, t) for o in (range(m) if wanted is None else wanted)}
        if policy is None:
            policy = self.choose(i, offers, t)
        outcome = np.zeros(self.n)
        for o in np.flatnonzero(policy > 0):
            outcome += policy[o] * offers[int(o)].payoffs
        return _Round(thresholds=t, offers=offers, policy=policy, outcome=outcome)

    def evaluate(
        self,
        x: FloatArray,
        policy: Policy | None,
        supports: Sequence[Sequence[int]] | None = None,
    ) -> _Eval:
        """``F(x)`` under ``policy`` (``None``: each proposer's best response, ties uniform).

        Solves the options in ``supports`` (default: every option; with a
        policy, those it plays).
        """
        self.evaluations += 1
        n = self.n

        def wanted(i: int) -> Sequence[int] | None:
            if supports is not None:
                return supports[i]
            if policy is None:
                return None
            return [int(o) for o in np.flatnonzero(policy[i] > 0)]

        rounds: list[_Round | None] = [None] * n
        if self.protocol == "random":
            t = self.thresholds(x)
            for i in range(n):
                rounds[i] = self.round(i, t, None if policy is None else policy[i], wanted(i))
            assert self.recognition is not None
            fx = self.recognition @ np.array([r.outcome for r in rounds if r is not None])
        else:
            # Backwards through one cycle: round i's thresholds come from round i + 1's values.
            nxt = x
            for s in range(1, n + 1):
                i = (self.first - s) % n
                rnd = self.round(
                    i, self.thresholds(nxt), None if policy is None else policy[i], wanted(i)
                )
                rounds[i] = rnd
                nxt = rnd.outcome
            fx = nxt
        done = tuple(r for r in rounds if r is not None)
        return _Eval(x=x, fx=np.asarray(fx, dtype=float), rounds=done)

    def full(self, x: FloatArray, policy: Policy) -> _Eval:
        """:meth:`evaluate` solving every option (to check the policy against all of them)."""
        return self.evaluate(x, policy, [list(range(len(opts))) for opts in self.options])

    def derivatives(
        self,
        e: _Eval,
        policy: Policy,
        supports: Sequence[Sequence[int]],
        dx: FloatArray,
        dpolicy: Sequence[FloatArray] | None = None,
        record: dict[int, FloatArray] | None = None,
    ) -> tuple[FloatArray, dict[tuple[int, int], FloatArray]]:
        """``dF/dy`` and each supported option's ``d value / dy``, by the chain rule.

        ``y`` are parameters of width ``dx.shape[1]``: ``dx`` is ``dx/dy`` (shape
        ``(n, ny)``), ``dpolicy[i]`` is ``d policy_i / dy`` (shape ``(m_i, ny)``,
        default zero). Thresholds are ``d + delta (cont - d)``; a round's outcome
        is the policy-weighted payoffs of its options, each moving with the
        thresholds by its :attr:`_Offer.sensitivity`. ``record`` receives each
        round's ``dt/dy``.
        """
        n, ny = self.n, dx.shape[1]
        dvalue: dict[tuple[int, int], FloatArray] = {}

        def round_jac(i: int, dcont: FloatArray) -> FloatArray:
            rnd = e.rounds[i]
            dt = self.delta[:, None] * dcont
            if record is not None:
                record[i] = dt
            out = np.zeros((n, ny))
            for o in supports[i]:
                f = rnd.offers[o]
                dp = f.sensitivity @ dt
                dvalue[(i, o)] = dp[i]
                out += policy[i][o] * dp
                if dpolicy is not None:
                    out += np.outer(f.payoffs, dpolicy[i][o])
            return out

        if self.protocol == "random":
            assert self.recognition is not None
            df = np.zeros((n, ny))
            for i in range(n):
                df += self.recognition[i] * round_jac(i, dx)
        else:
            df = dx
            for s in range(1, n + 1):
                df = round_jac((self.first - s) % n, df)
        return df, dvalue

    def predict(
        self, e: _Eval, policy: Policy, played: Sequence[Sequence[int]], dx: FloatArray
    ) -> bool:
        """Whether the played proposals, moved linearly for the step ``dx``, stay feasible.

        Each proposal moves by its :attr:`_Offer.motion` times its round's
        threshold change. The step is trusted when every predicted deal lies in
        ``X`` and (nearly) meets its members' new thresholds. An untrusted step
        could hand the optimizer thresholds no deal meets, which costs a full
        run to discover.
        """
        record: dict[int, FloatArray] = {}
        self.derivatives(e, policy, played, dx[:, None], record=record)
        for i, rnd in enumerate(e.rounds):
            dt = record[i][:, 0]
            slack = 0.1 * float(np.max(np.abs(dt))) + self.tol
            for o in played[i]:
                f = rnd.offers[o]
                members = list(self.options[i][o] or ())
                if f.deal is None or not members:
                    continue
                z = f.deal + f.motion @ dt
                if not self.problem.feasible(z):
                    return False
                u = self.problem.payoffs(z)
                need = rnd.thresholds + dt
                if np.max(need[members] - u[members]) > slack:
                    return False
        return True

    def gain(self, i: int, rnd: _Round) -> float:
        """What proposer ``i`` gains by his best option over his mix (all options evaluated)."""
        t = rnd.thresholds
        real = {o: self.value(f, t, i) for o, f in rnd.offers.items()}
        got = sum(rnd.policy[o] * real[int(o)] for o in np.flatnonzero(rnd.policy > 0))
        return max(real.values()) - float(got)

    def regret(self, e: _Eval) -> float:
        """The most any proposer gains by deviating from his mix (needs a full evaluation)."""
        return max(self.gain(i, rnd) for i, rnd in enumerate(e.rounds))


def _active_rows(problem: BargainingProblem, z: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Rows ``a`` of the bounds and linear constraints active at ``z``, and ``c - a @ z``.

    Each active constraint is written ``a @ z <= c`` (a fixed issue counts once);
    the second output is how far each is from holding with equality. Active
    means within :data:`_ACTIVE` of the issue ranges, far tighter than the deal
    tolerance: the optimizer puts active bounds and linear rows at equality up
    to round-off, and a row merely close to active (a member's tiny share next
    to the shares' sum) must not pin the deal's motion.
    """
    k = problem.n_issues
    tol = _ACTIVE * np.maximum(problem.upper - problem.lower, 1.0)
    rows: list[FloatArray] = []
    room: list[float] = []
    eye = np.eye(k)
    for j in range(k):
        if z[j] >= problem.upper[j] - tol[j]:
            rows.append(eye[j])
            room.append(float(problem.upper[j] - z[j]))
        elif z[j] <= problem.lower[j] + tol[j]:
            rows.append(eye[j])
            room.append(float(problem.lower[j] - z[j]))
    if problem.A_ub is not None and problem.b_ub is not None:
        slack = problem.b_ub - problem.A_ub @ z
        scale = np.abs(problem.A_ub) @ tol
        for row, gap, sc in zip(problem.A_ub, slack, scale, strict=True):
            if gap <= sc:
                rows.append(row)
                room.append(float(gap))
    return rows, np.array(room)


def _played(policy: Policy) -> list[list[int]]:
    return [[int(o) for o in np.flatnonzero(p > 0)] for p in policy]


def _newton(model: _Model, policy: Policy, x0: FloatArray, target: float) -> _Eval:
    """Solve ``x = F(x)`` for a fixed policy to ``|F(x) - x| <= target``: safeguarded Newton.

    The Jacobian of ``F`` comes from the options' threshold sensitivities
    (:meth:`_Model.derivatives`) at no extra solves, so each step costs one
    evaluation of ``F``. Where the linearised proposals would leave the deal
    space (the linearisation is poor, e.g. near a kink of a utility), the step
    is the Anderson (1965; Walker & Ni 2011) extrapolation of the iterates so
    far, which needs no derivatives; a step that does not reduce the residual
    is replaced by the plain fixed-point step ``x <- F(x)``, which always
    progresses because ``F`` is a contraction (of modulus about ``max delta``;
    plain iteration alone would need about ``log(tol) / log(delta)`` steps).
    Stops early when the residual is within a thousandth of the solve
    tolerance and no longer halving (the optimizers' noise floor), or has not
    halved in ``5 * _STALL`` steps.
    """
    n = model.n
    played = _played(policy)
    e = model.evaluate(x0, policy)
    best = e
    stalled = 0
    history = [e]
    for _ in range(_INNER_EVALS):
        res = e.residual
        if res <= target or (stalled >= _STALL and best.residual <= 1e-3 * model.tol):
            break
        if stalled >= 5 * _STALL:
            break  # no progress: the optimizers' noise is above the target
        g = e.fx - e.x
        jf, _ = model.derivatives(e, policy, played, np.eye(n))
        try:
            newton = e.x + np.linalg.solve(np.eye(n) - jf, g)
        except np.linalg.LinAlgError:
            newton = e.fx
        trial = None
        # Back off from the Newton point towards the plain step F(x) until the
        # linearised proposals stay feasible and the residual falls.
        for theta in (1.0, 0.5, 0.25):
            x_try = e.fx + theta * (newton - e.fx)
            if model.predict(e, policy, played, x_try - e.x):
                candidate = model.evaluate(x_try, policy)
                if candidate.residual < res and _proposals_hold(candidate, played):
                    trial = candidate
                break
        if trial is None and len(history) > 1:
            candidate = model.evaluate(_anderson_point(history[-1 - n :]), policy)
            if candidate.residual < res and _proposals_hold(candidate, played):
                trial = candidate
        if trial is None:
            trial = model.evaluate(e.fx, policy)
        history.append(trial)
        stalled = 0 if trial.residual < 0.5 * best.residual else stalled + 1
        if trial.residual < best.residual:
            best = trial
        e = trial
    return best


def _anderson_point(history: Sequence[_Eval]) -> FloatArray:
    """The type-II Anderson extrapolation from evaluations of ``F`` (oldest first)."""
    xs = np.array([h.x for h in history])
    gs = np.array([h.fx - h.x for h in history])
    dx, dg = np.diff(xs, axis=0).T, np.diff(gs, axis=0).T
    gamma = np.linalg.lstsq(dg, gs[-1], rcond=None)[0]
    return np.asarray(xs[-1] + gs[-1] - (dx + dg) @ gamma)


def _proposals_hold(e: _Eval, played: Sequence[Sequence[int]]) -> bool:
    """Whether every played coalition still has a deal meeting its thresholds."""
    return all(
        np.isfinite(e.rounds[i].offers[o].value) for i, sup in enumerate(played) for o in sup
    )


def _supports(policy: Policy) -> tuple[frozenset[int], ...]:
    return tuple(frozenset(int(o) for o in np.flatnonzero(p > 0)) for p in policy)


def _policy_iteration(
    model: _Model, x0: FloatArray
) -> tuple[_Eval, Policy, bool, list[tuple[frozenset[int], ...]]]:
    """Policy iteration (Howard 1960) with uniform tie-breaking, from values ``x0``.

    The proposers' choices start as their best responses at ``x0``. After each
    fixed-point solve, the proposer who gains most by re-choosing does so (one
    at a time: switching all at once tends to cycle where a pure equilibrium
    exists). Returns the last full evaluation, its policy, whether the policy
    reproduced itself, and the supports visited since the first repeat (for the
    mixed phase when it did not).
    """
    e = model.evaluate(x0, None)
    policy = [r.policy for r in e.rounds]
    visited = [_supports(policy)]
    # Policies that will be abandoned need only a rough fixed point; the last is polished.
    rough = max(model.tol, 1e-3 * model.scale)
    for _ in range(_POLICY_ROUNDS * model.n):
        inner = _newton(model, policy, e.x, rough)
        e = model.full(inner.x, policy)
        new = [model.choose(i, r.offers, r.thresholds) for i, r in enumerate(e.rounds)]
        if _supports(new) == visited[-1]:
            inner = _newton(model, policy, e.x, model.problem.tolerance.payoff)
            e = model.full(inner.x, policy)
            new = [model.choose(i, r.offers, r.thresholds) for i, r in enumerate(e.rounds)]
            if _supports(new) == visited[-1]:
                return e, policy, True, visited
        gain = [
            model.gain(i, rnd) if _supports([new[i]]) != _supports([policy[i]]) else -1.0
            for i, rnd in enumerate(e.rounds)
        ]
        switch = int(np.argmax(gain))
        policy = [new[i] if i == switch else policy[i] for i in range(model.n)]
        key = _supports(policy)
        if key in visited:
            # The choices cycle: the equilibrium mixes over the coalitions of the cycle.
            start = visited.index(key)
            visited.append(key)
            return e, policy, False, visited[start:]
        visited.append(key)
    return e, policy, False, visited[-3:]


def _levenberg_marquardt(
    fun: Callable[[FloatArray], FloatArray],
    jac: Callable[[FloatArray], FloatArray],
    y: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    target: float,
) -> tuple[FloatArray, bool]:
    """Bounded Levenberg-Marquardt (Levenberg 1944; Marquardt 1963) for ``fun(y) = 0``.

    Steps are clipped to the box ``[lo, hi]``; the damping falls after a
    successful step and rises after a failed one. Stops when
    ``max |fun(y)| <= target``, when :data:`_LSQ_PATIENCE` successful steps
    have not halved the squared residual (stuck at a positive residual), or
    after ten successive failed steps. Each iteration costs one evaluation of
    ``fun``; ``jac`` is analytic and cheap. Returns the last accepted ``y`` and
    whether the target was met.
    """
    r = fun(y)
    cost = float(r @ r)
    mu = 1e-3
    fails = 0
    accepted = [cost]
    for _ in range(_LSQ_EVALS):
        if float(np.max(np.abs(r))) <= target:
            return y, True
        if len(accepted) > _LSQ_PATIENCE and accepted[-1] > 0.5 * accepted[-1 - _LSQ_PATIENCE]:
            break
        j = jac(y)
        jtj = j.T @ j
        grad = j.T @ r
        # Marquardt's scaling, floored so that directions the residual barely sees
        # (mixing that does not matter) are damped too.
        diag = np.diag(jtj)
        damping = mu * np.diag(np.maximum(diag, 1e-6 * max(float(np.max(diag)), 1e-12)))
        step = _bounded_step(jtj + damping, grad, y, lo, hi)
        trial = np.clip(y + step, lo, hi)
        r_trial = fun(trial)
        cost_trial = float(r_trial @ r_trial)
        if cost_trial < cost:
            y, r, cost = trial, r_trial, cost_trial
            mu = max(mu / 3.0, 1e-12)
            fails = 0
            accepted.append(cost)
        else:
            mu *= 4.0
            fails += 1
            if fails >= 10:
                break
    return y, float(np.max(np.abs(r))) <= target


def _bounded_step(
    lhs: FloatArray, grad: FloatArray, y: FloatArray, lo: FloatArray, hi: FloatArray
) -> FloatArray:
    """The damped Gauss-Newton step, with variables held at a bound they would cross."""
    step = np.zeros_like(y)
    free = lo < hi
    for _ in range(2):
        try:
            step[free] = np.linalg.solve(lhs[np.ix_(free, free)], -grad[free])
        except np.linalg.LinAlgError:
            step[free] = -grad[free]
        out = free & (((y <= lo) & (step < 0)) | ((y >= hi) & (step > 0)))
        if not np.any(out):
            break
        free &= ~out
        step[~free] = 0.0
    return step


def _fischer_burmeister(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``phi = sqrt(a^2 + b^2) - a - b`` and its partial derivatives (Fischer 1992).

    ``phi = 0`` exactly when ``a >= 0``, ``b >= 0`` and ``a b = 0``. At ``(0, 0)``,
    where ``phi`` has no derivative, an element of its generalised Jacobian is used.
    """
    root = np.hypot(a, b)
    safe = np.where(root > 0, root, 1.0)
    da = np.where(root > 0, a / safe, 1.0 / np.sqrt(2.0)) - 1.0
    db = np.where(root > 0, b / safe, 1.0 / np.sqrt(2.0)) - 1.0
    return root - a - b, da, db


def _mixed(
    model: _Model, e: _Eval, policy: Policy, visited: Sequence[tuple[frozenset[int], ...]]
) -> tuple[_Eval, Policy]:
    """Stationary equilibrium with mixing, when the policy iteration cycles.

    Unknowns: the state ``x``, every proposer's probabilities ``pi_io`` over all
    his options, and his equilibrium payoff ``w_i``. Equations: ``F(x) = x``,
    ``sum_o pi_io = 1``, and for every option ``pi_io >= 0``, ``w_i - a_io >= 0``
    with one of them zero (an option is played only if it is among the best).
    The Jacobian comes from :meth:`_Model.derivatives`, and every system is
    solved by bounded Levenberg-Marquardt.

    First an active-set loop: with fixed supports (the cycle's options to
    start with) the conditions become the smooth system ``w_i = a_io`` on the
    supports, nothing else played. After each solve, a proposer whom an
    unplayed option would pay more switches to his best options; the others
    add the options that tie. This is all it takes once the supports are right.
    If that fails, the complementarity conditions are written with the
    Fischer-Burmeister function over every option, which finds supports by
    itself but can stall where it is not smooth; the smooth system on the
    supports it points to (options within its residual of the best) then
    finishes. The candidate with the least fixed-point residual plus proposer
    regret is kept.
    """
    n, d, scale = model.n, model.problem.disagreement, model.scale
    sizes = [len(opts) for opts in model.options]
    offsets = np.concatenate([[n], n + np.cumsum(sizes)]).astype(int)
    ny = int(offsets[-1]) + n
    everything = [list(range(m)) for m in sizes]
    cache: dict[str, Any] = {}
    # None: complementarity on every option; else the options that must tie for the best.
    fixed: list[list[int]] | None = None

    def unpack(y: FloatArray) -> tuple[FloatArray, Policy, FloatArray]:
        x = d + scale * y[:n]
        pol = [y[offsets[i] : offsets[i + 1]].copy() for i in range(n)]
        return x, pol, d + scale * y[offsets[-1] :]

    def run(y: FloatArray) -> tuple[_Eval, Policy, FloatArray, FloatArray]:
        key = y.tobytes()
        if cache.get("key") != key:
            x, pol, w = unpack(y)
            ev = model.evaluate(x, pol, everything)
            # An unreachable coalition is worth less than anything: it is never played.
            values = np.concatenate(
                [
                    [
                        f.value if np.isfinite(f.value) else ev.rounds[i].thresholds[i] - scale
                        for f in (ev.rounds[i].offers[o] for o in range(sizes[i]))
                    ]
                    for i in range(n)
                ]
            )
            cache.update(key=key, e=ev, policy=pol, w=w, values=values)
        return cache["e"], cache["policy"], cache["w"], cache["values"]

    def gaps(y: FloatArray) -> tuple[FloatArray, FloatArray]:
        _, pol, w, values = run(y)
        probs = np.concatenate(pol)
        return probs, (np.repeat(w, sizes) - values) / scale

    def fun(y: FloatArray) -> FloatArray:
        ev, pol, _, _ = run(y)
        probs, slack = gaps(y)
        if fixed is None:
            phi = _fischer_burmeister(probs, slack)[0]
        else:
            phi = slack[[offsets[i] - n + o for i, sup in enumerate(fixed) for o in sup]]
        sums = np.array([p.sum() - 1.0 for p in pol])
        return np.concatenate([(ev.fx - ev.x) / scale, sums, phi])

    def jac(y: FloatArray) -> FloatArray:
        ev, pol, _, _ = run(y)
        dx = np.zeros((n, ny))
        dx[:, :n] = scale * np.eye(n)
        dpolicy = []
        for i in range(n):
            dp = np.zeros((sizes[i], ny))
            dp[:, offsets[i] : offsets[i + 1]] = np.eye(sizes[i])
            dpolicy.append(dp)
        df, dvalue = model.derivatives(ev, pol, everything, dx, dpolicy)
        rows = [(df - dx) / scale]
        for i in range(n):
            row = np.zeros((1, ny))
            row[0, offsets[i] : offsets[i + 1]] = 1.0
            rows.append(row)
        probs, slack = gaps(y)
        _, da, db = _fischer_burmeister(probs, slack)
        for i in range(n):
            for o in range(sizes[i]):
                k = offsets[i] - n + o
                dslack = -dvalue[(i, o)] / scale
                dslack[offsets[-1] + i] += 1.0
                if fixed is not None:
                    if o in fixed[i]:
                        rows.append(dslack[None, :])
                    continue
                dprob = np.zeros(ny)
                dprob[offsets[i] + o] = 1.0
                rows.append((da[k] * dprob + db[k] * dslack)[None, :])
        return np.vstack(rows)

    lo = np.concatenate([np.full(n, -np.inf), np.zeros(ny - 2 * n), np.full(n, -np.inf)])
    hi = np.concatenate([np.full(n, np.inf), np.ones(ny - 2 * n), np.full(n, np.inf)])
    target = 1e-3 * model.tol / scale

    def on(supports: list[list[int]] | None, y0: FloatArray) -> tuple[FloatArray, float]:
        """Solve the complementarity system (``None``) or the smooth one on ``supports``."""
        nonlocal fixed
        fixed = supports
        lo2, hi2, y = lo.copy(), hi.copy(), y0.copy()
        for i, sup in enumerate(supports or []):
            out = [offsets[i] + o for o in range(sizes[i]) if o not in sup]
            y[out] = 0.0
            lo2[out] = hi2[out] = 0.0
            block = y[offsets[i] : offsets[i + 1]]
            total = float(block.sum())
            y[offsets[i] : offsets[i + 1]] = (
                block / total if total > 0 else np.isin(np.arange(sizes[i]), sup) / len(sup)
            )
        y, _ = _levenberg_marquardt(fun, jac, y, lo2, hi2, target)
        level = float(np.max(np.abs(fun(y))))
        fixed = None
        return y, level

    def finish(y: FloatArray) -> tuple[_Eval, Policy, float]:
        """The full evaluation at ``y``'s values and mix, and its residual plus regret."""
        x, pol, _ = unpack(y)
        values = run(y)[3]
        mixed = []
        for i, p in enumerate(pol):
            # Options played that are worse than the best one played are round-off.
            v = values[offsets[i] - n : offsets[i + 1] - n]
            p = np.maximum(p, 0.0)
            top = float(np.max(np.where(p > RTOL, v, -np.inf))) if np.any(p > RTOL) else v.max()
            p = np.where((p > RTOL) & (v >= top - model.tol), p, 0.0)
            mixed.append(p / p.sum() if p.sum() > 0 else (v >= v.max()).astype(float))
        mixed = [p / p.sum() for p in mixed]
        ev = model.full(x, mixed)
        return ev, mixed, ev.residual + model.regret(ev)

    # Start from the cycle's options, mixed uniformly, at the values that mix leads to.
    supports = [sorted(set().union(*(key[i] for key in visited))) for i in range(n)]
    start = [np.isin(np.arange(sizes[i]), supports[i]) / len(supports[i]) for i in range(n)]
    x0 = _newton(model, start, e.x, max(model.tol, 1e-3 * model.scale)).x
    first = model.evaluate(x0, start, everything)
    w0 = np.array(
        [
            max(model.value(f, r.thresholds, i) for f in r.offers.values())
            for i, r in enumerate(first.rounds)
        ]
    )
    y0 = np.concatenate([(x0 - d) / scale, *start, (w0 - d) / scale])
    best = (e, policy, e.residual + model.regret(e))
    y = y0
    for _ in range(_SUPPORT_ROUNDS):
        y, _ = on(supports, y)
        candidate = finish(y)
        if candidate[2] < best[2]:
            best = candidate
        if best[2] <= model.tol:
            return best[0], best[1]
        _, slack = gaps(y)
        probs = np.concatenate(unpack(y)[1])
        new = []
        for i in range(n):
            part = np.arange(offsets[i] - n, offsets[i + 1] - n)
            tied = [o for o, k in enumerate(part) if slack[k] <= model.tol / scale]
            if np.min(slack[part]) < -model.tol / scale:
                # Something unplayed beats his mix: he switches to the best options.
                top = np.min(slack[part])
                new.append([o for o, k in enumerate(part) if slack[k] <= top + model.tol / scale])
            else:
                played = [o for o, k in enumerate(part) if o in supports[i] and probs[k] > RTOL]
                new.append(sorted({*tied, *played}) or supports[i])
        if new == supports:
            break
        supports = new
    # Complementarity over every option, then the smooth system on the supports it implies.
    y, level = on(None, y0)
    candidate = finish(y)
    if candidate[2] < best[2]:
        best = candidate
    if best[2] > model.tol:
        _, slack = gaps(y)
        near = [
            [o for o in range(sizes[i]) if slack[offsets[i] - n + o] <= max(10 * level, target)]
            or supports[i]
            for i in range(n)
        ]
        candidate = finish(on(near, y)[0])
        if candidate[2] < best[2]:
            best = candidate
    return best[0], best[1]


def _recheck(model: _Model, e: _Eval) -> bool:
    """Re-solve every coalition problem from another start; True when one improved.

    The start is the sampled deal (the problem's sample, or its starts) that
    meets the coalition's thresholds and is best for the proposer among those
    at least a tenth of an issue's range away from the deal found: the most
    promising other basin. Problems with no such deal are not re-solved.
    """
    p = model.problem
    sample = getattr(p, "sample", p.starts)
    values = getattr(p, "sample_payoffs", None)
    if values is None or len(values) != len(sample):
        values = p.payoffs(sample)
    span = np.maximum(p.upper - p.lower, 1e-300)
    improved = False
    weights = np.eye(model.n)
    for i, rnd in enumerate(e.rounds):
        t = rnd.thresholds
        for o, f in rnd.offers.items():
            coalition = model.options[i][o]
            if coalition is None or f.deal is None:
                continue
            members = list(coalition)
            ok = np.all(values[:, members] >= t[members], axis=1)
            ok &= np.max(np.abs(sample - f.deal) / span, axis=1) > 0.1
            if not np.any(ok):
                continue
            start = sample[int(np.argmax(np.where(ok, values[:, i], -np.inf)))]
            floors = np.full(model.n, -np.inf)
            floors[members] = t[members]
            best = _max_weighted(p, weights[i], floors, model.ev, (start,))
            model.solves += 1
            if best is not None and best.value > f.value + model.tol:
                model.remember(i, o, t, model.solve(i, o, t, best.x))
                improved = True
    return improved


def _check_inputs(
    problem: BargainingProblem,
    discount: npt.ArrayLike,
    protocol: str,
    recognition: npt.ArrayLike | None,
    quota: int | None,
    first: int,
) -> tuple[FloatArray, FloatArray | None, int, int]:
    where = "baron_ferejohn"
    n = problem.n_players
    if n < 2:
        raise ValueError(f"{where}: needs at least 2 players, got {n}")
    if protocol not in _PROTOCOLS:
        raise ValueError(f"{where}: protocol must be 'random' or 'rotation', got {protocol!r}")
    delta = np.asarray(discount, dtype=float)
    if delta.ndim == 0:
        delta = np.full(n, float(delta))
    delta = delta.reshape(-1)
    if delta.shape != (n,):
        raise ValueError(
            f"{where}: discount must be {n} numbers (one per player), got {discount!r}"
        )
    if not np.all((delta > 0) & (delta < 1)):
        raise ValueError(f"{where}: discount factors must be in (0, 1), got {delta.tolist()}")
    p: FloatArray | None = None
    if protocol == "random":
        if recognition is None:
            p = np.full(n, 1.0 / n)
        else:
            p = np.asarray(recognition, dtype=float).reshape(-1)
            if p.shape != (n,) or not np.all(np.isfinite(p)) or np.any(p < 0):
                raise ValueError(
                    f"{where}: recognition must be {n} non-negative probabilities, "
                    f"got {recognition!r}"
                )
            if abs(float(p.sum()) - 1.0) > RTOL * n:
                raise ValueError(
                    f"{where}: recognition probabilities must sum to 1, got {float(p.sum())!r}"
                )
            p = p / p.sum()
    elif recognition is not None:
        raise ValueError(f"{where}: recognition probabilities apply to protocol='random' only")
    try:
        q = n if quota is None else operator.index(quota)
    except TypeError:
        raise ValueError(f"{where}: quota must be an integer, got {quota!r}") from None
    if not 1 <= q <= n:
        raise ValueError(f"{where}: quota must be between 1 and {n}, got {q}")
    try:
        f = operator.index(first)
    except TypeError:
        raise ValueError(f"{where}: first must be a player index, got {first!r}") from None
    if not 0 <= f < n:
        raise ValueError(f"{where}: first must be a player index in [0, {n}), got {f}")
    return delta, p, q, f


def baron_ferejohn(
    problem: BargainingProblem,
    discount: npt.ArrayLike,
    *,
    protocol: str = "random",
    recognition: npt.ArrayLike | None = None,
    quota: int | None = None,
    first: int = 0,
) -> BargainingSolution:
    """The stationary subgame-perfect equilibrium of multilateral bargaining (Baron-Ferejohn 1989).

    ``discount``: per-round discount factors ``delta``, shape ``(n,)`` (or one
    number for all), each in ``(0, 1)``. ``protocol``: ``"random"`` recognition
    with probabilities ``recognition`` (shape ``(n,)``, non-negative, summing to
    1; default uniform), or ``"rotation"`` in the order ``first, first + 1, ...``
    (``recognition`` must then be ``None``). ``quota``: votes needed to pass a
    proposal, counting the proposer, ``1 <= quota <= n`` (default ``n``,
    unanimity). ``first``: index of the first proposer.

    The model and algorithm are in the module docstring; only the stationary
    equilibrium is computed. Returns concept ``"baron_ferejohn"`` with ``deal``
    the first proposer's equilibrium proposal, accepted at once (if he mixes,
    the coalition he picks most often, ties to the first in order), and
    ``payoffs = u(deal)``. ``unique`` is ``False`` when the first proposer mixes
    over several proposals, else ``None`` (stationary payoffs are unique in the
    linear model, Eraslan 2002, but that is not checked here). When the first
    proposer prefers to let the round pass (no deal his coalition accepts is
    worth waiting for), the answer has ``agreement=False``.

    ``evidence``: ``continuation_values`` (``v``, shape ``(n,)``: the ex-ante
    values for random recognition; for a rotation, the values at the start of
    the second proposer's round), ``acceptance_thresholds`` (``(n,)``, those the
    first proposal must meet) and ``acceptance_thresholds_by_proposer``,
    ``values_by_proposer`` (expected payoffs of the round each player proposes
    in), ``proposals`` (per proposer label: ``deal``, ``payoffs``, ``coalition``
    of acceptors by label, ``probability``, ``acceptance_slack`` and the whole
    ``mixture``), ``protocol``, ``quota``, ``recognition`` (``None`` for a
    rotation, which has ``order`` instead), ``discount``, ``iterations``
    (evaluations of the map ``F``, each solving every proposer's problem),
    ``fixed_point_residual`` (``max |v - F(v)|``), ``proposer_regret`` (the most
    a proposer could gain by changing his mix: 0 in equilibrium), ``converged``
    and ``method``.

    Raises :class:`ValueError` (naming this function) on bad inputs.
    """
    delta, p, q, first = _check_inputs(problem, discount, protocol, recognition, quota, first)
    model = _Model(problem, delta, protocol, p, q, first)
    e, policy, consistent, visited = _policy_iteration(model, problem.disagreement.copy())
    method = "policy iteration with Newton-accelerated fixed-point iteration"
    for _ in range(2):
        if not consistent:
            e, policy = _mixed(model, e, policy, visited)
            method = "policy iteration, then mixed proposals by an active-set solve"
        if not _recheck(model, e):
            break
        # A further start found a better proposal: iterate again from there.
        e, policy, consistent, visited = _policy_iteration(model, e.x)
    return _report(model, e, policy, method, q)


def _names(labels: Sequence[str]) -> str:
    if not labels:
        return "nobody"
    if len(labels) == 1:
        return labels[0]
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def _report(model: _Model, e: _Eval, policy: Policy, method: str, quota: int) -> BargainingSolution:
    problem, n, first = model.problem, model.n, model.first
    players = problem.players
    tol = model.tol
    concept = "baron_ferejohn"
    proposals: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    main_offer: dict[int, _Offer] = {}
    kkt = 0.0
    for i, rnd in enumerate(e.rounds):
        t = rnd.thresholds
        order = sorted(np.flatnonzero(policy[i] > RTOL), key=lambda o: (-policy[i][o], o))
        mixture: list[dict[str, Any]] = []
        for o in order:
            f = rnd.offers[int(o)]
            coalition = model.options[i][int(o)]
            if f.deal is not None and np.isfinite(f.kkt):
                kkt = max(kkt, f.kkt)
            mixture.append(
                {
                    "coalition": tuple(players[j] for j in coalition or ()),
                    "delay": f.deal is None,
                    "deal": f.deal,
                    "payoffs": f.payoffs,
                    "probability": float(policy[i][o]),
                }
            )
        top = int(order[0])
        main_offer[i] = f = rnd.offers[top]
        members = model.options[i][top] or ()
        proposals[players[i]] = {
            **mixture[0],
            "proposer_payoff": float(f.payoffs[i]),
            "acceptance_slack": {players[j]: float(f.payoffs[j] - t[j]) for j in members},
            "mixture": tuple(mixture),
        }
        who = players[i] + (" (proposes first)" if i == first else "")
        if model.recognition is not None and model.recognition[i] == 0:
            who += " (never recognised)"
        if f.deal is None:
            notes.append(f"{who} lets the round pass: no proposal is worth more than waiting")
        elif len(mixture) > 1:
            parts = [
                f"{_names(m['coalition'])} ({100 * m['probability']:.0f}%)"
                if not m["delay"]
                else f"waiting ({100 * m['probability']:.0f}%)"
                for m in mixture
            ]
            notes.append(f"{who} mixes between buying the votes of {' or '.join(parts)}")
        elif members:
            notes.append(
                f"{who} buys the votes of {_names([players[j] for j in members])}, "
                "each at his acceptance threshold"
            )
        else:
            notes.append(f"{who} needs no other votes and takes his best deal")
    residual = e.residual
    regret = model.regret(e)
    converged = residual <= tol and regret <= tol
    if model.protocol == "random":
        cont = e.x
        where = "random recognition"
    else:
        cont = e.rounds[(first + 1) % n].outcome
        where = "rotation " + " -> ".join(players[(first + s) % n] for s in range(n))
    rule = "unanimity" if quota == n else f"quota {quota} of {n}"
    notes.insert(0, f"stationary subgame-perfect equilibrium ({where}, {rule})")
    if not converged:
        notes.append(
            f"not converged: fixed-point residual {residual:.3g} and proposer regret "
            f"{regret:.3g} against solve tolerance {tol:.3g}; treat the answer as approximate"
        )
    evidence: dict[str, Any] = {
        "protocol": model.protocol,
        "quota": quota,
        "recognition": None if model.recognition is None else model.recognition.copy(),
        "order": None
        if model.protocol == "random"
        else tuple(players[(first + s) % n] for s in range(n)),
        "discount": model.delta.copy(),
        "first_proposer": players[first],
        "continuation_values": np.array(cont, dtype=float),
        "acceptance_thresholds": e.rounds[first].thresholds.copy(),
        "acceptance_thresholds_by_proposer": {
            players[i]: r.thresholds.copy() for i, r in enumerate(e.rounds)
        },
        "values_by_proposer": {players[i]: r.outcome.copy() for i, r in enumerate(e.rounds)},
        "proposals": proposals,
        "iterations": model.evaluations,
        "proposer_problems_solved": model.solves,
        "fixed_point_residual": residual,
        "proposer_regret": regret,
        "kkt_residual": kkt,
        "converged": converged,
        "method": method,
        "closed_form": False,
    }
    first_offer = main_offer[first]
    if first_offer.deal is None:
        return _no_agreement(
            concept,
            problem,
            evidence,
            f"{players[first]} cannot make a proposal his coalition accepts that beats waiting; "
            "see evidence['proposals'] for the later rounds",
        )
    unique = False if len(proposals[players[first]]["mixture"]) > 1 else None
    return _solution(concept, problem, first_offer.deal, unique, evidence, notes)
