r"""Regret and verification of behaviour profiles of game trees.

Notation
--------
A behaviour profile :math:`\beta` gives each information set :math:`h` a
distribution :math:`\beta_h` over its actions (layout in
:mod:`simulator.extensive.tree`). Player :math:`i`'s **regret** at
:math:`\beta` is

.. math:: r_i(\beta) = \max_{s_i} u_i(s_i, \beta_{-i}) - u_i(\beta),

the most :math:`i` gains by switching to any strategy of the whole game while
the others (and chance) keep :math:`\beta_{-i}`. The maximum over mixed or
behaviour strategies equals the maximum over pure strategies, and under
perfect recall (Kuhn 1953) it is found by one bottom-up pass over :math:`i`'s
information sets, which form a forest: set :math:`h'` lies below
:math:`(h, a)` when :math:`i`'s last move before reaching :math:`h'` is
:math:`a` at :math:`h` (its *sequence*, von Stengel 1996). With
:math:`q_{-i}(v)` the product of the others' and chance's probabilities on the
path to node :math:`v`,

.. math::

   V(h, a) = \sum_{z:\ \sigma_i(z) = (h, a)} q_{-i}(z)\, u_i(z)
             + \sum_{h' \text{ below } (h, a)} \max_b V(h', b),

where :math:`\sigma_i(z)` is :math:`i`'s last move before terminal :math:`z`;
the best-response value is the same sum taken at the root (terminals that
:math:`i` never moves before, plus the maxima at :math:`i`'s first sets). This
is the value of a best response because, under perfect recall, the choices at
different sets of :math:`i` can be made independently.

Without perfect recall the pass is not valid (a player who forgets cannot make
choices that depend on what it forgot), and :func:`behavior_regrets` refuses;
regret there is computed in the reduced strategic form
(:mod:`simulator.extensive.reduced_form`).

**Subgame perfection** (Selten 1965): :math:`\beta` is subgame perfect when it
induces a Nash equilibrium in every subgame, reached or not. The regret in the
subgame rooted at node :math:`r` is the same quantity with play starting at
:math:`r` (probabilities conditional on reaching :math:`r`). In a game of
perfect information every decision node roots a subgame, so this is
optimality at every decision node.

An equilibrium is accepted when every regret is at most the game's tolerance
(``game.tolerance.payoff``, see :mod:`simulator.tolerance`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from weakref import WeakKeyDictionary, ref

import numpy as np

from simulator.extensive.results import BehaviorEquilibrium, Concept
from simulator.extensive.tree import Behavior, ExtensiveGame

ExactBehavior = Sequence[Sequence[Fraction]]
"""A behaviour profile in exact rational probabilities (one tuple per information set)."""

_MAX_DENOMINATOR = 10**6
"""Largest denominator tried when recovering exact probabilities from floats."""

_EXACT_BUDGET = 50_000
"""Most node visits (summed over the subgames checked) spent on the rational check.

