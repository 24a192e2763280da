r"""Equilibria of n-player games by support enumeration with Newton's method.

Every Nash equilibrium :math:`\sigma` has a support profile
:math:`S = (\mathrm{supp}\,\sigma_0, \dots, \mathrm{supp}\,\sigma_{n-1})`, and on
it :math:`\sigma` solves the square polynomial system of
:mod:`simulator.solvers.polish` (each player indifferent among its support,
probabilities summing to 1), with :math:`\sigma \ge 0` and no better strategy
off the support. This module walks the support profiles in the order of
Porter, Nudelman and Shoham (2008, "Simple search methods for finding a Nash
equilibrium", *Games and Economic Behavior* 63, Algorithm 2):

* support *size* profiles :math:`(k_0, \dots, k_{n-1})` by increasing total
  size, then by increasing imbalance :math:`\max_i k_i - \min_i k_i`, so small,
  balanced supports come first;
* within one size profile, players' supports chosen one player at a time,
  with *iterated removal of conditionally strictly dominated strategies*
  after each choice: a strategy :math:`a` of player :math:`i` is conditionally
  dominated, given the sets of strategies the others may still use, when some
  strategy beats it (by more than the game's tolerance) against every profile
  of those sets; a chosen support containing one, or a player left with no
  candidate support, prunes the branch.

Size-1 supports are pure profiles, checked exactly and all at once by
:func:`simulator.solvers.pure_nash.pure_nash`. Every other support that
survives pruning is solved by Newton's method from several starting points
drawn uniformly from the product of simplices (seeded, so runs repeat),
batched, then again from fresh starts *deflated* against the roots found so
far (Farrell, Birkisson and Funke 2015) while that finds new roots, so that
distinct solutions on one support are found. Each root in the simplex whose
regret over all strategies is within tolerance is verified by
:func:`simulator.equilibrium.verify` and kept once (:meth:`Equilibrium.key`).

What this does *not* prove: Newton's method from finitely many starts can
miss a root of a polynomial system, so a support may hold equilibria that are
not found; the list of mixed equilibria is therefore not complete (the pure
ones are). For certified enumeration of isolated equilibria one needs
polynomial homotopy continuation or Gröbner bases (as in Gambit's
``enumpoly``; McKelvey and McLennan 1996, Datta 2010), which this module does
not attempt. Non-isolated equilibria (continua, in degenerate games) are
sampled: Newton converges to some point of the continuum.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from itertools import combinations, product
from types import MappingProxyType
from typing import Any

import numpy as np

from simulator.equilibrium import Equilibrium, verify
from simulator.game import StrategicGame
from simulator.results import SolverResult
from simulator.solvers.polish import SupportSystem
from simulator.solvers.pure_nash import pure_nash
from simulator.tolerance import SOLVE_RTOL

DEFAULT_TIME_LIMIT: float = 10.0
"""Default wall-clock budget (seconds) of one run."""

DEFAULT_STARTS: int = 8
"""Default number of Newton starting points per support profile and round."""

ITERATIONS: int = 20
"""Newton iterations per start: a start that converges at all does so in about 10."""

MAX_ROUNDS: int = 4
"""Rounds of deflated restarts per support (each needs a new root from the last)."""

SCOPE = (
    "equilibria found by support enumeration (Porter, Nudelman and Shoham 2008) with "
    "Newton's method; all pure equilibria, mixed ones not proven complete"
)


def nplayer_support(
    game: StrategicGame,
    *,
    max_equilibria: int | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    starts: int = DEFAULT_STARTS,
    seed: int = 0,
) -> SolverResult:
    """Nash equilibria of ``game`` (any number of players >= 2) by support enumeration.

    Options: ``max_equilibria`` stops after that many distinct equilibria
    (default: all that are found); ``time_limit`` (seconds, wall clock) stops
    the search, saying so in the notes; ``starts`` is the number of Newton
    starting points per support profile (and per deflation round); ``seed``
    fixes the starting points. Pure equilibria are always all found first
    (unless ``max_equilibria`` is smaller); ``complete`` is false (see the
    module docstring). Raises ``ValueError`` for fewer than two players or
    invalid options.
    """
    clock = time.perf_counter()
    if game.n_players < 2:
        raise ValueError(f"nplayer_support: needs at least two players, got {game.n_players}")
    if max_equilibria is not None and max_equilibria < 1:
        raise ValueError(f"nplayer_support: max_equilibria must be >= 1, got {max_equilibria}")
    if not time_limit > 0:
        raise ValueError(f"nplayer_support: time_limit must be positive, got {time_limit}")
    if starts < 1:
        raise ValueError(f"nplayer_support: starts must be >= 1, got {starts}")
    options = MappingProxyType(
        {"max_equilibria": max_equilibria, "time_limit": time_limit, "starts": starts, "seed": seed}
    )
    deadline = clock + time_limit
    limit = max_equilibria if max_equilibria is not None else float("inf")

    pure = pure_nash(game)
    found: list[Equilibrium] = list(pure.equilibria[: int(min(limit, len(pure.equilibria)))])
    seen = {eq.key() for eq in found}
    search = _Search(game, starts, seed, deadline)
    rejected = pure.rejected
    examined = 0
    stopped: str | None = None
    if len(found) >= limit:
        stopped = f"stopped after max_equilibria={max_equilibria} (pure equilibria only)"
    else:
        for support in search.supports():
            examined += 1
            for profile in search.solve(support):
                eq = verify(game, profile)
                if eq is None:
                    rejected += 1
                    continue
                key = eq.key()
                if key in seen:
                    continue
                seen.add(key)
                found.append(eq)
                if len(found) >= limit:
                    break
            if len(found) >= limit:
                stopped = f"stopped after max_equilibria={max_equilibria}"
                break
        if search.timed_out:
            stopped = (
                f"stopped at the time limit of {time_limit:g} s after solving {examined} "
                "support profile(s); the remaining (larger) supports were not examined"
            )

    notes = [
        f"all pure equilibria were checked exactly ({len(pure.equilibria)} found); mixed "
        f"equilibria are the roots Newton's method reached from {starts} start(s) per support "
        "profile (plus deflated restarts): a support may hold further equilibria, so the list "
        "is not proven complete",
        f"{examined} support profile(s) with a mixing player were solved, "
        f"{search.pruned} branch(es) pruned by conditional strict dominance",
    ]
    if stopped:
        notes.append(stopped)
    notes.extend(note for note in pure.notes if "ties" in note)
    if search.continua:
        notes.append(
            f"{search.continua} support profile(s) hold non-isolated equilibria (a singular "
            "Jacobian at the root, so the game is degenerate); one point of each such set is "
            "reported, not the whole set"
        )
    if rejected:
        notes.append(f"{rejected} candidate(s) failed verification and were dropped")
    if not found:
        notes.append("no equilibrium was found")
    return SolverResult(
        method="nplayer_support",
        game=game,
        equilibria=tuple(found),
        complete=False,
        scope=SCOPE,
        degenerate=True if pure.degenerate or search.continua else None,
        rejected=rejected,
        notes=tuple(notes),
        options=options,
        elapsed=time.perf_counter() - clock,
    )


def size_profiles(shape: Sequence[int]) -> list[tuple[int, ...]]:
    """Support size profiles with some player mixing, in the search order.

    By increasing total size, then increasing imbalance (largest minus
    smallest size), then lexicographically (Porter, Nudelman and Shoham 2008).
    """
    sizes = [s for s in product(*(range(1, m + 1) for m in shape)) if max(s) > 1]
    return sorted(sizes, key=lambda s: (sum(s), max(s) - min(s), s))


class _Search:
    """Support profiles in the order of Porter, Nudelman and Shoham, and their roots.

    A player's *domain* (the candidate supports of the size being tried) is
    kept as a bit mask of allowed strategies: removing every candidate that
    holds a dominated strategy leaves exactly the subsets of the strategies
    still allowed, so the candidates are generated lazily, never listed.
    """

    def __init__(self, game: StrategicGame, starts: int, seed: int, deadline: float) -> None:
        self.game = game
        self.n = game.n_players
        self.starts = starts
        self.rng = np.random.default_rng(seed)
        self.deadline = deadline
        self.timed_out = False
        self.pruned = 0
        self.continua = 0
        self._dominated_cache: dict[tuple[int, tuple[int, ...]], int] = {}
        self._own_first = [np.moveaxis(game.payoffs[i], i, 0) for i in range(self.n)]

    # ---------------------------------------------------------------- search
    def supports(self) -> Iterator[tuple[tuple[int, ...], ...]]:
        """Every support profile with a mixing player that survives pruning, in order.

        Stops early (setting ``timed_out``) once the deadline has passed.
        """
        everything = [(1 << m) - 1 for m in self.game.shape]
        for sizes in size_profiles(self.game.shape):
            yield from self._backtrack((), everything, sizes)
            if self.timed_out:
                return

    def _backtrack(
        self, chosen: tuple[tuple[int, ...], ...], allowed: list[int], sizes: tuple[int, ...]
    ) -> Iterator[tuple[tuple[int, ...], ...]]:
        i = len(chosen)
        if i == self.n:
            yield chosen
            return
        for support in combinations(_indices(allowed[i]).tolist(), sizes[i]):
            if time.perf_counter() > self.deadline:
                self.timed_out = True
                return
            trial = (*chosen, support)
            rest = self._prune(trial, allowed[i + 1 :], sizes[i + 1 :])
            if rest is None:
                self.pruned += 1
                continue
            yield from self._backtrack(trial, [*allowed[: i + 1], *rest], sizes)
            if self.timed_out:
                return

    def _prune(
        self, chosen: tuple[tuple[int, ...], ...], allowed: list[int], sizes: tuple[int, ...]
    ) -> list[int] | None:
        """Iterated removal of conditionally strictly dominated strategies (IRSDS).

        ``chosen``: the supports of players ``0..k-1``; ``allowed``: bit masks of
        the strategies players ``k..n-1`` may still use, ``sizes`` their support
        sizes. Returns the pruned masks, or ``None`` when a chosen support holds
        a dominated strategy or some player has fewer allowed strategies than
        its support size.
        """
        k = len(chosen)
        masks = [_bits(s) for s in chosen] + list(allowed)
        changed = True
        while changed:
            changed = False
            for h in range(self.n):
                dominated = self._dominated(h, masks) & masks[h]
                if not dominated:
                    continue
                if h < k:
                    return None
                masks[h] &= ~dominated
                if masks[h].bit_count() < sizes[h - k]:
                    return None
                changed = True
        return masks[k:]

    def _dominated(self, player: int, masks: list[int]) -> int:
        """Bit mask of ``player``'s strategies strictly dominated given the others' masks.

        Strategy ``a`` is dominated when some strategy earns more than ``a`` plus
        the game's tolerance against every profile the others' masks allow.
        """
        others = tuple(masks[h] for h in range(self.n) if h != player)
        key = (player, others)
        hit = self._dominated_cache.get(key)
        if hit is not None:
            return hit
        m = self.game.shape[player]
        index = np.ix_(np.arange(m), *(_indices(b) for b in others))
        payoff = self._own_first[player][index].reshape(m, -1)  # (own strategy, opponents)
        threshold = payoff + self.game.tolerance.payoff
        dominated = np.zeros(m, dtype=bool)
        for better in payoff:  # a loop over strategies, each compared on all profiles
            dominated |= (better > threshold).all(axis=1)
        value = _bits(np.flatnonzero(dominated).tolist())
        self._dominated_cache[key] = value
        return value

    # ---------------------------------------------------------------- roots
    def solve(self, support: tuple[tuple[int, ...], ...]) -> list[tuple[np.ndarray, ...]]:
        """Profiles on ``support`` that Newton's method found to be equilibria.

        Returns full-length profiles that lie in the simplex with every regret
        within tolerance (still to be verified by the caller).
        """
        sizes = [len(s) for s in support]
        mixing = [i for i, k in enumerate(sizes) if k > 1]
        if len(mixing) == 1 and not self._tied(support, mixing[0]):
            # A lone mixer faces pure opponents: it is indifferent only on exact ties.
            return []
        system = SupportSystem(self.game, support)
        # Player i's k_i - 1 indifference conditions constrain only the others'
        # sum(k_j - 1) free probabilities; with more conditions than that the
        # Jacobian is singular everywhere and solutions exist only in degenerate
        # games, as continua: one least-squares Newton run from the barycentre.
        free = sum(k - 1 for k in sizes)
        overdetermined = any(2 * (k - 1) > free for k in sizes)
        starts = 1 if overdetermined else self.starts
        roots = np.zeros((0, system.dimension))
        out: list[tuple[np.ndarray, ...]] = []
        for round_ in range(1 if overdetermined else MAX_ROUNDS):
            x0 = system.start(self._starting_points(system, starts, first=round_ == 0))
            x, converged = system.newton(
                x0, max_iterations=ITERATIONS, roots=roots if len(roots) else None
            )
            new = _distinct(x[converged][:, : system.columns], roots[:, : system.columns])
            if not new.size:
                break
            fresh = x[converged][new]
            ok, sigmas = system.accept(fresh)
            singular = _singular(system, fresh)
            if singular.any():
                # Non-isolated roots (a continuum): every start lands elsewhere on
                # it, so report one point of it and stop deflating.
                if (ok & singular).any():
                    self.continua += 1
                pick = np.flatnonzero(ok & singular)[:1]
                out.extend(tuple(s[r] for s in sigmas) for r in pick)
                out.extend(tuple(s[r] for s in sigmas) for r in np.flatnonzero(ok & ~singular))
                break
            roots = np.concatenate([roots, fresh])
            out.extend(tuple(s[r] for s in sigmas) for r in np.flatnonzero(ok))
            if not (
                fresh[:, : system.columns].min(axis=1) >= -self.game.tolerance.probability
            ).any():
                # Only roots outside the simplex: deflating them finds more of the same,
                # and starts inside the simplex have had their chance at roots there.
                break
        return out

    def _starting_points(self, system: SupportSystem, starts: int, *, first: bool) -> np.ndarray:
        """``(starts, C)`` points, uniform on each player's simplex (barycentre first)."""
        points = np.empty((starts, system.columns))
        for i, k in enumerate(system.sizes):
            block = self.rng.dirichlet(np.ones(k), size=starts)
            if first:
                block[0] = 1.0 / k
            points[:, system.offsets[i] : system.offsets[i + 1]] = block
        return points

    def _tied(self, support: tuple[tuple[int, ...], ...], player: int) -> bool:
        index: list[Any] = [s[0] for s in support]
        index[player] = list(support[player])
        values = self.game.payoffs[player][tuple(index)]
        return bool(values.max() - values.min() <= self.game.tolerance.payoff)


