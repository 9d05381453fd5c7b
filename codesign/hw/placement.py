"""PimPlan: where each kernel of a subnet runs, and the PIM configuration knobs; its JSON form.

A plan has three parts:

- ``tables``: per embedding table (sparse field name) ``placement`` host | pim and
  ``replicate_hot`` (replicate the ``hot_rows`` most frequent rows over the PIM units, which
  balances skewed lookups on ``buffer_nmp`` / ``dpu``);
- ``dense``: per dense kernel, by its stable name from :mod:`codesign.hw.mapping`
  (``b3.fc.linear``, ``final.logit``, ...), host | pim; kernels not named run on the host;
- ``knobs``: values of the PIM knobs that the profile's ``pim.searchable`` declares
  (``units_per_channel``, ``channels_used``, ``dtype``), each one of the listed values.

:meth:`PimPlan.check_against` checks a plan against the kernels of a subnet and a profile
and raises :class:`~codesign.errors.SpecError` naming the field
(``plan.dense["b2.attention.scores"]``, ``plan.knobs.units_per_channel``, ...), the value
and what is accepted: a kernel on a PIM kind that cannot run it (an op the kind lacks, an
elementwise function it lacks, an activation-by-activation product), a knob outside its
range. The operations on plans (naive, sampled, mutated, ...) are in :mod:`codesign.hw.plans`.
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
from codesign.hw.capability import (PimKernel, has_pim, kernel_capable, knob_options,
                                    profile_pim, table_capable)

__all__ = [
    "DEFAULT_HOT_ROWS",
    "PLAN_FORMAT",
    "KernelGraph",
    "Placement",
    "PimPlan",
    "TablePlan",
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

    def check_against(self, graph: KernelGraph, profile: Profile | None = None) -> None:
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
            raise SpecError(format_validation_error(exc, data, {}, where, cls)) from None


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


# --------------------------------------------------------------------------- files


def load_plan(path: str | os.PathLike[str]) -> PimPlan:
    """The plan in the JSON file ``path`` (as :func:`save_plan` writes it)."""
    p = Path(path)
    data = read_json_file(p, SpecError, "a PIM plan JSON file")
    return PimPlan.from_dict(data, where=f"{p}: plan")


def save_plan(plan: PimPlan, path: str | os.PathLike[str]) -> Path:
    """Write ``plan`` as JSON to ``path`` atomically; returns the path."""
    return atomic_write_json(path, plan.to_dict(), indent=1, allow_nan=False)
