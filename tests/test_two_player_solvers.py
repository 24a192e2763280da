"""All extreme equilibria of two-player games: support and vertex enumeration.

Known answers first, then properties that must hold on every game (zero regret,
the two methods agree with each other, with an exact brute-force enumeration,
with nashpy and with Gambit, invariance under relabelling and under positive
affine maps of payoffs, the degeneracy flag), then the reference games.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Callable, Iterable
from fractions import Fraction
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from game_strategies import (
    bimatrix_games,
    degenerate_bimatrix_games,
    generic_bimatrix_games,
    n_player_games,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.equilibrium import regrets
from simulator.game import StrategicGame
from simulator.results import SolverResult
from simulator.solvers.best_response_polytope import DEGENERATE_NOTE, SCOPE
from simulator.solvers.support_enumeration import support_enumeration
from simulator.solvers.vertex_enumeration import vertex_enumeration

Solver = Callable[[StrategicGame], SolverResult]
SOLVERS = [support_enumeration, vertex_enumeration]
ExactSet = set[tuple[tuple[Fraction, ...], ...]]

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def exact_set(result: SolverResult) -> ExactSet:
    """The equilibria as exact fractions (every one must have been recovered exactly)."""
    out: ExactSet = set()
    for eq in result.equilibria:
        assert eq.exact is not None, f"{result.method}: no exact form for {eq.strategies}"
        out.add(tuple(tuple(s) for s in eq.exact))
    return out


def float_key(strategies: Iterable[Iterable[float]]) -> tuple[float, ...]:
    return tuple(round(float(p), 6) + 0.0 for s in strategies for p in s)


def float_set(result: SolverResult) -> set[tuple[float, ...]]:
    return {float_key(eq.strategies) for eq in result.equilibria}


def fractions(*rows: Iterable[object]) -> tuple[tuple[Fraction, ...], ...]:
    return tuple(tuple(Fraction(v) for v in row) for row in rows)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# An independent oracle: exact brute force over all bases of both polytopes.
# --------------------------------------------------------------------------
def _solve_exact(rows: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction] | None:
    size = len(rows)
    m = [[*row, b] for row, b in zip(rows, rhs, strict=True)]
    for col in range(size):
        pivot = next((r for r in range(col, size) if m[r][col] != 0), None)
        if pivot is None:
            return None
        m[col], m[pivot] = m[pivot], m[col]
        m[col] = [v / m[col][col] for v in m[col]]
        for r in range(size):
            if r != col and m[r][col] != 0:
                f = m[r][col]
                m[r] = [v - f * w for v, w in zip(m[r], m[col], strict=True)]
    return [m[r][size] for r in range(size)]


def _exact_vertices(c: list[list[Fraction]]) -> dict[tuple[Fraction, ...], frozenset[int]]:
    """Nonzero vertices of {z >= 0, Cz <= 1} with their labels (z_i = 0: i; row r tight: d + r)."""
    k, d = len(c), len(c[0])
    constraints = [[Fraction(int(i == j)) for j in range(d)] for i in range(d)] + c
    rhs = [Fraction(0)] * d + [Fraction(1)] * k
    out = {}
    for chosen in combinations(range(d + k), d):
        z = _solve_exact([constraints[s] for s in chosen], [rhs[s] for s in chosen])
        if z is None or min(z) < 0 or not any(z):
            continue
        slack = [1 - sum(a * v for a, v in zip(row, z, strict=True)) for row in c]
        if min(slack) < 0:
            continue
        labels = {i for i, v in enumerate(z) if v == 0} | {
            d + r for r, s in enumerate(slack) if s == 0
        }
        out[tuple(z)] = frozenset(labels)
    return out


def brute_force_extreme_equilibria(game: StrategicGame) -> ExactSet:
    """All extreme equilibria by brute force in rational arithmetic (small games only)."""
    assert game.exact_payoffs is not None
    a = [[Fraction(v) for v in row] for row in game.exact_payoffs[0]]
    b = [[Fraction(v) for v in row] for row in game.exact_payoffs[1]]
    m, n = len(a), len(a[0])
    low = min(min(min(r) for r in a), min(min(r) for r in b))
    a = [[v - low + 1 for v in row] for row in a]
    b = [[v - low + 1 for v in row] for row in b]
    p = _exact_vertices([[b[i][j] for i in range(m)] for j in range(n)])
    q = _exact_vertices(a)
    # Q's own labels: y_j = 0 is j, row i tight is n + i; globally m + j and i.
    q_global = {
        y: frozenset(m + lab if lab < n else lab - n for lab in labs) for y, labs in q.items()
    }
    everything = frozenset(range(m + n))
    return {
        (tuple(v / sum(x) for v in x), tuple(v / sum(y) for v in y))
        for x, lx in p.items()
        for y, ly in q_global.items()
        if lx | ly == everything
    }


def nashpy_vertex_set(game: StrategicGame) -> set[tuple[float, ...]]:
    import nashpy

    a, b = game.bimatrix()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = list(nashpy.Game(a, b).vertex_enumeration())
    # On nearly degenerate games nashpy also returns points whose regret is about
    # 1e-7 (seen: a 4x4 game with two nearly equal columns): not equilibria at our
    # tolerance, so the oracle keeps only the pairs that pass verification.
    return {
        float_key(pair)
        for pair in pairs
        if np.all(regrets(game, [np.clip(p, 0, None) for p in pair]) <= game.tolerance.payoff)
    }


# --------------------------------------------------------------------------
# Known answers
# --------------------------------------------------------------------------
KNOWN = {
    "matching pennies": (
        [[1, -1], [-1, 1]],
        [[-1, 1], [1, -1]],
        {fractions(["1/2", "1/2"], ["1/2", "1/2"])},
        False,
    ),
    "battle of the sexes": (
        [[2, 0], [0, 1]],
        [[1, 0], [0, 2]],
        {
            fractions([1, 0], [1, 0]),
            fractions([0, 1], [0, 1]),
            fractions(["2/3", "1/3"], ["1/3", "2/3"]),
        },
        False,
    ),
    "prisoner's dilemma": (
        [[3, 0], [5, 1]],
        [[3, 5], [0, 1]],
        {fractions([0, 1], [0, 1])},
        False,
    ),
    # The row player's rows are identical, so it is indifferent; the column
    # player matches the likelier row. Equilibria: x1 >= 1/2 with column 1,
    # x1 <= 1/2 with column 2, and x = (1/2, 1/2) with any y: a continuum
    # whose extreme points are these four.
    "identical rows (continuum)": (
        [[1, 0], [1, 0]],
        [[1, 0], [0, 1]],
        {
            fractions([1, 0], [1, 0]),
            fractions(["1/2", "1/2"], [1, 0]),
            fractions(["1/2", "1/2"], [0, 1]),
            fractions([0, 1], [0, 1]),
        },
        True,
    ),
    # Every profile is an equilibrium; the extreme ones are the pure profiles.
    "zero game 2x3": (
        [[0, 0, 0], [0, 0, 0]],
        [[0, 0, 0], [0, 0, 0]],
        {
            fractions(np.eye(2, dtype=int)[i], np.eye(3, dtype=int)[j])
            for i in range(2)
            for j in range(3)
        },
        True,
    ),
    # 3x2: two pure equilibria and rows 1-2 against columns 1-2 mixed
    # (column indifferent: 2 x1 = 3 x2; row indifferent: 3 y1 = 2 y2; row 3
    # earns 1 < 6/5).
    "3x2": (
        [[3, 0], [0, 2], [1, 1]],
        [[2, 0], [0, 3], [2, 1]],
        {
            fractions([1, 0, 0], [1, 0]),
            fractions([0, 1, 0], [0, 1]),
            fractions(["3/5", "2/5", 0], ["2/5", "3/5"]),
        },
        False,
    ),
    # 2x5: columns 3-5 are never best responses at an equilibrium.
    "2x5": (
        [[1, 0, 3, 0, 2], [0, 2, 0, 1, 1]],
        [[3, 0, 1, 2, 0], [0, 3, 1, 0, 2]],
        {
            fractions([1, 0], [1, 0, 0, 0, 0]),
            fractions([0, 1], [0, 1, 0, 0, 0]),
            fractions(["1/2", "1/2"], ["2/3", "1/3", 0, 0, 0]),
        },
        False,
    ),
}


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: s.__name__)
@pytest.mark.parametrize("name", list(KNOWN))
def test_known_games(solver: Solver, name: str) -> None:
    a, b, expected, degenerate = KNOWN[name]
    game = StrategicGame.from_bimatrix(a, b, title=name)
    result = solver(game)
    assert result.method == solver.__name__
    assert result.complete
    assert result.scope == SCOPE
    assert result.degenerate is degenerate
    assert (DEGENERATE_NOTE in result.notes) is degenerate
    assert result.rejected == 0
    assert result.elapsed > 0
    assert all(eq.max_regret <= result.tolerance for eq in result.equilibria)
    assert exact_set(result) == expected


def test_battle_of_the_sexes_is_exact() -> None:
    a, b, _, _ = KNOWN["battle of the sexes"]
    result = vertex_enumeration(StrategicGame.from_bimatrix(a, b))
    mixed = [eq for eq in result.equilibria if not eq.is_pure]
    assert len(mixed) == 1
    assert mixed[0].exact == ((Fraction(2, 3), Fraction(1, 3)), (Fraction(1, 3), Fraction(2, 3)))
    assert mixed[0].regret == (0.0, 0.0)


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: s.__name__)
def test_rejects_other_player_counts(solver: Solver) -> None:
    game = StrategicGame.from_payoffs(np.zeros((3, 2, 2, 2)))
    with pytest.raises(ValueError, match=solver.__name__):
        solver(game)


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: s.__name__)
def test_one_strategy_each(solver: Solver) -> None:
    result = solver(StrategicGame.from_bimatrix([[4]], [[-2]]))
    assert exact_set(result) == {fractions([1], [1])}
    assert result.degenerate is False


# --------------------------------------------------------------------------
# Reference games (Gambit files and Gambit's answers)
# --------------------------------------------------------------------------
def reference_games() -> Path | None:
    env = os.environ.get("NEGSIM_REFERENCE_GAMES")
    folder = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "games"
    return folder if (folder / "answers.json").is_file() else None


def read_payoff_list_nfg(path: Path) -> StrategicGame:
    """A two-player payoff-list ``.nfg`` (enough for the file below; the project's
    reader is :mod:`simulator.formats.nfg`)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', " label ", path.read_text())
    header, _, numbers = text.rpartition("}")
    counts = [len(group.split()) for group in re.findall(r"\{([^{}]*)\}", header)[-2:]]
    values = np.array([int(v) for v in numbers.split() if v != "label"], dtype=np.int64)
    # Profiles run with the first player's strategy fastest; each lists both payoffs.
    per_profile = values.reshape(counts[1], counts[0], 2)
    return StrategicGame.from_bimatrix(per_profile[:, :, 0].T, per_profile[:, :, 1].T)


