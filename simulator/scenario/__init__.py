"""Scenario files: the YAML format, its validation, and building games from it.

>>> from simulator.scenario import load_scenario, build_game   # doctest: +SKIP
>>> scenario = load_scenario("scenarios/minerals_us_ukraine.yaml")   # doctest: +SKIP
>>> game = build_game(scenario, scenario.game_names[0])   # doctest: +SKIP

The format is documented in ``docs/scenario-format.md``; its JSON Schema is
``docs/scenario.schema.json`` (:func:`scenario_json_schema`).
"""

from __future__ import annotations

from typing import Any

from simulator.scenario.loader import (
    build_any_game,
    build_game,
    describe_outcomes,
    load_scenario,
    load_scenario_text,
    validate_file,
)
from simulator.scenario.model import Issue, Parameter, Scenario

__all__ = [
    "Issue",
    "Parameter",
    "Scenario",
    "build_any_game",
    "build_game",
    "describe_outcomes",
    "load_scenario",
    "load_scenario_text",
    "scenario_json_schema",
    "validate_file",
]


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (see :mod:`simulator.scenario.schema`)."""
    # Imported here so that ``python -m simulator.scenario.schema`` runs cleanly.
    from simulator.scenario.schema import scenario_json_schema as schema

    return schema()
