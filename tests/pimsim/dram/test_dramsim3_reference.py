"""The DRAMsim3 reference figures (HBM2_8Gb_x128.ini) of ../shared/reference/README.md.

Same configuration (the profile imported from DRAMsim3's .ini), same traces (pimsim's
stdtraces), requests admitted in order as fast as the 32-entry transaction queues accept:
bandwidth of seq, rand and gemv and the idle average read latency within +-10 %.

The reference folder is ``shared/reference`` beside the repository, or the folder named
by the environment variable ``PIMREC_SHARED`` (a worktree elsewhere).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pimsim.hw.dramsim3 import import_dramsim3
from pimsim.hw.load import load_profile
from pimsim.requests.replay import replay
from pimsim.requests.traces import standard_trace

REPO = Path(__file__).resolve().parents[3]
REFERENCE = Path(os.environ.get("PIMREC_SHARED", REPO.parent / "shared")) / "reference"
INI = REFERENCE / "dramsim3" / "HBM2_8Gb_x128.ini"

pytestmark = pytest.mark.skipif(not INI.exists(), reason="shared/reference/ not present")

# ../shared/reference/README.md, "Reference figures (DRAMsim3, unmodified, HBM2_8Gb_x128.ini)"
DRAMSIM3_BANDWIDTH_GBPS = {"seq": 237.5, "rand": 61.4, "gemv": 234.9}
DRAMSIM3_CYCLES = {"seq": 26_943, "rand": 104_281, "gemv": 4_464}
DRAMSIM3_ROW_HIT_RATE = {"seq": 0.968, "rand": 0.001, "gemv": 0.968, "idle": 0.000}
DRAMSIM3_IDLE_LATENCY_NS = 43.8


@pytest.fixture(scope="module")
def profile():
    return import_dramsim3(INI)


@pytest.fixture(scope="module")
def results(profile):
    out = {}
    for name in ("seq", "rand", "gemv", "idle"):
        tr = standard_trace(name, seed=0)
        out[name] = replay(profile, tr.addresses, tr.is_write, tr.arrival_cycles).summary()
    return out


def test_imported_profile_matches_the_shipped_hbm2_profile(profile):
    shipped = load_profile("hbm2")
    assert profile.dram == shipped.dram
    assert profile.timing == shipped.timing
    assert profile.controller == shipped.controller


@pytest.mark.parametrize("trace", ["seq", "rand", "gemv"])
def test_bandwidth_within_10_percent(results, trace):
    ours = results[trace]["bandwidth_gbps"]
    ref = DRAMSIM3_BANDWIDTH_GBPS[trace]
    assert abs(ours - ref) / ref <= 0.10, (trace, ours, ref)
    assert abs(results[trace]["cycles"] - DRAMSIM3_CYCLES[trace]) / DRAMSIM3_CYCLES[trace] <= 0.10


def test_idle_latency_within_10_percent(results):
    ours = results["idle"]["avg_read_latency_ns"]
    assert abs(ours - DRAMSIM3_IDLE_LATENCY_NS) / DRAMSIM3_IDLE_LATENCY_NS <= 0.10, ours


@pytest.mark.parametrize("trace", ["seq", "rand", "gemv", "idle"])
def test_row_hit_rate_matches(results, trace):
    assert abs(results[trace]["row_hit_rate"] - DRAMSIM3_ROW_HIT_RATE[trace]) <= 0.01
