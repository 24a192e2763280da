"""Time negsim's solvers side by side with nashpy, QuantEcon and Gambit: one command.

    python benchmarks/run.py [--quick] [--sizes 4 6 3x10 ...] [--repeat N] [--games K]
                             [--limit SECONDS] [--peers quantecon,nashpy,pygambit|none]
                             [--seed BASE] [--no-cold] [--out benchmarks/results/latest.json]

Three sections, on seeded random games (``numpy.random.default_rng(seed)``, the
seed of every game printed beside it):

1. two players, all extreme equilibria of an ``n x n`` game: ours (vertex and
   support enumeration) against QuantEcon, nashpy and Gambit's enummixed;
2. n players, all pure equilibria: ours against a single numpy ``max`` pass
   over the payoff tensor (the floor), QuantEcon's ``pure_nash_brute`` and
   Gambit's enumpure;
3. cold start: wall time of fresh processes (``negsim run`` on the flagship
   scenario, ``import nashpy``, ``import quantecon``, ...).

Every library runs in its own worker process (:mod:`benchmarks.worker`) under a
per-call time limit; a call over the limit is stopped and shown as ``> limit``,
and the same solver is not tried on larger games. Medians are of warm calls;
see the worker's docstring for the exact protocol and ``benchmarks/README.md``
for how to read the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(REPO))

from benchmarks.games import DEFAULT_BASE_SEED, Case, parse_size  # noqa: E402
from benchmarks.peers import (  # noqa: E402
    BY_KEY,
    PEER_LIBRARIES,
    REFERENCE_ORDER,
    SOLVERS,
    BenchSolver,
)

DEFAULT_SIZES = ("4", "6", "8", "10", "12", "3x10", "3x20", "3x40", "4x10", "4x20", "4x30")
QUICK_SIZES = ("4", "6", "3x10", "4x10")
FLAGSHIP = Path("scenarios") / "minerals_us_ukraine.yaml"
SECTIONS = {
    "two-player": "Two players, all extreme equilibria of a random n x n game",
    "pure": "n players, all pure equilibria (players x strategies each)",
}


# ====================================================================== results
@dataclass
class Cell:
    """The measurement of one solver on one size (one record of the JSON output).

    Per game (one per seed): the timed samples, their median, the build time and
    the number of equilibria found. ``median_s`` is the median over the games of
    the per-game medians, ``count`` the total over the games.
    """

    section: str
    case: str
    shape: list[int]
    seeds: list[int]
    solver: str
    label: str
    library: str
    # ok, timeout, build-timeout, skipped(-build) after a time-out, not installed, missing, error
    status: str = "ok"
    median_s: float | None = None
    count: int | None = None
    game_medians_s: list[float] = field(default_factory=list)
    game_counts: list[int | None] = field(default_factory=list)
    samples_s: list[list[float]] = field(default_factory=list)
    build_s: list[float] = field(default_factory=list)
    warm_s: float | None = None
    note: str = ""

    @classmethod
    def of(cls, solver: BenchSolver, case: Case, note: str = "") -> Cell:
        return cls(
            case.section,
            case.label,
            list(case.shape),
            list(case.seeds),
            solver.key,
            solver.label,
            solver.library,
            note=note,
        )


# ====================================================================== workers
WORKER_COMMAND = [sys.executable, "-m", "benchmarks.worker"]


class WorkerDied(RuntimeError):
    """The worker process ended without answering (a crash, not a time-out)."""


class Worker:
    """A :mod:`benchmarks.worker` process for one library, read with time-outs."""

    def __init__(self, library: str, log_dir: Path, command: list[str] | None = None) -> None:
        self.library = library
        self.log = open(log_dir / f"worker-{library}.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            command or WORKER_COMMAND,
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        self._pending = b""

    def send(self, request: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        self.process.stdin.flush()

    def event(self, timeout: float) -> dict[str, Any]:
        """The next event, waiting at most ``timeout`` seconds (``TimeoutError`` after)."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                code = self.process.wait()
                raise WorkerDied(f"worker for {self.library} exited with code {code}")
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return json.loads(line)

    def stop(self) -> None:
        """End this worker (the one process this object started)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.log.close()


class Pool:
    """One live worker per library, started on first use and replaced after a kill."""

    def __init__(self, log_dir: Path, command: list[str] | None = None) -> None:
        self.log_dir = log_dir
        self.command = command
        self.workers: dict[str, Worker] = {}

    def get(self, library: str) -> Worker:
        worker = self.workers.get(library)
        if worker is None or worker.process.poll() is not None:
            worker = Worker(library, self.log_dir, self.command)
            self.workers[library] = worker
        return worker

    def kill(self, library: str) -> None:
        worker = self.workers.pop(library, None)
        if worker is not None:
            worker.stop()

    def close(self) -> None:
        for library in list(self.workers):
            self.kill(library)


# Warm-up covers imports and numba's compilation, which can take far longer than a call.
WARM_TIMEOUT = 180.0


def measure(pool: Pool, solver: BenchSolver, case: Case, settings: argparse.Namespace) -> Cell:
    """Time ``solver`` on ``case`` in its library's worker, under the per-call limit."""
    cell = Cell.of(solver, case, solver.note)
    worker = pool.get(solver.library)
    worker.send(
        {
            "solver": solver.key,
            "section": case.section,
            "shape": list(case.shape),
            "seeds": list(case.seeds),
            "repeat": settings.repeat,
            "budget": settings.budget,
            "slow": settings.slow,
        }
    )
    # The worker answers warm, then per game: game, built, run...; then done.
    # The warm-up has a generous limit of its own, every later event the per-call limit.
    stage = "warm"
    games = len(case.seeds)
    samples: list[list[float]] = [[] for _ in range(games)]
    counts: list[int | None] = [None] * games
    try:
        while True:
            event = worker.event(WARM_TIMEOUT if stage == "warm" else settings.limit)
            kind = event["event"]
            if kind == "warm":
                cell.warm_s = event["t"]
            elif kind == "game":
                stage = "build"
            elif kind == "built":
                cell.build_s.append(event["t"])
                stage = "run"
            elif kind == "run":
                counts[event["game"]] = event["count"]
                if event["counted"]:
                    samples[event["game"]].append(event["t"])
            elif kind == "done":
                break
            elif kind == "error":
                cell.status, cell.note = "error", event["message"]
                return cell
    except TimeoutError:
        pool.kill(solver.library)
        cell.status = {"warm": "error", "build": "build-timeout", "run": "timeout"}[stage]
        if stage == "warm":
            cell.note = f"warm-up on a tiny game took over {WARM_TIMEOUT:g} s"
        done = sum(1 for g in samples if g)
        if done:
            cell.note = _join(cell.note, f"{done} of {games} games finished before the time-out")
        cell.samples_s = samples
        return cell
    except WorkerDied as error:
        pool.kill(solver.library)
        cell.status, cell.note = "error", str(error)
        return cell
    cell.samples_s = samples
    cell.game_counts = counts
    cell.game_medians_s = [statistics.median(g) for g in samples]
    cell.median_s = statistics.median(cell.game_medians_s)
    cell.count = None if any(c is None for c in counts) else sum(c for c in counts if c is not None)
    return cell


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def run_sections(
    cases: list[Case], solvers: list[BenchSolver], settings: argparse.Namespace
) -> list[Cell]:
    """Measure every solver on every case of its section, case by case (side by side).

    A solver that exceeds the limit on a game is skipped on every later game with
    at least as many pure profiles: those can only be slower.
    """
    cells: list[Cell] = []
    timed_out_at: dict[str, tuple[Case, str]] = {}
    unavailable = {s.key: s.availability() for s in solvers}
    log_dir = Path(tempfile.mkdtemp(prefix="negsim-bench-"))
    pool = Pool(log_dir)
    try:
        for case in cases:
            for solver in (s for s in solvers if s.section == case.section):
                cell = _measure_or_skip(pool, solver, case, settings, unavailable, timed_out_at)
                cells.append(cell)
                if cell.status in ("timeout", "build-timeout"):
                    timed_out_at[solver.key] = (case, cell.status)
                if settings.verbose:
                    print(
                        f"  {case.label:>6} {solver.label:<32} {_cell_text(cell, None)}",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        pool.close()
    errors = [c for c in cells if c.status == "error"]
    for cell in errors:
        cell.note = _join(cell.note, f"worker logs in {log_dir}")
    if not errors:
        shutil.rmtree(log_dir, ignore_errors=True)
    return cells


def _measure_or_skip(
    pool: Pool,
    solver: BenchSolver,
    case: Case,
    settings: argparse.Namespace,
    unavailable: dict[str, str | None],
    timed_out_at: dict[str, tuple[Case, str]],
) -> Cell:
    reason = unavailable[solver.key]
    earlier, why = timed_out_at.get(solver.key, (None, ""))
    if earlier is not None and case.profiles < earlier.profiles:
        earlier = None
    if reason is None and earlier is None:
        return measure(pool, solver, case, settings)
    cell = Cell.of(solver, case)
    if reason is not None:
        cell.status = "missing" if solver.ours else "not installed"
        cell.note = reason
    else:
        assert earlier is not None
        cell.status = "skipped-build" if why == "build-timeout" else "skipped"
        step = "building the game" if why == "build-timeout" else "a call"
        cell.note = f"{step} exceeded the limit at {earlier.label}, so not run on larger games"
    return cell


# ====================================================================== cold start
def cold_start(settings: argparse.Namespace, peers: set[str]) -> list[dict[str, Any]]:
    """Wall time of fresh processes: the flagship ``negsim run`` and the peers' imports.

    Each command runs once untimed (so that byte-code caches exist, as after any
    install), then ``--cold-repeat`` times; the median is reported.
    """
    python = sys.executable
    commands: list[tuple[str, list[str] | None, str]] = [
        ("python -c pass (interpreter alone)", [python, "-c", "pass"], ""),
        ("python -c 'import numpy'", [python, "-c", "import numpy"], ""),
    ]
    negsim = Path(python).parent / "negsim"
    negsim_path = str(negsim) if negsim.exists() else shutil.which("negsim")
    scenario = REPO / FLAGSHIP
    if negsim_path is None:
        commands.append((f"negsim run {FLAGSHIP}", None, "negsim is not installed"))
    elif not scenario.exists():
        commands.append((f"negsim run {FLAGSHIP}", None, f"{FLAGSHIP} does not exist"))
    else:
        commands.append((f"negsim run {FLAGSHIP}", [negsim_path, "run", str(FLAGSHIP)], ""))
    for library in ("nashpy", "quantecon", "pygambit"):
        name = f"python -c 'import {library}'"
        if library != "nashpy" and library not in peers:
            continue
        if not _installed(library):
            commands.append((name, None, "not installed"))
        else:
            commands.append((name, [python, "-c", f"import {library}"], ""))

    rows: list[dict[str, Any]] = []
    for name, argv, note in commands:
        row: dict[str, Any] = {
            "command": name,
            "status": "ok",
            "median_s": None,
            "samples_s": [],
            "note": note,
        }
        if argv is None:
            row["status"] = "skipped"
            rows.append(row)
            continue
        samples: list[float] = []
        for attempt in range(settings.cold_repeat + 1):
            start = time.perf_counter()
            try:
                done = subprocess.run(
                    argv, cwd=REPO, capture_output=True, timeout=settings.cold_limit, check=False
                )
            except subprocess.TimeoutExpired:
                row["status"], row["note"] = "timeout", f"over {settings.cold_limit:g} s"
                break
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
                row["status"] = "error"
                row["note"] = f"exit code {done.returncode}: {tail[0][:120]}"
                break
            if attempt > 0:
                samples.append(elapsed)
        if samples:
            row["samples_s"] = samples
            row["median_s"] = statistics.median(samples)
        rows.append(row)
    return rows


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# ====================================================================== machine
def machine_facts() -> dict[str, Any]:
    """Cores, CPU, memory, library versions and the BLAS numpy actually loaded."""
    facts: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": _memory_gib(),
        "load_average_1m": _load_average(),
        "versions": {},
        "blas": None,
        "env": {
            k: os.environ.get(k)
            for k in (
                "OPENBLAS_CORETYPE",
                "OPENBLAS_L2_SIZE",
                "OMP_NUM_THREADS",
                "OPENBLAS_NUM_THREADS",
            )
        },
    }
    for dist in ("negsim", "numpy", "scipy", "nashpy", "quantecon", "numba", "pygambit"):
        try:
            facts["versions"][dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            facts["versions"][dist] = None
    try:
        import numpy  # noqa: F401  (load numpy's BLAS so threadpoolctl can see it)
        import scipy.linalg  # noqa: F401
        from threadpoolctl import threadpool_info

        facts["blas"] = [
            {
                k: info.get(k)
                for k in ("internal_api", "version", "architecture", "num_threads", "prefix")
            }
            for info in threadpool_info()
        ]
    except ImportError:
        facts["blas"] = "threadpoolctl not installed"
    facts["git_commit"] = _git_commit()
    return facts


def _load_average() -> float | None:
    """The 1-minute load average when the run starts: other work skews every time."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


# ====================================================================== formatting
def _ms(seconds: float) -> str:
    ms = seconds * 1000
    if ms < 1:
        return f"{ms:.3f}"
    if ms < 10:
        return f"{ms:.2f}"
    if ms < 100:
        return f"{ms:.1f}"
    return f"{ms:.0f}"


def _cell_text(cell: Cell | None, reference: list[int | None] | None) -> str:
    """``median ms (total count)``, with ``!`` when a game's count differs from the reference."""
    if cell is None:
        return ""
    if cell.status == "ok" and cell.median_s is not None:
        text = _ms(cell.median_s)
        if cell.count is not None:
            mark = "!" if _differs(cell, reference) else ""
            text += f" ({cell.count}{mark})"
        return text
    return STATUS_TEXT.get(cell.status, cell.status)


STATUS_TEXT = {
    "timeout": "> limit",
    "skipped": "> limit",
    "build-timeout": "build > limit",
    "skipped-build": "build > limit",
    "not installed": "not installed",
    "missing": "missing",
}


def _differs(cell: Cell, reference: list[int | None] | None) -> bool:
    return reference is not None and cell.count is not None and cell.game_counts != reference


def _build_text(cell: Cell | None) -> str:
    """Median build time over the games, or why there is none."""
    if cell is None:
        return ""
    if cell.build_s:  # also when a later call timed out: the builds that finished
        return _ms(statistics.median(cell.build_s))
    return {"build-timeout": "> limit", "skipped-build": "> limit"}.get(
        cell.status, "-" if cell.status in ("timeout", "skipped") else _cell_text(cell, None)
    )


def _ratio_text(ours: Cell | None, theirs: Cell | None, limit: float) -> str:
    """``their time / our time`` in words; a lower bound when the peer hit the limit."""
    if ours is None or theirs is None or ours.median_s is None or ours.status != "ok":
        return "-"
    if theirs.status in ("timeout", "skipped"):
        return f"> {limit / ours.median_s:.0f}x faster"
    if theirs.status in ("build-timeout", "skipped-build"):
        return "(build > limit)"
    if theirs.status != "ok" or theirs.median_s is None:
        return "-"
    ratio = theirs.median_s / ours.median_s
    if ratio >= 1:
        return f"{_number(ratio)}x faster"
    return f"{_number(1 / ratio)}x slower"


def _number(x: float) -> str:
    return f"{x:.0f}" if x >= 100 else f"{x:.3g}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    lines = []
    for k, row in enumerate([header, *rows]):
        first = row[0].ljust(widths[0])
        rest = [cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join([first, *rest]).rstrip())
        if k == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def reference_counts(cells: list[Cell], section: str) -> dict[str, tuple[str, list[int | None]]]:
    """Per size, the per-game counts of the most trusted solver that finished.

    Trust follows ``REFERENCE_ORDER``: Gambit's enumerations, then ours.
    """
    found: dict[str, tuple[str, list[int | None]]] = {}
    by = {(c.case, c.solver): c for c in cells if c.section == section}
    for case in dict.fromkeys(c.case for c in cells if c.section == section):
        for key in REFERENCE_ORDER[section]:
            cell = by.get((case, key))
            if cell is not None and cell.status == "ok" and cell.count is not None:
                found[case] = (key, cell.game_counts)
                break
    return found


def section_report(
    section: str, cells: list[Cell], solvers: list[BenchSolver], limit: float
) -> str:
    """The timing table and the ratio table of one section, as plain text."""
    mine = [c for c in cells if c.section == section]
    if not mine:
        return ""
    cases = list(dict.fromkeys(c.case for c in mine))
    seeds = {c.case: c.seeds for c in mine}
    by = {(c.case, c.solver): c for c in mine}
    refs = reference_counts(cells, section)
    section_solvers = [s for s in solvers if s.section == section]
    games = max(len(seeds[c]) for c in cases)

    out = [f"== {SECTIONS[section]}", ""]
    if games > 1:
        out.append(
            f"{games} games per size, seeds s, s + 100000, s + 200000, ...; a time is the "
            "median over the games of each game's median; counts are summed over the games"
        )
    header = ["median ms of warm calls (equilibria found)", *cases]
    rows = [["seed s of the first game", *[str(seeds[c][0]) for c in cases]]]
    for solver in section_solvers:
        texts = [_cell_text(by.get((c, solver.key)), refs.get(c, ("", None))[1]) for c in cases]
        rows.append([solver.label, *texts])
    for solver in section_solvers:
        if solver.show_build:
            owner = solver.label.split()[0]
            texts = [_build_text(by.get((c, solver.key))) for c in cases]
            rows.append([f"  {owner}: build the game (not in the times above)", *texts])
    out.append(_table(header, rows))
    for cell in mine:
        reference = refs.get(cell.case)
        if reference is None or cell.status != "ok" or not _differs(cell, reference[1]):
            continue
        for seed, got, expected in zip(cell.seeds, cell.game_counts, reference[1], strict=True):
            if got != expected:
                out.append(
                    f"  ! {cell.label} at {cell.case} found {got} of the {expected} equilibria "
                    f"{BY_KEY[reference[0]].label} found (seed {seed})"
                )

    ours = [s for s in section_solvers if s.ours]
    others = [s for s in section_solvers if not s.ours]
    rows = []
    for our in ours:
        for other in others:
            ratios = [
                _ratio_text(by.get((c, our.key)), by.get((c, other.key)), limit) for c in cases
            ]
            if any(r != "-" for r in ratios):
                rows.append([f"{our.label} vs {other.label}", *ratios])
    if rows:
        out.extend(["", _table(["ratio: their time / our time", *cases], rows)])
    quiet = ("skipped", "skipped-build", "not installed")
    notes = sorted({f"{c.label}: {c.note}" for c in mine if c.note and c.status not in quiet})
    if notes:
        out.append("")
        out.extend(f"  note: {n}" for n in notes)
    return "\n".join(out)


def cold_report(rows: list[dict[str, Any]]) -> str:
    table_rows = []
    for row in rows:
        value = f"{row['median_s']:.2f}" if row["median_s"] is not None else row["status"]
        table_rows.append([row["command"], value, str(len(row["samples_s"])), row["note"]])
    header = ["== Cold start: wall time of a fresh process", "median s", "runs", "note"]
    widths = [max(len(r[k]) for r in [header, *table_rows]) for k in range(3)]
    lines = []
    for k, r in enumerate([header, *table_rows]):
        lines.append(
            f"{r[0].ljust(widths[0])}  {r[1].rjust(widths[1])}  "
            f"{r[2].rjust(widths[2])}  {r[3]}".rstrip()
        )
        if k == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def machine_report(facts: dict[str, Any]) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in facts["versions"].items() if v) or "-"
    missing = [k for k, v in facts["versions"].items() if not v]
    blas = facts["blas"]
    if isinstance(blas, list):
        blas_text = (
            "; ".join(
                f"{b['internal_api']} {b['version']} ({b['architecture']}, "
                f"{b['num_threads']} threads, {b['prefix']})"
                for b in blas
            )
            or "none loaded"
        )
    else:
        blas_text = str(blas)
    env = ", ".join(f"{k}={v}" for k, v in facts["env"].items() if v is not None) or "none set"
    lines = [
        f"machine: {facts['cpu']}, {facts['cores_usable']} usable cores "
        f"({facts['cores_logical']} logical), {facts['memory_gib']} GiB; {facts['platform']}",
        f"python {facts['python']}; {versions}"
        + (f"; not installed: {', '.join(missing)}" if missing else ""),
        f"BLAS: {blas_text}",
        f"BLAS environment: {env}",
    ]
    if facts["env"].get("OPENBLAS_CORETYPE") or facts["env"].get("OPENBLAS_L2_SIZE"):
        lines.append(
            "  note: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set, which slows a current "
            "numpy; see benchmarks/README.md before comparing numbers across machines"
        )
    load = facts.get("load_average_1m")
    if load is not None:
        lines.append(f"load average (1 min) at the start: {load:.2f}")
        if load > 0.5:
            lines.append(
                "  warning: the machine was busy when this run started; other processes "
                "inflate absolute times (side-by-side ratios suffer less)"
            )
    if facts.get("git_commit"):
        lines.append(f"negsim commit: {facts['git_commit']}")
    return "\n".join(lines)


