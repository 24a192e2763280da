"""Time negsim's bargaining solutions on seeded random flagship-size problems: one command.

    python benchmarks/bargaining.py [--quick] [--repeat N] [--games K] [--sizes 2x2 3x4 ...]
                                    [--concepts nash,ks,...] [--no-baseline] [--seed BASE]
                                    [--out benchmarks/results/bargaining.json]

Problems. ``n`` players bargain over ``k`` issues, shares ``z`` in ``[0, 1]^k``
with ``sum(z) <= 1``; player ``i`` values a deal at
``u_i(z) = sum_j A_ij z_j ** P_ij - B_ij z_j ** 2`` (concave: each player likes
some issues with diminishing returns, ``P`` in ``[0.3, 1]``, and dislikes the
others quadratically); the disagreement point lies just below the payoffs of a
random deal, so some deal beats it. Problem ``g`` of a size has the seed
``base + 1000 * n + k + 100000 * g`` (base 2026), which
:func:`flagship_problem` turns back into the problem.

What is timed, per solution concept and problem (in this process, garbage
collector off during a call, as in :mod:`timeit`):

* **cold**: building the :class:`~simulator.bargaining.problem.BargainingProblem`
  (over a deal space seen before, as in a sweep or a scenario run: the
  Chebyshev-centre LP is remembered per deal space, its cost is a row of its
  own) and solving it;
* **warm**: the same for a neighbouring problem (player 0's disagreement payoff
  raised by ``0.01``, one step of a sweep), solved with ``start=`` the cold
  answer;
* **baselines**, the straightforward way with scipy alone, on the same
  problems: SLSQP with default options and finite-difference gradients from 6
  random starts (best kept), and for the Nash product ``trust-constr`` from
  one start. The objective each reaches is compared with ours.

Each measurement repeats up to ``--repeat`` times (or until ``--budget``
seconds) per problem; a problem's time is the median of its repeats, and the
table shows the median and 90th percentile over problems. See
``benchmarks/README.md`` ("Bargaining solutions") for how to read the output.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make ``benchmarks`` and ``simulator`` importable
    sys.path.insert(0, str(REPO))

from scipy.optimize import (  # noqa: E402
    Bounds,
    LinearConstraint,
    NonlinearConstraint,
    minimize,
)

from benchmarks.games import DEFAULT_BASE_SEED, case_seed  # noqa: E402
from benchmarks.run import (  # noqa: E402
    _ms,
    _number,
    _table,
    _write_atomically,
    machine_facts,
    machine_report,
)
from simulator.bargaining import (  # noqa: E402
    BargainingProblem,
    BargainingSolution,
    baron_ferejohn,
    egalitarian,
    kalai_smorodinsky,
    nash_bargaining,
    rubinstein_bargaining,
    utilitarian,
    zone_of_agreement,
)
from simulator.bargaining import problem as problem_module  # noqa: E402

DEFAULT_SIZES = tuple(f"{n}x{k}" for n in (2, 3, 4) for k in (2, 3, 4))
QUICK_SIZES = ("2x2", "3x3", "4x4")
WARM_SHIFT = 0.01  # player 0's disagreement payoff moves by this between sweep points
RUBINSTEIN_DELTAS = (0.9, 0.8)
BARON_FEREJOHN_DISCOUNT = 0.9  # every player's, random recognition, unanimity
SWEEP = 10_000  # the sweep the next issue needs, projected from the measured throughput


# ====================================================================== problems
@dataclass(frozen=True)
class Shares:
    """``u_i(z) = sum_j A_ij z_j ** P_ij - B_ij z_j ** 2`` for deals ``z`` of shape ``(..., k)``."""

    a: np.ndarray  # (n, k)
    p: np.ndarray  # (n, k)
    b: np.ndarray  # (n, k)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        zz = np.maximum(np.asarray(z, dtype=float), 0.0)[..., None, :]
        return np.sum(self.a * zz**self.p - self.b * zz**2, axis=-1)


@dataclass(frozen=True)
class Instance:
    """One benchmark problem: its size, seed, and the arguments of ``BargainingProblem``."""

    players: int
    issues: int
    seed: int
    utility: Shares
    disagreement: np.ndarray

    @property
    def size(self) -> str:
        return f"{self.players}x{self.issues}"

    def problem(self, shift: float = 0.0) -> BargainingProblem:
        """The problem; ``shift`` raises player 0's disagreement payoff (a sweep step)."""
        d = self.disagreement.copy()
        d[0] += shift
        k = self.issues
        return BargainingProblem(
            players=tuple(f"p{i}" for i in range(self.players)),
            lower=np.zeros(k),
            upper=np.ones(k),
            utility=self.utility,
            disagreement=d,
            A_ub=np.ones((1, k)),
            b_ub=np.ones(1),
        )


