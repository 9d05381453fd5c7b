"""The compiled main loop: admission, one step per due channel, the jump to the next
cycle at which anything can happen.

Each cycle, per channel: (1) refresh (:mod:`pimsim.dram.refresh`); (2) one command
from the command queues, round robin over the queues, each queue's pick by the scheduler
(:mod:`pimsim.dram.scheduler`); a standard with a dual command bus (HBM2) may issue a
second command of the other bus (row / column) in the same cycle; (3) one transaction
from the transaction queue, or while a drain runs from the write buffer, to its command
queue (:mod:`pimsim.dram.frontend`, :mod:`pimsim.dram.writebuf`).

The loop jumps over idle time: each channel keeps the next cycle at which it can act,
each queue a lower bound on when its first command can be ready. Timing only moves
forward, so a bound stays valid until its queue or its banks change, and a queue is only
skipped when none of its commands can be ready: the bounds change speed, never results.
With no request outstanding the loop still steps through each refresh until the next
arrival (a sparse stream pays per tREFI, not per cycle).

The loop's position (next request, requests outstanding, cycle) lives in an array, so
:func:`resume` continues a replay where the last call stopped: a stream fed in chunks, or
one group of channels (pimsim.dram.stream, pimsim.dram.chunked).

``scheduler``, ``row_policy``, ``refresh_kind``, ``record`` (the command log) and
``pim`` (some request carries a flag) are compile-time literals: each combination is its
own machine code, in which the branches they decide are folded away.
"""

from __future__ import annotations

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from pimsim.dram.cmdlog import record_command
from pimsim.dram.codes import (
    BUS_COLUMN, BUS_ROW, INF, MASK_MAX_QUEUES, REFRESH_ALL_BANK, ROLE_PRE, ROLE_RD, ROLE_WR,
    S_END, S_STATUS, S_STEPS, STATUS_STALLED,
)
from pimsim.dram.frontend import admit_arrived, has_room, wake_buffered
from pimsim.dram.issue import issue_queue_command
from pimsim.dram.refresh import any_waiting, new_refresh, next_refresh_due, refresh_step
from pimsim.dram.scheduler import (
    bounds_after_issue, bounds_after_precharge, mark_rank_dirty, pick_command,
)
from pimsim.dram.state import (
    N_SCAL, NO_REFCOUNT, SCAL_CYCLE, SCAL_NEXT, SCAL_OUTSTANDING, SCAL_PROGRESS, channels,
    cmd_queues, new_banks, new_channels, new_cmd_queues, new_command_log, new_outcome,
    new_trans_queues, trans_queues,
)
from pimsim.dram.writebuf import move_next, new_write_buffers, write_buffers
from pimsim.util.jit import njit


@njit(inline="always")
def candidate_mask(q, geo, c, t):  # noqa: ANN001, ANN201
    """Channel ``c``'s queues that may issue at ``t`` (non-empty, bound reached) as bits
    of an int64; all bits set when the channel has more queues than the mask holds."""
    if geo.nq_ch > MASK_MAX_QUEUES:
        return np.int64(-1)
    cand = np.int64(0)
    base = c * geo.nq_ch
    # slices: indices from range() are non-negative, so the loop reads contiguous memory
    # (no negative-index fix-up, no gathers) and vectorises
    qlen_c = q.length[base:base + geo.nq_ch]
    qlb_c = q.lb[base:base + geo.nq_ch]
    for qi in range(geo.nq_ch):
        ok = np.int64(qlen_c[qi] > 0) & np.int64(qlb_c[qi] <= t)
        cand |= ok << qi
    return cand


@njit(inline="always")
def command_bus(role):  # noqa: ANN001, ANN201
    return BUS_COLUMN if role == ROLE_RD or role == ROLE_WR else BUS_ROW


