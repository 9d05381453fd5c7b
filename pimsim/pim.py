"""PIM unit models: each kind issues its work as DRAM commands through the same engine.

Every PIM kernel is a request stream replayed by :func:`pimsim.dram.run_requests` with
``FLAG_INTERNAL`` (column access that stays inside the device: no external bus, no bus
turnaround) and ``FLAG_ALL_BANK`` (one ACT / column / PRE command acting on every bank of
the rank), so activations, refresh and tFAW cost real time. A PIM kernel's time is
``max(its DRAM command stream, its ALU time)`` plus, for ``dpu``, the host<->DPU transfers
before and after it. ALU energy is ``lane operations x alu_pj_per_op``.

Kinds (``profile.pim.kind``):

``bank_simd`` (Samsung HBM2-PIM / Aquabolt-XL)
    GEMM/GEMV and elementwise sum/relu. Weights are pinned: split by output rows over the
    PIM channels and spread over the banks of each channel. Per batch row (a "pass"): the
    input vector is written into the units' register files by all-bank writes (over the
    bus once per channel), the weights stream as all-bank internal reads, and each unit's
    16 lane partial sums are read out (the host adds the lanes). Each all-bank column
    command feeds ``units_per_channel x access_bytes`` bytes to the units.
``bank_mac`` (SK hynix GDDR6-AiM)
    Same stream shape; the input vector goes into the channel's global buffer (all-bank
    writes), the MAC tree reduces inside the unit, so one output element per row is read.
``buffer_nmp`` (RecNMP)
    Embedding pooling only. Tables interleaved over the PIM channels; each lookup is an
    internal read of its rank (ranks work in parallel, the channel bus is not used). The
    host sends 8-byte NMP instructions per lookup and reads one pooled vector per bag per
    channel. Optional hot-row replication spreads hot lookups over ranks.
``dpu`` (UPMEM)
    Embedding pooling, GEMM, elementwise. Rows / output rows are partitioned over the
    DPUs (one per MRAM bank); each DPU DMAs its data MRAM->WRAM at ``dma_bytes_per_cycle``
    and computes with ``cycles_per_op`` (floats are emulated). Host<->DPU transfers go over
    the DDR bus (engine) and are capped at ``host_link_gbps`` per rank.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pimsim.address import AddressMapper
from pimsim.errors import PimsimError
from pimsim.host import (
    FLAG_ALL_BANK,
    FLAG_INTERNAL,
    KernelCost,
    MemCost,
    host_section,
    interleave_streams,
    lru_row_hits,
    mem_energy_pj,
    replay_stream,
)
from pimsim.layout import Layout, hot_rows
from pimsim.profile import Profile
from pimsim.profile_sections import DTYPE_BYTES, PimSection
from pimsim.workload import Elementwise, EmbeddingBag, Gemm, Transfer

#: Elementwise functions each kind executes natively.
ELEMENTWISE_FNS: dict[str, frozenset[str]] = {
    "bank_simd": frozenset({"sum", "relu"}),  # PCU ISA: ADD, MUL, MAC, MAD, MOV(ReLU)
    "bank_mac": frozenset({"sum", "gating", "relu", "sigmoid"}),  # EW ops + LUT activation
    "buffer_nmp": frozenset(),
    "dpu": frozenset({"sum", "gating", "relu", "sigmoid"}),  # general-purpose core
}
#: Bytes of one NMP instruction per lookup sent by the host (RecNMP packs 79-bit
#: NMP-Inst per lookup; rounded up to 8 bytes here).
NMP_INST_BYTES = 8
#: Bytes of one index sent to a DPU (int32).
DPU_INDEX_BYTES = 4
#: Chips per DDR4 rank that receive a host write in parallel (UPMEM: 8 PIM chips / rank).
DPU_CHIPS_PER_RANK = 8


def pim_section(profile: Profile) -> PimSection:
    p = profile.pim
    if p is None:
        raise PimsimError(
            f"profile {profile.name!r}: no 'pim' section; PIM placement needs a PIM profile "
            "(hbm2_pim, gddr6_aim, ddr4_recnmp, upmem)"
        )
    return p


def pim_channels(profile: Profile, pim: PimSection | None = None) -> tuple[int, ...]:
    pim = pim or pim_section(profile)
    n = pim.channels_used or profile.dram.channels
    if pim.kind == "buffer_nmp" and pim.units_per_channel != profile.dram.ranks:
        raise PimsimError(
            f"profile {profile.name!r}: pim.units_per_channel = {pim.units_per_channel}; "
            f"accepted for buffer_nmp: one unit per rank = dram.ranks ({profile.dram.ranks})"
        )
    if n > profile.dram.channels:
        raise PimsimError(
            f"profile {profile.name!r}: pim.channels_used = {n}; accepted: 1.."
            f"{profile.dram.channels} (dram.channels)"
        )
    return tuple(range(n))


def internal_bandwidth_gbps(profile: Profile, pim: PimSection | None = None,
                            dtype: str | None = None) -> float:
    """Peak rate (GB/s) at which the PIM units of the used channels can consume data.

    Bank kinds: ``min(units x access_bytes / tCCD_L, units x lanes x dtype bytes x clock)``
    per channel. ``buffer_nmp``: every rank's own data bus at full rate. ``dpu``: every
    DPU's MRAM->WRAM DMA rate.
    """
    pim = pim or pim_section(profile)
    dt = dtype or pim.dtype
    n_ch = len(pim_channels(profile, pim))
    tck = profile.timing.tCK_ns
    alu = pim.units_per_channel * pim.lanes * DTYPE_BYTES[dt] * pim.clock_mhz * 1e-3
    if pim.kind in ("bank_simd", "bank_mac"):
        dram = pim.units_per_channel * pim.access_bytes / (profile.timing.tCCD_L * tck)
        per_ch = min(dram, alu)
    elif pim.kind == "buffer_nmp":
        rank_bw = profile.dram.bus_width / 8 * profile.dram.data_rate / tck
        per_ch = min(profile.dram.ranks * rank_bw, alu)
    else:  # dpu
        per_ch = pim.units_per_channel * pim.dma_bytes_per_cycle * pim.clock_mhz * 1e-3
    return n_ch * per_ch


def bandwidth_ratio(profile: Profile, pim: PimSection | None = None) -> float:
    """Internal (PIM) over external (whole memory) peak bandwidth."""
    return internal_bandwidth_gbps(profile, pim) / profile.peak_bandwidth_gbps


def unsupported_reason(profile: Profile, kernel: Any) -> str | None:
    """Why the profile's PIM kind cannot run ``kernel`` (None if it can)."""
    pim = pim_section(profile)
    if isinstance(kernel, Transfer):
        return None
    if kernel.op not in pim.supported_ops:
        return f"op {kernel.op!r} not supported (kind runs {pim.supported_ops})"
    dtype = kernel.tbl.dtype if isinstance(kernel, EmbeddingBag) else kernel.dtype
    if dtype not in pim.dtypes:
        return f"dtype {dtype!r} not supported (accepted: {pim.dtypes})"
    if isinstance(kernel, Elementwise) and kernel.fn not in ELEMENTWISE_FNS[pim.kind]:
        return (f"elementwise fn {kernel.fn!r} not supported (accepted: "
                f"{sorted(ELEMENTWISE_FNS[pim.kind])})")
    return None


