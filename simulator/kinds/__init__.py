"""Game kinds a scenario can hold, and the contract each kind's module meets.

A kind is one module, registered in :data:`KINDS` under the name written in
scenario files (``kind: strategic``). Adding a kind (sequential, bargaining,
coalition, ...) is a new module plus one entry here; the scenario model, the
JSON Schema, the loader and ``negsim validate`` pick it up from the registry.

Each kind's module defines:

``Spec``
    a pydantic model subclassing :class:`simulator.kinds.fields.GameSpecBase`
    with ``kind: Literal["<name>"]`` and a ``description`` on every field;
``check(spec, context, path) -> None``
    the checks that need the rest of the scenario (players are actors, names
    exist, values in range, ...), reported through ``context.report``;
``build(spec, scenario, parameters) -> game``
    the game with ``parameters`` (name -> value, overrides applied);
``describe_outcomes(spec, scenario, parameters)`` (optional)
    what each outcome of the game means in terms of the deal, for reports.
"""

from __future__ import annotations

import difflib
import importlib
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol, cast

from simulator.expressions import Expression, ExpressionError, parse_expression

if TYPE_CHECKING:
    from simulator.kinds.fields import GameSpecBase
    from simulator.scenario.model import Issue, Parameter, Scenario
    from simulator.scenario.yaml_source import Path

__all__ = [
    "KINDS",
    "CheckContext",
    "GameKind",
    "check_player_list",
    "did_you_mean",
    "exact_constant",
    "game_path",
    "load_kind",
    "spec_models",
]

KINDS: dict[str, str] = {
    "strategic": "simulator.kinds.strategic",
    "bargaining": "simulator.kinds.bargaining",
    "coalition": "simulator.kinds.coalition",
    "sequential": "simulator.kinds.sequential",
}
"""Kind name (as written after ``kind:``) -> module implementing it."""


class GameKind(Protocol):
    """What :func:`load_kind` returns: the module of one kind."""

    Spec: type[GameSpecBase]

    def check(self, spec: Any, context: CheckContext, path: Path) -> None: ...

    def build(self, spec: Any, scenario: Scenario, parameters: Mapping[str, float]) -> Any: ...


@cache
def load_kind(name: str) -> GameKind:
    """The module implementing kind ``name`` (a key of :data:`KINDS`)."""
    try:
        module_name = KINDS[name]
    except KeyError:
        raise KeyError(f"unknown game kind {name!r}; kinds are {', '.join(KINDS)}") from None
    return cast(GameKind, importlib.import_module(module_name))


def spec_models() -> tuple[type[GameSpecBase], ...]:
    """Every registered kind's spec model, in registry order."""
    return tuple(load_kind(name).Spec for name in KINDS)


def did_you_mean(word: str, options: Collection[str], *, after: str = "") -> str:
    """``" (did you mean 'guarantee'?)"`` when ``word`` looks like a misspelt option.

    With ``after`` (e.g. ``"column 7"``) the hint shares its parentheses:
    ``" (column 7; did you mean 'guarantee'?)"``, or ``" (column 7)"`` without one.
    """
    close = difflib.get_close_matches(word, list(options), n=1)
    hint = f"did you mean {close[0]!r}?" if close else ""
    inside = "; ".join(part for part in (after, hint) if part)
    return f" ({inside})" if inside else ""


def game_path(spec: GameSpecBase, scenario: Scenario) -> Path:
    """Where ``spec`` sits in ``scenario`` (``("games", i)``), for error messages."""
    for i, game in enumerate(scenario.games):
        if game is spec:
            return ("games", i)
    return ("games",)


