r"""Correlated equilibria of n-player strategic games by linear programming.

Notation
--------
A *correlated equilibrium* (Aumann 1974) is a probability distribution
:math:`p` over pure profiles :math:`s = (s_0, \dots, s_{n-1})` such that no
player, told only its own component :math:`k = s_i` of a profile drawn from
:math:`p`, gains by playing another strategy :math:`k'` instead. With
:math:`s_{-i}` the others' strategies, this is one linear inequality per player
:math:`i` and ordered pair :math:`k \ne k'` of its strategies:

.. math::

    g_i(k, k') = \sum_{s_{-i}} p(k, s_{-i})\,
        \bigl(u_i(k', s_{-i}) - u_i(k, s_{-i})\bigr) \le 0 .

:math:`g_i(k, k')` is the *incentive violation* in payoff units: the expected
gain, over the whole distribution, of the rule "play :math:`k'` whenever told
:math:`k`" (divided by :math:`p(s_i = k)` it is the gain conditional on the
recommendation). The correlated equilibria form a polytope: these
:math:`\sum_i m_i (m_i - 1)` inequalities, :math:`p \ge 0` and
:math:`\sum_s p(s) = 1`, in :math:`\prod_i m_i` variables. It contains every
Nash equilibrium as a product distribution (Aumann 1974), so it is never empty.

A linear objective over it, expected welfare :math:`\sum_i \sum_s p(s) u_i(s)`
or one player's expected payoff, is maximised by one linear program
(Papadimitriou and Roughgarden 2008, Sec. 2; Nisan et al., *Algorithmic Game
Theory*, 2007, Sec. 2.7), solved here by HiGHS (Huangfu and Hall 2018) through
:func:`scipy.optimize.linprog` with a sparse constraint matrix: the row of
:math:`g_i(k, k')` has one entry per profile with :math:`s_i = k`, so the
matrix has :math:`\prod_j m_j \sum_i (m_i - 1)` nonzeros. Games with many
profiles (thousands, up to about :math:`10^5`) have far more columns than rows,
and a vertex uses at most one profile per row plus one, so their LPs are solved
by column generation (Dantzig and Wolfe 1960): LPs over a few hundred profiles
at a time, priced against all of them in one sparse product.

Each player's best correlated equilibrium is, by default, the one with the most
welfare among those giving that player its highest payoff (a second, much
smaller LP over the optimal face, found from the first LP's duals by
complementary slackness), so it is not needlessly wasteful for the others.

Distributions are float arrays of the game's shape ``(m_0, ..., m_{n-1})``:
``distribution[s_0, ..., s_{n-1}]`` is the probability of that profile, in the
orientation of :mod:`simulator.game`.

Verification
------------
Every distribution this module returns is checked with
:func:`incentive_violations` against ``game.tolerance.payoff`` before it is
returned. The LP's answer is first *polished*: the profiles it uses and the
inequalities it meets with equality determine a vertex of the polytope, which
is recomputed as the normalised null vector of those equations (in rational
arithmetic when the game's payoffs are rational, giving exact fractions that
are then checked exactly; see :attr:`CorrelatedEquilibrium.exact`). Polishing
removes the solver's round-off (HiGHS meets constraints to a feasibility
tolerance, not exactly); if it does not apply, the LP's answer is clipped at 0,
renormalised and checked. If that fails too, HiGHS's interior-point method is
tried, and a distribution that still fails is an error, not a result.

Example
-------
Aumann's game of chicken: the welfare-maximising correlated equilibrium puts
1/2 on (Chicken, Chicken) and 1/4 on each profile where one player dares, a
welfare of 10.5, more than any Nash equilibrium gives (9 at the pure ones,
28/3 at the mixed one) and more than Aumann's 1/3-1/3-1/3 distribution (10).

>>> game = StrategicGame.from_bimatrix([[6, 2], [7, 0]], [[6, 7], [2, 0]],
...     players=["Row", "Col"], strategies=[["Chicken", "Dare"], ["Chicken", "Dare"]])
>>> ce = correlated_equilibrium(game, "welfare")
>>> [str(p) for p in ce.exact.ravel()], ce.welfare
(['1/2', '1/4', '1/4', '0'], 10.5)
>>> is_correlated_equilibrium(game, ce.distribution).ok
True
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.linalg
import scipy.sparse
from scipy.optimize import linprog

from simulator.game import StrategicGame
from simulator.tolerance import SOLVE_RTOL

__all__ = [
    "CorrelatedCheck",
    "CorrelatedEquilibrium",
    "CorrelatedResult",
    "Objective",
    "coincidence_note",
    "correlated_equilibria",
    "correlated_equilibrium",
    "incentive_violations",
    "is_correlated_equilibrium",
]

Objective = str | int | Sequence[float] | np.ndarray
"""What :func:`correlated_equilibrium` maximises: ``"welfare"``, a player (index
or name), or one weight per player (the weighted sum of expected payoffs)."""

WELFARE = "welfare"
CHECK = "check"

EXACT_SUPPORT_LIMIT = 100
"""Largest support recovered in rational arithmetic (elimination on integers costs
the cube of the support size, about a second at 100); larger ones stay floats."""

_LP_METHODS = ("highs-ds", "highs-ipm")
"""HiGHS's dual simplex first (it ends at a vertex, which polishing needs); its
interior-point method with crossover is the second try."""


# --------------------------------------------------------------------- records
@dataclass(frozen=True, eq=False)
class CorrelatedEquilibrium:
    """A verified correlated equilibrium of ``game``.

    ``distribution``: probabilities of the pure profiles, shape
    ``game.shape``, nonnegative, summing to 1, round-off cleaned to 0 (read-only).
    ``payoffs[i]``: player ``i``'s expected payoff. ``objective``: what it
    maximises (``"welfare"``, ``"max payoff of US"``, ``"weighted payoffs (...)"``,
    or ``"check"`` for a distribution that was only checked). ``max_violation``:
    the largest incentive violation :math:`g_i(k, k')` (payoff units; 0 when
    no deviation gains, and 0 for exact ones), at most ``game.tolerance.payoff``.
    ``exact``: the distribution as Fractions (object array) when the game is
    rational and the vertex was recovered and checked exactly, else ``None``;
    ``exact_payoffs`` the expected payoffs likewise. ``also``: other objectives
    this same distribution was found to maximise (see :func:`correlated_equilibria`).
    """

    game: StrategicGame
    distribution: np.ndarray
    payoffs: tuple[float, ...]
    objective: str
    max_violation: float
    exact: np.ndarray | None = None
    exact_payoffs: tuple[Fraction, ...] | None = None
    also: tuple[str, ...] = ()

    @property
    def welfare(self) -> float:
        """Sum of the players' expected payoffs (exact when known)."""
        if self.exact_payoffs is not None:
            return float(sum(self.exact_payoffs, Fraction(0)))
        return float(sum(self.payoffs))

    @property
    def objectives(self) -> tuple[str, ...]:
        """Every objective this distribution maximises: ``objective`` and then ``also``."""
        return (self.objective, *self.also)

    def support_indices(self) -> list[tuple[tuple[int, ...], float]]:
        """``[(profile indices, probability), ...]`` over the support, most likely first.

        Ties keep the profiles' order in the payoff array (C order).
        """
        flat = self.distribution.ravel()
        nonzero = np.flatnonzero(flat)
        order = nonzero[np.argsort(-flat[nonzero], kind="stable")]
        return [
            (tuple(int(k) for k in np.unravel_index(j, self.game.shape)), float(flat[j]))
            for j in order
        ]

    def support(self) -> list[tuple[dict[str, str], float]]:
        """``[({player: strategy}, probability), ...]`` over the support, most likely first."""
        game = self.game
        return [
            (
                {
                    p: game.strategies[i][k]
                    for i, (p, k) in enumerate(zip(game.players, s, strict=True))
                },
                prob,
            )
            for s, prob in self.support_indices()
        ]

    def exact_probability(self, profile: Sequence[int]) -> Fraction | None:
        """The exact probability of ``profile`` (indices), or ``None`` when not exact."""
        if self.exact is None:
            return None
        return Fraction(self.exact[tuple(int(k) for k in profile)])


