"""Deals written in scenario files: checking them and turning them into issue values.

A *deal* maps issues to values (numbers or expressions of parameters); issues
it leaves out stay at their ``status_quo``. *No deal* puts every issue at its
status quo. Strategic games use deals as outcomes, bargaining games as
disagreement points, and the scenario's ``deals:`` section names them so that
games can refer to one by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.errors import InputError
from simulator.expressions import ExpressionError, NonFiniteError, parse_expression
from simulator.kinds import CheckContext, did_you_mean

if TYPE_CHECKING:
    from simulator.scenario.model import Scenario
    from simulator.scenario.yaml_source import Path

__all__ = [
    "NO_DEAL",
    "check_deal",
    "check_no_deal",
    "deal_terms",
    "evaluate_value",
    "scenario_error",
]

NO_DEAL = "no_deal"
"""The built-in deal name: every issue at its status quo."""


def check_deal(deal: Mapping[str, Any], context: CheckContext, path: Path) -> None:
    """Report unknown issues, values outside their domain and issues without a value."""
    issues = context.issues
    if issues is None:
        return
    if not issues:
        context.report(path, "a deal sets issues, but the scenario defines no `issues:`")
        return
    for name, value in deal.items():
        where = (*path, name)
        if name not in issues:
            context.report(
                where,
                f"unknown issue {name!r}{did_you_mean(name, issues)}; "
                f"issues are: {', '.join(issues)}",
            )
            continue
        issue = issues[name]
        number = context.constant(value, where, "deal value")
        if issue is not None and number is not None and not issue.contains(number):
            context.report(
                where,
                f"deal value {number:g} for {name!r} is outside its {issue.domain_text()}",
            )
    for name, issue in issues.items():
        if name not in deal and issue is not None and issue.status_quo is None:
            context.report(
                path,
                f"issue {name!r} is not set by this deal and has no status_quo; "
                f"give it a value here or a `status_quo` under issues.{name}",
            )


def check_no_deal(context: CheckContext, path: Path) -> None:
    """Report issues without a status quo, which "no deal" needs."""
    if context.issues is None:
        return
    for name, issue in context.issues.items():
        if issue is not None and issue.status_quo is None:
            context.report(
                path,
                f"no_deal puts every issue at its status_quo, but issue {name!r} has none; "
                f"add `status_quo` under issues.{name}",
            )


def scenario_error(scenario: Scenario, path: Path, message: str) -> InputError:
    """An :class:`InputError` at ``path`` of ``scenario``'s file, with its line."""
    # Imported here: importing simulator.scenario at module level would import the
    # scenario model, which imports the kinds to build its union of game specs.
    from simulator.scenario.yaml_source import format_path

    return InputError.at(scenario.source_file, scenario.line_of(path), format_path(path), message)


def evaluate_value(
    value: int | float | str, parameters: Mapping[str, float], scenario: Scenario, path: Path
) -> float:
    """A number, or an expression of parameters evaluated at ``parameters``."""
    if not isinstance(value, str):
        return float(value)
    try:
        return float(parse_expression(value).evaluate(parameters))
    except ExpressionError as exc:
        raise scenario_error(scenario, path, str(exc)) from None


def deal_terms(
    deal: Mapping[str, Any] | None,
    scenario: Scenario,
    parameters: Mapping[str, float],
    path: Path,
) -> dict[str, float]:
    """Every issue's value under ``deal`` (``None``: no deal), checked against its domain.

    ``path`` is where the deal is written (its values are at ``(*path, issue)``).
    """
    terms: dict[str, float] = {}
    given = deal or {}
    for name, issue in scenario.issues.items():
        if name in given:
            where = (*path, name)
            value = evaluate_value(given[name], parameters, scenario, where)
            if not issue.contains(value):
                raise scenario_error(
                    scenario,
                    where,
                    f"deal value {value:g} for {name!r} is outside its {issue.domain_text()}",
                )
        elif issue.status_quo is not None:
            value = issue.status_quo
        else:
            raise scenario_error(scenario, path, f"issue {name!r} has no status_quo")
        terms[name] = value
    return terms


def utilities_at_deals(
    scenario: Scenario,
    players: Sequence[str],
    parameters: Mapping[str, float],
    terms: Mapping[str, np.ndarray],
    describe: Callable[[int], str],
) -> np.ndarray:
    """Each player's utility at each of ``k`` deals: shape ``(k, len(players))``.

    ``terms`` maps every issue to an array of its ``k`` values; each utility
    is evaluated once on those arrays. ``describe(row)`` names where deal
    ``row`` comes from (a profile, a terminal node), for the error raised when
    a utility is not finite there.
    """
    env: dict[str, Any] = dict(parameters)
    env.update(terms)
    k = len(next(iter(terms.values()))) if terms else 1
    out = np.empty((k, len(players)))
    for i, player in enumerate(players):
        try:
            values = scenario.utility(player).evaluate(env)
        except NonFiniteError as exc:
            row = exc.index[0] if exc.index else 0
            raise scenario_error(
                scenario,
                ("payoffs", player),
                f"the utility of {player} is not finite at {describe(row)}: {exc.message}",
            ) from None
        except ExpressionError as exc:
            raise scenario_error(scenario, ("payoffs", player), str(exc)) from None
        out[:, i] = np.broadcast_to(values, (k,))
    return out
