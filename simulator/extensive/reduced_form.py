r"""The reduced strategic form of a game tree.

A pure strategy of player :math:`i` in a tree names an action at every one of
:math:`i`'s information sets. Many of them differ only at sets that their own
earlier actions rule out (a player who walks away never reaches its
counter-offer), and those are equivalent against every strategy of the others.
The **reduced** strategic form keeps one strategy per class, a *plan*: actions
at exactly the sets that the plan's own earlier actions do not rule out
(Kuhn 1953; von Stengel 1996, Sec. 2). Formally, a node is *reachable under a
plan* when every move of :math:`i` on the path to it is the plan's action at
that set; a plan specifies an action at a set exactly when some node of the
set is reachable under it.

Under perfect recall all nodes of a set share :math:`i`'s own history, so a
plan specifies a set exactly when it plays the set's sequence, and plans are
the leaves of the forest of :math:`i`'s sets. Without perfect recall the same
node-level definition still gives the plans (a set is specified when *some*
of its nodes is reachable); merged strategies are still payoff-equivalent, but
behaviour and mixed strategies are no longer interchangeable (Kuhn's theorem
needs perfect recall).

The payoff of a pure profile of plans is the expected payoff over chance:
terminal :math:`z` is reached when every player's plan plays the moves on the
path to :math:`z`, with the probability of chance's moves on that path.

Strategy labels join the plan's actions in the order of the player's sets with
``/``, writing ``*`` at sets the plan does not specify ("hard/*");
:meth:`ReducedForm.describe` gives the long form ("Offer:hard, Counter:*").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from simulator.extensive.tree import ExtensiveGame
from simulator.game import StrategicGame

Plan = tuple[int | None, ...]
"""A plan's action at each of the player's sets (``None`` where it does not specify one)."""

DEFAULT_MAX_PROFILES = 1_000_000
"""Largest reduced strategic form (number of pure profiles) built by default."""

_UNSPECIFIED = "*"
_NO_MOVE = "(no move)"


@dataclass(frozen=True, eq=False)
class ReducedForm:
    """A game tree's reduced strategic form and the maps between strategies.

    ``strategic``: the :class:`~simulator.game.StrategicGame` whose strategy
    ``k`` of player ``i`` is the plan ``plans[i][k]``. ``plans[i][k][j]`` is
    the action (index) the plan takes at player ``i``'s ``j``-th information
    set (``game.player_infosets(i)[j]``), or ``None`` where the plan does not
    reach that set. Plans are in lexicographic order of their actions, set by
    set, an unspecified set first.
    """

    game: ExtensiveGame
    strategic: StrategicGame
    plans: tuple[tuple[Plan, ...], ...]

    def plan_table(self, player: int) -> np.ndarray:
        """``plans[player]`` as ints, shape ``(plans, sets)``, with ``-1`` where unspecified."""
        table = np.array(
            [[-1 if a is None else a for a in plan] for plan in self.plans[player]],
            dtype=np.intp,
        )
        return table.reshape(len(self.plans[player]), len(self.game.player_infosets(player)))

    def describe(self, player: int, strategy: int) -> str:
        """The plan as ``"set:action, ..."`` with ``*`` at sets it does not specify."""
        sets = self.game.player_infosets(player)
        plan = self.plans[player][strategy]
        if not sets:
            return _NO_MOVE
        return ", ".join(
            f"{h.name}:{_UNSPECIFIED if a is None else h.actions[a]}"
            for h, a in zip(sets, plan, strict=True)
        )

    def to_behavior(self, mixed_profile: Sequence[npt.ArrayLike]) -> tuple[np.ndarray, ...]:
        """A behaviour profile realization-equivalent to ``mixed_profile`` (Kuhn 1953).

        ``mixed_profile[i]``: player ``i``'s probabilities over its reduced
        strategies (length ``len(plans[i])``). At each information set, an
        action's probability is the mass of the plans that choose it, divided by
        the mass of the plans that specify the set (those whose own moves can
        reach it). **Convention**: at a set that no plan of positive mass
        reaches, the behaviour is uniform; it does not affect any payoff of
        the profile. Chance sets hold the chance probabilities. Under perfect
        recall the result gives every terminal node the same probability as the
        mixed profile; without it, that need not be so.
        """
        if len(mixed_profile) != self.game.n_players:
            raise ValueError(
                f"to_behavior: {self.game.n_players} mixed strategies expected, "
                f"got {len(mixed_profile)}"
            )
        out = list(self.game.uniform_behavior())
        for i, sigma in enumerate(mixed_profile):
            p = np.asarray(sigma, dtype=float).reshape(-1)
            plans = self.plans[i]
            if p.shape != (len(plans),):
                raise ValueError(
                    f"to_behavior: player {self.game.players[i]!r} has {len(plans)} reduced "
                    f"strategies, got {p.size} probabilities"
                )
            table = self.plan_table(i)
            for j, h in enumerate(self.game.player_infosets(i)):
                chosen = table[:, j] >= 0
                mass = np.bincount(
                    table[chosen, j], weights=p[chosen], minlength=len(h.actions)
                ).astype(float)
                total = mass.sum()
                if total > 0:
                    out[h.index] = mass / total
        return tuple(out)

    def from_behavior(self, behavior: Sequence[npt.ArrayLike]) -> tuple[np.ndarray, ...]:
        """The mixed profile over reduced strategies that plays like ``behavior``.

        ``behavior``: one probability array per information set (global index).
        A plan's probability is the product of the behaviour probabilities of
        its actions at the sets it specifies (Kuhn 1953); these sum to 1 over
        each player's plans. Returns one array per player (length
        ``len(plans[i])``).
        """
        checked = self.game.check_behavior([np.asarray(p, dtype=float) for p in behavior])
        out = []
        for i, plans in enumerate(self.plans):
            table = self.plan_table(i)
            probs = np.ones(len(plans))
            for j, h in enumerate(self.game.player_infosets(i)):
                chosen = table[:, j] >= 0
                probs[chosen] *= checked[h.index][table[chosen, j]]
            out.append(probs)
        return tuple(out)

    def pure_behavior(self, profile: Sequence[int]) -> tuple[np.ndarray, ...]:
        """The behaviour profile of the pure profile ``profile`` (one plan index per player).

        Sets a plan does not specify get the uniform behaviour (as in :meth:`to_behavior`).
        """
        mixed = []
        for i, k in enumerate(profile):
            p = np.zeros(len(self.plans[i]))
            p[int(k)] = 1.0
            mixed.append(p)
        return self.to_behavior(mixed)


# ------------------------------------------------------------------- plans
History = tuple[tuple[int, int], ...]
"""A node's own moves on the way to it: (local set index, action) pairs, root first."""


