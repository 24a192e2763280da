"""Coalition games derived from a deal space: known answers, invariants and the NTU core.

Random problems are built valid by construction. Player ``i`` values issue ``j``
(in ``[0, 1]``) as ``a_ij * z_j ** p_j - c_ij * z_j`` with ``a, c >= 0`` and ``p`` in
``(0, 1]``, so every coalition's total is concave and the optimizer's maximum is
the global one. *Separable* problems let only the players whose consent an
issue needs care about it and have no linear constraints; *general* ones add
externalities (everyone cares about every issue), a budget ``sum z <= b`` that
ties issues of different coalitions together, and arbitrary disagreement points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import qmc

from simulator.bargaining import BargainingProblem, nash_bargaining
from simulator.coalition import core_point, core_vertices, in_core, shapley_value
from simulator.coalition.deal_space import DerivedCoalitionGame, derived_tu_game
from simulator.coalition.ntu_core import ntu_core_check, ntu_core_deal
from simulator.coalition.tu_game import coalition_matrix

SETTINGS = settings(max_examples=20, deadline=None)


@dataclass(frozen=True)
class PerIssue:
    """``u_i(z) = shift_i + sum_j a_ij z_j ** p_j - c_ij z_j`` for deals of shape ``(..., k)``."""

    a: np.ndarray  # (n, k)
    c: np.ndarray  # (n, k)
    p: np.ndarray  # (k,)
    shift: np.ndarray | float = 0.0  # (n,)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        zz = np.maximum(z, 0.0)
        return self.shift + (zz**self.p) @ self.a.T - zz @ self.c.T


def unit_split(d: np.ndarray) -> BargainingProblem:
    """Shares ``z_i`` of a unit surplus, ``u_i = z_i``, ``sum z <= 1``."""
    n = d.size
    return BargainingProblem(
        players=tuple(f"p{i}" for i in range(n)),
        lower=np.zeros(n),
        upper=np.ones(n),
        utility=lambda z: z,
        disagreement=d,
        A_ub=np.ones((1, n)),
        b_ub=np.ones(1),
    )


def two_markets() -> BargainingProblem:
    """A seller (0) with one unit, sold in market a (buyer 1) or b (buyer 2).

    ``u_0 = -0.5 (a + b)`` (production cost), ``u_1 = 3a``, ``u_2 = 2b``,
    capacity ``a + b <= 1``; market a needs {0, 1}, market b needs {0, 2}.
    """

    def utility(z: np.ndarray) -> np.ndarray:
        a, b = z[..., 0], z[..., 1]
        return np.stack([-0.5 * (a + b), 3.0 * a, 2.0 * b], axis=-1)

    return BargainingProblem(
        players=("seller", "buyer_a", "buyer_b"),
        lower=np.zeros(2),
        upper=np.ones(2),
        utility=utility,
        disagreement=np.zeros(3),
        A_ub=np.ones((1, 2)),
        b_ub=np.ones(1),
        issues=("a", "b"),
    )


TWO_MARKET_NEEDS = [{0, 1}, {0, 2}]


def side_deal(d: np.ndarray | None = None) -> BargainingProblem:
    """US, RU, UA share a unit surplus (needs all three); aluminium ``a`` needs US and RU.

    ``u = (s_US + 0.4 a, s_RU + 0.4 a, s_UA - 0.9 a)``: the aluminium deal is worth
    0.8 to the pair and costs Ukraine 0.9, so the grand coalition forgoes it.
    """

    def utility(z: np.ndarray) -> np.ndarray:
        a = z[..., 3]
        return np.stack([z[..., 0] + 0.4 * a, z[..., 1] + 0.4 * a, z[..., 2] - 0.9 * a], axis=-1)

    return BargainingProblem(
        players=("US", "RU", "UA"),
        lower=np.zeros(4),
        upper=np.ones(4),
        utility=utility,
        disagreement=np.zeros(3) if d is None else d,
        A_ub=np.array([[1.0, 1.0, 1.0, 0.0]]),
        b_ub=np.ones(1),
        issues=("share_US", "share_RU", "share_UA", "aluminium"),
    )


SIDE_DEAL_NEEDS = [{0, 1, 2}] * 3 + [{0, 1}]


@dataclass(frozen=True)
class Case:
    problem: BargainingProblem
    needs: list[set[int]]
    status_quo: np.ndarray


@st.composite
def per_issue_cases(draw: st.DrawFn, separable: bool) -> Case:
    n = draw(st.integers(3, 4))
    k = draw(st.integers(2, 4))
    unit = st.floats(0.0, 1.0)
    needs = [
        draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=n).map(set)) for _ in range(k)
    ]
    a = 2.0 * np.array(draw(st.lists(unit, min_size=n * k, max_size=n * k))).reshape(n, k)
    c = 1.5 * np.array(draw(st.lists(unit, min_size=n * k, max_size=n * k))).reshape(n, k)
    linear = draw(st.booleans())
    p = (
        np.ones(k)
        if linear
        else np.array(draw(st.lists(st.floats(0.3, 1.0), min_size=k, max_size=k)))
    )
    sq = np.array(draw(st.lists(unit, min_size=k, max_size=k)))
    if separable:
        cares = np.array([[i in needs[j] for j in range(k)] for i in range(n)])
        a, c = np.where(cares, a, 0.0), np.where(cares, c, 0.0)
    utility = PerIssue(a, c, p)
    below = np.array(draw(st.lists(st.floats(0.0, 0.5), min_size=n, max_size=n)))
    if separable:
        d = utility(sq) - below  # the status quo is at least as good as disagreement
        a_ub = b_ub = None
    else:
        d = utility(sq) + below - 0.25
        budget = draw(st.floats(0.5, float(k)))
        a_ub, b_ub = np.ones((1, k)), np.array([budget])
    problem = BargainingProblem(
        players=tuple(f"p{i}" for i in range(n)),
        lower=np.zeros(k),
        upper=np.ones(k),
        utility=utility,
        disagreement=d,
        A_ub=a_ub,
        b_ub=b_ub,
    )
    return Case(problem, needs, sq)


def reach_sample(case: Case, mask: int, size: int = 512) -> np.ndarray:
    """Feasible deals of coalition ``mask``'s reach (out-of-reach issues at the status quo)."""
    problem = case.problem
    free = np.array(
        [g <= {i for i in range(problem.n_players) if mask >> i & 1} for g in case.needs]
    )
    unit = qmc.Halton(d=problem.n_issues, seed=1).random(size)
    deals = np.where(free, problem.lower + unit * (problem.upper - problem.lower), case.status_quo)
    return deals[problem.feasible(deals)]


