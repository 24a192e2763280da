r"""Mixed profiles, deviation payoffs, regret, and the verified equilibrium record.

Every equilibrium negsim reports is an :class:`Equilibrium` built by
:func:`verify`, which computes each player's regret

.. math:: r_i(\sigma) = \max_k u_i(k, \sigma_{-i}) - u_i(\sigma)

and refuses the profile when any :math:`r_i` exceeds the game's tolerance
(:mod:`simulator.tolerance`). Zero regret is what "equilibrium" means, so that is
what is checked (the certificate travels with the result).

Profiles are sequences of 1-D float arrays, one per player, in the game's
player order (see :mod:`simulator.game` for the payoff orientation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from simulator.game import StrategicGame

Profile = Sequence[npt.ArrayLike]


@dataclass(frozen=True, eq=False)
class Equilibrium:
    """A verified Nash equilibrium of a strategic game.

    ``strategies[i]``: player ``i``'s probabilities over its strategies (floats,
    round-off cleaned, summing to 1). ``exact[i]``: the same as Fractions when the
    game is rational and the equilibrium was recovered exactly, else ``None``.
    ``payoffs[i]``: player ``i``'s expected payoff. ``regret[i]``: the most player
    ``i`` gains by deviating (exactly 0 for exact equilibria). ``best_deviation[i]``:
    index of player ``i``'s best pure deviation (a best response).
    """

    strategies: tuple[np.ndarray, ...]
    payoffs: tuple[float, ...]
    regret: tuple[float, ...]
    best_deviation: tuple[int, ...]
    exact: tuple[tuple[Fraction, ...], ...] | None = None

    @property
    def is_pure(self) -> bool:
        return all(int(np.count_nonzero(s)) == 1 for s in self.strategies)

    @property
    def max_regret(self) -> float:
        return max(self.regret)

    def support(self, player: int) -> tuple[int, ...]:
        return tuple(int(k) for k in np.flatnonzero(self.strategies[player]))

    def key(self, digits: int = 7) -> tuple[float, ...]:
        """A hashable key, equal for profiles equal to ``digits`` decimals."""
        return tuple(round(float(p), digits) + 0.0 for s in self.strategies for p in s)


def deviation_payoffs(payoffs: np.ndarray, profile: Profile, player: int) -> np.ndarray:
    r"""Payoffs :math:`u_i(k, \sigma_{-i})` of each pure strategy ``k`` of ``player``.

    ``payoffs`` is the ``(n, m_0, ..., m_{n-1})`` array of a game (float or
    object/Fraction); returns a 1-D array of length ``m_player``.
    """
    n = payoffs.shape[0]
    arr = payoffs[player]
    # Contract the highest axes first so that lower axis numbers stay valid.
    for j in range(n - 1, -1, -1):
        if j == player:
            continue
        arr = np.tensordot(arr, np.asarray(profile[j], dtype=arr.dtype), axes=([j], [0]))
    return np.asarray(arr)


def expected_payoffs(payoffs: np.ndarray, profile: Profile) -> np.ndarray:
    """Each player's expected payoff at ``profile``: a 1-D array of length n."""
    n = payoffs.shape[0]
    return np.array(
        [np.dot(deviation_payoffs(payoffs, profile, i), np.asarray(profile[i])) for i in range(n)],
        dtype=payoffs.dtype,
    )


def regrets(game: StrategicGame, profile: Profile) -> np.ndarray:
    """Each player's regret at ``profile`` (float array of length n, each >= 0)."""
    out = np.empty(game.n_players)
    for i in range(game.n_players):
        dev = deviation_payoffs(game.payoffs, profile, i)
        out[i] = max(0.0, float(dev.max() - np.dot(dev, np.asarray(profile[i], dtype=float))))
    return out


