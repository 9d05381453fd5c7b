"""The host: a roofline (peak FLOP/s) on top of the profile's DRAM for its memory traffic.

A host kernel costs ``max(compute_ns, dram_ns)``: compute is FLOPs at the host's peak,
memory is the kernel's real address stream (from :mod:`pimsim.layout`) replayed through
the Numba DRAM engine (:func:`pimsim.dram.run_requests`) as a saturating stream (every
request due at cycle 0). An optional LLC keeps whole embedding rows, LRU by row: lookups
that hit never reach the DRAM. The LLC is shared equally by the workload's embedding
kernels (each simulated with its share, cold at the start of the batch).

What reaches the DRAM on the host: embedding rows (gather), GEMM weights (read once per
kernel; activations of a batch stay in the caches), transfers. Interaction and
elementwise kernels work on activations in the caches and cost compute only.

:class:`KernelCost` (also produced by :mod:`pimsim.pim`) is what the SimPy layer schedules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np

from pimsim.energy import dram_energy
from pimsim.errors import PimsimError
from pimsim.layout import Layout
from pimsim.profile import Profile
from pimsim.profile_sections import HostSection
from pimsim.workload import EmbeddingBag, Gemm, Transfer

#: DRAM engine flags (pimsim.dram): column access without the external bus / all-bank.
FLAG_INTERNAL = 1
FLAG_ALL_BANK = 2


def _add_counts(a: dict[str, float], b: dict[str, float], f: float = 1.0) -> dict[str, float]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0.0) + v * f
    return out


@dataclass
class MemCost:
    """A request stream replayed through the DRAM engine.

    ``counts``: commands issued by kind (``ACT_AB`` = one all-bank ACT); ``ops``:
    bank-level operations by base command (an all-bank ACT on 16 banks = 16), which is
    what energy is charged on.
    """

    cycles: float = 0.0
    counts: dict[str, float] = field(default_factory=dict)
    external_bytes: int = 0
    internal_bytes: int = 0
    requests: int = 0
    ops: dict[str, float] = field(default_factory=dict)

    def __add__(self, o: "MemCost") -> "MemCost":
        return MemCost(self.cycles + o.cycles, _add_counts(self.counts, o.counts),
                       self.external_bytes + o.external_bytes,
                       self.internal_bytes + o.internal_bytes, self.requests + o.requests,
                       _add_counts(self.ops, o.ops))

    def scaled(self, f: float) -> "MemCost":
        """The cost of ``f`` identical copies run one after the other."""
        return MemCost(self.cycles * f, {k: v * f for k, v in self.counts.items()},
                       int(round(self.external_bytes * f)), int(round(self.internal_bytes * f)),
                       int(round(self.requests * f)), {k: v * f for k, v in self.ops.items()})


@dataclass
class KernelCost:
    """What running one kernel costs, before scheduling (start/end come from the engine)."""

    name: str
    op: str
    placement: str
    unit: str
    channels: tuple[int, ...]
    time_ns: float
    dram_ns: float
    compute_ns: float
    counts: dict[str, float]
    external_bytes: int
    internal_bytes: int
    flops: int
    energy_pj: dict[str, float]
    fallback: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def replay_stream(
    profile: Profile,
    addresses: np.ndarray,
    is_write: np.ndarray | bool = False,
    flags: np.ndarray | int | None = None,
    repeat: float = 1.0,
) -> MemCost:
    """Replay a request stream (all due at cycle 0) and return its cost.

    ``repeat`` > 1 stands for the stream run ``repeat`` times back to back: the stream is
    replayed once and twice, and the cost extrapolated linearly from the difference (the
    steady state of a periodic stream), so long repeated streams cost two replays.
    """
    from pimsim.dram import run_requests

    addr = np.ascontiguousarray(addresses, dtype=np.uint64)
    n = addr.size
    if n == 0:
        return MemCost()
    w = np.broadcast_to(np.asarray(is_write, dtype=np.bool_), (n,)).copy()
    fl = None
    if flags is not None:
        fl = np.broadcast_to(np.asarray(flags, dtype=np.uint8), (n,)).copy()

    def run(k: int) -> MemCost:
        a = np.tile(addr, k)
        arrival = np.zeros(a.size, dtype=np.int64)
        res = run_requests(profile, a, np.tile(w, k), arrival,
                           flags=None if fl is None else np.tile(fl, k))
        counts = {str(c): float(v) for c, v in dict(res.command_counts).items()}
        # energy is charged per bank operation, except rank-wide REF / PREA (per command)
        ops = {str(c): float(v) for c, v in dict(res.bank_ops).items()
               if c not in ("REF", "PREA")} or {k: v for k, v in counts.items()}
        for c in ("REF", "PREA"):
            if c in counts:
                ops[c] = counts[c]
        ext = int(res.bytes_read) + int(res.bytes_written)
        return MemCost(float(res.total_cycles), counts, ext, int(res.internal_bytes), a.size,
                       ops)

    one = run(1)
    if repeat <= 1.0:
        return one
    # Simulate enough copies to cover two refresh intervals, so that refresh is part of the
    # per-copy step; short totals are simulated whole.
    k = max(1, int(np.ceil(2.0 * profile.timing.tREFI / max(one.cycles, 1.0))))
    if 2 * k >= repeat:
        return run(int(np.ceil(repeat)))
    first = run(k) if k > 1 else one
    second = run(2 * k)
    step = MemCost(
        max(second.cycles - first.cycles, 0.0),
        _add_counts(second.counts, first.counts, -1.0),
        second.external_bytes - first.external_bytes,
        second.internal_bytes - first.internal_bytes,
        second.requests - first.requests,
        _add_counts(second.ops, first.ops, -1.0),
    ).scaled(1.0 / k)
    return first + step.scaled(repeat - k)


def mem_energy_pj(profile: Profile, mem: MemCost, channels: int) -> dict[str, float]:
    """DRAM energy components (trace naming) of a replayed stream.

    Background is charged for the ranks of the ``channels`` channels the kernel occupies,
    over the stream's cycles; commands by the engine's counts; I/O by external bytes.
    """
    counts = base_command_counts(profile, mem.ops)
    eb = dram_energy(profile, counts, int(round(mem.cycles)), int(mem.external_bytes),
                     ranks=max(1, channels) * profile.dram.ranks)
    return {"act_pj": eb.act_pj, "rdwr_pj": eb.read_pj + eb.write_pj, "ref_pj": eb.ref_pj,
            "background_pj": eb.background_pj, "io_pj": eb.io_pj,
            "pim_alu_pj": eb.pim_alu_pj, "host_pj": 0.0}


def base_command_counts(profile: Profile, counts: dict[str, float]) -> dict[str, int]:
    """Bank-level operation counts in the energy table's base commands.

    An all-bank command (``X_AB``, when given command counts rather than the engine's
    ``bank_ops``) acts on every bank of the rank: it costs ``banks_per_rank`` base
    commands. An internal column command (``RDI``, ``WRAI``, ...) costs the array energy
    of its external form (IDD4R/IDD4W exclude the I/O, whose energy is charged per
    external byte instead).
    """
    out: dict[str, float] = {}
    for name, n in counts.items():
        base, mult = name, 1
        if base.endswith("_AB"):
            base, mult = base[:-3], profile.banks_per_rank
        if base in ("RDI", "WRI", "RDAI", "WRAI"):
            base = base[:-1]
        out[base] = out.get(base, 0.0) + float(n) * mult
    return {k: max(0, int(round(v))) for k, v in out.items()}


def host_section(profile: Profile) -> HostSection:
    h = profile.host
    if h is None:
        raise PimsimError(
            f"profile {profile.name!r}: no 'host' section; host kernels need host.peak_gflops, "
            "cores, pj_per_flop and pj_per_byte"
        )
    return h


# --- LLC: LRU by embedding row --------------------------------------------------------
@numba.njit(cache=True)
def _lru_hits(ids: np.ndarray, n_unique: int, capacity: int) -> np.ndarray:
    """Hit flags of an LRU cache of ``capacity`` rows over the access sequence ``ids``.

    An access hits when fewer than ``capacity`` distinct other rows were touched since the
    previous access to the same row (stack distance), counted with a Fenwick tree.
    """
    n = ids.size
    last = np.full(n_unique, -1, np.int64)
    tree = np.zeros(n + 1, np.int64)
    hits = np.zeros(n, np.bool_)
    for i in range(n):
        x = ids[i]
        p = last[x]
        if p >= 0:
            # marks at positions p+1 .. i-1 = prefix(i-1) - prefix(p)
            s = 0
            j = i  # prefix over positions 0..i-1 (1-based index i)
            while j > 0:
                s += tree[j]
                j -= j & (-j)
            j = p + 1
            while j > 0:
                s -= tree[j]
                j -= j & (-j)
            if s < capacity:
                hits[i] = True
            j = p + 1
            while j <= n:
                tree[j] -= 1
                j += j & (-j)
        j = i + 1
        while j <= n:
            tree[j] += 1
            j += j & (-j)
        last[x] = i
    return hits


def lru_row_hits(rows: np.ndarray, capacity_rows: int) -> np.ndarray:
    """Boolean hit flags of an LRU cache holding ``capacity_rows`` rows."""
    if rows.size == 0 or capacity_rows <= 0:
        return np.zeros(rows.size, dtype=np.bool_)
    uniq, inv = np.unique(rows, return_inverse=True)
    return _lru_hits(inv.astype(np.int64), int(uniq.size), int(capacity_rows))


def interleave_streams(addrs: np.ndarray, cores: int, block: int) -> np.ndarray:
    """A sequential stream read by ``cores`` cores together: the cores take consecutive
    blocks of ``block`` requests (one DRAM row each) round-robin, and their requests reach
    the controller interleaved. Neighbouring blocks lie in different banks / bank groups
    under the usual mappings, so the stream spreads over them as a multi-core scan does."""
    n = addrs.size
    span = cores * block
    if cores <= 1 or n <= block:
        return addrs
    groups = -(-n // span)
    pad = np.full(groups * span - n, -1, dtype=np.int64)
    grid = np.concatenate([addrs.astype(np.int64), pad]).reshape(groups, cores, block)
    out = grid.transpose(0, 2, 1).ravel()
    return out[out >= 0].astype(np.uint64)


# --- host kernels ---------------------------------------------------------------------
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
    energy = mem_energy_pj(profile, mem, profile.dram.channels)
    energy["host_pj"] = flops * host.pj_per_flop + moved * host.pj_per_byte
    return KernelCost(
        name=kernel.name, op=kernel.op, placement="host", unit="host",
        channels=tuple(range(profile.dram.channels)) if mem.requests else (),
        time_ns=max(compute_ns, dram_ns), dram_ns=dram_ns, compute_ns=compute_ns,
        counts=mem.counts, external_bytes=mem.external_bytes,
        internal_bytes=mem.internal_bytes, flops=flops, energy_pj=energy, fallback=fallback,
        extra=extra,
    )
