"""Figures of negsim's games and runs: matplotlib, headless, content you can check.

One module per kind of figure, each with one function that takes library
objects and returns a frozen :class:`Plot` (the matplotlib figure plus the
arrays it drew and the points it marked, so tests and callers can check what
is on it); :meth:`Plot.save` writes ``.png``, ``.svg`` or ``.pdf`` atomically.

* :func:`payoff_surface`: one player's payoff over two issues of a bargaining
  game, with indifference curves through the disagreement payoffs, the
  infeasible region and the solutions' deals (:mod:`.surface`);
* :func:`frontier_plot`: the Pareto frontier in two players' payoff space, the
  disagreement point, the zone of agreement and the solutions (:mod:`.frontier`);
* :func:`payoff_heatmap`: a strategic game's payoff table with its equilibria
  (:mod:`.heatmap`);
* :func:`qre_plot`: a quantal response equilibrium path (:mod:`.qre`);
* :func:`sweep_plot`: columns of a parameter sweep against the parameter, with
  the thresholds where the answer changes (:mod:`.sweep`).

Colours, markers and line styles follow :mod:`.style` (cividis for continuous
data; the Okabe-Ito palette with distinct marker shapes and dash patterns for
categories), so every figure reads in greyscale and for colour-blind readers.
Figures never touch ``pyplot``: they are safe without a display and in threads.
"""

from simulator.plotting.figure import FORMATS, Plot
from simulator.plotting.frontier import FrontierPlot, frontier_plot
from simulator.plotting.heatmap import HeatmapPlot, payoff_heatmap
from simulator.plotting.qre import QrePlot, qre_plot
from simulator.plotting.surface import SurfacePlot, payoff_surface
from simulator.plotting.sweep import SweepPlot, column_label, sweep_plot

__all__ = [
    "FORMATS",
    "FrontierPlot",
    "HeatmapPlot",
    "Plot",
    "QrePlot",
    "SurfacePlot",
    "SweepPlot",
    "column_label",
    "frontier_plot",
    "payoff_heatmap",
    "payoff_surface",
    "qre_plot",
    "sweep_plot",
]
