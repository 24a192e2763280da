"""Field types and the base model shared by the scenario model and the game kinds.

They live here, below both, so that a kind's module (:mod:`simulator.kinds.strategic`,
...) defines its spec from these pieces without importing the scenario model,
which in turn collects the kinds' specs into one discriminated union. Custom
types validate with messages written for people ("expected a number, got the
text '0.4'") and carry their own JSON Schema.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StringConstraints, WithJsonSchema

from simulator.expressions import FUNCTIONS

__all__ = [
    "IDENTIFIER_PATTERN",
    "RESERVED_NAMES",
    "GameSpecBase",
    "Name",
    "Number",
    "SpecModel",
    "Value",
    "shown_value",
]

IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
"""Names (actor ids, parameters, issues, strategies, games): letters, digits, ``_``."""

RESERVED_NAMES = frozenset(FUNCTIONS) | {"and", "or", "not", "if", "else", "lambda", "in", "is"}
"""Words that parameters and issues may not be called (they mean something in expressions)."""


class SpecModel(BaseModel):
    """Base of every scenario model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Name = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]
"""An identifier: letters, digits and ``_``, not starting with a digit."""


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {shown_value(value)}")
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    return float(value)


Number = Annotated[
    float,
    PlainValidator(_number),
    WithJsonSchema({"type": "number"}),
]
"""A finite number (an integer or a decimal; not text, not true/false)."""


def _value(value: Any) -> int | float | str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a number or an expression (text), got {shown_value(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    return value


Value = Annotated[
    int | float | str,
    PlainValidator(_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number"},
                {"type": "string", "description": "an arithmetic expression"},
            ]
        }
    ),
]
"""A number, or an expression as text. Integers stay ``int`` so that tables can be exact."""


def shown_value(value: Any) -> str:
    """A value as messages show it: ``the text '0.4'``, ``a list``, ``true``."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}"
    return repr(value)


class GameSpecBase(SpecModel):
    """Fields every game kind has. A kind's spec subclasses this and narrows ``kind``."""

    name: Name = Field(
        description="Identifier of the game, unique within the scenario (e.g. `one_shot`).",
    )
    kind: str = Field(description="Which kind of game this is (e.g. `strategic`).")
    description: str = Field(
        default="", description="Optional: one or two sentences on what the game models."
    )
