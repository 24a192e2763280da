"""Choosing and running a solver for a game tree.

:func:`solve_sequential` is to trees what :func:`simulator.solvers.solve` is
to strategic games. ``"auto"`` picks, in order:

1. **backward induction** for perfect-information trees: every pure
   subgame-perfect equilibrium (Selten 1965; Kuhn 1953);
2. **subgame by subgame** for trees with proper subgames (and perfect recall):
   each subgame solved by this same choice once its own subgames are replaced
   by their equilibrium payoffs, so every answer is subgame perfect;
3. **the sequence form** for two players with perfect recall: Lemke's algorithm
   on the sequence-form LCP (Koller, Megiddo and von Stengel 1996), with
   behaviour strategies read off the realization plans;
4. otherwise **the reduced strategic form**, solved by the strategic default
   for its number of players, each equilibrium turned into behaviour strategies
   (Kuhn 1953) and verified again in the tree.

Any strategic-form solver name (``"vertex-enumeration"``, ``"logit"``, …)
also works: the tree's reduced strategic form is solved with it and the
answers carried back to behaviour strategies. Every equilibrium returned has
passed :func:`simulator.extensive.behavior.verify_behavior`.
"""

from __future__ import annotations

import time
from typing import Any

from simulator.extensive.results import SequentialResult
from simulator.extensive.tree import ExtensiveGame

TREE_METHODS = {
    "backward-induction": "every pure subgame-perfect equilibrium (perfect information)",
    "subgame-perfect": "subgame-perfect equilibria, solving the smallest subgames first",
    "sequence-form": "Nash equilibria in behaviour strategies by Lemke's algorithm (2 players)",
}
"""Methods that work on the tree itself, by name, with what they find."""


LISTED_MAX = 100
"""Most equilibria backward induction lists unless asked for more.

Trees with many ties have astronomically many pure subgame-perfect equilibria
(tic-tac-toe: about 1.9e14); the result then says how many there are in all.
"""


def auto_method(game: ExtensiveGame) -> str:
    """The method ``"auto"`` stands for on ``game`` (see the module notes)."""
    if game.is_perfect_information:
        return "backward-induction"
    if game.has_perfect_recall and len(game.subgame_roots()) > 1:
        return "subgame-perfect"
    if game.n_players == 2 and game.has_perfect_recall:
        return "sequence-form"
    return "auto"


def solve_sequential(game: ExtensiveGame, method: str = "auto", **options: Any) -> SequentialResult:
    """Solve ``game`` with ``method`` (a tree method or a strategic solver's name).

    Raises ``ValueError`` when the method cannot apply (backward induction on
    a game with an information set of several nodes; the sequence form for more
    than two players or without perfect recall; a reduced strategic form too
    large to build).
    """
    start = time.perf_counter()
    chosen = auto_method(game) if method == "auto" else method
    if chosen == "backward-induction":
        from simulator.extensive.backward_induction import backward_induction

        result = backward_induction(game, **{"max_equilibria": LISTED_MAX, **options})
    elif chosen == "subgame-perfect":
        from simulator.extensive.subgame_perfect import subgame_perfect

        result = subgame_perfect(game, **options)
    elif chosen == "sequence-form":
        from simulator.extensive.sequence_form import sequence_form_lemke

        result = sequence_form_lemke(game, **options)
    else:
        result = _via_reduced_form(game, chosen, **options)
    if not result.elapsed:
        object.__setattr__(result, "elapsed", time.perf_counter() - start)
    return result


def _via_reduced_form(game: ExtensiveGame, method: str, **options: Any) -> SequentialResult:
    from simulator.extensive.behavior import verify_all_behavior
    from simulator.extensive.reduced_form import reduced_strategic_form
    from simulator.solvers import solve

    if not game.has_perfect_recall:
        raise ValueError(
            "this tree lacks perfect recall, so behaviour strategies cannot stand for its "
            "mixed strategies (Kuhn 1953); solve its reduced strategic form instead "
            "(negsim export --format nfg)"
        )
    reduced = reduced_strategic_form(game)
    strategic = solve(reduced.strategic, method, **options)
    candidates = [reduced.to_behavior(eq.strategies) for eq in strategic.equilibria]
    equilibria, rejected = verify_all_behavior(game, candidates, "nash")
    shape = "x".join(str(m) for m in reduced.strategic.shape)
    notes = (
        f"solved as the reduced strategic form ({shape} strategies) with {strategic.method}, "
        "then carried back to behaviour strategies (Kuhn 1953) and verified in the tree",
        *strategic.notes,
    )
    return SequentialResult(
        method=f"reduced-form/{strategic.method}",
        game=game,
        equilibria=equilibria,
        complete=False,
        scope=f"Nash equilibria from the reduced strategic form ({strategic.scope})",
        rejected=rejected + strategic.rejected,
        notes=notes,
        options=dict(options),
    )
