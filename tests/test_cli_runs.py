"""`negsim sweep`, `negsim montecarlo` and `negsim plot` from the shell: results, files, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
FLAGSHIP = SCENARIOS / "minerals_us_ukraine.yaml"
FOUR = SCENARIOS / "minerals_four_party.yaml"


def negsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


def test_sweep_finds_the_guarantee_threshold_and_writes_records(tmp_path: Path) -> None:
    out = tmp_path / "sweep.csv"
    done = negsim(
        "sweep",
        str(FLAGSHIP),
        "--game",
        "offer_and_response",
        "--param",
        "guarantee_cost_us=0:0.5:11",
        "--workers",
        "1",
        "--out",
        str(out),
        "--json",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    # The guarantee deal stops being an equilibrium once the guarantee costs the US
    # more than the 0.2 it saves against Ukraine holding out (derived in test_sweep.py).
    values = [t["value"] for t in data["thresholds"]]
    assert any(abs(v - 0.2) < 1e-5 for v in values), values
    lines = out.read_text().splitlines()
    assert len(lines) == 12 and "param.guarantee_cost_us" in lines[0]
    assert not (tmp_path / "sweep.csv.parts").exists()


def test_sweep_text_output_names_thresholds() -> None:
    done = negsim(
        "sweep",
        str(FOUR),
        "--game",
        "us_ukraine_with_offers",
        "--param",
        "partnership_value_ua=0:1.2:7",
        "--concept",
        "nash_bargaining",
        "--workers",
        "1",
    )
    assert done.returncode == 0, done.stderr
    assert "Threshold: partnership_value_ua = 0.42" in done.stdout
    assert "no_deal" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "nonsense=0:1:5"], "no such parameter"),
        (["--param", "guarantee_cost_us=1:0:5"], "guarantee_cost_us"),
        (["--param", "guarantee_cost_us=0:1"], "NAME=LO:HI:N"),
        (["--param", "guarantee_cost_us=0:1:5", "--out", "x.txt"], ".csv"),
    ],
)
def test_sweep_bad_input_exits_2(args: list[str], message: str) -> None:
    done = negsim("sweep", str(FLAGSHIP), "--workers", "1", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


def test_montecarlo_is_reproducible_for_a_seed(tmp_path: Path) -> None:
    args = [
        "montecarlo",
        str(FLAGSHIP),
        "--game",
        "split_the_deal",
        "--concept",
        "nash_bargaining",
        "-n",
        "40",
        "--seed",
        "11",
        "--workers",
        "1",
        "--json",
    ]
    first = negsim(*args, "--out", str(tmp_path / "draws.json"))
    second = negsim(*args)
    assert first.returncode == 0, first.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a["seed"] == 11 and a["n"] == 40
    assert a["summary"]["numbers"] == b["summary"]["numbers"]
    deal = a["summary"]["probabilities"]["deal_exists"]
    assert 0 <= deal["p"] <= 1 and "standard_error" in deal
    records = json.loads((tmp_path / "draws.json").read_text())
    assert len(records["records"]) == 40


def test_montecarlo_without_uncertain_block_is_bad_input() -> None:
    done = negsim("montecarlo", str(SCENARIOS / "textbook_games.yaml"), "-n", "5", "--seed", "1")
    assert done.returncode == 2
    assert "uncertain" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("kind", "args"),
    [
        ("surface", ["--game", "split_the_deal", "--resolution", "11"]),
        ("frontier", ["--game", "split_the_deal"]),
        ("heatmap", ["--game", "offer_and_response"]),
        (
            "sweep",
            [
                "--game",
                "split_the_deal",
                "--param",
                "guarantee_cost_us=0:0.4:5",
                "--column",
                "nash_bargaining.deal.guarantee",
                "--workers",
                "1",
            ],
        ),
    ],
)
@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_writes_each_kind(tmp_path: Path, kind: str, args: list[str], suffix: str) -> None:
    out = tmp_path / f"figure{suffix}"
    done = negsim("plot", str(FLAGSHIP), kind, "--out", str(out), *args)
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in data[:2000]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["surface", "--out", "f.gif"], ".png"),
        (["heatmap", "--game", "split_the_deal", "--out", "f.png"], "not a strategic game"),
        (["surface", "--x", "nothing", "--out", "f.png"], "nothing"),
    ],
)
def test_plot_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "plot", str(FLAGSHIP), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())