def check_supported(profile: Profile, kernel: Any) -> None:
    reason = unsupported_reason(profile, kernel)
    if reason is not None:
        raise PimsimError(
            f"PIM kind {pim_section(profile).kind!r} (profile {profile.name!r}) cannot run "
            f"kernel {kernel.name!r}: {reason}; set fallback_to_host: true in the workload "
            "or place the kernel on the host"
        )


def pim_kernel_cost(profile: Profile, kernel: Any, layout: Layout, rng: np.random.Generator,
                    *, replicate_hot_rows: int = 0, cache_share: int = 1) -> KernelCost:
    """Cost of ``kernel`` on the profile's PIM units (raises if the kind cannot run it)."""
    check_supported(profile, kernel)
    pim = pim_section(profile)
    chans = pim_channels(profile, pim)
    if isinstance(kernel, Transfer):
        return _transfer(profile, pim, kernel, layout, chans)
    if pim.kind in ("bank_simd", "bank_mac"):
        if isinstance(kernel, Gemm):
            return _bank_gemm(profile, pim, kernel, layout, chans)
        return _bank_elementwise(profile, pim, kernel, layout, chans)
    if pim.kind == "buffer_nmp":
        return _nmp_embedding(profile, pim, kernel, layout, chans, rng, replicate_hot_rows,
                              cache_share)
    if isinstance(kernel, EmbeddingBag):
        return _dpu_embedding(profile, pim, kernel, layout, chans, rng, replicate_hot_rows)
    if isinstance(kernel, Gemm):
        return _dpu_gemm(profile, pim, kernel, layout, chans)
    return _dpu_elementwise(profile, pim, kernel, layout, chans)


