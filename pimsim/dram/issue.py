"""Issuing a queue entry's command: timing, counts, bank state, and for a column command
the request's completion and its removal from the queue.

A read completes (data returned) ``CL + burst`` cycles after its RD, a write ``CWL +
burst`` after its WR. The first column access after an ACT counts as a row miss
(DRAMsim3's convention); every on-demand PRE counts as a row conflict. An all-bank
command updates every bank of the rank and counts one command, ``bank_ops`` one
operation per bank it acts on.
"""

from __future__ import annotations

from pimsim.dram.codes import (
    PEND_BUCKETS, PEND_FOLD_SHIFT, ROLE_ACT, ROLE_PRE, ROLE_WR, S_CONFLICTS, S_HITS, S_MISSES,
)
from pimsim.dram.rowpolicy import after_column
from pimsim.dram.timing import apply_timing
from pimsim.util.jit import njit


@njit(inline="always")
def address_bucket(a):  # noqa: ANN001, ANN201
    """Bucket of byte address ``a`` in admission's pending-address filter."""
    return (a ^ (a >> PEND_FOLD_SHIFT)) & (PEND_BUCKETS - 1)


@njit(inline="always")
def dequeue(q, Q, k):  # noqa: ANN001
    """Remove entry ``k`` of command queue ``Q``, keeping the others in order."""
    for k2 in range(k, q.length[Q] - 1):
        q.req[Q, k2] = q.req[Q, k2 + 1]
        q.bank[Q, k2] = q.bank[Q, k2 + 1]
        q.bankgroup[Q, k2] = q.bankgroup[Q, k2 + 1]
        q.rank[Q, k2] = q.rank[Q, k2 + 1]
        q.row[Q, k2] = q.row[Q, k2 + 1]
        q.addr[Q, k2] = q.addr[Q, k2 + 1]
        q.is_write[Q, k2] = q.is_write[Q, k2 + 1]
        q.flags[Q, k2] = q.flags[Q, k2 + 1]
    q.length[Q] -= 1


@njit(inline="always")
def issue_queue_command(req, q, tq, banks, tm, geo, out, c, Q, k, j, RK, B, G, cmd, ab, t,  # noqa: ANN001, ANN201
                        row_policy):
    """Issue ``cmd`` for entry ``k`` (request ``j``, bank ``B``, bank group ``G``, rank
    ``RK``) of queue ``Q`` at ``t``; ``ab``: to every bank of the rank. Returns whether the
    request was served (its column command)."""
    rl = tm.role[cmd]
    apply_timing(tm, banks, geo, c, RK, B, G, cmd, t, ab)
    out.counts[cmd, 1 if ab else 0] += 1
    b_lo = RK * geo.nb_rank if ab else B
    b_hi = b_lo + geo.nb_rank if ab else B + 1
    if rl == ROLE_ACT:
        for b in range(b_lo, b_hi):
            banks.open_row[b] = req.row[j]
            banks.hit_cnt[b] = 0
        out.bank_ops[cmd] += b_hi - b_lo
        return False
    if rl == ROLE_PRE:
        n_open = 0
        for b in range(b_lo, b_hi):
            if banks.open_row[b] >= 0:
                n_open += 1
            banks.open_row[b] = -1
            banks.hit_cnt[b] = 0
        out.bank_ops[cmd] += n_open
        out.stats[S_CONFLICTS] += 1
        return False
    if banks.hit_cnt[B] > 0:
        out.stats[S_HITS] += 1
    else:
        out.stats[S_MISSES] += 1
    for b in range(b_lo, b_hi):
        after_column(banks, b, row_policy)
    out.bank_ops[cmd] += b_hi - b_lo
    out.complete[j] = t + (tm.write_delay if rl == ROLE_WR else tm.read_delay)
    dequeue(q, Q, k)
    tq.pending[address_bucket(req.address[j])] -= 1
    tq.blocked[c] = False
    return True