def flagship_problem(players: int, issues: int, seed: int) -> Instance:
    """The random problem of ``players`` players and ``issues`` issues drawn from ``seed``.

    Each player likes about half the issues (at least one) and dislikes the rest.
    """
    rng = np.random.default_rng(seed)
    n, k = players, issues
    likes = rng.random((n, k)) < 0.5
    likes[np.arange(n), rng.integers(0, k, n)] = True
    a = np.where(likes, rng.uniform(0.5, 2.0, (n, k)), 0.0)
    p = rng.uniform(0.3, 1.0, (n, k))
    b = np.where(likes, 0.0, rng.uniform(0.2, 1.0, (n, k)))
    utility = Shares(a, p, b)
    somewhere = rng.dirichlet(np.ones(k + 1))[:k]
    d = utility(somewhere) - rng.uniform(0.02, 0.1, n)
    return Instance(n, k, seed, utility, d)


def parse_size(text: str) -> tuple[int, int]:
    """``"3x4"`` -> 3 players, 4 issues (``ValueError`` otherwise)."""
    try:
        n, k = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size {text!r}: expected PxI (players x issues), e.g. 3x4") from None
    if n < 2 or k < 1:
        raise ValueError(f"size {text!r}: need at least 2 players and 1 issue")
    return n, k


# ====================================================================== concepts
@dataclass(frozen=True)
class Concept:
    """A solution concept: how we solve it, its objective, and the scipy-only baselines."""

    key: str
    label: str
    solve: Callable[[BargainingProblem, np.ndarray | None], Any]
    objective: str  # what ``score`` measures, for the table
    two_players_only: bool = False
    three_or_more: bool = False


def _weights(problem: BargainingProblem) -> np.ndarray:
    return np.arange(1.0, problem.n_players + 1.0)


CONCEPTS = (
    Concept(
        "nash", "nash_bargaining", lambda p, s: nash_bargaining(p, start=s), "log Nash product"
    ),
    Concept(
        "nash-weighted",
        "nash_bargaining, weights 1..n",
        lambda p, s: nash_bargaining(p, _weights(p), start=s),
        "weighted log Nash product",
    ),
    Concept(
        "ks",
        "kalai_smorodinsky",
        lambda p, s: kalai_smorodinsky(p, start=s),
        "smallest gain / ideal",
    ),
    Concept("egalitarian", "egalitarian", lambda p, s: egalitarian(p, start=s), "smallest gain"),
    Concept("utilitarian", "utilitarian", lambda p, s: utilitarian(p, start=s), "total payoff"),
    Concept("zone", "zone_of_agreement", lambda p, s: zone_of_agreement(p), "smallest gain"),
    Concept(
        "rubinstein",
        "rubinstein_bargaining (2 players)",
        lambda p, s: rubinstein_bargaining(p, RUBINSTEIN_DELTAS),
        "largest indifference shortfall",
        two_players_only=True,
    ),
    Concept(
        "baron-ferejohn",
        "baron_ferejohn (3+ players)",
        lambda p, s: baron_ferejohn(p, BARON_FEREJOHN_DISCOUNT),
        "fixed-point residual",
        three_or_more=True,
    ),
)
BY_KEY = {c.key: c for c in CONCEPTS}


