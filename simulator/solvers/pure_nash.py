r"""All pure Nash equilibria of an n-player strategic game, vectorised.

A pure profile :math:`s` is a Nash equilibrium when every player's strategy is
a best response to the others: :math:`u_i(s) \ge \max_k u_i(k, s_{-i})` for all
:math:`i` (Nash 1951; e.g. Fudenberg and Tirole 1991, Sec. 1.2). With the payoff
tensor of :mod:`simulator.game`, the maxima for player ``i`` are one reduction of
``payoffs[i]`` along axis ``i``; a profile is an equilibrium when it attains that
maximum (within ``game.tolerance.payoff``) for every player. The whole search is
therefore one ``max`` and one comparison per player over the tensor, an AND of
the results, and one scan for the surviving profiles; no Python loop runs over
profiles.

The same comparison says whether the game has ties among pure best responses
(some player has two or more best responses to some pure profile of the others),
the pure-strategy form of degeneracy, which the result reports as ``degenerate``.
"""

from __future__ import annotations

import time

import numpy as np

from simulator.equilibrium import verify_pure_all
from simulator.game import StrategicGame
from simulator.results import PURE_SCOPE, SolverResult


def pure_best_response_mask(game: StrategicGame) -> tuple[np.ndarray, bool]:
    """Pure equilibria as a boolean mask, and whether pure best responses tie.

    Returns ``(mask, ties)``: ``mask`` has shape ``(m_0, ..., m_{n-1})`` and is true
    exactly at the pure profiles where every player's strategy is a best response
    (within ``game.tolerance.payoff``); ``ties`` is true when some player has at
    least two best responses to some pure profile of the others.
    """
    payoffs = game.payoffs
    shape = game.shape
    tol = game.tolerance.payoff
    mask = np.empty(shape, dtype=bool)
    scratch = np.empty(shape, dtype=bool) if game.n_players > 1 else mask
    profiles = mask.size
    ties = False
    for i in range(game.n_players):
        threshold = payoffs[i].max(axis=i, keepdims=True)
        threshold -= tol
        best = mask if i == 0 else scratch
        np.greater_equal(payoffs[i], threshold, out=best)
        # Every opponent profile has at least one best response, so a count above
        # the number of opponent profiles means some opponent profile has two.
        if not ties and np.count_nonzero(best) > profiles // shape[i]:
            ties = True
        if i > 0:
            np.logical_and(mask, best, out=mask)
    return mask, ties


def pure_equilibrium_indices(game: StrategicGame) -> tuple[np.ndarray, bool]:
    """Indices of the pure equilibria, shape ``(k, n)``, in C order, and the ties flag.

    Row ``r`` is the profile ``(s_0, ..., s_{n-1})`` of the ``r``-th equilibrium.
    This is the unverified search; :func:`pure_nash` verifies what it finds.
    """
    mask, ties = pure_best_response_mask(game)
    flat = np.flatnonzero(mask)
    return np.stack(np.unravel_index(flat, game.shape), axis=1), ties


def pure_nash(game: StrategicGame) -> SolverResult:
    """All pure Nash equilibria of ``game`` (any number of players), verified.

    Every pure profile is checked at once (see the module docstring), so the
    list is complete: ``complete=True`` with scope "all pure equilibria".
    ``degenerate`` is ``True`` when some player has two or more pure best
    responses to some pure profile of the others (ties), and ``None`` otherwise:
    the absence of pure ties does not rule out degeneracy in mixed strategies,
    which this method does not check. Each equilibrium goes through
    :func:`simulator.equilibrium.verify_pure_all`.
    """
    start = time.perf_counter()
    indices, ties = pure_equilibrium_indices(game)
    equilibria, rejected = verify_pure_all(game, indices)
    notes: list[str] = []
    if ties:
        notes.append(
            "some player has several pure best responses to a pure profile of the others "
            "(ties), so the game is degenerate"
        )
    if not equilibria:
        notes.append("the game has no pure Nash equilibrium")
    if rejected:
        notes.append(f"{rejected} candidate profile(s) failed verification and were dropped")
    return SolverResult(
        method="pure_nash",
        game=game,
        equilibria=equilibria,
        complete=True,
        scope=PURE_SCOPE,
        degenerate=True if ties else None,
        rejected=rejected,
        notes=tuple(notes),
        elapsed=time.perf_counter() - start,
    )
