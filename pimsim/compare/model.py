"""The model view: a whole workload, kernel by kernel and plan by plan, at several batches.

For every batch ``B`` the workload (built by the caller at ``B``, in one data type on both
sides) is costed with :func:`pimsim.sim.engine.kernel_costs` twice: everything on the host,
and every kernel the profile's PIM kind runs on PIM (:func:`pimsim.cost.pim.unsupported_reason`;
for a kind with its own storage, only the kernels whose resident data fit it,
``capacity_refusals``).
Per kernel that gives host and PIM latency and energy, where a kernel's energy is the
system's while it runs alone: its own energy with its background replaced by the whole
memory's background and the host's static power over its time (at least its own), the
rule of the engine's idle records (:func:`pimsim.energy.standalone_energy_pj`). The per-kernel best placement is the one with the lower ``objective``
(latency, energy or their product; ties go to the host).

Three plans are then scheduled with :func:`pimsim.sim.engine.simulate`: ``host-only``,
``naive`` (every kernel the kind runs on PIM) and ``best``: the per-kernel best
placements, unless one of the other two plans scores better once scheduled (overlap of
host and PIM kernels can favour a plan the per-kernel choice does not pick); ``best_from``
says which plan it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pimsim.compare.run import OK, ratio, require_pim
from pimsim.compare.transform import placed, with_dtype
from pimsim.cost.memory import KernelCost
from pimsim.cost.pim import capacity_refusals, unsupported_reason
from pimsim.energy import standalone_energy_pj
from pimsim.errors import PimsimError
from pimsim.hw.schema import Profile
from pimsim.sim.engine import kernel_costs, simulate
from pimsim.sim.trace import Trace
from pimsim.workload.graph import Workload
from pimsim.workload.kernels import Elementwise, EmbeddingBag, Gemm, Interaction, Transfer

OBJECTIVES: tuple[str, ...] = ("latency", "energy", "edp")
HOST_ONLY, NAIVE, BEST, PER_KERNEL = "host-only", "naive", "best", "per-kernel"
PLANS: tuple[str, ...] = (HOST_ONLY, NAIVE, BEST)

KERNEL_COLUMNS: tuple[str, ...] = (
    "batch", "kernel", "op", "shape", "host_latency_ns", "pim_latency_ns", "host_energy_pj",
    "pim_energy_pj", "latency_ratio", "energy_ratio", "best", "pim_status")
PLAN_COLUMNS: tuple[str, ...] = (
    "batch", "plan", "latency_ns", "energy_pj", "kernels_on_pim", "latency_ratio",
    "energy_ratio", "best_from")


@dataclass
class ModelComparison:
    """The model view: per-kernel rows (:data:`KERNEL_COLUMNS`), per-plan rows
    (:data:`PLAN_COLUMNS`, ratios host-only over the plan), the best plan's trace per
    batch, and what was compared."""

    workload: str
    profile: str
    dtype: str | None
    objective: str
    kernels: pd.DataFrame
    plans: pd.DataFrame
    best_traces: dict[int, Trace] = field(default_factory=dict)


def objective_value(objective: str, latency_ns: float, energy_pj: float) -> float:
    """The value minimised under ``objective``."""
    if objective == "latency":
        return latency_ns
    if objective == "energy":
        return energy_pj
    return latency_ns * energy_pj


def kernel_shape(kernel: Any) -> str:
    """A kernel's shape as people read it."""
    if isinstance(kernel, Gemm):
        return f"{kernel.m}x{kernel.k}x{kernel.n}"
    if isinstance(kernel, EmbeddingBag):
        t = kernel.tbl
        return f"{t.rows}x{t.dim} p{kernel.pooling or '?'}"
    if isinstance(kernel, Interaction):
        return f"{kernel.batch}x{kernel.tokens}x{kernel.dim}"
    if isinstance(kernel, Elementwise):
        return f"{kernel.fn} {kernel.m}x{kernel.n}"
    if isinstance(kernel, Transfer):
        return f"{kernel.bytes} B"
    return ""


