"""Row policies: what a column command does to its row.

``ROW_OPEN`` keeps the row open after RD/WR (later hits are served without an ACT; a
conflict needs a PRE). ``ROW_CLOSE`` issues the auto-precharge forms RDA/WRA (RDAI/WRAI
for internal accesses), so the bank is precharged once the column command completes and
every access needs an ACT. The policy is a compile-time literal of the kernel.
"""

from __future__ import annotations

from pimsim.dram.codes import ROW_CLOSE
from pimsim.util.jit import njit


@njit(inline="always")
def column_command(tm, row_policy, is_write, internal):  # noqa: ANN001, ANN201
    """The column command id of an access under ``row_policy``."""
    return tm.col_cmd[is_write, 1 if row_policy == ROW_CLOSE else 0, internal]


@njit(inline="always")
def after_column(banks, b, row_policy):  # noqa: ANN001
    """Bank ``b`` served a column command: one more hit on its row; auto-precharge closes
    the row under ``ROW_CLOSE``."""
    banks.hit_cnt[b] += 1
    if row_policy == ROW_CLOSE:
        banks.open_row[b] = -1
        banks.hit_cnt[b] = 0
