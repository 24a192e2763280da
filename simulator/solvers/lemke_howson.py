r"""One Nash equilibrium of a two-player game from every starting label (Lemke–Howson).

The Lemke–Howson algorithm (Lemke and Howson 1964; Shapley 1974; von Stengel
2007, Sec. 3.4 of "Equilibrium computation for two-player games in strategic
and extensive form", in Nisan et al., *Algorithmic Game Theory*) follows a path
of *almost complementary* vertex pairs of the two best-response polytopes

.. math:: P = \{x \ge 0 : B^\top x \le 1\}, \qquad Q = \{y \ge 0 : A y \le 1\}

(payoffs made positive) from the artificial equilibrium :math:`(0, 0)` to a
Nash equilibrium. The labels are :math:`0, \dots, m-1` for the row player's
strategies and :math:`m, \dots, m+n-1` for the column player's; a point of
:math:`P` has label :math:`i` when :math:`x_i = 0` and label :math:`m+j` when
column :math:`j` is a best response, and symmetrically for :math:`Q`. Dropping
a label :math:`k` at :math:`(0, 0)` and pivoting alternately in the two
polytopes, always entering the label that just left the other one, ends at a
vertex pair carrying every label: an equilibrium, normalised as
:math:`x / \sum x`, :math:`y / \sum y`.

Numerics, and why this implementation always returns:

* Each player's payoffs are first mapped affinely onto :math:`[1, 2]` (this
  changes no equilibrium), so the tableaus start with entries of order one and
  the game's one relative tolerance (:data:`simulator.tolerance.RTOL`) is the
  right scale for deciding what is zero.
* Pivoting is Gauss–Jordan with the pivot row scaled to a unit pivot (a
  *normalised* pivot); unnormalised integer-style pivoting in floats lets the
  entries grow without bound until they overflow, which is how nashpy's
  implementation can loop for ever.
* The leaving variable is chosen by the lexicographic minimum ratio test over
  ``[rhs | basis inverse]`` (the basis inverse is the block of slack columns),
  which makes every path finite on degenerate games too (von Stengel 2007,
  Sec. 3.6). A tie in the plain ratio test means the path passed a degenerate
  vertex, so the game is degenerate; the result says so.
* Every path is capped at ``max_pivots`` pivots (default ``10 (m + n)^2``);
  a path that reaches the cap is reported in the notes and yields nothing.
  Paths can be exponentially long in the worst case (Savani and von Stengel
  2006), so a cap, not a hang, is the honest answer there.

Each endpoint is verified (:func:`simulator.equilibrium.verify`); the result
lists the distinct equilibria found and, in its notes, which starting labels led
to which. Lemke–Howson finds at most one equilibrium per label, so the list is
not complete.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from simulator.equilibrium import Equilibrium, verify
from simulator.game import StrategicGame
from simulator.results import SolverResult


@dataclass(frozen=True, eq=False)
class LemkeHowsonPath:
    """The Lemke–Howson path from one starting label.

    ``label``: the dropped label (``0..m-1`` row strategies, ``m..m+n-1`` column
    strategies). ``pivots``: pivots taken. ``profile``: the endpoint ``(x, y)``
    as probability vectors (unverified), or ``None`` if the path hit the cap.
    ``capped``: whether it hit the cap. ``degenerate``: whether a ratio test
    tied on the way (the path passed a degenerate vertex).
    """

    label: int
    pivots: int
    profile: tuple[np.ndarray, np.ndarray] | None
    capped: bool
    degenerate: bool


def default_max_pivots(m: int, n: int) -> int:
    """The default cap on pivots per path for an ``m x n`` game: ``10 (m + n)^2``."""
    return 10 * (m + n) ** 2


def lemke_howson_paths(
    game: StrategicGame,
    *,
    labels: Sequence[int] | None = None,
    max_pivots: int | None = None,
) -> tuple[LemkeHowsonPath, ...]:
    """Follow the Lemke–Howson path from each of ``labels`` (default: all ``m + n``).

    The unverified building block of :func:`lemke_howson`, for programs that want
    each path's endpoint and length. Raises ``ValueError`` for a game without two
    players, a label outside ``0..m+n-1`` or a cap below 1.
    """
    a, b = _two_player(game, "lemke_howson_paths")
    m, n = a.shape
    chosen = _check_labels(labels, m + n)
    cap = default_max_pivots(m, n) if max_pivots is None else int(max_pivots)
    if cap < 1:
        raise ValueError(f"lemke_howson_paths: max_pivots must be at least 1, got {max_pivots}")
    a_pos = _unit_range(a)
    b_pos = _unit_range(b)
    tol = game.tolerance.rtol
    return tuple(_follow_all(a_pos, b_pos, chosen, cap, tol))


def lemke_howson(
    game: StrategicGame,
    *,
    labels: Sequence[int] | None = None,
    max_pivots: int | None = None,
) -> SolverResult:
    """Nash equilibria of a two-player game by Lemke–Howson from every starting label.

    ``labels``: starting labels to use (default all, ``0..m+n-1``; ``0..m-1`` are
    the row player's strategies, ``m..m+n-1`` the column player's).
    ``max_pivots``: cap per path (default ``10 (m + n)^2``; a capped label is
    named in the notes). Returns the distinct verified equilibria reached, with
    ``complete=False``: each label finds one equilibrium, and some equilibria
    are reached from no label at all (Shapley 1974). The notes say which labels
    led to which equilibrium; :func:`lemke_howson_paths` gives the same as data.
    """
    start = time.perf_counter()
    paths = lemke_howson_paths(game, labels=labels, max_pivots=max_pivots)
    m, n = game.shape
    cap = default_max_pivots(m, n) if max_pivots is None else int(max_pivots)

    equilibria: list[Equilibrium] = []
    reached_from: list[list[int]] = []
    index_by_key: dict[tuple[float, ...], int] = {}
    verified_by_raw: dict[bytes, Equilibrium | None] = {}
    rejected: list[int] = []
    capped: list[int] = []
    for path in paths:
        if path.profile is None:
            capped.append(path.label)
            continue
        # Labels often reach the same vertex; verify each endpoint once. This is
        # only a cache key: what counts as the same equilibrium is decided by
        # Equilibrium.key after verification.
        raw = np.concatenate(path.profile).tobytes()
        if raw not in verified_by_raw:
            verified_by_raw[raw] = verify(game, path.profile)
        eq = verified_by_raw[raw]
        if eq is None:
            rejected.append(path.label)
            continue
        key = eq.key()
        if key not in index_by_key:
            index_by_key[key] = len(equilibria)
            equilibria.append(eq)
            reached_from.append([])
        reached_from[index_by_key[key]].append(path.label)

    notes = [
        f"equilibrium {e + 1} reached from label(s) "
        + ", ".join(describe_label(game, k) for k in found)
        for e, found in enumerate(reached_from)
    ]
    if capped:
        notes.append(
            f"label(s) {', '.join(describe_label(game, k) for k in capped)} stopped at the cap "
            f"of {cap} pivots without reaching an equilibrium"
        )
    if rejected:
        notes.append(
            f"the endpoint from label(s) {', '.join(describe_label(game, k) for k in rejected)} "
            "failed verification and was dropped"
        )
    degenerate = any(p.degenerate for p in paths)
    if degenerate:
        notes.append("a ratio test tied on the way, so the game is degenerate")
    notes.append(
        "Lemke-Howson finds one equilibrium per starting label; other equilibria may exist"
    )
    return SolverResult(
        method="lemke_howson",
        game=game,
        equilibria=tuple(equilibria),
        complete=False,
        scope="one equilibrium per starting label",
        degenerate=True if degenerate else None,
        rejected=len(rejected),
        notes=tuple(notes),
        options=MappingProxyType({"labels": tuple(p.label for p in paths), "max_pivots": cap}),
        elapsed=time.perf_counter() - start,
    )


def describe_label(game: StrategicGame, label: int) -> str:
    """``"<label> (<player>:<strategy>)"``: a starting label in the game's own words."""
    m = game.shape[0]
    player, strategy = (0, label) if label < m else (1, label - m)
    return f"{label} ({game.players[player]}:{game.strategies[player][strategy]})"


