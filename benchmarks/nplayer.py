"""One mixed equilibrium of random 3- and 4-player games: negsim against Gambit, side by side.

    python benchmarks/nplayer.py [--quick] [--sizes 3x2 3x3 ...] [--games K] [--repeat N]
                                 [--limit SECONDS] [--peers pygambit|none] [--seed BASE]
                                 [--out benchmarks/results/nplayer.json]

Games. ``PxM`` is ``P`` players with ``M`` strategies each; game ``g`` of a size
has the seed ``base + 1000 * P + M + 100000 * g`` (base 2026, as in
:mod:`benchmarks.games`) and the payoffs ``default_rng(seed).random((P, M, ..., M))``
in negsim's orientation, uniform on [0, 1): generic games, where every method
is meant to work. Default sizes 3x2, 3x3, 3x4, 4x2, 4x3, 4x4, 5 games each.

Methods, each in its own worker process (one per library, under a per-call
time limit, as in :mod:`benchmarks.run`; the protocol is that of
:mod:`benchmarks.worker`, plus a ``found`` event with what each game's last
call returned):

* ours: ``logit`` (:mod:`simulator.solvers.logit_qre`, the limit of the logit
  QRE principal branch, polished and verified) and, when
  :mod:`simulator.solvers.nplayer_support` exists, ``support-enumeration-n``
  stopped at its first equilibrium and run to the end (every equilibrium it
  finds);
* Gambit: ``pygambit.nash.logit_solve`` and ``pygambit.nash.gnm_solve``.

Each call's time is the solve alone (building the game is timed apart and not
shown in the ratios). For every game, the *relative regret* of what a method
returned, ``max_i regret_i / (max payoff - min payoff)``, is computed outside
the timed region with :func:`simulator.equilibrium.regrets`, so every method is
judged by one yardstick; the table shows the worst over a size's games, and a
method that returned no equilibrium on a game is counted as such.

The target (issue 3): one equilibrium of a random 3- or 4-player game with 2-4
strategies each no slower than Gambit's ``logit_solve``, at a relative regret
of at most 1e-9. The last lines say, per size, whether ours met it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make ``benchmarks`` and ``simulator`` importable
    sys.path.insert(0, str(REPO))

from benchmarks.games import DEFAULT_BASE_SEED, case_seed  # noqa: E402
from benchmarks.run import (  # noqa: E402
    WARM_TIMEOUT,
    Pool,
    WorkerDied,
    _ms,
    _number,
    _table,
    _write_atomically,
    machine_facts,
    machine_report,
)
from benchmarks.worker import _send, _timed, serve_requests  # noqa: E402

DEFAULT_SIZES = ("3x2", "3x3", "3x4", "4x2", "4x3", "4x4")
QUICK_SIZES = ("3x2", "4x2")
TARGET_REGRET = 1e-9
WORKER_COMMAND = [sys.executable, "-m", "benchmarks.nplayer", "--worker"]
PEERS = ("pygambit",)


# ====================================================================== methods
Profiles = list[list[np.ndarray]]


@dataclass(frozen=True)
class Method:
    """One timed method: how to build its game, solve it, and read the equilibria found."""

    key: str
    label: str
    library: str  # "negsim" or "pygambit": one worker process each
    module: str  # must be importable for the method to run
    build: Callable[[np.ndarray], Any]
    solve: Callable[[Any], Any]
    profiles: Callable[[Any], Profiles]  # the answer's equilibria, outside the timing
    ours: bool = False
    note: str = ""

    def availability(self) -> str | None:
        """``None`` when the method can run, else why not."""
        try:
            found = importlib.util.find_spec(self.module) is not None
        except ImportError:
            found = False
        if found:
            return None
        return "missing" if self.ours else "not installed"


def _build_ours(payoffs: np.ndarray) -> Any:
    from simulator.game import StrategicGame

    return StrategicGame.from_payoffs(payoffs)


def _ours_logit(game: Any) -> Any:
    from simulator.solvers.logit_qre import logit

    return logit(game)


def _ours_support(first_only: bool) -> Callable[[Any], Any]:
    def solve(game: Any) -> Any:
        from simulator.solvers.nplayer_support import nplayer_support

        return nplayer_support(game, max_equilibria=1 if first_only else None)

    return solve


def _result_profiles(result: Any) -> Profiles:
    return [list(eq.strategies) for eq in result.equilibria]


def _build_gambit(payoffs: np.ndarray) -> Any:
    import pygambit

    return pygambit.Game.from_arrays(*[payoffs[i] for i in range(payoffs.shape[0])])


def _gambit_logit(game: Any) -> Any:
    import pygambit

    return pygambit.nash.logit_solve(game)


def _gambit_gnm(game: Any) -> Any:
    import pygambit

    return pygambit.nash.gnm_solve(game)


def _gambit_profiles(result: Any) -> Profiles:
    game = result.game
    return [
        [np.array([float(eq[s]) for s in player.strategies]) for player in game.players]
        for eq in result.equilibria
    ]


METHODS: tuple[Method, ...] = (
    Method(
        "ours-logit",
        "ours logit",
        "negsim",
        "simulator.solvers.logit_qre",
        _build_ours,
        _ours_logit,
        _result_profiles,
        ours=True,
        note="the logit QRE limit, Newton-polished and verified (one equilibrium)",
    ),
    Method(
        "ours-support-first",
        "ours support-enumeration-n, first",
        "negsim",
        "simulator.solvers.nplayer_support",
        _build_ours,
        _ours_support(first_only=True),
        _result_profiles,
        ours=True,
        note="max_equilibria=1: stops at its first equilibrium",
    ),
    Method(
        "ours-support-all",
        "ours support-enumeration-n, all",
        "negsim",
        "simulator.solvers.nplayer_support",
        _build_ours,
        _ours_support(first_only=False),
        _result_profiles,
        ours=True,
        note="every equilibrium it finds (count in parentheses)",
    ),
    Method(
        "gambit-logit",
        "gambit logit_solve",
        "pygambit",
        "pygambit",
        _build_gambit,
        _gambit_logit,
        _gambit_profiles,
        note="default options (maxregret 1e-8 of the payoff spread)",
    ),
    Method(
        "gambit-gnm",
        "gambit gnm_solve",
        "pygambit",
        "pygambit",
        _build_gambit,
        _gambit_gnm,
        _gambit_profiles,
        note="global Newton method, default options",
    ),
)
BY_KEY = {m.key: m for m in METHODS}

# Ratio rows: (ours, theirs).
COMPARISONS = (
    ("ours-logit", "gambit-logit"),
    ("ours-logit", "gambit-gnm"),
    ("ours-support-first", "gambit-logit"),
    ("ours-support-first", "gambit-gnm"),
    ("ours-support-all", "gambit-gnm"),
)


# ====================================================================== sizes
@dataclass(frozen=True)
class Size:
    """``players`` players with ``strategies`` each, and the seeds of its games."""

    players: int
    strategies: int
    seeds: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"{self.players}x{self.strategies}"

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.strategies,) * self.players

    def payoffs(self, game: int) -> np.ndarray:
        """Game ``game``'s payoffs, shape ``(P, M, ..., M)``, from its seed."""
        rng = np.random.default_rng(self.seeds[game])
        return rng.random((self.players, *self.shape))


