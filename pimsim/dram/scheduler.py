"""The command scheduler of one queue: which command each entry needs, which entries may
issue (FR-FCFS or FCFS), and the first one whose command meets every constraint.

Rules (DRAMsim3's command_queue.cc, read as a spec):

- an entry whose row is open needs its column command; it waits for every older entry to
  the same address (reads and writes stay in order per address);
- an entry whose bank has another row open needs a PRE, which may issue only when the
  entry is its bank's oldest and either no queued entry hits the open row or the row has
  served ``row_hit_cap`` hits (a conflict cannot starve, a stream of hits is not cut);
- an entry whose bank is precharged needs an ACT;
- FR-FCFS looks at every entry, oldest first, so a younger ready entry passes an older
  blocked one (first ready, then first come); FCFS looks at the oldest entry only.

A scan that finds no ready entry leaves, per command class, the earliest cycle a command
of the class can become ready (see :class:`pimsim.dram.state.CmdQueues`): the queue is
not scanned again before that bound while nothing it depends on changes. Any valid lower
bound gives the same schedule; the bounds only spare scans.
"""

from __future__ import annotations

from pimsim.dram.codes import (
    CLASS_ACT, CLASS_PRE, CLASS_RD, CLASS_WR, FLAG_ALL_BANK, FLAG_INTERNAL, INF, N_CLASSES,
    NEED_ACT, NEED_COLUMN, NEED_PRE, ROLE_ACT, ROLE_PRE, ROLE_RD, S_SCANS, SCHED_FRFCFS,
)
from pimsim.dram.rowpolicy import column_command
from pimsim.dram.state import NO_REFCOUNT
from pimsim.dram.timing import threshold, threshold_rank
from pimsim.util.jit import njit


@njit(inline="always")
def scan_window(scheduler, n_entries):  # noqa: ANN001, ANN201
    """How many entries of a queue, oldest first, the scheduler may pick from."""
    if scheduler == SCHED_FRFCFS:
        return n_entries
    return 1 if n_entries > 0 else 0


@njit(inline="always")
def command_class(role):  # noqa: ANN001, ANN201
    if role == ROLE_ACT:
        return CLASS_ACT
    if role == ROLE_PRE:
        return CLASS_PRE
    if role == ROLE_RD:
        return CLASS_RD
    return CLASS_WR


@njit(inline="always")
def required_command(q, banks, tm, geo, Q, k, RK, row_policy, flags, all_bank):  # noqa: ANN001, ANN201
    """(need, command) of entry ``k`` of queue ``Q`` (rank ``RK``); the command is -1
    while an ordering rule of the module docstring holds the entry back."""
    B = q.bank[Q, k]
    row = q.row[Q, k]
    if all_bank:
        all_open = True
        any_open = False
        for ii in range(geo.nb_rank):
            orow = banks.open_row[RK * geo.nb_rank + ii]
            if orow >= 0:
                any_open = True
            if orow != row:
                all_open = False
        need = NEED_COLUMN if all_open else (NEED_PRE if any_open else NEED_ACT)
    else:
        orow = banks.open_row[B]
        need = NEED_COLUMN if orow == row else (NEED_PRE if orow >= 0 else NEED_ACT)
    if need == NEED_COLUMN:
        for k2 in range(k):
            if q.addr[Q, k2] == q.addr[Q, k]:
                return need, -1
        return need, column_command(tm, row_policy, q.is_write[Q, k], flags & FLAG_INTERNAL)
    if need == NEED_PRE:
        for k2 in range(k):
            if q.bank[Q, k2] == B:
                return need, -1
        if banks.hit_cnt[B] < tm.row_hit_cap:
            orow = banks.open_row[B]
            for k2 in range(k, q.length[Q]):
                if q.bank[Q, k2] == B and q.row[Q, k2] == orow:
                    return need, -1
        return need, tm.pre
    return need, tm.act


