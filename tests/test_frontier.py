"""The Pareto frontier: exact for affine utilities, sampled with coverage otherwise.

Known answers are frontiers worked out by hand (the unit-surplus simplex, a
two-issue trade-off with two breakpoints, a separable problem whose breakpoints
follow the issues' ratios). Sampled frontiers are checked against dense samples
of the deal space: no sampled point is beaten by a sampled deal, and every
frontier point of the dense sample lies within the reported coverage.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar
from scipy.stats import qmc

from simulator.bargaining import BargainingProblem, pareto_frontier
from simulator.bargaining.frontier import affine_utility

SETTINGS = settings(max_examples=15, deadline=None)


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


def power_shares(a: np.ndarray, p: np.ndarray, d_share: float) -> BargainingProblem:
    """``u_i = a_i z_i ** p_i`` on ``z >= 0``, ``sum z <= 1``; the frontier is ``sum z = 1``."""
    n = a.size

    def utility(z: np.ndarray) -> np.ndarray:
        return a * np.maximum(z, 0.0) ** p

    return BargainingProblem(
        players=tuple(f"p{i}" for i in range(n)),
        lower=np.zeros(n),
        upper=np.ones(n),
        utility=utility,
        disagreement=utility(np.full(n, d_share)),
        A_ub=np.ones((1, n)),
        b_ub=np.ones(1),
    )


def trade_off(z: np.ndarray) -> np.ndarray:
    """Player a values issue 0 three times as much as issue 1; player b the reverse, twice."""
    return np.stack([3 * (1 - z[..., 0]) + (1 - z[..., 1]), z[..., 0] + 2 * z[..., 1]], axis=-1)


def beaten(samples: np.ndarray, q: np.ndarray, tol: float) -> bool:
    """Whether a sample is at least ``q`` for every player and better by ``tol`` in total."""
    gain = samples - q
    return bool(np.any(np.all(gain >= 0, axis=1) & (gain.sum(axis=1) > tol)))


def normalised_distance(frontier_payoffs: np.ndarray, x: np.ndarray, scale: np.ndarray) -> float:
    return float(np.min(np.max(np.abs(frontier_payoffs - x) / scale, axis=1)))


# ------------------------------------------------------------------ exact frontiers


@pytest.mark.parametrize("n", [2, 3, 4])
def test_unit_split_frontier_is_the_simplex_face(n: int) -> None:
    d = np.linspace(0.05, 0.15, n)
    frontier = pareto_frontier(unit_split(d), n_points=11)
    assert frontier.exact
    assert frontier.coverage == 0.0
    assert len(frontier.faces) == 1
    face = frontier.faces[0]
    corners = frontier.payoffs[list(face)]
    # The face sum u = 1, u >= d: its corners give one player all of the surplus.
    expected = d + (1 - d.sum()) * np.eye(n)
    # The corner that gives player i the surplus is the one where i gets the most.
    np.testing.assert_allclose(corners[np.argmax(corners, axis=0)], expected, atol=1e-9)
    assert frontier.normals is not None
    np.testing.assert_allclose(frontier.normals[0], np.full(n, 1 / n), atol=1e-9)
    np.testing.assert_allclose(frontier.payoffs.sum(axis=1), 1.0, atol=1e-9)
    if n == 2:
        assert len(frontier.payoffs) >= 11
        assert np.all(np.diff(frontier.payoffs[:, 0]) > 0)
    assert frontier.contains(d + (1 - d.sum()) / n)
    assert not frontier.contains(d)
    assert frontier.dominated(d)
    assert not frontier.dominated(d + (1 - d.sum()) / n)


@pytest.mark.parametrize(
    ("d", "a_ub", "breakpoints", "deals"),
    [
        # The box's corners map to (4, 0), (1, 1), (3, 2), (0, 3); (1, 1) is beaten.
        ([0.0, 0.0], None, [[0, 3], [3, 2], [4, 0]], [[1, 1], [0, 1], [0, 0]]),
        # u >= (1/2, 1/2) cuts both edges: at u_0 = 1/2 on u_1 = 3 - u_0 / 3, and
        # at u_1 = 1/2 on u_1 = 2 - 2 (u_0 - 3).
        ([0.5, 0.5], None, [[0.5, 17 / 6], [3, 2], [3.75, 0.5]], [[5 / 6, 1], [0, 1], [0, 0.25]]),
        # z_0 + z_1 <= 1.5 cuts the corner (1, 1): new vertices (1.5, 2.5) and (0.5, 2).
        ([0.0, 0.0], 1.5, [[1.5, 2.5], [3, 2], [4, 0]], [[0.5, 1], [0, 1], [0, 0]]),
    ],
)
def test_two_issue_linear_frontier_breakpoints(
    d: list[float], a_ub: float | None, breakpoints: list[list[float]], deals: list[list[float]]
) -> None:
    problem = BargainingProblem(
        players=("a", "b"),
        lower=np.zeros(2),
        upper=np.ones(2),
        utility=trade_off,
        disagreement=np.array(d),
        A_ub=None if a_ub is None else np.ones((1, 2)),
        b_ub=None if a_ub is None else np.array([a_ub]),
    )
    frontier = pareto_frontier(problem, n_points=9)
    assert frontier.exact
    vertices = list(frontier.vertices)
    np.testing.assert_allclose(frontier.payoffs[vertices], breakpoints, atol=1e-9)
    np.testing.assert_allclose(frontier.deals[vertices], deals, atol=1e-9)
    assert frontier.faces == ((vertices[0], vertices[1]), (vertices[1], vertices[2]))
    # Edge slopes -1/3 and -2: weights (1, 3) / 4 and (2, 1) / 3.
    assert frontier.normals is not None
    np.testing.assert_allclose(frontier.normals, [[0.25, 0.75], [2 / 3, 1 / 3]], atol=1e-9)
    np.testing.assert_allclose(frontier.payoffs, problem.payoffs(frontier.deals))
    assert np.all(np.diff(frontier.payoffs[:, 0]) > 0)


def test_constant_sum_payoffs_in_a_plane_are_all_pareto_optimal() -> None:
    def split(z: np.ndarray) -> np.ndarray:
        return np.stack([z[..., 0], z[..., 1], 1 - z[..., 0] - z[..., 1]], axis=-1)

    problem = BargainingProblem(
        players=("a", "b", "c"),
        lower=np.zeros(2),
        upper=np.ones(2),
        utility=split,
        disagreement=np.zeros(3),
        A_ub=np.ones((1, 2)),
        b_ub=np.ones(1),
    )
    frontier = pareto_frontier(problem)
    assert frontier.exact
    assert frontier.evidence["payoff_rank"] == 2
    assert frontier.faces == ((0, 1, 2),)
    np.testing.assert_allclose(frontier.payoffs[np.argmax(frontier.payoffs, axis=0)], np.eye(3))
    assert frontier.normals is not None
    np.testing.assert_allclose(frontier.normals[0], np.full(3, 1 / 3), atol=1e-9)
    assert frontier.contains([0.2, 0.3, 0.5])


def test_box_has_a_single_pareto_vertex() -> None:
    problem = BargainingProblem(
        players=("a", "b", "c"),
        lower=np.zeros(3),
        upper=np.ones(3),
        utility=lambda z: z,
        disagreement=np.zeros(3),
    )
    frontier = pareto_frontier(problem)
    # Each facet u_i = 1 is only weakly Pareto-optimal; the corner (1, 1, 1) is the frontier.
    assert frontier.faces == ((0,),)
    np.testing.assert_allclose(frontier.payoffs, [[1, 1, 1]])
    np.testing.assert_allclose(frontier.deals, [[1, 1, 1]])
    assert frontier.dominated([1, 0.5, 1])
    assert not frontier.contains([1, 0.5, 1])


def test_fixed_issue_is_eliminated() -> None:
    def utility(z: np.ndarray) -> np.ndarray:
        return np.stack([z[..., 0] + z[..., 2], z[..., 1] + 2 * z[..., 2]], axis=-1)

    problem = BargainingProblem(
        players=("a", "b"),
        lower=np.array([0.0, 0.0, 0.5]),
        upper=np.array([1.0, 1.0, 0.5]),
        utility=utility,
        disagreement=np.zeros(2),
        A_ub=np.array([[1.0, 1.0, 0.0]]),
        b_ub=np.ones(1),
    )
    affine = affine_utility(problem)
    assert affine is not None
    np.testing.assert_allclose(affine[0], [[1, 0, 0], [0, 1, 0]], atol=1e-9)
    np.testing.assert_allclose(affine[1], [0.5, 1.0], atol=1e-9)
    frontier = pareto_frontier(problem)
    np.testing.assert_allclose(frontier.payoffs[list(frontier.vertices)], [[0.5, 2], [1.5, 1]])
    np.testing.assert_allclose(frontier.deals[:, 2], 0.5)


def test_separable_issues_break_in_order_of_their_value_ratios() -> None:
    # Nine issues: too many constraint subsets to enumerate, so the deal space's
    # vertices come from a halfspace intersection. Player x should get issues in
    # decreasing order of a_j / b_j; each prefix of that order is a breakpoint.
    k = 9
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.5, 2.0, k), rng.uniform(0.5, 2.0, k)
    problem = BargainingProblem(
        players=("x", "y"),
        lower=np.zeros(k),
        upper=np.ones(k),
        utility=lambda z: np.stack([z @ a, (1 - z) @ b], axis=-1),
        disagreement=np.zeros(2),
    )
    frontier = pareto_frontier(problem, n_points=2)
    assert frontier.exact
    order = np.argsort(-a / b)
    expected = []
    for m in range(k + 1):
        z = np.zeros(k)
        z[order[:m]] = 1.0
        expected.append(problem.payoffs(z))
    expected_sorted = np.array(sorted(expected, key=lambda u: u[0]))
    np.testing.assert_allclose(
        frontier.payoffs[list(frontier.vertices)], expected_sorted, atol=1e-12
    )


def test_affine_detection() -> None:
    linear = BargainingProblem(
        players=("a", "b"),
        lower=np.zeros(2),
        upper=np.ones(2),
        utility=trade_off,
        disagreement=np.zeros(2),
    )
    affine = affine_utility(linear)
    assert affine is not None
    np.testing.assert_allclose(affine[0], [[-3, -1], [1, 2]], atol=1e-9)
    np.testing.assert_allclose(affine[1], [4, 0], atol=1e-9)
    assert affine_utility(power_shares(np.ones(2), np.full(2, 0.5), 0.1)) is None
    # A kink inside the deal space is not affine either.
    kinked = BargainingProblem(
        players=("a", "b"),
        lower=np.zeros(2),
        upper=np.ones(2),
        utility=lambda z: np.stack([np.minimum(z[..., 0], 0.6), z[..., 1]], axis=-1),
        disagreement=np.zeros(2),
    )
    assert affine_utility(kinked) is None


# --------------------------------------------------------------- sampled frontiers


def test_concave_two_player_frontier_is_covered() -> None:
    problem = power_shares(np.array([1.0, 2.0]), np.array([0.5, 0.8]), 0.15)
    frontier = pareto_frontier(problem, coverage=0.01)
    assert not frontier.exact
    assert frontier.method == "epsilon-constraint, adaptive"
    assert frontier.coverage is not None and frontier.coverage <= 0.01
    assert not frontier.evidence["budget_exhausted"]
    assert frontier.gaps == ()
    assert np.all(frontier.payoffs >= problem.disagreement - problem.solve_tolerance)
    assert np.all(np.diff(frontier.payoffs[:, 0]) > 0)
    assert np.all(np.diff(frontier.payoffs[:, 1]) < 0)
    np.testing.assert_allclose(frontier.payoffs, problem.payoffs(frontier.deals))
    # The frontier is the image of the face z_0 + z_1 = 1: sample it densely.
    share = np.linspace(0.0, 1.0, 20001)
    dense = problem.payoffs(np.stack([share, 1 - share], axis=1))
    dense = dense[np.all(dense >= problem.disagreement, axis=1)]
    tol = problem.solve_tolerance
    assert not any(beaten(dense, q, tol) for q in frontier.payoffs)
    assert frontier.scale is not None
    worst = max(normalised_distance(frontier.payoffs, x, frontier.scale) for x in dense)
    assert worst <= frontier.coverage + 1e-6
    # Deals anywhere in X are beaten by, or within coverage of, the frontier.
    inner = problem.project(qmc.Halton(d=2, seed=0).random(256))
    for u in problem.payoffs(inner):
        if np.all(u >= problem.disagreement):
            assert frontier.dominated(u) or frontier.contains(u)


def test_gap_in_the_frontier_is_certified() -> None:
    # u_1 = z_1 * g(z_0) with a bump in g: the upper boundary u_1 = g(u_0) rises
    # again after falling, so the part of the falling branch below the bump's
    # peak is dominated, and the frontier jumps from (1 - g*, g*) to the peak.
    def g(x: np.ndarray) -> np.ndarray:
        return 1 - x + 0.5 * np.exp(-(((x - 0.7) / 0.08) ** 2))

    problem = BargainingProblem(
        players=("a", "b"),
        lower=np.zeros(2),
        upper=np.ones(2),
        utility=lambda z: np.stack([z[..., 0], z[..., 1] * g(z[..., 0])], axis=-1),
        disagreement=np.zeros(2),
    )
    peak = minimize_scalar(
        lambda x: -g(x), bounds=(0.5, 0.9), method="bounded", options={"xatol": 1e-10}
    ).x
    top = float(g(np.asarray(peak)))
    frontier = pareto_frontier(problem, coverage=0.02)
    assert frontier.coverage is not None and frontier.coverage <= 0.02
    assert len(frontier.gaps) == 1
    i, j = frontier.gaps[0]
    assert j == i + 1
    np.testing.assert_allclose(frontier.payoffs[i], [1 - top, top], atol=5e-3)
    np.testing.assert_allclose(frontier.payoffs[j], [peak, top], atol=5e-3)
    inside = (frontier.payoffs[:, 0] > 1 - top + 0.01) & (frontier.payoffs[:, 0] < peak - 0.01)
    assert not np.any(inside)
    share = np.linspace(0.0, 1.0, 20001)
    dense = problem.payoffs(np.stack([share, np.ones_like(share)], axis=1))
    assert not any(beaten(dense, q, problem.solve_tolerance) for q in frontier.payoffs)


def test_budget_cap_reports_the_coverage_achieved() -> None:
    problem = power_shares(np.array([1.0, 2.0]), np.array([0.5, 0.8]), 0.15)
    frontier = pareto_frontier(problem, n_points=4, coverage=0.01, max_points=12)
    assert frontier.evidence["budget_exhausted"]
    assert frontier.evidence["solves"] <= 12
    assert frontier.scale is not None
    steps = np.max(np.abs(np.diff(frontier.payoffs, axis=0)) / frontier.scale, axis=1)
    assert frontier.coverage == pytest.approx(float(steps.max()))
    assert frontier.coverage > 0.01


def test_sampled_frontier_without_individual_rationality_reaches_the_extremes() -> None:
    problem = power_shares(np.array([1.0, 2.0]), np.array([0.5, 0.8]), 0.15)
    frontier = pareto_frontier(problem, individually_rational=False, coverage=0.05)
    np.testing.assert_allclose(frontier.payoffs[0], [0.0, 2.0], atol=1e-6)
    np.testing.assert_allclose(frontier.payoffs[-1], [1.0, 0.0], atol=1e-6)
    assert frontier.coverage is not None and frontier.coverage <= 0.05


def test_three_player_nonlinear_frontier() -> None:
    problem = power_shares(np.array([1.0, 2.0, 1.5]), np.array([0.5, 0.8, 0.3]), 0.1)
    frontier = pareto_frontier(problem, coverage=0.1)
    assert frontier.method == "Pascoletti-Serafini, adaptive"
    assert frontier.coverage is not None and frontier.coverage <= 0.1
    assert not frontier.evidence["budget_exhausted"]
    assert np.all(frontier.payoffs >= problem.disagreement - problem.solve_tolerance)
    dense = problem.payoffs(np.random.default_rng(0).dirichlet(np.ones(3), size=20000))
    dense = dense[np.all(dense >= problem.disagreement, axis=1)]
    assert not any(beaten(dense, q, problem.solve_tolerance) for q in frontier.payoffs)
    assert frontier.scale is not None
    worst = max(normalised_distance(frontier.payoffs, x, frontier.scale) for x in dense)
    # Mesh coverage bounds the distance between neighbouring directions' points;
    # every point of the face lies between such neighbours.
    assert worst <= frontier.coverage


@pytest.mark.parametrize(
    ("problem", "coverage"),
    [
        (
            BargainingProblem(
                players=("a", "b"),
                lower=np.zeros(2),
                upper=np.ones(2),
                utility=trade_off,
                disagreement=np.array([0.5, 0.5]),
            ),
            0.02,
        ),
        (unit_split(np.array([0.1, 0.2, 0.05])), 0.15),
    ],
    ids=["two-issue trade-off", "three-player split"],
)
def test_sampling_an_affine_problem_agrees_with_its_exact_frontier(
    problem: BargainingProblem, coverage: float
) -> None:
    exact = pareto_frontier(problem)
    sampled = pareto_frontier(problem, exact=False, coverage=coverage)
    assert exact.exact and not sampled.exact
    assert sampled.coverage is not None and sampled.coverage <= coverage
    for u in sampled.payoffs:
        assert exact.contains(u)
    # Every exact vertex is within the sampled frontier's coverage.
    for u in exact.payoffs[list(exact.vertices)]:
        assert sampled.contains(u)


def test_no_individually_rational_deal_gives_an_empty_frontier() -> None:
    problem = unit_split(np.array([0.6, 0.6]))
    for exact in (None, False):
        frontier = pareto_frontier(problem, exact=exact)
        assert frontier.payoffs.shape == (0, 2)
        assert frontier.deals.shape == (0, 2)
        assert frontier.coverage is None
        assert not frontier.contains([0.5, 0.5])


def test_bad_arguments_are_rejected() -> None:
    nonlinear = power_shares(np.ones(2), np.full(2, 0.5), 0.1)
    with pytest.raises(ValueError, match="affine"):
        pareto_frontier(nonlinear, exact=True)
    with pytest.raises(ValueError, match="n_points"):
        pareto_frontier(nonlinear, n_points=1)
    with pytest.raises(ValueError, match="coverage"):
        pareto_frontier(nonlinear, coverage=0.0)


# ------------------------------------------------------- random affine problems


@st.composite
def affine_problems(draw: st.DrawFn) -> tuple[BargainingProblem, bool]:
    n = draw(st.integers(2, 4))
    k = draw(st.integers(2, 4))
    entries = st.floats(-2.0, 2.0, allow_nan=False).map(lambda v: round(v, 3))
    c = np.array(draw(st.lists(entries, min_size=n * k, max_size=n * k))).reshape(n, k)
    c0 = np.array(draw(st.lists(entries, min_size=n, max_size=n)))
    lower = np.array(draw(st.lists(st.floats(-1.0, 0.0), min_size=k, max_size=k)))
    width = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0]), min_size=k, max_size=k)))
    upper = lower + width
    a_ub = b_ub = None
    if draw(st.booleans()):
        weights = np.array(draw(st.lists(st.floats(0.1, 1.0), min_size=k, max_size=k)))
        cut = draw(st.floats(0.2, 0.8))
        a_ub = weights[None, :]
        b_ub = np.array([weights @ (lower + cut * width)])
    problem_x = BargainingProblem(
        players=tuple(f"p{i}" for i in range(n)),
        lower=lower,
        upper=upper,
        utility=lambda z: z @ c.T + c0,
        disagreement=np.zeros(n),
        A_ub=a_ub,
        b_ub=b_ub,
    )
    # A disagreement point some feasible deal beats: the centre's payoffs, lowered.
    slack = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    d = problem_x.payoffs(problem_x.centre) - slack
    problem = BargainingProblem(
        players=problem_x.players,
        lower=lower,
        upper=upper,
        utility=problem_x.utility,
        disagreement=d,
        A_ub=a_ub,
        b_ub=b_ub,
    )
    return problem, draw(st.booleans())


@SETTINGS
@given(affine_problems())
def test_exact_frontier_of_random_affine_problems(case: tuple[BargainingProblem, bool]) -> None:
    problem, rational = case
    frontier = pareto_frontier(problem, n_points=5, individually_rational=rational)
    assert frontier.exact
    assert len(frontier.payoffs) >= 1
    assert np.all(problem.feasible(frontier.deals))
    np.testing.assert_allclose(
        frontier.payoffs, problem.payoffs(frontier.deals), atol=problem.tolerance.payoff * 10
    )
    n, k = problem.n_players, problem.n_issues
    rng = np.random.default_rng(0)
    deals = problem.project(problem.lower + (problem.upper - problem.lower) * rng.random((60, k)))
    samples = problem.payoffs(deals)
    if rational:
        samples = samples[np.all(samples >= problem.disagreement, axis=1)]
        assert np.all(frontier.payoffs >= problem.disagreement - problem.solve_tolerance)
    tol = problem.solve_tolerance
    vertices = frontier.payoffs[list(frontier.vertices)]
    assert not any(beaten(samples, q, tol) for q in vertices)
    assert frontier.normals is not None
    assert frontier.normals.shape == (len(frontier.faces), n)
    for face, w in zip(frontier.faces, frontier.normals, strict=True):
        assert np.all(w > 0)
        assert w.sum() == pytest.approx(1.0)
        # The face solves the utilitarian problem with weights w.
        best = frontier.payoffs[list(face)] @ w
        assert np.ptp(best) <= tol
        assert np.all(samples @ w <= best.max() + tol)
    for u in samples:
        assert frontier.dominated(u) or frontier.contains(u)
