"""The engine's state as named tuples of arrays, and their allocation.

Indices: ``RK = channel * ranks + rank`` (a rank of the whole system), ``B = RK *
banks_per_rank + bank in rank``, ``G = RK * bankgroups + bank group``, ``Q = channel *
queues_per_channel + queue``; command ids are the compiled standard's (``CompiledTiming
.names``). Cycles are memory-clock cycles.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba.core.compiler import Flags
from numba.core.cpu import CPUTargetOptions

from pimsim.dram.codes import INF, N_CLASSES, N_STATS, NEG, PEND_BUCKETS
from pimsim.util.jit import njit

#: Numba's private option that compiles a function without reference counting
NRT_OPTION = "_nrt"


def no_refcount_options() -> dict[str, bool]:
    """``{NRT_OPTION: False}`` when this Numba accepts it, else ``{}`` (same results,
    slower): the option is private, so a Numba release may rename or drop it."""
    try:
        CPUTargetOptions.parse_as_flags(Flags(), {NRT_OPTION: False})
    except (AttributeError, KeyError, TypeError, ValueError):
        return {}
    return {NRT_OPTION: False}


#: Compile options of the main loop and of the out-of-line pieces it calls: no reference
#: counting. They allocate nothing, and the state's arrays live as long as the kernel
#: that allocated them. With counting on, each inlined piece that takes a state tuple
#: increments and decrements the count of every array in the tuple at every call, which
#: LLVM does not remove in a loop this size (50x slower). No public Numba option turns
#: counting off for one function, hence the private one, guarded by no_refcount_options.
NO_REFCOUNT = no_refcount_options()


#: the main loop's position (pimsim.dram.kernel.replay_loop), kept between the calls of a
#: streamed replay: next request to admit, requests outstanding, cycle, last cycle of
#: progress (admission or a request served)
SCAL_NEXT, SCAL_OUTSTANDING, SCAL_CYCLE, SCAL_PROGRESS = range(4)
N_SCAL = 4
SCAL_FIELDS = ("next", "outstanding", "cycle", "progress")


class Requests(NamedTuple):
    """The request stream, decoded; one entry per request, in arrival order."""

    channel: np.ndarray
    rank: np.ndarray          #: rank within the channel
    bank: np.ndarray          #: B
    bankgroup: np.ndarray     #: G
    queue: np.ndarray         #: Q, the command queue the request joins
    row: np.ndarray
    column: np.ndarray
    is_write: np.ndarray      #: 0 / 1
    flags: np.ndarray         #: FLAG_INTERNAL | FLAG_ALL_BANK bits
    arrival: np.ndarray
    address: np.ndarray


class Geometry(NamedTuple):
    """Sizes of the memory system and of the controller's queues."""

    n_ch: int
    n_rk: int                 #: ranks per channel
    n_bg: int                 #: bank groups per rank
    n_bpg: int                #: banks per bank group
    nb_rank: int              #: banks per rank
    nq_ch: int                #: command queues per channel
    tq_size: int              #: transaction-queue entries per channel
    cq_size: int              #: entries per command queue
    per_bank: bool            #: one command queue per bank (else one per rank)
    dual_bus: bool            #: a row and a column command may issue in one cycle
    q_rank: np.ndarray        #: rank of each queue of a channel
    bg_of: np.ndarray         #: bank group of each bank index within a rank
    wb_size: int              #: write-buffer entries per channel (0: writes in the trans queue)
    wb_drain: int             #: writes above which idle command queues start a drain


class Timing(NamedTuple):
    """The compiled standard's tables (pimsim.standards.CompiledTiming) in engine form.

    ``upd_*[cmd, e]`` for ``e < upd_n[cmd]``: the constraints ``cmd`` starts, as (slot,
    following command, latency), slot one of pimsim.standards' SLOT_* levels.
    """

    role: np.ndarray          #: ROLE_* of each command
    col_cmd: np.ndarray       #: [is_write, auto_precharge, internal] -> column command
    upd_n: np.ndarray
    upd_slot: np.ndarray
    upd_f: np.ndarray
    upd_lat: np.ndarray
    win_prev: np.ndarray      #: [window, cmd]: cmd enters the window's history
    win_next: np.ndarray      #: [window, cmd]: cmd is held by the window's floor
    win_count: np.ndarray     #: commands per window (4 for tFAW)
    win_lat: np.ndarray       #: window length in cycles
    win_any: np.ndarray       #: [cmd]: cmd enters some window
    act: int
    pre: int
    prea: int
    ref: int
    t_refi: int
    read_delay: int           #: RD to data returned: CL + burst
    write_delay: int          #: WR to data written: CWL + burst
    row_hit_cap: int          #: hits for an open row served before a conflict may close it