def _own_histories(game: ExtensiveGame, player: int) -> dict[int, list[History]]:
    """For each of ``player``'s sets (local index): its nodes' own histories in local indices."""
    local = {h.index: j for j, h in enumerate(game.player_infosets(player))}
    out: dict[int, list[History]] = {}
    for h in game.player_infosets(player):
        out[local[h.index]] = sorted(
            {tuple((local[s], a) for s, a in game.own_history(v, player)) for v in h.nodes}
        )
    return out


def _count_plans_perfect_recall(game: ExtensiveGame, player: int) -> int:
    """The number of plans under perfect recall, by the forest of the player's sets."""
    histories = _own_histories(game, player)
    below: dict[tuple[int, int] | None, list[int]] = {}
    for j, hists in histories.items():
        below.setdefault(hists[0][-1] if hists[0] else None, []).append(j)
    sets = game.player_infosets(player)

    def count(seq: tuple[int, int] | None) -> int:
        return math.prod(
            sum(count((j, a)) for a in range(len(sets[j].actions))) for j in below.get(seq, [])
        )

    return count(None)


def _plans(game: ExtensiveGame, player: int, cap: int) -> list[Plan]:
    """Every plan of ``player`` (see the module notes), sorted; at most ``cap`` of them.

    A depth-first search: take the first set (in the player's order) that a
    node reachable under the choices so far belongs to, branch over its
    actions, and stop when no reachable node lies in an unassigned set. Every
    plan is produced once, since two plans differ at the first set where
    their searches branch apart. Raises ``OverflowError`` past ``cap``.
    """
    histories = _own_histories(game, player)
    n_sets = len(histories)
    n_actions = [len(h.actions) for h in game.player_infosets(player)]
    order = sorted(range(n_sets), key=lambda j: min(game.player_infosets(player)[j].nodes))
    assign: list[int | None] = [None] * n_sets
    found: list[Plan] = []

    def reachable(j: int) -> bool:
        return any(all(assign[s] == a for s, a in hist) for hist in histories[j])

    def search() -> None:
        for j in order:
            if assign[j] is None and reachable(j):
                for a in range(n_actions[j]):
                    assign[j] = a
                    search()
                assign[j] = None
                return
        if len(found) >= cap:
            raise OverflowError
        found.append(tuple(assign))

    search()
    return sorted(found, key=lambda plan: tuple(-1 if a is None else a for a in plan))


