"""The write buffer of each channel and its drain policy (DRAMsim3's src/controller.cc,
``ScheduleTransaction``, read as a spec).

Plain writes wait in their channel's write buffer (``Geometry.wb_size`` entries), reads in
the transaction queue. One transaction a cycle moves into the command queues: a read,
except while the channel drains its buffer. A drain starts when the buffer is full, or
holds more than ``Geometry.wb_drain`` writes while every command queue of the channel is
empty, or the stream has ended and no read waits; it moves as many writes as the buffer
held when it started, oldest first that fits its command queue, one a cycle, and reads
wait meanwhile. A write with a read to its address still pending stops the drain (the read
was admitted first and must read the old data); the read moves in its place that cycle
(DRAMsim3 moves nothing that cycle, and with its buffer full starts the same drain again
next cycle, so such a read would wait for ever).

Differences from DRAMsim3, on purpose: a write completes when its data is written (the
engine's completion, not DRAMsim3's acknowledgement one cycle after admission); the end
of a stream drains the buffer (DRAMsim3 leaves up to ``wb_drain`` writes in it).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from pimsim.dram.frontend import enqueue, move_transaction
from pimsim.dram.issue import address_bucket
from pimsim.dram.state import NO_REFCOUNT
from pimsim.util.jit import njit


class WriteBuffers(NamedTuple):
    """Per channel, the buffered writes (oldest first) and the drain in progress."""

    req: np.ndarray           #: [channel, entry] request index
    addr: np.ndarray
    queue: np.ndarray         #: command queue of the entry
    length: np.ndarray        #: [channel]
    draining: np.ndarray      #: [channel] writes the current drain still moves (0: none)


class WriteBufferStore(NamedTuple):
    """The arrays behind :class:`WriteBuffers`: the per-entry fields as the rows of one
    ``[field, channel, entry]`` array and the per-channel counts as the rows of one
    ``[length / draining, channel]`` array (one shape each for the compiled loop, as
    :class:`pimsim.dram.state.CmdQueueStore`)."""

    entries: np.ndarray
    counts: np.ndarray


@njit(cache=True)
def new_write_buffers(geo):  # noqa: ANN001, ANN201
    size = max(1, geo.wb_size)
    return WriteBufferStore(np.zeros((3, geo.n_ch, size), dtype=np.int64),
                            np.zeros((2, geo.n_ch), dtype=np.int64))


@njit(inline="always")
def write_buffers(st):  # noqa: ANN001, ANN201
    """The :class:`WriteBuffers` view of a :class:`WriteBufferStore` (no copy)."""
    e = st.entries
    return WriteBuffers(e[0], e[1], e[2], st.counts[0], st.counts[1])


@njit(inline="always")
def command_queues_empty(q, geo, c):  # noqa: ANN001, ANN201
    for qi in range(geo.nq_ch):
        if q.length[c * geo.nq_ch + qi] > 0:
            return False
    return True


@njit(inline="always")
def drain_due(tq, wb, q, geo, c, stream_done):  # noqa: ANN001, ANN201
    """Channel ``c``'s buffer starts a drain (see the module docstring)."""
    n = wb.length[c]
    if n == 0:
        return False
    if n >= geo.wb_size:
        return True
    if stream_done and tq.length[c] == 0:
        return True
    return n > geo.wb_drain and command_queues_empty(q, geo, c)


@njit(inline="always")
def read_pending(req, tq, q, c, Q, a):  # noqa: ANN001, ANN201
    """A read of byte address ``a`` (command queue ``Q`` of channel ``c``) waits."""
    if tq.pending[address_bucket(a)] <= 1:  # only the write itself has this bucket
        return False
    for k in range(tq.length[c]):
        if tq.addr[c, k] == a and req.is_write[tq.req[c, k]] == 0:
            return True
    for k in range(q.length[Q]):
        if q.addr[Q, k] == a and q.is_write[Q, k] == 0:
            return True
    return False


@njit(inline="always")
def drain_one(req, tq, wb, q, banks, tm, geo, c, t, scheduler, row_policy):  # noqa: ANN001, ANN201
    """Move the oldest buffered write of channel ``c`` whose command queue has room.
    Returns (moved, stopped: the write waits for a pending read of its address)."""
    for k in range(wb.length[c]):
        Q = wb.queue[c, k]
        if q.length[Q] >= geo.cq_size:
            continue
        a = wb.addr[c, k]
        if read_pending(req, tq, q, c, Q, a):
            return False, True
        enqueue(req, q, banks, tm, geo, c, Q, wb.req[c, k], a, t, scheduler, row_policy)
        for k2 in range(k, wb.length[c] - 1):
            wb.req[c, k2] = wb.req[c, k2 + 1]
            wb.addr[c, k2] = wb.addr[c, k2 + 1]
            wb.queue[c, k2] = wb.queue[c, k2 + 1]
        wb.length[c] -= 1
        wb.draining[c] -= 1
        return True, False
    return False, False


@njit(cache=True, **NO_REFCOUNT)
def drain_step(req, tq, wb, q, banks, tm, geo, c, t, scheduler, row_policy, stream_done):  # noqa: ANN001, ANN201
    """The buffer's part of channel ``c``'s move at ``t`` (its buffer holds writes):
    start a drain if one is due, move a write if one runs. Returns (moved, whether the
    move is done: no read moves this cycle). A call, not inlined: the hot loop of a
    stream without buffered writes stays as small as without a buffer."""
    if wb.draining[c] == 0 and drain_due(tq, wb, q, geo, c, stream_done):
        wb.draining[c] = wb.length[c]
    if wb.draining[c] > 0:
        moved, stopped = drain_one(req, tq, wb, q, banks, tm, geo, c, t, scheduler,
                                   row_policy)
        if not stopped:
            return moved, True
        wb.draining[c] = 0
    return False, False


@njit(inline="always")
def move_next(req, tq, wb, q, banks, tm, geo, c, t, scheduler, row_policy, stream_done):  # noqa: ANN001, ANN201
    """Channel ``c``'s one transaction move of cycle ``t``: a buffered write while a drain
    runs, else a read (:func:`pimsim.dram.frontend.move_transaction`). Returns whether one
    moved."""
    if wb.length[c] > 0:
        moved, done = drain_step(req, tq, wb, q, banks, tm, geo, c, t, scheduler, row_policy,
                                 stream_done)
        if done:
            return moved
    return move_transaction(req, tq, q, banks, tm, geo, c, t, scheduler, row_policy)
