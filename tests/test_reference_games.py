"""The Gambit reference games (``../shared/games``) against Gambit's own answers.

For every ``.nfg`` file (ids are file names):

* the reader gives Gambit's players, strategy counts, labels and title, and the
  payoffs Gambit reports at each of its equilibria (an orientation check that
  needs no solver);
* every equilibrium Gambit lists is an equilibrium of the game as we read it
  (exact regret 0 for Gambit's exact answers);
* our pure equilibria are exactly Gambit's ``enumpure`` list (complete);
* for two players, our extreme equilibria, by vertex and by support enumeration,
  are exactly Gambit's ``enummixed`` list (complete, exact fractions), and every
  equilibrium we report has regret within the game's tolerance.

The solvers are separate modules; a test skips (saying which) while its solver
module does not exist yet. ``.efg`` files are not read here (a later issue).
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulator.equilibrium import Equilibrium, deviation_payoffs, expected_payoffs, regrets
from simulator.formats import parse_nfg, read_nfg, read_nfg_document, write_nfg
from simulator.game import StrategicGame
from simulator.results import SolverResult
from simulator.solvers import SOLVERS, solve

pytestmark = pytest.mark.reference

ExactProfile = tuple[tuple[Fraction, ...], ...]

# enumpoly and logit (3+ players) give floats that Gambit itself accepts at a max
# regret of about 1e-6 (README, caveat 7): a check on the answers, not on us.
FLOAT_ANSWER_RTOL = 1e-6


def answer_for(path: Path, answers: dict[str, Any]) -> dict[str, Any]:
    answer = answers.get(path.name)
    assert answer is not None, f"{path.name} has no entry in answers.json"
    assert answer["kind"] == "nfg"
    return answer


def run_solver(game: StrategicGame, method: str) -> SolverResult:
    """``solve(game, method)``, skipping while the solver's module is not written yet."""
    module = SOLVERS[method].target.partition(":")[0]
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name == module:
            pytest.skip(f"solver {method!r}: module {module} does not exist yet")
        raise
    return solve(game, method)


def exact_profile(strings: Sequence[Sequence[str]]) -> ExactProfile:
    return tuple(tuple(Fraction(p) for p in player) for player in strings)


def exact_regrets(game: StrategicGame, profile: ExactProfile) -> list[Fraction]:
    assert game.exact_payoffs is not None
    out = []
    for i in range(game.n_players):
        dev = deviation_payoffs(game.exact_payoffs, profile, i)
        value = sum((d * p for d, p in zip(dev, profile[i], strict=True)), Fraction(0))
        out.append(max(dev) - value)
    return out


def is_gambit_float_answer_usable(answer: dict[str, Any]) -> bool:
    """Whether Gambit's n-player mixed list is a list of equilibria (logit can stop short)."""
    if answer["mixed_solver"].startswith("logit"):
        return bool(answer["logit_relative_regret"] <= FLOAT_ANSWER_RTOL)
    return bool(answer["mixed_equilibria"])


def describe(game: StrategicGame, profile: Sequence[Sequence[object]]) -> str:
    parts = []
    for labels, probs in zip(game.strategies, profile, strict=True):
        support = [f"{s}:{p}" for s, p in zip(labels, probs, strict=True) if p != 0]
        parts.append("{" + ", ".join(support) + "}")
    return " x ".join(parts)


# ------------------------------------------------------------- reading alone
def test_every_nfg_answer_has_its_file(
    reference_games: Path, reference_answers: dict[str, Any]
) -> None:
    files = {p.name for p in (reference_games / "games").glob("*.nfg")}
    answered = {name for name, a in reference_answers.items() if a["kind"] == "nfg"}
    assert files == answered
    assert len(files) >= 100


def test_reader_gives_gambits_players_strategies_and_labels(
    reference_nfg: Path, reference_answers: dict[str, Any]
) -> None:
    answer = answer_for(reference_nfg, reference_answers)
    document = read_nfg_document(reference_nfg)
    game = document.game
    assert game.n_players == answer["players"]
    assert list(game.shape) == answer["strategies"]
    assert game.title == answer["title"]
    # Gambit shows an empty label as "_1", "_2", ...; negsim shows its position.
    gambit_players = [
        str(k + 1) if re.fullmatch(r"_\d+", label) else label
        for k, label in enumerate(answer["player_labels"])
    ]
    assert list(game.players) == gambit_players
    assert [list(s) for s in game.strategies] == answer["strategy_labels"]
    assert game.exact_payoffs is not None, "every number in an .nfg file is rational"
    for labels, indices in zip(
        answer["pure_equilibria"], answer["pure_equilibria_idx"], strict=True
    ):
        assert [game.strategies[i][k] for i, k in enumerate(indices)] == labels


def test_payoffs_at_gambits_pure_equilibria(
    reference_nfg: Path, reference_answers: dict[str, Any]
) -> None:
    answer = answer_for(reference_nfg, reference_answers)
    game = read_nfg(reference_nfg)
    assert game.exact_payoffs is not None
    for indices, payoffs in zip(
        answer["pure_equilibria_idx"], answer["pure_expected_payoffs"], strict=True
    ):
        ours = [game.exact_payoffs[i][tuple(indices)] for i in range(game.n_players)]
        assert ours == [Fraction(p) for p in payoffs], f"profile {indices}"


def test_gambits_two_player_equilibria_are_exact_equilibria_of_our_game(
    reference_nfg_two_player: Path, reference_answers: dict[str, Any]
) -> None:
    answer = answer_for(reference_nfg_two_player, reference_answers)
    game = read_nfg(reference_nfg_two_player)
    assert game.exact_payoffs is not None
    assert answer["mixed_solver"].startswith("enummixed")
    for strings, payoffs in zip(
        answer["mixed_equilibria"], answer["mixed_expected_payoffs"], strict=True
    ):
        profile = exact_profile(strings)
        assert list(expected_payoffs(game.exact_payoffs, profile)) == [Fraction(p) for p in payoffs]
        assert exact_regrets(game, profile) == [0, 0], describe(game, profile)


