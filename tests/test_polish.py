"""Newton polishing on a support: exact Jacobian, refined equilibria, honest refusals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.equilibrium import deviation_payoffs, regrets, verify
from simulator.game import StrategicGame
from simulator.solvers import polish as polish_module
from simulator.solvers.polish import (
    SupportSystem,
    polish,
    regrets_batch,
    stacked_payoffs,
    support_newton,
)

# ----------------------------------------------------------------- game families


def planted_game(
    seed: int, shape: Sequence[int], support: Sequence[Sequence[int]] | None = None
) -> tuple[StrategicGame, tuple[np.ndarray, ...]]:
    """A random game with a known equilibrium ``sigma`` on ``support`` (default: full).

    Payoffs are uniform on [0, 1); then each slice ``payoffs[i][..., k, ...]``
    is shifted by a constant, which shifts :math:`u_i(k, \\sigma_{-i})` by that
    constant, so that every support strategy earns the same against
    ``sigma_{-i}`` and every other strategy earns 0.5 less.
    """
    rng = np.random.default_rng(seed)
    n = len(shape)
    payoffs = rng.random((n, *shape))
    chosen = [list(range(m)) for m in shape] if support is None else [list(s) for s in support]
    sigma = []
    for m, s in zip(shape, chosen, strict=True):
        p = np.zeros(m)
        p[s] = rng.dirichlet(np.ones(len(s)))
        sigma.append(p)
    for i, m in enumerate(shape):
        dev = deviation_payoffs(payoffs, sigma, i)
        target = np.full(m, dev[chosen[i]].mean() - 0.5)
        target[chosen[i]] = dev[chosen[i]].mean()
        shift = (dev - target).reshape([m if j == i else 1 for j in range(n)])
        payoffs[i] -= shift
    return StrategicGame.from_payoffs(payoffs), tuple(sigma)


def perturbed(profile: Sequence[np.ndarray], seed: int, size: float = 1e-4) -> list[np.ndarray]:
    """``profile`` with relative noise of ``size`` on its support, renormalised."""
    rng = np.random.default_rng(seed)
    out = []
    for p in profile:
        q = p * (1.0 + size * rng.standard_normal(p.size))
        out.append(q / q.sum())
    return out


def balanced_support(rng: np.random.Generator, shape: Sequence[int]) -> list[list[int]]:
    """A random support profile whose equations generically have isolated roots.

    Player ``i``'s ``k_i - 1`` indifference conditions constrain the others'
    ``sum_j (k_j - 1)`` free probabilities; with more conditions than that, a
    solution is a continuum (or nothing), so sizes are cut until none has.
    """
    sizes = [int(rng.integers(1, m + 1)) for m in shape]
    while any(2 * (k - 1) > sum(j - 1 for j in sizes) for k in sizes):
        sizes[int(np.argmax(sizes))] -= 1
    return [
        sorted(rng.choice(m, size=k, replace=False).tolist())
        for m, k in zip(shape, sizes, strict=True)
    ]


shapes = st.lists(st.integers(2, 4), min_size=2, max_size=4)


# ----------------------------------------------------------------- the equations


@settings(max_examples=25, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1), dense=st.booleans())
def test_jacobian_is_the_derivative_of_the_residual(
    shape: list[int], seed: int, dense: bool
) -> None:
    # Both evaluation routes (one stacked product, or one product per player) give
    # the residual u_i(k, sigma_-i) - v_i and its exact derivative, also off the simplex.
    rng = np.random.default_rng(seed)
    game = StrategicGame.from_payoffs(rng.standard_normal((len(shape), *shape)))
    support = [sorted(rng.choice(m, size=rng.integers(1, m + 1), replace=False)) for m in shape]
    limit = polish_module._DENSE_LIMIT
    try:
        polish_module._DENSE_LIMIT = limit if dense else 0
        system = SupportSystem(game, support)
    finally:
        polish_module._DENSE_LIMIT = limit
    x = rng.random((3, system.dimension))
    residual, jacobian = system.evaluate(x)
    for row, profile in enumerate(system.profiles(x)):
        for i, s in enumerate(system.support):
            expected = deviation_payoffs(game.payoffs, profile, i)[s] - x[row, system.columns + i]
            block = residual[row, system.offsets[i] : system.offsets[i + 1]]
            np.testing.assert_allclose(block, expected, atol=1e-12)
        np.testing.assert_allclose(
            residual[row, system.columns :], [p.sum() - 1 for p in profile], atol=1e-12
        )
    # The residual is multilinear, so central differences are exact up to round-off.
    step = 1e-5
    numeric = np.empty_like(jacobian)
    for d in range(system.dimension):
        shift = np.zeros(system.dimension)
        shift[d] = step
        plus, _ = system.evaluate(x + shift)
        minus, _ = system.evaluate(x - shift)
        numeric[:, :, d] = (plus - minus) / (2 * step)
    np.testing.assert_allclose(jacobian, numeric, atol=1e-8)


@settings(max_examples=25, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_batched_regrets_equal_the_verifier_regrets(shape: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    game = StrategicGame.from_payoffs(rng.standard_normal((len(shape), *shape)))
    sigmas = [rng.dirichlet(np.ones(m), size=4) for m in shape]
    batch = regrets_batch(game, sigmas)
    for row in range(4):
        profile = [s[row] for s in sigmas]
        np.testing.assert_allclose(batch[row], regrets(game, profile), atol=1e-12)


def test_stacked_payoffs_orientation_on_a_non_square_game() -> None:
    # Entry [s, (i, k)] is u_i(own_i[k], support_-i[s_-i]): check it entry by entry.
    rng = np.random.default_rng(7)
    game = StrategicGame.from_payoffs(rng.standard_normal((3, 2, 4, 3)))
    support = [[1], [0, 3], [0, 2]]
    own = [[0, 1], [3], [0, 1, 2]]
    stacked = stacked_payoffs(game, support, own)
    assert stacked.shape == (4, 2 + 1 + 3)
    for row, (a, b, c) in enumerate(np.ndindex(1, 2, 2)):
        s = (support[0][a], support[1][b], support[2][c])
        column = 0
        for i in range(3):
            for k in own[i]:
                profile = list(s)
                profile[i] = k
                assert stacked[row, column] == game.payoffs[i][tuple(profile)]
                column += 1


# ----------------------------------------------------------------- polishing


@settings(max_examples=30, deadline=None)
@given(
    shape=shapes,
    seed=st.integers(0, 2**32 - 1),
    noise_seed=st.integers(0, 2**32 - 1),
)
def test_polish_turns_a_perturbed_equilibrium_back_into_one(
    shape: list[int], seed: int, noise_seed: int
) -> None:
    support = balanced_support(np.random.default_rng(seed), shape)
    game, sigma = planted_game(seed, shape, support)
    noisy = perturbed(sigma, noise_seed)
    refined = polish(game, noisy)
    assert refined is not None
    assert regrets(game, refined).max() <= game.tolerance.payoff
    assert all(p.min() >= 0 and abs(p.sum() - 1) <= 1e-12 for p in refined)
    assert verify(game, refined) is not None
    # Newton converges to the nearby root, which is the planted equilibrium.
    for p, q in zip(refined, sigma, strict=True):
        np.testing.assert_allclose(p, q, atol=1e-8)


def test_polish_drops_strategies_a_logit_path_leaves_slightly_positive() -> None:
    # An inferior strategy kept at 1e-5 (as at the end of a logit path) would make
    # the support's indifference equations unsolvable in the simplex; the 1e-4 cut-off
    # reads the right support.
    game, sigma = planted_game(3, (3, 3, 2), [[0, 1], [1, 2], [0, 1]])
    tail = [p.copy() for p in sigma]
    tail[0][2] = 1e-5
    tail[1][0] = 1e-5
    tail = [p / p.sum() for p in tail]
    refined = polish(game, tail)
    assert refined is not None
    assert refined[0][2] == 0 and refined[1][0] == 0
    assert regrets(game, refined).max() <= game.tolerance.payoff
    with_support = polish(game, tail, support=[[0, 1], [1, 2], [0, 1]])
    assert with_support is not None
    for p, q in zip(with_support, refined, strict=True):
        np.testing.assert_allclose(p, q, atol=1e-12)


PRISONERS = StrategicGame.from_bimatrix([[3, 0], [5, 1]], [[3, 5], [0, 1]])
PENNIES = StrategicGame.from_bimatrix([[1, -1], [-1, 1]], [[-1, 1], [1, -1]])


@pytest.mark.parametrize(
    ("game", "profile", "support", "why"),
    [
        (PRISONERS, ([1, 0], [1, 0]), None, "mutual cooperation: each gains by defecting"),
        (
            PRISONERS,
            ([0.5, 0.5], [0.5, 0.5]),
            [[0, 1], [0, 1]],
            "indifference needs the opponent to cooperate with probability -1",
        ),
        (
            PENNIES,
            ([1, 0], [0.5, 0.5]),
            [[0], [0, 1]],
            "a lone mixer against a pure strategy is never indifferent",
        ),
    ],
)
def test_polish_returns_none_on_a_support_without_equilibrium(
    game: StrategicGame, profile: tuple[list[float], ...], support: list[list[int]] | None, why: str
) -> None:
    assert polish(game, [np.array(p, dtype=float) for p in profile], support=support) is None, why


def test_support_newton_reports_a_root_outside_the_simplex_as_converged() -> None:
    # Converged and equilibrium are different claims: the prisoners' dilemma's full
    # support system has the root q = -1 (probability of cooperating).
    profile, converged = support_newton(PRISONERS, [[0, 1], [0, 1]], [[0.5, 0.5], [0.5, 0.5]])
    assert converged
    np.testing.assert_allclose(profile[0], [-1.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(profile[1], [-1.0, 2.0], atol=1e-12)


def test_polish_of_an_exact_mixed_equilibrium_keeps_it() -> None:
    refined = polish(PENNIES, [np.array([0.5, 0.5]), np.array([0.5, 0.5])])
    assert refined is not None
    for p in refined:
        np.testing.assert_allclose(p, [0.5, 0.5], atol=1e-15)


@pytest.mark.parametrize(
    ("profile", "support", "message"),
    [
        ([np.array([1.0, 0.0])], None, "strategies for 2 players"),
        ([np.array([1.0, 0.0]), np.array([1.0])], None, "needs 2 probabilities"),
        ([np.array([1.0, 0.0]), np.array([1.0, 0.0])], [[0], []], "non-empty subset"),
        ([np.array([1.0, 0.0]), np.array([1.0, 0.0])], [[0], [2]], "non-empty subset"),
    ],
)
def test_polish_rejects_malformed_input(
    profile: list[np.ndarray], support: list[list[int]] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        polish(PENNIES, profile, support=support)
