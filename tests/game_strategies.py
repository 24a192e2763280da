"""Hypothesis strategies for strategic games, valid by construction.

Every strategy here builds games that belong to their family by construction
(no ``assume`` filters), so no example is thrown away:

- :func:`bimatrices` / :func:`bimatrix_games`: integer bimatrix games (exact
  payoffs, often degenerate when the payoff range is small);
- :func:`generic_bimatrix_games`: payoffs drawn uniformly from a seeded
  generator, nondegenerate with probability 1;
- :func:`degenerate_bimatrix_games`: degenerate by construction, each kind
  giving some pure strategy more than one pure best response (von Stengel 2007:
  a game is degenerate iff some mixed strategy with support size k has more
  than k pure best responses);
- :func:`n_player_games`: integer games with any number of players.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from simulator.game import StrategicGame

DEGENERATE_KINDS = (
    "identical rows",
    "duplicated columns",
    "zero game",
    "tie at a column maximum",
    "indifferent column player",
)


def payoff_matrices(
    rows: int, cols: int, low: int = -5, high: int = 5
) -> st.SearchStrategy[np.ndarray]:
    """Integer matrices of shape ``(rows, cols)`` with entries in ``[low, high]``."""
    return st.lists(st.integers(low, high), min_size=rows * cols, max_size=rows * cols).map(
        lambda values: np.array(values, dtype=np.int64).reshape(rows, cols)
    )


@st.composite
def bimatrices(
    draw: st.DrawFn, min_size: int = 1, max_size: int = 4, low: int = -5, high: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """``(A, B)``: integer payoff matrices of one shape, each side in ``[min_size, max_size]``."""
    rows = draw(st.integers(min_size, max_size))
    cols = draw(st.integers(min_size, max_size))
    return draw(payoff_matrices(rows, cols, low, high)), draw(
        payoff_matrices(rows, cols, low, high)
    )


def bimatrix_games(
    min_size: int = 1, max_size: int = 4, low: int = -5, high: int = 5
) -> st.SearchStrategy[StrategicGame]:
    """Two-player games with integer (hence exact) payoffs."""
    return bimatrices(min_size, max_size, low, high).map(
        lambda ab: StrategicGame.from_bimatrix(*ab)
    )


@st.composite
def generic_bimatrix_games(draw: st.DrawFn, min_size: int = 2, max_size: int = 4) -> StrategicGame:
    """Two-player games with payoffs uniform on [0, 1) from a drawn seed.

    Float payoffs from a continuous distribution are nondegenerate with
    probability 1 (hypothesis's own float strategy prefers ties such as 0.0).
    """
    rows = draw(st.integers(min_size, max_size))
    cols = draw(st.integers(min_size, max_size))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return StrategicGame.from_bimatrix(rng.random((rows, cols)), rng.random((rows, cols)))


@st.composite
def degenerate_bimatrices(
    draw: st.DrawFn, min_size: int = 2, max_size: int = 4, low: int = -5, high: int = 5
) -> tuple[np.ndarray, np.ndarray, str]:
    """``(A, B, kind)``: an integer bimatrix game that is degenerate by construction.

    Both players have at least two strategies. ``kind`` is one of
    :data:`DEGENERATE_KINDS`; in each, some pure strategy has two or more pure
    best responses:

    - identical rows: rows ``r1 != r2`` equal in ``A`` and ``B``, and ``r1``
      attains the maximum of column 0 of ``A`` (so both answer column 0);
    - duplicated columns: the same with columns, for row 0 of ``B``;
    - zero game: all payoffs 0;
    - tie at a column maximum: two rows share the maximum of one column of ``A``;
    - indifferent column player: one row of ``B`` is constant.
    """
    rows = draw(st.integers(min_size, max_size))
    cols = draw(st.integers(min_size, max_size))
    a = draw(payoff_matrices(rows, cols, low, high))
    b = draw(payoff_matrices(rows, cols, low, high))
    kind = draw(st.sampled_from(DEGENERATE_KINDS))
    r1, r2 = draw(st.lists(st.integers(0, rows - 1), min_size=2, max_size=2, unique=True))
    c1, c2 = draw(st.lists(st.integers(0, cols - 1), min_size=2, max_size=2, unique=True))
    if kind == "identical rows":
        a[r1, 0] = a[:, 0].max()
        a[r2], b[r2] = a[r1], b[r1]
    elif kind == "duplicated columns":
        b[0, c1] = b[0].max()
        a[:, c2], b[:, c2] = a[:, c1], b[:, c1]
    elif kind == "zero game":
        a[:] = 0
        b[:] = 0
    elif kind == "tie at a column maximum":
        a[r1, c1] = a[r2, c1] = a[:, c1].max()
    else:
        b[r1] = draw(st.integers(low, high))
    return a, b, kind


def degenerate_bimatrix_games(
    min_size: int = 2, max_size: int = 4, low: int = -5, high: int = 5
) -> st.SearchStrategy[StrategicGame]:
    """Two-player integer games that are degenerate by construction (see
    :func:`degenerate_bimatrices`); the kind is in the game's title."""
    return degenerate_bimatrices(min_size, max_size, low, high).map(
        lambda abk: StrategicGame.from_bimatrix(abk[0], abk[1], title=abk[2])
    )


@st.composite
def n_player_games(
    draw: st.DrawFn,
    min_players: int = 3,
    max_players: int = 4,
    min_strategies: int = 1,
    max_strategies: int = 3,
    low: int = -5,
    high: int = 5,
) -> StrategicGame:
    """Games with integer payoffs and ``min_players..max_players`` players."""
    n = draw(st.integers(min_players, max_players))
    shape = tuple(draw(st.integers(min_strategies, max_strategies)) for _ in range(n))
    size = n * int(np.prod(shape))
    values = draw(st.lists(st.integers(low, high), min_size=size, max_size=size))
    return StrategicGame.from_payoffs(np.array(values, dtype=np.int64).reshape((n, *shape)))
