r"""The sequence form of a two-player game tree, and one equilibrium by Lemke's algorithm.

Notation (Koller, Megiddo and von Stengel 1996; von Stengel 1996)
-----------------------------------------------------------------
Under perfect recall, every node of an information set of player :math:`i` is
reached by the same *sequence* of :math:`i`'s own moves. Player 1's sequences
are the empty sequence :math:`\emptyset` and one sequence :math:`\sigma_h a`
per action :math:`a` at each of its sets :math:`h` (:math:`\sigma_h`: the
sequence leading to :math:`h`); likewise for player 2. A *realization plan*
:math:`x` gives each sequence the probability that player 1 plays all of its
moves; it is characterised by linear constraints

.. math:: x \ge 0, \quad E x = e, \qquad
          x_\emptyset = 1, \quad \sum_a x_{\sigma_h a} = x_{\sigma_h} \ (\text{each } h),

(row 0 of :math:`E` is :math:`\emptyset`, then one row per set), and likewise
:math:`F y = f` for player 2. With :math:`A_{\sigma\tau}` the sum, over
terminal nodes :math:`z` whose last own moves are :math:`\sigma` and
:math:`\tau`, of chance's probability of reaching :math:`z` times player 1's
payoff there (and :math:`B` for player 2), the expected payoffs are
:math:`x^\top A y` and :math:`x^\top B y`: the sequence form has size linear in
the tree, where the reduced strategic form can be exponential.

The equilibrium LCP
-------------------
:math:`(x, y)` is an equilibrium iff each plan is an optimal solution of its
player's linear program against the other's, i.e. iff there are :math:`u, v`
with (LP duality, KMvS 1996, Thm. 3.1)

.. math::

   E x = e,\ F y = f,\ x, y \ge 0,\quad
   a = E^\top u - A y \ge 0,\ b = F^\top v - B^\top x \ge 0,\quad
   x^\top a = 0 = y^\top b .

Writing the free :math:`u, v` as differences :math:`u^+ - u^-` of
non-negative vectors and each equation as two inequalities gives a standard
LCP :math:`w = M z + q \ge 0`, :math:`z \ge 0`, :math:`z^\top w = 0` with
:math:`z = (x, y, u^+, u^-, v^+, v^-)`, whose constraint blocks are skew
(:math:`u^\pm` pair with :math:`\pm(e - E x)`), so that
:math:`z^\top M z = -x^\top (A + B) y`.

Lemke's algorithm (Lemke 1965) adds an artificial variable :math:`z_0` with a
positive *covering vector* :math:`d` (:math:`w = M z + q + d z_0`) and follows
the path of almost complementary basic solutions from the ray
:math:`z = 0, z_0 \to \infty` until :math:`z_0` leaves the basis. **Why it
cannot fail here.** Each player's terminal payoffs are first shifted to be
negative (which changes no equilibrium), so :math:`A, B \le 0` and :math:`M`
is copositive. If the path ended on a secondary ray with direction
:math:`(z^*, z_0^*)`, copositivity and :math:`d > 0` force :math:`z_0^* = 0`
and :math:`M z^* \ge 0`, whence :math:`E x^* = 0`, so :math:`x^* = 0` (and
:math:`y^* = 0`); complementarity along the ray then gives
:math:`e^\top \delta = -z_0 \sum_k d_k |\delta_k| < 0` for
:math:`\delta = u^{+*} - u^{-*} \ne 0` while :math:`E^\top \delta \ge 0`,
which no finite forest of information sets allows (descending from the
root, some set below each negative one would be negative). So :math:`z^* = 0`,
the primary ray, which the lexicographic rule never revisits. Every path
therefore ends at an equilibrium; it may be long, so it is capped.

Degenerate games (trees nearly always are) are handled by the lexicographic
minimum ratio test over ``[rhs | basis inverse]``, preferring :math:`z_0`
whenever it can leave. Arithmetic is floating point with normalised pivots
(the one tolerance :data:`~simulator.tolerance.RTOL` decides ties and zeros)
or exact integer (fraction-free) pivoting for games with rational payoffs
(Edmonds 1967; the entries stay integers, the tableau is :math:`\det B\,
B^{-1}[\dots]`).

From plans to behaviour: :math:`\beta_h(a) = x_{\sigma_h a} / x_{\sigma_h}`
where :math:`x_{\sigma_h} > 0`. At a set its own player's plan never reaches
(:math:`x_{\sigma_h} = 0`) behaviour does not affect any payoff; by default it
is a best response to the rest of the profile (``unreached="best-response"``),
or uniform (``unreached="uniform"``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse

from simulator.extensive.behavior import _best_response_actions, _layout, verify_behavior
from simulator.extensive.results import BehaviorEquilibrium, SequentialResult
from simulator.extensive.tree import ExtensiveGame
from simulator.tolerance import RTOL

SequenceId = tuple[int, int] | None
"""A sequence named by its last move ``(information set, action)``; ``None`` is the empty one."""

Arithmetic = Literal["auto", "exact", "float"]
Unreached = Literal["best-response", "uniform"]

METHOD = "sequence-form"
SCOPE = "Nash equilibria in behaviour strategies, one per Lemke path (not all equilibria)"


@dataclass(frozen=True, eq=False)
class SequenceForm:
    """The sequence form of a two-player perfect-recall tree (module notes).

    ``sequences[i][s]``: player ``i``'s sequence number ``s`` as its last move
    ``(information set, action)`` (global set index), ``None`` for the empty
    sequence (always number 0). ``set_rows[i]``: player ``i``'s sets, in the
    order of the rows of its constraint matrix after the first.
    ``parent[h]``: the number of the sequence that leads to set ``h`` within
    its player's sequences; ``index[(h, a)]`` the number of sequence
    ``(h, a)``. ``terminal_sequences[i, t]``: player ``i``'s last sequence
    before terminal ``t`` (``game.terminals[t]``); ``terminal_chance[t]``:
    chance's probability of reaching it (``exact_terminal_chance`` as
    Fractions when every chance probability is rational).

    The matrices are derived on first use: ``constraints`` (:math:`E`, :math:`F`,
    sparse), ``rhs`` (:math:`e`, :math:`f`), ``payoffs`` (:math:`A`,
    :math:`B`, sparse, both of shape ``(len(sequences[0]), len(sequences[1]))``,
    chance folded in) and ``exact_payoffs`` (``{(s, t): Fraction}`` per
    player, or ``None`` for a game with float numbers).
    """

    game: ExtensiveGame
    sequences: tuple[tuple[SequenceId, ...], tuple[SequenceId, ...]]
    set_rows: tuple[tuple[int, ...], tuple[int, ...]]
    parent: Mapping[int, int]
    index: Mapping[tuple[int, int], int]
    terminal_sequences: np.ndarray
    terminal_chance: np.ndarray
    exact_terminal_chance: tuple[Fraction, ...] | None

    @cached_property
    def constraints(self) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """:math:`E` and :math:`F`: row 0 for the empty sequence, then one per set."""
        out = []
        for i in (0, 1):
            rows, cols, vals = [0], [0], [1]
            for r, h in enumerate(self.set_rows[i], start=1):
                rows.append(r)
                cols.append(self.parent[h])
                vals.append(-1)
                for a in range(len(self.game.infosets[h].actions)):
                    rows.append(r)
                    cols.append(self.index[(h, a)])
                    vals.append(1)
            shape = (len(self.set_rows[i]) + 1, len(self.sequences[i]))
            out.append(sparse.csr_matrix((vals, (rows, cols)), shape=shape, dtype=float))
        return out[0], out[1]

    @cached_property
    def rhs(self) -> tuple[np.ndarray, np.ndarray]:
        """:math:`e` and :math:`f`: 1 for the empty sequence, 0 for every set."""
        out = []
        for i in (0, 1):
            e = np.zeros(len(self.set_rows[i]) + 1)
            e[0] = 1.0
            out.append(e)
        return out[0], out[1]

    @cached_property
    def payoffs(self) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """:math:`A` and :math:`B` (rows: player 0's sequences, columns: player 1's)."""
        rows, cols = self.terminal_sequences
        pay = self.game.terminal_payoffs
        return (
            sparse.csr_matrix(
                (self.terminal_chance * pay[:, 0], (rows, cols)), shape=self.shape, dtype=float
            ),
            sparse.csr_matrix(
                (self.terminal_chance * pay[:, 1], (rows, cols)), shape=self.shape, dtype=float
            ),
        )

    @cached_property
    def exact_payoffs(self) -> tuple[dict[tuple[int, int], Fraction], ...] | None:
        """:math:`A` and :math:`B` as ``{(s, t): Fraction}`` (nonzero entries), if rational."""
        chance = self.exact_terminal_chance
        pay = self.game.exact_terminal_payoffs
        if chance is None or pay is None:
            return None
        tables: tuple[dict[tuple[int, int], Fraction], ...] = ({}, {})
        rows, cols = self.terminal_sequences.tolist()
        for t in range(len(pay)):
            key = (rows[t], cols[t])
            for k in (0, 1):
                tables[k][key] = tables[k].get(key, Fraction(0)) + chance[t] * pay[t][k]
        return tables

    @property
    def shape(self) -> tuple[int, int]:
        """Number of sequences of each player."""
        return len(self.sequences[0]), len(self.sequences[1])

    def realization_plan(self, behavior: Sequence[npt.ArrayLike], player: int) -> np.ndarray:
        """Player ``player``'s realization plan of a behaviour profile (one entry per sequence)."""
        checked = self.game.check_behavior([np.asarray(p, dtype=float) for p in behavior])
        plan = np.zeros(len(self.sequences[player]))
        plan[0] = 1.0
        for s, seq in enumerate(self.sequences[player]):
            if seq is not None:  # parents come first: sets are numbered in preorder
                h, a = seq
                plan[s] = plan[self.parent[h]] * checked[h][a]
        return plan

    def expected_payoffs(self, x: npt.ArrayLike, y: npt.ArrayLike) -> np.ndarray:
        """:math:`(x^\\top A y, x^\\top B y)` for realization plans ``x``, ``y``."""
        xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        return np.array([xs @ (self.payoffs[k] @ ys) for k in (0, 1)])

    def to_behavior(
        self, plans: Sequence[Sequence[Any]], *, unreached: Unreached = "best-response"
    ) -> tuple[tuple[np.ndarray, ...], tuple[tuple[Fraction, ...], ...] | None]:
        """A behaviour profile from realization plans ``plans = (x, y)``.

        :math:`\\beta_h(a) = x_{\\sigma_h a} / x_{\\sigma_h}` where the player's
        own plan reaches ``h``; elsewhere ``unreached`` decides (module notes).
        Plans of :class:`~fractions.Fraction` give the exact profile as well
        (second item; ``None`` for float plans).
        """
        game = self.game
        exact = all(isinstance(v, Fraction | int) for plan in plans for v in plan)
        probs: list[list[Any]] = []
        own_unreached: list[int] = []
        for h in game.infosets:
            if h.player is None:
                probs.append(list(h.exact_probabilities or h.probabilities or ()))
                continue
            plan = plans[h.player]
            above = plan[self.parent[h.index]]
            k = len(h.actions)
            if (above > 0) if exact else (float(above) > RTOL):
                row = [plan[self.index[(h.index, a)]] for a in range(k)]
                total = sum(row)  # equals `above` up to round-off
                probs.append(
                    [Fraction(v) / total if exact else float(v) / float(total) for v in row]
                )
            else:
                own_unreached.append(h.index)
                probs.append([Fraction(1, k) if exact else 1.0 / k] * k)
        if exact and any(h.exact_probabilities is None for h in game.chance_infosets):
            exact = False
        floats = [np.clip(np.array([float(v) for v in p]), 0.0, None) for p in probs]
        floats = [p / p.sum() for p in floats]
        if unreached == "best-response" and own_unreached:
            best = {
                h: a
                for player in (0, 1)
                for h, a in _best_response_actions(game, floats, player).items()
            }
            for s in own_unreached:
                k = len(game.infosets[s].actions)
                choice = [Fraction(int(a == best[s])) for a in range(k)]
                probs[s] = choice
                floats[s] = np.array([float(v) for v in choice])
        exact_profile = tuple(tuple(Fraction(v) for v in p) for p in probs) if exact else None
        return tuple(floats), exact_profile


