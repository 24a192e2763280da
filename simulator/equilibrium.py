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
    if all(int(np.count_nonzero(p)) == 1 for p in cleaned):
        return _verify_pure(game, cleaned)
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
    pays: list[float] = []
    regs: list[float] = []
    devs: list[int] = []
    for i in range(game.n_players):
        dev = deviation_payoffs(game.payoffs, cleaned, i)
        value = float(np.dot(dev, cleaned[i]))
        pays.append(value)
        regs.append(max(0.0, float(dev.max()) - value))
        devs.append(int(np.argmax(dev)))
    if max(regs) > game.tolerance.payoff:
        return None
    return Equilibrium(
        strategies=cleaned,
        payoffs=tuple(pays),
        regret=tuple(regs),
        best_deviation=tuple(devs),
    )


def pure_deviation_payoffs(payoffs: np.ndarray, indices: Sequence[int], player: int) -> np.ndarray:
    """Payoffs of each pure strategy of ``player`` against the pure profile ``indices``.

    The same as :func:`deviation_payoffs` at a pure profile, by indexing instead of
    contracting the whole tensor (which matters with thousands of pure equilibria,
    and with exact payoffs, where contraction runs on Python objects).
    """
    index: list[int | slice] = [int(k) for k in indices]
    index[player] = slice(None)
    return np.asarray(payoffs[player][tuple(index)])


def _verify_pure(game: StrategicGame, strategies: tuple[np.ndarray, ...]) -> Equilibrium | None:
    indices = [int(np.argmax(p)) for p in strategies]
    exact_payoffs = game.exact_payoffs
    pays, regs, best = [], [], []
    exact_ok = exact_payoffs is not None
    for i in range(game.n_players):
        dev = pure_deviation_payoffs(game.payoffs, indices, i)
        value = float(dev[indices[i]])
        pays.append(value)
        regs.append(max(0.0, float(dev.max()) - value))
        best.append(int(np.argmax(dev)))
        if exact_ok:
            exact_dev = pure_deviation_payoffs(exact_payoffs, indices, i)  # type: ignore[arg-type]
            exact_ok = max(exact_dev) == exact_dev[indices[i]]
    if exact_ok:
        regs = [0.0] * game.n_players
    elif max(regs) > game.tolerance.payoff:
        return None
    exact = tuple(tuple(Fraction(int(p)) for p in s) for s in strategies) if exact_ok else None
    return Equilibrium(
        strategies=strategies,
        payoffs=tuple(pays),
        regret=tuple(regs),
        best_deviation=tuple(best),
        exact=exact,
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
    if game.n_players == 2 and game.exact_payoffs is None and len(candidates) > 1:
        return _verify_bimatrix_batch(game, candidates)
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


def verify_pure_all(
    game: StrategicGame, indices: npt.ArrayLike
) -> tuple[tuple[Equilibrium, ...], int]:
    """Verify many pure profiles at once: the batched form of :func:`verify_all`.

    ``indices`` has shape ``(k, n)``: row ``r`` is a pure profile. Each player's
    deviation payoffs are gathered for all rows in one indexing operation, so
    games with thousands of pure equilibria (ties) verify in one pass. Returns
    the verified equilibria in row order (exact when the game is rational) and
    how many rows failed.
    """
    rows = np.asarray(indices, dtype=np.intp).reshape(-1, game.n_players)
    k = rows.shape[0]
    if k == 0:
        return (), 0
    exact_payoffs = game.exact_payoffs
    values = np.empty((game.n_players, k))
    regret = np.empty((game.n_players, k))
    best = np.empty((game.n_players, k), dtype=np.intp)
    exact_ok = np.full(k, exact_payoffs is not None)
    for i, m in enumerate(game.shape):
        gather: list[np.ndarray] = [rows[:, j, None] for j in range(game.n_players)]
        gather[i] = np.broadcast_to(np.arange(m), (k, m))
        dev = game.payoffs[i][tuple(gather)]  # (k, m_i)
        values[i] = dev[np.arange(k), rows[:, i]]
        regret[i] = np.maximum(dev.max(axis=1) - values[i], 0.0)
        best[i] = dev.argmax(axis=1)
        if exact_payoffs is not None:
            exact_dev = exact_payoffs[i][tuple(gather)]
            played = exact_dev[np.arange(k), rows[:, i]]
            exact_ok &= np.array(
                [max(d) == v for d, v in zip(exact_dev, played, strict=True)], dtype=bool
            )
    ok = exact_ok | (regret.max(axis=0) <= game.tolerance.payoff)
    found: list[Equilibrium] = []
    for r in np.flatnonzero(ok):
        strategies = pure_profile(game, rows[r])
        for s in strategies:
            s.setflags(write=False)
        is_exact = bool(exact_ok[r])
        found.append(
            Equilibrium(
                strategies=strategies,
                payoffs=tuple(float(v) for v in values[:, r]),
                regret=(0.0,) * game.n_players if is_exact else tuple(map(float, regret[:, r])),
                best_deviation=tuple(int(b) for b in best[:, r]),
                exact=(
                    tuple(tuple(Fraction(int(p)) for p in s) for s in strategies)
                    if is_exact
                    else None
                ),
            )
        )
    return tuple(found), int(k - len(found))


def _verify_bimatrix_batch(
    game: StrategicGame, candidates: Sequence[Profile]
) -> tuple[tuple[Equilibrium, ...], int]:
    """:func:`verify_all` for a two-player float game: all regrets in two products.

    The same checks as :func:`verify`, with ``A @ Y`` and ``X @ B`` computed for
    every candidate at once instead of one tensor contraction per profile.
    """
    cleaned: list[tuple[np.ndarray, ...]] = []
    rejected = 0
    for candidate in candidates:
        profile = clean_profile(game, candidate)
        if profile is None:
            rejected += 1
        else:
            cleaned.append(profile)
    if not cleaned:
        return (), rejected
    a, b = game.payoffs[0], game.payoffs[1]
    x = np.stack([p[0] for p in cleaned])  # (k, m)
    y = np.stack([p[1] for p in cleaned])  # (k, n)
    row_dev = y @ a.T  # (k, m): payoff of each row against each candidate's y
    col_dev = x @ b  # (k, n)
    row_value = np.einsum("km,km->k", row_dev, x)
    col_value = np.einsum("kn,kn->k", col_dev, y)
    row_regret = np.maximum(row_dev.max(axis=1) - row_value, 0.0)
    col_regret = np.maximum(col_dev.max(axis=1) - col_value, 0.0)
    ok = np.maximum(row_regret, col_regret) <= game.tolerance.payoff
    seen: set[tuple[float, ...]] = set()
    found: list[Equilibrium] = []
    for k in range(len(cleaned)):
        if not ok[k]:
            rejected += 1
            continue
        eq = Equilibrium(
            strategies=cleaned[k],
            payoffs=(float(row_value[k]), float(col_value[k])),
            regret=(float(row_regret[k]), float(col_regret[k])),
            best_deviation=(int(row_dev[k].argmax()), int(col_dev[k].argmax())),
        )
        key = eq.key()
        if key not in seen:
            seen.add(key)
            found.append(eq)
    return tuple(found), rejected
