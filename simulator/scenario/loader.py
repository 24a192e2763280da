"""Load scenario files, report every problem with file, line and field, build games.

Loading runs in three passes, and reports all problems found, not only the first:

1. YAML (:mod:`simulator.scenario.yaml_source`): syntax, unsafe tags,
   duplicate keys, keys that are not text;
2. structure (the pydantic model in :mod:`simulator.scenario.model`): missing
   and unknown fields, wrong types; pydantic's messages are rewritten for people
   ("unknown field 'payof'; expected one of: ...");
3. meaning: names are distinct and not reserved, utilities parse and use only
   issues and parameters, uncertain parameters exist and their distributions
   make sense, and each game's own checks (its kind's ``check``), such as
   players being actors and every profile having an outcome.

The third pass runs on every part of the file that passed the second, so one
misspelt field does not hide an unknown actor elsewhere.
"""

from __future__ import annotations

import math
import os
import re
import types
from collections.abc import Callable, Mapping
from pathlib import Path as FilePath
from typing import Annotated, Any, TypeVar, Union, cast, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from simulator.bargaining.game import BargainingGame
from simulator.coalition.game import CoalitionGame
from simulator.errors import InputError, Problem
from simulator.expressions import Expression, ExpressionError, parse_expression
from simulator.extensive.tree import ExtensiveGame
from simulator.game import StrategicGame
from simulator.kinds import KINDS, CheckContext, did_you_mean, load_kind
from simulator.kinds.deals import NO_DEAL, check_deal
from simulator.kinds.fields import IDENTIFIER_PATTERN, RESERVED_NAMES, shown_value
from simulator.scenario.model import (
    DISTRIBUTIONS,
    GameSpec,
    Issue,
    Parameter,
    Scenario,
    UncertainSpec,
)
from simulator.scenario.yaml_source import (
    Path,
    Position,
    format_path,
    nearest_position,
    read_yaml,
)

__all__ = [
    "build_any_game",
    "build_game",
    "describe_outcomes",
    "load_scenario",
    "load_scenario_text",
    "validate_file",
]

_GAME_ADAPTER: TypeAdapter[Any] = TypeAdapter(GameSpec)
_UNCERTAIN_ADAPTER: TypeAdapter[Any] = TypeAdapter(UncertainSpec)
_TAG_FIELDS = ("kind", "distribution")
"""Fields that pick the member of a discriminated union (games, distributions)."""
_M = TypeVar("_M", bound=BaseModel)


