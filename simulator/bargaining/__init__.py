"""Bargaining solutions over a continuous deal space.

The problem and its notation are in :mod:`simulator.bargaining.problem`; each
solution concept has its own module and returns one
:class:`~simulator.bargaining.problem.BargainingSolution`.
"""

from simulator.bargaining.baron_ferejohn import baron_ferejohn
from simulator.bargaining.egalitarian import egalitarian, proportional_solution
from simulator.bargaining.frontier import ParetoFrontier, affine_utility, pareto_frontier
from simulator.bargaining.kalai_smorodinsky import ideal_point, kalai_smorodinsky
from simulator.bargaining.nash import nash_bargaining
from simulator.bargaining.problem import SOLVE_RTOL, BargainingProblem, BargainingSolution
from simulator.bargaining.rubinstein import (
    rubinstein_bargaining,
    rubinstein_limit,
    rubinstein_split,
)
from simulator.bargaining.utilitarian import utilitarian
from simulator.bargaining.zone import ZoneOfAgreement, zone_of_agreement

__all__ = [
    "SOLVE_RTOL",
    "BargainingProblem",
    "BargainingSolution",
    "ParetoFrontier",
    "ZoneOfAgreement",
    "affine_utility",
    "baron_ferejohn",
    "egalitarian",
    "ideal_point",
    "kalai_smorodinsky",
    "nash_bargaining",
    "pareto_frontier",
    "proportional_solution",
    "rubinstein_bargaining",
    "rubinstein_limit",
    "rubinstein_split",
    "utilitarian",
    "zone_of_agreement",
]
