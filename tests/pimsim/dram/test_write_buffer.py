"""The write buffer and its drain policy, checked by the independent validator
(``tests.helpers.cmdlog_validator.validate_write_buffer``) and by hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from pimsim.dram import run_requests
from pimsim.dram.address import AddressMapper
from tests.helpers.cmdlog_validator import validate_command_log, validate_write_buffer


def _unified(profile):
    p = profile.model_copy(deep=True)
    p.controller.write_queue = "unified"
    return p


def _mixed(profile, n: int = 3000, write_share: float = 0.4, seed: int = 3):
    """Random lines over 16 MiB (row hits, misses, conflicts), some addresses repeated
    (forwarding, merging), due at once."""
    rng = np.random.default_rng(seed)
    addr = rng.integers(0, (1 << 24) // 64, n) * 64
    addr[rng.random(n) < 0.05] = addr[0]
    wr = rng.random(n) < write_share
    return addr, wr, np.zeros(n, dtype=np.int64)


@pytest.mark.parametrize("name", ["ddr4", "hbm2"])
def test_mixed_stream_keeps_the_write_buffer_contract(request, name):
    profile = request.getfixturevalue(name)
    addr, wr, arr = _mixed(profile)
    res = run_requests(profile, addr, wr, arr, record_commands=True)
    assert validate_command_log(profile, res.command_log) == []
    assert validate_write_buffer(profile, addr, wr, res) == []


def test_the_validator_tells_a_unified_queue_from_a_buffer(ddr4):
    """Writes through the transaction queue go ahead of reads with no drain: the contract
    of a buffered controller does not hold for that schedule."""
    addr, wr, arr = _mixed(ddr4, n=1500, write_share=0.1)
    res = run_requests(_unified(ddr4), addr, wr, arr, record_commands=True)
    assert validate_command_log(ddr4, res.command_log) == []
    errors = validate_write_buffer(ddr4, addr, wr, res)
    assert errors and all("writes waiting" in e or "order" in e for e in errors)


def test_writes_below_the_threshold_drain_at_the_end_of_the_stream(ddr4):
    """Three writes (fewer than the drain threshold) behind a read: the stream ends, so
    they drain; each completes CWL + burst after its WR, after the read's RD."""
    m = AddressMapper(ddr4)
    addr = m.encode(channel=np.zeros(4, int), rank=np.zeros(4, int),
                    bankgroup=np.array([0, 1, 2, 3]), bank=np.zeros(4, int),
                    row=np.zeros(4, int), column=np.zeros(4, int))
    wr = np.array([False, True, True, True])
    res = run_requests(ddr4, addr, wr, np.zeros(4, dtype=np.int64), record_commands=True)
    log = res.command_log
    col = log[log["command"].isin(["RD", "WR"])].set_index("request")["cycle"]
    burst = ddr4.burst_cycles
    for j in (1, 2, 3):
        assert res.complete_cycle[j] == col[j] + ddr4.timing.CWL + burst
        assert col[j] > col[0]
    assert res.total_cycles == res.complete_cycle.max()


def _writes_then_reads(profile, n_w: int, n_r: int = 40):
    """``n_w`` writes to row 1, then ``n_r`` reads of row 2, over four bank groups, all due
    at cycle 0."""
    n = n_w + n_r
    addr = AddressMapper(profile).encode(
        channel=np.zeros(n, int), rank=np.zeros(n, int), bankgroup=np.arange(n) % 4,
        bank=np.zeros(n, int), row=np.where(np.arange(n) < n_w, 1, 2),
        column=np.arange(n) // 4)
    return addr, np.arange(n) < n_w, np.zeros(n, dtype=np.int64)


@pytest.mark.parametrize("n_writes, writes_first", [(8, False), (9, True), (40, True)])
def test_a_drain_starts_above_the_threshold_with_idle_command_queues(ddr4, n_writes,
                                                                     writes_first):
    """DRAMsim3's rule (controller.cc): with the command queues empty at the first cycle,
    more than 8 buffered writes start a drain before the reads move; 8 wait for the reads
    (and drain at the end of the stream); 40 fill the 32-entry buffer."""
    addr, wr, arr = _writes_then_reads(ddr4, n_writes)
    res = run_requests(ddr4, addr, wr, arr, record_commands=True)
    assert validate_command_log(ddr4, res.command_log) == []
    assert validate_write_buffer(ddr4, addr, wr, res) == []
    log = res.command_log
    first_rd = log[log["command"] == "RD"]["cycle"].min()
    first_wr = log[log["command"] == "WR"]["cycle"].min()
    assert (first_wr < first_rd) == writes_first


def test_profile_write_buffer_defaults_follow_dramsim3(ddr4):
    ctl = ddr4.controller
    assert ctl.write_queue == "buffered"
    assert ctl.write_buffer_entries == ctl.trans_queue_size  # controller.cc: same capacity
    assert ctl.write_drain_threshold == 8                    # controller.cc: size() > 8
    assert _unified(ddr4).controller.write_buffer_entries == 0
