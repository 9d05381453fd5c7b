"""The request-replay engine: one controller per channel, compiled with Numba.

Model (DRAMsim3's controller, src/controller.cc and command_queue.cc, read as a spec):

- Front end: requests are admitted in order, never before their arrival cycle, as many per
  cycle as the target channel's transaction queue (``trans_queue_size`` entries) accepts; a
  full queue stalls the whole stream (head-of-line). A read whose address is already
  pending is served by the earlier read (no new command); a read of an address with a
  pending write is forwarded from it (done one cycle later); a write to an address with a
  pending write merges into it.
- Each cycle, per channel: (1) refresh: every tREFI per rank (ranks staggered by
  tREFI / ranks), once due the rank's queues stop and the controller issues PREA (if a bank
  is open) then REF; (2) one command is chosen from the command queues, round-robin over
  the queues, in each queue the first entry whose next command (ACT, PRE or the column
  command) meets every timing constraint (FR-FCFS: a younger row hit passes an older
  conflict; a conflict may precharge only as the oldest entry of its bank and only when no
  row hit for the open row waits or ``row_hit_cap`` hits were served); standards with a
  dual command bus (HBM2) may issue a second command of the other class (row / column) in
  the same cycle; (3) one transaction moves from the transaction queue to its command
  queue (per bank, or per rank for ``queue_structure: shared``), ``cmd_queue_size`` deep.
- Open page keeps rows open; close page uses RDA/WRA (auto-precharge).
- Differences from DRAMsim3, on purpose: reads and writes share the queues (DRAMsim3 keeps
  a write buffer, drained in batches, and acknowledges a write one cycle after admission);
  a write completes when its data is written. Refresh closes the rank with one PREA
  (DRAMsim3 precharges bank by bank). ``scheduler: fcfs`` serves each queue strictly in
  order (only its oldest entry may issue).
- A read completes (data returned) ``CL + burst`` cycles after its RD, a write
  ``CWL + burst`` after its WR. The first column access after an ACT counts as a row miss
  (DRAMsim3's convention); every on-demand PRE counts as a row conflict.

Speed: the loop jumps over idle time. Each channel keeps the next cycle at which it can
possibly act, each queue a lower bound on when its first command can be ready (timing
only ever moves forward, so bounds stay valid until the queue or its banks change), each
node (bank, bank group, rank, channel) the earliest cycle of each next command, and the
tFAW window a small ring per rank whose floor is folded into the rank's registers when it
moves. Any valid lower bound gives the same schedule (a queue is only skipped when none of
its commands can be ready), so the bookkeeping below changes speed, never results:
per cycle only the channels that are due are visited (as a list, which also keeps the
compiled loop lean); a channel's candidate queues (non-empty, bound reached) form a bit
mask that the round robin walks set bit by set bit; a per-address-hash count of pending
requests lets admission skip the merge scan; queued requests' fields are copied into the
small queue arrays so a scan stays in cache. With no request outstanding the loop still
steps through each refresh until the next arrival (sparse streams pay per tREFI, not per
cycle). After a command the issuing queue's bounds are computed at once (after a PRE in a
per-bank queue: its bank's ACT threshold; otherwise a scan of the queue,
:func:`_queue_bound`), so the queue stays clean and the channel is not woken at t + 1 only
to learn them (that wake-up was a third of all channel visits on ``rand``). Refresh's
rare PREA/REF issue is a function of its own (:func:`_issue_rank_command`): out of the
main loop it leaves the compiled hot path smaller (5-10 % faster on one-channel
profiles, measured A/B with benchmarks/sim_speed.py's traces). ``record`` (the command
log) and ``pim`` (some request carries a flag) are compile-time constants: each
combination is its own compiled variant (four at most), so the plain replay carries no
logging or all-bank code. ``benchmarks/sim_speed.py``
measures it.

PIM hooks (issue 3), per request ``flags``:

- ``FLAG_INTERNAL`` (1): the column access does not use the external data bus (commands
  RDI/WRI, or RDAI/WRAI under close page, from :func:`pimsim.standards.with_pim_commands`):
  bank timing and row-buffer state apply; data-bus spacing and turnaround do not. Its bytes
  count as ``internal_bytes``.
- ``FLAG_ALL_BANK`` (2): all-bank broadcast, as Samsung Aquabolt-XL's (HBM-PIM) all-bank
  mode and SK hynix AiM's all-bank MAC (Lee et al., ISCA 2021; Kwon et al., ISSCC 2022):
  ACT, the column command and PRE are each ONE command on the command bus acting on every
  bank of the request's rank. Each bank's state and timing are updated and each bank must
  satisfy its own tRP/tRAS/tRC/tRCD; the broadcast ACT counts as ONE activation for tRRD
  and the tFAW window (a simplification: real devices may pace internal activations).
  Counted as ``ACT_AB``, ``RD_AB``, ``PRE_AB`` ... in ``command_counts``; ``bank_ops``
  counts bank-level operations per base command (16 per all-bank command on a 16-bank rank)
  so energy can be charged per bank. A non-internal all-bank write is a broadcast of one
  bus burst; its external bytes are one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
import numba
from numba import njit
from numba import types as nbtypes
from numba.cpython.unsafe.numbers import trailing_zeros

from pimsim.address import AddressMapper
from pimsim.errors import PimsimError
from pimsim.standards import CompiledTiming, compile_timing, get_standard

FLAG_INTERNAL = 1
FLAG_ALL_BANK = 2
_FLAGS_ALL = FLAG_INTERNAL | FLAG_ALL_BANK

_INF = np.int64(1) << np.int64(62)
_NEG = -(np.int64(1) << np.int64(40))

# stats slots
(_S_HITS, _S_MISSES, _S_CONFLICTS, _S_STATUS, _S_NLOG, _S_END, _S_STEPS, _S_SCANS,
 _S_MERGED_RD, _S_MERGED_WR) = range(10)

ROLE_ACT, ROLE_PRE, ROLE_PREA, ROLE_REF, ROLE_RD, ROLE_WR = range(6)


@dataclass
class DramResult:
    """What one replay produced. Cycles are memory-clock cycles."""

    admit_cycle: np.ndarray
    complete_cycle: np.ndarray
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
    #: event-loop iterations (a speed diagnostic)
    sim_steps: int = 0

    @property
    def bank_ops_total(self) -> int:
        return int(sum(self.bank_ops.values()))

    @property
    def row_hit_rate(self) -> float:
        n = self.row_hits + self.row_misses
        return self.row_hits / n if n else 0.0


# ----------------------------------------------------------------------------------------
# Numba kernel
# ----------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _window_push(win_hist, win_pos, win_prev, win_next, win_count, win_lat, rank_next, RK,
                 cmd, t):
    """Record ``cmd`` issued at ``t`` in rank ``RK``'s windows (tFAW rings) and fold each
    window's floor (oldest of the last ``count`` commands + latency) into ``rank_next``.

    The floor of a window only rises and changes only here, so keeping it inside
    ``rank_next`` gives every threshold the same value as reading the ring each time.
    """
    for w in range(win_count.shape[0]):
        if not win_prev[w, cmd] or win_count[w] <= 0:
            continue
        win_hist[w, RK, win_pos[w, RK]] = t
        wp = win_pos[w, RK] + 1
        if wp >= win_count[w]:
            wp = 0
        win_pos[w, RK] = wp
        floor = win_hist[w, RK, wp] + win_lat[w]
        for f in range(win_next.shape[1]):
            if win_next[w, f] and rank_next[RK, f] < floor:
                rank_next[RK, f] = floor


@njit(cache=True)
def _queue_bound(Q, c, t, n_rk, kmax, cq_len, cq_B, cq_G, cq_rk, cq_row, cq_addr, cq_wr,
                 open_row, hit_cnt, row_hit_cap, col_cmd, close_page, act_id, pre_id, role,
                 rank_next, chan_next, bank_next, bg_next, q_lb, q_lbc, q_cmdc, q_dirty,
                 memo_B, memo_cmd, memo_th):
    """Bounds of queue ``Q`` right after it issued a command at ``t``: per command class,
    what the scan of step (2) records when nothing is ready (the same need / blocking /
    FR-FCFS rules over the first ``kmax`` entries), thresholds clamped to ``t + 1``.

    Only for a replay without PIM flags (no all-bank entry, no internal access). Timing
    only moves forward and a queue's banks change only by its own commands, refresh or an
    all-bank command (the last two mark it dirty), so these stay lower bounds while the
    queue is clean: the queue is left clean and the channel need not come back at
    ``t + 1`` to learn them. Returns the queue's bound."""
    t1 = t + 1
    lbc0 = _INF
    lbc1 = _INF
    lbc2 = _INF
    lbc3 = _INF
    cmc0 = -2
    cmc1 = -2
    cmc2 = -2
    cmc3 = -2
    n_memo = 0
    n_q = cq_len[Q]
    for k in range(kmax):
        B = cq_B[Q, k]
        RK = c * n_rk + cq_rk[Q, k]
        row = cq_row[Q, k]
        orow = open_row[B]
        if orow == row:
            cmd = col_cmd[cq_wr[Q, k], 1 if close_page else 0, 0]
            blocked = False
            for k2 in range(k):
                if cq_addr[Q, k2] == cq_addr[Q, k]:
                    blocked = True
                    break
            if blocked:
                continue
        elif orow >= 0:
            cmd = pre_id
            blocked = False
            for k2 in range(k):
                if cq_B[Q, k2] == B:
                    blocked = True
                    break
            if blocked:
                continue
            if hit_cnt[B] < row_hit_cap:
                for k2 in range(k, n_q):
                    if cq_B[Q, k2] == B and cq_row[Q, k2] == orow:
                        blocked = True
                        break
            if blocked:
                continue
        else:
            cmd = act_id
        th = -1
        for m in range(n_memo):
            if memo_B[m] == B and memo_cmd[m] == cmd:
                th = memo_th[m]
                break
        if th < 0:
            th = rank_next[RK, cmd]
            if chan_next[c, cmd] > th:
                th = chan_next[c, cmd]
            if bank_next[B, cmd] > th:
                th = bank_next[B, cmd]
            if bg_next[cq_G[Q, k], cmd] > th:
                th = bg_next[cq_G[Q, k], cmd]
            if th < t1:
                th = t1
            if n_memo < memo_B.shape[0]:
                memo_B[n_memo] = B
                memo_cmd[n_memo] = cmd
                memo_th[n_memo] = th
                n_memo += 1
        rl = role[cmd]
        if rl == ROLE_ACT:
            if th < lbc0:
                lbc0 = th
            cmc0 = cmd if cmc0 == -2 or cmc0 == cmd else -1
        elif rl == ROLE_PRE:
            if th < lbc1:
                lbc1 = th
            cmc1 = cmd if cmc1 == -2 or cmc1 == cmd else -1
        elif rl == ROLE_RD:
            if th < lbc2:
                lbc2 = th
            cmc2 = cmd if cmc2 == -2 or cmc2 == cmd else -1
        else:
            if th < lbc3:
                lbc3 = th
            cmc3 = cmd if cmc3 == -2 or cmc3 == cmd else -1
    lb = min(min(lbc0, lbc1), min(lbc2, lbc3))
    q_lb[Q] = lb
    q_dirty[Q] = False
    q_lbc[Q, 0] = lbc0
    q_lbc[Q, 1] = lbc1
    q_lbc[Q, 2] = lbc2
    q_lbc[Q, 3] = lbc3
    q_cmdc[Q, 0] = cmc0 if cmc0 >= 0 else -1
    q_cmdc[Q, 1] = cmc1 if cmc1 >= 0 else -1
    q_cmdc[Q, 2] = cmc2 if cmc2 >= 0 else -1
    q_cmdc[Q, 3] = cmc3 if cmc3 >= 0 else -1
    return lb


