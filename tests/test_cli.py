"""The command line through its real entry points (``python -m simulator`` and ``negsim``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
FLAGSHIP = SCENARIOS / "minerals_us_ukraine.yaml"
TEXTBOOK = SCENARIOS / "textbook_games.yaml"


def negsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_console_script_is_installed() -> None:
    exe = shutil.which("negsim") or str(Path(sys.executable).parent / "negsim")
    done = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith("negsim, version ")


@pytest.mark.parametrize(
    "command", [[], ["run"], ["validate"], ["list"], ["export"], ["solvers"], ["schema"]]
)
def test_every_command_has_help(command: list[str]) -> None:
    done = negsim(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout


def test_run_prints_tables_with_verified_equilibria() -> None:
    done = negsim("run", str(TEXTBOOK))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "battle_of_the_sexes" in out
    assert "3/5" in out and "2/5" in out  # exact fractions for a rational game
    assert "Why:" in out and "Verified:" in out


def test_run_json_follows_the_contract() -> None:
    done = negsim("run", str(TEXTBOOK), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert {"scenario", "file", "games"} <= set(data)
    games = {g["name"]: g for g in data["games"]}
    bos = games["battle_of_the_sexes"]
    assert {"name", "kind", "players", "strategies", "complete", "solutions"} <= set(bos)
    assert bos["kind"] == "strategic" and bos["complete"] is True
    assert len(bos["solutions"]) == 3
    for sol in bos["solutions"]:
        assert {"concept", "method", "pure", "profile", "payoffs", "regret"} <= set(sol)
        assert sol["concept"] == "nash"
        assert set(sol["profile"]) == {"A", "B"}
        for probs in sol["profile"].values():
            assert abs(sum(probs.values()) - 1) < 1e-12
        assert all(r <= bos["tolerance"] for r in sol["regret"].values())
    mixed = [s for s in bos["solutions"] if not s["pure"]]
    assert mixed[0]["exact_profile"]["A"] == {"opera": "3/5", "football": "2/5"}
    pd_ = games["prisoners_dilemma"]["solutions"]
    assert [s["profile"]["A"]["defect"] for s in pd_] == [1.0]


def test_flagship_scenario_runs_and_reports_deals() -> None:
    done = negsim("run", str(FLAGSHIP), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    game = data["games"][0]
    assert game["players"] == ["US", "UA"]
    pure = [s for s in game["solutions"] if s["pure"]]
    assert pure and all("deal" in s for s in pure)


def test_run_nfg_file_uses_its_labels(tmp_path: Path) -> None:
    nfg = tmp_path / "bos.nfg"
    nfg.write_text(
        'NFG 1 R "Battle" { "Row" "Col" }\n{ { "O" "F" } { "o" "f" } }\n""\n3 2 0 0 0 0 2 3\n'
    )
    done = negsim("run", str(nfg), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    game = data["games"][0]
    assert game["players"] == ["Row", "Col"]
    assert game["strategies"] == {"Row": ["O", "F"], "Col": ["o", "f"]}
    assert len(game["solutions"]) == 3


def test_bad_scenario_exits_2_with_file_line_field_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(FLAGSHIP.read_text().replace("range: [0, 1]", "range: [0, one]", 1))
    done = negsim("run", str(bad))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"{bad}:" in done.stderr
    assert "range" in done.stderr


def test_unsafe_yaml_is_rejected_and_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    bad = tmp_path / "evil.yaml"
    bad.write_text(f"name: !!python/object/apply:os.system ['touch {marker}']\n")
    done = negsim("run", str(bad))
    assert done.returncode == 2
    assert not marker.exists()
    assert "Traceback" not in done.stderr


def test_failed_run_leaves_existing_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    out.write_text("previous result\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    done = negsim("run", str(bad), "--json", "--out", str(out))
    assert done.returncode == 2
    assert out.read_text() == "previous result\n"
    assert set(tmp_path.iterdir()) == {bad, out}  # no temporary file left behind


def test_out_writes_the_same_json(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    done = negsim("run", str(TEXTBOOK), "--json", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert json.loads(out.read_text())["scenario"] == "Textbook strategic games"


def test_missing_file_and_unknown_game_are_bad_input() -> None:
    assert negsim("run", "no/such/file.yaml").returncode == 2
    done = negsim("run", str(TEXTBOOK), "--game", "nonexistent")
    assert done.returncode == 2
    assert "nonexistent" in done.stderr


def test_unknown_solver_is_a_usage_error() -> None:
    done = negsim("run", str(TEXTBOOK), "--solver", "magic")
    assert done.returncode == 2


def test_two_player_solver_on_three_player_game_is_bad_input() -> None:
    done = negsim(
        "run", str(TEXTBOOK), "--game", "volunteers_dilemma", "--solver", "vertex-enumeration"
    )
    assert done.returncode == 2
    assert "two-player" in done.stderr


def test_validate_reports_every_problem(tmp_path: Path) -> None:
    good = negsim("validate", *[str(p) for p in sorted(SCENARIOS.glob("*.yaml"))])
    assert good.returncode == 0, good.stderr
    bad = tmp_path / "two_problems.yaml"
    text = FLAGSHIP.read_text()
    text = text.replace("    value: 0.4\n", "    value: forty\n", 1)
    text = text.replace("unit: share of revenue", "units: share of revenue", 1)
    bad.write_text(text)
    done = negsim("validate", str(bad))
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) >= 2, done.stderr
    assert "occupied_share" in done.stderr and "units" in done.stderr


def test_list_shows_every_bundled_scenario() -> None:
    done = negsim("list")
    assert done.returncode == 0, done.stderr
    for path in SCENARIOS.glob("*.yaml"):
        assert path.name in done.stdout


def test_export_nfg_round_trips_through_run(tmp_path: Path) -> None:
    out = tmp_path / "pd.nfg"
    done = negsim("export", str(TEXTBOOK), "--game", "prisoners_dilemma", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("NFG 1 R")
    again = json.loads(negsim("run", str(out), "--json").stdout)
    (sol,) = again["games"][0]["solutions"]
    assert sol["profile"]["A"] == {"cooperate": 0.0, "defect": 1.0}


def test_set_overrides_a_parameter_and_is_recorded() -> None:
    done = negsim("run", str(FLAGSHIP), "--json", "--set", "guarantee_cost_us=0.5")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["run"]["overrides"] == {"guarantee_cost_us": 0.5}
    assert data["run"]["parameters"]["guarantee_cost_us"] == 0.5
    # A guarantee that costs the US more than the deal is worth is never offered.
    offers = {
        max(s["profile"]["US"], key=s["profile"]["US"].get) for s in data["games"][0]["solutions"]
    }
    assert "half_with_guarantee" not in offers


@pytest.mark.parametrize("bad", ["guarantee_cost_us", "guarantee_cost_us=cheap", "nosuch=1"])
def test_bad_set_is_bad_input(bad: str) -> None:
    done = negsim("run", str(FLAGSHIP), "--set", bad)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_mixed_dominance_reports_domination_by_a_mixture() -> None:
    done = negsim("run", str(FLAGSHIP), "--json", "--dominance", "mixed")
    assert done.returncode == 0, done.stderr
    dominated = json.loads(done.stdout)["games"][0]["dominated"]
    assert {"player": "US", "strategy": "soft_no_guarantee"} in [
        {"player": d["player"], "strategy": d["strategy"]} for d in dominated
    ]
    assert any(d["dominated_by"].startswith("mixing") for d in dominated)


def test_pure_only_lists_are_not_called_complete() -> None:
    four_party = SCENARIOS / "minerals_four_party.yaml"
    done = negsim("run", str(four_party), "--json", "--solver", "pure")
    assert done.returncode == 0, done.stderr
    game = json.loads(done.stdout)["games"][0]
    assert game["scope"] == "all pure equilibria"
    assert game["complete"] is False  # mixed equilibria were not searched
    assert game["solutions"] and all(s["pure"] for s in game["solutions"])


def test_run_json_adds_bargaining_concepts_without_changing_strategic_games() -> None:
    done = negsim("run", str(FLAGSHIP), "--json")
    assert done.returncode == 0, done.stderr
    games = {g["name"]: g for g in json.loads(done.stdout)["games"]}
    strategic = games["offer_and_response"]
    assert {s["concept"] for s in strategic["solutions"]} == {"nash"}
    split = games["split_the_deal"]
    assert split["kind"] == "bargaining" and split["deal_exists"] is True
    concepts = {s["concept"]: s for s in split["solutions"]}
    assert set(concepts) >= {"nash_bargaining", "kalai_smorodinsky", "egalitarian", "rubinstein"}
    for solution in concepts.values():
        assert set(solution["deal"]) == {"mineral_share", "guarantee", "support"}
        assert set(solution["payoffs"]) == {"US", "UA"}
        gains = solution["gains"]
        for player, payoff in solution["payoffs"].items():
            assert payoff - split["disagreement"][player] == pytest.approx(gains[player])


def test_run_prints_bargaining_solutions_side_by_side() -> None:
    done = negsim("run", str(FLAGSHIP), "--game", "split_the_deal")
    assert done.returncode == 0, done.stderr
    assert "A deal exists" in done.stdout
    header = next(line for line in done.stdout.splitlines() if "Nash" in line and "K-S" in line)
    assert "Rubinstein" in header
    assert "US gain" in done.stdout and "UA gain" in done.stdout


def test_coalition_game_json_has_worths_and_concepts() -> None:
    path = SCENARIOS / "minerals_four_party.yaml"
    done = negsim("run", str(path), "--json", "--game", "coalitions")
    assert done.returncode == 0, done.stderr
    (game,) = json.loads(done.stdout)["games"]
    assert game["kind"] == "coalition" and len(game["worths"]) == 15
    concepts = {s["concept"]: s for s in game["solutions"]}
    assert set(concepts) == {"core", "shapley", "banzhaf", "nucleolus"}
    grand = next(w for w in game["worths"] if len(w["coalition"]) == 4)
    assert sum(concepts["shapley"]["payoffs"].values()) == pytest.approx(grand["worth"])
    assert game["ntu_core"] and all("in_core" in c for c in game["ntu_core"])


def test_export_of_a_bargaining_game_is_bad_input() -> None:
    done = negsim("export", str(FLAGSHIP), "--game", "split_the_deal")
    assert done.returncode == 2
    assert "not a strategic game" in done.stderr and "Traceback" not in done.stderr
