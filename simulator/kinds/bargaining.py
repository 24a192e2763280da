"""Kind ``bargaining``: players split the deal space, each with a fallback if talks fail.

The deal space is every issue's range (``issues:`` chooses which issues are
bargained over; the others stay at their ``status_quo`` unless ``fixed:`` sets
them), cut by optional linear ``constraints`` such as
``"us_share + eu_share <= 1"``. Payoffs are the actors' utilities
(``payoffs:`` at the top of the scenario). Each player's disagreement payoff is

* a number or an expression of parameters (``US: 0.1``);
* the payoff of a deal: ``no_deal`` (every issue at its status quo, the
  default) or a name from the scenario's ``deals:`` (``UA: eu_offer``), or
  ``{deal: name}``;
* an outside option, ``{outside_option: game}``: the best the player gets in
  another game of the scenario. For a strategic game that is its best payoff in
  any Nash equilibrium found by the default method; for a bargaining game, its
  payoff under that game's Nash bargaining solution.

``weights`` set bargaining powers (generalized Nash solution); ``discount``,
``proposer``, ``protocol``, ``recognition`` and ``quota`` describe alternating
offers (Rubinstein for two players, Baron-Ferejohn for more). ``solutions``
chooses the concepts (default: every one that applies).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, PlainValidator, ValidationError, WithJsonSchema, model_validator

from simulator.bargaining.game import CONCEPTS, BargainingGame
from simulator.bargaining.problem import BargainingProblem
from simulator.expressions import (
    BoundExpression,
    Expression,
    ExpressionError,
    parse_expression,
)
from simulator.kinds import CheckContext, check_player_list, did_you_mean, game_path
from simulator.kinds.deals import (
    NO_DEAL,
    check_no_deal,
    deal_terms,
    evaluate_value,
    scenario_error,
)
from simulator.kinds.fields import GameSpecBase, Name, SpecModel, Value, _value

if TYPE_CHECKING:
    from simulator.scenario.model import Scenario
    from simulator.scenario.yaml_source import Path

__all__ = [
    "BargainingGameSpec",
    "Disagreement",
    "Spec",
    "bargained_issues",
    "build",
    "check",
    "linear_constraint",
    "scenario_utility",
]

FloatArray = npt.NDArray[np.float64]
ConceptName = Literal[
    "nash_bargaining",
    "kalai_smorodinsky",
    "egalitarian",
    "utilitarian",
    "rubinstein",
    "baron_ferejohn",
]
OUTSIDE_OPTION_KINDS = ("strategic", "bargaining")


class Disagreement(SpecModel):
    """Where one player's disagreement payoff comes from; give exactly one field."""

    deal: Name | None = Field(
        default=None,
        description="The payoff of this deal: `no_deal` or a name from the scenario's `deals:`.",
    )
    outside_option: Name | None = Field(
        default=None,
        description="The best the player gets in this other game of the scenario "
        "(strategic: best equilibrium payoff; bargaining: its Nash bargaining payoff).",
    )
    value: Value | None = Field(
        default=None, description="A number or an expression of parameters."
    )

    @model_validator(mode="after")
    def _one_source(self) -> Disagreement:
        given = [k for k in ("deal", "outside_option", "value") if getattr(self, k) is not None]
        if len(given) != 1:
            has = f" (this one has {' and '.join(given)})" if given else ""
            raise ValueError(
                f"a disagreement needs exactly one of `deal`, `outside_option` and `value`{has}"
            )
        return self


DisagreementEntry = int | float | str | Disagreement
_SOURCE_KEYS = frozenset(Disagreement.model_fields)


def _entry(value: Any, who: str) -> DisagreementEntry:
    if isinstance(value, dict):
        unknown = sorted(set(value) - _SOURCE_KEYS)
        if unknown:
            raise ValueError(
                f"{who}unknown field {unknown[0]!r}{did_you_mean(unknown[0], _SOURCE_KEYS)}; "
                "expected one of: deal, outside_option, value"
            )
        try:
            return Disagreement.model_validate(value)
        except ValidationError as exc:
            messages = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            raise ValueError(f"{who}{messages}") from None
    try:
        return _value(value)
    except ValueError as exc:
        raise ValueError(
            f"{who}{exc}, or a mapping such as {{deal: no_deal}} or {{outside_option: game}}"
        ) from None


