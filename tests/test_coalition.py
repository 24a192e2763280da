"""TU coalition games: known answers from the literature and axiomatic properties.

Generators build games that belong to their family by construction (convex games
as non-negative sums of unanimity games, games with a non-empty core from a point
and non-negative slacks, superadditive games as superadditive covers), so no
example is filtered out.
"""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.coalition import (
    TUGame,
    banzhaf_index,
    core_is_empty,
    core_point,
    core_vertices,
    in_core,
    least_core,
    nucleolus,
    prenucleolus,
    shapley_value,
    weighted_voting_game,
)
from simulator.coalition.tu_game import coalition_matrix

SETTINGS = settings(max_examples=40, deadline=None)


# ---------------------------------------------------------------- game families
def glove_game() -> TUGame:
    """One left-glove owner L, two right-glove owners: a pair is worth 1."""
    return TUGame.from_mapping(
        {("L", "R1"): 1, ("L", "R2"): 1, ("L", "R1", "R2"): 1},
        players=("L", "R1", "R2"),
        default=0,
    )


def bankruptcy_game(estate: float, claims: list[float]) -> TUGame:
    """O'Neill (1982): v(S) = max(0, E - claims of the others)."""
    d = np.asarray(claims, dtype=float)
    table = coalition_matrix(d.size)
    outside = (~table).astype(float) @ d
    return TUGame.from_values(np.maximum(0.0, estate - outside))


def airport_game(costs: list[float]) -> TUGame:
    """Littlechild & Owen (1973) cost game: c(S) = the largest cost in S."""
    c = np.asarray(costs, dtype=float)
    table = coalition_matrix(c.size)
    return TUGame.from_values(np.where(table, c[None, :], 0.0).max(axis=1))


def constrained_equal_awards(claims: np.ndarray, amount: float) -> np.ndarray:
    """Give everyone min(claim, lam) with lam chosen so the awards add up to ``amount``."""
    order = np.sort(claims)
    remaining, left = amount, claims.size
    lam = 0.0
    for c in order:
        if c * left >= remaining:
            lam = remaining / left
            break
        remaining -= c
        left -= 1
    else:
        lam = float(order[-1])
    return np.minimum(claims, lam)


def talmud_rule(estate: float, claims: list[float]) -> np.ndarray:
    """Aumann & Maschler (1985): equal awards on half-claims, or equal losses beyond them."""
    d = np.asarray(claims, dtype=float)
    half = d / 2
    if estate <= half.sum():
        return constrained_equal_awards(half, estate)
    return d - constrained_equal_awards(half, d.sum() - estate)


@st.composite
def tu_games(draw: st.DrawFn, min_n: int = 2, max_n: int = 4) -> TUGame:
    n = draw(st.integers(min_n, max_n))
    values = draw(st.lists(st.integers(-20, 20), min_size=(1 << n) - 1, max_size=(1 << n) - 1))
    return TUGame.from_values([0, *values])


@st.composite
def game_pairs(draw: st.DrawFn) -> tuple[TUGame, TUGame]:
    n = draw(st.integers(2, 4))
    values = st.lists(st.integers(-20, 20), min_size=(1 << n) - 1, max_size=(1 << n) - 1)
    return TUGame.from_values([0, *draw(values)]), TUGame.from_values([0, *draw(values)])


@st.composite
def convex_games(draw: st.DrawFn, max_n: int = 4) -> TUGame:
    """Additive game plus a non-negative combination of unanimity games: convex."""
    n = draw(st.integers(2, max_n))
    additive = np.array(draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n)), dtype=float)
    weights = draw(st.lists(st.integers(0, 5), min_size=(1 << n) - 1, max_size=(1 << n) - 1))
    masks = np.arange(1 << n)
    carriers = masks[1:]
    contains = (masks[:, None] & carriers[None, :]) == carriers[None, :]
    v = coalition_matrix(n).astype(float) @ additive + contains @ np.array(weights, dtype=float)
    return TUGame.from_values(v)


@st.composite
def games_with_core(draw: st.DrawFn) -> tuple[TUGame, np.ndarray]:
    """v(S) = x(S) - slack(S) with slack >= 0 and v(N) = x(N): x is in the core."""
    n = draw(st.integers(2, 4))
    x = np.array(draw(st.lists(st.integers(-10, 10), min_size=n, max_size=n)), dtype=float)
    slack = np.array(
        draw(st.lists(st.integers(0, 10), min_size=1 << n, max_size=1 << n)), dtype=float
    )
    slack[0] = slack[-1] = 0.0
    return TUGame.from_values(coalition_matrix(n).astype(float) @ x - slack), x


