"""The host: a processor (see :mod:`pimsim.hw.host`) on top of the profile's DRAM.

A host kernel costs ``launch_ns + max(compute_ns, dram_ns)``. Compute is the kernel's
FLOPs at the peak of its data type; a GEMM's at the efficiency of its output shape (tile
and wave quantisation). Memory is the kernel's real address stream (from
:mod:`pimsim.cost.layout`) replayed through the DRAM engine
(:func:`pimsim.cost.memory.replay_stream`) as a saturating stream. An optional LLC keeps
whole embedding rows, LRU by row (:mod:`pimsim.cost.llc`): lookups that hit never reach
the DRAM. The LLC is shared equally by the workload's embedding kernels (each simulated
with its share, cold at the start of the batch).

What reaches the DRAM on the host: embedding rows (gather), GEMM weights (read once per
kernel), transfers, and the activations of a GEMM, interaction or elementwise kernel
(inputs read, output written) when they do not fit in the LLC; kernels whose activations
fit work on them in the caches. Pooling runs at the FP32 rate of the vector units; a
row-wise quantised table costs its dequantising multiply-add per element read
(:meth:`pimsim.workload.EmbeddingBag.dequant_macs`). Energy: dynamic energy per FLOP of
the data type,
per byte moved, and the host's static power over the kernel's time (``host_static_pj``;
the schedule charges the idle rest).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from pimsim.cost.layout import Layout, interleave_streams
from pimsim.cost.llc import lru_row_hits
from pimsim.cost.memory import KernelCost, MemCost, mem_energy, replay_stream
from pimsim.hw.host import HostSection, host_section
from pimsim.hw.schema import Profile
from pimsim.workload import EmbeddingBag, Gemm, Transfer


def _activations_spill(host: HostSection, kernel: Any) -> bool:
    """Whether the kernel's activations (inputs and output) exceed the LLC (weights
    stream through it once and are not kept)."""
    if isinstance(kernel, (EmbeddingBag, Transfer)):
        return False
    data = kernel.input_bytes() + kernel.output_bytes()
    return host.llc is None or data > host.llc.capacity_bytes


def _compute_dtype(kernel: Any) -> str | None:
    """The type the host computes ``kernel`` in: pooling (and dequantisation) on the
    vector units at FP32, every other kernel in its own type."""
    if isinstance(kernel, EmbeddingBag):
        return "fp32"
    return getattr(kernel, "dtype", None)


def _compute_ns(host: HostSection, kernel: Any, flops: int) -> float:
    dtype = _compute_dtype(kernel)
    if isinstance(kernel, Gemm):
        return host.gemm_compute_ns(kernel.m, kernel.n, kernel.k, flops, dtype)
    return host.compute_ns(flops, dtype)


def host_kernel_cost(
    profile: Profile,
    kernel: Any,
    layout: Layout,
    rng: np.random.Generator,
    *,
    llc_share: int = 1,
    fallback: bool = False,
) -> KernelCost:
    """Cost of ``kernel`` on the host of ``profile`` (see the module docstring)."""
    host = host_section(profile)
    flops = int(kernel.flops())
    mem = MemCost()
    moved = 0
    extra: dict[str, Any] = {}
    cols = layout.cols_per_row
    if isinstance(kernel, EmbeddingBag):
        _, idx = kernel.bag_indices(rng)
        rows = idx
        if host.llc is not None:
            row_lines = -(-kernel.tbl.row_bytes // host.llc.line_bytes)
            cap = host.llc.capacity_bytes // max(1, llc_share) // (row_lines * host.llc.line_bytes)
            hits = lru_row_hits(idx, cap)
            rows = idx[~hits]
            extra["llc_hits"] = int(hits.sum())
        addrs = layout.embedding_addresses(kernel.table, rows, kernel.tbl.row_bytes,
                                           kernel.tbl.bytes)
        mem = replay_stream(profile, addrs, False)
        moved = rows.size * kernel.tbl.row_bytes
    elif isinstance(kernel, Transfer):
        addrs = layout.buffer_addresses(kernel.name, kernel.bytes)
        mem = replay_stream(profile, interleave_streams(addrs, host.cores, cols),
                            kernel.direction == "host_to_pim")
        moved = kernel.bytes
    else:
        streams, writes = [], []
        if isinstance(kernel, Gemm):
            w = layout.weight_addresses(kernel.weight or kernel.name, kernel.resident_bytes())
            streams.append(interleave_streams(w, host.cores, cols))
            writes.append(np.zeros(w.size, bool))
            moved = kernel.resident_bytes()
        if _activations_spill(host, kernel):
            a_in = layout.buffer_addresses(f"{kernel.name}:act_in", kernel.input_bytes())
            a_out = layout.buffer_addresses(f"{kernel.name}:act_out", kernel.output_bytes())
            streams += [interleave_streams(a_in, host.cores, cols),
                        interleave_streams(a_out, host.cores, cols)]
            writes += [np.zeros(a_in.size, bool), np.ones(a_out.size, bool)]
            moved += kernel.input_bytes() + kernel.output_bytes()
            extra["activation_bytes"] = kernel.input_bytes() + kernel.output_bytes()
        if streams:
            mem = replay_stream(profile, np.concatenate(streams), np.concatenate(writes))
    compute_ns = _compute_ns(host, kernel, flops)
    dram_ns = mem.cycles * profile.timing.tCK_ns
    time_ns = host.launch_ns + max(compute_ns, dram_ns)
    energy = mem_energy(profile, mem, profile.dram.channels)
    energy = dataclasses.replace(
        energy, host_pj=flops * host.pj_per_flop_for(_compute_dtype(kernel))
        + moved * host.pj_per_byte, host_static_pj=host.static_pj(time_ns))
    if isinstance(kernel, Gemm):
        extra["host_efficiency"] = host.gemm_efficiency(kernel.m, kernel.n, kernel.k)
    return KernelCost(
        name=kernel.name, op=kernel.op, placement="host", unit="host",
        channels=tuple(range(profile.dram.channels)) if mem.requests else (),
        time_ns=time_ns, dram_ns=dram_ns, compute_ns=compute_ns,
        counts=mem.counts, external_bytes=mem.external_bytes,
        internal_bytes=mem.internal_bytes, flops=flops, energy=energy, fallback=fallback,
        extra=extra, launch_ns=host.launch_ns, channel_hold="memory",
    )