def _parse_disagreement(value: Any) -> DisagreementEntry | dict[str, DisagreementEntry]:
    """One entry for every player, or player -> entry (see :class:`Disagreement`)."""
    if isinstance(value, dict) and value and not set(value) <= _SOURCE_KEYS:
        entries: dict[str, DisagreementEntry] = {}
        errors: list[str] = []
        for player, v in value.items():
            try:
                entries[str(player)] = _entry(v, f"for {player}: ")
            except ValueError as exc:
                errors.append(str(exc))
        if errors:
            raise ValueError("; ".join(errors))
        return entries
    return _entry(value, "")


_ENTRY_SCHEMA = {
    "anyOf": [
        {"type": "number"},
        {
            "type": "string",
            "description": "a deal name (`no_deal` or from `deals:`) or an "
            "expression of parameters",
        },
        Disagreement.model_json_schema(),
    ]
}
DisagreementField = Annotated[
    DisagreementEntry | dict[str, DisagreementEntry],
    PlainValidator(_parse_disagreement),
    WithJsonSchema(
        {
            "anyOf": [
                *_ENTRY_SCHEMA["anyOf"],
                {"type": "object", "additionalProperties": _ENTRY_SCHEMA},
            ]
        }
    ),
]


class BargainingGameSpec(GameSpecBase):
    """Bargaining over the deal space (see the module docstring)."""

    kind: Literal["bargaining"] = Field(description="`bargaining`.")
    players: tuple[Name, ...] = Field(
        min_length=2, description="Actor ids of the players, 2 or more, distinct."
    )
    issues: tuple[Name, ...] | None = Field(
        default=None,
        description="The issues bargained over (each needs a `range`). Default: every issue "
        "with a range that `fixed` does not set. Other issues stay at their status_quo.",
    )
    fixed: dict[Name, Value] = Field(
        default_factory=dict,
        description="Issue -> value (number or expression of parameters) for terms that "
        "every deal of this game has.",
    )
    constraints: tuple[str, ...] = Field(
        default=(),
        description='Linear constraints on the issues, e.g. `"us_share + eu_share <= 1"` '
        "(`<=`, `>=` or `==`; both sides linear in the issues, parameters allowed).",
    )
    disagreement: DisagreementField = Field(
        default=NO_DEAL,
        description="Each player's payoff if no deal is made: one entry for all players or "
        "player -> entry. An entry is a number or expression, a deal name (`no_deal`, or a "
        "name from `deals:`), or a mapping `{deal: ...}`, `{outside_option: game}` or "
        "`{value: ...}`. Default: `no_deal`.",
    )
    weights: dict[Name, Value] | None = Field(
        default=None,
        description="Player -> bargaining power (positive) for the generalized Nash solution; "
        "only ratios matter. Default: equal.",
    )
    proportions: dict[Name, Value] | None = Field(
        default=None,
        description="Player -> share of the gains (non-negative) for the egalitarian "
        "solution, which then gives gains in these proportions (the proportional solution). "
        "Default: equal gains.",
    )
    discount: dict[Name, Value] | None = Field(
        default=None,
        description="Player -> discount factor per round of offers, in (0, 1). Needed by "
        "`rubinstein` (2 players) and `baron_ferejohn` (3 or more).",
    )
    proposer: Name | None = Field(
        default=None, description="Who makes the first offer. Default: the first player."
    )
    protocol: Literal["random", "rotation"] = Field(
        default="random",
        description="Baron-Ferejohn: who proposes after a rejection, `random` (by "
        "`recognition`) or `rotation` (in `players` order).",
    )
    recognition: dict[Name, Value] | None = Field(
        default=None,
        description="Baron-Ferejohn with `protocol: random`: player -> probability of being "
        "chosen to propose (summing to 1). Default: equal.",
    )
    quota: int | None = Field(
        default=None,
        strict=True,
        description="Baron-Ferejohn: votes needed to pass a proposal, counting the proposer. "
        "Default: every player (unanimity).",
    )
    solutions: tuple[ConceptName, ...] | None = Field(
        default=None,
        min_length=1,
        description="Which solution concepts to compute: "
        + ", ".join(f"`{c}`" for c in CONCEPTS)
        + ". Default: every one that applies.",
    )


