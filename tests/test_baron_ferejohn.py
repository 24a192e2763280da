"""Baron-Ferejohn multilateral bargaining: known answers and equilibrium conditions.

Unit-surplus problems: ``n`` players split a unit (``z >= 0``, ``sum z <= 1``)
and value their share linearly, with ``d = 0`` unless stated. The closed forms
used here are derived in the comments next to each test.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.bargaining import BargainingProblem, rubinstein_split
from simulator.bargaining.baron_ferejohn import baron_ferejohn

SETTINGS = settings(max_examples=10, deadline=None)
ATOL = 1e-6  # the solutions are exact up to optimizer round-off in the linear case


def unit_split(n: int, d: np.ndarray | None = None) -> BargainingProblem:
    return BargainingProblem(
        players=tuple(f"p{i}" for i in range(n)),
        lower=np.zeros(n),
        upper=np.ones(n),
        utility=lambda z: z,
        disagreement=np.zeros(n) if d is None else d,
        A_ub=np.ones((1, n)),
        b_ub=np.ones(1),
    )


class PowerRest:
    """Three players, two issues: ``u_0 = a_0 z_0^p_0``, ``u_1 = a_1 z_1^p_1``, and
    player 2 values the rest ``r = 1 - z_0 - z_1`` as ``a_2 r^p_2``."""

    def __init__(self, a: np.ndarray, p: np.ndarray) -> None:
        self.a, self.p = a, p

    def __call__(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        rest = 1.0 - z[..., 0] - z[..., 1]
        shares = np.stack([z[..., 0], z[..., 1], rest], axis=-1)
        return self.a * np.maximum(shares, 0.0) ** self.p


def power_rest(a: np.ndarray, p: np.ndarray) -> BargainingProblem:
    return BargainingProblem(
        players=("A", "B", "C"),
        lower=np.zeros(2),
        upper=np.ones(2),
        utility=PowerRest(a, p),
        disagreement=np.zeros(3),
        A_ub=np.ones((1, 2)),
        b_ub=np.ones(1),
        issues=("share A", "share B"),
    )


def expected_values(sol) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Ex-ante values recomputed from the reported proposals (random recognition)."""
    ev = sol.evidence
    p = np.asarray(ev["recognition"])
    total = np.zeros(len(sol.players))
    for i, label in enumerate(sol.players):
        for option in ev["proposals"][label]["mixture"]:
            total += p[i] * option["probability"] * np.asarray(option["payoffs"])
    return total


# ---------------------------------------------------------------- known answers


@pytest.mark.parametrize(("n", "quota"), [(3, 2), (3, 3), (4, 3), (4, 2)])
def test_symmetric_random_recognition(n: int, quota: int) -> None:
    # Baron & Ferejohn (1989): v_i = 1/n, each partner is bought at delta / n,
    # the proposer keeps 1 - delta (q - 1) / n, and non-members get nothing.
    delta = 0.9
    sol = baron_ferejohn(unit_split(n), delta, quota=quota)
    ev = sol.evidence
    assert sol.concept == "baron_ferejohn"
    assert sol.agreement and ev["converged"]
    np.testing.assert_allclose(ev["continuation_values"], np.full(n, 1 / n), atol=ATOL)
    np.testing.assert_allclose(ev["acceptance_thresholds"], np.full(n, delta / n), atol=ATOL)
    assert sol.payoffs[0] == pytest.approx(1 - delta * (quota - 1) / n, abs=ATOL)
    partners = ev["proposals"]["p0"]["coalition"]
    assert len(partners) == quota - 1
    for j, label in enumerate(sol.players[1:], start=1):
        share = delta / n if label in partners else 0.0
        assert sol.payoffs[j] == pytest.approx(share, abs=ATOL)
    # Every coalition is equally cheap, so the proposer mixes uniformly over all of them.
    mixture = ev["proposals"]["p0"]["mixture"]
    assert len(mixture) == len(list(itertools.combinations(range(n - 1), quota - 1)))
    np.testing.assert_allclose([m["probability"] for m in mixture], 1 / len(mixture))
    assert sol.unique is (None if quota == n else False)
    assert ev["fixed_point_residual"] <= 1e-9
    np.testing.assert_allclose(expected_values(sol), ev["continuation_values"], atol=ATOL)


