"""The interface of a PIM kind, and what the kinds share.

A kind (:class:`PimKind`) is built for one profile and says:

- which kernels it runs and why not (:meth:`PimKind.capabilities`,
  :meth:`PimKind.unsupported`): the kernel ops, data types and elementwise functions its
  profile section lists, limited to the ops the class models (``modelled_ops``);
- its internal bandwidth (:meth:`PimKind.internal_bandwidth_gbps`): the peak rate at which
  its units can consume data;
- how a kernel becomes command streams and ALU work (:meth:`PimKind.work`): one method
  per kernel op (``embedding_bag``, ``gemm``, ``elementwise``) returning a
  :class:`PimWork`; transfers are common to every kind;
- its energy terms (:meth:`PimKind.energy`): the stream's DRAM energy, ALU energy
  ``lane operations x cycles per op x`` the section's energy per lane operation of the
  kernel's data type (``alu_pj_by_dtype``, else ``alu_pj_per_op``), and the host's share.

A kernel's data type must be one the kind runs (``dtypes``); any other is refused naming
the kernel, the type and the accepted types. A table of a row-wise quantised type is
dequantised by the unit that pools it (one multiply-add per element read, besides the
pooling add).

:meth:`PimKind.cost` assembles a :class:`pimsim.cost.memory.KernelCost` from the work.
Every constant comes from the profile's section; a kind's class holds only the model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from pimsim.dram.address import AddressMapper
from pimsim.cost.layout import Layout, interleave_streams
from pimsim.cost.memory import KernelCost, MemCost, mem_energy, replay_stream
from pimsim.dram import FLAG_INTERNAL
from pimsim.energy import EnergyBreakdown, background_energy_pj
from pimsim.errors import PimsimError
from pimsim.hw.dtypes import element_bytes
from pimsim.hw.host import host_section
from pimsim.hw.pim import PimSectionBase, pim_section
from pimsim.hw.schema import Profile
from pimsim.workload import EmbeddingBag, Transfer

#: Kernel op that every kind runs: host <-> PIM copies over the PIM channels.
TRANSFER_OP = "transfer"
#: ``extra`` key of a kernel cost whose unit group ends with the id of the kernel's own
#: resident data (a crossbar GEMM holds the crossbars of its weight): the engine renames
#: the unit when it reuses the cost for another kernel of the same shape.
UNIT_KEY = "unit_key"


@dataclass(frozen=True)
class PimCapabilities:
    """What a profile's PIM units can run: the answer codesign plans against.

    ``ops``: kernel ops (``transfer`` included); ``dtypes``: element types;
    ``elementwise_fns``: elementwise functions; ``replicates_hot_rows``: whether the
    embedding cost depends on hot-row replication (``replicate_hot_rows``);
    ``lanes_by_dtype`` and ``alu_pj_by_dtype``: a unit's lanes and the energy of one lane
    operation for each type in ``dtypes``.
    """

    kind: str
    ops: tuple[str, ...]
    dtypes: tuple[str, ...]
    elementwise_fns: tuple[str, ...]
    replicates_hot_rows: bool
    lanes_by_dtype: Mapping[str, int] = field(default_factory=dict)
    alu_pj_by_dtype: Mapping[str, float] = field(default_factory=dict)

    def unsupported(self, op: str, dtype: str | None = None,
                    fn: str | None = None) -> str | None:
        """Why a kernel ``op`` of ``dtype`` (elementwise: of function ``fn``) cannot run
        here (None: it can)."""
        if op == TRANSFER_OP:
            return None
        if op not in self.ops:
            return f"op {op!r} not supported (kind runs {list(self.ops)})"
        if dtype is not None and dtype not in self.dtypes:
            return f"dtype {dtype!r} not supported (accepted: {list(self.dtypes)})"
        if fn is not None and fn not in self.elementwise_fns:
            return (f"elementwise fn {fn!r} not supported (accepted: "
                    f"{sorted(self.elementwise_fns)})")
        return None


@dataclass
class PimWork:
    """A kernel on PIM units before pricing: its DRAM streams and its ALU work.

    ``alu_ns`` is the units' compute time; with ``col_ns`` (the column commands back to
    back at tCCD_L, for units fed directly by them) the units cannot run ahead of their
    data, so every nanosecond the stream spends on anything else stalls them:
    ``compute = max(alu, col_ns) + (dram - col_ns)``. The kernel's time is
    ``max(dram, compute) + extra_ns``, at least ``min_time_ns``. ``background_ns``, when
    set, is the span over which background energy is charged (default: the stream's).
    ``internal_io_pj`` is I/O energy inside the memory module (RecNMP's DRAM -> buffer
    chip hop);
    ``unit_energy_pj`` is unit energy not counted per lane operation (UPMEM's DPU power
    over its busy time). ``unit`` names the unit group the kernel holds when it is not
    the kind's whole group (:meth:`PimKind.unit`); ``copy_ns`` (host->PIM, PIM->host)
    when the kernel needs the channels only for its copies (see
    :class:`pimsim.cost.memory.KernelCost`); ``rank_share``: the part of the ranks'
    background power that is the kernel's (its units' share, where kernels of other
    unit groups run on the same ranks at the same time).
    """

    mem: MemCost
    alu_ops: float
    alu_ns: float
    internal_bytes: int
    op_cycles: float = 1.0
    dtype: str | None = None
    col_ns: float | None = None
    extra_ns: float = 0.0
    min_time_ns: float = 0.0
    host_flops: float = 0.0
    host_bytes: float = 0.0
    background_ns: float | None = None
    internal_io_pj: float = 0.0
    unit_energy_pj: float = 0.0
    unit: str | None = None
    copy_ns: tuple[float, float] | None = None
    rank_share: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)


class PimKind:
    """One kind of PIM unit on one profile (see the module docstring)."""

    #: The ``kind`` of the profile sections this class models.
    name: ClassVar[str]
    #: Kernel ops with a cost model in this class (besides transfers).
    modelled_ops: ClassVar[tuple[str, ...]] = ()
    #: Whether the embedding cost takes ``replicate_hot_rows`` into account.
    replicates_hot_rows: ClassVar[bool] = False

    def __init__(self, profile: Profile, section: PimSectionBase | None = None) -> None:
        self.profile = profile
        self.pim = section or pim_section(profile)
        self.check_profile()
        n = self.pim.channels_used or profile.dram.channels
        if n > profile.dram.channels:
            raise PimsimError(
                f"profile {profile.name!r}: pim.channels_used = {n}; accepted: 1.."
                f"{profile.dram.channels} (dram.channels)"
            )
        self.chans: tuple[int, ...] = tuple(range(n))
        unmodelled = [op for op in self.pim.supported_ops
                      if op != TRANSFER_OP and op not in self.modelled_ops]
        if unmodelled:
            raise PimsimError(
                f"profile {profile.name!r}: pim.supported_ops lists {unmodelled}, which kind "
                f"{self.name!r} does not model; accepted: {list(self.modelled_ops)}"
            )

    # --- what it runs -----------------------------------------------------------------
    def check_profile(self) -> None:
        """Raise a PimsimError if the profile breaks a rule of the kind (default: none)."""

    def capabilities(self) -> PimCapabilities:
        p = self.pim
        return PimCapabilities(kind=self.name, ops=tuple(p.supported_ops),
                               dtypes=tuple(p.dtypes), elementwise_fns=tuple(p.elementwise_fns),
                               replicates_hot_rows=self.replicates_hot_rows,
                               lanes_by_dtype={d: p.lanes_for(d) for d in p.dtypes},
                               alu_pj_by_dtype={d: p.alu_pj_for(d) for d in p.dtypes})

    def unsupported(self, kernel: Any) -> str | None:
        """Why the units cannot run ``kernel`` (None if they can)."""
        if isinstance(kernel, Transfer):
            return None
        if getattr(kernel, "activation_operand", False):
            return ("an activation-by-activation product: its k x n operand is computed at "
                    "run time, not a weight resident in the memory")
        dtype = kernel.tbl.dtype if isinstance(kernel, EmbeddingBag) else kernel.dtype
        return self.capabilities().unsupported(kernel.op, dtype, getattr(kernel, "fn", None))

    def capacity_refusals(self, kernels: Sequence[Any]) -> dict[str, str]:
        """Kernels among ``kernels`` (those placed on PIM, in schedule order) whose resident
        data does not fit the units' own storage, with the reason (default: none; a kind
        with weight-stationary storage overrides it)."""
        return {}

    def internal_bandwidth_gbps(self, dtype: str | None = None) -> float:
        """Peak rate (GB/s) at which the units of the used channels can consume data."""
        return len(self.chans) * self.channel_bandwidth_gbps(dtype or self.pim.dtype)

    def channel_bandwidth_gbps(self, dtype: str) -> float:
        """Peak consumption rate (GB/s) of the units of one channel."""
        raise NotImplementedError

    def alu_gbps(self, dtype: str) -> float:
        """Bytes per ns the ALUs of one channel consume at one element per lane cycle."""
        p = self.pim
        return p.units_per_channel * p.lanes_for(dtype) * element_bytes(dtype) * p.clock_mhz * 1e-3

    # --- how a kernel becomes streams and ALU work ------------------------------------
    def work(self, kernel: Any, layout: Layout, rng: np.random.Generator, *,
             replicate_hot_rows: int = 0, cache_share: int = 1) -> PimWork:
        if isinstance(kernel, Transfer):
            return self.transfer(kernel, layout)
        method = getattr(self, kernel.op)
        if isinstance(kernel, EmbeddingBag):
            return method(kernel, layout, rng, replicate_hot_rows, cache_share)
        return method(kernel, layout)

    def transfer(self, k: Transfer, layout: Layout) -> PimWork:
        mem, t_ns = self.host_link(layout, k.name, k.bytes, k.direction == "host_to_pim")
        return PimWork(mem, alu_ops=0, alu_ns=0.0, internal_bytes=0, host_bytes=k.bytes,
                       min_time_ns=t_ns)

    def host_link_gbps(self, write: bool = True) -> float | None:
        """Cap of host->PIM (``write``) or PIM->host copies per rank in GB/s (None: the
        bus alone limits them)."""
        return None

    def host_link(self, layout: Layout, name: str, nbytes: int,
                  write: bool) -> tuple[MemCost, float]:
        """Host<->PIM copy: bus writes/reads in the PIM channels, issued by the host's cores
        as for a host stream, capped by :meth:`host_link_gbps`. Returns its cost and time."""
        if nbytes <= 0:
            return MemCost(), 0.0
        profile = self.profile
        addr = layout.buffer_addresses(name, nbytes, channels=self.chans)
        cores = host_section(profile).cores if profile.host is not None else 1
        mem = replay_stream(profile, interleave_streams(addr, cores, layout.cols_per_row), write)
        t_ns = mem.cycles * profile.timing.tCK_ns
        link = self.host_link_gbps(write)
        if link:
            t_ns = max(t_ns, nbytes / (link * len(self.chans) * profile.dram.ranks))
        return mem, t_ns

    # --- energy and assembly ----------------------------------------------------------
    def energy(self, w: PimWork) -> EnergyBreakdown:
        """DRAM energy of the streams, ALU energy of the lane operations, host share."""
        profile, n_ch = self.profile, len(self.chans)
        e = mem_energy(profile, w.mem, n_ch,
                       internal_factor=self.pim.internal_access_energy_factor)
        alu = (e.pim_alu_pj + w.alu_ops * w.op_cycles * self.pim.alu_pj_for(w.dtype)
               + w.unit_energy_pj)
        io = e.io_pj + w.internal_io_pj
        host = e.host_pj
        if w.host_flops or w.host_bytes:
            h = host_section(profile)
            host += w.host_flops * h.pj_per_flop + w.host_bytes * h.pj_per_byte
        background = e.background_pj
        if w.background_ns is not None:
            cycles = int(round(w.background_ns / profile.timing.tCK_ns))
            background = background_energy_pj(profile, cycles,
                                              ranks=max(1, n_ch) * profile.dram.ranks)
        background *= w.rank_share
        return dataclasses.replace(e, pim_alu_pj=alu, host_pj=host, background_pj=background,
                                   io_pj=io)

    def refusal(self, kernel: Any, reason: str) -> str:
        """The error message for a kernel the kind cannot run."""
        return (f"PIM kind {self.name!r} (profile {self.profile.name!r}) cannot run "
                f"kernel {kernel.name!r}: {reason}; set fallback_to_host: true in the workload "
                "or place the kernel on the host")

    def unit(self) -> str:
        """The SimPy resource the kind's kernels hold: the unit group of its channels."""
        return f"pim:{self.name}:ch{self.chans[0]}-{self.chans[-1]}"

    def cost(self, kernel: Any, layout: Layout, rng: np.random.Generator, *,
             replicate_hot_rows: int = 0, cache_share: int = 1) -> KernelCost:
        """Cost of ``kernel`` on the units (raises if the kind cannot run it)."""
        reason = self.unsupported(kernel)
        if reason is not None:
            raise PimsimError(self.refusal(kernel, reason))
        w = self.work(kernel, layout, rng, replicate_hot_rows=replicate_hot_rows,
                      cache_share=cache_share)
        dram_ns = w.mem.cycles * self.profile.timing.tCK_ns
        alu_ns = w.alu_ns
        if w.col_ns is not None:
            alu_ns = max(alu_ns, w.col_ns) + max(0.0, dram_ns - w.col_ns)
        extra = {"alu_ops": float(w.alu_ops), "kind": self.name, **w.extra}
        # the host issues every PIM kernel: it pays the host's launch cost
        launch = host_section(self.profile).launch_ns if self.profile.host is not None else 0.0
        time_ns = launch + max(max(dram_ns, alu_ns) + w.extra_ns, w.min_time_ns)
        return KernelCost(
            name=kernel.name, op=kernel.op, placement="pim", unit=w.unit or self.unit(),
            channels=self.chans, time_ns=time_ns,
            dram_ns=dram_ns, compute_ns=alu_ns, counts=w.mem.counts,
            external_bytes=int(w.mem.external_bytes), internal_bytes=int(w.internal_bytes),
            flops=int(kernel.flops()), energy=self.energy(w), extra=extra, launch_ns=launch,
            channel_hold="copies" if w.copy_ns else "whole", copy_ns=w.copy_ns or (0.0, 0.0),
        )


