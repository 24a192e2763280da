"""Uncertain parameters: the `uncertain:` block, seeded draws, Monte Carlo summaries.

Statistical checks are seeded (so they are deterministic) and their tolerances
are a few standard errors of the quantity checked, never a fixed number: a
wrong formula is off by many standard errors, round-off by none.
"""

from __future__ import annotations

import itertools
import json
import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from simulator.errors import InputError, Problem
from simulator.scenario import build_any_game, load_scenario_text, scenario_json_schema
from simulator.uncertainty import (
    Discrete,
    Distribution,
    Normal,
    ParameterSampler,
    SummaryAccumulator,
    Triangular,
    Uniform,
    distributions_of,
    monte_carlo_points,
    new_seed,
    parameter_sampler,
    points_for,
    quantile_interval,
    sample_parameters,
    summarize,
    wilson_interval,
)

REPO = Path(__file__).resolve().parents[1]
Z = 4.0
"""Tolerance in standard errors for seeded statistical checks (two-sided p ~ 6e-5)."""

BASE = """\
name: Uncertain
question: Does it hold up?
actors:
  US: United States
  UA: Ukraine
parameters:
  cost:
    value: 0.3
    assumption: true
  share_value:
    value: 0.8
    assumption: true
  occupied:
    value: 0.4
    source: test figure
uncertain:
  cost:
    distribution: uniform
    low: 0.1
    high: 0.5
    note: "judgement: anything from cheap to dear"
  share_value:
    distribution: normal
    mean: 0.8
    sd: 0.1
    low: 0.5
    high: 1.1
  occupied:
    distribution: discrete
    values: [0.3, 0.4, 0.5]
    probabilities: [0.25, 0.5, 0.25]
issues:
  share:
    range: [0, 1]
    unit: share
    description: revenue share
    status_quo: 0
payoffs:
  US: "share * (1 - occupied) - cost"
  UA: "share_value - share"
games:
  - name: g
    kind: strategic
    players: [US, UA]
    strategies:
      US: [hard, soft]
      UA: [sign, hold]
    outcomes:
      - when: {US: hard, UA: sign}
        deal: {share: 0.5}
      - when: {UA: sign}
        deal: {share: 0.2}
      - when: {}
        no_deal: true
"""


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(InputError) as info:
        load_scenario_text(text, source="test.yaml")
    return list(info.value.problems)


def marker_line(text: str, marker: str) -> int:
    return text.count("\n", 0, text.index(marker)) + 1


# ------------------------------------------------------------ distributions

DISTRIBUTIONS: list[tuple[Distribution, Any]] = [
    # (distribution, the same distribution in scipy.stats, for its CDF)
    (Uniform(1.5, 2.5), stats.uniform(1.5, 1.0)),
    (Normal(0.8, 0.1), stats.norm(0.8, 0.1)),
    (Normal(0.8, 0.1, 0.5, 1.1), stats.truncnorm(-3, 3, loc=0.8, scale=0.1)),
    (Normal(0.8, 0.1, 0.75, 1.1), stats.truncnorm(-0.5, 3, loc=0.8, scale=0.1)),
    (Normal(0.0, 2.0, low=1.0), stats.truncnorm(0.5, np.inf, loc=0.0, scale=2.0)),
    (Normal(0.0, 2.0, high=-3.0), stats.truncnorm(-np.inf, -1.5, loc=0.0, scale=2.0)),
    (Triangular(1.5, 2.0, 2.5), stats.triang(0.5, loc=1.5, scale=1.0)),
    (Triangular(0.0, 0.1, 1.0), stats.triang(0.1, loc=0.0, scale=1.0)),
    (Triangular(0.0, 0.0, 1.0), stats.triang(0.0, loc=0.0, scale=1.0)),
]
IDS = [repr(d) for d, _ in DISTRIBUTIONS]


@pytest.mark.parametrize(("distribution", "reference"), DISTRIBUTIONS, ids=IDS)
def test_stated_moments_are_those_of_the_distribution(
    distribution: Distribution, reference: Any
) -> None:
    assert distribution.mean == pytest.approx(reference.mean(), rel=1e-9, abs=1e-12)
    assert distribution.variance == pytest.approx(reference.var(), rel=1e-9)
    lo, hi = distribution.support
    assert (lo, hi) == pytest.approx(reference.support())


