"""Infrastructure shared by pimsim and codesign, at the bottom of the import graph.

One of each helper: the atomic file write (:mod:`~pimsim.util.fileio`), the executors
(:mod:`~pimsim.util.executors`), the command-line runner and printing
(:mod:`~pimsim.util.cli`) and the bounded-Zipf draws (:mod:`~pimsim.util.rng`). Modules here
import nothing from pimsim but :mod:`pimsim.errors`; codesign may import them directly.
"""