Spec = BargainingGameSpec
"""The registry's name for this kind's spec model."""


# ---------------------------------------------------------------- helpers
def _entries(spec: BargainingGameSpec) -> dict[str, DisagreementEntry]:
    """Player -> disagreement entry, expanding a single entry to every player."""
    if isinstance(spec.disagreement, dict):
        return dict(spec.disagreement)
    return dict.fromkeys(spec.players, spec.disagreement)


def bargained_issues(spec: BargainingGameSpec, issues: Mapping[str, Any]) -> list[str]:
    """The issues ``spec`` bargains over: its ``issues``, else every range issue not fixed."""
    if spec.issues is not None:
        return list(spec.issues)
    return [
        name
        for name, issue in issues.items()
        if issue is not None and issue.range is not None and name not in spec.fixed
    ]


_COMPARISON = re.compile(r"<=|>=|==")


def linear_constraint(
    text: str, issues: Sequence[str], parameters: Mapping[str, float]
) -> tuple[FloatArray, FloatArray]:
    """Rows ``(A, b)`` with ``A @ z <= b`` equivalent to the constraint ``text``.

    ``text`` is ``"<lhs> <op> <rhs>"`` with ``op`` one of ``<=``, ``>=``, ``==``
    (two rows) and both sides expressions of ``issues`` and ``parameters``.
    Coefficients are read off by evaluating at the origin and the unit vectors,
    then the fit is confirmed at further points: a side that is not linear in
    the issues raises :class:`ValueError` saying so.
    """
    ops = _COMPARISON.findall(text)
    if len(ops) != 1:
        raise ValueError(
            "expected one comparison (`<=`, `>=` or `==`) between two expressions, "
            f'e.g. "us_share + eu_share <= 1"; found {len(ops)}'
        )
    left_text, right_text = _COMPARISON.split(text)
    try:
        left = parse_expression(left_text)
        right = parse_expression(right_text)
    except ExpressionError as exc:
        raise ValueError(str(exc)) from None
    allowed = set(issues) | set(parameters)
    for side in (left, right):
        unknown = sorted(side.names - allowed)
        if unknown:
            raise ValueError(
                f"unknown name {unknown[0]!r}{did_you_mean(unknown[0], allowed)}; "
                f"a constraint may use issues ({', '.join(issues)}) and parameters"
            )
    k = len(issues)
    rng = np.random.default_rng(0)
    points = np.vstack([np.zeros(k), np.eye(k), rng.random((3, k))])
    env: dict[str, Any] = dict(parameters)
    env.update({name: points[:, j] for j, name in enumerate(issues)})
    try:
        values = np.broadcast_to(left.evaluate(env) - right.evaluate(env), (len(points),))
    except ExpressionError as exc:
        raise ValueError(str(exc)) from None
    offset = float(values[0])
    coefficients = values[1 : k + 1] - offset
    predicted = points[k + 1 :] @ coefficients + offset
    scale = max(1.0, float(np.abs(values).max()))
    if not np.allclose(predicted, values[k + 1 :], rtol=0, atol=1e-9 * scale):
        raise ValueError("the constraint is not linear in the issues")
    if not np.any(coefficients):
        raise ValueError("the constraint does not involve any issue")
    op = ops[0]
    if op == "<=":
        return coefficients[None, :], np.array([-offset])
    if op == ">=":
        return -coefficients[None, :], np.array([offset])
    return np.vstack([coefficients, -coefficients]), np.array([-offset, offset])


