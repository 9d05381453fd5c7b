"""Bit-identical guard for refactoring the engine.

``GOLDEN`` holds figures the engine itself produced, not an independent reference (the
command-log validator and the DRAMsim3 figures are the correctness checks): a change meant
to keep the schedule the same must reproduce them exactly, and a bug present when they
were recorded is carried forward. A change that alters the schedule on purpose, checked
against the validator and DRAMsim3, records them again with
``python -m tests.pimsim.dram.test_golden``, which prints the table.

The cases cover both candidate paths of the round robin (at most 62 queues per channel:
bit mask; ``ddr4_recnmp`` has 64: plain walk), a dual command bus (HBM2), several ranks,
shared queues and the fcfs scheduler.
"""

from __future__ import annotations

import numpy as np
import pytest

from pimsim.dram import run_requests
from pimsim.hw.load import load_profile
from pimsim.requests.traces import standard_trace

N = 20_000

#: (profile, trace) -> (total_cycles, row_hits, row_misses, row_conflicts,
#: sum(complete_cycle), sum(admit_cycle), command_counts), first N requests
GOLDEN = {
    ("hbm2", "rand"): (21277, 15, 19985, 19641, 202318840, 192634721,
                       {"ACT": 20049, "PRE": 19641, "PREA": 40, "REF": 40, "RD": 20000}),
    ("ddr4_3200", "rand"): (98819, 14, 19986, 19851, 979712472, 968581910,
                            {"ACT": 20046, "PRE": 19851, "PREA": 15, "REF": 15, "RD": 20000}),
    ("gddr6", "rand"): (264376, 71, 19929, 19880, 2638187718, 2608320538,
                        {"ACT": 19934, "PRE": 19880, "PREA": 16, "REF": 22, "RD": 20000}),
    ("hbm2", "embed"): (4553, 11250, 3387, 3222, 41243920, 38606705,
                        {"ACT": 3415, "PRE": 3222, "PREA": 8, "REF": 8, "RD": 14637}),
    ("ddr4_recnmp", "rand"): (90119, 23, 19977, 19721, 888862263, 873255438,
                              {"ACT": 20188, "PRE": 19721, "PREA": 28, "REF": 28, "RD": 20000}),
}


def _figures(profile_name: str, trace_name: str) -> tuple:
    """The GOLDEN entry of the first N requests of ``trace_name`` on ``profile_name``."""
    tr = standard_trace(trace_name)
    r = run_requests(load_profile(profile_name), tr.addresses[:N], tr.is_write[:N],
                     tr.arrival_cycles[:N])
    return (r.total_cycles, r.row_hits, r.row_misses, r.row_conflicts,
            int(r.complete_cycle.sum()), int(r.admit_cycle.sum()), r.command_counts)


@pytest.mark.parametrize("key", sorted(GOLDEN))
def test_standard_prefix_matches_recorded_engine(key):
    assert _figures(*key) == GOLDEN[key]


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


if __name__ == "__main__":
    for key in sorted(GOLDEN):
        print(f"    {key!r}: {_figures(*key)!r},")