class Banks(NamedTuple):
    """Row-buffer state and, per level, the earliest cycle of each next command."""

    open_row: np.ndarray      #: [B], -1 when precharged
    hit_cnt: np.ndarray       #: [B] column accesses since the row opened
    bank_next: np.ndarray     #: [B, cmd]
    bg_next: np.ndarray       #: [G, cmd]
    rank_next: np.ndarray     #: [RK, cmd], tFAW floors folded in
    chan_next: np.ndarray     #: [channel, cmd]
    win_hist: np.ndarray      #: [window, RK, count] ring of issue cycles
    win_pos: np.ndarray       #: [window, RK] oldest slot of the ring


class TransQueues(NamedTuple):
    """Per channel, the transaction queue (admitted requests not yet in a command queue)."""

    req: np.ndarray           #: [channel, entry] request index
    addr: np.ndarray
    queue: np.ndarray         #: command queue of the entry
    length: np.ndarray
    blocked: np.ndarray       #: no entry fitted its command queue since the last change
    pending: np.ndarray       #: [hash bucket] count of pending requests (admission filter)


class CmdQueues(NamedTuple):
    """Command queues, with copies of the queued requests' fields (a scan stays in cache)
    and per queue a lower bound of when its first command can be ready.

    ``lbc[Q, class]`` / ``cmdc[Q, class]``: per command class, the bound and the one
    command behind it (-1: several), valid while ``dirty[Q]`` is false (queue content and
    bank state unchanged since the last scan). ``memo_*``: scratch of one scan.
    """

    req: np.ndarray
    bank: np.ndarray
    bankgroup: np.ndarray
    rank: np.ndarray
    row: np.ndarray
    addr: np.ndarray
    is_write: np.ndarray
    flags: np.ndarray
    length: np.ndarray
    lb: np.ndarray
    dirty: np.ndarray
    lbc: np.ndarray
    cmdc: np.ndarray
    memo_bank: np.ndarray
    memo_cmd: np.ndarray
    memo_th: np.ndarray


class Channels(NamedTuple):
    """When each channel next needs a visit, the list of channels due now, round robin."""

    next_wake: np.ndarray
    due: np.ndarray
    rr: np.ndarray            #: last queue that issued


class Refresh(NamedTuple):
    """All-bank refresh schedule per rank."""

    due: np.ndarray           #: [RK] cycle of the next REF
    pending: np.ndarray       #: [RK] due and not yet done: the rank's queues wait


class CommandLog(NamedTuple):
    """One entry per issued command (bank, row, column, request -1 for PREA / REF)."""

    cycle: np.ndarray
    cmd: np.ndarray
    all_bank: np.ndarray
    channel: np.ndarray
    rank: np.ndarray
    bank: np.ndarray
    row: np.ndarray
    column: np.ndarray
    request: np.ndarray


class Outcome(NamedTuple):
    """Per request and per command, what the replay produced."""

    admit: np.ndarray
    complete: np.ndarray
    leader: np.ndarray        #: the pending read that served a merged read, else -1
    counts: np.ndarray        #: [cmd, all_bank]
    bank_ops: np.ndarray      #: [cmd] bank-level operations
    stats: np.ndarray         #: S_* slots


@njit(cache=True)
def new_banks(geo, tm):  # noqa: ANN001, ANN201
    nc = tm.role.shape[0]
    n_ranks = geo.n_ch * geo.n_rk
    n_banks = n_ranks * geo.nb_rank
    nw = tm.win_count.shape[0]
    ring = 1
    for w in range(nw):
        ring = max(ring, tm.win_count[w])
    row_state = np.zeros((2, n_banks), dtype=np.int64)  # rows: open_row, hit_cnt
    row_state[0, :] = -1
    return Banks(row_state[0], row_state[1], np.zeros((n_banks, nc), dtype=np.int64),
                 np.zeros((n_ranks * geo.n_bg, nc), dtype=np.int64),
                 np.zeros((n_ranks, nc), dtype=np.int64),
                 np.zeros((geo.n_ch, nc), dtype=np.int64),
                 np.full((nw, n_ranks, ring), NEG, dtype=np.int64),
                 np.zeros((nw, n_ranks), dtype=np.int64))


class TransQueueStore(NamedTuple):
    """The arrays behind :class:`TransQueues`, the per-entry fields as the rows of one
    ``[field, channel, entry]`` array (see :class:`CmdQueueStore`)."""

    entries: np.ndarray       #: [req / addr / queue, channel, entry]
    length: np.ndarray
    blocked: np.ndarray
    pending: np.ndarray


