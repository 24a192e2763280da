"""The logit QRE principal branch and its limit (``simulator.solvers.logit_qre``).

Invariants: every stored point of the branch is a logit QRE (each player's
probabilities are proportional to ``exp(lambda * payoff)`` of its strategies);
the branch starts at the uniform profile at ``lambda = 0``; its end, when there
is one, is a verified Nash equilibrium; a common positive affine change of the
payoffs only rescales ``lambda``. Known answers: matching pennies (2 and 3
players), strictly dominant strategies, and the risk-dominant equilibrium of a
2x2 coordination game, which is the logit limit there (Turocy 2005).
Against Gambit: the limit equals Gambit's ``logit_solve`` answer, refined by
Newton's method, on random games and on every n-player reference game where
Gambit's answer is an equilibrium; on the McKelvey-McLennan 2x2x2 game, where
Gambit stops at a bifurcation (reference README, caveat 1), we report none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from game_strategies import n_player_games
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.equilibrium import deviation_payoffs, regrets
from simulator.formats import read_nfg
from simulator.game import StrategicGame
from simulator.solvers.logit_qre import (
    SCOPE,
    _System,
    logit,
    logit_result,
    trace_logit_qre,
)
from simulator.solvers.polish import polish

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Gambit's logit_solve stops once the branch point's regret is below 1e-8 of the payoff
# spread; inside the support that point is still about 1/lambda from the limit, so its
# probabilities are good to about 1e-4 (measured: at most 2.4e-5 on 1,240 random games).
GAMBIT_STOPPING_ACCURACY = 1e-4
# Two refinements of one regular equilibrium (Newton's method, stopped once the
# residual is below 1% of the game's tolerance) agree this well in probability.
REFINED_AGREEMENT = 1e-8


@st.composite
def random_games(
    draw: st.DrawFn, min_players: int = 2, max_players: int = 4, max_strategies: int = 4
) -> StrategicGame:
    """Games with payoffs uniform on [0, 1) from a drawn seed: generic with probability 1."""
    n = draw(st.integers(min_players, max_players))
    shape = tuple(draw(st.integers(2, max_strategies)) for _ in range(n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1.0, 1e-3, 250.0]))
    return StrategicGame.from_payoffs(scale * rng.random((n, *shape)))


def logit_residual(game: StrategicGame, profile: tuple[np.ndarray, ...], lam: float) -> float:
    """Largest violation of the logit equations by ``profile`` at precision ``lam``.

    For each player, ``log p_ia - log p_ib - lam (u_ia - u_ib)`` over its strategies
    with probabilities above 1e-250 (smaller ones are subnormal floats whose
    logarithms have lost their digits), relative to ``max(1, lam * spread)``: the
    equations multiply payoff round-off by ``lam``.
    """
    spread = float(np.ptp(game.payoffs)) or 1.0
    worst = 0.0
    for i, p in enumerate(profile):
        u = deviation_payoffs(game.payoffs, profile, i)
        ok = p > 1e-250
        lhs = np.log(p[ok]) - lam * u[ok]
        worst = max(worst, float(np.ptp(lhs)) / max(1.0, lam * spread))
    return worst


# ---------------------------------------------------------------- the branch
@SETTINGS
@given(random_games())
def test_every_stored_point_is_a_logit_qre(game: StrategicGame) -> None:
    path = trace_logit_qre(game)
    for k in range(len(path)):
        lam = float(path.lambdas[k])
        assert logit_residual(game, path.profile(k), lam) <= 1e-9, f"point {k}, lambda {lam}"


@SETTINGS
@given(random_games(min_players=1, max_players=4))
def test_branch_starts_uniform_at_lambda_zero(game: StrategicGame) -> None:
    path = trace_logit_qre(game)
    assert path.lambdas[0] == 0.0
    for p, m in zip(path.profile(0), game.shape, strict=True):
        np.testing.assert_allclose(p, np.full(m, 1.0 / m), rtol=0, atol=1e-15)


@SETTINGS
@given(random_games())
def test_path_shapes_and_probabilities(game: StrategicGame) -> None:
    path = trace_logit_qre(game)
    k = len(path)
    assert path.lambdas.shape == (k,)
    assert np.all(np.isfinite(path.lambdas)) and np.all(path.lambdas >= 0)
    assert path.lambdas[-1] == pytest.approx(path.last_lambda)
    for p, m in zip(path.profiles, game.shape, strict=True):
        assert p.shape == (k, m)
        assert np.all(p >= 0)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-9)


def test_stored_points_are_thinned_to_the_cap() -> None:
    game = StrategicGame.from_payoffs(np.random.default_rng(7).random((3, 3, 3, 3)))
    full = trace_logit_qre(game)
    assert full.steps > 8
    thin = trace_logit_qre(game, max_points=4)
    assert len(thin) <= 5  # the cap, plus the last point
    assert thin.lambdas[0] == 0.0 and thin.lambdas[-1] == full.lambdas[-1]
    assert set(thin.lambdas.tolist()) <= set(full.lambdas.tolist())
    assert thin.end is not None and full.end is not None
    np.testing.assert_array_equal(thin.end.strategies[0], full.end.strategies[0])


# ---------------------------------------------------------------- the end
@SETTINGS
@given(random_games())
def test_end_of_a_generic_game_is_a_verified_equilibrium(game: StrategicGame) -> None:
    path = trace_logit_qre(game)
    assert path.end is not None, path.reason
    assert path.converged
    assert regrets(game, path.end.strategies).max() <= game.tolerance.payoff
    assert path.end.max_regret <= game.tolerance.payoff
    assert path.polished_at is not None and path.polished_at <= path.last_lambda


@SETTINGS
@given(n_player_games(min_players=2, max_players=4, min_strategies=1, max_strategies=3, high=3))
def test_any_end_is_an_equilibrium_even_with_payoff_ties(game: StrategicGame) -> None:
    """Integer payoffs in a small range: ties, continua of equilibria, bifurcations."""
    path = trace_logit_qre(game)
    assert path.reason
    if path.end is None:
        assert not logit(game).equilibria
    else:
        assert regrets(game, path.end.strategies).max() <= game.tolerance.payoff


@settings(max_examples=15, deadline=None)
@given(random_games(max_players=3), st.sampled_from([0.01, 3.0, 1000.0]), st.floats(-5, 5))
def test_common_affine_change_of_payoffs_rescales_lambda(
    game: StrategicGame, a: float, b: float
) -> None:
    """Logit QRE at ``lambda`` for ``a u + b`` are those at ``a lambda`` for ``u``.

    So every point of the moved game's branch is a QRE of the original game at
    ``a`` times its ``lambda``, and both branches end at the same equilibrium.
    """
    path = trace_logit_qre(game)
    moved = trace_logit_qre(StrategicGame.from_payoffs(a * game.payoffs + b))
    for k in range(len(moved)):
        lam = a * float(moved.lambdas[k])
        assert logit_residual(game, moved.profile(k), lam) <= 1e-9, f"point {k}"
    assert path.end is not None and moved.end is not None
    for p, q in zip(path.end.strategies, moved.end.strategies, strict=True):
        np.testing.assert_allclose(p, q, rtol=0, atol=REFINED_AGREEMENT)


@settings(max_examples=15, deadline=None)
@given(random_games(max_players=3), st.data())
def test_relabelling_strategies_permutes_the_limit(game: StrategicGame, data: Any) -> None:
    player = data.draw(st.integers(0, game.n_players - 1))
    order = np.array(data.draw(st.permutations(range(game.shape[player]))))
    payoffs = np.take(game.payoffs, order, axis=1 + player)
    path = trace_logit_qre(game)
    relabelled = trace_logit_qre(StrategicGame.from_payoffs(payoffs))
    assert path.end is not None and relabelled.end is not None
    for i, (p, q) in enumerate(zip(path.end.strategies, relabelled.end.strategies, strict=True)):
        expected = p[order] if i == player else p
        np.testing.assert_allclose(q, expected, rtol=0, atol=REFINED_AGREEMENT)


# ---------------------------------------------------------------- known answers
def test_matching_pennies_limit_is_one_half_each() -> None:
    game = StrategicGame.from_bimatrix([[1, -1], [-1, 1]], [[-1, 1], [1, -1]])
    result = logit(game)
    (eq,) = result.equilibria
    for p in eq.strategies:
        np.testing.assert_array_equal(p, [0.5, 0.5])
    # The uniform profile is an equilibrium, so the branch never leaves it.
    path = trace_logit_qre(game)
    assert path.polished_at == 0.0


def test_three_player_matching_pennies_limit_is_uniform() -> None:
    # Player 1 wants to match player 2, player 2 to match player 3, player 3 to
    # mismatch player 1 (Jordan 1993): the unique equilibrium is uniform mixing.
    grid = np.indices((2, 2, 2))

    def same(a: int, b: int) -> np.ndarray:
        return np.where(grid[a] == grid[b], 1.0, -1.0)

    game = StrategicGame.from_payoffs(np.stack([same(0, 1), same(1, 2), -same(2, 0)]))
    (eq,) = logit(game).equilibria
    for p in eq.strategies:
        np.testing.assert_allclose(p, [0.5, 0.5], atol=1e-12)


def test_strictly_dominant_strategies_are_the_limit() -> None:
    # Prisoner's dilemma: defecting (strategy 1) is strictly dominant for both.
    pd = StrategicGame.from_bimatrix([[3, 0], [5, 1]], [[3, 5], [0, 1]])
    (eq,) = logit(pd).equilibria
    assert eq.is_pure and [int(np.argmax(p)) for p in eq.strategies] == [1, 1]
    # Three players, each with a strictly dominant last strategy among three.
    rng = np.random.default_rng(3)
    payoffs = rng.random((3, 3, 3, 3))
    for i in range(3):
        index: list[Any] = [slice(None)] * 3
        index[i] = 2
        payoffs[i][tuple(index)] += 2.0
    (eq,) = logit(StrategicGame.from_payoffs(payoffs)).equilibria
    assert [int(np.argmax(p)) for p in eq.strategies] == [2, 2, 2] and eq.is_pure


def test_risk_dominant_equilibrium_of_a_stag_hunt_is_the_limit() -> None:
    # Stag hunt: (stag, stag) pays 4 each and is payoff dominant; (hare, hare) pays 3
    # and is risk dominant, (3 - 0)^2 > (4 - 3)^2. In 2x2 games the principal branch
    # converges to the risk-dominant equilibrium (Turocy 2005).
    a = np.array([[4, 0], [3, 3]])
    game = StrategicGame.from_bimatrix(a, a.T)
    (eq,) = logit(game).equilibria
    assert [int(np.argmax(p)) for p in eq.strategies] == [1, 1] and eq.is_pure


def test_one_player_game_limit_is_the_best_strategy() -> None:
    game = StrategicGame.from_payoffs(np.array([[0.3, 0.9, 0.1]]))
    (eq,) = logit(game).equilibria
    np.testing.assert_array_equal(eq.strategies[0], [0.0, 1.0, 0.0])


def test_a_constant_game_ends_at_once() -> None:
    game = StrategicGame.from_payoffs(np.zeros((3, 2, 3, 2)))
    path = trace_logit_qre(game)
    assert path.steps == 0 and path.end is not None
    np.testing.assert_allclose(path.end.strategies[1], [1 / 3] * 3)


# ---------------------------------------------------------------- the solver result
def test_logit_result_reports_one_limit_and_its_scope() -> None:
    game = StrategicGame.from_payoffs(np.random.default_rng(11).random((3, 3, 2, 4)))
    path = trace_logit_qre(game, max_growth=2.5)
    result = logit_result(path, options={"max_growth": 2.5})
    assert result.method == "logit"
    assert result.complete is False and result.scope == SCOPE
    assert result.game is game
    assert len(result.equilibria) == 1 and result.equilibria[0] is path.end
    assert dict(result.options) == {"max_growth": 2.5}
    assert any(f"{path.steps} steps" in note for note in result.notes)
    assert path.reason in result.notes
    again = logit(game, max_growth=2.5)
    assert dict(again.options) == {"max_growth": 2.5}
    np.testing.assert_array_equal(again.equilibria[0].strategies[0], path.end.strategies[0])


def test_bad_options_are_refused() -> None:
    game = StrategicGame.from_payoffs(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="trace_logit_qre"):
        trace_logit_qre(game, max_growth=1.0)
    with pytest.raises(ValueError, match="trace_logit_qre"):
        trace_logit_qre(game, max_points=1)


def test_step_cap_ends_without_an_equilibrium() -> None:
    game = StrategicGame.from_payoffs(np.random.default_rng(5).random((3, 3, 3, 3)))
    path = trace_logit_qre(game, max_steps=2)
    assert path.end is None and path.steps == 2
    assert "2 steps" in path.reason
    result = logit_result(path)
    assert result.equilibria == () and path.reason in result.notes


# ---------------------------------------------------------------- the kernel
@settings(max_examples=20, deadline=None)
@given(random_games(min_players=1, max_players=4), st.integers(0, 2**32 - 1))
def test_kernel_payoffs_and_jacobian(game: StrategicGame, seed: int) -> None:
    """``u`` against :func:`deviation_payoffs`; ``dU`` against one-hot contractions."""
    system = _System(game)
    rng = np.random.default_rng(seed)
    profile = [rng.dirichlet(np.ones(m)) for m in game.shape]
    low = float(game.payoffs.min())
    scaled = (game.payoffs - low) / system.scale
    x = np.log(np.concatenate(profile))
    _, u, du = system.payoffs_and_jacobian(x)
    u_zero, du_zero = system.at_profile(np.concatenate(profile))
    np.testing.assert_allclose(u, u_zero, atol=1e-13)
    np.testing.assert_allclose(du, du_zero, atol=1e-13)
    for i in range(game.n_players):
        rows = slice(system.offsets[i], system.offsets[i + 1])
        np.testing.assert_allclose(u[rows], deviation_payoffs(scaled, profile, i), atol=1e-13)
        for j in range(game.n_players):
            for k in range(game.shape[j]):
                column = system.offsets[j] + k
                if j == i:
                    assert np.all(du[rows, column] == 0)
                    continue
                pure = list(profile)
                pure[j] = np.eye(game.shape[j])[k]
                np.testing.assert_allclose(
                    du[rows, column], deviation_payoffs(scaled, pure, i), atol=1e-13
                )


# ---------------------------------------------------------------- against Gambit
def refined(game: StrategicGame, profile: list[np.ndarray]) -> tuple[np.ndarray, ...] | None:
    """Newton's method on the support of a float answer (probabilities above 1e-6)."""
    support = tuple(tuple(np.flatnonzero(p > 1e-6).tolist()) for p in profile)
    return polish(game, profile, support=support)


