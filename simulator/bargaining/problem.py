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
:class:`BargainingSolution`. They are found with scipy's SLSQP (Kraft 1988),
or with Newton's method where the problem allows it (the Nash product over
``X``; warm starts near an answer), from deterministic starts, and the
first-order (KKT) conditions are checked at the answer and reported as
evidence.

Starts. Every problem evaluates its utilities once, at construction, on a fixed
sample of deals: the Chebyshev centre of ``X`` and 256 points of an
unscrambled Halton sequence (Halton 1960) scaled to the box and pulled into
``X`` (:attr:`BargainingProblem.sample`, payoffs in
:attr:`BargainingProblem.sample_payoffs`). A solution concept scores its
objective on the whole sample at once (one array operation) and starts the
optimizer from the best-scoring deals that lie apart from each other, best
first; it stops as soon as two starts agree on the optimum, and keeps going (up
to ``n_starts`` starts) while they disagree, so that distinct optima are still
found and reported. When the utilities pass a concavity test on the sample
(midpoints of sample pairs, Jensen's inequality) the problems posed are convex
and one converged start is enough for the Nash, Kalai-Smorodinsky and
egalitarian solutions and the zone of agreement; another deal with the same
payoffs is still looked for along the directions that change no payoff.
A caller solving many nearby problems (a parameter sweep) passes the previous
answer as ``start=`` to try it first.

Tolerances. Payoffs are compared against ``problem.tolerance.payoff`` (the
project's one relative tolerance :data:`~simulator.tolerance.RTOL` times the
spread of the utilities over ``X``). A numerical optimizer with
finite-difference gradients cannot reach that accuracy, so results of the
optimizers are compared at :data:`SOLVE_RTOL` ``= sqrt(RTOL)`` relative to the
same spread (payoffs) or to the issue ranges (deals).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, cast

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


_SAMPLE_SIZE = 256  # deals sampled once per problem: the utilities' spread, and screened starts
_DEFAULT_STARTS = 6
_GEOMETRY_CACHE_SIZE = 256  # deal spaces whose centre and sample are remembered


@dataclass(frozen=True, eq=False)
class BargainingProblem:
    """A bargaining problem ``(X, u, d)`` as in the module docstring.

    ``players``: labels, length ``n``. ``lower``, ``upper``: shape ``(k,)``.
    ``utility``: vectorised, ``(..., k) -> (..., n)``; an object whose
    attribute ``affine`` is ``True`` declares (having proved it) that every
    utility is affine in the deal, and the optimizers then use exact
    derivatives (see :func:`_declared_affine`). ``disagreement``: ``(n,)``.
    ``A_ub``, ``b_ub``: optional, shapes ``(m, k)`` and ``(m,)``.
    ``issues``: labels for the ``k`` issues (default ``z0, z1, ...``).
    ``n_starts``: at most how many starting deals an optimizer tries (it stops
    earlier once two starts agree).

    Computed at construction: ``centre`` (the Chebyshev centre of ``X``, shape
    ``(k,)``), ``sample`` (shape ``(257, k)``: the centre, then 256 Halton deals
    in ``X``), ``sample_payoffs`` (``u`` on the sample, shape ``(257, n)``),
    ``starts`` (the first ``n_starts`` rows of ``sample``) and ``tolerance``.

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
    sample: FloatArray = field(init=False, repr=False)
    sample_payoffs: FloatArray = field(init=False, repr=False)

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
        if not (np.isfinite(lower).all() and np.isfinite(upper).all()):
            raise ValueError(f"{where}: issue bounds must be finite")
        if (lower > upper).any():
            bad = int(np.argmax(lower > upper))
            raise ValueError(f"{where}: issue {bad} has lower {lower[bad]} > upper {upper[bad]}")
        d = np.asarray(self.disagreement, dtype=float).reshape(-1)
        if d.shape != (n,) or not np.isfinite(d).all():
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
            if not (np.isfinite(a_ub).all() and np.isfinite(b_ub).all()):
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

        centre, sample = _deal_space(lower, upper, a_ub, b_ub)
        object.__setattr__(self, "centre", centre)
        values = self.payoffs(sample)
        values.flags.writeable = False
        object.__setattr__(self, "sample", sample)
        object.__setattr__(self, "sample_payoffs", values)
        object.__setattr__(self, "tolerance", Tolerance.for_payoffs(np.vstack([values, d])))
        object.__setattr__(self, "starts", sample[: self.n_starts].copy())

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
        """Per-issue distance below which two optimizer results are the same deal (read-only)."""
        cached = self.__dict__.get("_deal_tolerance")
        if cached is None:
            cached = SOLVE_RTOL * np.maximum(self.upper - self.lower, 1.0)
            cached.flags.writeable = False
            object.__setattr__(self, "_deal_tolerance", cached)
        return cast(FloatArray, cached)

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
        if not np.isfinite(values).all():
            bad = np.argwhere(~np.isfinite(values).all(axis=-1))[0]
            raise ValueError(
                f"BargainingProblem.payoffs: utility is not finite at deal {z[tuple(bad)].tolist()}"
            )
        return values

    def feasible(self, deals: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether each deal (shape ``(..., k)``) lies in the deal space, within tolerance."""
        z = np.asarray(deals, dtype=float)
        tol = self.deal_tolerance
        ok = ((z >= self.lower - tol) & (z <= self.upper + tol)).all(axis=-1)
        if self.A_ub is not None and self.b_ub is not None:
            slack = self.b_ub - z @ self.A_ub.T
            scale = np.abs(self.A_ub) @ tol
            ok &= (slack >= -scale).all(axis=-1)
        return np.asarray(ok)

    def project(self, deals: npt.ArrayLike) -> FloatArray:
        """Pull deals of shape ``(..., k)`` into the deal space along the ray to the centre.

        A deal in the box but violating ``A_ub @ z <= b_ub`` is replaced by the
        last feasible point on the segment from the Chebyshev centre to it.
        """
        return _pull_in(
            np.asarray(deals, dtype=float),
            self.centre,
            self.lower,
            self.upper,
            self.A_ub,
            self.b_ub,
        )


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


_HALTON: dict[int, FloatArray] = {}
_PAIRS = np.random.default_rng(1960).permutation(_SAMPLE_SIZE)  # fixed: results are repeatable
_SPACES: OrderedDict[bytes, tuple[FloatArray, FloatArray]] = OrderedDict()


def _pull_in(
    deals: FloatArray,
    centre: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    a_ub: FloatArray | None,
    b_ub: FloatArray | None,
) -> FloatArray:
    """:meth:`BargainingProblem.project`: clip to the box, then back along the ray to ``centre``."""
    z = np.clip(deals, lower, upper)
    if a_ub is None or b_ub is None:
        return z
    step = (z - centre) @ a_ub.T  # (..., m)
    room = b_ub - a_ub @ centre  # (m,) >= 0 at the centre
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(step > 0, room / step, np.inf)
    s = np.clip(np.min(ratio, axis=-1, initial=np.inf), 0.0, 1.0)
    return np.asarray(centre + s[..., None] * (z - centre))


def _deal_space(
    lower: FloatArray, upper: FloatArray, a_ub: FloatArray | None, b_ub: FloatArray | None
) -> tuple[FloatArray, FloatArray]:
    """The Chebyshev centre of ``X`` and the problem's sample of deals (read-only).

    The sample is the centre, then 256 Halton points scaled to the box and
    pulled into ``X``. Both depend on the deal space alone, and the centre's LP
    costs more than everything else a problem does at construction; a parameter
    sweep builds many problems over the same deal space, so they are remembered
    per deal space (the bounds and constraint rows, byte for byte).
    """
    parts = [np.int64(lower.size).tobytes(), lower.tobytes(), upper.tobytes()]
    if a_ub is not None and b_ub is not None:
        parts += [a_ub.tobytes(), b_ub.tobytes()]
    key = b"|".join(parts)
    cached = _SPACES.get(key)
    if cached is not None:
        _SPACES.move_to_end(key)
        return cached[0].copy(), cached[1]
    centre = _chebyshev_centre(lower, upper, a_ub, b_ub)
    halton = _halton(lower.size)
    inside = _pull_in(lower + halton * (upper - lower), centre, lower, upper, a_ub, b_ub)
    sample = np.vstack([centre, inside])
    sample.flags.writeable = False
    _SPACES[key] = (centre.copy(), sample)
    if len(_SPACES) > _GEOMETRY_CACHE_SIZE:
        _SPACES.popitem(last=False)
    return centre, sample


def _halton(k: int) -> FloatArray:
    """The first 256 points after the origin of the unscrambled Halton sequence in ``[0, 1]^k``.

    Deterministic, so computed once per dimension (Halton 1960).
    """
    points = _HALTON.get(k)
    if points is None:
        points = qmc.Halton(d=k, scramble=False).random(_SAMPLE_SIZE + 1)[1:]
        points.flags.writeable = False
        _HALTON[k] = points
    return points


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


def _declared_affine(problem: BargainingProblem) -> bool:
    """Whether the problem's utility declares itself affine in the deal (``utility.affine``).

    A utility object may carry ``affine = True`` when it has proved (not
    sampled) that every player's utility is ``c_i + C_i . z``, as the
    scenario's expressions do when the issues enter them linearly
    (:attr:`simulator.expressions.BoundExpression.affine`). The optimizers then
    use its exact Jacobian and zero Hessian instead of finite differences.
    """
    return getattr(problem.utility, "affine", False) is True


def _affine_jacobian(problem: BargainingProblem) -> FloatArray:
    """The constant Jacobian ``C`` ``(n, k)`` of an affine utility (read-only, on the problem).

    ``C[:, j] = (u(lower + span_j e_j) - u(lower)) / span_j``: exact for an
    affine map up to round-off, on deals inside the box; fixed issues get 0,
    as the finite differences give them. One utility call on ``k + 1`` deals.
    """
    cached = problem.__dict__.get("_affine_jacobian")
    if cached is not None:
        return cast(FloatArray, cached)
    key = problem.lower.tobytes() + problem.upper.tobytes()
    probe = _PROBES.get(key)
    if probe is None:  # the probe deals depend on the box alone, shared by a sweep's problems
        span = problem.upper - problem.lower
        fixed = span <= 0
        step = np.where(fixed, 1.0, span)
        points = np.vstack([problem.lower, problem.lower + np.diag(np.where(fixed, 0.0, span))])
        probe = (points, step[:, None], fixed)
        for array in probe:
            array.flags.writeable = False
        if len(_PROBES) >= _GEOMETRY_CACHE_SIZE:
            _PROBES.clear()
        _PROBES[key] = probe
    points, step, fixed = probe
    values = problem.payoffs(points)
    jac = ((values[1:] - values[0]) / step).T
    jac[:, fixed] = 0.0
    jac.flags.writeable = False
    object.__setattr__(problem, "_affine_jacobian", jac)
    return jac


_PROBES: dict[bytes, tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]] = {}