# ----------------------------------------------------------------- kernel
def _two_player(game: StrategicGame, caller: str) -> tuple[np.ndarray, np.ndarray]:
    if game.n_players != 2:
        raise ValueError(f"{caller}: needs a two-player game, got {game.n_players} players")
    return game.payoffs[0], game.payoffs[1]


def _check_labels(labels: Sequence[int] | None, count: int) -> list[int]:
    if labels is None:
        return list(range(count))
    chosen = [int(k) for k in labels]
    bad = [k for k in chosen if not 0 <= k < count]
    if bad:
        raise ValueError(f"lemke_howson: labels must be in 0..{count - 1}, got {bad}")
    return chosen


def _unit_range(payoff: np.ndarray) -> np.ndarray:
    """``payoff`` mapped affinely onto ``[1, 2]`` (all ones when it is constant)."""
    low = float(payoff.min())
    spread = float(payoff.max()) - low
    if spread <= 0:
        return np.ones_like(payoff, dtype=float)
    return 1.0 + (payoff - low) / spread


def _follow_all(
    a: np.ndarray, b: np.ndarray, labels: Sequence[int], cap: int, tol: float
) -> list[LemkeHowsonPath]:
    """The paths from every label in ``labels``, pivoted side by side.

    ``a``, ``b``: positive payoffs, shape ``(m, n)``. Columns of both tableaus
    are indexed by label, with the right-hand side last: in the tableau of ``P``
    (``n`` rows) label ``i < m`` is ``x_i`` and label ``m + j`` the slack of
    column ``j``; in the tableau of ``Q`` (``m`` rows) label ``i < m`` is the
    slack of row ``i`` and label ``m + j`` is ``y_j``. Path ``p`` keeps its own
    pair of tableaus in ``tabs[0][p]``, ``tabs[1][p]``; each step pivots every
    unfinished path once, in whichever polytope it is in, with array operations
    over the paths (the paths are independent, so only the bookkeeping is shared).
    """
    m, n = a.shape
    count = len(labels)
    width = m + n + 1
    tab_p = np.zeros((count, n, width))
    tab_p[:, :, :m] = b.T
    tab_p[:, :, m : m + n] = np.eye(n)
    tab_p[:, :, -1] = 1.0
    tab_q = np.zeros((count, m, width))
    tab_q[:, :, :m] = np.eye(m)
    tab_q[:, :, m : m + n] = a
    tab_q[:, :, -1] = 1.0
    tabs = (tab_p, tab_q)
    bases = (np.tile(np.arange(m, m + n), (count, 1)), np.tile(np.arange(m), (count, 1)))
    # Lexicographic order: the right-hand side, then the initial slack columns,
    # which always hold the current basis inverse.
    lexes = (
        np.concatenate([[m + n], np.arange(m, m + n)]),
        np.concatenate([[m + n], np.arange(m)]),
    )

    dropped = np.asarray(labels, dtype=np.intp)
    entering = dropped.copy()
    side = np.where(dropped < m, 0, 1)  # 0: the path pivots in P next, 1: in Q
    active = np.ones(count, dtype=bool)
    pivots = np.zeros(count, dtype=np.intp)
    degenerate = np.zeros(count, dtype=bool)
    for _ in range(cap):
        if not active.any():
            break
        turns = [np.flatnonzero(active & (side == k)) for k in (0, 1)]
        for k, paths in enumerate(turns):
            if paths.size == 0:
                continue
            leaving, tie = _pivot_paths(tabs[k], bases[k], paths, entering[paths], lexes[k], tol)
            pivots[paths] += 1
            degenerate[paths] |= tie
            finished = leaving == dropped[paths]
            active[paths[finished]] = False
            entering[paths] = leaving
            side[paths] = 1 - k
    out = []
    for p, label in enumerate(dropped):
        profile = None if active[p] else _endpoint(tab_p[p], bases[0][p], tab_q[p], bases[1][p], m)
        out.append(
            LemkeHowsonPath(
                int(label), int(pivots[p]), profile, bool(active[p]), bool(degenerate[p])
            )
        )
    return out


