"""Solvers for strategic games, one module per method, and their registry.

Each solver is a function ``solver(game, **options) -> SolverResult`` (see
:mod:`simulator.results`). The registry maps the names used on the command line
(``negsim run --solver NAME``) to ``module:function`` so that a run imports only
the solver it uses (nashpy alone takes most of a second to import).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator.game import StrategicGame
from simulator.results import SolverResult

AUTO_SUPPORT_MAX_PROFILES = 1_000
"""Largest n-player game (pure profiles) that ``auto`` searches for mixed equilibria."""


@dataclass(frozen=True)
class SolverSpec:
    """A registered solver: its command-line name, where it lives, what it does."""

    name: str
    target: str
    summary: str
    players: str  # "2" or "n"

    def load(self) -> Callable[..., SolverResult]:
        module, _, function = self.target.partition(":")
        return getattr(importlib.import_module(module), function)


SOLVERS: dict[str, SolverSpec] = {
    spec.name: spec
    for spec in [
        SolverSpec(
            "pure",
            "simulator.solvers.pure_nash:pure_nash",
            "all pure Nash equilibria (any number of players)",
            "n",
        ),
        SolverSpec(
            "support-enumeration",
            "simulator.solvers.support_enumeration:support_enumeration",
            "all extreme equilibria by support enumeration (2 players)",
            "2",
        ),
        SolverSpec(
            "vertex-enumeration",
            "simulator.solvers.vertex_enumeration:vertex_enumeration",
            "all extreme equilibria by best-response polytope vertices (2 players)",
            "2",
        ),
        SolverSpec(
            "lemke-howson",
            "simulator.solvers.lemke_howson:lemke_howson",
            "one equilibrium from every starting label (2 players)",
            "2",
        ),
        SolverSpec(
            "support-enumeration-n",
            "simulator.solvers.nplayer_support:nplayer_support",
            "equilibria of n-player games by support enumeration with Newton's method "
            "(Porter, Nudelman and Shoham 2008); every pure one, mixed ones as found",
            "n",
        ),
        SolverSpec(
            "logit",
            "simulator.solvers.logit_qre:logit",
            "one equilibrium: the limit of the logit QRE path (McKelvey and Palfrey 1995; "
            "Turocy 2005), any number of players",
            "n",
        ),
        SolverSpec(
            "nashpy-support",
            "simulator.solvers.nashpy_backend:nashpy_support",
            "nashpy's support enumeration, under a time limit (2 players)",
            "2",
        ),
        SolverSpec(
            "nashpy-vertex",
            "simulator.solvers.nashpy_backend:nashpy_vertex",
            "nashpy's vertex enumeration, under a time limit (2 players)",
            "2",
        ),
        SolverSpec(
            "nashpy-lemke-howson",
            "simulator.solvers.nashpy_backend:nashpy_lemke_howson",
            "nashpy's Lemke-Howson from every label, under a time limit (2 players)",
            "2",
        ),
    ]
}


def get_solver(name: str) -> SolverSpec:
    """The registered solver called ``name``; ``KeyError`` lists the valid names."""
    try:
        return SOLVERS[name]
    except KeyError:
        raise KeyError(f"unknown solver {name!r}; choose one of {', '.join(SOLVERS)}") from None


def solve(game: StrategicGame, method: str = "auto", **options: Any) -> SolverResult:
    """Solve ``game`` with the named method; ``"auto"`` picks the default.

    The default for two players is vertex enumeration (all extreme equilibria,
    complete on degenerate games too). For three or more players it is support
    enumeration with Newton's method, which lists every pure equilibrium and
    the mixed ones it finds within its time limit; above
    :data:`AUTO_SUPPORT_MAX_PROFILES` pure profiles, where that search would
    mostly time out, it is pure equilibrium enumeration.
    """
    if method == "auto":
        if game.n_players == 2:
            method = "vertex-enumeration"
        elif math.prod(game.shape) <= AUTO_SUPPORT_MAX_PROFILES:
            method = "support-enumeration-n"
        else:
            method = "pure"
    spec = get_solver(method)
    if spec.players == "2" and game.n_players != 2:
        raise ValueError(
            f"solver {method!r} is for two-player games; this game has {game.n_players} players"
        )
    return spec.load()(game, **options)
