"""Operations on PimPlans: the naive, host, sampled and mutated plans of a subnet, the
reconciliation of a plan with a changed subnet, and the profile with a plan's knobs.

:func:`naive_plan` is the profile's default: every table on PIM where the kind can pool,
every dense kernel on the host, the knobs at the profile's own values.
:func:`sample_plan` / :func:`mutate_plan` draw from a numpy Generator only.
:func:`apply_knobs` returns a copy of the profile with the plan's knobs set.

Precision genes (``precision_genes=True``): the plan also carries the precision of every
table and dense operator the subnet runs, each drawn from what its target accepts
(:mod:`codesign.hw.precision_genes`); the ``dtype`` knob stays at the profile's value,
since no kernel is left at the PIM's default type. Off, plans carry no precision and the
draws are those of plans without precision genes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pimsim import Profile, capacity_refusals

from codesign.errors import SpecError
from codesign.hw.capability import (
    default_dtype,
    dense_dtypes,
    has_pim,
    kernel_capable,
    knob_options,
    knob_value,
    profile_with_knobs,
    table_capable,
    table_dtypes,
)
from codesign.hw.placement import Placement, PimPlan, TablePlan
from codesign.hw.mapping import SubnetGraph, map_subnet, subnet_graph
from codesign.hw.precision_genes import (
    FLIP,
    draw_precision,
    op_dtypes,
    op_kernels,
    other_values,
    placement_options,
    settle_op,
    settle_table,
    table_options,
)
from codesign.nas.space import SubnetSpec

__all__ = [
    "PlanGenes",
    "apply_knobs",
    "fit_capacity",
    "host_plan",
    "mutate_plan",
    "naive_plan",
    "plan_genes",
    "reconcile_plan",
    "sample_plan",
    "searchable_knobs",
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
    current = {k: knob_value(profile, k) for k in options}
    return {k: v for k, v in current.items() if v in options[k]}


def naive_plan(spec: SubnetSpec, schema: Any, profile: Profile,
               precision_genes: bool = False) -> PimPlan:
    """Every table on PIM where the kind can pool, every dense kernel on the host, the knobs
    at the profile's values (with precision genes: each table and operator at the type it
    runs, :func:`reconcile_plan`)."""
    graph = subnet_graph(spec, schema)
    knobs = _current_knobs(profile)
    dtype = knobs.get("dtype") or default_dtype(profile)
    table_pl = "pim" if table_capable(profile, dtype) is None else "host"
    plan = PimPlan(
        tables={f: TablePlan(placement=table_pl) for f in graph.tables},
        dense={k.name: "host" for k in graph.kernels},
        knobs=knobs,
    )
    return reconcile_plan(plan, spec, schema, profile, True) if precision_genes else plan


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


def searchable_knobs(profile: Profile, precision_genes: bool = False) -> dict[str, list[Any]]:
    """The knobs a plan varies and their values: the profile's searchable ones, with
    precision genes the ``dtype`` knob held at the profile's value (every kernel carries
    its own type, so the PIM's default type would be an inert gene)."""
    knobs = knob_options(profile)
    if precision_genes and "dtype" in knobs:
        current = knob_value(profile, "dtype")
        knobs["dtype"] = [current] if current in knobs["dtype"] else knobs["dtype"][:1]
    return knobs


def plan_genes(spec: SubnetSpec, schema: Any, profile: Profile,
               graph: SubnetGraph | None = None, precision_genes: bool = False) -> PlanGenes:
    graph = graph or subnet_graph(spec, schema)
    knobs = searchable_knobs(profile, precision_genes)
    if precision_genes:
        tables = tuple(graph.tables) if graph.uses_embeddings and table_dtypes(
            profile, "pim") else ()
        dense = tuple(k.name for k in graph.kernels if dense_dtypes(profile, "pim", k))
    else:
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


