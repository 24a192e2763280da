r"""All extreme Nash equilibria of a two-player game by vertex enumeration.

The extreme equilibria are the completely labelled vertex pairs of the
best-response polytopes :math:`P` and :math:`Q` (Avis, Rosenberg, Savani &
von Stengel 2010; von Stengel 2007; notation in
:mod:`simulator.solvers.best_response_polytope`). This module finds every
vertex of each polytope by a breadth-first search over its feasible bases in
which a whole level of the search is pivoted at once with array operations.

Degenerate games are handled by the lexicographic rule (Dantzig, Orden & Wolfe
1955): the right-hand side :math:`1` is perturbed to
:math:`1 + (\varepsilon, \varepsilon^2, \dots)`, which makes the polytope
simple, so each of its vertices is one basis with exactly ``d`` neighbours, the
graph of these bases is connected (Balinski 1961), and every vertex of the
unperturbed polytope is the limit of at least one of them. Labels are then read
off each vertex's coordinates with the game's tolerance, and bases giving the
same vertex are merged, so a degenerate vertex carries all its labels and the
list of extreme equilibria is complete.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulator.game import StrategicGame
from simulator.results import SolverResult
from simulator.solvers.best_response_polytope import (
    Polytope,
    extreme_equilibria_result,
    first_of_each,
    label_tolerance,
    pack_labels,
    polytope_from_values,
    positive_bimatrix,
    two_player_bimatrix,
)


def vertex_enumeration(game: StrategicGame) -> SolverResult:
    """All extreme Nash equilibria of the two-player ``game``, verified.

    Complete on degenerate games too (``result.degenerate`` says whether the game
    is degenerate). Raises ``ValueError`` unless the game has two players.
    """
    start = time.perf_counter()
    two_player_bimatrix(game, "vertex_enumeration")
    a, b = positive_bimatrix(game)
    tol = label_tolerance(game)
    (p_values, p_dropped), (q_values, q_dropped) = basic_solutions([b.T, a], tol)
    p = polytope_from_values(p_values, a.shape[0], tol, p_dropped)
    q = polytope_from_values(q_values, a.shape[1], tol, q_dropped)
    return extreme_equilibria_result(game, "vertex_enumeration", p, q, {}, start)


def polytope_vertices(constraint: np.ndarray, tol: float) -> Polytope:
    r"""Every nonzero vertex of :math:`\{z \in \mathbb{R}^d : z \ge 0,\ Cz \le 1\}`, labelled.

    ``constraint`` is ``C`` of shape ``(k, d)`` with positive entries (so the
    polytope is bounded and 0 is a vertex); ``tol`` is the label tolerance.
    """
    ((values, dropped),) = basic_solutions([constraint], tol)
    return polytope_from_values(values, constraint.shape[1], tol, dropped)


def basic_solutions(constraints: Sequence[np.ndarray], tol: float) -> list[tuple[np.ndarray, int]]:
    r"""The basic solutions of every lexicographically feasible basis of each polytope.

    ``constraints[p]`` is ``C`` of shape ``(k_p, d_p)``, positive, for the polytope
    :math:`\{z \ge 0 : Cz \le 1\}`, written as :math:`[C \mid I](z, s) = 1` with
    slacks :math:`s`; a basis is ``k_p`` of the ``d_p + k_p`` variables. Returns,
    per polytope, an array of shape ``(N_p, d_p + k_p)``: the values of
    :math:`(z, s)` at each basis (a degenerate vertex once per basis), and the
    number of bases left out as infeasible beyond ``tol``, which only round-off
    in nearly degenerate games produces.

    Polytopes of one shape (both of a square game) are searched together, so
    that each level of the search costs one round of array operations for both.
    """
    mats = [np.asarray(c, dtype=float) for c in constraints]
    out: list[tuple[np.ndarray, int]] = [(np.zeros((0, 0)), 0)] * len(mats)
    for shape in dict.fromkeys(c.shape for c in mats):
        members = [p for p, c in enumerate(mats) if c.shape == shape]
        for p, values in zip(members, _search([mats[p] for p in members], tol), strict=True):
            out[p] = values
    return out


def _search(mats: Sequence[np.ndarray], tol: float) -> list[tuple[np.ndarray, int]]:
    """:func:`basic_solutions` for polytopes whose constraint matrices share one shape.

    Breadth-first search: starting from the slack bases (the vertex 0), every
    basis of the current level is pivoted on each of its ``d`` nonbasic columns
    (except, when no tie has been met, the one leading back to its parent) and
    the bases not seen before form the next level.

    The ratio test is lexicographic (Dantzig, Orden & Wolfe 1955), but a tie in
    its first component always leaves a basic variable at zero after the pivot.
    So each level is first pivoted with the plain minimum ratio, and only when
    that produces a zero basic variable (a degenerate polytope) is the level
    redone, and the search continued, with the full lexicographic test, in
    which ratios within ``tol`` of each other tie. Ties within the tolerance can
    choose a basis that is infeasible by about the tolerance; bases infeasible
    by more are not searched further (and counted), and the basic solutions of
    such a search are solved afresh from the data at the end.
    """
    n_poly = len(mats)
    k, d = mats[0].shape
    width = d + k
    tableau = np.empty((k, n_poly, d + 1))
    tableau[:, :, :d] = np.stack(mats, axis=1)
    tableau[:, :, d] = 1.0
    basic = np.tile(np.arange(d, width), (n_poly, 1))
    poly = np.arange(n_poly)
    codes = _BasisCodes(width, n_poly)
    level = _Level(
        tableau=tableau,
        basic=basic,
        nonbasic=np.tile(np.arange(d), (n_poly, 1)),
        poly=poly,
        keys=codes.encode(basic, poly),
        back=np.full(n_poly, -1),
        leave=_min_ratio_test(tableau),
        buffer=tableau.reshape(-1),
    )
    spare = np.empty(0)
    previous = level.keys[:0]
    history = [level.keys]
    visited: _Visited | None = None
    found = [(tableau[:, :, d].copy(), basic, poly)]
    dropped = np.zeros(n_poly, dtype=np.int64)
    careful = False
    while len(level.keys):
        while True:
            if careful:
                leave, allowed = _lexicographic_ratio_test(level, tol)
            else:
                # With plain, tie-free pivots the back column surely leads to the parent.
                leave = level.leave
                allowed = np.ones((len(level.keys), d), dtype=bool)
                has_parent = np.flatnonzero(level.back >= 0)
                allowed[has_parent, level.back[has_parent]] = False
            parent, column = np.nonzero(allowed)
            row = leave[parent, column]
            candidates = codes.swap(
                level.keys[parent], level.nonbasic[parent, column], level.basic[parent, row]
            )
            if visited is None:
                fresh = codes.unseen(previous, level.keys, candidates)
            else:
                fresh, codes_seen = visited.fresh(candidates)
            following = _pivot(
                level, parent[fresh], row[fresh], column[fresh], candidates[fresh], spare
            )
            if careful or len(fresh) == 0 or following.tableau[:, :, d].min() > tol:
                break
            careful = True  # a tie: some new basic variable is zero
            # Tie-free pivots are consistent: the neighbours of a level lie in
            # the levels next to it, so "seen" needed only those two. Pivots
            # that break ties within the tolerance need not agree with each
            # other, and a full record of the bases seen is what guarantees
            # that the search ends.
            visited = _Visited(codes, np.concatenate(history))
        if visited is not None:
            visited.add(codes_seen)
        else:
            previous = level.keys
            history.append(following.keys)
        if careful:
            # Ties within the tolerance can pick a slightly infeasible basis, and
            # round-off can build on it: do not go on from a clearly infeasible one.
            feasible = following.tableau[:, :, d].min(axis=0, initial=0.0) >= -tol
            if not feasible.all():
                np.add.at(dropped, following.poly[~feasible], 1)
                following = following.subset(feasible)
        spare, level = level.buffer, following
        found.append((level.tableau[:, :, d].copy(), level.basic, level.poly))

    rhs = np.concatenate([f[0] for f in found], axis=1).T  # (N, k)
    basic = np.concatenate([f[1] for f in found])
    owner = np.concatenate([f[2] for f in found])
    if careful:
        # Ties, and pivots near the tolerance, let round-off grow along a path
        # of pivots: solve each basis afresh from the data.
        rhs = _basic_values(mats, owner, basic, rhs)
    values = np.zeros((len(rhs), width))
    np.put_along_axis(values, basic, rhs, axis=1)
    return [(values[owner == p], int(dropped[p])) for p in range(n_poly)]


def _basic_values(
    mats: Sequence[np.ndarray], owner: np.ndarray, basic: np.ndarray, rhs: np.ndarray
) -> np.ndarray:
    """Values of the basic variables, :math:`B^{-1}1`, solved from ``[C | I]``.

    ``basic``: ``(N, k)`` variables of each basis of polytope ``owner``;
    ``rhs``: the values the pivots gave, kept where a basis is singular.
    """
    k = basic.shape[1]
    columns = np.stack([np.hstack([c, np.eye(k)]) for c in mats])  # (P, k, d + k)
    systems = np.take_along_axis(columns[owner], basic[:, None, :], axis=2)  # (N, k, k)
    solvable = np.linalg.det(systems) != 0.0
    out = rhs.copy()
    out[solvable] = np.linalg.solve(systems[solvable], np.ones((int(solvable.sum()), k, 1)))[
        :, :, 0
    ]
    return out


@dataclass(frozen=True)
class _Level:
    r"""One level of the search: ``F`` bases.

    ``tableau``: ``(k, F, d + 1)``, the compact (Tucker) tableaux
    :math:`B^{-1}N` over the nonbasic columns with the right-hand side
    :math:`B^{-1}1` as last column, so that basic variables read
    :math:`x_B = \beta - T x_N`; stored row-major across bases so that the
    work per row runs over contiguous memory. ``basic``: ``(F, k)``, the
    variable of each row (``z_j`` is ``j``, slack ``s_r`` is ``d + r``).
    ``nonbasic``: ``(F, d)``, the variable of each column. ``poly``: ``(F,)``,
    the polytope. ``keys``: the bases as codes (see :class:`_BasisCodes`).
    ``back``: ``(F,)``, the column whose pivot returns to the parent (-1 for
    none). ``leave``: ``(F, d)``, the plain minimum-ratio leaving row of each
    column (:func:`_min_ratio_test`), computed while the tableau is in cache.
    """

    tableau: np.ndarray
    basic: np.ndarray
    nonbasic: np.ndarray
    poly: np.ndarray
    keys: np.ndarray
    back: np.ndarray
    leave: np.ndarray
    buffer: np.ndarray

    def subset(self, keep: np.ndarray) -> _Level:
        """The bases selected by the boolean mask ``keep``."""
        tableau = self.tableau[:, keep, :]
        return _Level(
            tableau,
            self.basic[keep],
            self.nonbasic[keep],
            self.poly[keep],
            self.keys[keep],
            self.back[keep],
            self.leave[keep],
            tableau.reshape(-1),
        )


class _BasisCodes:
    """A basis (set of variables of one polytope) as a bit mask: one ``int64`` when
    the variables and the polytope number fit in 63 bits, else rows of ``uint64``."""

    def __init__(self, width: int, n_poly: int) -> None:
        self.width = width
        self.poly_bits = max(1, (n_poly - 1).bit_length())
        self.packed = width + self.poly_bits <= 63
        if not self.packed:
            self.one_hot = pack_labels(np.eye(width + self.poly_bits, dtype=bool))

    def encode(self, basic: np.ndarray, poly: np.ndarray) -> np.ndarray:
        if self.packed:
            bits = np.bitwise_or.reduce(np.left_shift(1, basic, dtype=np.int64), axis=1)
            return bits | (poly.astype(np.int64) << self.width)
        rows = np.bitwise_or.reduce(self.one_hot[basic], axis=1)
        for bit in range(self.poly_bits):
            rows[(poly >> bit) & 1 == 1] |= self.one_hot[self.width + bit]
        return rows

    def swap(self, keys: np.ndarray, entering: np.ndarray, leaving: np.ndarray) -> np.ndarray:
        """Codes of the bases reached by swapping ``leaving`` for ``entering``."""
        if self.packed:
            flips = np.left_shift(1, entering, dtype=np.int64) | np.left_shift(
                1, leaving, dtype=np.int64
            )
            return keys ^ flips
        return keys ^ self.one_hot[entering] ^ self.one_hot[leaving]

    def unseen(self, previous: np.ndarray, current: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """Indices (increasing) of one of each distinct code in ``keys`` that is in
        neither ``previous`` nor ``current``."""
        seen = len(previous) + len(current)
        if not self.packed:
            both = np.vstack([previous, current, keys])
            _, first = np.unique(both, axis=0, return_index=True)
            return np.sort(first[first >= seen] - seen)
        codes = np.concatenate([previous, current, keys])
        total = len(codes)
        shift = max(1, (total - 1).bit_length())
        if self.width + self.poly_bits + shift <= 63:
            # Code and index sorted as one int64: much faster than a stable
            # argsort, and within equal codes the seen ones (lower index) come first.
            packed = (codes << shift) | np.arange(total, dtype=np.int64)
            packed.sort()
            values, index = packed >> shift, packed & ((1 << shift) - 1)
        else:
            index = np.argsort(codes, kind="stable")
            values = codes[index]
        starts = np.ones(total, dtype=bool)
        starts[1:] = values[1:] != values[:-1]
        first = index[starts]
        return np.sort(first[first >= seen] - seen)


class _Visited:
    """The codes of every basis reached so far (see :func:`_search`)."""

    def __init__(self, codes: _BasisCodes, first: np.ndarray) -> None:
        self.packed = codes.packed
        self.seen = np.sort(first) if self.packed else np.unique(first, axis=0)

    def fresh(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Indices (increasing) of one of each distinct code in ``keys`` not seen
        before, and those codes (sorted, for :meth:`add`)."""
        if not self.packed:
            both = np.vstack([self.seen, keys])
            distinct, first = np.unique(both, axis=0, return_index=True)
            new = first >= len(self.seen)
            return np.sort(first[new] - len(self.seen)), distinct[new]
        first = first_of_each(keys)
        values = keys[first]
        if len(self.seen):
            pos = np.minimum(np.searchsorted(self.seen, values), len(self.seen) - 1)
            new = self.seen[pos] != values
            first, values = first[new], values[new]
        return np.sort(first), values

    def add(self, codes: np.ndarray) -> None:
        """Count ``codes`` (from :meth:`fresh`) as seen."""
        if not self.packed:
            self.seen = np.unique(np.vstack([self.seen, codes]), axis=0)
        else:
            # Two sorted runs: a stable sort merges them in linear time.
            self.seen = np.sort(np.concatenate([self.seen, codes]), kind="stable")


