"""Re-exports of pimsim.cost.host and pimsim.cost.memory; to be removed with the layout move."""

from pimsim.cost.host import host_kernel_cost
from pimsim.cost.memory import KernelCost

__all__ = ["KernelCost", "host_kernel_cost"]
