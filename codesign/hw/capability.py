"""What a profile's PIM units can hold and run, as the plans ask it.

Each question is one small function, so that the plans, the greedy placement and the
co-search ask pimsim in one place. ``table_capable``, ``kernel_capable`` and
``replicates_hot_rows`` restate rules that pimsim's cost models apply (``pimsim.pim``:
``unsupported_reason``, ``ELEMENTWISE_FNS``, the embedding models that take
``replicate_hot_rows``); they are to read pimsim's capability query instead once pimsim
publishes one.
"""

from __future__ import annotations

from typing import Any, Protocol

from pimsim import Profile
from pimsim.errors import PimsimError
from pimsim.pim import ELEMENTWISE_FNS, pim_section
from pimsim.profile_sections import PimSection

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

#: PIM kinds whose embedding cost depends on hot-row replication: pimsim's ``buffer_nmp``
#: and ``dpu`` embedding models take ``replicate_hot_rows``; the bank kinds ignore it.
_REPLICATING_KINDS = ("buffer_nmp", "dpu")


class PimKernel(Protocol):
    """What a capability check reads of a dense kernel (a :class:`codesign.mapping.MappedKernel`)."""

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


def _elementwise_fns(kind: str) -> tuple[str, ...]:
    return tuple(ELEMENTWISE_FNS.get(kind, ()))


def table_capable(profile: Profile, dtype: str) -> str | None:
    """Why tables cannot go on the profile's PIM (None: they can)."""
    if not has_pim(profile):
        return f"profile {profile.name!r} has no PIM units"
    pim = profile_pim(profile, "plan")
    if "embedding_bag" not in pim.supported_ops:
        return f"PIM kind {pim.kind!r} cannot pool embeddings (runs {list(pim.supported_ops)})"
    if dtype not in pim.dtypes:
        return f"PIM kind {pim.kind!r} has no {dtype!r} (accepted: {list(pim.dtypes)})"
    return None


def kernel_capable(profile: Profile, mk: PimKernel, dtype: str) -> str | None:
    """Why the dense kernel ``mk`` cannot run on the profile's PIM (None: it can)."""
    if not has_pim(profile):
        return f"profile {profile.name!r} has no PIM units"
    pim = profile_pim(profile, "plan")
    if not mk.pim_capable_ops:
        what = ("an activation-by-activation product" if mk.kind == "gemm"
                else f"a {mk.kind} kernel")
        return f"{mk.name!r} is {what}, which no PIM kind runs"
    op = mk.pim_capable_ops[0]
    if op not in pim.supported_ops:
        return f"PIM kind {pim.kind!r} cannot run {op} (runs {list(pim.supported_ops)})"
    fns = _elementwise_fns(pim.kind)
    if mk.kind == "elementwise" and mk.fn not in fns:
        return f"PIM kind {pim.kind!r} has no elementwise {mk.fn!r} (accepted: {sorted(fns)})"
    if dtype not in pim.dtypes:
        return f"PIM kind {pim.kind!r} has no {dtype!r} (accepted: {list(pim.dtypes)})"
    return None


def replicates_hot_rows(profile: Profile) -> bool:
    """Whether the embedding cost on the profile's PIM depends on hot-row replication."""
    return has_pim(profile) and profile_pim(profile, "plan").kind in _REPLICATING_KINDS


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