# --- rank-level units -----------------------------------------------------------------
def rank_view(profile: Profile) -> Profile:
    """The memory seen from rank-level units: every rank with its own command and data
    path (RecNMP's rank-NMP and UPMEM's DPUs drive their DRAM locally, not through the
    channel's command bus), i.e. ``channels x ranks`` one-rank channels."""
    d = profile.dram
    dram = d.model_copy(update={"channels": d.channels * d.ranks, "ranks": 1})
    return profile.model_copy(update={"dram": dram, "name": f"{profile.name}#ranks",
                                      "pim": None})


def replay_per_rank(profile: Profile, layout: Layout, addr: np.ndarray,
                    rank: np.ndarray | None = None, is_write: np.ndarray | bool = False,
                    repeat: float = 1.0) -> MemCost:
    """Replay internal accesses on the rank view; ``rank`` overrides the decoded rank."""
    view = rank_view(profile)
    f = layout.mapper.decode(addr.astype(np.int64))
    rk = f.rank if rank is None else rank
    vaddr = AddressMapper(view).encode(channel=f.channel * profile.dram.ranks + rk, rank=0,
                                       bankgroup=f.bankgroup, bank=f.bank, row=f.row,
                                       column=f.column)
    return replay_stream(view, vaddr, is_write, FLAG_INTERNAL, repeat=repeat)