def members(n: int, mask: int) -> np.ndarray:
    return coalition_matrix(n)[mask]


# ---------------------------------------------------------------- known answers


@pytest.mark.parametrize("d", [[0.0, 0.0, 0.0], [0.1, 0.2, 0.05], [0.3, 0.0, 0.4]])
def test_unit_split_needing_everyone(d: list[float]) -> None:
    disagreement = np.array(d)
    derived = derived_tu_game(unit_split(disagreement), [{0, 1, 2}] * 3, np.zeros(3))
    table = coalition_matrix(3)
    tol = derived.tolerance
    for mask in range(1, 7):
        assert derived.game.v[mask] == pytest.approx(disagreement[table[mask]].sum(), abs=tol)
        assert derived.deals[mask] is None
        assert derived.reach[mask] == ()
    assert derived.game.v[7] == pytest.approx(1.0, abs=tol)
    grand = derived.deals[7]
    assert grand is not None and grand.sum() == pytest.approx(1.0, abs=tol)
    assert derived.reach[7] == ("z0", "z1", "z2")


def test_two_markets_by_hand() -> None:
    derived = derived_tu_game(two_markets(), TWO_MARKET_NEEDS, np.zeros(2))
    game = derived.game
    tol = derived.tolerance
    # v: singletons 0, seller+a 3 - 0.5, seller+b 2 - 0.5, buyers alone 0, all: sell in a.
    expected = {1: 0.0, 2: 0.0, 3: 2.5, 4: 0.0, 5: 1.5, 6: 0.0, 7: 2.5}
    for mask, worth in expected.items():
        assert game.v[mask] == pytest.approx(worth, abs=tol), mask
    assert derived.reach[3] == ("a",) and derived.reach[5] == ("b",) and derived.reach[6] == ()
    assert derived.deal_terms(3) == pytest.approx({"a": 1.0, "b": 0.0}, abs=tol)
    assert derived.deal_terms(7) == pytest.approx({"a": 1.0, "b": 0.0}, abs=tol)
    # Shapley by hand over the 6 orders: seller 9/6, buyer a 4.5/6, buyer b 1.5/6.
    assert shapley_value(game) == pytest.approx([1.5, 0.75, 0.25], abs=tol)
    # Core: x_b = 0, x_s + x_a = 2.5, x_s >= 1.5 (buyer b bids 1.5 for the unit).
    vertices = core_vertices(game)
    assert vertices == pytest.approx(np.array([[1.5, 1.0, 0.0], [2.5, 0.0, 0.0]]), abs=1e-8)
    point = core_point(game)
    assert point is not None and in_core(game, point).member
    assert point[0] >= 1.5 - 1e-8 and point[2] == pytest.approx(0.0, abs=1e-8)
    assert not in_core(game, shapley_value(game)).member