def reconcile_plan(plan: PimPlan, spec: SubnetSpec, schema: Any, profile: Profile,
                   precision_genes: bool = False) -> PimPlan:
    """``plan`` made valid for ``spec``: kernels and operators the subnet no longer has are
    dropped, new ones run on the host, placements whose type the target cannot run move
    to the other target, and a precision no placement runs becomes the most accurate one
    that does (:func:`codesign.hw.precision_genes.settle_op`). With ``precision_genes``
    every table the subnet reads and every operator gets an explicit precision."""
    graph = subnet_graph(spec, schema)
    names = graph.by_name()
    knobs = {k: v for k, v in plan.knobs.items() if v in knob_options(profile).get(k, [])}
    dtype = knobs.get("dtype") or default_dtype(profile)
    fill_tables = precision_genes and graph.uses_embeddings
    tables = {}
    for f in graph.tables:
        t = plan.tables.get(f, TablePlan())
        placement, dt = settle_table(profile, t.placement, t.dtype, dtype, fill_tables)
        tables[f] = TablePlan(placement=placement, replicate_hot=t.replicate_hot, dtype=dt)
    dense: dict[str, Placement] = {}
    for name, mk in names.items():
        p = plan.dense.get(name, "host")
        given = mk.op_key in plan.precision
        if p == "pim" and kernel_capable(profile, mk, None if given else dtype) is not None:
            p = "host"
        dense[name] = p
    precision = {}
    for key, kernels in op_kernels(graph).items():
        placed, value = settle_op(profile, kernels, dense, plan.precision.get(key),
                                  precision_genes)
        dense.update(placed)  # type: ignore[arg-type]
        if value is not None:
            precision[key] = value
    return fit_capacity(PimPlan(tables=tables, dense=dense, precision=precision, knobs=knobs,
                                hot_rows=plan.hot_rows), spec, schema, profile)


def fit_capacity(plan: PimPlan, spec: SubnetSpec, schema: Any, profile: Profile) -> PimPlan:
    """``plan`` with the dense kernels whose resident weights do not fit the PIM units' own
    storage (the crossbars of a ``crossbar`` kind, counted in schedule order with the
    plan's knobs: :func:`pimsim.capacity_refusals`) moved to the host; unchanged for kinds
    without such storage. A kernel moved keeps its operator's precision where the host
    runs it, else its operator takes the first type its placements run together."""
    if not has_pim(profile) or "pim" not in plan.dense.values():
        return plan
    prof = apply_knobs(profile, plan)
    wl = map_subnet(spec, schema, plan, batch=1, profile=prof)
    refused = capacity_refusals(prof, [wl.kernel(n) for n in wl.topological_order()])
    if not refused:
        return plan
    dense = {n: ("host" if n in refused else p) for n, p in plan.dense.items()}
    graph = subnet_graph(spec, schema)
    precision = dict(plan.precision)
    for key, kernels in op_kernels(graph).items():
        if any(k.name in refused for k in kernels):
            placed, value = settle_op(profile, kernels, dense, precision.get(key),
                                      bool(precision))
            placed.update({k.name: "host" for k in kernels if k.name in refused})
            if value is not None and value not in op_dtypes(profile, kernels, placed):
                # the host does not run the operator's type: the first type both run
                placed, value = settle_op(profile, kernels, placed, None, True)
            dense.update(placed)  # type: ignore[arg-type]
            if value is not None:
                precision[key] = value
    return plan.model_copy(update={"dense": dense, "precision": precision})


def sample_plan(spec: SubnetSpec, schema: Any, profile: Profile, rng: np.random.Generator,
                p_pim: float = 0.5, precision_genes: bool = False) -> PimPlan:
    """A random valid plan: each open table / kernel on PIM with probability ``p_pim``,
    replication on with probability 1/2, knobs uniform over their values. With
    ``precision_genes`` the precisions are drawn first
    (:func:`codesign.hw.precision_genes.draw_precision`) and a table or kernel goes on PIM
    only where PIM runs its precision (and must where the host does not)."""
    if precision_genes:
        return _sample_with_precision(spec, schema, profile, rng, p_pim)
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


def _sample_with_precision(spec: SubnetSpec, schema: Any, profile: Profile,
                           rng: np.random.Generator, p_pim: float) -> PimPlan:
    graph = subnet_graph(spec, schema)
    genes = plan_genes(spec, schema, profile, graph, precision_genes=True)
    knobs = {k: v[int(rng.integers(len(v)))] for k, v in genes.knobs.items()}
    table_dt, ops = draw_precision(graph, profile, rng)
    tables = {}
    for f in genes.all_tables:
        dt = table_dt.get(f)
        on = (f in genes.tables and dt is not None and "pim" in table_options(profile, dt)
              and bool(rng.random() < p_pim))
        tables[f] = TablePlan(placement="pim" if on else "host",
                              replicate_hot=bool(rng.integers(2)) if on else False, dtype=dt)
    dense: dict[str, Placement] = {}
    for mk in graph.kernels:
        where = placement_options(profile, mk, ops[mk.op_key])
        if len(where) == 1:
            dense[mk.name] = where[0]  # type: ignore[assignment]
        else:
            dense[mk.name] = "pim" if rng.random() < p_pim else "host"
    plan = PimPlan(tables=tables, dense=dense, precision=ops, knobs=knobs)
    return reconcile_plan(plan, spec, schema, profile, True)


