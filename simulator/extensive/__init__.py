"""Game trees (extensive-form games): the model, conversions and solvers.

:mod:`~simulator.extensive.tree`
    the model (:class:`~simulator.extensive.tree.ExtensiveGame`) and its checked builder;
:mod:`~simulator.extensive.results`
    typed results (verified behaviour-strategy equilibria);
:mod:`~simulator.extensive.behavior`
    regrets of behaviour profiles in the whole game and in every subgame, and verification;
:mod:`~simulator.extensive.reduced_form`
    the reduced strategic form and the maps between mixed and behaviour strategies;
:mod:`~simulator.extensive.backward_induction`
    every pure subgame-perfect equilibrium of a perfect-information tree;
:mod:`~simulator.extensive.subgame_perfect`
    subgame-perfect equilibria of any perfect-recall tree, subgame by subgame;
:mod:`~simulator.extensive.sequence_form`
    the sequence form and Lemke's algorithm on it (two players);
:mod:`~simulator.extensive.solve`
    :func:`~simulator.extensive.solve.solve_sequential`, which picks among them.
"""
