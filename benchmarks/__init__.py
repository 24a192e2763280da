"""Benchmarks of negsim's solvers against nashpy, QuantEcon and Gambit.

Run ``python benchmarks/run.py`` (or ``make bench``); see ``benchmarks/README.md``.
"""