def _row_bits(k: int) -> int:
    """Mask of the low bits that hold a row number in :func:`_min_ratio_test`."""
    return (1 << max(1, (k - 1).bit_length())) - 1


def _min_ratio_test(tableau: np.ndarray) -> np.ndarray:
    """Leaving row per (basis, entering column), shape ``(F, d)``, when every rhs > 0.

    The row minimising ``rhs_r / T_rc`` over ``T_rc > 0`` is the one maximising
    ``T_rc / rhs_r``: every real column has a positive entry (the polytope is
    bounded) and nonpositive entries score at most 0. For positive doubles the
    order of the bit patterns as ``int64`` is the numeric order, so the row
    number is written into the lowest bits and one integer maximum over rows
    gives the row (scores equal to within those bits count as a tie, and a tie
    shows up as a zero rhs after the pivot).
    """
    k = tableau.shape[0]
    low = _row_bits(k)
    with np.errstate(divide="ignore", invalid="ignore"):  # zero rhs: degenerate, unused
        score = tableau[:, :, :-1] / tableau[:, :, -1:]  # (k, F, d)
    bits = score.view(np.int64)
    bits &= ~low
    bits |= np.arange(k, dtype=np.int64)[:, None, None]
    return bits.max(axis=0) & low


def _lexicographic_ratio_test(level: _Level, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Leaving row per (basis, entering column), shape ``(F, d)``, and whether the
    column has a positive entry at all (it always has, up to round-off).

    The row minimising ``(rhs_r, (B^-1)_r) / T_rc`` lexicographically over rows
    with ``T_rc > 0`` (Dantzig, Orden & Wolfe 1955). The columns of ``B^-1`` are
    the full tableau's columns of the slack variables, rebuilt only for ties.
    """
    k, _, d1 = level.tableau.shape
    d = d1 - 1
    tableau = level.tableau[:, :, :d].transpose(1, 0, 2)  # (F, k, d)
    rhs = level.tableau[:, :, d].T  # (F, k)
    positive = tableau > tol
    safe = np.where(positive, tableau, 1.0)
    ratios = np.where(positive, rhs[:, :, None] / safe, np.inf)
    best = ratios.min(axis=1, keepdims=True)
    tied = positive & (ratios <= best + tol * np.maximum(1.0, np.abs(best)))
    leave = np.argmax(tied, axis=1)
    f, e = np.nonzero(tied.sum(axis=1) > 1)
    if len(f):
        candidates = tied[f, :, e]  # (T, k)
        pivots = safe[f, :, e]  # (T, k)
        full = np.zeros((len(f), k, d + k))  # the full tableau B^-1 [C | I]
        np.put_along_axis(full, level.nonbasic[f][:, None, :], tableau[f], axis=2)
        units = np.broadcast_to(np.eye(k), (len(f), k, k))
        np.put_along_axis(full, level.basic[f][:, None, :], units, axis=2)
        for slack in range(d, d + k):
            values = np.where(candidates, full[:, :, slack] / pivots, np.inf)
            lowest = values.min(axis=1, keepdims=True)
            candidates &= values <= lowest + tol * np.maximum(1.0, np.abs(lowest))
            if not np.any(candidates.sum(axis=1) > 1):
                break
        leave[f, e] = np.argmax(candidates, axis=1)
    return leave, np.asarray(positive.any(axis=1))


def _pivot(
    level: _Level,
    parent: np.ndarray,
    row: np.ndarray,
    column: np.ndarray,
    keys: np.ndarray,
    spare: np.ndarray,
) -> _Level:
    """The next level: basis ``parent[i]`` with its nonbasic ``column[i]`` entering at ``row[i]``.

    The Tucker pivot on the compact tableau: the pivot row is divided by the
    pivot ``p``, other rows lose their pivot-column multiple of it, the pivot
    column becomes ``-column / p`` and the pivot entry ``1 / p``. Large levels
    are done one tableau row at a time, each followed by its part of the next
    ratio test, so that each row's data is touched while it is in cache (a 3-D
    broadcast over the whole level was several times slower); small levels are
    done whole, where the number of array operations is what costs.

    The new tableaux are written into ``spare`` (a flat buffer no longer in
    use) when it is large enough: fresh memory for every level costs page
    faults that showed up as a fifth of the search time.
    """
    old = level.tableau
    k, _, width = old.shape
    d = width - 1
    n = np.arange(len(parent))
    pivot_col = old[:, parent, column]  # (k, N)
    pivot = pivot_col[row, n]
    pivot_row = old[row, parent, :] / pivot[:, None]  # (N, d + 1)
    new_col = -pivot_col / pivot
    size = pivot_col.size * width
    buffer = spare if spare.size >= size else np.empty(max(size, 2 * spare.size))
    tableau = buffer[:size].reshape(k, len(parent), width)
    if size < _ROW_BY_ROW:
        np.take(old, parent, axis=1, out=tableau)
        tableau -= pivot_col[:, :, None] * pivot_row[None, :, :]
        tableau[:, n, column] = new_col
        tableau[row, n, :] = pivot_row
        tableau[row, n, column] = 1.0 / pivot
        leave = _min_ratio_test(tableau)
    else:
        low = _row_bits(k)
        best = np.full((len(parent), d), np.iinfo(np.int64).min)
        scratch = np.empty_like(pivot_row)
        score = np.empty_like(best, dtype=float)
        bits = score.view(np.int64)
        new_row = pivot_row.copy()  # the pivot row as it ends up
        new_row[n, column] = 1.0 / pivot
        by_row = np.argsort(row, kind="stable")
        bounds = np.searchsorted(row[by_row], np.arange(k + 1))
        with np.errstate(divide="ignore", invalid="ignore"):  # zero rhs: degenerate
            for r in range(k):
                slab = tableau[r]
                np.take(old[r], parent, axis=0, out=slab)
                np.multiply(pivot_col[r][:, None], pivot_row, out=scratch)
                slab -= scratch
                slab[n, column] = new_col[r]
                mine = by_row[bounds[r] : bounds[r + 1]]
                slab[mine] = new_row[mine]
                np.divide(slab[:, :d], slab[:, d:], out=score)
                bits &= ~low
                bits |= r
                np.maximum(best, bits, out=best)
        leave = best & low
    basic = level.basic[parent]
    nonbasic = level.nonbasic[parent]
    entering = nonbasic[n, column]
    nonbasic[n, column] = basic[n, row]
    basic[n, row] = entering
    return _Level(tableau, basic, nonbasic, level.poly[parent], keys, column, leave, buffer)


_ROW_BY_ROW = 1 << 14
"""Tableau entries in a level from which :func:`_pivot` goes row by row (128 KiB
of doubles: around there whole-level temporaries stop fitting in cache)."""
