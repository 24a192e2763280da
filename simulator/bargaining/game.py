"""A bargaining game: a problem plus the protocol facts some solutions need, and its answers.

:class:`BargainingGame` is what a scenario's ``kind: bargaining`` builds: the
:class:`~simulator.bargaining.problem.BargainingProblem` (deal space, utilities,
disagreement point) with bargaining powers, discount factors, who proposes
first, and the recognition rule and quota of multilateral bargaining.
:func:`solve_bargaining` computes the requested solution concepts, checks each
answer (:func:`check_solution`) and returns one :class:`BargainingResult`.

Checks. A solution is reported only if its deal lies in the deal space, its
payoffs are the utilities of its deal, it is individually rational (for every
concept but the utilitarian sum), and no deal of the problem's quasi-random
sample of the deal space gives every player more (a Pareto screen). Each bound
is the optimizers' tolerance :data:`~simulator.tolerance.SOLVE_RTOL` relative to
the spread of the utilities (payoffs) or the issue ranges (deals).

Speed. Sweeps and Monte Carlo runs call :func:`solve_bargaining` thousands of
times, so it evaluates the check sample once per problem (its deals once per
deal space), passes warm starts (``starts=``) to the optimizers that take them,
and can leave the zone of agreement to be computed when first asked for
(``defer_zone=True``): whether a deal exists is then settled by any checked
solution whose deal gives every player a gain above twice the solve tolerance
(see :attr:`BargainingResult.deal_exists`), and the zone is solved only when
none does.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from simulator.bargaining.problem import BargainingProblem, BargainingSolution
from simulator.bargaining.zone import ZoneOfAgreement, zone_of_agreement

__all__ = [
    "CONCEPTS",
    "WARM_STARTED",
    "BargainingGame",
    "BargainingResult",
    "SolutionCheck",
    "applicable_concepts",
    "check_solution",
    "solve_bargaining",
]

FloatArray = npt.NDArray[np.float64]

CONCEPTS: Mapping[str, str] = MappingProxyType(
    {
        "nash_bargaining": "Nash bargaining solution (Nash 1950; weighted: Kalai 1977)",
        "kalai_smorodinsky": "Kalai-Smorodinsky solution (Kalai & Smorodinsky 1975)",
        "egalitarian": "egalitarian solution: equal gains (Kalai 1977)",
        "utilitarian": "utilitarian solution: largest sum of payoffs",
        "rubinstein": "Rubinstein alternating offers, subgame-perfect (Rubinstein 1982); 2 players",
        "baron_ferejohn": "Baron-Ferejohn legislative bargaining, stationary SPE "
        "(Baron & Ferejohn 1989); 3 or more players",
    }
)
"""Solution concept name (as in scenario files and ``--json``) -> what it is."""

PROTOCOLS = ("random", "rotation")


@dataclass(frozen=True, eq=False)
class BargainingGame:
    """A bargaining problem with the facts its protocols need.

    ``weights``: bargaining powers ``(n,)`` for the generalized Nash solution
    (``None``: symmetric). ``discount``: per-round discount factors ``(n,)`` in
    ``(0, 1)`` for Rubinstein and Baron-Ferejohn (``None``: those concepts do
    not apply). ``proposer``: index of the first proposer. ``protocol``:
    ``"random"`` recognition (probabilities ``recognition``, default uniform) or
    ``"rotation"``; ``quota``: votes needed including the proposer (``None``:
    unanimity). ``concepts``: the solutions to compute (empty: every one that
    applies, see :func:`applicable_concepts`). ``disagreement_sources``: one
    phrase per player saying where its disagreement payoff comes from.
    ``in_play``: the issues reports show (default: every issue); the others sit
    at fixed values nobody bargains over (e.g. their status quo).
    ``proportions``: ``(n,)`` non-negative; the egalitarian solution then gives
    gains in these proportions (Kalai 1977's proportional solution; ``None``:
    equal gains).
    """

    problem: BargainingProblem
    title: str = ""
    weights: FloatArray | None = None
    discount: FloatArray | None = None
    proposer: int = 0
    protocol: str = "random"
    recognition: FloatArray | None = None
    quota: int | None = None
    concepts: tuple[str, ...] = ()
    disagreement_sources: tuple[str, ...] = ()
    in_play: tuple[str, ...] = ()
    proportions: FloatArray | None = None

    def __post_init__(self) -> None:
        n = self.problem.n_players
        where = "BargainingGame"
        for name in ("weights", "discount", "recognition", "proportions"):
            value = getattr(self, name)
            if value is None:
                continue
            array = np.asarray(value, dtype=float).reshape(-1)
            if array.shape != (n,) or not np.isfinite(array).all():
                raise ValueError(f"{where}: {name} must be {n} finite numbers, got {value!r}")
            object.__setattr__(self, name, array)
        if self.weights is not None and (self.weights <= 0).any():
            raise ValueError(f"{where}: weights must be positive, got {self.weights}")
        if self.proportions is not None and (
            (self.proportions < 0).any() or not (self.proportions > 0).any()
        ):
            raise ValueError(
                f"{where}: proportions must be non-negative and not all 0, got {self.proportions}"
            )
        if self.discount is not None and ((self.discount <= 0) | (self.discount >= 1)).any():
            raise ValueError(f"{where}: discount factors must lie in (0, 1), got {self.discount}")
        if not 0 <= self.proposer < n:
            raise ValueError(f"{where}: proposer must be a player index, got {self.proposer}")
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"{where}: protocol must be one of {PROTOCOLS}, got {self.protocol!r}")
        if self.quota is not None and not 1 <= self.quota <= n:
            raise ValueError(f"{where}: quota must be between 1 and {n}, got {self.quota}")
        unknown = [c for c in self.concepts if c not in CONCEPTS]
        if unknown:
            raise ValueError(f"{where}: unknown concepts {unknown}; known: {', '.join(CONCEPTS)}")
        sources = tuple(self.disagreement_sources) or ("given",) * n
        if len(sources) != n:
            raise ValueError(f"{where}: {len(sources)} disagreement sources for {n} players")
        object.__setattr__(self, "disagreement_sources", sources)
        issues = self.problem.issues
        in_play = tuple(self.in_play) or issues
        if any(name not in issues for name in in_play):
            raise ValueError(f"{where}: in_play names issues the problem does not have")
        object.__setattr__(self, "in_play", in_play)

    @property
    def players(self) -> tuple[str, ...]:
        return self.problem.players


def applicable_concepts(game: BargainingGame) -> tuple[str, ...]:
    """The concepts that apply to ``game``, in :data:`CONCEPTS` order.

    The four axiomatic solutions always apply; ``rubinstein`` needs two players
    and discount factors, ``baron_ferejohn`` three or more players and discount
    factors.
    """
    out = ["nash_bargaining", "kalai_smorodinsky", "egalitarian", "utilitarian"]
    if game.discount is not None:
        out.append("rubinstein" if game.problem.n_players == 2 else "baron_ferejohn")
    return tuple(out)


@dataclass(frozen=True)
class SolutionCheck:
    """What was checked about one solution, and whether it passed.

    ``feasible``: the deal lies in the deal space. ``payoffs_match``: the
    reported payoffs are the utilities at the deal. ``individually_rational``:
    no gain below ``-tolerance`` (``None`` when the concept does not promise
    it). ``undominated``: no sampled deal gives every player more than
    ``tolerance``. ``passed``: all of these hold. ``tolerance``: the payoff
    bound used.
    """

    feasible: bool
    payoffs_match: bool
    individually_rational: bool | None
    undominated: bool
    tolerance: float
    passed: bool
    failures: tuple[str, ...] = ()


def check_solution(problem: BargainingProblem, solution: BargainingSolution) -> SolutionCheck:
    """Check ``solution`` against ``problem`` as described in the module docstring."""
    sample = None if solution.deal is None else _check_sample_payoffs(problem)
    return _check(problem, solution, sample)


def _check(
    problem: BargainingProblem, solution: BargainingSolution, sample: FloatArray | None
) -> SolutionCheck:
    """:func:`check_solution` given the payoffs ``(m, n)`` of the check sample (Pareto screen).

    ``sample`` may be ``None`` only for a solution without a deal (nothing to screen).
    """
    tol = problem.solve_tolerance
    if solution.deal is None:
        same = bool(np.allclose(solution.payoffs, problem.disagreement, atol=tol, rtol=0))
        why = () if same else ("without a deal the payoffs must be the disagreement point",)
        return SolutionCheck(True, same, True, True, tol, same, why)
    deal = np.asarray(solution.deal, dtype=float)
    feasible = bool(problem.feasible(deal))
    actual = problem.payoffs(deal)
    # np.allclose(actual, reported, atol=tol, rtol=0) for finite payoffs, without its overhead.
    reported = np.asarray(solution.payoffs, dtype=float)
    payoffs_match = bool(
        actual.shape == reported.shape and (np.abs(actual - reported) <= tol).all()
    )
    rational: bool | None = None
    if solution.concept != "utilitarian":
        rational = bool((actual - problem.disagreement >= -tol).all())
    assert sample is not None
    undominated = not bool(((sample > actual + tol).all(axis=1)).any())
    failures: list[str] = []
    if not feasible:
        failures.append("the deal is outside the deal space")
    if not payoffs_match:
        failures.append("the reported payoffs are not the utilities of the deal")
    if rational is False:
        failures.append("some player gets less than its disagreement payoff")
    if not undominated:
        failures.append("a sampled deal gives every player more (not Pareto-optimal)")
    return SolutionCheck(
        feasible=feasible,
        payoffs_match=payoffs_match,
        individually_rational=rational,
        undominated=undominated,
        tolerance=tol,
        passed=not failures,
        failures=tuple(failures),
    )


def _check_sample_payoffs(problem: BargainingProblem) -> FloatArray:
    """Utilities ``(m, n)`` of the check sample: the problem's starts, then 512 seeded deals."""
    return problem.payoffs(_check_deals(problem))


