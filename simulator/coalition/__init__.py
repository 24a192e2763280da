"""Transferable-utility coalition games and their solution concepts.

Coalitions are bitmasks (bit ``i`` is ``game.players[i]``); see :mod:`.tu_game`.

* :class:`TUGame`, :func:`weighted_voting_game`: the games;
* :func:`shapley_value` (Shapley 1953), :func:`banzhaf_index` (Banzhaf 1965);
* :func:`least_core`, :func:`core_is_empty`, :func:`core_point`, :func:`core_vertices`,
  :func:`in_core` (Gillies 1959);
* :func:`nucleolus`, :func:`prenucleolus` (Schmeidler 1969).
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
from simulator.coalition.nucleolus import Nucleolus, nucleolus, prenucleolus
from simulator.coalition.shapley import shapley_value
from simulator.coalition.tu_game import TUGame

__all__ = [
    "CoreCheck",
    "LeastCore",
    "Nucleolus",
    "TUGame",
    "banzhaf_index",
    "core_is_empty",
    "core_point",
    "core_vertices",
    "in_core",
    "least_core",
    "nucleolus",
    "prenucleolus",
    "shapley_value",
    "weighted_voting_game",
]
