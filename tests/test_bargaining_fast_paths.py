"""The fast paths of bargaining solves change no answer.

* a scenario's utilities, bound to the parameters once and compiled
  (:meth:`simulator.expressions.Expression.bind`), give exactly what evaluating
  the expressions gives, at every parameter value;
* utilities proved affine get an exact Jacobian and a zero Hessian; the
  solutions then agree with those from finite differences to the solvers'
  tolerance, with the same checks and signatures;
* the caches keyed by the deal space (the polytope's rows, the null spaces and
  multiplier maps of its active sets) give what computing afresh gives, and
  keep deal spaces apart.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.bargaining import (
    egalitarian,
    kalai_smorodinsky,
    nash_bargaining,
    utilitarian,
)
from simulator.bargaining import optimize as bargaining_optimize
from simulator.bargaining import problem as bargaining_problem
from simulator.bargaining.game import BargainingGame, solve_bargaining
from simulator.bargaining.problem import BargainingProblem, _Evaluator
from simulator.expressions import parse_expression
from simulator.kinds import bargaining as bargaining_kind
from simulator.outcomes import PointTask
from simulator.scenario import build_any_game, load_scenario

REPO = Path(__file__).resolve().parents[1]
US_UKRAINE = REPO / "scenarios" / "minerals_us_ukraine.yaml"
SETTINGS = settings(max_examples=8, deadline=None)
CONCEPTS = (nash_bargaining, kalai_smorodinsky, egalitarian, utilitarian)

_PARAMETERS = st.fixed_dictionaries(
    {
        "guarantee_cost_us": st.floats(0.0, 0.6),
        "guarantee_value_ua": st.floats(0.2, 1.0),
        "mineral_value_ua": st.floats(0.5, 1.1),
        "occupied_share": st.floats(0.0, 0.6),
    }
)


@functools.cache
def _scenario() -> Any:
    return load_scenario(US_UKRAINE)


def _split(**parameters: float) -> BargainingGame:
    game = build_any_game(_scenario(), "split_the_deal", parameters=parameters)
    assert isinstance(game, BargainingGame)
    return game


class _Plain:
    """A utility that declares nothing: the optimizers use finite differences."""

    def __init__(self, utility: Any) -> None:
        self.utility = utility

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(self.utility(z))


def _without_affine(problem: BargainingProblem) -> BargainingProblem:
    return BargainingProblem(
        players=problem.players,
        lower=problem.lower,
        upper=problem.upper,
        utility=_Plain(problem.utility),
        disagreement=problem.disagreement,
        A_ub=problem.A_ub,
        b_ub=problem.b_ub,
        issues=problem.issues,
    )


# ------------------------------------------------------------ bound utilities
@SETTINGS
@given(_PARAMETERS, st.integers(0, 2**32 - 1))
def test_bound_utility_equals_evaluating_the_expressions(
    parameters: dict[str, float], seed: int
) -> None:
    utility = _split(**parameters).problem.utility
    assert isinstance(utility, bargaining_kind._ScenarioUtility)
    problem = _split(**parameters).problem
    rng = np.random.default_rng(seed)
    deals = [
        problem.sample,
        problem.lower + rng.random((7, problem.n_issues)) * (problem.upper - problem.lower),
        problem.centre,  # one deal, shape (k,)
        rng.random((2, 3, problem.n_issues)),  # any leading shape
    ]
    for z in deals:
        fast, slow = utility(z), utility.evaluate(z)
        np.testing.assert_array_equal(fast, slow)
        assert fast.shape == slow.shape == (*np.shape(z)[:-1], problem.n_players)


def test_rebuilding_with_new_parameters_rebinds_the_utilities() -> None:
    cheap, dear = _split(guarantee_cost_us=0.0), _split(guarantee_cost_us=0.5)
    z = np.array([0.5, 1.0, 1.0])  # mineral_share, guarantee, support
    us = cheap.players.index("US")
    assert cheap.problem.utility(z)[us] - dear.problem.utility(z)[us] == pytest.approx(0.5)


def test_a_nonlinear_utility_is_not_declared_affine_and_still_exact() -> None:
    expressions = [parse_expression("sqrt(x) * a + y"), parse_expression("a * x - y")]
    utility = bargaining_kind._ScenarioUtility(expressions, ["x", "y"], {"a": 2.0})
    assert not utility.affine
    z = np.array([[0.25, 1.0], [4.0, 0.0]])
    np.testing.assert_array_equal(utility(z), utility.evaluate(z))
    problem = BargainingProblem(
        players=("A", "B"),
        lower=np.zeros(2),
        upper=np.ones(2),
        utility=utility,
        disagreement=np.zeros(2),
    )
    assert not _Evaluator(problem).affine
    linear = bargaining_kind._ScenarioUtility(expressions[1:] * 2, ["x", "y"], {"a": 2.0})
    assert linear.affine


def test_a_non_finite_utility_raises_the_expression_error() -> None:
    from simulator.expressions import NonFiniteError

    utility = bargaining_kind._ScenarioUtility(
        [parse_expression("log(x - a)"), parse_expression("x")], ["x"], {"a": 0.5}
    )
    with pytest.raises(NonFiniteError, match=r"log of -0\.5"):
        utility(np.array([[1.0], [0.0]]))


# ------------------------------------------------------ exact affine derivatives
@SETTINGS
@given(_PARAMETERS)
def test_affine_derivatives_match_finite_differences(parameters: dict[str, float]) -> None:
    problem = _split(**parameters).problem
    plain = _without_affine(problem)
    exact, differenced = _Evaluator(problem), _Evaluator(plain)
    assert exact.affine and not differenced.affine
    for z in problem.sample[:5]:
        u, jac, hess = exact.hessian(z)
        u_fd, jac_fd, hess_fd = differenced.hessian(z)
        np.testing.assert_array_equal(u, u_fd)
        np.testing.assert_allclose(jac, jac_fd, rtol=0, atol=1e-8)
        # Differenced twice, an affine map's Hessian is round-off over a 1e-4 step.
        np.testing.assert_allclose(hess, hess_fd, rtol=0, atol=1e-4)
        assert not hess.any()


@SETTINGS
@given(_PARAMETERS)
def test_solutions_with_exact_derivatives_agree_with_finite_differences(
    parameters: dict[str, float],
) -> None:
    problem = _split(**parameters).problem
    plain = _without_affine(problem)
    deal_tol = problem.deal_tolerance
    for concept in CONCEPTS:
        fast, reference = concept(problem), concept(plain)
        assert fast.agreement == reference.agreement
        assert fast.unique == reference.unique
        np.testing.assert_allclose(fast.payoffs, reference.payoffs, atol=problem.solve_tolerance)
        if reference.deal is not None:
            assert fast.deal is not None
            assert np.all(np.abs(fast.deal - reference.deal) <= deal_tol)
    warm = nash_bargaining(problem, start=problem.sample[3])
    np.testing.assert_allclose(
        warm.payoffs, nash_bargaining(plain).payoffs, atol=problem.solve_tolerance
    )


def test_sweep_records_agree_with_the_reference_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Records with every fast path on equal those with them off, to the solvers' tolerance."""
    points = [
        {"guarantee_cost_us": g, "occupied_share": o}
        for g in (0.0, 0.13, 0.29, 0.41)
        for o in (0.2, 0.45)
    ]
    task = PointTask(str(US_UKRAINE), "split_the_deal", ("nash_bargaining", "utilitarian"))
    fast = task(points)
    with monkeypatch.context() as patch:
        patch.setattr(bargaining_problem, "_declared_affine", lambda problem: False)
        patch.setattr(
            bargaining_kind._ScenarioUtility, "__call__", bargaining_kind._ScenarioUtility.evaluate
        )
        reference = task(points)
    problem = _split().problem
    deal_tol = float(np.max(problem.deal_tolerance))
    for f, r in zip(fast, reference, strict=True):
        assert f["signature"] == r["signature"]
        for column, value in r.items():
            if isinstance(value, float) and not column.startswith("param."):
                tol = deal_tol if ".deal." in column else problem.solve_tolerance
                assert f[column] == pytest.approx(value, abs=tol), column
            else:
                assert f[column] == value, column


