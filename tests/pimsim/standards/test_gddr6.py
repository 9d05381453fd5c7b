"""GDDR6's 32-activation window (t32AW) and tPPD, as declared rows of the standard, against
the independent command-log validator and the analytic activation bound."""

from __future__ import annotations

import numpy as np

from pimsim.dram import run_requests
from pimsim.dram.run import compiled_timing_for
from pimsim.hw.load import load_profile
from pimsim.standards import GDDR6, SLOT_RANK
from tests.helpers.cmdlog_validator import validate_command_log


def _conflicts(profile, n: int = 1500, seed: int = 1):
    """Reads of random rows over every bank: nearly every read needs an ACT."""
    rng = np.random.default_rng(seed)
    span = int(profile.capacity_bytes)
    return rng.integers(0, span // 256, n) * 256


def test_gddr6_declares_t32aw_and_tppd():
    assert {"t32AW", "tPPD"} <= set(GDDR6.timing_names)
    p = load_profile("gddr6")
    ct = compiled_timing_for(p)
    act = ct.id("ACT")
    windows = {(int(c), int(v)) for c, v, on in zip(ct.win_count, ct.win_lat, ct.win_prev[:, act])
               if on}
    assert windows == {(4, p.timing.tFAW), (32, p.timing.t32AW)}
    assert ct.lat[SLOT_RANK, ct.id("PRE"), ct.id("PRE")] == p.timing.tPPD


def test_random_activations_keep_t32aw_and_meet_its_bound():
    p = load_profile("gddr6")
    addr = _conflicts(p)
    res = run_requests(p, addr, np.zeros(addr.size, bool), np.zeros(addr.size, np.int64),
                       record_commands=True)
    assert validate_command_log(p, res.command_log) == []
    acts = res.command_counts["ACT"]
    # 32 ACTs per t32AW per rank (one rank): no schedule is faster than this
    assert res.total_cycles >= (acts - 32) / 32 * p.timing.t32AW
    # and the window binds here: within 5 % of the bound (tRRD and tFAW allow 1.5x more)
    assert res.total_cycles <= 1.05 * (acts / 32 * p.timing.t32AW + p.timing.tRFC * 30)


def test_the_validator_sees_a_schedule_without_the_window():
    """The same stream on a device whose t32AW is only tFAW long breaks the real window."""
    p = load_profile("gddr6")
    loose = p.model_copy(deep=True)
    loose.timing.t32AW = p.timing.tFAW
    addr = _conflicts(p)
    res = run_requests(loose, addr, np.zeros(addr.size, bool), np.zeros(addr.size, np.int64),
                       record_commands=True)
    assert validate_command_log(loose, res.command_log) == []
    assert any("t32AW" in e for e in validate_command_log(p, res.command_log))
