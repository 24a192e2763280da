"""Time sweeps and Monte Carlo runs on 1 and 2 local workers: one command.

    python benchmarks/sweep.py [--quick] [--points N] [--all-points N] [--draws N]
                               [--workers 1 2] [--repeat R] [--seed S]
                               [--cases KEY ...] [--out benchmarks/results/sweep.json]

What is timed (each a full library call, as ``negsim sweep`` / ``negsim
montecarlo`` make it, records kept in memory, no progress bar):

1. **Bargaining sweep, one concept**: :func:`simulator.sweep.sweep` of
   ``scenarios/minerals_us_ukraine.yaml``, game ``split_the_deal``, over
   ``guarantee_cost_us=0:0.5:N`` (``--points``, default 10,000) with
   ``concepts=["nash_bargaining"]``: one bargaining solve per grid point, each
   warm-started from its neighbour. The grid's time (``run.elapsed``) gives the
   points per second; the thresholds' bisection points come after it and are
   reported apart (they start cold).
2. **Bargaining sweep, every concept** of the game (Nash, Kalai-Smorodinsky,
   egalitarian, utilitarian, Rubinstein) over the same range with
   ``--all-points`` points (default 500).
3. **Monte Carlo, bargaining**: :func:`simulator.montecarlo.montecarlo` of the
   same game with ``nash_bargaining``, ``--draws`` draws (default 10,000,
   seeded): every draw a cold solve (draws come in random order).
4. **Monte Carlo, strategic**: ``scenarios/minerals_four_party.yaml``, game
   ``four_party`` (4 actors), ``--draws`` draws, when that scenario has an
   ``uncertain:`` block; otherwise ``minerals_us_ukraine.yaml``'s strategic game
   ``offer_and_response``, and the output says so.

``--cases`` times a subset (keys ``sweep_nash``, ``sweep_all``,
``montecarlo_nash``, ``montecarlo_strategic``; e.g. ``--cases sweep_nash`` for
the target alone). Each case runs with every ``--workers`` count (default 1 and 2; 1 runs in this
process, more in a local process pool, forked when this process has no other
Python thread) ``--repeat`` times (default 1: a 10,000-point run is its own
average); the table shows the median wall time, points per second and the
scaling from the first worker count to each other. Before timing, every case
runs once on a few points (imports, the deal space's Chebyshev-centre LP, the
scenario parse). The start-up of a local pool (first result back from every
worker) is measured apart.

The target of issue 5 is 10,000 bargaining solves in under 10 s on 2 cores:
the output states whether case 1's grid (projected to 10,000 points when
``--points`` differs) met it on 2 workers, and by how much. The machine
(cores, CPU, BLAS, load average before and after) is printed first and stored
in the JSON with every time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make ``benchmarks`` and ``simulator`` importable
    sys.path.insert(0, str(REPO))

from benchmarks.run import (  # noqa: E402
    _load_average,
    _table,
    _write_atomically,
    machine_facts,
    machine_report,
)
from simulator.montecarlo import montecarlo  # noqa: E402
from simulator.runner import Workers  # noqa: E402
from simulator.scenario import load_scenario  # noqa: E402
from simulator.sweep import sweep  # noqa: E402

BILATERAL = REPO / "scenarios" / "minerals_us_ukraine.yaml"
FOUR_PARTY = REPO / "scenarios" / "minerals_four_party.yaml"
SWEPT = "guarantee_cost_us"
SWEPT_RANGE = (0.0, 0.5)
TARGET_SOLVES = 10_000
TARGET_SECONDS = 10.0
TARGET_WORKERS = 2
MIN_PROJECTED = 1000  # fewer grid points: pool start-up and warm-up dominate, no projection
DEFAULT_SEED = 2026
CASE_KEYS = ("sweep_nash", "sweep_all", "montecarlo_nash", "montecarlo_strategic")


@dataclass
class Case:
    """One timed configuration and its measurements (times in seconds)."""

    key: str
    title: str
    kind: str  # "sweep" or "montecarlo"
    scenario: str
    game: str
    concepts: list[str] | None
    points: int
    workers: int
    wall_s: list[float] = field(default_factory=list)
    grid_s: list[float] = field(default_factory=list)  # sweep: the grid alone
    extra_points: int = 0  # sweep: bisection points
    errors: int = 0  # records whose game could not be built or solved
    where: str = ""
    note: str = ""

    @property
    def wall(self) -> float:
        return statistics.median(self.wall_s)

    @property
    def grid(self) -> float:
        return statistics.median(self.grid_s or self.wall_s)

    @property
    def rate(self) -> float:
        """Points per second over the grid (sweep) or the draws (Monte Carlo)."""
        return self.points / self.grid if self.grid > 0 else float("inf")


def strategic_case() -> tuple[Path, str, str]:
    """The strategic Monte Carlo's scenario and game, and a note when it is the fallback."""
    if load_scenario(FOUR_PARTY).uncertain:
        return FOUR_PARTY, "four_party", ""
    return (
        BILATERAL,
        "offer_and_response",
        f"{FOUR_PARTY.name} has no uncertain: block yet; timed "
        f"{BILATERAL.name} offer_and_response (2 actors) instead",
    )