@pytest.mark.reference
@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: s.__name__)
def test_von_stengel_75_equilibria(solver: Solver) -> None:
    folder = reference_games()
    path = folder / "games" / "6x6_game_with_75_eq.nfg" if folder else None
    if path is None or not path.is_file():
        pytest.skip("reference games (../shared/games) not available")
    result = solver(read_payoff_list_nfg(path))
    assert len(result.equilibria) == 75
    assert result.degenerate is False
    assert len(exact_set(result)) == 75


def _gambit_two_player_nfg() -> list[str]:
    folder = reference_games()
    if folder is None:
        return []
    answers = json.loads((folder / "answers.json").read_text())
    return sorted(
        name
        for name, entry in answers.items()
        if entry.get("kind") == "nfg" and entry.get("players") == 2 and entry.get("mixed_complete")
    )


@pytest.mark.reference
@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: s.__name__)
@pytest.mark.parametrize("name", _gambit_two_player_nfg() or ["(none)"])
def test_gambit_extreme_equilibria(solver: Solver, name: str) -> None:
    folder = reference_games()
    if folder is None:
        pytest.skip("reference games (../shared/games) not available")
    nfg = pytest.importorskip("simulator.formats.nfg")
    entry = json.loads((folder / "answers.json").read_text())[name]
    game = nfg.read_nfg(folder / "games" / name)
    result = solver(game)
    expected = {fractions(*profile) for profile in entry["mixed_equilibria"]}
    assert exact_set(result) == expected


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------
@PROPERTY
@given(game=st.one_of(bimatrix_games(), degenerate_bimatrix_games(), generic_bimatrix_games()))
def test_every_equilibrium_has_zero_regret(game: StrategicGame) -> None:
    for solver in SOLVERS:
        result = solver(game)
        assert result.equilibria, "every finite game has an equilibrium"
        for eq in result.equilibria:
            assert np.all(regrets(game, eq.strategies) <= game.tolerance.payoff)
            for s in eq.strategies:
                assert np.all(s >= 0) and np.isclose(s.sum(), 1.0)