class _ScenarioUtility:
    """The actors' utilities as one vectorised map: deals ``(..., k)`` -> ``(..., n)``.

    The optimizers call it thousands of times per problem with the parameters
    fixed, so each expression is bound to them once (:meth:`Expression.bind`:
    the parameter-only sub-expressions folded, the rest compiled) and the
    utilities are checked for finite values together; the answers are bit for
    bit those of evaluating the expressions on the parameters and the deal
    (:meth:`evaluate`), which also gives the errors (a non-finite utility).
    """

    def __init__(
        self,
        expressions: Sequence[Expression],
        issues: Sequence[str],
        parameters: Mapping[str, float],
    ) -> None:
        self.expressions = tuple(expressions)
        self.issues = tuple(issues)
        self.parameters = dict(parameters)
        used = set().union(*(e.names for e in self.expressions)) if self.expressions else set()
        variables = [name for name in self.issues if name in used]
        self._columns = [self.issues.index(name) for name in variables]
        # Issue names shadow parameters of the same name, as in evaluate().
        fixed = {k: v for k, v in self.parameters.items() if k not in self.issues}
        try:
            self._bound: tuple[BoundExpression, ...] | None = tuple(
                e.bind(fixed, variables) for e in self.expressions
            )
        except ExpressionError:
            self._bound = None  # evaluate() raises it, where the caller expects it
        # Proved from the expressions' trees: the optimizers then use exact derivatives.
        self.affine = self._bound is not None and all(e.affine for e in self._bound)

    def __call__(self, z: FloatArray) -> FloatArray:
        z = np.asarray(z, dtype=float)
        if self._bound is None:
            return self.evaluate(z)
        columns = [z[..., j] for j in self._columns]
        out = np.empty((*z.shape[:-1], len(self._bound)))
        with np.errstate(all="ignore"):
            for i, e in enumerate(self._bound):
                out[..., i] = e.unchecked(columns)
        if not np.isfinite(out).all():
            return self.evaluate(z)  # raises, naming the expression and the deal
        return out

    def evaluate(self, z: FloatArray) -> FloatArray:
        """The utilities at deals ``z`` by evaluating the expressions (the reference path)."""
        z = np.asarray(z, dtype=float)
        env: dict[str, Any] = dict(self.parameters)
        env.update({name: z[..., j] for j, name in enumerate(self.issues)})
        shape = z.shape[:-1]
        return np.stack(
            [np.broadcast_to(e.evaluate(env), shape) for e in self.expressions], axis=-1
        )


def scenario_utility(
    scenario: Scenario, players: Sequence[str], parameters: Mapping[str, float]
) -> _ScenarioUtility:
    """The players' utilities over every issue of ``scenario`` (issues in file order)."""
    return _ScenarioUtility(
        [scenario.utility(p) for p in players], list(scenario.issues), parameters
    )


# ---------------------------------------------------------------- checking
def check(spec: BargainingGameSpec, context: CheckContext, path: Path) -> None:
    """Report what in ``spec`` contradicts the rest of the scenario (see module doc)."""
    _check_players(spec, context, path)
    bargained = _check_issues(spec, context, path)
    if bargained is not None:
        _check_constraints(spec, context, path)
    _check_disagreement(spec, context, path)
    _check_protocol(spec, context, path)


def _check_players(spec: BargainingGameSpec, context: CheckContext, path: Path) -> None:
    check_player_list(spec.players, context, path)
    for i, player in enumerate(spec.players):
        known = context.actors is None or player in context.actors
        if known and context.utilities is not None and player not in context.utilities:
            context.report(
                (*path, "players", i),
                f"player {player!r} has no utility under `payoffs:`; bargaining needs "
                "every player's utility of a deal",
            )


def _check_player_keys(
    spec: BargainingGameSpec,
    mapping: Mapping[str, Any],
    context: CheckContext,
    where: Path,
    what: str,
    every: bool,
) -> None:
    for player in mapping:
        if player not in spec.players:
            context.report(
                (*where, player),
                f"{player!r} is not a player of this game{did_you_mean(player, spec.players)}; "
                f"players are: {', '.join(spec.players)}",
            )
    missing = [p for p in spec.players if p not in mapping]
    if every and missing:
        context.report(where, f"missing {what} for {', '.join(missing)}; give one per player")


