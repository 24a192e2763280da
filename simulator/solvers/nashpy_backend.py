"""nashpy's two-player solvers as selectable backends, run safely.

For users who want to compare with nashpy (Knight and Campbell 2018), these run
its support enumeration, vertex enumeration and Lemke–Howson on our games, with
three safeguards learnt from measuring it (see ``docs`` and the project's
performance notes):

* **A wall-clock limit.** nashpy runs in a separate Python process that is
  killed when the limit is reached; the result then has no equilibria and a note
  saying so. Its Lemke–Howson can loop for ever (unnormalised float pivoting
  without an iteration cap: about 1 random game in 6 from 8x8 up) and its
  enumerations take minutes from 10x10 up. The limit covers the whole run,
  including starting the process and importing nashpy (about 1 s).
* **Verification.** Every profile nashpy returns goes through
  :func:`simulator.equilibrium.verify_all`; the ones that fail are counted in
  ``rejected`` and dropped.
* **Honest completeness.** Only vertex enumeration can be complete, and only on
  nondegenerate games: it misses extreme equilibria of some degenerate games
  (a counterexample is in the caveat below and in the tests). Support enumeration solves only square
  indifference systems (pairs of supports of equal size; the others fail in
  ``numpy.linalg.solve`` and are skipped) and tests ``probability >= 0``
  without a tolerance, so it misses equilibria of degenerate games and silently
  drops some of ordinary random games (a zero probability computed as about
  -1e-19); Lemke–Howson finds one equilibrium per starting label. Their results
  say ``complete=False``.

nashpy's warnings are not shown; the notes say that nashpy warned, and what.
nashpy is imported only in the child process, so importing this module is cheap.

nashpy's vertex enumeration needs positive payoffs (it only shifts negative
payoffs up to 0, and a zero column makes its polytope unbounded), so each
player's payoffs are shifted to a minimum of 1 before it is called; adding a
constant to a player's payoffs changes no equilibrium.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from simulator.equilibrium import Equilibrium, verify_all
from simulator.game import StrategicGame
from simulator.results import SolverResult

DEFAULT_TIMEOUT: float = 60.0
"""Default wall-clock limit (seconds) for one nashpy run."""

_SCOPES = {
    "support": "extreme equilibria found by nashpy's support enumeration "
    "(equal-size supports; may miss equilibria)",
    "vertex": "all extreme equilibria (nashpy's vertex enumeration)",
    "lemke_howson": "one equilibrium per starting label (nashpy's Lemke-Howson)",
}

_CAVEATS = {
    "support": "nashpy's support enumeration solves only square indifference systems (supports "
    "of equal size), so it misses equilibria of degenerate games, and it drops equilibria "
    "whose zero probabilities come out as tiny negatives (about -1e-19): the list may be "
    "incomplete",
    "vertex": "nashpy's vertex enumeration misses extreme equilibria of some degenerate games "
    "(e.g. A = [[2,2],[2,0],[0,2]], B = [[0,1],[0,0],[1,1]]: the pure equilibrium at row 2, "
    "column 1), so its list is called complete only for nondegenerate games",
    "lemke_howson": "nashpy's Lemke-Howson finds one equilibrium per starting label; other "
    "equilibria may exist",
}


def nashpy_support(game: StrategicGame, *, timeout: float = DEFAULT_TIMEOUT) -> SolverResult:
    """Equilibria of a two-player game by nashpy's support enumeration, verified.

    Runs in a separate process for at most ``timeout`` seconds (wall clock).
    ``complete`` is always false: nashpy's support enumeration can miss
    equilibria (see the module docstring).
    """
    return _run(game, "support", "nashpy_support", timeout, None)


def nashpy_vertex(game: StrategicGame, *, timeout: float = DEFAULT_TIMEOUT) -> SolverResult:
    """All extreme equilibria of a two-player game by nashpy's vertex enumeration, verified.

    Runs in a separate process for at most ``timeout`` seconds (wall clock).
    ``complete`` is true when nashpy finished, every profile it returned passed
    verification, and the game is nondegenerate (checked with negsim's own
    vertex enumeration): on degenerate games nashpy can miss extreme equilibria.
    """
    return _run(game, "vertex", "nashpy_vertex", timeout, None)


def nashpy_lemke_howson(
    game: StrategicGame,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    labels: Sequence[int] | None = None,
) -> SolverResult:
    """Equilibria of a two-player game by nashpy's Lemke–Howson from each starting label.

    ``labels`` default to all, ``0..m+n-1`` (as in
    :func:`simulator.solvers.lemke_howson.lemke_howson`). All labels share one
    wall-clock limit of ``timeout`` seconds: nashpy's Lemke–Howson has no
    iteration cap, so a single label that never returns uses it up.
    """
    _require_two_players(game, "nashpy_lemke_howson")
    count = sum(game.shape)
    chosen = list(range(count)) if labels is None else [int(k) for k in labels]
    bad = [k for k in chosen if not 0 <= k < count]
    if bad:
        raise ValueError(f"nashpy_lemke_howson: labels must be in 0..{count - 1}, got {bad}")
    return _run(game, "lemke_howson", "nashpy_lemke_howson", timeout, chosen)


# ------------------------------------------------------------------ parent side
def _require_two_players(game: StrategicGame, caller: str) -> None:
    if game.n_players != 2:
        raise ValueError(f"{caller}: needs a two-player game, got {game.n_players} players")


def _run(
    game: StrategicGame, kind: str, method: str, timeout: float, labels: list[int] | None
) -> SolverResult:
    _require_two_players(game, method)
    if not timeout > 0:
        raise ValueError(f"{method}: timeout must be a positive number of seconds, got {timeout}")
    start = time.perf_counter()
    a, b = game.bimatrix()
    if kind == "vertex":
        a = a - a.min() + 1.0
        b = b - b.min() + 1.0
    request = {"kind": kind, "a": a.tolist(), "b": b.tolist(), "labels": labels}
    options: dict[str, Any] = {"timeout": timeout}
    if labels is not None:
        options["labels"] = tuple(labels)

    answer = _call_child(request, timeout)
    notes: list[str] = []
    equilibria: tuple[Equilibrium, ...] = ()
    rejected = 0
    finished = answer.get("status") == "ok"
    if answer.get("status") == "timeout":
        notes.append(f"nashpy timed out after {timeout:g} s and was stopped; no equilibria")
    elif not finished:
        notes.append(f"nashpy failed: {answer.get('error', 'no answer')}")
    else:
        if kind == "lemke_howson":
            equilibria, rejected, label_notes = _lemke_howson_equilibria(game, answer)
            notes.extend(label_notes)
        else:
            candidates = [(np.asarray(x, float), np.asarray(y, float)) for x, y in answer["found"]]
            equilibria, rejected = verify_all(game, candidates)
        if rejected:
            notes.append(f"{rejected} profile(s) returned by nashpy failed verification")
    for message in answer.get("warnings", []):
        notes.append(f"nashpy warned: {message}")
    degenerate: bool | None = None
    if kind == "vertex":
        # Completeness of nashpy's list hinges on degeneracy, which nashpy does
        # not report; our own enumeration says (and costs little next to nashpy).
        from simulator.solvers.vertex_enumeration import vertex_enumeration

        degenerate = vertex_enumeration(game).degenerate
        if degenerate:
            notes.append(_CAVEATS[kind])
    elif _CAVEATS[kind]:
        notes.append(_CAVEATS[kind])
    return SolverResult(
        method=method,
        game=game,
        equilibria=equilibria,
        complete=kind == "vertex" and finished and rejected == 0 and degenerate is False,
        scope=_SCOPES[kind],
        degenerate=degenerate,
        rejected=rejected,
        notes=tuple(notes),
        options=MappingProxyType(options),
        elapsed=time.perf_counter() - start,
    )


def _lemke_howson_equilibria(
    game: StrategicGame, answer: dict[str, Any]
) -> tuple[tuple[Equilibrium, ...], int, list[str]]:
    """Verify nashpy's per-label answers and say which labels led where."""
    from simulator.solvers.lemke_howson import describe_label

    equilibria: list[Equilibrium] = []
    reached_from: list[list[int]] = []
    rejected = 0
    notes: list[str] = []
    for label, x, y in answer["found"]:
        verified, failed = verify_all(game, [(np.asarray(x, float), np.asarray(y, float))])
        if failed:
            rejected += 1
            notes.append(
                f"label {describe_label(game, label)}: nashpy's answer failed verification"
            )
            continue
        key = verified[0].key()
        index = next((i for i, eq in enumerate(equilibria) if eq.key() == key), None)
        if index is None:
            index = len(equilibria)
            equilibria.append(verified[0])
            reached_from.append([])
        reached_from[index].append(int(label))
    for label, error in answer.get("errors", []):
        notes.append(f"label {describe_label(game, label)}: nashpy failed: {error}")
    reached = [
        f"equilibrium {e + 1} reached from label(s) "
        + ", ".join(describe_label(game, k) for k in labels)
        for e, labels in enumerate(reached_from)
    ]
    return tuple(equilibria), rejected, reached + notes


