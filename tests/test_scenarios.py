"""The bundled scenarios: every one loads, solves and verifies; textbook answers hold."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from simulator.analysis import (
    BargainingAnalysis,
    CoalitionAnalysis,
    SequentialAnalysis,
    analyze_file,
)
from simulator.equilibrium import regrets
from simulator.extensive.behavior import behavior_regrets, subgame_regrets

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
ALL = sorted(SCENARIOS.glob("*.yaml"))


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_every_scenario_solves_with_verified_equilibria(path: Path) -> None:
    analysis = analyze_file(path)
    assert analysis.games
    for any_ga in analysis.games:
        if isinstance(any_ga, BargainingAnalysis):
            result = any_ga.result
            assert result.solutions and not result.rejected and not result.failed
            assert all(check.passed for check in result.checks)
            continue
        if isinstance(any_ga, CoalitionAnalysis):
            assert all(sol.passed for sol in any_ga.result.solutions)
            assert not any_ga.result.failed
            continue
        if isinstance(any_ga, SequentialAnalysis):
            tree = any_ga.game
            for beq in any_ga.result.equilibria:
                assert np.all(behavior_regrets(tree, beq.behavior) <= tree.tolerance.payoff)
                if beq.concept == "subgame_perfect":
                    assert np.all(subgame_regrets(tree, beq.behavior) <= tree.tolerance.payoff)
            assert any_ga.result.equilibria
            continue
        ga = any_ga
        for eq in ga.result.equilibria:
            assert np.all(regrets(ga.game, eq.strategies) <= ga.game.tolerance.payoff)
            for probs in eq.strategies:
                assert probs.min() >= 0 and abs(probs.sum() - 1) < 1e-12


def test_minerals_scenarios_cite_sources_and_mark_assumptions() -> None:
    from simulator.scenario import load_scenario

    minerals = [p for p in ALL if p.name.startswith("minerals_")]
    assert len(minerals) >= 3
    sizes = set()
    for path in minerals:
        scenario = load_scenario(path)
        assert scenario.question and scenario.sources
        sizes.add(len(scenario.actors))
        for name, parameter in scenario.parameters.items():
            assert parameter.source or parameter.assumption, name
    assert {2, 3, 4} <= sizes


def _exact_set(path: Path, game: str) -> set[tuple[tuple[Fraction, ...], ...]]:
    (ga,) = analyze_file(path, games=[game]).games
    assert ga.result.complete
    out = set()
    for eq in ga.result.equilibria:
        assert eq.exact is not None
        out.add(tuple(tuple(s) for s in eq.exact))
    return out


F = Fraction
TEXTBOOK = SCENARIOS / "textbook_games.yaml"


@pytest.mark.parametrize(
    ("game", "expected"),
    [
        ("prisoners_dilemma", {((F(0), F(1)), (F(0), F(1)))}),
        (
            "battle_of_the_sexes",
            {
                ((F(1), F(0)), (F(1), F(0))),
                ((F(0), F(1)), (F(0), F(1))),
                ((F(3, 5), F(2, 5)), (F(2, 5), F(3, 5))),
            },
        ),
        ("matching_pennies", {((F(1, 2), F(1, 2)), (F(1, 2), F(1, 2)))}),
        (
            "chicken",
            {
                ((F(1), F(0)), (F(0), F(1))),
                ((F(0), F(1)), (F(1), F(0))),
                ((F(9, 10), F(1, 10)), (F(9, 10), F(1, 10))),
            },
        ),
    ],
)
def test_textbook_two_player_games(game: str, expected: set[object]) -> None:
    assert _exact_set(TEXTBOOK, game) == expected


def test_volunteers_dilemma_pure_equilibria_are_one_volunteer() -> None:
    (ga,) = analyze_file(TEXTBOOK, games=["volunteers_dilemma"]).games
    pure = [eq for eq in ga.result.equilibria if eq.is_pure]
    profiles = {tuple(int(s.argmax()) for s in eq.strategies) for eq in pure}
    assert profiles == {(0, 1, 1), (1, 0, 1), (1, 1, 0)}
    # The symmetric mixed equilibrium: each ignores with probability 1/sqrt(2).
    mixed = [
        eq for eq in ga.result.equilibria if all(np.count_nonzero(s) == 2 for s in eq.strategies)
    ]
    assert any(np.allclose([s[1] for s in eq.strategies], 2**-0.5) for eq in mixed)
