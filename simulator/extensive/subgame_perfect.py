"""Subgame-perfect equilibria of trees with imperfect information, subgame by subgame.

Selten (1965): a profile is subgame perfect when it is a Nash equilibrium of
every subgame. For trees whose information sets stop backward induction, the
standard route (the one Gambit's ``-P`` option takes) solves the smallest
subgames first, replaces each by a terminal node carrying its equilibrium
payoffs, and works up to the root. Where a subgame has several equilibria,
each is carried up separately, so different choices below can give different
equilibria above; the combinations are enumerated up to a cap.

Each subgame is solved by :func:`simulator.extensive.solve.solve_sequential`
with the method given (``"auto"``: backward induction where the subgame has
perfect information, the sequence form for two players, the reduced strategic
form otherwise), and every profile put together is verified in the whole tree,
in every subgame, before it is returned.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.extensive.results import SequentialResult
from simulator.extensive.tree import ExtensiveGame, TreeBuilder

DEFAULT_MAX_EQUILIBRIA = 100


@dataclass(frozen=True)
class _Solution:
    """One equilibrium of a subgame: behaviour at its sets, and its payoffs."""

    behavior: dict[int, np.ndarray]
    values: tuple[float, ...]


def subgame_perfect(
    game: ExtensiveGame,
    *,
    method: str = "auto",
    max_equilibria: int = DEFAULT_MAX_EQUILIBRIA,
    **options: Any,
) -> SequentialResult:
    """Subgame-perfect equilibria of ``game`` by solving its subgames bottom-up.

    ``method`` solves each subgame once its own subgames are replaced by their
    payoffs (see the module notes); ``options`` go to that method.
    ``max_equilibria`` caps the equilibria kept per subgame (and so in the
    result); the result says when the cap was reached. Raises ``ValueError``
    for a tree without perfect recall (behaviour strategies would not stand for
    mixed ones there, Kuhn 1953) or when a subgame's method cannot apply.
    """
    from simulator.extensive.behavior import verify_all_behavior
    from simulator.extensive.solve import solve_sequential

    start = time.perf_counter()
    if max_equilibria < 1:
        raise ValueError(f"subgame_perfect: max_equilibria must be >= 1, got {max_equilibria}")
    if not game.has_perfect_recall:
        raise ValueError(
            "subgame_perfect: the tree lacks perfect recall: " + "; ".join(game.recall_violations())
        )
    roots = game.subgame_roots()
    root_set = set(roots)
    solved: dict[int, list[_Solution]] = {}
    complete = True
    capped = False
    methods: set[str] = set()
    solves = 0
    for r in reversed(roots):  # preorder reversed: every subgame before those containing it
        inner = _direct_subgames(game, r, root_set)
        found: list[_Solution] = []
        for choice in itertools.product(*(solved[s] for s in inner)):
            replaced = dict(zip(inner, choice, strict=True))
            sub, back = _subgame_tree(game, r, replaced)
            result = solve_sequential(sub, method, **options)
            solves += 1
            methods.add(result.method)
            complete = complete and result.complete
            for eq in result.equilibria:
                behavior = {back[h]: eq.behavior[h] for h in back}
                for sol in choice:
                    behavior.update(sol.behavior)
                found.append(_Solution(behavior, tuple(float(v) for v in eq.payoffs)))
                if len(found) >= max_equilibria:
                    break
            if len(found) >= max_equilibria:
                capped = True
                break
        if not found:
            # A subgame solver that finds nothing (a time limit, say) leaves no
            # equilibrium to carry up; say so rather than return a partial profile.
            complete = False
        solved[r] = found
    candidates = [_profile(game, sol) for sol in solved[0]]
    equilibria, rejected = verify_all_behavior(game, candidates, "subgame_perfect")
    n_proper = len(roots) - 1
    notes = [
        f"{n_proper} proper subgame(s) solved first, each replaced by its equilibrium payoffs "
        f"({solves} subgame solve(s) with {', '.join(sorted(methods))})",
    ]
    if capped:
        notes.append(f"stopped at {max_equilibria} equilibria per subgame (max_equilibria)")
    if not complete:
        notes.append(
            "a subgame's method does not list every equilibrium, so other subgame-perfect "
            "equilibria may exist"
        )
    return SequentialResult(
        method="subgame-perfect",
        game=game,
        equilibria=equilibria,
        complete=complete and not capped,
        scope="subgame-perfect equilibria built from the equilibria found in each subgame",
        rejected=rejected,
        notes=tuple(notes),
        options={"method": method, "max_equilibria": max_equilibria, **options},
        elapsed=time.perf_counter() - start,
    )


def _direct_subgames(game: ExtensiveGame, root: int, roots: set[int]) -> list[int]:
    """Subgame roots strictly below ``root`` with no other subgame root in between."""
    out = []
    for v in game.subtree(root)[1:]:
        if v not in roots:
            continue
        parent = game.nodes[v].parent
        while parent is not None and parent != root and parent not in roots:
            parent = game.nodes[parent].parent
        if parent == root:
            out.append(v)
    return out


def _subgame_tree(
    game: ExtensiveGame, root: int, replaced: dict[int, _Solution]
) -> tuple[ExtensiveGame, dict[int, int]]:
    """The subgame at ``root`` with each subgame in ``replaced`` cut to a terminal node.

    Returns the tree and the map from its information sets to ``game``'s
    (global indices).
    """
    builder = TreeBuilder(game.players, title=f"subgame at node {root}")
    handles: dict[int, int] = {}
    stack = [root]
    while stack:
        v = stack.pop()
        node = game.nodes[v]
        if v in replaced:
            handles[v] = builder.terminal(replaced[v].values, label=node.label)
            continue
        if node.is_terminal:
            exact = game.exact_terminal_payoffs
            t = game.terminals.index(v)
            pay: Sequence[Any] = exact[t] if exact is not None else node.payoffs or ()
            handles[v] = builder.terminal(
                pay, label=node.label, outcome=node.outcome, deal=node.deal
            )
            continue
        assert node.infoset is not None
        h = game.infosets[node.infoset]
        if h.player is None:
            probs: Sequence[Any] = h.exact_probabilities or h.probabilities or ()
            handles[v] = builder.chance(h.actions, probs, label=node.label)
        else:
            handles[v] = builder.decision(
                h.player, h.actions, infoset=f"#{h.index}", label=node.label
            )
        stack.extend(node.children)
    for v, handle in handles.items():
        node = game.nodes[v]
        if v in replaced or node.is_terminal:
            continue
        for a, child in enumerate(node.children):
            builder.connect(handle, a, handles[child])
    sub = builder.build(handles[root])
    back = {}
    for h in sub.infosets:
        if h.player is not None:
            back[h.index] = int(h.label[1:])
    return sub, back


def _profile(game: ExtensiveGame, solution: _Solution) -> tuple[np.ndarray, ...]:
    """A whole-game behaviour profile from a root solution (chance sets filled in)."""
    out = []
    for h in game.infosets:
        if h.player is None:
            out.append(np.asarray(h.probabilities, dtype=float))
        else:
            out.append(np.asarray(solution.behavior[h.index], dtype=float))
    return tuple(out)