def _singular(system: SupportSystem, roots: np.ndarray) -> np.ndarray:
    """Which roots ``(R, C + n)`` have a (numerically) singular Jacobian.

    Newton stops within a hundredth of the tolerance of a root, so at a point
    of a continuum of roots the smallest singular value is that small, not
    round-off small; it is compared, relative to the largest, with the
    tolerance for answers of iterative solvers (:data:`SOLVE_RTOL`).
    """
    _, jacobian = system.evaluate(roots)
    values = np.linalg.svd(jacobian, compute_uv=False)  # (R, C + n), descending
    return values[:, -1] <= SOLVE_RTOL * values[:, 0]


def _distinct(points: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Indices of ``points`` ``(B, D)`` far from ``known`` ``(R, D)`` and from each other.

    Two roots are the same when no probability differs by more than the
    tolerance for answers of iterative solvers (:data:`SOLVE_RTOL`): converged
    roots agree to about 1e-12, distinct equilibria differ far more.
    """
    keep: list[int] = []
    reference = list(known)
    for r, point in enumerate(points):
        if all(np.abs(point - other).max() > SOLVE_RTOL for other in reference):
            keep.append(r)
            reference.append(point)
    return np.asarray(keep, dtype=np.intp)


def _bits(strategies: Sequence[int]) -> int:
    value = 0
    for k in strategies:
        value |= 1 << int(k)
    return value


def _indices(mask: int) -> np.ndarray:
    return np.array([k for k in range(mask.bit_length()) if mask >> k & 1], dtype=np.intp)