def _check_issues(spec: BargainingGameSpec, context: CheckContext, path: Path) -> list[str] | None:
    issues = context.issues
    if issues is None:
        return None
    if not issues:
        context.report(path, "a bargaining game needs issues to bargain over; add `issues:`")
        return None
    ok = True
    if spec.issues is not None:
        seen: set[str] = set()
        for j, name in enumerate(spec.issues):
            where = (*path, "issues", j)
            if name in seen:
                context.report(where, f"issue {name!r} is listed twice")
                ok = False
            seen.add(name)
            if name not in issues:
                context.report(
                    where,
                    f"unknown issue {name!r}{did_you_mean(name, issues)}; "
                    f"issues are: {', '.join(issues)}",
                )
                ok = False
                continue
            issue = issues[name]
            if issue is not None and issue.range is None:
                context.report(
                    where,
                    f"issue {name!r} takes listed values ({issue.domain_text()}); bargaining "
                    "splits continuous terms, so give it a `range` or set it under `fixed`",
                )
                ok = False
            if name in spec.fixed:
                context.report(
                    where, f"issue {name!r} is both bargained over and fixed; choose one"
                )
                ok = False
    for name, value in spec.fixed.items():
        where = (*path, "fixed", name)
        if name not in issues:
            context.report(
                where,
                f"unknown issue {name!r}{did_you_mean(name, issues)}; "
                f"issues are: {', '.join(issues)}",
            )
            ok = False
            continue
        number = context.constant(value, where, "fixed value")
        issue = issues[name]
        if issue is not None and number is not None and not issue.contains(number):
            context.report(
                where, f"fixed value {number:g} for {name!r} is outside its {issue.domain_text()}"
            )
            ok = False
    bargained = bargained_issues(spec, issues)
    if not bargained and ok:
        context.report(
            path,
            "no issue is left to bargain over (every issue is fixed or takes listed values); "
            "list the issues under `issues:`",
        )
        return None
    for name, issue in issues.items():
        if issue is None or name in bargained or name in spec.fixed:
            continue
        if issue.status_quo is None:
            context.report(
                path,
                f"issue {name!r} is neither bargained over nor fixed, and has no status_quo; "
                f"add it to `issues`, set it under `fixed`, or give it a `status_quo`",
            )
            ok = False
    return bargained if ok else None


def _check_constraints(spec: BargainingGameSpec, context: CheckContext, path: Path) -> None:
    values = context.parameter_values()
    if values is None or context.issues is None:
        return
    for j, text in enumerate(spec.constraints):
        try:
            linear_constraint(text, list(context.issues), values)
        except ValueError as exc:
            context.report((*path, "constraints", j), f"constraint {text!r}: {exc}")


def _check_disagreement(spec: BargainingGameSpec, context: CheckContext, path: Path) -> None:
    where: Path = (*path, "disagreement")
    single = not isinstance(spec.disagreement, dict)
    if not single:
        assert isinstance(spec.disagreement, dict)
        _check_player_keys(spec, spec.disagreement, context, where, "a disagreement payoff", True)
    for player, entry in _entries(spec).items():
        if player not in spec.players:
            continue
        at = where if single else (*where, player)
        _check_entry(spec, player, entry, context, at)


def _check_entry(
    spec: BargainingGameSpec,
    player: str,
    entry: DisagreementEntry,
    context: CheckContext,
    at: Path,
) -> None:
    if isinstance(entry, Disagreement):
        if entry.deal is not None:
            _check_deal_name(entry.deal, context, (*at, "deal"))
        elif entry.outside_option is not None:
            _check_outside_option(spec, player, entry.outside_option, context, (*at,))
        else:
            assert entry.value is not None
            context.constant(entry.value, (*at, "value"), "disagreement payoff")
        return
    if isinstance(entry, str) and (entry == NO_DEAL or entry in (context.deals or ())):
        _check_deal_name(entry, context, at)
        return
    context.constant(entry, at, "disagreement payoff")


def _check_deal_name(name: str, context: CheckContext, at: Path) -> None:
    if name == NO_DEAL:
        check_no_deal(context, at)
        return
    deals = context.deals
    if deals is not None and name not in deals:
        known = ", ".join([NO_DEAL, *deals])
        context.report(at, f"unknown deal {name!r}{did_you_mean(name, deals)}; deals are: {known}")


