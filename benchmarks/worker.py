"""A worker process that times one library's solvers on request.

The parent (:mod:`benchmarks.run`) starts one worker per library and sends it
one JSON request per line on stdin; the worker answers with one JSON event per
line: ``warm`` (the solver's first use, on a tiny game; 0 s afterwards), then
for each of the case's games ``game`` (about to build it), ``built`` (the build
step's time) and one ``run`` per call; then ``done`` (or ``error``). The parent
waits for each event at most the per-call time limit and kills the worker when
it is exceeded, which is how a slow peer is stopped without stopping the run.

Timing protocol of one game (the call is the solve step alone):

* one warm-up call, discarded unless it took at least ``slow`` seconds (then the
  library's one-off costs are negligible next to the call and it counts);
* then timed calls until ``repeat`` samples are in or the next call would take
  the game past ``budget`` seconds; at least one sample always;
* the garbage collector is off during each call (as in :mod:`timeit`).
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np

from benchmarks.games import Case
from benchmarks.peers import BY_KEY, WARM_SHAPES, BenchSolver


def _timed(function: Any, argument: Any) -> tuple[float, Any]:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        value = function(argument)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed, value


def _send(channel: TextIO, **event: Any) -> None:
    channel.write(json.dumps(event) + "\n")
    channel.flush()


def _warm(solver: BenchSolver) -> None:
    rng = np.random.default_rng(0)
    shape = WARM_SHAPES[solver.section]
    payoffs = rng.random((len(shape), *shape))
    solver.solve(solver.build(payoffs))


def _run_case(request: dict[str, Any], warmed: set[str], channel: TextIO) -> None:
    solver = BY_KEY[request["solver"]]
    warm_time = 0.0
    if solver.key not in warmed:
        warm_time, _ = _timed(_warm, solver)
        warmed.add(solver.key)
    _send(channel, event="warm", t=warm_time)
    case = Case(request["section"], tuple(request["shape"]), tuple(request["seeds"]))
    for game in range(len(case.seeds)):
        _run_game(solver, case, game, request, channel)
    _send(channel, event="done")


def _run_game(
    solver: BenchSolver, case: Case, game: int, request: dict[str, Any], channel: TextIO
) -> None:
    _send(channel, event="game", game=game)
    payoffs = case.payoffs(game)
    build_time, built = _timed(solver.build, payoffs)
    _send(channel, event="built", game=game, t=build_time)

    repeat, budget, slow = int(request["repeat"]), float(request["budget"]), float(request["slow"])
    first, count = _timed(solver.solve, built)
    samples = [first] if first >= slow else []
    _send(channel, event="run", game=game, t=first, count=count, counted=bool(samples))
    spent = first
    while len(samples) < repeat:
        last = samples[-1] if samples else first
        if samples and spent + last > budget:
            break
        elapsed, count = _timed(solver.solve, built)
        samples.append(elapsed)
        spent += elapsed
        _send(channel, event="run", game=game, t=elapsed, count=count, counted=True)


def serve_requests(handle: Callable[[dict[str, Any], set[str], TextIO], None]) -> None:
    """Pass each JSON request on stdin to ``handle(request, warmed, channel)`` until stdin closes.

    The protocol uses a private copy of the original stdout (``channel``); file
    descriptor 1 is pointed at stderr so that anything a library prints cannot
    corrupt it. ``warmed`` is shared across requests (what was already warmed
    up). A request that raises is answered with an ``error`` event and the
    worker stays alive for the next one.
    """
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    warnings.simplefilter("ignore")
    warmed: set[str] = set()
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            handle(request, warmed, channel)
        except Exception as error:  # report, stay alive for the next case
            message = f"{type(error).__name__}: {error}"
            traceback.print_exc(file=sys.stderr)
            _send(channel, event="error", message=message)


def serve() -> None:
    """Answer the timing requests of :mod:`benchmarks.run` until stdin closes."""
    serve_requests(_run_case)


if __name__ == "__main__":
    serve()