@pytest.mark.parametrize(("distribution", "reference"), DISTRIBUTIONS, ids=IDS)
def test_sample_moments_match_within_their_standard_errors(
    distribution: Distribution, reference: Any
) -> None:
    n = 20_000
    x = distribution.sample(np.random.default_rng(20250101), n)
    assert x.shape == (n,)
    # Mean: standard error sqrt(var / n).
    assert abs(x.mean() - distribution.mean) <= Z * math.sqrt(distribution.variance / n)
    # Variance: standard error sqrt((mu4 - var^2) / n), mu4 estimated from the sample.
    mu4 = float(np.mean((x - x.mean()) ** 4))
    se_var = math.sqrt(max(mu4 - x.var() ** 2, 0.0) / n)
    assert abs(x.var(ddof=1) - distribution.variance) <= Z * se_var
    # The whole distribution: Kolmogorov-Smirnov against the reference CDF.
    assert stats.kstest(x, reference.cdf).pvalue > 1e-4


@pytest.mark.parametrize(("distribution", "reference"), DISTRIBUTIONS, ids=IDS)
def test_inverse_cdf_is_the_reference_quantile_function(
    distribution: Distribution, reference: Any
) -> None:
    u = np.array([2.0**-52, 0.01, 0.25, 0.5, 0.75, 0.99, 1 - 2.0**-52])
    assert distribution.ppf(u) == pytest.approx(reference.ppf(u), rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    mean=st.floats(-100, 100),
    sd=st.floats(1e-3, 50),
    low_z=st.floats(-40, 40),
    width_z=st.floats(1e-3, 40),
)
def test_truncated_normal_never_leaves_its_bounds(
    mean: float, sd: float, low_z: float, width_z: float
) -> None:
    # Bounds anywhere, including far in a tail (40 sd from the mean).
    low = mean + low_z * sd
    high = low + width_z * sd
    if not low < high:  # width below round-off of the bounds
        return
    distribution = Normal(mean, sd, low, high)
    u = np.concatenate([[2.0**-52, 1 - 2.0**-52], np.random.default_rng(0).random(200)])
    x = distribution.ppf(u)
    assert np.all(np.isfinite(x))
    assert np.all((low <= x) & (x <= high))
    assert np.all(np.diff(x[np.argsort(u)]) >= 0), "an inverse CDF is non-decreasing"


def test_truncated_normal_far_in_a_tail_is_sampled_not_rejected() -> None:
    # The bound lies 100 sd above the mean: rejection would never finish.
    distribution = Normal(0.8, 0.001, 0.9, 1.1)
    x = distribution.sample(np.random.default_rng(1), 10_000)
    assert x.min() >= 0.9 and x.max() <= 1.1
    # Beyond the bound the tail decays like exp(-a t / sd) with a = 100: mean excess sd / a.
    assert abs(x.mean() - distribution.mean) <= Z * math.sqrt(distribution.variance / len(x))
    assert distribution.mean == pytest.approx(0.9 + 0.001 / 100, rel=1e-4)


def test_discrete_draws_each_value_with_its_probability() -> None:
    distribution = Discrete((0.3, 0.4, 0.5, 0.9), (0.25, 0.5, 0.25, 0.0))
    n = 40_000
    x = distribution.sample(np.random.default_rng(7), n)
    assert set(np.unique(x)) == {0.3, 0.4, 0.5}, "a value of probability 0 is never drawn"
    for value, p in zip(distribution.values, distribution.probabilities, strict=True):
        share = float(np.mean(x == value))
        assert abs(share - p) <= Z * math.sqrt(p * (1 - p) / n)
    assert distribution.support == (0.3, 0.5)
    assert distribution.contains(0.4) and not distribution.contains(0.45)
    assert not distribution.contains(0.9)


def test_discrete_inverse_cdf_at_the_cumulative_probabilities() -> None:
    distribution = Discrete((1.0, 2.0, 3.0), (0.2, 0.3, 0.5))
    u = np.array([1e-12, 0.2 - 1e-12, 0.2 + 1e-12, 0.5 - 1e-12, 0.5 + 1e-12, 1 - 1e-12])
    assert distribution.ppf(u).tolist() == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize(
    "make",
    [
        lambda: Uniform(1.0, 1.0),
        lambda: Uniform(2.0, 1.0),
        lambda: Normal(0.0, 0.0),
        lambda: Normal(0.0, -1.0),
        lambda: Normal(0.0, 1.0, 1.0, 0.0),
        lambda: Triangular(0.0, 2.0, 1.0),
        lambda: Discrete((1.0, 1.0), (0.5, 0.5)),
        lambda: Discrete((1.0, 2.0), (0.5,)),
        lambda: Discrete((1.0, 2.0), (1.5, -0.5)),
    ],
)
def test_invalid_distributions_are_refused(make: Any) -> None:
    with pytest.raises(ValueError):
        make()


# ----------------------------------------------------------------- sampling


def test_scenario_distributions_are_read_from_the_block() -> None:
    scenario = load_scenario_text(BASE)
    assert distributions_of(scenario) == {
        "cost": Uniform(0.1, 0.5),
        "share_value": Normal(0.8, 0.1, 0.5, 1.1),
        "occupied": Discrete((0.3, 0.4, 0.5), (0.25, 0.5, 0.25)),
    }
    assert scenario.uncertain["cost"].note == "judgement: anything from cheap to dear"