_CHECK_DEALS: OrderedDict[bytes, FloatArray] = OrderedDict()
_CHECK_DEALS_CACHE_SIZE = 64  # deal spaces whose check sample is remembered (about 12 KB each)


def _check_deals(problem: BargainingProblem) -> FloatArray:
    """The check sample ``(n_starts + 512, k)``: the starts and the seeded deals, pulled into X.

    It depends on the deal space alone (bounds, constraint rows, centre and
    starts), which a parameter sweep rarely changes, so it is remembered per
    deal space, byte for byte (a small LRU cache): the same deals as computing
    them afresh.
    """
    parts = [problem.lower, problem.upper, problem.centre, problem.starts]
    if problem.A_ub is not None and problem.b_ub is not None:
        parts += [problem.A_ub, problem.b_ub]
    key = b"|".join([np.int64(problem.n_issues).tobytes(), *(a.tobytes() for a in parts)])
    deals = _CHECK_DEALS.get(key)
    if deals is not None:
        _CHECK_DEALS.move_to_end(key)
        return deals
    deals = np.vstack([problem.project(problem.starts), _sample_deals(problem)])
    deals.flags.writeable = False
    _CHECK_DEALS[key] = deals
    if len(_CHECK_DEALS) > _CHECK_DEALS_CACHE_SIZE:
        _CHECK_DEALS.popitem(last=False)
    return deals


