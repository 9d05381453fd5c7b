"""Re-exports of pimsim.sim.engine; to be removed with the layout move."""

from pimsim.sim.engine import critical_path_ns, kernel_costs, simulate  # noqa: F401
