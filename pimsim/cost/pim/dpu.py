"""``dpu`` (UPMEM): a 32-bit general-purpose core per MRAM bank, fed by MRAM->WRAM DMA.

Embedding pooling, GEMM and elementwise kernels. Rows / output rows are partitioned over
the DPUs; each DPU DMAs its data MRAM->WRAM, every transfer costing ``dma_setup_cycles +
bytes / dma_bytes_per_cycle`` (PrIM's alpha + beta x size), in transfers of at most
``dma_max_bytes``, and computes with ``cycles_per_op`` cycles per lane operation (floats
are emulated). Host->DPU copies go over the DDR bus (the engine) capped at
``host_link_gbps`` per rank, DPU->host copies at ``host_link_out_gbps``; they run before
and after the DPUs compute, so the kernel's time, and the background energy, span copies
and compute. The DPUs draw ``unit_power_mw`` each over the DPU phase (their published
power under load, scaled with the clock from the clock it was published at), besides the
per-cycle ALU energy. Times in cycles (ALU, DMA) scale with ``clock_mhz``.

Embedding tables are mapped to DPU groups: each table of a batch gets its own share of
the DPUs (the tables are pooled at the same time, each kernel holding the channels only
for its copies); within it a group of ``row_bytes / slice_bytes`` DPUs holds every column
of its rows (each DPU one slice of ``slice_bytes``), rows are spread over the groups, and
a bag returns one partial row per group it touches, which the host adds. (The table's
MRAM accesses are replayed over all banks of the ranks, not only its group's: the DPU
phase is bound by each DPU's DMA and ALU time, which are counted per DPU.)
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from pimsim.cost.layout import Layout, assign_hot_to_units, hot_rows
from pimsim.cost.memory import MemCost
from pimsim.cost.pim.base import PimKind, PimWork, replay_per_rank
from pimsim.hw.dtypes import nbytes
from pimsim.workload import Elementwise, EmbeddingBag, Gemm

_NO_COPY: tuple[MemCost, float] = (MemCost(), 0.0)


class DpuKind(PimKind):
    """UPMEM DPUs (Gomez-Luna et al., IEEE Access 2022)."""

    name: ClassVar[str] = "dpu"
    modelled_ops: ClassVar[tuple[str, ...]] = ("embedding_bag", "gemm", "elementwise")
    replicates_hot_rows: ClassVar[bool] = True

    def channel_bandwidth_gbps(self, dtype: str) -> float:
        """Every DPU's MRAM->WRAM DMA rate."""
        p = self.pim
        return p.units_per_channel * p.dma_bytes_per_cycle * p.clock_mhz * 1e-3

    def host_link_gbps(self, write: bool = True) -> float | None:
        p = self.pim
        return p.host_link_gbps if write else (p.host_link_out_gbps or p.host_link_gbps)

    def _n_dpu(self) -> int:
        return len(self.chans) * self.pim.units_per_channel

    def _lane_ns(self, lane_ops: float, dtype: str, op: str) -> float:
        """Time of ``lane_ops`` operations on one DPU."""
        p = self.pim
        return lane_ops * p.op_cycles(dtype, op) / (p.lanes_for(dtype) * p.clock_mhz * 1e-3)

    def _finish(self, core: MemCost, t_in: tuple[MemCost, float],
                t_out: tuple[MemCost, float], *, dma_ns: float, alu_ns: float,
                alu_ops: float, internal: int, op_cycles: float, dtype: str,
                host_flops: float = 0.0,
                host_bytes: float = 0.0, extra: dict[str, Any] | None = None,
                dpus: int | None = None, unit: str | None = None) -> PimWork:
        """The work of a kernel on ``dpus`` DPUs (default: all), in unit group ``unit``
        (default: the kind's; a group of its own also holds the channels for its copies
        only, so groups of different tables overlap)."""
        n = self._n_dpu() if dpus is None else dpus
        share = n / self._n_dpu()
        mem = (core + t_in[0] + t_out[0]).refresh_share(share)
        mem.cycles = core.cycles  # the copies' times are added as phases, not as cycles
        dpu_ns = max(core.cycles * self.profile.timing.tCK_ns, alu_ns, dma_ns)
        span = dpu_ns + t_in[1] + t_out[1]
        return PimWork(
            mem, alu_ops=alu_ops, alu_ns=max(alu_ns, dma_ns), internal_bytes=internal,
            op_cycles=op_cycles, dtype=dtype, extra_ns=t_in[1] + t_out[1], host_flops=host_flops,
            host_bytes=host_bytes, background_ns=span,
            unit_energy_pj=n * self.pim.unit_power_at_clock_mw() * dpu_ns, rank_share=share,
            unit=unit, copy_ns=(t_in[1], t_out[1]) if unit else None,
            extra={**(extra or {}), "transfer_in_ns": t_in[1], "transfer_out_ns": t_out[1],
                   "dma_ns": dma_ns, "dpus": n})

    def embedding_bag(self, k: EmbeddingBag, layout: Layout, rng: np.random.Generator,
                      replicate: int, cache_share: int = 1) -> PimWork:
        """The table gets ``1 / cache_share`` of the DPUs (the engine passes the number of
        embedding kernels on PIM: each table its own DPUs, the tables pooled at once).
        Its rows are split over row groups (row mod groups); inside a group of G DPUs each
        DPU holds ``row_bytes / G`` bytes (a column slice of ``slice_bytes``) of its rows,
        so a bag needs one partial sum per group it touches, not one per DPU."""
        pim = self.pim
        t = k.tbl
        offsets, idx = k.bag_indices(rng)
        slice_cap = pim.slice_bytes or pim.access_bytes
        g_size = int(min(self._n_dpu(), max(1, -(-t.row_bytes // slice_cap))))
        n_dpu = max(g_size, self._n_dpu() // max(1, cache_share))
        n_groups = max(1, n_dpu // g_size)
        dpus = n_groups * g_size
        hot = hot_rows(idx, replicate)
        group = assign_hot_to_units(idx, idx % n_groups, hot, n_groups)
        loads = np.bincount(group, minlength=n_groups)
        slice_bytes = -(-t.row_bytes // g_size)
        addr = layout.embedding_addresses(k.table, idx, t.row_bytes, t.bytes,
                                          channels=self.chans)
        core = replay_per_rank(self.profile, layout, addr)
        dma_ns = pim.dma_ns(float(loads.max()), float(loads.max()) * slice_bytes)
        # per element read: a pooling add, and a dequantising multiply-add if quantised
        elems = float(loads.max()) * (-(-t.dim // g_size))
        alu_ns = self._lane_ns(elems, t.dtype, "add")
        cyc_add, cyc_mac = pim.op_cycles(t.dtype, "add"), pim.op_cycles(t.dtype, "mac")
        ops_per_elem, cycles_per_elem = 1.0, cyc_add
        if t.quantised:
            alu_ns += self._lane_ns(elems, t.dtype, "mac")
            ops_per_elem, cycles_per_elem = 2.0, cyc_add + cyc_mac
        bag = np.repeat(np.arange(k.batch), np.diff(offsets))
        partials = int(np.unique(bag * n_groups + group).size)  # (bag, group) partial sums
        t_in = self.host_link(layout, f"{k.name}:idx",
                              (idx.size + k.batch + 1) * pim.index_bytes, True)
        t_out = self.host_link(layout, f"{k.name}:partials", partials * t.pooled_row_bytes,
                               False)
        return self._finish(core, t_in, t_out, dma_ns=dma_ns, alu_ns=alu_ns,
                            alu_ops=idx.size * t.dim * ops_per_elem,
                            internal=idx.size * t.row_bytes,
                            op_cycles=cycles_per_elem / ops_per_elem, dtype=t.dtype,
                            host_flops=(partials - k.batch) * t.dim,
                            host_bytes=partials * t.pooled_row_bytes,
                            extra={"lookups": int(idx.size), "replicated_rows": int(hot.size),
                                   "max_unit_lookups": int(loads.max()),
                                   "partials": partials, "dpu_group_size": g_size},
                            dpus=dpus,
                            unit=f"{self.unit()}:{k.table}" if cache_share > 1 else None)

    def gemm(self, k: Gemm, layout: Layout) -> PimWork:
        pim = self.pim
        n_dpu = self._n_dpu()
        rows_per_dpu = -(-k.n // n_dpu)
        w_dpu = nbytes(k.dtype, k.k * rows_per_dpu)
        # the input rows of a pass fill half the WRAM (the other half buffers the weights)
        per_pass = (max(1, (pim.wram_bytes // 2) // max(1, nbytes(k.dtype, k.k)))
                    if pim.wram_bytes else 1)
        passes = -(-k.m // per_pass)
        addr = layout.weight_addresses(k.weight or k.name, k.resident_bytes(),
                                       channels=self.chans)
        core = replay_per_rank(self.profile, layout, addr, repeat=passes)
        dma_ns = pim.dma_ns(-(-w_dpu // pim.dma_max_bytes) * passes, w_dpu * passes)
        alu_ns = self._lane_ns(k.m * k.k * rows_per_dpu, k.dtype, "mac")
        # a host write reaches one DPU in each chip of a rank at once: the input vector
        # goes over the bus once per DPU of a chip
        copies = max(1, pim.units_per_channel // pim.chips_per_rank
                     // max(1, self.profile.dram.ranks))
        t_in = self.host_link(layout, f"{k.name}:x", k.input_bytes() * copies, True)
        t_out = self.host_link(layout, f"{k.name}:y", k.output_bytes(), False)
        return self._finish(core, t_in, t_out, dma_ns=dma_ns, alu_ns=alu_ns,
                            alu_ops=k.macs(), internal=k.resident_bytes() * passes,
                            op_cycles=pim.op_cycles(k.dtype, "mac"), dtype=k.dtype,
                            extra={"passes": passes})

    def elementwise(self, k: Elementwise, layout: Layout) -> PimWork:
        pim = self.pim
        n_dpu = self._n_dpu()
        rd = layout.buffer_addresses(f"{k.name}:in", k.input_bytes(), channels=self.chans)
        wr = layout.buffer_addresses(f"{k.name}:out", k.output_bytes(), channels=self.chans)
        addr = np.concatenate([rd, wr])
        is_write = np.concatenate([np.zeros(rd.size, bool), np.ones(wr.size, bool)])
        core = replay_per_rank(self.profile, layout, addr, is_write=is_write)
        per_dpu = -(-(k.m * k.n) // n_dpu)
        dma_bytes = nbytes(k.dtype, per_dpu * (k.inputs + 1))
        dma_ns = pim.dma_ns(-(-dma_bytes // pim.dma_max_bytes), dma_bytes)
        ops = max(k.flops(), k.m * k.n)
        alu_ns = self._lane_ns(per_dpu * (ops / (k.m * k.n)), k.dtype, "add")
        return self._finish(core, _NO_COPY, _NO_COPY, dma_ns=dma_ns, alu_ns=alu_ns,
                            alu_ops=ops, internal=k.input_bytes() + k.output_bytes(),
                            op_cycles=pim.op_cycles(k.dtype, "add"), dtype=k.dtype)