def _sample_deals(problem: BargainingProblem, size: int = 512) -> FloatArray:
    """A fixed pseudo-random sample of the deal space (seeded: checks are repeatable)."""
    rng = np.random.default_rng(20250225)
    u = rng.random((size, problem.n_issues))
    return problem.project(problem.lower + u * (problem.upper - problem.lower))


@dataclass(frozen=True, eq=False)
class BargainingResult:
    """Every requested solution of one bargaining game, checked.

    ``zone``: whether any deal beats the disagreement point, and who blocks it
    if none does (computed on first access when :func:`solve_bargaining` was
    asked to defer it). ``solutions`` and ``checks`` are parallel tuples, in
    the order of ``concepts``; a solution whose check failed is kept in
    ``rejected`` (with its check) instead, so reports never show it as an
    answer. ``failed``: concept -> why it could not be computed.
    """

    game: BargainingGame
    concepts: tuple[str, ...]
    solutions: tuple[BargainingSolution, ...]
    checks: tuple[SolutionCheck, ...]
    rejected: tuple[tuple[BargainingSolution, SolutionCheck], ...] = ()
    failed: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    elapsed: float = 0.0
    _zone: ZoneOfAgreement | None = field(default=None, repr=False)

    @property
    def zone(self) -> ZoneOfAgreement:
        """The zone of agreement of the game's problem (solved here if it was deferred).

        Raises :class:`ValueError` when its optimizer converges from no start.
        """
        if self._zone is None:
            # Frozen, but the zone is a pure function of the problem: filling it in once is safe.
            object.__setattr__(self, "_zone", zone_of_agreement(self.game.problem))
        assert self._zone is not None
        return self._zone

    @property
    def deal_exists(self) -> bool:
        """Whether some deal gives every player more than disagreement (``zone.exists``).

        ``zone.exists`` means the zone's margin ``max_z min_i (u_i(z) - d_i)``
        exceeds the solve tolerance ``tol``. A checked solution whose deal gives
        every player more than ``tol`` is a witness (the maximum is at least its
        smallest gain), so the zone need not be solved; otherwise it is. The
        check bounds the reported payoffs' error by ``tol``, so a reported gain
        above ``2 tol`` is a true gain above ``tol``.
        """
        if self._zone is None:
            tol = self.game.problem.solve_tolerance
            for solution in self.solutions:
                if solution.deal is not None and float(np.min(solution.gains)) > 2.0 * tol:
                    return True
        return bool(self.zone.exists)

    def solution(self, concept: str) -> BargainingSolution | None:
        """The checked solution of ``concept``, or ``None`` if not computed or rejected."""
        for sol in self.solutions:
            if sol.concept == concept:
                return sol
        return None


