"""Kind ``strategic``: a one-shot game in which the players choose simultaneously.

Payoffs are given either as a ``table`` (nested lists indexed by the players'
strategies, innermost the payoff of each player) or by ``outcomes``: rules that
map strategy profiles to a deal, to fixed payoffs or to no deal. The first rule
whose ``when`` matches a profile decides it; a player not named in ``when``
matches any strategy. A deal's payoff to each player is that player's utility
(``payoffs:`` at the top of the scenario) evaluated at the deal's terms, with
issues the deal leaves out at their ``status_quo``; ``no_deal`` puts every issue
at its status quo.

Payoffs are exact (fractions) when every one of them is a literal number or a
constant expression (``3``, ``0.25``, ``"1/3"``); anything computed from
parameters or issues is a float.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import Field, PlainValidator, WithJsonSchema, model_validator

from simulator.game import StrategicGame
from simulator.kinds import CheckContext, check_player_list, did_you_mean, exact_constant, game_path
from simulator.kinds.deals import (
    check_deal,
    check_no_deal,
    deal_terms,
    evaluate_value,
    scenario_error,
    utilities_at_deals,
)
from simulator.kinds.fields import GameSpecBase, Name, SpecModel, Value

if TYPE_CHECKING:
    from simulator.scenario.model import Scenario
    from simulator.scenario.yaml_source import Path

__all__ = ["OutcomeRule", "Spec", "StrategicGameSpec", "build", "check", "describe_outcomes"]

WILDCARD = "*"


def _pattern(value: Any) -> str | tuple[str, ...]:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError('expected a strategy, "*" (any strategy) or a non-empty list of strategies')


Pattern = Annotated[
    str | tuple[str, ...],
    PlainValidator(_pattern),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "description": 'a strategy label, or "*" for any'},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        }
    ),
]


def _table(value: Any) -> Any:
    if not isinstance(value, list):
        raise ValueError("expected a table: nested lists, one level per player")
    return _freeze(value)


def _freeze(value: Any) -> Any:
    return tuple(_freeze(v) for v in value) if isinstance(value, list) else value


Table = Annotated[
    Any,
    PlainValidator(_table),
    WithJsonSchema(
        {
            "type": "array",
            "description": "Nested lists indexed by each player's strategy in `players` "
            "order; the innermost list holds one payoff per player.",
            "items": {"type": ["array", "number", "string"]},
        }
    ),
]


class OutcomeRule(SpecModel):
    """Which profiles lead to which outcome. The first matching rule wins."""

    when: dict[Name, Pattern] | None = Field(
        default=None,
        description='Player -> strategy, "*" or list of strategies. Players not named '
        "match any strategy; an empty or omitted `when` matches every profile.",
    )
    deal: dict[Name, Value] | None = Field(
        default=None,
        description="Issue -> value (number or expression of parameters). Issues left out "
        "take their status_quo. Payoffs come from the actors' utilities.",
    )
    payoffs: dict[Name, Value] | None = Field(
        default=None,
        description="Player -> fixed payoff (number or expression of parameters), "
        "for every player of the game.",
    )
    no_deal: bool = Field(
        default=False,
        strict=True,
        description="`true`: no deal; every issue at its status_quo, payoffs from the "
        "actors' utilities.",
    )

    @model_validator(mode="after")
    def _one_outcome(self) -> OutcomeRule:
        given = [
            key
            for key, present in (
                ("deal", self.deal is not None),
                ("payoffs", self.payoffs is not None),
                ("no_deal", self.no_deal),
            )
            if present
        ]
        if len(given) != 1:
            has = f" (this one has {' and '.join(given)})" if given else ""
            raise ValueError(
                f"a rule needs exactly one of `deal`, `payoffs` and `no_deal: true`{has}"
            )
        return self


class StrategicGameSpec(GameSpecBase):
    """A strategic-form game: simultaneous choices, payoffs by table or by rules."""

    kind: Literal["strategic"] = Field(description="`strategic`.")
    players: tuple[Name, ...] = Field(
        min_length=2, description="Actor ids of the players, 2 or more, distinct."
    )
    strategies: dict[Name, tuple[Name, ...]] = Field(
        description="Player -> list of that player's distinct strategy labels."
    )
    outcomes: tuple[OutcomeRule, ...] | None = Field(
        default=None,
        min_length=1,
        description="Rules mapping strategy profiles to outcomes; first match wins. "
        "Give exactly one of `outcomes` and `table`.",
    )
    table: Table | None = Field(
        default=None,
        description="Payoff table: nested lists indexed by the players' strategies in "
        "`players` order, innermost one payoff per player (numbers or expressions of "
        "parameters). Give exactly one of `outcomes` and `table`.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> StrategicGameSpec:
        if (self.outcomes is None) == (self.table is None):
            raise ValueError(
                "a strategic game needs exactly one of `outcomes` and `table`"
                + (", not both" if self.outcomes is not None else "")
            )
        return self

    @property
    def shape(self) -> tuple[int, ...]:
        """Strategy counts in player order."""
        return tuple(len(self.strategies[p]) for p in self.players)

    def strategy_lists(self) -> list[tuple[str, ...]]:
        """Each player's strategy labels, in player order."""
        return [self.strategies[p] for p in self.players]


