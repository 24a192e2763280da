r"""The Banzhaf value and index (Banzhaf 1965; Penrose 1946), and weighted voting games.

The raw Banzhaf value of player :math:`i` is her average marginal contribution
over the :math:`2^{n-1}` coalitions of the other players,

.. math::

    \beta_i(v) = \frac{1}{2^{n-1}} \sum_{S \subseteq N \setminus \{i\}}
        \bigl(v(S \cup \{i\}) - v(S)\bigr).

In a simple (voting) game the marginal contribution is 1 exactly when :math:`i`
is a *swing* (``S`` loses, ``S + i`` wins), so :math:`\beta_i` is the probability
that :math:`i` is decisive when the others vote at random. The normalised index
divides by :math:`\sum_j \beta_j`: for voting games it is player :math:`i`'s share
of all swings, the Banzhaf power index; for a general TU game it is the share of
the total raw Banzhaf value (multiply by :math:`v(N)` for an efficient allocation).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from simulator.coalition.shapley import marginal_contributions
from simulator.coalition.tu_game import TUGame, coalition_matrix


def banzhaf_index(game: TUGame, normalized: bool = True) -> np.ndarray:
    """Banzhaf power of each player: array ``(n,)``, entry ``i`` for ``game.players[i]``.

    ``normalized=False`` gives the raw Banzhaf value :math:`\\beta_i`;
    ``normalized=True`` gives :math:`\\beta_i / \\sum_j \\beta_j`, which sums to 1.
    Raises ``ValueError`` when normalising a game whose total raw value is zero
    (within ``game.tolerance``): nobody has power to share out.
    """
    if not isinstance(game, TUGame):
        raise TypeError(f"banzhaf_index: expected a TUGame, got {type(game).__name__}")
    raw = marginal_contributions(game).sum(axis=1) / float(1 << (game.n - 1))
    if not normalized:
        return raw
    total = float(raw.sum())
    if abs(total) <= game.tolerance:
        raise ValueError(
            "banzhaf_index: the raw Banzhaf values sum to 0, so the normalised index is "
            "undefined; use normalized=False"
        )
    return raw / total


def weighted_voting_game(
    weights: npt.ArrayLike, quota: float, players: Sequence[str] | None = None
) -> TUGame:
    """The weighted voting game ``[quota; w_0, ..., w_{n-1}]``.

    ``v(S) = 1`` when the members' weights add up to at least ``quota``, else 0.
    ``weights`` has shape ``(n,)`` and must be non-negative; ``quota`` must be
    positive and at most the total weight (so that the grand coalition wins).
    Players default to ``"1", ..., "n"``.
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or w.size < 1:
        raise ValueError(
            f"weighted_voting_game: weights must be a non-empty vector, got shape {w.shape}"
        )
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"weighted_voting_game: weights must be finite and >= 0, got {w}")
    if not np.isfinite(quota) or quota <= 0 or quota > w.sum():
        raise ValueError(
            f"weighted_voting_game: quota must be in (0, total weight {w.sum()}], got {quota}"
        )
    totals = coalition_matrix(w.size).astype(float) @ w
    return TUGame.from_values((totals >= quota).astype(float), players)