@njit(inline="always")
def schedule_channel(req, q, tq, banks, tm, geo, chans, ref, out, log, c, t, issued,  # noqa: ANN001, ANN201
                     first_bus, scheduler, row_policy, record, pim):
    """Step (2) for channel ``c``: ``issued`` commands (refresh's) so far this cycle.
    Returns (requests served, whether the channel must come back at ``t + 1``)."""
    served = 0
    wake = False
    attempts = 2 if geo.dual_bus else 1
    nq = geo.nq_ch
    cand = candidate_mask(q, geo, c, t)
    while issued < attempts and cand != 0:
        did_issue = False
        start = chans.rr[c] + 1
        if start >= nq:
            start -= nq
        # the candidates in round-robin order (queue start, start + 1, ...): the mask
        # rotated so that bit i is queue start + i, walked set bit by set bit
        rot = np.int64(0)
        if nq <= MASK_MAX_QUEUES:
            rot = ((cand >> start) | (cand << (nq - start))) & ((np.int64(1) << nq) - 1)
        pos = -1
        while True:
            if nq <= MASK_MAX_QUEUES:
                if rot == 0:
                    break
                pos = trailing_zeros(rot)
                rot &= rot - 1
            else:
                pos += 1
                if pos >= nq:
                    break
            qi = start + pos
            if qi >= nq:
                qi -= nq
            Q = c * nq + qi
            if q.length[Q] == 0 or q.lb[Q] > t:
                continue
            RKq = c * geo.n_rk + geo.q_rank[qi]
            if ref.pending[RKq]:
                continue
            k, cmd, ab = pick_command(q, banks, tm, geo, c, Q, RKq, t, scheduler, row_policy,
                                      pim, out.stats)
            if k < 0:
                continue
            bus = command_bus(tm.role[cmd])
            chans.rr[c] = qi
            if issued == 1 and bus == first_bus:
                break
            j = q.req[Q, k]
            B = req.bank[j]
            G = req.bankgroup[j]
            RK = c * geo.n_rk + req.rank[j]
            if issue_queue_command(req, q, tq, banks, tm, geo, out, c, Q, k, j, RK, B, G, cmd,
                                   ab, t, row_policy):
                served += 1
            if pim:
                q.lb[Q] = t + 1
                q.dirty[Q] = True
                wake = True
            elif tm.role[cmd] == ROLE_PRE and geo.per_bank:
                bounds_after_precharge(q, banks, tm, c, Q, RK, B, G, t)
            elif q.length[Q] > 0:
                bounds_after_issue(q, banks, tm, geo, c, Q, t, scheduler, row_policy)
            else:
                q.lb[Q] = t + 1
                q.dirty[Q] = True
            if ab:
                mark_rank_dirty(q, geo, c, req.rank[j], t)
            if record:
                record_command(log, out.stats, t, cmd, ab, c, req.rank[j], B, req.row[j],
                               req.column[j], j)
            if issued == 0:
                first_bus = bus
            issued += 1
            did_issue = True
            break
        if not did_issue:
            break
    return served, wake


@njit(inline="always")
def channel_wake(q, ref, geo, c, t, soonest):  # noqa: ANN001, ANN201
    """Next cycle at which channel ``c`` can act, given refresh's ``soonest``."""
    nwk = next_refresh_due(ref, geo, c, soonest)
    base = c * geo.nq_ch
    if not any_waiting(ref, geo, c):
        qlen_c = q.length[base:base + geo.nq_ch]
        qlb_c = q.lb[base:base + geo.nq_ch]
        for qi in range(geo.nq_ch):  # branch-free minimum (contiguous, see candidate_mask)
            v = qlb_c[qi] if qlen_c[qi] > 0 else INF
            nwk = min(nwk, v)
    else:
        for qi in range(geo.nq_ch):
            Q = base + qi
            if q.length[Q] == 0 or ref.pending[c * geo.n_rk + geo.q_rank[qi]]:
                continue
            if q.lb[Q] < nwk:
                nwk = q.lb[Q]
    if nwk <= t:
        nwk = t + 1
    return nwk


