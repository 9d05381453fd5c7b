"""Timing bookkeeping, written once: when a command may issue next, and what an issued
command does to the earliest cycles of the commands that follow it.

A command ``cmd`` to bank ``B`` (bank group ``G``, rank ``RK``, channel ``c``) may issue
at the maximum of the four levels' registers for ``cmd``; issuing it at ``t`` raises
every register its constraints name to ``t + latency``. tFAW-style windows keep a ring of
issue cycles per rank and fold the ring's floor into the rank's registers.
"""

from __future__ import annotations

from pimsim.standards import SLOT_BANK, SLOT_BANKGROUP, SLOT_RANK, SLOT_RANK_SIBLING
from pimsim.util.jit import njit


@njit(inline="always")
def threshold(banks, c, RK, B, G, cmd):  # noqa: ANN001, ANN201
    """Earliest cycle at which ``cmd`` to bank ``B`` meets every constraint."""
    th = banks.rank_next[RK, cmd]
    if banks.chan_next[c, cmd] > th:
        th = banks.chan_next[c, cmd]
    if banks.bank_next[B, cmd] > th:
        th = banks.bank_next[B, cmd]
    if banks.bg_next[G, cmd] > th:
        th = banks.bg_next[G, cmd]
    return th


@njit(inline="always")
def threshold_rank(banks, geo, c, RK, cmd, open_only):  # noqa: ANN001, ANN201
    """Earliest cycle at which ``cmd`` to every bank of rank ``RK`` (an all-bank command,
    PREA, REF) meets every constraint; with ``open_only`` only banks with a row open count
    (an all-bank PRE leaves closed banks alone)."""
    th = banks.rank_next[RK, cmd]
    if banks.chan_next[c, cmd] > th:
        th = banks.chan_next[c, cmd]
    for ii in range(geo.nb_rank):
        bb = RK * geo.nb_rank + ii
        if open_only and banks.open_row[bb] < 0:
            continue
        if banks.bank_next[bb, cmd] > th:
            th = banks.bank_next[bb, cmd]
        gg = RK * geo.n_bg + geo.bg_of[ii]
        if banks.bg_next[gg, cmd] > th:
            th = banks.bg_next[gg, cmd]
    return th


@njit(inline="always")
def window_push(tm, banks, RK, cmd, t):  # noqa: ANN001
    """Record ``cmd`` issued at ``t`` in rank ``RK``'s windows (tFAW rings) and fold each
    window's floor (oldest of the last ``count`` commands + latency) into ``rank_next``.

    The floor of a window only rises and changes only here, so keeping it inside
    ``rank_next`` gives every threshold the same value as reading the ring each time.
    """
    for w in range(tm.win_count.shape[0]):
        if not tm.win_prev[w, cmd] or tm.win_count[w] <= 0:
            continue
        banks.win_hist[w, RK, banks.win_pos[w, RK]] = t
        wp = banks.win_pos[w, RK] + 1
        if wp >= tm.win_count[w]:
            wp = 0
        banks.win_pos[w, RK] = wp
        floor = banks.win_hist[w, RK, wp] + tm.win_lat[w]
        for f in range(tm.win_next.shape[1]):
            if tm.win_next[w, f] and banks.rank_next[RK, f] < floor:
                banks.rank_next[RK, f] = floor


@njit(inline="always")
def raise_rows(reg, lo, n, f, v):  # noqa: ANN001
    """Registers ``reg[lo:lo + n, f]`` raised to at least ``v``."""
    for i in range(lo, lo + n):
        if reg[i, f] < v:
            reg[i, f] = v


@njit(inline="always")
def apply_timing(tm, banks, geo, c, RK, B, G, cmd, t, all_bank):  # noqa: ANN001
    """``cmd`` issued at ``t`` to bank ``B`` (``all_bank``: to every bank of rank ``RK``):
    raise the registers of every level its constraints name, and its windows."""
    for e in range(tm.upd_n[cmd]):
        sl = tm.upd_slot[cmd, e]
        f = tm.upd_f[cmd, e]
        v = t + tm.upd_lat[cmd, e]
        if sl == SLOT_BANK:
            if all_bank:
                raise_rows(banks.bank_next, RK * geo.nb_rank, geo.nb_rank, f, v)
            else:
                raise_rows(banks.bank_next, B, 1, f, v)
        elif sl == SLOT_BANKGROUP:
            if all_bank:
                raise_rows(banks.bg_next, RK * geo.n_bg, geo.n_bg, f, v)
            else:
                raise_rows(banks.bg_next, G, 1, f, v)
        elif sl == SLOT_RANK:
            raise_rows(banks.rank_next, RK, 1, f, v)
        elif sl == SLOT_RANK_SIBLING:
            for r2 in range(geo.n_rk):
                RK2 = c * geo.n_rk + r2
                if RK2 != RK and banks.rank_next[RK2, f] < v:
                    banks.rank_next[RK2, f] = v
        else:  # SLOT_CHANNEL
            raise_rows(banks.chan_next, c, 1, f, v)
    if tm.win_any[cmd]:
        window_push(tm, banks, RK, cmd, t)