Spec = StrategicGameSpec
"""The registry's name for this kind's spec model."""


# ---------------------------------------------------------------- checking
def check(spec: StrategicGameSpec, context: CheckContext, path: Path) -> None:
    """Report what in ``spec`` contradicts the rest of the scenario (see module doc)."""
    strategies_ok = _check_players(spec, context, path)
    if spec.table is not None:
        if strategies_ok:
            _check_table(spec, context, path)
        return
    assert spec.outcomes is not None
    patterns_ok = True
    missing_utility: set[str] = set()
    for k, rule in enumerate(spec.outcomes):
        rule_path = (*path, "outcomes", k)
        patterns_ok &= _check_when(spec, rule, context, rule_path)
        if rule.deal is not None:
            check_deal(rule.deal, context, (*rule_path, "deal"))
        elif rule.payoffs is not None:
            _check_fixed(spec, rule.payoffs, context, (*rule_path, "payoffs"))
        else:
            check_no_deal(context, (*rule_path, "no_deal"))
        if rule.payoffs is None and context.utilities is not None:
            for player in spec.players:
                if (
                    player not in context.utilities
                    and player not in missing_utility
                    and (context.actors is None or player in context.actors)
                ):
                    missing_utility.add(player)
                    field = "deal" if rule.deal is not None else "no_deal"
                    context.report(
                        (*rule_path, field),
                        f"player {player!r} has no utility under `payoffs:`; "
                        "it is needed to value this outcome",
                    )
    if strategies_ok and patterns_ok:
        _check_coverage(spec, context, (*path, "outcomes"))


def _check_players(spec: StrategicGameSpec, context: CheckContext, path: Path) -> bool:
    ok = check_player_list(spec.players, context, path)
    for player in spec.players:
        if player not in spec.strategies:
            context.report((*path, "strategies"), f"no strategies given for player {player!r}")
            ok = False
    for player, labels in spec.strategies.items():
        if player not in spec.players:
            context.report(
                (*path, "strategies", player),
                f"{player!r} is not a player of this game{did_you_mean(player, spec.players)}; "
                f"players are: {', '.join(spec.players)}",
            )
            ok = False
            continue
        if not labels:
            context.report((*path, "strategies", player), "expected at least one strategy")
            ok = False
        labelled: set[str] = set()
        for j, label in enumerate(labels):
            if label in labelled:
                context.report(
                    (*path, "strategies", player, j),
                    f"strategy {label!r} is listed twice for {player}",
                )
                ok = False
            labelled.add(label)
    return ok


def _check_table(spec: StrategicGameSpec, context: CheckContext, path: Path) -> None:
    players, shape = spec.players, spec.shape

    def walk(node: Any, level: int, where: Path) -> None:
        if level < len(players):
            player = players[level]
            labels = ", ".join(spec.strategies[player])
            expected = f"{shape[level]} entries, one per strategy of {player} ({labels})"
        else:
            expected = f"{len(players)} payoffs, one per player ({', '.join(players)})"
        if not isinstance(node, tuple):
            context.report(where, f"expected a list of {expected}")
            return
        size = shape[level] if level < len(players) else len(players)
        if len(node) != size:
            count = f"{len(node)} entr{'y' if len(node) == 1 else 'ies'}"
            context.report(where, f"this list has {count}; expected {expected}")
        for index, item in enumerate(node[:size]):
            if level < len(players):
                walk(item, level + 1, (*where, index))
            elif isinstance(item, bool) or not isinstance(item, (int, float, str)):
                context.report(
                    (*where, index),
                    "expected a payoff: a number or an expression of parameters",
                )
            else:
                context.constant(item, (*where, index), "table entry")

    walk(spec.table, 0, (*path, "table"))


