"""What a profile's host and PIM units can hold and run, as the plans ask it.

Each question is one small function over pimsim's capability query
(:func:`pimsim.capabilities`) and the profile's host section, so that the plans, the
greedy placement and the co-search ask pimsim in one place and in codesign's terms
(tables, mapped kernels, plan errors). What a target accepts as a precision gene:

- host tables: every type of :data:`codesign.quant.TABLE_DTYPES` (int8 / int4 rows are
  row-wise quantised and the host dequantises them);
- host dense operators: :func:`host_dtypes` (within :data:`codesign.quant.DENSE_DTYPES`);
- PIM tables and operators: the data types the kind runs (``capabilities().dtypes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import ValidationError

from pimsim import (PimCapabilities, PimSection, PimsimError, Profile, capabilities,
                    pim_section)
from pimsim import host_dtypes as pimsim_host_dtypes

from codesign.errors import SpecError
from codesign.quant.precision import DENSE_DTYPES, TABLE_DTYPES, CrossbarQuant

__all__ = [
    "CROSSBAR_KIND",
    "PimKernel",
    "crossbar_quant",
    "default_dtype",
    "dense_dtypes",
    "has_pim",
    "host_dtypes",
    "kernel_capable",
    "knob_options",
    "knob_value",
    "profile_pim",
    "profile_with_knobs",
    "replicates_hot_rows",
    "table_capable",
    "table_dtypes",
]

#: The PIM kind of ReRAM crossbar arrays, whose operators carry crossbar arithmetic.
CROSSBAR_KIND = "crossbar"

class PimKernel(Protocol):
    """What a capability check reads of a dense kernel (a :class:`codesign.hw.mapping.MappedKernel`)."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def fn(self) -> str | None: ...

    @property
    def pim_capable_ops(self) -> tuple[str, ...]: ...

    @property
    def op_key(self) -> str: ...


def has_pim(profile: Profile) -> bool:
    return profile.pim is not None


def profile_pim(profile: Profile, where: str) -> PimSection:
    """The profile's PIM section; :class:`SpecError` prefixed by ``where`` if it has none."""
    try:
        return pim_section(profile)
    except PimsimError as exc:
        raise SpecError(f"{where}: {exc}") from None


def default_dtype(profile: Profile) -> str:
    """The data type of kernels on PIM when a plan sets none: the profile's PIM ``dtype``
    (fp32 on a profile without PIM)."""
    return profile_pim(profile, "plan").dtype if has_pim(profile) else "fp32"


def _capabilities(profile: Profile) -> PimCapabilities:
    try:
        return capabilities(profile)
    except PimsimError as exc:
        raise SpecError(f"plan: {exc}") from None


def table_capable(profile: Profile, dtype: str | None) -> str | None:
    """Why tables cannot go on the profile's PIM at ``dtype`` (None: they can; ``dtype``
    None: at some data type)."""
    if not has_pim(profile):
        return f"profile {profile.name!r} has no PIM units"
    caps = _capabilities(profile)
    if "embedding_bag" not in caps.ops:
        return f"PIM kind {caps.kind!r} cannot pool embeddings (runs {list(caps.ops)})"
    if dtype is not None and dtype not in caps.dtypes:
        return f"PIM kind {caps.kind!r} has no {dtype!r} (accepted: {list(caps.dtypes)})"
    return None


def kernel_capable(profile: Profile, mk: PimKernel, dtype: str | None) -> str | None:
    """Why the dense kernel ``mk`` cannot run on the profile's PIM at ``dtype`` (None: it
    can; ``dtype`` None: at some data type)."""
    if not has_pim(profile):
        return f"profile {profile.name!r} has no PIM units"
    caps = _capabilities(profile)
    if not mk.pim_capable_ops:
        what = ("an activation-by-activation product" if mk.kind == "gemm"
                else f"a {mk.kind} kernel")
        return f"{mk.name!r} is {what}, which no PIM kind runs"
    op = mk.pim_capable_ops[0]
    if op not in caps.ops:
        return f"PIM kind {caps.kind!r} cannot run {op} (runs {list(caps.ops)})"
    fns = caps.elementwise_fns
    if mk.kind == "elementwise" and mk.fn not in fns:
        return f"PIM kind {caps.kind!r} has no elementwise {mk.fn!r} (accepted: {sorted(fns)})"
    if dtype is not None and dtype not in caps.dtypes:
        return f"PIM kind {caps.kind!r} has no {dtype!r} (accepted: {list(caps.dtypes)})"
    return None


