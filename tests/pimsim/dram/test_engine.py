"""The DRAM engine: one test per timing-constraint family, analytic bounds, PIM flags,
determinism and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pimsim.dram import FLAG_ALL_BANK, FLAG_INTERNAL, run_requests
from pimsim.dram.address import AddressMapper
from pimsim.errors import PimsimError
from pimsim.requests.replay import replay
from pimsim.requests.traces import rand_trace, seq_trace


def _run(profile, addr, wr=None, arr=None, flags=None):
    addr = np.asarray(addr, dtype=np.int64)
    n = addr.shape[0]
    wr = np.zeros(n, bool) if wr is None else np.asarray(wr, bool)
    arr = np.zeros(n, np.int64) if arr is None else np.asarray(arr, np.int64)
    return run_requests(profile, addr, wr, arr, flags=flags, record_commands=True)


def _gaps(log: pd.DataFrame, prev: set[str], nxt: set[str], keys: list[str]) -> np.ndarray:
    """For each ``nxt`` command: cycles since the latest ``prev`` command with equal keys."""
    out = []
    last: dict[tuple, int] = {}
    for row in log.sort_values("cycle", kind="stable").itertuples(index=False):
        k = tuple(getattr(row, c) for c in keys)
        if row.command in nxt and k in last:
            out.append(row.cycle - last[k])
        if row.command in prev:
            last[k] = row.cycle
    return np.array(out, dtype=np.int64)


def _enc(profile, **kw):
    return AddressMapper(profile).encode(**{k: np.asarray(v) for k, v in kw.items()})


def _random_rows_log(profile, seed: int, n: int) -> pd.DataFrame:
    """Command log of ``n`` reads to random rows of random banks of rank 0, channel 0."""
    rng = np.random.default_rng(seed)
    addr = _enc(profile, bankgroup=rng.integers(0, 4, n), bank=rng.integers(0, 4, n),
                row=rng.integers(0, 1000, n))
    return _run(profile, addr).command_log


# ---------------------------------------------------------------- constraint families
def test_act_to_act_same_bank_respects_trc(hbm2):
    rows = np.arange(40) * 3
    log = _run(hbm2, _enc(hbm2, row=rows)).command_log
    g = _gaps(log, {"ACT"}, {"ACT"}, ["channel", "rank", "bankgroup", "bank"])
    assert g.size > 30 and g.min() >= hbm2.timing.tRC


def test_fifth_act_in_a_rank_waits_tfaw(hbm2):
    log = _random_rows_log(hbm2, seed=1, n=400)
    acts = np.sort(log.loc[log.command == "ACT", "cycle"].to_numpy())
    assert acts.size > 100
    span = acts[4:] - acts[:-4]
    assert span.min() >= hbm2.timing.tFAW
    assert span.min() == hbm2.timing.tFAW  # the window is the binding limit here


def test_rd_waits_trcd_after_act_and_wr_waits_trcd_wr(hbm2):
    rng = np.random.default_rng(2)
    n = 200
    addr = _enc(hbm2, bankgroup=rng.integers(0, 4, n), row=rng.integers(0, 50, n))
    wr = rng.random(n) < 0.5
    log = _run(hbm2, addr, wr).command_log
    keys = ["channel", "rank", "bankgroup", "bank"]
    g_rd = _gaps(log, {"ACT"}, {"RD"}, keys)
    g_wr = _gaps(log, {"ACT"}, {"WR"}, keys)
    assert g_rd.min() >= hbm2.timing.tRCD_RD and g_wr.min() >= hbm2.timing.tRCD_WR
    assert g_rd.min() == hbm2.timing.tRCD_RD


def test_trrd_short_and_long(ddr4):
    log = _random_rows_log(ddr4, seed=3, n=300)
    g_s = _gaps(log, {"ACT"}, {"ACT"}, ["channel", "rank"])
    g_l = _gaps(log, {"ACT"}, {"ACT"}, ["channel", "rank", "bankgroup"])
    assert g_s.min() >= ddr4.timing.tRRD_S and g_l.min() >= ddr4.timing.tRRD_L


def test_tccd_short_and_long(ddr4):
    # row hits spread over bank groups: reads are paced by tCCD_S / tCCD_L
    n = 256
    addr = _enc(ddr4, bankgroup=np.arange(n) % 4, column=np.arange(n) // 4 % 128)
    log = _run(ddr4, addr).command_log
    g_s = _gaps(log, {"RD"}, {"RD"}, ["channel", "rank"])
    g_l = _gaps(log, {"RD"}, {"RD"}, ["channel", "rank", "bankgroup"])
    burst = ddr4.burst_cycles
    assert g_s.min() >= max(ddr4.timing.tCCD_S, burst)
    assert g_l.min() >= ddr4.timing.tCCD_L
    assert g_s.min() == max(ddr4.timing.tCCD_S, burst)


def test_twtr_after_write(ddr4):
    # writes through the transaction queue, in order with the reads, so that every group
    # of four writes is followed by reads (a write buffer would hold them back)
    p = ddr4.model_copy(deep=True)
    p.controller.write_queue = "unified"
    n = 64
    addr = _enc(p, bankgroup=np.arange(n) % 2, column=np.arange(n) % 128)
    wr = (np.arange(n) // 4) % 2 == 0
    log = _run(p, addr, wr).command_log
    t = ddr4.timing
    cwl_b = t.CWL + ddr4.burst_cycles
    g_s = _gaps(log, {"WR"}, {"RD"}, ["channel", "rank"])
    g_l = _gaps(log, {"WR"}, {"RD"}, ["channel", "rank", "bankgroup"])
    assert g_s.size and g_s.min() >= cwl_b + t.tWTR_S
    assert g_l.min() >= cwl_b + t.tWTR_L
    g_rw = _gaps(log, {"RD"}, {"WR"}, ["channel"])
    assert g_rw.min() >= t.CL + ddr4.burst_cycles + t.tRTRS - t.CWL


def test_trtp_and_twr_before_precharge(hbm2):
    n = 60
    rows = np.arange(n) % 5
    wr = np.arange(n) % 3 == 0
    log = _run(hbm2, _enc(hbm2, row=rows), wr).command_log
    keys = ["channel", "rank", "bankgroup", "bank"]
    t = hbm2.timing
    assert _gaps(log, {"RD"}, {"PRE"}, keys).min() >= t.tRTP
    assert _gaps(log, {"WR"}, {"PRE"}, keys).min() >= t.CWL + hbm2.burst_cycles + t.tWR
    assert _gaps(log, {"ACT"}, {"PRE"}, keys).min() >= t.tRAS
    assert _gaps(log, {"PRE"}, {"ACT"}, keys).min() >= t.tRP


def test_refresh_every_trefi_and_nothing_during_trfc(hbm2):
    # a slow random stream over 200k cycles
    rng = np.random.default_rng(4)
    n = 2000
    addr = rng.integers(0, 1 << 24, n) * 64
    arr = np.arange(n) * 100
    log = _run(hbm2, addr, arr=arr).command_log
    t = hbm2.timing
    for ch, g in log.groupby("channel"):
        refs = g.loc[g.command == "REF", "cycle"].to_numpy()
        assert refs.size >= 200_000 // t.tREFI - 1
        d = np.diff(refs)
        assert d.min() >= t.tREFI - 1 and d.max() <= t.tREFI + t.tRC + t.tRP
        for r in refs:
            inside = g[(g.cycle > r) & (g.cycle < r + t.tRFC)]
            assert inside.empty, inside


def test_data_bus_never_overlaps_and_close_page_uses_auto_precharge(hbm2):
    p = hbm2.model_copy(deep=True)
    p.controller.page_policy = "close"
    rng = np.random.default_rng(5)
    n = 500
    addr = rng.integers(0, 1 << 16, n) * 64
    res = _run(p, addr, rng.random(n) < 0.3)
    log = res.command_log
    assert set(log.command) <= {"ACT", "RDA", "WRA", "PREA", "REF"}
    col = log[log.command.isin(["RDA", "WRA"])]
    start = col.cycle + np.where(col.command == "RDA", p.timing.CL, p.timing.CWL)
    for ch in col.channel.unique():
        s = np.sort(start[col.channel == ch].to_numpy())
        assert np.diff(s).min() >= p.burst_cycles
    assert res.row_hits == 0


# ---------------------------------------------------------------- analytic bounds
def test_unloaded_row_miss_and_conflict_latency(hbm2):
    t = hbm2.timing
    # one read to a closed bank, then (much later) a read to another row of that bank
    addr = _enc(hbm2, row=np.array([3, 9]))
    res = _run(hbm2, addr, arr=[10, 2000])
    lat = res.complete_cycle - res.admit_cycle
    miss = t.tRCD_RD + t.CL + hbm2.burst_cycles
    assert abs(lat[0] - miss) <= 1
    assert abs(lat[1] - (miss + t.tRP)) <= 1
    assert res.row_misses == 2 and res.row_conflicts == 1


def test_seq_streaming_reaches_90_percent_of_peak_and_never_exceeds_derated_peak(hbm2):
    r = replay(hbm2, seq_trace(50_000).addresses, np.zeros(50_000, bool), np.zeros(50_000, np.int64))
    bw = r.summary()["bandwidth_gbps"]
    assert bw >= 0.9 * hbm2.peak_bandwidth_gbps
    t = hbm2.timing
    assert bw <= hbm2.peak_bandwidth_gbps * (1 - t.tRFC / t.tREFI) * 1.01


def test_random_activation_rate_is_bounded(hbm2):
    tr = rand_trace(np.random.default_rng(6), n=20_000)
    res = run_requests(hbm2, tr.addresses, tr.is_write, tr.arrival_cycles)
    t = hbm2.timing
    acts = res.command_counts["ACT"]
    ranks = hbm2.dram.channels * hbm2.dram.ranks
    per_rank_cycle = acts / ranks / res.total_cycles
    assert per_rank_cycle <= min(4 / t.tFAW, 1 / t.tRRD_S)
    banks = ranks * hbm2.banks_per_rank
    assert acts / banks / res.total_cycles <= 1 / t.tRC
    # and it is close to the tFAW bound (derated by refresh): the engine is not lazy
    assert per_rank_cycle >= 0.85 * 4 / t.tFAW * (1 - t.tRFC / t.tREFI)


# ---------------------------------------------------------------- PIM flags
def test_internal_reads_are_limited_by_tccd_not_the_bus(hbm2):
    n = 32
    cols = np.arange(n) % 32
    addr = _enc(hbm2, column=cols)
    ext = _run(hbm2, addr)
    inn = _run(hbm2, addr, flags=np.full(n, FLAG_INTERNAL, np.uint8))
    assert set(inn.command_log.command) >= {"ACT", "RDI"}
    g = _gaps(inn.command_log, {"RDI"}, {"RDI"}, ["channel"])
    assert g.min() == max(hbm2.timing.tCCD_L, 1)
    assert inn.internal_bytes == n * hbm2.transaction_bytes and inn.bytes_read == 0
    assert ext.bytes_read == n * hbm2.transaction_bytes and ext.internal_bytes == 0


def test_all_bank_stream_moves_16x_the_bytes_in_about_the_same_time(hbm2):
    n = 32
    addr = _enc(hbm2, column=np.arange(n) % 32)
    one = _run(hbm2, addr, flags=np.full(n, FLAG_INTERNAL, np.uint8))
    allb = _run(hbm2, addr, flags=np.full(n, FLAG_INTERNAL | FLAG_ALL_BANK, np.uint8))
    assert allb.internal_bytes == 16 * one.internal_bytes
    assert allb.total_cycles <= 1.1 * one.total_cycles
    assert allb.command_counts["ACT_AB"] == 1 and allb.command_counts["RDI_AB"] == n
    assert allb.bank_ops["ACT"] == 16 and allb.bank_ops["RDI"] == 16 * n
    assert allb.bank_ops_total == 16 * (n + 1)


def test_all_bank_act_respects_each_banks_trp(hbm2):
    # bank 0 has a row open; an all-bank access to another row must precharge it first
    a0 = _enc(hbm2, row=np.array([5]))
    a1 = _enc(hbm2, row=np.array([7]))
    addr = np.concatenate([a0, a1])
    res = _run(hbm2, addr, flags=np.array([0, FLAG_INTERNAL | FLAG_ALL_BANK], np.uint8))
    log = res.command_log.sort_values("cycle")
    cmds = log.command.tolist()
    assert cmds[:5] == ["ACT", "RD", "PRE_AB", "ACT_AB", "RDI_AB"]
    t_act0, t_pre, t_act = log.cycle.iloc[0], log.cycle.iloc[2], log.cycle.iloc[3]
    assert t_pre - t_act0 >= hbm2.timing.tRAS and t_act - t_pre >= hbm2.timing.tRP


# ---------------------------------------------------------------- results and input
def test_determinism(hbm2):
    tr = rand_trace(np.random.default_rng(7), n=5000)
    wr = np.random.default_rng(8).random(5000) < 0.3
    a = run_requests(hbm2, tr.addresses, wr, tr.arrival_cycles, record_commands=True)
    b = run_requests(hbm2, tr.addresses, wr, tr.arrival_cycles, record_commands=True)
    assert np.array_equal(a.admit_cycle, b.admit_cycle)
    assert np.array_equal(a.complete_cycle, b.complete_cycle)
    assert a.command_counts == b.command_counts
    pd.testing.assert_frame_equal(a.command_log, b.command_log)


def test_duplicate_reads_are_served_by_the_pending_read(hbm2):
    addr = np.array([0, 0, 0, 64], np.int64)
    res = _run(hbm2, addr)
    assert res.command_counts["RD"] == 2 and res.merged_reads == 2
    assert res.complete_cycle[0] == res.complete_cycle[1] == res.complete_cycle[2]
    assert res.bytes_read == 2 * hbm2.transaction_bytes


def test_in_order_admission_stalls_on_a_full_queue(hbm2):
    # 40 reads to one channel: the 33rd cannot enter the 32-entry queue at cycle 0
    addr = _enc(hbm2, bankgroup=np.arange(40) % 4, bank=np.arange(40) // 4 % 4,
                row=np.arange(40))
    res = _run(hbm2, addr)
    assert (res.admit_cycle[:32] == 0).all() and (res.admit_cycle[32:] > 0).all()
    assert (np.diff(res.admit_cycle) >= 0).all()


@pytest.mark.parametrize("bad, match", [
    (dict(addresses=np.array([-64])), "negative"),
    (dict(addresses=np.array([1 << 40])), "beyond the capacity"),
    (dict(addresses=np.array([0.5])), "dtype float64"),
    (dict(addresses=np.zeros((2, 2), np.int64)), "1-D"),
    (dict(is_write=np.array([2])), "is_write"),
    (dict(arrival_cycles=np.array([-1])), "negative"),
    (dict(arrival_cycles=np.array([5, 1]), addresses=np.array([0, 64]),
          is_write=np.array([0, 0])), "non-decreasing"),
    (dict(is_write=np.array([0, 1])), "length 2 differs"),
    (dict(flags=np.array([7])), "flags"),
])
def test_bad_input_raises_pimsim_error(hbm2, bad, match):
    args = dict(addresses=np.array([0]), is_write=np.array([0]), arrival_cycles=np.array([0]))
    flags = bad.pop("flags", None)
    args.update(bad)
    with pytest.raises(PimsimError, match=match):
        run_requests(hbm2, args["addresses"], args["is_write"], args["arrival_cycles"],
                     flags=flags)


def test_replay_summary_and_frame(hbm2):
    n = 2000
    tr = rand_trace(np.random.default_rng(9), n=n)
    wr = np.arange(n) % 4 == 0
    r = replay(hbm2, tr.addresses, wr, tr.arrival_cycles)
    s = r.summary()
    for key in ("cycles", "seconds", "time_ns", "bandwidth_gbps", "avg_read_latency_ns",
                "row_hit_rate", "energy_act_pj", "energy_read_pj", "energy_write_pj",
                "energy_ref_pj", "energy_background_pj", "energy_io_pj", "energy_total_pj"):
        assert key in s, key
    parts = sum(v for k, v in s.items() if k.startswith("energy_") and k != "energy_total_pj")
    assert s["energy_total_pj"] == pytest.approx(parts)
    assert s["bandwidth_gbps"] == pytest.approx(n * 64 / (s["cycles"] * hbm2.timing.tCK_ns))
    lat = (r.dram.complete_cycle - r.dram.admit_cycle)[~wr].mean() * hbm2.timing.tCK_ns
    assert s["avg_read_latency_ns"] == pytest.approx(lat)
    assert r.to_frame().shape == (1, len(s))
    assert s["energy_write_pj"] > 0 and s["energy_io_pj"] == pytest.approx(
        hbm2.power.io_pj_per_bit * 8 * n * 64)
