"""Bargaining problems over a continuous deal space, and their solutions.

Notation, used by every module of :mod:`simulator.bargaining`:

* ``n`` players ``i = 0, ..., n-1`` bargain over ``k`` issues. A *deal* is a
  vector ``z`` of shape ``(k,)``.
* The *deal space* ``X`` is the box ``lower <= z <= upper`` intersected with the
  optional linear constraints ``A_ub @ z <= b_ub`` (``A_ub`` of shape ``(m, k)``,
  ``b_ub`` of shape ``(m,)``), e.g. shares that sum to at most 1.
* ``utility`` maps deals of shape ``(..., k)`` to payoffs of shape ``(..., n)``:
  ``u(z)[i]`` is player ``i``'s payoff. It is called on whole arrays of deals
  (the scenario's expressions evaluate on numpy arrays), so a finite-difference
  Jacobian costs one call on ``2k + 1`` deals.
* ``d`` (shape ``(n,)``) is the *disagreement point*: what each player gets when
  no deal is made. The *gain* of a deal is ``u(z) - d``; a deal is *individually
  rational* when every gain is ``>= 0``.

Solution concepts live one per module (Nash 1950; Kalai & Smorodinsky 1975;
Kalai 1977; the utilitarian sum; Rubinstein 1982) and each returns one frozen
:class:`BargainingSolution`. They are found with scipy's SLSQP (Kraft 1988)
from several deterministic starts (an unscrambled Halton sequence, Halton 1960,
plus the Chebyshev centre of ``X``), and the first-order (KKT) conditions are
checked at the answer and reported as evidence.

Tolerances. Payoffs are compared against ``problem.tolerance.payoff`` (the
project's one relative tolerance :data:`~simulator.tolerance.RTOL` times the
spread of the utilities over ``X``). A numerical optimizer with
finite-difference gradients cannot reach that accuracy, so results of the
optimizers are compared at :data:`SOLVE_RTOL` ``= sqrt(RTOL)`` relative to the
same spread (payoffs) or to the issue ranges (deals).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import linprog, nnls
from scipy.stats import qmc

from simulator.tolerance import SOLVE_RTOL, Tolerance

__all__ = [
    "SOLVE_RTOL",
    "BargainingProblem",
    "BargainingSolution",
    "Utility",
]

FloatArray = npt.NDArray[np.float64]
Utility = Callable[[FloatArray], npt.ArrayLike]
"""Deals of shape ``(..., k)`` -> payoffs of shape ``(..., n)``."""


_SAMPLE_SIZE = 256  # deals sampled once per problem to measure the utilities' spread
_DEFAULT_STARTS = 6


@dataclass(frozen=True, eq=False)
class BargainingProblem:
    """A bargaining problem ``(X, u, d)`` as in the module docstring.

    ``players``: labels, length ``n``. ``lower``, ``upper``: shape ``(k,)``.
    ``utility``: vectorised, ``(..., k) -> (..., n)``. ``disagreement``: ``(n,)``.
    ``A_ub``, ``b_ub``: optional, shapes ``(m, k)`` and ``(m,)``.
    ``issues``: labels for the ``k`` issues (default ``z0, z1, ...``).
    ``n_starts``: how many deterministic starting deals the optimizers use.

    Raises :class:`ValueError` when shapes disagree, bounds are not finite or
    ``lower > upper``, the deal space is empty, or the utility returns the wrong
    shape or non-finite values.
    """

    players: tuple[str, ...]
    lower: FloatArray
    upper: FloatArray
    utility: Utility
    disagreement: FloatArray
    A_ub: FloatArray | None = None
    b_ub: FloatArray | None = None
    issues: tuple[str, ...] = ()
    n_starts: int = _DEFAULT_STARTS
    tolerance: Tolerance = field(init=False)
    centre: FloatArray = field(init=False)
    starts: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        where = "BargainingProblem"
        players = tuple(str(p) for p in self.players)
        if not players or len(set(players)) != len(players):
            raise ValueError(f"{where}: players must be non-empty and distinct, got {players}")
        n = len(players)
        lower = np.asarray(self.lower, dtype=float).reshape(-1)
        upper = np.asarray(self.upper, dtype=float).reshape(-1)
        k = lower.size
        if k == 0 or upper.shape != lower.shape:
            raise ValueError(
                f"{where}: lower and upper must have the same non-zero length, "
                f"got {lower.shape} and {upper.shape}"
            )
        if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
            raise ValueError(f"{where}: issue bounds must be finite")
        if np.any(lower > upper):
            bad = int(np.argmax(lower > upper))
            raise ValueError(f"{where}: issue {bad} has lower {lower[bad]} > upper {upper[bad]}")
        d = np.asarray(self.disagreement, dtype=float).reshape(-1)
        if d.shape != (n,) or not np.all(np.isfinite(d)):
            raise ValueError(
                f"{where}: disagreement must be {n} finite numbers (one per player), got {d}"
            )
        a_ub, b_ub = self.A_ub, self.b_ub
        if (a_ub is None) != (b_ub is None):
            raise ValueError(f"{where}: give both A_ub and b_ub, or neither")
        if a_ub is not None and b_ub is not None:
            a_ub = np.asarray(a_ub, dtype=float).reshape(-1, k)
            b_ub = np.asarray(b_ub, dtype=float).reshape(-1)
            if b_ub.shape != (a_ub.shape[0],):
                raise ValueError(
                    f"{where}: A_ub has {a_ub.shape[0]} rows but b_ub has {b_ub.size} entries"
                )
            if not (np.all(np.isfinite(a_ub)) and np.all(np.isfinite(b_ub))):
                raise ValueError(f"{where}: A_ub and b_ub must be finite")
        issues = tuple(self.issues) if self.issues else tuple(f"z{j}" for j in range(k))
        if len(issues) != k:
            raise ValueError(f"{where}: {len(issues)} issue labels for {k} issues")
        if not callable(self.utility):
            raise ValueError(f"{where}: utility must be callable")
        if self.n_starts < 1:
            raise ValueError(f"{where}: n_starts must be at least 1, got {self.n_starts}")
        for name, value in (
            ("players", players),
            ("lower", lower),
            ("upper", upper),
            ("disagreement", d),
            ("A_ub", a_ub),
            ("b_ub", b_ub),
            ("issues", issues),
        ):
            object.__setattr__(self, name, value)

        centre = _chebyshev_centre(lower, upper, a_ub, b_ub)
        object.__setattr__(self, "centre", centre)
        sample = self.project(qmc.Halton(d=k, scramble=False).random(_SAMPLE_SIZE + 1)[1:])
        values = self.payoffs(np.vstack([centre, sample]))
        object.__setattr__(self, "tolerance", Tolerance.for_payoffs(np.vstack([values, d])))
        object.__setattr__(self, "starts", np.vstack([centre, sample[: self.n_starts - 1]]))

    @property
    def n_players(self) -> int:
        return len(self.players)

    @property
    def n_issues(self) -> int:
        return int(self.lower.size)

    @property
    def solve_tolerance(self) -> float:
        """Payoff differences below this are not distinguishable by the optimizers."""
        return SOLVE_RTOL * self.tolerance.payoff / self.tolerance.rtol

    @property
    def deal_tolerance(self) -> FloatArray:
        """Per-issue distance below which two optimizer results are the same deal."""
        return SOLVE_RTOL * np.maximum(self.upper - self.lower, 1.0)

    def payoffs(self, deals: npt.ArrayLike) -> FloatArray:
        """Utilities of ``deals`` (shape ``(..., k)``) as an array of shape ``(..., n)``.

        Raises :class:`ValueError` (naming this function) on a wrong shape or a
        non-finite utility.
        """
        z = np.asarray(deals, dtype=float)
        values = np.asarray(self.utility(z), dtype=float)
        expected = (*z.shape[:-1], self.n_players)
        if values.shape != expected:
            raise ValueError(
                f"BargainingProblem.payoffs: utility returned shape {values.shape} "
                f"for deals of shape {z.shape}; expected {expected}"
            )
        if not np.all(np.isfinite(values)):
            bad = np.argwhere(~np.all(np.isfinite(values), axis=-1))[0]
            raise ValueError(
                f"BargainingProblem.payoffs: utility is not finite at deal {z[tuple(bad)].tolist()}"
            )
        return values

    def feasible(self, deals: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether each deal (shape ``(..., k)``) lies in the deal space, within tolerance."""
        z = np.asarray(deals, dtype=float)
        tol = self.deal_tolerance
        ok = np.all((z >= self.lower - tol) & (z <= self.upper + tol), axis=-1)
        if self.A_ub is not None and self.b_ub is not None:
            slack = self.b_ub - z @ self.A_ub.T
            scale = np.abs(self.A_ub) @ tol
            ok &= np.all(slack >= -scale, axis=-1)
        return np.asarray(ok)

    def project(self, deals: npt.ArrayLike) -> FloatArray:
        """Pull deals of shape ``(..., k)`` into the deal space along the ray to the centre.

        A deal in the box but violating ``A_ub @ z <= b_ub`` is replaced by the
        last feasible point on the segment from the Chebyshev centre to it.
        """
        z = np.clip(np.asarray(deals, dtype=float), self.lower, self.upper)
        if self.A_ub is None or self.b_ub is None:
            return z
        c = self.centre
        step = (z - c) @ self.A_ub.T  # (..., m)
        room = self.b_ub - self.A_ub @ c  # (m,) >= 0 at the centre
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(step > 0, room / step, np.inf)
        s = np.clip(np.min(ratio, axis=-1, initial=np.inf), 0.0, 1.0)
        return np.asarray(c + s[..., None] * (z - c))


