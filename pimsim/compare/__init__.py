"""``pimsim compare``: where PIM pays off, host against the profile's PIM units.

Two views, both built only from pimsim's own costing (:func:`pimsim.sim.engine.simulate`,
:func:`pimsim.sim.engine.kernel_costs`, the PIM kind registry's
:func:`pimsim.cost.pim.unsupported_reason`), so that every change to the host, PIM or
DRAM models shows in them unchanged:

- the advantage map of a profile: a grid of GEMM shapes and embedding tables x batch
  sizes (``grid``), each point run on the host alone and on PIM (``run``), host-over-PIM
  latency and energy ratios with the crossover batch of every shape (``crossover``);
- the model view of a workload: per kernel and batch, host vs PIM and the best
  placement, and the whole model's host-only, naive and best plans scheduled (``model``,
  with ``transform`` rescaling a workload file's batch and data type).

``tables`` and ``plots`` render them (CSV, Markdown, PNG heatmaps); ``report`` writes a
run's files.
"""

from pimsim.compare.crossover import Crossover, crossover, crossover_table
from pimsim.compare.grid import CompareGrid, Point
from pimsim.compare.model import ModelComparison, compare_model
from pimsim.compare.report import write_grid, write_model
from pimsim.compare.run import default_grid, run_grid
from pimsim.compare.tables import read_points_csv

__all__ = ["CompareGrid", "Crossover", "ModelComparison", "Point", "compare_model",
           "crossover", "crossover_table", "default_grid", "read_points_csv", "run_grid",
           "write_grid", "write_model"]