def test_discrete_without_probabilities_is_uniform_over_its_values() -> None:
    text = edit(BASE, "    probabilities: [0.25, 0.5, 0.25]\n", "")
    assert distributions_of(load_scenario_text(text))["occupied"] == Discrete(
        (0.3, 0.4, 0.5), (1 / 3, 1 / 3, 1 / 3)
    )


def test_draws_are_reproducible_for_a_seed_and_differ_between_seeds() -> None:
    scenario = load_scenario_text(BASE)
    first = sample_parameters(scenario, 500, seed=11)
    again = sample_parameters(scenario, 500, seed=11)
    other = sample_parameters(scenario, 500, seed=12)
    assert list(first) == ["cost", "share_value", "occupied"]
    for name in first:
        assert first[name].shape == (500,)
        assert np.array_equal(first[name], again[name])
        assert not np.array_equal(first[name], other[name])
        assert all(scenario.uncertain[name].contains(v) for v in first[name])


def test_adding_or_reordering_uncertain_parameters_leaves_the_others_draws() -> None:
    scenario = load_scenario_text(BASE)
    without = load_scenario_text(
        edit(
            BASE,
            "  occupied:\n    distribution: discrete\n    values: [0.3, 0.4, 0.5]\n"
            "    probabilities: [0.25, 0.5, 0.25]\n",
            "",
        )
    )
    assert "occupied" not in without.uncertain
    with_all = sample_parameters(scenario, 300, seed=5)
    fewer = sample_parameters(without, 300, seed=5)
    for name in fewer:
        assert np.array_equal(with_all[name], fewer[name]), name
    reordered = ParameterSampler(tuple(reversed(distributions_of(scenario).items())), 5)
    for name, values in reordered.columns(0, 300).items():
        assert np.array_equal(values, with_all[name])


def test_parameters_are_drawn_independently() -> None:
    # Same distribution, different names: the streams must not coincide or correlate.
    sampler = ParameterSampler((("a", Uniform(0.0, 1.0)), ("b", Uniform(0.0, 1.0))), seed=3)
    n = 20_000
    columns = sampler.columns(0, n)
    r = float(np.corrcoef(columns["a"], columns["b"])[0, 1])
    assert abs(r) <= Z / math.sqrt(n)  # standard error of r near 0 is 1/sqrt(n)


@settings(max_examples=25, deadline=None)
@given(
    chunk_size=st.integers(1, 400),
    start=st.integers(0, 300),
    n=st.integers(0, 400),
)
def test_chunks_and_ranges_give_the_same_draws(chunk_size: int, start: int, n: int) -> None:
    scenario = load_scenario_text(BASE)
    whole = sample_parameters(scenario, start + n, seed=99)
    points = [
        p
        for chunk in points_for(scenario, n, 99, chunk_size=chunk_size, start=start)
        for p in chunk
    ]
    assert len(points) == n
    assert all(
        len(chunk) <= chunk_size for chunk in points_for(scenario, n, 99, chunk_size=chunk_size)
    )
    for k, point in enumerate(points):
        assert point == {name: whole[name][start + k] for name in whole}


def test_sampler_pickles_and_points_build_games() -> None:
    scenario = load_scenario_text(BASE)
    sampler = parameter_sampler(scenario, 2024)
    assert pickle.loads(pickle.dumps(sampler)) == sampler
    for point in sampler.points(0, 20):
        assert set(point) == {"cost", "share_value", "occupied"}
        game = build_any_game(scenario, "g", parameters=point)
        # US's payoff at (hard, sign) is share * (1 - occupied) - cost with share 0.5.
        expected = 0.5 * (1 - point["occupied"]) - point["cost"]
        assert game.payoffs[0][0, 0] == pytest.approx(expected)


def test_monte_carlo_points_are_a_lazy_sequence_of_the_draws() -> None:
    scenario = load_scenario_text(BASE)
    points = monte_carlo_points(scenario, 50, seed=4)
    columns = sample_parameters(scenario, 50, seed=4)
    expected = [{name: columns[name][k] for name in columns} for k in range(50)]
    assert len(points) == 50
    assert list(points) == expected
    assert points[10:20] == expected[10:20]
    assert points[45:99] == expected[45:]
    assert points[::7] == expected[::7]
    assert points[-1] == expected[-1]
    assert points[30:10] == []
    with pytest.raises(IndexError):
        points[50]
    assert points.describe()["montecarlo"]["n"] == 50
    assert points.describe() != monte_carlo_points(scenario, 50, seed=5).describe()
    assert json.loads(json.dumps(points.describe())) == points.describe()