@dataclass(frozen=True, eq=False)
class BargainingSolution:
    """One solution concept's answer to one bargaining problem.

    ``deal``: shape ``(k,)``, or ``None`` when no deal beats the disagreement
    point (``agreement`` is then false and ``payoffs`` equals ``d``).
    ``payoffs``: ``u(deal)``, shape ``(n,)``; ``gains``: ``payoffs - d``.
    ``unique``: ``False`` when distinct optima with equal objective were found;
    ``True`` when every start that converged reached the same answer (numerical
    evidence, not a proof, unless ``evidence`` says the answer is a closed form);
    ``None`` when fewer than two starts converged.
    ``evidence``: what was checked (KKT residuals, objective, starts, ...).
    """

    concept: str
    players: tuple[str, ...]
    issues: tuple[str, ...]
    deal: FloatArray | None
    payoffs: FloatArray
    gains: FloatArray
    agreement: bool
    unique: bool | None
    evidence: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    notes: tuple[str, ...] = ()

    def deal_terms(self) -> dict[str, float]:
        """The deal as ``{issue: value}`` (empty when there is no agreement)."""
        if self.deal is None:
            return {}
        return {name: float(v) for name, v in zip(self.issues, self.deal, strict=True)}


def _chebyshev_centre(
    lower: FloatArray, upper: FloatArray, a_ub: FloatArray | None, b_ub: FloatArray | None
) -> FloatArray:
    """The centre of the largest ball inside the deal space (an LP, Chebyshev centre)."""
    if a_ub is None or b_ub is None:
        return np.asarray((lower + upper) / 2.0)
    k = lower.size
    eye = np.eye(k)
    rows = np.vstack([a_ub, eye, -eye])
    rhs = np.concatenate([b_ub, upper, -lower])
    norms = np.linalg.norm(rows, axis=1)
    res = linprog(
        c=np.concatenate([np.zeros(k), [-1.0]]),
        A_ub=np.hstack([rows, norms[:, None]]),
        b_ub=rhs,
        bounds=[*zip(lower, upper, strict=True), (0.0, None)],
        method="highs",
    )
    if res.status != 0:
        raise ValueError(
            "BargainingProblem: the deal space is empty "
            "(no deal within the bounds satisfies A_ub @ z <= b_ub)"
        )
    return np.asarray(res.x[:k], dtype=float)


