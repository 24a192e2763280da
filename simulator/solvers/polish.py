r"""Newton's method on the equilibrium equations of a support profile ("polishing").

Notation as in :mod:`simulator.game`. Fix a support profile
:math:`S = (S_0, \dots, S_{n-1})`, :math:`S_i \subseteq \{0, \dots, m_i - 1\}`
of size :math:`k_i`. A Nash equilibrium with exactly these supports solves the
square polynomial system in the unknowns :math:`\sigma_i|_{S_i}` and the values
:math:`v_i` (:math:`C + n` unknowns, :math:`C = \sum_i k_i`):

.. math::

    F_{i,k}(\sigma, v) &= u_i(k, \sigma_{-i}) - v_i = 0 \qquad (k \in S_i), \\
    F_{i,\Sigma}(\sigma, v) &= \textstyle\sum_{k \in S_i} \sigma_i(k) - 1 = 0,

with :math:`\sigma_i(k) = 0` off :math:`S_i` (the indifference equations of
support enumeration; Porter, Nudelman and Shoham 2008, Feasibility Program 1
without its inequalities). A root is an equilibrium when, in addition,
:math:`\sigma \ge 0` and no strategy off the support earns more than
:math:`v_i` (checked afterwards, over all strategies).

:math:`u_i(k, \sigma_{-i})` is multilinear, so the Jacobian is exact and cheap:
:math:`\partial F_{i,k} / \partial \sigma_j(l) = u_i(k, l, \sigma_{-i,j})`
(players :math:`i` and :math:`j` pure, the others mixed) for :math:`j \ne i`,
zero for :math:`j = i`, and :math:`\partial F_{i,k} / \partial v_i = -1`.
With matrices :math:`E_h` of shape :math:`(C, k_h)` whose row for column
:math:`c = (j, l)` of the Jacobian is :math:`e_l` when :math:`h = j` and
:math:`\sigma_h` otherwise, player :math:`i`'s whole row block is one tensor
contraction of its (support-restricted) payoff tensor with the :math:`E_h`,
:math:`h \ne i`; its diagonal block holds :math:`u_i(k, \sigma_{-i})` itself,
which gives the residual for free. Everything is batched over starting points,
so no Python loop runs over pure profiles or over starts.

Newton's method converges quadratically near a regular root (e.g. Kelley 2003,
*Solving Nonlinear Equations with Newton's Method*). To find *several* roots of
one system from several starts, steps can be *deflated* against known roots
(Brown and Gearhart 1971; Farrell, Birkisson and Funke 2015): Newton on
:math:`M(x) F(x)` with :math:`M(x) = \prod_r (\lVert x - r \rVert^{-2} + 1)`
cannot converge to a known root :math:`r`, and its step is the plain Newton
step :math:`\delta` scaled by :math:`1 / (1 - \nabla \log M(x) \cdot \delta)`
(Sherman–Morrison), so it costs nothing extra.

:func:`polish` turns an approximate equilibrium (the end of a logit path, say)
into one accurate to the game's tolerance; :class:`SupportSystem` and
:func:`support_newton` are the shared kernel that
:mod:`simulator.solvers.nplayer_support` also uses.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from simulator.game import StrategicGame

Support = Sequence[Sequence[int]]

MAX_ITERATIONS = 30
"""Newton iterations per start before giving up (quadratic convergence needs ~5-8)."""

_DIVERGED = 10.0
"""An iterate with a probability this large in magnitude has left the simplex behind:
it is stopped (a root that far out is no equilibrium)."""

_ROUND_OFF = 1e-2
"""Residuals are driven to this fraction of the game's tolerance before a root is accepted."""

_DENSE_LIMIT = 1 << 20
"""Largest stacked payoff matrix (entries) for the one-product evaluation; beyond it,
one product per player (less memory for big supports)."""

