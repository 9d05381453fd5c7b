"""The all-bank refresh manager: every tREFI per rank, once due the rank's queues stop
and the controller issues PREA (if a bank is open) then REF to the rank.

Ranks are staggered by tREFI / ranks so that their refreshes do not fall together.
DRAMsim3 precharges bank by bank before a refresh; one PREA here is a simplification.
"""

from __future__ import annotations

import numpy as np

from pimsim.dram.cmdlog import record_command
from pimsim.dram.codes import INF
from pimsim.dram.scheduler import mark_rank_dirty
from pimsim.dram.state import NO_REFCOUNT, Refresh
from pimsim.dram.timing import apply_timing, threshold_rank
from pimsim.util.jit import njit


@njit(cache=True)
def new_refresh(geo, tm):  # noqa: ANN001, ANN201
    n_ranks = geo.n_ch * geo.n_rk
    due = np.zeros(n_ranks, dtype=np.int64)
    stagger = tm.t_refi // geo.n_rk
    for c in range(geo.n_ch):
        for r in range(geo.n_rk):
            due[c * geo.n_rk + r] = (r + 1) * stagger if stagger > 0 else tm.t_refi
    return Refresh(due, np.zeros(n_ranks, dtype=np.bool_))


@njit(cache=True, **NO_REFCOUNT)
def issue_rank_command(ref, banks, q, tm, geo, out, cmd, c, r, t):  # noqa: ANN001
    """Issue refresh's PREA or REF ``cmd`` to rank ``r`` of channel ``c`` at ``t``: timing,
    counts, bank state, the refresh schedule, and the rank's queues marked dirty. Rare, so
    a call rather than inlined: the kernel's hot loop stays small."""
    RK = c * geo.n_rk + r
    apply_timing(tm, banks, geo, c, RK, -1, -1, cmd, t, True)
    out.counts[cmd, 0] += 1
    n_open = 0
    for i in range(geo.nb_rank):
        b = RK * geo.nb_rank + i
        if banks.open_row[b] >= 0:
            n_open += 1
        banks.open_row[b] = -1
        banks.hit_cnt[b] = 0
    out.bank_ops[cmd] += n_open if cmd == tm.prea else geo.nb_rank
    if cmd == tm.ref:
        ref.pending[RK] = False
        ref.due[RK] += tm.t_refi
    mark_rank_dirty(q, geo, c, r, t)


@njit(inline="always")
def refresh_step(ref, banks, q, tm, geo, out, log, c, t, record):  # noqa: ANN001, ANN201
    """Refresh's part of channel ``c``'s cycle ``t``: ranks that came due start waiting,
    and the first waiting rank whose PREA / REF is ready gets it. Returns (commands
    issued, earliest future cycle at which a waiting rank's command becomes ready)."""
    issued = 0
    soonest = INF
    for r in range(geo.n_rk):
        RK = c * geo.n_rk + r
        if not ref.pending[RK] and ref.due[RK] <= t:
            ref.pending[RK] = True
    for r in range(geo.n_rk):
        RK = c * geo.n_rk + r
        if not ref.pending[RK]:
            continue
        any_open = False
        for i in range(geo.nb_rank):
            if banks.open_row[RK * geo.nb_rank + i] >= 0:
                any_open = True
                break
        cmd = tm.prea if any_open else tm.ref
        th = threshold_rank(banks, geo, c, RK, cmd, False)
        if th <= t and issued == 0:
            issue_rank_command(ref, banks, q, tm, geo, out, cmd, c, r, t)
            if record:
                record_command(log, out.stats, t, cmd, True, c, r, -1, -1, -1, -1)
            issued = 1
        elif th > t and th < soonest:
            soonest = th
    return issued, soonest


@njit(inline="always")
def next_refresh_due(ref, geo, c, nwk):  # noqa: ANN001, ANN201
    """``nwk`` lowered to the next due cycle of channel ``c``'s ranks not yet waiting."""
    for r in range(geo.n_rk):
        RK = c * geo.n_rk + r
        if not ref.pending[RK] and ref.due[RK] < nwk:
            nwk = ref.due[RK]
    return nwk


@njit(inline="always")
def any_waiting(ref, geo, c):  # noqa: ANN001, ANN201
    """Some rank of channel ``c`` waits for its refresh (its queues do not issue)."""
    for r in range(geo.n_rk):
        if ref.pending[c * geo.n_rk + r]:
            return True
    return False