def sequence_form(game: ExtensiveGame) -> SequenceForm:
    """The sequence form of ``game`` (module notes; KMvS 1996, Sec. 3).

    One pass over the tree in preorder finds each terminal's last sequence of
    each player and chance's probability of reaching it. Raises
    ``ValueError`` unless the game has two players and perfect recall.
    """
    _check_game(game, "sequence_form")
    sequences: list[list[SequenceId]] = [[None], [None]]
    index: dict[tuple[int, int], int] = {}
    for i in (0, 1):
        for h in game.player_infosets(i):
            for a in range(len(h.actions)):
                index[(h.index, a)] = len(sequences[i])
                sequences[i].append((h.index, a))
    exact_ok = all(h.exact_probabilities is not None for h in game.chance_infosets)
    n_nodes = len(game.nodes)
    last = [[0] * n_nodes, [0] * n_nodes]
    chance = [1.0] * n_nodes
    chance_exact = [Fraction(1)] * n_nodes if exact_ok else None
    parent: dict[int, int] = {}
    for node in game.nodes:  # preorder: a node's parent is done before it
        if node.parent is not None:
            up, action = node.parent, node.parent_action
            assert action is not None
            h = game.infosets[game.nodes[up].infoset]  # type: ignore[index]
            last[0][node.index] = last[0][up]
            last[1][node.index] = last[1][up]
            chance[node.index] = chance[up]
            if h.player is not None:
                last[h.player][node.index] = index[(h.index, action)]
            else:
                assert h.probabilities is not None
                chance[node.index] *= h.probabilities[action]
            if chance_exact is not None:
                chance_exact[node.index] = chance_exact[up]
                if h.exact_probabilities is not None:
                    chance_exact[node.index] *= h.exact_probabilities[action]
        if node.infoset is not None:
            h = game.infosets[node.infoset]
            if h.player is not None and h.index not in parent:
                parent[h.index] = last[h.player][node.index]
    terminals = list(game.terminals)
    return SequenceForm(
        game=game,
        sequences=(tuple(sequences[0]), tuple(sequences[1])),
        set_rows=(
            tuple(h.index for h in game.player_infosets(0)),
            tuple(h.index for h in game.player_infosets(1)),
        ),
        parent=MappingProxyType(parent),
        index=MappingProxyType(index),
        terminal_sequences=np.array(
            [[last[0][z] for z in terminals], [last[1][z] for z in terminals]], dtype=np.intp
        ).reshape(2, len(terminals)),
        terminal_chance=np.array([chance[z] for z in terminals]),
        exact_terminal_chance=(
            None if chance_exact is None else tuple(chance_exact[z] for z in terminals)
        ),
    )


