"""The controller's front end: in-order admission into the per-channel transaction
queues (and write buffers, :mod:`pimsim.dram.writebuf`), and the move of one transaction a
cycle into its command queue.

Requests are admitted in order, never before their arrival cycle, as many per cycle as
the target channel's transaction queue (a buffered write: its write buffer) accepts; a
full queue stalls the whole stream (head-of-line). A read whose address is already pending
is served by the earlier read (no new command); a read of an address with a pending write
is forwarded from it (done one cycle later); a write to an address with a pending write
merges into it. Requests with PIM flags never merge.
"""

from __future__ import annotations

from pimsim.dram.codes import FLAG_ALL_BANK, S_MERGED_RD, S_MERGED_WR
from pimsim.dram.issue import address_bucket
from pimsim.dram.scheduler import add_entry_bound
from pimsim.util.jit import njit


@njit(inline="always")
def is_buffered(req, geo, j):  # noqa: ANN001, ANN201
    """Request ``j`` goes to its channel's write buffer: a plain write (no PIM flags, whose
    order with the PIM work around it matters) on a controller with a write buffer."""
    return geo.wb_size > 0 and req.is_write[j] == 1 and req.flags[j] == 0


@njit(inline="always")
def has_room(req, tq, wb, geo, j):  # noqa: ANN001, ANN201
    """Request ``j``'s queue (transaction queue or write buffer) has a free entry."""
    c = req.channel[j]
    if is_buffered(req, geo, j):
        return wb.length[c] < geo.wb_size
    return tq.length[c] < geo.tq_size


@njit(inline="always")
def admit_arrived(req, tq, wb, q, geo, chans, out, fe, t, outstanding, last_progress):  # noqa: ANN001, ANN201
    """Admit requests from ``fe`` on that have arrived by ``t``. Returns the updated
    (next request, requests outstanding, last cycle of progress)."""
    n = req.channel.shape[0]
    while fe < n and req.arrival[fe] <= t:
        j = fe
        c = req.channel[j]
        if not has_room(req, tq, wb, geo, j):
            break
        out.admit[j] = t
        last_progress = t
        # merge with the latest pending request to the same address (same bank)
        Q = req.queue[j]
        aj = req.address[j]
        best = -1
        hj = address_bucket(aj)
        if tq.pending[hj] > 0:  # some pending request may have this address
            for k in range(q.length[Q]):
                o = q.req[Q, k]
                if q.addr[Q, k] == aj and o > best:
                    best = o
            for k in range(tq.length[c]):
                o = tq.req[c, k]
                if tq.addr[c, k] == aj and o > best:
                    best = o
            for k in range(wb.length[c]):
                o = wb.req[c, k]
                if wb.addr[c, k] == aj and o > best:
                    best = o
        merged = False
        if best >= 0 and req.flags[j] == 0 and req.flags[best] == 0:
            if req.is_write[j] == 0 and req.is_write[best] == 0:
                out.leader[j] = best
                merged = True
            elif req.is_write[best] == 1:
                out.complete[j] = t + 1
                merged = True
            if merged:
                if req.is_write[j] == 0:
                    out.stats[S_MERGED_RD] += 1
                else:
                    out.stats[S_MERGED_WR] += 1
        if not merged:
            if is_buffered(req, geo, j):
                m = wb.length[c]
                wb.req[c, m] = j
                wb.addr[c, m] = aj
                wb.queue[c, m] = Q
                wb.length[c] += 1
            else:
                m = tq.length[c]
                tq.req[c, m] = j
                tq.addr[c, m] = aj
                tq.queue[c, m] = Q
                tq.length[c] += 1
                tq.blocked[c] = False
            outstanding += 1
            tq.pending[hj] += 1
            if chans.next_wake[c] > t:
                chans.next_wake[c] = t
        fe += 1
    return fe, outstanding, last_progress


@njit(inline="always")
def wake_buffered(wb, chans, geo, t):  # noqa: ANN001
    """The stream has ended: every channel with buffered writes is due at ``t`` (its
    writes may drain now)."""
    if geo.wb_size > 0:
        for c in range(geo.n_ch):
            if wb.length[c] > 0 and chans.next_wake[c] > t:
                chans.next_wake[c] = t


@njit(inline="always")
def enqueue(req, q, banks, tm, geo, c, Q, j, addr, t, scheduler, row_policy):  # noqa: ANN001
    """Request ``j`` (byte address ``addr``) joins command queue ``Q`` (channel ``c``,
    with room) at ``t``, and the queue's bounds take it in."""
    m = q.length[Q]
    q.req[Q, m] = j
    q.bank[Q, m] = req.bank[j]
    q.bankgroup[Q, m] = req.bankgroup[j]
    q.rank[Q, m] = req.rank[j]
    q.row[Q, m] = req.row[j]
    q.addr[Q, m] = addr
    q.is_write[Q, m] = req.is_write[j]
    q.flags[Q, m] = req.flags[j]
    q.length[Q] += 1
    if q.dirty[Q] or (q.flags[Q, m] & FLAG_ALL_BANK) != 0:
        # an all-bank entry depends on every bank of its rank: rescan the queue
        if q.lb[Q] > t + 1:
            q.lb[Q] = t + 1
        q.dirty[Q] = True
    else:
        add_entry_bound(q, banks, tm, geo, c, Q, m, t, scheduler, row_policy)


@njit(inline="always")
def move_transaction(req, tq, q, banks, tm, geo, c, t, scheduler, row_policy):  # noqa: ANN001, ANN201
    """Move the oldest transaction of channel ``c`` whose command queue has room into it.
    Returns whether one moved; when none can, the channel's queue is marked blocked until
    a command queue or the transaction queue changes."""
    if tq.length[c] == 0 or tq.blocked[c]:
        return False
    for k in range(tq.length[c]):
        Q = tq.queue[c, k]
        if q.length[Q] >= geo.cq_size:
            continue
        enqueue(req, q, banks, tm, geo, c, Q, tq.req[c, k], tq.addr[c, k], t, scheduler,
                row_policy)
        for k2 in range(k, tq.length[c] - 1):
            tq.req[c, k2] = tq.req[c, k2 + 1]
            tq.addr[c, k2] = tq.addr[c, k2 + 1]
            tq.queue[c, k2] = tq.queue[c, k2 + 1]
        tq.length[c] -= 1
        return True
    tq.blocked[c] = True
    return False
