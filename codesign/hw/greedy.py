"""Greedy placement: each table and dense kernel of a subnet on the host or on PIM, where its
standalone cost (latency, energy or their product) is lower, from cached kernel costs.

The co-search uses it so that good plans for a subnet are reachable in one step. The
standalone comparison ignores overlap between host and PIM kernels. Precisions are inputs,
never choices: the plan keeps the table and operator precisions it is given (and a kernel
whose precision only one target runs goes there); where none are given, host kernels run
at fp32 and PIM kernels at the plan's PIM data type, as in any plan that leaves them open.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from pimsim import Profile, capacity_refusals, kernel_costs, standalone_energy_pj

from codesign.errors import CodesignError
from codesign.hw.capability import (
    default_dtype,
    dense_dtypes,
    has_pim,
    kernel_capable,
    replicates_hot_rows,
    table_capable,
)
from codesign.hw.placement import DEFAULT_HOT_ROWS, PimPlan, TablePlan
from codesign.hw.plans import apply_knobs
from codesign.hw.mapping import map_subnet, subnet_graph
from codesign.nas.space import SubnetSpec

__all__ = [
    "GREEDY_OBJECTIVES",
    "KernelCostFn",
    "cached_kernel_cost",
    "greedy_plan",
    "kernel_cost_value",
    "knobs_variant",
]

#: What :func:`greedy_plan` may minimise per kernel.
GREEDY_OBJECTIVES: tuple[str, ...] = ("latency", "energy", "edp")

#: ``kernel_cost(workload, profile, replicate_hot_rows) -> {kernel name: KernelCost}``, with
#: ``profile`` the knob-applied profile variant (see :func:`cached_kernel_cost`).
KernelCostFn = Callable[[Any, Any, Mapping[str, int]], Mapping[str, Any]]

def knobs_variant(knobs: Mapping[str, Any]) -> str:
    """Key of a profile variant (its knob values) in a problem's kernel-cost caches."""
    return json.dumps(dict(knobs), sort_keys=True)


def cached_kernel_cost(cache: dict[tuple[Any, ...], Any] | None = None,
                       seed: int = 0) -> KernelCostFn:
    """A :data:`KernelCostFn` over :func:`pimsim.sim.engine.kernel_costs` with ``cache`` (the
    kernel-cost cache of one profile variant, as :func:`simulate_subnet` takes it)."""
    store: dict[tuple[Any, ...], Any] = {} if cache is None else cache

    def cost(workload: Any, profile: Profile, replicate: Mapping[str, int]) -> Mapping[str, Any]:
        return kernel_costs(workload, profile, seed=seed, replicate_hot_rows=dict(replicate),
                            cache=store)

    return cost


def kernel_cost_value(cost: Any, objective: str, profile: Profile | None = None) -> float:
    """A kernel's standalone latency (ns), energy (pJ) or their product.

    With ``profile``, energy is the system's while the kernel runs alone: its own energy
    with its background replaced by the whole memory's background over its time (at
    least its own), and likewise the host's static power over its time, so a slow kernel
    pays for the memory and the host idling around it as the engine's ``(idle memory)``
    record does; without, the kernel's own energy."""
    if objective not in GREEDY_OBJECTIVES:
        raise CodesignError(f"greedy objective: {objective!r}; accepted: "
                            f"{', '.join(GREEDY_OBJECTIVES)}")
    latency = float(cost.time_ns)
    energy = (float(cost.energy.total_pj) if profile is None
              else standalone_energy_pj(cost, profile))
    if objective == "latency":
        return latency
    if objective == "energy":
        return energy
    return latency * energy