def test_monte_carlo_run_through_the_runner(tmp_path: Path) -> None:
    # The pipeline of `negsim montecarlo`: draws -> records (in chunks) -> summary.
    from simulator.outcomes import PointTask
    from simulator.runner import run_points

    path = tmp_path / "uncertain.yaml"
    path.write_text(BASE, encoding="utf-8")
    scenario = load_scenario_text(BASE)
    points = monte_carlo_points(scenario, 120, seed=8)
    run = run_points(PointTask(str(path), "g"), points, workers=1, chunk_size=50)
    accumulator = SummaryAccumulator(checkpoint_every=50)
    for chunk in run.iter_chunks():
        accumulator.add(chunk)
    summary = accumulator.result()
    records = run.all_records()
    assert [r["param.cost"] for r in records] == [p["cost"] for p in points]
    assert summary.n == 120 and summary.errors == 0
    assert sum(e.count for e in summary.equilibria.values()) == 120
    # US's payoff is -cost at the hold-out equilibria: its mean is the draws' mean.
    assert summary.numbers["payoff.US"].mean == pytest.approx(-summary.numbers["param.cost"].mean)
    assert summary.convergence.n == (50, 100, 120)


def test_seeds_must_be_non_negative_integers() -> None:
    scenario = load_scenario_text(BASE)
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="seed"):
            parameter_sampler(scenario, bad)  # type: ignore[arg-type]
    assert isinstance(new_seed(), int) and new_seed() >= 0


def test_a_scenario_without_uncertain_parameters_is_an_input_error() -> None:
    text = BASE[: BASE.index("uncertain:")] + BASE[BASE.index("issues:") :]
    scenario = load_scenario_text(text, source="plain.yaml")
    with pytest.raises(InputError, match="no uncertain parameters") as info:
        sample_parameters(scenario, 10, seed=1)
    assert info.value.problems[0].file == "plain.yaml"


# --------------------------------------------------------------- statistics

# Newcombe (1998), "Two-sided confidence intervals for the single proportion:
# comparison of seven methods", Statistics in Medicine 17, Table I, method 3 (Wilson).
NEWCOMBE = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("k", "n", "low", "high"), NEWCOMBE)
def test_wilson_interval_matches_published_values(k: int, n: int, low: float, high: float) -> None:
    got = wilson_interval(k, n)
    assert got == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_closed_forms_at_the_ends() -> None:
    z2 = stats.norm.ppf(0.975) ** 2
    n = 10
    assert wilson_interval(0, n) == pytest.approx((0.0, z2 / (n + z2)))
    assert wilson_interval(n, n) == pytest.approx((n / (n + z2), 1.0))
    low, high = wilson_interval(5, 10)
    assert (low + high) / 2 == pytest.approx(0.5), "symmetric at p = 1/2"
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_median_interval_of_100_is_the_40th_to_61st_order_statistics() -> None:
    # Conover (1999), section 3.2: for n = 100 the 95 % interval for the median
    # is (x_(40), x_(61)), with coverage 0.965.
    low, high, exact = quantile_interval(np.arange(1.0, 101.0), 0.5)
    assert (low, high, exact) == (40.0, 61.0, True)
    coverage = stats.binom.cdf(60, 100, 0.5) - stats.binom.cdf(39, 100, 0.5)
    assert coverage >= 0.95


def test_quantile_interval_covers_the_true_quantile_as_stated() -> None:
    rng = np.random.default_rng(17)
    repetitions, n, level = 600, 150, 0.25
    truth = stats.expon.ppf(level)
    covered = 0
    for _ in range(repetitions):
        low, high, exact = quantile_interval(np.sort(rng.exponential(size=n)), level)
        assert exact
        covered += low <= truth <= high
    # Coverage at least 0.95, up to the Monte Carlo error of the check itself.
    assert covered / repetitions >= 0.95 - Z * math.sqrt(0.95 * 0.05 / repetitions)


def test_quantile_interval_on_a_tiny_sample_says_it_is_not_exact() -> None:
    low, _, exact = quantile_interval(np.array([1.0, 2.0, 3.0]), 0.05)
    assert not exact and low == 1.0


def synthetic_records(n: int) -> list[dict[str, Any]]:
    """Records with known statistics: a deal in 30 % of points, payoffs k, errors every 20th."""
    records: list[dict[str, Any]] = []
    for k in range(n):
        if k % 20 == 19:
            records.append({"param.cost": 0.1 * k, "error": f"point {k % 3}: deal out of range"})
            continue
        deal = k % 10 < 3
        records.append(
            {
                "param.cost": 0.1 * k,
                "deal_exists": deal,
                "equilibrium_set": ["US:a,UA:b", "US:b,UA:b", "US:a,UA:a"][k % 3],
                "payoff.US": float(k),
                "deal.share": 0.5 if deal else None,
                "equilibria": 1 + k % 2,
                "error": None,
            }
        )
    return records


