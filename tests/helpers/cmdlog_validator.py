"""A command-log validator written independently of the engine.

It reads the profile's numbers itself (not :mod:`pimsim.standards` nor the compiled
tables) and checks every command of a log (``pimsim.dram.run_requests(...,
record_commands=True).command_log``) against the JEDEC-style rules:

- bank state: ACT only to a precharged bank, RD/WR only to the open row, REF only with all
  banks of the rank precharged; PREA closes every bank;
- per bank: ACT->ACT >= tRC, ACT->RD >= tRCD_RD, ACT->WR >= tRCD_WR, ACT->PRE >= tRAS,
  PRE->ACT >= tRP, RD->PRE >= tRTP, WR->PRE >= CWL + burst + tWR, RDA/WRA->ACT likewise
  plus tRP;
- per rank / bank group: ACT->ACT >= tRRD_S / tRRD_L, at most 4 ACTs in any tFAW window
  (and at most 32 in any t32AW window where the profile gives t32AW, GDDR6), PRE->PRE >=
  tPPD where the profile gives it (LPDDR4, GDDR6), RD->RD and WR->WR >= tCCD_S / tCCD_L,
  WR->RD >= CWL + burst + tWTR_S / tWTR_L;
- refresh: nothing to a rank within tRFC after its REF, the k-th REF k x tREFI after the
  first (within a slack);
- channel: command-bus slots (one command per cycle; HBM2: one row and one column command),
  data-bus bursts never overlap, rank switches leave tRTRS, RD->WR turnaround.

Column commands ending in ``I`` (RDI, WRI, RDAI, WRAI) are internal: bank timing, no data
bus. Commands ending in ``_AB`` act on every bank of the rank (all-bank broadcast); an
all-bank ACT counts as one activation for tRRD and tFAW.

:func:`validate_write_buffer` checks a replay's writes against the write buffer's contract
(the profile's ``controller`` section, read here, not the engine's tables): per address,
column commands keep admission order (a write never passes an older read of its address);
a read admitted while a write to its address waits is forwarded (no RD, done one cycle
later); and a write goes ahead of waiting reads only as part of a drain, so between its
admission and its WR more than ``write_drain_threshold`` writes were waiting at some cycle,
or the buffer was full, or the stream had ended.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd


def _base(cmd: str) -> tuple[str, bool, bool]:
    """(kind, internal, all_bank) of a command name; kind in ACT PRE PREA REF RD WR RDA WRA."""
    ab = cmd.endswith("_AB")
    if ab:
        cmd = cmd[:-3]
    internal = cmd in ("RDI", "WRI", "RDAI", "WRAI")
    if internal:
        cmd = cmd[:-1]
    return cmd, internal, ab


def validate_command_log(profile, log: pd.DataFrame, *, refresh_slack_cycles: int | None = None
                         ) -> list[str]:
    """Every violation found in ``log`` (an empty list when the log is legal)."""
    d, tm = profile.dram, profile.timing
    burst = max(1, d.burst_length // d.data_rate)
    CL, CWL = tm.CL, tm.CWL
    tRCD_RD, tRCD_WR, tRP, tRAS, tRC = tm.tRCD_RD, tm.tRCD_WR, tm.tRP, tm.tRAS, tm.tRC
    tCCD_S, tCCD_L, tRRD_S, tRRD_L, tFAW = tm.tCCD_S, tm.tCCD_L, tm.tRRD_S, tm.tRRD_L, tm.tFAW
    tWR, tWTR_S, tWTR_L, tRTP, tRTRS = tm.tWR, tm.tWTR_S, tm.tWTR_L, tm.tRTP, tm.tRTRS
    tRFC, tREFI = tm.tRFC, tm.tREFI
    t32AW = getattr(tm, "t32AW", None)
    tPPD = getattr(tm, "tPPD", None)
    wr_to_pre = CWL + burst + tWR
    dual = d.standard == "HBM2"
    nbg, nba = d.bankgroups, d.banks_per_group
    if refresh_slack_cycles is None:
        refresh_slack_cycles = tRC + tRP + tRFC

    errors: list[str] = []

    def err(i: int, row, msg: str) -> None:
        if len(errors) < 50:
            errors.append(f"#{i} cycle {row.cycle} {row.command} ch{row.channel} ra{row.rank} "
                          f"bg{row.bankgroup} ba{row.bank} row{row.row}: {msg}")

    open_row: dict[tuple, int] = {}
    last: dict[tuple, int] = {}  # (kind, ch, ra, bg, ba) -> cycle of last command of kind
    acts_rank: dict[tuple, list[int]] = defaultdict(list)
    last_pre_rank: dict[tuple, int] = {}
    last_act_bg: dict[tuple, int] = {}
    last_col: dict[tuple, int] = {}  # ("RD"/"WR", ch, ra[, bg]) -> cycle
    last_ref: dict[tuple, int] = {}
    first_ref: dict[tuple, tuple[int, int]] = {}
    bursts: dict[int, list[tuple[int, int, int, str]]] = defaultdict(list)
    slots: dict[tuple, list[str]] = defaultdict(list)

    log = log.sort_values("cycle", kind="stable")
    for i, row in enumerate(log.itertuples(index=False)):
        t = int(row.cycle)
        ch, ra = int(row.channel), int(row.rank)
        kind, internal, ab = _base(str(row.command))
        rank_scope = kind in ("PREA", "REF")
        if ab or rank_scope:
            banks = [(g, b) for g in range(nbg) for b in range(nba)]
        else:
            banks = [(int(row.bankgroup), int(row.bank))]

        # --- command bus ---------------------------------------------------------------
        cls = "col" if kind in ("RD", "WR", "RDA", "WRA") else "row"
        s = slots[(ch, t)]
        s.append(cls)
        if (not dual and len(s) > 1) or (dual and (len(s) > 2 or (len(s) == 2 and s[0] == s[1]))):
            err(i, row, f"command bus: {s} in one cycle")

        # --- refresh: nothing to the rank during tRFC ------------------------------------
        lr = last_ref.get((ch, ra))
        if lr is not None and t < lr + tRFC:
            err(i, row, f"issued {t - lr} cycles after REF (< tRFC = {tRFC})")

        if kind == "ACT":
            for g, b in banks:
                key = (ch, ra, g, b)
                if open_row.get(key, -1) >= 0:
                    err(i, row, f"ACT to bank {g}.{b} with row {open_row[key]} open")
                for k, need, name in (("ACT", tRC, "tRC"), ("PRE", tRP, "tRP"),
                                      ("RDA", tRTP + tRP, "tRTP+tRP"),
                                      ("WRA", wr_to_pre + tRP, "CWL+burst+tWR+tRP"),
                                      ("PREA", tRP, "tRP (PREA)")):
                    lt = last.get((k,) + key)
                    if lt is not None and t - lt < need:
                        err(i, row, f"{k}->ACT bank {g}.{b}: {t - lt} < {name} = {need}")
                open_row[key] = int(row.row)
                last[("ACT",) + key] = t
            # rank-level: one activation (all-bank ACT counts once)
            acts = acts_rank[(ch, ra)]
            if acts and t - acts[-1] < tRRD_S:
                err(i, row, f"ACT->ACT same rank: {t - acts[-1]} < tRRD_S = {tRRD_S}")
            if len(acts) >= 4 and t - acts[-4] < tFAW:
                err(i, row, f"5th ACT within tFAW: {t - acts[-4]} < {tFAW}")
            if t32AW is not None and len(acts) >= 32 and t - acts[-32] < t32AW:
                err(i, row, f"33rd ACT within t32AW: {t - acts[-32]} < {t32AW}")
            acts.append(t)
            for g in {g for g, _ in banks}:
                lb = last_act_bg.get((ch, ra, g))
                if lb is not None and t - lb < tRRD_L and not ab:
                    err(i, row, f"ACT->ACT same bank group: {t - lb} < tRRD_L = {tRRD_L}")
                last_act_bg[(ch, ra, g)] = t
        elif kind in ("PRE", "PREA"):
            lp = last_pre_rank.get((ch, ra))
            if kind == "PRE" and tPPD is not None and lp is not None and t - lp < tPPD:
                err(i, row, f"PRE->PRE same rank: {t - lp} < tPPD = {tPPD}")
            if kind == "PRE":
                last_pre_rank[(ch, ra)] = t
            for g, b in banks:
                key = (ch, ra, g, b)
                if open_row.get(key, -1) < 0:
                    if kind == "PRE" and not ab:
                        err(i, row, f"PRE to precharged bank {g}.{b}")
                    continue
                for k, need, name in (("ACT", tRAS, "tRAS"), ("RD", tRTP, "tRTP"),
                                      ("WR", wr_to_pre, "CWL+burst+tWR")):
                    lt = last.get((k,) + key)
                    if lt is not None and t - lt < need:
                        err(i, row, f"{k}->{kind} bank {g}.{b}: {t - lt} < {name} = {need}")
                open_row[key] = -1
                last[(kind,) + key] = t
        elif kind == "REF":
            for g, b in banks:
                key = (ch, ra, g, b)
                if open_row.get(key, -1) >= 0:
                    err(i, row, f"REF with bank {g}.{b} open")
                for k, need in (("PRE", tRP), ("PREA", tRP), ("ACT", tRC),
                                ("RDA", tRTP + tRP), ("WRA", wr_to_pre + tRP)):
                    lt = last.get((k,) + key)
                    if lt is not None and t - lt < need:
                        err(i, row, f"{k}->REF bank {g}.{b}: {t - lt} < {need}")
            # the k-th REF of a rank is due k x tREFI after the first; each may be late by
            # at most the slack (PREA waits for tRAS/tRTP/tWR, REF for tRP)
            first, k = first_ref.get((ch, ra), (t, 0))
            if abs(t - (first + k * tREFI)) > refresh_slack_cycles:
                err(i, row, f"REF #{k} at {t - first} cycles after the first, not within "
                            f"{k} x tREFI = {k * tREFI} +- {refresh_slack_cycles}")
            first_ref[(ch, ra)] = (first, k + 1)
            last_ref[(ch, ra)] = t
        else:  # column command
            is_rd = kind in ("RD", "RDA")
            for g, b in banks:
                key = (ch, ra, g, b)
                if open_row.get(key, -1) != int(row.row):
                    err(i, row, f"{row.command} to bank {g}.{b}: open row "
                                f"{open_row.get(key, -1)}, wanted {row.row}")
                la = last.get(("ACT",) + key)
                need = tRCD_RD if is_rd else tRCD_WR
                if la is None or t - la < need:
                    err(i, row, f"ACT->{kind} bank {g}.{b}: "
                                f"{None if la is None else t - la} < tRCD = {need}")
                base = "RD" if is_rd else "WR"
                last[(base,) + key] = t
                if kind in ("RDA", "WRA"):
                    last[(kind,) + key] = t
                    open_row[key] = -1
            # column spacing (internal accesses included), rank and bank group
            base = "RD" if is_rd else "WR"
            for g in {g for g, _ in banks}:
                for prev_kind in ("RD", "WR"):
                    lr_ = last_col.get((prev_kind, ch, ra))
                    lg_ = last_col.get((prev_kind, ch, ra, g))
                    if prev_kind == base:
                        if lr_ is not None and t - lr_ < tCCD_S:
                            err(i, row, f"{prev_kind}->{base} same rank {t - lr_} < tCCD_S")
                        if lg_ is not None and t - lg_ < tCCD_L:
                            err(i, row, f"{prev_kind}->{base} same bank group {t - lg_} < tCCD_L")
                    elif prev_kind == "WR" and is_rd:
                        if lr_ is not None and t - lr_ < CWL + burst + tWTR_S:
                            err(i, row, f"WR->RD same rank {t - lr_} < CWL+burst+tWTR_S")
                        if lg_ is not None and t - lg_ < CWL + burst + tWTR_L:
                            err(i, row, f"WR->RD same bank group {t - lg_} < CWL+burst+tWTR_L")
                last_col[(base, ch, ra, g)] = t
            last_col[(base, ch, ra)] = t
            # data bus
            if not internal:
                start = t + (CL if is_rd else CWL)
                bursts[ch].append((start, start + burst, ra, base, i))

    # data bus: no overlap, rank switch gap, read->write turnaround
    for ch, lst in bursts.items():
        lst.sort()
        for (s0, e0, r0, k0, i0), (s1, e1, r1, k1, i1) in zip(lst, lst[1:]):
            if s1 < e0:
                errors.append(f"channel {ch}: bursts of commands #{i0} and #{i1} overlap "
                              f"([{s0},{e0}) and [{s1},{e1}))")
            elif r0 != r1 and s1 - e0 < tRTRS:
                errors.append(f"channel {ch}: rank switch between #{i0} and #{i1} leaves "
                              f"{s1 - e0} < tRTRS = {tRTRS}")
            elif k0 != k1 and s1 - e0 < (tRTRS if k0 == "RD" else 0):
                errors.append(f"channel {ch}: read->write turnaround between #{i0} and #{i1}")
    return errors


def validate_write_buffer(profile, addresses, is_write, result) -> list[str]:  # noqa: ANN001
    """Every breach of the write buffer's contract (module docstring) in ``result`` (a
    ``run_requests(..., record_commands=True)`` result of plain, flag-free requests)."""
    ctl = profile.controller
    buffered = ctl.write_queue == "buffered"
    threshold = ctl.write_drain_threshold
    size = ctl.write_buffer_size if ctl.write_buffer_size is not None else ctl.trans_queue_size
    addr = np.asarray(addresses, dtype=np.int64)
    wr = np.asarray(is_write).astype(bool)
    admit, done = result.admit_cycle, result.complete_cycle
    log = result.command_log
    col = log[log["command"].isin(["RD", "WR", "RDA", "WRA"])]
    issue = np.full(addr.shape[0], -1, dtype=np.int64)
    issue[col["request"].to_numpy()] = col["cycle"].to_numpy()
    chan = np.full(addr.shape[0], -1, dtype=np.int64)  # the channel of each column command
    chan[col["request"].to_numpy()] = col["channel"].to_numpy()
    errors: list[str] = []
    # per address: column commands in admission order; reads behind a waiting write forwarded
    frame = pd.DataFrame({"addr": addr, "admit": admit, "issue": issue, "wr": wr,
                          "done": done}).reset_index(names="request")
    for a, grp in frame.groupby("addr", sort=False):
        if grp["wr"].sum() == 0 or len(grp) < 2:
            continue
        served = grp[grp["issue"] >= 0].sort_values(["admit", "request"])
        if (np.diff(served["issue"].to_numpy()) < 0).any():
            errors.append(f"address {a:#x}: column commands out of admission order "
                          f"(requests {served['request'].tolist()})")
        for w in grp[grp["wr"] & (grp["issue"] >= 0)].itertuples():
            behind = grp[~grp["wr"] & (grp["admit"] > w.admit) & (grp["admit"] < w.issue)]
            bad = behind[(behind["issue"] >= 0) | (behind["done"] != behind["admit"] + 1)]
            if len(bad):
                errors.append(f"address {a:#x}: reads {bad['request'].tolist()} admitted "
                              f"while write {w.request} waited were not forwarded")
    if not buffered or not wr.any():
        return errors[:50]
    # writes waiting (admitted, WR not yet issued) over time, per channel
    stream_end = int(admit.max())
    for c in np.unique(chan[wr & (issue >= 0)]):
        w_idx = np.flatnonzero(wr & (chan == c) & (issue >= 0))
        times = np.concatenate([admit[w_idx], issue[w_idx] + 1])
        steps = np.concatenate([np.ones(w_idx.size), -np.ones(w_idx.size)])
        order = np.argsort(times, kind="stable")
        times, waiting = times[order], np.cumsum(steps[order])
        for j in w_idx:
            lo = np.searchsorted(times, admit[j], side="left")
            hi = np.searchsorted(times, issue[j], side="right")
            peak = waiting[lo:hi].max() if hi > lo else 0
            if peak <= threshold and peak < size and issue[j] < stream_end:
                errors.append(f"write {j} (channel {c}) issued at {issue[j]} with at most "
                              f"{int(peak)} writes waiting since its admission at "
                              f"{admit[j]} (drain threshold {threshold}, buffer {size})")
                if len(errors) >= 50:
                    break
    return errors[:50]
