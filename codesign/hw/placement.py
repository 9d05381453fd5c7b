"""PimPlan: where each kernel of a subnet runs, the PIM configuration knobs and the precision
genes; its JSON form.

A plan has four parts:

- ``tables``: per embedding table (sparse field name) ``placement`` host | pim,
  ``replicate_hot`` (replicate the ``hot_rows`` most frequent rows over the PIM units, which
  balances skewed lookups on ``buffer_nmp`` / ``dpu``) and ``dtype``, the table's row
  precision (:data:`codesign.quant.TABLE_DTYPES`; absent: fp32 on the host, the plan's PIM
  data type on PIM);
- ``dense``: per dense kernel, by its stable name from :mod:`codesign.hw.mapping`
  (``b3.fc.linear``, ``final.logit``, ...), host | pim; kernels not named run on the host;
- ``precision``: per dense operator, by its operator key (the kernel names' prefix,
  ``b3.fc``, ``final``), the precision of its weights and activations
  (:data:`codesign.quant.DENSE_DTYPES`); every kernel of the operator runs at it, on the
  host or on PIM. An operator not listed runs its host kernels at fp32 and its PIM kernels
  at the plan's PIM data type;
- ``knobs``: values of the PIM knobs that the profile's ``pim.searchable`` declares
  (``units_per_channel``, ``channels_used``, ``dtype``, ...), each one of the listed values.
  The ``dtype`` knob is the PIM data type of kernels whose precision the plan leaves open.

:meth:`PimPlan.check_against` checks a plan against the kernels of a subnet and a profile
and raises :class:`~codesign.errors.SpecError` naming the field
(``plan.dense["b2.attention.scores"]``, ``plan.knobs.units_per_channel``,
``plan.precision["b3.fc"]``, ...), the value and what is accepted: a kernel on a PIM kind
that cannot run it (an op the kind lacks, an elementwise function it lacks, an
activation-by-activation product), a knob outside its range, a precision its target does
not run (:mod:`codesign.hw.capability` says what each target accepts).
:meth:`PimPlan.to_precision` is the accuracy side of the plan (a
:class:`codesign.quant.Precision`). The JSON leaves out absent precisions, so a plan without
them reads and writes (and hashes, :meth:`PimPlan.key`) exactly as a plan of the format
without precision genes. The operations on plans (naive, sampled, mutated, ...) are in
:mod:`codesign.hw.plans`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pimsim import Profile
from pimsim.util.fileio import atomic_write_json
from pimsim.util.validation import format_validation_error

from codesign.errors import SpecError, read_json_file
from codesign.hw.capability import (PimKernel, crossbar_quant, dense_dtypes, has_pim,
                                    kernel_capable, knob_options, profile_pim,
                                    profile_with_knobs, table_capable, table_dtypes)
from codesign.quant.precision import DENSE_DTYPES, TABLE_DTYPES, CrossbarQuant, Precision

__all__ = [
    "DEFAULT_HOT_ROWS",
    "PLAN_FORMAT",
    "KernelGraph",
    "Placement",
    "PimPlan",
    "TablePlan",
    "operator_key",
    "load_plan",
    "save_plan",
]

PLAN_FORMAT = "pimrec-plan/1"
#: Rows replicated per table when ``replicate_hot`` is on. A plan parameter (not hardware):
#: under the mapping's bounded Zipf(1.05) lookups (``pimsim.workload.zipf_rows``) the top 512
#: rows draw (513^-0.05 - 1) / ((rows + 1)^-0.05 - 1) of a table's accesses: 48 % on
#: Criteo's largest table (10.1 M rows), 70 % on the median of its 17 tables over 512 rows.
DEFAULT_HOT_ROWS = 512

Placement = Literal["host", "pim"]
TableDType = Literal[TABLE_DTYPES]  # type: ignore[valid-type]
DenseDType = Literal[DENSE_DTYPES]  # type: ignore[valid-type]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TablePlan(_Frozen):
    placement: Placement = "host"
    replicate_hot: bool = False
    dtype: TableDType | None = None


def operator_key(kernel_name: str) -> str:
    """The operator key of a dense kernel: its name without the last part
    (``b3.fc.linear`` -> ``b3.fc``, ``final.logit`` -> ``final``)."""
    return kernel_name.rsplit(".", 1)[0]


class PimPlan(_Frozen):
    """Placement of every kernel and the PIM knobs (see the module docstring)."""

    format: Literal["pimrec-plan/1"] = PLAN_FORMAT
    tables: dict[str, TablePlan] = Field(default_factory=dict)
    dense: dict[str, Placement] = Field(default_factory=dict)
    precision: dict[str, DenseDType] = Field(default_factory=dict)
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

    def pim_dtype(self, profile: Profile | None = None) -> str:
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

    def table_dtype(self, field: str, profile: Profile | None = None) -> str:
        """The precision the table ``field`` runs at (see the module docstring)."""
        t = self.tables.get(field)
        if t is not None and t.dtype is not None:
            return t.dtype
        return self.pim_dtype(profile) if self.table_placement(field) == "pim" else "fp32"

    def kernel_dtype(self, kernel: PimKernel, profile: Profile | None = None) -> str:
        """The precision the dense kernel runs at: its operator's, else fp32 on the host
        and the plan's PIM data type on PIM."""
        if kernel.op_key in self.precision:
            return str(self.precision[kernel.op_key])
        return self.pim_dtype(profile) if self.dense_placement(kernel.name) == "pim" else "fp32"

    def check_against(self, graph: KernelGraph, profile: Profile | None = None) -> None:
        """Raise SpecError unless the plan fits ``graph`` (and ``profile`` when given)."""
        _check(self, graph, profile)

    def to_precision(self, profile: Profile, graph: KernelGraph | None = None) -> Precision:
        """The accuracy side of the plan on ``profile``: every table's and operator's
        precision as its kernels run (absent ones resolved as :meth:`table_dtype` and
        :meth:`kernel_dtype` do), and for operators with a kernel on a crossbar PIM the
        crossbar arithmetic of the knob-applied profile. With ``graph`` the operators are
        the subnet's and a crossbar entry needs a weighted product on PIM; without it the
        operators are those the plan names and any kernel on PIM counts."""
        if graph is not None:
            self.check_against(graph, profile)
            kernels: list[PimKernel] = list(graph.by_name().values())
        else:
            kernels = [_NamedKernel(n) for n in sorted(self.dense)]
        tables = {f: self.table_dtype(f, profile) for f in
                  (graph.tables if graph is not None else sorted(self.tables))}
        ops: dict[str, str] = {k: str(v) for k, v in self.precision.items()}
        for mk in kernels:
            if mk.op_key not in ops and self.dense_placement(mk.name) == "pim":
                ops[mk.op_key] = self.pim_dtype(profile)
        _representable("plan.tables", tables, TABLE_DTYPES)
        _representable("plan.precision", ops, DENSE_DTYPES)
        xbar: dict[str, CrossbarQuant] = {}
        if has_pim(profile):
            quant = crossbar_quant(profile_pim(profile_with_knobs(profile, self.knobs), "plan"))
            if quant is not None:
                for mk in kernels:
                    on_arrays = mk.kind == "gemm" and bool(mk.pim_capable_ops)
                    if self.dense_placement(mk.name) == "pim" and (graph is None or on_arrays):
                        xbar[mk.op_key] = quant
        return Precision(tables=tables, ops=ops, crossbar=xbar)

    # --- identity and I/O -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The plan's JSON form: keys sorted; absent precisions (a table's ``dtype``, an
        empty ``precision``) left out."""
        d = self.model_dump(mode="json")
        d["tables"] = {k: _without_none(d["tables"][k]) for k in sorted(d["tables"])}
        d["dense"] = {k: d["dense"][k] for k in sorted(d["dense"])}
        d["knobs"] = {k: d["knobs"][k] for k in sorted(d["knobs"])}
        if d["precision"]:
            d["precision"] = {k: d["precision"][k] for k in sorted(d["precision"])}
        else:
            del d["precision"]
        return d

    def canonical_json(self) -> str:
        """Canonical text: host entries dropped (they are the default), keys sorted."""
        d = self.to_dict()
        d["tables"] = {k: v for k, v in d["tables"].items()
                       if v["placement"] == "pim" or v["replicate_hot"] or "dtype" in v}
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
            raise SpecError(format_validation_error(exc, data, {}, where, cls)) from None


def _without_none(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if v is not None}


def _representable(where: str, entries: Mapping[str, str], accepted: tuple[str, ...]) -> None:
    for name, dtype in entries.items():
        if dtype not in accepted:
            raise SpecError(
                f"{where}[{name!r}]: left open, so it runs at the PIM data type {dtype!r}, "
                f"which has no accuracy model; accepted: an explicit precision, one of "
                f"{', '.join(accepted)}")


class _NamedKernel:
    """A dense kernel known by its name alone (:meth:`PimPlan.to_precision` without a
    graph)."""

    kind = "gemm"
    fn = None
    pim_capable_ops = ("gemm",)

    def __init__(self, name: str) -> None:
        self.name = name
        self.op_key = operator_key(name)


class KernelGraph(Protocol):
    """What a plan is checked against: the tables and dense kernels of a subnet (a
    :class:`codesign.hw.mapping.SubnetGraph`)."""

    @property
    def tables(self) -> tuple[str, ...]: ...

    def by_name(self) -> Mapping[str, PimKernel]: ...


def _check(plan: PimPlan, graph: KernelGraph, profile: Profile | None) -> None:
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
    ops: dict[str, list[PimKernel]] = {}
    for mk in names.values():
        ops.setdefault(mk.op_key, []).append(mk)
    for key in plan.precision:
        if key not in ops:
            raise SpecError(f"plan.precision[{key!r}]: no such operator in this subnet; "
                            f"accepted: {', '.join(sorted(ops))}")
    if profile is None:  # names only; capabilities need the profile
        return
    options = knob_options(profile)
    for knob, value in plan.knobs.items():
        if knob not in options:
            raise SpecError(
                f"plan.knobs.{knob}: not a searchable knob of profile "
                f"{profile.name!r}; accepted: {sorted(options) or 'none'}"
            )
        if value not in options[knob]:
            raise SpecError(
                f"plan.knobs.{knob}: {value!r} out of range; accepted: {options[knob]}"
            )
    default = plan.pim_dtype(profile) if has_pim(profile) else "fp32"
    for field, t in plan.tables.items():
        if t.placement == "pim":
            why = table_capable(profile, None if t.dtype else default)
            if why is not None:
                raise SpecError(f"plan.tables.{field}.placement: 'pim' rejected: {why}; "
                                "accepted: host")
            accepted = table_dtypes(profile, "pim")
            if t.dtype is not None and t.dtype not in accepted:
                raise SpecError(f"plan.tables.{field}.dtype: {t.dtype!r} rejected: the table "
                                f"is on PIM, which pools {', '.join(accepted)}; accepted: "
                                f"{', '.join(accepted)}")
    for name, placement in plan.dense.items():
        if placement == "pim":
            mk = names[name]
            explicit = mk.op_key in plan.precision
            why = kernel_capable(profile, mk, None if explicit else default)
            if why is not None:
                raise SpecError(f"plan.dense[{name!r}]: 'pim' rejected: {why}; accepted: host")
    for key, dtype in plan.precision.items():
        for mk in ops[key]:
            placement = plan.dense_placement(mk.name)
            accepted = dense_dtypes(profile, placement, mk)
            if dtype not in accepted:
                raise SpecError(
                    f"plan.precision[{key!r}]: {dtype!r} rejected: its kernel {mk.name!r} "
                    f"runs on the {'PIM' if placement == 'pim' else 'host'} of profile "
                    f"{profile.name!r}, which computes {', '.join(accepted)}; accepted: "
                    f"{', '.join(accepted)}")


# --------------------------------------------------------------------------- files


def load_plan(path: str | os.PathLike[str]) -> PimPlan:
    """The plan in the JSON file ``path`` (as :func:`save_plan` writes it)."""
    p = Path(path)
    data = read_json_file(p, SpecError, "a PIM plan JSON file")
    return PimPlan.from_dict(data, where=f"{p}: plan")


def save_plan(plan: PimPlan, path: str | os.PathLike[str]) -> Path:
    """Write ``plan`` as JSON to ``path`` atomically; returns the path."""
    return atomic_write_json(path, plan.to_dict(), indent=1, allow_nan=False)