def test_results_do_not_depend_on_what_the_caches_hold() -> None:
    """A solve with the deal-space caches cold gives what it gives with them warm, exactly."""
    game = _split(guarantee_cost_us=0.2)
    warm_start = {"nash_bargaining": np.array([0.4, 0.0, 1.0])}
    warm = solve_bargaining(game, ["nash_bargaining"], starts=warm_start)
    bargaining_optimize._NULL_SPACES.clear()
    bargaining_problem._POLYTOPES.clear()
    cold = solve_bargaining(_split(guarantee_cost_us=0.2), ["nash_bargaining"], starts=warm_start)
    for a, b in zip(warm.solutions, cold.solutions, strict=True):
        np.testing.assert_array_equal(a.deal, b.deal)
        np.testing.assert_array_equal(a.payoffs, b.payoffs)


# ------------------------------------------------------------ deal-space caches
def _box(upper: float, a_ub: np.ndarray | None = None) -> BargainingProblem:
    return BargainingProblem(
        players=("A", "B"),
        lower=np.zeros(2),
        upper=np.full(2, upper),
        utility=lambda z: np.stack([z[..., 0] + 0.1, z[..., 1] + 0.1], axis=-1),
        disagreement=np.zeros(2),
        A_ub=a_ub,
        b_ub=None if a_ub is None else np.ones(1),
    )