def test_side_deal_worths_and_externality() -> None:
    derived = derived_tu_game(side_deal(), SIDE_DEAL_NEEDS, np.zeros(4))
    tol = derived.tolerance
    us_ru = derived.game.mask(("US", "RU"))
    assert derived.game.v[us_ru] == pytest.approx(0.8, abs=tol)
    assert derived.deal_terms(us_ru)["aluminium"] == pytest.approx(1.0, abs=tol)
    # Ukraine stays out of the pair's deal, and pays for it.
    assert derived.payoffs[us_ru] == pytest.approx([0.4, 0.4, -0.9], abs=tol)
    assert derived.game.v[derived.game.grand] == pytest.approx(1.0, abs=tol)
    assert derived.deal_terms(derived.game.grand)["aluminium"] == pytest.approx(0.0, abs=tol)


def test_superadditivity_fails_with_an_externality() -> None:
    """Player 0 alone sets a (worth a to him, -2a to player 1); player 1 alone sets b."""

    def utility(z: np.ndarray) -> np.ndarray:
        return np.stack([z[..., 0], z[..., 1] - 2.0 * z[..., 0]], axis=-1)

    problem = BargainingProblem(
        players=("A", "B"), lower=np.zeros(2), upper=np.ones(2), utility=utility,
        disagreement=np.zeros(2),
    )  # fmt: skip
    game = derived_tu_game(problem, [{0}, {1}], np.zeros(2)).game
    assert game.v == pytest.approx([0.0, 1.0, 1.0, 1.0], abs=1e-6)
    assert not game.is_superadditive()


def test_superadditivity_fails_with_an_outside_option() -> None:
    """Ukraine's outside option 0.5 is not available inside the grand coalition."""
    game = derived_tu_game(side_deal(np.array([0.0, 0.0, 0.5])), SIDE_DEAL_NEEDS, np.zeros(4)).game
    assert game.worth(("UA",)) == pytest.approx(0.5)
    assert game.worth(("US", "RU")) == pytest.approx(0.8, abs=1e-6)
    assert game.v[game.grand] == pytest.approx(1.0, abs=1e-6)
    assert not game.is_superadditive()


def test_empty_reach_falls_back_on_disagreement() -> None:
    """The status quo (1, 1) breaks z0 + z1 <= 1, and only the pair can move anything."""
    problem = unit_split(np.array([0.1, 0.2]))
    derived = derived_tu_game(problem, [{0, 1}, {0, 1}], np.ones(2))
    assert derived.game.v[1:] == pytest.approx([0.1, 0.2, 1.0], abs=derived.tolerance)
    assert derived.deals[1] is None and derived.deals[2] is None
    assert any("no deal is feasible" in note for note in derived.notes)


@pytest.mark.parametrize(
    ("needs", "status_quo", "message"),
    [
        ([{0, 1, 2}] * 2, np.zeros(3), "one set of players per issue"),
        ([{0, 1, 2}, {0, 3}, {1}], np.zeros(3), "player indices are 0..2"),
        ([{0, 1, 2}, set(), {1}], np.zeros(3), "needs nobody's consent"),
        ([{0, 1, 2}, "01", {1}], np.zeros(3), "not a string"),
        ([{0, 1, 2}] * 3, np.array([0.0, 1.5, 0.0]), "outside its range"),
        ([{0, 1, 2}] * 3, np.zeros(2), "3 finite numbers"),
    ],
)
def test_invalid_input(needs: list, status_quo: np.ndarray, message: str) -> None:
    problem = unit_split(np.zeros(3))
    with pytest.raises(ValueError, match=f"derived_tu_game: .*{message}"):
        derived_tu_game(problem, needs, status_quo)
    with pytest.raises(ValueError, match=f"ntu_core_check: .*{message}"):
        ntu_core_check(problem, needs, status_quo, np.zeros(3))


# ---------------------------------------------------------------- invariants


