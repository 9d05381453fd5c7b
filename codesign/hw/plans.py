"""Operations on PimPlans: the naive, host, sampled and mutated plans of a subnet, the
reconciliation of a plan with a changed subnet, and the profile with a plan's knobs.

:func:`naive_plan` is the profile's default: every table on PIM where the kind can pool,
every dense kernel on the host, the knobs at the profile's own values.
:func:`sample_plan` / :func:`mutate_plan` draw from a numpy Generator only.
:func:`apply_knobs` returns a copy of the profile with the plan's knobs set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from pimsim import Profile

from codesign.errors import SpecError
from codesign.hw.capability import (
    default_dtype,
    has_pim,
    kernel_capable,
    knob_options,
    profile_pim,
    table_capable,
)
from codesign.hw.placement import Placement, PimPlan, TablePlan
from codesign.hw.mapping import SubnetGraph, subnet_graph
from codesign.nas.space import SubnetSpec

__all__ = [
    "PlanGenes",
    "apply_knobs",
    "host_plan",
    "mutate_plan",
    "naive_plan",
    "plan_genes",
    "reconcile_plan",
    "sample_plan",
    "validate_plan",
]


def validate_plan(plan: PimPlan, spec: SubnetSpec, schema: Any, profile: Profile) -> PimPlan:
    """Raise SpecError naming the field unless ``plan`` fits the subnet, data set and
    profile; returns the plan."""
    plan.check_against(subnet_graph(spec, schema), profile)
    return plan


def _current_knobs(profile: Profile) -> dict[str, Any]:
    """The profile's own values of its searchable knobs (where the range contains them)."""
    options = knob_options(profile)
    if not options:
        return {}
    pim = profile_pim(profile, "plan")
    current = {
        "units_per_channel": pim.units_per_channel,
        "channels_used": pim.channels_used or profile.dram.channels,
        "dtype": pim.dtype,
    }
    return {k: current[k] for k, v in options.items() if k in current and current[k] in v}


def naive_plan(spec: SubnetSpec, schema: Any, profile: Profile) -> PimPlan:
    """Every table on PIM where the kind can pool, every dense kernel on the host, the knobs
    at the profile's values."""
    graph = subnet_graph(spec, schema)
    knobs = _current_knobs(profile)
    dtype = knobs.get("dtype") or default_dtype(profile)
    table_pl = "pim" if table_capable(profile, dtype) is None else "host"
    return PimPlan(
        tables={f: TablePlan(placement=table_pl) for f in graph.tables},
        dense={k.name: "host" for k in graph.kernels},
        knobs=knobs,
    )


def host_plan(spec: SubnetSpec, schema: Any) -> PimPlan:
    """Everything on the host."""
    graph = subnet_graph(spec, schema)
    return PimPlan(tables={f: TablePlan() for f in graph.tables},
                   dense={k.name: "host" for k in graph.kernels})


@dataclass(frozen=True)
class PlanGenes:
    """What a plan may vary for one subnet on one profile."""

    tables: tuple[str, ...]  # tables that may go on PIM
    dense: tuple[str, ...]  # dense kernels that may go on PIM (for some knob value)
    knobs: dict[str, list[Any]]
    all_tables: tuple[str, ...]
    all_dense: tuple[str, ...]


def plan_genes(spec: SubnetSpec, schema: Any, profile: Profile,
               graph: SubnetGraph | None = None) -> PlanGenes:
    graph = graph or subnet_graph(spec, schema)
    knobs = knob_options(profile)
    dtypes = knobs.get("dtype") or [default_dtype(profile)]
    # a dtype knob changes what may run; a gene is open when some dtype allows it, and
    # reconcile_plan() moves kernels back to the host when the chosen dtype does not.
    tables = tuple(f for f in graph.tables
                   if any(table_capable(profile, d) is None for d in dtypes)) \
        if graph.uses_embeddings else ()
    dense = tuple(k.name for k in graph.kernels
                  if any(kernel_capable(profile, k, d) is None for d in dtypes))
    return PlanGenes(tables=tables, dense=dense, knobs=knobs, all_tables=graph.tables,
                     all_dense=tuple(k.name for k in graph.kernels))