_POLISH_THRESHOLDS = (1e-6, 1e-4, 1e-3, 1e-2)
"""Fallback probability cut-offs for reading a support when the round-off one fails."""


@dataclass(frozen=True, eq=False)
class _Layout:
    """Index arrays that depend only on the support sizes ``(k_0, ..., k_{n-1})``."""

    offsets: tuple[int, ...]
    block: np.ndarray  # (C,): the player owning each column
    axes: tuple[tuple[int, ...], ...]  # transpose moving player i's axis last
    eye: np.ndarray  # (C, C) identity
    columns: np.ndarray  # arange(C)
    first_column: np.ndarray  # (C,): first column of the owning player's block
    value_index: np.ndarray  # (C,): index of the owning player's value in x
    indicator: np.ndarray  # (C, n): column c belongs to player i
    off_diagonal: np.ndarray  # (C, C): 1 off the player blocks
    template: np.ndarray  # (C + n, C + n): the constant part of the Jacobian


@lru_cache(maxsize=512)
def _layout(sizes: tuple[int, ...]) -> _Layout:
    n = len(sizes)
    offsets = [0]
    for k in sizes:
        offsets.append(offsets[-1] + k)
    c = offsets[-1]
    block = np.repeat(np.arange(n), sizes)
    outside = block[None, :] != np.arange(n)[:, None]
    identity = np.eye(c)
    columns = np.arange(c)
    template = np.zeros((c + n, c + n))
    template[columns, c + block] = -1.0
    template[c + block, columns] = 1.0
    for arr in (block, identity, columns, template):
        arr.setflags(write=False)
    return _Layout(
        offsets=tuple(offsets),
        block=block,
        axes=tuple((*(h for h in range(n) if h != i), i) for i in range(n)),
        eye=identity,
        columns=columns,
        first_column=np.asarray(offsets, dtype=np.intp)[block],
        value_index=c + block,
        indicator=(~outside).T.astype(float),
        off_diagonal=outside[block].astype(float),
        template=template,
    )


