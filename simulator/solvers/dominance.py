r"""Iterated elimination of strictly dominated strategies (pure and mixed).

Strategy :math:`s` of player :math:`i` is *strictly dominated* by a mixed
strategy :math:`\sigma_i` (a pure strategy is the special case of a point mass)
when

.. math:: \sum_t \sigma_i(t)\, u_i(t, s_{-i}) > u_i(s, s_{-i})
          \quad\text{for every pure profile } s_{-i} \text{ of the others.}

By linearity this is the same as dominance against every mixed (or correlated)
profile of the others, and a strategy is strictly dominated exactly when it is
never a best response to any belief about the others (Pearce 1984). No Nash
equilibrium gives positive probability to a strictly dominated strategy, so
deleting such strategies, repeatedly, keeps every equilibrium; and for strict
dominance the game that remains does not depend on the order in which strategies
are deleted (Gilboa, Kalai and Zemel 1990; Osborne and Rubinstein 1994, Sec. 4.2).
See Fudenberg and Tirole (1991, Sec. 2.1) and Myerson (1991, Sec. 3.1).

How it is decided here, with the game's one tolerance ``tol =
game.tolerance.payoff``: strategy ``s`` is eliminated when a dominator beats it
by more than ``tol`` against every profile of the others (the *margin*).

* Pure domination, for all strategies of a player at once: with ``U`` the
  player's payoffs as an ``(m_i, K)`` matrix (rows: own strategies, columns: the
  ``K`` pure profiles of the others), the margin of ``t`` over ``s`` is
  ``min_k U[t, k] - U[s, k]``.
* Mixed domination, by linear programming (HiGHS through
  :func:`scipy.optimize.linprog`): maximise :math:`\varepsilon` subject to
  :math:`\sum_t \sigma_t U[t, k] \ge U[s, k] + \varepsilon` for every ``k``,
  :math:`\sigma \ge 0`, :math:`\sum_t \sigma_t = 1`, over the player's other
  strategies ``t``. The LP runs only for strategies that are not a best response
  (within ``tol``) to any pure profile of the others, since those cannot be
  dominated. The mixture the LP returns is checked again in the game's own
  payoffs: the strategy is eliminated only if that certificate's margin exceeds
  ``tol``.

Each round deletes, for every player, every strategy that is dominated in the
game left after the previous round (all at once); the rounds stop when nothing
is dominated.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from simulator.game import StrategicGame
from simulator.tolerance import Tolerance


@dataclass(frozen=True)
class Elimination:
    """One deleted strategy.

    ``round`` counts from 1. ``player``/``strategy`` are labels, and
    ``player_index``/``strategy_index`` the indices in the *original* game.
    ``dominated_by`` is the label of a dominating pure strategy, or a mixed
    strategy as ``{label: probability}`` over strategies still present in that
    round. ``margin`` is the least amount (payoff units) by which the dominator
    beats the strategy against any pure profile of the others in that round.
    """

    round: int
    player: str
    strategy: str
    player_index: int
    strategy_index: int
    dominated_by: str | Mapping[str, float]
    margin: float

    @property
    def by_mixture(self) -> bool:
        return not isinstance(self.dominated_by, str)


@dataclass(frozen=True, eq=False)
class DominanceResult:
    """The outcome of iterated strict dominance on one game.

    ``game``: the reduced game (``original.restrict(kept)``). ``kept[i]``: indices
    (in the original game) of player ``i``'s surviving strategies, ascending.
    ``eliminations``: the deleted strategies in order (by round, then player,
    then strategy). ``mixed``: whether domination by mixed strategies was used.
    ``rounds``: the number of rounds that deleted something.
    """

    original: StrategicGame
    game: StrategicGame
    kept: tuple[tuple[int, ...], ...]
    eliminations: tuple[Elimination, ...]
    mixed: bool
    rounds: int
    elapsed: float = 0.0

    @property
    def reduced(self) -> bool:
        """Whether anything was eliminated."""
        return bool(self.eliminations)

    @property
    def solved(self) -> bool:
        """Whether exactly one strategy per player survives (dominance solvable)."""
        return all(len(k) == 1 for k in self.kept)


# A dominator found by the kernel: a pure index (into the rows it was given) or
# a mixture {row index: probability}, with its margin.
_Dominator = tuple[int | dict[int, float], float]


def iterated_strict_dominance(game: StrategicGame, *, mixed: bool = True) -> DominanceResult:
    """Delete strictly dominated strategies of ``game`` until none is left.

    Works for any number of players. With ``mixed=True`` (the default) a strategy
    is also deleted when a mixture of the player's other strategies dominates it
    (decided by linear programming); with ``mixed=False`` only pure dominators
    count. The result's ``game`` keeps every Nash equilibrium of ``game`` and
    nothing else that is not one when lifted back (see the module docstring).
    """
    start = time.perf_counter()
    kept = [list(range(m)) for m in game.shape]
    eliminations: list[Elimination] = []
    rounds = 0
    while True:
        found: list[tuple[int, list[tuple[int, _Dominator]]]] = []
        for i in range(game.n_players):
            rows = _player_matrix(game.payoffs[i], i, kept)
            dominated = _dominated_rows(rows, game.tolerance, mixed)
            if dominated:
                found.append((i, dominated))
        if not found:
            break
        rounds += 1
        for i, dominated in found:
            labels = [game.strategies[i][k] for k in kept[i]]
            for row, (dominator, margin) in dominated:
                eliminations.append(
                    Elimination(
                        round=rounds,
                        player=game.players[i],
                        strategy=labels[row],
                        player_index=i,
                        strategy_index=kept[i][row],
                        dominated_by=_label_dominator(dominator, labels),
                        margin=margin,
                    )
                )
        for i, dominated in found:
            drop = {kept[i][row] for row, _ in dominated}
            kept[i] = [k for k in kept[i] if k not in drop]
    kept_tuple = tuple(tuple(k) for k in kept)
    reduced = game.restrict(kept_tuple) if eliminations else game
    return DominanceResult(
        original=game,
        game=reduced,
        kept=kept_tuple,
        eliminations=tuple(eliminations),
        mixed=mixed,
        rounds=rounds,
        elapsed=time.perf_counter() - start,
    )


def find_dominator(
    game: StrategicGame, player: int | str, strategy: int | str, *, mixed: bool = True
) -> str | Mapping[str, float] | None:
    """A strategy that strictly dominates ``strategy`` of ``player`` in ``game``, or ``None``.

    ``player`` and ``strategy`` are indices or labels. Returns the label of a
    dominating pure strategy (the one with the largest margin), else, with
    ``mixed=True``, a dominating mixture ``{label: probability}``, else ``None``.
    Dominance is by more than ``game.tolerance.payoff`` against every pure profile
    of the other players.
    """
    i = player if isinstance(player, int) else game.player_index(player)
    if not 0 <= i < game.n_players:
        raise IndexError(f"find_dominator: no player {player!r} in a {game.n_players}-player game")
    labels = list(game.strategies[i])
    if isinstance(strategy, int):
        if not 0 <= strategy < len(labels):
            raise IndexError(f"find_dominator: player {i} has no strategy {strategy}")
        s = strategy
    else:
        try:
            s = labels.index(strategy)
        except ValueError:
            raise KeyError(
                f"find_dominator: no strategy {strategy!r}; player {game.players[i]!r} has {labels}"
            ) from None
    rows = _player_matrix(game.payoffs[i], i, [list(range(m)) for m in game.shape])
    found = _dominator_of(rows, s, game.tolerance, mixed)
    return None if found is None else _label_dominator(found[0], labels)


def is_strictly_dominated(
    game: StrategicGame, player: int | str, strategy: int | str, *, mixed: bool = True
) -> bool:
    """Whether ``strategy`` of ``player`` is strictly dominated in ``game``.

    See :func:`find_dominator` for the arguments and the tolerance.
    """
    return find_dominator(game, player, strategy, mixed=mixed) is not None


# ----------------------------------------------------------------- kernels
def _player_matrix(payoff: np.ndarray, player: int, kept: Sequence[Sequence[int]]) -> np.ndarray:
    """Player ``player``'s payoffs in the subgame ``kept`` as an ``(m_i, K)`` matrix."""
    sub = payoff[np.ix_(*[np.asarray(k, dtype=np.intp) for k in kept])]
    return np.moveaxis(sub, player, 0).reshape(len(kept[player]), -1)