def reconcile_plan(plan: PimPlan, spec: SubnetSpec, schema: Any, profile: Profile) -> PimPlan:
    """``plan`` made valid for ``spec``: kernels the subnet no longer has are dropped, new
    ones run on the host, placements the chosen dtype cannot run move to the host."""
    graph = subnet_graph(spec, schema)
    names = graph.by_name()
    knobs = {k: v for k, v in plan.knobs.items() if v in knob_options(profile).get(k, [])}
    dtype = knobs.get("dtype") or default_dtype(profile)
    tables = {}
    for f in graph.tables:
        t = plan.tables.get(f, TablePlan())
        if t.placement == "pim" and table_capable(profile, dtype) is not None:
            t = TablePlan(placement="host", replicate_hot=t.replicate_hot)
        tables[f] = t
    dense: dict[str, Placement] = {}
    for name, mk in names.items():
        p = plan.dense.get(name, "host")
        if p == "pim" and kernel_capable(profile, mk, dtype) is not None:
            p = "host"
        dense[name] = p
    return PimPlan(tables=tables, dense=dense, knobs=knobs, hot_rows=plan.hot_rows)


def sample_plan(spec: SubnetSpec, schema: Any, profile: Profile, rng: np.random.Generator,
                p_pim: float = 0.5) -> PimPlan:
    """A random valid plan: each open table / kernel on PIM with probability ``p_pim``,
    replication on with probability 1/2, knobs uniform over their values."""
    genes = plan_genes(spec, schema, profile)
    knobs = {k: v[int(rng.integers(len(v)))] for k, v in genes.knobs.items()}
    tables = {}
    for f in genes.all_tables:
        on = f in genes.tables and bool(rng.random() < p_pim)
        tables[f] = TablePlan(placement="pim" if on else "host",
                              replicate_hot=bool(rng.integers(2)) if on else False)
    dense = {n: ("pim" if n in genes.dense and rng.random() < p_pim else "host")
             for n in genes.all_dense}
    return reconcile_plan(PimPlan(tables=tables, dense=dense, knobs=knobs), spec, schema,
                          profile)


def mutate_plan(plan: PimPlan, spec: SubnetSpec, schema: Any, profile: Profile,
                rng: np.random.Generator, n_mutations: int = 1) -> PimPlan:
    """``plan`` (reconciled with ``spec``) with ``n_mutations`` single-gene changes: flip a
    table's placement or replication, flip a dense kernel's placement, or set a knob to
    another value. A plan with nothing to vary comes back unchanged."""
    if n_mutations < 0:
        raise SpecError(f"mutate_plan: n_mutations: {n_mutations}; accepted: >= 0")
    plan = reconcile_plan(plan, spec, schema, profile)
    genes = plan_genes(spec, schema, profile)
    choices: list[tuple[str, str]] = (
        [("table", f) for f in genes.tables]
        + [("replicate", f) for f in genes.tables]
        + [("dense", n) for n in genes.dense]
        + [("knob", k) for k, v in genes.knobs.items() if len(v) > 1]
    )
    if not choices:
        return plan
    tables = dict(plan.tables)
    dense = dict(plan.dense)
    knobs = dict(plan.knobs)
    for _ in range(n_mutations):
        what, name = choices[int(rng.integers(len(choices)))]
        if what == "table":
            t = tables[name]
            tables[name] = TablePlan(placement="host" if t.placement == "pim" else "pim",
                                     replicate_hot=t.replicate_hot)
        elif what == "replicate":
            t = tables[name]
            tables[name] = TablePlan(placement=t.placement, replicate_hot=not t.replicate_hot)
        elif what == "dense":
            dense[name] = "host" if dense.get(name) == "pim" else "pim"
        else:
            options = [v for v in genes.knobs[name] if v != knobs.get(name)]
            knobs[name] = options[int(rng.integers(len(options)))]
    out = PimPlan(tables=tables, dense=dense, knobs=knobs, hot_rows=plan.hot_rows)
    return reconcile_plan(out, spec, schema, profile)


def apply_knobs(profile: Profile, plan: PimPlan) -> Profile:
    """A copy of ``profile`` with the plan's knobs set on its PIM section (validated)."""
    if not plan.knobs:
        return profile
    if not has_pim(profile):
        raise SpecError(
            f"plan.knobs: {sorted(plan.knobs)} given but profile "
            f"{profile.name!r} has no pim section; accepted: no knobs"
        )
    options = knob_options(profile)
    for knob, value in plan.knobs.items():
        if knob not in options:
            raise SpecError(f"plan.knobs.{knob}: not searchable on profile "
                            f"{profile.name!r}; accepted: {sorted(options)}")
        if value not in options[knob]:
            raise SpecError(f"plan.knobs.{knob}: {value!r} out of range; accepted: "
                            f"{options[knob]}")
    pim = profile_pim(profile, "plan")
    try:
        new = pim.with_knobs(**plan.knobs)
    except (ValueError, ValidationError) as exc:
        raise SpecError(f"plan.knobs: {dict(plan.knobs)} rejected by the profile: {exc}") from None
    value = new if not isinstance(profile.pim, Mapping) else new.model_dump()
    return profile.model_copy(update={"pim": value})
