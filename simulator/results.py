"""Typed results of solvers: every solver returns one :class:`SolverResult`.

A result names the method and the options it was called with, the game it
solved, the verified equilibria (each an :class:`~simulator.equilibrium.Equilibrium`
carrying its regrets), and what the method guarantees for this game:
``complete`` is true only when the method is proven to list every equilibrium of
the kind it looks for (all pure equilibria; all extreme equilibria of a
two-player game), ``degenerate`` says whether the game was found degenerate
(``None`` when not checked). ``rejected`` counts candidates that failed
verification and were dropped; ``notes`` says anything else a reader must know.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from simulator.equilibrium import Equilibrium
from simulator.game import StrategicGame

PURE_SCOPE = "all pure equilibria"


@dataclass(frozen=True, eq=False)
class SolverResult:
    """The outcome of one solver run on one strategic game."""

    method: str
    game: StrategicGame
    equilibria: tuple[Equilibrium, ...]
    complete: bool
    scope: str
    degenerate: bool | None = None
    rejected: int = 0
    notes: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    elapsed: float = 0.0

    @property
    def tolerance(self) -> float:
        """The regret tolerance (payoff units) every equilibrium here was verified to."""
        return self.game.tolerance.payoff

    @property
    def lists_all_equilibria(self) -> bool:
        """Whether every Nash equilibrium is listed (the extreme ones, for two players).

        A complete list of pure equilibria says nothing about mixed ones, so
        it does not count.
        """
        return self.complete and self.scope != PURE_SCOPE

    def __len__(self) -> int:
        return len(self.equilibria)
