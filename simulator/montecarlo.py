"""Monte Carlo over a scenario's uncertain parameters: the distribution of outcomes.

:func:`montecarlo` draws the parameters in the scenario's ``uncertain:`` block
(:mod:`simulator.uncertainty`, reproducible for a seed), solves the chosen
game at every draw through :func:`simulator.runner.run_points` (local cores or
a Dask cluster, chunks streamed to disk, resumable), and summarises the records
chunk by chunk with :class:`~simulator.uncertainty.SummaryAccumulator`: the
probability that a deal exists, of each equilibrium set, quantiles of payoffs
and deal terms, each with its standard error (Metropolis & Ulam 1949 for the
method; the summaries' references are in :mod:`simulator.uncertainty`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from simulator.outcomes import PointTask
from simulator.runner import RunResult, Workers, assemble, remove_run, run_points
from simulator.scenario import load_scenario
from simulator.uncertainty import MonteCarloSummary, SummaryAccumulator, monte_carlo_points

__all__ = ["MonteCarloResult", "montecarlo"]


@dataclass(frozen=True, eq=False)
class MonteCarloResult:
    """A finished Monte Carlo run.

    ``summary``: the distribution of outcomes. ``seed``: the seed the draws came
    from (give it again to repeat the run). ``uncertain``: the names drawn.
    ``run``: the records (in memory, or in chunk files when written to disk).
    ``out``: the assembled records file, if one was asked for.
    ``elapsed``: wall time in seconds.
    """

    scenario: str
    game: str
    kind: str
    n: int
    seed: int
    uncertain: tuple[str, ...]
    summary: MonteCarloSummary
    run: RunResult
    elapsed: float
    out: Path | None = None


def montecarlo(
    scenario_path: str | os.PathLike[str],
    game: str | int,
    n: int,
    seed: int,
    *,
    concepts: Sequence[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: Callable[[int, int], None] | None = None,
    keep_chunks: bool = False,
) -> MonteCarloResult:
    """Solve ``game`` at ``n`` draws of the uncertain parameters and summarise the outcomes.

    ``seed``: the draws are a function of it alone (and of each parameter's
    distribution), not of ``workers`` or ``chunk_size``. ``concepts``: the
    bargaining or coalition concepts to compute (default: the game's). ``out``: a ``.csv``,
    ``.parquet`` or ``.json`` file for every draw's record; chunks go to
    ``<out>.parts`` while the run lasts and ``resume`` continues an interrupted
    run there. Without ``out`` the records stay in memory. The summary only
    keeps what it needs (counts, and the values of numeric columns for
    quantiles). Parameters that are not uncertain are left out of the summary.

    Raises :class:`~simulator.errors.InputError` for a scenario without an
    ``uncertain:`` block, an unknown game, ``n < 1``, or an output folder that
    holds another run.
    """
    from simulator.errors import InputError

    if n < 1:
        raise InputError.at("-n", None, "", f"expected at least 1 draw, got {n}")
    started = time.perf_counter()
    scenario = load_scenario(scenario_path)
    points = monte_carlo_points(scenario, n, seed)
    # Draws come in random order, so one point's answer is no better a start for the next.
    task = PointTask(
        str(scenario_path),
        str(game),
        None if concepts is None else tuple(concepts),
        warm_start=False,
    )
    uncertain = tuple(points.sampler.names)
    fixed = tuple(f"param.{name}" for name in task.parameters if name not in uncertain)
    out_file = None if out is None else Path(out)
    parts = None if out_file is None else out_file.with_name(out_file.name + ".parts")
    with Workers(workers, scheduler) as pool:
        run = run_points(
            task,
            points,
            chunk_size=chunk_size,
            out_dir=parts,
            resume=resume,
            progress=progress,
            pool=pool,
        )
    accumulator = SummaryAccumulator(ignore=fixed)
    for chunk in run.iter_chunks():
        accumulator.add(chunk)
    summary = accumulator.result()
    if out_file is not None and parts is not None:
        assemble(
            parts,
            out_file,
            metadata={
                "scenario": str(scenario_path),
                "game": task.game,
                "n": n,
                "seed": seed,
                "uncertain": list(uncertain),
            },
        )
        if not keep_chunks:
            remove_run(parts)
    return MonteCarloResult(
        scenario=str(scenario_path),
        game=task.game,
        kind=task.kind,
        n=n,
        seed=seed,
        uncertain=uncertain,
        summary=summary,
        run=run,
        elapsed=time.perf_counter() - started,
        out=out_file,
    )
