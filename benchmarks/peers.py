"""The solvers the benchmark times: negsim's own, a numpy floor, and the peers.

Each :class:`BenchSolver` names the module that must be importable for it to
run (checked with :func:`importlib.util.find_spec`, without importing it), a
``build`` step that turns a payoff array (negsim orientation, shape
``(n, m_0, ..., m_{n-1})``) into whatever the library solves, and a ``solve``
step that returns the number of equilibria found (``None`` for the floor, which
only computes best-response values). Build and solve are timed separately:
Gambit's game construction from arrays is a Python loop that costs more than its
solve (see ``../shared/perf-notes.md``), and building negsim's
:class:`~simulator.game.StrategicGame` is not part of solving either.

Heavy libraries are imported inside the steps, so that the parent process,
which only reads this registry, never pays for nashpy's, QuantEcon's or
Gambit's import; each library runs in its own worker process
(:mod:`benchmarks.worker`).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

NOT_INSTALLED = "not installed"


@dataclass(frozen=True)
class BenchSolver:
    """One timed method: its key, the library (and worker) it belongs to, its section."""

    key: str
    label: str
    library: str  # "negsim", "numpy", "quantecon", "nashpy", "pygambit"
    section: str  # "two-player" or "pure"
    module: str  # must be importable for the solver to run
    build: Callable[[np.ndarray], Any]
    solve: Callable[[Any], int | None]
    ours: bool = False
    note: str = ""
    show_build: bool = False  # print the build time as a row of its own

    def availability(self) -> str | None:
        """``None`` when the solver can run, else why not (``"not installed"``, ...)."""
        try:
            found = importlib.util.find_spec(self.module) is not None
        except ImportError:  # a parent package is missing
            found = False
        if found:
            return None
        if self.ours:
            return f"not available ({self.module} missing)"
        return NOT_INSTALLED


# ------------------------------------------------------------------ negsim
def _build_ours(payoffs: np.ndarray) -> Any:
    from simulator.game import StrategicGame

    return StrategicGame.from_payoffs(payoffs)


def _ours(method: str) -> Callable[[Any], int]:
    def solve(game: Any) -> int:
        from simulator.solvers import solve as negsim_solve

        return len(negsim_solve(game, method).equilibria)

    return solve


# ------------------------------------------------------------------ numpy floor
def _build_array(payoffs: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(payoffs)


def _max_pass(payoffs: np.ndarray) -> None:
    """One ``max`` per player over its own axis: the least any pure-equilibrium search reads."""
    for i in range(payoffs.shape[0]):
        payoffs[i].max(axis=i)
    return None


def _vectorized_check(payoffs: np.ndarray) -> int:
    """Count profiles where every player's payoff equals its best-response value.

    Exact equality is right here and only here: the payoffs are continuous random
    draws, so ties have probability zero.
    """
    best = np.ones(payoffs.shape[1:], dtype=bool)
    for i in range(payoffs.shape[0]):
        best &= payoffs[i] == payoffs[i].max(axis=i, keepdims=True)
    return int(np.count_nonzero(best))


# ------------------------------------------------------------------ QuantEcon
def _build_quantecon(payoffs: np.ndarray) -> Any:
    from quantecon.game_theory import NormalFormGame

    # QuantEcon accepts the payoff-profile array of shape (m_0, ..., m_{n-1}, n).
    return NormalFormGame(np.moveaxis(payoffs, 0, -1).copy())


def _qe_vertex(game: Any) -> int:
    from quantecon.game_theory import vertex_enumeration

    return len(vertex_enumeration(game))


def _qe_support(game: Any) -> int:
    from quantecon.game_theory import support_enumeration

    return len(support_enumeration(game))


def _qe_brute(game: Any) -> int:
    from quantecon.game_theory import pure_nash_brute

    return len(pure_nash_brute(game))


# ------------------------------------------------------------------ nashpy
def _build_nashpy(payoffs: np.ndarray) -> Any:
    import nashpy

    return nashpy.Game(payoffs[0], payoffs[1])


def _nashpy_support(game: Any) -> int:
    # non_degenerate=True checks only supports of equal size: valid on these
    # non-degenerate games and far faster than the default, so it is nashpy's best case.
    return sum(1 for _ in game.support_enumeration(non_degenerate=True))


def _nashpy_vertex(game: Any) -> int:
    return sum(1 for _ in game.vertex_enumeration())


# ------------------------------------------------------------------ Gambit
def _build_gambit(payoffs: np.ndarray) -> Any:
    import pygambit

    return pygambit.Game.from_arrays(*[payoffs[i] for i in range(payoffs.shape[0])])


def _gambit_enummixed(game: Any) -> int:
    import pygambit

    return len(pygambit.nash.enummixed_solve(game, rational=False).equilibria)


def _gambit_enumpure(game: Any) -> int:
    import pygambit

    return len(pygambit.nash.enumpure_solve(game).equilibria)


SOLVERS: tuple[BenchSolver, ...] = (
    # 2-player, all extreme equilibria
    BenchSolver(
        "ours-vertex",
        "ours vertex-enumeration",
        "negsim",
        "two-player",
        "simulator.solvers.vertex_enumeration",
        _build_ours,
        _ours("vertex-enumeration"),
        ours=True,
        show_build=True,
    ),
    BenchSolver(
        "ours-support",
        "ours support-enumeration",
        "negsim",
        "two-player",
        "simulator.solvers.support_enumeration",
        _build_ours,
        _ours("support-enumeration"),
        ours=True,
    ),
    BenchSolver(
        "qe-vertex",
        "quantecon vertex_enumeration",
        "quantecon",
        "two-player",
        "quantecon",
        _build_quantecon,
        _qe_vertex,
    ),
    BenchSolver(
        "qe-support",
        "quantecon support_enumeration",
        "quantecon",
        "two-player",
        "quantecon",
        _build_quantecon,
        _qe_support,
    ),
    BenchSolver(
        "nashpy-support",
        "nashpy support_enumeration",
        "nashpy",
        "two-player",
        "nashpy",
        _build_nashpy,
        _nashpy_support,
        note="non_degenerate=True (its fastest mode; valid on these games)",
    ),
    BenchSolver(
        "nashpy-vertex",
        "nashpy vertex_enumeration",
        "nashpy",
        "two-player",
        "nashpy",
        _build_nashpy,
        _nashpy_vertex,
    ),
    BenchSolver(
        "gambit-enummixed",
        "gambit enummixed",
        "pygambit",
        "two-player",
        "pygambit",
        _build_gambit,
        _gambit_enummixed,
        note="rational=False (floating point)",
        show_build=True,
    ),
    # n-player, pure equilibria
    BenchSolver(
        "ours-pure",
        "ours pure",
        "negsim",
        "pure",
        "simulator.solvers.pure_nash",
        _build_ours,
        _ours("pure"),
        ours=True,
        show_build=True,
    ),
    BenchSolver(
        "numpy-max",
        "numpy max pass (floor)",
        "numpy",
        "pure",
        "numpy",
        _build_array,
        _max_pass,
        note="payoffs[i].max(axis=i) for every player; finds nothing by itself",
    ),
    BenchSolver(
        "numpy-check",
        "numpy max+compare+all",
        "numpy",
        "pure",
        "numpy",
        _build_array,
        _vectorized_check,
        note="the max pass plus the equality test and the logical and: a bare count",
    ),
    BenchSolver(
        "qe-brute",
        "quantecon pure_nash_brute",
        "quantecon",
        "pure",
        "quantecon",
        _build_quantecon,
        _qe_brute,
    ),
    BenchSolver(
        "gambit-enumpure",
        "gambit enumpure",
        "pygambit",
        "pure",
        "pygambit",
        _build_gambit,
        _gambit_enumpure,
        show_build=True,
    ),
)

BY_KEY: dict[str, BenchSolver] = {s.key: s for s in SOLVERS}

# The peers a user can leave out with --peers; negsim and the numpy floor always run.
PEER_LIBRARIES: tuple[str, ...] = ("quantecon", "nashpy", "pygambit")

# Which solver's count is the reference when counts disagree, in order of trust:
# Gambit's enumerations are complete, then ours (verified), then the bare numpy count.
REFERENCE_ORDER: dict[str, tuple[str, ...]] = {
    "two-player": ("gambit-enummixed", "ours-vertex", "ours-support", "qe-vertex"),
    "pure": ("gambit-enumpure", "ours-pure", "numpy-check"),
}

# Tiny games used to warm each solver (imports, numba's JIT) before anything is timed.
WARM_SHAPES: dict[str, tuple[int, ...]] = {"two-player": (3, 3), "pure": (3, 3, 3)}