def _kernel_rows(batch: int, wl: Workload, profile: Profile, host: dict[str, KernelCost],
                 pim: dict[str, KernelCost], reasons: dict[str, str | None],
                 objective: str) -> tuple[list[dict[str, Any]], list[str]]:
    rows, best = [], []
    for k in wl.kernels:
        h = host[k.name]
        row: dict[str, Any] = {"batch": batch, "kernel": k.name, "op": k.op,
                               "shape": kernel_shape(k), "host_latency_ns": h.time_ns,
                               "host_energy_pj": standalone_energy_pj(h, profile),
                               "pim_latency_ns": math.nan, "pim_energy_pj": math.nan,
                               "best": "host", "pim_status": reasons.get(k.name) or OK}
        if k.name in pim and reasons.get(k.name) is None:
            p = pim[k.name]
            row["pim_latency_ns"] = p.time_ns
            row["pim_energy_pj"] = standalone_energy_pj(p, profile)
            if objective_value(objective, row["pim_latency_ns"], row["pim_energy_pj"]) < \
                    objective_value(objective, row["host_latency_ns"], row["host_energy_pj"]):
                row["best"] = "pim"
                best.append(k.name)
        row["latency_ratio"] = ratio(row["host_latency_ns"], row["pim_latency_ns"])
        row["energy_ratio"] = ratio(row["host_energy_pj"], row["pim_energy_pj"])
        rows.append(row)
    return rows, best


def compare_model(build: Callable[[int], Workload], profile: Profile, batches: Sequence[int],
                  *, dtype: str | None = None, objective: str = "latency", seed: int = 0,
                  name: str | None = None,
                  progress: Callable[[int, int], None] | None = None) -> ModelComparison:
    """The model view of the workload ``build(B)`` for every ``B`` of ``batches`` (see the
    module docstring); ``dtype`` (None: as built) is given to every table and kernel;
    ``name`` names the model in titles (default: the name of the first workload built)."""
    require_pim(profile)
    if objective not in OBJECTIVES:
        raise PimsimError(f"--objective {objective!r}; accepted: {', '.join(OBJECTIVES)}")
    cache: dict[tuple[Any, ...], KernelCost] = {}
    kernel_rows: list[dict[str, Any]] = []
    plan_rows: list[dict[str, Any]] = []
    traces: dict[int, Trace] = {}
    ordered = sorted(set(int(b) for b in batches))
    if not ordered:
        raise PimsimError("--batch: no batch size; accepted: one or more whole numbers >= 1")
    for i, batch in enumerate(ordered):
        wl = build(batch)
        wl = with_dtype(wl, dtype) if dtype else wl
        name = name or wl.name
        movable = [k for k in wl.kernels if not isinstance(k, Transfer)]
        reasons = {k.name: unsupported_reason(profile, k) for k in movable}
        # weights that do not fit the units' own storage (crossbars) stay on the host
        runs = [n for n, r in reasons.items() if r is None]
        everything = placed(wl, runs)
        reasons.update(capacity_refusals(profile, [
            everything.kernel(n) for n in everything.topological_order()]))
        runs = [n for n, r in reasons.items() if r is None]
        host_wl, naive_wl = placed(wl, ()), placed(wl, runs)
        host = kernel_costs(host_wl, profile, seed=seed, cache=cache)
        pim = kernel_costs(naive_wl, profile, seed=seed, cache=cache)
        rows, best = _kernel_rows(batch, wl, profile, host, pim, reasons, objective)
        kernel_rows += rows
        scheduled = {HOST_ONLY: (host_wl, ()), NAIVE: (naive_wl, runs)}
        scheduled[PER_KERNEL] = (placed(wl, best), best)
        results = {}
        for plan, (w, on_pim) in scheduled.items():
            t = simulate(w, profile, seed=seed, cache=cache)
            tot = t.totals()
            results[plan] = (t, tot["makespan_ns"], tot["energy_pj"], len(on_pim))
        best_from = min((PER_KERNEL, HOST_ONLY, NAIVE), key=lambda p: objective_value(
            objective, results[p][1], results[p][2]))
        traces[batch] = results[best_from][0]
        base_lat, base_en = results[HOST_ONLY][1], results[HOST_ONLY][2]
        for plan, key in ((HOST_ONLY, HOST_ONLY), (NAIVE, NAIVE), (BEST, best_from)):
            _, lat, en, n_pim = results[key]
            plan_rows.append({"batch": batch, "plan": plan, "latency_ns": lat, "energy_pj": en,
                              "kernels_on_pim": n_pim, "latency_ratio": ratio(base_lat, lat),
                              "energy_ratio": ratio(base_en, en),
                              "best_from": best_from if plan == BEST else plan})
        if progress:
            progress(i + 1, len(ordered))
    return ModelComparison(workload=name or "", profile=profile.name, dtype=dtype,
                           objective=objective,
                           kernels=pd.DataFrame(kernel_rows, columns=list(KERNEL_COLUMNS)),
                           plans=pd.DataFrame(plan_rows, columns=list(PLAN_COLUMNS)),
                           best_traces=traces)
