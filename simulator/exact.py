"""Exact (rational) recovery of equilibria of games with rational payoffs.

A float equilibrium found by any solver is turned into exact fractions by solving,
in rational arithmetic, the linear system that characterises it: for each player
``i`` the probabilities of strategies outside the support are 0, they sum to 1,
and every opponent strategy that is a best response (within tolerance) earns the
same payoff. For an extreme equilibrium of a two-player game this system has a
unique solution (the profile is a vertex of the best-response polytope; von
Stengel 2007, "Equilibrium computation for two-player games in strategic and
extensive form", Sec. 3.2). The candidate is accepted only if it is an exact
equilibrium: every regret is exactly zero in rational arithmetic.

Pure profiles are always exact. Mixed equilibria of games with three or more
players are in general irrational and are left as floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from simulator.game import StrategicGame


def exact_equilibrium(
    game: StrategicGame, profile: Sequence[np.ndarray]
) -> tuple[tuple[Fraction, ...], ...] | None:
    """Exact probabilities for ``profile`` if it is an exact equilibrium, else ``None``.

    ``game.exact_payoffs`` must be set. ``profile`` is a cleaned float profile.
    """
    exact_payoffs = game.exact_payoffs
    if exact_payoffs is None:
        return None
    from simulator.equilibrium import deviation_payoffs

    n = game.n_players
    if all(np.count_nonzero(p) == 1 for p in profile):
        candidate = tuple(
            tuple(Fraction(1) if p[k] > 0 else Fraction(0) for k in range(len(p))) for p in profile
        )
    elif n == 2:
        candidate_or_none = _two_player(game, profile)
        if candidate_or_none is None:
            return None
        candidate = candidate_or_none
    else:
        return None
    for i in range(n):
        dev = deviation_payoffs(exact_payoffs, candidate, i)  # type: ignore[arg-type]
        value = sum((d * p for d, p in zip(dev, candidate[i], strict=True)), Fraction(0))
        if max(dev) != value:
            return None
    return candidate


def _two_player(
    game: StrategicGame, profile: Sequence[np.ndarray]
) -> tuple[tuple[Fraction, ...], ...] | None:
    exact = game.exact_payoffs
    assert exact is not None
    a, b = exact[0], exact[1]
    fa, fb = game.payoffs[0], game.payoffs[1]
    x, y = profile
    tol = game.tolerance.payoff
    # Player 1's x makes player 2's best responses indifferent, and vice versa.
    col_values = x @ fb
    best_cols = np.flatnonzero(col_values >= col_values.max() - tol)
    row_values = fa @ y
    best_rows = np.flatnonzero(row_values >= row_values.max() - tol)
    x_exact = _solve_indifference(b.T, np.flatnonzero(x), best_cols, len(x))
    y_exact = _solve_indifference(a, np.flatnonzero(y), best_rows, len(y))
    if x_exact is None or y_exact is None:
        return None
    return x_exact, y_exact


def _solve_indifference(
    payoff_rows: np.ndarray, support: np.ndarray, targets: np.ndarray, size: int
) -> tuple[Fraction, ...] | None:
    """Solve p >= 0 on ``support``, sum p = 1, ``payoff_rows[t] @ p`` equal for t in targets.

    ``payoff_rows`` has shape (number of opponent strategies, size). Unknowns are
    p restricted to ``support`` and the common value v. Returns ``None`` unless
    the solution is unique and nonnegative.
    """
    k = len(support)
    rows: list[list[Fraction]] = []
    for t in targets:
        rows.append([payoff_rows[t, s] for s in support] + [Fraction(-1), Fraction(0)])
    rows.append([Fraction(1)] * k + [Fraction(0), Fraction(1)])
    solution = _unique_solution(rows, k + 1)
    if solution is None:
        return None
    p = [Fraction(0)] * size
    for idx, s in enumerate(support):
        if solution[idx] < 0:
            return None
        p[int(s)] = solution[idx]
    return tuple(p)


def _unique_solution(rows: list[list[Fraction]], n_unknowns: int) -> list[Fraction] | None:
    """Gauss–Jordan elimination in rationals on an augmented system.

    Returns the solution if the system is consistent with full column rank.
    """
    m = [list(r) for r in rows]
    pivot_row = 0
    pivots: list[int] = []
    for col in range(n_unknowns):
        found = next((r for r in range(pivot_row, len(m)) if m[r][col] != 0), None)
        if found is None:
            return None
        m[pivot_row], m[found] = m[found], m[pivot_row]
        inv = Fraction(1) / m[pivot_row][col]
        m[pivot_row] = [v * inv for v in m[pivot_row]]
        for r in range(len(m)):
            if r != pivot_row and m[r][col] != 0:
                f = m[r][col]
                m[r] = [v - f * w for v, w in zip(m[r], m[pivot_row], strict=True)]
        pivots.append(col)
        pivot_row += 1
    # Remaining rows must read 0 = 0, or the system is inconsistent.
    if any(m[r][n_unknowns] != 0 for r in range(pivot_row, len(m))):
        return None
    return [m[r][n_unknowns] for r in range(n_unknowns)]