def assert_same_limit(game: StrategicGame, ours: tuple[np.ndarray, ...], gambit: Any) -> None:
    """Ours equals Gambit's answer refined by Newton's method.

    Newton's method lands on a regular equilibrium from any nearby start, so where
    Gambit's answer and ours refine to one point, that point is the limit and
    ours must be it to round-off. On a continuum of equilibria (payoff ties)
    Newton stops wherever it starts; there ours must equal Gambit's answer to
    the accuracy at which Gambit stops.
    """
    theirs = [np.asarray(p, dtype=float) for p in gambit]
    from_theirs = refined(game, theirs)
    from_ours = refined(game, list(ours))
    regular = (
        from_theirs is not None
        and from_ours is not None
        and all(
            np.abs(a - b).max() <= REFINED_AGREEMENT
            for a, b in zip(from_theirs, from_ours, strict=True)
        )
    )
    reference, atol = (
        (from_theirs, REFINED_AGREEMENT) if regular else (theirs, GAMBIT_STOPPING_ACCURACY)
    )
    assert reference is not None
    for p, q in zip(ours, reference, strict=True):
        np.testing.assert_allclose(p, q, rtol=0, atol=atol)


def gambit_logit(gbt: Any, game: StrategicGame) -> list[list[float]]:
    table = gbt.Game.from_arrays(*[game.payoffs[i] for i in range(game.n_players)])
    eq = gbt.nash.logit_solve(table).equilibria[0]
    return [[float(eq[s]) for s in player.strategies] for player in table.players]