def _label(game: ExtensiveGame, player: int, plan: Plan) -> str:
    sets = game.player_infosets(player)
    if not sets:
        return _NO_MOVE
    return "/".join(
        _UNSPECIFIED if a is None else h.actions[a] for h, a in zip(sets, plan, strict=True)
    )


# ----------------------------------------------------------------- payoffs
def _terminal_weights(
    game: ExtensiveGame,
) -> tuple[np.ndarray, list[list[Fraction]] | None]:
    """Chance reach times payoff at each terminal: floats ``(T, n)`` and exact (or None)."""
    exact_ok = game.exact_terminal_payoffs is not None and all(
        h.exact_probabilities is not None for h in game.chance_infosets
    )
    chance = np.ones(len(game.nodes))
    chance_exact: list[Fraction] = [Fraction(1)] * len(game.nodes)
    for node in game.nodes[1:]:
        assert node.parent is not None and node.parent_action is not None
        h = game.infosets[game.nodes[node.parent].infoset]  # type: ignore[index]
        chance[node.index] = chance[node.parent]
        chance_exact[node.index] = chance_exact[node.parent]
        if h.probabilities is not None:
            chance[node.index] *= h.probabilities[node.parent_action]
            if exact_ok:
                assert h.exact_probabilities is not None
                chance_exact[node.index] *= h.exact_probabilities[node.parent_action]
    terminals = list(game.terminals)
    weights = chance[terminals][:, None] * game.terminal_payoffs
    if not exact_ok:
        return weights, None
    assert game.exact_terminal_payoffs is not None
    exact = [
        [chance_exact[z] * u for u in game.exact_terminal_payoffs[t]]
        for t, z in enumerate(terminals)
    ]
    return weights, exact


def _consistent(game: ExtensiveGame, player: int, plans: Sequence[Plan]) -> list[np.ndarray]:
    """For each terminal: the indices of ``player``'s plans that play every own move to it."""
    local = {h.index: j for j, h in enumerate(game.player_infosets(player))}
    table = np.array(
        [[-1 if a is None else a for a in plan] for plan in plans], dtype=np.intp
    ).reshape(len(plans), len(local))
    everyone = np.arange(len(plans))
    out = []
    for z in game.terminals:
        keep = np.ones(len(plans), dtype=bool)
        for h, a in game.own_history(z, player):
            keep &= table[:, local[h]] == a
        out.append(everyone[keep] if not keep.all() else everyone)
    return out