# --- helpers --------------------------------------------------------------------------
def _cost(profile: Profile, pim: PimSection, kernel: Any, chans: tuple[int, ...],
          mem: MemCost, *, alu_ops: float, alu_ns: float, internal_bytes: int,
          extra_ns: float = 0.0, host_flops: float = 0.0, host_bytes: float = 0.0,
          extra: dict[str, Any] | None = None, op_cycles: float = 1.0,
          col_ns: float | None = None) -> KernelCost:
    """Assemble a PIM kernel's cost. ALU energy = lane ops x cycles per op x pJ per op
    (``op_cycles`` > 1 only for emulated operations on a dpu).

    Time is ``max(dram, alu)``. For bank-level units fed directly by the column commands
    (``col_ns`` = the column commands back to back at tCCD_L), the units cannot run ahead
    of their data, so every nanosecond the stream spends on anything else (activations,
    precharges, refresh, input writes, read-out) stalls them:
    ``time = max(alu, col_ns) + (dram - col_ns)``, which is ``dram`` when the ALUs keep up.
    """
    dram_ns = mem.cycles * profile.timing.tCK_ns
    if col_ns is not None:
        alu_ns = max(alu_ns, col_ns) + max(0.0, dram_ns - col_ns)
    energy = mem_energy_pj(profile, mem, len(chans))
    energy["pim_alu_pj"] += alu_ops * op_cycles * pim.alu_pj_per_op
    if host_flops or host_bytes:
        h = host_section(profile)
        energy["host_pj"] += host_flops * h.pj_per_flop + host_bytes * h.pj_per_byte
    ex = {"alu_ops": float(alu_ops), "kind": pim.kind}
    ex.update(extra or {})
    return KernelCost(
        name=kernel.name, op=kernel.op, placement="pim",
        unit=f"pim:{pim.kind}:ch{chans[0]}-{chans[-1]}", channels=chans,
        time_ns=max(dram_ns, alu_ns) + extra_ns, dram_ns=dram_ns, compute_ns=alu_ns,
        counts=mem.counts, external_bytes=int(mem.external_bytes),
        internal_bytes=int(internal_bytes), flops=int(kernel.flops()), energy_pj=energy,
        extra=ex,
    )


def _per_channel(mem: MemCost, n_ch: int) -> MemCost:
    """A stream simulated on one channel stands for the same stream on ``n_ch`` channels:
    time unchanged, commands and bytes multiplied."""
    return MemCost(mem.cycles, {k: v * n_ch for k, v in mem.counts.items()},
                   mem.external_bytes * n_ch, mem.internal_bytes * n_ch, mem.requests * n_ch,
                   {k: v * n_ch for k, v in mem.ops.items()})


