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

Strategic games with ``--concept`` get further ``solutions`` entries beside the
``"nash"`` ones (Nash equilibria of games of any number of players are always
``"nash"`` entries, as above)::

    {"concept": "qre", "method": "logit", "converged": bool, "reason": str,
     "lambda": float, "lambdas": [float],
     "path": {player: {strategy: [probability]}},
     "profile": {player: {strategy: probability}},
     "payoffs": {player: float}, "regret": {player: float}}

the logit QRE path: ``lambdas`` its precision values (in the game's payoff
units, from 0), ``path`` each strategy's probability at each of them;
``converged`` whether it ended at a verified Nash equilibrium, which is then
given as ``profile``, ``payoffs`` and ``regret`` (absent otherwise), reached at
``lambda``; ``reason`` says how the trace ended. And, per objective (the most
welfare, then each player's highest payoff)::

    {"concept": "correlated", "method": "correlated-lp", "objective": str,
     "also_optimal_for": [str],
     "distribution": [{"profile": {player: strategy}, "probability": float}],
     "payoffs": {player: float}, "welfare": float, "max_violation": float}

with ``exact_probability`` (a fraction as a string) in each distribution entry
and ``exact_payoffs`` when the distribution is exact.

Game trees (scenario games of kind ``sequential``, ``.efg`` files) are entries
with ``"kind": "sequential"``, ``"strategies": {}``, ``"complete": false`` (a
tree's list is never claimed to hold every Nash equilibrium), ``method``,
``scope``, ``scope_complete`` (whether the list holds everything ``scope``
names, e.g. every pure subgame-perfect equilibrium), ``tolerance``,
``rejected``, ``notes``, ``information_sets`` (``{player: {infoset: [action]}}``,
a set named by its label, or by its number within the player when it has
none) and ``solutions``::

    {"concept": "subgame_perfect" | "nash", "method": str, "pure": bool,
     "behavior": {player: {infoset: {action: probability}}},
     "path": [{"player": str, "infoset": str, "action": str, "probability": float}],
     "payoffs": {player: float}, "regret": {player: float}}

``"subgame_perfect"`` when verified in every subgame, ``"nash"`` when verified
in the whole game (the sequence form, the reduced strategic form). ``path``
lists every move made with positive probability, in preorder (``"player":
"chance"`` for chance moves); ``probability`` is the probability that the move
is made. Added when known: ``exact_behavior`` (fractions as strings) and
``deal`` (the deal terms where play ends in one deal).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.analysis import Analysis, AnyGameAnalysis, GameAnalysis
from simulator.equilibrium import Equilibrium

if TYPE_CHECKING:
    from simulator.analysis import BargainingAnalysis, CoalitionAnalysis, SequentialAnalysis


def analysis_to_json(analysis: Analysis) -> dict[str, Any]:
    """The JSON-ready dictionary for ``analysis`` (plain Python types only)."""
    return {
        "scenario": analysis.title,
        "file": analysis.file,
        "question": analysis.question,
        "negsim_version": analysis.meta.get("negsim_version"),
        "run": dict(analysis.meta),
        "games": [_any_game(g) for g in analysis.games],
    }


def _any_game(ga: AnyGameAnalysis) -> dict[str, Any]:
    from simulator.analysis import BargainingAnalysis, SequentialAnalysis

    if isinstance(ga, GameAnalysis):
        return _game(ga)
    if isinstance(ga, SequentialAnalysis):
        return _sequential(ga)
    if isinstance(ga, BargainingAnalysis):
        return _bargaining(ga)
    return _coalition(ga)


def plain(value: Any) -> Any:
    """``value`` with numpy arrays and scalars, tuples and mappings as JSON types."""
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, (np.floating, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _by_player(players: tuple[str, ...], values: Any) -> dict[str, float]:
    return {p: float(v) for p, v in zip(players, values, strict=True)}


def _bargaining(ba: BargainingAnalysis) -> dict[str, Any]:
    game, result = ba.game, ba.result
    problem = game.problem
    players = problem.players
    zone = result.zone
    return {
        "name": ba.name,
        "kind": "bargaining",
        "players": list(players),
        "strategies": {},
        "complete": False,
        "scope": "bargaining solutions, one per concept",
        "issues": list(problem.issues),
        "bargained": [
            name
            for name, lo, hi in zip(problem.issues, problem.lower, problem.upper, strict=True)
            if hi > lo
        ],
        "disagreement": _by_player(players, problem.disagreement),
        "disagreement_source": dict(zip(players, game.disagreement_sources, strict=True)),
        "deal_exists": zone.exists,
        "zone": {
            "exists": zone.exists,
            "margin": zone.margin,
            "blocking": list(zone.blocking),
            "shortfall": zone.shortfall,
            "deal": None
            if zone.deal is None
            else dict(zip(problem.issues, plain(zone.deal), strict=True)),
        },
        "concepts": list(result.concepts),
        "failed": dict(result.failed),
        "rejected": [
            {"concept": sol.concept, "failures": list(check.failures)}
            for sol, check in result.rejected
        ],
        "solutions": [
            {
                "concept": sol.concept,
                "agreement": sol.agreement,
                "deal": sol.deal_terms() if sol.agreement else None,
                "payoffs": _by_player(players, sol.payoffs),
                "gains": _by_player(players, sol.gains),
                "unique": sol.unique,
                "notes": list(sol.notes),
                "evidence": plain(sol.evidence),
                "checked": {
                    "feasible": check.feasible,
                    "payoffs_match": check.payoffs_match,
                    "individually_rational": check.individually_rational,
                    "undominated": check.undominated,
                    "tolerance": check.tolerance,
                },
            }
            for sol, check in zip(result.solutions, result.checks, strict=True)
        ],
    }


def _coalition(ca: CoalitionAnalysis) -> dict[str, Any]:
    game, result = ca.game, ca.result
    tu = game.game
    players = tu.players
    issues = tuple(game.problem.issues) if game.problem is not None else ()

    def members(mask: int) -> list[str]:
        return [p for i, p in enumerate(players) if mask >> i & 1]

    def deal_of(mask: int) -> dict[str, float] | None:
        if game.derived is None:
            return None
        deal = game.derived.deals.get(mask)
        return None if deal is None else dict(zip(issues, plain(deal), strict=True))

    solutions = []
    for sol in result.solutions:
        entry: dict[str, Any] = {
            "concept": sol.concept,
            "payoffs": None if sol.payoffs is None else _by_player(players, sol.payoffs),
            "deal": None if sol.deal is None else dict(sol.deal),
            "checked": list(sol.checked),
            "notes": list(sol.notes),
        }
        if sol.concept == "core":
            entry["empty"] = bool(sol.details["empty"])
            entry["least_core_epsilon"] = float(sol.details["least_core_epsilon"])
            if "vertices" in sol.details:
                entry["vertices"] = [_by_player(players, v) for v in sol.details["vertices"]]
        if sol.concept == "banzhaf":
            entry["index"] = _by_player(players, sol.details["index"])
        solutions.append(entry)
    return {
        "name": ca.name,
        "kind": "coalition",
        "players": list(players),
        "strategies": {},
        "complete": False,
        "scope": "coalition solutions, one per concept",
        "deal_space": game.source or None,
        "worths": [
            {"coalition": members(mask), "worth": float(tu.v[mask]), "deal": deal_of(mask)}
            for mask in range(1, 1 << tu.n)
        ],
        "failed": dict(result.failed),
        "ntu_core": [
            {
                "solution": name,
                "in_core": bool(check.in_core),
                "blocking": [
                    {
                        "coalition": list(block[0]),
                        "margin": float(block[1]),
                        "deal": None
                        if block[2] is None
                        else dict(zip(issues, plain(block[2]), strict=True)),
                    }
                    for block in check.blocking
                ],
            }
            for name, check in result.ntu.items()
        ],
        "solutions": solutions,
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
        "solutions": [
            *(_solution(ga, eq) for eq in result.equilibria),
            *([_qre(ga)] if ga.qre is not None else []),
            *_correlated(ga),
        ],
    }


def _correlated(ga: GameAnalysis) -> list[dict[str, Any]]:
    if ga.correlated is None:
        return []
    from simulator.report.correlated_table import correlated_json

    return correlated_json(ga.correlated)


def _qre(ga: GameAnalysis) -> dict[str, Any]:
    """The logit QRE entry: the path's lambda values and profiles, and its limit."""
    path, game = ga.qre, ga.game
    assert path is not None
    out: dict[str, Any] = {
        "concept": "qre",
        "method": "logit",
        "converged": path.converged,
        "reason": path.reason,
        "lambda": float(path.last_lambda),
        "lambdas": [float(x) for x in path.lambdas],
        "path": {
            player: {
                s: [float(p) for p in column] for s, column in zip(labels, probs.T, strict=True)
            }
            for player, labels, probs in zip(
                game.players, game.strategies, path.profiles, strict=True
            )
        },
    }
    if path.end is not None:
        eq = path.end
        out["profile"] = {
            player: {s: float(p) for s, p in zip(labels, probs, strict=True)}
            for player, labels, probs in zip(
                game.players, game.strategies, eq.strategies, strict=True
            )
        }
        out["payoffs"] = _by_player(game.players, eq.payoffs)
        out["regret"] = _by_player(game.players, eq.regret)
    return out


def _sequential(sa: SequentialAnalysis) -> dict[str, Any]:
    """A game tree: its information sets and verified behaviour-strategy equilibria.

    ``complete`` keeps the contract's meaning (every Nash equilibrium listed), so
    it is false for trees; ``scope`` says what the list does hold (for example
    every pure subgame-perfect equilibrium).
    """
    from simulator.report.sequential_table import path_deal

    game, result = sa.game, sa.result
    solutions = []
    for eq in result.equilibria:
        entry: dict[str, Any] = {
            "concept": eq.concept,
            "method": result.method,
            "pure": eq.is_pure_in(game),
            "behavior": game.behavior_by_player(eq.behavior),
            "path": [
                {
                    "player": m.mover,
                    "infoset": game.infosets[m.infoset].name,
                    "action": m.action,
                    "probability": m.probability,
                }
                for m in eq.path
            ],
            "payoffs": _by_player(game.players, eq.payoffs),
            "regret": _by_player(game.players, eq.regret),
        }
        if eq.exact is not None:
            entry["exact_behavior"] = {
                game.players[h.player]: {} for h in game.infosets if h.player is not None
            }
            for h in game.infosets:
                if h.player is not None:
                    entry["exact_behavior"][game.players[h.player]][h.name] = {
                        a: str(p) for a, p in zip(h.actions, eq.exact[h.index], strict=True)
                    }
        deal = path_deal(game, eq)
        if deal is not None:
            entry["deal"] = {k: float(v) for k, v in deal.items()}
        solutions.append(entry)
    return {
        "name": sa.name,
        "kind": "sequential",
        "players": list(game.players),
        "strategies": {},
        "information_sets": {
            player: {h.name: list(h.actions) for h in game.player_infosets(i)}
            for i, player in enumerate(game.players)
        },
        "complete": False,
        "method": result.method,
        "scope": result.scope,
        "scope_complete": result.complete,
        "tolerance": result.tolerance,
        "rejected": result.rejected,
        "notes": list(result.notes),
        "solutions": solutions,
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