@settings(max_examples=20, deadline=None)
@given(random_games(min_players=3, max_players=4, max_strategies=3))
def test_limit_matches_gambit_logit_on_random_games(game: StrategicGame) -> None:
    gbt = pytest.importorskip("pygambit", reason="pygambit (test extra) not installed")
    path = trace_logit_qre(game)
    assert path.end is not None
    assert_same_limit(game, path.end.strategies, gambit_logit(gbt, game))


# The n-player reference game on which Gambit's logit stops at a bifurcation of the
# principal branch near lambda = 0.60 with a point that is not an equilibrium
# (README of the reference games, caveat 1).
BIFURCATING = "2x2x2.nfg"


@pytest.mark.reference
def test_limit_against_every_n_player_reference_game(
    reference_nfg_n_player: Path, reference_answers: dict[str, Any]
) -> None:
    answer = reference_answers[reference_nfg_n_player.name]
    game = read_nfg(reference_nfg_n_player)
    path = trace_logit_qre(game)
    if answer["logit_relative_regret"] > 1e-6:
        # Gambit's logit answer is no equilibrium; what is true here: the principal
        # branch splits (a simple bifurcation, where det [J; t] changes sign) and
        # has no unique limit, so we report none, with the reason.
        assert reference_nfg_n_player.name == BIFURCATING
        assert path.end is None and path.bifurcation_at is not None
        assert path.bifurcation_at == pytest.approx(0.6, abs=0.01)
        assert "bifurcation" in path.reason
        assert logit(game).equilibria == ()
        return
    assert path.end is not None, path.reason
    assert regrets(game, path.end.strategies).max() <= game.tolerance.payoff
    if answer["mixed_solver"].startswith("logit"):
        # answers.json lists Gambit's logit equilibrium itself (as strings).
        (listed,) = answer["mixed_equilibria"]
        gambit = [[float(p) for p in player] for player in listed]
        assert_same_limit(game, path.end.strategies, gambit)