def check_player_list(players: Collection[str], context: CheckContext, path: Path) -> bool:
    """Report players listed twice or not actors (at ``(*path, "players", i)``).

    Returns ``False`` when a player is listed twice.
    """
    seen: set[str] = set()
    ok = True
    for i, player in enumerate(players):
        where = (*path, "players", i)
        if player in seen:
            context.report(where, f"player {player!r} is listed twice")
            ok = False
        seen.add(player)
        if context.actors is not None and player not in context.actors:
            context.report(
                where,
                f"{player!r} is not an actor{did_you_mean(player, context.actors)}; "
                f"actors are: {', '.join(context.actors)}",
            )
    return ok


def exact_constant(value: int | float | str) -> Fraction | None:
    """The exact value of a literal: ints, decimals (via ``repr``) and constant text.

    ``3`` -> 3, ``0.1`` -> 1/10 (the decimal as written, not the binary float),
    ``"1/3"`` -> 1/3; anything with a name or an irrational function -> ``None``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(repr(value)) if math.isfinite(value) else None
    try:
        return parse_expression(value).exact_value()
    except ExpressionError:
        return None


@dataclass
class CheckContext:
    """What is known of a scenario after the structural pass, for semantic checks.

    Names are known even where their entries have structural errors (those are
    reported already); an entry that failed is ``None`` so that checks needing
    its content are skipped rather than repeated. A whole part is ``None`` when
    it is not a mapping at all.

    ``actors``: actor ids. ``parameters`` and ``issues``: name -> model or
    ``None``. ``utilities``: actor -> parsed utility from ``payoffs:``, or
    ``None`` when that expression is invalid. ``deals``: the names in
    ``deals:`` (``None`` when that part is invalid). ``games``: name -> spec of
    every game that passed the structural pass, for kinds that refer to other
    games (a bargaining game's outside option, a coalition game's deal space).
    """

    actors: Collection[str] | None
    parameters: Mapping[str, Parameter | None] | None
    issues: Mapping[str, Issue | None] | None
    utilities: Mapping[str, Expression | None] | None
    deals: Collection[str] | None = None
    games: Mapping[str, GameSpecBase] | None = None
    invalid_games: Collection[str] = ()
    problems: list[tuple[Path, str]] = field(default_factory=list)

    def report(self, path: Path, message: str) -> None:
        """Record a problem at ``path`` (a path into the scenario document)."""
        self.problems.append((path, message))

    def parameter_values(self) -> dict[str, float] | None:
        """Parameter name -> value, or ``None`` if the parameters are invalid."""
        if self.parameters is None:
            return None
        values = {name: p.value for name, p in self.parameters.items() if p is not None}
        return values if len(values) == len(self.parameters) else None

    def constant(self, value: int | float | str, path: Path, what: str) -> float | None:
        """Check a number or an expression of parameters; return its value.

        ``what`` names the value in messages ("deal value", "table entry").
        Issue names are rejected (only utilities in ``payoffs:`` may use them).
        Returns ``None`` when the value is invalid or cannot be evaluated.
        """
        if not isinstance(value, str):
            return float(value)
        try:
            expression = parse_expression(value)
        except ExpressionError as exc:
            self.report(path, f"{what} {value!r}: {exc}")
            return None
        for name in sorted(expression.names, key=expression.column_of):
            if self.issues is not None and name in self.issues:
                self.report(
                    path,
                    f"{what} {value!r} uses issue {name!r} (column {expression.column_of(name)}); "
                    "only the actors' utilities in `payoffs:` may use issues, "
                    "here use numbers and parameters",
                )
                return None
            if self.parameters is not None and name not in self.parameters:
                expected = ", ".join(sorted(self.parameters)) or "(no parameters are defined)"
                self.report(
                    path,
                    f"{what} {value!r}: unknown name {name!r}"
                    + did_you_mean(
                        name, self.parameters, after=f"column {expression.column_of(name)}"
                    )
                    + f"; parameters are: {expected}",
                )
                return None
        known = self.parameter_values()
        if known is None:
            return None
        try:
            return float(expression.evaluate(known))
        except ExpressionError as exc:
            self.report(path, f"{what}: {exc}")
            return None