def parse_size(text: str, base_seed: int, games: int) -> Size:
    """``"3x4"``: 3 players with 4 strategies each (``ValueError`` otherwise)."""
    try:
        players, strategies = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size {text!r}: expected PxM (players x strategies), e.g. 3x4") from None
    if players < 2 or strategies < 1:
        raise ValueError(f"size {text!r}: need at least 2 players and 1 strategy each")
    seeds = tuple(case_seed(base_seed, players, strategies, g) for g in range(games))
    return Size(players, strategies, seeds)


def relative_regret(payoffs: np.ndarray, profile: list[np.ndarray]) -> float:
    """``max_i regret_i / (max - min payoff)`` of ``profile`` (negsim's regret function)."""
    from simulator.equilibrium import regrets
    from simulator.game import StrategicGame

    spread = float(np.ptp(payoffs)) or 1.0
    return float(regrets(StrategicGame.from_payoffs(payoffs), profile).max()) / spread


# ====================================================================== worker
def serve() -> None:
    """Answer timing requests on stdin, one JSON line each (see :mod:`benchmarks.worker`).

    A request names a method, a size's shape and seeds, and the timing settings;
    the answer is ``warm``, then per game ``game``, ``built``, one ``run`` per
    call and ``found`` (equilibria returned by the last call and their worst
    relative regret), then ``done`` or ``error``.
    """
    serve_requests(_serve_request)