def test_polytope_rows_are_shared_per_deal_space_and_kept_apart() -> None:
    one, same = _box(1.0), _box(1.0)
    other, cut = _box(2.0), _box(1.0, np.array([[1.0, 1.0]]))
    g1, h1, s1 = bargaining_problem._polytope(one)
    assert bargaining_problem._polytope(same)[0] is g1  # one deal space, one copy
    assert not g1.flags.writeable and not h1.flags.writeable
    np.testing.assert_array_equal(h1, [1, 1, 0, 0])
    np.testing.assert_array_equal(bargaining_problem._polytope(other)[1], [2, 2, 0, 0])
    g_cut, h_cut, _ = bargaining_problem._polytope(cut)
    np.testing.assert_array_equal(g_cut[-1], [1, 1])
    np.testing.assert_array_equal(h_cut, [1, 1, 0, 0, 1])
    bargaining_problem._POLYTOPES.clear()
    fresh = bargaining_problem._polytope(_box(1.0))
    for cached, again in zip((g1, h1, s1), fresh, strict=True):
        np.testing.assert_array_equal(cached, again)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.booleans(), min_size=6, max_size=6))
def test_null_spaces_equal_a_fresh_decomposition(mask: list[bool]) -> None:
    g = np.vstack([np.eye(2), -np.eye(2), [[1.0, 1.0], [1.0, -2.0]]])
    active = np.array(mask)
    normals = g[active]
    key = np.int64(2).tobytes() + g.tobytes()
    null, solver = bargaining_optimize._null_space(key, active.tobytes(), normals, 2)
    again = bargaining_optimize._null_space(key, active.tobytes(), normals, 2)
    assert again[0] is null and again[1] is solver
    # An orthonormal basis of the directions every active row leaves unchanged.
    if normals.shape[0]:
        np.testing.assert_allclose(normals @ null, 0.0, atol=1e-12)
        rank = np.linalg.matrix_rank(normals)
        grad = np.array([0.3, -1.7])
        lam = np.linalg.lstsq(normals.T, -grad, rcond=None)[0]
        np.testing.assert_allclose(solver @ -grad, lam, atol=1e-12)
    else:
        rank = 0
    assert null.shape == (2, 2 - rank)
    np.testing.assert_allclose(null.T @ null, np.eye(2 - rank), atol=1e-12)
    # Another polytope with the same active mask is another entry.
    other = np.int64(2).tobytes() + (2 * g).tobytes()
    assert bargaining_optimize._null_space(other, active.tobytes(), 2 * normals, 2)[0] is not null


def test_the_null_space_cache_is_bounded() -> None:
    bargaining_optimize._NULL_SPACES.clear()
    g = np.eye(1)
    for i in range(bargaining_optimize._NULL_SPACE_CACHE_SIZE + 10):
        bargaining_optimize._null_space(np.float64(i).tobytes(), b"\x01", g, 1)
    assert 0 < len(bargaining_optimize._NULL_SPACES) <= bargaining_optimize._NULL_SPACE_CACHE_SIZE


def test_deal_tolerance_is_read_only_and_per_issue() -> None:
    problem = _box(3.0)
    tol = problem.deal_tolerance
    assert tol is problem.deal_tolerance
    assert not tol.flags.writeable
    np.testing.assert_array_equal(tol, bargaining_problem.SOLVE_RTOL * np.array([3.0, 3.0]))