def greedy_plan(spec: SubnetSpec, schema: Any, profile: Profile, knobs: Mapping[str, Any],
                kernel_cost: KernelCostFn | None = None, objective: str = "edp", *,
                batch: int = 256, pooling: Any = None, hot_rows: int = DEFAULT_HOT_ROWS,
                try_replication: bool = True, table_dtypes: Mapping[str, str] | None = None,
                precision: Mapping[str, str] | None = None) -> PimPlan:
    """The plan that puts each table and dense kernel of ``spec`` where its standalone
    cost (``objective``: latency, energy or edp; energy with the whole memory's background
    over the kernel's time, see :func:`kernel_cost_value`) is lower, host or PIM, with
    ``knobs``.

    Costs come from ``kernel_cost`` (default: :func:`cached_kernel_cost` with a fresh
    cache) on up to three workloads of the subnet on the knob-applied profile: everything
    on the host, everything the PIM kind can run on PIM, and (for kinds whose embedding
    cost depends on it) the tables on PIM with ``hot_rows`` replicated; with a shared cache
    each kernel signature is simulated at most once per placement. ``batch`` / ``pooling``:
    as :func:`codesign.hw.mapping.map_subnet`. Ties go to the host.
    ``table_dtypes`` (field -> type) and ``precision`` (operator key -> type) are kept as
    given: a table or kernel goes only where its type runs, and where only one target runs
    it, there. The standalone comparison ignores overlap between host and PIM kernels.
    Raises :class:`~codesign.errors.SpecError` for knobs the profile does not accept and
    for precisions no target runs.
    """
    if objective not in GREEDY_OBJECTIVES:
        raise CodesignError(f"greedy_plan: objective {objective!r}; accepted: "
                            f"{', '.join(GREEDY_OBJECTIVES)}")
    knobs = dict(knobs)
    table_dt = {f: str(d) for f, d in (table_dtypes or {}).items()}
    prec = {k: str(d) for k, d in (precision or {}).items()}
    graph = subnet_graph(spec, schema)

    def table(placement: str = "host", replicate: bool = False, f: str = "") -> TablePlan:
        return TablePlan(placement=placement, replicate_hot=replicate,  # type: ignore[arg-type]
                         dtype=table_dt.get(f))

    # where each kernel may run at its precision (given, or the target's default)
    on_host_ok = {k.name: k.op_key not in prec or prec[k.op_key] in
                  dense_dtypes(profile, "host", k) for k in graph.kernels}
    base = PimPlan(tables={f: table(f=f) for f in graph.tables},
                   dense={k.name: "host" if on_host_ok[k.name] else "pim"
                          for k in graph.kernels},
                   precision=prec, knobs=knobs, hot_rows=hot_rows)
    if not has_pim(profile):
        if knobs:
            apply_knobs(profile, base)  # raises, naming the knobs
        base.check_against(graph, profile)  # precisions the host does not run
        return base
    base.check_against(graph, profile)  # knob names and values, precisions
    prof = apply_knobs(profile, base)
    dtype = str(knobs.get("dtype") or default_dtype(profile))
    pim_tables = [f for f in graph.tables if graph.uses_embeddings
                  and table_capable(profile, table_dt.get(f) or dtype) is None]
    pim_dense = [k.name for k in graph.kernels
                 if kernel_capable(profile, k, prec.get(k.op_key) or dtype) is None]
    if pim_dense:  # weights beyond the units' own storage (crossbars) stay on the host
        trial = base.model_copy(update={"dense": {
            k.name: "pim" if k.name in pim_dense else base.dense[k.name] for k in graph.kernels}})
        wl = map_subnet(spec, schema, trial, batch=batch, pooling=pooling, profile=prof)
        refused = capacity_refusals(prof, [wl.kernel(n) for n in wl.topological_order()])
        pim_dense = [n for n in pim_dense if n not in refused]
    if not pim_tables and all(on_host_ok.values()) and not pim_dense:
        return base
    cost_fn = kernel_cost or cached_kernel_cost()

    def costs(plan: PimPlan) -> Mapping[str, Any]:
        wl = map_subnet(spec, schema, plan, batch=batch, pooling=pooling, profile=prof)
        rep = {f"emb.{f}": plan.hot_rows for f in plan.replicated_tables()}
        return cost_fn(wl, prof, rep)

    on_host = costs(base)
    all_pim = base.model_copy(update={
        "tables": {f: table("pim" if f in pim_tables else "host", f=f) for f in graph.tables},
        "dense": {k.name: "pim" if k.name in pim_dense else "host" for k in graph.kernels},
    })
    on_pim = costs(all_pim)
    replicated: Mapping[str, Any] = {}
    if try_replication and pim_tables and hot_rows > 0 and replicates_hot_rows(profile):
        replicated = costs(all_pim.model_copy(update={
            "tables": {f: table("pim", True, f) for f in pim_tables},
            "dense": base.dense,
        }))

    def value(c: Mapping[str, Any], name: str) -> float:
        return kernel_cost_value(c[name], objective, prof)

    tables: dict[str, TablePlan] = {}
    for f in graph.tables:
        name = f"emb.{f}"
        best, best_value = table(f=f), value(on_host, name) if name in on_host else math.inf
        if f in pim_tables:
            v = value(on_pim, name)
            if v < best_value:
                best, best_value = table("pim", f=f), v
            if replicated:
                v = value(replicated, name)
                if v < best_value:
                    best, best_value = table("pim", True, f), v
        tables[f] = best
    dense = {k.name: ("pim" if not on_host_ok[k.name] or (
                          k.name in pim_dense
                          and value(on_pim, k.name) < value(on_host, k.name)) else "host")
             for k in graph.kernels}
    return PimPlan(tables=tables, dense=dense, precision=prec, knobs=knobs, hot_rows=hot_rows)