def test_summary_of_records_with_known_answers() -> None:
    n = 2000
    records = synthetic_records(n)
    summary = summarize(records)
    valid = [r for r in records if r["error"] is None]
    m = len(valid)
    assert summary.n == n and summary.errors == n // 20 and m == n - n // 20
    assert summary.error_rate.p == pytest.approx(1 / 20)
    assert sum(summary.error_messages.values()) == summary.errors
    assert set(summary.error_messages) == {f"point {j}: deal out of range" for j in range(3)}

    deal = summary.deal
    assert deal is not None
    k = sum(r["deal_exists"] for r in valid)
    assert (deal.count, deal.n) == (k, m)
    assert deal.p == pytest.approx(k / m)
    assert deal.standard_error == pytest.approx(math.sqrt(k / m * (1 - k / m) / m))
    assert deal.interval == wilson_interval(k, m)

    sets = summary.equilibria
    assert sum(e.count for e in sets.values()) == m
    for value, estimate in sets.items():
        count = sum(r["equilibrium_set"] == value for r in valid)
        assert estimate.count == count
        assert estimate.standard_error == pytest.approx(math.sqrt(count / m * (1 - count / m) / m))
    counts = [e.count for e in sets.values()]
    assert counts == sorted(counts, reverse=True), "most frequent first"

    payoff = summary.numbers["payoff.US"]
    x = np.array([r["payoff.US"] for r in valid])
    assert payoff.n == m
    assert payoff.mean == pytest.approx(x.mean(), rel=1e-12)
    assert payoff.sd == pytest.approx(x.std(ddof=1), rel=1e-12)
    assert payoff.standard_error == pytest.approx(x.std(ddof=1) / math.sqrt(m), rel=1e-12)
    assert (payoff.minimum, payoff.maximum) == (x.min(), x.max())
    for q in payoff.quantiles:
        assert q.value == pytest.approx(np.quantile(x, q.level))
        low, high, _ = quantile_interval(np.sort(x), q.level)
        assert q.interval == (low, high)
        assert q.standard_error == pytest.approx((high - low) / (2 * stats.norm.ppf(0.975)))
        assert low <= q.value <= high
    assert [q.level for q in payoff.quantiles] == [0.05, 0.25, 0.5, 0.75, 0.95]

    # A column missing (None) where there is no deal is summarized where present.
    share = summary.numbers["deal.share"]
    assert share.n == k and share.mean == 0.5 and share.quantile(0.5).standard_error == 0
    # Integers are numbers; parameters are summarized over every point, errors included.
    assert summary.numbers["equilibria"].mean == pytest.approx(
        np.mean([r["equilibria"] for r in valid])
    )
    assert summary.numbers["param.cost"].n == n


def test_median_standard_error_matches_the_asymptotic_formula() -> None:
    # For uniform(0, 1) draws the median's standard error is sqrt(1/4 / n) / f = 0.5 / sqrt(n).
    n = 40_000
    x = np.random.default_rng(8).random(n)
    summary = summarize([{"v": float(v)} for v in x])
    se = summary.numbers["v"].quantile(0.5).standard_error
    # The estimate's own relative error is about 1 / sqrt(2 z sqrt(n p (1 - p))) ~ 7 %.
    assert se == pytest.approx(0.5 / math.sqrt(n), rel=0.25)


def test_convergence_view_settles_and_matches_prefix_summaries() -> None:
    records = synthetic_records(3500)
    summary = summarize(records, checkpoint_every=1000)
    trace = summary.convergence
    assert trace.n == (1000, 2000, 3000, 3500)
    for k, n in enumerate(trace.n):
        prefix = summarize(records[:n])
        assert trace.estimates["deal_exists"][k] == pytest.approx(
            prefix.probabilities["deal_exists"].p
        )
        assert trace.standard_errors["deal_exists"][k] == pytest.approx(
            prefix.probabilities["deal_exists"].standard_error
        )
        assert trace.estimates["payoff.US"][k] == pytest.approx(prefix.numbers["payoff.US"].mean)
        assert trace.standard_errors["payoff.US"][k] == pytest.approx(
            prefix.numbers["payoff.US"].standard_error
        )
        for value, estimate in prefix.equilibria.items():
            assert trace.estimates[f"equilibrium_set={value}"][k] == pytest.approx(estimate.p)
    se = trace.standard_errors["deal_exists"]
    assert all(a > b for a, b in itertools.pairwise(se)), "the standard error shrinks with n"
    rows = trace.rows()
    assert len(rows) == len(trace.n) * len(trace.estimates)
    assert {"n", "key", "estimate", "standard_error"} == set(rows[0])