@dataclass(frozen=True, eq=False)
class CorrelatedCheck:
    """Whether a distribution is a correlated equilibrium, and why not.

    ``ok``: it is one, within ``tolerance`` (payoff units; the game's).
    ``max_violation``: the largest incentive violation :math:`g_i(k, k')`
    (``inf`` when the distribution is not a distribution at all). ``worst``:
    ``(player, recommended, deviation)`` indices of the largest violation
    (``None`` when every player has one strategy, or the input is not a
    distribution). ``reason``: empty when ``ok``, else a sentence for people.
    ``equilibrium``: the distribution as a :class:`CorrelatedEquilibrium`
    (objective ``"check"``) when ``ok``.
    """

    ok: bool
    max_violation: float
    worst: tuple[int, int, int] | None
    reason: str
    tolerance: float
    equilibrium: CorrelatedEquilibrium | None = None


@dataclass(frozen=True, eq=False)
class CorrelatedResult:
    """The correlated equilibria :func:`correlated_equilibria` computed for ``game``.

    ``equilibria``: distinct verified equilibria, the welfare-maximising one
    first, then one maximising each player's payoff (in player order) unless the
    same distribution is already listed, in which case that entry names the
    objective in its ``also``. ``notes``: what a reader must know (which
    objectives coincide, and how ties were broken). ``variables`` and
    ``constraints``: the LP's size (profiles; incentive inequalities).
    ``elapsed``: wall-clock seconds for the whole computation.
    """

    game: StrategicGame
    equilibria: tuple[CorrelatedEquilibrium, ...]
    notes: tuple[str, ...] = ()
    variables: int = 0
    constraints: int = 0
    elapsed: float = 0.0

    @property
    def tolerance(self) -> float:
        """The incentive tolerance (payoff units) every equilibrium here was verified to."""
        return self.game.tolerance.payoff

    def for_objective(self, objective: str) -> CorrelatedEquilibrium:
        """The listed equilibrium maximising ``objective`` (a name such as ``"welfare"``)."""
        for eq in self.equilibria:
            if objective in eq.objectives:
                return eq
        names = [name for eq in self.equilibria for name in eq.objectives]
        raise KeyError(f"no correlated equilibrium for objective {objective!r}; have {names}")

    def __len__(self) -> int:
        return len(self.equilibria)