@njit(cache=True)
def _issue_rank_command(cmd, RK, r, c, t, n_rk, n_bg, nb_rank, nq_ch, per_bank, tREFI,
                        prea_id, ref_id, upd_n, upd_slot, upd_f, upd_lat, win_any, win_hist,
                        win_pos, win_prev, win_next, win_count, win_lat, bank_next, bg_next,
                        rank_next, chan_next, counts, bank_ops, open_row, hit_cnt,
                        ref_pending, ref_due, q_rank, q_lb, q_dirty):
    """Issue refresh's PREA or REF ``cmd`` to rank ``RK`` (rank ``r`` of channel ``c``) at
    ``t``: timing, window, counts, bank state, the refresh schedule, and the rank's queues
    marked dirty. (Rare, so kept out of the kernel's main loop.)"""
    for e in range(upd_n[cmd]):
        sl = upd_slot[cmd, e]
        f = upd_f[cmd, e]
        v = t + upd_lat[cmd, e]
        if sl == 0:  # a rank command: every bank of the rank
            for ii in range(nb_rank):
                if bank_next[RK * nb_rank + ii, f] < v:
                    bank_next[RK * nb_rank + ii, f] = v
        elif sl == 1:
            for ii in range(n_bg):
                if bg_next[RK * n_bg + ii, f] < v:
                    bg_next[RK * n_bg + ii, f] = v
        elif sl == 2:
            if rank_next[RK, f] < v:
                rank_next[RK, f] = v
        elif sl == 3:
            for r2 in range(n_rk):
                RK2 = c * n_rk + r2
                if RK2 != RK and rank_next[RK2, f] < v:
                    rank_next[RK2, f] = v
        elif chan_next[c, f] < v:
            chan_next[c, f] = v
    if win_any[cmd]:
        _window_push(win_hist, win_pos, win_prev, win_next, win_count, win_lat,
                     rank_next, RK, cmd, t)
    counts[cmd, 0] += 1
    nop = 0
    for i in range(nb_rank):
        if open_row[RK * nb_rank + i] >= 0:
            nop += 1
        open_row[RK * nb_rank + i] = -1
        hit_cnt[RK * nb_rank + i] = 0
    bank_ops[cmd] += nop if cmd == prea_id else nb_rank
    if cmd == ref_id:
        ref_pending[RK] = False
        ref_due[RK] += tREFI
    for qi in range(nq_ch):
        Qr = c * nq_ch + qi
        if per_bank:
            if q_rank[qi] == r:
                q_lb[Qr] = t + 1
                q_dirty[Qr] = True
        elif qi == r:
            q_lb[Qr] = t + 1
            q_dirty[Qr] = True


