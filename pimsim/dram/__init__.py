"""The request-replay engine: one DRAM controller per channel, compiled with Numba.

:func:`run_requests` replays a stream of byte-address requests through a profile's
memory system and returns a :class:`DramResult` (per-request admission and completion
cycles, command counts, row hits, bytes). The engine follows DRAMsim3's controller
(src/controller.cc and command_queue.cc, read as a spec), made of small compiled pieces:
:mod:`~pimsim.dram.frontend` (admission, transaction queues), :mod:`~pimsim.dram.scheduler`
(FR-FCFS / FCFS), :mod:`~pimsim.dram.writebuf` (the write buffer and its drain policy),
:mod:`~pimsim.dram.refresh` (all-bank refresh), :mod:`~pimsim.dram.rowpolicy` (open / close
page), :mod:`~pimsim.dram.timing` (constraint bookkeeping, on the tables of
:mod:`~pimsim.dram.tables`), :mod:`~pimsim.dram.issue`,
:mod:`~pimsim.dram.cmdlog` and the main loop in :mod:`~pimsim.dram.kernel`.

Differences from DRAMsim3, on purpose: a write completes when its data is written
(DRAMsim3 acknowledges it one cycle after admission) and the end of a stream drains the
write buffers; refresh closes the rank with one PREA (DRAMsim3 precharges bank by bank).
Writes with PIM flags stay in order with the PIM work around them (no write buffer).

PIM hooks, per request ``flags``:

- ``FLAG_INTERNAL`` (1): the column access does not use the external data bus (commands
  RDI/WRI, or RDAI/WRAI under close page, from :func:`pimsim.standards.with_pim_commands`):
  bank timing and row-buffer state apply; data-bus spacing and turnaround do not. Its bytes
  count as ``internal_bytes``.
- ``FLAG_ALL_BANK`` (2): all-bank broadcast, as Samsung Aquabolt-XL's (HBM-PIM) all-bank
  mode and SK hynix AiM's all-bank MAC (Lee et al., ISCA 2021; Kwon et al., ISSCC 2022):
  ACT, the column command and PRE are each ONE command on the command bus acting on every
  bank of the request's rank. Each bank's state and timing are updated and each bank must
  satisfy its own tRP/tRAS/tRC/tRCD; the broadcast ACT counts as ONE activation for tRRD
  and the tFAW window (a simplification: real devices may pace internal activations).
  Counted as ``ACT_AB``, ``RD_AB``, ``PRE_AB`` ... in ``command_counts``; ``bank_ops``
  counts bank-level operations per base command (16 per all-bank command on a 16-bank rank)
  so energy can be charged per bank. A non-internal all-bank write is a broadcast of one
  bus burst; its external bytes are one transaction.

Numba's on-disk cache keys each compiled function on its own source file only; on import
:mod:`~pimsim.dram.jitcache` drops the package's cached machine code when any of its
sources changed, so the kernel never runs the code of an old piece.

:func:`replay_chunks` replays a stream given chunk by chunk in bounded memory
(:mod:`~pimsim.dram.stream`), in parallel channel groups when they are independent
(:mod:`~pimsim.dram.chunked`), with the results of :func:`run_requests` on the whole.
"""

from pimsim.dram.address import AddressMapper, DecodedAddresses
from pimsim.dram.chunked import ReleaseSink, replay_chunks
from pimsim.dram.codes import FLAG_ALL_BANK, FLAG_INTERNAL
from pimsim.dram.jitcache import PACKAGE_DIR, cache_dir, purge_if_stale, sources_hash
from pimsim.dram.result import DramResult
from pimsim.dram.run import (
    DEFAULT_STALL_LIMIT_CYCLES, compiled_timing_for, run_requests, validate_requests,
)
from pimsim.dram.stream import Released

purge_if_stale(cache_dir(), sources_hash(PACKAGE_DIR))

__all__ = [
    "DEFAULT_STALL_LIMIT_CYCLES",
    "FLAG_ALL_BANK",
    "FLAG_INTERNAL",
    "AddressMapper",
    "DecodedAddresses",
    "DramResult",
    "ReleaseSink",
    "Released",
    "compiled_timing_for",
    "replay_chunks",
    "run_requests",
    "validate_requests",
]
