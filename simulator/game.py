r"""Strategic-form (normal-form) games.

Notation
--------
A strategic game has players :math:`i = 0, \dots, n-1`; player :math:`i` has
:math:`m_i` pure strategies. A pure profile is :math:`s = (s_0, \dots, s_{n-1})`
and :math:`u_i(s)` is player :math:`i`'s payoff.

**Orientation, stated once.** ``game.payoffs`` is a float array of shape
``(n, m_0, m_1, ..., m_{n-1})`` and ``game.payoffs[i][s_0, ..., s_{n-1}]`` is
:math:`u_i(s)`: axis ``1 + j`` of the array (axis ``j`` of ``payoffs[i]``) is
player ``j``'s strategy. For two players, ``payoffs[0]`` is the row player's
matrix :math:`A` and ``payoffs[1]`` the column player's matrix :math:`B`, both
of shape ``(m_0, m_1)``; neither is transposed.

A mixed strategy of player :math:`i` is a probability vector
:math:`\sigma_i \in \Delta(m_i)`; a mixed profile is a sequence of them.
The payoff of pure strategy :math:`k` against :math:`\sigma_{-i}` is
:math:`u_i(k, \sigma_{-i})` (see :func:`simulator.equilibrium.deviation_payoffs`);
strategy :math:`k` is a best response when it attains the maximum of these,
and :math:`\sigma` is a Nash equilibrium when every player's regret
:math:`\max_k u_i(k, \sigma_{-i}) - u_i(\sigma)` is zero (within the tolerance
of :mod:`simulator.tolerance`).

Games with rational payoffs (integers, decimals and fractions read from a file)
also keep them exactly in ``exact_payoffs`` (an object array of
:class:`fractions.Fraction`), so that equilibria can be given as exact fractions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from simulator.tolerance import RTOL, Tolerance


@dataclass(frozen=True, eq=False)
class StrategicGame:
    """A finite game in strategic form with labelled players and strategies.

    Build with :meth:`from_payoffs` or :meth:`from_bimatrix`, which check shapes
    and labels; the arrays are stored read-only.
    """

    players: tuple[str, ...]
    strategies: tuple[tuple[str, ...], ...]
    payoffs: np.ndarray
    exact_payoffs: np.ndarray | None = None
    title: str = ""
    tolerance: Tolerance = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tolerance", Tolerance.for_payoffs(self.payoffs, RTOL))

    # ----------------------------------------------------------------- builders
    @classmethod
    def from_payoffs(
        cls,
        payoffs: npt.ArrayLike,
        players: Sequence[str] | None = None,
        strategies: Sequence[Sequence[str]] | None = None,
        title: str = "",
    ) -> StrategicGame:
        """A game from a payoff array of shape ``(n, m_0, ..., m_{n-1})``.

        ``payoffs`` may hold :class:`fractions.Fraction` or ints, in which case the
        exact values are kept too. Players default to ``"1", "2", ...`` and
        strategies to ``"1", "2", ...`` per player.
        """
        raw = np.asarray(payoffs, dtype=object if _has_fractions(payoffs) else None)
        if raw.ndim < 2:
            raise ValueError(
                "StrategicGame.from_payoffs: payoffs must have shape (n, m_0, ..., m_{n-1}), "
                f"got shape {raw.shape}"
            )
        n = raw.shape[0]
        if raw.ndim != n + 1:
            raise ValueError(
                f"StrategicGame.from_payoffs: {n} players need a payoff array with {n + 1} "
                f"axes (n, m_0, ..., m_{{n-1}}), got shape {raw.shape}"
            )
        if any(m < 1 for m in raw.shape[1:]):
            raise ValueError("StrategicGame.from_payoffs: every player needs a strategy")
        exact = _exact_array(raw)
        values = np.array(raw, dtype=float)
        if not np.all(np.isfinite(values)):
            raise ValueError("StrategicGame.from_payoffs: payoffs must be finite numbers")
        values.setflags(write=False)
        if exact is not None:
            exact.setflags(write=False)
        player_labels = tuple(players) if players is not None else _numbered(n)
        if len(player_labels) != n:
            raise ValueError(
                f"StrategicGame.from_payoffs: {len(player_labels)} player labels for {n} players"
            )
        if strategies is None:
            strategy_labels = tuple(_numbered(m) for m in raw.shape[1:])
        else:
            strategy_labels = tuple(tuple(s) for s in strategies)
        if tuple(len(s) for s in strategy_labels) != raw.shape[1:]:
            raise ValueError(
                "StrategicGame.from_payoffs: strategy labels "
                f"{[len(s) for s in strategy_labels]} do not match payoff shape {raw.shape[1:]}"
            )
        return cls(player_labels, strategy_labels, values, exact, title)

    @classmethod
    def from_bimatrix(
        cls,
        a: npt.ArrayLike,
        b: npt.ArrayLike,
        players: Sequence[str] | None = None,
        strategies: Sequence[Sequence[str]] | None = None,
        title: str = "",
    ) -> StrategicGame:
        """A two-player game from the row player's ``a`` and column player's ``b``.

        Both have shape ``(m_0, m_1)``: ``a[r, c]`` and ``b[r, c]`` are the payoffs
        when the row player plays ``r`` and the column player ``c``.
        """
        a_arr = np.asarray(a, dtype=object if _has_fractions(a) else None)
        b_arr = np.asarray(b, dtype=object if _has_fractions(b) else None)
        if a_arr.ndim != 2 or a_arr.shape != b_arr.shape:
            raise ValueError(
                "StrategicGame.from_bimatrix: a and b must be matrices of one shape, "
                f"got {a_arr.shape} and {b_arr.shape}"
            )
        dtype = object if a_arr.dtype == object or b_arr.dtype == object else None
        return cls.from_payoffs(
            np.stack([a_arr, b_arr]).astype(dtype) if dtype else np.stack([a_arr, b_arr]),
            players,
            strategies,
            title,
        )

    # -------------------------------------------------------------- properties
    @property
    def n_players(self) -> int:
        return len(self.players)

    @property
    def shape(self) -> tuple[int, ...]:
        """Strategy counts ``(m_0, ..., m_{n-1})``."""
        return tuple(self.payoffs.shape[1:])

    @property
    def is_rational(self) -> bool:
        """Whether exact (rational) payoffs are known."""
        return self.exact_payoffs is not None

    def bimatrix(self) -> tuple[np.ndarray, np.ndarray]:
        """``(A, B)`` for a two-player game (see the module's orientation note)."""
        if self.n_players != 2:
            raise ValueError(f"bimatrix: the game has {self.n_players} players, not 2")
        return self.payoffs[0], self.payoffs[1]

    def player_index(self, player: str) -> int:
        try:
            return self.players.index(player)
        except ValueError:
            raise KeyError(f"no player {player!r}; players are {list(self.players)}") from None

    def restrict(self, keep: Sequence[Sequence[int]]) -> StrategicGame:
        """The subgame in which player ``i`` keeps only strategies ``keep[i]``."""
        index: tuple[Any, ...] = (slice(None), *np.ix_(*[np.asarray(k, dtype=int) for k in keep]))
        payoffs = self.payoffs[index]
        exact = None if self.exact_payoffs is None else self.exact_payoffs[index]
        strategies = tuple(
            tuple(self.strategies[i][k] for k in keep_i) for i, keep_i in enumerate(keep)
        )
        return StrategicGame.from_payoffs(
            exact if exact is not None else payoffs, self.players, strategies, self.title
        )

    def __repr__(self) -> str:
        shape = "x".join(str(m) for m in self.shape)
        return f"StrategicGame({shape}, players={list(self.players)}, title={self.title!r})"


def _numbered(n: int) -> tuple[str, ...]:
    return tuple(str(k + 1) for k in range(n))


def _has_fractions(values: Any) -> bool:
    if isinstance(values, np.ndarray) and values.dtype != object:
        return False  # a numeric array cannot hold Fractions; skip the per-entry scan
    arr = np.asarray(values, dtype=object)
    return any(isinstance(v, Fraction) for v in arr.flat)


def _exact_array(raw: np.ndarray) -> np.ndarray | None:
    """Exact payoffs when every entry is an int or a Fraction, else ``None``.

    Python ints are exact already and mix with Fractions in arithmetic, so they
    are kept as ints (converting millions of entries to Fraction costs seconds).
    """
    if raw.dtype.kind in "iub":
        return raw.astype(object)
    if raw.dtype == object and all(
        isinstance(v, (int, Fraction, np.integer)) and not isinstance(v, bool) for v in raw.flat
    ):
        exact = np.array(raw, dtype=object)
        if any(isinstance(v, np.integer) for v in exact.flat):
            exact = np.vectorize(
                lambda v: int(v) if isinstance(v, np.integer) else v, otypes=[object]
            )(exact)
        return exact
    return None
