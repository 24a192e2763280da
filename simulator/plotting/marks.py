"""The bargaining solutions a figure marks, from whatever the caller has at hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from simulator.bargaining.game import BargainingResult
from simulator.bargaining.problem import BargainingSolution

__all__ = ["SolutionsArg", "coincides_with", "marker_size", "solution_list"]

SolutionsArg = BargainingResult | BargainingSolution | Sequence[BargainingSolution] | None
"""What figure functions accept as ``solutions``."""


def solution_list(
    solutions: SolutionsArg, where: str
) -> tuple[tuple[BargainingSolution, ...], tuple[str, ...]]:
    """The solutions to mark, and notes on concepts a result could not answer.

    A :class:`BargainingResult` gives its checked solutions; its failed and
    rejected concepts become notes (they are not marked: a rejected answer is
    not an answer). Raises :class:`TypeError` (naming ``where``) for anything
    else than a result, a solution or a sequence of solutions.
    """
    if solutions is None:
        return (), ()
    if isinstance(solutions, BargainingResult):
        notes = [f"{c}: not computed ({why})" for c, why in solutions.failed.items()]
        notes += [
            f"{s.concept}: rejected ({'; '.join(check.failures)})"
            for s, check in solutions.rejected
        ]
        return tuple(solutions.solutions), tuple(notes)
    if isinstance(solutions, BargainingSolution):
        return (solutions,), ()
    items = tuple(solutions)
    bad = [type(s).__name__ for s in items if not isinstance(s, BargainingSolution)]
    if bad:
        raise TypeError(
            f"{where}: solutions must be a BargainingResult or BargainingSolution objects, "
            f"got {', '.join(bad)}"
        )
    return items, ()


def marker_size(position: int) -> float:
    """Size of the ``position``-th marked solution: later marks are smaller.

    Solutions often coincide (Nash and utilitarian at a vertex); drawn largest
    first, every marker of a stack stays visible around the ones on top of it.
    """
    return max(6.0, 15.0 - 2.0 * position)


def coincides_with(
    point: npt.ArrayLike, earlier: Mapping[str, npt.ArrayLike], tolerance: npt.ArrayLike
) -> str | None:
    """The first of ``earlier`` (name -> point) within ``tolerance`` of ``point``, else ``None``."""
    x = np.asarray(point, dtype=float)
    for name, other in earlier.items():
        if np.all(np.abs(np.asarray(other, dtype=float) - x) <= tolerance):
            return name
    return None