@pytest.mark.parametrize(
    ("p", "delta"),
    [
        ([0.5, 0.3, 0.2], [0.9, 0.9, 0.9]),
        ([0.1, 0.2, 0.3, 0.4], [0.8, 0.8, 0.8, 0.8]),
        ([0.5, 0.3, 0.2], [0.95, 0.7, 0.85]),
        ([0.0, 0.6, 0.4], [0.9, 0.6, 0.8]),
    ],
)
def test_unanimity_values_follow_recognition(p: list[float], delta: list[float]) -> None:
    # Unanimity: proposer i pays each j his threshold delta_j v_j, so
    # v_i = p_i (1 - S) + delta_i v_i with S = sum_j delta_j v_j, i.e.
    # v_i = p_i / ((1 - delta_i)(1 + K)) with K = sum_j p_j delta_j / (1 - delta_j);
    # for a common delta this is v_i = p_i.
    pr, dl = np.array(p), np.array(delta)
    n = pr.size
    k = float(np.sum(pr * dl / (1 - dl)))
    v = pr / ((1 - dl) * (1 + k))
    sol = baron_ferejohn(unit_split(n), dl, recognition=pr)
    ev = sol.evidence
    np.testing.assert_allclose(ev["continuation_values"], v, atol=ATOL)
    if np.ptp(dl) == 0:
        np.testing.assert_allclose(ev["continuation_values"], pr, atol=ATOL)
    offer = dl * v
    for i, label in enumerate(sol.players):
        payoffs = ev["proposals"][label]["payoffs"]
        others = [j for j in range(n) if j != i]
        np.testing.assert_allclose(payoffs[others], offer[others], atol=ATOL)
        assert payoffs[i] == pytest.approx(1 - offer[others].sum(), abs=ATOL)
    assert sol.unique is None


@pytest.mark.parametrize("delta", [(0.9, 0.9, 0.85), (0.9, 0.8, 0.7)])
def test_heterogeneous_quota_needs_mixing(delta: tuple[float, ...]) -> None:
    # n = 3, quota 2, uniform recognition. Whoever is bought is bought at delta_j v_j,
    # so in a mixed equilibrium the players competing for a proposer's vote cost
    # the same. With delta = (a, a, b), b < a close: v = (b, b, a) / (2b + a).
    # With three distinct deltas (all mixed): v_j proportional to 1 / delta_j.
    dl = np.array(delta)
    sol = baron_ferejohn(unit_split(3), dl, quota=2)
    ev = sol.evidence
    if dl[0] == dl[1]:
        a, b = dl[0], dl[2]
        v = np.array([b, b, a]) / (2 * b + a)
    else:
        v = (1 / dl) / np.sum(1 / dl)
    assert ev["converged"]
    np.testing.assert_allclose(ev["continuation_values"], v, atol=1e-6)
    # No uniform mix is consistent here, and the proposer regrets nothing.
    assert ev["proposer_regret"] <= 1e-8
    assert len(ev["proposals"]["p0"]["mixture"]) == 2
    assert "mixes" in " ".join(sol.notes)
    np.testing.assert_allclose(expected_values(sol), ev["continuation_values"], atol=1e-6)


@pytest.mark.parametrize(("n", "delta"), [(3, 0.9), (3, 0.5), (4, 0.8)])
def test_rotation_unanimity_closed_form(n: int, delta: float) -> None:
    # Rotation with unanimity: the player k places after the proposer is bought
    # at delta times what he gets one round later, when he is k - 1 places after
    # that round's proposer. So the shares are x delta^k, k = 0..n-1, with
    # x (1 + delta + ... + delta^(n-1)) = 1: x = (1 - delta) / (1 - delta^n).
    x = (1 - delta) / (1 - delta**n)
    for first in (0, 1):
        sol = baron_ferejohn(unit_split(n), delta, protocol="rotation", first=first)
        ev = sol.evidence
        for k in range(n):
            assert sol.payoffs[(first + k) % n] == pytest.approx(x * delta**k, abs=ATOL)
        assert ev["recognition"] is None
        assert ev["order"][0] == f"p{first}"
        # The continuation values are those of the next proposer's round.
        nxt = (first + 1) % n
        for k in range(n):
            assert ev["continuation_values"][(nxt + k) % n] == pytest.approx(x * delta**k, abs=ATOL)