@njit(inline="always")
def scan_queue(q, banks, tm, geo, c, Q, t, kmax, select, row_policy, pim):  # noqa: ANN001, ANN201
    """Scan the first ``kmax`` entries of queue ``Q`` (channel ``c``) at cycle ``t``.

    With ``select``: returns ``(k, command, all_bank)`` of the first entry whose command
    meets every constraint at ``t``. Otherwise, or when none does, stores the queue's
    per-class bounds (thresholds at least ``t + 1``), marks it clean and returns
    ``(-1, -1, False)``. ``pim`` false: every flag reads as 0.
    """
    lbc_act = INF
    lbc_pre = INF
    lbc_rd = INF
    lbc_wr = INF
    # per class the one command behind its bound: -2 none yet, -1 several
    cmc_act = -2
    cmc_pre = -2
    cmc_rd = -2
    cmc_wr = -2
    n_memo = 0
    for k in range(kmax):
        B = q.bank[Q, k]
        RK = c * geo.n_rk + q.rank[Q, k]
        flags = q.flags[Q, k] if pim else 0
        ab = (flags & FLAG_ALL_BANK) != 0
        need, cmd = required_command(q, banks, tm, geo, Q, k, RK, row_policy, flags, ab)
        if cmd < 0:
            continue
        # same bank + same command = same threshold: compute it once per scan
        th = -1
        if not ab:
            for m in range(n_memo):
                if q.memo_bank[m] == B and q.memo_cmd[m] == cmd:
                    th = q.memo_th[m]
                    break
        if th < 0:
            if ab:
                th = threshold_rank(banks, geo, c, RK, cmd, need == NEED_PRE)
            else:
                th = threshold(banks, c, RK, B, q.bankgroup[Q, k], cmd)
                if n_memo < q.memo_bank.shape[0]:
                    q.memo_bank[n_memo] = B
                    q.memo_cmd[n_memo] = cmd
                    q.memo_th[n_memo] = th
                    n_memo += 1
        if th <= t:
            if select:
                return k, cmd, ab
            th = t + 1
        rl = tm.role[cmd]
        if rl == ROLE_ACT:
            if th < lbc_act:
                lbc_act = th
            cmc_act = cmd if cmc_act == -2 or cmc_act == cmd else -1
        elif rl == ROLE_PRE:
            if th < lbc_pre:
                lbc_pre = th
            cmc_pre = cmd if cmc_pre == -2 or cmc_pre == cmd else -1
        elif rl == ROLE_RD:
            if th < lbc_rd:
                lbc_rd = th
            cmc_rd = cmd if cmc_rd == -2 or cmc_rd == cmd else -1
        else:
            if th < lbc_wr:
                lbc_wr = th
            cmc_wr = cmd if cmc_wr == -2 or cmc_wr == cmd else -1
    q.lb[Q] = min(min(lbc_act, lbc_pre), min(lbc_rd, lbc_wr))
    q.dirty[Q] = False
    q.lbc[Q, CLASS_ACT] = lbc_act
    q.lbc[Q, CLASS_PRE] = lbc_pre
    q.lbc[Q, CLASS_RD] = lbc_rd
    q.lbc[Q, CLASS_WR] = lbc_wr
    q.cmdc[Q, CLASS_ACT] = cmc_act if cmc_act >= 0 else -1
    q.cmdc[Q, CLASS_PRE] = cmc_pre if cmc_pre >= 0 else -1
    q.cmdc[Q, CLASS_RD] = cmc_rd if cmc_rd >= 0 else -1
    q.cmdc[Q, CLASS_WR] = cmc_wr if cmc_wr >= 0 else -1
    return -1, -1, False


