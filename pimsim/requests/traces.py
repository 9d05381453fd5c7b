"""The standard request traces of ``../shared/reference/README.md``.

All requests are 64-byte reads. ``seq``, ``rand``, ``embed`` and ``gemv`` are due at cycle 0
(a saturating in-order stream: the front end admits them as fast as the queues accept);
``idle`` issues one read every 1,000 memory cycles (unloaded latency). Random traces take a
seeded ``numpy.random.Generator``; the same seed gives the same trace.
"""

from __future__ import annotations

import numpy as np

from pimsim.errors import PimsimError
from pimsim.requests.arrays import Requests
from pimsim.util.rng import DEFAULT_ZIPF_S, zipf_ranks_exact

#: Bytes of every request of the standard traces: one 64-byte cache line (reference README).
REQUEST_BYTES = 64
GIB = 1 << 30
TRACE_NAMES: tuple[str, ...] = ("seq", "rand", "embed", "gemv", "idle")


def _reads(name: str, addresses: np.ndarray, arrival: np.ndarray | None = None) -> Requests:
    n = addresses.shape[0]
    return Requests(
        name=name,
        addresses=addresses.astype(np.int64),
        is_write=np.zeros(n, dtype=bool),
        arrival_cycles=np.zeros(n, dtype=np.int64) if arrival is None else arrival.astype(np.int64),
    )


def seq_trace(n: int = 100_000) -> Requests:
    """``n`` sequential 64 B reads from address 0."""
    return _reads("seq", np.arange(n, dtype=np.int64) * REQUEST_BYTES)


def rand_trace(rng: np.random.Generator, n: int = 100_000, span_bytes: int = GIB) -> Requests:
    """``n`` uniformly random 64 B-aligned reads over ``span_bytes``."""
    lines = rng.integers(0, span_bytes // REQUEST_BYTES, size=n, dtype=np.int64)
    return _reads("rand", lines * REQUEST_BYTES)


def embed_trace(rng: np.random.Generator, *, bags: int = 2_000, lookups_per_bag: int = 80,
                rows: int = 1_000_000, row_bytes: int = 256,
                zipf_s: float = DEFAULT_ZIPF_S) -> Requests:
    """Embedding-bag gather: exact Zipf(``zipf_s``) ranks over 1..rows, mapped to row ids by a
    fixed random permutation, each row read as ``row_bytes / 64`` consecutive 64 B reads;
    table at address 0."""
    if row_bytes % REQUEST_BYTES:
        raise PimsimError(f"embed_trace: row_bytes = {row_bytes}; accepted: a multiple of 64")
    perm = rng.permutation(rows)
    ranks = zipf_ranks_exact(rng, rows, zipf_s, bags * lookups_per_bag)
    row_ids = perm[ranks - 1].astype(np.int64)
    per_row = row_bytes // REQUEST_BYTES
    offsets = np.arange(per_row, dtype=np.int64) * REQUEST_BYTES
    addr = row_ids[:, None] * row_bytes + offsets[None, :]
    return _reads("embed", addr.reshape(-1))


def gemv_trace(rows: int = 512, cols: int = 512, elem_bytes: int = 4) -> Requests:
    """A ``rows x cols`` matrix read sequentially in 64 B reads."""
    total = rows * cols * elem_bytes
    return _reads("gemv", np.arange(total // REQUEST_BYTES, dtype=np.int64) * REQUEST_BYTES)


def idle_trace(
    rng: np.random.Generator, n: int = 2_000, interval_cycles: int = 1_000, span_bytes: int = GIB
) -> Requests:
    """``n`` random 64 B reads over ``span_bytes``, one every ``interval_cycles``."""
    lines = rng.integers(0, span_bytes // REQUEST_BYTES, size=n, dtype=np.int64)
    arrival = np.arange(n, dtype=np.int64) * interval_cycles
    return _reads("idle", lines * REQUEST_BYTES, arrival)


def standard_trace(name: str, seed: int = 0) -> Requests:
    """The standard trace ``name`` (one of :data:`TRACE_NAMES`) with a fixed seed."""
    rng = np.random.default_rng(seed)
    if name == "seq":
        return seq_trace()
    if name == "rand":
        return rand_trace(rng)
    if name == "embed":
        return embed_trace(rng)
    if name == "gemv":
        return gemv_trace()
    if name == "idle":
        return idle_trace(rng)
    raise PimsimError(f"standard trace {name!r} unknown; accepted: {', '.join(TRACE_NAMES)}")


def standard_traces(seed: int = 0) -> dict[str, Requests]:
    """All standard traces, in :data:`TRACE_NAMES` order."""
    return {name: standard_trace(name, seed) for name in TRACE_NAMES}