def _deal(answer: Any) -> np.ndarray | None:
    deal = getattr(answer, "deal", None)
    return None if deal is None else np.asarray(deal, dtype=float)


def score(concept: str, problem: BargainingProblem, deal: np.ndarray | None, ideal: Any) -> float:
    """The concept's objective at ``deal`` (larger is better; ``-inf`` if infeasible or none).

    ``ideal``: the ideal point used to score Kalai-Smorodinsky answers (ours, for
    every answer, so that all are measured alike).
    """
    if deal is None or not bool(problem.feasible(deal)):
        return -np.inf
    # Pulled into X exactly: an answer that overshoots a constraint by the optimizer's
    # tolerance would otherwise score what no feasible deal gives.
    gains = problem.payoffs(problem.project(deal)) - problem.disagreement
    tol = problem.solve_tolerance
    if concept in ("nash", "nash-weighted"):
        if np.any(gains <= 0):
            return -np.inf
        w = _weights(problem) if concept == "nash-weighted" else np.ones(problem.n_players)
        return float(w @ np.log(gains))
    if concept == "ks":
        return float(np.min(gains / np.maximum(np.asarray(ideal) - problem.disagreement, tol)))
    if concept in ("egalitarian", "zone"):
        return float(np.min(gains))
    if concept == "utilitarian":
        return float(np.sum(gains)) if np.all(gains >= -tol) else -np.inf
    return np.nan


# ====================================================================== baselines
def _random_shares(seed: int, k: int, count: int) -> np.ndarray:
    """``count`` random feasible deals (uniform on the simplex of shares)."""
    return np.random.default_rng(seed).dirichlet(np.ones(k + 1), size=count)[:, :k]


def _linear(k: int) -> dict[str, Any]:
    return {"type": "ineq", "fun": lambda z: 1.0 - np.sum(z)}


def _slsqp_best(
    objective: Callable[[np.ndarray], float],
    constraints: list[dict[str, Any]],
    starts: np.ndarray,
    bounds: list[tuple[float | None, float | None]],
) -> np.ndarray | None:
    """SLSQP with default options from each start; the feasible answer of least objective."""
    best, best_value = None, np.inf
    for x0 in starts:
        res = minimize(objective, x0, method="SLSQP", bounds=bounds, constraints=constraints)
        x = np.asarray(res.x, dtype=float)
        if all(np.all(np.asarray(c["fun"](x)) >= -1e-6) for c in constraints):
            value = float(objective(x))
            if value < best_value:
                best, best_value = x, value
    return best


def baseline_slsqp(concept: str, instance: Instance, starts: int = 6) -> np.ndarray | None:
    """The concept solved with scipy's SLSQP, default options, from ``starts`` random deals."""
    u, d = instance.utility, instance.disagreement
    n, k = instance.players, instance.issues
    x0 = _random_shares(instance.seed + 7, k, starts)
    box: list[tuple[float | None, float | None]] = [(0.0, 1.0)] * k
    rational = {"type": "ineq", "fun": lambda z: u(z[:k]) - d}
    if concept in ("nash", "nash-weighted"):
        w = np.arange(1.0, n + 1.0) if concept == "nash-weighted" else np.ones(n)
        return _slsqp_best(
            lambda z: -float(w @ np.log(np.maximum(u(z) - d, 1e-12))),
            [_linear(k), rational],
            x0,
            box,
        )
    if concept == "utilitarian":
        return _slsqp_best(lambda z: -float(np.sum(u(z))), [_linear(k), rational], x0, box)
    if concept in ("egalitarian", "zone", "ks"):
        direction = np.ones(n)
        if concept == "ks":
            ideal = np.empty(n)
            for i in range(n):
                top = _slsqp_best(lambda z, i=i: -float(u(z)[i]), [_linear(k), rational], x0, box)
                if top is None:
                    return None
                ideal[i] = u(top)[i]
            direction = np.maximum(ideal - d, 1e-12)
        ray = {"type": "ineq", "fun": lambda x: u(x[:k]) - d - x[k] * direction}
        linear = {"type": "ineq", "fun": lambda x: 1.0 - np.sum(x[:k])}
        starts_t = np.hstack([x0, np.zeros((starts, 1))])
        best = _slsqp_best(lambda x: -float(x[k]), [linear, ray], starts_t, [*box, (None, None)])
        return None if best is None else best[:k]
    raise ValueError(f"no SLSQP baseline for {concept}")


