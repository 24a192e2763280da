r"""The nucleolus of a TU game (Schmeidler 1969) by a sequence of linear programs.

The nucleolus is the allocation whose vector of excesses
:math:`e(S, x) = v(S) - x(S)`, sorted in decreasing order, is lexicographically
smallest, among imputations (:math:`x(N) = v(N)`, :math:`x_i \ge v(\{i\})`); the
*prenucleolus* does the same over all efficient allocations. When the core is
non-empty both lie in it.

Algorithm (Kopelowitz 1967; Maschler, Peleg & Shapley 1979; see also Kohlberg 1971).
Keep a set :math:`\mathcal F` of coalitions whose excess is already fixed at a
level. Round :math:`k` solves

.. math::

    t_k = \min t \quad\text{s.t.}\quad e(S, x) \le t \ (S \text{ free}),\quad
    e(S, x) = t_{k(S)} \ (S \in \mathcal F),\quad x(N) = v(N)\ [,\ x_i \ge v(\{i\})].

A free coalition whose constraint has a positive dual multiplier is tight in
*every* optimal solution (complementary slackness), so it joins
:math:`\mathcal F` at level :math:`t_k`; the multipliers of the free constraints
sum to 1, so every round fixes at least one coalition. Coalitions whose indicator
vector lies in the span of the fixed ones (and of :math:`N`) have a determined
excess and leave the free set. When the fixed coalitions span
:math:`\mathbb R^n` the allocation is unique; it is then solved from those
equalities, which is more accurate than the last LP's primal solution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.coalition.core import _HIGHS_OPTIONS
from simulator.coalition.tu_game import TUGame, coalition_matrix
from simulator.tolerance import RTOL


@dataclass(frozen=True)
class Nucleolus:
    """The nucleolus and its certificate.

    ``allocation``: shape ``(n,)``. ``levels``: the excess levels ``t_1 > t_2 > ...``
    found by the rounds (equal consecutive rounds are merged), in payoff units.
    ``tiers``: for each level, the coalitions (as label tuples) fixed at it; they
    are linearly independent and with the grand coalition determine the allocation.
    ``imputations``: ``True`` for the nucleolus, ``False`` for the prenucleolus.
    """

    allocation: np.ndarray
    levels: tuple[float, ...]
    tiers: tuple[tuple[tuple[str, ...], ...], ...]
    imputations: bool


def _rank(rows: np.ndarray) -> int:
    # numpy's default rank threshold (largest singular value * size * machine epsilon):
    # the rows are 0/1 indicator vectors, so this is a question of linear algebra,
    # not of payoffs, and the payoff tolerance does not apply.
    return int(np.linalg.matrix_rank(rows)) if rows.size else 0


def _in_span(basis: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Which rows of ``candidates`` lie in the row space of ``basis`` (rows independent)."""
    k = basis.shape[0]
    stacked = np.concatenate(
        [np.broadcast_to(basis, (candidates.shape[0], *basis.shape)), candidates[:, None, :]],
        axis=1,
    )
    return np.asarray(np.linalg.matrix_rank(stacked) == k)


def nucleolus(game: TUGame, imputations: bool = True) -> Nucleolus:
    """The nucleolus of ``game`` (or its prenucleolus with ``imputations=False``).

    Raises ``ValueError`` when ``imputations`` is asked and the imputation set is
    empty (``v(N) < sum_i v({i})`` beyond tolerance): the nucleolus is then undefined.
    """
    from scipy.optimize import linprog

    if not isinstance(game, TUGame):
        raise TypeError(f"nucleolus: expected a TUGame, got {type(game).__name__}")
    n = game.n
    singles = game.v[1 << np.arange(n)]
    if imputations and game.v[game.grand] - singles.sum() < -game.tolerance:
        raise ValueError(
            f"nucleolus: v(N) = {game.v[game.grand]} is below the sum of the players' "
            f"individual worths {singles.sum()}, so there are no imputations; "
            "use imputations=False for the prenucleolus"
        )
    if n == 1:
        return Nucleolus(np.array([game.v[1]]), (), (), imputations)
    top = float(np.abs(game.v).max())
    scale = top if top > 0 else 1.0
    v = game.v / scale
    table = coalition_matrix(n).astype(float)
    free = np.arange(1, game.grand, dtype=np.int64)
    fixed_rows = np.ones((1, n))
    fixed_rhs = np.array([v[game.grand]])  # x(S) = v(S) - level, for N the level is 0
    levels: list[float] = []
    tiers: list[list[tuple[str, ...]]] = []
    bounds = [(float(v[1 << i]), None) if imputations else (None, None) for i in range(n)]
    bounds.append((None, None))
    cost = np.zeros(n + 1)
    cost[-1] = 1.0
    while fixed_rows.shape[0] < n:
        # Variables (x, t): v(S) - x(S) <= t for free S; x(S) = v(S) - level for fixed S.
        a_ub = -np.hstack([table[free], np.ones((free.size, 1))])
        a_eq = np.hstack([fixed_rows, np.zeros((fixed_rows.shape[0], 1))])
        result = linprog(
            cost,
            A_ub=a_ub,
            b_ub=-v[free],
            A_eq=a_eq,
            b_eq=fixed_rhs,
            bounds=bounds,
            method="highs-ds",
            options=_HIGHS_OPTIONS,
        )
        if result.status != 0:
            raise RuntimeError(
                f"nucleolus: HiGHS failed in round {len(levels) + 1}: {result.message}"
            )
        level = float(result.x[-1])
        duals = -np.asarray(result.ineqlin.marginals)
        # The free multipliers sum to 1, like probabilities: RTOL separates them from round-off.
        chosen = free[duals > RTOL]
        if chosen.size == 0:
            chosen = free[[int(np.argmax(duals))]]
        if not levels or level < levels[-1] - RTOL:
            levels.append(level)
            tiers.append([])
        for mask in chosen:
            row = table[mask][None, :]
            if _rank(np.vstack([fixed_rows, row])) > fixed_rows.shape[0]:
                fixed_rows = np.vstack([fixed_rows, row])
                fixed_rhs = np.append(fixed_rhs, v[mask] - level)
                tiers[-1].append(game.members(int(mask)))
        remaining = free[~np.isin(free, chosen)]
        free = remaining[~_in_span(fixed_rows, table[remaining])] if remaining.size else remaining
        if free.size == 0 and fixed_rows.shape[0] < n:
            raise RuntimeError("nucleolus: ran out of coalitions before the allocation was unique")
    # Adding 0.0 turns -0.0 into 0.0 for display.
    allocation = np.linalg.solve(fixed_rows, fixed_rhs) * scale + 0.0
    return Nucleolus(
        allocation,
        tuple(level * scale for level in levels),
        tuple(tuple(tier) for tier in tiers),
        imputations,
    )


def prenucleolus(game: TUGame) -> Nucleolus:
    """The prenucleolus of ``game``: :func:`nucleolus` over all efficient allocations."""
    return nucleolus(game, imputations=False)