# ------------------------------------------------------------------- the check
def incentive_violations(game: StrategicGame, distribution: npt.ArrayLike) -> np.ndarray:
    r"""All incentive violations :math:`g_i(k, k')` of ``distribution``.

    ``distribution`` has the game's shape ``(m_0, ..., m_{n-1})``. Returns a float
    array ``g`` of shape ``(n, M, M)`` with ``M = max_i m_i``:
    ``g[i, k, k2] = sum over s_-i of p(k, s_-i) * (u_i(k2, s_-i) - u_i(k, s_-i))``,
    the gain of player ``i`` from playing ``k2`` whenever told ``k`` (payoff units).
    The diagonal, and entries beyond a player's own strategy count, are 0, so
    ``g.max()`` is the largest violation (0 when no deviation gains).

    For each player this is one matrix product: with ``P`` and ``U`` the
    distribution and the payoffs with player ``i``'s axis first, flattened to
    ``(m_i, R)``, ``g_i = P @ U.T - diag(P @ U.T)[:, None]``.
    """
    p = np.asarray(distribution, dtype=float)
    if p.shape != game.shape:
        raise ValueError(
            f"incentive_violations: distribution has shape {p.shape}, "
            f"the game's profiles have shape {game.shape}"
        )
    size = max(game.shape)
    out = np.zeros((game.n_players, size, size))
    for i, m in enumerate(game.shape):
        p_i = np.moveaxis(p, i, 0).reshape(m, -1)
        u_i = np.moveaxis(game.payoffs[i], i, 0).reshape(m, -1)
        follow_or_deviate = p_i @ u_i.T  # [k, k2]: told k, play k2
        out[i, :m, :m] = follow_or_deviate - np.diag(follow_or_deviate)[:, None]
    return out


def is_correlated_equilibrium(game: StrategicGame, distribution: npt.ArrayLike) -> CorrelatedCheck:
    """Check ``distribution`` (shape ``game.shape``) as a correlated equilibrium of ``game``.

    It must be finite, nonnegative (entries above ``-game.tolerance.probability``
    count as 0) and sum to 1 within ``game.tolerance.probability``, and every
    incentive violation (:func:`incentive_violations`) must be at most
    ``game.tolerance.payoff``. When the game is rational and ``distribution``
    holds Fractions or ints (an object array), the check is exact: every
    violation must be at most 0 in rational arithmetic.
    """
    tol = game.tolerance
    raw = np.asarray(distribution)
    if raw.shape != game.shape:
        return _fail(
            game,
            f"wrong shape: the distribution has shape {raw.shape}, but the game's pure "
            f"profiles have shape {game.shape} (one axis per player: "
            f"{', '.join(game.players)})",
        )
    exact_input = raw.dtype == object and all(
        isinstance(v, (int, Fraction, np.integer)) and not isinstance(v, bool) for v in raw.flat
    )
    if exact_input and game.exact_payoffs is not None:
        exact = np.array([v if isinstance(v, Fraction) else Fraction(int(v)) for v in raw.flat])
        return _exact_check(game, exact.reshape(game.shape))
    try:
        p = raw.astype(float)
    except (TypeError, ValueError):
        return _fail(game, "not a distribution: entries must be numbers")
    if not np.all(np.isfinite(p)):
        return _fail(game, "not a distribution: entries must be finite numbers")
    lowest = int(np.argmin(p)) if p.size else 0
    if p.size and p.flat[lowest] < -tol.probability:
        profile = np.unravel_index(lowest, game.shape)
        return _fail(
            game,
            f"negative probability {p.flat[lowest]:.6g} at {_profile_text(game, profile)}",
        )
    total = float(p.sum())
    if abs(total - 1.0) > tol.probability:
        return _fail(game, f"not a distribution: the probabilities sum to {total:.12g}, not 1")
    p = np.where(p < 0, 0.0, p)
    gains = incentive_violations(game, p)
    return _judge(game, p, gains)


def _judge(game: StrategicGame, p: np.ndarray, gains: np.ndarray) -> CorrelatedCheck:
    """The verdict on a distribution ``p`` whose violations are ``gains``."""
    tol = game.tolerance.payoff
    worst = _worst(game, gains)
    largest = max(0.0, float(gains.max())) if gains.size else 0.0
    if largest > tol:
        assert worst is not None
        return CorrelatedCheck(False, largest, worst, _violation_text(game, p, worst, largest), tol)
    eq = _record(game, p, CHECK, largest)
    return CorrelatedCheck(True, largest, worst, "", tol, eq)


def _exact_check(game: StrategicGame, exact: np.ndarray) -> CorrelatedCheck:
    tol = game.tolerance.payoff
    if any(v < 0 for v in exact.flat):
        lowest = int(np.argmin(exact.astype(float)))
        profile = np.unravel_index(lowest, game.shape)
        return _fail(
            game, f"negative probability {exact.flat[lowest]} at {_profile_text(game, profile)}"
        )
    total = sum(exact.flat, Fraction(0))
    if total != 1:
        return _fail(game, f"not a distribution: the probabilities sum to {total}, not 1")
    exact_gains = _exact_violations(game, exact)
    gains = np.zeros((game.n_players, max(game.shape), max(game.shape)))
    for i, g in enumerate(exact_gains):
        gains[i, : g.shape[0], : g.shape[1]] = g.astype(float)
    p = exact.astype(float)
    worst = _worst(game, gains)
    if any((g > 0).any() for g in exact_gains):
        largest = max(float(g.max()) for g in exact_gains)
        assert worst is not None
        return CorrelatedCheck(False, largest, worst, _violation_text(game, p, worst, largest), tol)
    eq = _exact_record(game, exact, CHECK)
    return CorrelatedCheck(True, 0.0, worst, "", tol, eq)