def _check_game(game: ExtensiveGame, caller: str) -> None:
    if game.n_players != 2:
        raise ValueError(
            f"{caller}: the sequence form here is for two-player games; this game has "
            f"{game.n_players} players (use the reduced strategic form and an n-player solver)"
        )
    if not _layout(game).perfect_recall:
        reasons = "; ".join(game.recall_violations())
        raise ValueError(
            f"{caller}: the sequence form needs perfect recall, which this game lacks "
            f"({reasons}); use the reduced strategic form instead"
        )


# ----------------------------------------------------------------- the LCP
@dataclass(frozen=True)
class _Lcp:
    """``w = M z + q`` with ``z = (x, y, u+, u-, v+, v-)``; ``n1``, ``n2`` sequence counts."""

    matrix: np.ndarray
    q: np.ndarray
    n1: int
    n2: int


def _lcp(form: SequenceForm, exact: bool) -> _Lcp:
    """The LCP of the module notes, with payoffs shifted negative.

    Float: each player's terminal payoffs are mapped onto ``[-2, -1]``
    (affinely; no equilibrium changes). Exact: shifted to ``u - max - 1`` and
    each player's block scaled by a common denominator, so every entry is an
    integer (object array of Python ints).
    """
    n1, n2 = form.shape
    k1, k2 = len(form.set_rows[0]) + 1, len(form.set_rows[1]) + 1
    size = n1 + n2 + 2 * k1 + 2 * k2
    ox, oy, ou, ov = 0, n1, n1 + n2, n1 + n2 + 2 * k1
    matrix = np.zeros((size, size))
    # The constraint blocks, skew: w_x gets E'(u+ - u-), w_u+ = e - E x, w_u- = E x - e.
    for offset_x, offset_u, player in ((ox, ou, 0), (oy, ov, 1)):
        k = len(form.set_rows[player]) + 1
        for r, h in enumerate((None, *form.set_rows[player])):
            entries = (
                [(0, 1)]
                if h is None
                else [(form.parent[h], -1)]
                + [(form.index[(h, a)], 1) for a in range(len(form.game.infosets[h].actions))]
            )
            for s, value in entries:
                matrix[offset_x + s, offset_u + r] = value
                matrix[offset_x + s, offset_u + k + r] = -value
                matrix[offset_u + r, offset_x + s] = -value
                matrix[offset_u + k + r, offset_x + s] = value
    q = np.zeros(size)
    q[[ou, ov]] = 1.0
    q[[ou + k1, ov + k2]] = -1.0
    shifted = _shifted_payoffs(form, exact)
    if exact:
        matrix = matrix.astype(int).astype(object)
        q = q.astype(int).astype(object)
    matrix[ox : ox + n1, oy : oy + n2] = -shifted[0]
    matrix[oy : oy + n2, ox : ox + n1] = -shifted[1].T
    return _Lcp(matrix, q, n1, n2)