def check_consistent(case: Case, derived: DerivedCoalitionGame) -> None:
    """Every worth is its deal's total, the deal is in reach, and no sampled deal beats it."""
    problem = case.problem
    n = problem.n_players
    d = problem.disagreement
    tol = derived.tolerance
    for mask in range(1, 1 << n):
        inside = members(n, mask)
        worth = derived.game.v[mask]
        assert worth >= d[inside].sum() - tol
        assert worth == pytest.approx(derived.payoffs[mask][inside].sum(), abs=tol)
        deal = derived.deals[mask]
        if deal is not None:
            assert problem.feasible(deal)
            fixed = np.array([not g <= set(np.flatnonzero(inside)) for g in case.needs])
            assert np.allclose(deal[fixed], case.status_quo[fixed])
            assert derived.payoffs[mask] == pytest.approx(problem.payoffs(deal))
        sample = reach_sample(case, mask)
        if sample.size:
            assert problem.payoffs(sample)[:, inside].sum(axis=1).max() <= worth + 10 * tol


@SETTINGS
@given(per_issue_cases(separable=False))
def test_a_coalition_can_copy_its_subcoalitions(case: Case) -> None:
    """v(T) >= sum over T of u(z_S) for S within T: T can implement S's deal (or stay at d)."""
    derived = derived_tu_game(case.problem, case.needs, case.status_quo)
    check_consistent(case, derived)
    n = case.problem.n_players
    v = derived.game.v
    for t in range(1, 1 << n):
        inside = members(n, t)
        s = t
        while s:
            assert v[t] >= derived.payoffs[s][inside].sum() - derived.tolerance
            s = (s - 1) & t


@SETTINGS
@given(per_issue_cases(separable=True))
def test_superadditive_when_coalitions_can_act_side_by_side(case: Case) -> None:
    """No externalities, per-issue utilities, no linking constraint, d <= u(status quo)."""
    derived = derived_tu_game(case.problem, case.needs, case.status_quo)
    check_consistent(case, derived)
    v = derived.game.v
    n = case.problem.n_players
    for s in range(1, 1 << n):
        for t in range(1, 1 << n):
            if s & t == 0:
                assert v[s | t] >= v[s] + v[t] - 2 * derived.tolerance


@SETTINGS
@given(per_issue_cases(separable=False))
def test_monotone_when_payoffs_are_non_negative(case: Case) -> None:
    """Lift every payoff to be >= 0 (``u_i >= -sum_j c_ij``): then S within T gives v(S) <= v(T)."""
    problem = case.problem
    utility = problem.utility
    assert isinstance(utility, PerIssue)
    shift = utility.c.sum(axis=1)
    lifted = PerIssue(utility.a, utility.c, utility.p, shift)
    positive = BargainingProblem(
        players=problem.players,
        lower=problem.lower,
        upper=problem.upper,
        utility=lifted,
        disagreement=np.maximum(problem.disagreement + shift, 0.0),
        A_ub=problem.A_ub,
        b_ub=problem.b_ub,
    )
    derived = derived_tu_game(positive, case.needs, case.status_quo)
    v = derived.game.v
    n = problem.n_players
    for t in range(1, 1 << n):
        assert np.all(derived.payoffs[t] >= 0)
        s = t
        while s:
            assert v[s] <= v[t] + derived.tolerance
            s = (s - 1) & t


# ---------------------------------------------------------------- NTU core


def test_nash_deal_of_a_unit_split_is_in_the_core() -> None:
    problem = unit_split(np.array([0.1, 0.2, 0.05]))
    needs = [{0, 1, 2}] * 3
    deal = nash_bargaining(problem).deal
    assert deal is not None
    check = ntu_core_check(problem, needs, np.zeros(3), deal)
    assert check.in_core and check.individually_rational and check.blocking == ()
    assert check.margins[7] == pytest.approx(0.0, abs=check.tolerance)
    # Wasting surplus is blocked by the grand coalition.
    wasteful = ntu_core_check(problem, needs, np.zeros(3), deal * 0.9)
    assert not wasteful.in_core
    assert wasteful.blocking[0][0] == ("p0", "p1", "p2")
    assert wasteful.blocking[0][1] == pytest.approx(0.1 / 3, abs=wasteful.tolerance)


def test_a_deal_below_disagreement_is_blocked_by_that_player() -> None:
    problem = unit_split(np.array([0.3, 0.2, 0.1]))
    check = ntu_core_check(problem, [{0, 1, 2}] * 3, np.zeros(3), [0.2, 0.5, 0.3])
    assert not check.in_core and not check.individually_rational
    labels, margin, blocker = check.blocking[0]
    assert labels == ("p0",) and margin == pytest.approx(0.1) and blocker is None