def test_rotation_heterogeneous_discounts() -> None:
    # Unanimity: W[r][j] = delta_j^((j - r) mod n) x_j for j != r, and
    # x_r = 1 - sum_{j != r} delta_j^((j - r) mod n) x_j: a linear system in x.
    dl = np.array([0.9, 0.6, 0.75])
    n = dl.size
    m = np.eye(n)
    for r in range(n):
        for j in range(n):
            if j != r:
                m[r, j] = dl[j] ** ((j - r) % n)
    x = np.linalg.solve(m, np.ones(n))
    sol = baron_ferejohn(unit_split(n), dl, protocol="rotation")
    expected = np.array([x[0]] + [dl[j] ** j * x[j] for j in range(1, n)])
    np.testing.assert_allclose(sol.payoffs, expected, atol=ATOL)


@pytest.mark.parametrize(("delta1", "delta2"), [(0.9, 0.8), (0.5, 0.5), (0.99, 0.3)])
def test_two_players_rotation_is_rubinstein(delta1: float, delta2: float) -> None:
    for first in (0, 1):
        closed = rubinstein_split(delta1, delta2, first=first)
        assert closed.deal is not None
        sol = baron_ferejohn(unit_split(2), [delta1, delta2], protocol="rotation", first=first)
        np.testing.assert_allclose(sol.payoffs, closed.deal, atol=ATOL)


def test_rotation_with_a_quota_gives_the_proposer_everything() -> None:
    # n = 3, quota 2: in round r the next proposer r + 1 is dear (delta times his
    # proposer share), while r + 2 gets nothing in round r + 1 (there he is next in
    # line, and r + 1 buys r instead), so r buys r + 2 for nothing and keeps all.
    sol = baron_ferejohn(unit_split(3), 0.9, protocol="rotation", quota=2)
    np.testing.assert_allclose(sol.payoffs, [1.0, 0.0, 0.0], atol=ATOL)
    assert sol.evidence["proposals"]["p0"]["coalition"] == ("p2",)
    assert sol.evidence["proposals"]["p1"]["coalition"] == ("p0",)


def test_no_deal_beats_waiting() -> None:
    # q needs 1.2 but can get at most 1: no proposal passes, nobody ever agrees.
    problem = BargainingProblem(
        players=("p", "q", "r"),
        lower=np.zeros(3),
        upper=np.ones(3),
        utility=lambda z: z,
        disagreement=np.array([0.0, 1.2, 0.0]),
    )
    sol = baron_ferejohn(problem, 0.9)
    assert not sol.agreement
    assert sol.deal is None
    np.testing.assert_allclose(sol.payoffs, problem.disagreement)
    np.testing.assert_allclose(sol.evidence["continuation_values"], problem.disagreement)


# ---------------------------------------------------------------- nonlinear


@pytest.mark.parametrize("quota", [3, 2])
def test_nonlinear_equilibrium_conditions(quota: int) -> None:
    problem = power_rest(np.array([1.0, 1.5, 2.0]), np.array([0.5, 0.7, 0.9]))
    delta = np.array([0.9, 0.85, 0.8])
    sol = baron_ferejohn(problem, delta, quota=quota)
    ev = sol.evidence
    tol = problem.solve_tolerance
    assert ev["converged"]
    assert ev["fixed_point_residual"] <= tol
    assert ev["proposer_regret"] <= tol
    # v is a fixed point: the proposals, weighted by recognition and mix, reproduce it.
    np.testing.assert_allclose(expected_values(sol), ev["continuation_values"], atol=tol)
    d = problem.disagreement
    thresholds = d + delta * (ev["continuation_values"] - d)
    np.testing.assert_allclose(ev["acceptance_thresholds"], thresholds, atol=1e-12)
    # Brute force over a fine grid of the deal space.
    g = np.linspace(0.0, 1.0, 801)
    grid = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    grid = grid[grid.sum(axis=1) <= 1.0]
    values = problem.payoffs(grid)
    labels = problem.players
    for i, label in enumerate(labels):
        prop = ev["proposals"][label]
        for option in prop["mixture"]:
            members = [labels.index(m) for m in option["coalition"]]
            pay = np.asarray(option["payoffs"])
            # Every acceptance constraint binds (the proposer pays no more than needed).
            np.testing.assert_allclose(pay[members], thresholds[members], atol=tol)
            # No deal the same members accept is better for the proposer.
            ok = np.all(values[:, members] >= thresholds[members], axis=1)
            assert pay[i] >= values[ok, i].max() - tol
            assert pay[i] <= values[ok, i].max() + 1e-2  # the grid is fine enough to come close
        # No other coalition is better for him either.
        best = pay[i]
        for others in itertools.combinations([j for j in range(3) if j != i], quota - 1):
            ok = np.all(values[:, list(others)] >= thresholds[list(others)], axis=1)
            assert values[ok, i].max() <= best + tol