def _check_when(
    spec: StrategicGameSpec, rule: OutcomeRule, context: CheckContext, path: Path
) -> bool:
    ok = True
    for player, pattern in (rule.when or {}).items():
        where = (*path, "when", player)
        if player not in spec.players:
            context.report(
                where,
                f"{player!r} is not a player of this game{did_you_mean(player, spec.players)}; "
                f"players are: {', '.join(spec.players)}",
            )
            ok = False
            continue
        known = spec.strategies.get(player)
        if known is None:
            continue
        labels = (pattern,) if isinstance(pattern, str) else pattern
        for j, label in enumerate(labels):
            if isinstance(pattern, str) and label == WILDCARD:
                continue
            if label not in known:
                at = where if isinstance(pattern, str) else (*where, j)
                context.report(
                    at,
                    f"{label!r} is not a strategy of {player}{did_you_mean(label, known)}; "
                    "strategies are: "
                    + ", ".join(known)
                    + (' (or "*" for any)' if isinstance(pattern, str) else ""),
                )
                ok = False
    return ok


def _check_fixed(
    spec: StrategicGameSpec, payoffs: Mapping[str, Any], context: CheckContext, path: Path
) -> None:
    for player, value in payoffs.items():
        if player not in spec.players:
            context.report(
                (*path, player),
                f"{player!r} is not a player of this game{did_you_mean(player, spec.players)}; "
                f"players are: {', '.join(spec.players)}",
            )
            continue
        context.constant(value, (*path, player), "payoff")
    missing = [p for p in spec.players if p not in payoffs]
    if missing:
        context.report(
            path,
            f"missing payoff for {', '.join(missing)}; a `payoffs` rule gives every player's "
            "payoff",
        )


def _check_coverage(spec: StrategicGameSpec, context: CheckContext, path: Path) -> None:
    assert spec.outcomes is not None
    matched = _match(spec)
    uncovered = np.argwhere(matched < 0)
    if len(uncovered):
        profile = ", ".join(
            f"{p}: {spec.strategies[p][int(s)]}"
            for p, s in zip(spec.players, uncovered[0], strict=True)
        )
        total = int(np.prod(spec.shape))
        context.report(
            path,
            f"profile ({profile}) is not covered by any rule ({len(uncovered)} of {total} "
            "profiles uncovered); add a rule for it or end with a catch-all rule (`when: {}`)",
        )


# ------------------------------------------------------------------ building
# id(spec) -> (weak reference to the spec, its _match table). Specs are frozen, so
# the table never goes stale; a spec's entry leaves with the spec (the weak
# reference's callback), so many scenarios in one process leak nothing. Keyed on
# identity: hashing a spec would hash every rule, and costs about what matching does.
_MATCHED: dict[int, tuple[weakref.ref[StrategicGameSpec], np.ndarray]] = {}


def _match(spec: StrategicGameSpec) -> np.ndarray:
    """Index of the first rule matching each profile (-1: none); shape ``spec.shape``.

    Read-only; computed once per spec object (sweeps build its game at every point).
    """
    key = id(spec)
    hit = _MATCHED.get(key)
    if hit is not None and hit[0]() is spec:
        return hit[1]
    matched = _match_rules(spec)
    matched.flags.writeable = False

    def forget(_: object, key: int = key) -> None:
        _MATCHED.pop(key, None)

    _MATCHED[key] = (weakref.ref(spec, forget), matched)
    return matched


def _match_rules(spec: StrategicGameSpec) -> np.ndarray:
    """:func:`_match` computed afresh."""
    assert spec.outcomes is not None
    shape = spec.shape
    n = len(shape)
    matched = np.full(shape, -1, dtype=np.int64)
    for k, rule in enumerate(spec.outcomes):
        mask = np.ones(shape, dtype=bool)
        for player, pattern in (rule.when or {}).items():
            if pattern == WILDCARD:
                continue
            axis = spec.players.index(player)
            labels = (pattern,) if isinstance(pattern, str) else pattern
            allowed = np.isin(np.asarray(spec.strategies[player]), np.asarray(labels))
            mask &= allowed.reshape([-1 if a == axis else 1 for a in range(n)])
        matched[mask & (matched < 0)] = k
    return matched


def _exact_or_number(
    value: int | float | str, parameters: Mapping[str, float], scenario: Scenario, path: Path
) -> Fraction | float:
    exact = exact_constant(value)
    return exact if exact is not None else evaluate_value(value, parameters, scenario, path)


def _profile_text(spec: StrategicGameSpec, profile: Sequence[int]) -> str:
    return ", ".join(
        f"{p}: {spec.strategies[p][int(s)]}" for p, s in zip(spec.players, profile, strict=True)
    )


