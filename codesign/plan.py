"""PimPlan: where each kernel of a subnet runs, and the PIM configuration knobs.

A plan has three parts:

- ``tables``: per embedding table (sparse field name) ``placement`` host | pim and
  ``replicate_hot`` (replicate the ``hot_rows`` most frequent rows over the PIM units, which
  balances skewed lookups on ``buffer_nmp`` / ``dpu``);
- ``dense``: per dense kernel, by its stable name from :mod:`codesign.mapping`
  (``b3.fc.linear``, ``final.logit``, ...), host | pim; kernels not named run on the host;
- ``knobs``: values of the PIM knobs that the profile's ``pim.searchable`` declares
  (``units_per_channel``, ``channels_used``, ``dtype``), each one of the listed values.

:func:`validate_plan` checks a plan against a subnet, a data set and a profile and raises
:class:`~codesign.errors.SpecError` naming the field (``plan.dense["b2.attention.scores"]``,
``plan.knobs.units_per_channel``, ...), the value and what is accepted: a kernel on a PIM
kind that cannot run it (an op the kind lacks, an elementwise function it lacks, an
activation-by-activation product), a knob outside its range.

:func:`naive_plan` is the profile's default: every table on PIM where the kind can pool,
every dense kernel on the host, the knobs at the profile's own values.
:func:`sample_plan` / :func:`mutate_plan` draw from a numpy Generator only.
:func:`apply_knobs` returns a copy of the profile with the plan's knobs set.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codesign.errors import SpecError
from codesign.mapping import MappedKernel, SubnetGraph, subnet_graph
from codesign.space import SubnetSpec
from pimsim.fileio import atomic_write_json

__all__ = [
    "PLAN_FORMAT",
    "DEFAULT_HOT_ROWS",
    "TablePlan",
    "PimPlan",
    "PlanGenes",
    "plan_genes",
    "profile_pim",
    "has_pim",
    "table_capable",
    "kernel_capable",
    "knob_options",
    "validate_plan",
    "naive_plan",
    "host_plan",
    "sample_plan",
    "mutate_plan",
    "reconcile_plan",
    "apply_knobs",
    "load_plan",
    "save_plan",
]

PLAN_FORMAT = "pimrec-plan/1"
#: Rows replicated per table when ``replicate_hot`` is on. A plan parameter (not hardware):
#: with Zipf(1.05) lookups the top 512 rows of a table draw a large share of the accesses.
DEFAULT_HOT_ROWS = 512

Placement = Literal["host", "pim"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TablePlan(_Frozen):
    placement: Placement = "host"
    replicate_hot: bool = False


class PimPlan(_Frozen):
    """Placement of every kernel and the PIM knobs (see the module docstring)."""

    format: Literal["pimrec-plan/1"] = PLAN_FORMAT
    tables: dict[str, TablePlan] = Field(default_factory=dict)
    dense: dict[str, Placement] = Field(default_factory=dict)
    knobs: dict[str, Any] = Field(default_factory=dict)
    hot_rows: int = Field(default=DEFAULT_HOT_ROWS, ge=0)

    # --- queries ---------------------------------------------------------------------
    def table_placement(self, field: str) -> str:
        t = self.tables.get(field)
        return t.placement if t is not None else "host"

    def dense_placement(self, name: str) -> str:
        return self.dense.get(name, "host")

    def replicated_tables(self) -> list[str]:
        return sorted(f for f, t in self.tables.items() if t.placement == "pim" and t.replicate_hot)

    def on_pim(self) -> list[str]:
        """Names of the kernels placed on PIM (``emb.<field>`` for tables)."""
        out = [f"emb.{f}" for f, t in sorted(self.tables.items()) if t.placement == "pim"]
        return out + sorted(n for n, p in self.dense.items() if p == "pim")

    def pim_dtype(self, profile: Any = None) -> str:
        if "dtype" in self.knobs:
            return str(self.knobs["dtype"])
        if not self.on_pim():
            return "fp32"
        if profile is None:
            raise SpecError(
                "plan.knobs.dtype: missing and no profile given; accepted: a plan with a "
                "dtype knob, or pass the profile whose pim.dtype applies"
            )
        return profile_pim(profile, "plan").dtype

    def check_against(self, graph: SubnetGraph, profile: Any = None) -> None:
        """Raise SpecError unless the plan fits ``graph`` (and ``profile`` when given)."""
        _check(self, graph, profile)

    # --- identity and I/O -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = self.model_dump(mode="json")
        d["tables"] = {k: d["tables"][k] for k in sorted(d["tables"])}
        d["dense"] = {k: d["dense"][k] for k in sorted(d["dense"])}
        d["knobs"] = {k: d["knobs"][k] for k in sorted(d["knobs"])}
        return d

    def canonical_json(self) -> str:
        """Canonical text: host entries dropped (they are the default), keys sorted."""
        d = self.to_dict()
        d["tables"] = {k: v for k, v in d["tables"].items()
                       if v["placement"] == "pim" or v["replicate_hot"]}
        d["dense"] = {k: v for k, v in d["dense"].items() if v == "pim"}
        return json.dumps(d, sort_keys=True, separators=(",", ":"))

    def key(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    @classmethod
    def from_dict(cls, data: Any, where: str = "plan") -> PimPlan:
        if not isinstance(data, Mapping):
            raise SpecError(f"{where}: expected an object, got {type(data).__name__}")
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise SpecError(
                f"{where}.{loc}: {err['msg']} (value: {err.get('input')!r})"
            ) from None


# --------------------------------------------------------------------------- profile access


def profile_pim(profile: Any, where: str) -> Any:
    from pimsim.errors import PimsimError
    from pimsim.pim import pim_section

    try:
        return pim_section(profile)
    except PimsimError as exc:
        raise SpecError(f"{where}: {exc}") from None


def has_pim(profile: Any) -> bool:
    return getattr(profile, "pim", None) is not None


def table_capable(profile: Any, dtype: str) -> str | None:
    """Why tables cannot go on the profile's PIM (None: they can)."""
    if not has_pim(profile):
        return f"profile {getattr(profile, 'name', '?')!r} has no PIM units"
    pim = profile_pim(profile, "plan")
    if "embedding_bag" not in pim.supported_ops:
        return f"PIM kind {pim.kind!r} cannot pool embeddings (runs {list(pim.supported_ops)})"
    if dtype not in pim.dtypes:
        return f"PIM kind {pim.kind!r} has no {dtype!r} (accepted: {list(pim.dtypes)})"
    return None


