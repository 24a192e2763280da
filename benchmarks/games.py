"""Seeded random games for the benchmarks, and the seeds each case uses.

Every case is a shape (the strategy count of each player) and one or more
seeds, one game per seed, each feeding :func:`numpy.random.default_rng`. Payoffs are drawn
uniformly from [0, 1), so the games are non-degenerate with probability one
(the games on which every peer is meant to be complete). The payoff array has
negsim's orientation, shape ``(n, m_0, ..., m_{n-1})`` with
``payoffs[i][s_0, ..., s_{n-1}]`` player ``i``'s payoff; each worker converts it
to its library's own orientation outside the timed region.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_BASE_SEED = 2026


@dataclass(frozen=True)
class Case:
    """One benchmark size: its section, its shape and the seeds of its games."""

    section: str  # "two-player" or "pure"
    shape: tuple[int, ...]
    seeds: tuple[int, ...]

    @property
    def label(self) -> str:
        """``"10x10"`` for a 2-player game, ``"4x20"`` (players x strategies) for n players."""
        if self.section == "two-player":
            return "x".join(str(m) for m in self.shape)
        return f"{len(self.shape)}x{self.shape[0]}"

    @property
    def profiles(self) -> int:
        """Number of pure profiles: the size measure used to skip cases above a time-out."""
        return int(np.prod(self.shape))

    def payoffs(self, game: int = 0) -> np.ndarray:
        """The payoffs of game ``game``, shape ``(n, m_0, ..., m_{n-1})``, from its seed."""
        rng = np.random.default_rng(self.seeds[game])
        return rng.random((len(self.shape), *self.shape))


def case_seed(base_seed: int, players: int, strategies: int, game: int = 0) -> int:
    """The seed of game number ``game`` with ``players`` players of ``strategies`` each.

    A plain sum, so that a seed printed in the table can be typed back by hand:
    ``base + 1000 * players + strategies + 100000 * game`` (``strategies < 1000``).
    """
    return base_seed + 1000 * players + strategies + 100_000 * game


def two_player_case(n: int, base_seed: int = DEFAULT_BASE_SEED, games: int = 1) -> Case:
    """``games`` random ``n x n`` bimatrix games (the all-extreme-equilibria section)."""
    return Case("two-player", (n, n), tuple(case_seed(base_seed, 2, n, g) for g in range(games)))


def pure_case(
    players: int, strategies: int, base_seed: int = DEFAULT_BASE_SEED, games: int = 1
) -> Case:
    """``games`` random games of ``players`` players with ``strategies`` each (pure section)."""
    seeds = tuple(case_seed(base_seed, players, strategies, g) for g in range(games))
    return Case("pure", (strategies,) * players, seeds)


def parse_size(
    text: str, base_seed: int = DEFAULT_BASE_SEED, two_player_games: int = 1, pure_games: int = 1
) -> Case:
    """A case from its command-line form.

    ``"10"`` is the 2-player 10x10 game (all extreme equilibria); ``"4x20"`` is
    4 players with 20 strategies each (pure equilibria). ``ValueError`` otherwise.
    """
    parts = text.lower().split("x")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"size {text!r}: expected N (2-player NxN) or PxM (P players)") from None
    if len(numbers) == 1 and numbers[0] >= 1:
        return two_player_case(numbers[0], base_seed, two_player_games)
    if len(numbers) == 2 and numbers[0] >= 2 and numbers[1] >= 1:
        return pure_case(numbers[0], numbers[1], base_seed, pure_games)
    raise ValueError(f"size {text!r}: expected N (2-player NxN) or PxM with P >= 2 players")
