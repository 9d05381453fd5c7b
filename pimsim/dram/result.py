"""DramResult: what one replay produced, built from the kernel's arrays."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

import numpy as np

from pimsim.dram.codes import (
    FLAG_ALL_BANK, FLAG_INTERNAL, ROLE_ACT, ROLE_PRE, ROLE_PREA, ROLE_RD, ROLE_REF, ROLE_WR,
    S_CONFLICTS, S_HITS, S_MERGED_RD, S_MERGED_WR, S_MISSES, S_STEPS,
)
from pimsim.standards import CompiledTiming

if TYPE_CHECKING:
    import pandas as pd

#: suffix of an all-bank command's name in command_counts and the command log
ALL_BANK_SUFFIX = "_AB"


@dataclass
class DramResult:
    """What one replay produced. Cycles are memory-clock cycles."""

    #: per request (``None`` when a streamed replay did not keep them)
    admit_cycle: np.ndarray | None
    complete_cycle: np.ndarray | None
    total_cycles: int
    command_counts: dict[str, int]
    row_hits: int
    row_misses: int
    row_conflicts: int
    reads: int
    writes: int
    bytes_read: int
    bytes_written: int
    internal_bytes: int = 0
    bank_ops: dict[str, int] = field(default_factory=dict)
    command_log: pd.DataFrame | None = None
    #: requests served without a command of their own (a pending read or write to the
    #: same address served them); their bytes are not in bytes_read / bytes_written
    merged_reads: int = 0
    merged_writes: int = 0
    #: event-loop iterations (a speed diagnostic; a replay in channel groups adds the
    #: groups' iterations)
    sim_steps: int = 0
    #: requests replayed, and the sum over reads of completion - admission cycles
    requests: int = 0
    read_latency_cycles: int = 0

    @property
    def bank_ops_total(self) -> int:
        return int(sum(self.bank_ops.values()))

    @property
    def avg_read_latency_cycles(self) -> float:
        return self.read_latency_cycles / self.reads if self.reads else 0.0

    @property
    def row_hit_rate(self) -> float:
        n = self.row_hits + self.row_misses
        return self.row_hits / n if n else 0.0


def _command_counts(ct: CompiledTiming, counts: np.ndarray, bank_ops: np.ndarray
                    ) -> tuple[dict[str, int], dict[str, int]]:
    """Commands by name (all-bank ACT/PRE/column commands as NAME_AB; PREA and REF always
    act on a whole rank, so they keep their name) and bank operations by base command."""
    cmd_counts: dict[str, int] = {}
    ops: dict[str, int] = {}
    for i, name in enumerate(ct.names):
        if counts[i, 0]:
            cmd_counts[name] = int(counts[i, 0])
        if counts[i, 1] and ct.role[i] not in (ROLE_PREA, ROLE_REF):
            cmd_counts[name + ALL_BANK_SUFFIX] = int(counts[i, 1])
        elif counts[i, 1]:
            cmd_counts[name] = cmd_counts.get(name, 0) + int(counts[i, 1])
        if bank_ops[i]:
            ops[name] = int(bank_ops[i])
    return cmd_counts, ops


def command_log_frame(ct: CompiledTiming, log, n: int, nb_rank: int, banks_per_group: int
                      ) -> pd.DataFrame:  # noqa: ANN001 - pimsim.dram.state.CommandLog
    """The first ``n`` entries of the kernel's command log as a table; bank group and
    bank are -1 for commands to a whole rank."""
    import pandas as pd  # lazy: 0.12 s of import (-X importtime); a replay without a log never needs it
    lg = type(log)(*(a[:n] for a in log))
    names = np.array(ct.names, dtype=object)
    cmd_names = names[lg.cmd]
    ab_mask = (lg.all_bank == 1) & np.isin(ct.role[lg.cmd], [ROLE_ACT, ROLE_PRE, ROLE_RD,
                                                               ROLE_WR])
    cmd_names = np.where(ab_mask, cmd_names + ALL_BANK_SUFFIX, cmd_names)
    in_rank = np.where(lg.bank >= 0, lg.bank % nb_rank, -1)
    single = (lg.bank >= 0) & ~ab_mask
    return pd.DataFrame({
        "cycle": lg.cycle,
        "command": cmd_names,
        "channel": lg.channel,
        "rank": lg.rank,
        "bankgroup": np.where(single, in_rank // banks_per_group, -1),
        "bank": np.where(single, in_rank % banks_per_group, -1),
        "row": lg.row,
        "column": lg.column,
        "request": lg.request,
    })


@dataclass
class RequestTotals:
    """What the summary needs of the per-request results, summed: a streamed replay adds
    these up chunk by chunk instead of keeping every request."""

    requests: int = 0
    reads: int = 0
    writes: int = 0
    external_reads: int = 0
    external_writes: int = 0
    internal_bank_accesses: int = 0   #: banks reached by internal requests (all-bank: all)
    read_latency_cycles: int = 0      #: sum over reads of complete - admit
    end_cycle: int = 0                #: latest completion

    def add(self, admit: np.ndarray, complete: np.ndarray, wr: np.ndarray, fl: np.ndarray,
            nb_rank: int) -> None:
        """Add requests with these admission / completion cycles, writes and flags."""
        reads = wr == 0
        internal = (fl & FLAG_INTERNAL) != 0
        self.requests += int(wr.shape[0])
        self.reads += int(reads.sum())
        self.writes += int(wr.shape[0]) - int(reads.sum())
        self.external_reads += int((reads & ~internal).sum())
        self.external_writes += int((~reads & ~internal).sum())
        all_bank = (fl[internal] & FLAG_ALL_BANK) != 0
        self.internal_bank_accesses += int(np.where(all_bank, nb_rank, 1).sum())
        self.read_latency_cycles += int((complete[reads] - admit[reads]).sum())
        if complete.shape[0]:
            self.end_cycle = max(self.end_cycle, int(complete.max()))

    @classmethod
    def sum(cls, parts: Iterable[RequestTotals]) -> RequestTotals:
        """The totals of several disjoint sets of requests together."""
        out = cls()
        for part in parts:
            for f in fields(cls):
                mine, theirs = getattr(out, f.name), getattr(part, f.name)
                both = max(mine, theirs) if f.name == "end_cycle" else mine + theirs
                setattr(out, f.name, both)
        return out


def dram_result(out, ct: CompiledTiming, wr: np.ndarray, fl: np.ndarray,  # noqa: ANN001
                transaction_bytes: int, nb_rank: int, log: pd.DataFrame | None) -> DramResult:
    """The DramResult of the kernel's :class:`~pimsim.dram.state.Outcome` ``out``."""
    totals = RequestTotals()
    totals.add(out.admit, out.complete, wr, fl, nb_rank)
    return totals_result(totals, out.counts, out.bank_ops, out.stats, ct, transaction_bytes,
                         out.admit, out.complete, log)


