"""The decomposition of one operating point: B's gain split into the hardware side (a better
plan for B's own subnet), the architecture side (C's subnet on the naive plan) and both
together (C), beside B on the host and a handcrafted DLRM, each simulated at the point's
batch.

Rows (:data:`ROWS`):

- ``B``: the accuracy-best subnet on the profile's naive plan;
- ``B_host``: B's subnet with every kernel on the host;
- ``B+plan``: B's subnet with its best plan (:func:`best_plan`): of the naive and host
  plans, the greedy plans over :data:`~codesign.hw.greedy.GREEDY_OBJECTIVES` at the point's
  batch, and the plan with the lowest energy x latency that the co-search evaluated for B's
  subnet, the best simulated one (so B+plan is never worse than B on the point's score);
- ``C-arch``: C's subnet on the naive plan (the architecture alone);
- ``C``: C's subnet with its best plan among the same candidates, C's own plan from the
  co-search first (both sides; a plan the search never tried for C's subnet, such as its
  greedy plan at the point's batch, can still beat the one it found);
- ``DLRM``: DLRM's Criteo model (:func:`pimsim.criteo_dlrm`: bottom MLP 512-256-16, dot
  interaction, top MLP 1024-512-256-1) on the data set's tables and dense features, as a
  workload on the naive placement (tables on PIM where the kind pools them, the rest on the
  host). The NASRec space has no bottom-MLP-then-dot-interaction form, so it is not a spec.

Shares, per metric (FLOPs, energy, latency): ``hardware = B / B+plan``, ``architecture =
B / C-arch``, ``total = B / C``; ``joint = total / (hardware x architecture)`` is what doing
both together gives beyond the product of the two alone (1.0: the gains multiply).

The score that "best" means: energy x latency; at a point with a latency limit, the lowest
energy among the plans within the limit (the lowest latency when none is)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from pimsim import Profile, Trace, criteo_dlrm, simulate

from codesign.hw.evaluate import hardware_metrics, simulate_subnet
from codesign.hw.greedy import GREEDY_OBJECTIVES, cached_kernel_cost, greedy_plan
from codesign.hw.placement import PimPlan
from codesign.hw.plans import apply_knobs, host_plan, naive_plan
from codesign.nas.flops import count_flops
from codesign.nas.space import SubnetSpec, from_dict, to_dict

#: The decomposition's rows, in the order of the report.
ROWS: tuple[str, ...] = ("B", "B_host", "B+plan", "C-arch", "C", "DLRM")
#: The metrics the shares are given for (columns of :func:`decomposition_table`).
METRICS: tuple[tuple[str, str], ...] = (("flops", "mflops"), ("energy", "energy_uj"),
                                        ("latency", "latency_us"))
#: Rows traced to Chrome trace-event JSON as well as Parquet.
CHROME_ROWS = ("B", "C")


def dlrm_workload(schema: Any, profile: Profile, naive: PimPlan, batch: int) -> Any:
    """DLRM on ``schema``'s tables at ``batch`` with the placement and table types of the
    naive plan ``naive`` (of any subnet of the data set: tables on PIM where it pools them,
    at the plan's PIM type; dense kernels on the host at fp32)."""
    fields = list(naive.tables)
    on_pim = bool(fields) and naive.table_placement(fields[0]) == "pim"
    wl = criteo_dlrm([int(c) for c in schema.cardinalities], batch=batch,
                     embedding_placement="pim" if on_pim else "host",
                     dense_features=max(1, int(schema.n_dense)))
    if on_pim:
        dtype = naive.table_dtype(fields[0], profile)
        wl = wl.model_copy(update={"tables": {
            n: t.model_copy(update={"dtype": dtype}) for n, t in wl.tables.items()}})
    return wl


def _edp(m: Mapping[str, float]) -> float:
    return float(m["latency_ns"]) * float(m["energy_pj"])


def cosearch_plan_for(history: pd.DataFrame | None, spec: SubnetSpec) -> PimPlan | None:
    """The plan with the lowest energy x latency that a co-search ``history`` evaluated for
    ``spec`` (None when it evaluated none)."""
    if history is None or history.empty:
        return None
    want = to_dict(spec)
    best: tuple[float, PimPlan] | None = None
    for _, r in history.iterrows():
        g = json.loads(r["genome"])
        if to_dict(from_dict(g["spec"])) != want:
            continue
        edp = float(r["latency_ns"]) * float(r["energy_pj"])
        if math.isfinite(edp) and (best is None or edp < best[0]):
            best = (edp, PimPlan.from_dict(g["plan"], "search_C/history.csv: plan"))
    return None if best is None else best[1]


def plan_score(m: Mapping[str, float], limit_ns: float | None) -> tuple[float, float]:
    """What :func:`best_plan` minimises: ``(0, energy x latency)``; with ``limit_ns``,
    ``(0, energy)`` within the limit and ``(1, latency)`` beyond it."""
    if limit_ns is None:
        return 0.0, _edp(m)
    if float(m["latency_ns"]) <= limit_ns:
        return 0.0, float(m["energy_pj"])
    return 1.0, float(m["latency_ns"])


def plan_candidates(spec: SubnetSpec, schema: Any, profile: Profile, batch: int,
                    naive: PimPlan, cost: Any, first: Mapping[str, PimPlan]) -> dict[str, PimPlan]:
    """``first`` (source -> plan), then ``spec``'s naive and host plans and its greedy plans
    at ``batch`` with ``naive``'s knobs."""
    cands: dict[str, PimPlan] = dict(first)
    cands.setdefault("naive", naive)
    cands.setdefault("host", host_plan(spec, schema))
    for objective in GREEDY_OBJECTIVES:
        cands[f"greedy ({objective})"] = greedy_plan(spec, schema, profile, naive.knobs,
                                                     cost, objective, batch=batch)
    return cands


def best_plan(traces: Mapping[str, Trace], limit_ns: float | None) -> str:
    """The source in ``traces`` (source -> simulated trace, in preference order) with the
    lowest :func:`plan_score` (ties: the earlier one)."""
    order = list(traces)
    return min(order, key=lambda s: (plan_score(hardware_metrics(traces[s]), limit_ns),
                                     order.index(s)))


def decompose(point_dir: Path, *, spec_b: SubnetSpec, spec_c: SubnetSpec, plan_c: PimPlan,
              schema: Any, profile: Profile, batch: int, seed: int,
              history: pd.DataFrame | None, limit_ns: float | None = None) -> dict[str, Any]:
    """Simulate every row of :data:`ROWS` at ``batch``; write each trace into
    ``point_dir/traces/`` and return ``{row: hardware metrics, flops, on_pim, knobs,
    plan_source, plan}`` (what ``hardware.json`` holds; with ``limit_ns``, each row's
    ``within_limit``)."""
    tdir = point_dir / "traces"
    tdir.mkdir(parents=True, exist_ok=True)
    cache: dict[tuple[Any, ...], Any] = {}
    naive_b = naive_plan(spec_b, schema, profile)
    cost = cached_kernel_cost(cache, seed)
    found = cosearch_plan_for(history, spec_b)
    cands_b = plan_candidates(spec_b, schema, profile, batch, naive_b, cost,
                              {"naive": naive_b, "host": host_plan(spec_b, schema),
                               **({"co-search": found} if found is not None else {})})

    def sim(spec: SubnetSpec, plan: PimPlan) -> Trace:
        same_knobs = plan.knobs == naive_b.knobs
        return simulate_subnet(spec, schema, plan, profile, batch=batch, seed=seed,
                               cache=cache if same_knobs else None)

    traces: dict[str, tuple[Trace, SubnetSpec | None, PimPlan, str]] = {}
    sims_b = {source: sim(spec_b, plan) for source, plan in cands_b.items()}
    traces["B"] = (sims_b["naive"], spec_b, naive_b, "naive")
    traces["B_host"] = (sims_b["host"], spec_b, cands_b["host"], "host")
    source = best_plan(sims_b, limit_ns)
    traces["B+plan"] = (sims_b[source], spec_b, cands_b[source], source)
    naive_c = naive_plan(spec_c, schema, profile)
    cands_c = plan_candidates(spec_c, schema, profile, batch, naive_c, cost,
                              {"co-search": plan_c})
    sims_c = {s: sims_b[s] if spec_c == spec_b and s in sims_b and cands_b[s] == p
              else sim(spec_c, p) for s, p in cands_c.items()}
    traces["C-arch"] = (sims_c["naive"], spec_c, naive_c, "naive")
    source = best_plan(sims_c, limit_ns)
    traces["C"] = (sims_c[source], spec_c, cands_c[source], source)
    wl = dlrm_workload(schema, profile, naive_b, batch)
    traces["DLRM"] = (simulate(wl, apply_knobs(profile, naive_b), seed=seed), None, naive_b,
                      "naive")
    hw: dict[str, Any] = {}
    for tag in ROWS:
        trace, spec, plan, source = traces[tag]
        trace.to_parquet(tdir / f"{tag}.parquet")
        if tag in CHROME_ROWS:
            trace.to_chrome_json(tdir / f"{tag}.chrome.json")
        m: dict[str, Any] = dict(hardware_metrics(trace))
        if spec is not None:
            m["flops"] = float(count_flops(spec, schema).total_flops)
            m["on_pim"] = plan.on_pim()
            m["plan"] = plan.to_dict()
        else:  # the workload's own count: 2 per multiply-add, per sample
            m["flops"] = float(trace.totals()["flops"]) / batch
            m["on_pim"] = sorted(k.name for k in wl.kernels if k.placement == "pim")
        m["knobs"] = dict(plan.knobs)
        m["plan_source"] = source
        if limit_ns is not None:
            m["within_limit"] = bool(m["latency_ns"] <= limit_ns)
        hw[tag] = m
    return hw


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def decomposition_table(hw: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per :data:`ROWS` entry: MFLOPs/sample, energy (uJ) and latency (us) of one
    batch, their ratios to B (``<metric>_vs_B``: B / row, larger = better than B), PIM
    kernels and where the plan came from."""
    rows = []
    b = hw["B"]
    for tag in ROWS:
        h = hw[tag]
        row: dict[str, Any] = {"model": tag, "mflops": h["flops"] / 1e6,
                               "energy_uj": h["energy_pj"] / 1e6,
                               "latency_us": h["latency_ns"] / 1e3,
                               "pim_kernels": len(h["on_pim"]), "plan": h["plan_source"]}
        for metric, key in (("flops", "flops"), ("energy", "energy_pj"),
                            ("latency", "latency_ns")):
            row[f"{metric}_vs_B"] = _ratio(float(b[key]), float(h[key]))
        rows.append(row)
    return pd.DataFrame(rows)


def shares_table(dec: pd.DataFrame) -> pd.DataFrame:
    """Per metric: hardware share (B / B+plan), architecture share (B / C-arch), their
    product, total (B / C) and joint = total / product."""
    by = dec.set_index("model")
    out = []
    for metric, col in METRICS:
        hw_share = _ratio(by.loc["B", col], by.loc["B+plan", col])
        arch = _ratio(by.loc["B", col], by.loc["C-arch", col])
        total = _ratio(by.loc["B", col], by.loc["C", col])
        out.append({"metric": metric, "hardware": hw_share, "architecture": arch,
                    "hardware_x_architecture": hw_share * arch, "total_B_over_C": total,
                    "joint": _ratio(total, hw_share * arch)})
    return pd.DataFrame(out)