@PROPERTY
@given(game=st.one_of(bimatrix_games(max_size=5), degenerate_bimatrix_games(max_size=5)))
def test_methods_agree_with_each_other_and_brute_force(game: StrategicGame) -> None:
    support = support_enumeration(game)
    vertex = vertex_enumeration(game)
    expected = brute_force_extreme_equilibria(game) if max(game.shape) <= 4 else exact_set(vertex)
    assert exact_set(support) == expected
    assert exact_set(vertex) == expected
    assert support.degenerate == vertex.degenerate


@PROPERTY
@given(game=generic_bimatrix_games(min_size=2, max_size=4))
def test_generic_games_match_nashpy(game: StrategicGame) -> None:
    expected = nashpy_vertex_set(game)
    assert float_set(vertex_enumeration(game)) == expected
    assert float_set(support_enumeration(game)) == expected


@PROPERTY
@given(game=st.one_of(bimatrix_games(min_size=2), degenerate_bimatrix_games()))
def test_integer_games_contain_nashpy(game: StrategicGame) -> None:
    # nashpy's vertex enumeration misses equilibria of some degenerate games
    # (see the next test) and raises on others, so on these games it is a
    # lower bound; the brute-force test above gives the exact set.
    result = vertex_enumeration(game)
    try:
        theirs = nashpy_vertex_set(game)
    except (TypeError, ValueError, RuntimeError):  # scipy's QhullError is a RuntimeError
        assert result.degenerate, "nashpy failed on a nondegenerate game"
        return
    ours = float_set(result)
    assert theirs <= ours
    if not result.degenerate:
        assert theirs == ours