#: per-entry fields of TransQueues (req, addr, queue), the rows of TransQueueStore.entries
N_TRANS_FIELDS = 3


@njit(cache=True)
def new_trans_queues(geo):  # noqa: ANN001, ANN201
    return TransQueueStore(np.zeros((N_TRANS_FIELDS, geo.n_ch, geo.tq_size), dtype=np.int64),
                           np.zeros(geo.n_ch, dtype=np.int64),
                           np.zeros(geo.n_ch, dtype=np.bool_),
                           np.zeros(PEND_BUCKETS, dtype=np.int64))


@njit(inline="always")
def trans_queues(st):  # noqa: ANN001, ANN201
    """The :class:`TransQueues` view of a :class:`TransQueueStore` (no copy)."""
    e = st.entries
    return TransQueues(e[0], e[1], e[2], st.length, st.blocked, st.pending)


class CmdQueueStore(NamedTuple):
    """The arrays behind :class:`CmdQueues`: the per-entry fields as the rows of one
    ``[field, Q, entry]`` array (one shape for all, so the compiled loop computes an entry's
    offset once for every field) and the three scan memos as the rows of one array."""

    entries: np.ndarray       #: [CmdQueues' first N_ENTRY_FIELDS fields, Q, entry]
    length: np.ndarray
    lb: np.ndarray
    dirty: np.ndarray
    lbc: np.ndarray
    cmdc: np.ndarray
    memo: np.ndarray          #: [memo_bank / memo_cmd / memo_th, slot]


#: per-entry fields of CmdQueues (req ... flags), the rows of CmdQueueStore.entries
N_ENTRY_FIELDS = 8
#: scan memos of CmdQueues (memo_bank, memo_cmd, memo_th), the rows of CmdQueueStore.memo
N_MEMO_FIELDS = 3


@njit(cache=True)
def new_cmd_queues(geo):  # noqa: ANN001, ANN201
    nq = geo.n_ch * geo.nq_ch
    # a scan looks at cq_size entries at most and memoises one threshold per entry
    memo = geo.cq_size
    return CmdQueueStore(np.zeros((N_ENTRY_FIELDS, nq, geo.cq_size), dtype=np.int64),
                         np.zeros(nq, dtype=np.int64), np.zeros(nq, dtype=np.int64),
                         np.ones(nq, dtype=np.bool_),
                         np.full((nq, N_CLASSES), INF, dtype=np.int64),
                         np.full((nq, N_CLASSES), -1, dtype=np.int64),
                         np.zeros((N_MEMO_FIELDS, memo), dtype=np.int64))


@njit(inline="always")
def cmd_queues(st):  # noqa: ANN001, ANN201
    """The :class:`CmdQueues` view of a :class:`CmdQueueStore` (no copy)."""
    e = st.entries
    return CmdQueues(e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7], st.length, st.lb,
                     st.dirty, st.lbc, st.cmdc, st.memo[0], st.memo[1], st.memo[2])


#: fields of Channels, the rows of the array new_channels returns
N_CHANNEL_FIELDS = 3


@njit(cache=True)
def new_channels(geo):  # noqa: ANN001, ANN201
    """The :class:`Channels` fields as the rows of one ``[field, channel]`` array."""
    st = np.zeros((N_CHANNEL_FIELDS, geo.n_ch), dtype=np.int64)
    st[2, :] = geo.nq_ch - 1  # rr: round robin starts at queue 0
    return st


@njit(inline="always")
def channels(st):  # noqa: ANN001, ANN201
    """The :class:`Channels` view of ``new_channels``' array (no copy)."""
    return Channels(st[0], st[1], st[2])


@njit(cache=True)
def new_command_log(cap):  # noqa: ANN001, ANN201
    return CommandLog(np.zeros(cap, dtype=np.int64), np.zeros(cap, dtype=np.int64),
                      np.zeros(cap, dtype=np.int64), np.zeros(cap, dtype=np.int64),
                      np.zeros(cap, dtype=np.int64), np.zeros(cap, dtype=np.int64),
                      np.zeros(cap, dtype=np.int64), np.zeros(cap, dtype=np.int64),
                      np.zeros(cap, dtype=np.int64))


@njit(cache=True)
def new_outcome(n, nc):  # noqa: ANN001, ANN201
    return Outcome(np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64),
                   np.full(n, -1, dtype=np.int64), np.zeros((nc, 2), dtype=np.int64),
                   np.zeros(nc, dtype=np.int64), np.zeros(N_STATS, dtype=np.int64))