class PowerShares:
    """Four players, three issues: ``u_i = a_i z_i^p_i`` for ``i < 3``, and player 3
    values the rest ``1 - z_0 - z_1 - z_2`` as ``a_3 r^p_3``."""

    def __init__(self, a: np.ndarray, p: np.ndarray) -> None:
        self.a, self.p = a, p

    def __call__(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        rest = 1.0 - z.sum(axis=-1)
        shares = np.concatenate([z, rest[..., None]], axis=-1)
        return self.a * np.maximum(shares, 0.0) ** self.p


@pytest.mark.parametrize(("protocol", "quota"), [("random", 3), ("random", 2), ("rotation", 3)])
def test_four_players_nonlinear_certificates(protocol: str, quota: int) -> None:
    # Heterogeneous players under a quota: the equilibrium may need mixing. Whatever
    # it takes, the answer must certify itself: v = F(v), no proposer regrets his
    # mix, and every member is bought at exactly his threshold.
    problem = BargainingProblem(
        players=("A", "B", "C", "D"),
        lower=np.zeros(3),
        upper=np.ones(3),
        utility=PowerShares(np.array([1.0, 1.5, 2.0, 1.2]), np.array([0.5, 0.7, 0.9, 0.6])),
        disagreement=np.zeros(4),
        A_ub=np.ones((1, 3)),
        b_ub=np.ones(1),
    )
    sol = baron_ferejohn(problem, [0.95, 0.9, 0.85, 0.8], protocol=protocol, quota=quota)
    ev = sol.evidence
    tol = problem.solve_tolerance
    assert ev["converged"]
    assert ev["fixed_point_residual"] <= tol
    assert ev["proposer_regret"] <= tol
    if protocol == "random":
        np.testing.assert_allclose(expected_values(sol), ev["continuation_values"], atol=tol)
    for label, prop in ev["proposals"].items():
        t = ev["acceptance_thresholds_by_proposer"][label]
        for option in prop["mixture"]:
            members = [problem.players.index(m) for m in option["coalition"]]
            assert len(members) == quota - 1
            np.testing.assert_allclose(np.asarray(option["payoffs"])[members], t[members], atol=tol)


# ---------------------------------------------------------------- input checks


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"discount": 1.0}, "discount factors must be in"),
        ({"discount": [0.9, 0.0, 0.9]}, "discount factors must be in"),
        ({"discount": [0.9, 0.9]}, "one per player"),
        ({"discount": 0.9, "recognition": [0.5, 0.6, -0.1]}, "non-negative"),
        ({"discount": 0.9, "recognition": [0.5, 0.3, 0.1]}, "sum to 1"),
        ({"discount": 0.9, "recognition": [0.5, 0.5]}, "non-negative probabilities"),
        ({"discount": 0.9, "protocol": "rotation", "recognition": [0.2, 0.3, 0.5]}, "random"),
        ({"discount": 0.9, "protocol": "dictator"}, "protocol"),
        ({"discount": 0.9, "quota": 0}, "quota"),
        ({"discount": 0.9, "quota": 4}, "quota"),
        ({"discount": 0.9, "first": 3}, "first"),
        ({"discount": 0.9, "first": -1}, "first"),
    ],
)
def test_bad_inputs_are_rejected(kwargs: dict, match: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match="baron_ferejohn") as err:
        baron_ferejohn(unit_split(3), **kwargs)
    assert match in str(err.value)