def _shifted_payoffs(form: SequenceForm, exact: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(A', B')``: the sequence-form payoffs of the tree with negative terminal payoffs."""
    game = form.game
    rows, cols = form.terminal_sequences
    out = []
    for k in (0, 1):
        if exact:
            assert game.exact_terminal_payoffs is not None
            assert form.exact_terminal_chance is not None
            column = [row[k] for row in game.exact_terminal_payoffs]
            top = max(column)
            entries: dict[tuple[int, int], Fraction] = {}
            for t, (s, u) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
                value = form.exact_terminal_chance[t] * (column[t] - top - 1)
                entries[(s, u)] = entries.get((s, u), Fraction(0)) + value
            scale = math.lcm(*(v.denominator for v in entries.values())) if entries else 1
            block = np.zeros(form.shape, dtype=int).astype(object)
            for (s, u), value in entries.items():
                block[s, u] = int(value * scale)
            out.append(block)
        else:
            pay = game.terminal_payoffs[:, k]
            spread = float(pay.max() - pay.min()) or 1.0
            unit = (pay - pay.max()) / spread - 1.0
            block = np.zeros(form.shape)
            np.add.at(block, (rows, cols), form.terminal_chance * unit)
            out.append(block)
    return out[0], out[1]


@dataclass(frozen=True)
class _Path:
    """The end of one Lemke path: ``z`` (the LCP solution, or ``None``) and how it ended."""

    z: list[Any] | None
    pivots: int
    status: Literal["solved", "capped", "ray"]


def _lemke(lcp: _Lcp, cover: Sequence[int], max_pivots: int, exact: bool) -> _Path:
    """Lemke's algorithm on ``w = M z + q + d z0`` with covering vector ``d = cover`` (> 0).

    The variables are ``w`` (ids ``0..N-1``), ``z`` (``N..2N-1``) and ``z0``
    (``2N``); the basis starts as ``w``. The first pivot brings in ``z0`` at
    the row that makes every ``w`` feasible (lexicographically smallest
    ``[q | I] / d``); each later pivot brings in the complement of the
    variable that just left, until ``z0`` leaves (see :class:`_Tableau`).
    """
    size = len(lcp.q)
    z0 = 2 * size
    tab = _Tableau(lcp, cover, exact)
    # First pivot: z0 enters where q_i / d_i is lexicographically smallest.
    row = tab.leaving_row(np.arange(size), -tab.column(z0), prefer=None)
    z0_row = row  # z0 stays in this row until it leaves, which ends the path
    entering = z0
    pivots = 0
    while True:
        leaving = tab.pivot(row, entering)
        pivots += 1
        if leaving == z0:
            break
        entering = leaving + size if leaving < size else leaving - size
        if pivots >= max_pivots:
            return _Path(None, pivots, "capped")
        column = tab.column(entering)
        if exact:
            usable = np.flatnonzero(np.array([v > 0 for v in column], dtype=bool))
        else:
            scale = max(1.0, float(np.abs(column).max()))
            usable = np.flatnonzero(column > RTOL * scale)
        if usable.size == 0:
            return _Path(None, pivots, "ray")
        row = tab.leaving_row(usable, column, prefer=z0_row)
    return _Path(tab.solution(), pivots, "solved")


class _Tableau:
    """Lemke's tableau in condensed (dictionary) form, float or fraction-free integer.

    ``t`` has one row per basic variable and one column per *nonbasic*
    variable, then the right-hand side: the columns of basic variables are
    unit vectors and are not stored, which halves the work of a pivot. With
    ``det`` the determinant of the basis (1 in floats, whose pivots are
    normalised), row ``i`` reads ``det * basis[i] + sum_c t[i, c] *
    nonbasic[c] = t[i, -1]``. The basis inverse (times ``det``), which the
    lexicographic rule compares, is the stored column of each nonbasic ``w``
    and a unit column for each basic one.

    Integer pivoting (Edmonds 1967; as in Avis's lrs and von Stengel's Lemke
    codes) keeps every entry an integer: rows other than the pivot row become
    ``(p t_i - t_ic t_r) / det``, divisions that are exact.
    """

    def __init__(self, lcp: _Lcp, cover: Sequence[int], exact: bool) -> None:
        n = len(lcp.q)
        self.n = n
        self.exact = exact
        if exact:
            t = np.empty((n, n + 2), dtype=object)
            t[:, :n] = -lcp.matrix
            t[:, n] = [-int(c) for c in cover]
            t[:, n + 1] = lcp.q
        else:
            t = np.empty((n, n + 2))
            t[:, :n] = -lcp.matrix
            t[:, n] = -np.asarray(cover, dtype=float)
            t[:, n + 1] = lcp.q
        self.t = t
        self.det: Any = 1
        self.basis = np.arange(n)  # the variable basic in each row: w_i in row i
        self.nonbasic = np.arange(n, 2 * n + 1)  # the variable of each column: z, then z0
        self.row_of = np.full(2 * n + 1, -1)
        self.row_of[:n] = np.arange(n)
        self.col_of = np.full(2 * n + 1, -1)
        self.col_of[n:] = np.arange(n + 1)

    def column(self, var: int) -> np.ndarray:
        """The tableau column of nonbasic variable ``var``."""
        return np.asarray(self.t[:, int(self.col_of[var])])

    def pivot(self, row: int, var: int) -> int:
        """Bring ``var`` into the basis in ``row``; returns the variable that left."""
        t = self.t
        c = int(self.col_of[var])
        leaving = int(self.basis[row])
        p = t[row, c]
        a = t[:, c].copy()
        if self.exact:
            pivot_row = t[row].copy()
            t[...] = (t * p - np.multiply.outer(a, pivot_row)) // self.det
            t[row] = pivot_row
            t[:, c] = -a
            t[row, c] = self.det
            self.det = p
            if p < 0:  # keep the determinant positive so that signs read directly
                t *= -1
                self.det = -p
        else:
            pivot_row = t[row] / p
            t -= np.outer(a, pivot_row)
            t[row] = pivot_row
            t[:, c] = -a / p
            t[row, c] = 1.0 / p
        self.basis[row] = var
        self.row_of[var] = row
        self.col_of[var] = -1
        self.nonbasic[c] = leaving
        self.col_of[leaving] = c
        self.row_of[leaving] = -1
        return leaving

    def inverse_rows(self, rows: np.ndarray) -> np.ndarray:
        """``det`` times rows ``rows`` of the basis inverse, shape ``(len(rows), n)``."""
        n = self.n
        out = np.zeros((rows.size, n), dtype=object if self.exact else float)
        free = np.flatnonzero(self.col_of[:n] >= 0)  # nonbasic w: their stored columns
        out[:, free] = self.t[np.ix_(rows, self.col_of[free])]
        basic = self.basis[rows]
        own = basic < n  # a row whose basic variable is some w_j has det in column j
        out[np.flatnonzero(own), basic[own]] = self.det
        return out

    def leaving_row(self, candidates: np.ndarray, column: np.ndarray, prefer: int | None) -> int:
        """The row among ``candidates`` with the lexicographically least ``[rhs | B^-1] / column``.

        ``column`` is positive on ``candidates``. ``prefer`` (the row of
        ``z0``) wins any tie in the first component, so the path stops as soon
        as ``z0`` can leave. Later components are compared only where the
        tied rows differ.
        """
        rhs = self.t[candidates, self.n + 1]
        if self.exact:
            return self._leaving_row_exact(candidates, column, rhs, prefer)
        ratios = rhs / column[candidates]
        best = float(ratios.min())
        near = candidates[ratios <= best + RTOL * max(1.0, abs(best))]
        if near.size == 1:
            return int(near[0])
        if prefer is not None and prefer in near:
            return prefer
        lex = self.inverse_rows(near) / column[near, None]
        tol = RTOL * max(1.0, float(np.abs(lex).max()))
        varying = np.flatnonzero(lex.max(axis=0) - lex.min(axis=0) > tol)
        if varying.size == 0:  # cannot happen: rows of a basis inverse are independent
            return int(near[0])
        # One sort instead of a round per column: values on a grid of the tolerance, so that
        # round-off does not decide; np.lexsort takes its primary key last.
        keys = np.round(lex[:, varying] / tol)
        return int(near[np.lexsort(keys.T[::-1])[0]])

    def _leaving_row_exact(
        self, candidates: np.ndarray, column: np.ndarray, rhs: np.ndarray, prefer: int | None
    ) -> int:
        near = [int(r) for r in candidates]
        ratios = {r: Fraction(v, column[r]) for r, v in zip(near, rhs.tolist(), strict=True)}
        best = min(ratios.values())
        near = [r for r in near if ratios[r] == best]
        if len(near) == 1:
            return near[0]
        if prefer is not None and prefer in near:
            return prefer
        lex = self.inverse_rows(np.array(near))
        for j in range(self.n):
            entries = lex[:, j].tolist()
            if not any(entries):
                continue  # all zero: every ratio is 0, no row is ahead
            ratio = [Fraction(v, column[r]) for r, v in zip(near, entries, strict=True)]
            best = min(ratio)
            keep = [k for k, v in enumerate(ratio) if v == best]
            near = [near[k] for k in keep]
            lex = lex[keep]
            if len(near) == 1:
                break
        return near[0]

    def solution(self) -> list[Any]:
        """The values of ``z`` (Fractions when exact): basic ones from the rhs, others 0."""
        n = self.n
        values: list[Any] = [0] * n
        for row, var in enumerate(self.basis.tolist()):
            if n <= var < 2 * n:
                rhs = self.t[row, n + 1]
                values[var - n] = Fraction(rhs, self.det) if self.exact else float(rhs)
        return values


# ------------------------------------------------------------------ the solver
EXACT_FALLBACK_SIZE = 120
"""Largest LCP (rows) that ``arithmetic="auto"`` re-pivots exactly when floats fall short.

Integer pivoting runs on Python integers, about a hundred times slower than
floats, so it is kept for the games where it is cheap.
"""


def default_max_pivots(size: int) -> int:
    """The default cap on pivots per Lemke path for an LCP of ``size`` rows: ``50 size + 100``."""
    return 50 * size + 100


def sequence_form_lemke(
    game: ExtensiveGame,
    *,
    arithmetic: Arithmetic = "auto",
    restarts: int = 0,
    seed: int = 0,
    max_pivots: int | None = None,
    unreached: Unreached = "best-response",
) -> SequentialResult:
    """Equilibria of a two-player perfect-recall tree by Lemke's algorithm on the sequence form.

    One path with the covering vector of all ones (Lemke 1965; KMvS 1996),
    plus ``restarts`` paths with covering vectors of random positive integers
    (from ``seed``), which may end at other equilibria; duplicates are dropped.

    ``arithmetic``: ``"float"`` pivots in floating point; ``"exact"`` in
    integers (games with rational payoffs and chance probabilities only);
    ``"auto"`` (default) pivots in floats and, on a rational game whose LCP
    has at most :data:`EXACT_FALLBACK_SIZE` rows, redoes a path exactly when
    its float end fails or is not recovered as an exact equilibrium by the
    verifier. ``max_pivots`` caps each path (default
    :func:`default_max_pivots`); a capped path is reported in the notes.
    ``unreached``: behaviour at sets a player's own plan never reaches
    (module notes).

    Every equilibrium is verified (:func:`~simulator.extensive.behavior.verify_behavior`),
    with exact probabilities when the game is rational and they were found.
    Raises ``ValueError`` unless the game has two players and perfect recall.
    """
    start = time.perf_counter()
    _check_game(game, "sequence_form_lemke")
    if arithmetic not in ("auto", "exact", "float"):
        raise ValueError(
            f"sequence_form_lemke: arithmetic must be 'auto', 'exact' or 'float', "
            f"got {arithmetic!r}"
        )
    if unreached not in ("best-response", "uniform"):
        raise ValueError(
            f"sequence_form_lemke: unreached must be 'best-response' or 'uniform', "
            f"got {unreached!r}"
        )
    if restarts < 0:
        raise ValueError(f"sequence_form_lemke: restarts must be >= 0, got {restarts}")
    rational = game.exact_terminal_payoffs is not None and all(
        h.exact_probabilities is not None for h in game.chance_infosets
    )
    if arithmetic == "exact" and not rational:
        raise ValueError(
            "sequence_form_lemke: arithmetic='exact' needs rational payoffs and chance "
            "probabilities; this game has floats"
        )
    form = sequence_form(game)
    n1, n2 = form.shape
    size = n1 + n2 + 2 * (len(form.set_rows[0]) + 1) + 2 * (len(form.set_rows[1]) + 1)
    cap = default_max_pivots(size) if max_pivots is None else int(max_pivots)
    fallback = arithmetic == "auto" and rational and size <= EXACT_FALLBACK_SIZE
    rng = np.random.default_rng(seed)
    covers = [[1] * size] + [[int(v) for v in rng.integers(1, 10, size)] for _ in range(restarts)]
    lcps: dict[bool, _Lcp] = {}
    found: list[BehaviorEquilibrium] = []
    seen: set[tuple[float, ...]] = set()
    rejected = 0
    notes: list[str] = []
    pivot_counts: list[int] = []
    for k, cover in enumerate(covers):
        exact = arithmetic == "exact"
        path = _solve_path(form, lcps, cover, cap, exact)
        eq = _verified_end(form, path, unreached)
        if fallback and (eq is None or eq.exact is None):
            path = _solve_path(form, lcps, cover, cap, True)
            eq = _verified_end(form, path, unreached)
            exact = True
        pivot_counts.append(path.pivots)
        if path.z is None:
            reason = (
                f"reached the cap of {cap} pivots"
                if path.status == "capped"
                else "ended on a ray (a numerical failure: the theory rules it out)"
            )
            notes.append(f"path {k}: {reason}; no equilibrium from it")
            continue
        if eq is None:
            rejected += 1
            notes.append(f"path {k}: its end failed verification and was dropped")
            continue
        if eq.key() not in seen:
            seen.add(eq.key())
            found.append(eq)
        if exact and arithmetic == "auto":
            notes.append(f"path {k}: pivoted exactly (floating point fell short)")
    notes.append(f"LCP of {size} rows ({n1} + {n2} sequences); pivots per path: {pivot_counts}")
    options = MappingProxyType(
        {
            "arithmetic": arithmetic,
            "restarts": restarts,
            "seed": seed,
            "max_pivots": cap,
            "unreached": unreached,
        }
    )
    return SequentialResult(
        method=METHOD,
        game=game,
        equilibria=tuple(found),
        complete=False,
        scope=SCOPE,
        rejected=rejected,
        notes=tuple(notes),
        options=options,
        elapsed=time.perf_counter() - start,
    )


def _verified_end(
    form: SequenceForm, path: _Path, unreached: Unreached
) -> BehaviorEquilibrium | None:
    """The verified equilibrium at the end of ``path``, or ``None``."""
    if path.z is None:
        return None
    n1, n2 = form.shape
    floats, exact = form.to_behavior((path.z[:n1], path.z[n1 : n1 + n2]), unreached=unreached)
    return verify_behavior(form.game, floats, "nash", exact=exact)


def _solve_path(
    form: SequenceForm, lcps: dict[bool, _Lcp], cover: Sequence[int], cap: int, exact: bool
) -> _Path:
    if exact not in lcps:
        lcps[exact] = _lcp(form, exact)
    lcp = lcps[exact]
    path = _lemke(lcp, cover, cap, exact)
    if path.z is None or exact:
        return path
    return _Path(_clip(path.z), path.pivots, path.status)


def _clip(z: list[Any]) -> list[Any]:
    """Clip the float solution's round-off: tiny and negative entries become 0."""
    values = np.array(z, dtype=float)
    values[values < RTOL] = 0.0
    return values.tolist()