# ---------------------------------------------------------------------------
# Private kernel shared by the solution modules: plain arrays in, plain arrays out.


class _Evaluator:
    """Utilities and their central-difference Jacobian at one deal, cached.

    One call of the vectorised utility on ``2k + 1`` deals gives both. Points
    are kept inside the box (one-sided differences at a bound) because utilities
    such as ``z ** 0.5`` are undefined outside it.
    """

    def __init__(self, problem: BargainingProblem) -> None:
        self.problem = problem
        k = problem.n_issues
        span = problem.upper - problem.lower
        # The step scales with |z| down to a thousandth of the range: utilities such
        # as z ** 0.3 are steep near 0, where a range-sized step misjudges the slope.
        self.step = np.cbrt(np.finfo(float).eps)
        self.floor = 1e-3 * np.where(span > 0, span, 1.0)
        self.eye = np.eye(k)
        self.fixed = span <= 0
        self._key = b""
        self._u: FloatArray = np.empty(0)
        self._jac: FloatArray = np.empty(0)

    def __call__(self, z: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``(u(z), J(z))`` with shapes ``(n,)`` and ``(n, k)``."""
        key = z.tobytes()
        if key == self._key:
            return self._u, self._jac
        p = self.problem
        zc = np.clip(z, p.lower, p.upper)
        h = self.step * np.maximum(np.abs(zc), self.floor)
        plus = np.minimum(zc + self.eye * h, p.upper)
        minus = np.maximum(zc - self.eye * h, p.lower)
        values = p.payoffs(np.vstack([zc[None, :], plus, minus]))
        k = zc.size
        spacing = np.diagonal(plus - minus).copy()
        spacing[self.fixed] = 1.0
        jac = ((values[1 : k + 1] - values[k + 1 :]) / spacing[:, None]).T
        jac[:, self.fixed] = 0.0
        self._key = key
        self._u, self._jac = values[0], jac
        return self._u, self._jac


def _linear_constraints(problem: BargainingProblem, extra: int = 0) -> list[dict[str, Any]]:
    """SLSQP form of ``A_ub @ z <= b_ub``, padded with ``extra`` zero columns."""
    if problem.A_ub is None or problem.b_ub is None:
        return []
    a = problem.A_ub
    b = problem.b_ub
    jac = np.hstack([-a, np.zeros((a.shape[0], extra))])
    k = problem.n_issues
    return [{"type": "ineq", "fun": lambda x: b - a @ x[:k], "jac": lambda x: jac}]


def _active_normals(problem: BargainingProblem, z: FloatArray, extra: int = 0) -> list[FloatArray]:
    """Outward normals (in ``h(x) <= 0`` form) of the active bounds and linear rows at ``z``."""
    k = problem.n_issues
    tol = problem.deal_tolerance
    normals: list[FloatArray] = []
    for j in range(k):
        if problem.upper[j] - problem.lower[j] <= 0:
            # A fixed issue: both bounds active, the multiplier may have either sign.
            e = np.zeros(k + extra)
            e[j] = 1.0
            normals += [e, -e]
            continue
        if z[j] >= problem.upper[j] - tol[j]:
            e = np.zeros(k + extra)
            e[j] = 1.0
            normals.append(e)
        if z[j] <= problem.lower[j] + tol[j]:
            e = np.zeros(k + extra)
            e[j] = -1.0
            normals.append(e)
    if problem.A_ub is not None and problem.b_ub is not None:
        slack = problem.b_ub - problem.A_ub @ z
        scale = np.abs(problem.A_ub) @ tol
        for row, s, sc in zip(problem.A_ub, slack, scale, strict=True):
            if s <= sc:
                normals.append(np.concatenate([row, np.zeros(extra)]))
    return normals


def _kkt_residual(grad: FloatArray, normals: Sequence[FloatArray]) -> float:
    """Relative stationarity residual of ``min f`` at a point with active constraints.

    KKT (Karush 1939; Kuhn & Tucker 1951): ``-grad f = sum_j lambda_j n_j`` with
    ``lambda >= 0`` over the active constraints' normals ``n_j``. The multipliers
    are fitted by non-negative least squares (Lawson & Hanson 1974); the
    residual is divided by ``|grad f|`` so it is scale-free (0 = stationary).
    """
    size = float(np.linalg.norm(grad))
    if size == 0.0:
        return 0.0
    if not normals:
        return 1.0
    _, residual = nnls(np.column_stack(normals), -grad)
    return float(residual) / size


def _distinct(points: Sequence[FloatArray], tol: FloatArray | float) -> list[FloatArray]:
    """The points of ``points`` that differ from every earlier one by more than ``tol``."""
    kept: list[FloatArray] = []
    for p in points:
        if all(np.any(np.abs(p - q) > tol) for q in kept):
            kept.append(p)
    return kept


def _no_agreement(
    concept: str, problem: BargainingProblem, evidence: Mapping[str, Any], note: str
) -> BargainingSolution:
    """The answer when no deal gives every player more than the disagreement point."""
    d = problem.disagreement
    return BargainingSolution(
        concept=concept,
        players=problem.players,
        issues=problem.issues,
        deal=None,
        payoffs=d.copy(),
        gains=np.zeros_like(d),
        agreement=False,
        unique=True,
        evidence=MappingProxyType(dict(evidence)),
        notes=(note,),
    )


def _solution(
    concept: str,
    problem: BargainingProblem,
    deal: FloatArray,
    unique: bool | None,
    evidence: Mapping[str, Any],
    notes: Sequence[str] = (),
) -> BargainingSolution:
    payoffs = problem.payoffs(deal)
    return BargainingSolution(
        concept=concept,
        players=problem.players,
        issues=problem.issues,
        deal=deal,
        payoffs=payoffs,
        gains=payoffs - problem.disagreement,
        agreement=True,
        unique=unique,
        evidence=MappingProxyType(dict(evidence)),
        notes=tuple(notes),
    )