def test_convergence_fills_values_seen_late_with_zero() -> None:
    records = [{"eq": "a"}] * 10 + [{"eq": "b"}] * 10 + [{"x": 1.0}] * 5
    trace = summarize(records, checkpoint_every=10).convergence
    assert trace.n == (10, 20, 25)
    assert trace.estimates["eq=b"] == (0.0, 0.5, 0.5)
    assert math.isnan(trace.estimates["x"][0]) and trace.estimates["x"][2] == 1.0


@settings(max_examples=30, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 700), max_size=6),
    every=st.integers(1, 300),
)
def test_streaming_accumulator_equals_the_one_shot_summary(cuts: list[int], every: int) -> None:
    records = synthetic_records(700)
    bounds = [0, *sorted(cuts), len(records)]
    accumulator = SummaryAccumulator(checkpoint_every=every)
    for a, b in itertools.pairwise(bounds):
        accumulator.add(records[a:b])
    streamed = accumulator.result()
    once = summarize(records, checkpoint_every=every)
    assert_same_summary(streamed, once)


def assert_same_summary(a: Any, b: Any) -> None:
    """Equal counts and probabilities; means equal up to round-off of the pairwise update."""
    assert (a.n, a.errors, a.error_messages) == (b.n, b.errors, b.error_messages)
    assert a.probabilities == b.probabilities
    assert a.categories == b.categories
    assert a.numbers.keys() == b.numbers.keys()
    for name, x in a.numbers.items():
        y = b.numbers[name]
        assert (x.n, x.minimum, x.maximum, x.quantiles) == (y.n, y.minimum, y.maximum, y.quantiles)
        assert x.mean == pytest.approx(y.mean, rel=1e-12, abs=1e-12)
        assert x.sd == pytest.approx(y.sd, rel=1e-9)
    assert a.convergence.n == b.convergence.n
    assert a.convergence.estimates.keys() == b.convergence.estimates.keys()
    for key, values in a.convergence.estimates.items():
        assert values == pytest.approx(b.convergence.estimates[key], rel=1e-9, nan_ok=True)


def test_columns_and_records_give_the_same_summary() -> None:
    records = synthetic_records(500)
    names = dict.fromkeys(key for r in records for key in r)
    columns: dict[str, Any] = {name: [r.get(name) for r in records] for name in names}
    columns["payoff.US"] = np.array(
        [np.nan if v is None else v for v in columns["payoff.US"]], dtype=float
    )
    accumulator = SummaryAccumulator()
    accumulator.add_columns(columns)
    assert_same_summary(accumulator.result(), summarize(records))


def test_without_kept_values_the_summary_has_no_quantiles() -> None:
    summary = summarize(synthetic_records(300), keep_values=False)
    assert summary.numbers["payoff.US"].quantiles == ()
    assert (
        summary.numbers["payoff.US"].mean
        == summarize(synthetic_records(300)).numbers["payoff.US"].mean
    )
    with pytest.raises(KeyError, match=r"no 0\.5 quantile"):
        summary.numbers["payoff.US"].quantile(0.5)


def test_a_column_mixing_kinds_is_refused() -> None:
    with pytest.raises(TypeError, match="'x' mixes bool and number"):
        summarize([{"x": True}, {"x": 1.5}])
    accumulator = SummaryAccumulator()
    accumulator.add([{"x": 1.0}])
    with pytest.raises(TypeError, match="'x' held number values, now text"):
        accumulator.add([{"x": "a"}])


def test_summary_as_dict_is_json_ready() -> None:
    summary = summarize([*synthetic_records(100), {"lonely": 1.0}])
    data = json.loads(json.dumps(summary.as_dict(), allow_nan=False))
    assert data["probabilities"]["deal_exists"]["n"] == summary.deal.n  # type: ignore[union-attr]
    assert data["numbers"]["lonely"]["sd"] is None  # one value: no standard deviation


# ------------------------------------------------------ mistakes in the file

