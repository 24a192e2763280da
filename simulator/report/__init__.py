"""Reports of an :class:`~simulator.analysis.Analysis`: a JSON contract and tables."""