@njit(cache=True)
def _simulate(req_ch, req_rk, req_B, req_G, req_Q, req_row, req_col, req_wr, req_flags,
              req_arr, req_addr, n_ch, n_rk, n_bg, n_bpg, tq_size, cq_size, per_bank,
              frfcfs, close_page, dual_bus, tREFI, read_delay, write_delay, row_hit_cap,
              lat, win_prev, win_next, win_count, win_lat, col_cmd, role, act_id, pre_id,
              prea_id, ref_id, upd_n, upd_slot, upd_f, upd_lat, record, log_cap,
              stall_limit, pim):
    # ``record`` and ``pim`` (some request has a flag) are compile-time constants: see
    # _kernel_for; with ``pim`` False every flag reads as 0 and the all-bank code folds away
    n = req_ch.shape[0]
    nc = lat.shape[1]
    nb_rank = n_bg * n_bpg
    NR = n_ch * n_rk
    NB = NR * nb_rank
    NG = NR * n_bg
    nq_ch = n_rk * nb_rank if per_bank else n_rk
    q_rank = np.zeros(nq_ch, dtype=np.int64)  # rank of a channel's queue (no division)
    for qi in range(nq_ch):
        q_rank[qi] = qi // nb_rank if per_bank else qi
    bg_of = np.zeros(nb_rank, dtype=np.int64)  # bank group of a bank index in its rank
    for ii in range(nb_rank):
        bg_of[ii] = ii // n_bpg
    NQ = n_ch * nq_ch
    nw = win_count.shape[0]
    wmax = 1
    for w in range(nw):
        if win_count[w] > wmax:
            wmax = win_count[w]
    win_any = np.zeros(nc, dtype=np.bool_)  # commands that enter a window's history
    for w in range(nw):
        for cc in range(nc):
            if win_prev[w, cc] and win_count[w] > 0:
                win_any[cc] = True

    admit = np.full(n, -1, dtype=np.int64)
    complete = np.full(n, -1, dtype=np.int64)
    leader = np.full(n, -1, dtype=np.int64)
    counts = np.zeros((nc, 2), dtype=np.int64)
    bank_ops = np.zeros(nc, dtype=np.int64)
    stats = np.zeros(10, dtype=np.int64)

    open_row = np.full(NB, -1, dtype=np.int64)
    hit_cnt = np.zeros(NB, dtype=np.int64)
    bank_next = np.zeros((NB, nc), dtype=np.int64)
    bg_next = np.zeros((NG, nc), dtype=np.int64)
    rank_next = np.zeros((NR, nc), dtype=np.int64)
    chan_next = np.zeros((n_ch, nc), dtype=np.int64)
    win_hist = np.full((nw, NR, wmax), _NEG, dtype=np.int64)
    win_pos = np.zeros((nw, NR), dtype=np.int64)

    tq = np.zeros((n_ch, tq_size), dtype=np.int64)
    tq_addr = np.zeros((n_ch, tq_size), dtype=np.int64)
    tq_Q = np.zeros((n_ch, tq_size), dtype=np.int64)
    tq_len = np.zeros(n_ch, dtype=np.int64)
    tq_blocked = np.zeros(n_ch, dtype=np.bool_)
    cq = np.zeros((NQ, cq_size), dtype=np.int64)
    # copies of the queued requests' fields, so that a queue scan stays in cache
    cq_B = np.zeros((NQ, cq_size), dtype=np.int64)
    cq_G = np.zeros((NQ, cq_size), dtype=np.int64)
    cq_rk = np.zeros((NQ, cq_size), dtype=np.int64)
    cq_row = np.zeros((NQ, cq_size), dtype=np.int64)
    cq_addr = np.zeros((NQ, cq_size), dtype=np.int64)
    cq_wr = np.zeros((NQ, cq_size), dtype=np.int64)
    cq_fl = np.zeros((NQ, cq_size), dtype=np.int64)
    cq_len = np.zeros(NQ, dtype=np.int64)
    q_lb = np.zeros(NQ, dtype=np.int64)
    # per queue and command class (0 ACT, 1 PRE, 2 read, 3 write): lower bound of the
    # class's threshold and the one command id behind it (-1: several), valid while the
    # queue is not dirty (content and bank state unchanged since its last scan)
    q_dirty = np.ones(NQ, dtype=np.bool_)
    q_lbc = np.full((NQ, 4), _INF, dtype=np.int64)
    q_cmdc = np.full((NQ, 4), -1, dtype=np.int64)
    rr = np.full(n_ch, nq_ch - 1, dtype=np.int64)
    next_wake = np.zeros(n_ch, dtype=np.int64)
    due = np.zeros(n_ch, dtype=np.int64)
    memo_B = np.zeros(cq_size + 4, dtype=np.int64)
    memo_cmd = np.zeros(cq_size + 4, dtype=np.int64)
    memo_th = np.zeros(cq_size + 4, dtype=np.int64)

    ref_due = np.zeros(NR, dtype=np.int64)
    ref_pending = np.zeros(NR, dtype=np.bool_)
    for c in range(n_ch):
        for r in range(n_rk):
            ref_due[c * n_rk + r] = (r + 1) * (tREFI // n_rk) if tREFI // n_rk > 0 else tREFI

    cap = log_cap if record else 1
    lg_t = np.zeros(cap, dtype=np.int64)
    lg_cmd = np.zeros(cap, dtype=np.int64)
    lg_ab = np.zeros(cap, dtype=np.int64)
    lg_ch = np.zeros(cap, dtype=np.int64)
    lg_rk = np.zeros(cap, dtype=np.int64)
    lg_B = np.zeros(cap, dtype=np.int64)
    lg_row = np.zeros(cap, dtype=np.int64)
    lg_col = np.zeros(cap, dtype=np.int64)
    lg_req = np.zeros(cap, dtype=np.int64)
    nlog = 0

    # pending (queued, not yet served) requests per address hash: a zero count proves
    # that no pending request has the address, so admission skips the merge scan
    pend_mask = np.int64(4095)
    pend_cnt = np.zeros(pend_mask + 1, dtype=np.int64)

    fe = 0
    outstanding = 0
    t = np.int64(0)
    last_progress = np.int64(0)
    end_cycle = np.int64(0)

    while True:
        # ---------------- front end: in-order admission --------------------------------
        while fe < n and req_arr[fe] <= t:
            j = fe
            c = req_ch[j]
            if tq_len[c] >= tq_size:
                break
            admit[j] = t
            last_progress = t
            # merge with the latest pending request to the same address (same bank)
            Q = req_Q[j]
            aj = req_addr[j]
            best = -1
            hj = (aj ^ (aj >> 17)) & pend_mask
            if pend_cnt[hj] > 0:  # some pending request may have this address
                for k in range(cq_len[Q]):
                    o = cq[Q, k]
                    if cq_addr[Q, k] == aj and o > best:
                        best = o
                for k in range(tq_len[c]):
                    o = tq[c, k]
                    if tq_addr[c, k] == aj and o > best:
                        best = o
            merged = False
            if best >= 0 and req_flags[j] == 0 and req_flags[best] == 0:
                if req_wr[j] == 0 and req_wr[best] == 0:
                    leader[j] = best
                    merged = True
                elif req_wr[best] == 1:
                    complete[j] = t + 1
                    merged = True
                if merged:
                    if req_wr[j] == 0:
                        stats[_S_MERGED_RD] += 1
                    else:
                        stats[_S_MERGED_WR] += 1
            if not merged:
                tq[c, tq_len[c]] = j
                tq_addr[c, tq_len[c]] = aj
                tq_Q[c, tq_len[c]] = Q
                tq_len[c] += 1
                tq_blocked[c] = False
                outstanding += 1
                pend_cnt[hj] += 1
                if next_wake[c] > t:
                    next_wake[c] = t
            fe += 1

        # ---------------- channels -------------------------------------------------------
        # the channels due now, as a list: the loop below then reads its channel index
        # from memory, so the compiler does not keep one induction variable per
        # channel-indexed array alive over every channel (a measured 10 % of the time)
        n_due = 0
        for c in range(n_ch):
            if next_wake[c] <= t:
                due[n_due] = c
                n_due += 1
        for di in range(n_due):
            c = due[di]
            issued = 0
            wake = False  # an issue that needs the channel back at t + 1
            first_cls = -1
            ref_thr_min = _INF
            # (1) refresh
            for r in range(n_rk):
                RK = c * n_rk + r
                if not ref_pending[RK] and ref_due[RK] <= t:
                    ref_pending[RK] = True
            for r in range(n_rk):
                RK = c * n_rk + r
                if not ref_pending[RK]:
                    continue
                any_open = False
                for i in range(nb_rank):
                    if open_row[RK * nb_rank + i] >= 0:
                        any_open = True
                        break
                cmd = prea_id if any_open else ref_id
                th = rank_next[RK, cmd]
                if chan_next[c, cmd] > th:
                    th = chan_next[c, cmd]
                for ii in range(nb_rank):
                    bb = RK * nb_rank + ii
                    if bank_next[bb, cmd] > th:
                        th = bank_next[bb, cmd]
                    gg = RK * n_bg + bg_of[ii]
                    if bg_next[gg, cmd] > th:
                        th = bg_next[gg, cmd]
                if th <= t and issued == 0:
                    _issue_rank_command(cmd, RK, r, c, t, n_rk, n_bg, nb_rank, nq_ch, per_bank,
                                        tREFI, prea_id, ref_id, upd_n, upd_slot, upd_f,
                                        upd_lat, win_any, win_hist, win_pos, win_prev,
                                        win_next, win_count, win_lat, bank_next, bg_next,
                                        rank_next, chan_next, counts, bank_ops, open_row,
                                        hit_cnt, ref_pending, ref_due, q_rank, q_lb, q_dirty)
                    if record and nlog < log_cap:
                        lg_t[nlog] = t; lg_cmd[nlog] = cmd; lg_ab[nlog] = 1; lg_ch[nlog] = c
                        lg_rk[nlog] = r; lg_B[nlog] = -1; lg_row[nlog] = -1; lg_col[nlog] = -1
                        lg_req[nlog] = -1
                    nlog += 1
                    issued = 1
                    wake = True
                    first_cls = 0
                elif th > t and th < ref_thr_min:
                    ref_thr_min = th

            # (2) command queues, round robin; a second pass on a dual command bus
            attempts = 2 if dual_bus else 1
            # candidate queues (non-empty, bound reached) as a bit mask: most cycles of a
            # busy channel have none or one, and the round robin below visits only those
            cand = np.int64(0)
            if nq_ch <= 62:
                base = c * nq_ch
                # slices: indices from range() are non-negative, so the loop reads
                # contiguous memory (no negative-index fix-up, no gathers)
                qlen_c = cq_len[base:base + nq_ch]
                qlb_c = q_lb[base:base + nq_ch]
                for qi in range(nq_ch):  # branch-free, vectorisable
                    ok = np.int64(qlen_c[qi] > 0) & np.int64(qlb_c[qi] <= t)
                    cand |= ok << qi
            else:
                cand = np.int64(-1)
            while issued < attempts and cand != 0:
                did_issue = False
                start = rr[c] + 1
                if start >= nq_ch:
                    start -= nq_ch
                # the candidates in round-robin order (queue start, start + 1, ...): the
                # mask rotated so that bit i is queue start + i, walked set bit by set bit
                rot = np.int64(0)
                if nq_ch <= 62:
                    rot = ((cand >> start) | (cand << (nq_ch - start))) & (
                        (np.int64(1) << nq_ch) - 1)
                pos = -1
                while True:
                    if nq_ch <= 62:
                        if rot == 0:
                            break
                        pos = trailing_zeros(rot)
                        rot &= rot - 1
                    else:
                        pos += 1
                        if pos >= nq_ch:
                            break
                    qi = start + pos
                    if qi >= nq_ch:
                        qi -= nq_ch
                    Q = c * nq_ch + qi
                    if cq_len[Q] == 0 or q_lb[Q] > t:
                        continue
                    rq = q_rank[qi]
                    RKq = c * n_rk + rq
                    if ref_pending[RKq]:
                        continue
                    if not q_dirty[Q]:
                        # cheap refresh of the bound: rank/channel/window floors only rise
                        lbq = _INF
                        for cl in range(4):
                            v = q_lbc[Q, cl]
                            if v >= _INF:
                                continue
                            cm = q_cmdc[Q, cl]
                            if v <= t and cm >= 0:
                                f = rank_next[RKq, cm]
                                if chan_next[c, cm] > f:
                                    f = chan_next[c, cm]
                                if f > v:
                                    v = f
                                    q_lbc[Q, cl] = v
                            if v < lbq:
                                lbq = v
                        q_lb[Q] = lbq
                        if lbq > t:
                            continue
                    lbc0 = _INF
                    lbc1 = _INF
                    lbc2 = _INF
                    lbc3 = _INF
                    cmc0 = -2
                    cmc1 = -2
                    cmc2 = -2
                    cmc3 = -2
                    lb = _INF
                    kmax = cq_len[Q] if frfcfs else 1
                    sel_k = -1
                    sel_cmd = -1
                    sel_ab = False
                    n_memo = 0
                    stats[_S_SCANS] += 1
                    for k in range(kmax):
                        B = cq_B[Q, k]
                        RK = c * n_rk + cq_rk[Q, k]
                        flj = cq_fl[Q, k] if pim else 0
                        ab = (flj & 2) != 0
                        row = cq_row[Q, k]
                        # required command
                        if ab:
                            all_open = True
                            any_open = False
                            for ii in range(nb_rank):
                                orow = open_row[RK * nb_rank + ii]
                                if orow >= 0:
                                    any_open = True
                                if orow != row:
                                    all_open = False
                            if all_open:
                                need = 2
                            elif any_open:
                                need = 1
                            else:
                                need = 0
                        else:
                            orow = open_row[B]
                            if orow == row:
                                need = 2
                            elif orow >= 0:
                                need = 1
                            else:
                                need = 0
                        if need == 2:
                            cmd = col_cmd[cq_wr[Q, k], 1 if close_page else 0, flj & 1]
                            blocked = False
                            for k2 in range(k):
                                if cq_addr[Q, k2] == cq_addr[Q, k]:
                                    blocked = True
                                    break
                            if blocked:
                                continue
                        elif need == 1:
                            cmd = pre_id
                            blocked = False
                            for k2 in range(k):
                                if cq_B[Q, k2] == B:
                                    blocked = True
                                    break
                            if blocked:
                                continue
                            if hit_cnt[B] < row_hit_cap:
                                orow = open_row[B]
                                for k2 in range(k, cq_len[Q]):
                                    if cq_B[Q, k2] == B and cq_row[Q, k2] == orow:
                                        blocked = True
                                        break
                            if blocked:
                                continue
                        else:
                            cmd = act_id
                        # same bank + same command = same threshold: compute it once
                        th = -1
                        if not ab:
                            for m in range(n_memo):
                                if memo_B[m] == B and memo_cmd[m] == cmd:
                                    th = memo_th[m]
                                    break
                        if th < 0:
                            Gj = cq_G[Q, k]
                            oo = need == 1
                            th = rank_next[RK, cmd]
                            if chan_next[c, cmd] > th:
                                th = chan_next[c, cmd]
                            if ab:
                                for ii in range(nb_rank):
                                    bb = RK * nb_rank + ii
                                    if oo and open_row[bb] < 0:
                                        continue
                                    if bank_next[bb, cmd] > th:
                                        th = bank_next[bb, cmd]
                                    gg = RK * n_bg + bg_of[ii]
                                    if bg_next[gg, cmd] > th:
                                        th = bg_next[gg, cmd]
                            else:
                                if bank_next[B, cmd] > th:
                                    th = bank_next[B, cmd]
                                if bg_next[Gj, cmd] > th:
                                    th = bg_next[Gj, cmd]
                            if not ab and n_memo < memo_B.shape[0]:
                                memo_B[n_memo] = B
                                memo_cmd[n_memo] = cmd
                                memo_th[n_memo] = th
                                n_memo += 1
                        if th <= t:
                            sel_k = k
                            sel_cmd = cmd
                            sel_ab = ab
                            break
                        if th < lb:
                            lb = th
                        rl = role[cmd]
                        if rl == ROLE_ACT:
                            if th < lbc0:
                                lbc0 = th
                            cmc0 = cmd if cmc0 == -2 or cmc0 == cmd else -1
                        elif rl == ROLE_PRE:
                            if th < lbc1:
                                lbc1 = th
                            cmc1 = cmd if cmc1 == -2 or cmc1 == cmd else -1
                        elif rl == ROLE_RD:
                            if th < lbc2:
                                lbc2 = th
                            cmc2 = cmd if cmc2 == -2 or cmc2 == cmd else -1
                        else:
                            if th < lbc3:
                                lbc3 = th
                            cmc3 = cmd if cmc3 == -2 or cmc3 == cmd else -1
                    if sel_k < 0:
                        q_lb[Q] = lb if lb > t else t + 1
                        q_dirty[Q] = False
                        q_lbc[Q, 0] = lbc0
                        q_lbc[Q, 1] = lbc1
                        q_lbc[Q, 2] = lbc2
                        q_lbc[Q, 3] = lbc3
                        q_cmdc[Q, 0] = cmc0 if cmc0 >= 0 else -1
                        q_cmdc[Q, 1] = cmc1 if cmc1 >= 0 else -1
                        q_cmdc[Q, 2] = cmc2 if cmc2 >= 0 else -1
                        q_cmdc[Q, 3] = cmc3 if cmc3 >= 0 else -1
                        continue
                    # a ready command; on the second pass only of the other class
                    cls = 1 if role[sel_cmd] >= ROLE_RD else 0
                    rr[c] = qi
                    if issued == 1 and cls == first_cls:
                        break
                    # ---- issue ----
                    j = cq[Q, sel_k]
                    B = req_B[j]
                    G = req_G[j]
                    RK = c * n_rk + req_rk[j]
                    rl = role[sel_cmd]
                    for e in range(upd_n[sel_cmd]):
                        sl = upd_slot[sel_cmd, e]
                        f = upd_f[sel_cmd, e]
                        v = t + upd_lat[sel_cmd, e]
                        if sl == 0:
                            if sel_ab:
                                for ii in range(nb_rank):
                                    if bank_next[RK * nb_rank + ii, f] < v:
                                        bank_next[RK * nb_rank + ii, f] = v
                            elif bank_next[B, f] < v:
                                bank_next[B, f] = v
                        elif sl == 1:
                            if sel_ab:
                                for ii in range(n_bg):
                                    if bg_next[RK * n_bg + ii, f] < v:
                                        bg_next[RK * n_bg + ii, f] = v
                            elif bg_next[G, f] < v:
                                bg_next[G, f] = v
                        elif sl == 2:
                            if rank_next[RK, f] < v:
                                rank_next[RK, f] = v
                        elif sl == 3:
                            for r2 in range(n_rk):
                                RK2 = c * n_rk + r2
                                if RK2 != RK and rank_next[RK2, f] < v:
                                    rank_next[RK2, f] = v
                        elif chan_next[c, f] < v:
                            chan_next[c, f] = v
                    if win_any[sel_cmd]:
                        _window_push(win_hist, win_pos, win_prev, win_next, win_count, win_lat,
                                     rank_next, RK, sel_cmd, t)
                    counts[sel_cmd, 1 if sel_ab else 0] += 1
                    b_lo = RK * nb_rank if sel_ab else B
                    b_hi = b_lo + nb_rank if sel_ab else B + 1
                    if rl == ROLE_ACT:
                        for b in range(b_lo, b_hi):
                            open_row[b] = req_row[j]
                            hit_cnt[b] = 0
                        bank_ops[sel_cmd] += b_hi - b_lo
                    elif rl == ROLE_PRE:
                        nop = 0
                        for b in range(b_lo, b_hi):
                            if open_row[b] >= 0:
                                nop += 1
                            open_row[b] = -1
                            hit_cnt[b] = 0
                        bank_ops[sel_cmd] += nop
                        stats[_S_CONFLICTS] += 1
                    else:
                        if hit_cnt[B] > 0:
                            stats[_S_HITS] += 1
                        else:
                            stats[_S_MISSES] += 1
                        for b in range(b_lo, b_hi):
                            hit_cnt[b] += 1
                            if close_page:
                                open_row[b] = -1
                                hit_cnt[b] = 0
                        bank_ops[sel_cmd] += b_hi - b_lo
                        complete[j] = t + (write_delay if rl == ROLE_WR else read_delay)
                        if complete[j] > end_cycle:
                            end_cycle = complete[j]
                        for k2 in range(sel_k, cq_len[Q] - 1):
                            cq[Q, k2] = cq[Q, k2 + 1]
                            cq_B[Q, k2] = cq_B[Q, k2 + 1]
                            cq_G[Q, k2] = cq_G[Q, k2 + 1]
                            cq_rk[Q, k2] = cq_rk[Q, k2 + 1]
                            cq_row[Q, k2] = cq_row[Q, k2 + 1]
                            cq_addr[Q, k2] = cq_addr[Q, k2 + 1]
                            cq_wr[Q, k2] = cq_wr[Q, k2 + 1]
                            cq_fl[Q, k2] = cq_fl[Q, k2 + 1]
                        cq_len[Q] -= 1
                        outstanding -= 1
                        aq = req_addr[j]
                        pend_cnt[(aq ^ (aq >> 17)) & pend_mask] -= 1
                        tq_blocked[c] = False
                        last_progress = t
                    if rl == ROLE_PRE and per_bank and not sel_ab and not pim:
                        # every entry of this bank's queue now needs an ACT of the bank:
                        # its bound is that ACT's threshold, so the queue stays clean and
                        # does not call the channel back at t + 1 to learn it
                        th = rank_next[RK, act_id]
                        if chan_next[c, act_id] > th:
                            th = chan_next[c, act_id]
                        if bank_next[B, act_id] > th:
                            th = bank_next[B, act_id]
                        if bg_next[G, act_id] > th:
                            th = bg_next[G, act_id]
                        if th <= t:
                            th = t + 1
                        q_lb[Q] = th
                        q_dirty[Q] = False
                        q_lbc[Q, 0] = th
                        q_cmdc[Q, 0] = act_id
                        for cl in range(1, 4):
                            q_lbc[Q, cl] = _INF
                            q_cmdc[Q, cl] = -1
                    elif not pim:
                        # the queue's bounds at once (see _queue_bound): an empty queue
                        # has none, and the channel is not called back at t + 1 for it
                        if cq_len[Q] > 0:
                            kq = cq_len[Q] if frfcfs else 1
                            _queue_bound(Q, c, t, n_rk, kq, cq_len,
                                         cq_B, cq_G, cq_rk, cq_row, cq_addr, cq_wr, open_row,
                                         hit_cnt, row_hit_cap, col_cmd, close_page, act_id,
                                         pre_id, role, rank_next, chan_next, bank_next,
                                         bg_next, q_lb, q_lbc, q_cmdc, q_dirty, memo_B,
                                         memo_cmd, memo_th)
                        else:
                            q_lb[Q] = t + 1
                            q_dirty[Q] = True
                    else:
                        q_lb[Q] = t + 1
                        q_dirty[Q] = True
                        wake = True
                    if sel_ab:
                        for qi2 in range(nq_ch):
                            Q2 = c * nq_ch + qi2
                            rq2 = q_rank[qi2]
                            if rq2 == req_rk[j]:
                                q_lb[Q2] = t + 1
                                q_dirty[Q2] = True
                    if record and nlog < log_cap:
                        lg_t[nlog] = t; lg_cmd[nlog] = sel_cmd; lg_ab[nlog] = 1 if sel_ab else 0
                        lg_ch[nlog] = c; lg_rk[nlog] = req_rk[j]; lg_B[nlog] = B
                        lg_row[nlog] = req_row[j]; lg_col[nlog] = req_col[j]; lg_req[nlog] = j
                    nlog += 1
                    if issued == 0:
                        first_cls = cls
                    issued += 1
                    did_issue = True
                    break
                if not did_issue:
                    break

            # (3) one transaction from the transaction queue to its command queue
            moved = False
            if tq_len[c] > 0 and not tq_blocked[c]:
                for k in range(tq_len[c]):
                    Q = tq_Q[c, k]
                    if cq_len[Q] < cq_size:
                        j = tq[c, k]
                        m = cq_len[Q]
                        cq[Q, m] = j
                        cq_B[Q, m] = req_B[j]
                        cq_G[Q, m] = req_G[j]
                        cq_rk[Q, m] = req_rk[j]
                        cq_row[Q, m] = req_row[j]
                        cq_addr[Q, m] = tq_addr[c, k]
                        cq_wr[Q, m] = req_wr[j]
                        cq_fl[Q, m] = req_flags[j]
                        cq_len[Q] += 1
                        # A clean queue stays clean: an appended entry never unblocks an
                        # older one, so only its own bound is added (all-bank: rescan).
                        fl_m = cq_fl[Q, m]
                        if q_dirty[Q] or (fl_m & 2) != 0:
                            if q_lb[Q] > t + 1:
                                q_lb[Q] = t + 1
                            q_dirty[Q] = True
                        else:
                            Bm = cq_B[Q, m]
                            RKm = c * n_rk + cq_rk[Q, m]
                            orow = open_row[Bm]
                            cmd = -1
                            if orow == cq_row[Q, m]:
                                cmd = col_cmd[cq_wr[Q, m], 1 if close_page else 0, fl_m & 1]
                                for k2 in range(m):
                                    if cq_addr[Q, k2] == cq_addr[Q, m]:
                                        cmd = -1
                                        break
                            elif orow >= 0:
                                cmd = pre_id
                                for k2 in range(m):
                                    if cq_B[Q, k2] == Bm:
                                        cmd = -1
                                        break
                            else:
                                cmd = act_id
                            if cmd >= 0 and (frfcfs or m == 0):
                                th = rank_next[RKm, cmd]
                                if chan_next[c, cmd] > th:
                                    th = chan_next[c, cmd]
                                if bank_next[Bm, cmd] > th:
                                    th = bank_next[Bm, cmd]
                                if bg_next[cq_G[Q, m], cmd] > th:
                                    th = bg_next[cq_G[Q, m], cmd]
                                if th <= t:
                                    th = t + 1
                                rl = role[cmd]
                                cl = 0 if rl == ROLE_ACT else (1 if rl == ROLE_PRE else (
                                    2 if rl == ROLE_RD else 3))
                                if q_lbc[Q, cl] >= _INF:
                                    q_cmdc[Q, cl] = cmd
                                elif q_cmdc[Q, cl] != cmd:
                                    q_cmdc[Q, cl] = -1
                                if th < q_lbc[Q, cl]:
                                    q_lbc[Q, cl] = th
                                if th < q_lb[Q]:
                                    q_lb[Q] = th
                        for k2 in range(k, tq_len[c] - 1):
                            tq[c, k2] = tq[c, k2 + 1]
                            tq_addr[c, k2] = tq_addr[c, k2 + 1]
                            tq_Q[c, k2] = tq_Q[c, k2 + 1]
                        tq_len[c] -= 1
                        moved = True
                        break
                if not moved:
                    tq_blocked[c] = True

            # next cycle at which this channel can act
            if wake or moved:
                next_wake[c] = t + 1
            else:
                nwk = ref_thr_min
                for r in range(n_rk):
                    RK = c * n_rk + r
                    if not ref_pending[RK] and ref_due[RK] < nwk:
                        nwk = ref_due[RK]
                any_ref = False
                for r in range(n_rk):
                    if ref_pending[c * n_rk + r]:
                        any_ref = True
                if not any_ref:
                    base = c * nq_ch
                    qlen_c = cq_len[base:base + nq_ch]
                    qlb_c = q_lb[base:base + nq_ch]
                    for qi in range(nq_ch):  # branch-free minimum (contiguous, see above)
                        v = qlb_c[qi] if qlen_c[qi] > 0 else _INF
                        nwk = min(nwk, v)
                else:
                    for qi in range(nq_ch):
                        Q = c * nq_ch + qi
                        if cq_len[Q] == 0:
                            continue
                        rq = q_rank[qi]
                        if ref_pending[c * n_rk + rq]:
                            continue
                        if q_lb[Q] < nwk:
                            nwk = q_lb[Q]
                if nwk <= t:
                    nwk = t + 1
                next_wake[c] = nwk

        if fe >= n and outstanding == 0:
            break
        tn = _INF
        for c in range(n_ch):
            if next_wake[c] < tn:
                tn = next_wake[c]
        if fe < n and tq_len[req_ch[fe]] < tq_size:
            a = req_arr[fe]
            if a < t + 1:
                a = t + 1
            if a < tn:
                tn = a
        if tn <= t:
            tn = t + 1
        stats[_S_STEPS] += 1
        if outstanding > 0 and tn - last_progress > stall_limit:
            stats[_S_STATUS] = 1
            break
        t = tn

    for j in range(n):
        if leader[j] >= 0:
            complete[j] = complete[leader[j]]
            if complete[j] < admit[j] + 1:
                complete[j] = admit[j] + 1
    for j in range(n):
        if complete[j] > end_cycle:
            end_cycle = complete[j]
    stats[_S_NLOG] = nlog
    stats[_S_END] = end_cycle
    m = nlog if nlog < cap else cap
    return (admit, complete, counts, bank_ops, stats, lg_t[:m], lg_cmd[:m],
            lg_ab[:m], lg_ch[:m], lg_rk[:m], lg_B[:m], lg_row[:m],
            lg_col[:m], lg_req[:m])


#: arguments of _simulate compiled as constants. Each combination gets its own machine
#: code, in which the branches they decide are folded away: the common replay (no command
#: log, no PIM flag) runs 5-10 % faster (benchmarks/sim_speed.py); four variants at most,
#: each compiled once and kept in Numba's on-disk cache like any other signature.
_CONST_ARGS = ("record", "pim")
_KERNEL_ARGS = _simulate.py_func.__code__.co_varnames[:_simulate.py_func.__code__.co_argcount]
_CONST_POS = frozenset(i for i, name in enumerate(_KERNEL_ARGS) if name in _CONST_ARGS)


def _arg_key(i: int, a) -> object:  # noqa: ANN001
    """What decides the Numba type of argument ``i`` (cheap: numba.typeof of all the
    arguments would cost 0.1 ms a call)."""
    if i in _CONST_POS:
        return a
    if isinstance(a, np.ndarray):
        f = a.flags
        return (a.dtype, a.ndim, f.c_contiguous, f.f_contiguous, f.writeable, f.aligned)
    return type(a)


#: compiled variants of _simulate by argument key (a memo, as Numba's own dispatcher keeps)
_KERNELS: dict[tuple, Callable] = {}


def _run_kernel(*args):  # noqa: ANN002, ANN202
    """Call _simulate with the arguments named in _CONST_ARGS (Python bools) typed as
    literals, i.e. compile-time constants, and the others as Numba's dispatcher would."""
    key = tuple(_arg_key(i, a) for i, a in enumerate(args))
    kernel = _KERNELS.get(key)
    if kernel is None:
        signature = tuple(nbtypes.literal(a) if i in _CONST_POS else numba.typeof(a)
                          for i, a in enumerate(args))
        kernel = _KERNELS.setdefault(key, _simulate.compile(signature))
    return kernel(*args)


# ----------------------------------------------------------------------------------------
# Python front
# ----------------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _compiled_from_json(profile_json: str) -> CompiledTiming:
    from pimsim.profile import Profile  # local: dram sits above profile in the import graph

    profile = Profile.model_validate_json(profile_json)
    return compile_timing(get_standard(profile.dram.standard), profile)


def compiled_timing_for(profile) -> CompiledTiming:  # noqa: ANN001
    """The compiled timing tables of ``profile`` (a pure memo on the profile's content)."""
    return _compiled_from_json(profile.model_dump_json())


def _update_lists(lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per preceding command, the (slot, following command, latency) entries of ``lat``
    that exist, so the engine's timing update walks only real constraints."""
    n_slots, nc, _ = lat.shape
    entries = [[(sl, f, int(lat[sl, p, f])) for sl in range(n_slots) for f in range(nc)
                if lat[sl, p, f] >= 0] for p in range(nc)]
    width = max(1, max(len(e) for e in entries))
    upd_n = np.array([len(e) for e in entries], dtype=np.int64)
    upd_slot = np.zeros((nc, width), dtype=np.int64)
    upd_f = np.zeros((nc, width), dtype=np.int64)
    upd_lat = np.zeros((nc, width), dtype=np.int64)
    for p, lst in enumerate(entries):
        for k, (sl, f, v) in enumerate(lst):
            upd_slot[p, k], upd_f[p, k], upd_lat[p, k] = sl, f, v
    return upd_n, upd_slot, upd_f, upd_lat


def _as_int_array(name: str, value, n: int | None, *, allow_bool: bool = False) -> np.ndarray:  # noqa: ANN001
    a = np.asarray(value)
    if a.ndim != 1:
        raise PimsimError(f"{name}: expected a 1-D array, got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise PimsimError(f"{name}: length {a.shape[0]} differs from addresses ({n})")
    if a.dtype.kind == "b" and allow_bool:
        return a.astype(np.int64)
    if a.dtype.kind not in "iu":
        accepted = "an integer or bool array" if allow_bool else "an integer array"
        raise PimsimError(f"{name}: dtype {a.dtype} not accepted; accepted: {accepted}")
    return a.astype(np.int64, copy=False)


def validate_requests(profile, addresses, is_write, arrival_cycles, flags=None):  # noqa: ANN001
    """Checked int64 copies of the request arrays; raises PimsimError on bad input."""
    addr = _as_int_array("addresses", addresses, None)
    n = addr.shape[0]
    wr = _as_int_array("is_write", is_write, n, allow_bool=True)
    arr = _as_int_array("arrival_cycles", arrival_cycles, n)
    if n and addr.min() < 0:
        i = int(np.argmax(addr < 0))
        raise PimsimError(f"addresses[{i}] = {int(addr[i])} is negative; accepted: 0 .. capacity - 1")
    cap = int(profile.capacity_bytes)
    if n and addr.max() >= cap:
        i = int(np.argmax(addr >= cap))
        raise PimsimError(
            f"addresses[{i}] = {int(addr[i])} is beyond the capacity of profile "
            f"{profile.name!r}; accepted: 0 .. {cap - 1}"
        )
    if n and ((wr != 0) & (wr != 1)).any():
        i = int(np.argmax((wr != 0) & (wr != 1)))
        raise PimsimError(f"is_write[{i}] = {int(wr[i])}; accepted: 0/1 or bool")
    if n and arr.min() < 0:
        i = int(np.argmax(arr < 0))
        raise PimsimError(f"arrival_cycles[{i}] = {int(arr[i])} is negative; accepted: >= 0")
    if n > 1 and (np.diff(arr) < 0).any():
        i = int(np.argmax(np.diff(arr) < 0)) + 1
        raise PimsimError(
            f"arrival_cycles[{i}] = {int(arr[i])} is before arrival_cycles[{i - 1}] = "
            f"{int(arr[i - 1])}; accepted: non-decreasing arrival cycles (in-order stream)"
        )
    if flags is None:
        fl = np.zeros(n, dtype=np.int64)
    else:
        fl = _as_int_array("flags", flags, n)
        if n and ((fl < 0) | (fl > _FLAGS_ALL)).any():
            i = int(np.argmax((fl < 0) | (fl > _FLAGS_ALL)))
            raise PimsimError(
                f"flags[{i}] = {int(fl[i])}; accepted: 0..{_FLAGS_ALL} "
                f"(FLAG_INTERNAL={FLAG_INTERNAL} | FLAG_ALL_BANK={FLAG_ALL_BANK})"
            )
    return addr, wr, arr, fl


def run_requests(profile, addresses, is_write, arrival_cycles, *, flags=None,  # noqa: ANN001
                 record_commands: bool = False, stall_limit_cycles: int = 50_000_000
                 ) -> DramResult:
    """Replay a request stream through ``profile``'s memory system.

    ``addresses`` are byte addresses (int), ``is_write`` bool/0-1, ``arrival_cycles``
    non-decreasing memory cycles, ``flags`` optional per-request :data:`FLAG_INTERNAL` /
    :data:`FLAG_ALL_BANK`. With ``record_commands`` the result carries the command log.
    """
    addr, wr, arr, fl = validate_requests(profile, addresses, is_write, arrival_cycles, flags)
    ct = compiled_timing_for(profile)
    d = profile.dram
    mapper = AddressMapper(profile)
    dec = mapper.decode(addr)
    nb_rank = d.bankgroups * d.banks_per_group
    RKl = dec.channel * d.ranks + dec.rank
    G = RKl * d.bankgroups + dec.bankgroup
    B = RKl * nb_rank + dec.bankgroup * d.banks_per_group + dec.bank
    per_bank = profile.controller.queue_structure == "per_bank"
    nq_ch = d.ranks * nb_rank if per_bank else d.ranks
    if per_bank:
        Q = dec.channel * nq_ch + dec.rank * nb_rank + dec.bankgroup * d.banks_per_group + dec.bank
    else:
        Q = dec.channel * nq_ch + dec.rank
    t = ct.values
    burst = int(profile.burst_cycles)
    log_cap = 4 * addr.shape[0] + 1024
    while True:
        out = _run_kernel(
            dec.channel, dec.rank, B, G, Q, dec.row, dec.column, wr, fl, arr, addr,
            int(d.channels), int(d.ranks), int(d.bankgroups), int(d.banks_per_group),
            int(profile.controller.trans_queue_size), int(profile.controller.cmd_queue_size),
            per_bank, profile.controller.scheduler == "frfcfs",
            profile.controller.page_policy == "close", bool(ct.standard.dual_command_bus),
            int(t["tREFI"]), int(t["CL"]) + burst, int(t["CWL"]) + burst,
            int(ct.standard.row_hit_cap), ct.lat, ct.win_prev, ct.win_next, ct.win_count,
            ct.win_lat, ct.col_cmd, ct.role, ct.act, ct.pre, ct.prea, ct.ref,
            *_update_lists(ct.lat), bool(record_commands), int(log_cap),
            int(stall_limit_cycles), bool(fl.any()),
        )
        if not record_commands or out[4][_S_NLOG] <= log_cap:
            break
        log_cap = int(out[4][_S_NLOG]) + 16  # the log overflowed: replay with room for it
    (admit, complete, counts, bank_ops, stats, lg_t, lg_cmd, lg_ab, lg_ch, lg_rk, lg_B,
     lg_row, lg_col, lg_req) = out
    if stats[_S_STATUS] != 0:
        raise PimsimError(
            f"run_requests: no progress for {stall_limit_cycles} cycles on profile "
            f"{profile.name!r} (scheduler deadlock); please report this stream"
        )
    cmd_counts: dict[str, int] = {}
    ops: dict[str, int] = {}
    for i, name in enumerate(ct.names):
        if counts[i, 0]:
            cmd_counts[name] = int(counts[i, 0])
        if counts[i, 1] and ct.role[i] not in (ROLE_PREA, ROLE_REF):
            cmd_counts[name + "_AB"] = int(counts[i, 1])
        elif counts[i, 1]:
            cmd_counts[name] = cmd_counts.get(name, 0) + int(counts[i, 1])
        if bank_ops[i]:
            ops[name] = int(bank_ops[i])
    tb = int(profile.transaction_bytes)
    internal = (fl & FLAG_INTERNAL) != 0
    allbank = (fl & FLAG_ALL_BANK) != 0
    ext = ~internal
    n_banks = np.where(allbank, nb_rank, 1)
    log = None
    if record_commands:
        names = np.array(ct.names, dtype=object)
        cmd_names = names[lg_cmd]
        ab_mask = (lg_ab == 1) & np.isin(ct.role[lg_cmd], [ROLE_ACT, ROLE_PRE, ROLE_RD, ROLE_WR])
        cmd_names = np.where(ab_mask, cmd_names + "_AB", cmd_names)
        in_rank = np.where(lg_B >= 0, lg_B % nb_rank, -1)
        single = (lg_B >= 0) & ~ab_mask
        log = pd.DataFrame({
            "cycle": lg_t,
            "command": cmd_names,
            "channel": lg_ch,
            "rank": lg_rk,
            "bankgroup": np.where(single, in_rank // d.banks_per_group, -1),
            "bank": np.where(single, in_rank % d.banks_per_group, -1),
            "row": lg_row,
            "column": lg_col,
            "request": lg_req,
        })
    return DramResult(
        admit_cycle=admit,
        complete_cycle=complete,
        total_cycles=int(stats[_S_END]),
        command_counts=cmd_counts,
        row_hits=int(stats[_S_HITS]),
        row_misses=int(stats[_S_MISSES]),
        row_conflicts=int(stats[_S_CONFLICTS]),
        reads=int((wr == 0).sum()),
        writes=int((wr == 1).sum()),
        bytes_read=(int(((wr == 0) & ext).sum()) - int(stats[_S_MERGED_RD])) * tb,
        bytes_written=(int(((wr == 1) & ext).sum()) - int(stats[_S_MERGED_WR])) * tb,
        merged_reads=int(stats[_S_MERGED_RD]),
        merged_writes=int(stats[_S_MERGED_WR]),
        sim_steps=int(stats[_S_STEPS]),
        internal_bytes=int((n_banks[internal]).sum()) * tb,
        bank_ops=ops,
        command_log=log,
    )
