"""A coalition game with where it came from, and its solutions, checked.

:class:`CoalitionGame` is what a scenario's ``kind: coalition`` builds: a
:class:`~simulator.coalition.tu_game.TUGame`, and, when the worths are derived
from a bargaining game's deal space, the derivation (each coalition's best
deal) and what the non-transferable (NTU) core check needs.
:func:`solve_coalition` computes the requested concepts and checks each answer:

* ``core``: whether the core is empty (least-core value, Maschler, Peleg &
  Shapley 1979), a point in it and, for up to :data:`MAX_VERTEX_PLAYERS`
  players, its vertices (Gillies 1959); the point is checked with
  :func:`~simulator.coalition.core.in_core`;
* ``shapley``: the Shapley value (Shapley 1953), checked efficient;
* ``banzhaf``: the normalised Banzhaf index (Banzhaf 1965) and the efficient
  allocation ``index * v(N)``;
* ``nucleolus`` (Schmeidler 1969), checked efficient, individually rational,
  and in the core whenever the core is non-empty.

For derived games, each deal reported as the grand coalition's bargaining
solution is also checked against the NTU core (Aumann & Peleg 1960): can some
coalition, on its own deal space, make every member strictly better off?
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from simulator.coalition.banzhaf import banzhaf_index
from simulator.coalition.core import core_vertices, in_core, least_core
from simulator.coalition.nucleolus import nucleolus
from simulator.coalition.shapley import shapley_value
from simulator.coalition.tu_game import TUGame

__all__ = [
    "COALITION_CONCEPTS",
    "MAX_VERTEX_PLAYERS",
    "CoalitionGame",
    "CoalitionResult",
    "CoalitionSolution",
    "solve_coalition",
]

FloatArray = npt.NDArray[np.float64]

COALITION_CONCEPTS: Mapping[str, str] = MappingProxyType(
    {
        "core": "the core: allocations no coalition can improve on (Gillies 1959)",
        "shapley": "Shapley value: average marginal contribution (Shapley 1953)",
        "banzhaf": "Banzhaf index: share of swings, times v(N) as an allocation (Banzhaf 1965)",
        "nucleolus": "nucleolus: lexicographically smallest excesses (Schmeidler 1969)",
    }
)
"""Concept name (as in scenario files and ``--json``) -> what it is."""

MAX_VERTEX_PLAYERS = 5
"""Core vertices are enumerated for games with at most this many players."""


@dataclass(frozen=True, eq=False)
class CoalitionGame:
    """A TU game and, when derived from a deal space, its derivation.

    ``derived``: the :class:`~simulator.coalition.deal_space.DerivedCoalitionGame`
    (each coalition's best deal), or ``None`` for a game given as a table.
    ``problem``, ``needs``, ``status_quo``: the bargaining problem and the
    consent structure the worths were derived from (for the NTU core check).
    ``candidates``: named grand-coalition deals to test against the NTU core
    (e.g. the bargaining game's Nash solution). ``concepts``: what to compute
    (empty: all of :data:`COALITION_CONCEPTS`).
    """

    game: TUGame
    title: str = ""
    source: str = ""
    derived: Any = None
    problem: Any = None
    needs: tuple[frozenset[int], ...] = ()
    status_quo: FloatArray | None = None
    candidates: Mapping[str, FloatArray] = field(default_factory=dict)
    concepts: tuple[str, ...] = ()

    @property
    def players(self) -> tuple[str, ...]:
        return self.game.players


@dataclass(frozen=True, eq=False)
class CoalitionSolution:
    """One concept's answer: an allocation (``payoffs``, shape ``(n,)``) or none.

    ``payoffs`` is ``None`` only for an empty core. ``deal``: the grand
    coalition's deal (issue -> value) in a derived game, else ``None``.
    ``details``: concept-specific facts (core: ``empty``, ``least_core_epsilon``,
    ``vertices``; banzhaf: ``index``; nucleolus: ``levels``). ``checked``:
    what was verified, in words; ``passed``: whether it held.
    """

    concept: str
    players: tuple[str, ...]
    payoffs: FloatArray | None
    deal: Mapping[str, float] | None
    details: Mapping[str, Any]
    checked: tuple[str, ...]
    passed: bool
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class CoalitionResult:
    """The checked solutions of one coalition game, and the NTU core checks.

    ``ntu``: candidate name -> :class:`~simulator.coalition.ntu_core.NTUCoreCheck`
    for derived games (empty otherwise). ``failed``: concept -> reason.
    """

    game: CoalitionGame
    solutions: tuple[CoalitionSolution, ...]
    ntu: Mapping[str, Any] = field(default_factory=dict)
    failed: Mapping[str, str] = field(default_factory=dict)
    elapsed: float = 0.0


def solve_coalition(game: CoalitionGame, concepts: Sequence[str] | None = None) -> CoalitionResult:
    """Compute and check the concepts of ``game`` (see the module docstring)."""
    chosen = tuple(concepts or game.concepts or COALITION_CONCEPTS)
    unknown = [c for c in chosen if c not in COALITION_CONCEPTS]
    if unknown:
        raise ValueError(f"solve_coalition: unknown concepts {unknown}")
    start = time.perf_counter()
    tu = game.game
    grand_deal = _grand_deal(game)
    solutions: list[CoalitionSolution] = []
    failed: dict[str, str] = {}
    for concept in chosen:
        try:
            solutions.append(_solve_one(tu, concept, grand_deal))
        except ValueError as exc:
            failed[concept] = str(exc)
    ntu: dict[str, Any] = {}
    if game.problem is not None and game.status_quo is not None and game.candidates:
        from simulator.coalition.ntu_core import ntu_core_check

        for name, deal in game.candidates.items():
            ntu[name] = ntu_core_check(game.problem, game.needs, game.status_quo, deal)
    return CoalitionResult(
        game=game,
        solutions=tuple(solutions),
        ntu=MappingProxyType(ntu),
        failed=MappingProxyType(failed),
        elapsed=time.perf_counter() - start,
    )


def _grand_deal(game: CoalitionGame) -> Mapping[str, float] | None:
    if game.derived is None or game.problem is None:
        return None
    deal = game.derived.deals.get(game.game.grand)
    if deal is None:
        return None
    return {name: float(v) for name, v in zip(game.problem.issues, deal, strict=True)}


def _efficient(tu: TUGame, x: FloatArray) -> bool:
    return abs(float(np.sum(x)) - float(tu.v[tu.grand])) <= tu.tolerance * max(1, tu.n)


def _solve_one(
    tu: TUGame, concept: str, grand_deal: Mapping[str, float] | None
) -> CoalitionSolution:
    players = tu.players
    if concept == "shapley":
        x = shapley_value(tu)
        ok = _efficient(tu, x)
        return CoalitionSolution(
            concept, players, x, grand_deal, {}, ("efficient: the shares sum to v(N)",), ok
        )
    if concept == "banzhaf":
        index = banzhaf_index(tu, normalized=True)
        x = index * float(tu.v[tu.grand])
        ok = bool(abs(float(index.sum()) - 1.0) <= 1e-9) and _efficient(tu, x)
        return CoalitionSolution(
            concept,
            players,
            x,
            grand_deal,
            {"index": index, "raw": banzhaf_index(tu, normalized=False)},
            ("the index sums to 1; the allocation index * v(N) is efficient",),
            ok,
        )
    if concept == "core":
        least = least_core(tu)
        empty = least.epsilon > tu.tolerance
        details: dict[str, Any] = {
            "empty": empty,
            "least_core_epsilon": float(least.epsilon),
            "tight_coalition": least.tight,
        }
        if empty:
            note = (
                f"the core is empty: every efficient allocation leaves coalition "
                f"{'+'.join(least.tight)} short by at least {least.epsilon:.6g}"
            )
            return CoalitionSolution(
                concept,
                players,
                None,
                grand_deal,
                details,
                ("least-core value > 0 (linear program)",),
                True,
                (note,),
            )
        x = least.allocation
        check = in_core(tu, x)
        checked = ["the point is efficient and no coalition gets less than its worth"]
        if tu.n <= MAX_VERTEX_PLAYERS:
            vertices = core_vertices(tu)
            details["vertices"] = vertices
            inside = all(in_core(tu, v).member for v in vertices)
            checked.append(f"all {len(vertices)} vertices are in the core")
        else:
            inside = True
        return CoalitionSolution(
            concept, players, x, grand_deal, details, tuple(checked), check.member and inside
        )
    if concept == "nucleolus":
        result = nucleolus(tu)
        x = result.allocation
        singles = np.array([tu.v[1 << i] for i in range(tu.n)])
        rational = bool(np.all(x >= singles - tu.tolerance))
        ok = _efficient(tu, x) and rational
        checked = ["efficient and individually rational (an imputation)"]
        if least_core(tu).epsilon <= tu.tolerance:
            ok = ok and in_core(tu, x).member
            checked.append("in the core (the core is non-empty)")
        return CoalitionSolution(
            concept,
            players,
            x,
            grand_deal,
            {"levels": result.levels},
            tuple(checked),
            ok,
        )
    raise ValueError(f"unknown concept {concept!r}")
