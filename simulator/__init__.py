"""negsim: a negotiation game-theory simulator.

Scenario file (YAML) -> validated :class:`~simulator.scenario.model.Scenario`
-> :class:`~simulator.game.StrategicGame` -> solver -> verified
:class:`~simulator.results.SolverResult` -> report, JSON or plot.

Imports here are kept light so that ``negsim --help`` starts fast; the solvers
live in :mod:`simulator.solvers`.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
