"""The engine's fast paths give the results of the engine before its speed work.

The figures below were recorded from ``pimsim.dram`` as it stood before the speed work of
issue 2 (per-channel due lists, candidate bit masks walked bit by bit, the tFAW floor
folded into the rank registers, the pending-address filter of admission); the optimised
engine must reproduce them exactly. The cases cover both candidate paths (at most 62
queues per channel: bit mask; ``ddr4_recnmp`` has 64: plain walk), a dual command bus
(HBM2), several ranks, shared queues and the fcfs scheduler.
"""

from __future__ import annotations

import numpy as np
import pytest

from pimsim.dram import run_requests
from pimsim.profile import load_profile
from pimsim.stdtraces import standard_trace

N = 20_000

#: (profile, trace) -> (total_cycles, row_hits, row_misses, row_conflicts,
#: sum(complete_cycle), sum(admit_cycle), command_counts), first N requests
GOLDEN = {
    ("hbm2", "rand"): (21277, 15, 19985, 19641, 202318840, 192634721,
                       {"ACT": 20049, "PRE": 19641, "PREA": 40, "REF": 40, "RD": 20000}),
    ("ddr4_3200", "rand"): (98819, 14, 19986, 19851, 979712472, 968581910,
                            {"ACT": 20046, "PRE": 19851, "PREA": 15, "REF": 15, "RD": 20000}),
    ("gddr6", "rand"): (183723, 72, 19928, 19847, 1831964208, 1811730939,
                        {"ACT": 19970, "PRE": 19847, "PREA": 15, "REF": 15, "RD": 20000}),
    ("hbm2", "embed"): (4553, 11250, 3387, 3222, 41243920, 38606705,
                        {"ACT": 3415, "PRE": 3222, "PREA": 8, "REF": 8, "RD": 14637}),
    ("ddr4_recnmp", "rand"): (90119, 23, 19977, 19721, 888862263, 873255438,
                              {"ACT": 20188, "PRE": 19721, "PREA": 28, "REF": 28, "RD": 20000}),
}


@pytest.mark.parametrize("key", sorted(GOLDEN))
def test_standard_prefix_matches_recorded_engine(key):
    profile_name, trace_name = key
    p = load_profile(profile_name)
    tr = standard_trace(trace_name)
    r = run_requests(p, tr.addresses[:N], tr.is_write[:N], tr.arrival_cycles[:N])
    cycles, hits, misses, conflicts, sum_done, sum_admit, counts = GOLDEN[key]
    assert r.total_cycles == cycles
    assert (r.row_hits, r.row_misses, r.row_conflicts) == (hits, misses, conflicts)
    assert int(r.complete_cycle.sum()) == sum_done
    assert int(r.admit_cycle.sum()) == sum_admit
    assert r.command_counts == counts


def _mixed(profile, n=4000, seed=7):
    """Reads and writes, repeated addresses (merging), sparse arrivals."""
    rng = np.random.default_rng(seed)
    span = min(int(profile.capacity_bytes), 1 << 24)
    addr = rng.integers(0, span // 64, n) * 64
    addr[rng.random(n) < 0.2] = addr[0]
    return addr, rng.random(n) < 0.3, np.cumsum(rng.integers(0, 6, n))


@pytest.mark.parametrize("queue_structure,scheduler", [("shared", "frfcfs"),
                                                       ("per_bank", "fcfs")])
def test_fast_paths_agree_with_the_command_log(queue_structure, scheduler):
    """Every request's completion equals its column command's cycle + its delay, and each
    non-merged request has exactly one column command, on the less common queue set-ups."""
    p = load_profile("ddr4_3200").model_copy(deep=True)
    p.controller.queue_structure = queue_structure
    p.controller.scheduler = scheduler
    addr, wr, arr = _mixed(p)
    r = run_requests(p, addr, wr, arr, record_commands=True)
    log = r.command_log
    col = log[log["command"].isin(["RD", "WR", "RDA", "WRA"])]
    assert col["request"].is_unique
    served = col["request"].to_numpy()
    assert len(served) == len(addr) - r.merged_reads - r.merged_writes
    burst = int(p.burst_cycles)
    delay = np.where(wr[served], p.timing.CWL + burst, p.timing.CL + burst)
    assert np.array_equal(r.complete_cycle[served], col["cycle"].to_numpy() + delay)
    assert (r.complete_cycle >= r.admit_cycle + 1).all()