@st.composite
def superadditive_games(draw: st.DrawFn) -> TUGame:
    """The superadditive cover of a random game, with v(N) raised to make it essential."""
    n = draw(st.integers(2, 4))
    w = [0, *draw(st.lists(st.integers(-10, 10), min_size=(1 << n) - 1, max_size=(1 << n) - 1))]
    v = [0.0] * (1 << n)
    for s in range(1, 1 << n):
        best = float(w[s])
        low = s & -s
        t = (s - 1) & s
        while t:
            if t & low:
                best = max(best, v[t] + v[s ^ t])
            t = (t - 1) & s
        v[s] = best
    singles = sum(v[1 << i] for i in range(n))
    # Raising v(N) keeps superadditivity: N only ever appears as the union.
    v[-1] = max(v[-1], singles + draw(st.integers(1, 10)))
    return TUGame.from_values(v)


def swap_players(game: TUGame, i: int, j: int) -> np.ndarray:
    """Masks with bits i and j exchanged, for every coalition."""
    masks = np.arange(1 << game.n)
    bi, bj = (masks >> i) & 1, (masks >> j) & 1
    return masks & ~((1 << i) | (1 << j)) | (bi << j) | (bj << i)


def marginal_vectors(game: TUGame) -> np.ndarray:
    rows = []
    for order in permutations(range(game.n)):
        x = np.zeros(game.n)
        mask = 0
        for i in order:
            x[i] = game.v[mask | 1 << i] - game.v[mask]
            mask |= 1 << i
        rows.append(x)
    return np.array(rows)