def kernel_capable(profile: Any, mk: MappedKernel, dtype: str) -> str | None:
    """Why the dense kernel ``mk`` cannot run on the profile's PIM (None: it can)."""
    from pimsim.pim import ELEMENTWISE_FNS

    if not has_pim(profile):
        return f"profile {getattr(profile, 'name', '?')!r} has no PIM units"
    pim = profile_pim(profile, "plan")
    if not mk.pim_capable_ops:
        what = ("an activation-by-activation product" if mk.kind == "gemm"
                else f"a {mk.kind} kernel")
        return f"{mk.name!r} is {what}, which no PIM kind runs"
    op = mk.pim_capable_ops[0]
    if op not in pim.supported_ops:
        return f"PIM kind {pim.kind!r} cannot run {op} (runs {list(pim.supported_ops)})"
    if mk.kind == "elementwise" and mk.fn not in ELEMENTWISE_FNS.get(pim.kind, ()):
        return (f"PIM kind {pim.kind!r} has no elementwise {mk.fn!r} (accepted: "
                f"{sorted(ELEMENTWISE_FNS.get(pim.kind, ()))})")
    if dtype not in pim.dtypes:
        return f"PIM kind {pim.kind!r} has no {dtype!r} (accepted: {list(pim.dtypes)})"
    return None


def knob_options(profile: Any) -> dict[str, list[Any]]:
    """Searchable knobs of the profile and their values (channels_used capped by dram)."""
    if not has_pim(profile):
        return {}
    pim = profile_pim(profile, "plan")
    out: dict[str, list[Any]] = {}
    for knob in sorted(pim.searchable):
        values = list(pim.searchable[knob])
        if knob == "channels_used":
            values = [v for v in values if v <= profile.dram.channels]
        if values:
            out[knob] = values
    return out