# ====================================================================== main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py",
        description="Time negsim's solvers side by side with nashpy, QuantEcon and Gambit.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"small sizes ({' '.join(QUICK_SIZES)}), 3 repeats, short budget",
    )
    parser.add_argument(
        "--sizes",
        nargs="+",
        metavar="SIZE",
        help="N for a 2-player NxN game, PxM for P players with M strategies "
        f"(default: {' '.join(DEFAULT_SIZES)})",
    )
    parser.add_argument("--repeat", type=int, help="timed calls per game (default 7; quick 3)")
    parser.add_argument(
        "--budget",
        type=float,
        help="seconds of timed calls per solver and game before stopping "
        "early, at least one call (default 2; quick 0.5)",
    )
    parser.add_argument(
        "--limit",
        type=float,
        default=10.0,
        help="per-call time limit in seconds for every solver (default 10)",
    )
    parser.add_argument(
        "--slow",
        type=float,
        default=1.0,
        help="a warm-up call at least this long (s) counts as a sample",
    )
    parser.add_argument(
        "--peers",
        default=",".join(PEER_LIBRARIES),
        help="comma-separated peer libraries to time, or 'none' "
        f"(default: {','.join(PEER_LIBRARIES)})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_BASE_SEED,
        help="base seed; game g's seed is base + 1000*players + strategies + 100000*g",
    )
    parser.add_argument(
        "--games",
        type=int,
        help="random games per 2-player size (default 3; quick 1): equilibrium counts, and so "
        "times, vary from game to game",
    )
    parser.add_argument(
        "--pure-games",
        type=int,
        default=1,
        help="random games per n-player size (default 1: the time depends on the size alone)",
    )
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-start section")
    parser.add_argument("--cold-repeat", type=int, help="timed runs per command (default 3)")
    parser.add_argument(
        "--cold-limit",
        type=float,
        default=60.0,
        help="time limit of one cold-start command in seconds (default 60)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "benchmarks" / "results" / "latest.json",
        help="where to write the JSON results",
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="JSON",
        help="print the report of an earlier run from its JSON, measuring nothing",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print each measurement to stderr as it is taken",
    )
    args = parser.parse_args(argv)
    args.repeat = args.repeat or (3 if args.quick else 7)
    args.budget = args.budget if args.budget is not None else (0.5 if args.quick else 2.0)
    args.cold_repeat = args.cold_repeat or (1 if args.quick else 3)
    args.games = args.games or (1 if args.quick else 3)
    if args.games < 1 or args.pure_games < 1 or args.repeat < 1:
        parser.error("--games, --pure-games and --repeat must be at least 1")
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    try:
        args.cases = sorted(
            (parse_size(s, args.seed, args.games, args.pure_games) for s in sizes),
            key=lambda c: (c.section != "two-player", c.profiles, len(c.shape)),
        )
    except ValueError as error:
        parser.error(str(error))
    peers = {p.strip() for p in args.peers.split(",") if p.strip()} - {"none"}
    unknown = peers - set(PEER_LIBRARIES)
    if unknown:
        parser.error(f"unknown peers {sorted(unknown)}; choose from {', '.join(PEER_LIBRARIES)}")
    args.peer_set = peers
    return args


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    if settings.report is not None:
        print(report_from_json(json.loads(settings.report.read_text())))
        return 0
    solvers = [
        s for s in SOLVERS if s.library in ("negsim", "numpy") or s.library in settings.peer_set
    ]
    facts = machine_facts()
    record = {
        "limit_s": settings.limit,
        "repeat": settings.repeat,
        "budget_s": settings.budget,
        "slow_s": settings.slow,
        "base_seed": settings.seed,
        "games": settings.games,
        "pure_games": settings.pure_games,
        "peers": sorted(settings.peer_set),
        "cold_repeat": settings.cold_repeat,
    }
    started = time.perf_counter()
    print(machine_report(facts))
    print(settings_report(record), flush=True)

    cells = run_sections(settings.cases, solvers, settings)
    for section in SECTIONS:
        text = section_report(section, cells, solvers, settings.limit)
        if text:
            print(f"\n{text}", flush=True)

    cold: list[dict[str, Any]] = []
    if not settings.no_cold:
        cold = cold_start(settings, settings.peer_set)
        print(f"\n{cold_report(cold)}")
    total = time.perf_counter() - started
    print(f"\ntotal wall time {total:.0f} s")

    payload = {
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": ["python", "benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])],
        "settings": record,
        "machine": facts,
        "cases": [
            {"section": c.section, "case": c.label, "shape": list(c.shape), "seeds": list(c.seeds)}
            for c in settings.cases
        ],
        "results": [asdict(c) for c in cells],
        "cold_start": cold,
        "total_s": total,
    }
    _write_atomically(settings.out, json.dumps(payload, indent=1) + "\n")
    print(f"results written to {settings.out}")
    return 0