@njit(inline="always")
def pick_command(q, banks, tm, geo, c, Q, RK, t, scheduler, row_policy, pim, stats):  # noqa: ANN001, ANN201
    """The command queue ``Q`` (rank ``RK``) issues at ``t``: ``(k, command, all_bank)``,
    or ``k = -1``. A clean queue first raises its bounds by the rank and channel registers
    (which other queues' commands move) and is scanned only if one is still reached."""
    if not q.dirty[Q]:
        lbq = INF
        for cl in range(N_CLASSES):
            v = q.lbc[Q, cl]
            if v >= INF:
                continue
            cm = q.cmdc[Q, cl]
            if v <= t and cm >= 0:
                f = banks.rank_next[RK, cm]
                if banks.chan_next[c, cm] > f:
                    f = banks.chan_next[c, cm]
                if f > v:
                    v = f
                    q.lbc[Q, cl] = v
            if v < lbq:
                lbq = v
        q.lb[Q] = lbq
        if lbq > t:
            return -1, -1, False
    stats[S_SCANS] += 1
    return scan_queue(q, banks, tm, geo, c, Q, t, scan_window(scheduler, q.length[Q]), True,
                      row_policy, pim)


@njit(cache=True, **NO_REFCOUNT)
def bounds_after_issue(q, banks, tm, geo, c, Q, t, scheduler, row_policy):  # noqa: ANN001
    """Queue ``Q`` issued a command at ``t`` (replay without PIM flags): its bounds at
    once, so the queue stays clean and the channel is not called back at ``t + 1`` only
    to learn them. A call, not inlined: it keeps the kernel's hot loop small."""
    scan_queue(q, banks, tm, geo, c, Q, t, scan_window(scheduler, q.length[Q]), False,
               row_policy, False)


@njit(inline="always")
def bounds_after_precharge(q, banks, tm, c, Q, RK, B, G, t):  # noqa: ANN001
    """A per-bank queue precharged its bank (no PIM flags): every entry now needs an ACT
    of that bank, so the ACT's threshold is the queue's bound."""
    th = threshold(banks, c, RK, B, G, tm.act)
    if th <= t:
        th = t + 1
    q.lb[Q] = th
    q.dirty[Q] = False
    q.lbc[Q, CLASS_ACT] = th
    q.cmdc[Q, CLASS_ACT] = tm.act
    for cl in range(CLASS_ACT + 1, N_CLASSES):
        q.lbc[Q, cl] = INF
        q.cmdc[Q, cl] = -1


@njit(inline="always")
def add_entry_bound(q, banks, tm, geo, c, Q, m, t, scheduler, row_policy):  # noqa: ANN001
    """Entry ``m`` (not all-bank) joined the clean queue ``Q``: a new entry never unblocks
    an older one, so the queue stays clean with the entry's own bound added."""
    RK = c * geo.n_rk + q.rank[Q, m]
    need, cmd = required_command(q, banks, tm, geo, Q, m, RK, row_policy, q.flags[Q, m],
                                 False)
    if cmd < 0 or m >= scan_window(scheduler, m + 1):
        return
    th = threshold(banks, c, RK, q.bank[Q, m], q.bankgroup[Q, m], cmd)
    if th <= t:
        th = t + 1
    cl = command_class(tm.role[cmd])
    if q.lbc[Q, cl] >= INF:
        q.cmdc[Q, cl] = cmd
    elif q.cmdc[Q, cl] != cmd:
        q.cmdc[Q, cl] = -1
    if th < q.lbc[Q, cl]:
        q.lbc[Q, cl] = th
    if th < q.lb[Q]:
        q.lb[Q] = th


@njit(inline="always")
def mark_rank_dirty(q, geo, c, r, t):  # noqa: ANN001
    """Refresh or an all-bank command changed every bank of rank ``r`` of channel ``c``:
    its queues must be scanned again from ``t + 1``."""
    for qi in range(geo.nq_ch):
        if geo.q_rank[qi] == r:
            Q = c * geo.nq_ch + qi
            q.lb[Q] = t + 1
            q.dirty[Q] = True