The rational check walks each subgame node by node in Python fractions; past
this many visits the result keeps its float regrets and no exact probabilities.
"""


# ------------------------------------------------------------------ structure
@dataclass(frozen=True)
class _Layout:
    """Index arrays of a tree, built once per game.

    The behaviour profile is flattened into one vector (the sets' arrays
    concatenated in global order); ``edge[v]`` is the position of the action
    that leads to node ``v`` in it, ``owner[v]`` the player who chose it (-1
    for chance, -2 at the root). ``end[v]``: nodes ``v .. end[v]-1`` are
    ``v``'s subtree (preorder). ``levels[d]``: the nodes at depth ``d``,
    ascending.
    """

    parent: np.ndarray
    edge: np.ndarray
    owner: np.ndarray
    depth: np.ndarray
    end: np.ndarray
    levels: tuple[np.ndarray, ...]
    offsets: np.ndarray
    n_actions: int
    terminals: np.ndarray
    payoffs: np.ndarray
    set_first: np.ndarray
    player_sets_bottom_up: tuple[np.ndarray, ...]
    perfect_recall: bool
    game: ref[ExtensiveGame] = field(repr=False)  # weak: the cache must not keep games alive

    @cached_property
    def subgame_roots(self) -> tuple[int, ...]:
        game = self.game()
        assert game is not None  # a layout is only reached through its live game
        return game.subgame_roots()


_LAYOUTS: WeakKeyDictionary[ExtensiveGame, _Layout] = WeakKeyDictionary()


def _layout(game: ExtensiveGame) -> _Layout:
    cached = _LAYOUTS.get(game)
    if cached is not None:
        return cached
    n_nodes = len(game.nodes)
    sizes = np.array([len(h.actions) for h in game.infosets], dtype=np.intp)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)
    parent = np.full(n_nodes, -1, dtype=np.intp)
    edge = np.full(n_nodes, -1, dtype=np.intp)
    owner = np.full(n_nodes, -2, dtype=np.intp)
    depth = np.zeros(n_nodes, dtype=np.intp)
    for node in game.nodes[1:]:
        assert node.parent is not None and node.parent_action is not None
        h = game.nodes[node.parent].infoset
        assert h is not None
        parent[node.index] = node.parent
        edge[node.index] = offsets[h] + node.parent_action
        player = game.infosets[h].player
        owner[node.index] = -1 if player is None else player
        depth[node.index] = depth[node.parent] + 1
    end = np.arange(1, n_nodes + 1, dtype=np.intp)
    for v in range(n_nodes - 1, 0, -1):  # reverse preorder: children before parents
        end[parent[v]] = max(end[parent[v]], end[v])
    levels = tuple(np.flatnonzero(depth == d) for d in range(int(depth.max()) + 1))
    set_first = np.array([min(h.nodes) for h in game.infosets], dtype=np.intp)
    bottom_up = []
    for i in range(game.n_players):
        own = np.array([h.index for h in game.player_infosets(i)], dtype=np.intp)
        bottom_up.append(own[np.argsort(-set_first[own], kind="stable")] if own.size else own)
    layout = _Layout(
        parent=parent,
        edge=edge,
        owner=owner,
        depth=depth,
        end=end,
        levels=levels,
        offsets=offsets,
        n_actions=int(offsets[-1]),
        terminals=np.asarray(game.terminals, dtype=np.intp),
        payoffs=np.asarray(game.terminal_payoffs, dtype=float),
        set_first=set_first,
        player_sets_bottom_up=tuple(bottom_up),
        perfect_recall=game.has_perfect_recall,
        game=ref(game),
    )
    _LAYOUTS[game] = layout
    return layout


def _flat(behavior: Sequence[np.ndarray]) -> np.ndarray:
    """The profile as one vector (the sets' arrays in global order; empty for no sets)."""
    return np.concatenate(behavior) if len(behavior) else np.zeros(0)


def _require_perfect_recall(game: ExtensiveGame, function: str) -> None:
    if not _layout(game).perfect_recall:
        reasons = "; ".join(game.recall_violations())
        raise ValueError(
            f"{function}: the game does not have perfect recall ({reasons}), so a best "
            "response cannot be found set by set; compute regret in the reduced strategic "
            "form instead (simulator.extensive.reduced_form)"
        )


# --------------------------------------------------------------------- kernel
def _best_and_current(
    layout: _Layout, flat: np.ndarray, root: int, n_players: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best-response values and current payoffs, shape ``(n,)`` each, from node ``root``.

    Probabilities are conditional on reaching ``root``. Runs one vectorised
    step per depth level of the subtree (see the module notes for the sum).
    The third array, shape ``(n, n_actions + 1)``, holds :math:`V(h, a)` for
    each player's actions (flat index; the last slot is the root's value).
    """
    lo, hi = root, int(layout.end[root])
    size = hi - lo
    reach = np.zeros(size)
    reach[0] = 1.0
    others = np.ones((n_players, size))  # q_{-i}: reach without player i's own moves
    last = np.full((n_players, size), -1, dtype=np.intp)  # i's last move (flat index)
    players = np.arange(n_players)[:, None]
    for level in layout.levels[int(layout.depth[root]) + 1 :]:
        nodes = level[np.searchsorted(level, lo) : np.searchsorted(level, hi)]
        if nodes.size == 0:
            break
        local = nodes - lo
        up = layout.parent[nodes] - lo
        edge = layout.edge[nodes]
        prob = flat[edge]
        reach[local] = reach[up] * prob
        mine = layout.owner[nodes][None, :] == players
        others[:, local] = others[:, up] * np.where(mine, 1.0, prob[None, :])
        last[:, local] = np.where(mine, edge[None, :], last[:, up])
    first, stop = np.searchsorted(layout.terminals, [lo, hi])
    terms = layout.terminals[first:stop]
    pay = layout.payoffs[first:stop]
    current = reach[terms - lo] @ pay
    top = layout.n_actions  # slot for "no move of i yet" (the empty sequence)
    values = np.zeros((n_players, top + 1))
    for i in range(n_players):
        seq = last[i, terms - lo]
        value = values[i]
        value[:] = np.bincount(
            np.where(seq < 0, top, seq),
            weights=others[i, terms - lo] * pay[:, i],
            minlength=top + 1,
        )
        for h in layout.player_sets_bottom_up[i]:
            first = int(layout.set_first[h])
            if not lo <= first < hi:
                continue
            start, stop = layout.offsets[h], layout.offsets[h + 1]
            above = int(last[i, first - lo])
            value[above if above >= 0 else top] += value[start:stop].max()
    return values[:, top].copy(), current, values


def _best_response_actions(game: ExtensiveGame, behavior: Behavior, player: int) -> dict[int, int]:
    """A pure best response of ``player`` to ``behavior``: an action per set (global index).

    At each of the player's sets, the first action maximising :math:`V(h, a)`
    (module notes); requires perfect recall.
    """
    _require_perfect_recall(game, "_best_response_actions")
    layout = _layout(game)
    flat = _flat(game.check_behavior(behavior))
    values = _best_and_current(layout, flat, 0, game.n_players)[2][player]
    return {
        h.index: int(np.argmax(values[layout.offsets[h.index] : layout.offsets[h.index + 1]]))
        for h in game.player_infosets(player)
    }


def _best_and_current_exact(
    game: ExtensiveGame, behavior: ExactBehavior, root: int
) -> tuple[list[Fraction], list[Fraction]]:
    """The same sums as :func:`_best_and_current` in rational arithmetic (node by node)."""
    assert game.exact_terminal_payoffs is not None
    n = game.n_players
    layout = _layout(game)
    flat = [p for probs in behavior for p in probs]
    lo, hi = root, int(layout.end[root])
    reach: dict[int, Fraction] = {root: Fraction(1)}
    others: dict[int, list[Fraction]] = {root: [Fraction(1)] * n}
    last: dict[int, list[int]] = {root: [-1] * n}
    for v in range(lo + 1, hi):  # preorder: the parent is done first
        up = int(layout.parent[v])
        e = int(layout.edge[v])
        who = int(layout.owner[v])
        prob = flat[e]
        reach[v] = reach[up] * prob
        others[v] = [q if i == who else q * prob for i, q in enumerate(others[up])]
        last[v] = [e if i == who else s for i, s in enumerate(last[up])]
    top = layout.n_actions
    value = [[Fraction(0)] * (top + 1) for _ in range(n)]
    current = [Fraction(0)] * n
    for t, z in enumerate(game.terminals):
        if not lo <= z < hi:
            continue
        pay = game.exact_terminal_payoffs[t]
        for i in range(n):
            current[i] += reach[z] * pay[i]
            s = last[z][i]
            value[i][s if s >= 0 else top] += others[z][i] * pay[i]
    for i in range(n):
        for h in layout.player_sets_bottom_up[i]:
            first = int(layout.set_first[h])
            if lo <= first < hi:
                above = last[first][i]
                start, stop = int(layout.offsets[h]), int(layout.offsets[h + 1])
                value[i][above if above >= 0 else top] += max(value[i][start:stop])
    return [value[i][top] for i in range(n)], current


# ----------------------------------------------------------------- public API
def behavior_regrets(game: ExtensiveGame, behavior: Behavior) -> np.ndarray:
    """Each player's regret at ``behavior`` (float array of shape ``(n,)``, each >= 0).

    ``behavior``: one probability array per information set (global index).
    The best response is found by the bottom-up pass of the module notes
    (Kuhn 1953; von Stengel 1996). Raises ``ValueError`` for a game without
    perfect recall, where that pass is not valid.
    """
    _require_perfect_recall(game, "behavior_regrets")
    checked = game.check_behavior(behavior)
    best, current, _ = _best_and_current(_layout(game), _flat(checked), 0, game.n_players)
    return np.maximum(best - current, 0.0)


def subgame_regrets(game: ExtensiveGame, behavior: Behavior) -> np.ndarray:
    """Regrets within every subgame, conditional on reaching its root.

    Returns an array of shape ``(len(game.subgame_roots()), n)``: row ``k`` is
    each player's regret in the subgame rooted at ``game.subgame_roots()[k]``
    (reached or not; Selten 1965). Raises ``ValueError`` without perfect recall.
    """
    _require_perfect_recall(game, "subgame_regrets")
    checked = game.check_behavior(behavior)
    layout = _layout(game)
    flat = _flat(checked)
    roots = layout.subgame_roots
    out = np.zeros((len(roots), game.n_players))
    for k, root in enumerate(roots):
        best, current, _ = _best_and_current(layout, flat, root, game.n_players)
        out[k] = np.maximum(best - current, 0.0)
    return out


def _clean(game: ExtensiveGame, behavior: Behavior) -> tuple[np.ndarray, ...] | None:
    """Round-off cleaned, renormalised copy of ``behavior``, or ``None`` if it is not one.

    Probabilities within the probability tolerance of 0 (scaled as in
    :func:`simulator.equilibrium.clean_profile`) become 0 and each set's
    probabilities are renormalised; a set whose probabilities are clearly
    negative or do not sum to 1 (beyond that tolerance) is refused. Chance
    sets must carry the game's chance probabilities (to that tolerance) and
    get them exactly.
    """
    if len(behavior) != len(game.infosets):
        return None
    zero = 1e3 * game.tolerance.probability
    cleaned = []
    for h, probs in zip(game.infosets, behavior, strict=True):
        p = np.array(probs, dtype=float).reshape(-1)
        if p.shape != (len(h.actions),) or not np.all(np.isfinite(p)):
            return None
        if h.probabilities is not None:
            if np.abs(p - h.probabilities).max() > zero:
                return None
            p = np.array(h.probabilities, dtype=float)
        else:
            p[np.abs(p) <= zero] = 0.0
            total = p.sum()
            if p.min() < 0 or abs(total - 1.0) > zero:
                return None
            p = p / total
        cleaned.append(p)
    try:
        checked = game.check_behavior(cleaned)
    except ValueError:
        return None
    for p in checked:
        p.setflags(write=False)
    return checked


def _exact_game(game: ExtensiveGame) -> bool:
    return game.exact_terminal_payoffs is not None and all(
        h.exact_probabilities is not None for h in game.chance_infosets
    )


def _recover_exact(
    game: ExtensiveGame, behavior: Sequence[np.ndarray]
) -> tuple[tuple[Fraction, ...], ...] | None:
    """Rational probabilities within the probability tolerance of ``behavior``, if any."""
    tol = game.tolerance.probability
    out = []
    for h, probs in zip(game.infosets, behavior, strict=True):
        if h.exact_probabilities is not None:
            out.append(tuple(h.exact_probabilities))
            continue
        exact = tuple(Fraction(float(p)).limit_denominator(_MAX_DENOMINATOR) for p in probs)
        if sum(exact) != 1 or any(
            abs(float(e) - float(p)) > tol for e, p in zip(exact, probs, strict=True)
        ):
            return None
        out.append(exact)
    return tuple(out)


def _exact_candidate(
    game: ExtensiveGame, exact: ExactBehavior
) -> tuple[tuple[Fraction, ...], ...] | None:
    """``exact`` as Fractions with the game's chance probabilities, if it is a profile."""
    if len(exact) != len(game.infosets):
        return None
    out = []
    for h, probs in zip(game.infosets, exact, strict=True):
        if h.exact_probabilities is not None:
            out.append(tuple(h.exact_probabilities))
            continue
        row = tuple(Fraction(p) for p in probs)
        if len(row) != len(h.actions) or min(row) < 0 or sum(row) != 1:
            return None
        out.append(row)
    return tuple(out)


def _exact_zero_regret(game: ExtensiveGame, exact: ExactBehavior, roots: Sequence[int]) -> bool:
    for root in roots:
        best, current = _best_and_current_exact(game, exact, root)
        if any(b != c for b, c in zip(best, current, strict=True)):
            return False
    return True


def verify_behavior(
    game: ExtensiveGame,
    behavior: Behavior,
    concept: Concept = "nash",
    *,
    exact: ExactBehavior | None = None,
) -> BehaviorEquilibrium | None:
    """Verify ``behavior`` as an equilibrium of ``game`` in the sense ``concept``.

    ``behavior``: one probability array per information set (global index).
    Cleans round-off (see :func:`_clean`), then accepts the profile when every
    player's regret (:func:`behavior_regrets`) is at most
    ``game.tolerance.payoff`` and, for ``concept="subgame_perfect"``, every
    regret in every subgame, reached or not (:func:`subgame_regrets`).

    For games with rational payoffs and chance probabilities, the profile is
    also checked in rational arithmetic, from ``exact`` when the caller has the
    exact probabilities (an exact solver) or else from the floats' nearest
    fractions (denominators up to a million); when that check shows zero
    regret exactly, the result carries ``exact`` and zero regrets. (The check
    is skipped for trees too large for it to be cheap; see ``_EXACT_BUDGET``.)

    Returns the :class:`BehaviorEquilibrium`, or ``None`` when the profile is
    not a behaviour profile of ``game`` or fails verification. Raises
    ``ValueError`` for a game without perfect recall.
    """
    if concept not in ("nash", "subgame_perfect"):
        raise ValueError(
            f"verify_behavior: concept must be 'nash' or 'subgame_perfect', got {concept!r}"
        )
    _require_perfect_recall(game, "verify_behavior")
    if exact is not None and _exact_game(game):
        floats = [np.array([float(p) for p in probs]) for probs in exact]
        cleaned = _clean(game, floats)
    else:
        cleaned = _clean(game, behavior)
    if cleaned is None:
        return None
    layout = _layout(game)
    flat = _flat(cleaned)
    roots = layout.subgame_roots if concept == "subgame_perfect" else (0,)
    if game.nodes[0].is_terminal:
        roots = ()
    regret = np.zeros(game.n_players)
    for k, root in enumerate(roots):
        best, value, _ = _best_and_current(layout, flat, root, game.n_players)
        excess = np.maximum(best - value, 0.0)
        if excess.max() > game.tolerance.payoff:
            return None
        if k == 0:
            regret = excess
    candidate = None
    visits = sum(int(layout.end[r]) - r for r in roots)
    if _exact_game(game) and visits <= _EXACT_BUDGET:
        candidate = (
            _exact_candidate(game, exact) if exact is not None else _recover_exact(game, cleaned)
        )
        if candidate is not None and not _exact_zero_regret(game, candidate, roots):
            candidate = None
    behavior_out = cleaned
    if candidate is not None:
        regret = np.zeros(game.n_players)
        behavior_out = tuple(np.array([float(p) for p in probs]) for probs in candidate)
        for p in behavior_out:
            p.setflags(write=False)
    payoffs = tuple(float(v) for v in game.expected_payoffs(behavior_out))
    return BehaviorEquilibrium(
        behavior=behavior_out,
        payoffs=payoffs,
        regret=tuple(float(r) for r in regret),
        concept=concept,
        path=game.path(behavior_out),
        exact=candidate,
    )


def verify_all_behavior(
    game: ExtensiveGame,
    candidates: Sequence[Behavior],
    concept: Concept = "nash",
    *,
    exact: Sequence[ExactBehavior | None] | None = None,
) -> tuple[tuple[BehaviorEquilibrium, ...], int]:
    """Verify candidates, drop duplicates, and count the ones that failed.

    ``exact[k]`` (optional) is candidate ``k`` in rational probabilities.
    Returns ``(equilibria, rejected)``: the distinct verified equilibria in the
    order first found (duplicates by :meth:`BehaviorEquilibrium.key`), and how
    many candidates failed verification.
    """
    if exact is not None and len(exact) != len(candidates):
        raise ValueError(
            f"verify_all_behavior: {len(exact)} exact profiles for {len(candidates)} candidates"
        )
    seen: set[tuple[float, ...]] = set()
    found: list[BehaviorEquilibrium] = []
    rejected = 0
    for k, candidate in enumerate(candidates):
        eq = verify_behavior(game, candidate, concept, exact=None if exact is None else exact[k])
        if eq is None:
            rejected += 1
            continue
        key = eq.key()
        if key not in seen:
            seen.add(key)
            found.append(eq)
    return tuple(found), rejected
