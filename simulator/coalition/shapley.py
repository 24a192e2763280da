r"""The Shapley value of a TU game (Shapley 1953).

.. math::

    \varphi_i(v) = \sum_{S \subseteq N \setminus \{i\}}
        \frac{|S|!\,(n - |S| - 1)!}{n!}\,\bigl(v(S \cup \{i\}) - v(S)\bigr)

the average of player :math:`i`'s marginal contribution over all orders in which
the grand coalition can form. Computed exactly by this subset formula, vectorised
over the ``2**n`` coalitions (coalitions are bitmasks, see :mod:`.tu_game`).
"""

from __future__ import annotations

from math import comb

import numpy as np

from simulator.coalition.tu_game import TUGame, coalition_matrix, coalition_sizes


def marginal_contributions(game: TUGame) -> np.ndarray:
    """``v(T) - v(T minus i)`` for every player ``i`` and coalition ``T``: array ``(n, 2**n)``.

    Entry ``[i, T]`` is 0 when ``i`` is not in ``T``.
    """
    n = game.n
    masks = np.arange(1 << n, dtype=np.int64)
    bits = (np.int64(1) << np.arange(n, dtype=np.int64))[:, None]
    inside = coalition_matrix(n).T
    return np.where(inside, game.v[masks][None, :] - game.v[masks[None, :] & ~bits], 0.0)


def shapley_value(game: TUGame) -> np.ndarray:
    """The Shapley value of ``game``: array ``(n,)``, entry ``i`` for ``game.players[i]``.

    Efficient (sums to ``v(N)``), symmetric, zero for null players and additive
    in ``v`` (Shapley 1953).
    """
    if not isinstance(game, TUGame):
        raise TypeError(f"shapley_value: expected a TUGame, got {type(game).__name__}")
    n = game.n
    # Weight of a coalition T containing i: |S|!(n-|S|-1)!/n! with S = T - i, |S| = |T| - 1,
    # which is 1 / (n * C(n-1, |T|-1)).
    weight_by_size = np.array([0.0] + [1.0 / (n * comb(n - 1, k - 1)) for k in range(1, n + 1)])
    weights = weight_by_size[coalition_sizes(n)]
    return marginal_contributions(game) @ weights