@njit(cache=True, **NO_REFCOUNT)
def replay_loop(req, geo, tm, banks, tq_store, q_store, chan_store, ref, out, log, wb_store,  # noqa: ANN001, E501
                scheduler, row_policy, refresh_kind, record, pim, stall_limit, scal, final,
                until_t):
    """Run the cycles from the loop position ``scal`` (:data:`~pimsim.dram.state.SCAL_FIELDS`:
    next request, requests outstanding, cycle, last cycle of progress; written back at the
    end). The queues and channels arrive as their stores (state.py): their views are built
    here, so the compiled loop sees one shape per store instead of one per field.

    ``final``: no request follows ``req``: run until every request is served (or the stall
    limit is hit), and with ``until_t >= 0`` go on through cycle ``until_t`` (refreshes,
    never past it); ``scal``'s cycle is then the next one to run. Not ``final``: more
    requests follow: stop once every request of ``req`` is admitted and cycle ``until_t``
    is reached, right after that cycle's admission; fed more requests, the loop resumes
    with the admission of the same cycle, exactly as if the stream had been whole."""
    q = cmd_queues(q_store)
    tq = trans_queues(tq_store)
    chans = channels(chan_store)
    wb = write_buffers(wb_store)
    n = req.channel.shape[0]
    fe = scal[SCAL_NEXT]
    outstanding = scal[SCAL_OUTSTANDING]
    t = scal[SCAL_CYCLE]
    last_progress = scal[SCAL_PROGRESS]
    ended = False       # the end of the stream has woken the channels' write buffers
    while True:
        fe, outstanding, last_progress = admit_arrived(req, tq, wb, q, geo, chans, out, fe, t,
                                                       outstanding, last_progress)
        if final and fe >= n and not ended:
            wake_buffered(wb, chans, geo, t)
            ended = True
        if fe >= n:
            if not final and t >= until_t:
                break
            if final and outstanding == 0 and 0 <= until_t < t:
                break
        # the channels due now, as a list: the loop below then reads its channel index
        # from memory, so the compiler does not keep one induction variable per
        # channel-indexed array alive over every channel
        n_due = 0
        for c in range(geo.n_ch):
            if chans.next_wake[c] <= t:
                chans.due[n_due] = c
                n_due += 1
        for di in range(n_due):
            c = chans.due[di]
            ref_issued = 0
            first_bus = -1
            soonest = INF
            if refresh_kind == REFRESH_ALL_BANK:
                ref_issued, soonest = refresh_step(ref, banks, q, tm, geo, out, log, c, t,
                                                   record)
                if ref_issued:
                    first_bus = BUS_ROW
            served, wake = schedule_channel(req, q, tq, banks, tm, geo, chans, ref, out, log,
                                            c, t, ref_issued, first_bus, scheduler,
                                            row_policy, record, pim)
            if served:
                outstanding -= served
                last_progress = t
            moved = move_next(req, tq, wb, q, banks, tm, geo, c, t, scheduler, row_policy,
                              final and fe >= n)
            if wake or moved or ref_issued:
                chans.next_wake[c] = t + 1
            else:
                chans.next_wake[c] = channel_wake(q, ref, geo, c, t, soonest)
        if final and fe >= n and outstanding == 0 and t >= until_t:
            t += 1
            break
        tn = INF
        for c in range(geo.n_ch):
            if chans.next_wake[c] < tn:
                tn = chans.next_wake[c]
        if fe < n and has_room(req, tq, wb, geo, fe):
            a = req.arrival[fe]
            if a < t + 1:
                a = t + 1
            if a < tn:
                tn = a
        if not final and fe >= n and t < until_t < tn:
            tn = until_t
        if tn <= t:
            tn = t + 1
        out.stats[S_STEPS] += 1
        if outstanding > 0 and tn - last_progress > stall_limit:
            out.stats[S_STATUS] = STATUS_STALLED
            break
        t = tn
    scal[SCAL_NEXT] = fe
    scal[SCAL_OUTSTANDING] = outstanding
    scal[SCAL_CYCLE] = t
    scal[SCAL_PROGRESS] = last_progress


@njit(cache=True, nogil=True)
def resume(req, geo, tm, banks, tq_store, q_store, chan_store, ref, out, log, wb_store,  # noqa: ANN001
           scal, final, until_t, scheduler, row_policy, refresh_kind, record, pim,
           stall_limit):
    """:func:`replay_loop` from a kept state (a chunk of a stream, a channel group of a
    replay: pimsim.dram.stream); releases the GIL, so channel groups run in threads."""
    replay_loop(req, geo, tm, banks, tq_store, q_store, chan_store, ref, out, log, wb_store,
                scheduler, row_policy, refresh_kind, record, pim, stall_limit, scal, final,
                until_t)


@njit(cache=True)
def new_engine_state(geo, tm, log_cap):  # noqa: ANN001, ANN201
    """A fresh engine state in :func:`replay_loop`'s order: banks, transaction queues,
    command queues, channels, refresh, command log (``log_cap`` entries), write buffers.
    One compiled function for the whole replay and a lane alike: a lane's set-up loads one
    kernel from Numba's cache instead of one per store (a short replay's start loads 3
    instead of 9, about 0.03 s less)."""
    return (new_banks(geo, tm), new_trans_queues(geo), new_cmd_queues(geo), new_channels(geo),
            new_refresh(geo, tm), new_command_log(log_cap), new_write_buffers(geo))


@njit(cache=True, nogil=True)
def simulate(req, geo, tm, scheduler, row_policy, refresh_kind, record, pim, log_cap,  # noqa: ANN001, ANN201
             stall_limit):
    """Replay ``req`` (:class:`pimsim.dram.state.Requests`). Returns the
    :class:`~pimsim.dram.state.Outcome` and the :class:`~pimsim.dram.state.CommandLog`
    (``log_cap`` entries when ``record``; the count is ``stats[S_NLOG]``). Stops with
    ``stats[S_STATUS] = STATUS_STALLED`` when requests are outstanding and nothing
    progressed for ``stall_limit`` cycles."""
    n = req.channel.shape[0]
    out = new_outcome(n, tm.role.shape[0])
    banks, tq, q, chans, ref, log, wb = new_engine_state(geo, tm, log_cap if record else 1)
    replay_loop(req, geo, tm, banks, tq, q, chans, ref, out, log, wb, scheduler, row_policy,
                refresh_kind, record, pim, stall_limit, np.zeros(N_SCAL, dtype=np.int64),
                True, -1)
    end_cycle = np.int64(0)
    for j in range(n):
        if out.leader[j] >= 0:
            out.complete[j] = out.complete[out.leader[j]]
            if out.complete[j] < out.admit[j] + 1:
                out.complete[j] = out.admit[j] + 1
        if out.complete[j] > end_cycle:
            end_cycle = out.complete[j]
    out.stats[S_END] = end_cycle
    return out, log