def _serve_request(request: dict[str, Any], warmed: set[str], channel: TextIO) -> None:
    method = BY_KEY[request["method"]]
    warm_time = 0.0
    if method.key not in warmed:
        tiny = np.random.default_rng(0).random((3, 2, 2, 2))
        warm_time, _ = _timed(lambda payoffs: method.solve(method.build(payoffs)), tiny)
        warmed.add(method.key)
    _send(channel, event="warm", t=warm_time)
    size = Size(int(request["players"]), int(request["strategies"]), tuple(request["seeds"]))
    repeat, budget, slow = int(request["repeat"]), float(request["budget"]), float(request["slow"])
    for game in range(len(size.seeds)):
        _send(channel, event="game", game=game)
        payoffs = size.payoffs(game)
        build_time, built = _timed(method.build, payoffs)
        _send(channel, event="built", game=game, t=build_time)
        first, answer = _timed(method.solve, built)
        samples = 1 if first >= slow else 0
        _send(channel, event="run", game=game, t=first, counted=bool(samples))
        spent = first
        last = first
        while samples < repeat and not (samples and spent + last > budget):
            last, answer = _timed(method.solve, built)
            samples += 1
            spent += last
            _send(channel, event="run", game=game, t=last, counted=True)
        found = method.profiles(answer)
        worst = max((relative_regret(payoffs, p) for p in found), default=None)
        _send(channel, event="found", game=game, count=len(found), regret=worst)
    _send(channel, event="done")


# ====================================================================== parent
@dataclass
class Cell:
    """One method on one size (one record of the JSON output)."""

    method: str
    label: str
    size: str
    seeds: list[int]
    status: str = "ok"  # ok, timeout, build-timeout, error, missing, not installed
    median_s: float | None = None
    game_medians_s: list[float] = field(default_factory=list)
    samples_s: list[list[float]] = field(default_factory=list)
    build_s: list[float] = field(default_factory=list)
    counts: list[int | None] = field(default_factory=list)
    regrets: list[float | None] = field(default_factory=list)
    warm_s: float | None = None
    note: str = ""

    @property
    def solved(self) -> int:
        """Games on which at least one equilibrium came back."""
        return sum(1 for c in self.counts if c)

    @property
    def worst_regret(self) -> float | None:
        found = [r for r in self.regrets if r is not None]
        return max(found) if found else None


def measure(pool: Pool, method: Method, size: Size, settings: argparse.Namespace) -> Cell:
    """Time ``method`` on every game of ``size`` in its library's worker, under the limit."""
    cell = Cell(method.key, method.label, size.label, list(size.seeds))
    games = len(size.seeds)
    samples: list[list[float]] = [[] for _ in range(games)]
    cell.counts = [None] * games
    cell.regrets = [None] * games
    worker = pool.get(method.library)
    worker.send(
        {
            "method": method.key,
            "players": size.players,
            "strategies": size.strategies,
            "seeds": list(size.seeds),
            "repeat": settings.repeat,
            "budget": settings.budget,
            "slow": settings.slow,
        }
    )
    stage = "warm"
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
            elif kind == "run" and event["counted"]:
                samples[event["game"]].append(event["t"])
            elif kind == "found":
                cell.counts[event["game"]] = event["count"]
                cell.regrets[event["game"]] = event["regret"]
            elif kind == "done":
                break
            elif kind == "error":
                cell.status, cell.note = "error", event["message"]
                return cell
    except TimeoutError:
        pool.kill(method.library)
        cell.status = {"warm": "error", "build": "build-timeout", "run": "timeout"}[stage]
        cell.note = f"a call exceeded {settings.limit:g} s" if stage == "run" else ""
        cell.samples_s = samples
        return cell
    except WorkerDied as error:
        pool.kill(method.library)
        cell.status, cell.note = "error", str(error)
        return cell
    cell.samples_s = samples
    cell.game_medians_s = [statistics.median(g) for g in samples]
    cell.median_s = statistics.median(cell.game_medians_s)
    return cell


def run_all(sizes: list[Size], methods: list[Method], settings: argparse.Namespace) -> list[Cell]:
    """Every method on every size, size by size (side by side); a method that hits the
    limit is not run on larger sizes."""
    cells: list[Cell] = []
    unavailable = {m.key: m.availability() for m in methods}
    timed_out: set[str] = set()
    log_dir = Path(tempfile.mkdtemp(prefix="negsim-nplayer-"))
    pool = Pool(log_dir, command=WORKER_COMMAND)
    try:
        for size in sizes:
            for method in methods:
                reason = unavailable[method.key]
                if reason is not None or method.key in timed_out:
                    cell = Cell(method.key, method.label, size.label, list(size.seeds))
                    cell.status = reason or "skipped"
                    if reason is None:
                        cell.note = "exceeded the limit on a smaller size"
                    cells.append(cell)
                    continue
                cell = measure(pool, method, size, settings)
                if cell.status in ("timeout", "build-timeout"):
                    timed_out.add(method.key)
                cells.append(cell)
                if settings.verbose:
                    print(
                        f"  {size.label:>4} {method.label:<36} {_time_text(cell)}", file=sys.stderr
                    )
    finally:
        pool.close()
    return cells