# ------------------------------------------------------------------ loading
def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate the scenario file at ``path``.

    Raises :class:`simulator.errors.InputError` carrying every problem found,
    each with the file, line and field path.
    """
    return load_scenario_text(_read_text(path), source=str(path))


def load_scenario_text(text: str, source: str = "<string>") -> Scenario:
    """Validate scenario YAML given as text; ``source`` names it in messages."""
    scenario, problems = _load(text, source)
    if problems:
        raise InputError(problems)
    assert scenario is not None
    return scenario


def validate_file(path: str | os.PathLike[str]) -> list[Problem]:
    """Every problem with the scenario file at ``path`` (empty when it is valid)."""
    try:
        text = _read_text(path)
    except InputError as exc:
        return list(exc.problems)
    return _load(text, str(path))[1]


def _read_text(path: str | os.PathLike[str]) -> str:
    file = str(path)
    try:
        data = FilePath(path).read_bytes()
    except FileNotFoundError:
        raise InputError.at(file, None, "", "no such file") from None
    except IsADirectoryError:
        raise InputError.at(file, None, "", "is a directory, not a scenario file") from None
    except OSError as exc:
        raise InputError.at(file, None, "", f"cannot read the file: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError.at(file, line, "", "the file is not UTF-8 text") from None


def _load(text: str, source: str) -> tuple[Scenario | None, list[Problem]]:
    doc = read_yaml(text)
    problems = [
        Problem(source, None if pos is None else pos.line, format_path(path), message)
        for path, pos, message in doc.problems
    ]
    data = doc.data
    if not isinstance(data, dict):
        if data is None and not problems:
            problems.append(
                Problem(
                    source,
                    None,
                    "",
                    "the file is empty; expected a scenario (name, question, actors, ..., games)",
                )
            )
        elif data is not None:
            problems.append(
                Problem(
                    source,
                    1,
                    "",
                    "expected the scenario's fields (name: ..., question: ..., actors: ..., "
                    f"games: ...) at the top level, got {shown_value(data)}",
                )
            )
        return None, _sorted(problems)

    damaged = {path for path, _, _ in doc.problems if path}
    bad_paths: list[Path] = [path for path, _, _ in doc.problems]
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        translated = [(error, *_translate(error, data)) for error in exc.errors()]
        for error, path, message in translated:
            bad_paths.append(path)
            if error["type"] == "too_short" and any(
                len(other) > len(path) and other[: len(path)] == path for _, other, _ in translated
            ):
                continue  # pydantic counts only the valid items; their errors say more
            if any(path[: len(d)] == d for d in damaged):
                continue  # the YAML pass already reported this value
            pos = nearest_position(doc.positions, path)
            problems.append(Problem(source, _line(pos), format_path(path), message))

    context = _semantic_checks(data, bad_paths)
    for path, message in context.problems:
        pos = nearest_position(doc.positions, path)
        problems.append(Problem(source, _line(pos), format_path(path), message))

    if problems or scenario is None:
        return None, _sorted(problems)
    scenario._source_file = source
    scenario._positions = dict(doc.positions)
    for actor, expression in (context.utilities or {}).items():
        if expression is not None:
            scenario._utilities[actor] = expression
    return scenario, []


def _line(pos: Position | None) -> int | None:
    return None if pos is None else pos.line


def _sorted(problems: list[Problem]) -> list[Problem]:
    order = {id(p): k for k, p in enumerate(problems)}
    return sorted(
        problems, key=lambda p: (p.line if p.line is not None else math.inf, order[id(p)])
    )


# ------------------------------------------------------- pydantic's errors
def _translate(error: Mapping[str, Any], data: Any) -> tuple[Path, str]:
    """The document path of a pydantic error and a message for people."""
    loc = tuple(error["loc"])
    path: list[str | int] = []
    node = data
    model_loc: list[str | int] = []  # loc with the kind tags, for walking the model types
    for item in loc:
        if item == "[key]":
            continue
        model_loc.append(item)
        is_tag = (
            isinstance(node, dict)
            and isinstance(item, str)
            and item not in node
            and any(node.get(tag) == item for tag in _TAG_FIELDS)
        )
        if is_tag:
            continue
        path.append(item)
        if isinstance(node, dict) and isinstance(item, str):
            node = node.get(item)
        elif isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
            node = node[item]
        else:
            node = None
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    at = tuple(path)
    if kind == "missing":
        return at, f"missing required field {str(loc[-1])!r}"
    if kind == "extra_forbidden":
        key = str(loc[-1])
        fields = _fields_at(tuple(model_loc[:-1]))
        message = f"unknown field {key!r}"
        if fields:
            message += f"{did_you_mean(key, fields)}; expected one of: {', '.join(fields)}"
        return at, message
    if kind in ("union_tag_invalid", "union_tag_not_found") and "distribution" in str(
        ctx.get("discriminator")
    ):
        return _distribution_tag(kind, at, value, ctx)
    if kind == "union_tag_invalid":
        return (*at, "kind"), (
            f"unknown game kind {ctx.get('tag')!r}; expected one of: {', '.join(KINDS)}"
        )
    if kind == "union_tag_not_found":
        if not isinstance(value, dict):
            return at, f"expected a game (a mapping with kind, name, ...), got {shown_value(value)}"
        return (*at, "kind"), f"missing required field 'kind'; expected one of: {', '.join(KINDS)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return at, f"expected a mapping (key: value lines), got {shown_value(value)}"
    if kind in ("list_type", "tuple_type"):
        return at, f"expected a list, got {shown_value(value)}"
    if kind == "string_type":
        return at, f"expected text, got {shown_value(value)}"
    if kind == "string_pattern_mismatch":
        return at, (
            f"{value!r} is not a valid name: use letters, digits and _, not starting with a digit"
        )
    if kind in ("too_short", "too_long"):
        bound = "at least" if kind == "too_short" else "at most"
        limit = ctx.get("min_length" if kind == "too_short" else "max_length")
        entries = ("entr" + ("y" if limit == 1 else "ies")) if isinstance(value, dict) else "item"
        entries += "" if isinstance(value, dict) or limit == 1 else "s"
        return at, f"expected {bound} {limit} {entries}, got {ctx.get('actual_length')}"
    if kind == "literal_error":
        if at == ("negsim",):
            return at, f"unsupported format version {value!r}; this negsim reads version 1"
        return at, f"expected {ctx.get('expected')}, got {shown_value(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return at, f"expected true or false, got {shown_value(value)}"
    if kind == "value_error":
        return at, str(error["msg"]).removeprefix("Value error, ")
    return at, str(error["msg"])


def _distribution_tag(kind: str, at: Path, value: Any, ctx: Mapping[str, Any]) -> tuple[Path, str]:
    expected = ", ".join(DISTRIBUTIONS)
    if kind == "union_tag_not_found":
        if not isinstance(value, dict):
            return at, (
                "expected a distribution (a mapping with distribution: "
                f"{expected}, and its numbers), got {shown_value(value)}"
            )
        return (*at, "distribution"), (
            f"missing required field 'distribution'; expected one of: {expected}"
        )
    tag = str(ctx.get("tag"))
    return (*at, "distribution"), (
        f"unknown distribution {tag!r}{did_you_mean(tag, DISTRIBUTIONS)}; "
        f"expected one of: {expected}"
    )


def _fields_at(loc: tuple[str | int, ...]) -> list[str] | None:
    """The field names of the model at ``loc`` (a pydantic location), if any."""
    tp: Any = Scenario
    for item in loc:
        tp = _step(tp, item)
        if tp is None:
            return None
    model = _model_of(tp)
    return None if model is None else list(model.model_fields)


def _strip(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def _model_of(tp: Any) -> type[BaseModel] | None:
    tp = _strip(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _step(tp: Any, item: str | int) -> Any:
    tp = _strip(tp)
    model = _model_of(tp)
    if model is not None:
        field = model.model_fields.get(str(item))
        if field is not None:
            return field.annotation
        return tp if _kind_tag(model) == item else None  # a one-member discriminated union
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (dict, Mapping) and len(args) == 2:
        return args[1]
    if origin in (list, tuple) and args:
        return args[0]
    if origin in (Union, types.UnionType):
        for member in args:
            member_model = _model_of(member)
            if member_model is not None and _kind_tag(member_model) == item:
                return member_model
    return None


def _kind_tag(model: type[BaseModel]) -> str | None:
    for name in _TAG_FIELDS:
        field = model.model_fields.get(name)
        if field is not None:
            tags = get_args(field.annotation)
            return tags[0] if len(tags) == 1 and isinstance(tags[0], str) else None
    return None


# ------------------------------------------------------------- meaning
def _semantic_checks(data: dict[str, Any], bad_paths: list[Path]) -> CheckContext:
    """Cross-checks on every part of ``data`` that passed the structural pass."""

    def ok(path: Path) -> bool:
        # A problem at the top level itself (a key that is not text) spoils nothing below.
        return not any(
            bad[: len(path)] == path or (bad and path[: len(bad)] == bad) for bad in bad_paths
        )

    raw_actors = data.get("actors")
    actors = list(raw_actors) if isinstance(raw_actors, dict) else None
    parameters = _entries(data.get("parameters", {}), "parameters", Parameter, ok)
    issues = _entries(data.get("issues", {}), "issues", Issue, ok)
    context = CheckContext(actors, parameters, issues, None)
    _check_names(context)
    for name, issue in (issues or {}).items():
        if issue is not None:
            _check_issue(name, issue, context)
    _check_uncertain(data.get("uncertain", {}), context, ok)
    payoffs = data.get("payoffs", {})
    if isinstance(payoffs, dict):
        context.utilities = _check_payoffs(
            {actor: value for actor, value in payoffs.items() if ok(("payoffs", actor))}, context
        )

    deals = data.get("deals", {})
    if deals is None:
        context.deals = ()
    elif isinstance(deals, dict):
        context.deals = tuple(deals)
        for name, deal in deals.items():
            if name == NO_DEAL:
                context.report(
                    ("deals", name),
                    f"{NO_DEAL!r} is built in (every issue at its status_quo); "
                    "give this deal another name",
                )
            elif ok(("deals", name)) and isinstance(deal, dict):
                check_deal(deal, context, ("deals", name))

    games = data.get("games")
    if isinstance(games, list):
        seen: dict[str, int] = {}
        specs: list[tuple[int, Any]] = []
        for i, raw in enumerate(games):
            if not ok(("games", i)):
                raw_name = raw.get("name") if isinstance(raw, dict) else None
                if isinstance(raw_name, str):
                    seen.setdefault(raw_name, i)
                continue
            spec = _GAME_ADAPTER.validate_python(raw)
            if spec.name in seen:
                context.report(
                    ("games", i, "name"),
                    f"duplicate game name {spec.name!r} (also games[{seen[spec.name]}])",
                )
            seen.setdefault(spec.name, i)
            specs.append((i, spec))
        # Kinds that refer to other games see every valid one; a game named but
        # invalid is known by name only (its own problems are reported already).
        context.games = {spec.name: spec for _, spec in specs}
        context.invalid_games = frozenset(seen) - set(context.games)
        for i, spec in specs:
            load_kind(spec.kind).check(spec, context, ("games", i))
    return context


def _entries(
    raw: Any, section: str, model: type[_M], ok: Callable[[Path], bool]
) -> dict[str, _M | None] | None:
    """Name -> validated entry (``None`` where the entry has errors) of a mapping part."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        return None
    return {
        name: model.model_validate(entry) if ok((section, name)) else None
        for name, entry in raw.items()
    }