def _pure_margins(rows: np.ndarray) -> np.ndarray:
    """``margins[t, s] = min_k rows[t, k] - rows[s, k]`` (the diagonal is 0)."""
    m = rows.shape[0]
    margins = np.empty((m, m))
    for t in range(m):
        margins[t] = (rows[t] - rows).min(axis=1)
    return margins


def _dominated_rows(
    rows: np.ndarray, tolerance: Tolerance, mixed: bool
) -> list[tuple[int, _Dominator]]:
    """Every dominated row of ``rows`` (shape ``(m, K)``) with a dominator of it."""
    tol = tolerance.payoff
    m = rows.shape[0]
    if m < 2:
        return []
    margins = _pure_margins(rows)
    out: list[tuple[int, _Dominator]] = []
    for s in range(m):
        t = int(np.argmax(margins[:, s]))
        if margins[t, s] > tol:
            out.append((s, (t, float(margins[t, s]))))
        elif mixed and m >= 3:
            found = _mixed_dominator(rows, s, tolerance)
            if found is not None:
                out.append((s, found))
    return out


def _dominator_of(rows: np.ndarray, s: int, tolerance: Tolerance, mixed: bool) -> _Dominator | None:
    """A dominator of row ``s`` of ``rows``: pure (largest margin) first, else mixed."""
    tol = tolerance.payoff
    if rows.shape[0] < 2:
        return None
    margins = (rows - rows[s]).min(axis=1)
    margins[s] = -np.inf
    t = int(np.argmax(margins))
    if margins[t] > tol:
        return t, float(margins[t])
    if mixed and rows.shape[0] >= 3:
        return _mixed_dominator(rows, s, tolerance)
    return None