def same_point_sets(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    def covered(p: np.ndarray, q: np.ndarray) -> bool:
        return all(np.min(np.abs(q - row).max(axis=1)) <= tol for row in p)

    return covered(a, b) and covered(b, a)


# ----------------------------------------------------------------- known answers
def test_glove_game() -> None:
    game = glove_game()
    np.testing.assert_allclose(shapley_value(game), [2 / 3, 1 / 6, 1 / 6], atol=game.tolerance)
    np.testing.assert_allclose(core_vertices(game), [[1.0, 0.0, 0.0]], atol=game.tolerance)
    point = core_point(game)
    assert point is not None
    np.testing.assert_allclose(point, [1.0, 0.0, 0.0], atol=game.tolerance)
    found = nucleolus(game)
    np.testing.assert_allclose(found.allocation, [1.0, 0.0, 0.0], atol=game.tolerance)
    assert game.is_superadditive() and not game.is_convex()


def test_eec_council_1958_voting_power() -> None:
    # EEC Council of Ministers 1958: [12; 4, 4, 4, 2, 2, 1] (France, Germany, Italy,
    # Belgium, Netherlands, Luxembourg). Swings 10, 10, 10, 6, 6, 0 out of 42, and
    # Shapley-Shubik 14/60 for the big three, 9/60 for Belgium and the Netherlands,
    # 0 for Luxembourg (Felsenthal & Machover 1998, "The Measurement of Voting Power",
    # section 3.3; Luxembourg a null player). Swings recounted by hand for B and F.
    game = weighted_voting_game([4, 4, 4, 2, 2, 1], 12, ["F", "G", "I", "B", "N", "L"])
    assert game.is_simple() and game.is_superadditive()
    tol = game.tolerance
    np.testing.assert_allclose(banzhaf_index(game), np.array([10, 10, 10, 6, 6, 0]) / 42, atol=tol)
    np.testing.assert_allclose(
        banzhaf_index(game, normalized=False), np.array([10, 10, 10, 6, 6, 0]) / 32, atol=tol
    )
    np.testing.assert_allclose(shapley_value(game), np.array([14, 14, 14, 9, 9, 0]) / 60, atol=tol)


@pytest.mark.parametrize(
    ("estate", "expected"),
    [(100, [100 / 3, 100 / 3, 100 / 3]), (200, [50, 75, 75]), (300, [50, 100, 150])],
)
def test_talmud_bankruptcy_nucleolus(estate: float, expected: list[float]) -> None:
    # Mishnah Ketubot 93a, claims 100, 200, 300; Aumann & Maschler (1985), J. Econ.
    # Theory 36, 195-213: the Talmud's divisions are the nucleoli of the bankruptcy games.
    game = bankruptcy_game(estate, [100, 200, 300])
    np.testing.assert_allclose(nucleolus(game).allocation, expected, atol=game.tolerance)


def test_three_player_nucleolus_by_hand() -> None:
    # v(12) = 80, v(13) = 60, v(23) = 40, v(N) = 100, singletons 0. The three pair
    # excesses add up to x(N) - 180 + 60 = -20 for every efficient x, so the largest
    # is smallest (-20/3) only when they are equal: x = (160/3, 100/3, 40/3).
    game = TUGame.from_values([0, 0, 0, 80, 0, 60, 40, 100])
    found = nucleolus(game)
    np.testing.assert_allclose(found.allocation, [160 / 3, 100 / 3, 40 / 3], atol=game.tolerance)
    assert found.levels[0] == pytest.approx(-20 / 3, abs=game.tolerance)
    assert least_core(game).epsilon == pytest.approx(-20 / 3, abs=game.tolerance)
    np.testing.assert_allclose(
        core_vertices(game), [[40, 40, 20], [60, 20, 20], [60, 40, 0]], atol=game.tolerance
    )


def test_majority_game_has_empty_core() -> None:
    # Three-player majority game: any two win. The core is empty, the least-core
    # value is 1/3 and the (pre)nucleolus is the equal split.
    game = TUGame.from_values([0, 0, 0, 1, 0, 1, 1, 1])
    assert core_is_empty(game)
    assert core_point(game) is None
    assert core_vertices(game).shape == (0, 3)
    assert least_core(game).epsilon == pytest.approx(1 / 3, abs=game.tolerance)
    for found in (nucleolus(game), prenucleolus(game)):
        np.testing.assert_allclose(found.allocation, [1 / 3] * 3, atol=game.tolerance)
    check = in_core(game, [1 / 3, 1 / 3, 1 / 3])
    assert not check.member
    assert len(check.worst) == 2
    assert check.worst_excess == pytest.approx(1 / 3, abs=game.tolerance)


def test_in_core_names_the_violated_coalition() -> None:
    game = glove_game()
    check = in_core(game, [0.5, 0.5, 0.0])
    assert not check.member
    assert check.worst == ("L", "R2")
    assert check.worst_excess == pytest.approx(0.5)
    assert in_core(game, [1.0, 0.0, 0.0]).member
    assert not in_core(game, [1.0, 0.0, 0.1]).member  # not efficient


@SETTINGS
@given(
    st.lists(st.integers(1, 100), min_size=1, max_size=6).map(lambda c: sorted(float(x) for x in c))
)
def test_airport_game_shapley_is_littlechild_owen(costs: list[float]) -> None:
    # Littlechild & Owen (1973): the cost of each runway segment is split equally
    # among the players who need it.
    game = airport_game(costs)
    c = np.array([0.0, *costs])
    n = len(costs)
    segments = [(c[k] - c[k - 1]) / (n - k + 1) for k in range(1, n + 1)]
    expected = np.cumsum(segments)
    np.testing.assert_allclose(shapley_value(game), expected, atol=game.tolerance)


@SETTINGS
@given(
    st.lists(st.integers(1, 50), min_size=2, max_size=4),
    st.floats(0.0, 1.0),
)
def test_bankruptcy_nucleolus_is_talmud_rule(claims: list[int], fraction: float) -> None:
    # Aumann & Maschler (1985), Theorem A: the nucleolus of the bankruptcy game is
    # the division consistent with the contested-garment rule.
    estate = fraction * sum(claims)
    game = bankruptcy_game(estate, [float(c) for c in claims])
    assert game.is_convex()
    np.testing.assert_allclose(
        nucleolus(game).allocation, talmud_rule(estate, [float(c) for c in claims]), atol=1e-7
    )


# -------------------------------------------------------------------- properties
@SETTINGS
@given(tu_games())
def test_shapley_is_efficient(game: TUGame) -> None:
    assert shapley_value(game).sum() == pytest.approx(game.v[game.grand], abs=game.tolerance)


@SETTINGS
@given(tu_games(), st.data())
def test_shapley_is_symmetric(game: TUGame, data: st.DataObject) -> None:
    i, j = data.draw(st.lists(st.integers(0, game.n - 1), min_size=2, max_size=2, unique=True))
    symmetric = TUGame.from_values((game.v + game.v[swap_players(game, i, j)]) / 2)
    phi = shapley_value(symmetric)
    assert phi[i] == pytest.approx(phi[j], abs=symmetric.tolerance)
    beta = banzhaf_index(symmetric, normalized=False)
    assert beta[i] == pytest.approx(beta[j], abs=symmetric.tolerance)


@SETTINGS
@given(tu_games(), st.data())
def test_null_player_gets_zero(game: TUGame, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, game.n - 1))
    masks = np.arange(1 << game.n)
    null = TUGame.from_values(game.v[masks & ~(1 << k)])
    assert shapley_value(null)[k] == pytest.approx(0.0, abs=null.tolerance)
    assert banzhaf_index(null, normalized=False)[k] == pytest.approx(0.0, abs=null.tolerance)