def _fail(game: StrategicGame, reason: str) -> CorrelatedCheck:
    return CorrelatedCheck(False, math.inf, None, reason, game.tolerance.payoff)


def _worst(game: StrategicGame, gains: np.ndarray) -> tuple[int, int, int] | None:
    """``(player, recommended, deviation)`` of the largest off-diagonal violation."""
    masked = np.full(gains.shape, -np.inf)
    for i, m in enumerate(game.shape):
        off = ~np.eye(m, dtype=bool)
        masked[i, :m, :m][off] = gains[i, :m, :m][off]
    if not np.isfinite(masked).any():
        return None
    player, told, deviate = np.unravel_index(int(np.argmax(masked)), masked.shape)
    return int(player), int(told), int(deviate)


def _violation_text(
    game: StrategicGame, p: np.ndarray, worst: tuple[int, int, int], gain: float
) -> str:
    i, k, k2 = worst
    told = float(np.moveaxis(p, i, 0)[k].sum())
    labels = game.strategies[i]
    conditional = f", {gain / told:.6g} per time it is told so" if told > 0 else ""
    return (
        f"incentive constraint fails: {game.players[i]}, told to play {labels[k]} "
        f"(probability {told:.6g}), gains {gain:.6g} by playing {labels[k2]} instead"
        f"{conditional} (tolerance {game.tolerance.payoff:.3g})"
    )


def _profile_text(game: StrategicGame, profile: Sequence[Any]) -> str:
    return ", ".join(
        f"{player}: {game.strategies[i][int(k)]}"
        for i, (player, k) in enumerate(zip(game.players, profile, strict=True))
    )


def _record(
    game: StrategicGame, p: np.ndarray, objective: str, max_violation: float
) -> CorrelatedEquilibrium:
    dist = np.array(p, dtype=float)
    dist.setflags(write=False)
    payoffs = tuple(float(np.vdot(dist, game.payoffs[i])) for i in range(game.n_players))
    return CorrelatedEquilibrium(game, dist, payoffs, objective, max_violation)


def _exact_record(game: StrategicGame, exact: np.ndarray, objective: str) -> CorrelatedEquilibrium:
    assert game.exact_payoffs is not None
    exact = np.array(exact, dtype=object)
    exact.setflags(write=False)
    dist = exact.astype(float)
    dist.setflags(write=False)
    support = np.flatnonzero(dist.ravel())
    exact_pay = tuple(
        sum(
            (exact.flat[j] * game.exact_payoffs[i].flat[j] for j in support),
            Fraction(0),
        )
        for i in range(game.n_players)
    )
    return CorrelatedEquilibrium(
        game,
        dist,
        tuple(float(v) for v in exact_pay),
        objective,
        0.0,
        exact=exact,
        exact_payoffs=exact_pay,
    )


def _exact_violations(game: StrategicGame, exact: np.ndarray) -> list[np.ndarray]:
    """Per player, the ``(m_i, m_i)`` object array of exact violations (support only)."""
    assert game.exact_payoffs is not None
    flat = exact.ravel()
    support = np.flatnonzero(flat != 0)
    weights = flat[support]
    profiles = np.stack(np.unravel_index(support, game.shape), axis=1)  # (|S|, n)
    out = []
    for i, m in enumerate(game.shape):
        gather = [profiles[:, j, None] for j in range(game.n_players)]
        gather[i] = np.arange(m)[None, :]
        deviate = game.exact_payoffs[i][tuple(gather)]  # (|S|, m): play k2 instead
        follow = deviate[np.arange(len(support)), profiles[:, i]]
        weighted = (deviate - follow[:, None]) * weights[:, None]
        g = np.zeros((m, m), dtype=object)
        for row, k in zip(weighted, profiles[:, i], strict=True):
            g[k] += row
        out.append(g)
    return out


# ----------------------------------------------------------------- the LP
_DIRECT_LP_PROFILES = 4096
"""Up to this many profiles one LP is solved directly; beyond, by column generation."""

_MIN_BATCH = 256
"""Column generation adds up to ``max(rows, this)`` profiles per round."""

_MAX_ROUNDS = 60
"""Column-generation rounds before falling back to one LP over all profiles."""


@dataclass(frozen=True, eq=False)
class _LPAnswer:
    """An optimal LP answer: ``x`` over all profiles; ``reduced`` costs (minimisation
    form, ``>= 0`` at an optimum; ``inf`` for profiles not allowed); ``duals`` of
    the incentive rows (scipy's sign: ``<= 0`` for ``<=`` rows)."""

    x: np.ndarray
    reduced: np.ndarray
    duals: np.ndarray


def _grow(
    working: np.ndarray, reduced: np.ndarray, tol: float, batch: int
) -> tuple[np.ndarray, bool]:
    """``working`` plus up to ``batch`` positions of most negative ``reduced`` cost."""
    negative = np.flatnonzero(reduced < -tol)
    negative = negative[~np.isin(negative, working)]
    if len(negative) == 0:
        return working, False
    best = negative[np.argsort(reduced[negative], kind="stable")[:batch]]
    return np.union1d(working, best), True


