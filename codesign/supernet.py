"""Re-exports of codesign.nas.supernet, codesign.nas.subnet and codesign.nas.plan; to be removed with the layout move."""

from codesign.nas.plan import BlockPlan, ExecutionPlan, make_plan, run_plan
from codesign.nas.subnet import SubnetModel
from codesign.nas.supernet import SchemaLike, Supernet

#: The name the modules importing from here use.
Plan = ExecutionPlan

__all__ = ["BlockPlan", "ExecutionPlan", "Plan", "SchemaLike", "SubnetModel", "Supernet",
           "make_plan", "run_plan"]
