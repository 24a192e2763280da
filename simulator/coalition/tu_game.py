r"""Transferable-utility (TU) coalition games.

Notation
--------
A TU game has players :math:`N = \{0, \dots, n-1\}` and a characteristic function
:math:`v: 2^N \to \mathbb{R}` with :math:`v(\emptyset) = 0`: :math:`v(S)` is the total
payoff coalition :math:`S` can secure and share among its members as it likes.

**Coalitions are bitmasks, stated once.** Coalition :math:`S` is the integer
``mask = sum(1 << i for i in S)``: bit ``i`` is player ``i`` (``game.players[i]``).
``game.v`` is a float array of length ``2**n`` and ``game.v[mask]`` is :math:`v(S)`;
``game.v[0] = 0`` is the empty coalition and ``game.v[2**n - 1]`` the grand coalition.

An allocation is a vector :math:`x \in \mathbb{R}^n` and :math:`x(S) = \sum_{i \in S} x_i`.
It is *efficient* when :math:`x(N) = v(N)`; the *excess* of :math:`S` at :math:`x` is
:math:`e(S, x) = v(S) - x(S)`, what :math:`S` would gain by leaving :math:`x`.

Every comparison uses one tolerance, ``game.tolerance`` =
:data:`simulator.tolerance.RTOL` times the scale of the game (the largest
:math:`|v(S)|`, or 1 for the zero game).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import numpy.typing as npt

from simulator.tolerance import RTOL

MAX_PLAYERS = 20
"""Largest number of players a :class:`TUGame` accepts (``v`` has ``2**n`` entries).

The exact solution concepts are meant for about a dozen players; the LP-based
ones (core, nucleolus) solve programs with ``2**n`` constraints.
"""


@cache
def coalition_matrix(n: int) -> np.ndarray:
    """Membership table of all coalitions of ``n`` players: bool array ``(2**n, n)``.

    Row ``mask`` has ``True`` in column ``i`` when bit ``i`` of ``mask`` is set
    (player ``i`` belongs to the coalition). Read-only and cached.
    """
    masks = np.arange(1 << n, dtype=np.int64)
    table = ((masks[:, None] >> np.arange(n, dtype=np.int64)[None, :]) & 1).astype(bool)
    table.setflags(write=False)
    return table


@cache
def coalition_sizes(n: int) -> np.ndarray:
    """Number of members of every coalition of ``n`` players: int array ``(2**n,)``."""
    sizes = coalition_matrix(n).sum(axis=1).astype(np.int64)
    sizes.setflags(write=False)
    return sizes


def _disjoint_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs ``(S, T)`` of disjoint coalitions, as two mask arrays of length ``3**n``.

    Each player is in ``S``, in ``T`` or in neither: the pairs are the base-3 numbers.
    """
    s = np.zeros(1, dtype=np.int64)
    t = np.zeros(1, dtype=np.int64)
    for i in range(n):
        bit = np.int64(1 << i)
        s = np.concatenate([s, s | bit, s])
        t = np.concatenate([t, t, t | bit])
    return s, t


def _numbered(n: int) -> tuple[str, ...]:
    return tuple(str(i + 1) for i in range(n))