MISTAKES = [
    # (old, new, field, message fragment, marker of the expected line)
    (
        "uncertain:\n  cost:",
        "uncertain:\n  cots:",
        "uncertain.cots",
        "unknown parameter 'cots' (did you mean 'cost'?); parameters are: cost, share_value",
        "  cots:",
    ),
    (
        "uncertain:\n",
        "uncertain:\n  share:\n    distribution: uniform\n    low: 0\n    high: 1\n",
        "uncertain.share",
        "'share' is an issue, not a parameter",
        "  share:\n    distribution: uniform",
    ),
    (
        "    high: 0.5\n",
        "    high: 0.05\n",
        "uncertain.cost.high",
        "expected low < high",
        "high: 0.05",
    ),
    (
        "    high: 0.5\n",
        "    high: 0.1\n",
        "uncertain.cost.high",
        "got low 0.1 and high 0.1",
        "high: 0.1",
    ),
    (
        "    sd: 0.1\n",
        "    sd: 0\n",
        "uncertain.share_value.sd",
        "expected a positive standard deviation, got 0",
        "sd: 0",
    ),
    ("    sd: 0.1\n", "    sd: -0.1\n", "uncertain.share_value.sd", "got -0.1", "sd: -0.1"),
    (
        "    low: 0.5\n    high: 1.1\n",
        "    low: 1.1\n    high: 0.5\n",
        "uncertain.share_value.high",
        "expected low < high, got low 1.1 and high 0.5",
        "high: 0.5\n  occupied:",
    ),
    (
        "probabilities: [0.25, 0.5, 0.25]",
        "probabilities: [0.25, 0.5, 0.2]",
        "uncertain.occupied.probabilities",
        "the probabilities sum to 0.95; expected 1",
        "probabilities:",
    ),
    (
        "probabilities: [0.25, 0.5, 0.25]",
        "probabilities: [0.5, 0.5]",
        "uncertain.occupied.probabilities",
        "expected 3 probabilities, one per value, got 2",
        "probabilities:",
    ),
    (
        "probabilities: [0.25, 0.5, 0.25]",
        "probabilities: [0.75, 0.5, -0.25]",
        "uncertain.occupied.probabilities[2]",
        "expected a probability >= 0, got -0.25",
        "probabilities:",
    ),
    (
        "values: [0.3, 0.4, 0.5]",
        "values: [0.3, 0.4, 0.3]",
        "uncertain.occupied.values[2]",
        "value 0.3 is listed twice",
        "values: [0.3",
    ),
    (
        "values: [0.3, 0.4, 0.5]",
        "values: []",
        "uncertain.occupied.values",
        "expected at least 1 item, got 0",
        "values: []",
    ),
    (
        "    distribution: normal\n",
        "    distribution: normall\n",
        "uncertain.share_value.distribution",
        "unknown distribution 'normall' (did you mean 'normal'?); "
        "expected one of: uniform, normal, triangular, discrete",
        "normall",
    ),
    (
        "    distribution: normal\n",
        "    distribution: gaussian\n",
        "uncertain.share_value.distribution",
        "unknown distribution 'gaussian'; expected one of: uniform, normal",
        "gaussian",
    ),
    (
        "    distribution: normal\n",
        "",
        "uncertain.share_value.distribution",
        "missing required field 'distribution'; expected one of: uniform, normal",
        "  share_value:\n    mean",
    ),
    (
        "    sd: 0.1\n",
        "    sigma: 0.1\n",
        "uncertain.share_value.sigma",
        "unknown field 'sigma'; expected one of: distribution, note, mean, sd, low, high",
        "sigma",
    ),
    (
        "    sd: 0.1\n",
        "",
        "uncertain.share_value.sd",
        "missing required field 'sd'",
        "  share_value:\n    distribution: normal",
    ),
    (
        "    low: 0.1\n",
        '    low: "0.1"\n',
        "uncertain.cost.low",
        "expected a number, got the text",
        '"0.1"',
    ),
    (
        '  cost:\n    distribution: uniform\n    low: 0.1\n    high: 0.5\n    note: "judgement: '
        'anything from cheap to dear"\n',
        "  cost: 0.3\n",
        "uncertain.cost",
        "expected a mapping (key: value lines), got 0.3",
        "cost: 0.3",
    ),
    (
        "    low: 0.1\n    high: 0.5\n",
        "    low: 0.35\n    high: 0.5\n",
        "uncertain.cost",
        "parameter 'cost' has value 0.3 under `parameters:`, which this uniform distribution "
        "never draws (its support is [0.35, 0.5])",
        "  cost:\n    distribution: uniform",
    ),
    (
        "values: [0.3, 0.4, 0.5]",
        "values: [0.3, 0.45, 0.5]",
        "uncertain.occupied",
        "has value 0.4 under `parameters:`, which this discrete distribution never draws "
        "(its support is the values [0.3, 0.45, 0.5])",
        "  occupied:\n    distribution",
    ),
    (
        "probabilities: [0.25, 0.5, 0.25]",
        "probabilities: [0.5, 0, 0.5]",
        "uncertain.occupied",
        "has value 0.4 under `parameters:`, which this discrete distribution never draws",
        "  occupied:\n    distribution",
    ),
    (
        "    low: 0.5\n    high: 1.1\n",
        "    low: 0.85\n",
        "uncertain.share_value",
        "has value 0.8 under `parameters:`, which this normal distribution never draws "
        "(its support is [0.85, inf])",
        "  share_value:\n    distribution: normal",
    ),
    (
        "    distribution: uniform\n    low: 0.1\n    high: 0.5\n",
        "    distribution: triangular\n    low: 0.1\n    mode: 0.6\n    high: 0.5\n",
        "uncertain.cost.mode",
        "expected low <= mode <= high, got mode 0.6 outside [0.1, 0.5]",
        "mode: 0.6",
    ),
    (
        "    distribution: uniform\n    low: 0.1\n    high: 0.5\n",
        "    distribution: triangular\n    low: 0.1\n    high: 0.5\n",
        "uncertain.cost.mode",
        "missing required field 'mode'",
        "  cost:\n    distribution: triangular",
    ),
    (
        "uncertain:\n",
        "uncertain:\n  2cost: {distribution: uniform, low: 0, high: 1}\n",
        "uncertain.2cost",
        "'2cost' is not a valid name",
        "2cost",
    ),
    (
        "uncertain:\n",
        "uncertain: [cost]\nunused:\n",
        "uncertain",
        "expected a mapping",
        "uncertain:",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "field", "fragment", "marker"),
    MISTAKES,
    ids=[f"{m[2]}-{k}" for k, m in enumerate(MISTAKES)],
)
def test_uncertain_mistake_is_reported_at_its_line_and_field(
    old: str, new: str, field: str, fragment: str, marker: str
) -> None:
    text = edit(BASE, old, new)
    problems = problems_of(text)
    matching = [p for p in problems if p.field == field and fragment in p.message]
    assert matching, "\n".join(str(p) for p in problems)
    assert matching[0].line == marker_line(text, marker), str(matching[0])
    assert matching[0].file == "test.yaml"