def _check_outside_option(
    spec: BargainingGameSpec, player: str, game: str, context: CheckContext, at: Path
) -> None:
    where = (*at, "outside_option")
    if context.games is None or game in context.invalid_games:
        return
    if game == spec.name:
        context.report(where, "a game cannot be its own outside option")
        return
    other = context.games.get(game)
    if other is None:
        known = ", ".join(g for g in context.games if g != spec.name) or "(no other games)"
        context.report(
            where, f"unknown game {game!r}{did_you_mean(game, context.games)}; games are: {known}"
        )
        return
    if other.kind not in OUTSIDE_OPTION_KINDS:
        context.report(
            where,
            f"game {game!r} is of kind {other.kind}; an outside option comes from a "
            f"{' or '.join(OUTSIDE_OPTION_KINDS)} game",
        )
        return
    if player not in getattr(other, "players", ()):
        context.report(where, f"{player} is not a player of game {game!r}")
        return
    cycle = _outside_option_cycle(spec.name, context.games)
    if cycle:
        context.report(
            where, "outside options refer to each other in a circle: " + " -> ".join(cycle)
        )


def _outside_option_cycle(start: str, games: Mapping[str, Any]) -> list[str]:
    """A cycle of outside-option references through ``start``, or ``[]``."""

    def refs(name: str) -> list[str]:
        spec = games.get(name)
        if not isinstance(spec, BargainingGameSpec):
            return []
        return [
            e.outside_option
            for e in _entries(spec).values()
            if isinstance(e, Disagreement) and e.outside_option is not None
        ]

    stack: list[tuple[str, list[str]]] = [(start, [start])]
    while stack:
        name, trail = stack.pop()
        for nxt in refs(name):
            if nxt == start:
                return [*trail, start]
            if nxt not in trail:
                stack.append((nxt, [*trail, nxt]))
    return []


def _check_protocol(spec: BargainingGameSpec, context: CheckContext, path: Path) -> None:
    n = len(spec.players)
    if spec.weights is not None:
        _check_player_keys(spec, spec.weights, context, (*path, "weights"), "a weight", True)
        for player, value in spec.weights.items():
            number = context.constant(value, (*path, "weights", player), "weight")
            if number is not None and not (math.isfinite(number) and number > 0):
                context.report(
                    (*path, "weights", player), f"expected a positive weight, got {number:g}"
                )
    if spec.proportions is not None:
        where = (*path, "proportions")
        _check_player_keys(spec, spec.proportions, context, where, "a proportion", True)
        numbers = [
            context.constant(value, (*where, player), "proportion")
            for player, value in spec.proportions.items()
        ]
        for player, number in zip(spec.proportions, numbers, strict=True):
            if number is not None and not (math.isfinite(number) and number >= 0):
                context.report((*where, player), f"expected a proportion >= 0, got {number:g}")
        if all(number == 0 for number in numbers):
            context.report(where, "at least one proportion must be positive")
    if spec.discount is not None:
        _check_player_keys(
            spec, spec.discount, context, (*path, "discount"), "a discount factor", True
        )
        for player, value in spec.discount.items():
            number = context.constant(value, (*path, "discount", player), "discount factor")
            if number is not None and not 0 < number < 1:
                context.report(
                    (*path, "discount", player),
                    f"expected a discount factor between 0 and 1 (exclusive), got {number:g}",
                )
    if spec.proposer is not None and spec.proposer not in spec.players:
        context.report(
            (*path, "proposer"),
            f"{spec.proposer!r} is not a player of this game"
            f"{did_you_mean(spec.proposer, spec.players)}; players are: {', '.join(spec.players)}",
        )
    if spec.recognition is not None:
        where = (*path, "recognition")
        _check_player_keys(spec, spec.recognition, context, where, "a probability", False)
        total = 0.0
        valid = True
        for player, value in spec.recognition.items():
            number = context.constant(value, (*where, player), "probability")
            if number is None:
                valid = False
                continue
            if not 0 <= number <= 1:
                context.report(
                    (*where, player), f"expected a probability in [0, 1], got {number:g}"
                )
                valid = False
            total += number
        if valid and abs(total - 1) > 1e-9:
            context.report(where, f"recognition probabilities sum to {total:g}; expected 1")
        if spec.protocol != "random":
            context.report(where, "recognition probabilities apply to `protocol: random` only")
    if spec.quota is not None and not 1 <= spec.quota <= n:
        context.report((*path, "quota"), f"expected a quota between 1 and {n}, got {spec.quota}")
    for j, concept in enumerate(spec.solutions or ()):
        where = (*path, "solutions", j)
        if concept in ("rubinstein", "baron_ferejohn") and spec.discount is None:
            context.report(where, f"{concept} needs `discount:` (a discount factor per player)")
        if concept == "rubinstein" and n != 2:
            context.report(
                where, f"rubinstein is for two players; this game has {n} (use baron_ferejohn)"
            )
        if concept == "baron_ferejohn" and n < 3:
            context.report(
                where, "baron_ferejohn is for three or more players; with two use rubinstein"
            )


