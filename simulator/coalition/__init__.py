"""Transferable-utility coalition games and their solution concepts.

Coalitions are bitmasks (bit ``i`` is ``game.players[i]``); see :mod:`.tu_game`.

* :class:`TUGame`, :func:`weighted_voting_game`: the games;
* :func:`shapley_value` (Shapley 1953), :func:`banzhaf_index` (Banzhaf 1965);
* :func:`least_core`, :func:`core_is_empty`, :func:`core_point`, :func:`core_vertices`,
  :func:`in_core` (Gillies 1959);
* :func:`nucleolus`, :func:`prenucleolus` (Schmeidler 1969);
* :func:`derived_tu_game`: worths derived from a bargaining deal space, and
  :func:`ntu_core_check`, :func:`ntu_core_deal`: the NTU core of that deal
  space (Aumann & Peleg 1960);
* :class:`CoalitionGame`, :func:`solve_coalition`: a game with every concept
  computed and checked, as the scenario kind ``coalition`` reports it.
"""

from simulator.coalition.banzhaf import banzhaf_index, weighted_voting_game
from simulator.coalition.core import (
    CoreCheck,
    LeastCore,
    core_is_empty,
    core_point,
    core_vertices,
    in_core,
    least_core,
)
from simulator.coalition.deal_space import DerivedCoalitionGame, derived_tu_game
from simulator.coalition.game import (
    CoalitionGame,
    CoalitionResult,
    CoalitionSolution,
    solve_coalition,
)
from simulator.coalition.ntu_core import NTUCoreCheck, ntu_core_check, ntu_core_deal
from simulator.coalition.nucleolus import Nucleolus, nucleolus, prenucleolus
from simulator.coalition.shapley import shapley_value
from simulator.coalition.tu_game import TUGame

__all__ = [
    "CoalitionGame",
    "CoalitionResult",
    "CoalitionSolution",
    "CoreCheck",
    "DerivedCoalitionGame",
    "LeastCore",
    "NTUCoreCheck",
    "Nucleolus",
    "TUGame",
    "banzhaf_index",
    "core_is_empty",
    "core_point",
    "core_vertices",
    "derived_tu_game",
    "in_core",
    "least_core",
    "ntu_core_check",
    "ntu_core_deal",
    "nucleolus",
    "prenucleolus",
    "shapley_value",
    "solve_coalition",
    "weighted_voting_game",
]