def test_probabilities_summing_to_one_up_to_round_off_are_accepted() -> None:
    # 0.1 ten times sums to 0.9999999999999999 in binary floating point.
    text = edit(
        BASE,
        "values: [0.3, 0.4, 0.5]",
        "values: [" + ", ".join(f"0.{k}" for k in range(1, 10)) + ", 1]",
    )
    text = edit(
        text, "probabilities: [0.25, 0.5, 0.25]", "probabilities: [" + ", ".join(["0.1"] * 10) + "]"
    )
    occupied = distributions_of(load_scenario_text(text))["occupied"]
    assert isinstance(occupied, Discrete) and math.fsum(occupied.probabilities) == pytest.approx(
        1.0
    )


def test_every_uncertain_mistake_in_one_file_is_reported() -> None:
    text = edit(BASE, "uncertain:\n  cost:", "uncertain:\n  cots:")
    text = edit(text, "    sd: 0.1\n", "    sd: 0\n")
    text = edit(text, "probabilities: [0.25, 0.5, 0.25]", "probabilities: [0.25, 0.5, 0.2]")
    fields = [p.field for p in problems_of(text)]
    assert fields == [
        "uncertain.cots",
        "uncertain.share_value.sd",
        "uncertain.occupied.probabilities",
    ]


def test_a_key_that_is_not_a_name_is_reported_once() -> None:
    text = edit(
        BASE, "uncertain:\n", "uncertain:\n  2cost: {distribution: uniform, low: 0, high: 1}\n"
    )
    [problem] = problems_of(text)
    assert problem.field == "uncertain.2cost" and "not a valid name" in problem.message


# ---------------------------------------------------------------- the docs


def test_schema_describes_the_uncertain_block() -> None:
    schema = scenario_json_schema()
    [entry] = schema["properties"]["uncertain"]["patternProperties"].values()
    assert set(entry["discriminator"]["mapping"]) == {"uniform", "normal", "triangular", "discrete"}


def docs_text() -> str:
    return (REPO / "docs" / "scenario-format.md").read_text(encoding="utf-8")


def complete_example() -> str:
    return (
        docs_text().split("## A complete example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    )


def test_the_docs_example_block_is_valid() -> None:
    section = docs_text().split("## Uncertain parameters", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    extra = "".join(
        f"  {name}: {{value: {value}, assumption: true}}\n"
        for name, value in [
            ("aluminium_offer", 2),
            ("guarantee_cost_us", 0.1),
            ("mineral_value_ua", 0.8),
        ]
    )
    text = edit(complete_example(), "issues:\n", block + "issues:\n")
    text = edit(text, "  guarantee_cost:\n", extra + "  guarantee_cost:\n")
    scenario = load_scenario_text(text)
    assert set(scenario.uncertain) == {
        "aluminium_offer",
        "guarantee_cost_us",
        "mineral_value_ua",
        "occupied_share",
    }


def test_the_docs_error_example_is_what_the_loader_says() -> None:
    section = docs_text().split("## Uncertain parameters", 1)[1].split("\n## ", 1)[0]
    broken = section.split("```yaml\n")[2].split("```", 1)[0]
    shown = section.split("says\n\n```\n", 1)[1].split("```", 1)[0].splitlines()
    text = edit(complete_example(), "issues:\n", broken + "issues:\n")
    problems = problems_of(text)
    assert [f"error: {p}".replace("test.yaml", "scenarios/example.yaml") for p in problems] == shown