@dataclass(frozen=True, eq=False)
class _CorrelatedLP:
    """The correlated-equilibrium polytope of one game as LP data (payoffs scaled).

    ``a``: sparse ``(rows, profiles)`` matrix of the incentive inequalities
    ``a @ p <= 0``, in units of the game's payoff spread; ``rows`` the
    ``(player, recommended, deviation)`` of each row; ``scale`` the spread.
    """

    game: StrategicGame
    a: scipy.sparse.csr_array
    rows: np.ndarray
    scale: float
    welfare: np.ndarray = field(repr=False)
    at: scipy.sparse.csr_array = field(repr=False)

    @classmethod
    def build(cls, game: StrategicGame) -> _CorrelatedLP:
        tol = game.tolerance
        scale = tol.payoff / tol.rtol
        shape = game.shape
        n_profiles = math.prod(shape)
        flat = np.arange(n_profiles).reshape(shape)
        row_parts, col_parts, val_parts, labels = [], [], [], []
        offset = 0
        for i, m in enumerate(shape):
            if m == 1:
                continue
            cols = np.moveaxis(flat, i, 0).reshape(m, -1)
            u_i = np.moveaxis(game.payoffs[i], i, 0).reshape(m, -1) / scale
            told, deviate = np.nonzero(~np.eye(m, dtype=bool))
            values = u_i[deviate] - u_i[told]  # (m(m-1), R)
            keep = values != 0
            row_ids = np.broadcast_to((offset + np.arange(len(told)))[:, None], values.shape)
            row_parts.append(row_ids[keep])
            col_parts.append(cols[told][keep])
            val_parts.append(values[keep])
            labels.append(np.stack([np.full(len(told), i), told, deviate], axis=1))
            offset += len(told)
        if offset:
            a = scipy.sparse.csr_array(
                (np.concatenate(val_parts), (np.concatenate(row_parts), np.concatenate(col_parts))),
                shape=(offset, n_profiles),
            )
            rows = np.concatenate(labels)
        else:
            a = scipy.sparse.csr_array((0, n_profiles))
            rows = np.zeros((0, 3), dtype=int)
        welfare = game.payoffs.sum(axis=0).ravel() / scale
        # Pricing profiles (column generation, reduced costs) takes rows of a.T.
        return cls(game, a, rows, scale, welfare, scipy.sparse.csr_array(a.T))

    def objective_vector(self, weights: np.ndarray) -> np.ndarray:
        """Scaled ``sum_i weights[i] * u_i`` over the flattened profiles."""
        flat = self.game.payoffs.reshape(self.game.n_players, -1)
        return np.asarray(weights @ flat / self.scale)

    def solve(self, goal: np.ndarray, objective: str, tie_break: bool) -> CorrelatedEquilibrium:
        """The verified vertex maximising ``goal @ p`` (then welfare, if ``tie_break``).

        ``goal`` is a scaled payoff vector over the flattened profiles. Each HiGHS
        method of :data:`_LP_METHODS` is tried in turn until one gives a
        distribution that passes verification.
        """
        failures = []
        for method in _LP_METHODS:
            first = self._maximise(goal, method)
            if isinstance(first, str):
                failures.append(f"{method}: {first}")
                continue
            x = first.x
            if tie_break and objective != WELFARE:
                x = self._best_welfare_on_face(goal, first, method)
            eq = self.finish(x, objective)
            if isinstance(eq, CorrelatedEquilibrium):
                return eq
            failures.append(f"{method}: {eq}")
        raise RuntimeError(f"correlated_equilibrium ({objective}): " + "; ".join(failures))

    def _maximise(
        self,
        goal: np.ndarray,
        method: str,
        columns: np.ndarray | None = None,
        equal_rows: np.ndarray | None = None,
        seed: np.ndarray | None = None,
    ) -> _LPAnswer | str:
        """An optimal answer to max ``goal @ p`` over the polytope, or why there is none.

        ``columns``: only these profiles may have positive probability (default
        all). ``equal_rows``: these incentive rows must hold with equality.
        ``seed``: profiles that carry a feasible point (for column generation).
        """
        n_rows, n_profiles = self.a.shape
        cols = np.arange(n_profiles) if columns is None else np.asarray(columns)
        equal = np.zeros(n_rows, dtype=bool)
        if equal_rows is not None:
            equal[equal_rows] = True
        if len(cols) <= _DIRECT_LP_PROFILES:
            return self._direct(goal, method, cols, equal)
        return self._column_generation(goal, method, cols, equal, seed)

    def _direct(
        self, goal: np.ndarray, method: str, cols: np.ndarray, equal: np.ndarray
    ) -> _LPAnswer | str:
        """One LP over the profiles ``cols``."""
        answer = self._restricted(-goal[cols], cols, equal, method)
        if isinstance(answer, str):
            return answer
        x, duals, total = answer
        return self._answer(goal, cols, cols, x, duals, total)

    def _answer(
        self,
        goal: np.ndarray,
        cols: np.ndarray,
        used: np.ndarray,
        x: np.ndarray,
        duals: np.ndarray,
        total: float,
        reduced: np.ndarray | None = None,
    ) -> _LPAnswer:
        """The LP answer over all profiles: ``x`` on ``used``; reduced costs on ``cols``."""
        n_profiles = self.a.shape[1]
        full_x = np.zeros(n_profiles)
        full_x[used] = x
        full_reduced = np.full(n_profiles, np.inf)
        if reduced is None:
            reduced = -goal[cols] - self.at[cols] @ duals - total
        full_reduced[cols] = reduced
        return _LPAnswer(full_x, full_reduced, duals)

    def _restricted(
        self,
        cost: np.ndarray,
        cols: np.ndarray,
        equal: np.ndarray,
        method: str,
        elastic: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, float] | str:
        """HiGHS on min ``cost @ p`` over the profiles ``cols``: ``(p, row duals, sum dual)``.

        The row duals are scipy's marginals (``<= 0`` for the ``<=`` rows), one per
        incentive row; the reduced cost of profile ``j`` is then
        ``cost_j - a[:, j] @ duals - sum dual``. With ``elastic``, the inequality
        rows are relaxed to ``a @ p <= t`` and ``t >= 0`` is minimised instead
        (its value is the last entry of ``p``): always feasible, 0 exactly when
        the columns carry a correlated equilibrium.
        """
        a = self.a[:, cols]
        n_vars = len(cols)
        a_ub = a[~equal]
        a_eq = scipy.sparse.vstack([a[equal], scipy.sparse.csr_array(np.ones((1, n_vars)))])
        if elastic:
            a_ub = scipy.sparse.hstack([a_ub, scipy.sparse.csr_array(-np.ones((a_ub.shape[0], 1)))])
            a_eq = scipy.sparse.hstack([a_eq, scipy.sparse.csr_array((a_eq.shape[0], 1))])
            cost = np.append(np.zeros(n_vars), 1.0)
        b_eq = np.zeros(a_eq.shape[0])
        b_eq[-1] = 1.0
        # Scaled units: HiGHS meets the rows to a tenth of the tolerance.
        feasibility = self.game.tolerance.rtol / 10
        result = linprog(
            cost,
            A_ub=a_ub if a_ub.shape[0] else None,
            b_ub=np.zeros(a_ub.shape[0]) if a_ub.shape[0] else None,
            A_eq=a_eq,
            b_eq=b_eq,
            bounds=(0, None),
            method=method,
            options={
                "primal_feasibility_tolerance": feasibility,
                "dual_feasibility_tolerance": feasibility,
            },
        )
        if result.status != 0 or result.x is None:
            return str(result.message)
        duals = np.zeros(self.a.shape[0])
        if a_ub.shape[0]:
            duals[~equal] = result.ineqlin.marginals
        eq_marginals = np.asarray(result.eqlin.marginals)
        duals[equal] = eq_marginals[:-1]
        return np.asarray(result.x, dtype=float), duals, float(eq_marginals[-1])

    def _column_generation(
        self,
        goal: np.ndarray,
        method: str,
        cols: np.ndarray,
        equal: np.ndarray,
        seed: np.ndarray | None,
    ) -> _LPAnswer | str:
        """The LP over ``cols`` by column generation (Dantzig and Wolfe 1960; Gilmore
        and Gomory 1961).

        The polytope has few rows and many columns (profiles), and a vertex uses
        at most one profile per row plus one. Each round solves the LP over a
        working set of profiles, prices every profile of ``cols`` with that LP's
        duals in one sparse product, and adds the profiles of most negative reduced
        cost; when none is negative the working set's optimum is optimal for all
        of ``cols``. Without a ``seed`` known to carry a feasible point, a first
        phase minimises the largest incentive violation (elastic rows) until it is
        0. Falls back to one LP over all of ``cols`` after :data:`_MAX_ROUNDS`.
        """
        tol = self.game.tolerance.rtol  # scaled units
        cost = -goal[cols]
        prices = self.at[cols]
        batch = max(self.a.shape[0], _MIN_BATCH)
        working = np.argsort(cost, kind="stable")[:batch]
        if seed is not None:
            working = np.union1d(working, np.flatnonzero(np.isin(cols, seed)))
        else:
            for _ in range(_MAX_ROUNDS):
                answer = self._restricted(cost[working], cols[working], equal, method, True)
                if isinstance(answer, str):
                    return answer
                x, duals, total = answer
                if x[-1] <= tol / 10:
                    break
                reduced = -(prices @ duals) - total
                working, grew = _grow(working, reduced, tol, batch)
                if not grew:
                    return "no correlated equilibrium among the priced profiles"
            else:
                return self._direct(goal, method, cols, equal)
        for _ in range(_MAX_ROUNDS):
            answer = self._restricted(cost[working], cols[working], equal, method)
            if isinstance(answer, str):
                return self._direct(goal, method, cols, equal)
            x, duals, total = answer
            reduced = cost - prices @ duals - total
            working_before = working
            working, grew = _grow(working, reduced, tol, batch)
            if not grew:
                return self._answer(goal, cols, cols[working_before], x, duals, total, reduced)
        return self._direct(goal, method, cols, equal)

    def _best_welfare_on_face(self, goal: np.ndarray, first: _LPAnswer, method: str) -> np.ndarray:
        """The most welfare among the maximisers of ``goal``, given the optimal answer ``first``.

        By complementary slackness, with the optimal duals of the first LP the
        maximisers are the feasible points that use only profiles of zero reduced
        cost and meet with equality every row of nonzero dual (the optimal face).
        Welfare is maximised over that face, a much smaller LP. Its answer is kept
        only if it loses at most the tolerance in ``goal``; else ``first.x`` is.
        """
        tol = self.game.tolerance.rtol  # scaled units
        columns = np.flatnonzero(first.reduced <= tol)
        equal_rows = np.flatnonzero(np.abs(first.duals) > tol)
        support = np.flatnonzero(first.x > 0)
        columns = np.union1d(columns, support)
        second = self._maximise(self.welfare, method, columns, equal_rows, seed=support)
        if isinstance(second, str):
            return first.x
        if goal @ second.x < goal @ first.x - tol:
            return first.x
        return second.x

    # ------------------------------------------------------------- polishing
    def finish(self, x: np.ndarray, objective: str) -> CorrelatedEquilibrium | str:
        """Polish, verify and record the LP solution ``x`` (flat); else say why not."""
        game = self.game
        tol = game.tolerance
        candidates: list[CorrelatedEquilibrium] = []
        vertex = self._vertex(x)
        if vertex is not None:
            support, rows, null = vertex
            if game.exact_payoffs is not None and len(support) <= EXACT_SUPPORT_LIMIT:
                exact = self._exact_vertex(support, rows)
                if exact is not None:
                    check = _exact_check(game, exact)
                    if check.ok and check.equilibrium is not None:
                        return replace(check.equilibrium, objective=objective)
            polished = np.zeros_like(x)
            polished[support] = null
            candidates.append(self._cleaned(polished, objective))
        candidates.append(self._cleaned(x, objective))
        valid = [c for c in candidates if c.max_violation <= tol.payoff]
        if not valid:
            worst = min(c.max_violation for c in candidates)
            return (
                f"the LP's answer violates an incentive constraint by {worst:.3g} "
                f"> tolerance {tol.payoff:.3g}"
            )
        return valid[0]

    def _cleaned(self, x: np.ndarray, objective: str) -> CorrelatedEquilibrium:
        tol = self.game.tolerance
        p = np.where(x <= tol.probability, 0.0, x)
        p = (p / p.sum()).reshape(self.game.shape)
        gains = incentive_violations(self.game, p)
        return _record(self.game, p, objective, max(0.0, float(gains.max())))

    def _vertex(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The vertex of the polytope near ``x``: ``(support, tight rows, probabilities)``.

        At a vertex, the support's probabilities are fixed by the inequalities met
        with equality: the matrix of those rows restricted to the support has a
        one-dimensional null space, spanned by the vertex. ``None`` when that is
        not so (``x`` is not near a vertex, or rows were misjudged).
        """
        tol = self.game.tolerance
        support = np.flatnonzero(x > tol.probability)
        if len(support) == 0:
            return None
        if len(support) == 1:
            return support, np.zeros(0, dtype=int), np.ones(1)
        slack = self.a @ x
        # HiGHS meets rows to a tenth of the tolerance, so a tight row's slack is
        # within the tolerance of 0 and a loose row's is (almost always) far from
        # it; the optimizers' looser tolerance is the second try. A misjudged row
        # shows as a null space of the wrong dimension, and then the LP's own
        # answer is used.
        for threshold in (tol.rtol, SOLVE_RTOL):
            tight = np.flatnonzero(slack >= -threshold)
            found = self._null_line(support, tight)
            if found is not None:
                return (support, *found)
        return None

    def _null_line(
        self, support: np.ndarray, tight: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """``(independent rows, null vector summing to 1)`` if the block's null space is a line."""
        block = self.a[tight][:, support].toarray()
        # Rows of strategies the support never recommends are 0 = 0: no information.
        informative = np.any(block != 0, axis=1)
        block, tight = block[informative], tight[informative]
        if block.shape[0] == 0:
            return None
        if block.shape[0] < len(support):
            # Zero rows change no null space and give ``vt`` all its rows.
            block = np.vstack([block, np.zeros((len(support) - block.shape[0], len(support)))])
        _, singular, vt = scipy.linalg.svd(block, full_matrices=False)
        # Numerical rank as numpy.linalg.matrix_rank judges it (the block is exact data).
        cutoff = singular.max(initial=0.0) * max(block.shape) * np.finfo(float).eps
        rank = int(np.count_nonzero(singular > cutoff))
        if len(support) - rank != 1:
            return None
        null = vt[-1] / vt[-1].sum()
        if not np.all(null > 0):
            return None
        # Independent rows for the exact solve: pivoted QR of the block's transpose.
        _, _, pivots = scipy.linalg.qr(block.T, pivoting=True, mode="economic")
        return tight[pivots[:rank]], null

    def _exact_vertex(self, support: np.ndarray, rows: np.ndarray) -> np.ndarray | None:
        """The vertex in Fractions: null vector of the exact rows on the support."""
        game = self.game
        assert game.exact_payoffs is not None
        profiles = np.stack(np.unravel_index(support, game.shape), axis=1)
        matrix: list[list[Fraction]] = []
        for i, k, k2 in self.rows[rows]:
            u = game.exact_payoffs[i]
            entries = []
            for s in profiles:
                if s[i] != k:
                    entries.append(Fraction(0))
                    continue
                deviated = list(s)
                deviated[i] = k2
                entries.append(Fraction(u[tuple(deviated)] - u[tuple(s)]))
            matrix.append(entries)
        null = _rational_null_vector(matrix, len(support))
        if null is None:
            return None
        total = sum(null, Fraction(0))
        if total == 0:
            return None
        exact = np.full(math.prod(game.shape), Fraction(0), dtype=object)
        for j, v in zip(support, null, strict=True):
            exact[j] = v / total
        return exact.reshape(game.shape)


def _rational_null_vector(matrix: list[list[Fraction]], columns: int) -> list[Fraction] | None:
    """The null vector of ``matrix`` (rows of Fractions) when its null space is a line.

    Each row is scaled to integers (which keeps the null space), brought to
    echelon form by fraction-free elimination (Bareiss 1968: every entry stays an
    integer minor of the matrix, so numbers grow no faster than determinants
    do), and the null vector is found by back substitution with the one free
    column set to 1. ``None`` when the null space has another dimension.
    """
    m: list[list[int]] = []
    for given in matrix:
        scale = math.lcm(*(v.denominator for v in given)) if given else 1
        m.append([int(v * scale) for v in given])
    previous = 1
    pivots: list[int] = []
    r = 0
    for col in range(columns):
        found = next((i for i in range(r, len(m)) if m[i][col] != 0), None)
        if found is None:
            continue
        m[r], m[found] = m[found], m[r]
        pivot_row = m[r]
        pivot = pivot_row[col]
        for i in range(r + 1, len(m)):
            row = m[i]
            factor = row[col]
            # Exact division (Sylvester's identity); rows with a 0 here still need
            # the common scaling by pivot / previous to stay minors.
            for j in range(col + 1, columns):
                row[j] = (row[j] * pivot - factor * pivot_row[j]) // previous
            row[col] = 0
        previous = pivot
        pivots.append(col)
        r += 1
    free = [c for c in range(columns) if c not in pivots]
    if len(free) != 1:
        return None
    vector = [Fraction(0)] * columns
    vector[free[0]] = Fraction(1)
    for row_index in range(len(pivots) - 1, -1, -1):
        col = pivots[row_index]
        row = m[row_index]
        total = sum((row[j] * vector[j] for j in range(col + 1, columns) if row[j]), Fraction(0))
        vector[col] = -total / row[col]
    return vector


# ------------------------------------------------------------------- solvers
def _objective(game: StrategicGame, objective: Objective) -> tuple[str, np.ndarray]:
    """``(readable name, weights per player)`` for an objective."""
    n = game.n_players
    if isinstance(objective, str):
        if objective == WELFARE:
            return WELFARE, np.ones(n)
        index = game.player_index(objective)
        return f"max payoff of {objective}", np.eye(n)[index]
    if isinstance(objective, (int, np.integer)) and not isinstance(objective, bool):
        if not 0 <= int(objective) < n:
            raise ValueError(
                f"correlated_equilibrium: player index {objective} out of range 0..{n - 1}"
            )
        return f"max payoff of {game.players[int(objective)]}", np.eye(n)[int(objective)]
    try:
        weights = np.asarray(objective, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            "correlated_equilibrium: objective must be 'welfare', a player (index or name) "
            f"or one weight per player, got {objective!r}"
        ) from None
    if weights.shape != (n,) or not np.all(np.isfinite(weights)):
        raise ValueError(
            f"correlated_equilibrium: weights must be {n} finite numbers (one per player), "
            f"got {objective!r}"
        )
    text = ", ".join(f"{p} {w:g}" for p, w in zip(game.players, weights, strict=True))
    return f"weighted payoffs ({text})", weights


def correlated_equilibrium(
    game: StrategicGame, objective: Objective = WELFARE, *, tie_break: bool = True
) -> CorrelatedEquilibrium:
    """The correlated equilibrium maximising ``objective`` (LP; Papadimitriou and Roughgarden 2008).

    ``objective``: ``"welfare"`` (sum of expected payoffs), a player (index or
    name: that player's expected payoff) or a weight vector of length ``n``
    (the weighted sum). With ``tie_break`` (default), when the objective is not
    welfare, the second stage maximises welfare among the maximisers, so the answer
    is not needlessly wasteful. The answer is a vertex of the polytope, verified
    (and exact when the game is rational and the vertex is recovered exactly).
    """
    name, weights = _objective(game, objective)
    lp = _CorrelatedLP.build(game)
    return lp.solve(lp.objective_vector(weights), name, tie_break)


def correlated_equilibria(game: StrategicGame, *, tie_break: bool = True) -> CorrelatedResult:
    """The welfare-maximising correlated equilibrium and one maximising each player's payoff.

    One LP per objective over the same constraint matrix (built once). Equal
    distributions are listed once, the later objectives named in the first's
    ``also`` and in a note. See :func:`correlated_equilibrium` for ``tie_break``.
    """
    start = time.perf_counter()
    lp = _CorrelatedLP.build(game)
    found: list[CorrelatedEquilibrium] = []
    notes: list[str] = []
    objectives: list[Objective] = [WELFARE, *range(game.n_players)]
    for objective in objectives:
        name, weights = _objective(game, objective)
        eq = lp.solve(lp.objective_vector(weights), name, tie_break)
        same = next((k for k, other in enumerate(found) if _same(other, eq)), None)
        if same is None:
            found.append(eq)
            continue
        first = found[same]
        found[same] = replace(first, also=(*first.also, name))
        notes.append(coincidence_note(name, first.objective))
    if tie_break:
        notes.append(
            "ties broken by welfare: each 'max payoff of' distribution has the most welfare "
            "among those giving that player its highest payoff"
        )
    return CorrelatedResult(
        game,
        tuple(found),
        tuple(notes),
        variables=lp.a.shape[1],
        constraints=lp.a.shape[0],
        elapsed=time.perf_counter() - start,
    )


def coincidence_note(objective: str, listed: str) -> str:
    """The note saying that ``objective`` gave the distribution already listed for ``listed``."""
    return f"{objective}: the same distribution as for {listed}"


def _same(a: CorrelatedEquilibrium, b: CorrelatedEquilibrium) -> bool:
    if a.exact is not None and b.exact is not None:
        return bool(np.array_equal(a.exact, b.exact))
    return bool(
        np.allclose(a.distribution, b.distribution, rtol=0, atol=a.game.tolerance.probability * 1e3)
    )