def totals_result(totals: RequestTotals, counts: np.ndarray, bank_ops: np.ndarray,
                  stats: np.ndarray, ct: CompiledTiming, transaction_bytes: int,
                  admit: np.ndarray | None = None, complete: np.ndarray | None = None,
                  log: pd.DataFrame | None = None) -> DramResult:
    """The DramResult of a replay's request totals and command counts; the per-request
    cycles when kept (``None`` when a streamed replay did not keep them)."""
    cmd_counts, ops = _command_counts(ct, counts, bank_ops)
    tb = int(transaction_bytes)
    return DramResult(
        admit_cycle=admit,
        complete_cycle=complete,
        total_cycles=totals.end_cycle,
        command_counts=cmd_counts,
        row_hits=int(stats[S_HITS]),
        row_misses=int(stats[S_MISSES]),
        row_conflicts=int(stats[S_CONFLICTS]),
        reads=totals.reads,
        writes=totals.writes,
        bytes_read=(totals.external_reads - int(stats[S_MERGED_RD])) * tb,
        bytes_written=(totals.external_writes - int(stats[S_MERGED_WR])) * tb,
        merged_reads=int(stats[S_MERGED_RD]),
        merged_writes=int(stats[S_MERGED_WR]),
        sim_steps=int(stats[S_STEPS]),
        internal_bytes=totals.internal_bank_accesses * tb,
        bank_ops=ops,
        command_log=log,
        requests=totals.requests,
        read_latency_cycles=totals.read_latency_cycles,
    )