def run_case(case: Case, seed: int) -> None:
    """Run ``case`` once and append its times."""
    started = time.perf_counter()
    if case.kind == "sweep":
        lo, hi = SWEPT_RANGE
        result = sweep(
            case.scenario,
            case.game,
            [f"{SWEPT}={lo}:{hi}:{case.points}"],
            concepts=case.concepts,
            workers=case.workers,
        )
        case.wall_s.append(time.perf_counter() - started)
        case.grid_s.append(result.run.elapsed)
        case.extra_points = result.bisection_points
        case.errors = sum(1 for r in result.records if r["error"] is not None)
        case.where = result.run.where
    else:
        mc = montecarlo(
            case.scenario,
            case.game,
            case.points,
            seed,
            concepts=case.concepts,
            workers=case.workers,
        )
        case.wall_s.append(time.perf_counter() - started)
        case.errors = sum(1 for r in mc.run.all_records() if r["error"] is not None)
        case.where = mc.run.where


def _ping() -> int:
    time.sleep(0.05)  # long enough that both workers take one each
    return os.getpid()


def pool_startup(workers: int) -> float:
    """Seconds from creating a local pool of ``workers`` to a result back from each worker."""
    started = time.perf_counter()
    with Workers(workers) as pool:
        futures = [pool.submit(_ping) for _ in range(workers)]
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - started
    return elapsed


def build_cases(settings: argparse.Namespace) -> list[Case]:
    strategic, strategic_game, note = strategic_case()
    plans: list[tuple[str, str, str, Path, str, list[str] | None, int, str]] = [
        (
            "sweep_nash",
            f"sweep {SWEPT}, nash_bargaining",
            "sweep",
            BILATERAL,
            "split_the_deal",
            ["nash_bargaining"],
            settings.points,
            "",
        ),
        (
            "sweep_all",
            f"sweep {SWEPT}, every concept",
            "sweep",
            BILATERAL,
            "split_the_deal",
            None,
            settings.all_points,
            "",
        ),
        (
            "montecarlo_nash",
            "Monte Carlo, nash_bargaining (cold starts)",
            "montecarlo",
            BILATERAL,
            "split_the_deal",
            ["nash_bargaining"],
            settings.draws,
            "",
        ),
        (
            "montecarlo_strategic",
            f"Monte Carlo, {strategic_game} (strategic)",
            "montecarlo",
            strategic,
            strategic_game,
            None,
            settings.draws,
            note,
        ),
    ]
    return [
        Case(key, title, kind, str(path), game, concepts, n, w, note=text)
        for key, title, kind, path, game, concepts, n, text in plans
        if settings.cases is None or key in settings.cases
        for w in settings.workers
    ]


def warm_up(cases: list[Case], seed: int) -> None:
    """Run each distinct case once on a few points in this process (imports, caches)."""
    seen: set[tuple[str, str, str]] = set()
    for case in cases:
        key = (case.kind, case.scenario, case.game)
        if key in seen:
            continue
        seen.add(key)
        run_case(
            Case(case.key, case.title, case.kind, case.scenario, case.game, case.concepts, 4, 1),
            seed,
        )


def target_verdict(cases: list[Case]) -> dict[str, Any]:
    """Whether 10,000 bargaining solves (case 1's grid) took under 10 s on 2 workers."""
    found = [c for c in cases if c.key == "sweep_nash" and c.workers == TARGET_WORKERS]
    if not found:
        return {"measured": False, "text": f"target not measured (no {TARGET_WORKERS}-worker run)"}
    case = found[0]
    if case.points < MIN_PROJECTED:
        return {
            "measured": False,
            "text": f"target not judged: {case.points} points are too few to project "
            f"{TARGET_SOLVES:,} from (at least {MIN_PROJECTED:,})",
        }
    seconds = TARGET_SOLVES / case.rate
    met = seconds < TARGET_SECONDS
    projected = "" if case.points == TARGET_SOLVES else f" (projected from {case.points} points)"
    if met:
        margin = f"{TARGET_SECONDS / seconds:.2f}x faster than needed"
    else:
        margin = f"{seconds / TARGET_SECONDS:.2f}x too slow"
    text = (
        f"target {TARGET_SOLVES:,} bargaining solves < {TARGET_SECONDS:.0f} s on "
        f"{TARGET_WORKERS} workers: {'MET' if met else 'NOT MET'} - {seconds:.2f} s{projected}, "
        f"{margin}"
    )
    return {"measured": True, "met": met, "seconds": seconds, "text": text}