# ------------------------------------------------------------------ building
def problem_bounds(
    spec: BargainingGameSpec, scenario: Scenario, parameters: Mapping[str, float], path: Path
) -> tuple[FloatArray, FloatArray, FloatArray | None, FloatArray | None]:
    """Bounds ``(lower, upper)`` over every issue and the rows ``(A_ub, b_ub)`` of the game."""
    bargained = set(bargained_issues(spec, scenario.issues))
    lower, upper = [], []
    for name, issue in scenario.issues.items():
        if name in bargained:
            assert issue.range is not None
            lo, hi = issue.range
        else:
            if name in spec.fixed:
                value = evaluate_value(
                    spec.fixed[name], parameters, scenario, (*path, "fixed", name)
                )
            else:
                assert issue.status_quo is not None
                value = issue.status_quo
            lo = hi = value
        lower.append(lo)
        upper.append(hi)
    rows, rhs = [], []
    for j, text in enumerate(spec.constraints):
        try:
            a, b = linear_constraint(text, list(scenario.issues), parameters)
        except ValueError as exc:
            raise scenario_error(scenario, (*path, "constraints", j), str(exc)) from None
        rows.append(a)
        rhs.append(b)
    a_ub = np.vstack(rows) if rows else None
    b_ub = np.concatenate(rhs) if rhs else None
    return np.array(lower), np.array(upper), a_ub, b_ub


def build(
    spec: BargainingGameSpec, scenario: Scenario, parameters: Mapping[str, float]
) -> BargainingGame:
    """The :class:`~simulator.bargaining.game.BargainingGame` of ``spec`` under ``parameters``.

    The problem's issues are every issue of the scenario, in file order: those
    bargained over span their range, the others are fixed (``lower == upper``)
    at their ``fixed`` value or status quo, so that a solution's deal lists
    every term.
    """
    path = game_path(spec, scenario)
    bargained = set(bargained_issues(spec, scenario.issues))
    lower, upper, a_ub, b_ub = problem_bounds(spec, scenario, parameters, path)
    utility = scenario_utility(scenario, spec.players, parameters)
    disagreement, sources = _disagreement(spec, scenario, parameters, path, utility)
    try:
        problem = BargainingProblem(
            players=spec.players,
            lower=lower,
            upper=upper,
            utility=utility,
            disagreement=disagreement,
            A_ub=a_ub,
            b_ub=b_ub,
            issues=tuple(scenario.issues),
        )
    except ExpressionError as exc:
        raise scenario_error(scenario, ("payoffs",), str(exc)) from None
    except ValueError as exc:
        where = (*path, "constraints") if spec.constraints else path
        raise scenario_error(scenario, where, _problem_message(str(exc))) from None

    def per_player(mapping: Mapping[str, Any] | None, field: str) -> FloatArray | None:
        if mapping is None:
            return None
        return np.array(
            [
                evaluate_value(mapping[p], parameters, scenario, (*path, field, p))
                if p in mapping
                else 0.0
                for p in spec.players
            ]
        )

    try:
        return BargainingGame(
            problem=problem,
            title=spec.name,
            weights=per_player(spec.weights, "weights"),
            proportions=per_player(spec.proportions, "proportions"),
            discount=per_player(spec.discount, "discount"),
            proposer=spec.players.index(spec.proposer) if spec.proposer else 0,
            protocol=spec.protocol,
            recognition=per_player(spec.recognition, "recognition"),
            quota=spec.quota,
            concepts=tuple(spec.solutions or ()),
            disagreement_sources=sources,
            in_play=tuple(
                name for name in scenario.issues if name in spec.fixed or name in bargained
            ),
        )
    except ValueError as exc:
        raise scenario_error(scenario, path, str(exc)) from None


