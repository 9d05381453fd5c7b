"""The kernel-level simulation: SimPy scheduling of kernel costs into a per-kernel trace.

:mod:`~pimsim.sim.engine` runs kernels as processes on unit and channel resources,
:mod:`~pimsim.sim.trace` holds the records and their one summary, and
:mod:`~pimsim.sim.export` writes them as Parquet, CSV, Chrome trace JSON and a timeline.
"""
