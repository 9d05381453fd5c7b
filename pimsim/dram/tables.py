"""The kernel's timing tables (pimsim.dram.state.Timing) from a compiled standard, cut to
the constraints that can hold a command back in a given replay.

A command may issue at the maximum of its registers on four levels (bank, bank group,
rank, channel: :func:`pimsim.dram.timing.threshold`); every reader of the registers takes
that maximum (or, for a lower bound, the maximum of the rank's and the channel's). So an
entry of the update lists can go when it never raises that maximum:

- its following command cannot issue in the replay (:func:`issuable_commands`): its
  registers are never read;
- its latency is 0: it raises a register to the cycle of issue, and every later command
  issues at that cycle or after;
- a wider level gets a latency at least as long for the same pair (channel over rank over
  bank group over bank; channel over the sibling ranks): the wider register covers every
  bank the narrower one does;
- it holds the sibling ranks of a channel with one rank.

Cutting them changes no threshold, so no decision: the replay is the same, with fewer
register updates per issued command.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from pimsim.dram.codes import ROW_CLOSE, ROW_POLICIES
from pimsim.dram.state import Timing
from pimsim.hw.schema import Profile
from pimsim.standards import (
    SLOT_BANK, SLOT_BANKGROUP, SLOT_CHANNEL, SLOT_RANK, SLOT_RANK_SIBLING, CompiledTiming,
)

#: per slot, the slots whose registers cover every bank its registers hold back
WIDER = MappingProxyType({
    SLOT_BANK: (SLOT_BANKGROUP, SLOT_RANK, SLOT_CHANNEL),
    SLOT_BANKGROUP: (SLOT_RANK, SLOT_CHANNEL),
    SLOT_RANK: (SLOT_CHANNEL,),
    SLOT_RANK_SIBLING: (SLOT_CHANNEL,),
    SLOT_CHANNEL: (),
})


def issuable_commands(ct: CompiledTiming, row_policy: int, pim: bool) -> np.ndarray:
    """Per command of ``ct``, whether a replay under ``row_policy`` (``pim``: some request
    carries flags) can issue it: ACT, PRE, refresh's PREA and REF, and the column commands
    the row policy picks (:func:`pimsim.dram.rowpolicy.column_command`), their internal
    forms only with ``pim``."""
    used = np.zeros(ct.role.shape[0], dtype=np.bool_)
    used[[int(ct.act), int(ct.pre), int(ct.prea), int(ct.ref)]] = True
    policy = 1 if row_policy == ROW_CLOSE else 0
    for internal in (0, 1) if pim else (0,):
        used[ct.col_cmd[:, policy, internal]] = True
    return used


def holds_back(lat: np.ndarray, sl: int, p: int, f: int, used: np.ndarray,
               ranks: int) -> bool:
    """Whether the constraint ``lat[sl, p, f]`` can raise a threshold (module docstring)."""
    v = lat[sl, p, f]
    if v <= 0 or not used[f] or (sl == SLOT_RANK_SIBLING and ranks == 1):
        return False
    return not any(lat[w, p, f] >= v for w in WIDER[sl])


def update_lists(lat: np.ndarray, used: np.ndarray | None = None, ranks: int = 0,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per preceding command, the (slot, following command, latency) entries of ``lat``
    the timing update walks: with ``used`` (issuable commands) and ``ranks`` (per
    channel), those that can hold a command back (:func:`holds_back`); without, every
    entry that exists (``lat >= 0``)."""
    n_slots, nc, _ = lat.shape
    if used is None:
        entries = [[(sl, f, int(lat[sl, p, f])) for sl in range(n_slots) for f in range(nc)
                    if lat[sl, p, f] >= 0] for p in range(nc)]
    else:
        entries = [[(sl, f, int(lat[sl, p, f])) for sl in range(n_slots) for f in range(nc)
                    if holds_back(lat, sl, p, f, used, ranks)] for p in range(nc)]
    width = max(1, max(len(e) for e in entries))
    upd_n = np.array([len(e) for e in entries], dtype=np.int64)
    upd_slot = np.zeros((nc, width), dtype=np.int64)
    upd_f = np.zeros((nc, width), dtype=np.int64)
    upd_lat = np.zeros((nc, width), dtype=np.int64)
    for p, lst in enumerate(entries):
        for k, (sl, f, v) in enumerate(lst):
            upd_slot[p, k], upd_f[p, k], upd_lat[p, k] = sl, f, v
    return upd_n, upd_slot, upd_f, upd_lat


def engine_timing(ct: CompiledTiming, profile: Profile, *, pim: bool) -> Timing:
    """The kernel's timing tables for ``profile`` (compiled as ``ct``), for a replay with
    PIM flags (``pim``) or without, cut to the constraints that can hold a command back
    (module docstring)."""
    t = ct.values
    burst = int(profile.burst_cycles)
    used = issuable_commands(ct, ROW_POLICIES[profile.controller.page_policy], pim)
    win_next = ct.win_next & used[None, :]
    win_any = (ct.win_prev & (ct.win_count[:, None] > 0)).any(axis=0)
    return Timing(ct.role, ct.col_cmd, *update_lists(ct.lat, used, int(profile.dram.ranks)), ct.win_prev, win_next,
                  ct.win_count, ct.win_lat, win_any, int(ct.act), int(ct.pre), int(ct.prea),
                  int(ct.ref), int(t["tREFI"]), int(t["CL"]) + burst, int(t["CWL"]) + burst,
                  int(ct.standard.row_hit_cap))
