"""The scenario model: what a scenario file may say, as frozen pydantic models.

A scenario names its actors, the parameters (numbers with their sources), the
issues a deal settles, each actor's utility over issues and parameters, and a
list of games. Games are a union discriminated by ``kind``, assembled from the
registry in :mod:`simulator.kinds`, so that a new kind of game is a new module
there and nothing here changes.

Every field carries a description: :func:`simulator.scenario.schema.scenario_json_schema`
turns the model into the JSON Schema that editors use to check scenario files.
Structural rules live in the models; rules that relate one part of a file to
another (a game's players are actors, deal values lie in their issue's range)
are checked by :mod:`simulator.scenario.loader`, which also keeps where in the
file each value was written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import Field, PlainValidator, PrivateAttr, WithJsonSchema, model_validator

from simulator.expressions import Expression, parse_expression
from simulator.kinds import spec_models
from simulator.kinds.fields import GameSpecBase, Name, Number, SpecModel, Value
from simulator.tolerance import RTOL

if TYPE_CHECKING:
    from simulator.scenario.yaml_source import Path, Position

__all__ = [
    "DISTRIBUTIONS",
    "DiscreteSpec",
    "GameSpec",
    "Issue",
    "NormalSpec",
    "Parameter",
    "Scenario",
    "TriangularSpec",
    "UncertainSpec",
    "UniformSpec",
]


class Parameter(SpecModel):
    """A named number, with where it comes from or a flag that it is an assumption."""

    value: Number = Field(description="The number (e.g. `0.4`).")
    source: str | None = Field(
        default=None,
        description="Where the number comes from (article, dataset, page). "
        "Required unless `assumption: true`.",
    )
    assumption: bool = Field(
        default=False,
        strict=True,
        description="`true` when the number is a judgement rather than a sourced figure.",
    )
    note: str | None = Field(default=None, description="Optional: anything a reader should know.")

    @model_validator(mode="after")
    def _sourced(self) -> Parameter:
        if not (self.source and self.source.strip()) and not self.assumption:
            raise ValueError(
                "a parameter needs `source:` (where the number comes from) or `assumption: true`"
            )
        return self


def _range(value: Any) -> tuple[float, float]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value)
    ):
        raise ValueError("expected a range [lo, hi] of two numbers")
    return float(value[0]), float(value[1])


Range = Annotated[
    tuple[float, float],
    PlainValidator(_range),
    WithJsonSchema({"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}),
]


class Issue(SpecModel):
    """One term of a deal: a continuous range or a list of discrete values."""

    range: Range | None = Field(
        default=None,
        description="`[lo, hi]`: the term can take any value from lo to hi (lo < hi). "
        "Give exactly one of `range` and `values`.",
    )
    values: tuple[Number, ...] | None = Field(
        default=None,
        min_length=1,
        description="A list of the distinct values the term can take (e.g. `[0, 0.5, 1]`). "
        "Give exactly one of `range` and `values`.",
    )
    unit: str = Field(description='What the numbers measure (e.g. "share of revenue").')
    description: str = Field(description="What the term is, in a sentence.")
    status_quo: Number | None = Field(
        default=None,
        description="Optional: the value when there is no deal. Needed by `no_deal` outcomes "
        "and by deals that leave this issue out.",
    )

    @model_validator(mode="after")
    def _one_domain(self) -> Issue:
        if (self.range is None) == (self.values is None):
            raise ValueError(
                "an issue needs exactly one of `range: [lo, hi]` and `values: [...]`"
                + (", not both" if self.range is not None else "")
            )
        return self

    def contains(self, value: float) -> bool:
        """Whether ``value`` is in the range or is one of the values.

        Values computed from parameters may carry round-off, so the comparison
        allows :data:`simulator.tolerance.RTOL` relative to the issue's span.
        """
        if self.range is not None:
            lo, hi = self.range
            slack = RTOL * max(hi - lo, abs(lo), abs(hi), 1.0)
            return lo - slack <= value <= hi + slack
        assert self.values is not None
        return any(abs(value - v) <= RTOL * max(abs(v), abs(value), 1.0) for v in self.values)

    def domain_text(self) -> str:
        """``"range [0, 1]"`` or ``"values [0, 0.5, 1]"``, for messages."""
        if self.range is not None:
            return f"range [{self.range[0]:g}, {self.range[1]:g}]"
        assert self.values is not None
        return "values [" + ", ".join(f"{v:g}" for v in self.values) + "]"


# ------------------------------------------------------------ uncertainty
SpecProblem = tuple[tuple[str | int, ...], str]
"""A problem inside one spec: the path below the spec (``("high",)``) and a message."""


DISTRIBUTIONS: tuple[str, ...] = ("uniform", "normal", "triangular", "discrete")
"""The names written after ``distribution:``, in the order the docs list them."""


def _tolerance(*numbers: float) -> float:
    return RTOL * max(1.0, *(abs(x) for x in numbers))


class _UncertainBase(SpecModel):
    distribution: str = Field(description="Which distribution: " + ", ".join(DISTRIBUTIONS) + ".")
    note: str | None = Field(
        default=None, description="Optional: why this distribution (sources, reasoning)."
    )

    def problems(self) -> list[SpecProblem]:
        """Numeric mistakes (bounds out of order, a spread that is not positive, ...).

        Paths are relative to the spec; an empty list means the numbers make a
        distribution.
        """
        raise NotImplementedError

    def support(self) -> tuple[float, float]:
        """The smallest interval holding every possible draw (infinite ends allowed)."""
        raise NotImplementedError

    def contains(self, value: float) -> bool:
        """Whether ``value`` can be drawn (with :data:`~simulator.tolerance.RTOL` slack)."""
        lo, hi = self.support()
        slack = _tolerance(*(x for x in (lo, hi, value) if math.isfinite(x)))
        return lo - slack <= value <= hi + slack

    def support_text(self) -> str:
        """The support as messages show it: ``"[1.5, 2.5]"``, ``"the values [0.3, 0.4]"``."""
        lo, hi = self.support()
        return f"[{lo:g}, {hi:g}]"


def _ordered(low: float, high: float) -> list[SpecProblem]:
    if low < high:
        return []
    return [(("high",), f"expected low < high, got low {low:g} and high {high:g}")]


class UniformSpec(_UncertainBase):
    """Every value from ``low`` to ``high`` equally likely."""

    distribution: Literal["uniform"] = Field(description="`uniform`.")
    low: Number = Field(description="Smallest possible value.")
    high: Number = Field(description="Largest possible value (greater than `low`).")

    def problems(self) -> list[SpecProblem]:
        return _ordered(self.low, self.high)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


class NormalSpec(_UncertainBase):
    """A normal distribution, truncated to ``[low, high]`` when bounds are given."""

    distribution: Literal["normal"] = Field(description="`normal`.")
    mean: Number = Field(description="Mean of the normal before truncation.")
    sd: Number = Field(description="Standard deviation before truncation (positive).")
    low: Number | None = Field(
        default=None, description="Optional lower bound: draws below it are never made."
    )
    high: Number | None = Field(
        default=None, description="Optional upper bound: draws above it are never made."
    )

    def problems(self) -> list[SpecProblem]:
        found: list[SpecProblem] = []
        if not self.sd > 0:
            found.append((("sd",), f"expected a positive standard deviation, got {self.sd:g}"))
        if self.low is not None and self.high is not None:
            found += _ordered(self.low, self.high)
        return found

    def support(self) -> tuple[float, float]:
        return (
            -math.inf if self.low is None else self.low,
            math.inf if self.high is None else self.high,
        )


class TriangularSpec(_UncertainBase):
    """The triangular distribution: density rising from ``low`` to ``mode``, falling to ``high``."""

    distribution: Literal["triangular"] = Field(description="`triangular`.")
    low: Number = Field(description="Smallest possible value.")
    mode: Number = Field(description="Most likely value, from `low` to `high`.")
    high: Number = Field(description="Largest possible value (greater than `low`).")

    def problems(self) -> list[SpecProblem]:
        found = _ordered(self.low, self.high)
        if not found and not self.low <= self.mode <= self.high:
            found.append(
                (
                    ("mode",),
                    f"expected low <= mode <= high, got mode {self.mode:g} outside "
                    f"[{self.low:g}, {self.high:g}]",
                )
            )
        return found

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


class DiscreteSpec(_UncertainBase):
    """A list of values, each with its probability (equal probabilities when none are given)."""

    distribution: Literal["discrete"] = Field(description="`discrete`.")
    values: tuple[Number, ...] = Field(
        min_length=1, description="The distinct values the parameter can take."
    )
    probabilities: tuple[Number, ...] | None = Field(
        default=None,
        description="Optional: the probability of each value, in the same order, summing to 1. "
        "Omitted: every value equally likely.",
    )

    def problems(self) -> list[SpecProblem]:
        found: list[SpecProblem] = []
        for j, value in enumerate(self.values):
            if value in self.values[:j]:
                found.append((("values", j), f"value {value:g} is listed twice"))
        if self.probabilities is None:
            return found
        if len(self.probabilities) != len(self.values):
            found.append(
                (
                    ("probabilities",),
                    f"expected {len(self.values)} probabilities, one per value, "
                    f"got {len(self.probabilities)}",
                )
            )
            return found
        negative = [j for j, p in enumerate(self.probabilities) if p < 0]
        for j in negative:
            shown = f"{self.probabilities[j]:g}"
            found.append((("probabilities", j), f"expected a probability >= 0, got {shown}"))
        total = math.fsum(self.probabilities)
        if not negative and abs(total - 1.0) > RTOL:
            found.append((("probabilities",), f"the probabilities sum to {total:.10g}; expected 1"))
        return found

    def weights(self) -> tuple[float, ...]:
        """The probability of each value (equal when none are given), summing to 1."""
        if self.probabilities is None:
            return tuple(1.0 / len(self.values) for _ in self.values)
        total = math.fsum(self.probabilities)
        return tuple(p / total for p in self.probabilities)

    def support(self) -> tuple[float, float]:
        drawn = [v for v, w in zip(self.values, self.weights(), strict=True) if w > 0]
        return (min(drawn), max(drawn))

    def contains(self, value: float) -> bool:
        return any(
            abs(value - v) <= _tolerance(v, value) and w > 0
            for v, w in zip(self.values, self.weights(), strict=True)
        )

    def support_text(self) -> str:
        return "the values [" + ", ".join(f"{v:g}" for v in self.values) + "]"


if TYPE_CHECKING:
    UncertainSpec = _UncertainBase
else:
    UncertainSpec = Annotated[
        Union[UniformSpec, NormalSpec, TriangularSpec, DiscreteSpec],  # noqa: UP007
        Field(discriminator="distribution"),
    ]


_SPECS = spec_models()
if TYPE_CHECKING:
    GameSpec = GameSpecBase
else:
    GameSpec = Annotated[Union[_SPECS], Field(discriminator="kind")]  # noqa: UP007


class Scenario(SpecModel):
    """A negotiation scenario: actors, sourced parameters, issues, utilities and games."""

    negsim: Literal[1] = Field(
        default=1, description="Format version. Optional; this version of negsim reads 1."
    )
    name: str = Field(description='A short title (e.g. "US–Ukraine minerals deal").')
    question: str = Field(description="The question the scenario answers, in a sentence.")
    sources: tuple[str, ...] = Field(
        default=(), description="Free-text list of the sources the figures come from."
    )
    actors: dict[Name, str] = Field(
        min_length=1,
        description="Actor id -> display name (e.g. `US: United States`). "
        "Ids are names: letters, digits and _.",
    )
    parameters: dict[Name, Parameter] = Field(
        default_factory=dict,
        description="Named numbers used by expressions, each with a `source` or "
        "`assumption: true`.",
    )
    uncertain: dict[Name, UncertainSpec] = Field(
        default_factory=dict,
        description="Optional: parameter name -> the distribution of its value, for "
        "`negsim montecarlo`: `uniform` (low, high), `normal` (mean, sd, optional low/high), "
        "`triangular` (low, mode, high) or `discrete` (values, probabilities).",
    )
    issues: dict[Name, Issue] = Field(
        default_factory=dict, description="The terms a deal settles, by name."
    )
    payoffs: dict[Name, Value] = Field(
        default_factory=dict,
        description="Actor id -> that actor's utility of a deal: an arithmetic expression "
        "of issue and parameter names (see docs/scenario-format.md).",
    )
    deals: dict[Name, dict[Name, Value]] = Field(
        default_factory=dict,
        description="Optional: named deals (deal name -> issue -> value), for games to refer "
        "to by name, e.g. as a disagreement point. Issues a deal leaves out take their "
        "status_quo; `no_deal` (every issue at its status_quo) is always defined.",
    )
    games: tuple[GameSpec, ...] = Field(
        min_length=1,
        description="The games over these actors and issues; each has a `kind`: "
        "`strategic`, `bargaining`, `coalition` or `sequential`.",
    )

    _source_file: str = PrivateAttr(default="<string>")
    _positions: dict[Path, Position] = PrivateAttr(default_factory=dict)
    _utilities: dict[str, Expression] = PrivateAttr(default_factory=dict)

    # ------------------------------------------------------------ provenance
    @property
    def source_file(self) -> str:
        """The file the scenario was read from (``"<string>"`` for text)."""
        return self._source_file

    @property
    def positions(self) -> Mapping[Path, Position]:
        """Path in the document -> where it was written (see ``yaml_source``)."""
        return self._positions

    def line_of(self, path: Path) -> int | None:
        """The line of ``path`` or of its nearest ancestor, ``None`` if unknown."""
        for end in range(len(path), -1, -1):
            found = self._positions.get(path[:end])
            if found is not None:
                return found.line
        return None

    # --------------------------------------------------------------- content
    @property
    def game_names(self) -> tuple[str, ...]:
        """The games' names, in file order."""
        return tuple(game.name for game in self.games)

    def game_index(self, name_or_index: str | int) -> int:
        """Position in :attr:`games` of a game given by name or index."""
        if isinstance(name_or_index, int) and not isinstance(name_or_index, bool):
            if -len(self.games) <= name_or_index < len(self.games):
                return name_or_index % len(self.games)
            raise KeyError(
                f"no game number {name_or_index}; the scenario has {len(self.games)} game(s)"
            )
        names = self.game_names
        if name_or_index in names:
            return names.index(name_or_index)
        raise KeyError(f"no game {name_or_index!r}; games are: {', '.join(names)}")

    def game(self, name_or_index: str | int) -> GameSpecBase:
        """The spec of a game given by name or index."""
        return self.games[self.game_index(name_or_index)]

    def utility(self, actor: str) -> Expression:
        """The parsed utility expression of ``actor`` (from ``payoffs:``)."""
        cached = self._utilities.get(actor)
        if cached is None:
            if actor not in self.payoffs:
                raise KeyError(f"actor {actor!r} has no entry in payoffs:")
            value = self.payoffs[actor]
            cached = parse_expression(value if isinstance(value, str) else repr(value))
            self._utilities[actor] = cached
        return cached

    def parameter_values(self) -> dict[str, float]:
        """Parameter name -> value as written in the file."""
        return {name: p.value for name, p in self.parameters.items()}