def _mixed_dominator(rows: np.ndarray, s: int, tolerance: Tolerance) -> _Dominator | None:
    """A mixture of the other rows that beats row ``s`` by more than the tolerance everywhere.

    Solves the LP of the module docstring with HiGHS on payoffs rescaled to unit
    spread (better conditioned), then re-checks the cleaned mixture in the
    original payoffs, so the answer never rests on the LP's own tolerances.
    """
    tol = tolerance.payoff
    others = np.array([t for t in range(rows.shape[0]) if t != s])
    target = rows[s]
    competing = rows[others]
    # A best response (within tol) to some pure profile cannot be dominated.
    if np.any(target >= competing.max(axis=0) - tol):
        return None
    from scipy.optimize import linprog  # local: scipy.optimize costs start-up time

    low = min(float(competing.min()), float(target.min()))
    spread = max(float(competing.max()), float(target.max())) - low
    scaled = (competing - low) / spread
    scaled_target = (target - low) / spread
    r, k = scaled.shape
    # Variables (sigma_1..sigma_r, eps); minimise -eps.
    cost = np.zeros(r + 1)
    cost[-1] = -1.0
    a_ub = np.hstack([-scaled.T, np.ones((k, 1))])
    b_ub = -scaled_target
    a_eq = np.zeros((1, r + 1))
    a_eq[0, :r] = 1.0
    bounds = [(0.0, None)] * r + [(None, None)]
    solution = linprog(
        cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0], bounds=bounds, method="highs"
    )
    if solution.status != 0 or -solution.fun * spread <= tol:
        return None
    sigma = np.clip(solution.x[:r], 0.0, None)
    sigma[sigma <= tolerance.probability] = 0.0
    sigma /= sigma.sum()
    margin = float((sigma @ competing - target).min())
    if margin <= tol:
        return None
    support = np.flatnonzero(sigma)
    if support.size == 1:
        return int(others[support[0]]), margin
    return {int(others[j]): float(sigma[j]) for j in support}, margin


def _label_dominator(
    dominator: int | dict[int, float], labels: Sequence[str]
) -> str | Mapping[str, float]:
    if isinstance(dominator, int):
        return labels[dominator]
    return MappingProxyType({labels[t]: p for t, p in dominator.items()})
