"""Typed results of solvers for game trees.

Every sequential-game solver returns one :class:`SequentialResult`, whose
equilibria are :class:`BehaviorEquilibrium` records: a behaviour profile (see
:mod:`simulator.extensive.tree` for its layout) that passed verification, with
each player's payoff and regret, the solution concept it was verified for, and
the moves on its path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from simulator.extensive.tree import ExtensiveGame, Move

Concept = Literal["subgame_perfect", "nash"]


@dataclass(frozen=True, eq=False)
class BehaviorEquilibrium:
    """A verified equilibrium of a game tree in behaviour strategies.

    ``behavior[h]``: probabilities over the actions of information set ``h``
    (global index; chance sets hold the chance probabilities). ``payoffs[i]``:
    player ``i``'s expected payoff. ``regret[i]``: the most player ``i`` gains
    by switching to any other strategy of the whole game (0 within the game's
    tolerance). ``concept``: ``"subgame_perfect"`` when optimality was checked
    in every subgame (backward induction), ``"nash"`` otherwise. ``exact``: the
    behaviour probabilities as Fractions when they were recovered exactly.
    ``path``: every move made with positive probability, in preorder.
    """

    behavior: tuple[np.ndarray, ...]
    payoffs: tuple[float, ...]
    regret: tuple[float, ...]
    concept: Concept
    path: tuple[Move, ...]
    exact: tuple[tuple[Fraction, ...], ...] | None = None

    @property
    def max_regret(self) -> float:
        return max(self.regret) if self.regret else 0.0

    def is_pure_in(self, game: ExtensiveGame) -> bool:
        """Whether every player picks one action at each of its sets (chance may mix)."""
        return all(
            int(np.count_nonzero(self.behavior[h.index])) == 1
            for h in game.infosets
            if h.player is not None
        )

    def key(self, digits: int = 7) -> tuple[float, ...]:
        """A hashable key, equal for profiles equal to ``digits`` decimals."""
        return tuple(round(float(p), digits) + 0.0 for b in self.behavior for p in b)


@dataclass(frozen=True, eq=False)
class SequentialResult:
    """The outcome of one solver run on one game tree.

    ``complete`` is true only when the method is proven to list every
    equilibrium of the kind ``scope`` names (e.g. every pure subgame-perfect
    equilibrium, by backward induction).
    """

    method: str
    game: ExtensiveGame
    equilibria: tuple[BehaviorEquilibrium, ...]
    complete: bool
    scope: str
    rejected: int = 0
    notes: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    elapsed: float = 0.0

    @property
    def tolerance(self) -> float:
        """The regret tolerance (payoff units) every equilibrium here was verified to."""
        return self.game.tolerance.payoff

    def __len__(self) -> int:
        return len(self.equilibria)
