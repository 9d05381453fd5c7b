"""The command log: one entry per issued command, kept when the kernel is compiled with
``record`` (a literal: the plain replay carries no logging code)."""

from __future__ import annotations

from pimsim.dram.codes import S_NLOG
from pimsim.util.jit import njit


@njit(inline="always")
def record_command(log, stats, t, cmd, all_bank, c, r, B, row, column, request):  # noqa: ANN001
    """Append a command; past the log's capacity only count it (run_requests then replays
    with room for the count)."""
    n = stats[S_NLOG]
    if n < log.cycle.shape[0]:
        log.cycle[n] = t
        log.cmd[n] = cmd
        log.all_bank[n] = 1 if all_bank else 0
        log.channel[n] = c
        log.rank[n] = r
        log.bank[n] = B
        log.row[n] = row
        log.column[n] = column
        log.request[n] = request
    stats[S_NLOG] = n + 1