def report(payload: dict[str, Any], cases: list[Case]) -> str:
    lines = []
    first: dict[str, Case] = {}
    for case in cases:
        first.setdefault(case.key, case)
    header = ["case", "points", "workers", "wall s", "grid s", "points/s", "scaling", "where"]
    rows = []
    for case in cases:
        base = first[case.key]
        scaling = "" if case is base else f"{base.grid / case.grid:.2f}x"
        rows.append(
            [
                case.title,
                f"{case.points:,}",
                str(case.workers),
                f"{case.wall:.2f}",
                f"{case.grid:.2f}",
                f"{case.rate:.0f}",
                scaling,
                case.where,
            ]
        )
    lines.append(_table(header, rows))
    notes = []
    for case in cases:
        if case is first[case.key]:
            if case.kind == "sweep":
                notes.append(
                    f"{case.title}: {case.extra_points} bisection points after the grid "
                    "(in wall s, not in grid s)"
                )
            if case.errors:
                notes.append(f"{case.title}: {case.errors} points recorded an error")
            if case.note:
                notes.append(f"{case.title}: {case.note}")
    startup = payload["pool_startup_s"]
    if startup is not None:
        notes.append(
            f"starting {max(payload['settings']['workers'])} local workers (first result back "
            f"from each): {startup:.2f} s"
        )
    lines += ["", *notes, "", payload["target"]["text"]]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes (what the smoke test runs)"
    )
    parser.add_argument("--points", type=int, default=None, help="sweep grid points (10000)")
    parser.add_argument("--all-points", type=int, default=None, help="every-concept sweep (500)")
    parser.add_argument("--draws", type=int, default=None, help="Monte Carlo draws (10000)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (median)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Monte Carlo seed")
    parser.add_argument(
        "--cases",
        nargs="+",
        choices=CASE_KEYS,
        default=None,
        help="time only these cases (default: all; sweep_nash alone judges the target)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "benchmarks" / "results" / "sweep.json",
        help="where to write the JSON results",
    )
    settings = parser.parse_args(argv)
    small = settings.quick
    settings.points = settings.points or (24 if small else TARGET_SOLVES)
    settings.all_points = settings.all_points or (6 if small else 500)
    settings.draws = settings.draws or (24 if small else 10_000)
    if min(settings.workers) < 1 or settings.repeat < 1:
        parser.error("--workers and --repeat must be at least 1")
    if min(settings.points, settings.all_points, settings.draws) < 2:
        parser.error("--points, --all-points and --draws must be at least 2")
    return settings


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    facts = machine_facts()
    print(machine_report(facts), flush=True)
    started = time.perf_counter()
    cases = build_cases(settings)
    warm_up(cases, settings.seed)
    pooled = [w for w in settings.workers if w > 1]
    startup = pool_startup(max(pooled)) if pooled else None
    for case in cases:
        for _ in range(settings.repeat):
            run_case(case, settings.seed)
        print(
            f"  {case.title}, {case.workers} worker(s): {case.wall:.2f} s, "
            f"{case.rate:.0f} points/s",
            flush=True,
        )
    payload: dict[str, Any] = {
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": ["python", "benchmarks/sweep.py", *(argv if argv is not None else sys.argv[1:])],
        "settings": {
            "points": settings.points,
            "all_points": settings.all_points,
            "draws": settings.draws,
            "workers": settings.workers,
            "repeat": settings.repeat,
            "seed": settings.seed,
            "cases": list(settings.cases or CASE_KEYS),
            "swept": f"{SWEPT}={SWEPT_RANGE[0]}:{SWEPT_RANGE[1]}:N",
        },
        "machine": facts,
        "pool_startup_s": startup,
        "cases": [
            {**asdict(c), "wall_median_s": c.wall, "grid_median_s": c.grid, "points_per_s": c.rate}
            for c in cases
        ],
        "target": target_verdict(cases),
    }
    payload["load_average_1m_after"] = _load_average()
    payload["total_s"] = time.perf_counter() - started
    print("\n" + report(payload, cases))
    print(
        f"load average (1 min): {facts['load_average_1m']} before, "
        f"{payload['load_average_1m_after']} after; total wall time {payload['total_s']:.0f} s"
    )
    _write_atomically(settings.out, json.dumps(payload, indent=1) + "\n")
    print(f"results written to {settings.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
