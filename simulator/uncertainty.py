"""Uncertain parameters: distributions, reproducible draws, Monte Carlo summaries.

A scenario's ``uncertain:`` block gives some parameters a distribution instead
of one number (see ``docs/scenario-format.md``, "Uncertain parameters"). A
Monte Carlo run draws ``n`` points (each a value for every uncertain
parameter), solves the game at each point, and summarizes the records (the
flat dicts of :mod:`simulator.outcomes`).

Sampling
    Every distribution is sampled by inversion: draw ``u`` uniform on (0, 1)
    and return ``F^{-1}(u)`` (Devroye 1986, *Non-Uniform Random Variate
    Generation*, section II.2). The truncated normal uses
    :func:`scipy.stats.truncnorm` 's inverse CDF, which stays inside the bounds
    by construction, unlike rejection, and costs the same for any truncation.

Streams
    Each parameter has its own stream of uniforms: a PCG64 generator (O'Neill
    2014; NumPy's default bit generator) seeded by
    ``SeedSequence(seed, spawn_key=sha256(name))``. So draws are reproducible for
    a seed, independent between parameters, and adding or removing another
    uncertain parameter leaves a parameter's draws unchanged. Draw ``i`` of a
    parameter is the ``i``-th 64-bit output of its stream, and PCG64 can jump
    ahead (``advance``) in O(log i), so any range of draws ``start..stop`` is
    computed without the draws before it: chunking never changes the values.
    Uniforms are made from the raw 64-bit outputs (top 52 bits, ``(k + 1/2) /
    2**52``), which NumPy keeps stable across versions (NEP 19), and lie
    strictly inside (0, 1) so that unbounded inverses stay finite.
    :class:`MonteCarloPoints` offers the draws as a lazy sequence of points for
    :func:`simulator.runner.run_points`; a point holds the uncertain parameters
    only (the ``parameters=`` overrides of a game's build).

Summaries
    :class:`SummaryAccumulator` reads records chunk by chunk. Boolean columns
    (``deal_exists``, ``<concept>.agreement``) give probabilities with the
    binomial standard error ``sqrt(p (1 - p) / n)`` and the Wilson (1927) score
    interval; text columns (``equilibrium_set``, ``signature``) give the
    probability of each distinct value the same way; numeric columns give the
    mean with its standard error (``sd / sqrt(n)``, the draws being
    independent) and quantiles with a distribution-free confidence interval
    from order statistics (see :func:`quantile_interval`). Means and
    probabilities are exact when streaming (counts and Chan, Golub & LeVeque's
    1979 pairwise update of mean and sum of squares); quantiles are exact
    because the accumulator keeps every value of every numeric column (8 bytes
    per value: 8 MB per column for a million draws), unless it is told not to.
    A column that never has a value (``deal.<issue>`` when no point has a
    deal) is left out of the summary.
"""

from __future__ import annotations

import hashlib
import math
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from simulator.errors import InputError

if TYPE_CHECKING:
    from simulator.scenario.model import Scenario, UncertainSpec

__all__ = [
    "QUANTILE_LEVELS",
    "SAMPLER_FORMAT",
    "Convergence",
    "Discrete",
    "Distribution",
    "MonteCarloPoints",
    "MonteCarloSummary",
    "Normal",
    "NumericSummary",
    "ParameterSampler",
    "ProbabilityEstimate",
    "QuantileEstimate",
    "SummaryAccumulator",
    "Triangular",
    "Uniform",
    "distribution_from_spec",
    "distributions_of",
    "monte_carlo_points",
    "new_seed",
    "parameter_sampler",
    "points_for",
    "quantile_interval",
    "sample_parameters",
    "summarize",
    "wilson_interval",
]

FloatArray = npt.NDArray[np.float64]

QUANTILE_LEVELS: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
"""The quantiles a summary reports by default."""


