r"""Best-response polytopes of a bimatrix game: the parts both extreme-equilibrium
solvers share.

Notation (von Stengel 2007, "Equilibrium computation for two-player games in
strategic and extensive form", Sec. 3; Avis, Rosenberg, Savani & von Stengel 2010,
"Enumeration of Nash equilibria for two-player games", Sec. 2). The row player
has :math:`m` strategies, the column player :math:`n`; :math:`A` and :math:`B`
are their ``(m, n)`` payoff matrices (oriented as in :mod:`simulator.game`),
shifted so that every entry is positive (:func:`positive_bimatrix`). The
best-response polytopes are

.. math::

    P = \{x \in \mathbb{R}^m : x \ge 0,\ B^\top x \le 1\}, \qquad
    Q = \{y \in \mathbb{R}^n : A y \le 1,\ y \ge 0\}.

Both have the form :math:`\{z \ge 0 : C z \le 1\}` with :math:`C > 0`
(``C = B.T`` for :math:`P`, ``C = A`` for :math:`Q`). A point has *labels*
:math:`0, \dots, m+n-1`: :math:`x \in P` has label :math:`i` when
:math:`x_i = 0` and label :math:`m + j` when :math:`(B^\top x)_j = 1` (column
:math:`j` is a best response to :math:`x`); :math:`y \in Q` has label :math:`i`
when :math:`(A y)_i = 1` and label :math:`m + j` when :math:`y_j = 0`. A pair
:math:`(x, y) \ne (0, 0)` whose labels cover all :math:`m + n` labels is, after
normalising to sum 1, a Nash equilibrium, and the *extreme* equilibria are
exactly the completely labelled pairs of vertices. This holds for degenerate
games too, provided labels are read off each vertex's coordinates (not off one
basis or one facet of a convex hull, which may carry only some of them).

The game is *degenerate* iff some vertex of :math:`P` or :math:`Q` has more
labels than the dimension (:math:`m` resp. :math:`n`), equivalently some mixed
strategy with support size :math:`k` has more than :math:`k` pure best responses.

Labels are stored as bit masks: bit ``l`` of word ``l // 64`` of a row of a
``uint64`` array, so that matching vertex pairs is a vectorised OR.

"Zero" and "tight" use one tolerance, :meth:`Polytope.tolerance`: the payoffs
are shifted and divided by the game's payoff spread (so entries lie in [1, 2]),
which makes slack :math:`1 - (Cz)_i` a payoff difference in units of that spread
and :math:`z_i` a probability divided by a payoff in [1, 2]; both are compared
with the game's relative tolerance :data:`simulator.tolerance.RTOL`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from simulator.equilibrium import verify_all
from simulator.game import StrategicGame
from simulator.results import SolverResult

SCOPE = "all extreme equilibria"
DEGENERATE_NOTE = (
    "degenerate game: the equilibrium set may contain continua; the extreme equilibria "
    "listed are complete and every equilibrium is a convex combination of extreme ones "
    "within a clique"
)

_WORD = 64


def two_player_bimatrix(game: StrategicGame, function: str) -> tuple[np.ndarray, np.ndarray]:
    """``(A, B)`` of a two-player game; ``ValueError`` naming ``function`` otherwise."""
    if game.n_players != 2:
        raise ValueError(f"{function}: needs a two-player game, got {game.n_players} players")
    return game.bimatrix()


def positive_bimatrix(game: StrategicGame) -> tuple[np.ndarray, np.ndarray]:
    """``(A, B)`` shifted and scaled by the game's payoff spread into [1, 2].

    A positive affine map of a player's payoffs leaves the equilibria unchanged;
    dividing both players by the same spread keeps "tight within tolerance" the
    same test as the verifier's regret tolerance.
    """
    a, b = game.bimatrix()
    spread = game.tolerance.payoff / game.tolerance.rtol
    return (a - a.min()) / spread + 1.0, (b - b.min()) / spread + 1.0


@dataclass(frozen=True)
class Polytope:
    r"""The vertices of :math:`\{z \in \mathbb{R}^d : z \ge 0, Cz \le 1\}` other than 0.

    ``points``: the distinct nonzero vertices, shape ``(V, d)``. ``labels``:
    ``(V, d + k)`` booleans in the polytope's own order: ``labels[:, i]`` for
    ``z_i = 0`` (``i < d``), ``labels[:, d + r]`` for ``(Cz)_r = 1``.
    """

    points: np.ndarray
    labels: np.ndarray

    @property
    def dimension(self) -> int:
        return int(self.points.shape[1])

    @property
    def degenerate(self) -> bool:
        """Whether some vertex has more labels than the dimension."""
        return bool(np.any(self.labels.sum(axis=1) > self.dimension))


def label_tolerance(game: StrategicGame) -> float:
    r"""Tolerance for "zero" and "tight" on the polytopes of :func:`positive_bimatrix`.

    Half the relative tolerance: a point of :math:`P` is a probability vector
    divided by its payoff :math:`v \in [1, 2]`, so a slack below ``rtol / 2``
    is a regret below ``rtol`` times the spread, which the verifier accepts.
    """
    return game.tolerance.rtol / 2


def polytope_from_values(values: np.ndarray, d: int, tol: float) -> Polytope:
    """Label candidate vertices and merge duplicates.

    ``values``: shape ``(N, d + k)``, each row a vertex ``z`` followed by its
    slacks ``1 - Cz``; vertices may repeat (one per basis of a degenerate vertex)
    and may include 0, which is dropped. A label is a value within ``tol`` of 0.
    A vertex is the only point of the polytope with its set of tight
    constraints, so vertices are merged by their label sets.
    """
    labels = values <= tol
    nonzero = ~labels[:, :d].all(axis=1)
    labels = labels[nonzero]
    first = unique_rows(pack_labels(labels))
    points = np.where(labels[first, :d], 0.0, values[nonzero][first, :d])
    return Polytope(points, labels[first])


def polytope_from_points(constraint: np.ndarray, points: np.ndarray, tol: float) -> Polytope:
    r""":func:`polytope_from_values` for vertices ``points`` (shape ``(N, d)``) of
    :math:`\{z \ge 0: Cz \le 1\}` with ``C = constraint`` of shape ``(k, d)``."""
    points = np.asarray(points, dtype=float).reshape(-1, constraint.shape[1])
    return polytope_from_values(
        np.hstack([points, 1.0 - points @ constraint.T]), constraint.shape[1], tol
    )


def pack_labels(labels: np.ndarray) -> np.ndarray:
    """Boolean label matrix ``(N, L)`` as bit masks ``(N, ceil(L / 64))`` of uint64."""
    n_rows, n_labels = labels.shape
    n_words = max(1, -(-n_labels // _WORD))
    padded = np.zeros((n_rows, n_words * _WORD), dtype=bool)
    padded[:, :n_labels] = labels
    packed = np.packbits(padded, axis=1, bitorder="little")
    return np.ascontiguousarray(packed).view("<u8").astype(np.uint64, copy=False)


def unique_rows(words: np.ndarray) -> np.ndarray:
    """Index of one row per distinct row of a ``(N, W)`` uint64 array, in increasing order."""
    if words.shape[1] == 1:
        first = first_of_each(words[:, 0])
    else:
        _, first = np.unique(words, axis=0, return_index=True)
    return np.sort(first)


def first_of_each(keys: np.ndarray) -> np.ndarray:
    """Index of one entry per distinct value of the 1-D integer array ``keys``,
    in increasing order of the values.

    When value and index fit in 63 bits together they are sorted as one
    ``int64`` (value in the high bits), which is several times faster than
    ``np.unique(..., return_index=True)``'s stable argsort.
    """
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    shift = max(1, (n - 1).bit_length())
    top = int(keys.max())
    if int(keys.min()) >= 0 and top.bit_length() + shift <= 63:
        packed = (keys.astype(np.int64) << shift) | np.arange(n, dtype=np.int64)
        packed.sort()
        values = packed >> shift
        index = packed & ((1 << shift) - 1)
    else:
        index = np.argsort(keys)
        values = keys[index]
    distinct = np.ones(n, dtype=bool)
    distinct[1:] = values[1:] != values[:-1]
    return index[distinct].astype(np.intp)


def complementary_pairs(p_labels: np.ndarray, q_labels: np.ndarray, m: int, n: int) -> np.ndarray:
    """Index pairs ``(a, b)`` such that ``p_labels[a] | q_labels[b]`` holds all ``m + n`` labels.

    ``p_labels``, ``q_labels``: ``(Np, m + n)`` and ``(Nq, m + n)`` booleans in
    the global label order, for distinct nonzero vertices of :math:`P`
    (dimension ``m``) and :math:`Q` (dimension ``n``). Returns an int array of
    shape ``(K, 2)``.

    A vertex with exactly as many labels as its dimension ("simple") can only be
    completed by a simple vertex holding exactly the missing labels, so those
    pairs are found by sorting and binary search; pairs involving a vertex with
    extra labels (degenerate games only) are tested against every vertex of the
    other polytope with bit masks.
    """
    if len(p_labels) == 0 or len(q_labels) == 0:
        return np.zeros((0, 2), dtype=np.intp)
    p_words = pack_labels(p_labels)
    q_words = pack_labels(q_labels)
    full = pack_labels(np.ones((1, m + n), dtype=bool))[0]
    p_simple = p_labels.sum(axis=1) <= m
    q_simple = q_labels.sum(axis=1) <= n
    pairs = [_exact_complements(p_words, q_words, p_simple, q_simple, full)]
    p_extra = np.flatnonzero(~p_simple)
    q_extra = np.flatnonzero(~q_simple)
    if len(p_extra):
        pairs.append(_superset_pairs(p_words[p_extra], q_words, full, p_extra, None))
    if len(q_extra):
        p_rest = np.flatnonzero(p_simple)
        pairs.append(_superset_pairs(p_words[p_rest], q_words[q_extra], full, p_rest, q_extra))
    return np.vstack(pairs)


def _exact_complements(
    p_labels: np.ndarray,
    q_labels: np.ndarray,
    p_simple: np.ndarray,
    q_simple: np.ndarray,
    full: np.ndarray,
) -> np.ndarray:
    p_idx = np.flatnonzero(p_simple)
    q_idx = np.flatnonzero(q_simple)
    if len(p_idx) == 0 or len(q_idx) == 0:
        return np.zeros((0, 2), dtype=np.intp)
    wanted = full & ~p_labels[p_idx]
    have = q_labels[q_idx]
    if have.shape[1] == 1:
        wanted_keys, have_keys = wanted[:, 0], have[:, 0]
    else:
        # Rows as single comparable items (bytes), so that 1-D sorting applies.
        row = np.dtype((np.void, have.shape[1] * 8))
        wanted_keys = np.ascontiguousarray(wanted).view(row)[:, 0]
        have_keys = np.ascontiguousarray(have).view(row)[:, 0]
    order = np.argsort(have_keys)
    sorted_keys = have_keys[order]
    pos = np.searchsorted(sorted_keys, wanted_keys)
    pos_clipped = np.minimum(pos, len(sorted_keys) - 1)
    hit = (pos < len(sorted_keys)) & (sorted_keys[pos_clipped] == wanted_keys)
    return np.column_stack([p_idx[hit], q_idx[order[pos_clipped[hit]]]])


def _superset_pairs(
    p_labels: np.ndarray,
    q_labels: np.ndarray,
    full: np.ndarray,
    p_index: np.ndarray,
    q_index: np.ndarray | None,
) -> np.ndarray:
    # Bounded memory: test blocks of P vertices against all Q vertices.
    block = max(1, (1 << 22) // max(1, q_labels.size))
    found = []
    for start in range(0, len(p_labels), block):
        covers = (p_labels[start : start + block, None, :] | q_labels[None, :, :]) == full
        a, b = np.nonzero(covers.all(axis=2))
        found.append(np.column_stack([p_index[start + a], b if q_index is None else q_index[b]]))
    return np.vstack(found) if found else np.zeros((0, 2), dtype=np.intp)


def equilibrium_candidates(
    p: Polytope, q: Polytope
) -> tuple[list[tuple[np.ndarray, np.ndarray]], bool]:
    """Mixed profiles of all completely labelled vertex pairs, and the degeneracy flag.

    ``p`` is the row player's polytope :math:`P` (``C = B^T``, own label order
    already the global one), ``q`` the column player's :math:`Q` (``C = A``,
    own order ``y_j = 0`` then row ``i`` tight, i.e. global labels ``m + j``
    then ``i``).
    """
    m, n = p.dimension, q.dimension
    q_global = np.hstack([q.labels[:, n:], q.labels[:, :n]])
    pairs = complementary_pairs(p.labels, q_global, m, n)
    xs = p.points[pairs[:, 0]]
    ys = q.points[pairs[:, 1]]
    xs = xs / xs.sum(axis=1, keepdims=True)
    ys = ys / ys.sum(axis=1, keepdims=True)
    candidates = list(zip(xs, ys, strict=True))
    return candidates, p.degenerate or q.degenerate


def extreme_equilibria_result(
    game: StrategicGame,
    method: str,
    p: Polytope,
    q: Polytope,
    options: Mapping[str, Any],
    start: float,
    notes: Sequence[str] = (),
) -> SolverResult:
    """Verify the complementary vertex pairs of ``p`` and ``q`` and wrap them up.

    ``start`` is the :func:`time.perf_counter` reading when the solver began.
    """
    candidates, degenerate = equilibrium_candidates(p, q)
    equilibria, rejected = verify_all(game, candidates)
    all_notes = list(notes)
    if degenerate:
        all_notes.append(DEGENERATE_NOTE)
    if rejected:
        all_notes.append(
            f"{rejected} complementary vertex pair(s) failed verification and were dropped"
        )
    return SolverResult(
        method=method,
        game=game,
        equilibria=equilibria,
        complete=True,
        scope=SCOPE,
        degenerate=degenerate,
        rejected=rejected,
        notes=tuple(all_notes),
        options=MappingProxyType(dict(options)),
        elapsed=time.perf_counter() - start,
    )
