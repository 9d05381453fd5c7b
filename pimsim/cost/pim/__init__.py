"""PIM kinds as classes behind one interface, registered by kind name.

Each kind (``base.PimKind``) issues its work as DRAM commands through the same engine as
the host: every PIM kernel is a request stream replayed with ``FLAG_INTERNAL`` (column
access that stays inside the device) and, for bank-level kinds, ``FLAG_ALL_BANK`` (one
command acting on every bank of the rank), so activations, refresh and tFAW cost real
time. ``bank`` holds ``bank_simd`` and ``bank_mac``, ``nmp`` ``buffer_nmp`` (RecNMP),
``dpu`` ``dpu`` (UPMEM); ``crossbar`` (ReRAM crossbar tiles: ISAAC, PUMA, PRIME) computes
in its arrays and issues only its input and output copies as DRAM streams.

:class:`PimKinds` is a read-only registry kind name -> class; :data:`KINDS` holds the
built-in kinds, and ``KINDS.with_kind(cls)`` returns a new registry with one more (no
global state changes). Adding a kind is adding a module with its class, its section model
in ``pimsim.hw.pim`` and a profile.

:func:`capabilities` is the public query of what a profile's PIM runs (ops, data types,
elementwise functions, whether hot-row replication matters); codesign plans with it, and
with :func:`capacity_refusals` (which PIM kernels' resident data do not fit the units).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from pimsim.cost.layout import Layout
from pimsim.cost.memory import KernelCost
from pimsim.cost.pim.bank import BankMacKind, BankSimdKind
from pimsim.cost.pim.base import UNIT_KEY, PimCapabilities, PimKind, PimWork
from pimsim.cost.pim.crossbar import CrossbarKind
from pimsim.cost.pim.dpu import DpuKind
from pimsim.cost.pim.nmp import BufferNmpKind
from pimsim.errors import PimsimError
from pimsim.hw.pim import PimSectionBase, pim_section
from pimsim.hw.schema import Profile

__all__ = ["KINDS", "UNIT_KEY", "PimCapabilities", "PimKind", "PimKinds", "PimWork",
           "bandwidth_ratio", "capabilities", "capacity_refusals", "check_supported", "internal_bandwidth_gbps", "kind_model",
           "pim_channels", "pim_kernel_cost", "unsupported_reason"]


class PimKinds(Mapping[str, type[PimKind]]):
    """A read-only registry of PIM kind classes by their ``name``."""

    def __init__(self, classes: Mapping[str, type[PimKind]] | None = None) -> None:
        self._classes = dict(classes or {})

    def __getitem__(self, kind: str) -> type[PimKind]:
        return self._classes[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def with_kind(self, cls: type[PimKind]) -> "PimKinds":
        """A new registry with ``cls`` added (or replacing the class of its name)."""
        return PimKinds({**self._classes, cls.name: cls})

    def model(self, profile: Profile, section: PimSectionBase | None = None) -> PimKind:
        """The kind object of ``profile``'s pim section (or of ``section``)."""
        pim = section or pim_section(profile)
        cls = self._classes.get(pim.kind)
        if cls is None:
            raise PimsimError(
                f"profile {profile.name!r}: pim.kind = {pim.kind!r} has no cost model; "
                f"accepted: {', '.join(self._classes)}"
            )
        return cls(profile, pim)


#: The built-in kinds.
KINDS = PimKinds({c.name: c for c in (BankSimdKind, BankMacKind, BufferNmpKind, DpuKind,
                                       CrossbarKind)})


def kind_model(profile: Profile, section: PimSectionBase | None = None, *,
               kinds: PimKinds = KINDS) -> PimKind:
    """The PIM kind object of ``profile`` (raises if it has no pim section)."""
    return kinds.model(profile, section)


def capabilities(profile: Profile, *, kinds: PimKinds = KINDS) -> PimCapabilities:
    """What the profile's PIM units run: kernel ops, data types, elementwise functions,
    and whether the embedding cost depends on hot-row replication.
    ``capabilities(p).unsupported(op, dtype, fn)`` says why a kernel cannot run (or None)."""
    return kinds.model(profile).capabilities()


def pim_channels(profile: Profile, pim: PimSectionBase | None = None) -> tuple[int, ...]:
    """The channels whose PIM units are used (validated against the profile)."""
    return kind_model(profile, pim).chans


def internal_bandwidth_gbps(profile: Profile, pim: PimSectionBase | None = None,
                            dtype: str | None = None) -> float:
    """Peak rate (GB/s) at which the PIM units of the used channels can consume data."""
    return kind_model(profile, pim).internal_bandwidth_gbps(dtype)


def bandwidth_ratio(profile: Profile, pim: PimSectionBase | None = None) -> float:
    """Internal (PIM) over external (whole memory) peak bandwidth."""
    return internal_bandwidth_gbps(profile, pim) / profile.peak_bandwidth_gbps


def unsupported_reason(profile: Profile, kernel: Any, *, kinds: PimKinds = KINDS) -> str | None:
    """Why the profile's PIM kind cannot run ``kernel`` (None if it can)."""
    return kinds.model(profile).unsupported(kernel)


def check_supported(profile: Profile, kernel: Any, *, kinds: PimKinds = KINDS) -> None:
    """Raise a PimsimError naming kind, profile, kernel and reason if it cannot run."""
    model = kinds.model(profile)
    reason = model.unsupported(kernel)
    if reason is not None:
        raise PimsimError(model.refusal(kernel, reason))


def capacity_refusals(profile: Profile, kernels: Sequence[Any], *,
                      kinds: PimKinds = KINDS) -> dict[str, str]:
    """The kernels among ``kernels`` (in schedule order) placed on PIM and runnable there
    whose resident data does not fit the units' own storage (the ``crossbar`` kind's
    crossbars hold the weights of every GEMM placed on them at once), each with the reason;
    empty for a profile without PIM or a kind without such storage."""
    on_pim = [k for k in kernels if getattr(k, "placement", None) == "pim"]
    if profile.pim is None or not on_pim:
        return {}
    return kinds.model(profile).capacity_refusals(
        [k for k in on_pim if unsupported_reason(profile, k, kinds=kinds) is None])


def pim_kernel_cost(profile: Profile, kernel: Any, layout: Layout, rng: np.random.Generator,
                    *, replicate_hot_rows: int = 0, cache_share: int = 1,
                    kinds: PimKinds = KINDS) -> KernelCost:
    """Cost of ``kernel`` on the profile's PIM units (raises if the kind cannot run it)."""
    return kinds.model(profile).cost(kernel, layout, rng, replicate_hot_rows=replicate_hot_rows,
                                     cache_share=cache_share)
