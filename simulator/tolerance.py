"""The one tolerance negsim uses to decide what counts as zero.

An equilibrium is accepted when no player can gain more than

    ``RTOL * scale(game)``

by deviating, where ``scale`` is the spread of that game's payoffs
(``max - min`` over all players and profiles, or 1 for a game whose payoffs are
all equal). Probabilities are numbers in [0, 1], so they are compared against
``RTOL`` itself: a probability below ``RTOL`` is round-off and is cleaned to 0.

Every solver, verifier and report takes its tolerance from here, so the number
stated in the reports is the number that was used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

RTOL: float = 1e-9
"""Relative tolerance: regret allowed per unit of payoff spread."""

SOLVE_RTOL: float = RTOL**0.5
"""Relative tolerance for answers of iterative optimizers (bargaining solutions).

Gradient-based solvers stop near ``sqrt`` of machine-level accuracy, so their
optima (first-order residuals, agreement between starts) are compared at
``sqrt(RTOL)``; equilibria of strategic games are always checked at ``RTOL``.
"""


@dataclass(frozen=True)
class Tolerance:
    """Absolute tolerances derived from :data:`RTOL` for one game.

    ``payoff``: largest regret (payoff units) accepted at an equilibrium.
    ``probability``: probabilities below this are round-off.
    ``rtol``: the relative tolerance these were derived from.
    """

    rtol: float
    payoff: float
    probability: float

    @classmethod
    def for_payoffs(cls, payoffs: npt.ArrayLike, rtol: float = RTOL) -> Tolerance:
        """Tolerances for a game whose payoffs are ``payoffs`` (any shape)."""
        arr = np.asarray(payoffs, dtype=float)
        with np.errstate(over="ignore"):
            spread = float(arr.max() - arr.min()) if arr.size else 0.0
        if not np.isfinite(spread):
            # Payoffs near the float limit: the spread overflows, but its scale is
            # twice the largest magnitude, and an infinite tolerance would accept anything.
            spread = 2.0 * float(np.abs(arr).max())
        scale = spread if spread > 0 else 1.0
        return cls(rtol=rtol, payoff=rtol * scale, probability=rtol)
