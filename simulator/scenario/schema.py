"""The JSON Schema of scenario files, generated from the pydantic model.

Editors use it to complete and check scenario files as they are written (see
``docs/scenario-format.md``). The checked-in ``docs/scenario.schema.json`` is
this module's output, and a test keeps the two equal::

    python -m simulator.scenario.schema > docs/scenario.schema.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

from simulator.scenario.model import Scenario

__all__ = ["SCHEMA_DIALECT", "scenario_json_schema", "schema_text"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file, as a dict."""
    schema = Scenario.model_json_schema()
    return {"$schema": SCHEMA_DIALECT, **schema}


def schema_text() -> str:
    """:func:`scenario_json_schema` as the text of ``docs/scenario.schema.json``."""
    return json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    """Print the schema to standard output."""
    sys.stdout.write(schema_text())


if __name__ == "__main__":
    main()