def _check_names(context: CheckContext) -> None:
    for section, names in (("parameters", context.parameters), ("issues", context.issues)):
        for name in names or {}:
            if name in RESERVED_NAMES:
                context.report(
                    (section, name),
                    f"{name!r} cannot be used as a name: it is a function or keyword "
                    "in expressions",
                )
    if context.parameters is not None and context.issues is not None:
        for name in context.issues:
            if name in context.parameters:
                context.report(
                    ("issues", name),
                    f"issue {name!r} has the same name as a parameter; "
                    "parameter and issue names must be distinct",
                )


def _check_issue(name: str, issue: Issue, context: CheckContext) -> None:
    path: Path = ("issues", name)
    if issue.range is not None and not issue.range[0] < issue.range[1]:
        context.report(
            (*path, "range"),
            f"expected [lo, hi] with lo < hi, got [{issue.range[0]:g}, {issue.range[1]:g}]",
        )
        return
    if issue.values is not None:
        for j, value in enumerate(issue.values):
            if value in issue.values[:j]:
                context.report((*path, "values", j), f"value {value:g} is listed twice")
                return
    if issue.status_quo is not None and not issue.contains(issue.status_quo):
        context.report(
            (*path, "status_quo"),
            f"status_quo {issue.status_quo:g} is outside the issue's {issue.domain_text()}",
        )