def _rank_view(profile: Profile) -> Profile:
    """The memory seen from rank-level units: every rank with its own command and data
    path (RecNMP's rank-NMP and UPMEM's DPUs drive their DRAM locally, not through the
    channel's command bus), i.e. ``channels x ranks`` one-rank channels."""
    d = profile.dram
    dram = d.model_copy(update={"channels": d.channels * d.ranks, "ranks": 1})
    return profile.model_copy(update={"dram": dram, "name": f"{profile.name}#ranks",
                                      "pim": None})


def _replay_per_rank(profile: Profile, layout: Layout, addr: np.ndarray,
                     rank: np.ndarray | None = None, is_write: np.ndarray | bool = False,
                     repeat: float = 1.0) -> MemCost:
    """Replay internal accesses on the rank view; ``rank`` overrides the decoded rank."""
    view = _rank_view(profile)
    f = layout.mapper.decode(addr.astype(np.int64))
    rk = f.rank if rank is None else rank
    vaddr = AddressMapper(view).encode(channel=f.channel * profile.dram.ranks + rk, rank=0,
                                       bankgroup=f.bankgroup, bank=f.bank, row=f.row,
                                       column=f.column)
    return replay_stream(view, vaddr, is_write, FLAG_INTERNAL, repeat=repeat)


def _parallel(a: MemCost, b: MemCost) -> MemCost:
    """Two streams that run at the same time on separate paths."""
    m = a + b
    m.cycles = max(a.cycles, b.cycles)
    return m


def _charge_used_banks(profile: Profile, mem: MemCost, bytes_per_cmd: int, tx: int) -> None:
    """An all-bank internal column command reaches every bank, but the units take data from
    ``bytes_per_cmd`` worth of them (bank_simd: one bank of each pair per command): charge
    the column energy of the banks actually read."""
    frac = min(1.0, bytes_per_cmd / float(profile.banks_per_rank * tx))
    for key in ("RDI", "WRI", "RDAI", "WRAI"):
        if key in mem.ops:
            mem.ops[key] *= frac