# ====================================================================== report
STATUS_TEXT = {"timeout": "> limit", "skipped": "> limit", "build-timeout": "build > limit"}


def _time_text(cell: Cell | None) -> str:
    if cell is None:
        return ""
    if cell.status != "ok" or cell.median_s is None:
        return STATUS_TEXT.get(cell.status, cell.status)
    games = len(cell.counts)
    text = f"{_ms(cell.median_s)} ({cell.solved}/{games})"
    if cell.method == "ours-support-all" or cell.method == "gambit-gnm":
        text = f"{_ms(cell.median_s)} ({sum(c or 0 for c in cell.counts)} in {cell.solved}/{games})"
    return text


def _regret_text(cell: Cell | None) -> str:
    if cell is None or cell.status != "ok":
        return "-"
    worst = cell.worst_regret
    if worst is None:
        return "none found"
    mark = "" if worst <= TARGET_REGRET else " *"
    return f"{worst:.1e}{mark}"


def _ratio_text(ours: Cell | None, theirs: Cell | None, limit: float) -> str:
    """``ours / theirs`` as a number, and in the house words (their time / our time)."""
    if ours is None or theirs is None or ours.status != "ok" or ours.median_s is None:
        return "-"
    if theirs.status in ("timeout", "skipped"):
        return f"< {ours.median_s / limit:.3g} (> {limit / ours.median_s:.0f}x faster)"
    if theirs.status != "ok" or theirs.median_s is None:
        return "-"
    ratio = ours.median_s / theirs.median_s
    words = f"{_number(1 / ratio)}x faster" if ratio <= 1 else f"{_number(ratio)}x slower"
    return f"{ratio:.3g} ({words})"


def report(payload: dict[str, Any]) -> str:
    """The printed tables, from the JSON payload (so ``--report`` can print them again)."""
    cells = [Cell(**c) for c in payload["results"]]
    sizes = list(dict.fromkeys(c.size for c in cells))
    by = {(c.size, c.method): c for c in cells}
    methods = [m for m in METHODS if any(c.method == m.key for c in cells)]
    games = payload["settings"]["games"]
    seeds = {c.size: c.seeds for c in cells}
    limit = payload["settings"]["limit_s"]
    out = [
        "== One mixed equilibrium of random n-player games (players x strategies each)",
        "",
        f"{games} game(s) per size, seeds s, s + 100000, ...; a time is the median over "
        "the games of each game's median; (k/g): games on which an equilibrium came back; "
        "(e in k/g): equilibria found in total",
    ]
    header = ["median ms of warm calls", *sizes]
    rows = [["seed s of the first game", *[str(seeds[s][0]) for s in sizes]]]
    rows += [[m.label, *[_time_text(by.get((s, m.key))) for s in sizes]] for m in methods]
    builds = []
    for owner, key in (("ours", "ours-logit"), ("gambit", "gambit-logit")):
        texts = []
        for s in sizes:
            cell = by.get((s, key))
            texts.append(_ms(statistics.median(cell.build_s)) if cell and cell.build_s else "-")
        if any(t != "-" for t in texts):
            builds.append([f"  {owner}: build the game (not in the times above)", *texts])
    out.append(_table(header, rows + builds))
    out.append("")
    regret_rows = [[m.label, *[_regret_text(by.get((s, m.key))) for s in sizes]] for m in methods]
    out.append(
        _table(["worst relative regret (max_i regret_i / payoff spread)", *sizes], regret_rows)
    )
    out.append(f"  * above the target {TARGET_REGRET:g}")
    ratio_rows = []
    for ours, theirs in COMPARISONS:
        if ours not in {m.key for m in methods} or theirs not in {m.key for m in methods}:
            continue
        texts = [_ratio_text(by.get((s, ours)), by.get((s, theirs)), limit) for s in sizes]
        if any(t != "-" for t in texts):
            ratio_rows.append([f"{BY_KEY[ours].label} vs {BY_KEY[theirs].label}", *texts])
    if ratio_rows:
        out.extend(["", _table(["ratio: our time / their time", *sizes], ratio_rows)])
    target = target_lines(by, sizes)
    if target:
        out.extend(["", *target])
    notes = sorted({f"{c.label}: {c.note}" for c in cells if c.note and c.status != "skipped"})
    notes += [f"{m.label}: {m.note}" for m in methods if m.note]
    if notes:
        out.append("")
        out.extend(f"  note: {n}" for n in dict.fromkeys(notes))
    return "\n".join(out)