def build(
    spec: StrategicGameSpec, scenario: Scenario, parameters: Mapping[str, float]
) -> StrategicGame:
    """The :class:`~simulator.game.StrategicGame` of ``spec`` under ``parameters``.

    Players are the actor ids, strategies the labels, in file order; the payoff
    array has shape ``(n, m_0, ..., m_{n-1})`` as in :mod:`simulator.game`.
    """
    path = game_path(spec, scenario)
    if spec.table is not None:
        payoffs = _table_payoffs(spec, scenario, parameters, path)
    else:
        payoffs = _rule_payoffs(spec, scenario, parameters, path)
    return StrategicGame.from_payoffs(payoffs, spec.players, spec.strategy_lists(), spec.name)


def _table_payoffs(
    spec: StrategicGameSpec, scenario: Scenario, parameters: Mapping[str, float], path: Path
) -> np.ndarray:
    n, shape = len(spec.players), spec.shape
    cells = np.empty((n, *shape), dtype=object)
    for profile in np.ndindex(*shape):
        entry: Any = spec.table
        for s in profile:
            entry = entry[s]
        for i in range(n):
            where = (*path, "table", *profile, i)
            cells[(i, *profile)] = _exact_or_number(entry[i], parameters, scenario, where)
    return _exact_or_float(cells)


def _exact_or_float(cells: np.ndarray) -> np.ndarray:
    """Fractions if every payoff is exact, otherwise floats."""
    if all(isinstance(v, Fraction) for v in cells.flat):
        return cells
    return cells.astype(float)


def _rule_payoffs(
    spec: StrategicGameSpec, scenario: Scenario, parameters: Mapping[str, float], path: Path
) -> np.ndarray:
    assert spec.outcomes is not None
    n, shape = len(spec.players), spec.shape
    matched = _match(spec)
    if np.any(matched < 0):
        first = np.argwhere(matched < 0)[0]
        raise scenario_error(
            scenario,
            (*path, "outcomes"),
            f"profile ({_profile_text(spec, first)}) is not covered by any rule",
        )
    cells = np.empty((n, *shape), dtype=object)
    valued = np.zeros(shape, dtype=bool)  # profiles valued by the utilities
    issue_grid = {name: np.zeros(shape) for name in scenario.issues}
    for k, rule in enumerate(spec.outcomes):
        mask = matched == k
        if not mask.any():
            continue
        rule_path = (*path, "outcomes", k)
        if rule.payoffs is not None:
            for i, player in enumerate(spec.players):
                value = _exact_or_number(
                    rule.payoffs[player], parameters, scenario, (*rule_path, "payoffs", player)
                )
                cells[i][mask] = value
            continue
        valued |= mask
        terms = deal_terms(rule.deal, scenario, parameters, (*rule_path, "deal"))
        for name, value in terms.items():
            issue_grid[name][mask] = value
    if valued.any():
        profiles = np.argwhere(valued)

        def describe(row: int) -> str:
            profile = profiles[row]
            rule_index = int(matched[tuple(profile)])
            return (
                f"profile ({_profile_text(spec, profile)}), whose outcome is "
                f"games[{path[-1]}].outcomes[{rule_index}] "
                f"(line {scenario.line_of((*path, 'outcomes', rule_index))})"
            )

        deal_arrays = {name: grid[valued] for name, grid in issue_grid.items()}
        utilities = utilities_at_deals(scenario, spec.players, parameters, deal_arrays, describe)
        for i in range(len(spec.players)):
            cells[i][valued] = utilities[:, i]
    return _exact_or_float(cells)


def describe_outcomes(
    spec: StrategicGameSpec, scenario: Scenario, parameters: Mapping[str, float]
) -> dict[tuple[str, ...], dict[str, float] | None]:
    """Profile (strategy labels in player order) -> the deal it leads to.

    The deal lists every issue's value (terms the rule leaves out at their
    status quo). Profiles whose rule is ``no_deal`` or fixed ``payoffs``, and
    every profile of a ``table`` game, map to ``None``.
    """
    labels = spec.strategy_lists()
    profiles = [
        tuple(labels[i][s] for i, s in enumerate(profile)) for profile in np.ndindex(*spec.shape)
    ]
    if spec.table is not None:
        return dict.fromkeys(profiles)
    assert spec.outcomes is not None
    path = game_path(spec, scenario)
    matched = _match(spec)
    deals: dict[int, dict[str, float]] = {}
    result: dict[tuple[str, ...], dict[str, float] | None] = {}
    for labelled, profile in zip(profiles, np.ndindex(*spec.shape), strict=True):
        k = int(matched[profile])
        rule = spec.outcomes[k] if k >= 0 else None
        if rule is None or rule.deal is None:
            result[labelled] = None
            continue
        if k not in deals:
            deals[k] = deal_terms(rule.deal, scenario, parameters, (*path, "outcomes", k, "deal"))
        result[labelled] = dict(deals[k])
    return result