@dataclass(frozen=True, eq=False)
class TUGame:
    """A TU game: labelled players and the characteristic function ``v`` by bitmask.

    ``v[mask]`` is the worth of the coalition whose members are the set bits of
    ``mask`` (see the module docstring). Build with :meth:`from_values`,
    :meth:`from_mapping` or :meth:`from_function`; the array is stored read-only.
    """

    players: tuple[str, ...]
    v: np.ndarray
    title: str = ""
    tolerance: float = field(init=False)

    def __post_init__(self) -> None:
        players = tuple(self.players)
        n = len(players)
        if n < 1:
            raise ValueError("TUGame: a game needs at least one player")
        if n > MAX_PLAYERS:
            raise ValueError(f"TUGame: at most {MAX_PLAYERS} players are supported, got {n}")
        if len(set(players)) != n:
            raise ValueError(f"TUGame: player labels must be distinct, got {players}")
        values = np.array(self.v, dtype=float)
        if values.shape != (1 << n,):
            raise ValueError(
                f"TUGame: {n} players need v of length 2**{n} = {1 << n}, got shape {values.shape}"
            )
        if not np.all(np.isfinite(values)):
            raise ValueError("TUGame: v must hold finite numbers")
        scale = float(np.abs(values).max())
        tolerance = RTOL * (scale if scale > 0 else 1.0)
        if abs(values[0]) > tolerance:
            raise ValueError(f"TUGame: v of the empty coalition must be 0, got {values[0]}")
        values[0] = 0.0
        values.setflags(write=False)
        object.__setattr__(self, "players", players)
        object.__setattr__(self, "v", values)
        object.__setattr__(self, "tolerance", tolerance)

    # ----------------------------------------------------------------- builders
    @classmethod
    def from_values(
        cls, v: npt.ArrayLike, players: Sequence[str] | None = None, title: str = ""
    ) -> TUGame:
        """A game from ``v`` of length ``2**n`` indexed by bitmask; players default to "1".."n"."""
        values = np.asarray(v, dtype=float)
        size = values.shape[0] if values.ndim == 1 else 0
        n = size.bit_length() - 1
        if values.ndim != 1 or size < 2 or size != 1 << n:
            raise ValueError(
                f"TUGame.from_values: v must have length 2**n for some n >= 1, got shape "
                f"{values.shape}"
            )
        labels = tuple(players) if players is not None else _numbered(n)
        if len(labels) != n:
            raise ValueError(f"TUGame.from_values: {len(labels)} player labels for {n} players")
        return cls(labels, values, title)

    @classmethod
    def from_mapping(
        cls,
        values: Mapping[Iterable[Hashable], float],
        players: Sequence[str] | None = None,
        default: float | None = None,
        title: str = "",
    ) -> TUGame:
        """A game from ``{coalition: worth}``, each coalition a tuple or frozenset of labels.

        ``players`` fixes the order (bit ``i`` is ``players[i]``); when omitted it is
        the sorted labels found in the keys. Every non-empty coalition must be given
        unless ``default`` is set (for example ``default=0``), which fills the rest.
        The empty coalition may be given, with worth 0.
        """
        keyed: dict[frozenset[str], float] = {}
        for key, worth in values.items():
            if isinstance(key, str):
                raise ValueError(
                    f"TUGame.from_mapping: coalition {key!r} must be a tuple or frozenset of "
                    "labels, not a string"
                )
            members = frozenset(str(p) for p in key)
            if len(members) != len(tuple(key)):
                raise ValueError(f"TUGame.from_mapping: coalition {key!r} repeats a player")
            if members in keyed and keyed[members] != float(worth):
                raise ValueError(
                    f"TUGame.from_mapping: coalition {sorted(members)} is given twice with "
                    f"different worths {keyed[members]} and {worth}"
                )
            keyed[members] = float(worth)
        labels = (
            tuple(players)
            if players is not None
            else tuple(sorted(set().union(*keyed) if keyed else set()))
        )
        index = {label: i for i, label in enumerate(labels)}
        v = np.full(1 << len(labels), np.nan)
        v[0] = 0.0
        for members, worth in keyed.items():
            unknown = sorted(members - index.keys())
            if unknown:
                raise ValueError(
                    f"TUGame.from_mapping: coalition {sorted(members)} names unknown players "
                    f"{unknown}; players are {list(labels)}"
                )
            v[sum(1 << index[p] for p in members)] = worth
        missing = np.flatnonzero(np.isnan(v))
        if missing.size:
            if default is None:
                table = coalition_matrix(len(labels))
                first = [labels[i] for i in np.flatnonzero(table[missing[0]])]
                raise ValueError(
                    f"TUGame.from_mapping: {missing.size} coalitions have no worth, e.g. "
                    f"{first}; give them all or pass default=0"
                )
            v[missing] = float(default)
        return cls(labels, v, title)

    @classmethod
    def from_function(
        cls,
        players: Sequence[str],
        worth: Callable[[frozenset[str]], float],
        title: str = "",
    ) -> TUGame:
        """A game whose ``v(S)`` is ``worth(frozenset of S's labels)`` for every ``S``.

        ``worth`` is called once per coalition (``2**n`` times); the empty
        coalition is set to 0 without calling it.
        """
        labels = tuple(players)
        table = coalition_matrix(len(labels))
        v = np.zeros(1 << len(labels))
        for mask in range(1, 1 << len(labels)):
            members = frozenset(labels[i] for i in np.flatnonzero(table[mask]))
            v[mask] = float(worth(members))
        return cls(labels, v, title)

    # --------------------------------------------------------------- accessors
    @property
    def n(self) -> int:
        """Number of players."""
        return len(self.players)

    @property
    def grand(self) -> int:
        """Bitmask of the grand coalition, ``2**n - 1``."""
        return (1 << self.n) - 1

    def mask(self, coalition: Iterable[str]) -> int:
        """Bitmask of the coalition whose members have the given labels."""
        index = {label: i for i, label in enumerate(self.players)}
        mask = 0
        for label in coalition:
            if label not in index:
                raise ValueError(
                    f"TUGame.mask: unknown player {label!r}; players are {list(self.players)}"
                )
            mask |= 1 << index[label]
        return mask

    def members(self, mask: int) -> tuple[str, ...]:
        """Labels of the members of coalition ``mask``, in player order."""
        if not 0 <= mask <= self.grand:
            raise ValueError(f"TUGame.members: {mask} is not a coalition of {self.n} players")
        return tuple(p for i, p in enumerate(self.players) if mask >> i & 1)

    def worth(self, coalition: Iterable[str]) -> float:
        """``v(S)`` for the coalition with the given labels."""
        return float(self.v[self.mask(coalition)])

    def coalition_sums(self, x: npt.ArrayLike) -> np.ndarray:
        """``x(S)`` for every coalition: array ``(2**n,)`` from an allocation of shape ``(n,)``."""
        arr = np.asarray(x, dtype=float)
        if arr.shape != (self.n,):
            raise ValueError(
                f"TUGame.coalition_sums: allocation must have shape ({self.n},), got {arr.shape}"
            )
        return coalition_matrix(self.n).astype(float) @ arr

    def excesses(self, x: npt.ArrayLike) -> np.ndarray:
        """Excess ``e(S, x) = v(S) - x(S)`` of every coalition: array ``(2**n,)``."""
        return self.v - self.coalition_sums(x)

    # --------------------------------------------------------------- properties
    def is_superadditive(self) -> bool:
        """Whether ``v(S ∪ T) >= v(S) + v(T)`` for all disjoint ``S, T`` (within tolerance)."""
        s, t = _disjoint_pairs(self.n)
        return bool(np.all(self.v[s | t] - self.v[s] - self.v[t] >= -self.tolerance))

    def is_convex(self) -> bool:
        """Whether ``v`` is supermodular: ``v(S ∪ T) + v(S ∩ T) >= v(S) + v(T)`` for all ``S, T``.

        Checked in the equivalent local form (Shapley 1971): for all ``i != j`` and
        ``S`` without them, ``v(S+i+j) - v(S+j) >= v(S+i) - v(S)``.
        """
        masks = np.arange(1 << self.n, dtype=np.int64)
        for i in range(self.n):
            for j in range(i + 1, self.n):
                bi, bj = 1 << i, 1 << j
                s = masks[(masks & (bi | bj)) == 0]
                gap = self.v[s | bi | bj] - self.v[s | bj] - self.v[s | bi] + self.v[s]
                if np.any(gap < -self.tolerance):
                    return False
        return True

    def is_essential(self) -> bool:
        """Whether ``v(N) > sum_i v({i})`` by more than the tolerance."""
        singles = self.v[1 << np.arange(self.n)]
        return bool(self.v[self.grand] - singles.sum() > self.tolerance)

    def is_simple(self) -> bool:
        """Whether every worth is 0 or 1, ``v(N) = 1`` and ``v`` is monotone (a voting game)."""
        if not np.all((self.v == 0) | (self.v == 1)) or self.v[self.grand] != 1:
            return False
        masks = np.arange(1 << self.n, dtype=np.int64)
        return all(bool(np.all(self.v[masks | (1 << i)] >= self.v[masks])) for i in range(self.n))
