"""Trace replay: a request stream through the DRAM engine, with energy and a summary.

``replay(profile, addresses, is_write, arrival_cycles)`` validates the input, runs
:func:`pimsim.dram.run_requests` and charges energy with :func:`pimsim.energy.dram_energy`.
Energy is charged per bank operation: an all-bank (PIM) command counts once per bank it
acts on, and internal column accesses (RDI/WRI/...) are charged as RD/WR array accesses
without I/O energy (only bytes that cross the external bus pay ``io_pj_per_bit``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from pimsim.dram import DramResult, run_requests
from pimsim.energy import EnergyBreakdown, dram_energy
from pimsim.errors import PimsimError
from pimsim.hw.schema import Profile
from pimsim.standards import base_command

if TYPE_CHECKING:
    import pandas as pd

def energy_counts(result: DramResult) -> dict[str, int]:
    """Command counts for :func:`pimsim.energy.dram_energy`: bank operations per base
    command (ACT, PRE, RD, WR, RDA, WRA), PREA and REF per command."""
    counts: dict[str, int] = {}
    for name, ops in result.bank_ops.items():
        if name in ("PREA", "REF"):
            continue
        base = base_command(name)
        counts[base] = counts.get(base, 0) + int(ops)
    for name in ("PREA", "REF"):
        if result.command_counts.get(name):
            counts[name] = int(result.command_counts[name])
    return counts


@dataclass
class ReplayResult:
    """A replay: the engine's result, the energy, and the profile's clock."""

    dram: DramResult
    energy: EnergyBreakdown
    tck_ns: float
    profile_name: str = ""
    #: the request kinds (to tell reads from writes in latency figures)
    is_write: np.ndarray | None = None

    @property
    def cycles(self) -> int:
        return int(self.dram.total_cycles)

    @property
    def time_ns(self) -> float:
        return self.cycles * self.tck_ns

    def read_latencies_ns(self) -> np.ndarray:
        """Per read: admission to data return (queueing included), in ns; a streamed
        replay that did not keep its per-request cycles raises PimsimError."""
        d = self.dram
        if d.admit_cycle is None or d.complete_cycle is None:
            raise PimsimError("read_latencies_ns: this replay did not keep its per-request "
                              "cycles; accepted: a replay with per-request results kept")
        reads = np.ones(d.admit_cycle.shape[0], dtype=bool)
        if self.is_write is not None:
            reads = ~self.is_write
        return (d.complete_cycle[reads] - d.admit_cycle[reads]) * self.tck_ns

    def summary(self) -> dict[str, Any]:
        """Cycles, time, bandwidth, latency, row-hit rate, energy by component (floats)."""
        d = self.dram
        t_ns = self.time_ns
        moved = d.bytes_read + d.bytes_written
        out: dict[str, Any] = {
            "profile": self.profile_name,
            "requests": d.requests,
            "reads": d.reads,
            "writes": d.writes,
            "cycles": self.cycles,
            "time_ns": t_ns,
            "seconds": t_ns * 1e-9,
            "bandwidth_gbps": moved / t_ns if t_ns > 0 else 0.0,
            "avg_read_latency_ns": d.avg_read_latency_cycles * self.tck_ns,
            "row_hit_rate": d.row_hit_rate,
            "row_hits": d.row_hits,
            "row_misses": d.row_misses,
            "row_conflicts": d.row_conflicts,
            "bytes_read": d.bytes_read,
            "bytes_written": d.bytes_written,
            "internal_bytes": d.internal_bytes,
        }
        for key, value in self.energy.as_dict().items():
            name = key[:-3] if key.endswith("_pj") else key
            out[f"energy_{name}_pj"] = float(value)
        return out

    def to_frame(self) -> pd.DataFrame:
        """The summary as a one-row DataFrame."""
        import pandas as pd  # lazy: 0.12 s of import (-X importtime); pimsim replay never needs it
        return pd.DataFrame([self.summary()])


def replay(profile: Profile, addresses: npt.ArrayLike, is_write: npt.ArrayLike,
           arrival_cycles: npt.ArrayLike, *, flags: npt.ArrayLike | None = None,
           record_commands: bool = False) -> ReplayResult:
    """Replay a request stream on ``profile`` and charge its energy.

    ``addresses``: byte addresses (integers, 0 .. capacity - 1); ``is_write``: bool or 0/1;
    ``arrival_cycles``: non-decreasing memory cycles; bad input raises ``PimsimError``.
    """
    res = run_requests(profile, addresses, is_write, arrival_cycles, flags=flags,
                       record_commands=record_commands)
    return replay_result(profile, res, np.asarray(is_write).astype(bool))


def replay_result(profile: Profile, res: DramResult,
                  is_write: np.ndarray | None = None) -> ReplayResult:
    """The engine's result ``res`` on ``profile`` with its energy charged."""
    energy = dram_energy(
        profile,
        energy_counts(res),
        elapsed_cycles=res.total_cycles,
        external_bytes=res.bytes_read + res.bytes_written,
    )
    return ReplayResult(dram=res, energy=energy, tck_ns=float(profile.timing.tCK_ns),
                        profile_name=profile.name, is_write=is_write)