def baseline_trust_constr(concept: str, instance: Instance) -> np.ndarray | None:
    """The Nash product maximised by ``trust-constr`` from one start, finite differences."""
    u, d = instance.utility, instance.disagreement
    n, k = instance.players, instance.issues
    w = np.arange(1.0, n + 1.0) if concept == "nash-weighted" else np.ones(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = minimize(
            lambda z: -float(w @ np.log(np.maximum(u(z) - d, 1e-12))),
            np.full(k, 1.0 / (k + 1)),
            method="trust-constr",
            bounds=Bounds(np.zeros(k), np.ones(k)),
            constraints=[
                LinearConstraint(np.ones((1, k)), -np.inf, 1.0),
                NonlinearConstraint(lambda z: u(z) - d, 0.0, np.inf),
            ],
        )
    return np.clip(np.asarray(res.x, dtype=float), 0.0, 1.0)


BASELINES: dict[str, tuple[str, Callable[[str, Instance], np.ndarray | None], tuple[str, ...]]] = {
    "slsqp-6": (
        "scipy SLSQP, default options, 6 random starts",
        baseline_slsqp,
        ("nash", "nash-weighted", "ks", "egalitarian", "utilitarian", "zone"),
    ),
    "trust-constr": (
        "scipy trust-constr, 1 start",
        baseline_trust_constr,
        ("nash", "nash-weighted"),
    ),
}


# ====================================================================== timing
def timed(call: Callable[[], Any], repeat: int, budget: float) -> tuple[list[float], Any]:
    """Wall times of up to ``repeat`` calls (at least one; none begun past ``budget`` s), answer."""
    samples: list[float] = []
    answer = None
    spent = 0.0
    enabled = gc.isenabled()
    while len(samples) < repeat and (not samples or spent < budget):
        gc.disable()
        try:
            start = time.perf_counter()
            answer = call()
            elapsed = time.perf_counter() - start
        finally:
            if enabled:
                gc.enable()
        samples.append(elapsed)
        spent += elapsed
    return samples, answer


@dataclass
class Record:
    """One concept on one problem (one record of the JSON output)."""

    concept: str
    size: str
    seed: int
    cold_s: list[float] = field(default_factory=list)
    warm_s: list[float] = field(default_factory=list)
    score: float | None = None
    agreement: bool | None = None
    unique: bool | None = None
    kkt_residual: float | None = None
    baselines: dict[str, dict[str, Any]] = field(default_factory=dict)
    note: str = ""


def measure(concept: Concept, instance: Instance, settings: argparse.Namespace) -> Record | None:
    """Cold, warm and baseline times of ``concept`` on ``instance``."""
    if concept.two_players_only and instance.players != 2:
        return None
    if concept.three_or_more and instance.players < 3:
        return None
    record = Record(concept.key, instance.size, instance.seed)
    cold, answer = timed(
        lambda: concept.solve(instance.problem(), None), settings.repeat, settings.budget
    )
    record.cold_s = cold
    deal = _deal(answer)
    problem = instance.problem()
    evidence = getattr(answer, "evidence", {})
    ideal = evidence.get("ideal_point")
    if isinstance(answer, BargainingSolution):
        record.agreement, record.unique = answer.agreement, answer.unique
    record.kkt_residual = _float(evidence.get("kkt_residual"))
    if concept.key == "rubinstein":
        # A responder may get more than indifference requires only when the other
        # proposer already has his best; a shortfall is always a violation.
        residuals = [v for key, v in evidence.items() if key.startswith("indifference")]
        record.score = float(max([0.0, *(-v for v in residuals)])) if residuals else None
    elif concept.key == "baron-ferejohn":
        record.score = _float(evidence.get("fixed_point_residual"))
    else:
        record.score = score(concept.key, problem, deal, ideal)
    warm, _ = timed(
        lambda: concept.solve(instance.problem(WARM_SHIFT), deal), settings.repeat, settings.budget
    )
    record.warm_s = warm
    if not settings.baseline:
        return record
    for key, (_, run, concepts) in BASELINES.items():
        if concept.key not in concepts:
            continue
        samples, found = timed(
            lambda run=run: run(concept.key, instance), settings.baseline_repeat, settings.budget
        )
        theirs = score(concept.key, problem, found, ideal)
        record.baselines[key] = {
            "samples_s": samples,
            "score": theirs,
            "difference": (record.score - theirs) if record.score is not None else None,
        }
    return record


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def construction_times(instances: list[Instance], settings: argparse.Namespace) -> dict[str, Any]:
    """Building a problem over a new deal space (LP solved) and over a known one (LP remembered)."""
    fresh: list[float] = []
    known: list[float] = []
    for instance in instances:

        def build_fresh(instance: Instance = instance) -> BargainingProblem:
            problem_module._SPACES.clear()
            return instance.problem()

        fresh.append(statistics.median(timed(build_fresh, settings.repeat, settings.budget)[0]))
        known.append(
            statistics.median(timed(instance.problem, settings.repeat, settings.budget)[0])
        )
    return {"new_deal_space_s": fresh, "known_deal_space_s": known}


# ====================================================================== report
def _median(samples: list[float]) -> float:
    return statistics.median(samples)


def _p90(values: list[float]) -> float:
    return float(np.percentile(values, 90)) if values else float("nan")


def summary(records: list[Record]) -> dict[str, dict[str, Any]]:
    """Per concept: medians, 90th percentiles, throughput and the baseline comparison."""
    out: dict[str, dict[str, Any]] = {}
    for concept in CONCEPTS:
        mine = [r for r in records if r.concept == concept.key]
        if not mine:
            continue
        cold = [_median(r.cold_s) for r in mine]
        warm = [_median(r.warm_s) for r in mine]
        entry: dict[str, Any] = {
            "problems": len(mine),
            "cold_median_s": statistics.median(cold),
            "cold_p90_s": _p90(cold),
            "warm_median_s": statistics.median(warm),
            "warm_p90_s": _p90(warm),
            "cold_solves_per_s": len(cold) / sum(cold),
            "warm_solves_per_s": len(warm) / sum(warm),
            "baselines": {},
        }
        for key in BASELINES:
            theirs = [r for r in mine if key in r.baselines]
            if not theirs:
                continue
            times = [_median(r.baselines[key]["samples_s"]) for r in theirs]
            ours = [_median(r.cold_s) for r in theirs]
            diffs = [r.baselines[key]["difference"] for r in theirs]
            finite = [x for x in diffs if x is not None and np.isfinite(x)]
            tol = 1e-6
            entry["baselines"][key] = {
                "median_s": statistics.median(times),
                "ratio_ours_over_baseline": statistics.median(ours) / statistics.median(times),
                "worst_difference": min(finite) if finite else None,
                "median_difference": statistics.median(finite) if finite else None,
                "ours_worse": sum(1 for x in finite if x < -tol),
                "baseline_failed": sum(1 for x in diffs if x is None or x == np.inf),
            }
        out[concept.key] = entry
    return out


def _ratio_words(ratio: float) -> str:
    """``ours / baseline`` in the house words: their time / our time."""
    if ratio <= 1:
        return f"{_number(1 / ratio)}x faster"
    return f"{_number(ratio)}x slower"


def report(payload: dict[str, Any]) -> str:
    """The printed tables, from the JSON payload (so ``--report`` could reprint them)."""
    records = [Record(**r) for r in payload["records"]]
    stats = payload["summary"]
    settings = payload["settings"]
    sizes = list(dict.fromkeys(r.size for r in records))
    per_size = settings["games"]
    lines = [
        f"== Bargaining solutions on random flagship problems ({', '.join(sizes)} players x "
        f"issues; {per_size} problem(s) per size, seeds base + 1000*players + issues + "
        f"100000*g, base {settings['base_seed']})",
        "",
    ]
    header = [
        "ms per solve (median over problems)",
        "cold",
        "cold p90",
        "warm",
        "warm p90",
        "solves/s cold",
        "solves/s warm",
    ]
    rows = []
    for concept in CONCEPTS:
        entry = stats.get(concept.key)
        if entry is None:
            continue
        rows.append(
            [
                concept.label,
                _ms(entry["cold_median_s"]),
                _ms(entry["cold_p90_s"]),
                _ms(entry["warm_median_s"]),
                _ms(entry["warm_p90_s"]),
                f"{entry['cold_solves_per_s']:.0f}",
                f"{entry['warm_solves_per_s']:.0f}",
            ]
        )
    build = payload["construction"]
    rows.append(
        [
            "  build a problem, new deal space (LP solved)",
            _ms(statistics.median(build["new_deal_space_s"])),
            _ms(_p90(build["new_deal_space_s"])),
            "",
            "",
            "",
            "",
        ]
    )
    rows.append(
        [
            "  build a problem, known deal space (in cold/warm)",
            _ms(statistics.median(build["known_deal_space_s"])),
            _ms(_p90(build["known_deal_space_s"])),
            "",
            "",
            "",
            "",
        ]
    )
    lines.append(_table(header, rows))
    nash = stats.get("nash")
    if nash is not None:
        lines += [
            "",
            f"{SWEEP} Nash solves, sequential on one core, projected from the throughput: "
            f"{SWEEP / nash['warm_solves_per_s']:.1f} s warm-started, "
            f"{SWEEP / nash['cold_solves_per_s']:.1f} s cold",
        ]
    by_size = _size_rows(records, "nash")
    if by_size:
        lines += ["", _table(["nash_bargaining by size, ms", "cold", "warm", *BASELINES], by_size)]
    rows = []
    for concept in CONCEPTS:
        entry = stats.get(concept.key)
        if entry is None:
            continue
        for key, base in entry["baselines"].items():
            worst = base["worst_difference"]
            rows.append(
                [
                    f"{concept.key} vs {BASELINES_LABELS[key]}",
                    _ms(base["median_s"]),
                    f"{base['ratio_ours_over_baseline']:.3g} "
                    f"({_ratio_words(base['ratio_ours_over_baseline'])})",
                    "-" if worst is None else f"{worst:+.2e}",
                    "-"
                    if base["median_difference"] is None
                    else f"{base['median_difference']:+.2e}",
                    f"{base['ours_worse']}/{entry['problems']}",
                    str(base["baseline_failed"]),
                ]
            )
    if rows:
        lines += [
            "",
            _table(
                [
                    "against scipy alone (cold)",
                    "baseline ms",
                    "ours/baseline",
                    "objective ours-theirs: worst",
                    "median",
                    "ours worse",
                    "baseline failed",
                ],
                rows,
            ),
            "  objective: larger is better (log Nash product; smallest gain, for KS over our "
            "ideal point; total payoff); 'ours worse' counts problems where ours is lower by "
            "more than 1e-6",
        ]
    residuals = [r.score for r in records if r.concept == "rubinstein" and r.score is not None]
    if residuals:
        lines.append(
            f"  rubinstein: largest indifference shortfall {max(residuals):.1e} "
            f"(deltas {RUBINSTEIN_DELTAS}); no scipy-only baseline"
        )
    return "\n".join(lines)


BASELINES_LABELS = {key: label for key, (label, _, _) in BASELINES.items()}


def _size_rows(records: list[Record], concept: str) -> list[list[str]]:
    rows = []
    mine = [r for r in records if r.concept == concept]
    for size in dict.fromkeys(r.size for r in mine):
        here = [r for r in mine if r.size == size]
        row = [
            size,
            _ms(statistics.median(_median(r.cold_s) for r in here)),
            _ms(statistics.median(_median(r.warm_s) for r in here)),
        ]
        for key in BASELINES:
            times = [_median(r.baselines[key]["samples_s"]) for r in here if key in r.baselines]
            row.append(_ms(statistics.median(times)) if times else "-")
        rows.append(row)
    return rows


# ====================================================================== main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/bargaining.py",
        description="Time negsim's bargaining solutions against scipy alone.",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"sizes {' '.join(QUICK_SIZES)}, 1 problem each"
    )
    parser.add_argument("--sizes", nargs="+", metavar="PxI", help="players x issues, e.g. 3x4")
    parser.add_argument("--games", type=int, help="problems per size (default 3; quick 1)")
    parser.add_argument("--repeat", type=int, help="timed calls per problem (default 5; quick 2)")
    parser.add_argument(
        "--baseline-repeat", type=int, help="timed baseline calls per problem (default 2; quick 1)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=1.0,
        help="seconds of timed calls per measurement before stopping early (default 1)",
    )
    parser.add_argument(
        "--concepts",
        default=",".join(c.key for c in CONCEPTS),
        help=f"comma-separated, from {','.join(c.key for c in CONCEPTS)}",
    )
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    parser.add_argument("--seed", type=int, default=DEFAULT_BASE_SEED, help="base seed")
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "benchmarks" / "results" / "bargaining.json",
        help="where to write the JSON results",
    )
    args = parser.parse_args(argv)
    args.games = args.games or (1 if args.quick else 3)
    args.repeat = args.repeat or (2 if args.quick else 5)
    args.baseline_repeat = args.baseline_repeat or (1 if args.quick else 2)
    if min(args.games, args.repeat, args.baseline_repeat) < 1:
        parser.error("--games, --repeat and --baseline-repeat must be at least 1")
    try:
        args.size_list = [
            parse_size(s) for s in (args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES))
        ]
    except ValueError as error:
        parser.error(str(error))
    chosen = [c.strip() for c in args.concepts.split(",") if c.strip()]
    unknown = set(chosen) - set(BY_KEY)
    if unknown:
        parser.error(f"unknown concepts {sorted(unknown)}")
    args.concept_list = [BY_KEY[c] for c in chosen]
    return args


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    facts = machine_facts()
    instances = [
        flagship_problem(n, k, case_seed(settings.seed, n, k, g))
        for n, k in settings.size_list
        for g in range(settings.games)
    ]
    record = {
        "base_seed": settings.seed,
        "games": settings.games,
        "repeat": settings.repeat,
        "baseline_repeat": settings.baseline_repeat,
        "budget_s": settings.budget,
        "warm_shift": WARM_SHIFT,
        "rubinstein_deltas": RUBINSTEIN_DELTAS,
        "baseline": settings.baseline,
    }
    started = time.perf_counter()
    print(machine_report(facts), flush=True)
    # Imports, per-dimension caches and the deal spaces' LPs are paid once, before timing.
    for instance in instances:
        for concept in settings.concept_list:
            if not (concept.two_players_only and instance.players != 2):
                concept.solve(instance.problem(), None)
    records = [
        found
        for instance in instances
        for concept in settings.concept_list
        if (found := measure(concept, instance, settings)) is not None
    ]
    construction = construction_times(instances, settings)
    payload = {
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": [
            "python",
            "benchmarks/bargaining.py",
            *(argv if argv is not None else sys.argv[1:]),
        ],
        "settings": record,
        "machine": facts,
        "problems": [
            {"size": i.size, "players": i.players, "issues": i.issues, "seed": i.seed}
            for i in instances
        ],
        "records": [asdict(r) for r in records],
        "construction": construction,
        "summary": summary(records),
    }
    payload["total_s"] = time.perf_counter() - started
    print("\n" + report(payload))
    print(f"\ntotal wall time {payload['total_s']:.0f} s")
    text = json.dumps(_clean(payload), indent=1, default=_jsonable, allow_nan=False)
    _write_atomically(settings.out, text + "\n")
    print(f"results written to {settings.out}")
    return 0


def _clean(value: Any) -> Any:
    """``value`` with infinite or NaN floats as ``None`` (strict JSON has neither)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


if __name__ == "__main__":
    sys.exit(main())
