"""Time negsim's sequence-form Lemke solver against pygambit's ``lcp_solve``: one command.

    python benchmarks/sequence_form.py [--quick] [--repeat N] [--budget S] [--limit S]
                                       [--games K] [--sizes TxAxR ...] [--seed BASE]
                                       [--references DIR] [--out FILE]

Games.

* **Reference trees**: every two-player perfect-recall ``.efg`` file of
  ``../shared/games`` (per its ``answers.json``), read by negsim's reader;
  Gambit reads the same file (its ``games_sanitized/`` copy where pygambit
  16.7 refuses the original for duplicate labels).
* **Random betting trees** of size ``TxAxR``: chance deals each player one of
  ``T`` private types (uniformly), then the players alternate ``R`` rounds of
  moves, each with ``A`` actions, seeing all actions but not the other's
  type; payoffs are integers drawn uniformly from 0..99 at every leaf (exact,
  generic). Each player has ``T (1 + A^2 + ... )`` information sets, so the
  sequence form grows like ``T A^(2R-1)`` while the tree has
  ``T^2 A^(2R)`` leaves. Tree ``g`` of a size has seed
  ``base + 1000 T + 100 A + 10 R + 100000 g`` (base 2026);
  :func:`betting_tree` rebuilds it.

What is timed, per game (in this process for ours, in a child process for
Gambit so that a call over ``--limit`` seconds can be stopped; the garbage
collector off during a call):

* ours: :func:`simulator.extensive.sequence_form.sequence_form_lemke` with
  ``arithmetic="auto"`` (float pivoting, exact re-pivoting of small rational
  games whose float end is not recovered exactly) and ``"float"``; each call
  includes building the sequence form and verifying the equilibrium;
* Gambit: ``pygambit.nash.lcp_solve(game)`` with ``rational=True`` (its
  default) and ``rational=False``, on the game read beforehand.

Each measurement is one warm-up call (discarded) then up to ``--repeat``
calls within ``--budget`` seconds; a game's time is the median of its calls.
The tables show medians over games and the ratio **their time / our time**
in words, as in :mod:`benchmarks.run`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from fractions import Fraction
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make ``benchmarks`` and ``simulator`` importable
    sys.path.insert(0, str(REPO))

from benchmarks.bargaining import timed  # noqa: E402
from benchmarks.games import DEFAULT_BASE_SEED  # noqa: E402
from benchmarks.run import (  # noqa: E402
    _ms,
    _number,
    _table,
    _write_atomically,
    machine_facts,
    machine_report,
)
from simulator.extensive.sequence_form import sequence_form, sequence_form_lemke  # noqa: E402
from simulator.extensive.tree import ExtensiveGame, TreeBuilder  # noqa: E402
from simulator.formats.efg import read_efg, write_efg  # noqa: E402

DEFAULT_SIZES = ("2x2x1", "2x2x2", "3x2x2", "2x3x2", "3x3x2")
QUICK_SIZES = ("2x2x1", "2x2x2")
STARTUP_LIMIT = 60.0
OURS = {"auto": "ours sequence_form_lemke (auto)", "float": "ours sequence_form_lemke (float)"}
GAMBIT = {"rational": "Gambit lcp_solve (rational)", "float": "Gambit lcp_solve (float)"}


# ====================================================================== games
def betting_tree(seed: int, types: int, actions: int, rounds: int) -> ExtensiveGame:
    """A random two-player betting tree (module notes); integer payoffs from ``seed``."""
    rng = np.random.default_rng(seed)
    b = TreeBuilder(["P1", "P2"], title=f"betting {types}x{actions}x{rounds} seed {seed}")
    labels = [f"t{k}" for k in range(types)]
    moves = [f"m{k}" for k in range(actions)]
    uniform = [Fraction(1, types)] * types

    def play(own: tuple[int, int], history: tuple[int, ...]) -> int:
        if len(history) == 2 * rounds:
            return b.terminal([int(v) for v in rng.integers(0, 100, 2)])
        mover = len(history) % 2
        name = f"{labels[own[mover]]}|{''.join(str(a) for a in history)}"
        node = b.decision(mover, moves, infoset=name)
        for a in range(actions):
            b.connect(node, a, play(own, (*history, a)))
        return node

    root = b.chance(labels, uniform, label="P1's type")
    for t1 in range(types):
        second = b.chance(labels, uniform, label=f"P2's type, P1 {labels[t1]}")
        b.connect(root, t1, second)
        for t2 in range(types):
            b.connect(second, t2, play((t1, t2), ()))
    return b.build(root)


def parse_size(text: str) -> tuple[int, int, int]:
    """``"3x2x2"`` -> ``(types, actions, rounds)``."""
    try:
        types, actions, rounds = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r}: expected TxAxR, e.g. 3x2x2") from None
    if types < 1 or actions < 1 or rounds < 1:
        raise argparse.ArgumentTypeError(f"size {text!r}: every number must be at least 1")
    return types, actions, rounds


def tree_seed(base: int, types: int, actions: int, rounds: int, game: int) -> int:
    """The seed of random tree number ``game`` of a size (module notes)."""
    return base + 1000 * types + 100 * actions + 10 * rounds + 100_000 * game


@dataclass(frozen=True)
class TreeCase:
    """One game to time: its name, our tree, and the file Gambit reads."""

    group: str  # "reference" or a random size such as "3x2x2"
    name: str
    game: ExtensiveGame
    gambit_file: Path
    seed: int | None = None


def reference_cases(folder: Path, scratch: Path) -> list[TreeCase]:
    """Every two-player perfect-recall reference tree (absent folder: none)."""
    answers_file = folder / "answers.json"
    if not answers_file.is_file():
        return []
    answers = json.loads(answers_file.read_text(encoding="utf-8"))
    cases = []
    for path in sorted((folder / "games").glob("*.efg")):
        entry = answers.get(path.name, {})
        if entry.get("players") != 2 or not entry.get("tree", {}).get("is_perfect_recall"):
            continue
        gambit_file = folder / entry.get("loaded_from", f"games/{path.name}")
        cases.append(TreeCase("reference", path.name, read_efg(path), gambit_file))
    return cases


def random_cases(
    sizes: list[tuple[int, int, int]], games: int, base: int, scratch: Path
) -> list[TreeCase]:
    cases = []
    for types, actions, rounds in sizes:
        for g in range(games):
            seed = tree_seed(base, types, actions, rounds, g)
            game = betting_tree(seed, types, actions, rounds)
            file = scratch / f"betting_{types}x{actions}x{rounds}_{g}.efg"
            file.write_text(write_efg(game), encoding="utf-8")
            label = f"{types}x{actions}x{rounds}"
            cases.append(TreeCase(label, f"{label}#{g}", game, file, seed))
    return cases


# ====================================================================== Gambit
def _gambit_serve(channel: Connection) -> None:
    """Child process: time ``lcp_solve`` on the files the parent sends."""
    import gc
    import warnings

    warnings.simplefilter("ignore")
    import pygambit as gbt

    channel.send({"event": "ready"})
    while True:
        request = channel.recv()
        if request is None:
            return
        try:
            game = gbt.read_efg(str(request["file"]))
            channel.send({"event": "read"})
            rational = request["mode"] == "rational"
            spent = 0.0
            counted = 0
            for k in range(request["repeat"] + 1):
                gc.collect()
                gc.disable()
                start = time.perf_counter()
                result = gbt.nash.lcp_solve(game, rational=rational)
                elapsed = time.perf_counter() - start
                gc.enable()
                spent += elapsed
                # The first call warms up; a slow one counts, its one-off costs are negligible.
                counts = k > 0 or elapsed >= 1.0
                counted += counts
                channel.send(
                    {
                        "event": "run",
                        "t": elapsed,
                        "counted": counts,
                        "count": len(result.equilibria),
                    }
                )
                if counted and spent >= request["budget"]:
                    break
            channel.send({"event": "done"})
        except Exception as error:  # report, stay alive
            channel.send({"event": "error", "message": f"{type(error).__name__}: {error}"})


class GambitWorker:
    """A child process running pygambit, restarted after a call exceeds the limit."""

    def __init__(self) -> None:
        self.context = mp.get_context("spawn")
        self.process: Any = None
        self.channel: Connection | None = None

    def _start(self) -> None:
        parent, child = self.context.Pipe()
        self.process = self.context.Process(target=_gambit_serve, args=(child,), daemon=True)
        self.process.start()
        self.channel = parent
        # Starting Python and importing pygambit is not part of any call's limit.
        if not parent.poll(STARTUP_LIMIT) or parent.recv().get("event") != "ready":
            self.stop()
            raise RuntimeError(f"pygambit's worker did not start within {STARTUP_LIMIT} s")

    def time(
        self, file: Path, mode: str, repeat: int, budget: float, limit: float
    ) -> dict[str, Any]:
        if self.process is None or not self.process.is_alive():
            self._start()
        assert self.channel is not None
        self.channel.send({"file": str(file), "mode": mode, "repeat": repeat, "budget": budget})
        samples: list[float] = []
        count = 0
        while True:
            # Every call (and the file read) must answer within the limit, as in benchmarks.run.
            if not self.channel.poll(limit):
                self.stop()
                return {"status": "timeout", "samples": samples}
            event: dict[str, Any] = self.channel.recv()
            if event["event"] == "run":
                count = event["count"]
                if event["counted"]:
                    samples.append(event["t"])
            elif event["event"] == "done":
                return {"status": "ok", "samples": samples, "count": count}
            elif event["event"] == "error":
                return {"status": "error", "message": event["message"]}

    def stop(self) -> None:
        if self.process is not None and self.process.is_alive():
            if self.channel is not None:
                self.channel.close()
            self.process.kill()
            self.process.join()
        self.process = None
        self.channel = None


def gambit_available() -> bool:
    try:
        import pygambit  # noqa: F401
    except ImportError:
        return False
    return True


# ====================================================================== timing
@dataclass
class Record:
    """One game (one record of the JSON output)."""

    group: str
    name: str
    seed: int | None
    nodes: int
    sequences: tuple[int, int]
    ours: dict[str, dict[str, Any]] = field(default_factory=dict)
    gambit: dict[str, dict[str, Any]] = field(default_factory=dict)


def measure_ours(case: TreeCase, mode: str, repeat: int, budget: float) -> dict[str, Any]:
    sequence_form_lemke(case.game, arithmetic=mode)  # type: ignore[arg-type]  # warm-up
    samples, result = timed(
        lambda: sequence_form_lemke(case.game, arithmetic=mode),  # type: ignore[arg-type]
        repeat,
        budget,
    )
    return {
        "status": "ok" if result.equilibria else "none",
        "samples": samples,
        "median_s": statistics.median(samples),
        "count": len(result.equilibria),
        "exact": bool(result.equilibria) and result.equilibria[0].exact is not None,
        "max_regret": max((eq.max_regret for eq in result.equilibria), default=None),
        "notes": list(result.notes),
    }


def run(settings: argparse.Namespace, cases: list[TreeCase]) -> list[Record]:
    worker = GambitWorker() if settings.gambit else None
    records = []
    try:
        for k, case in enumerate(cases, start=1):
            form = sequence_form(case.game)
            record = Record(case.group, case.name, case.seed, len(case.game.nodes), form.shape)
            for mode in OURS:
                record.ours[mode] = measure_ours(case, mode, settings.repeat, settings.budget)
            if worker is not None:
                for mode in GAMBIT:
                    answer = worker.time(
                        case.gambit_file, mode, settings.repeat, settings.budget, settings.limit
                    )
                    if answer["status"] == "ok" and answer["samples"]:
                        answer["median_s"] = statistics.median(answer["samples"])
                    record.gambit[mode] = answer
            records.append(record)
            if settings.progress:
                print(f"  [{k}/{len(cases)}] {case.name}", file=sys.stderr, flush=True)
    finally:
        if worker is not None:
            worker.stop()
    return records


# ====================================================================== report
def _median_of(records: list[Record], side: str, mode: str) -> float | None:
    times = [
        getattr(r, side)[mode]["median_s"]
        for r in records
        if mode in getattr(r, side) and getattr(r, side)[mode].get("median_s") is not None
    ]
    return statistics.median(times) if times else None


def _ratio(records: list[Record], ours: str, theirs: str, limit: float) -> str:
    """Median over games of their time / our time, in words.

    A game on which Gambit exceeded the limit counts as ``limit / our time``, a
    lower bound, and the median is then marked ``>=``.
    """
    ratios = []
    bounded = False
    for r in records:
        mine = r.ours.get(ours, {}).get("median_s")
        peer = r.gambit.get(theirs, {})
        if mine is None:
            continue
        if peer.get("status") == "timeout":
            ratios.append(limit / mine)
            bounded = True
        elif peer.get("median_s") is not None:
            ratios.append(peer["median_s"] / mine)
    if not ratios:
        return "-"
    middle = statistics.median(ratios)
    words = f"{_number(middle)}x faster" if middle >= 1 else f"{_number(1 / middle)}x slower"
    return (">= " if bounded else "") + words


def _solved(records: list[Record], side: str, mode: str) -> str:
    done = sum(1 for r in records if getattr(r, side).get(mode, {}).get("count"))
    return f"{done}/{len(records)}"


def report(records: list[Record], settings: argparse.Namespace) -> str:
    groups = list(dict.fromkeys(r.group for r in records))
    lines = []
    header = ["median ms over games (solved)", *groups]
    rows = []
    for mode, label in OURS.items():
        rows.append(
            [label]
            + [
                _cell(
                    _median_of([r for r in records if r.group == g], "ours", mode),
                    _solved([r for r in records if r.group == g], "ours", mode),
                )
                for g in groups
            ]
        )
    if settings.gambit:
        for mode, label in GAMBIT.items():
            rows.append(
                [label]
                + [
                    _cell(
                        _median_of([r for r in records if r.group == g], "gambit", mode),
                        _solved([r for r in records if r.group == g], "gambit", mode),
                    )
                    for g in groups
                ]
            )
    sizes = ["sequences (median)"] + [
        "+".join(
            str(int(statistics.median(r.sequences[k] for r in records if r.group == g)))
            for k in (0, 1)
        )
        for g in groups
    ]
    rows.append(sizes)
    lines.append(_table(header, rows))
    if settings.gambit:
        ratio_rows = []
        for ours_mode, ours_label in OURS.items():
            for gambit_mode, gambit_label in GAMBIT.items():
                ratio_rows.append(
                    [f"{ours_label.removeprefix('ours ')} vs {gambit_label}"]
                    + [
                        _ratio(
                            [r for r in records if r.group == g],
                            ours_mode,
                            gambit_mode,
                            settings.limit,
                        )
                        for g in groups
                    ]
                )
        lines += [
            "",
            _table(["their time / our time, median over games", *groups], ratio_rows),
        ]
    reference = [r for r in records if r.group == "reference"]
    if reference:
        exact = sum(1 for r in reference if r.ours["auto"].get("exact"))
        worst = max(
            (r.ours["auto"]["max_regret"] for r in reference if r.ours["auto"]["max_regret"]),
            default=0.0,
        )
        lines += [
            "",
            f"reference trees: {len(reference)} two-player perfect-recall .efg files; ours "
            f"(auto) verified an equilibrium on {_solved(reference, 'ours', 'auto')}, exact on "
            f"{exact}, largest float regret {worst:.1e}",
        ]
        largest = sorted(reference, key=lambda r: -sum(r.sequences))[:10]
        rows = []
        for r in largest:
            row = [r.name, str(r.nodes), f"{r.sequences[0]}+{r.sequences[1]}"]
            row += [_ms(r.ours[m]["median_s"]) for m in OURS]
            if settings.gambit:
                row += [_gambit_text(r.gambit.get(m, {})) for m in GAMBIT]
            rows.append(row)
        header = ["largest reference trees, ms", "nodes", "sequences", "ours auto", "ours float"]
        if settings.gambit:
            header += ["Gambit rational", "Gambit float"]
        lines += ["", _table(header, rows)]
    if settings.gambit_note:
        lines.append(settings.gambit_note)
    return "\n".join(lines)


def _cell(median: float | None, solved: str) -> str:
    return "-" if median is None else f"{_ms(median)} ({solved})"


def _gambit_text(answer: dict[str, Any]) -> str:
    if answer.get("status") == "timeout":
        return "> limit"
    if answer.get("median_s") is None:
        return answer.get("status", "-")
    return _ms(answer["median_s"])


# ====================================================================== main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/sequence_form.py",
        description="Time negsim's sequence-form Lemke solver against pygambit's lcp_solve.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="every 10th reference tree, sizes 2x2x1 2x2x2 with 1 tree each, 1 repeat",
    )
    parser.add_argument("--sizes", nargs="+", type=parse_size, metavar="TxAxR")
    parser.add_argument("--games", type=int, help="random trees per size (default 3; quick 1)")
    parser.add_argument("--repeat", type=int, help="timed calls per game (default 5; quick 1)")
    parser.add_argument(
        "--budget", type=float, default=1.0, help="seconds of timed calls per game (default 1)"
    )
    parser.add_argument(
        "--limit", type=float, default=10.0, help="seconds allowed per Gambit call (default 10)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_BASE_SEED, help="base seed")
    parser.add_argument(
        "--references",
        type=Path,
        default=REPO.parent / "shared" / "games",
        help="the reference games folder (default ../shared/games)",
    )
    parser.add_argument("--no-references", dest="use_references", action="store_false")
    parser.add_argument("--no-gambit", dest="gambit", action="store_false")
    parser.add_argument("--progress", action="store_true", help="print each game as it is timed")
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "benchmarks" / "results" / "sequence_form.json",
        help="JSON results (written atomically)",
    )
    settings = parser.parse_args(argv)
    quick = settings.quick
    if settings.sizes is None:
        settings.sizes = [parse_size(s) for s in (QUICK_SIZES if quick else DEFAULT_SIZES)]
    if settings.games is None:
        settings.games = 1 if quick else 3
    if settings.repeat is None:
        settings.repeat = 1 if quick else 5
    settings.gambit_note = "" if settings.gambit else "Gambit: not run (--no-gambit)"
    if settings.gambit and not gambit_available():
        settings.gambit = False
        settings.gambit_note = "Gambit: pygambit is not installed (install the bench extras)"
    return settings


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    facts = machine_facts()
    print(machine_report(facts), flush=True)
    with tempfile.TemporaryDirectory(prefix="negsim-sf-") as scratch_name:
        scratch = Path(scratch_name)
        cases: list[TreeCase] = []
        if settings.use_references:
            found = reference_cases(settings.references, scratch)
            cases += found[::10] if settings.quick else found
            if not found:
                print(f"reference games not found in {settings.references}; skipped")
        cases += random_cases(settings.sizes, settings.games, settings.seed, scratch)
        started = time.perf_counter()
        records = run(settings, cases)
        wall = time.perf_counter() - started
    text = report(records, settings)
    print(text)
    arguments = sys.argv[1:] if argv is None else list(argv)
    command = " ".join(["python benchmarks/sequence_form.py", *arguments])
    print(f"\n(wall time {wall:.0f} s; command: {command})")
    payload = {
        "command": [
            "python",
            "benchmarks/sequence_form.py",
            *(sys.argv[1:] if argv is None else argv),
        ],
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": facts,
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(settings).items()},
        "records": [asdict(r) for r in records],
    }
    _write_atomically(settings.out, json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