def _check_uncertain(raw: Any, context: CheckContext, ok: Callable[[Path], bool]) -> None:
    """Uncertain parameters exist, their numbers make a distribution that can draw the value."""
    if not isinstance(raw, dict):
        return  # not a mapping: the structural pass said so
    parameters = context.parameters
    for name, entry in raw.items():
        path: Path = ("uncertain", name)
        if not re.fullmatch(IDENTIFIER_PATTERN, name):
            continue  # not a name at all: the structural pass said so
        parameter = None
        if parameters is not None:
            if name not in parameters:
                if context.issues is not None and name in context.issues:
                    message = (
                        f"{name!r} is an issue, not a parameter; only parameters can be "
                        "uncertain (issues are what a deal settles)"
                    )
                else:
                    known = ", ".join(parameters) or "(none are defined)"
                    message = (
                        f"unknown parameter {name!r}{did_you_mean(name, parameters)}; "
                        f"parameters are: {known}"
                    )
                context.report(path, message)
            parameter = parameters.get(name)
        if not ok(path):
            continue
        spec = _UNCERTAIN_ADAPTER.validate_python(entry)
        problems = spec.problems()
        for below, message in problems:
            context.report((*path, *below), message)
        if not problems and parameter is not None and not spec.contains(parameter.value):
            context.report(
                path,
                f"parameter {name!r} has value {parameter.value:g} under `parameters:`, "
                f"which this {spec.distribution} distribution never draws (its support is "
                f"{spec.support_text()}); make the value a possible draw or widen the distribution",
            )


