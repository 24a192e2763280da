"""Why a profile is an equilibrium: each player's best deviation and what it gains.

For an equilibrium :math:`\\sigma`, player :math:`i`'s best *alternative* is the pure
strategy outside the support of :math:`\\sigma_i` with the highest payoff
against :math:`\\sigma_{-i}`; its gain :math:`u_i(k, \\sigma_{-i}) - u_i(\\sigma)` is at
most the tolerance (usually negative: a loss). When the support is every
strategy, the player is indifferent among all of them and has no alternative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.equilibrium import Equilibrium, deviation_payoffs
from simulator.game import StrategicGame


@dataclass(frozen=True)
class Deviation:
    """Player ``player``'s best alternative to its equilibrium strategy.

    ``strategy`` is the index of the best pure strategy outside the support
    (``None`` when the support is every strategy), ``payoff`` what it would earn
    against the others' equilibrium strategies, and ``gain`` that payoff minus
    the equilibrium payoff (``<= tolerance``).
    """

    player: int
    strategy: int | None
    payoff: float | None
    gain: float | None


def best_deviations(game: StrategicGame, equilibrium: Equilibrium) -> tuple[Deviation, ...]:
    """Each player's best deviation outside its support at ``equilibrium``."""
    out = []
    for i in range(game.n_players):
        dev = deviation_payoffs(game.payoffs, equilibrium.strategies, i)
        outside = np.flatnonzero(equilibrium.strategies[i] == 0)
        if outside.size == 0:
            out.append(Deviation(i, None, None, None))
            continue
        k = int(outside[np.argmax(dev[outside])])
        payoff = float(dev[k])
        out.append(Deviation(i, k, payoff, payoff - equilibrium.payoffs[i]))
    return tuple(out)