def replicates_hot_rows(profile: Profile) -> bool:
    """Whether the embedding cost on the profile's PIM depends on hot-row replication."""
    return has_pim(profile) and _capabilities(profile).replicates_hot_rows


def host_dtypes(profile: Profile) -> tuple[str, ...]:
    """The data types the profile's host computes (:func:`pimsim.host_dtypes`); a profile
    without a host section runs no host kernels, its host is taken as fp32 only."""
    if profile.host is None:
        return ("fp32",)
    return tuple(str(d) for d in pimsim_host_dtypes(profile))


def table_dtypes(profile: Profile, placement: str) -> tuple[str, ...]:
    """The precisions an embedding table may have when placed on ``placement``: on the
    host every table type; on PIM those the kind pools (empty where it cannot pool)."""
    if placement == "host":
        return TABLE_DTYPES
    if table_capable(profile, None) is not None:
        return ()
    caps = _capabilities(profile)
    return tuple(d for d in TABLE_DTYPES if d in caps.dtypes)


def dense_dtypes(profile: Profile, placement: str, mk: PimKernel) -> tuple[str, ...]:
    """The precisions the operator of the dense kernel ``mk`` may have while ``mk`` runs
    on ``placement`` (host: :func:`host_dtypes`; PIM: the kind's types, empty where it
    cannot run ``mk``), within :data:`codesign.quant.DENSE_DTYPES`, in that order."""
    if placement == "host":
        accepted: tuple[str, ...] = host_dtypes(profile)
    elif kernel_capable(profile, mk, None) is not None:
        return ()
    else:
        accepted = _capabilities(profile).dtypes
    return tuple(d for d in DENSE_DTYPES if d in accepted)


def crossbar_quant(section: Any) -> CrossbarQuant | None:
    """The crossbar arithmetic of operators on a PIM section (None unless its kind is
    :data:`CROSSBAR_KIND`): crossbar rows, cell, weight, input, DAC and ADC bits."""
    if getattr(section, "kind", None) != CROSSBAR_KIND:
        return None
    return CrossbarQuant(rows=int(section.crossbar_size), cell_bits=int(section.cell_bits),
                         weight_bits=int(section.weight_bits),
                         input_bits=int(section.input_bits), dac_bits=int(section.dac_bits),
                         adc_bits=int(section.adc_bits))


def knob_value(profile: Profile, knob: str) -> Any:
    """The profile's own value of the PIM knob ``knob`` (the field of that name;
    ``channels_used`` unset means every channel)."""
    value = getattr(profile_pim(profile, "plan"), knob)
    if knob == "channels_used" and value is None:
        return profile.dram.channels
    return value


def knob_options(profile: Profile) -> dict[str, list[Any]]:
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


def profile_with_knobs(profile: Profile, knobs: Mapping[str, Any]) -> Profile:
    """A copy of ``profile`` with ``knobs`` set on its PIM section, each knob the field of
    its name, the section validated again by its own model (so a knob is any field the
    profile lists under ``pim.searchable``, with the kind's own consistency checks)."""
    if not knobs:
        return profile
    if not has_pim(profile):
        raise SpecError(
            f"plan.knobs: {sorted(knobs)} given but profile "
            f"{profile.name!r} has no pim section; accepted: no knobs"
        )
    options = knob_options(profile)
    for knob, value in knobs.items():
        if knob not in options:
            raise SpecError(f"plan.knobs.{knob}: not searchable on profile "
                            f"{profile.name!r}; accepted: {sorted(options)}")
        if value not in options[knob]:
            raise SpecError(f"plan.knobs.{knob}: {value!r} out of range; accepted: "
                            f"{options[knob]}")
    pim = profile_pim(profile, "plan")
    fields = type(pim).model_fields
    unknown = sorted(k for k in knobs if k not in fields)
    if unknown:
        raise SpecError(f"plan.knobs: {unknown} are not fields of the {pim.kind!r} pim "
                        f"section; accepted: {sorted(options)}")
    try:
        new = type(pim).model_validate(pim.model_copy(update=dict(knobs)).model_dump())
    except ValidationError as exc:
        raise SpecError(f"plan.knobs: {dict(knobs)} rejected by the profile: {exc}") from None
    value = new if not isinstance(profile.pim, Mapping) else new.model_dump()
    return profile.model_copy(update={"pim": value})
