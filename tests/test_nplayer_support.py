"""n-player support enumeration: verified answers, known games, Gambit's enumpoly, options."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from game_strategies import generic_bimatrix_games, n_player_games
from hypothesis import given, settings
from hypothesis import strategies as st
from test_polish import balanced_support, planted_game

from simulator.equilibrium import Equilibrium, regrets
from simulator.formats import read_nfg
from simulator.game import StrategicGame
from simulator.results import SolverResult
from simulator.solvers import solve
from simulator.solvers.nplayer_support import nplayer_support, size_profiles
from simulator.solvers.pure_nash import pure_nash

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def assert_all_verified(game: StrategicGame, result: SolverResult) -> None:
    """Every reported profile is a mixed profile with regret within the tolerance."""
    for eq in result.equilibria:
        assert np.all(regrets(game, eq.strategies) <= game.tolerance.payoff)
        for p in eq.strategies:
            assert p.min() >= 0 and abs(p.sum() - 1) <= 1e-12
    keys = [eq.key() for eq in result.equilibria]
    assert len(keys) == len(set(keys)), "duplicates"


def pure_set(equilibria: tuple[Equilibrium, ...]) -> set[tuple[int, ...]]:
    return {tuple(int(p.argmax()) for p in eq.strategies) for eq in equilibria if eq.is_pure}


def contains(equilibria: tuple[Equilibrium, ...], profile: list[np.ndarray], atol: float) -> bool:
    flat = np.concatenate(profile)
    return any(np.abs(np.concatenate(eq.strategies) - flat).max() <= atol for eq in equilibria)


# ----------------------------------------------------------------- invariants


@st.composite
def random_three_player_games(draw: st.DrawFn) -> StrategicGame:
    """Three players, 2-3 strategies each, payoffs uniform on [0, 1) (generic)."""
    shape = tuple(draw(st.integers(2, 3)) for _ in range(3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return StrategicGame.from_payoffs(rng.random((3, *shape)))


@settings(max_examples=12, deadline=None)
@given(game=random_three_player_games())
def test_every_equilibrium_has_zero_regret_on_random_three_player_games(
    game: StrategicGame,
) -> None:
    result = nplayer_support(game)
    assert_all_verified(game, result)
    assert pure_set(result.equilibria) == pure_set(pure_nash(game).equilibria)
    assert not result.complete
    # A generic game has an odd number of equilibria (Wilson 1971); finding at least
    # one is the least a search over every support must do.
    assert result.equilibria


@settings(max_examples=12, deadline=None)
@given(game=n_player_games(min_players=3, max_players=3, min_strategies=1, max_strategies=3))
def test_degenerate_integer_games_give_only_verified_equilibria(game: StrategicGame) -> None:
    # Small integer payoffs tie often: continua, singular Jacobians, lone mixers.
    result = nplayer_support(game)
    assert_all_verified(game, result)
    assert pure_set(result.equilibria) == pure_set(pure_nash(game).equilibria)


@settings(max_examples=15, deadline=None)
@given(game=generic_bimatrix_games(min_size=2, max_size=4))
def test_two_player_answers_are_extreme_equilibria(game: StrategicGame) -> None:
    # For a nondegenerate bimatrix game every equilibrium is extreme, so each one
    # found must be among vertex enumeration's (complete) list.
    ours = nplayer_support(game)
    reference = solve(game, "vertex-enumeration")
    assert_all_verified(game, ours)
    for eq in ours.equilibria:
        assert contains(reference.equilibria, list(eq.strategies), atol=1e-9)


@pytest.mark.parametrize(("seed", "shape"), [(1, (2, 2, 2)), (2, (3, 3, 2)), (3, (2, 2, 2, 2))])
def test_a_planted_equilibrium_is_found(seed: int, shape: tuple[int, ...]) -> None:
    support = balanced_support(np.random.default_rng(seed), shape)
    game, sigma = planted_game(seed, shape, support)
    result = nplayer_support(game)
    assert_all_verified(game, result)
    assert contains(result.equilibria, list(sigma), atol=1e-9)


def test_strictly_dominated_strategies_are_pruned_and_never_played() -> None:
    # Strategy 2 of player 0 is strictly dominated by strategy 0 against everything.
    rng = np.random.default_rng(11)
    payoffs = rng.random((3, 3, 2, 2))
    payoffs[0][2] = payoffs[0][0] - 0.3
    game = StrategicGame.from_payoffs(payoffs)
    result = nplayer_support(game)
    assert_all_verified(game, result)
    assert all(eq.strategies[0][2] == 0 for eq in result.equilibria)
    assert any("pruned by conditional strict dominance" in note for note in result.notes)


# ----------------------------------------------------------------- known answers


def volunteers_dilemma() -> StrategicGame:
    """Three players; volunteering (strategy 0) pays 1; not volunteering pays 2 if
    someone else volunteers and 0 if nobody does."""
    payoffs = np.empty((3, 2, 2, 2))
    for profile in np.ndindex(2, 2, 2):
        for i in range(3):
            others_volunteer = any(profile[j] == 0 for j in range(3) if j != i)
            payoffs[(i, *profile)] = 1 if profile[i] == 0 else (2 if others_volunteer else 0)
    return StrategicGame.from_payoffs(payoffs, players=["A", "B", "C"])


def test_volunteers_dilemma_has_its_seven_equilibria() -> None:
    # Exactly one volunteer (3 pure); one player stays out and the other two volunteer
    # with probability 1/2 each (3); all volunteer with probability 1 - 1/sqrt(2), from
    # 1 = 2 (1 - q^2) with q = P(not volunteering) (1).
    game = volunteers_dilemma()
    result = nplayer_support(game)
    assert_all_verified(game, result)
    half, out = np.array([0.5, 0.5]), np.array([0.0, 1.0])
    q = 1 / math.sqrt(2)
    expected = [
        [np.array([1.0, 0.0]), out, out],
        [out, np.array([1.0, 0.0]), out],
        [out, out, np.array([1.0, 0.0])],
        [out, half, half],
        [half, out, half],
        [half, half, out],
        [np.array([1 - q, q])] * 3,
    ]
    assert len(result.equilibria) == len(expected)
    for profile in expected:
        assert contains(result.equilibria, profile, atol=1e-12)


def test_volunteers_dilemma_from_the_scenario_file_matches() -> None:
    from simulator.analysis import analyze_file

    (analysis,) = analyze_file(
        SCENARIOS / "textbook_games.yaml", games=["volunteers_dilemma"]
    ).games
    game = analysis.game
    result = nplayer_support(game)
    assert len(result.equilibria) == 7
    assert len([eq for eq in result.equilibria if not eq.is_pure]) == 4


def test_four_party_minerals_game_has_mixed_equilibria() -> None:
    from simulator.analysis import GameAnalysis, analyze_file

    strategic = [
        ga
        for ga in analyze_file(SCENARIOS / "minerals_four_party.yaml").games
        if isinstance(ga, GameAnalysis)
    ]
    assert strategic, "the four-party scenario has a strategic game"
    game = strategic[0].game
    assert game.n_players == 4
    result = nplayer_support(game)
    assert_all_verified(game, result)
    assert pure_set(result.equilibria) == pure_set(pure_nash(game).equilibria)
    assert any(not eq.is_pure for eq in result.equilibria)


# ----------------------------------------------------------------- options


def test_options_are_recorded_and_respected() -> None:
    game = volunteers_dilemma()
    first = nplayer_support(game, max_equilibria=4, starts=3, seed=5)
    assert len(first.equilibria) == 4
    assert dict(first.options) == {"max_equilibria": 4, "time_limit": 10.0, "starts": 3, "seed": 5}
    assert any("max_equilibria=4" in note for note in first.notes)
    pure_only = nplayer_support(game, max_equilibria=2)
    assert len(pure_only.equilibria) == 2 and all(eq.is_pure for eq in pure_only.equilibria)


def test_a_run_is_deterministic() -> None:
    rng = np.random.default_rng(4)
    game = StrategicGame.from_payoffs(rng.random((3, 3, 3, 2)))
    one, two = nplayer_support(game), nplayer_support(game)
    assert [eq.key() for eq in one.equilibria] == [eq.key() for eq in two.equilibria]


def test_the_time_limit_stops_the_search_and_says_so() -> None:
    rng = np.random.default_rng(5)
    game = StrategicGame.from_payoffs(rng.random((3, 5, 5, 5)))
    result = nplayer_support(game, time_limit=1e-9)
    assert any("time limit" in note for note in result.notes)
    # Pure equilibria are exact and come first, whatever the time limit.
    assert pure_set(result.equilibria) == pure_set(pure_nash(game).equilibria)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_equilibria": 0}, "max_equilibria"),
        ({"time_limit": 0}, "time_limit"),
        ({"starts": 0}, "starts"),
    ],
)
def test_invalid_options_are_rejected(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        nplayer_support(volunteers_dilemma(), **options)


def test_one_player_games_are_rejected() -> None:
    with pytest.raises(ValueError, match="at least two players"):
        nplayer_support(StrategicGame.from_payoffs([[1.0, 2.0]]))


def test_size_profiles_come_small_and_balanced_first() -> None:
    order = size_profiles((3, 3, 2))
    assert order[0] == (1, 1, 2)
    keys = [(sum(s), max(s) - min(s)) for s in order]
    assert keys == sorted(keys)
    assert len(order) == 3 * 3 * 2 - 1  # every size profile except all-pure


# ----------------------------------------------------------------- Gambit's enumpoly


def test_mckelvey_mclennan_game_has_all_nine_equilibria(
    reference_games: Path, reference_answers: dict[str, Any]
) -> None:
    # McKelvey and McLennan's 2x2x2 game has 9 equilibria, 2 of them totally mixed;
    # Gambit's enumpoly lists all 9 (and its logit stops at a bifurcation).
    game = read_nfg(reference_games / "games" / "2x2x2.nfg")
    result = nplayer_support(game)
    assert_all_verified(game, result)
    assert len(result.equilibria) == 9
    totally_mixed = [eq for eq in result.equilibria if all(p.min() > 0 for p in eq.strategies)]
    assert len(totally_mixed) == 2
    for strings in reference_answers["2x2x2.nfg"]["mixed_equilibria"]:
        profile = [np.array([float(p) for p in player]) for player in strings]
        assert contains(result.equilibria, profile, atol=1e-9)


# Games where we find one isolated equilibrium more than Gambit 16.7's enumpoly lists.
# Each extra one was confirmed when this table was made: Newton's method in 60-digit
# arithmetic (mpmath, exact rational payoffs) converges to it with residual below
# 1e-55, all its probabilities are at least 0.04, and every strategy off its support
# earns at least 0.44 less. So enumpoly missed it; these games are nondegenerate.
MORE_THAN_ENUMPOLY = {"2x2x2x2x2.nfg": 5, "3x3x3.nfg": 5, "8x2x2.nfg": 5, "g3.nfg": 5}


def test_every_enumpoly_equilibrium_is_found(
    reference_nfg_n_player: Path, reference_answers: dict[str, Any]
) -> None:
    answer = reference_answers[reference_nfg_n_player.name]
    game = read_nfg(reference_nfg_n_player)
    result = nplayer_support(game, time_limit=120.0)
    assert_all_verified(game, result)
    assert not any("time limit" in note for note in result.notes)
    assert pure_set(result.equilibria) == {tuple(p) for p in answer["pure_equilibria_idx"]}
    if not answer["mixed_solver"].startswith("enumpoly"):
        pytest.skip(f"Gambit's answer comes from {answer['mixed_solver'].split(':')[0]}")
    missed = [
        strings
        for strings in answer["mixed_equilibria"]
        if not contains(
            result.equilibria, [np.array([float(p) for p in s]) for s in strings], atol=1e-6
        )
    ]
    assert not missed, f"{len(missed)} of Gambit's {len(answer['mixed_equilibria'])} missed"
    if result.degenerate is None and reference_nfg_n_player.name in MORE_THAN_ENUMPOLY:
        assert len(result.equilibria) == MORE_THAN_ENUMPOLY[reference_nfg_n_player.name]