def _pivot_paths(
    tabs: np.ndarray,
    bases: np.ndarray,
    paths: np.ndarray,
    entering: np.ndarray,
    lex: np.ndarray,
    tol: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Pivot ``entering[k]`` into the basis of path ``paths[k]``, for every ``k``.

    ``tabs``: the tableaus of one polytope, shape ``(paths, rows, width)``;
    ``bases``: their basic labels, shape ``(paths, rows)``; both updated in
    place. The leaving row is chosen by the lexicographic minimum ratio test.
    Returns the labels that left and whether each path's plain ratio test (on
    the right-hand side) tied.
    """
    tab = tabs[paths]
    k = np.arange(paths.size)
    column = tab[k, :, entering]
    scale = np.maximum(1.0, np.abs(column).max(axis=1, keepdims=True))
    usable = column > tol * scale
    if not usable.any(axis=1).all():
        # Cannot happen for positive payoffs (the polytopes are bounded); kept as
        # a guard so that a broken tableau fails loudly instead of looping.
        raise ArithmeticError("lemke_howson: unbounded pivot column")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(usable, tab[:, :, -1] / column, np.inf)
    best = ratios.min(axis=1, keepdims=True)
    near = ratios <= best + tol * np.maximum(1.0, np.abs(best))
    row = np.argmax(near, axis=1)
    tie = near.sum(axis=1) > 1
    for t in np.flatnonzero(tie):
        row[t] = _lexicographic_row(tab[t], column[t], np.flatnonzero(near[t]), lex, tol)
    pivot_rows = tab[k, row] / column[k, row][:, None]
    tab -= column[:, :, None] * pivot_rows[:, None, :]
    tab[k, row] = pivot_rows
    tabs[paths] = tab
    leaving = bases[paths, row]
    bases[paths, row] = entering
    return leaving, tie


def _lexicographic_row(
    tab: np.ndarray, column: np.ndarray, candidates: np.ndarray, lex: np.ndarray, tol: float
) -> int:
    """Break a tie in the ratio test by the later columns of ``lex`` (the basis inverse)."""
    for col in lex[1:]:
        ratios = tab[candidates, col] / column[candidates]
        best = ratios.min()
        candidates = candidates[ratios <= best + tol * max(1.0, abs(float(best)))]
        if candidates.size == 1:
            break
    return int(candidates[0])


def _endpoint(
    tab_p: np.ndarray, basis_p: np.ndarray, tab_q: np.ndarray, basis_q: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray] | None:
    n = tab_p.shape[0]
    x = np.zeros(m)
    y = np.zeros(n)
    rows = basis_p < m
    x[basis_p[rows]] = tab_p[rows, -1]
    rows = basis_q >= m
    y[basis_q[rows] - m] = tab_q[rows, -1]
    x = np.clip(x, 0.0, None)
    y = np.clip(y, 0.0, None)
    if x.sum() <= 0 or y.sum() <= 0:
        return None
    return x / x.sum(), y / y.sum()