def _check(plan: PimPlan, graph: SubnetGraph, profile: Any) -> None:
    for field in plan.tables:
        if field not in graph.tables:
            raise SpecError(
                f"plan.tables.{field}: unknown table; accepted: {', '.join(graph.tables)}"
            )
    names = graph.by_name()
    for name in plan.dense:
        if name not in names:
            raise SpecError(
                f"plan.dense[{name!r}]: no such kernel in this subnet; accepted: "
                f"{', '.join(sorted(names))}"
            )
    if profile is None:  # names only; capabilities need the profile
        return
    options = knob_options(profile)
    for knob, value in plan.knobs.items():
        if knob not in options:
            raise SpecError(
                f"plan.knobs.{knob}: not a searchable knob of profile "
                f"{getattr(profile, 'name', '?')!r}; accepted: {sorted(options) or 'none'}"
            )
        if value not in options[knob]:
            raise SpecError(
                f"plan.knobs.{knob}: {value!r} out of range; accepted: {options[knob]}"
            )
    dtype = plan.pim_dtype(profile) if has_pim(profile) else "fp32"
    for field, t in plan.tables.items():
        if t.placement == "pim":
            why = table_capable(profile, dtype)
            if why is not None:
                raise SpecError(f"plan.tables.{field}.placement: 'pim' rejected: {why}; "
                                "accepted: host")
    for name, placement in plan.dense.items():
        if placement == "pim":
            why = kernel_capable(profile, names[name], dtype)
            if why is not None:
                raise SpecError(f"plan.dense[{name!r}]: 'pim' rejected: {why}; accepted: host")


def validate_plan(plan: PimPlan, spec: SubnetSpec, schema: Any, profile: Any) -> PimPlan:
    """Raise SpecError naming the field unless ``plan`` fits the subnet, data set and
    profile; returns the plan."""
    _check(plan, subnet_graph(spec, schema), profile)
    return plan


# --------------------------------------------------------------------------- construction


def _current_knobs(profile: Any) -> dict[str, Any]:
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


def naive_plan(spec: SubnetSpec, schema: Any, profile: Any) -> PimPlan:
    """Every table on PIM where the kind can pool, every dense kernel on the host, the knobs
    at the profile's values."""
    graph = subnet_graph(spec, schema)
    knobs = _current_knobs(profile)
    dtype = knobs.get("dtype") or (profile_pim(profile, "plan").dtype if has_pim(profile) else "fp32")
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


def plan_genes(spec: SubnetSpec, schema: Any, profile: Any,
               graph: SubnetGraph | None = None) -> PlanGenes:
    graph = graph or subnet_graph(spec, schema)
    knobs = knob_options(profile)
    dtypes = knobs.get("dtype") or [profile_pim(profile, "plan").dtype if has_pim(profile) else "fp32"]
    # a dtype knob changes what may run; a gene is open when some dtype allows it, and
    # reconcile_plan() moves kernels back to the host when the chosen dtype does not.
    tables = tuple(f for f in graph.tables
                   if any(table_capable(profile, d) is None for d in dtypes)) \
        if graph.uses_embeddings else ()
    dense = tuple(k.name for k in graph.kernels
                  if any(kernel_capable(profile, k, d) is None for d in dtypes))
    return PlanGenes(tables=tables, dense=dense, knobs=knobs, all_tables=graph.tables,
                     all_dense=tuple(k.name for k in graph.kernels))


def reconcile_plan(plan: PimPlan, spec: SubnetSpec, schema: Any, profile: Any) -> PimPlan:
    """``plan`` made valid for ``spec``: kernels the subnet no longer has are dropped, new
    ones run on the host, placements the chosen dtype cannot run move to the host."""
    graph = subnet_graph(spec, schema)
    names = graph.by_name()
    knobs = {k: v for k, v in plan.knobs.items() if v in knob_options(profile).get(k, [])}
    dtype = knobs.get("dtype") or (profile_pim(profile, "plan").dtype if has_pim(profile) else "fp32")
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


def sample_plan(spec: SubnetSpec, schema: Any, profile: Any, rng: np.random.Generator,
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


def mutate_plan(plan: PimPlan, spec: SubnetSpec, schema: Any, profile: Any,
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


# --------------------------------------------------------------------------- profile knobs


def apply_knobs(profile: Any, plan: PimPlan) -> Any:
    """A copy of ``profile`` with the plan's knobs set on its PIM section (validated)."""
    if not plan.knobs:
        return profile
    if not has_pim(profile):
        raise SpecError(
            f"plan.knobs: {sorted(plan.knobs)} given but profile "
            f"{getattr(profile, 'name', '?')!r} has no pim section; accepted: no knobs"
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


# --------------------------------------------------------------------------- files


def load_plan(path: str | os.PathLike[str]) -> PimPlan:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{p}: cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{p}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    return PimPlan.from_dict(data, where=f"{p}: plan")


def save_plan(plan: PimPlan, path: str | os.PathLike[str]) -> Path:
    return atomic_write_json(path, plan.to_dict(), indent=1)