def mutate_plan(plan: PimPlan, spec: SubnetSpec, schema: Any, profile: Profile,
                rng: np.random.Generator, n_mutations: int = 1,
                precision_genes: bool = False) -> PimPlan:
    """``plan`` (reconciled with ``spec``) with ``n_mutations`` single-gene changes: flip a
    table's placement or replication, flip a dense kernel's placement, or set a knob to
    another value; with ``precision_genes`` also set a table's or an operator's precision
    to another one its placement runs (a placement flips only where the other target runs
    the precision). A plan with nothing to vary comes back unchanged."""
    if n_mutations < 0:
        raise SpecError(f"mutate_plan: n_mutations: {n_mutations}; accepted: >= 0")
    if precision_genes:
        return _mutate_with_precision(plan, spec, schema, profile, rng, n_mutations)
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
            tables[name] = t.model_copy(update={"placement": FLIP[t.placement]})
        elif what == "replicate":
            t = tables[name]
            tables[name] = t.model_copy(update={"replicate_hot": not t.replicate_hot})
        elif what == "dense":
            dense[name] = "host" if dense.get(name) == "pim" else "pim"
        else:
            options = [v for v in genes.knobs[name] if v != knobs.get(name)]
            knobs[name] = options[int(rng.integers(len(options)))]
    out = PimPlan(tables=tables, dense=dense, knobs=knobs, hot_rows=plan.hot_rows)
    return reconcile_plan(out, spec, schema, profile)


def _mutate_with_precision(plan: PimPlan, spec: SubnetSpec, schema: Any, profile: Profile,
                           rng: np.random.Generator, n_mutations: int) -> PimPlan:
    plan = reconcile_plan(plan, spec, schema, profile, True)
    graph = subnet_graph(spec, schema)
    genes = plan_genes(spec, schema, profile, graph, precision_genes=True)
    names = graph.by_name()
    ops = op_kernels(graph)
    tables, dense = dict(plan.tables), dict(plan.dense)
    precision, knobs = dict(plan.precision), dict(plan.knobs)

    def moves() -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for f in genes.tables:
            t = tables[f]
            if FLIP[t.placement] in table_options(profile, t.dtype or "fp32"):
                out.append(("table", f))
            out.append(("replicate", f))
        for n in genes.dense:
            mk = names[n]
            if FLIP[dense[n]] in placement_options(profile, mk, precision[mk.op_key]):
                out.append(("dense", n))
        out += [("knob", k) for k, v in genes.knobs.items() if len(v) > 1]
        if graph.uses_embeddings:
            out += [("table_dtype", f) for f in graph.tables
                    if len(table_dtypes(profile, tables[f].placement)) > 1]
        out += [("precision", key) for key, kernels in ops.items()
                if len(op_dtypes(profile, kernels, dense)) > 1]
        return out

    for _ in range(n_mutations):
        choices = moves()
        if not choices:
            break
        what, name = choices[int(rng.integers(len(choices)))]
        if what in ("table", "replicate", "table_dtype"):
            t = tables[name]
            if what == "table":
                update: dict[str, Any] = {"placement": FLIP[t.placement]}
            elif what == "replicate":
                update = {"replicate_hot": not t.replicate_hot}
            else:
                values = other_values(table_dtypes(profile, t.placement), t.dtype)
                update = {"dtype": values[int(rng.integers(len(values)))]}
            tables[name] = t.model_copy(update=update)
        elif what == "dense":
            dense[name] = FLIP[dense[name]]  # type: ignore[assignment]
        elif what == "knob":
            values = other_values(genes.knobs[name], knobs.get(name))
            knobs[name] = values[int(rng.integers(len(values)))]
        else:
            values = other_values(op_dtypes(profile, ops[name], dense), precision[name])
            precision[name] = values[int(rng.integers(len(values)))]
    out = PimPlan(tables=tables, dense=dense, precision=precision, knobs=knobs,
                  hot_rows=plan.hot_rows)
    return reconcile_plan(out, spec, schema, profile, True)


def apply_knobs(profile: Profile, plan: PimPlan) -> Profile:
    """A copy of ``profile`` with the plan's knobs set on its PIM section, each the field
    of its name, validated by the section's model
    (:func:`codesign.hw.capability.profile_with_knobs`)."""
    return profile_with_knobs(profile, plan.knobs)
