"""nashpy backends: same answers as known ones, verification, honest completeness, time limit.

Each call starts a Python process that imports nashpy (about 1 s), so the cases
here are few and chosen to each check something different.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pytest

from simulator.game import StrategicGame
from simulator.results import SolverResult
from simulator.solvers.nashpy_backend import nashpy_lemke_howson, nashpy_support, nashpy_vertex

pytest.importorskip("nashpy")

Key = tuple[float, ...]


def keys(profiles: Iterable[Sequence[Sequence[float]]]) -> set[Key]:
    return {tuple(round(float(p), 6) + 0.0 for s in profile for p in s) for profile in profiles}


def found(result: SolverResult) -> set[Key]:
    return keys(eq.strategies for eq in result.equilibria)


BATTLE_OF_THE_SEXES = StrategicGame.from_bimatrix(
    [[2, 0], [0, 1]], [[1, 0], [0, 2]], strategies=[["opera", "fight"], ["opera", "fight"]]
)
BOS_EQUILIBRIA = {
    (1.0, 0.0, 1.0, 0.0),
    (0.0, 1.0, 0.0, 1.0),
    (round(2 / 3, 6), round(1 / 3, 6), round(1 / 3, 6), round(2 / 3, 6)),
}


@pytest.mark.parametrize(
    ("solver", "expected", "complete"),
    [
        (nashpy_vertex, BOS_EQUILIBRIA, True),
        (nashpy_support, BOS_EQUILIBRIA, False),
        (nashpy_lemke_howson, {(1.0, 0.0, 1.0, 0.0), (0.0, 1.0, 0.0, 1.0)}, False),
    ],
    ids=["vertex", "support", "lemke-howson"],
)
def test_battle_of_the_sexes(
    solver: Callable[[StrategicGame], SolverResult], expected: set[Key], complete: bool
) -> None:
    result = solver(BATTLE_OF_THE_SEXES)
    assert found(result) == expected
    assert result.complete is complete
    assert result.rejected == 0
    # nashpy says nothing of degeneracy; the vertex backend checks it with ours.
    assert result.degenerate is (False if solver is nashpy_vertex else None)
    assert all(eq.max_regret == 0.0 for eq in result.equilibria)  # exact for integer games
    assert result.options["timeout"] == 60.0
    assert result.method == solver.__name__


def test_lemke_howson_says_which_label_led_where() -> None:
    result = nashpy_lemke_howson(BATTLE_OF_THE_SEXES, labels=[1, 3])
    assert result.options["labels"] == (1, 3)
    assert found(result) == {(0.0, 1.0, 0.0, 1.0)}
    assert result.notes[0] == "equilibrium 1 reached from label(s) 1 (1:fight), 3 (2:fight)"


def test_degenerate_game_nothing_is_called_complete() -> None:
    # Identical rows: the column player is indifferent, and the extreme
    # equilibria include ones whose supports differ in size.
    a = [[1, 1], [1, 1], [1, 1]]
    b = [[1, 2], [1, 2], [1, 2]]
    game = StrategicGame.from_bimatrix(a, b)
    vertex = nashpy_vertex(game)
    assert found(vertex) == {
        (1.0, 0.0, 0.0, 0.0, 1.0),
        (0.0, 1.0, 0.0, 0.0, 1.0),
        (0.0, 0.0, 1.0, 0.0, 1.0),
    }
    # nashpy happens to find all three here, but misses equilibria of other
    # degenerate games (tests/test_two_player_solvers.py has one), so no promise.
    assert vertex.degenerate is True
    assert not vertex.complete
    assert any("degenerate" in note for note in vertex.notes)
    support = nashpy_support(game)
    assert found(support) <= found(vertex)
    assert not support.complete


def test_zero_game_runs_thanks_to_the_positive_shift() -> None:
    # Unshifted, nashpy's best-response polytopes of the zero game are unbounded
    # and its vertex enumeration raises; every pure profile is an extreme one.
    result = nashpy_vertex(StrategicGame.from_payoffs(np.zeros((2, 2, 2))))
    assert found(result) == {
        (1.0, 0.0, 1.0, 0.0),
        (1.0, 0.0, 0.0, 1.0),
        (0.0, 1.0, 1.0, 0.0),
        (0.0, 1.0, 0.0, 1.0),
    }
    assert result.degenerate is True and not result.complete


def test_support_enumeration_drops_an_equilibrium_of_a_random_game() -> None:
    # A seeded 6x6 game with 3 extreme equilibria, of which nashpy's support
    # enumeration returns 2 (a zero probability comes out slightly negative).
    rng = np.random.default_rng(14)
    a, b = rng.random((2, 6, 6))
    game = StrategicGame.from_bimatrix(a, b)
    vertex = nashpy_vertex(game)
    support = nashpy_support(game)
    assert len(vertex.equilibria) == 3
    assert found(support) < found(vertex)
    assert not support.complete
    assert any("may be incomplete" in note for note in support.notes)
    ours = pytest.importorskip("simulator.solvers.vertex_enumeration")
    assert found(ours.vertex_enumeration(game)) == found(vertex)


def test_vertex_enumeration_agrees_with_ours_on_random_games() -> None:
    ours = pytest.importorskip("simulator.solvers.vertex_enumeration")
    rng = np.random.default_rng(2026)
    for a, b in [rng.random((2, 4, 4)), rng.integers(-2, 3, size=(2, 4, 3))]:
        game = StrategicGame.from_bimatrix(a, b)
        assert found(nashpy_vertex(game)) == found(ours.vertex_enumeration(game))


def test_timeout_returns_with_a_note() -> None:
    # nashpy's support enumeration takes well over a minute on a 12x12 game.
    rng = np.random.default_rng(0)
    game = StrategicGame.from_bimatrix(rng.random((12, 12)), rng.random((12, 12)))
    result = nashpy_support(game, timeout=0.5)
    assert result.equilibria == ()
    assert not result.complete
    assert result.notes[0] == "nashpy timed out after 0.5 s and was stopped; no equilibria"
    assert result.options["timeout"] == 0.5
    # Loose on purpose: only fails if the process was not stopped at the limit.
    assert result.elapsed < 30


def test_nashpy_failure_is_reported_not_raised() -> None:
    # qhull refuses the one-dimensional polytopes of a 1x1 game.
    result = nashpy_vertex(StrategicGame.from_bimatrix([[1]], [[2]]))
    assert result.equilibria == ()
    assert not result.complete
    assert result.notes[0].startswith("nashpy failed: ")


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="two-player"):
        nashpy_vertex(StrategicGame.from_payoffs(np.zeros((3, 2, 2, 2))))
    with pytest.raises(ValueError, match="timeout"):
        nashpy_support(BATTLE_OF_THE_SEXES, timeout=0)
    with pytest.raises(ValueError, match="labels"):
        nashpy_lemke_howson(BATTLE_OF_THE_SEXES, labels=[7])


def test_importing_the_backend_does_not_import_nashpy() -> None:
    code = (
        "import sys, simulator.solvers.nashpy_backend; "
        "sys.exit(1 if 'nashpy' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