def _call_child(request: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run :func:`_child_main` in a fresh interpreter, with ``request`` on its stdin.

    A fresh interpreter (not ``multiprocessing``) never re-runs the caller's main
    script and cannot inherit locks from a forked parent. Returns the child's
    JSON answer, ``{"status": "timeout"}``, or ``{"status": "error", ...}``.
    """
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    env["PYTHONWARNINGS"] = "ignore"
    command = [sys.executable, "-c", f"from {__name__} import _child_main; _child_main()"]
    with subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as process:
        try:
            out, err = process.communicate(json.dumps(request).encode(), timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return {"status": "timeout"}
    try:
        answer: dict[str, Any] = json.loads(out.decode())
    except ValueError:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return {
            "status": "error",
            "error": f"the nashpy process exited with code {process.returncode}: {tail[0]}",
        }
    return answer


# ------------------------------------------------------------------- child side
def _child_main() -> None:
    """Entry point of the child process: JSON request on stdin, JSON answer on stdout."""
    request = json.loads(sys.stdin.read())
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # nothing nashpy prints may corrupt the answer
    try:
        answer = _solve_with_nashpy(request)
    except Exception as exc:  # report any failure to the parent, as data
        answer = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
    real_stdout.write(json.dumps(answer))
    real_stdout.flush()


def _solve_with_nashpy(request: dict[str, Any]) -> dict[str, Any]:
    import warnings

    import nashpy

    a = np.asarray(request["a"], dtype=float)
    b = np.asarray(request["b"], dtype=float)
    kind = request["kind"]
    found: list[Any] = []
    errors: list[Any] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        game = nashpy.Game(a, b)
        if kind == "support":
            found = [[x.tolist(), y.tolist()] for x, y in game.support_enumeration()]
        elif kind == "vertex":
            found = [[x.tolist(), y.tolist()] for x, y in game.vertex_enumeration()]
        else:
            for label in request["labels"]:
                try:
                    x, y = game.lemke_howson(initial_dropped_label=label)
                except Exception as exc:  # one bad label must not lose the others
                    errors.append([label, f"{type(exc).__name__}: {exc}"])
                    continue
                found.append([label, np.asarray(x).tolist(), np.asarray(y).tolist()])
    messages: list[str] = []
    for warning in caught:
        text = " ".join(str(warning.message).split())
        if text not in messages:
            messages.append(text)
    return {"status": "ok", "found": found, "errors": errors, "warnings": messages}
