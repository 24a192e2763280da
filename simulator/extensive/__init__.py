"""Game trees (extensive-form games): the model, conversions and solvers.

Modules: :mod:`~simulator.extensive.tree` (the model and its builder),
:mod:`~simulator.extensive.results` (typed results).
"""
