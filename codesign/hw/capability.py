"""What a profile's PIM units can hold and run, as the plans ask it.

Each question is one small function over pimsim's capability query
(:func:`pimsim.capabilities`), so that the plans, the greedy placement and the co-search
ask pimsim in one place and in codesign's terms (tables, mapped kernels, plan errors).
"""

from __future__ import annotations

from typing import Any, Protocol

from pimsim import PimCapabilities, PimSection, PimsimError, Profile, capabilities, pim_section

from codesign.errors import SpecError

__all__ = [
    "PimKernel",
    "default_dtype",
    "has_pim",
    "kernel_capable",
    "knob_options",
    "profile_pim",
    "replicates_hot_rows",
    "table_capable",
]

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


def table_capable(profile: Profile, dtype: str) -> str | None:
    """Why tables cannot go on the profile's PIM (None: they can)."""
    if not has_pim(profile):
        return f"profile {profile.name!r} has no PIM units"
    caps = _capabilities(profile)
    if "embedding_bag" not in caps.ops:
        return f"PIM kind {caps.kind!r} cannot pool embeddings (runs {list(caps.ops)})"
    if dtype not in caps.dtypes:
        return f"PIM kind {caps.kind!r} has no {dtype!r} (accepted: {list(caps.dtypes)})"
    return None


def kernel_capable(profile: Profile, mk: PimKernel, dtype: str) -> str | None:
    """Why the dense kernel ``mk`` cannot run on the profile's PIM (None: it can)."""
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
    if dtype not in caps.dtypes:
        return f"PIM kind {caps.kind!r} has no {dtype!r} (accepted: {list(caps.dtypes)})"
    return None


def replicates_hot_rows(profile: Profile) -> bool:
    """Whether the embedding cost on the profile's PIM depends on hot-row replication."""
    return has_pim(profile) and _capabilities(profile).replicates_hot_rows


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
