"""Figures: what is drawn is what the library computed (grids, curves, marks, tables, lines).

Every test reads the data back from the returned plot object *and* from the
matplotlib artists, so a figure that looked right but plotted the wrong numbers
would fail. Saving is checked by the files' magic bytes and by failures that
must leave no partial file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from matplotlib.contour import ContourSet
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from scipy.spatial import ConvexHull

from simulator.bargaining.frontier import ParetoFrontier, pareto_frontier
from simulator.bargaining.game import BargainingGame, BargainingResult, solve_bargaining
from simulator.bargaining.problem import BargainingProblem
from simulator.game import StrategicGame
from simulator.plotting import (
    FrontierPlot,
    HeatmapPlot,
    Plot,
    SurfacePlot,
    column_label,
    frontier_plot,
    payoff_heatmap,
    payoff_surface,
    qre_plot,
    sweep_plot,
)
from simulator.plotting.style import CMAP, CONCEPT_LABELS, concept_label, number
from simulator.results import SolverResult
from simulator.scenario import Scenario, build_any_game, load_scenario
from simulator.solvers import solve

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def ukraine() -> Scenario:
    return load_scenario(SCENARIOS / "minerals_us_ukraine.yaml")


@pytest.fixture(scope="module")
def four() -> Scenario:
    return load_scenario(SCENARIOS / "minerals_four_party.yaml")


@pytest.fixture(scope="module")
def split(ukraine: Scenario) -> BargainingGame:
    game = build_any_game(ukraine, "split_the_deal")
    assert isinstance(game, BargainingGame)
    return game


@pytest.fixture(scope="module")
def split_result(split: BargainingGame) -> BargainingResult:
    return solve_bargaining(split)


@pytest.fixture(scope="module")
def terms(four: Scenario) -> BargainingGame:
    game = build_any_game(four, "four_party_terms")
    assert isinstance(game, BargainingGame)
    return game


@pytest.fixture(scope="module")
def terms_result(terms: BargainingGame) -> BargainingResult:
    return solve_bargaining(terms)


@pytest.fixture(scope="module")
def offer(ukraine: Scenario) -> tuple[StrategicGame, SolverResult]:
    game = build_any_game(ukraine, "offer_and_response")
    assert isinstance(game, StrategicGame)
    return game, solve(game, "auto")


@pytest.fixture(scope="module")
def four_party(four: Scenario) -> tuple[StrategicGame, SolverResult]:
    game = build_any_game(four, "four_party")
    assert isinstance(game, StrategicGame)
    return game, solve(game, "auto")


def split_problem(nonlinear: bool = False) -> BargainingProblem:
    """Two players split a unit: issues x, y with x + y <= 1 (a triangle), d = (0.3, 0.2).

    Affine utilities u = (x + 0.5 y, y + 0.25 x), or (sqrt-concave) nonlinear ones.
    """

    def utility(z: np.ndarray) -> np.ndarray:
        x, y = z[..., 0], z[..., 1]
        if nonlinear:
            return np.stack([np.sqrt(x + 0.01) + 0.3 * y, y**2 + 0.5 * x], axis=-1)
        return np.stack([x + 0.5 * y, y + 0.25 * x], axis=-1)

    return BargainingProblem(
        players=("A", "B"),
        lower=np.zeros(2),
        upper=np.ones(2),
        utility=utility,
        disagreement=np.array([0.3, 0.2]),
        A_ub=np.array([[1.0, 1.0]]),
        b_ub=np.array([1.0]),
        issues=("x", "y"),
    )


def signed_area(polygon: np.ndarray) -> float:
    x, y = polygon[:, 0], polygon[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def units_of(scenario: Scenario) -> dict[str, str]:
    return {name: issue.unit for name, issue in scenario.issues.items() if issue.unit}


def legend_texts(plot: Plot) -> list[str]:
    return [t.get_text() for legend in plot.figure.legends for t in legend.get_texts()]


def slice_deals(base: np.ndarray, xi: int, yi: int, points: np.ndarray) -> np.ndarray:
    deals = np.tile(base, (len(points), 1))
    deals[:, xi] = points[:, 0]
    deals[:, yi] = points[:, 1]
    return deals


# --------------------------------------------------------------------------- payoff surface


def test_surface_grid_values_are_the_utilities_at_the_grid_deals(
    split: BargainingGame, split_result: BargainingResult, ukraine: Scenario
) -> None:
    problem = split.problem
    plot = payoff_surface(
        split,
        "US",
        "mineral_share",
        "guarantee",
        solutions=split_result,
        resolution=(9, 7),
        units=units_of(ukraine),
    )
    assert isinstance(plot, SurfacePlot)
    assert plot.values.shape == (7, 9) and plot.deals.shape == (7, 9, 3)
    np.testing.assert_array_equal(plot.x, np.linspace(0, 1, 9))
    np.testing.assert_array_equal(plot.y, np.linspace(0, 1, 7))
    np.testing.assert_array_equal(plot.deals[..., 0], np.broadcast_to(plot.x, (7, 9)))
    np.testing.assert_array_equal(plot.deals[..., 1], np.broadcast_to(plot.y[:, None], (7, 9)))
    np.testing.assert_array_equal(plot.deals[..., 2], 1.0)  # support is fixed at 1
    np.testing.assert_array_equal(plot.payoffs, problem.payoffs(plot.deals))
    np.testing.assert_array_equal(plot.values, problem.payoffs(plot.deals)[..., 0])
    # The filled contours span exactly the plotted values, in the chosen colour map.
    ax = plot.figure.axes[0]
    filled = [c for c in ax.collections if isinstance(c, ContourSet) and c.filled]
    assert filled[0].cmap.name == CMAP == plot.cmap == "cividis"
    assert filled[0].levels[0] <= plot.values.min() and filled[0].levels[-1] >= plot.values.max()
    assert ax.get_xlabel() == "mineral_share (share of revenue)"
    assert ax.get_ylabel() == "guarantee (level (0 none, 1 binding))"
    assert (
        plot.figure.get_suptitle() == plot.title == "US's payoff over mineral_share and guarantee"
    )


def test_surface_default_slice_is_the_nash_deal(terms: BargainingGame) -> None:
    # No solutions given: the other issues sit at the (computed) Nash bargaining deal.
    plot = payoff_surface(terms, "RU", "sanctions_relief", "aluminium", resolution=5)
    nash = solve_bargaining(terms, ["nash_bargaining"]).solutions[0]
    assert nash.deal is not None
    assert "Nash bargaining" in plot.fixed_from
    issues = terms.problem.issues
    for name, value in plot.fixed.items():
        assert value == pytest.approx(nash.deal[issues.index(name)], abs=1e-6)
    assert set(plot.fixed) == set(issues) - {"sanctions_relief", "aluminium"}


def test_surface_given_fixed_values_are_used(
    terms: BargainingGame, terms_result: BargainingResult
) -> None:
    plot = payoff_surface(
        terms,
        "RU",
        "sanctions_relief",
        "aluminium",
        fixed={"guarantee": 0.25},
        solutions=terms_result,
        resolution=4,
    )
    g = terms.problem.issues.index("guarantee")
    np.testing.assert_array_equal(plot.deals[..., g], 0.25)
    assert plot.fixed["guarantee"] == 0.25
    np.testing.assert_allclose(plot.values, terms.problem.payoffs(plot.deals)[..., 1])
    # Every solution's guarantee differs from 0.25, so none lies on this slice.
    assert not any(plot.on_slice.values())


def test_surface_marks_are_exactly_the_solutions_deals(
    split: BargainingGame, split_result: BargainingResult
) -> None:
    plot = payoff_surface(
        split, "UA", "mineral_share", "guarantee", solutions=split_result, resolution=5
    )
    assert set(plot.marks) == {s.concept for s in split_result.solutions}
    texts = legend_texts(plot)
    assert plot.legend == tuple(texts)
    for solution in split_result.solutions:
        assert solution.deal is not None
        np.testing.assert_array_equal(plot.marks[solution.concept], solution.deal[:2])
        assert plot.on_slice[solution.concept]  # support = 1 in every deal
        assert any(t.startswith(concept_label(solution.concept)) for t in texts)
    # The marker artists sit at those points.
    drawn = {
        (float(line.get_xdata()[0]), float(line.get_ydata()[0]))
        for line in plot.figure.axes[0].lines
        if line.get_linestyle() == "None"
    }
    for point in plot.marks.values():
        assert (float(point[0]), float(point[1])) in drawn
    # Nash and utilitarian agree on this game; the legend says so.
    assert any("same deal as Nash bargaining" in t for t in texts if t.startswith("utilitarian"))


@pytest.mark.parametrize("game_name", ["split", "terms"])
def test_indifference_curves_lie_where_u_equals_d(
    game_name: str, request: pytest.FixtureRequest
) -> None:
    game: BargainingGame = request.getfixturevalue(game_name)
    problem = game.problem
    x, y = (0, 1) if game_name == "split" else (5, 6)
    plot = payoff_surface(game, 0, x, y, resolution=15)
    found = 0
    drawn = [np.column_stack([ln.get_xdata(), ln.get_ydata()]) for ln in plot.figure.axes[0].lines]
    for j, player in enumerate(problem.players):
        for curve in plot.indifference[player]:
            found += 1
            u = problem.payoffs(slice_deals(plot.base, x, y, curve))[:, j]
            # Affine utilities: marching squares interpolates linearly, so the curve is exact.
            np.testing.assert_allclose(u, problem.disagreement[j], atol=1e-9)
            assert any(d.shape == curve.shape and np.allclose(d, curve) for d in drawn)
    assert found >= 1


def test_nonlinear_indifference_curve_is_close_and_the_infeasible_triangle_is_exact() -> None:
    problem = split_problem(nonlinear=True)
    plot = payoff_surface(problem, "A", "x", "y", resolution=41)
    tri = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    region = plot.feasible_region
    assert len(region) == 3
    for corner in tri:
        assert np.min(np.max(np.abs(region - corner), axis=1)) < 1e-12
    # The mask is the constraint x + y <= 1 on the grid.
    xs, ys = np.meshgrid(plot.x, plot.y)
    np.testing.assert_array_equal(plot.feasible, xs + ys <= 1 + 1e-9)
    # Acceptable: feasible and both players at least at d.
    gains = plot.payoffs - problem.disagreement
    np.testing.assert_array_equal(plot.acceptable, plot.feasible & np.all(gains >= -1e-12, axis=-1))
    # Curves lie on u_j = d_j up to the marching-squares interpolation error, which
    # shrinks like h**2 as the grid is refined; and they stay inside the triangle.
    finer = payoff_surface(problem, "A", "x", "y", resolution=81)

    def error(p: SurfacePlot, j: int) -> float:
        curves = p.indifference[problem.players[j]]
        assert curves
        u = [problem.payoffs(slice_deals(p.base, 0, 1, c))[:, j] for c in curves]
        return float(np.max(np.abs(np.concatenate(u) - problem.disagreement[j])))

    for j in range(2):
        assert error(plot, j) < 1e-2
        assert error(finer, j) < error(plot, j) / 2 or error(finer, j) < 1e-12
        for curve in plot.indifference[problem.players[j]]:
            assert np.all(curve.sum(axis=1) <= 1 + 1e-9)
    # The hatched patch covers the box minus the triangle: above the diagonal only.
    patches = [p for p in plot.figure.axes[0].patches if isinstance(p, PathPatch)]
    assert len(patches) == 1 and patches[0].get_hatch() == "//"
    outer, hole = patches[0].get_path().to_polygons()
    assert {tuple(v) for v in outer} == {(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)}
    assert {tuple(v) for v in hole} == {tuple(v) for v in tri}
    # Opposite orientations, so the non-zero fill rule leaves the triangle open.
    assert signed_area(outer) * signed_area(hole) < 0
    assert "outside the deal space (constraints)" in legend_texts(plot)


def test_three_d_surface(split: BargainingGame, split_result: BargainingResult) -> None:
    plot = payoff_surface(split, "UA", 0, 1, solutions=split_result, resolution=6, three_d=True)
    ax = plot.figure.axes[0]
    assert ax.name == "3d" and plot.three_d
    surfaces = [c for c in ax.collections if getattr(c, "cmap", None) is not None]
    assert surfaces and surfaces[0].cmap.name == "cividis"
    np.testing.assert_array_equal(plot.values, split.problem.payoffs(plot.deals)[..., 1])
    assert set(plot.marks) == {s.concept for s in split_result.solutions}


def test_surface_rejects_bad_requests(split: BargainingGame, terms: BargainingGame) -> None:
    with pytest.raises(ValueError, match="must be different issues"):
        payoff_surface(split, "US", "guarantee", "guarantee")
    with pytest.raises(ValueError, match="support is fixed at 1"):
        payoff_surface(split, "US", "mineral_share", "support")
    with pytest.raises(ValueError, match="unknown player 'RU'"):
        payoff_surface(split, "RU", 0, 1)
    with pytest.raises(ValueError, match="unknown issue"):
        payoff_surface(split, "US", "minerals", 1)
    with pytest.raises(ValueError, match="outside its range"):
        payoff_surface(terms, 0, 0, 1, fixed={"aluminium": 3.0})
    with pytest.raises(ValueError, match="plotted on an axis"):
        payoff_surface(terms, 0, 0, 1, fixed={"mineral_share": 0.5})
    with pytest.raises(ValueError, match="resolution"):
        payoff_surface(split, 0, 0, 1, resolution=1)
    with pytest.raises(TypeError, match="solutions"):
        payoff_surface(split, 0, 0, 1, solutions=["nash"])  # type: ignore[list-item]


# --------------------------------------------------------------------------- frontier


def test_frontier_points_marks_and_zone_two_players(
    split_result: BargainingResult,
) -> None:
    problem = split_result.game.problem
    frontier = pareto_frontier(problem)
    plot = frontier_plot(split_result, frontier)
    assert isinstance(plot, FrontierPlot) and not plot.projection
    np.testing.assert_array_equal(plot.points, frontier.payoffs)
    ax = plot.figure.axes[0]
    curve = [ln for ln in ax.lines if ln.get_color() == "black" and ln.get_linestyle() == "-"]
    np.testing.assert_array_equal(
        np.column_stack([curve[0].get_xdata(), curve[0].get_ydata()]), frontier.payoffs
    )
    np.testing.assert_array_equal(plot.disagreement, problem.disagreement)
    texts = legend_texts(plot)
    for solution in split_result.solutions:
        np.testing.assert_array_equal(plot.marks[solution.concept], solution.payoffs)
        assert any(t.startswith(concept_label(solution.concept)) for t in texts)
    assert any(t.startswith("disagreement d") for t in texts)
    assert any(t.startswith("zone of agreement") for t in texts)
    # The zone: bounded below by d, above by the frontier; its top vertices are frontier points.
    zone = plot.zone
    assert np.all(zone >= problem.disagreement - 1e-12)
    frontier_rows = {tuple(p) for p in frontier.payoffs}
    assert {tuple(v) for v in zone[2:-1]} <= frontier_rows
    path = MplPath(zone)
    for solution in split_result.solutions:
        midpoint = (solution.payoffs + problem.disagreement) / 2
        assert path.contains_point(midpoint)
    beyond = frontier.payoffs[len(frontier.payoffs) // 2] + 0.05
    assert not path.contains_point(beyond)
    assert plot.figure.get_suptitle() == "Pareto frontier of US and UA"
    assert ax.get_xlabel() == "US's payoff" and ax.get_ylabel() == "UA's payoff"


def test_frontier_projection_of_four_players(terms_result: BargainingResult) -> None:
    problem = terms_result.game.problem
    frontier = pareto_frontier(problem)
    plot = frontier_plot(terms_result, frontier, players=("RU", "US"), payoff_unit="deal units")
    assert plot.projection and plot.pair == (1, 0) and plot.players == ("RU", "US")
    np.testing.assert_array_equal(plot.points, frontier.payoffs[:, [1, 0]])
    dots = [ln for ln in plot.figure.axes[0].lines if ln.get_marker() == "o"]
    np.testing.assert_array_equal(
        np.column_stack([dots[0].get_xdata(), dots[0].get_ydata()]), plot.points
    )
    for solution in terms_result.solutions:
        np.testing.assert_array_equal(plot.marks[solution.concept], solution.payoffs[[1, 0]])
    assert "projected" in plot.title and any("projection" in n for n in plot.notes)
    assert plot.figure.axes[0].get_xlabel() == "RU's payoff (deal units)"
    # Zone: every frontier point (projected) lies in it, and it starts at d.
    hull = ConvexHull(plot.zone)
    assert len(hull.vertices) == len(plot.zone)  # the zone is a convex polygon
    slack = plot.points @ hull.equations[:, :2].T + hull.equations[:, 2]
    assert np.all(slack <= 1e-9)
    assert np.all(plot.zone >= problem.disagreement[[1, 0]] - 1e-12)
    assert any(np.array_equal(v, problem.disagreement[[1, 0]]) for v in plot.zone)


def test_frontier_gaps_break_the_line_and_step_the_zone() -> None:
    problem = split_problem()
    payoffs = np.array([[0.0, 3.0], [1.0, 2.0], [2.0, 0.5], [3.0, 0.0]])
    frontier = ParetoFrontier(
        players=("A", "B"),
        payoffs=payoffs,
        deals=np.zeros((4, 2)),
        individually_rational=False,
        gaps=((1, 2),),
    )
    problem_d0 = BargainingProblem(
        players=("A", "B"),
        lower=np.zeros(2),
        upper=np.ones(2),
        utility=problem.utility,
        disagreement=np.zeros(2),
        issues=("x", "y"),
    )
    plot = frontier_plot(problem_d0, frontier)
    solid = [ln for ln in plot.figure.axes[0].lines if ln.get_color() == "black"]
    pieces = [np.column_stack([ln.get_xdata(), ln.get_ydata()]) for ln in solid]
    assert len(pieces) == 2
    np.testing.assert_array_equal(pieces[0], payoffs[:2])
    np.testing.assert_array_equal(pieces[1], payoffs[2:])
    expected = [[0, 0], [0, 3], [0, 3], [1, 2], [1, 0.5], [2, 0.5], [3, 0], [3, 0]]
    np.testing.assert_array_equal(plot.zone, expected)
    assert "gap (no frontier point between)" in legend_texts(plot)


def test_frontier_without_agreement() -> None:
    problem = split_problem()
    blocked = BargainingProblem(
        players=problem.players,
        lower=problem.lower,
        upper=problem.upper,
        utility=problem.utility,
        disagreement=np.array([0.9, 0.9]),
        A_ub=problem.A_ub,
        b_ub=problem.b_ub,
        issues=problem.issues,
    )
    result = solve_bargaining(BargainingGame(blocked))
    plot = frontier_plot(result)
    assert len(plot.points) == 0 and len(plot.zone) == 0
    assert not plot.marks
    texts = legend_texts(plot)
    assert any(t.startswith("Pareto frontier: empty") for t in texts)
    for concept in result.concepts:
        assert f"{CONCEPT_LABELS[concept]}: no deal (at d)" in texts


def test_frontier_rejects_bad_pairs(terms: BargainingGame) -> None:
    frontier = ParetoFrontier(
        players=("A", "B"),
        payoffs=np.zeros((1, 2)),
        deals=np.zeros((1, 7)),
        individually_rational=True,
    )
    with pytest.raises(ValueError, match="must differ"):
        frontier_plot(terms, frontier, players=("US", "US"))
    with pytest.raises(ValueError, match="unknown player"):
        frontier_plot(terms, frontier, players=("US", "CN"))
    with pytest.raises(ValueError, match="2 players, the problem 4"):
        frontier_plot(terms, frontier)


# --------------------------------------------------------------------------- heatmap


def test_two_player_heatmap_annotations_colours_and_equilibria(
    offer: tuple[StrategicGame, SolverResult],
) -> None:
    game, result = offer
    plot = payoff_heatmap(game, result=result, player="US")
    assert isinstance(plot, HeatmapPlot) and plot.colour_by == "US"
    np.testing.assert_array_equal(plot.values, game.payoffs[0])
    ax = plot.figure.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), game.payoffs[0])
    assert ax.images[0].get_cmap().name == "cividis"
    # Every cell's text is "u_US, u_UA" from the payoff table, at (column, row).
    texts = {
        (round(t.get_position()[0]), round(t.get_position()[1])): t.get_text() for t in ax.texts
    }
    for r in range(3):
        for c in range(3):
            expected = f"{number(game.payoffs[0, r, c])}, {number(game.payoffs[1, r, c])}"
            assert plot.annotations[(r, c)] == expected == texts[(c, r)]
    assert texts[(0, 0)] == "0.1, 0.76"
    # Pure equilibria outlined, and exactly those.
    pure = {
        tuple(int(np.argmax(s)) for s in eq.strategies) for eq in result.equilibria if eq.is_pure
    }
    assert set(plot.pure) == pure == {(0, 0), (1, 1)}
    corners = {
        (round(p.get_x() + 0.46), round(p.get_y() + 0.46))
        for p in ax.patches
        if isinstance(p, Rectangle) and not p.get_fill()
    }
    assert corners == {(c, r) for r, c in pure}
    legend = legend_texts(plot)
    assert len(plot.equilibria) == len(result.equilibria) == 3
    for text in plot.equilibria:
        assert text in legend
    assert any(
        t.startswith("mixed equilibrium 3: US: half_with_guarantee; UA: 0.25 sign_any")
        for t in legend
    )
    assert ax.get_xticklabels()[2].get_text() == "hold_out"


def test_heatmap_colours_by_sum_by_default(offer: tuple[StrategicGame, SolverResult]) -> None:
    game, _ = offer
    plot = payoff_heatmap(game)
    assert plot.colour_by == "sum" and plot.pure == () and plot.equilibria == ()
    np.testing.assert_allclose(plot.values, game.payoffs.sum(axis=0))


def test_four_player_heatmap_is_small_multiples(
    four_party: tuple[StrategicGame, SolverResult],
) -> None:
    game, result = four_party
    plot = payoff_heatmap(game, result=result, player="EU")
    assert plot.panels == ((0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1))
    panels = [ax for ax in plot.figure.axes if ax.images]
    assert len(panels) == 6
    for ax, rest in zip(panels, plot.panels, strict=True):
        np.testing.assert_array_equal(
            ax.images[0].get_array(), game.payoffs[3][:, :, rest[0], rest[1]]
        )
        for t in ax.texts:
            c, r = (round(v) for v in t.get_position())
            profile = (r, c, *rest)
            assert t.get_text() == ", ".join(
                number(v) for v in game.payoffs[(slice(None), *profile)]
            )
    pure = {
        tuple(int(np.argmax(s)) for s in eq.strategies) for eq in result.equilibria if eq.is_pure
    }
    assert set(plot.pure) == pure
    for profile in pure:
        ax = panels[plot.panels.index(profile[2:])]
        outlined = {
            (round(p.get_x() + 0.46), round(p.get_y() + 0.46))
            for p in ax.patches
            if isinstance(p, Rectangle)
        }
        assert (profile[1], profile[0]) in outlined
    assert "UA: sign_us, EU: stay_out" in [ax.get_title() for ax in panels]
    assert all(t in legend_texts(plot) for t in plot.equilibria)


def test_heatmap_errors(offer: tuple[StrategicGame, SolverResult]) -> None:
    game, result = offer
    other = StrategicGame.from_payoffs(np.zeros((2, 2, 2)), players=["A", "B"])
    with pytest.raises(ValueError, match="another game"):
        payoff_heatmap(other, result=result)
    with pytest.raises(ValueError, match="unknown player"):
        payoff_heatmap(game, player="EU")
    big = StrategicGame.from_payoffs(np.zeros((4, 2, 2, 7, 6)))
    with pytest.raises(ValueError, match=r"42 panels.*at most 36"):
        payoff_heatmap(big)


# --------------------------------------------------------------------------- QRE


def test_qre_plot_lines_are_the_probabilities() -> None:
    lambdas = np.array([0.0, 4.0, 1.0, 2.0])  # unsorted on purpose
    row = np.array([[0.5, 0.5], [0.9, 0.1], [0.6, 0.4], [0.75, 0.25]])
    col = np.array([[1 / 3, 1 / 3, 1 / 3], [0.8, 0.1, 0.1], [0.5, 0.3, 0.2], [0.6, 0.3, 0.1]])
    plot = qre_plot(lambdas, [row, col], [["u", "d"], ["l", "c", "r"]], players=["R", "C"])
    order = np.argsort(lambdas)
    np.testing.assert_array_equal(plot.lambdas, lambdas[order])
    np.testing.assert_array_equal(plot.probabilities[0], row[order])
    np.testing.assert_array_equal(plot.probabilities[1], col[order])
    stacked = qre_plot(lambdas, np.hstack([row, col]), [["u", "d"], ["l", "c", "r"]])
    for a, b in zip(plot.probabilities, stacked.probabilities, strict=True):
        np.testing.assert_array_equal(a, b)
    assert plot.legend == ("R: u", "R: d", "C: l", "C: c", "C: r")
    for ax, probabilities in zip(plot.figure.axes, plot.probabilities, strict=True):
        for k, line in enumerate(ax.lines):
            np.testing.assert_array_equal(line.get_xdata(), plot.lambdas)
            np.testing.assert_array_equal(line.get_ydata(), probabilities[:, k])
    assert plot.figure.axes[-1].get_xlabel().startswith("λ")


def test_qre_plot_takes_labels_from_a_game(offer: tuple[StrategicGame, SolverResult]) -> None:
    game, _ = offer
    uniform = np.full((2, 6), 1 / 3)
    plot = qre_plot([0.0, 1.0], uniform, game)
    assert plot.players == ("US", "UA") and plot.legend[0] == "US: half_no_guarantee"


def test_qre_plot_errors() -> None:
    labels = [["a", "b"], ["x", "y"]]
    with pytest.raises(ValueError, match="sum to 1"):
        qre_plot([0.0], [[0.5, 0.6, 0.5, 0.5]], labels)
    with pytest.raises(ValueError, match="shape"):
        qre_plot([0.0, 1.0], [[0.5, 0.5, 0.5, 0.5]], labels)
    with pytest.raises(ValueError, match="log scale"):
        qre_plot([0.0], [[0.5, 0.5, 0.5, 0.5]], labels, x_scale="log")
    with pytest.raises(ValueError, match="non-negative"):
        qre_plot([-1.0], [[0.5, 0.5, 0.5, 0.5]], labels)


# --------------------------------------------------------------------------- sweep


def sweep_records() -> list[dict[str, object]]:
    """A synthetic sweep of ``param.cost`` (unsorted), one failed point, ``param.value`` fixed."""
    out: list[dict[str, object]] = []
    for cost in [0.4, 0.0, 0.2, 0.1, 0.3]:
        failed = cost == 0.3
        out.append(
            {
                "param.cost": cost,
                "param.value": 1.0,
                "deal_exists": cost < 0.35,
                "nash_bargaining.deal.share": None if failed else 1 - cost,
                "egalitarian.deal.share": None if failed else 0.5 - cost / 2,
                "nash_bargaining.payoff.US": None if failed else cost**2,
                "signature": "a" if cost < 0.25 else "b",
                "error": "no solution" if failed else None,
            }
        )
    return out


def test_sweep_plot_series_and_threshold_lines() -> None:
    plot = sweep_plot(
        sweep_records(),
        "param.cost",
        ["*.deal.share", "deal_exists"],
        thresholds=[
            0.25,
            {"value": 0.35, "parameter": "cost", "before": "deal", "after": "no_deal"},
            {"value": 9.0, "parameter": "param.value"},  # another parameter's: not drawn
        ],
        units={"share": "share of revenue", "cost": "bn USD"},
    )
    np.testing.assert_array_equal(plot.x, [0.0, 0.1, 0.2, 0.3, 0.4])
    assert list(plot.series) == [
        "nash_bargaining.deal.share",
        "egalitarian.deal.share",
        "deal_exists",
    ]
    np.testing.assert_allclose(
        plot.series["nash_bargaining.deal.share"], [1.0, 0.9, 0.8, np.nan, 0.6]
    )
    np.testing.assert_array_equal(plot.series["deal_exists"], [1, 1, 1, 1, 0])
    ax = plot.figure.axes[0]
    for line, values in zip(ax.lines[:3], plot.series.values(), strict=True):
        np.testing.assert_array_equal(line.get_xdata(), plot.x)
        np.testing.assert_array_equal(line.get_ydata(), values)
    np.testing.assert_array_equal(plot.thresholds, [0.25, 0.35])
    vertical = [ln for ln in ax.lines[3:]]
    assert [float(ln.get_xdata()[0]) for ln in vertical] == [0.25, 0.35]
    assert all(ln.get_xdata()[0] == ln.get_xdata()[1] for ln in vertical)
    legend = legend_texts(plot)
    assert "threshold t2: cost = 0.35, deal → no_deal" in legend
    assert "Nash bargaining: deal share (share of revenue)" in legend
    assert ax.get_xlabel() == "cost (bn USD)"
    assert plot.notes == ("1 of 5 points could not be solved (gaps)",)


def test_sweep_plot_takes_columns_and_where() -> None:
    records = sweep_records() + [
        {**r, "param.value": 2.0, "nash_bargaining.deal.share": 0.0} for r in sweep_records()
    ]
    with pytest.raises(ValueError, match=r"param\.value also vary"):
        sweep_plot(records, "param.cost", "nash_bargaining.deal.share")
    columns = {k: [r[k] for r in records] for k in records[0]}
    plot = sweep_plot(
        columns, "param.cost", "nash_bargaining.deal.share", where={"param.value": 2.0}
    )
    np.testing.assert_array_equal(plot.series["nash_bargaining.deal.share"], np.zeros(5))
    assert plot.figure.axes[0].get_ylabel() == "Nash bargaining: deal share"


def test_sweep_plot_errors() -> None:
    records = sweep_records()
    with pytest.raises(ValueError, match=r"no column 'param\.price'"):
        sweep_plot(records, "param.price", "deal_exists")
    with pytest.raises(ValueError, match="not numeric"):
        sweep_plot(records, "param.cost", "signature")
    with pytest.raises(ValueError, match="no column matches"):
        sweep_plot(records, "param.cost", "*.deal.guarantee")
    with pytest.raises(ValueError, match="no records left"):
        sweep_plot(records, "param.cost", "deal_exists", where={"param.value": 5.0})
    with pytest.raises(ValueError, match="threshold"):
        sweep_plot(records, "param.cost", "deal_exists", thresholds=[{"at": 1}])


def test_sweep_plot_of_real_records(ukraine: Scenario) -> None:
    from simulator.outcomes import point_record

    costs = [0.0, 0.3, 0.6]
    records = [point_record(ukraine, "split_the_deal", {"guarantee_cost_us": c}) for c in costs]
    plot = sweep_plot(
        records,
        "param.guarantee_cost_us",
        "*.deal.guarantee",
        units=units_of(ukraine),
    )
    for name, values in plot.series.items():
        assert name.endswith(".deal.guarantee")
        np.testing.assert_array_equal(values, [r[name] for r in records])
    assert plot.figure.axes[0].get_ylabel() == "guarantee (level (0 none, 1 binding))"


def test_column_labels() -> None:
    assert (
        column_label("nash_bargaining.deal.mineral_share") == "Nash bargaining: deal mineral_share"
    )
    assert column_label("param.cost") == "cost"
    assert column_label("payoff.US") == "payoff US"


# --------------------------------------------------------------------------- saving

MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF-", ".svg": b"<?xml"}


@pytest.fixture(scope="module")
def small_plot(split_result: BargainingResult) -> FrontierPlot:
    return frontier_plot(split_result)


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf", ".PNG"])
def test_save_writes_the_format_the_suffix_names(
    small_plot: FrontierPlot, tmp_path: Path, suffix: str
) -> None:
    target = tmp_path / f"frontier{suffix}"
    assert small_plot.save(target) == target
    data = target.read_bytes()
    assert len(data) > 1000
    assert data.startswith(MAGIC[suffix.lower()])
    if suffix == ".svg":
        assert b"<svg" in data[:1000]
    if suffix == ".pdf":
        assert data.rstrip().endswith(b"%%EOF")
    assert os.listdir(tmp_path) == [target.name]  # no temporary file left


def test_png_and_pdf_bytes_are_reproducible(small_plot: FrontierPlot) -> None:
    assert small_plot.render("png") == small_plot.render("png")
    assert small_plot.render("pdf") == small_plot.render("pdf")


def test_save_rejects_unknown_suffix(small_plot: FrontierPlot, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.png, \.svg, \.pdf"):
        small_plot.save(tmp_path / "frontier.jpg")
    assert os.listdir(tmp_path) == []


def test_failed_render_leaves_the_old_file(
    small_plot: FrontierPlot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "frontier.png"
    target.write_bytes(b"old")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("renderer failed")

    monkeypatch.setattr(small_plot.figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="renderer failed"):
        small_plot.save(target)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["frontier.png"]


def test_failed_write_leaves_no_partial_file(
    small_plot: FrontierPlot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "frontier.pdf"

    def broken(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        small_plot.save(target)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- headless, threads


def test_plotting_never_imports_pyplot() -> None:
    code = (
        "import sys, numpy as np\n"
        "from simulator.plotting import qre_plot\n"
        "p = qre_plot([0.0, 1.0], [[0.5, 0.5], [0.2, 0.8]], [['a', 'b']])\n"
        "p.render('png')\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    env = {**os.environ, "MPLBACKEND": "", "DISPLAY": ""}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_figures_can_be_made_in_threads(split: BargainingGame) -> None:
    sizes: list[int] = []
    errors: list[BaseException] = []

    def work(player: int) -> None:
        try:
            plot = payoff_surface(split, player, 0, 1, resolution=5)
            sizes.append(len(plot.render("png")))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i % 2,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(sizes) == 4 and min(sizes) > 1000


def test_sweep_plot_takes_a_data_frame() -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(sweep_records())
    plot = sweep_plot(frame, "param.cost", "nash_bargaining.payoff.US")
    np.testing.assert_allclose(
        plot.series["nash_bargaining.payoff.US"], [0.0, 0.01, 0.04, np.nan, 0.16]
    )
