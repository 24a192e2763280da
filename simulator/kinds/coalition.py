"""Kind ``coalition``: what each group of actors can secure, and how to share it.

The characteristic function is given one of two ways:

* ``values``: a table, coalition -> worth, a coalition written as its members
  joined by ``+`` (``"US+UA": 1.2``); ``default`` fills coalitions not listed;
* ``deal_space``: derived from a bargaining game of the same scenario (same
  players). ``needs`` says whose consent each issue needs to move from its
  status quo (default: every player's); a coalition can only move the issues
  all of whose needed actors are members, and is worth the most its members'
  utilities can sum to on that restricted deal space (or the sum of their
  disagreement payoffs, if more). So the US and Russia can make an aluminium
  deal without Ukraine but cannot touch Ukraine's minerals.

For a derived game the report also tests the bargaining game's solutions
against the NTU core (no coalition can make all its members strictly better
off on its own), since utility need not be transferable between states.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from simulator.coalition.game import COALITION_CONCEPTS, CoalitionGame
from simulator.coalition.tu_game import MAX_PLAYERS, TUGame
from simulator.kinds import CheckContext, check_player_list, did_you_mean, game_path
from simulator.kinds.bargaining import BargainingGameSpec, bargained_issues
from simulator.kinds.deals import evaluate_value, scenario_error
from simulator.kinds.fields import GameSpecBase, Name, Number, Value

if TYPE_CHECKING:
    from simulator.scenario.model import Scenario
    from simulator.scenario.yaml_source import Path

__all__ = ["CoalitionGameSpec", "Spec", "build", "check", "parse_coalition"]

ConceptName = Literal["core", "shapley", "banzhaf", "nucleolus"]
NTU_CANDIDATES = ("nash_bargaining", "kalai_smorodinsky", "egalitarian", "utilitarian")


class CoalitionGameSpec(GameSpecBase):
    """A coalition game by table or derived from a bargaining game (see module doc)."""

    kind: Literal["coalition"] = Field(description="`coalition`.")
    players: tuple[Name, ...] | None = Field(
        default=None,
        min_length=1,
        description="Actor ids of the players. Required with `values`; with `deal_space` "
        "they default to (and must equal) the bargaining game's players.",
    )
    values: dict[str, Value] | None = Field(
        default=None,
        description='Coalition -> worth, a coalition written as members joined by "+" '
        '(e.g. `"US+UA": 1.2`); numbers or expressions of parameters. Give exactly one of '
        "`values` and `deal_space`.",
    )
    default: Number | None = Field(
        default=None,
        description="With `values`: the worth of every coalition not listed. Without it, "
        "every non-empty coalition must be listed.",
    )
    deal_space: Name | None = Field(
        default=None,
        description="Name of a bargaining game of this scenario: each coalition's worth is "
        "the most its members' utilities can sum to on the deals it can make alone.",
    )
    needs: dict[Name, tuple[Name, ...]] = Field(
        default_factory=dict,
        description="With `deal_space`: issue -> the players whose consent moving it from "
        "its status quo needs. Issues not listed need every player.",
    )
    solutions: tuple[ConceptName, ...] | None = Field(
        default=None,
        min_length=1,
        description="Which concepts to compute: "
        + ", ".join(f"`{c}`" for c in COALITION_CONCEPTS)
        + ". Default: all.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> CoalitionGameSpec:
        if (self.values is None) == (self.deal_space is None):
            raise ValueError(
                "a coalition game needs exactly one of `values` (a table) and `deal_space` "
                "(a bargaining game)" + (", not both" if self.values is not None else "")
            )
        if self.values is not None and self.players is None:
            raise ValueError("a coalition game given by `values` needs `players`")
        if self.values is not None and self.needs:
            raise ValueError("`needs` applies to games derived from a `deal_space` only")
        return self


Spec = CoalitionGameSpec
"""The registry's name for this kind's spec model."""


def parse_coalition(text: str, players: tuple[str, ...]) -> frozenset[str]:
    """The members of a coalition written ``"US+UA"`` (spaces allowed); ``ValueError`` if bad."""
    members = [part.strip() for part in text.split("+")]
    if not text.strip() or any(not m for m in members):
        raise ValueError(f'expected members joined by "+", e.g. "{"+".join(players[:2])}"')
    unknown = [m for m in members if m not in players]
    if unknown:
        raise ValueError(
            f"{unknown[0]!r} is not a player{did_you_mean(unknown[0], players)}; "
            f"players are: {', '.join(players)}"
        )
    if len(set(members)) != len(members):
        raise ValueError("a member is listed twice")
    return frozenset(members)


# ---------------------------------------------------------------- checking
def check(spec: CoalitionGameSpec, context: CheckContext, path: Path) -> None:
    """Report what in ``spec`` contradicts the rest of the scenario (see module doc)."""
    players = _check_players(spec, context, path)
    if spec.values is not None and players is not None:
        _check_table(spec, players, context, path)
    if spec.deal_space is not None:
        _check_deal_space(spec, context, path)
    if spec.solutions is not None:
        for j, concept in enumerate(spec.solutions):
            if concept in spec.solutions[:j]:
                context.report((*path, "solutions", j), f"{concept} is listed twice")


def _check_players(
    spec: CoalitionGameSpec, context: CheckContext, path: Path
) -> tuple[str, ...] | None:
    if spec.players is None:
        return None
    ok = check_player_list(spec.players, context, path)
    if len(spec.players) > MAX_PLAYERS:
        context.report((*path, "players"), f"at most {MAX_PLAYERS} players are supported")
        ok = False
    return spec.players if ok else None


def _check_table(
    spec: CoalitionGameSpec, players: tuple[str, ...], context: CheckContext, path: Path
) -> None:
    assert spec.values is not None
    seen: dict[frozenset[str], str] = {}
    for key, value in spec.values.items():
        where = (*path, "values", key)
        try:
            members = parse_coalition(key, players)
        except ValueError as exc:
            context.report(where, f"coalition {key!r}: {exc}")
            continue
        if members in seen:
            context.report(where, f"coalition {key!r} is the same as {seen[members]!r}")
        seen[members] = key
        context.constant(value, where, "worth")
    if spec.default is None:
        missing = (1 << len(players)) - 1 - len(seen)
        if missing > 0:
            example = _first_missing(players, set(seen))
            context.report(
                (*path, "values"),
                f"{missing} coalition(s) have no worth, e.g. {'+'.join(example)!r}; "
                "list every non-empty coalition or give `default:` (e.g. 0)",
            )


def _first_missing(players: tuple[str, ...], given: set[frozenset[str]]) -> list[str]:
    for mask in range(1, 1 << len(players)):
        members = frozenset(p for i, p in enumerate(players) if mask >> i & 1)
        if members not in given:
            return [p for p in players if p in members]
    return []


def _check_deal_space(spec: CoalitionGameSpec, context: CheckContext, path: Path) -> None:
    assert spec.deal_space is not None
    where = (*path, "deal_space")
    if context.games is None or spec.deal_space in context.invalid_games:
        return
    source = context.games.get(spec.deal_space)
    if source is None:
        bargaining = [g for g, s in context.games.items() if s.kind == "bargaining"]
        context.report(
            where,
            f"unknown game {spec.deal_space!r}{did_you_mean(spec.deal_space, context.games)}; "
            f"bargaining games are: {', '.join(bargaining) or '(none)'}",
        )
        return
    if source.kind != "bargaining":
        context.report(
            where, f"game {spec.deal_space!r} is of kind {source.kind}; expected a bargaining game"
        )
        return
    source_players: tuple[str, ...] = getattr(source, "players", ())
    if spec.players is not None and tuple(spec.players) != tuple(source_players):
        context.report(
            (*path, "players"),
            f"the players must be those of {spec.deal_space!r}, in its order: "
            f"{', '.join(source_players)} (or leave `players` out)",
        )
    if len(source_players) > MAX_PLAYERS:
        context.report(where, f"at most {MAX_PLAYERS} players are supported")
    for issue, members in spec.needs.items():
        at = (*path, "needs", issue)
        if context.issues is not None and issue not in context.issues:
            context.report(
                at,
                f"unknown issue {issue!r}{did_you_mean(issue, context.issues)}; "
                f"issues are: {', '.join(context.issues)}",
            )
        if not members:
            context.report(at, "expected at least one player")
        for j, member in enumerate(members):
            if member not in source_players:
                context.report(
                    (*at, j),
                    f"{member!r} is not a player of {spec.deal_space!r}"
                    f"{did_you_mean(member, source_players)}; players are: "
                    f"{', '.join(source_players)}",
                )
    if context.issues is not None and isinstance(source, BargainingGameSpec):
        bargained = set(bargained_issues(source, context.issues))
        for name, entry in context.issues.items():
            if name in bargained and entry is not None and entry.status_quo is None:
                context.report(
                    where,
                    f"issue {name!r} has no status_quo; a coalition that cannot move an "
                    f"issue leaves it at its status quo, so add `status_quo` under "
                    f"issues.{name}",
                )


# ------------------------------------------------------------------ building
def build(
    spec: CoalitionGameSpec, scenario: Scenario, parameters: Mapping[str, float]
) -> CoalitionGame:
    """The :class:`~simulator.coalition.game.CoalitionGame` of ``spec`` under ``parameters``."""
    path = game_path(spec, scenario)
    concepts = tuple(spec.solutions or ())
    if spec.values is not None:
        assert spec.players is not None
        worths: dict[Any, float] = {}
        for key, value in spec.values.items():
            members = parse_coalition(key, spec.players)
            worths[members] = evaluate_value(value, parameters, scenario, (*path, "values", key))
        try:
            tu = TUGame.from_mapping(
                worths, players=spec.players, default=spec.default, title=spec.name
            )
        except ValueError as exc:
            raise scenario_error(scenario, (*path, "values"), str(exc)) from None
        return CoalitionGame(game=tu, title=spec.name, concepts=concepts)
    return _derived(spec, scenario, parameters, path, concepts)


def _derived(
    spec: CoalitionGameSpec,
    scenario: Scenario,
    parameters: Mapping[str, float],
    path: Path,
    concepts: tuple[str, ...],
) -> CoalitionGame:
    from simulator.bargaining.game import BargainingGame, solve_bargaining
    from simulator.coalition.deal_space import derived_tu_game
    from simulator.kinds import load_kind

    assert spec.deal_space is not None
    source_spec = scenario.game(spec.deal_space)
    source = load_kind(source_spec.kind).build(source_spec, scenario, parameters)
    assert isinstance(source, BargainingGame)
    problem = source.problem
    players = problem.players
    index = {p: i for i, p in enumerate(players)}
    issues = list(problem.issues)
    everyone = frozenset(range(len(players)))
    needs = tuple(
        frozenset(index[m] for m in spec.needs[name]) if name in spec.needs else everyone
        for name in issues
    )
    status_quo = np.array(
        [
            scenario.issues[name].status_quo
            if problem.upper[j] > problem.lower[j]
            else problem.lower[j]
            for j, name in enumerate(issues)
        ],
        dtype=float,
    )
    try:
        derived = derived_tu_game(problem, needs, status_quo)
    except ValueError as exc:
        raise scenario_error(scenario, (*path, "deal_space"), str(exc)) from None
    result = solve_bargaining(source, [c for c in NTU_CANDIDATES])
    candidates: dict[str, Any] = {
        sol.concept: np.asarray(sol.deal) for sol in result.solutions if sol.deal is not None
    }
    return CoalitionGame(
        game=TUGame(derived.game.players, derived.game.v, spec.name),
        title=spec.name,
        source=spec.deal_space,
        derived=derived,
        problem=problem,
        needs=needs,
        status_quo=status_quo,
        candidates=candidates,
        concepts=concepts,
    )
