"""Game trees, QRE and correlated equilibria through the command line and the JSON contract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_cli import SCENARIOS, TEXTBOOK, negsim

from simulator.analysis import SequentialAnalysis, analyze_file
from simulator.report.json_contract import analysis_to_json

TREES = SCENARIOS / "textbook_trees.yaml"
SEQUENTIAL = SCENARIOS / "minerals_sequential.yaml"
FOUR_PARTY = SCENARIOS / "minerals_four_party.yaml"


def moves(solution: dict[str, object]) -> list[tuple[str, str]]:
    return [(m["player"], m["action"]) for m in solution["path"]]  # type: ignore[index,attr-defined]


def test_textbook_trees_in_json_give_the_known_answers() -> None:
    payload = analysis_to_json(analyze_file(TREES))
    games = {g["name"]: g for g in payload["games"]}
    centipede = games["centipede"]
    assert centipede["kind"] == "sequential" and centipede["complete"] is False
    (spe,) = centipede["solutions"]
    assert spe["concept"] == "subgame_perfect" and spe["pure"]
    assert moves(spe) == [("P1", "take")]
    (entry,) = games["entry_deterrence"]["solutions"]
    assert moves(entry) == [("E", "enter"), ("I", "accommodate")]
    # Every information set of every player is in the behaviour, with a distribution.
    for game in payload["games"]:
        for solution in game["solutions"]:
            assert set(solution["behavior"]) == set(game["players"])
            for player, sets in game["information_sets"].items():
                assert set(solution["behavior"][player]) == set(sets)
                for name, actions in sets.items():
                    probs = solution["behavior"][player][name]
                    assert list(probs) == actions
                    assert sum(probs.values()) == pytest.approx(1)
            assert max(solution["regret"].values()) <= game["tolerance"]


def test_beer_quiche_has_a_chance_move_on_the_path_with_its_probability() -> None:
    (ga,) = analyze_file(TREES, games=["beer_quiche"]).games
    assert isinstance(ga, SequentialAnalysis)
    (game,) = analysis_to_json(analyze_file(TREES, games=["beer_quiche"]))["games"]
    for solution in game["solutions"]:
        chance = [m for m in solution["path"] if m["player"] == "chance"]
        assert sorted(m["probability"] for m in chance) == pytest.approx([0.1, 0.9])


@pytest.mark.parametrize(("holds", "ukraine"), [(0.3, "sign"), (0.9, "hold_out")])
def test_the_sequential_minerals_game_turns_on_the_ceasefire(holds: float, ukraine: str) -> None:
    done = negsim("run", str(SEQUENTIAL), "--json", "--set", f"ceasefire_holds={holds}")
    assert done.returncode == 0, done.stderr
    (game,) = json.loads(done.stdout)["games"]
    assert game["method"] == "subgame-perfect"
    assert game["solutions"]
    for solution in game["solutions"]:
        assert solution["concept"] == "subgame_perfect"
        path = moves(solution)
        assert path[0] == ("US", "demand_half")
        assert path[1] == ("UA", ukraine)


def test_the_sequential_report_says_the_path_in_words() -> None:
    done = negsim("run", str(TREES), "--game", "entry_deterrence")
    assert done.returncode == 0, done.stderr
    assert "Path: E: enter; I: accommodate." in done.stdout
    assert "subgame-perfect equilibrium by backward-induction" in done.stdout
    assert "in every subgame" in done.stdout


def test_an_efg_file_runs_like_a_scenario(tmp_path: Path) -> None:
    efg = tmp_path / "entry.efg"
    done = negsim("export", str(TREES), "--game", "entry_deterrence", "--format", "efg")
    assert done.returncode == 0, done.stderr
    efg.write_text(done.stdout, encoding="utf-8")
    ran = negsim("run", str(efg), "--json")
    assert ran.returncode == 0, ran.stderr
    (game,) = json.loads(ran.stdout)["games"]
    (spe,) = game["solutions"]
    assert moves(spe) == [("E", "enter"), ("I", "accommodate")]
    assert spe["payoffs"] == {"E": 1.0, "I": 1.0}
    # A strategic method works on the tree through its reduced strategic form.
    nash = negsim("run", str(efg), "--json", "--solver", "vertex-enumeration")
    assert nash.returncode == 0, nash.stderr
    (game,) = json.loads(nash.stdout)["games"]
    assert game["method"].startswith("reduced-form/")
    paths = {tuple(moves(s)) for s in game["solutions"]}
    assert (("E", "out"),) in paths  # the Nash equilibrium resting on the threat to fight
    assert all(s["concept"] == "nash" for s in game["solutions"])


def test_a_tree_exports_its_reduced_strategic_form() -> None:
    done = negsim("export", str(TREES), "--game", "entry_deterrence", "--format", "nfg")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("NFG 1 R")
    assert '{ "out" "enter" }' in done.stdout and '{ "fight" "accommodate" }' in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", str(TEXTBOOK), "--solver", "backward-induction"], "solves game trees"),
        (["run", str(TREES), "--game", "beer_quiche", "--solver", "backward-induction"], "beer"),
        (["export", str(TEXTBOOK), "--format", "efg"], "efg is for game trees"),
        (["run", str(TREES), "--concept", "qre", "--game", "centipede"], None),
    ],
)
def test_methods_that_do_not_fit_are_bad_input(args: list[str], message: str | None) -> None:
    done = negsim(*args)
    if message is None:
        # --concept only concerns strategic games: a tree run ignores it.
        assert done.returncode == 0, done.stderr
        return
    assert done.returncode == 2, done.stdout
    assert "Traceback" not in done.stderr
    assert message in done.stderr or message in done.stderr.lower()


def test_four_party_game_reports_mixed_equilibria_qre_and_correlated() -> None:
    done = negsim(
        "run", str(FOUR_PARTY), "--game", "four_party", "--json", "--concept", "qre",
        "--concept", "correlated",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (game,) = json.loads(done.stdout)["games"]
    by_concept: dict[str, list[dict[str, object]]] = {}
    for solution in game["solutions"]:
        by_concept.setdefault(solution["concept"], []).append(solution)
    nash = by_concept["nash"]
    assert any(not s["pure"] for s in nash), "the four-party game has mixed equilibria"
    for s in nash:
        assert max(s["regret"].values()) <= game["tolerance"]
    (qre,) = by_concept["qre"]
    lambdas = qre["lambdas"]
    assert lambdas[0] == 0 and np.all(np.diff(lambdas) > 0)
    assert qre["converged"] and max(qre["regret"].values()) <= game["tolerance"]
    for player, strategies in game["strategies"].items():
        assert set(qre["path"][player]) == set(strategies)
        first = [qre["path"][player][s][0] for s in strategies]
        assert first == pytest.approx([1 / len(strategies)] * len(strategies))
    correlated = by_concept["correlated"]
    assert correlated[0]["objective"] == "welfare"
    for c in correlated:
        total = sum(entry["probability"] for entry in c["distribution"])
        assert total == pytest.approx(1)
        for entry in c["distribution"]:
            assert set(entry["profile"]) == set(game["players"])
        assert c["max_violation"] <= game["tolerance"]


def test_qre_plot_draws_the_traced_path(tmp_path: Path) -> None:
    out = tmp_path / "qre.png"
    done = negsim("plot", str(TEXTBOOK), "qre", "--game", "volunteers_dilemma", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0

    from simulator import plotting
    from simulator.scenario import build_game, load_scenario
    from simulator.solvers.logit_qre import trace_logit_qre

    game = build_game(load_scenario(TEXTBOOK), "volunteers_dilemma")
    path = trace_logit_qre(game)
    assert path.converged and path.end is not None
    figure = plotting.qre_plot(path.lambdas, path.profiles, game, limit=path.end.strategies)
    assert np.allclose(figure.lambdas, path.lambdas)
    # The volunteer's dilemma's symmetric mixed equilibrium is where the branch ends,
    # and it is marked: P(stay out) = 1/sqrt(2) for each of the three players.
    assert figure.limit is not None
    for end in figure.limit:
        assert end[0] == pytest.approx(1 - 2**-0.5) or end[1] == pytest.approx(2**-0.5)
    ends = [p[-1] for p in figure.probabilities]
    assert all(np.allclose(e, ends[0]) for e in ends)


def test_a_sweep_finds_where_ukraine_stops_signing(tmp_path: Path) -> None:
    out = tmp_path / "sweep.csv"
    done = negsim(
        "sweep", str(SEQUENTIAL), "--param", "ceasefire_holds=0:1:6", "--out", str(out), "--quiet"
    )
    assert done.returncode == 0, done.stderr
    assert "Threshold: ceasefire_holds = 0.6 +/-" in done.stdout
    import csv

    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    low = next(r for r in rows if float(r["param.ceasefire_holds"]) == 0.2)
    high = next(r for r in rows if float(r["param.ceasefire_holds"]) == 0.8)
    assert low["path"] == "US: demand_half; UA: sign"
    assert low["deal.mineral_share"] and float(low["deal.mineral_share"]) == 0.5
    assert "UA: hold_out" in high["path"] and high["deal.mineral_share"] == ""