def target_lines(by: dict[tuple[str, str], Cell], sizes: list[str]) -> list[str]:
    """Per size: ours logit no slower than Gambit's logit_solve, at regret <= 1e-9?"""
    lines = []
    for size in sizes:
        ours, theirs = by.get((size, "ours-logit")), by.get((size, "gambit-logit"))
        if ours is None or theirs is None or ours.median_s is None or theirs.median_s is None:
            continue
        worst = ours.worst_regret
        fast = ours.median_s <= theirs.median_s
        accurate = worst is not None and worst <= TARGET_REGRET and ours.solved == len(ours.counts)
        verdict = "MET" if fast and accurate else "NOT MET"
        lines.append(
            f"target at {size}: ours logit {_ms(ours.median_s)} ms vs gambit logit_solve "
            f"{_ms(theirs.median_s)} ms, worst regret {worst if worst is None else f'{worst:.1e}'}"
            f" (<= {TARGET_REGRET:g}), {ours.solved}/{len(ours.counts)} solved: {verdict}"
        )
    return lines


# ====================================================================== main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/nplayer.py",
        description="One mixed equilibrium of random 3- and 4-player games: negsim vs Gambit.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"sizes {' '.join(QUICK_SIZES)}, 2 games, 3 repeats, 0.5 s budget",
    )
    parser.add_argument("--sizes", nargs="+", metavar="PxM", help="players x strategies each")
    parser.add_argument("--games", type=int, help="random games per size (default 5; quick 2)")
    parser.add_argument("--repeat", type=int, help="timed calls per game (default 7; quick 3)")
    parser.add_argument(
        "--budget", type=float, help="seconds of timed calls per method and game (default 2)"
    )
    parser.add_argument(
        "--limit", type=float, default=10.0, help="per-call time limit in seconds (default 10)"
    )
    parser.add_argument(
        "--slow", type=float, default=1.0, help="a warm-up call this long (s) counts as a sample"
    )
    parser.add_argument(
        "--peers", default=",".join(PEERS), help="pygambit (default) or none: ours always run"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_BASE_SEED, help="base seed")
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "benchmarks" / "results" / "nplayer.json",
        help="where to write the JSON results",
    )
    parser.add_argument("--report", type=Path, metavar="JSON", help="print an earlier run's report")
    parser.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.games = args.games or (2 if args.quick else 5)
    args.repeat = args.repeat or (3 if args.quick else 7)
    args.budget = args.budget if args.budget is not None else (0.5 if args.quick else 2.0)
    if args.games < 1 or args.repeat < 1:
        parser.error("--games and --repeat must be at least 1")
    try:
        args.size_list = [
            parse_size(s, args.seed, args.games)
            for s in (args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES))
        ]
    except ValueError as error:
        parser.error(str(error))
    peers = {p.strip() for p in args.peers.split(",") if p.strip()} - {"none"}
    if peers - set(PEERS):
        parser.error(f"unknown peers {sorted(peers - set(PEERS))}; choose from {', '.join(PEERS)}")
    args.peer_set = peers
    return args


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    if settings.worker:
        serve()
        return 0
    if settings.report is not None:
        print(report(json.loads(settings.report.read_text())))
        return 0
    methods = [m for m in METHODS if m.ours or m.library in settings.peer_set]
    facts = machine_facts()
    record = {
        "games": settings.games,
        "repeat": settings.repeat,
        "budget_s": settings.budget,
        "limit_s": settings.limit,
        "slow_s": settings.slow,
        "base_seed": settings.seed,
        "peers": sorted(settings.peer_set),
    }
    started = time.perf_counter()
    print(machine_report(facts))
    print(
        f"settings: limit {settings.limit:g} s per call; up to {settings.repeat} warm calls or "
        f"{settings.budget:g} s per method and game; base seed {settings.seed} (game g's seed = "
        "base + 1000*players + strategies + 100000*g, numpy default_rng, payoffs uniform "
        "on [0, 1))",
        flush=True,
    )
    cells = run_all(settings.size_list, methods, settings)
    payload = {
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": [
            "python",
            "benchmarks/nplayer.py",
            *(argv if argv is not None else sys.argv[1:]),
        ],
        "settings": record,
        "machine": facts,
        "sizes": [
            {"size": s.label, "players": s.players, "strategies": s.strategies, "seeds": s.seeds}
            for s in settings.size_list
        ],
        "results": [asdict(c) for c in cells],
    }
    payload["total_s"] = time.perf_counter() - started
    print("\n" + report(payload))
    print(f"\ntotal wall time {payload['total_s']:.0f} s")
    _write_atomically(settings.out, json.dumps(payload, indent=1, allow_nan=False) + "\n")
    print(f"results written to {settings.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
