"""Our solvers against Gambit's (pygambit) exact answers on random games.

Gambit's ``enummixed_solve(rational=True)`` lists every extreme equilibrium of a
two-player game exactly, degenerate games included, and ``enumpure_solve`` every
pure equilibrium of an n-player game; both are independent implementations.
Integer payoffs drawn from a small range make ties, hence degenerate games,
common; games with duplicated rows or columns are degenerate by construction.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.game import StrategicGame
from simulator.solvers import solve

gbt = pytest.importorskip("pygambit", reason="pygambit (test extra) not installed")

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def bimatrix_games(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    m = draw(st.integers(1, 5))
    n = draw(st.integers(1, 5))
    high = draw(st.sampled_from([1, 2, 3, 9, 99]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = rng.integers(-high, high + 1, size=(m, n))
    b = rng.integers(-high, high + 1, size=(m, n))
    if draw(st.booleans()) and m > 1:
        a[1] = a[0]  # a duplicated row: degenerate by construction
        b[1] = b[0]
    if draw(st.booleans()) and n > 1:
        a[:, -1] = a[:, 0]
        b[:, -1] = b[:, 0]
    return a, b


def _gambit_extreme(a: np.ndarray, b: np.ndarray) -> set[tuple[Fraction, ...]]:
    game = gbt.Game.from_arrays(a.astype(int).tolist(), b.astype(int).tolist())
    result = gbt.nash.enummixed_solve(game, rational=True)
    out = set()
    for eq in result.equilibria:
        out.add(tuple(Fraction(str(eq[s])) for player in game.players for s in player.strategies))
    return out


def _ours(game: StrategicGame, method: str) -> set[tuple[Fraction, ...]]:
    result = solve(game, method)
    assert result.complete
    out = set()
    for eq in result.equilibria:
        assert eq.exact is not None, "integer games give exact equilibria"
        out.add(tuple(p for s in eq.exact for p in s))
    return out


@SETTINGS
@given(bimatrix_games())
def test_extreme_equilibria_match_gambit_enummixed(ab: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = ab
    game = StrategicGame.from_bimatrix(a, b)
    expected = _gambit_extreme(a, b)
    assert _ours(game, "vertex-enumeration") == expected
    assert _ours(game, "support-enumeration") == expected


@st.composite
def nplayer_games(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(3, 4))
    shape = tuple(draw(st.integers(1, 3)) for _ in range(n))
    seed = draw(st.integers(0, 2**32 - 1))
    high = draw(st.sampled_from([1, 2, 9]))
    return np.random.default_rng(seed).integers(-high, high + 1, size=(n, *shape))


@SETTINGS
@given(nplayer_games())
def test_pure_equilibria_match_gambit_enumpure(payoffs: np.ndarray) -> None:
    game = StrategicGame.from_payoffs(payoffs)
    gambit = gbt.Game.from_arrays(*[payoffs[i].astype(int).tolist() for i in range(len(payoffs))])
    expected = set()
    for eq in gbt.nash.enumpure_solve(gambit).equilibria:
        expected.add(
            tuple(
                int(np.argmax([float(eq[s]) for s in player.strategies]))
                for player in gambit.players
            )
        )
    ours = {tuple(int(s.argmax()) for s in eq.strategies) for eq in solve(game, "pure").equilibria}
    assert ours == expected
