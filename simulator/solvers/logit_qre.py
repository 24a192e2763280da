r"""The logit quantal response equilibrium path, traced to a Nash equilibrium.

Notation as in :mod:`simulator.game`: players :math:`i = 0, \dots, n-1`, player
:math:`i` has :math:`m_i` strategies, and :math:`u_{ik}(\sigma)` is the payoff of
player :math:`i`'s pure strategy :math:`k` against the others' mixed strategies
:math:`\sigma_{-i}`. A logit quantal response equilibrium (QRE) with precision
:math:`\lambda \ge 0` (McKelvey and Palfrey 1995, "Quantal response equilibria
for normal form games", *Games and Economic Behavior* 10, 6-38) is a profile in
which every player mixes by the logit rule

.. math::

    \sigma_{ik} = \frac{\exp(\lambda\, u_{ik}(\sigma))}{\sum_l \exp(\lambda\, u_{il}(\sigma))}.

At :math:`\lambda = 0` the only QRE is the uniform profile. For a generic game
the QRE form a smooth curve with a unique branch from that point, the
*principal branch*, which converges to one Nash equilibrium as
:math:`\lambda \to \infty` (McKelvey and Palfrey 1995): the *logit limit*, a
selection among the equilibria.

How the branch is traced (Turocy 2005, "A dynamic homotopy interpretation of the
logistic quantal response equilibrium correspondence", *Games and Economic
Behavior* 51, 243-263; Turocy 2010, "Using quantal response to compute Nash and
sequential equilibria", *Economic Theory* 42, 255-269; the predictor-corrector
methods of Allgower and Georg 1990, *Numerical Continuation Methods: An
Introduction*, ch. 2, 3, 6 and 8):

* **Coordinates.** The unknowns are the log-probabilities
  :math:`x_{ik} = \log \sigma_{ik}`, one log-normaliser :math:`c_i` per player,
  and :math:`\lambda`; the branch is part of the zero set of

  .. math:: x_{ik} - \lambda\, u_{ik}(e^{x}) + c_i = 0, \qquad \sum_k e^{x_{ik}} - 1 = 0,

  :math:`M + n` equations in :math:`M + n + 1` unknowns (:math:`M = \sum_i m_i`).
  A probability that goes to zero is a coordinate that goes to
  :math:`-\infty` linearly in :math:`\lambda`, so a probability of
  :math:`10^{-300}` is as accurate as one of :math:`0.5`, and far out the
  branch is close to a straight line.
* **Arc length.** The branch is parametrised by its arc length in
  :math:`(x, c, \lambda)`, not by :math:`\lambda`: arc length is monotone through
  *turning points*, where :math:`\lambda` goes back for a while, so those are
  followed, and it grows without bound as :math:`\lambda \to \infty`. Payoffs
  are first scaled to a spread of 1, so inside, :math:`\lambda` is in units of
  the inverse payoff spread; the stored :math:`\lambda` are in the game's own
  units (they multiply the game's payoffs).
* **Predictor-corrector.** Each step moves along the unit tangent (the null
  vector of the Jacobian, oriented to continue the way the branch came), then
  Newton's method corrects back onto the branch, perpendicular to the tangent.
  The step length adapts to the first Newton correction, the corrector's
  contraction rate and the angle between successive tangents (Allgower and
  Georg, ch. 6), and grows by up to ``max_growth`` per step, so
  :math:`\lambda` grows geometrically once the branch straightens.
* **Orientation and bifurcations.** The sign of :math:`\det[J; t^\top]`
  (Jacobian over tangent) is constant along a regular branch and flips at a
  simple bifurcation point (Allgower and Georg, ch. 8). A flip after a long
  step usually means the corrector landed on another part of the curve, so the
  step is retried shorter; a flip that persists on a step of length
  ``1e-4`` is a bifurcation. For non-generic games the principal branch can
  split there (the McKelvey-McLennan :math:`2 \times 2 \times 2` game is the
  classic case); the tracer stops and says so rather than report a point that
  is not an equilibrium.
* **The end.** Along the branch, probabilities of strategies outside the
  limit's support fall like :math:`e^{-\lambda \Delta}` (:math:`\Delta` the
  payoff gap), while those inside converge only at the rate :math:`1/\lambda`:
  reaching a regret of :math:`10^{-9}` by tracing alone would take
  :math:`\lambda \approx 10^{9}`. Instead, the support is read from the tangent
  (:math:`\lambda\, d\log\sigma_{ik}/d\lambda` tends to 0 inside the support and
  to :math:`-\lambda \Delta` outside), the limit is extrapolated as
  :math:`\sigma + \lambda\, d\sigma/d\lambda` (exact to first order in
  :math:`1/\lambda`), and it is refined by Newton's method on that support's
  indifference equations (:func:`simulator.solvers.polish.polish`). The refined
  profile :math:`q` is accepted when it verifies as a Nash equilibrium
  (:func:`simulator.equilibrium.verify`, the game's tolerance) *and* the branch
  near :math:`\sigma` has the first-order asymptotics of a branch converging to
  :math:`q`: outside :math:`q`'s support the log-probability ratios fall at the
  rate of :math:`q`'s payoff gaps, and inside it
  :math:`\sigma - q \approx c / \lambda` with :math:`c` from the linearised logit
  equations at :math:`q`. That second check is what keeps a nearby equilibrium
  with a slightly different support from being taken for the limit. Where the
  first-order check does not apply (an equilibrium that is not regular), ``q``
  is also accepted once three successive refinements give the same ``q`` and
  the branch has closed in on it each time, to a quarter of its first distance.
  On a continuum of equilibria (payoff ties) Newton's method has no fixed
  target, so tracing goes on until the branch point itself verifies (its
  regret falls like :math:`1/\lambda`; the first-order extrapolation is tried
  first, as it is closer to the limit) or ``max_lambda`` is passed. Pure
  supports need no refinement, and when the uniform profile is an equilibrium
  the branch never leaves it, so the trace ends at :math:`\lambda = 0`.

:func:`trace_logit_qre` returns the branch (a :class:`QrePath`: data for a plot
of probabilities against :math:`\lambda`, and for the ``"qre"`` JSON entries)
and its end; :func:`logit` is the registered solver (a
:class:`~simulator.results.SolverResult` with the one limit equilibrium);
:func:`logit_result` turns a traced path into that result without tracing again.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy.linalg import lapack

from simulator.equilibrium import Equilibrium, verify
from simulator.game import StrategicGame
from simulator.results import SolverResult
from simulator.tolerance import RTOL

SCOPE = "one equilibrium: the limit of the logit QRE principal branch"

# Path-following constants, in the scaled coordinates (payoff spread 1). Tuned on
# 1,240 random games of 2 to 5 players against Gambit's logit_solve (the same limit
# on every one) and checked on 280 games with payoff ties.
_DISTANCE = 0.5  # nominal length of the first Newton correction of a step
_CONTRACTION = 0.25  # nominal ratio of the second Newton correction to the first
_ANGLE = 0.3  # nominal angle (radians) between successive tangents
_MIN_COS = 0.5  # successive tangents further apart than 60 degrees: step rejected
_MAX_NEWTON = 8
_CORRECTOR_TOL = 1e-7  # relative size of the last Newton correction (then ~1e-14 off)
_BIFURCATION_STEP = 1e-4  # an orientation flip on a step this short is a bifurcation
_MIN_STEP = 1e-12
_FIRST_ATTEMPT = 1.0  # lambda (scaled) from which the end is looked for
_ATTEMPT_GROWTH = 1.5  # after a failed attempt, lambda must grow this much
_NEAR = 0.05  # refine only when the extrapolated limit is this close (probability)
_SAME = 1e-12  # refinements this close (probability) are the same equilibrium
_CONVERGED = 1e-6  # a branch point this close to a verified equilibrium is its end
_SUPPORT_CUT = -1.5  # lambda dlog(sigma)/dlambda above this: in the support
_GAP_FACTOR = 3.0  # outside the support, lambda * payoff gap must be at least this
_FIRST_ORDER = 0.3  # share of sigma - q the first-order term may leave unexplained
_DIRECT_CHECK = 1e6  # from this lambda (scaled) on, the branch point itself is checked


@dataclass(frozen=True, eq=False)
class QrePath:
    r"""The traced principal branch of the logit QRE correspondence of ``game``.

    ``lambdas``: shape ``(k,)``, the precision at each stored point in the game's
    payoff units (:math:`\lambda` multiplies payoffs), starting at 0; increasing
    except through turning points. ``profiles[i]``: shape ``(k, m_i)``, player
    ``i``'s QRE mixed strategy at each stored point. Every accepted step is
    stored up to ``max_points`` points; beyond that every other stored point is
    dropped (the first and the last are always kept), so a plot stays light.
    ``end``: the Nash equilibrium the branch converges to, verified, or ``None``
    when the trace did not reach one; ``reason`` says how the trace ended.
    ``last_lambda``: the precision of the last point reached (game units).
    ``steps``: accepted predictor-corrector steps. ``polished_at``: the precision
    at which the end was found (``None`` without an end). ``bifurcation_at``:
    the precision of a bifurcation met on the branch, if any. ``elapsed``:
    seconds spent tracing.
    """

    game: StrategicGame
    lambdas: np.ndarray
    profiles: tuple[np.ndarray, ...]
    end: Equilibrium | None
    reason: str
    last_lambda: float
    steps: int
    polished_at: float | None = None
    bifurcation_at: float | None = None
    elapsed: float = 0.0

    @property
    def converged(self) -> bool:
        """Whether the trace ended at a verified Nash equilibrium."""
        return self.end is not None

    def __len__(self) -> int:
        return int(self.lambdas.shape[0])

    def profile(self, k: int) -> tuple[np.ndarray, ...]:
        """The QRE profile at stored point ``k``: one probability vector per player."""
        return tuple(p[k] for p in self.profiles)


# ---------------------------------------------------------------------- kernel
class _System:
    """The QRE equations of one game on plain arrays, every player at once.

    Payoffs are scaled to ``[0, 1]``. Strategies of all players are concatenated
    (``M`` of them; ``owner[r]`` is strategy ``r``'s player). ``sel[r, s]`` is the
    index of player ``r``'s strategy in the flat pure profile ``s`` (shape
    ``(n, S)``, ``S`` pure profiles). The payoff Jacobian of every ordered pair of
    players is accumulated in one ``bincount``: no Python loop runs over
    players, pairs or profiles.
    """

    def __init__(self, game: StrategicGame) -> None:
        shape = game.shape
        n = len(shape)
        payoffs = np.asarray(game.payoffs, dtype=float)
        low, high = float(payoffs.min()), float(payoffs.max())
        self.scale = high - low if high > low else 1.0
        flat = ((payoffs - low) / self.scale).reshape(n, -1)  # (n, S)
        m = int(sum(shape))
        self.n, self.shape, self.m_total, self.n_eq = n, shape, m, m + n
        self.offsets = np.concatenate([[0], np.cumsum(shape)]).astype(np.intp)
        self.starts = self.offsets[:-1]
        self.owner = np.repeat(np.arange(n), shape)
        self.sel = self.starts[:, None] + np.indices(shape).reshape(n, -1)
        pair_i, pair_j = np.nonzero(~np.eye(n, dtype=bool))
        # For each ordered pair (i, j), the players other than i and j: (P, n - 2).
        others = np.array(
            [[r for r in range(n) if r not in (i, j)] for i, j in zip(pair_i, pair_j, strict=True)],
            dtype=np.intp,
        ).reshape(len(pair_i), max(n - 2, 0))
        self.sel_others = self.sel[others]  # (P, n - 2, S)
        self.pair_payoffs = flat[pair_i]  # (P, S)
        self.du_index = (self.sel[pair_i] * m + self.sel[pair_j]).ravel()
        # For three players one other player per pair: index it directly.
        self.sel_other = self.sel_others[:, 0, :] if n == 3 else None
        self.lone = flat[0] if n == 1 else None  # one player: payoffs do not depend on p
        self._constant_du: np.ndarray | None = None
        template = np.zeros((m + n, m + n + 1))
        template[np.arange(m), m + self.owner] = 1.0
        self.template = template
        self.diagonal = np.arange(m) * (m + n + 1) + np.arange(m)  # flat (r, r) in J
        self.sum_entries = (m + self.owner) * (m + n + 1) + np.arange(m)  # flat (m + i, r)
        self.c_index = m + self.owner

    def payoffs_and_jacobian(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(p, u, dU)`` at log-probabilities ``x`` (shape ``(M,)``).

        ``p = exp(x)``; ``u[r]``: payoff of strategy ``r`` against the others'
        mixtures; ``dU[r, c]``: derivative of ``u[r]`` with respect to the
        probability of strategy ``c`` of another player (0 within a player).
        The products of the other players' probabilities are formed in log
        space, so nothing overflows however negative ``x`` gets.
        """
        p = np.exp(x)
        if self.n <= 2:
            return p, *self._contract(p, None)
        if self.sel_other is not None:
            log_others = x[self.sel_other]  # (P, S)
        else:
            log_others = x[self.sel_others].sum(axis=1)
        return p, *self._contract(p, np.exp(log_others, out=log_others))

    def at_profile(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(u, dU)`` as in :meth:`payoffs_and_jacobian`, at probabilities ``q`` (zeros too)."""
        if self.n <= 2:
            return self._contract(q, None)
        return self._contract(q, np.prod(q[self.sel_others], axis=1))

    def _contract(self, p: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        m = self.m_total
        if self.lone is not None:
            return self.lone.copy(), np.zeros((m, m))
        if weights is None:  # two players: the Jacobian is the payoff matrices themselves
            if self._constant_du is None:
                flat = self.pair_payoffs.ravel()
                self._constant_du = np.bincount(self.du_index, flat, m * m).reshape(m, m)
            du = self._constant_du
        else:
            weights *= self.pair_payoffs
            du = np.bincount(self.du_index, weights.ravel(), m * m).reshape(m, m)
        # Payoffs are multilinear, so u_ik = sum_l dU[ik, jl] p_jl for every other
        # player j: the full product counts u once per other player.
        u = du @ p
        u /= self.n - 1
        return u, du

    def residual_and_jacobian(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(H, J, u)`` at ``z = (x, c, lambda)``: the equations, their Jacobian, payoffs.

        ``H`` has shape ``(M + n,)``, ``J`` shape ``(M + n, M + n + 1)``.
        """
        m = self.m_total
        x, lam = z[:m], z[-1]
        p, u, du = self.payoffs_and_jacobian(x)
        h = np.empty(self.n_eq)
        np.multiply(u, -lam, out=h[:m])
        h[:m] += x
        h[:m] += z[self.c_index]
        np.add.reduceat(p, self.starts, out=h[m:])
        h[m:] -= 1.0
        jac = self.template.copy()
        np.multiply(du, -lam * p, out=jac[:m, :m])
        jac.flat[self.diagonal] = 1.0  # dU is zero within a player, so its diagonal is too
        np.negative(u, out=jac[:m, -1])
        jac.flat[self.sum_entries] = p
        return h, jac, u

    def start(self) -> np.ndarray:
        """The branch's first point: uniform mixtures at ``lambda = 0``."""
        m, n = self.m_total, self.n
        sizes = np.log(np.asarray(self.shape, dtype=float))
        z = np.zeros(m + n + 1)
        z[:m] = -sizes[self.owner]
        z[m : m + n] = sizes
        return z

    def split(self, flat: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per-player pieces of a concatenated vector (views)."""
        return tuple(flat[self.offsets[i] : self.offsets[i + 1]] for i in range(self.n))


def _solve(a: np.ndarray, rhs: np.ndarray) -> np.ndarray | None:
    """The solution of the square system ``a x = rhs``, or ``None`` if ``a`` is singular."""
    _, _, x, info = lapack.dgesv(a, rhs)
    return None if info != 0 else x


def _orientation(lu: np.ndarray, piv: np.ndarray) -> int:
    """The sign of ``det a`` from LAPACK's LU factors of ``a`` (``dgesv``/``dgetrf``).

    The sign of the product of the factors' diagonal times the parity of the
    row interchanges.
    """
    swaps = int(np.count_nonzero(piv != np.arange(piv.size)))
    negative = int(np.count_nonzero(np.diagonal(lu) < 0))
    return -1 if (swaps + negative) % 2 else 1


# ---------------------------------------------------------------------- tracing
def trace_logit_qre(
    game: StrategicGame,
    *,
    first_step: float = 0.2,
    max_growth: float = 3.0,
    max_lambda: float = 1e10,
    max_steps: int = 2000,
    max_points: int = 1000,
) -> QrePath:
    """Trace the principal branch of the logit QRE correspondence from ``lambda = 0``.

    ``first_step``: arc length of the first step. ``max_growth``: largest factor
    by which the step may grow from one step to the next. ``max_lambda``: stop,
    without an end unless the last point verifies, once ``lambda`` times the
    payoff spread passes this. ``max_steps``: cap on accepted steps.
    ``max_points``: cap on stored points (see :class:`QrePath`). Arc lengths are
    in the scaled coordinates (payoff spread 1).

    Works for any number of players (one and two included) and any strategy
    counts. See the module docstring for the method (Turocy 2005; Allgower and
    Georg 1990) and for how the end is found and checked.
    """
    if not (first_step > 0 and max_growth > 1 and max_lambda > 0):
        raise ValueError("trace_logit_qre: need first_step > 0, max_growth > 1 and max_lambda > 0")
    if max_steps < 0 or max_points < 2:
        raise ValueError("trace_logit_qre: need max_steps >= 0 and max_points >= 2")
    clock = time.perf_counter()
    system = _System(game)
    tracer = _Tracer(system, game, first_step, max_growth, max_lambda, max_steps, max_points)
    tracer.run()
    scale = system.scale
    lambdas = np.array(tracer.lams) / scale
    p = np.exp(np.array(tracer.xs))
    profiles = tuple(np.ascontiguousarray(block) for block in np.split(p, system.offsets[1:-1], 1))
    for arr in (lambdas, *profiles):
        arr.setflags(write=False)
    return QrePath(
        game=game,
        lambdas=lambdas,
        profiles=profiles,
        end=tracer.end,
        reason=tracer.reason,
        last_lambda=tracer.last_lambda / scale,
        steps=tracer.steps,
        polished_at=None if tracer.polished_at is None else tracer.polished_at / scale,
        bifurcation_at=None if tracer.bifurcation_at is None else tracer.bifurcation_at / scale,
        elapsed=time.perf_counter() - clock,
    )


class _Tracer:
    """The predictor-corrector loop, with its state and the stored points."""

    def __init__(
        self,
        system: _System,
        game: StrategicGame,
        first_step: float,
        max_growth: float,
        max_lambda: float,
        max_steps: int,
        max_points: int,
    ) -> None:
        self.system = system
        self.game = game
        self.h = first_step
        self.max_growth = max_growth
        self.max_lambda = max_lambda
        self.max_steps = max_steps
        self.cap = max_points
        self.end: Equilibrium | None = None
        self.reason = ""
        self.steps = 0
        self.polished_at: float | None = None
        self.bifurcation_at: float | None = None
        self.last_lambda = 0.0
        self.lams: list[float] = []
        self.xs: list[np.ndarray] = []
        # The last refined equilibrium, its flat profile and the branch's distance to
        # it at each attempt since it was first found.
        self._candidate: tuple[Equilibrium, np.ndarray, list[float]] | None = None
        self._stride = 1  # store every stride-th accepted point (doubles when full)
        self._skipped = 0

    # -------------------------------------------------------------- storage
    def _store(self, z: np.ndarray, force: bool = False) -> None:
        if not force and self._skipped + 1 < self._stride:
            self._skipped += 1
            return
        self._skipped = 0
        self.lams.append(float(z[-1]))
        self.xs.append(z[: self.system.m_total].copy())
        if len(self.lams) >= self.cap:
            # Keep every other point (the first always) and store at twice the
            # stride from now on, so the path stays evenly thinned.
            self.lams, self.xs = self.lams[::2], self.xs[::2]
            self._stride *= 2

    def _store_last(self, z: np.ndarray) -> None:
        if self.lams[-1] != float(z[-1]) or not np.array_equal(self.xs[-1], z[: len(self.xs[-1])]):
            self.lams.append(float(z[-1]))
            self.xs.append(z[: self.system.m_total].copy())

    # -------------------------------------------------------------- loop
    def run(self) -> None:
        system = self.system
        z = system.start()
        _, jac, _ = system.residual_and_jacobian(z)
        seed = np.zeros(z.size)
        seed[-1] = 1.0  # start towards increasing lambda
        first = _tangent(jac, seed)
        if first is None:  # cannot happen: at lambda = 0 the x-block of J is the identity
            raise AssertionError("trace_logit_qre: singular Jacobian at lambda = 0")
        tangent, orientation = first
        self._store(z, force=True)
        # The branch stays at the uniform profile for every lambda exactly when that
        # profile is an equilibrium (every strategy then earns the same).
        uniform = verify(self.game, system.split(np.exp(z[: system.m_total])))
        if uniform is not None:
            self._finish(
                uniform,
                0.0,
                "reached a Nash equilibrium at once: the uniform profile (lambda = 0) is one, "
                "so the branch stays there for every lambda",
            )
            return
        next_attempt = _FIRST_ATTEMPT
        while self.end is None:
            if self.steps >= self.max_steps:
                self.reason = (
                    f"stopped after {self.max_steps} steps without reaching an equilibrium"
                )
                break
            if self.h < _MIN_STEP:
                self.reason = (
                    f"the step length fell below {_MIN_STEP:g} at lambda = "
                    f"{z[-1] / system.scale:.6g}: the branch could not be followed further"
                )
                break
            step = self._step(z, tangent)
            if step is None:
                self.h *= 0.5
                continue
            z_new, u_new, first_correction, contraction, factors = step
            turned = _tangent_from(factors)
            if turned is None:
                self.h *= 0.5
                continue
            tangent_new, orientation_new = turned
            cos = float(tangent_new @ tangent)
            if cos < _MIN_COS:
                self.h *= 0.5
                continue
            if orientation_new != orientation and self.h > _BIFURCATION_STEP:
                # A flip after a long step is usually a jump to another part of the
                # curve; only one that persists on a tiny step is a bifurcation.
                self.h = max(self.h * 0.25, _BIFURCATION_STEP * 0.5)
                continue
            z, self.steps = z_new, self.steps + 1
            lam = self.last_lambda = float(z[-1])
            self._store(z)
            if orientation_new != orientation:
                self.bifurcation_at = lam
                self.reason = (
                    "the principal branch meets a bifurcation near lambda = "
                    f"{lam / system.scale:.6g}, where it has no unique continuation; "
                    "no limit equilibrium is reported"
                )
                break
            tangent, orientation = tangent_new, orientation_new
            angle = float(np.arccos(min(cos, 1.0)))
            factor = max(
                np.sqrt(first_correction / _DISTANCE),
                np.sqrt(contraction / _CONTRACTION),
                angle / _ANGLE,
                1.0 / self.max_growth,
            )
            self.h /= min(factor, 2.0)
            if lam >= next_attempt and tangent[-1] > 0:
                if self._try_end(z, tangent) or self._check_point(z, u_new, tangent):
                    break
                next_attempt = lam * _ATTEMPT_GROWTH
            if lam > self.max_lambda:
                if not (
                    self._try_end(z, tangent, final=True) or self._check_point(z, u_new, tangent)
                ):
                    self.reason = (
                        f"lambda passed {self.max_lambda / system.scale:.6g} (game units) "
                        "without reaching a verified equilibrium"
                    )
                break
        self._store_last(z)

    def _step(
        self, z: np.ndarray, tangent: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, float, float, tuple[np.ndarray, np.ndarray]] | None:
        """One predictor-corrector step of length ``self.h``, or ``None`` if it failed.

        Returns the new point, the payoffs there (from the last Newton iterate,
        one tiny correction away), the length of the first Newton correction,
        the contraction rate (second correction over the first; 0 when one
        sufficed) and the LU factors of the last Newton matrix ``[J; tangent]``,
        from which the next tangent and the orientation follow.
        """
        system = self.system
        w = z + self.h * tangent
        a = np.empty((system.n_eq + 1, system.n_eq + 1))
        a[-1] = tangent
        rhs = np.zeros(system.n_eq + 1)
        scale = max(1.0, float(np.abs(w).max()))
        corrections: list[float] = []
        for _ in range(_MAX_NEWTON):
            h, jac, u = system.residual_and_jacobian(w)
            a[:-1] = jac
            np.negative(h, out=rhs[:-1])
            lu, piv, dz, info = lapack.dgesv(a, rhs)
            if info != 0:
                return None
            norm = math.sqrt(float(dz @ dz))
            if not math.isfinite(norm):
                return None
            if corrections and norm > 0.5 * corrections[-1]:
                return None  # not contracting: the predictor left Newton's basin
            if not corrections and norm > 2.0 * _DISTANCE:
                return None  # the branch bends too much for this step length
            corrections.append(norm)
            w += dz
            if norm <= _CORRECTOR_TOL * scale:
                contraction = corrections[1] / corrections[0] if len(corrections) > 1 else 0.0
                return w, u, corrections[0], contraction, (lu, piv)
        return None

    # -------------------------------------------------------------- the end
    def _try_end(self, z: np.ndarray, tangent: np.ndarray, final: bool = False) -> bool:
        """Refine the current point to the branch's limit; ``True`` when that worked.

        ``slope = lambda dlog(sigma)/dlambda`` tends to 0 inside the limit's
        support (it stays between -1 and 0 while a probability falls towards a
        small limit) and to ``-lambda * gap`` outside, so the support is read at
        ``_SUPPORT_CUT``. The refined profile must verify and be where the branch
        is heading (:meth:`_heading_to`); at ``final`` it need only be close.
        """
        system = self.system
        m = system.m_total
        x, lam = z[:m], float(z[-1])
        p = np.exp(x)
        slope = lam * tangent[:m] / tangent[-1] if tangent[-1] > 0 else np.zeros(m)
        top = x == np.maximum.reduceat(x, system.starts)[system.owner]
        keep = (slope > _SUPPORT_CUT) | top
        # sigma + lambda dsigma/dlambda: the limit, extrapolated to first order in 1/lambda
        guess = np.where(keep, np.maximum(p * (1.0 + slope), 0.0), 0.0)
        totals = np.add.reduceat(guess, system.starts)
        if np.any(totals <= 0):
            guess = np.where(keep, p, 0.0)
            totals = np.add.reduceat(guess, system.starts)
        guess /= totals[system.owner]
        if not final:
            if float(np.abs(guess - p).max()) > _NEAR:
                return False  # still far from the limit: polishing now would be a guess
            # The acceptance test (_heading_to) needs every strategy left out to be
            # worse by a payoff gap of at least _GAP_FACTOR / lambda; at the
            # extrapolated limit, a gap far below that means polishing is premature.
            u, _ = system.at_profile(guess)
            gap = np.maximum.reduceat(u, system.starts)[system.owner] - u
            if np.any(lam * gap[~keep] < 0.5 * _GAP_FACTOR):
                return False
        eq = self._refine(guess, keep)
        if eq is None:
            return False
        q = np.concatenate(eq.strategies)
        candidate = self._candidate
        # Newton lands on a regular equilibrium to round-off from any nearby start;
        # on a continuum of equilibria it lands wherever the start leads.
        if candidate is None or float(np.abs(candidate[1] - q).max()) > _SAME:
            candidate = self._candidate = (eq, q, [])
        here = float(np.abs(q - p).max())
        candidate[2].append(here)
        if here > _CONVERGED:
            if final:
                if here > _NEAR:
                    return False
            elif lam <= 0 or not (self._heading_to(q, p, slope, lam) or _approaching(candidate[2])):
                return False
        self._finish(
            eq,
            lam,
            f"reached a Nash equilibrium: refined at lambda = {lam / system.scale:.6g} by "
            "Newton's method on the support read from the branch, and verified",
        )
        return True

    def _refine(self, guess: np.ndarray, keep: np.ndarray) -> Equilibrium | None:
        """:func:`~simulator.solvers.polish.polish` on the support ``keep``, then verify."""
        from simulator.solvers.polish import polish

        parts = self.system.split(guess)
        support = tuple(tuple(int(k) for k in np.flatnonzero(s)) for s in self.system.split(keep))
        if all(len(s) == 1 for s in support):
            # A pure profile has nothing to refine: Newton's method would return it as is.
            refined: tuple[np.ndarray, ...] | None = tuple(
                np.eye(m)[s[0]] for m, s in zip(self.game.shape, support, strict=True)
            )
        else:
            refined = polish(self.game, parts, support=support)
        return None if refined is None else verify(self.game, refined)

    def _heading_to(self, q: np.ndarray, p: np.ndarray, slope: np.ndarray, lam: float) -> bool:
        """Whether the branch near ``p`` (precision ``lam``) converges to the equilibrium ``q``.

        Checks the first-order asymptotics of a branch converging to a regular
        equilibrium ``q`` with support ``S`` (all arrays of shape ``(M,)``):

        * outside ``S``, log-probability ratios fall like ``-lam * gap`` (the
          payoff gap to the best response at ``q``): ``lam * gap`` must be at
          least ``_GAP_FACTOR`` and the branch's slope, relative to the player's
          most likely strategy, at most half of ``-lam * gap``;
        * inside ``S``, ``sigma = q + c / lam + O(1 / lam^2)``, where ``c`` solves the
          linearised logit equations ``[dU(q) c]_k - w_i = log q_k``,
          ``sum_{k in S_i} c_k = 0``: the first-order term must explain all but
          ``_FIRST_ORDER`` of ``p - q`` on ``S`` (up to the probability still
          outside ``S``, which is exponentially small).
        """
        system = self.system
        n, owner = system.n, system.owner
        on = q > 0
        off = ~on
        u, du = system.at_profile(q)
        gap = np.maximum.reduceat(u, system.starts)[owner] - u
        if np.any(off):
            best = np.flatnonzero(q == np.maximum.reduceat(q, system.starts)[owner])
            best = best[np.unique(owner[best], return_index=True)[1]]  # one per player
            relative = slope - slope[best][owner]
            reach = lam * gap[off]
            if np.any(reach < _GAP_FACTOR) or np.any(relative[off] > -0.5 * reach):
                return False
        idx = np.flatnonzero(on)
        k = idx.size
        a = np.zeros((k + n, k + n))
        a[:k, :k] = du[idx][:, idx]
        a[np.arange(k), k + owner[idx]] = -1.0
        a[k + owner[idx], np.arange(k)] = 1.0
        rhs = np.zeros(k + n)
        rhs[:k] = np.log(q[idx])
        solved = _solve(a, rhs)
        if solved is None or not np.all(np.isfinite(solved)):
            return False  # not a regular equilibrium: the check does not apply
        deviation = p[idx] - q[idx]
        unexplained = float(np.abs(deviation - solved[:k] / lam).max())
        outside = float(np.add.reduceat(np.where(off, p, 0.0), system.starts).max())
        return unexplained <= _FIRST_ORDER * float(np.abs(deviation).max()) + 2.0 * outside

    def _check_point(self, z: np.ndarray, u: np.ndarray, tangent: np.ndarray) -> bool:
        """Far out, accept the branch point itself when it verifies (regret ~ 1/lambda)."""
        lam = float(z[-1])
        if lam < min(_DIRECT_CHECK, self.max_lambda):
            return False
        p = np.exp(z[: self.system.m_total])
        pieces = self.system.split(p * u)
        regret = max(
            float(us.max() - ps.sum()) for us, ps in zip(self.system.split(u), pieces, strict=True)
        )
        if regret > 0.5 * RTOL:  # scaled payoffs: RTOL is the tolerance
            return False
        # The limit extrapolated to first order in 1/lambda, then the point itself: on
        # a continuum of equilibria both verify, and the first is closer to the limit.
        eq = None
        what = "the branch point"
        if tangent[-1] > 0:
            ahead = p * (1.0 + lam * tangent[: p.size] / tangent[-1])
            if float(np.abs(ahead - p).max()) <= _NEAR:
                eq = verify(self.game, self.system.split(ahead))
                what = "the branch point extrapolated to first order in 1/lambda"
        if eq is None:
            eq = verify(self.game, self.system.split(p))
            what = "the branch point"
        if eq is None:
            return False
        self._finish(
            eq,
            lam,
            f"reached a Nash equilibrium: {what} at lambda = {lam / self.system.scale:.6g} "
            "verified directly (Newton's method on a support did not settle on one point, "
            "as on a continuum of equilibria)",
        )
        return True

    def _finish(self, eq: Equilibrium, lam: float, reason: str) -> None:
        self.end = eq
        self.polished_at = lam
        self.last_lambda = lam
        self.reason = reason


def _approaching(distances: list[float]) -> bool:
    """Whether the branch closed in on one refined equilibrium at every attempt.

    ``distances``: the branch's distance to the same equilibrium at successive
    attempts (``lambda`` at least ``_ATTEMPT_GROWTH`` times larger each time).
    Three or more, each smaller than the one before, the last at most a quarter
    of the first: the branch converges there even where the first-order check
    does not apply (an equilibrium that is not regular converges more slowly).
    """
    if len(distances) < 3:
        return False
    shrinking = all(b < a for a, b in itertools.pairwise(distances))
    return shrinking and distances[-1] <= 0.25 * distances[0]


def _tangent(jac: np.ndarray, previous: np.ndarray) -> tuple[np.ndarray, int] | None:
    """The unit tangent continuing in the direction of ``previous``, and the orientation.

    Solves ``[J; previous] t = e_last`` (so ``t . previous > 0``); the orientation
    is the sign of ``det [J; previous]``, equal to that of ``det [J; t]``
    (the determinant is linear in the last row and vanishes on the rows of ``J``).
    """
    size = jac.shape[0] + 1
    a = np.empty((size, size))
    a[:-1] = jac
    a[-1] = previous
    lu, piv, info = lapack.dgetrf(a)
    return None if info != 0 else _tangent_from((lu, piv))


def _tangent_from(factors: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, int] | None:
    """:func:`_tangent` from the LU factors of ``[J; previous]`` (LAPACK ``dgetrs``)."""
    lu, piv = factors
    rhs = np.zeros(lu.shape[0])
    rhs[-1] = 1.0
    t, info = lapack.dgetrs(lu, piv, rhs)
    length = math.sqrt(float(t @ t))
    if info != 0 or not math.isfinite(length) or length == 0.0:
        return None
    return t / length, _orientation(lu, piv)


# ---------------------------------------------------------------------- solver
def logit_result(path: QrePath, *, options: Mapping[str, Any] | None = None) -> SolverResult:
    """The :class:`~simulator.results.SolverResult` of a traced path (no second trace).

    ``options``: what the trace was called with, recorded in the result.
    """
    notes = [
        f"traced the principal branch in {path.steps} steps to lambda = "
        f"{path.last_lambda:.6g} (lambda multiplies the game's payoffs; "
        f"{len(path)} points kept for plotting)",
        path.reason,
    ]
    if path.end is not None:
        notes.append(
            "the logit limit is one equilibrium, selected by the branch; the game may have "
            "others (a method such as support-enumeration-n searches for them)"
        )
    return SolverResult(
        method="logit",
        game=path.game,
        equilibria=() if path.end is None else (path.end,),
        complete=False,
        scope=SCOPE,
        notes=tuple(notes),
        options=MappingProxyType(dict(options or {})),
        elapsed=path.elapsed,
    )


def logit(game: StrategicGame, **options: Any) -> SolverResult:
    """One Nash equilibrium of ``game``: the limit of the logit QRE principal branch.

    ``options`` are those of :func:`trace_logit_qre`. The result holds the limit,
    verified, or nothing (the reason is in the notes) when the branch does not
    reach one; it is never complete. To keep the branch too (for a plot), call
    :func:`trace_logit_qre` and then :func:`logit_result` on its path.
    """
    return logit_result(trace_logit_qre(game, **options), options=options)