_CENTRAL_STEP = float(np.cbrt(np.finfo(float).eps))
"""Relative step of the central differences: the cube root of the machine epsilon."""


class _Evaluator:
    """Utilities and their central-difference Jacobian at one deal, cached.

    One call of the vectorised utility on ``2k + 1`` deals gives both. Points
    are kept inside the box (one-sided differences at a bound) because utilities
    such as ``z ** 0.5`` are undefined outside it. ``calls`` counts the calls of
    the utility. :meth:`hessian` adds second derivatives (forward differences of
    the Jacobian, one more call on ``k (2k + 1)`` deals).

    For a utility that declares itself affine (:func:`_declared_affine`) the
    Jacobian is the exact constant one (:func:`_affine_jacobian`) and the
    Hessian zero, so each deal costs one utility call on one deal.
    """

    def __init__(self, problem: BargainingProblem) -> None:
        self.problem = problem
        k = problem.n_issues
        span = problem.upper - problem.lower
        # The step scales with |z| down to a thousandth of the range: utilities such
        # as z ** 0.3 are steep near 0, where a range-sized step misjudges the slope.
        self.step = _CENTRAL_STEP
        self.floor = 1e-3 * np.where(span > 0, span, 1.0)
        self.span = span
        self.k = k
        self.fixed = span <= 0
        self.any_fixed = bool(self.fixed.any())
        self.lower = problem.lower
        self.upper = problem.upper
        self.utility = problem.utility
        self.n = problem.n_players
        self.calls = 0
        self.index = np.arange(k)
        self._key = b""
        self._u: FloatArray = np.empty(0)
        self._jac: FloatArray = np.empty(0)
        self._hkey = b""
        self._hess: FloatArray = np.empty(0)
        self.affine = _declared_affine(problem)
        if self.affine:
            self._affine_jac = _affine_jacobian(problem)
            self._zero_hess = np.zeros((self.n, k, k))
            self._zero_hess.flags.writeable = False

    def _affine_at(self, z: FloatArray, key: bytes) -> tuple[FloatArray, FloatArray]:
        """``(u(z), C)`` of an affine utility, cached as :meth:`__call__` and :meth:`hessian`."""
        zc = np.minimum(np.maximum(z, self.lower), self.upper)
        self._key = self._hkey = key
        self._u, self._jac, self._hess = (
            self._values(zc[None, :])[0],
            self._affine_jac,
            self._zero_hess,
        )
        return self._u, self._jac

    def _stencils(self, zc: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Difference stencils around deals ``zc`` (shape ``(m, k)``, inside the box).

        Returns the points, shape ``(m, 2k + 1, k)`` (the deal, then ``+h e_j``,
        then ``-h e_j``), and the spacing of each pair, shape ``(m, k)``.
        """
        k = zc.shape[-1]
        h = self.step * np.maximum(np.abs(zc), self.floor)
        up = np.minimum(zc + h, self.upper)
        down = np.maximum(zc - h, self.lower)
        pts = np.repeat(zc[:, None, :], 2 * k + 1, axis=1)
        idx = self.index
        pts[:, idx + 1, idx] = up
        pts[:, idx + k + 1, idx] = down
        spacing = up - down
        if self.any_fixed:
            spacing = np.where(self.fixed, 1.0, spacing)
        return pts, spacing

    def _values(self, pts: FloatArray) -> FloatArray:
        """The utility on ``pts`` (shape ``(m, k)``), checked: shape ``(m, n)``, finite."""
        values = np.asarray(self.utility(pts), dtype=float)
        self.calls += 1
        if values.shape != (pts.shape[0], self.n) or not np.isfinite(values).all():
            # The careful check names the bad deal (and the shape) in its message.
            values = self.problem.payoffs(pts)
        return values

    def _jacobians(self, values: FloatArray, spacing: FloatArray) -> FloatArray:
        """Central differences: ``values`` ``(m, 2k + 1, n)`` -> Jacobians ``(m, n, k)``."""
        k = spacing.shape[-1]
        jac = (values[:, 1 : k + 1] - values[:, k + 1 :]) / spacing[:, :, None]
        jac = np.swapaxes(jac, 1, 2)
        if self.any_fixed:
            jac[:, :, self.fixed] = 0.0
        return jac

    def __call__(self, z: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``(u(z), J(z))`` with shapes ``(n,)`` and ``(n, k)``."""
        key = z.tobytes()
        if key == self._key:
            return self._u, self._jac
        if self.affine:
            return self._affine_at(z, key)
        k = self.k
        zc = np.minimum(np.maximum(z, self.lower), self.upper)
        pts, spacing = self._stencils(zc[None, :])
        # A fresh array per call: a utility may return a view of its input.
        values = self._values(pts.reshape(2 * k + 1, k)).reshape(1, 2 * k + 1, -1)
        self._key = key
        self._u, self._jac = values[0, 0], self._jacobians(values, spacing)[0]
        return self._u, self._jac

    def hessian(self, z: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``(u(z), J(z), H(z))``; ``H[i]`` (shape ``(k, k)``) is ``u_i``'s Hessian.

        ``H`` is the forward difference of the Jacobian along each issue (towards
        the inside of the box), symmetrised; its error is of the order of the
        step, ``1e-4`` of the scale of ``z``, enough for a Newton step. All
        ``(k + 1)(2k + 1)`` deals go to the utility in one call.
        """
        key = z.tobytes()
        if key == self._hkey:
            return self._u, self._jac, self._hess
        if self.affine:
            self._affine_at(z, key)
            return self._u, self._jac, self._hess
        k = self.k
        zc = np.minimum(np.maximum(z, self.lower), self.upper)
        h = 1e-4 * np.maximum(np.abs(zc), 10.0 * self.floor)
        h = np.minimum(h, 0.5 * np.where(self.span > 0, self.span, 1.0))
        sign = np.where(zc + h <= self.upper, 1.0, -1.0)
        base = np.repeat(zc[None, :], k + 1, axis=0)
        base[self.index + 1, self.index] = np.minimum(
            np.maximum(zc + sign * h, self.lower), self.upper
        )
        pts, spacing = self._stencils(base)
        values = self._values(pts.reshape(-1, k)).reshape(k + 1, 2 * k + 1, -1)
        jacs = self._jacobians(values, spacing)  # (k + 1, n, k): at z, then at each shifted deal
        jac = jacs[0]
        step = base[self.index + 1, self.index] - zc
        step[step == 0] = 1.0
        hess = np.transpose((jacs[1:] - jac[None]) / step[:, None, None], (1, 2, 0))
        hess = 0.5 * (hess + np.swapaxes(hess, 1, 2))
        if self.any_fixed:
            hess[:, self.fixed, :] = 0.0
            hess[:, :, self.fixed] = 0.0
        self._key = self._hkey = key
        self._u, self._jac, self._hess = values[0, 0], jac, hess
        return self._u, self._jac, hess


def _linear_constraints(problem: BargainingProblem, extra: int = 0) -> list[dict[str, Any]]:
    """SLSQP form of ``A_ub @ z <= b_ub``, padded with ``extra`` zero columns."""
    if problem.A_ub is None or problem.b_ub is None:
        return []
    a = problem.A_ub
    b = problem.b_ub
    jac = np.hstack([-a, np.zeros((a.shape[0], extra))])
    k = problem.n_issues
    return [{"type": "ineq", "fun": lambda x: b - a @ x[:k], "jac": lambda x: jac}]


ACTIVE_RTOL = 1e-7
"""A constraint within this fraction of its scale (issue range or payoff spread) of its bound is
active. Optimizers meet the constraints that bind far more tightly (to about ``RTOL``) than
they locate the optimum (``SOLVE_RTOL``), so activity is judged on this finer scale."""


def _polytope(problem: BargainingProblem) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The deal space as ``G @ z <= h``: upper bounds, lower bounds, then ``A_ub`` rows.

    Also returns each row's scale, ``|G_r|`` times the issue ranges (at least 1
    each), for tolerances. Remembered on the problem.
    """
    cached = problem.__dict__.get("_polytope")
    if cached is not None:
        return cast(tuple[FloatArray, FloatArray, FloatArray], cached)
    # The rows depend on the deal space alone, which the problems of a sweep share.
    parts = [np.int64(problem.n_issues).tobytes(), problem.lower.tobytes(), problem.upper.tobytes()]
    if problem.A_ub is not None and problem.b_ub is not None:
        parts += [problem.A_ub.tobytes(), problem.b_ub.tobytes()]
    key = b"|".join(parts)
    found = _POLYTOPES.get(key)
    if found is None:
        if len(_POLYTOPES) >= _GEOMETRY_CACHE_SIZE:
            _POLYTOPES.clear()  # rare; a plain dict stays safe with threads
        k = problem.n_issues
        eye = np.eye(k)
        rows = [eye, -eye]
        rhs = [problem.upper, -problem.lower]
        if problem.A_ub is not None and problem.b_ub is not None:
            rows.append(problem.A_ub)
            rhs.append(problem.b_ub)
        g = np.vstack(rows)
        found = (g, np.concatenate(rhs), np.abs(g) @ np.maximum(problem.upper - problem.lower, 1.0))
        for array in found:
            array.flags.writeable = False
        _POLYTOPES[key] = found
    object.__setattr__(problem, "_polytope", found)
    return found


_POLYTOPES: dict[bytes, tuple[FloatArray, FloatArray, FloatArray]] = {}


def _active_normals(problem: BargainingProblem, z: FloatArray, extra: int = 0) -> list[FloatArray]:
    """Outward normals (in ``h(x) <= 0`` form) of the active bounds and linear rows at ``z``.

    Active: within :data:`ACTIVE_RTOL` of the row's scale. A fixed issue
    (``lower == upper``) contributes both bounds: its multiplier may have either sign.
    """
    g, h, scale = _polytope(problem)
    active = h - g @ z <= ACTIVE_RTOL * scale
    rows = g[active]
    if extra:
        rows = np.hstack([rows, np.zeros((rows.shape[0], extra))])
    return list(rows)


def _kkt_residual(
    grad: FloatArray, normals: Sequence[FloatArray], scale: float | None = None
) -> float:
    """Relative stationarity residual of ``min f`` at a point with active constraints.

    KKT (Karush 1939; Kuhn & Tucker 1951): ``-grad f = sum_j lambda_j n_j`` with
    ``lambda >= 0`` over the active constraints' normals ``n_j``. The multipliers
    are fitted by non-negative least squares (Lawson & Hanson 1974); the
    residual is divided by ``max(|grad f|, scale)`` so it is scale-free (0 =
    stationary). ``scale`` is the size of the terms ``grad f`` sums (e.g.
    ``sum_i |w_i| |grad u_i|``): at an interior optimum ``grad f`` itself is
    round-off, and dividing by it alone would report 1.
    """
    return _kkt_fit(grad, normals, scale)[0]


def _kkt_fit(
    grad: FloatArray, normals: Sequence[FloatArray], scale: float | None = None
) -> tuple[float, FloatArray]:
    """:func:`_kkt_residual` and the fitted multipliers (one per normal, in order)."""
    size = max(float(np.linalg.norm(grad)), 0.0 if scale is None else float(scale))
    if size == 0.0:
        return 0.0, np.zeros(len(normals))
    if not normals:
        return float(np.linalg.norm(grad)) / size, np.zeros(0)
    lam, residual = nnls(np.column_stack(normals), -grad)
    return float(residual) / size, np.asarray(lam, dtype=float)


def _distinct(points: Sequence[FloatArray], tol: FloatArray | float) -> list[FloatArray]:
    """The points of ``points`` that differ from every earlier one by more than ``tol``."""
    kept: list[FloatArray] = []
    for p in points:
        if all((np.abs(p - q) > tol).any() for q in kept):
            kept.append(p)
    return kept


def _check_start(
    where: str, problem: BargainingProblem, start: npt.ArrayLike | None
) -> tuple[FloatArray, ...]:
    """A caller's warm start as a tuple of at most one deal, pulled into ``X``.

    Raises :class:`ValueError` (naming ``where``) unless ``start`` is ``None`` or
    ``k`` finite numbers.
    """
    if start is None:
        return ()
    try:
        z = np.asarray(start, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        z = np.full(0, np.nan)
    if z.shape != (problem.n_issues,) or not np.isfinite(z).all():
        raise ValueError(
            f"{where}: start must be a deal of {problem.n_issues} finite numbers, got {start!r}"
        )
    return (problem.project(z),)


def _dominated_by_sample(problem: BargainingProblem, payoffs: FloatArray) -> bool:
    """Whether a sample deal Pareto-dominates ``payoffs`` beyond the solve tolerance.

    A cheap check of Pareto optimality against the deals the problem evaluated
    at construction: no one loses more than round-off, someone gains more than
    :attr:`BargainingProblem.solve_tolerance`.
    """
    u = problem.sample_payoffs
    keep = (u >= payoffs - problem.tolerance.payoff).all(axis=1)
    return bool((keep & (u > payoffs + problem.solve_tolerance).any(axis=1)).any())


def _sample_concave(problem: BargainingProblem) -> bool:
    """Whether every utility passes a midpoint-concavity test on the problem's sample.

    For 128 pairs of sample deals ``(a, b)`` (a fixed shuffle of the Halton deals
    split in two: Halton points a fixed number of places apart can be very
    close), checks ``u((a + b) / 2) >= (u(a) + u(b)) / 2``
    within :attr:`BargainingProblem.solve_tolerance` (Jensen's inequality; one
    utility call). Passing is numerical evidence, not a proof, that ``u`` is
    concave on ``X``; then every problem the solution concepts pose is convex, a
    KKT point is a global optimum, and the Nash, Kalai-Smorodinsky and
    (lexicographic) egalitarian payoffs are unique (Nash 1950; Kalai &
    Smorodinsky 1975; Imai 1983). The answer is remembered on the problem.
    """
    cached = problem.__dict__.get("_concave")
    if cached is not None:
        return bool(cached)
    if _declared_affine(problem):
        # Affine utilities are concave; the midpoint test would pass up to round-off.
        object.__setattr__(problem, "_concave", True)
        return True
    sample, values = problem.sample[1:], problem.sample_payoffs[1:]
    half = sample.shape[0] // 2
    first, second = _PAIRS[:half], _PAIRS[half : 2 * half]
    middle = problem.payoffs((sample[first] + sample[second]) / 2.0)
    gap = middle - (values[first] + values[second]) / 2.0
    concave = bool((gap >= -problem.solve_tolerance).all())
    object.__setattr__(problem, "_concave", concave)
    return concave


def _row_norms(rows: FloatArray) -> FloatArray:
    """``np.linalg.norm(rows, axis=1, keepdims=True)`` for real rows, as numpy computes it."""
    return np.sqrt(np.add.reduce(rows * rows, axis=1, keepdims=True))


def _free_direction(
    problem: BargainingProblem,
    ev: _Evaluator,
    z: FloatArray,
    binding: Sequence[FloatArray],
) -> FloatArray | None:
    """A deal other than ``z`` with the same payoffs, if a first-order test finds one.

    Searches the directions ``v`` with ``J(z) v = 0`` that keep every *binding*
    constraint (normals ``binding``, in ``h(z) <= 0`` form, over the issues):
    moving along them changes no payoff to first order. Each candidate (and its
    opposite) is tried at a tenth of the issue ranges, shortened to stay in
    ``X``; a deal whose payoffs differ from ``u(z)`` by at most
    :attr:`BargainingProblem.solve_tolerance` is returned (so ``z`` is not the
    only deal giving these payoffs). One utility call.
    """
    k = problem.n_issues
    u, jac = ev(z)
    free = ~(problem.upper <= problem.lower)
    rows = [jac / np.maximum(_row_norms(jac), 1e-300)]
    if binding:
        edges = np.array([b[:k] for b in binding])
        rows.append(edges / np.maximum(_row_norms(edges), 1e-300))
    stacked = np.vstack(rows)[:, free]
    if stacked.shape[1] == 0:
        return None
    _, sv, vt = np.linalg.svd(stacked)
    rank = int(np.sum(sv > 1e-7 * max(sv[0], 1e-300))) if sv.size else 0
    basis = vt[rank:]
    if basis.shape[0] == 0:
        return None
    span = np.where(free, problem.upper - problem.lower, 0.0)
    trials = []
    for v in basis:
        direction = np.zeros(k)
        direction[free] = v
        for sign in (1.0, -1.0):
            step = sign * direction * 0.1 * span.max()
            trials.append(problem.project(z + step))
    trials_arr = np.array(trials)
    moved = np.max(np.abs(trials_arr - z) / np.where(free, span, 1.0), axis=1)
    pay = problem.payoffs(trials_arr)
    same = (np.abs(pay - u) <= problem.solve_tolerance).all(axis=1)
    ok = same & (moved > 10 * SOLVE_RTOL) & problem.feasible(trials_arr)
    return trials_arr[int(np.argmax(ok))] if ok.any() else None


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
    payoffs: FloatArray | None = None,
) -> BargainingSolution:
    """A solution with an agreement on ``deal``; ``payoffs`` defaults to ``u(deal)``."""
    payoffs = problem.payoffs(deal) if payoffs is None else np.array(payoffs, dtype=float)
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
