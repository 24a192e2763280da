"""Bargaining solutions: known answers and the axioms they are defined by.

Random problems are drawn valid by construction: ``n`` players share a unit
surplus (``z >= 0``, ``sum z <= 1``), player ``i`` values his share as
``a_i * z_i ** p_i`` with ``p_i`` in ``(0, 1]`` (concave), and the disagreement
point is the value of a share below ``1/n``, so equal shares beat it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.stats import qmc

from simulator.bargaining import (
    BargainingProblem,
    egalitarian,
    kalai_smorodinsky,
    nash_bargaining,
    pareto_frontier,
    rubinstein_bargaining,
    rubinstein_limit,
    rubinstein_split,
    utilitarian,
    zone_of_agreement,
)

SETTINGS = settings(max_examples=12, deadline=None)


@dataclass(frozen=True)
class PowerShares:
    """``u_i(z) = scale_i * a_i * z_i ** p_i + shift_i`` for deals of shape ``(..., n)``."""

    a: np.ndarray
    p: np.ndarray
    scale: np.ndarray
    shift: np.ndarray

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.scale * self.a * np.maximum(z, 0.0) ** self.p + self.shift


def share_problem(
    a: np.ndarray,
    p: np.ndarray,
    d_share: np.ndarray,
    scale: np.ndarray | None = None,
    shift: np.ndarray | None = None,
    extra_row: np.ndarray | None = None,
    extra_rhs: float = 0.0,
) -> BargainingProblem:
    n = a.size
    scale = np.ones(n) if scale is None else scale
    shift = np.zeros(n) if shift is None else shift
    utility = PowerShares(a, p, scale, shift)
    a_ub, b_ub = np.ones((1, n)), np.array([1.0])
    if extra_row is not None:
        a_ub = np.vstack([a_ub, extra_row])
        b_ub = np.append(b_ub, extra_rhs)
    return BargainingProblem(
        players=tuple(f"p{i}" for i in range(n)),
        lower=np.zeros(n),
        upper=np.ones(n),
        utility=utility,
        disagreement=utility(d_share),
        A_ub=a_ub,
        b_ub=b_ub,
    )


@st.composite
def concave_problems(
    draw: st.DrawFn, n: int | None = None, p_min: float = 0.3
) -> BargainingProblem:
    n = draw(st.integers(2, 3)) if n is None else n
    floats = st.floats
    a = np.array(draw(st.lists(floats(0.5, 3.0), min_size=n, max_size=n)))
    p = np.array(draw(st.lists(floats(p_min, 1.0), min_size=n, max_size=n)))
    frac = np.array(draw(st.lists(floats(0.0, 0.6), min_size=n, max_size=n)))
    return share_problem(a, p, frac / n)


def steep_tiny_floor(n: int, power: float, payoff: float) -> BargainingProblem:
    """Player 0 values his share as ``z ** power`` and his disagreement payoff is ``payoff``.

    The disagreement share ``payoff ** (1 / power)`` is tiny (``4e-8``, ``3e-8`` in the
    regression cases), where ``z ** power`` is steep: the other players' best deals
    leave player 0 exactly that share, close to the bound ``z_0 >= 0``.
    """
    p = np.ones(n)
    p[0] = power
    d_share = np.zeros(n)
    d_share[0] = payoff ** (1 / power)
    return share_problem(np.ones(n), p, d_share)


def dense_sample(problem: BargainingProblem) -> np.ndarray:
    """Deals spread over the deal space and over its efficient face ``sum z = 1``."""
    n = problem.n_issues
    inner = problem.project(qmc.Halton(d=n, seed=0).random(2048))
    face = np.random.default_rng(0).dirichlet(np.ones(n), size=4096)
    return np.vstack([inner, face])


def unit_split(d: np.ndarray) -> BargainingProblem:
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


# ---------------------------------------------------------------- known answers


@SETTINGS
@given(
    st.integers(2, 4).flatmap(lambda n: st.lists(st.floats(0.0, 0.9 / n), min_size=n, max_size=n))
)
def test_unit_surplus_split_equal_gains(d_list: list[float]) -> None:
    d = np.array(d_list)
    expected = d + (1.0 - d.sum()) / d.size
    problem = unit_split(d)
    for solve in (nash_bargaining, kalai_smorodinsky, egalitarian):
        sol = solve(problem)
        assert sol.agreement
        np.testing.assert_allclose(sol.payoffs, expected, atol=1e-6, err_msg=sol.concept)
        np.testing.assert_allclose(sol.gains, expected - d, atol=1e-6)


@pytest.mark.parametrize("weights", [(1.0, 3.0), (2.0, 1.0, 1.0), (1.0, 2.0, 3.0, 4.0)])
def test_asymmetric_nash_shares_proportional_to_weights(weights: tuple[float, ...]) -> None:
    w = np.array(weights)
    sol = nash_bargaining(unit_split(np.zeros(w.size)), weights=w)
    np.testing.assert_allclose(sol.payoffs, w / w.sum(), atol=1e-6)
    assert sol.evidence["kkt_residual"] < 1e-4


def test_utilitarian_ties_on_a_transferable_surplus() -> None:
    sol = utilitarian(unit_split(np.array([0.1, 0.2])))
    assert sol.payoffs.sum() == pytest.approx(1.0, abs=1e-8)
    assert np.all(sol.gains >= -1e-9)
    assert sol.unique is False


def test_nash_deal_not_unique_when_an_issue_is_irrelevant() -> None:
    problem = BargainingProblem(
        players=("a", "b"),
        lower=[0.0, 0.0],
        upper=[1.0, 1.0],
        utility=lambda z: np.stack([z[..., 0], 1.0 - z[..., 0]], axis=-1),
        disagreement=[0.0, 0.0],
    )
    sol = nash_bargaining(problem)
    np.testing.assert_allclose(sol.payoffs, [0.5, 0.5], atol=1e-6)
    assert sol.unique is False
    assert any("deals" in note for note in sol.notes)


@pytest.mark.parametrize(("delta1", "delta2"), [(0.9, 0.8), (0.5, 0.5), (0.99, 0.3), (0.0, 0.7)])
def test_rubinstein_first_proposer_share(delta1: float, delta2: float) -> None:
    first = rubinstein_split(delta1, delta2, first=0)
    assert first.deal is not None
    assert first.deal[0] == pytest.approx((1 - delta2) / (1 - delta1 * delta2))
    assert first.deal.sum() == pytest.approx(1.0)
    assert first.evidence["indifference_residual"] == pytest.approx(0.0, abs=1e-12)
    second = rubinstein_split(delta1, delta2, first=1)
    assert second.deal is not None
    assert second.deal[1] == pytest.approx((1 - delta1) / (1 - delta1 * delta2))
    # The numerical stationary SPE on the same linear problem gives the same split.
    numeric = rubinstein_bargaining(unit_split(np.zeros(2)), [delta1, delta2], first=0)
    np.testing.assert_allclose(numeric.payoffs, first.deal, atol=1e-6)
    numeric1 = rubinstein_bargaining(unit_split(np.zeros(2)), [delta1, delta2], first=1)
    np.testing.assert_allclose(numeric1.payoffs, second.deal, atol=1e-6)


@pytest.mark.parametrize(("r1", "r2"), [(1.0, 1.0), (1.0, 3.0), (0.2, 0.05)])
def test_rubinstein_limit_is_asymmetric_nash(r1: float, r2: float) -> None:
    limit = rubinstein_limit(r1, r2)
    assert limit.deal is not None
    np.testing.assert_allclose(limit.deal, [r2 / (r1 + r2), r1 / (r1 + r2)])
    assert limit.evidence["last_gap"] < 1e-3
    gaps = [abs(shares[0] - limit.deal[0]) for _, shares in limit.evidence["sequence"]]
    assert gaps == sorted(gaps, reverse=True)
    nash = nash_bargaining(unit_split(np.zeros(2)), weights=[1.0 / r1, 1.0 / r2])
    np.testing.assert_allclose(nash.payoffs, limit.deal, atol=1e-6)


def test_empty_zone_names_the_blocking_player() -> None:
    # Player q's utility depends only on an issue no one else cares about and
    # is at most 1, but he needs 1.2: he blocks every deal, by 0.2.
    problem = BargainingProblem(
        players=("p", "q"),
        lower=[0.0, 0.0],
        upper=[1.0, 1.0],
        utility=lambda z: z,
        disagreement=[0.0, 1.2],
    )
    zone = zone_of_agreement(problem)
    assert not zone.exists
    assert zone.blocking == ("q",)
    assert zone.shortfall == pytest.approx(0.2, abs=1e-8)
    for solve in (nash_bargaining, kalai_smorodinsky, egalitarian, utilitarian):
        sol = solve(problem)
        assert not sol.agreement
        assert sol.deal is None
        np.testing.assert_array_equal(sol.payoffs, problem.disagreement)
    assert "q" in nash_bargaining(problem).notes[0]


def test_zone_exists_with_positive_margin() -> None:
    zone = zone_of_agreement(unit_split(np.array([0.2, 0.3])))
    assert zone.exists
    assert zone.margin == pytest.approx(0.25, abs=1e-8)
    assert zone.blocking == ()


def test_pareto_frontier_of_a_linear_split() -> None:
    frontier = pareto_frontier(unit_split(np.array([0.1, 0.2])), n_points=21)
    assert len(frontier.payoffs) >= 15
    np.testing.assert_allclose(frontier.payoffs.sum(axis=1), 1.0, atol=1e-8)
    assert np.all(frontier.payoffs >= np.array([0.1, 0.2]) - 1e-8)
    assert np.all(np.diff(frontier.payoffs[:, 0]) > 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lower": [0.0, 2.0]}, "lower"),
        ({"disagreement": [0.0]}, "disagreement"),
        ({"A_ub": np.ones((1, 2))}, "A_ub"),
        ({"A_ub": np.ones((1, 2)), "b_ub": [-1.0]}, "empty"),
        ({"utility": lambda z: z[..., :1] * np.ones(3)}, "shape"),
        ({"utility": lambda z: np.log(z - 0.5)}, "not finite"),
    ],
)
def test_problem_rejects_bad_input(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "players": ("a", "b"),
        "lower": [0.0, 0.0],
        "upper": [1.0, 1.0],
        "utility": lambda z: z,
        "disagreement": [0.0, 0.0],
    }
    with (
        np.errstate(invalid="ignore", divide="ignore"),
        pytest.raises(ValueError, match=message),
    ):
        BargainingProblem(**{**base, **kwargs})  # type: ignore[arg-type]


# ------------------------------------------------------------------- axioms


@SETTINGS
@given(concave_problems())
def test_nash_is_pareto_optimal_and_individually_rational(problem: BargainingProblem) -> None:
    sol = nash_bargaining(problem)
    assert sol.agreement
    assert np.all(sol.gains > 0)
    assert sol.evidence["kkt_residual"] < 1e-3
    # A sample point dominates if no one loses (beyond round-off) and someone gains
    # beyond what the optimizer can resolve.
    loss, gain = problem.tolerance.payoff, problem.solve_tolerance
    u = problem.payoffs(dense_sample(problem))
    dominating = np.all(u >= sol.payoffs - loss, axis=1) & np.any(u > sol.payoffs + gain, axis=1)
    assert not np.any(dominating), u[dominating][:3]


@SETTINGS
@given(
    st.integers(2, 3),
    st.floats(0.5, 3.0),
    st.floats(0.3, 1.0),
    st.floats(0.0, 0.6),
)
def test_nash_is_symmetric(n: int, a: float, p: float, frac: float) -> None:
    problem = share_problem(np.full(n, a), np.full(n, p), np.full(n, frac / n))
    sol = nash_bargaining(problem)
    np.testing.assert_allclose(sol.payoffs, sol.payoffs[0], atol=1e-6)


@SETTINGS
@given(concave_problems(), st.floats(0.1, 10.0), st.floats(-5.0, 5.0), st.data())
def test_nash_is_invariant_to_affine_rescaling(
    problem: BargainingProblem, scale: float, shift: float, data: st.DataObject
) -> None:
    base: PowerShares = problem.utility  # type: ignore[assignment]
    n = problem.n_players
    j = data.draw(st.integers(0, n - 1))
    scales, shifts = np.ones(n), np.zeros(n)
    scales[j], shifts[j] = scale, shift
    d_share = (base.a**-1 * problem.disagreement) ** (1 / base.p)
    rescaled = share_problem(base.a, base.p, d_share, scales, shifts)
    np.testing.assert_allclose(
        rescaled.disagreement, scales * problem.disagreement + shifts, rtol=1e-9, atol=1e-9
    )
    before = nash_bargaining(problem)
    after = nash_bargaining(rescaled)
    assert before.deal is not None and after.deal is not None
    np.testing.assert_allclose(after.deal, before.deal, atol=1e-5)


@SETTINGS
@given(concave_problems(), st.data())
def test_nash_is_independent_of_irrelevant_alternatives(
    problem: BargainingProblem, data: st.DataObject
) -> None:
    sol = nash_bargaining(problem)
    assert sol.deal is not None
    # Cut the deal space with a half-space whose boundary passes through the solution.
    n = problem.n_issues
    row = np.array(data.draw(st.lists(st.floats(-1.0, 1.0), min_size=n, max_size=n)))
    if np.linalg.norm(row) < 0.1:
        row = np.eye(n)[0]
    base: PowerShares = problem.utility  # type: ignore[assignment]
    d_share = (problem.disagreement / base.a) ** (1 / base.p)
    smaller = share_problem(base.a, base.p, d_share, extra_row=row, extra_rhs=row @ sol.deal)
    assert smaller.feasible(sol.deal)
    cut = nash_bargaining(smaller)
    assert cut.deal is not None
    np.testing.assert_allclose(cut.payoffs, sol.payoffs, atol=1e-5)


@SETTINGS
@given(
    st.floats(0.5, 3.0),
    st.floats(0.3, 1.0),
    st.floats(0.5, 3.0),
    st.floats(0.3, 1.0),
    st.floats(1.0, 3.0),
    st.floats(0.3, 1.0),
)
def test_kalai_smorodinsky_is_individually_monotone(
    a0: float, p0: float, a1: float, p1: float, raise_by: float, flatten: float
) -> None:
    """Kalai & Smorodinsky (1975): enlarging the set for player 0 while player 1's
    ideal payoff stays the same does not lower player 0's payoff.

    Player 0's utility ``a0 z0 ** p0`` is raised pointwise on ``[0, 1]`` to
    ``raise_by * a0 * z0 ** (flatten * p0)``; it is still 0 at ``z0 = 0``, so
    player 1's ideal (the whole surplus) is unchanged, and the payoff set grows.
    """
    d_share = np.zeros(2)
    small = share_problem(np.array([a0, a1]), np.array([p0, p1]), d_share)
    large = share_problem(np.array([raise_by * a0, a1]), np.array([flatten * p0, p1]), d_share)
    before = kalai_smorodinsky(small)
    after = kalai_smorodinsky(large)
    ideal_before = before.evidence["ideal_point"]
    ideal_after = after.evidence["ideal_point"]
    assert ideal_after[1] == pytest.approx(ideal_before[1], abs=1e-6)
    assert after.payoffs[0] >= before.payoffs[0] - 1e-6


@SETTINGS
@given(concave_problems())
def test_ks_and_egalitarian_are_individually_rational_and_efficient(
    problem: BargainingProblem,
) -> None:
    # With strictly increasing utilities in one's own share, every solution uses the whole surplus.
    for solve in (kalai_smorodinsky, egalitarian, utilitarian):
        sol = solve(problem)
        assert sol.agreement and sol.deal is not None
        assert np.all(sol.gains >= -problem.solve_tolerance)
        assert sol.deal.sum() == pytest.approx(1.0, abs=1e-5), sol.concept


@SETTINGS
@given(concave_problems(n=2, p_min=0.3), st.floats(0.05, 0.9), st.floats(0.05, 0.9))
def test_rubinstein_offers_make_responders_indifferent(
    problem: BargainingProblem, delta0: float, delta1: float
) -> None:
    sol = rubinstein_bargaining(problem, [delta0, delta1])
    assert sol.agreement
    assert np.all(sol.gains >= -problem.solve_tolerance)
    assert abs(sol.evidence["indifference_residual_0"]) < problem.solve_tolerance
    assert abs(sol.evidence["indifference_residual_1"]) < problem.solve_tolerance


@SETTINGS
@given(concave_problems(n=2, p_min=0.3))
@example(steep_tiny_floor(2, 0.375, 0.0015061))
def test_rubinstein_tends_to_nash_as_patience_grows(problem: BargainingProblem) -> None:
    """Binmore, Rubinstein & Wolinsky (1986): equal discounting, delta -> 1 gives Nash."""
    nash = nash_bargaining(problem)
    spread = problem.tolerance.payoff / problem.tolerance.rtol
    gaps = []
    for delta in (0.9, 0.99, 0.999):
        sol = rubinstein_bargaining(problem, [delta, delta])
        gaps.append(float(np.max(np.abs(sol.payoffs - nash.payoffs))) / spread)
    assert gaps[-1] < 2e-3
    assert gaps[-1] <= gaps[0] + 1e-6


@pytest.mark.parametrize("first", [0, 1])
@pytest.mark.parametrize(("delta0", "delta1"), [(0.9, 0.8), (0.5, 0.5), (0.99, 0.95), (0.2, 0.9)])
def test_rubinstein_with_utilities_steeper_than_a_square_root(
    delta0: float, delta1: float, first: int
) -> None:
    """``u_i = z_i ** 0.3`` on a unit split: steeper than sqrt at a zero share.

    In shares the indifference conditions read ``x_b = delta_b ** (1/p) y_b`` and
    ``y_a = delta_a ** (1/p) x_a``: the linear split with discount factors
    ``delta ** (1/p)``, so the proposer's share is ``(1 - e_b) / (1 - e_a e_b)`` with
    ``e = delta ** (1 / 0.3)`` (Rubinstein 1982 after the change of variables).
    """
    power = 0.3
    problem = share_problem(np.ones(2), np.full(2, power), np.zeros(2))
    sol = rubinstein_bargaining(problem, [delta0, delta1], first=first)
    assert sol.agreement and sol.deal is not None
    e = np.array([delta0, delta1]) ** (1 / power)
    a, b = first, 1 - first
    share = (1 - e[b]) / (1 - e[a] * e[b])
    np.testing.assert_allclose(sol.deal[a], share, atol=1e-6)
    np.testing.assert_allclose(sol.payoffs, sol.deal**power, atol=1e-9)
    assert abs(sol.evidence["indifference_residual_0"]) < problem.solve_tolerance
    assert abs(sol.evidence["indifference_residual_1"]) < problem.solve_tolerance


# ------------------------------------------------------ lexicographic refinement


def weakly_efficient_split() -> BargainingProblem:
    """Three players: 0 and 1 split a unit (``z0 + z1 <= 1``), player 2 owns ``z2`` alone.

    Gains ``(z0, z1, z2)``. Raising everyone equally stops at ``t = 1/2``
    (players 0 and 1 are blocked), where any ``z2`` in ``[1/2, 1]`` reaches the
    same level: the max-min deals are weakly Pareto-optimal unless ``z2 = 1``.
    """
    return BargainingProblem(
        players=("p0", "p1", "p2"),
        lower=np.zeros(3),
        upper=np.ones(3),
        utility=lambda z: z,
        disagreement=np.zeros(3),
        A_ub=np.array([[1.0, 1.0, 0.0]]),
        b_ub=np.array([1.0]),
    )


@pytest.mark.parametrize("solve", [egalitarian, kalai_smorodinsky])
def test_lexicographic_refinement_makes_the_answer_pareto_optimal(solve: object) -> None:
    problem = weakly_efficient_split()
    # A max-min deal that is only weakly efficient: the optimizer may stop anywhere in
    # z2 in [1/2, 1]; starting from z2 = 1/2 it has no reason to move.
    sol = solve(problem, start=[0.5, 0.5, 0.5])  # type: ignore[operator]
    assert sol.agreement
    np.testing.assert_allclose(sol.payoffs, [0.5, 0.5, 1.0], atol=1e-6)
    assert sol.evidence["stages"] >= 2
    assert not sol.evidence["dominated_by_sample"]
    assert any("lexicographic" in note for note in sol.notes)


def test_lexicographic_refinement_keeps_a_strongly_efficient_answer() -> None:
    sol = egalitarian(unit_split(np.array([0.1, 0.2, 0.0])))
    assert sol.evidence["stages"] == 1
    np.testing.assert_allclose(sol.gains, np.full(3, (1 - 0.3) / 3), atol=1e-6)


@SETTINGS
@given(concave_problems(n=3))
@example(steep_tiny_floor(3, 0.3125, 0.00487))
def test_ks_and_egalitarian_are_pareto_optimal(problem: BargainingProblem) -> None:
    loss, gain = problem.tolerance.payoff, problem.solve_tolerance
    u = problem.payoffs(dense_sample(problem))
    for solve in (kalai_smorodinsky, egalitarian):
        sol = solve(problem)
        dominating = np.all(u >= sol.payoffs - loss, axis=1) & np.any(
            u > sol.payoffs + gain, axis=1
        )
        assert not np.any(dominating), (sol.concept, u[dominating][:3])


def test_ks_finds_the_deal_when_a_floor_binds_where_a_utility_is_steep() -> None:
    """Regression: each ideal maximisation leaves player 0 a share of ``4e-8``.

    There ``z ** 0.3125`` is steep, and SLSQP with the default difference step
    stalled short of player 0's floor from every start: KS reported no agreement.
    """
    problem = steep_tiny_floor(3, 0.3125, 0.00487)
    tol = problem.solve_tolerance
    sol = kalai_smorodinsky(problem)
    assert sol.agreement and sol.deal is not None
    assert np.all(sol.gains >= -tol)
    assert problem.feasible(sol.deal)
    # Ideal point: player 0 takes everything; either other player everything but
    # player 0's disagreement share.
    share = 0.00487 ** (1 / 0.3125)
    np.testing.assert_allclose(sol.evidence["ideal_point"], [1.0, 1 - share, 1 - share], atol=tol)
    # Pareto optimal: no deal of a dense sample makes someone better off and no one worse.
    u = problem.payoffs(dense_sample(problem))
    dominating = np.all(u >= sol.payoffs - problem.tolerance.payoff, axis=1) & np.any(
        u > sol.payoffs + tol, axis=1
    )
    assert not np.any(dominating)
    assert sol.deal.sum() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("delta", [0.9, 0.99, 0.999])
def test_rubinstein_converges_when_a_floor_binds_where_a_utility_is_steep(delta: float) -> None:
    """Regression: player 1's best deal leaves player 0 a share of ``3e-8`` (``z ** 0.375``).

    SLSQP stalled short of player 0's floor there, and the frontier's end was not found.
    """
    problem = steep_tiny_floor(2, 0.375, 0.0015061)
    tol = problem.solve_tolerance
    sol = rubinstein_bargaining(problem, [delta, delta])
    assert sol.agreement
    assert np.all(sol.gains >= -tol)
    assert abs(sol.evidence["indifference_residual_0"]) < tol
    assert abs(sol.evidence["indifference_residual_1"]) < tol
    # Binmore, Rubinstein & Wolinsky (1986): the gap to Nash shrinks like 1 - delta.
    gap = np.max(np.abs(sol.payoffs - nash_bargaining(problem).payoffs))
    assert gap < 0.5 * (1 - delta)


# ------------------------------------------------------------- warm starts


@pytest.mark.parametrize("solve", [nash_bargaining, kalai_smorodinsky, egalitarian, utilitarian])
def test_a_warm_start_reaches_the_cold_answer(solve: object) -> None:
    problem = share_problem(np.array([1.0, 2.0, 1.5]), np.array([0.5, 0.7, 0.3]), np.zeros(3))
    cold = solve(problem)  # type: ignore[operator]
    assert cold.deal is not None
    # From the answer itself, from a nearby deal, and from a poor corner of the space.
    nearby = cold.deal + np.array([0.02, -0.01, -0.01])
    for start in (cold.deal, nearby, np.zeros(3)):
        warm = solve(problem, start=start)  # type: ignore[operator]
        np.testing.assert_allclose(warm.payoffs, cold.payoffs, atol=1e-6, err_msg=str(start))


@pytest.mark.parametrize("start", [[0.5], [np.nan, 0.5], "ab"])
def test_a_bad_start_is_rejected(start: object) -> None:
    with pytest.raises(ValueError, match="start"):
        nash_bargaining(unit_split(np.zeros(2)), start=start)  # type: ignore[arg-type]


# ----------------------------------------------------------- first-order evidence


def test_kkt_residual_at_an_interior_optimum_is_small() -> None:
    """Ideal points 0.3 and 0.6 on one issue: the Nash deal lies strictly between them.

    There no constraint is active and the gradient of the Nash product is
    round-off; the residual is measured against the size of its terms, not
    against the round-off itself.
    """
    problem = BargainingProblem(
        players=("a", "b"),
        lower=[0.0],
        upper=[1.0],
        utility=lambda z: np.stack([1 - (z[..., 0] - 0.3) ** 2, 1 - (z[..., 0] - 0.6) ** 2], -1),
        disagreement=[0.5, 0.5],
    )
    sol = nash_bargaining(problem)
    assert sol.deal is not None
    assert 0.3 < sol.deal[0] < 0.6
    np.testing.assert_allclose(sol.deal[0], 0.45, atol=1e-6)  # symmetric about the midpoint
    assert sol.evidence["kkt_residual"] < 1e-6
    assert sol.unique is True


def test_the_sample_spans_issue_ranges_other_than_the_unit() -> None:
    """Issues measured in hundreds: screened starts must cover the whole range."""
    base = unit_split(np.array([10.0, 20.0]))
    scaled = BargainingProblem(
        players=base.players,
        lower=np.zeros(2),
        upper=np.full(2, 100.0),
        utility=lambda z: z,
        disagreement=[10.0, 20.0],
        A_ub=np.ones((1, 2)),
        b_ub=np.array([100.0]),
    )
    assert np.all(scaled.sample.max(axis=0) > 50.0)
    assert np.all(scaled.feasible(scaled.sample))
    np.testing.assert_allclose(nash_bargaining(scaled).payoffs, [45.0, 55.0], atol=1e-4)


def test_two_optima_of_a_non_concave_problem_are_reported() -> None:
    """Convex utilities on one issue: the Nash product peaks at both ends of the range.

    ``z = 0`` gives ``(1.15, 1.35)`` and ``z = 1`` gives ``(1.35, 1.15)``: the same
    product, different payoffs. The concavity test must fail here, so that
    several starts run and both optima are found.
    """
    problem = BargainingProblem(
        players=("a", "b"),
        lower=[0.0],
        upper=[1.0],
        utility=lambda z: np.stack(
            [1 + (z[..., 0] - 0.5) ** 2 + 0.2 * (z[..., 0] - 0.5),
             1 + (z[..., 0] - 0.5) ** 2 - 0.2 * (z[..., 0] - 0.5)],
            axis=-1,
        ),
        disagreement=[0.0, 0.0],
    )  # fmt: skip
    sol = nash_bargaining(problem)
    assert sol.evidence["concave_on_sample"] is False
    assert sol.unique is False
    assert sol.evidence["optima_found"] >= 2
    assert sorted(sol.payoffs.round(6)) == [1.15, 1.35]