def test_a_pair_that_does_better_alone_blocks_an_unfair_deal() -> None:
    problem = side_deal()
    unfair = np.array([0.1, 0.1, 0.8, 0.0])  # Pareto optimal: aluminium costs UA more than it adds
    check = ntu_core_check(problem, SIDE_DEAL_NEEDS, np.zeros(4), unfair)
    assert not check.in_core and check.individually_rational
    assert [b[0] for b in check.blocking] == [("US", "RU")]
    _, margin, blocker = check.blocking[0]
    assert margin == pytest.approx(0.3, abs=check.tolerance)
    assert blocker is not None and problem.feasible(blocker)
    assert blocker[:3] == pytest.approx(np.zeros(3))  # shares need Ukraine: at the status quo
    gains = problem.payoffs(blocker) - problem.payoffs(unfair)
    assert np.all(gains[:2] > 0) and np.min(gains[:2]) == pytest.approx(margin)
    assert all(check.margins[mask] < 0 for mask in (1, 2, 4, 5, 6))

    fair = np.array([0.45, 0.45, 0.1, 0.0])
    found, fair_check = ntu_core_deal(problem, SIDE_DEAL_NEEDS, np.zeros(4), [unfair, fair])
    assert found is not None and found == pytest.approx(fair) and fair_check.in_core
    none, least = ntu_core_deal(problem, SIDE_DEAL_NEEDS, np.zeros(4), [unfair, [0, 0, 1.0, 0]])
    assert none is None and least.deal == pytest.approx(unfair)


@SETTINGS
@given(per_issue_cases(separable=False), st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4))
def test_blocking_margins_are_attained_and_maximal(case: Case, unit: list[float]) -> None:
    """Each margin is attained by its deal (in reach) and no sampled deal in reach beats it."""
    problem = case.problem
    k = problem.n_issues
    x = problem.project(problem.lower + np.array(unit[:k]) * (problem.upper - problem.lower))
    check = ntu_core_check(problem, case.needs, case.status_quo, x)
    n = problem.n_players
    ux = problem.payoffs(x)
    d = problem.disagreement
    tol = check.tolerance
    for mask in range(1, 1 << n):
        inside = members(n, mask)
        margin = check.margins[mask]
        assert margin >= np.min(d[inside] - ux[inside]) - tol
        response = check.best_responses[mask]
        if response is not None:
            assert problem.feasible(response)
            free = np.array([g <= set(np.flatnonzero(inside)) for g in case.needs])
            assert np.allclose(response[~free], case.status_quo[~free])
            gains = problem.payoffs(response)[inside] - ux[inside]
            assert np.min(gains) <= margin + tol
        sample = reach_sample(case, mask)
        if sample.size:
            best = (problem.payoffs(sample)[:, inside] - ux[inside]).min(axis=1).max()
            assert best <= margin + 10 * tol
    for labels, margin, blocker in check.blocking:
        assert margin > tol
        idx = [problem.players.index(p) for p in labels]
        if blocker is not None:
            assert np.all(problem.payoffs(blocker)[idx] - ux[idx] >= margin - tol)
        else:
            assert np.all(d[idx] - ux[idx] >= margin - tol)
    assert check.in_core == (check.worst_margin <= tol)
    assert check.in_core == (check.blocking == ())


def test_ntu_and_tu_agree_on_a_transferable_split() -> None:
    """With one linear unit split needing everyone, the NTU core is the TU core's deals."""
    problem = unit_split(np.array([0.2, 0.1, 0.3]))
    needs = [{0, 1, 2}] * 3
    game = derived_tu_game(problem, needs, np.zeros(3)).game
    for deal in ([0.3, 0.3, 0.4], [0.2, 0.1, 0.7], [0.1, 0.4, 0.5]):
        tu = in_core(game, problem.payoffs(np.array(deal)), tol=1e-6).member
        assert ntu_core_check(problem, needs, np.zeros(3), deal).in_core == tu


def test_ntu_core_rejects_a_deal_outside_the_deal_space() -> None:
    problem = unit_split(np.zeros(3))
    with pytest.raises(ValueError, match=r"ntu_core_check: .*outside the deal space"):
        ntu_core_check(problem, [{0, 1, 2}] * 3, np.zeros(3), [0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="ntu_core_deal: give at least one candidate"):
        ntu_core_deal(problem, [{0, 1, 2}] * 3, np.zeros(3), [])