def reduced_form_shape(
    game: ExtensiveGame, *, max_plans: int = DEFAULT_MAX_PROFILES
) -> tuple[int, ...]:
    """The number of reduced strategies of each player, without building the form.

    Under perfect recall the plans are counted over the forest of each
    player's sets (a product over the sets below a sequence of sums over their
    actions), which is instant even for astronomically many plans. Without
    perfect recall they are enumerated; a player with more than ``max_plans``
    raises ``ValueError``.
    """
    if game.has_perfect_recall:
        return tuple(_count_plans_perfect_recall(game, i) for i in range(game.n_players))
    shape = []
    for i in range(game.n_players):
        try:
            shape.append(len(_plans(game, i, max_plans)))
        except OverflowError:
            raise ValueError(
                f"reduced_form_shape: player {game.players[i]!r} has more than "
                f"{max_plans:,} reduced strategies"
            ) from None
    return tuple(shape)


def reduced_strategic_form(
    game: ExtensiveGame, *, max_profiles: int = DEFAULT_MAX_PROFILES
) -> ReducedForm:
    """The reduced strategic form of ``game`` (see the module notes).

    Works for any number of players, with or without perfect recall and chance.
    Payoffs are expected payoffs over chance; when every payoff and chance
    probability of the tree is rational, the strategic game keeps them exactly
    (``strategic.exact_payoffs``). Raises ``ValueError`` when the form would
    have more than ``max_profiles`` pure strategy profiles, saying its size.
    """
    n = game.n_players
    if game.has_perfect_recall:
        counts = reduced_form_shape(game)
        total = math.prod(counts)
        if total > max_profiles:
            size = "x".join(str(c) for c in counts)
            raise ValueError(
                f"reduced_strategic_form: the reduced strategic form is {size} = {total:,} "
                f"pure profiles, more than max_profiles={max_profiles:,}"
            )
    plans: list[list[Plan]] = []
    for i in range(n):
        try:
            plans.append(_plans(game, i, max_profiles))
        except OverflowError:
            raise ValueError(
                f"reduced_strategic_form: player {game.players[i]!r} alone has more than "
                f"{max_profiles:,} reduced strategies (max_profiles={max_profiles:,})"
            ) from None
        partial = math.prod(len(p) for p in plans)
        if partial > max_profiles:
            raise ValueError(
                f"reduced_strategic_form: the reduced strategic form has more than "
                f"{partial:,} pure profiles (the first {i + 1} players alone), more than "
                f"max_profiles={max_profiles:,}"
            )
    shape = tuple(len(p) for p in plans)
    consistent = [_consistent(game, i, plans[i]) for i in range(n)]
    weights, exact_weights = _terminal_weights(game)
    payoffs: np.ndarray
    if exact_weights is None:
        payoffs = np.zeros((n, *shape))
        for t in range(len(game.terminals)):
            block = np.ix_(*(consistent[i][t] for i in range(n)))
            for j in range(n):
                payoffs[j][block] += weights[t, j]
    else:
        payoffs = _exact_payoffs(exact_weights, consistent, shape)
    strategies = tuple(tuple(_label(game, i, plan) for plan in plans[i]) for i in range(n))
    strategic = StrategicGame.from_payoffs(payoffs, game.players, strategies, game.title)
    return ReducedForm(
        game=game,
        strategic=strategic,
        plans=tuple(tuple(p) for p in plans),
    )


def _exact_payoffs(
    weights: list[list[Fraction]], consistent: list[list[np.ndarray]], shape: tuple[int, ...]
) -> np.ndarray:
    """The payoff array as Fractions, summed in integers over a common denominator."""
    n = len(shape)
    denominator = math.lcm(*(w.denominator for row in weights for w in row))
    scaled = [[int(w * denominator) for w in row] for row in weights]
    biggest = max((abs(v) for row in scaled for v in row), default=0)
    fits = biggest * max(len(weights), 1) < 2**62
    totals = np.zeros((n, *shape), dtype=np.int64 if fits else object)
    for t, row in enumerate(scaled):
        block = np.ix_(*(consistent[i][t] for i in range(n)))
        for j in range(n):
            totals[j][block] += row[j]
    out = np.empty(totals.shape, dtype=object)
    flat_out = out.reshape(-1)
    for k, v in enumerate(totals.reshape(-1).tolist()):
        flat_out[k] = Fraction(v, denominator)
    return out
