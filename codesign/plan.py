"""Re-exports of codesign.hw.placement, codesign.hw.plans and codesign.hw.capability; to be removed with the layout move."""

from codesign.hw.capability import (
    has_pim,
    kernel_capable,
    knob_options,
    profile_pim,
    table_capable,
)
from codesign.hw.placement import (
    DEFAULT_HOT_ROWS,
    PLAN_FORMAT,
    Placement,
    PimPlan,
    TablePlan,
    load_plan,
    save_plan,
)
from codesign.hw.plans import (
    PlanGenes,
    apply_knobs,
    host_plan,
    mutate_plan,
    naive_plan,
    plan_genes,
    reconcile_plan,
    sample_plan,
    validate_plan,
)

__all__ = [
    "DEFAULT_HOT_ROWS",
    "PLAN_FORMAT",
    "Placement",
    "PimPlan",
    "PlanGenes",
    "TablePlan",
    "apply_knobs",
    "has_pim",
    "host_plan",
    "kernel_capable",
    "knob_options",
    "load_plan",
    "mutate_plan",
    "naive_plan",
    "plan_genes",
    "profile_pim",
    "reconcile_plan",
    "sample_plan",
    "save_plan",
    "table_capable",
    "validate_plan",
]