WARM_STARTED = frozenset({"nash_bargaining", "kalai_smorodinsky", "egalitarian", "utilitarian"})
"""The concepts whose optimizers take a warm start (``starts=`` of :func:`solve_bargaining`)."""


def solve_bargaining(
    game: BargainingGame,
    concepts: Sequence[str] | None = None,
    *,
    starts: Mapping[str, npt.ArrayLike] | None = None,
    defer_zone: bool = False,
) -> BargainingResult:
    """Compute and check the solution concepts of ``game``.

    ``concepts`` (default: ``game.concepts`` or, if empty, every applicable
    one) are names from :data:`CONCEPTS`. A concept that does not apply (e.g.
    ``rubinstein`` without discount factors) or whose optimizer fails is listed
    in ``failed`` with the reason rather than raising.

    ``starts``: concept -> a deal of shape ``(k,)`` its optimizer tries first
    (e.g. that concept's answer at the previous point of a sweep); used by the
    concepts in :data:`WARM_STARTED`, ignored for the others. Answers agree
    with cold starts to the optimizers' tolerance. ``defer_zone``: solve the
    zone of agreement only when ``result.zone`` is first read (and for
    ``result.deal_exists`` only when no solution settles it), instead of here.

    Raises :class:`ValueError` for an unknown concept or a start that is not
    ``k`` finite numbers.
    """
    chosen = tuple(concepts or game.concepts or applicable_concepts(game))
    unknown = [c for c in chosen if c not in CONCEPTS]
    if unknown:
        raise ValueError(f"solve_bargaining: unknown concepts {unknown}")
    problem = game.problem
    first = _starts(problem, starts)
    start = time.perf_counter()
    zone = None if defer_zone else zone_of_agreement(problem)
    solutions: list[BargainingSolution] = []
    checks: list[SolutionCheck] = []
    rejected: list[tuple[BargainingSolution, SolutionCheck]] = []
    failed: dict[str, str] = {}
    sample: FloatArray | None = None
    for concept in chosen:
        try:
            solution = _solve_one(game, concept, first.get(concept))
        except ValueError as exc:
            failed[concept] = str(exc)
            continue
        if sample is None and solution.deal is not None:
            sample = _check_sample_payoffs(problem)  # once per problem, shared by the concepts
        check = _check(problem, solution, sample)
        if check.passed:
            solutions.append(solution)
            checks.append(check)
        else:
            rejected.append((solution, check))
    return BargainingResult(
        game=game,
        concepts=chosen,
        solutions=tuple(solutions),
        checks=tuple(checks),
        rejected=tuple(rejected),
        failed=MappingProxyType(failed),
        elapsed=time.perf_counter() - start,
        _zone=zone,
    )