@pytest.mark.reference
def test_limit_matches_gambit_logit_run_on_each_reference_file(
    reference_nfg_n_player: Path, reference_answers: dict[str, Any]
) -> None:
    """answers.json keeps Gambit's logit profile only where it was the mixed answer;
    running pygambit's ``logit_solve`` on the file gives it for every game."""
    gbt = pytest.importorskip("pygambit", reason="pygambit (test extra) not installed")
    answer = reference_answers[reference_nfg_n_player.name]
    if answer["logit_relative_regret"] > 1e-6:
        pytest.skip("Gambit's logit answer is not an equilibrium here (see the test above)")
    game = read_nfg(reference_nfg_n_player)
    table = gbt.read_nfg(str(reference_nfg_n_player))
    eq = gbt.nash.logit_solve(table).equilibria[0]
    gambit = [[float(eq[s]) for s in player.strategies] for player in table.players]
    path = trace_logit_qre(game)
    assert path.end is not None
    assert_same_limit(game, path.end.strategies, gambit)


def test_reference_answers_describe_the_bifurcating_game(reference_answers: dict[str, Any]) -> None:
    """The README's account of the 2x2x2 game, which the test above relies on."""
    answer = reference_answers[BIFURCATING]
    assert answer["players"] == 3 and answer["strategies"] == [2, 2, 2]
    assert answer["logit_relative_regret"] > 1e-3
    assert json.dumps(answer["flags"]).find("non-equilibrium") >= 0
