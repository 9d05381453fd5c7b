"""Hardware evaluation of a subnet: one batch simulated with pimsim under a plan, and the
metrics the search reads off the trace."""

from __future__ import annotations

from typing import Any

from pimsim import ENERGY_COLUMNS, Profile, Trace, simulate

from codesign.data.schema import get_schema
from codesign.hw.placement import PimPlan
from codesign.hw.plans import apply_knobs
from codesign.hw.mapping import map_subnet
from codesign.nas.space import SubnetSpec

__all__ = ["hardware_metrics", "sim_schema", "simulate_subnet"]


def sim_schema(name_or_schema: Any) -> Any:
    """The schema whose table sizes the simulation uses: a data set name gives its
    published cardinalities (the deployed model), a DatasetSchema passes through."""
    if isinstance(name_or_schema, str):
        return get_schema(name_or_schema)
    return name_or_schema


def simulate_subnet(spec: SubnetSpec, schema: Any, plan: PimPlan | None, profile: Profile, *,
                    batch: int = 256, pooling: Any = None, seed: int = 0,
                    cache: dict[tuple[Any, ...], Any] | None = None) -> Trace:
    """Simulate one batch of ``spec`` with ``plan`` on ``profile`` (knobs applied);
    returns the pimsim Trace. ``cache``: kernel-cost cache of that profile variant."""
    prof = apply_knobs(profile, plan) if plan is not None else profile
    wl = map_subnet(spec, schema, plan, batch=batch, pooling=pooling, profile=prof)
    replicate: dict[str, int] | int = 0
    if plan is not None:
        replicate = {f"emb.{f}": plan.hot_rows for f in plan.replicated_tables()}
    return simulate(wl, prof, seed=seed, replicate_hot_rows=replicate, cache=cache)


def hardware_metrics(trace: Trace) -> dict[str, float]:
    """Latency (makespan) and energy of a trace, with energy by component
    (``energy_<component>``), from :meth:`pimsim.sim.trace.Trace.totals`."""
    totals = trace.totals()
    out = {"latency_ns": totals["makespan_ns"], "energy_pj": totals["energy_pj"]}
    for c in ENERGY_COLUMNS:
        out[f"energy_{c}"] = totals[c]
    return out