def _starts(
    problem: BargainingProblem, starts: Mapping[str, npt.ArrayLike] | None
) -> dict[str, FloatArray]:
    """The warm starts of the concepts that take one, each checked to be ``k`` finite numbers."""
    out: dict[str, FloatArray] = {}
    for concept, deal in (starts or {}).items():
        if concept not in CONCEPTS:
            raise ValueError(f"solve_bargaining: a start for unknown concept {concept!r}")
        if concept not in WARM_STARTED:
            continue
        try:
            z = np.asarray(deal, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            z = np.full(0, np.nan)
        if z.shape != (problem.n_issues,) or not np.isfinite(z).all():
            raise ValueError(
                f"solve_bargaining: the start for {concept} must be a deal of "
                f"{problem.n_issues} finite numbers, got {deal!r}"
            )
        out[concept] = z
    return out


def _solve_one(
    game: BargainingGame, concept: str, start: FloatArray | None = None
) -> BargainingSolution:
    from simulator import bargaining as b

    problem = game.problem
    n = problem.n_players
    if concept == "nash_bargaining":
        return b.nash_bargaining(problem, game.weights, start=start)
    if concept == "kalai_smorodinsky":
        return b.kalai_smorodinsky(problem, start=start)
    if concept == "egalitarian":
        return b.egalitarian(problem, game.proportions, start=start)
    if concept == "utilitarian":
        return b.utilitarian(problem, start=start)
    if game.discount is None:
        raise ValueError(f"{concept} needs discount factors (`discount:` for every player)")
    if concept == "rubinstein":
        if n != 2:
            raise ValueError(
                f"rubinstein is for two players; this game has {n} (see baron_ferejohn)"
            )
        solution = b.rubinstein_bargaining(problem, game.discount, first=game.proposer)
        return _with_limit(game, solution)
    if concept == "baron_ferejohn":
        return b.baron_ferejohn(
            problem,
            game.discount,
            protocol=game.protocol,
            recognition=game.recognition,
            quota=game.quota,
            first=game.proposer,
        )
    raise ValueError(f"unknown concept {concept!r}")


def _with_limit(game: BargainingGame, solution: BargainingSolution) -> BargainingSolution:
    """Add the continuous-time limit to a Rubinstein solution's evidence and notes.

    With ``delta_i = exp(-r_i * dt)`` and ``dt -> 0`` the subgame-perfect split tends
    to the Nash solution weighted by ``1 / r_i`` (Binmore, Rubinstein & Wolinsky
    1986); ``r_i = -log(delta_i)`` per round.
    """
    from simulator.bargaining import nash_bargaining

    assert game.discount is not None
    weights = 1.0 / -np.log(game.discount)
    limit = nash_bargaining(game.problem, weights)
    if not limit.agreement or limit.deal is None:
        return solution
    terms = ", ".join(
        f"{name} {value:.4g}" for name, value in limit.deal_terms().items() if name in game.in_play
    )
    note = (
        "as offers come faster, the split tends to the Nash solution weighted by "
        f"1/-log(discount): {terms}"
    )
    evidence = dict(solution.evidence)
    evidence["continuous_time_limit"] = {
        "weights": weights,
        "deal": limit.deal_terms(),
        "payoffs": limit.payoffs,
    }
    return replace(solution, evidence=MappingProxyType(evidence), notes=(*solution.notes, note))


def solution_summary(solution: BargainingSolution) -> dict[str, Any]:
    """Plain-Python view of a solution (deal terms, payoffs, gains) for reports."""
    return {
        "concept": solution.concept,
        "agreement": solution.agreement,
        "deal": solution.deal_terms() if solution.agreement else None,
        "payoffs": {p: float(v) for p, v in zip(solution.players, solution.payoffs, strict=True)},
        "gains": {p: float(v) for p, v in zip(solution.players, solution.gains, strict=True)},
        "unique": solution.unique,
    }