class SupportSystem:
    r"""The equilibrium equations of one support profile, evaluated in batches.

    ``support[i]`` lists player ``i``'s strategies (indices; a non-empty set).
    An unknown vector ``x`` has length ``C + n``: player 0's probabilities on
    ``support[0]`` (in increasing strategy order), then player 1's, ..., then
    the values ``v_0, ..., v_{n-1}``. Methods take batches ``x`` of shape
    ``(B, C + n)``.
    """

    def __init__(self, game: StrategicGame, support: Support) -> None:
        n = game.n_players
        if len(support) != n:
            raise ValueError(f"SupportSystem: {len(support)} supports for {n} players")
        chosen = []
        for i, (s, m) in enumerate(zip(support, game.shape, strict=True)):
            arr = np.array(sorted({int(k) for k in s}), dtype=np.intp)
            if arr.size == 0 or arr[0] < 0 or arr[-1] >= m:
                raise ValueError(
                    f"SupportSystem: player {i}'s support must be a non-empty subset of "
                    f"0..{m - 1}, got {list(s)}"
                )
            chosen.append(arr)
        self.game = game
        self.n = n
        self.support = tuple(chosen)
        self._key = tuple(tuple(int(k) for k in s) for s in chosen)
        self.sizes = tuple(int(s.size) for s in chosen)
        layout = _layout(self.sizes)
        self.offsets = layout.offsets
        self.block = layout.block
        self.columns = c = layout.offsets[-1]
        self.dimension = c + n
        self._layout = layout
        self.tolerance = np.empty(c + n)
        self.tolerance[:c] = _ROUND_OFF * game.tolerance.payoff
        self.tolerance[c:] = _ROUND_OFF * game.tolerance.probability
        starts = _layout(game.shape).offsets
        # Positions of the support columns in a concatenated full-length profile.
        self._scatter = np.concatenate([s + starts[i] for i, s in enumerate(chosen)])
        self._player_slices = [slice(starts[i], starts[i + 1]) for i in range(n)]
        self._starts = np.asarray(starts[:-1], dtype=np.intp)
        self._width = starts[-1]
        profiles = math.prod(self.sizes)
        self._dense = n > 1 and profiles * max(c, self._width) <= _DENSE_LIMIT
        self._stacked_full: np.ndarray | None = None
        if self._dense:
            self._stacked = stacked_payoffs(game, self._key, self._key)
        else:
            index: tuple[Any, ...] = (slice(None), *np.ix_(*chosen))
            restricted = game.payoffs[index]
            # Player i's payoffs as a (prod_{h != i} k_h, k_i) matrix, opponents in order.
            self._matrices = [
                restricted[i].transpose(layout.axes[i]).reshape(-1, self.sizes[i]) for i in range(n)
            ]

    # ------------------------------------------------------------ conversions
    def start(self, sigmas: npt.ArrayLike) -> np.ndarray:
        """Starting points ``(B, C + n)`` from support probabilities ``sigmas`` ``(B, C)``.

        The values are left at 0: :meth:`newton` sets them to the expected
        payoffs before its first step.
        """
        sigmas = np.atleast_2d(np.asarray(sigmas, dtype=float))
        x = np.zeros((sigmas.shape[0], self.dimension))
        x[:, : self.columns] = sigmas
        return x

    def from_profile(self, profile: Sequence[npt.ArrayLike]) -> np.ndarray:
        """A start ``(1, C + n)`` from a full profile, renormalised on the support.

        Negative entries count as 0; a player whose probabilities on the support
        sum to 0 starts uniform on it.
        """
        flat = np.concatenate([np.asarray(p, dtype=float).reshape(-1) for p in profile])
        sigma = np.maximum(flat[self._scatter], 0.0)
        totals = sigma @ self._layout.indicator
        empty = totals <= 0.0
        if np.any(empty):
            sigma[empty[self.block]] = 1.0
            totals = sigma @ self._layout.indicator
        return self.start((sigma / totals[self.block])[None, :])

    def full(self, x: np.ndarray) -> list[np.ndarray]:
        """The probabilities of ``x`` ``(B, C + n)`` as full-length arrays ``(B, m_i)``."""
        x = np.atleast_2d(x)
        flat = np.zeros((x.shape[0], self._width))
        flat[:, self._scatter] = x[:, : self.columns]
        return [flat[:, s] for s in self._player_slices]

    def profiles(self, x: np.ndarray) -> list[tuple[np.ndarray, ...]]:
        """The rows of ``x`` ``(B, C + n)`` as full profiles (zeros off the support)."""
        sigmas = self.full(x)
        return [tuple(s[r] for s in sigmas) for r in range(sigmas[0].shape[0])]

    # ------------------------------------------------------------ equations
    def _top(self, x: np.ndarray) -> np.ndarray:
        r"""The transposed payoff block ``T`` ``(B, C, C)`` of the Jacobian, unmasked.

        ``T[b, (j, l), (i, k)]`` is :math:`u_i(k, l, \sigma_{-i,j})` for ``j != i``
        and :math:`u_i(k, \sigma_{-i})` for ``j == i``.

        Dense route (supports with few profiles): the outer product ``Omega`` of
        all the ``E_h`` ``(B, C, prod_h k_h)`` times the stacked payoffs gives
        player ``i``'s columns multiplied by the row sums of ``E_i`` (1 in block
        ``i``, :math:`\sum \sigma_i` elsewhere), which are divided out: one
        matrix product for everything. Otherwise player ``i``'s columns are
        ``W_i @ P_i``, ``W_i`` the outer product of the ``E_h`` over the opponents.
        """
        b, c, n = x.shape[0], self.columns, self.n
        if n == 1:
            own = self.game.payoffs[0][self.support[0]]
            return np.broadcast_to(own.reshape(1, 1, c), (b, 1, c))
        lay = self._layout
        e_all = x[:, None, :c] * lay.off_diagonal + lay.eye  # (B, C, C): E_h side by side
        e = [e_all[:, :, self.offsets[h] : self.offsets[h + 1]] for h in range(n)]
        if self._dense:
            omega = e[0]
            for h in range(1, n):
                omega = (omega[..., None] * e[h][:, :, None, :]).reshape(b, c, -1)
            top = omega @ self._stacked
            top /= (e_all @ lay.indicator)[:, :, self.block]
            return top
        parts = []
        for i in range(n):
            w: np.ndarray | None = None
            for h in range(n):
                if h != i:
                    w = (
                        e[h]
                        if w is None
                        else (w[..., None] * e[h][:, :, None, :]).reshape(b, c, -1)
                    )
            parts.append(w @ self._matrices[i])
        return np.concatenate(parts, axis=2)

    def evaluate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residuals ``F`` ``(B, C + n)`` and Jacobians ``J`` ``(B, C + n, C + n)`` at ``x``.

        Rows: the ``C`` indifference equations (player by player), then the ``n``
        sums; columns: the unknowns in the order of ``x``.
        """
        c, d = self.columns, self.dimension
        top = self._top(x)
        b = x.shape[0]
        residual = np.empty((b, d))
        residual[:, :c] = (
            top[:, self._layout.first_column, self._layout.columns] - x[:, self._layout.value_index]
        )
        residual[:, c:] = x[:, :c] @ self._layout.indicator - 1.0
        jacobian = np.empty((b, d, d))
        jacobian[:] = self._layout.template
        jacobian[:, :c, :c] = np.swapaxes(top, 1, 2) * self._layout.off_diagonal
        return residual, jacobian

    # ------------------------------------------------------------ Newton
    def newton(
        self,
        x0: np.ndarray,
        *,
        max_iterations: int = MAX_ITERATIONS,
        roots: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Newton's method from each row of ``x0`` ``(B, C + n)``, all rows at once.

        Returns ``(x, converged)``: the final iterates and a mask of the rows
        whose residual fell to a hundredth of the game's payoff tolerance
        (indifference rows) and probability tolerance (sum rows); such a row
        stops there. Rows that leave every neighbourhood of the
        simplex or become non-finite stop early, unconverged. ``roots``
        ``(R, C + n)``: known roots to deflate against (probability coordinates
        only), so that the iterates are repelled from them.
        """
        x = np.array(np.atleast_2d(x0), dtype=float)
        c = self.columns
        converged = np.zeros(x.shape[0], dtype=bool)
        active = np.arange(x.shape[0])
        deflate = None if roots is None or len(roots) == 0 else np.atleast_2d(roots)[:, :c]
        lay = self._layout
        for iteration in range(max_iterations):
            xa = x if active.size == x.shape[0] else x[active]
            residual, jacobian = self.evaluate(xa)
            if iteration == 0:
                # Values start at each player's expected payoff, so that a start that
                # already solves the indifference equations has zero residual (on a
                # singular system, a least-squares step from a wrong value would move
                # the probabilities along the solution set for nothing).
                sigma = xa[:, :c]
                payoff = residual[:, :c] + xa[:, lay.value_index]
                weight = sigma @ lay.indicator
                values = (sigma * payoff) @ lay.indicator / np.where(weight != 0, weight, 1.0)
                xa[:, c:] = values
                residual[:, :c] = payoff - values[:, self.block]
            done = (np.abs(residual) <= self.tolerance).all(axis=1)
            step = _solve(jacobian, residual)
            # A converged row stays put: on a singular system (a continuum of roots) a
            # step computed from a round-off residual can be arbitrarily long.
            step[done] = 0.0
            if deflate is not None:
                step *= _deflation_factor(xa[:, :c], step[:, :c], deflate)[:, None]
            xa -= step
            if xa is not x:
                x[active] = xa
            converged[active[done]] = True
            # NaN compares False, so a non-finite iterate drops out here too.
            keep = (np.abs(xa[:, :c]).max(axis=1) <= _DIVERGED) & ~done
            active = active[keep]
            if active.size == 0:
                break
        return x, converged

    def accept(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Which rows of ``x`` ``(B, C + n)`` are equilibria, and their probabilities.

        A row is accepted when its probabilities are at least minus the game's
        probability tolerance and, with those round-off negatives set to 0 and
        each player's renormalised, every player's regret over *all* strategies
        is within ``game.tolerance.payoff``. Returns the mask ``(B,)`` and the
        cleaned probabilities as full-length arrays ``(B, m_i)`` per player
        (rows that are not accepted hold a uniform placeholder).
        """
        lay = self._layout
        sigma = np.atleast_2d(x)[:, : self.columns]
        inside = sigma.min(axis=1) >= -self.game.tolerance.probability
        cleaned = np.maximum(sigma, 0.0)
        cleaned[~inside] = 1.0
        cleaned /= (cleaned @ lay.indicator)[:, self.block]
        sigmas = self.full(cleaned)
        tol = self.game.tolerance.payoff
        if not self._dense:
            return inside & (regrets_batch(self.game, sigmas).max(axis=1) <= tol), sigmas
        if self._stacked_full is None:
            self._stacked_full = stacked_payoffs(self.game, self._key, None)
        joint = cleaned[:, self.offsets[0] : self.offsets[1]]
        for h in range(1, self.n):
            block = cleaned[:, self.offsets[h] : self.offsets[h + 1]]
            joint = (joint[:, :, None] * block[:, None, :]).reshape(joint.shape[0], -1)
        dev = joint @ self._stacked_full  # (B, sum m_i): every strategy's payoff
        best = np.maximum.reduceat(dev, self._starts, axis=1)
        value = (cleaned * dev[:, self._scatter]) @ lay.indicator
        return inside & ((best - value).max(axis=1) <= tol), sigmas


def _solve(jacobian: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Batched solve of ``J step = rhs``; least squares when some ``J`` is singular.

    A singular Jacobian means the root is not isolated (a continuum of
    equilibria, as in degenerate games) or the iterate sits on a singular
    point; the minimum-norm least-squares step still moves towards the
    solution set.
    """
    try:
        return np.linalg.solve(jacobian, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return np.einsum("bij,bj->bi", np.linalg.pinv(jacobian), rhs)


def _deflation_factor(x: np.ndarray, correction: np.ndarray, roots: np.ndarray) -> np.ndarray:
    r"""The factor :math:`\tau` that turns a Newton step into a deflated one.

    ``x`` and ``correction`` ``(B, D)`` (Newton's update is ``x - correction``),
    ``roots`` ``(R, D)``. The deflation operator is
    :math:`M(x) = \prod_r (\lVert x - r \rVert^{-2} + 1)` (Farrell, Birkisson
    and Funke 2015, power 2 and shift 1), and the deflated update is
    ``x - tau * correction`` with :math:`\tau = 1 / (1 + \nabla \log M(x) \cdot s)`,
    ``s`` the correction. A negative factor reverses a step that heads for a
    known root.
    """
    diff = x[:, None, :] - roots[None, :, :]  # (B, R, D)
    inv = 1.0 / np.maximum(np.einsum("brd,brd->br", diff, diff), 1e-300)
    # d/dx log(|x - r|^-2 + 1) = -2 |x - r|^-4 (x - r) / (|x - r|^-2 + 1)
    weight = -2.0 * inv * inv / (inv + 1.0)
    denominator = 1.0 + np.einsum("br,brd,bd->b", weight, diff, correction)
    tiny = np.abs(denominator) < 1e-12
    return 1.0 / np.where(tiny, np.copysign(1e-12, denominator), denominator)


# ------------------------------------------------------------------ regrets
def stacked_payoffs(
    game: StrategicGame, support: Sequence[Sequence[int]], own: Sequence[Sequence[int]] | None
) -> np.ndarray:
    r"""All players' payoffs on a support profile as one matrix.

    ``own[i]`` lists the strategies of player ``i`` to tabulate (``None``: all of
    each player's strategies). Returns shape ``(prod_h k_h, sum_i len(own[i]))``,
    ``k_h = len(support[h])``; row ``s`` is a pure profile of the support (C
    order) and entry ``[s, (i, k)]`` is player ``i``'s payoff for strategy
    ``own[i][k]`` when the others play ``s`` (``s_i`` is ignored). So
    ``joint @ stacked`` gives every player's deviation payoffs against a joint
    distribution ``joint`` over the support profile: for a product of mixed
    strategies, :math:`u_i(k, \sigma_{-i})` times :math:`\sum \sigma_i`. One
    gather from ``game.payoffs``, with the gather's index cached per shape and
    support.
    """
    key_support = tuple(tuple(int(k) for k in s) for s in support)
    key_own = None if own is None else tuple(tuple(int(k) for k in s) for s in own)
    index = _stacked_index(game.shape, key_support, key_own)
    return np.ascontiguousarray(game.payoffs).reshape(-1)[index]


@lru_cache(maxsize=1024)
def _stacked_index(
    shape: tuple[int, ...],
    support: tuple[tuple[int, ...], ...],
    own: tuple[tuple[int, ...], ...] | None,
) -> np.ndarray:
    """Flat indices into a ``(n, *shape)`` payoff array for :func:`stacked_payoffs`."""
    n = len(shape)
    strides = [math.prod(shape[h + 1 :]) for h in range(n)]
    unit = [[-1 if j == h else 1 for j in range(n)] for h in range(n)]
    offsets = [
        np.asarray(s, dtype=np.intp).reshape(unit[h]) * strides[h] for h, s in enumerate(support)
    ]
    total = np.zeros([len(s) for s in support], dtype=np.intp)
    for part in offsets:
        total = total + part
    columns = []
    for i in range(n):
        others = (total - offsets[i]).reshape(-1, 1)
        mine = np.arange(shape[i]) if own is None else np.asarray(own[i], dtype=np.intp)
        columns.append(i * math.prod(shape) + others + mine.reshape(1, -1) * strides[i])
    index = np.concatenate(columns, axis=1)
    index.setflags(write=False)
    return index


def _subscripts(n: int, player: int) -> str:
    axes = string.ascii_lowercase[:n]
    others = "".join(f",Z{axes[h]}" for h in range(n) if h != player)
    return f"{axes}{others}->Z{axes[player]}"


def deviation_payoffs_batch(payoffs: np.ndarray, sigmas: Sequence[np.ndarray]) -> list[np.ndarray]:
    r"""Each player's pure-strategy payoffs against many profiles at once.

    ``payoffs`` ``(n, m_0, ..., m_{n-1})``; ``sigmas[h]`` ``(B, m_h)``. Entry ``i`` of
    the result is ``(B, m_i)``: :math:`u_i(k, \sigma_{-i})` for each row.
    """
    n = payoffs.shape[0]
    if n > len(string.ascii_lowercase):
        raise ValueError(f"deviation_payoffs_batch: at most {len(string.ascii_lowercase)} players")
    if n == 1:
        return [np.broadcast_to(payoffs[0], (sigmas[0].shape[0], payoffs.shape[1]))]
    return [
        np.einsum(_subscripts(n, i), payoffs[i], *(sigmas[h] for h in range(n) if h != i))
        for i in range(n)
    ]


def regrets_batch(game: StrategicGame, sigmas: Sequence[np.ndarray]) -> np.ndarray:
    r"""Each player's regret at many profiles: shape ``(B, n)``.

    ``sigmas[h]`` ``(B, m_h)``. Regret is
    :math:`\max_k u_i(k, \sigma_{-i}) - u_i(\sigma)` over all of player ``i``'s
    strategies.
    """
    out = np.empty((sigmas[0].shape[0], game.n_players))
    for i, dev in enumerate(deviation_payoffs_batch(game.payoffs, sigmas)):
        out[:, i] = dev.max(axis=1) - (dev * sigmas[i]).sum(axis=1)
    return out


# ------------------------------------------------------------------ public
def support_newton(
    game: StrategicGame,
    support: Support,
    start: Sequence[npt.ArrayLike],
    *,
    max_iterations: int = MAX_ITERATIONS,
) -> tuple[tuple[np.ndarray, ...], bool]:
    """Newton's method on the equations of ``support`` from the profile ``start``.

    ``start[i]`` has length ``m_i``; its entries off ``support[i]`` are ignored
    and those on it renormalised. Returns ``(profile, converged)``: the last
    iterate as a full profile (zeros off the support; it may lie outside the
    simplex) and whether the residual converged. A converged root need not be
    an equilibrium (negative probabilities, or a better strategy off the
    support): :func:`polish` checks both.
    """
    system = SupportSystem(game, support)
    x, converged = system.newton(system.from_profile(start), max_iterations=max_iterations)
    return system.profiles(x)[0], bool(converged[0])


def read_support(profile: Sequence[npt.ArrayLike], threshold: float) -> tuple[tuple[int, ...], ...]:
    """Each player's strategies whose probability exceeds ``threshold``.

    A player with no such strategy keeps its most likely one.
    """
    out = []
    for p in profile:
        arr = np.asarray(p, dtype=float).reshape(-1)
        s = np.flatnonzero(arr > threshold)
        out.append(tuple(s.tolist()) if s.size else (int(np.argmax(arr)),))
    return tuple(out)


def polish(
    game: StrategicGame,
    profile: Sequence[npt.ArrayLike],
    *,
    support: Support | None = None,
) -> tuple[np.ndarray, ...] | None:
    """Refine an approximate equilibrium by Newton's method on its support.

    ``profile[i]`` is player ``i``'s mixed strategy (length ``m_i``). The support
    is ``support`` when given; else the strategies with probability above the
    game's probability tolerance, and, when that support yields no equilibrium
    (a logit path can end with inferior strategies still at 1e-5), the supports
    read at the cut-offs 1e-6, 1e-4, 1e-3 and 1e-2 in turn (distinct ones only).
    Returns the refined profile (zeros off the support) when Newton converges to
    a point of the simplex whose regret, over all strategies, is within
    ``game.tolerance.payoff``; else ``None``. Callers still pass the result
    through :func:`simulator.equilibrium.verify` before reporting it.
    """
    if len(profile) != game.n_players:
        raise ValueError(f"polish: {len(profile)} strategies for {game.n_players} players")
    for i, (p, m) in enumerate(zip(profile, game.shape, strict=True)):
        if np.size(p) != m:
            raise ValueError(f"polish: player {i} needs {m} probabilities, got {np.size(p)}")
    if support is not None:
        return _polish_on(game, profile, support)
    tried: list[tuple[tuple[int, ...], ...]] = []
    for threshold in (game.tolerance.probability, *_POLISH_THRESHOLDS):
        candidate = read_support(profile, threshold)
        if candidate in tried:
            continue
        tried.append(candidate)
        refined = _polish_on(game, profile, candidate)
        if refined is not None:
            return refined
    return None


def _polish_on(
    game: StrategicGame, profile: Sequence[npt.ArrayLike], support: Support
) -> tuple[np.ndarray, ...] | None:
    system = SupportSystem(game, support)
    x, converged = system.newton(system.from_profile(profile))
    if not converged[0]:
        return None
    ok, sigmas = system.accept(x)
    return tuple(s[0] for s in sigmas) if ok[0] else None