def _problem_message(text: str) -> str:
    if "deal space is empty" in text:
        return (
            "no deal satisfies the constraints with the fixed terms and status quo values "
            "(the deal space is empty)"
        )
    return text


def _disagreement(
    spec: BargainingGameSpec,
    scenario: Scenario,
    parameters: Mapping[str, float],
    path: Path,
    utility: _ScenarioUtility,
) -> tuple[FloatArray, tuple[str, ...]]:
    """Each player's disagreement payoff ``(n,)`` and a phrase saying where it comes from."""
    single = not isinstance(spec.disagreement, dict)
    entries = _entries(spec)
    values: list[float] = []
    sources: list[str] = []
    payoffs: dict[str, FloatArray] = {}  # deal name -> every player's utility of it
    for i, player in enumerate(spec.players):
        entry = entries[player]
        at: Path = (*path, "disagreement") if single else (*path, "disagreement", player)
        deal_name: str | None = None
        if isinstance(entry, Disagreement):
            if entry.deal is not None:
                deal_name = entry.deal
                at = (*at, "deal")
            elif entry.outside_option is not None:
                value, text = _outside_option(player, entry.outside_option, scenario, parameters)
                values.append(value)
                sources.append(text)
                continue
            else:
                assert entry.value is not None
                values.append(evaluate_value(entry.value, parameters, scenario, (*at, "value")))
                sources.append("given")
                continue
        elif isinstance(entry, str) and (entry == NO_DEAL or entry in scenario.deals):
            deal_name = entry
        if deal_name is None:
            assert not isinstance(entry, Disagreement)
            values.append(evaluate_value(entry, parameters, scenario, at))
            sources.append("given")
            continue
        sources.append("no deal" if deal_name == NO_DEAL else f"deal {deal_name}")
        if deal_name not in payoffs:
            if deal_name == NO_DEAL:
                terms = deal_terms(None, scenario, parameters, at)
            else:
                terms = deal_terms(
                    scenario.deals[deal_name], scenario, parameters, ("deals", deal_name)
                )
            z = np.array([terms[name] for name in scenario.issues])
            try:
                payoffs[deal_name] = utility(z)
            except ExpressionError as exc:
                raise scenario_error(scenario, ("payoffs", player), str(exc)) from None
        values.append(float(payoffs[deal_name][i]))
    return np.array(values), tuple(sources)


def _outside_option(
    player: str, game: str, scenario: Scenario, parameters: Mapping[str, float]
) -> tuple[float, str]:
    """The best ``player`` gets in ``game`` and a phrase saying how it was found."""
    from simulator.kinds import load_kind

    spec = scenario.game(game)
    built = load_kind(spec.kind).build(spec, scenario, parameters)
    if isinstance(built, BargainingGame):
        from simulator.bargaining import nash_bargaining

        solution = nash_bargaining(built.problem, built.weights)
        i = built.players.index(player)
        return float(solution.payoffs[i]), f"outside option: Nash bargaining in {game}"
    from simulator.solvers import solve

    result = solve(built, "auto")
    if not result.equilibria:
        raise scenario_error(
            scenario,
            ("games", scenario.game_index(game)),
            f"game {game!r} is {player}'s outside option, but no equilibrium was found "
            f"({result.scope}) to value it",
        )
    i = built.players.index(player)
    best = max(float(eq.payoffs[i]) for eq in result.equilibria)
    return best, f"outside option: best equilibrium of {game}"