def clean_profile(game: StrategicGame, profile: Profile) -> tuple[np.ndarray, ...] | None:
    """Round-off cleaned copy of ``profile``, or ``None`` if it is not a mixed profile.

    Probabilities within the probability tolerance of 0 become 0 (a solver's
    ``-1e-19`` is a zero, not a reason to drop the equilibrium) and each vector is
    renormalised to sum to 1. Returns ``None`` for wrong lengths, clearly negative
    entries, or sums far from 1.
    """
    tol = game.tolerance.probability
    cleaned = []
    for i, m in enumerate(game.shape):
        p = np.array(profile[i], dtype=float).reshape(-1)
        if p.shape != (m,) or not np.all(np.isfinite(p)):
            return None
        scale = max(1.0, float(np.abs(p).sum()))
        if p.min() < -1e3 * tol * scale:
            return None
        p[np.abs(p) <= 1e3 * tol * scale] = 0.0
        total = p.sum()
        if total <= 0 or abs(total - 1.0) > 1e-6:
            return None
        p = p / total
        p.setflags(write=False)
        cleaned.append(p)
    return tuple(cleaned)


def verify(game: StrategicGame, profile: Profile) -> Equilibrium | None:
    """Verify ``profile`` as a Nash equilibrium of ``game``.

    Returns the :class:`Equilibrium` (with regrets, payoffs and, for rational
    games, exact probabilities when they can be recovered) if every player's
    regret is within ``game.tolerance.payoff``, else ``None``.
    """
    cleaned = clean_profile(game, profile)
    if cleaned is None:
        return None
    from simulator.exact import exact_equilibrium  # local: rational games only

    exact = exact_equilibrium(game, cleaned) if game.exact_payoffs is not None else None
    if exact is not None and not _close(exact, cleaned):
        exact = None  # an exact equilibrium, but not the point the solver found
    if exact is not None:
        strategies = tuple(np.array([float(p) for p in s], dtype=float) for s in exact)
        for s in strategies:
            s.setflags(write=False)
        exact_pay = expected_payoffs(game.exact_payoffs, exact)  # type: ignore[arg-type]
        best = tuple(
            int(np.argmax(deviation_payoffs(game.payoffs, strategies, i)))
            for i in range(game.n_players)
        )
        return Equilibrium(
            strategies=strategies,
            payoffs=tuple(float(v) for v in exact_pay),
            regret=tuple(0.0 for _ in strategies),
            best_deviation=best,
            exact=exact,
        )
    pays = []
    regs = []
    best = []
    for i in range(game.n_players):
        dev = deviation_payoffs(game.payoffs, cleaned, i)
        value = float(np.dot(dev, cleaned[i]))
        pays.append(value)
        regs.append(max(0.0, float(dev.max()) - value))
        best.append(int(np.argmax(dev)))
    if max(regs) > game.tolerance.payoff:
        return None
    return Equilibrium(
        strategies=cleaned,
        payoffs=tuple(pays),
        regret=tuple(regs),
        best_deviation=tuple(best),
    )


def _close(exact: Sequence[Sequence[Fraction]], floats: Sequence[np.ndarray]) -> bool:
    return all(
        np.allclose(np.array([float(v) for v in e]), f, atol=1e-6)
        for e, f in zip(exact, floats, strict=True)
    )


def pure_profile(game: StrategicGame, indices: Sequence[int]) -> tuple[np.ndarray, ...]:
    """The mixed-profile form of the pure profile ``indices``."""
    out = []
    for m, k in zip(game.shape, indices, strict=True):
        p = np.zeros(m)
        p[int(k)] = 1.0
        out.append(p)
    return tuple(out)


def verify_all(
    game: StrategicGame, candidates: Sequence[Profile]
) -> tuple[tuple[Equilibrium, ...], int]:
    """Verify candidates, drop duplicates, and count the ones that failed.

    Returns ``(equilibria, rejected)``: the distinct verified equilibria in the
    order first found, and how many candidates failed verification.
    """
    seen: set[tuple[float, ...]] = set()
    found: list[Equilibrium] = []
    rejected = 0
    for candidate in candidates:
        eq = verify(game, candidate)
        if eq is None:
            rejected += 1
            continue
        key = eq.key()
        if key in seen:
            continue
        seen.add(key)
        found.append(eq)
    return tuple(found), rejected