# ------------------------------------------------------------ distributions
class Distribution(ABC):
    """A distribution of one parameter's value, sampled by inverting its CDF."""

    @abstractmethod
    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        """The inverse CDF at ``u`` (values in (0, 1), any shape): the draws ``u`` maps to."""

    @property
    @abstractmethod
    def mean(self) -> float:
        """The expected value."""

    @property
    @abstractmethod
    def variance(self) -> float:
        """The variance."""

    @property
    @abstractmethod
    def support(self) -> tuple[float, float]:
        """The smallest interval holding every possible draw (ends may be infinite)."""

    def contains(self, value: float) -> bool:
        """Whether ``value`` can be drawn (for a discrete distribution: is one of its values)."""
        lo, hi = self.support
        return lo <= value <= hi

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` independent draws, using ``n`` raw outputs of ``rng``'s bit generator."""
        return self.ppf(_open_uniforms(rng.bit_generator, n))


@dataclass(frozen=True)
class Uniform(Distribution):
    """Every value in ``[low, high]`` equally likely."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _check_order(self.low, self.high)

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        return self.low + np.asarray(u, dtype=float) * (self.high - self.low)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


@dataclass(frozen=True)
class Normal(Distribution):
    """The normal distribution ``N(mu, sd**2)``, truncated to ``[low, high]`` when given.

    ``mu`` and ``sd`` are the mean and standard deviation *before* truncation
    (a scenario's ``mean:`` and ``sd:``); the :attr:`mean` property is the
    truncated distribution's mean.
    """

    mu: float
    sd: float
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mu) and math.isfinite(self.sd) and self.sd > 0):
            raise ValueError(f"Normal: expected a finite mean and sd > 0, got {self.mu}, {self.sd}")
        if self.low is not None and self.high is not None:
            _check_order(self.low, self.high)

    @property
    def _bounds(self) -> tuple[float, float]:
        # Standardized truncation points, infinite when a side is unbounded.
        a = -math.inf if self.low is None else (self.low - self.mu) / self.sd
        b = math.inf if self.high is None else (self.high - self.mu) / self.sd
        return a, b

    @property
    def truncated(self) -> bool:
        """Whether a bound is given."""
        return self.low is not None or self.high is not None

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        u = np.asarray(u, dtype=float)
        if not self.truncated:
            return self.mu + self.sd * special.ndtri(u)
        a, b = self._bounds
        x = stats.truncnorm.ppf(u, a, b, loc=self.mu, scale=self.sd)
        # The inverse is exact up to round-off, which may step a last ulp outside.
        lo, hi = self.support
        return np.clip(np.asarray(x, dtype=float), lo, hi)

    @property
    def mean(self) -> float:
        if not self.truncated:
            return self.mu
        a, b = self._bounds
        return float(stats.truncnorm.mean(a, b, loc=self.mu, scale=self.sd))

    @property
    def variance(self) -> float:
        if not self.truncated:
            return self.sd**2
        a, b = self._bounds
        return float(stats.truncnorm.var(a, b, loc=self.mu, scale=self.sd))

    @property
    def support(self) -> tuple[float, float]:
        return (
            -math.inf if self.low is None else self.low,
            math.inf if self.high is None else self.high,
        )


@dataclass(frozen=True)
class Triangular(Distribution):
    """The triangular distribution on ``[low, high]`` with its peak at ``mode``.

    Inverse CDF: ``low + sqrt(u (high - low)(mode - low))`` below
    ``F(mode) = (mode - low) / (high - low)``, ``high - sqrt((1 - u)(high - low)(high - mode))``
    above (Kotz & van Dorp 2004, *Beyond Beta*, chapter 1).
    """

    low: float
    mode: float
    high: float

    def __post_init__(self) -> None:
        _check_order(self.low, self.high)
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"Triangular: expected low <= mode <= high, got mode {self.mode}")

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        u = np.asarray(u, dtype=float)
        width = self.high - self.low
        turn = (self.mode - self.low) / width
        rising = self.low + np.sqrt(u * width * (self.mode - self.low))
        falling = self.high - np.sqrt((1 - u) * width * (self.high - self.mode))
        return np.asarray(np.where(u < turn, rising, falling), dtype=float)

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def variance(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


@dataclass(frozen=True)
class Discrete(Distribution):
    """Finitely many ``values``, value ``j`` with probability ``probabilities[j]``."""

    values: tuple[float, ...]
    probabilities: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values or len(self.values) != len(self.probabilities):
            raise ValueError("Discrete: expected one probability per value, at least one value")
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"Discrete: values must be distinct, got {self.values}")
        if any(not p >= 0 for p in self.probabilities) or not math.fsum(self.probabilities) > 0:
            raise ValueError(f"Discrete: expected probabilities >= 0, got {self.probabilities}")

    @property
    def _drawn(self) -> tuple[FloatArray, FloatArray]:
        # The values that can be drawn and their CDF, ending at exactly 1 so
        # that every u < 1 maps to a value with positive probability.
        values = np.array(self.values, dtype=float)
        weights = np.array(self.probabilities, dtype=float)
        keep = weights > 0
        cdf = np.cumsum(weights[keep]) / weights[keep].sum()
        cdf[-1] = 1.0
        return values[keep], cdf

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        values, cdf = self._drawn
        index = np.searchsorted(cdf, np.asarray(u, dtype=float), side="right")
        return values[np.minimum(index, len(values) - 1)]

    @property
    def weights(self) -> FloatArray:
        """The probabilities, normalized to sum to 1."""
        weights = np.array(self.probabilities, dtype=float)
        return weights / weights.sum()

    @property
    def mean(self) -> float:
        return float(np.dot(self.weights, self.values))

    @property
    def variance(self) -> float:
        values = np.array(self.values, dtype=float)
        return float(np.dot(self.weights, (values - self.mean) ** 2))

    @property
    def support(self) -> tuple[float, float]:
        values = self._drawn[0]
        return (float(values.min()), float(values.max()))

    def contains(self, value: float) -> bool:
        return bool(np.any(self._drawn[0] == value))


def _check_order(low: float, high: float) -> None:
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"expected finite bounds with low < high, got low {low}, high {high}")


def distribution_from_spec(spec: UncertainSpec) -> Distribution:
    """The :class:`Distribution` an ``uncertain:`` entry of a scenario describes."""
    from simulator.scenario.model import DiscreteSpec, NormalSpec, TriangularSpec, UniformSpec

    if isinstance(spec, UniformSpec):
        return Uniform(spec.low, spec.high)
    if isinstance(spec, NormalSpec):
        return Normal(spec.mean, spec.sd, spec.low, spec.high)
    if isinstance(spec, TriangularSpec):
        return Triangular(spec.low, spec.mode, spec.high)
    if isinstance(spec, DiscreteSpec):
        return Discrete(tuple(spec.values), spec.weights())
    raise TypeError(f"distribution_from_spec: unknown spec {type(spec).__name__}")


def distributions_of(scenario: Scenario) -> dict[str, Distribution]:
    """Parameter name -> its distribution, for every entry of ``uncertain:`` (file order)."""
    return {name: distribution_from_spec(spec) for name, spec in scenario.uncertain.items()}


# ----------------------------------------------------------------- sampling
def new_seed() -> int:
    """A fresh random seed (128 bits of OS entropy), to record with a run that gave none."""
    return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]


def _stream(seed: int, name: str) -> np.random.SeedSequence:
    # A hash of the name, not its position, so that other parameters can come and go.
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    key = tuple(int.from_bytes(digest[k : k + 4], "little") for k in range(0, 16, 4))
    return np.random.SeedSequence(seed, spawn_key=key)


def _open_uniforms(bits: np.random.BitGenerator, n: int) -> FloatArray:
    # (k + 1/2) / 2**52 for the top 52 bits k: strictly inside (0, 1), exactly
    # representable, symmetric (u and 1 - u are both on the grid).
    raw = np.asarray(bits.random_raw(n), dtype=np.uint64) >> np.uint64(12)
    return (raw.astype(np.float64) + 0.5) * 2.0**-52


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"expected a seed that is an integer >= 0, got {seed!r}")
    return int(seed)


SAMPLER_FORMAT = "negsim.uncertainty/1 (PCG64 per parameter, inverse CDF)"
"""Names the sampling scheme; changes if a later version draws differently."""


@dataclass(frozen=True)
class ParameterSampler:
    """Draws of every uncertain parameter, reproducible from ``seed``, any range on demand.

    ``distributions``: (parameter name, distribution) pairs. Picklable and small,
    so a worker can be sent ``(sampler, start, stop)`` and make its own draws.
    """

    distributions: tuple[tuple[str, Distribution], ...]
    seed: int

    def __post_init__(self) -> None:
        _check_seed(self.seed)

    @property
    def names(self) -> tuple[str, ...]:
        """The uncertain parameters' names."""
        return tuple(name for name, _ in self.distributions)

    def columns(self, start: int, stop: int) -> dict[str, FloatArray]:
        """Draws ``start`` to ``stop - 1`` (0-based) of each parameter, as arrays of that length."""
        if not 0 <= start <= stop:
            raise ValueError(f"expected 0 <= start <= stop, got {start}, {stop}")
        out: dict[str, FloatArray] = {}
        for name, distribution in self.distributions:
            bits = np.random.PCG64(_stream(self.seed, name))
            bits.advance(start)
            out[name] = distribution.ppf(_open_uniforms(bits, stop - start))
        return out

    def points(self, start: int, stop: int) -> list[dict[str, float]]:
        """Draws ``start`` to ``stop - 1`` as points: parameter name -> value.

        A point holds the uncertain parameters only; pass it as the
        ``parameters=`` overrides of :func:`simulator.scenario.build_any_game`.
        """
        columns = self.columns(start, stop)
        lists = {name: values.tolist() for name, values in columns.items()}
        return [{name: lists[name][k] for name in lists} for k in range(stop - start)]

    def chunks(
        self, n: int, chunk_size: int = 10_000, *, start: int = 0
    ) -> Iterator[list[dict[str, float]]]:
        """Points ``start`` to ``start + n - 1`` in lists of at most ``chunk_size``."""
        if chunk_size < 1:
            raise ValueError(f"expected chunk_size >= 1, got {chunk_size}")
        for first in range(start, start + n, chunk_size):
            yield self.points(first, min(first + chunk_size, start + n))

    def describe(self) -> dict[str, Any]:
        """What determines the draws (JSON-able), for a run's fingerprint and record."""
        return {
            "sampler": SAMPLER_FORMAT,
            "seed": self.seed,
            "distributions": {name: repr(d) for name, d in self.distributions},
        }


class MonteCarloPoints(Sequence[dict[str, float]]):
    """The first ``n`` draws of a sampler as a sequence of points, computed on demand.

    Point ``i`` maps each uncertain parameter to its ``i``-th draw. Slices are
    computed together (one generator jump per parameter), so a runner can cut
    chunks ``points[a:b]`` without the points before ``a`` ever existing.
    ``describe()`` is what a run's fingerprint records (see :mod:`simulator.runner`).
    """

    def __init__(self, sampler: ParameterSampler, n: int) -> None:
        if n < 0:
            raise ValueError(f"expected n >= 0 draws, got {n}")
        self.sampler = sampler
        self.n = n

    def __len__(self) -> int:
        return self.n

    @overload
    def __getitem__(self, index: int) -> dict[str, float]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, float]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, float] | list[dict[str, float]]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self.n)
            if step == 1:
                return self.sampler.points(start, max(start, stop))
            return [self[i] for i in range(start, stop, step)]
        if index < 0:
            index += self.n
        if not 0 <= index < self.n:
            raise IndexError(f"draw {index} out of range ({self.n} draws)")
        return self.sampler.points(index, index + 1)[0]

    def describe(self) -> dict[str, Any]:
        """JSON-able: the sampler's description and the number of draws."""
        return {"montecarlo": {**self.sampler.describe(), "n": self.n}}


def parameter_sampler(scenario: Scenario, seed: int) -> ParameterSampler:
    """The sampler of ``scenario``'s ``uncertain:`` parameters for ``seed``.

    Raises :class:`~simulator.errors.InputError` when the scenario has none.
    """
    if not scenario.uncertain:
        raise InputError.at(
            scenario.source_file,
            None,
            "uncertain",
            "the scenario has no uncertain parameters; add an `uncertain:` block "
            "(see docs/scenario-format.md, 'Uncertain parameters')",
        )
    return ParameterSampler(tuple(distributions_of(scenario).items()), _check_seed(seed))


def sample_parameters(scenario: Scenario, n: int, seed: int) -> dict[str, FloatArray]:
    """``n`` draws of each uncertain parameter: name -> array of shape ``(n,)``."""
    return parameter_sampler(scenario, seed).columns(0, n)


def monte_carlo_points(scenario: Scenario, n: int, seed: int) -> MonteCarloPoints:
    """The first ``n`` draws of ``scenario``'s uncertain parameters, as a lazy sequence."""
    return MonteCarloPoints(parameter_sampler(scenario, seed), n)


def points_for(
    scenario: Scenario, n: int, seed: int, *, chunk_size: int = 10_000, start: int = 0
) -> Iterator[list[dict[str, float]]]:
    """Points (parameter name -> value) ``start`` to ``start + n - 1`` in chunks.

    The points are the same whatever ``chunk_size`` and ``start`` split them into.
    """
    return parameter_sampler(scenario, seed).chunks(n, chunk_size, start=start)


# ------------------------------------------------------------ statistics
def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"expected a confidence level in (0, 1), got {confidence}")
    return float(special.ndtri(0.5 + confidence / 2))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson (1927) score interval for a binomial probability.

    ``(p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)`` with ``p =
    successes / n``: it stays inside [0, 1], is not empty at 0 or n successes,
    and covers close to the nominal level even for small ``n`` (Brown, Cai &
    DasGupta 2001, "Interval estimation for a binomial proportion").
    ``(nan, nan)`` when ``n == 0``.
    """
    if n == 0:
        return (math.nan, math.nan)
    if not 0 <= successes <= n:
        raise ValueError(f"wilson_interval: expected 0 <= successes <= n, got {successes}, {n}")
    z = _z(confidence)
    p = successes / n
    scale = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / scale
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / scale
    # At 0 or n successes the formula's end is exactly 0 or 1, up to round-off.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


def quantile_interval(
    sorted_values: npt.ArrayLike, level: float, confidence: float = 0.95
) -> tuple[float, float, bool]:
    """A distribution-free confidence interval for the ``level`` quantile of a sample.

    ``sorted_values``: the sample, sorted ascending, shape ``(n,)``. The number
    ``K`` of draws below the true quantile is binomial(n, level), so the order
    statistics ``x_(r) <= q < x_(s)`` with ``r`` and ``s - 1`` the binomial's
    ``(1 - confidence)/2`` and ``(1 + confidence)/2`` quantiles cover ``q`` with
    probability at least ``confidence`` (Conover 1999, *Practical Nonparametric
    Statistics*, 3rd ed., section 3.2; David & Nagaraja 2003, *Order
    Statistics*, section 7.1). Returns ``(low, high, exact)``; ``exact`` is
    false when ``n`` is too small and a rank had to be clipped to the sample's
    extremes (the coverage is then lower than stated).
    """
    x = np.asarray(sorted_values, dtype=float)
    n = len(x)
    if n == 0:
        return (math.nan, math.nan, False)
    alpha = 1 - confidence
    r = int(stats.binom.ppf(alpha / 2, n, level))  # 1-based rank of the lower end
    s = int(stats.binom.ppf(1 - alpha / 2, n, level)) + 1  # 1-based rank of the upper end
    exact = r >= 1 and s <= n
    r, s = min(max(r, 1), n), min(max(s, 1), n)
    return (float(x[r - 1]), float(x[s - 1]), exact)


@dataclass(frozen=True)
class ProbabilityEstimate:
    """The estimate ``count / n`` of a probability, with its uncertainty.

    ``standard_error``: ``sqrt(p (1 - p) / n)``, the binomial standard error;
    it is 0 at p = 0 or 1, where :attr:`interval` (Wilson, see
    :func:`wilson_interval`) is the better statement of what is known.
    """

    count: int
    n: int
    confidence: float = 0.95

    @property
    def p(self) -> float:
        """The estimated probability (``nan`` when ``n == 0``)."""
        return self.count / self.n if self.n else math.nan

    @property
    def standard_error(self) -> float:
        """``sqrt(p (1 - p) / n)``."""
        return math.sqrt(self.p * (1 - self.p) / self.n) if self.n else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        """The Wilson score interval at :attr:`confidence`."""
        return wilson_interval(self.count, self.n, self.confidence)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: count, n, p, standard_error, interval."""
        low, high = self.interval
        return {
            "count": self.count,
            "n": self.n,
            "p": _json_float(self.p),
            "standard_error": _json_float(self.standard_error),
            "interval": [_json_float(low), _json_float(high)],
        }


@dataclass(frozen=True)
class QuantileEstimate:
    """The ``level`` quantile of a column, with a distribution-free interval.

    ``value``: the sample quantile (linear interpolation between order
    statistics, Hyndman & Fan 1996 type 7, NumPy's default). ``interval``: see
    :func:`quantile_interval`. ``standard_error``: the interval's half-width
    divided by ``z``; this is the Siddiqui (1960) / Bloch & Gastwirth (1968)
    estimate of the asymptotic standard error ``sqrt(level (1 - level) / n) /
    f(q)``, the density ``f(q)`` estimated by the difference quotient of the
    order statistics. It is 0 when the interval's ends coincide (a value drawn
    often, such as a deal term at its bound). ``exact``: see
    :func:`quantile_interval`.
    """

    level: float
    value: float
    interval: tuple[float, float]
    standard_error: float
    exact: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "level": self.level,
            "value": _json_float(self.value),
            "interval": [_json_float(v) for v in self.interval],
            "standard_error": _json_float(self.standard_error),
            "exact": self.exact,
        }


@dataclass(frozen=True)
class NumericSummary:
    """A numeric column over the records where it has a value (not ``None``/NaN)."""

    n: int
    mean: float
    sd: float
    minimum: float
    maximum: float
    quantiles: tuple[QuantileEstimate, ...] = ()

    @property
    def standard_error(self) -> float:
        """Standard error of :attr:`mean`: ``sd / sqrt(n)`` (independent draws)."""
        return self.sd / math.sqrt(self.n) if self.n else math.nan

    def quantile(self, level: float) -> QuantileEstimate:
        """The quantile at ``level`` (one of the levels the summary was asked for)."""
        for estimate in self.quantiles:
            if estimate.level == level:
                return estimate
        levels = ", ".join(f"{q.level:g}" for q in self.quantiles) or "none were kept"
        raise KeyError(f"no {level:g} quantile; levels are: {levels}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "n": self.n,
            "mean": _json_float(self.mean),
            "standard_error": _json_float(self.standard_error),
            "sd": _json_float(self.sd),
            "min": _json_float(self.minimum),
            "max": _json_float(self.maximum),
            "quantiles": [q.as_dict() for q in self.quantiles],
        }


@dataclass(frozen=True)
class Convergence:
    """Running estimates as draws accumulate, to see them settle.

    ``n``: the numbers of records read at each checkpoint (multiples of the
    accumulator's ``checkpoint_every``, then the total). ``estimates[key][k]``
    and ``standard_errors[key][k]``: the estimate after ``n[k]`` records. Keys:
    a boolean column's name (its probability, e.g. ``deal_exists``), a numeric
    column's name (its mean, e.g. ``payoff.US``), and ``column=value`` for the
    probability of each value of a text column (``equilibrium_set=US:a,UA:b``).
    ``nan`` where a column had no value yet.
    """

    n: tuple[int, ...]
    estimates: dict[str, tuple[float, ...]]
    standard_errors: dict[str, tuple[float, ...]]

    def rows(self) -> list[dict[str, Any]]:
        """Long format, one row per (checkpoint, key): n, key, estimate, standard_error."""
        return [
            {
                "n": n,
                "key": key,
                "estimate": self.estimates[key][k],
                "standard_error": self.standard_errors[key][k],
            }
            for k, n in enumerate(self.n)
            for key in self.estimates
        ]


@dataclass(frozen=True)
class MonteCarloSummary:
    """The distribution of outcomes over a Monte Carlo run's records.

    ``n``: records read. ``errors``: records whose ``error`` is set (points whose
    game could not be built or solved); ``error_messages``: the most frequent
    messages with their counts. Every other statistic is over the records
    where its column has a value, so for outcome columns it is conditional on
    the point being solvable (compare ``errors`` with ``n``).

    ``probabilities``: boolean column -> :class:`ProbabilityEstimate`
    (``deal_exists``, ``nash_bargaining.agreement``, ``core_empty``, ...).
    ``categories``: text column -> value -> :class:`ProbabilityEstimate`, most
    frequent first (``equilibrium_set``, ``signature``). ``numbers``: numeric
    column -> :class:`NumericSummary` (``payoff.US``, ``deal.mineral_share``,
    ``param.aluminium_offer``, ...).
    """

    n: int
    errors: int
    error_messages: dict[str, int]
    probabilities: dict[str, ProbabilityEstimate]
    categories: dict[str, dict[str, ProbabilityEstimate]]
    numbers: dict[str, NumericSummary]
    convergence: Convergence
    confidence: float = 0.95

    @property
    def error_rate(self) -> ProbabilityEstimate:
        """The share of records that are errors."""
        return ProbabilityEstimate(self.errors, self.n, self.confidence)

    @property
    def deal(self) -> ProbabilityEstimate | None:
        """Probability that a deal exists (``None`` without a ``deal_exists`` column)."""
        return self.probabilities.get("deal_exists")

    @property
    def equilibria(self) -> dict[str, ProbabilityEstimate]:
        """Probability of each distinct equilibrium set (strategic games; else empty)."""
        return self.categories.get("equilibrium_set", {})

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN as ``null``)."""
        return {
            "n": self.n,
            "errors": self.errors,
            "error_rate": self.error_rate.as_dict(),
            "error_messages": dict(self.error_messages),
            "confidence": self.confidence,
            "probabilities": {k: v.as_dict() for k, v in self.probabilities.items()},
            "categories": {
                column: {value: e.as_dict() for value, e in values.items()}
                for column, values in self.categories.items()
            },
            "numbers": {k: v.as_dict() for k, v in self.numbers.items()},
            "convergence": {
                "n": list(self.convergence.n),
                "estimates": {
                    k: [_json_float(x) for x in v] for k, v in self.convergence.estimates.items()
                },
                "standard_errors": {
                    k: [_json_float(x) for x in v]
                    for k, v in self.convergence.standard_errors.items()
                },
            },
        }


def _json_float(x: float) -> float | None:
    return x if math.isfinite(x) else None


# ------------------------------------------------------------ accumulation
_Kind = Literal["bool", "number", "text"]


@dataclass
class _Column:
    """Running state of one column: counts, mean and sum of squares, kept values."""

    kind: _Kind
    n: int = 0
    successes: int = 0  # bool
    mean: float = 0.0  # number
    m2: float = 0.0  # number: sum of squared deviations from the mean
    minimum: float = math.inf
    maximum: float = -math.inf
    counts: Counter[str] = field(default_factory=Counter)  # text
    kept: list[FloatArray] = field(default_factory=list)

    def update(self, piece: npt.NDArray[Any]) -> None:
        if self.kind == "bool":
            present = piece >= 0
            self.n += int(present.sum())
            self.successes += int((piece == 1).sum())
        elif self.kind == "number":
            x = piece[~np.isnan(piece)]
            if len(x) == 0:
                return
            # Chan, Golub & LeVeque (1979): merge (n, mean, M2) of two samples.
            n_b = len(x)
            mean_b = float(x.mean())
            m2_b = float(np.dot(x - mean_b, x - mean_b))
            total = self.n + n_b
            delta = mean_b - self.mean
            self.mean += delta * n_b / total
            self.m2 += m2_b + delta * delta * self.n * n_b / total
            self.n = total
            self.minimum = min(self.minimum, float(x.min()))
            self.maximum = max(self.maximum, float(x.max()))
        else:
            values = [v for v in piece.tolist() if v is not None]
            self.n += len(values)
            self.counts.update(values)

    def estimate(self) -> tuple[float, float]:
        """(estimate, standard error) of the probability or mean."""
        if self.n == 0:
            return (math.nan, math.nan)
        if self.kind == "bool":
            p = self.successes / self.n
            return (p, math.sqrt(p * (1 - p) / self.n))
        sd = math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else math.nan
        return (self.mean, sd / math.sqrt(self.n))


def _typed(name: str, values: Sequence[Any] | npt.NDArray[Any]) -> tuple[_Kind | None, Any]:
    """A column's values as a typed array: bool as int8 (-1 missing), numbers as float
    (NaN missing), text as an object array (``None`` missing); kind ``None`` if all missing."""
    if isinstance(values, np.ndarray) and values.dtype != object:
        if values.dtype == bool:
            return "bool", values.astype(np.int8)
        if np.issubdtype(values.dtype, np.number):
            return "number", values.astype(np.float64)
        if values.dtype.kind in "US":
            return "text", values.astype(object)
        raise TypeError(f"column {name!r}: cannot summarize values of dtype {values.dtype}")
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    kinds: set[_Kind] = set()
    for kind_of in set(map(type, items)):
        if kind_of is type(None):
            continue
        if issubclass(kind_of, (bool, np.bool_)):
            kinds.add("bool")
        elif issubclass(kind_of, (int, float, np.integer, np.floating)):
            kinds.add("number")
        elif issubclass(kind_of, str):
            kinds.add("text")
        else:
            raise TypeError(f"column {name!r}: cannot summarize values of type {kind_of.__name__}")
    if len(kinds) > 1:
        raise TypeError(f"column {name!r} mixes {' and '.join(sorted(kinds))} values")
    if not kinds:
        return None, None
    [kind] = kinds
    if kind == "bool":
        return kind, np.array([-1 if v is None else int(v) for v in items], dtype=np.int8)
    if kind == "number":
        return kind, np.array(items, dtype=np.float64)  # None becomes NaN
    return kind, np.array(items, dtype=object)


class SummaryAccumulator:
    """Summarize records chunk by chunk: :meth:`add` each chunk, then :meth:`result`.

    ``levels``: the quantiles to report. ``confidence``: the level of every
    interval. ``checkpoint_every``: records between points of the
    :class:`Convergence` view. ``keep_values``: keep every numeric value for
    exact quantiles (8 bytes per value); with ``False`` the summary has means,
    standard errors, extremes and probabilities only. ``ignore``: columns not
    to summarize (e.g. a point index). The result does not depend on how the
    records are split into chunks (up to floating-point round-off in means).
    """

    def __init__(
        self,
        *,
        levels: Sequence[float] = QUANTILE_LEVELS,
        confidence: float = 0.95,
        checkpoint_every: int = 1000,
        keep_values: bool = True,
        ignore: Collection[str] = (),
    ) -> None:
        _z(confidence)
        if checkpoint_every < 1:
            raise ValueError(f"expected checkpoint_every >= 1, got {checkpoint_every}")
        if any(not 0 < q < 1 for q in levels):
            raise ValueError(f"expected quantile levels in (0, 1), got {tuple(levels)}")
        self.levels = tuple(levels)
        self.confidence = confidence
        self.checkpoint_every = checkpoint_every
        self.keep_values = keep_values
        self.ignore = frozenset(ignore)
        self.n = 0
        self.errors = 0
        self._error_messages: Counter[str] = Counter()
        self._columns: dict[str, _Column] = {}
        self._checkpoints: list[tuple[int, dict[str, tuple[float, float]], dict[str, int]]] = []

    def add(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Add a chunk of records (flat dicts; a missing key counts as ``None``)."""
        rows = list(records)
        names = dict.fromkeys(key for row in rows for key in row)
        self.add_columns({name: [row.get(name) for row in rows] for name in names}, len(rows))

    def add_columns(
        self, columns: Mapping[str, Sequence[Any] | npt.NDArray[Any]], n: int | None = None
    ) -> None:
        """Add a chunk given as columns (name -> values, all of length ``n``)."""
        lengths = {len(values) for values in columns.values()}
        if n is None:
            if len(lengths) > 1:
                raise ValueError(f"columns have different lengths: {sorted(lengths)}")
            n = lengths.pop() if lengths else 0
        elif lengths - {n}:
            raise ValueError(f"expected columns of length {n}, got {sorted(lengths)}")
        typed: dict[str, tuple[_Column, Any]] = {}
        for name, values in columns.items():
            if name in self.ignore:
                continue
            if name == "error":
                self._add_errors(values)
                continue
            kind, array = _typed(name, values)
            if kind is None:
                continue
            column = self._columns.get(name)
            if column is None:
                column = self._columns[name] = _Column(kind)
            elif column.kind != kind:
                raise TypeError(f"column {name!r} held {column.kind} values, now {kind} values")
            typed[name] = (column, array)
            if kind == "number" and self.keep_values:
                column.kept.append(array[~np.isnan(array)])
        # Split the chunk at the checkpoints that fall inside it.
        every = self.checkpoint_every
        cuts = range(every - self.n % every, n + 1, every)
        start = 0
        for cut in sorted({*cuts, n}):
            for column, array in typed.values():
                column.update(array[start:cut])
            start = cut
            if cut in cuts:
                self._checkpoints.append((self.n + cut, *self._snapshot()))
        self.n += n

    def _add_errors(self, values: Sequence[Any] | npt.NDArray[Any]) -> None:
        for value in values.tolist() if isinstance(values, np.ndarray) else values:
            if isinstance(value, str) and value:
                self.errors += 1
                # Bounded memory: new messages stop being tallied past 1000 distinct.
                if value in self._error_messages or len(self._error_messages) < 1000:
                    self._error_messages[value] += 1

    def _snapshot(self) -> tuple[dict[str, tuple[float, float]], dict[str, int]]:
        estimates: dict[str, tuple[float, float]] = {}
        counts: dict[str, int] = {}
        for name, column in self._columns.items():
            counts[name] = column.n
            if column.kind == "text":
                for value, count in column.counts.items():
                    e = ProbabilityEstimate(count, column.n)
                    estimates[f"{name}={value}"] = (e.p, e.standard_error)
            else:
                estimates[name] = column.estimate()
        return estimates, counts

    def result(self) -> MonteCarloSummary:
        """The summary of every record added so far (the accumulator can go on after)."""
        probabilities: dict[str, ProbabilityEstimate] = {}
        categories: dict[str, dict[str, ProbabilityEstimate]] = {}
        numbers: dict[str, NumericSummary] = {}
        for name, column in self._columns.items():
            if column.kind == "bool":
                probabilities[name] = ProbabilityEstimate(
                    column.successes, column.n, self.confidence
                )
            elif column.kind == "text":
                categories[name] = {
                    value: ProbabilityEstimate(count, column.n, self.confidence)
                    for value, count in column.counts.most_common()
                }
            elif column.n:
                numbers[name] = self._numeric(column)
        return MonteCarloSummary(
            n=self.n,
            errors=self.errors,
            error_messages=dict(self._error_messages.most_common(10)),
            probabilities=probabilities,
            categories=categories,
            numbers=numbers,
            convergence=self._convergence(),
            confidence=self.confidence,
        )

    def _numeric(self, column: _Column) -> NumericSummary:
        sd = math.sqrt(column.m2 / (column.n - 1)) if column.n > 1 else math.nan
        quantiles: tuple[QuantileEstimate, ...] = ()
        if self.keep_values and self.levels:
            values = np.sort(np.concatenate(column.kept))
            points = np.quantile(values, self.levels)
            z = _z(self.confidence)
            found = []
            for level, value in zip(self.levels, points, strict=True):
                low, high, exact = quantile_interval(values, level, self.confidence)
                found.append(
                    QuantileEstimate(
                        level, float(value), (low, high), (high - low) / (2 * z), exact
                    )
                )
            quantiles = tuple(found)
        return NumericSummary(column.n, column.mean, sd, column.minimum, column.maximum, quantiles)

    def _convergence(self) -> Convergence:
        checkpoints = list(self._checkpoints)
        if self.n and (not checkpoints or checkpoints[-1][0] != self.n):
            checkpoints.append((self.n, *self._snapshot()))
        keys: dict[str, None] = {}
        for _, estimates, _ in checkpoints:
            keys.update(dict.fromkeys(estimates))
        values: dict[str, list[float]] = {key: [] for key in keys}
        errors: dict[str, list[float]] = {key: [] for key in keys}
        for _, estimates, counts in checkpoints:
            for key in keys:
                if key in estimates:
                    estimate, error = estimates[key]
                else:
                    # A text value not seen yet has probability 0 so far, if its
                    # column had values; otherwise nothing is known.
                    column = key.split("=", 1)[0]
                    seen = counts.get(column, 0) > 0 and "=" in key
                    estimate, error = (0.0, 0.0) if seen else (math.nan, math.nan)
                values[key].append(estimate)
                errors[key].append(error)
        return Convergence(
            n=tuple(n for n, _, _ in checkpoints),
            estimates={key: tuple(v) for key, v in values.items()},
            standard_errors={key: tuple(v) for key, v in errors.items()},
        )


def summarize(records: Iterable[Mapping[str, Any]], **options: Any) -> MonteCarloSummary:
    """The :class:`MonteCarloSummary` of ``records`` (flat dicts, one per point).

    ``options`` are those of :class:`SummaryAccumulator`.
    """
    accumulator = SummaryAccumulator(**options)
    accumulator.add(records)
    return accumulator.result()