def test_nashpy_misses_a_pure_equilibrium_we_find() -> None:
    # Row 2 makes the column player indifferent and column 1 makes rows 1 and
    # 2 best responses, so (row 2, column 1) is a pure equilibrium; nashpy's
    # vertex enumeration (0.0.43) does not list it.
    game = StrategicGame.from_bimatrix([[2, 2], [2, 0], [0, 2]], [[0, 1], [0, 0], [1, 1]])
    ours = exact_set(vertex_enumeration(game))
    assert fractions([0, 1, 0], [1, 0]) in ours
    assert ours == brute_force_extreme_equilibria(game)


@PROPERTY
@given(
    game=st.one_of(bimatrix_games(), degenerate_bimatrix_games()),
    player=st.integers(0, 1),
    scale=st.integers(1, 7),
    shift=st.integers(-10, 10),
)
def test_invariant_under_positive_affine_maps(
    game: StrategicGame, player: int, scale: int, shift: int
) -> None:
    assert game.exact_payoffs is not None
    a, b = game.exact_payoffs
    if player == 0:
        a = a * scale + shift
    else:
        b = b * scale + shift
    mapped = StrategicGame.from_bimatrix(a, b)
    for solver in SOLVERS:
        assert exact_set(solver(mapped)) == exact_set(solver(game))


@PROPERTY
@given(game=st.one_of(bimatrix_games(), degenerate_bimatrix_games()), data=st.data())
def test_invariant_under_relabelling(game: StrategicGame, data: st.DataObject) -> None:
    m, n = game.shape
    rows = data.draw(st.permutations(range(m)))
    cols = data.draw(st.permutations(range(n)))
    relabelled = game.restrict([rows, cols])
    for solver in SOLVERS:
        # Equilibrium of the relabelled game, read back in the original labels.
        back = {
            (
                tuple(x[rows.index(i)] for i in range(m)),
                tuple(y[cols.index(j)] for j in range(n)),
            )
            for x, y in exact_set(solver(relabelled))
        }
        assert back == exact_set(solver(game))


