"""The JSON contract of ``negsim run --json``.

Later releases add fields but never change or remove these::

    {"scenario": str, "file": str, "games": [
      {"name": str, "kind": "strategic", "players": [str],
       "strategies": {player: [str]},
       "complete": bool,
       "solutions": [
         {"concept": "nash", "method": str, "pure": bool,
          "profile": {player: {strategy: probability}},
          "payoffs": {player: float},
          "regret": {player: float}}]}]}

``complete`` is true only when every Nash equilibrium is listed (every extreme
equilibrium, for two players); a complete list of pure equilibria alone
(``"scope": "all pure equilibria"``) leaves it false, since mixed equilibria
were not searched.

Added beside them: ``question``, ``negsim_version``, ``run`` (how to redo the run:
version, method, dominance, tolerance, the parameter values used and which were
overridden with ``--set``), ``method`` (the method run),
``scope`` (what ``complete`` refers to), ``degenerate``, ``tolerance`` (the
regret tolerance every solution was verified to), ``rejected``, ``notes``,
``dominated``; per solution ``exact_profile`` (fractions as strings, when the
game is rational) and ``deal`` (the deal terms behind a pure equilibrium of a
scenario game).
"""

from __future__ import annotations

from typing import Any

from simulator.analysis import Analysis, GameAnalysis
from simulator.equilibrium import Equilibrium


def analysis_to_json(analysis: Analysis) -> dict[str, Any]:
    """The JSON-ready dictionary for ``analysis`` (plain Python types only)."""
    return {
        "scenario": analysis.title,
        "file": analysis.file,
        "question": analysis.question,
        "negsim_version": analysis.meta.get("negsim_version"),
        "run": dict(analysis.meta),
        "games": [_game(g) for g in analysis.games],
    }


def _game(ga: GameAnalysis) -> dict[str, Any]:
    game, result = ga.game, ga.result
    return {
        "name": ga.name,
        "kind": ga.kind,
        "players": list(game.players),
        "strategies": {p: list(s) for p, s in zip(game.players, game.strategies, strict=True)},
        "complete": result.lists_all_equilibria,
        "method": result.method,
        "scope": result.scope,
        "degenerate": result.degenerate,
        "tolerance": result.tolerance,
        "rejected": result.rejected,
        "notes": list(result.notes),
        "dominance": ga.dominance,
        "dominated": [
            {"player": p, "strategy": s, "dominated_by": by} for p, s, by in ga.dominated
        ],
        "solutions": [_solution(ga, eq) for eq in result.equilibria],
    }


def _solution(ga: GameAnalysis, eq: Equilibrium) -> dict[str, Any]:
    game = ga.game
    out: dict[str, Any] = {
        "concept": "nash",
        "method": ga.result.method,
        "pure": eq.is_pure,
        "profile": {
            player: {s: float(p) for s, p in zip(labels, probs, strict=True)}
            for player, labels, probs in zip(
                game.players, game.strategies, eq.strategies, strict=True
            )
        },
        "payoffs": {p: float(v) for p, v in zip(game.players, eq.payoffs, strict=True)},
        "regret": {p: float(v) for p, v in zip(game.players, eq.regret, strict=True)},
    }
    if eq.exact is not None:
        out["exact_profile"] = {
            player: {s: str(p) for s, p in zip(labels, probs, strict=True)}
            for player, labels, probs in zip(game.players, game.strategies, eq.exact, strict=True)
        }
    if eq.is_pure and ga.deals:
        key = tuple(int(s.argmax()) for s in eq.strategies)
        deal = ga.deals.get(key)
        out["deal"] = None if deal is None else {k: float(v) for k, v in deal.items()}
    return out