def _cmds_per_row(profile: Profile, layout: Layout, bytes_per_cmd: int) -> int:
    """All-bank column commands that consume one row of every bank of a rank."""
    rank_row_bytes = profile.banks_per_rank * layout.row_bytes
    return max(layout.cols_per_row, rank_row_bytes // max(1, bytes_per_cmd))


# --- bank-level kinds -----------------------------------------------------------------
def _bank_gemm(profile: Profile, pim: PimSection, k: Gemm, layout: Layout,
               chans: tuple[int, ...]) -> KernelCost:
    n_ch = len(chans)
    db = DTYPE_BYTES[k.dtype]
    tx = layout.tx_bytes
    bytes_per_cmd = pim.units_per_channel * pim.access_bytes
    w_ch = -(-k.resident_bytes() // n_ch)
    n_rd = -(-w_ch // bytes_per_cmd)
    n_in = -(-(k.k * db) // tx)  # input vector into register files / global buffer
    readout = pim.lanes if pim.kind == "bank_simd" else 1
    n_out_ch = -(-k.n // n_ch)
    n_out = -(-(n_out_ch * readout * db) // tx)
    wname = k.weight or k.name
    rd = layout.pinned_row_stream(f"{wname}:w", n_rd, _cmds_per_row(profile, layout,
                                                                     bytes_per_cmd))
    wr = layout.pinned_row_stream(f"{wname}:in", n_in, layout.cols_per_row)
    out = layout.buffer_addresses(f"{wname}:out", n_out * tx, channels=(chans[0],))
    addr = np.concatenate([wr, rd, out])
    is_write = np.concatenate([np.ones(n_in, bool), np.zeros(n_rd + n_out, bool)])
    flags = np.concatenate([np.full(n_in, FLAG_ALL_BANK, np.uint8),
                            np.full(n_rd, FLAG_ALL_BANK | FLAG_INTERNAL, np.uint8),
                            np.zeros(n_out, np.uint8)])
    mem = _per_channel(replay_stream(profile, addr, is_write, flags, repeat=k.m), n_ch)
    _charge_used_banks(profile, mem, bytes_per_cmd, tx)
    macs = k.macs()
    alu_ns = macs / pim.alu_ops_per_ns(n_ch, k.dtype, "mac")
    internal = n_rd * bytes_per_cmd * n_ch * k.m
    host_flops = k.m * k.n * (readout - 1)
    col_ns = n_rd * k.m * profile.timing.tCCD_L * profile.timing.tCK_ns
    return _cost(profile, pim, k, chans, mem, alu_ops=macs, alu_ns=alu_ns, col_ns=col_ns,
                 internal_bytes=internal, host_flops=host_flops,
                 host_bytes=k.m * k.n * readout * db,
                 extra={"passes": k.m, "commands_per_pass": n_rd})


def _bank_elementwise(profile: Profile, pim: PimSection, k: Elementwise, layout: Layout,
                      chans: tuple[int, ...]) -> KernelCost:
    n_ch = len(chans)
    bytes_per_cmd = pim.units_per_channel * pim.access_bytes
    per_row = _cmds_per_row(profile, layout, bytes_per_cmd)
    n_rd = -(-(k.input_bytes() // n_ch) // bytes_per_cmd)
    n_wr = -(-(k.output_bytes() // n_ch) // bytes_per_cmd)
    rd = layout.pinned_row_stream(f"{k.name}:in", n_rd, per_row)
    wr = layout.pinned_row_stream(f"{k.name}:out", n_wr, per_row)
    addr = np.concatenate([rd, wr])
    is_write = np.concatenate([np.zeros(n_rd, bool), np.ones(n_wr, bool)])
    flags = np.full(addr.size, FLAG_ALL_BANK | FLAG_INTERNAL, np.uint8)
    mem = _per_channel(replay_stream(profile, addr, is_write, flags), n_ch)
    _charge_used_banks(profile, mem, bytes_per_cmd, layout.tx_bytes)
    ops = max(k.flops(), k.m * k.n)
    alu_ns = ops / pim.alu_ops_per_ns(n_ch, k.dtype, "add")
    internal = (n_rd + n_wr) * bytes_per_cmd * n_ch
    col_ns = (n_rd + n_wr) * profile.timing.tCCD_L * profile.timing.tCK_ns
    return _cost(profile, pim, k, chans, mem, alu_ops=ops, alu_ns=alu_ns, col_ns=col_ns,
                 internal_bytes=internal)


# --- buffer_nmp (RecNMP) --------------------------------------------------------------
def _assign_hot_to_units(idx: np.ndarray, unit: np.ndarray, hot: np.ndarray,
                         n_units: int) -> np.ndarray:
    """Lookups of replicated (hot) rows go to units in turn (balanced); others stay."""
    if hot.size == 0:
        return unit
    is_hot = np.isin(idx, hot)
    out = unit.copy()
    out[is_hot] = np.arange(int(is_hot.sum())) % n_units
    return out


def _nmp_embedding(profile: Profile, pim: PimSection, k: EmbeddingBag, layout: Layout,
                   chans: tuple[int, ...], rng: np.random.Generator,
                   replicate: int, cache_share: int = 1) -> KernelCost:
    n_ch = len(chans)
    t = k.tbl
    tx = layout.tx_bytes
    offsets, idx = k.bag_indices(rng)
    per_row = -(-t.row_bytes // tx)
    addr = layout.embedding_addresses(k.table, idx, t.row_bytes, t.bytes, channels=chans)
    f = layout.mapper.decode(addr.astype(np.int64))
    ranks = profile.dram.ranks
    rank = f.rank
    hot = hot_rows(idx, replicate)
    if hot.size:  # a replicated row can be read from any rank of its channel
        rank = np.repeat(_assign_hot_to_units(idx, f.rank[::per_row], hot, ranks), per_row)
    unit = f.channel * ranks + rank
    lookup_units_all = unit[::per_row]  # every lookup is pooled by its rank's unit
    hits = np.zeros(idx.size, dtype=bool)
    if pim.unit_cache_bytes:  # RankCache: LRU by row per rank, shared by the batch's tables
        cap_rows = pim.unit_cache_bytes // max(1, cache_share) // t.row_bytes
        lookup_unit = unit[::per_row]
        for u in np.unique(lookup_unit):
            sel = np.flatnonzero(lookup_unit == u)
            hits[sel] = lru_row_hits(idx[sel], cap_rows)
        keep = np.repeat(~hits, per_row)
        addr, rank, unit = addr[keep], rank[keep], unit[keep]
    # rank-NMP units read their rank locally; the channel carries NMP instructions in and
    # pooled vectors out, at the same time (RecNMP pipelines packets)
    inner = _replay_per_rank(profile, layout, addr, rank) if addr.size else MemCost()
    n_inst = -(-(idx.size * NMP_INST_BYTES // n_ch) // tx)
    inst = np.concatenate([layout.buffer_addresses(f"{k.name}:nmp_inst", n_inst * tx,
                                                   channels=(c,)) for c in chans])
    out_bytes = k.batch * t.row_bytes  # one pooled vector per bag per channel
    outs = np.concatenate([layout.buffer_addresses(f"{k.name}:pooled", out_bytes,
                                                   channels=(c,)) for c in chans])
    outer = replay_stream(profile, np.concatenate([inst, outs]),
                          np.concatenate([np.ones(inst.size, bool), np.zeros(outs.size, bool)]))
    mem = _parallel(inner, outer)
    loads = np.bincount(lookup_units_all, minlength=n_ch * ranks)
    alu_ns = float(loads.max()) * t.dim / pim.unit_ops_per_ns(t.dtype, "add")
    ops = idx.size * t.dim
    internal = int((~hits).sum()) * t.row_bytes
    host_flops = k.batch * t.dim * (n_ch - 1)  # the host adds the channels' partial sums
    return _cost(profile, pim, k, chans, mem, alu_ops=ops, alu_ns=alu_ns,
                 internal_bytes=internal, host_flops=host_flops, host_bytes=out_bytes * n_ch,
                 extra={"lookups": int(idx.size), "replicated_rows": int(hot.size),
                        "max_unit_lookups": int(loads.max()), "rank_cache_hits": int(hits.sum())})


# --- dpu (UPMEM) ----------------------------------------------------------------------
def _dpu_rate(pim: PimSection) -> float:
    """MRAM->WRAM bytes per ns of one DPU."""
    return pim.dma_bytes_per_cycle * pim.clock_mhz * 1e-3


def _host_link(profile: Profile, pim: PimSection, layout: Layout, name: str, nbytes: int,
               chans: tuple[int, ...], write: bool) -> tuple[MemCost, float]:
    """Host<->PIM transfer: bus writes/reads in the PIM channels, issued by the host's cores
    as for a host stream, capped by the per-rank host link rate where the kind has one
    (dpu). Returns its cost and time in ns."""
    if nbytes <= 0:
        return MemCost(), 0.0
    addr = layout.buffer_addresses(name, nbytes, channels=chans)
    cores = host_section(profile).cores if profile.host is not None else 1
    mem = replay_stream(profile, interleave_streams(addr, cores, layout.cols_per_row), write)
    t_ns = mem.cycles * profile.timing.tCK_ns
    if pim.host_link_gbps:
        t_ns = max(t_ns, nbytes / (pim.host_link_gbps * len(chans) * profile.dram.ranks))
    return mem, t_ns


def _dpu_finish(profile: Profile, pim: PimSection, k: Any, chans: tuple[int, ...],
                core: MemCost, t_in: tuple[MemCost, float], t_out: tuple[MemCost, float],
                *, dma_ns: float, alu_ns: float, alu_ops: float, internal: int,
                op_cycles: float, host_flops: float = 0.0, host_bytes: float = 0.0,
                extra: dict[str, Any] | None = None) -> KernelCost:
    mem = core + t_in[0] + t_out[0]
    mem.cycles = core.cycles  # phase times are added below, not through the cycles
    cost = _cost(profile, pim, k, chans, mem, alu_ops=alu_ops, alu_ns=max(alu_ns, dma_ns),
                 internal_bytes=internal, extra_ns=t_in[1] + t_out[1], host_flops=host_flops,
                 host_bytes=host_bytes, extra=extra, op_cycles=op_cycles)
    # background over the whole kernel (transfers included), not only the core phase
    span = max(core.cycles * profile.timing.tCK_ns, alu_ns, dma_ns) + t_in[1] + t_out[1]
    full = MemCost(span / profile.timing.tCK_ns, mem.counts, mem.external_bytes,
                   mem.internal_bytes, mem.requests, mem.ops)
    cost.energy_pj["background_pj"] = mem_energy_pj(profile, full, len(chans))["background_pj"]
    cost.extra.update({"transfer_in_ns": t_in[1], "transfer_out_ns": t_out[1], "dma_ns": dma_ns})
    return cost


def _dpu_embedding(profile: Profile, pim: PimSection, k: EmbeddingBag, layout: Layout,
                   chans: tuple[int, ...], rng: np.random.Generator,
                   replicate: int) -> KernelCost:
    """Rows are split over DPU groups (row mod groups); inside a group of G DPUs each DPU
    holds ``row_bytes / G`` bytes (a column slice, >= 8 B, the MRAM access) of its rows, so
    a bag needs one partial sum per group it touches, not one per DPU."""
    n_dpu = len(chans) * pim.units_per_channel
    t = k.tbl
    offsets, idx = k.bag_indices(rng)
    g_size = int(min(n_dpu, max(1, t.row_bytes // pim.access_bytes)))
    n_groups = max(1, n_dpu // g_size)
    group = idx % n_groups
    hot = hot_rows(idx, replicate)
    group = _assign_hot_to_units(idx, group, hot, n_groups)
    loads = np.bincount(group, minlength=n_groups)
    slice_bytes = -(-t.row_bytes // g_size)
    addr = layout.embedding_addresses(k.table, idx, t.row_bytes, t.bytes, channels=chans)
    core = _replay_per_rank(profile, layout, addr)
    dma_ns = float(loads.max()) * slice_bytes / _dpu_rate(pim)
    alu_ns = float(loads.max()) * (-(-t.dim // g_size)) * pim.op_cycles(t.dtype, "add") / (
        pim.lanes * pim.clock_mhz * 1e-3)
    bag = np.repeat(np.arange(k.batch), np.diff(offsets))
    partials = int(np.unique(bag * n_groups + group).size)  # (bag, group) partial sums
    t_in = _host_link(profile, pim, layout, f"{k.name}:idx", (idx.size + k.batch + 1)
                      * DPU_INDEX_BYTES, chans, True)
    t_out = _host_link(profile, pim, layout, f"{k.name}:partials", partials * t.row_bytes,
                       chans, False)
    return _dpu_finish(profile, pim, k, chans, core, t_in, t_out, dma_ns=dma_ns,
                       alu_ns=alu_ns, alu_ops=idx.size * t.dim,
                       internal=idx.size * t.row_bytes, op_cycles=pim.op_cycles(t.dtype, "add"),
                       host_flops=(partials - k.batch) * t.dim,
                       host_bytes=partials * t.row_bytes,
                       extra={"lookups": int(idx.size), "replicated_rows": int(hot.size),
                              "max_unit_lookups": int(loads.max()), "partials": partials,
                              "dpu_group_size": g_size})


def _dpu_gemm(profile: Profile, pim: PimSection, k: Gemm, layout: Layout,
              chans: tuple[int, ...]) -> KernelCost:
    n_dpu = len(chans) * pim.units_per_channel
    db = DTYPE_BYTES[k.dtype]
    rows_per_dpu = -(-k.n // n_dpu)
    w_dpu = k.k * rows_per_dpu * db
    per_pass = max(1, (pim.wram_bytes // 2) // max(1, k.k * db)) if pim.wram_bytes else 1
    passes = -(-k.m // per_pass)
    addr = layout.weight_addresses(k.weight or k.name, k.resident_bytes(), channels=chans)
    core = _replay_per_rank(profile, layout, addr, repeat=passes)
    dma_ns = w_dpu * passes / _dpu_rate(pim)
    alu_ns = k.m * k.k * rows_per_dpu * pim.op_cycles(k.dtype, "mac") / (
        pim.lanes * pim.clock_mhz * 1e-3)
    copies = max(1, pim.units_per_channel // DPU_CHIPS_PER_RANK // max(1, profile.dram.ranks))
    t_in = _host_link(profile, pim, layout, f"{k.name}:x", k.input_bytes() * copies, chans,
                      True)
    t_out = _host_link(profile, pim, layout, f"{k.name}:y", k.output_bytes(), chans, False)
    return _dpu_finish(profile, pim, k, chans, core, t_in, t_out, dma_ns=dma_ns,
                       alu_ns=alu_ns, alu_ops=k.macs(), internal=k.resident_bytes() * passes,
                       op_cycles=pim.op_cycles(k.dtype, "mac"),
                       extra={"passes": passes})


def _dpu_elementwise(profile: Profile, pim: PimSection, k: Elementwise, layout: Layout,
                     chans: tuple[int, ...]) -> KernelCost:
    n_dpu = len(chans) * pim.units_per_channel
    rd = layout.buffer_addresses(f"{k.name}:in", k.input_bytes(), channels=chans)
    wr = layout.buffer_addresses(f"{k.name}:out", k.output_bytes(), channels=chans)
    addr = np.concatenate([rd, wr])
    is_write = np.concatenate([np.zeros(rd.size, bool), np.ones(wr.size, bool)])
    core = _replay_per_rank(profile, layout, addr, is_write=is_write)
    per_dpu = -(-(k.m * k.n) // n_dpu)
    dma_ns = per_dpu * (k.inputs + 1) * DTYPE_BYTES[k.dtype] / _dpu_rate(pim)
    ops = max(k.flops(), k.m * k.n)
    alu_ns = per_dpu * (ops / (k.m * k.n)) * pim.op_cycles(k.dtype, "add") / (
        pim.lanes * pim.clock_mhz * 1e-3)
    return _dpu_finish(profile, pim, k, chans, core, (MemCost(), 0.0), (MemCost(), 0.0),
                       dma_ns=dma_ns, alu_ns=alu_ns, alu_ops=ops,
                       internal=k.input_bytes() + k.output_bytes(),
                       op_cycles=pim.op_cycles(k.dtype, "add"))


def _transfer(profile: Profile, pim: PimSection, k: Transfer, layout: Layout,
              chans: tuple[int, ...]) -> KernelCost:
    mem, t_ns = _host_link(profile, pim, layout, k.name, k.bytes, chans,
                           k.direction == "host_to_pim")
    cost = _cost(profile, pim, k, chans, mem, alu_ops=0, alu_ns=0.0, internal_bytes=0,
                 host_bytes=k.bytes)
    cost.time_ns = max(cost.time_ns, t_ns)
    return cost