@PROPERTY
@given(game=degenerate_bimatrix_games())
def test_degenerate_games_are_flagged(game: StrategicGame) -> None:
    for solver in SOLVERS:
        result = solver(game)
        assert result.degenerate is True
        assert DEGENERATE_NOTE in result.notes
        assert result.complete


@PROPERTY
@given(game=generic_bimatrix_games(min_size=1, max_size=5))
def test_generic_games_are_not_flagged(game: StrategicGame) -> None:
    for solver in SOLVERS:
        result = solver(game)
        assert result.degenerate is False
        assert not result.notes


@settings(max_examples=20, deadline=None)
@given(game=n_player_games())
def test_n_player_games_are_refused(game: StrategicGame) -> None:
    for solver in SOLVERS:
        with pytest.raises(ValueError, match="two-player"):
            solver(game)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_vertex_enumeration_matches_support_enumeration_at_7x7(seed: int) -> None:
    rng = np.random.default_rng(seed)
    generic = StrategicGame.from_bimatrix(rng.random((7, 7)), rng.random((7, 7)))
    tied = StrategicGame.from_bimatrix(rng.integers(0, 3, (7, 6)), rng.integers(0, 3, (7, 6)))
    assert float_set(vertex_enumeration(generic)) == float_set(support_enumeration(generic))
    assert exact_set(vertex_enumeration(tied)) == exact_set(support_enumeration(tied))


@pytest.mark.parametrize("shape", [(2, 66), (66, 2)])
def test_games_with_more_than_64_labels(shape: tuple[int, int]) -> None:
    # Bases and label sets no longer fit in one 64-bit word.
    rng = np.random.default_rng(3)
    tied = StrategicGame.from_bimatrix(rng.integers(0, 4, shape), rng.integers(0, 4, shape))
    generic = StrategicGame.from_bimatrix(rng.random(shape), rng.random(shape))
    assert exact_set(vertex_enumeration(tied)) == exact_set(support_enumeration(tied))
    assert float_set(vertex_enumeration(generic)) == float_set(support_enumeration(generic))


@pytest.mark.parametrize("row_by_row", [True, False])
def test_both_pivot_paths_agree(monkeypatch: pytest.MonkeyPatch, row_by_row: bool) -> None:
    # _pivot updates large levels row by row and small ones whole; force each.
    from simulator.solvers import vertex_enumeration as module

    monkeypatch.setattr(module, "_ROW_BY_ROW", 0 if row_by_row else 1 << 62)
    rng = np.random.default_rng(11)
    games = [
        StrategicGame.from_bimatrix(rng.random((6, 6)), rng.random((6, 6))),
        StrategicGame.from_bimatrix(rng.integers(0, 3, (6, 5)), rng.integers(0, 3, (6, 5))),
        StrategicGame.from_bimatrix(np.zeros((4, 4), dtype=int), np.zeros((4, 4), dtype=int)),
    ]
    for game in games:
        assert float_set(vertex_enumeration(game)) == float_set(support_enumeration(game))


@PROPERTY
@given(
    game=st.one_of(bimatrix_games(max_size=4, low=0, high=2), degenerate_bimatrix_games()),
    seed=st.integers(0, 2**32 - 1),
)
def test_ties_broken_far_below_the_tolerance_are_still_ties(game: StrategicGame, seed: int) -> None:
    # Payoff differences of 1e-12 of the spread (the tolerance is 1e-9) leave
    # the game, as far as the solvers are concerned, the degenerate game it was.
    # (A constant game has no spread to measure them against: left as it is.)
    a, b = game.bimatrix()
    spread = float(game.payoffs.max() - game.payoffs.min())
    noise = np.random.default_rng(seed).standard_normal((2, *game.shape)) * 1e-12 * spread
    nearby = StrategicGame.from_bimatrix(a + noise[0], b + noise[1])
    exact = vertex_enumeration(game)
    for solver in SOLVERS:
        result = solver(nearby)
        assert result.complete
        assert result.degenerate == exact.degenerate
        assert float_set(result) == float_set(exact)