def test_evidence_and_notes() -> None:
    sol = baron_ferejohn(unit_split(3), [0.9, 0.8, 0.7], recognition=[0.5, 0.25, 0.25])
    ev = sol.evidence
    for key in (
        "continuation_values",
        "proposals",
        "acceptance_thresholds",
        "protocol",
        "quota",
        "recognition",
        "iterations",
        "fixed_point_residual",
    ):
        assert key in ev
    assert ev["protocol"] == "random" and ev["quota"] == 3
    assert ev["iterations"] >= 1
    assert set(ev["proposals"]) == {"p0", "p1", "p2"}
    assert ev["proposals"]["p0"]["coalition"] == ("p1", "p2")
    assert any("p0 (proposes first) buys the votes of p1 and p2" in note for note in sol.notes)
    assert sol.deal_terms().keys() == {"z0", "z1", "z2"}


# ---------------------------------------------------------------- properties


deltas = st.floats(0.3, 0.95)


@SETTINGS
@given(
    st.integers(3, 4).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(deltas, min_size=n, max_size=n),
            st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n),
            st.integers(2, n),
        )
    )
)
def test_values_sum_to_the_surplus(case: tuple[int, list[float], list[float], int]) -> None:
    # Proposals are efficient and accepted at once, so the ex-ante values split the unit.
    n, delta, weights, quota = case
    p = np.array(weights) / np.sum(weights)
    sol = baron_ferejohn(unit_split(n), delta, recognition=p, quota=quota)
    ev = sol.evidence
    assert ev["converged"]
    assert float(np.sum(ev["continuation_values"])) == pytest.approx(1.0, abs=1e-6)
    assert float(np.sum(sol.payoffs)) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(expected_values(sol), ev["continuation_values"], atol=1e-6)


@SETTINGS
@given(
    st.integers(3, 4).flatmap(
        lambda n: st.tuples(
            st.lists(deltas, min_size=n, max_size=n),
            st.lists(st.floats(0.0, 0.8 / n), min_size=n, max_size=n),
            st.integers(2, n),
            st.sampled_from(["random", "rotation"]),
        )
    )
)
def test_coalition_members_are_individually_rational(
    case: tuple[list[float], list[float], int, str],
) -> None:
    # Each member gets at least his acceptance threshold; under unanimity every
    # value is at least d, so so is every threshold, and members get at least d.
    delta, d_list, quota, protocol = case
    d = np.array(d_list)
    n = d.size
    problem = unit_split(n, d)
    sol = baron_ferejohn(problem, delta, quota=quota, protocol=protocol)
    ev = sol.evidence
    tol = problem.solve_tolerance
    for label, prop in ev["proposals"].items():
        t = ev["acceptance_thresholds_by_proposer"][label]
        for option in prop["mixture"]:
            members = [problem.players.index(m) for m in option["coalition"]]
            pay = np.asarray(option["payoffs"])
            assert np.all(pay[members] >= t[members] - tol)
            if quota == n:
                assert np.all(pay >= d - tol)


@SETTINGS
@given(
    st.integers(3, 4).flatmap(
        lambda n: st.tuples(
            st.lists(deltas, min_size=n, max_size=n),
            st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n),
            st.integers(0, n - 1),
            st.floats(0.05, 0.5),
        )
    )
)
def test_recognition_is_valuable(case: tuple[list[float], list[float], int, float]) -> None:
    # Unanimity, linear: moving recognition probability to player i (taking it
    # proportionally from the others) does not lower his ex-ante value.
    delta, weights, i, shift = case
    p = np.array(weights) / np.sum(weights)
    q = (1 - shift) * p
    q[i] += shift
    n = p.size
    low = baron_ferejohn(unit_split(n), delta, recognition=p)
    high = baron_ferejohn(unit_split(n), delta, recognition=q)
    v_low = low.evidence["continuation_values"][i]
    v_high = high.evidence["continuation_values"][i]
    assert v_high >= v_low - 1e-9
