"""The host: a roofline (peak FLOP/s) on top of the profile's DRAM for its memory traffic.

A host kernel costs ``max(compute_ns, dram_ns)``: compute is FLOPs at the host's peak,
memory is the kernel's real address stream (from :mod:`pimsim.cost.layout`) replayed
through the DRAM engine (:func:`pimsim.cost.memory.replay_stream`) as a saturating
stream. An optional LLC keeps whole embedding rows, LRU by row (:mod:`pimsim.cost.llc`):
lookups that hit never reach the DRAM. The LLC is shared equally by the workload's
embedding kernels (each simulated with its share, cold at the start of the batch).

What reaches the DRAM on the host: embedding rows (gather), GEMM weights (read once per
kernel; activations of a batch stay in the caches), transfers. Interaction and
elementwise kernels work on activations in the caches and cost compute only.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from pimsim.cost.layout import Layout, interleave_streams
from pimsim.cost.llc import lru_row_hits
from pimsim.cost.memory import KernelCost, MemCost, mem_energy, replay_stream
from pimsim.hw.host import host_section
from pimsim.hw.schema import Profile
from pimsim.workload import EmbeddingBag, Gemm, Transfer


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
    elif isinstance(kernel, Gemm):
        addrs = layout.weight_addresses(kernel.weight or kernel.name, kernel.resident_bytes())
        mem = replay_stream(profile, interleave_streams(addrs, host.cores, layout.cols_per_row), False)
        moved = kernel.resident_bytes()
    elif isinstance(kernel, Transfer):
        addrs = layout.buffer_addresses(kernel.name, kernel.bytes)
        mem = replay_stream(profile, interleave_streams(addrs, host.cores, layout.cols_per_row),
                            kernel.direction == "host_to_pim")
        moved = kernel.bytes
    compute_ns = host.compute_ns(flops)
    dram_ns = mem.cycles * profile.timing.tCK_ns
    energy = mem_energy(profile, mem, profile.dram.channels)
    energy = dataclasses.replace(energy, host_pj=flops * host.pj_per_flop
                                 + moved * host.pj_per_byte)
    return KernelCost(
        name=kernel.name, op=kernel.op, placement="host", unit="host",
        channels=tuple(range(profile.dram.channels)) if mem.requests else (),
        time_ns=max(compute_ns, dram_ns), dram_ns=dram_ns, compute_ns=compute_ns,
        counts=mem.counts, external_bytes=mem.external_bytes,
        internal_bytes=mem.internal_bytes, flops=flops, energy=energy, fallback=fallback,
        extra=extra,
    )