def settings_report(record: dict[str, Any]) -> str:
    """The settings and the reading conventions, printed above the tables."""
    return (
        f"settings: limit {record['limit_s']:g} s per call; up to {record['repeat']} warm calls "
        f"or {record['budget_s']:g} s per solver and game; base seed {record['base_seed']} "
        "(game g's seed = base + 1000*players + strategies + 100000*g, numpy default_rng); "
        f"{record['games']} game(s) per 2-player size, {record['pure_games']} per n-player size\n"
        "ratio convention: their time / our time; '3.2x faster' means ours takes 1/3.2 of "
        "their time. '> limit': a call exceeded the limit (or did at a smaller size), so "
        "the ratio is a lower bound. Ours and Gambit's times are of the solve alone; "
        "building the game is its own row."
    )


def report_from_json(payload: dict[str, Any]) -> str:
    """The whole printed report again, from the JSON a run wrote (``--report``)."""
    cells = [Cell(**record) for record in payload["results"]]
    present = {c.solver for c in cells}
    solvers = [s for s in SOLVERS if s.key in present]
    parts = [
        f"(from {payload['generated']}: {' '.join(payload['command'])})",
        machine_report(payload["machine"]),
        settings_report(payload["settings"]),
    ]
    for section in SECTIONS:
        text = section_report(section, cells, solvers, payload["settings"]["limit_s"])
        if text:
            parts.append(f"\n{text}")
    if payload["cold_start"]:
        parts.append(f"\n{cold_report(payload['cold_start'])}")
    parts.append(f"\ntotal wall time {payload['total_s']:.0f} s")
    return "\n".join(parts)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w") as stream:
        stream.write(text)
    os.replace(temporary, path)


if __name__ == "__main__":
    sys.exit(main())