def test_gambits_n_player_equilibria_have_zero_regret_in_our_game(
    reference_nfg_n_player: Path, reference_answers: dict[str, Any]
) -> None:
    answer = answer_for(reference_nfg_n_player, reference_answers)
    game = read_nfg(reference_nfg_n_player)
    if not is_gambit_float_answer_usable(answer):
        pytest.skip(f"Gambit's {answer['mixed_solver'].split(':')[0]} gave no usable equilibria")
    scale = float(np.ptp(game.payoffs)) or 1.0
    for strings, payoffs in zip(
        answer["mixed_equilibria"], answer["mixed_expected_payoffs"], strict=True
    ):
        profile = [np.array([float(p) for p in player]) for player in strings]
        assert regrets(game, profile).max() <= FLOAT_ANSWER_RTOL * scale
        np.testing.assert_allclose(
            expected_payoffs(game.payoffs, profile),
            [float(p) for p in payoffs],
            rtol=0,
            atol=FLOAT_ANSWER_RTOL * scale,
        )


def test_writer_round_trips_every_reference_game(reference_nfg: Path) -> None:
    game = read_nfg(reference_nfg)
    again = parse_nfg(write_nfg(game))
    assert again.title == game.title
    assert again.players == game.players
    assert again.strategies == game.strategies
    assert again.exact_payoffs is not None and game.exact_payoffs is not None
    assert np.array_equal(again.exact_payoffs, game.exact_payoffs)


# ------------------------------------------------------------------- solvers
def check_reported_equilibria(game: StrategicGame, result: SolverResult) -> None:
    """Every equilibrium a solver reports is one: regret within tolerance, exactly 0 if exact."""
    for eq in result.equilibria:
        assert regrets(game, eq.strategies).max() <= game.tolerance.payoff
        assert eq.max_regret <= game.tolerance.payoff
        if eq.exact is not None:
            assert exact_regrets(game, eq.exact) == [0] * game.n_players


def pure_indices(eq: Equilibrium) -> tuple[int, ...]:
    assert eq.is_pure
    return tuple(int(np.argmax(s)) for s in eq.strategies)


def test_pure_equilibria_equal_gambits(
    reference_nfg: Path, reference_answers: dict[str, Any]
) -> None:
    answer = answer_for(reference_nfg, reference_answers)
    game = read_nfg(reference_nfg)
    result = run_solver(game, "pure")
    check_reported_equilibria(game, result)
    ours = Counter(pure_indices(eq) for eq in result.equilibria)
    assert all(count == 1 for count in ours.values()), "an equilibrium is listed twice"
    gambit = {tuple(p) for p in answer["pure_equilibria_idx"]}
    assert set(ours) == gambit, f"missing {gambit - set(ours)}, extra {set(ours) - gambit}"
    assert result.complete


def match_equilibria(
    game: StrategicGame, ours: Sequence[Equilibrium], gambit: Sequence[ExactProfile]
) -> tuple[list[str], list[str]]:
    """Gambit's equilibria we miss, and ours Gambit does not list (as readable strings).

    Exact equilibria are compared as fractions; a float one matches a Gambit
    equilibrium within the game's probability tolerance.
    """
    unmatched = list(gambit)
    extra = []
    tol = game.tolerance.probability
    for eq in ours:
        if eq.exact is not None and eq.exact in unmatched:
            unmatched.remove(eq.exact)
            continue
        hit = next(
            (
                g
                for g in unmatched
                if all(
                    np.allclose(np.array([float(p) for p in gi]), si, rtol=0, atol=tol)
                    for gi, si in zip(g, eq.strategies, strict=True)
                )
            ),
            None,
        )
        if hit is None:
            profile = eq.exact if eq.exact is not None else eq.strategies
            extra.append(describe(game, profile))
        else:
            unmatched.remove(hit)
    missing = [describe(game, g) for g in unmatched]
    return missing, extra


@pytest.mark.parametrize("method", ["vertex-enumeration", "support-enumeration"])
def test_extreme_equilibria_equal_gambits_enummixed(
    reference_nfg_two_player: Path, reference_answers: dict[str, Any], method: str
) -> None:
    answer = answer_for(reference_nfg_two_player, reference_answers)
    assert answer["mixed_complete"] is True
    game = read_nfg(reference_nfg_two_player)
    result = run_solver(game, method)
    check_reported_equilibria(game, result)
    # enummixed lists some equilibria more than once (csg2.nfg, csg4.nfg: 9 entries,
    # 4 distinct); an equilibrium is one point however often it is listed.
    gambit = list(dict.fromkeys(exact_profile(eq) for eq in answer["mixed_equilibria"]))
    missing, extra = match_equilibria(game, result.equilibria, gambit)
    assert not missing and not extra, (
        f"{method} on {reference_nfg_two_player.name}: complete={result.complete}, "
        f"degenerate={result.degenerate}; missing {missing}; extra {extra}"
    )
    assert all(eq.exact is not None for eq in result.equilibria), "rational game: exact answers"
    for eq in result.equilibria:
        assert eq.exact is not None
        position = [exact_profile(g) for g in answer["mixed_equilibria"]].index(eq.exact)
        gambit_payoffs = answer["mixed_expected_payoffs"][position]
        assert eq.payoffs == pytest.approx([float(Fraction(p)) for p in gambit_payoffs])
    assert result.complete
