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

"Zero" and "tight" use one tolerance, :func:`label_tolerance`: the payoffs are
shifted and divided by the game's payoff spread (so entries lie in [1, 2]),
which makes a slack :math:`1 - (Cz)_i` a payoff difference in units of that
spread and :math:`z_i` a probability divided by a payoff in [1, 2]; both are
compared with (half) the game's relative tolerance
:data:`simulator.tolerance.RTOL`. Payoff differences far below it count as ties
(the game is treated as the degenerate game they perturb), differences far above
it as distinct; a game with differences of about the tolerance itself is
ambiguous, and when the methods notice trouble there (a candidate that fails
verification or a vertex that comes out infeasible) the result says that the
list may be incomplete (``complete=False``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
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
    ``z_i = 0`` (``i < d``), ``labels[:, d + r]`` for ``(Cz)_r = 1``; ``words``:
    the same as bit masks (:func:`pack_labels`). ``discarded``: candidate
    points that turned out infeasible beyond the tolerance (round-off in nearly
    degenerate games); when nonzero, the list may lack vertices.
    """

    points: np.ndarray
    labels: np.ndarray
    words: np.ndarray
    discarded: int = 0

    @property
    def dimension(self) -> int:
        return int(self.points.shape[1])

    @cached_property
    def simple(self) -> np.ndarray:
        """Which vertices have exactly as many labels as the dimension."""
        return np.asarray(self.labels.sum(axis=1) <= self.dimension)

    @property
    def degenerate(self) -> bool:
        """Whether some vertex has more labels than the dimension."""
        return not bool(self.simple.all())


def label_tolerance(game: StrategicGame) -> float:
    r"""Tolerance for "zero" and "tight" on the polytopes of :func:`positive_bimatrix`.

    Half the relative tolerance: a point of :math:`P` is a probability vector
    divided by its payoff :math:`v \in [1, 2]`, so a slack below ``rtol / 2``
    is a regret below ``rtol`` times the spread, which the verifier accepts.
    """
    return game.tolerance.rtol / 2


def polytope_from_values(values: np.ndarray, d: int, tol: float, discarded: int = 0) -> Polytope:
    """Label candidate vertices and merge duplicates.

    ``values``: shape ``(N, d + k)``, each row a vertex ``z`` followed by its
    slacks ``1 - Cz``; vertices may repeat (one per basis of a degenerate vertex)
    and may include 0, which is dropped, as are rows with a value below
    ``-tol`` (counted in :attr:`Polytope.discarded`, with ``discarded`` found
    earlier). A label is a value within ``tol`` of 0. A vertex is the only
    point of the polytope with its set of tight constraints, so vertices are
    merged by their label sets.
    """
    infeasible = values < -tol
    if infeasible.any():
        dropped = infeasible.any(axis=1)
        discarded += int(np.count_nonzero(dropped))
        values = values[~dropped]
    labels = values <= tol
    words = pack_labels(labels)
    first = unique_rows(words)
    # The vertex 0 is the one with every z_i = 0.
    origin = pack_labels(np.arange(labels.shape[1])[None, :] < d)[0]
    first = first[((words[first] & origin) != origin).any(axis=1)]
    points = values[first, :d]
    points[labels[first, :d]] = 0.0
    return Polytope(points, labels[first], words[first], discarded)


def polytope_from_points(constraint: np.ndarray, points: np.ndarray, tol: float) -> Polytope:
    r""":func:`polytope_from_values` for vertices ``points`` (shape ``(N, d)``) of
    :math:`\{z \ge 0: Cz \le 1\}` with ``C = constraint`` of shape ``(k, d)``."""
    points = np.asarray(points, dtype=float).reshape(-1, constraint.shape[1])
    return polytope_from_values(
        np.hstack([points, 1.0 - points @ constraint.T]), constraint.shape[1], tol
    )


def pack_labels(labels: np.ndarray) -> np.ndarray:
    """Boolean label matrix ``(N, L)`` as bit masks ``(N, ceil(L / 64))`` of uint64.

    Label ``l`` is bit ``l % 64`` of word ``l // 64``.
    """
    n_rows, n_labels = labels.shape
    n_words = max(1, -(-n_labels // _WORD))
    packed = np.packbits(labels, axis=1, bitorder="little")
    padded = np.zeros((n_rows, n_words * 8), dtype=np.uint8)
    padded[:, : packed.shape[1]] = packed
    return padded.view("<u8").astype(np.uint64, copy=False)


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


def complementary_pairs(
    p_words: np.ndarray,
    q_words: np.ndarray,
    p_simple: np.ndarray,
    q_simple: np.ndarray,
    n_labels: int,
) -> np.ndarray:
    """Index pairs ``(a, b)`` such that ``p_words[a] | q_words[b]`` holds all ``n_labels`` labels.

    ``p_words``, ``q_words``: ``(Np, W)`` and ``(Nq, W)`` label bit masks in
    the global label order, for distinct nonzero vertices of :math:`P` and
    :math:`Q`; ``p_simple``, ``q_simple``: which of them have exactly as many
    labels as the dimension. Returns an int array of shape ``(K, 2)``.

    A simple vertex can only be completed by a simple vertex holding exactly
    the missing labels, so those pairs are found by sorting and binary search;
    pairs involving a vertex with extra labels (degenerate games only) are
    tested against every vertex of the other polytope.
    """
    if len(p_words) == 0 or len(q_words) == 0:
        return np.zeros((0, 2), dtype=np.intp)
    full = pack_labels(np.ones((1, n_labels), dtype=bool))[0]
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
    order = first_of_each(have_keys) if have.shape[1] == 1 else np.argsort(have_keys)
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
    if m + n <= _WORD:
        # Rotate Q's own bit order into the global one.
        own = q.words[:, 0]
        low = own & np.uint64((1 << n) - 1)
        q_words = ((own >> np.uint64(n)) | (low << np.uint64(m)))[:, None]
    else:
        q_words = pack_labels(np.hstack([q.labels[:, n:], q.labels[:, :n]]))
    pairs = complementary_pairs(p.words, q_words, p.simple, q.simple, m + n)
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
    discarded = p.discarded + q.discarded
    if discarded:
        all_notes.append(
            f"{discarded} candidate vertices were infeasible beyond the tolerance (payoff "
            "differences close to the tolerance make pivoting unreliable): the list may be "
            "incomplete"
        )
    if rejected:
        all_notes.append(
            f"{rejected} complementary vertex pair(s) failed verification and were dropped "
            "(payoff differences close to the tolerance): the list may be incomplete"
        )
    return SolverResult(
        method=method,
        game=game,
        equilibria=equilibria,
        complete=not (rejected or discarded),
        scope=SCOPE,
        degenerate=degenerate,
        rejected=rejected,
        notes=tuple(all_notes),
        options=MappingProxyType(dict(options)),
        elapsed=time.perf_counter() - start,
    )