def _check_payoffs(
    payoffs: Mapping[str, Any], context: CheckContext
) -> dict[str, Expression | None]:
    utilities: dict[str, Expression | None] = {}
    allowed: set[str] | None = None
    if context.parameters is not None and context.issues is not None:
        allowed = set(context.parameters) | set(context.issues)
    for actor, value in payoffs.items():
        path: Path = ("payoffs", actor)
        if context.actors is not None and actor not in context.actors:
            context.report(
                path,
                f"{actor!r} is not an actor{did_you_mean(actor, context.actors)}; "
                f"actors are: {', '.join(context.actors)}",
            )
        text = value if isinstance(value, str) else repr(value)
        try:
            expression = parse_expression(text)
        except ExpressionError as exc:
            context.report(path, f"utility of {actor} {text!r}: {exc}")
            utilities[actor] = None
            continue
        unknown = sorted(expression.names - allowed, key=expression.column_of) if allowed else []
        if allowed is not None and not allowed:
            unknown = sorted(expression.names, key=expression.column_of)
        if unknown:
            name = unknown[0]
            expected = ", ".join(sorted(allowed or ())) or "(none are defined)"
            context.report(
                path,
                f"utility of {actor} {text!r}: unknown name {name!r}"
                + did_you_mean(name, allowed or (), after=f"column {expression.column_of(name)}")
                + f"; expected an issue or parameter: {expected}",
            )
            utilities[actor] = None
            continue
        utilities[actor] = expression
    return utilities


# ------------------------------------------------------------- building
def _resolve_parameters(
    scenario: Scenario, overrides: Mapping[str, float] | None
) -> dict[str, float]:
    values = scenario.parameter_values()
    problems = []
    for name, value in (overrides or {}).items():
        if name not in values:
            known = ", ".join(values) or "(none are defined)"
            problems.append(
                Problem(
                    scenario.source_file,
                    None,
                    f"parameters.{name}",
                    f"unknown parameter {name!r}; parameters are: {known}",
                )
            )
            continue
        number = float(value)
        if not math.isfinite(number):
            problems.append(
                Problem(
                    scenario.source_file,
                    None,
                    f"parameters.{name}",
                    f"expected a finite number, got {value!r}",
                )
            )
            continue
        values[name] = number
    if problems:
        raise InputError(problems)
    return values


def _game_spec(scenario: Scenario, name_or_index: str | int) -> Any:
    try:
        return scenario.game(name_or_index)
    except KeyError as exc:
        raise InputError.at(scenario.source_file, None, "games", str(exc.args[0])) from None


def build_game(
    scenario: Scenario,
    name_or_index: str | int,
    *,
    parameters: Mapping[str, float] | None = None,
) -> StrategicGame:
    """The strategic game ``name_or_index`` of ``scenario``.

    Raises :class:`~simulator.errors.InputError` when that game is of another
    kind (use :func:`build_any_game`).

    ``parameters`` overrides parameter values by name (for sweeps); unknown
    names are an error. Problems that only show with numbers (a utility that is
    not finite at some deal, a deal value pushed out of range by an override)
    raise :class:`~simulator.errors.InputError` pointing at the file's line.
    """
    spec = _game_spec(scenario, name_or_index)
    if spec.kind != "strategic":
        raise InputError.at(
            scenario.source_file,
            scenario.line_of(("games", scenario.game_index(spec.name))),
            f"games.{spec.name}",
            f"game {spec.name!r} is a {spec.kind} game, not a strategic game",
        )
    values = _resolve_parameters(scenario, parameters)
    return cast(StrategicGame, load_kind(spec.kind).build(spec, scenario, values))


def build_any_game(
    scenario: Scenario,
    name_or_index: str | int,
    *,
    parameters: Mapping[str, float] | None = None,
) -> StrategicGame | BargainingGame | CoalitionGame | ExtensiveGame:
    """Like :func:`build_game`, for a game of any kind: strategic, bargaining, coalition or
    sequential (an :class:`~simulator.extensive.tree.ExtensiveGame`)."""
    spec = _game_spec(scenario, name_or_index)
    values = _resolve_parameters(scenario, parameters)
    built = load_kind(spec.kind).build(spec, scenario, values)
    assert isinstance(built, (StrategicGame, BargainingGame, CoalitionGame, ExtensiveGame))
    return built


def describe_outcomes(
    scenario: Scenario,
    game_name: str | int,
    *,
    parameters: Mapping[str, float] | None = None,
) -> dict[tuple[str, ...], dict[str, float] | None]:
    """Strategy profile (labels in player order) -> the deal it leads to, or ``None``.

    A deal maps every issue to its value (terms left out at their status quo);
    ``None`` means no deal (``no_deal`` or fixed ``payoffs`` rules, table games).
    """
    spec = _game_spec(scenario, game_name)
    values = _resolve_parameters(scenario, parameters)
    kind = load_kind(spec.kind)
    describe = getattr(kind, "describe_outcomes", None)
    if describe is None:
        raise NotImplementedError(f"games of kind {spec.kind!r} do not describe their outcomes")
    return cast(dict[tuple[str, ...], "dict[str, float] | None"], describe(spec, scenario, values))