@SETTINGS
@given(game_pairs())
def test_shapley_is_additive(pair: tuple[TUGame, TUGame]) -> None:
    first, second = pair
    total = TUGame.from_values(first.v + second.v)
    np.testing.assert_allclose(
        shapley_value(total),
        shapley_value(first) + shapley_value(second),
        atol=max(first.tolerance, second.tolerance, total.tolerance),
    )


@SETTINGS
@given(tu_games())
def test_core_point_satisfies_every_constraint(game: TUGame) -> None:
    point = core_point(game)
    if point is None:
        assert least_core(game).epsilon > game.tolerance
        return
    excess = game.excesses(point)
    assert abs(excess[game.grand]) <= game.tolerance
    assert np.all(excess <= game.tolerance)


@SETTINGS
@given(convex_games())
def test_convex_game_core_contains_shapley_and_is_spanned_by_marginal_vectors(
    game: TUGame,
) -> None:
    # Shapley (1971): the core of a convex game is the convex hull of the marginal
    # vectors, which are its vertices; the Shapley value is their average.
    assert game.is_convex() and game.is_superadditive()
    assert not core_is_empty(game)
    assert in_core(game, shapley_value(game)).member
    assert same_point_sets(core_vertices(game), marginal_vectors(game), 1e-7)


@SETTINGS
@given(games_with_core())
def test_nucleolus_is_in_a_nonempty_core(case: tuple[TUGame, np.ndarray]) -> None:
    game, inside = case
    assert in_core(game, inside).member
    assert not core_is_empty(game)
    found = nucleolus(game)
    assert in_core(game, found.allocation).member
    # Its largest excess is the least-core value, and on a non-empty core the
    # prenucleolus coincides with it.
    proper = game.excesses(found.allocation)[1 : game.grand]
    assert proper.max() == pytest.approx(least_core(game).epsilon, abs=1e-7)
    np.testing.assert_allclose(prenucleolus(game).allocation, found.allocation, atol=1e-7)
    assert list(found.levels) == sorted(found.levels, reverse=True)


@SETTINGS
@given(superadditive_games())
def test_nucleolus_is_an_imputation(game: TUGame) -> None:
    assert game.is_superadditive() and game.is_essential()
    x = nucleolus(game).allocation
    assert x.sum() == pytest.approx(game.v[game.grand], abs=game.tolerance)
    singles = game.v[1 << np.arange(game.n)]
    assert np.all(x >= singles - game.tolerance)


@SETTINGS
@given(tu_games(max_n=3))
def test_nucleolus_is_lexicographically_no_worse_than_core_vertices(game: TUGame) -> None:
    # Any other imputation, such as a core vertex, has a sorted excess vector that is
    # lexicographically at least the nucleolus's.
    singles = game.v[1 << np.arange(game.n)]
    if game.v[game.grand] < singles.sum():
        with pytest.raises(ValueError, match="nucleolus"):
            nucleolus(game)
        return
    x = nucleolus(game).allocation
    mine = np.sort(game.excesses(x)[1 : game.grand])[::-1]
    for other in core_vertices(game):
        theirs = np.sort(game.excesses(other)[1 : game.grand])[::-1]
        differ = np.flatnonzero(np.abs(mine - theirs) > 1e-7)
        assert differ.size == 0 or mine[differ[0]] < theirs[differ[0]]


# ------------------------------------------------------------------------ errors
def test_from_mapping_needs_every_coalition_or_a_default() -> None:
    with pytest.raises(ValueError, match="from_mapping"):
        TUGame.from_mapping({("A", "B"): 1.0})
    game = TUGame.from_mapping({frozenset({"A", "B"}): 1.0}, default=0)
    assert game.players == ("A", "B")
    assert game.worth(["B", "A"]) == 1.0 and game.worth(["A"]) == 0.0
    with pytest.raises(ValueError, match="unknown players"):
        TUGame.from_mapping({("A", "C"): 1.0}, players=("A", "B"), default=0)
    with pytest.raises(ValueError, match="twice"):
        TUGame.from_mapping({("A", "B"): 1.0, ("B", "A"): 2.0}, default=0)


def test_from_function_matches_from_mapping() -> None:
    built = TUGame.from_function(("L", "R1", "R2"), lambda s: float("L" in s and len(s) >= 2))
    np.testing.assert_array_equal(built.v, glove_game().v)


def test_invalid_games_are_rejected() -> None:
    with pytest.raises(ValueError, match="empty coalition"):
        TUGame.from_values([1.0, 0.0])
    with pytest.raises(ValueError, match="2\\*\\*n"):
        TUGame.from_values([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="weighted_voting_game"):
        weighted_voting_game([1, 2], 4)
    with pytest.raises(ValueError, match="banzhaf_index"):
        banzhaf_index(TUGame.from_values([0.0, 0.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="core_vertices"):
        core_vertices(TUGame.from_values(np.zeros(1 << 6)))
