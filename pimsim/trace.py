"""Re-exports of pimsim.sim.trace; to be removed with the layout move."""

from pimsim.sim.trace import ENERGY_COLUMNS, KernelRecord, Trace  # noqa: F401
