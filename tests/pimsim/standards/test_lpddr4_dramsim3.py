"""LPDDR4, added as data only, against DRAMsim3 itself on LPDDR4_8Gb_x16_2400.ini.

The peer (``../shared/peers/dramsim3``, next to the repository) is built once by its
``build.sh`` into ``$XDG_CACHE_HOME/pimrec-peers/dramsim3`` (``~/.cache/...``), or found
there (``tests.helpers.dramsim3_peer``). Both simulators replay the same standard traces
(cut short to keep the test quick) with requests admitted in order as fast as the
transaction queues accept; bandwidth
(requests x 64 B over the time to the last return) and the unloaded read latency of the
idle trace must agree within +-10 %.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pimsim.hw.dramsim3 import import_dramsim3
from pimsim.hw.load import load_profile
from pimsim.requests.replay import replay
from pimsim.requests.traces import REQUEST_BYTES, standard_trace
from tests.helpers.dramsim3_peer import CONFIGS, DEFAULT_CACHE, build_peer, peer_missing, run_peer

INI = CONFIGS / "LPDDR4_8Gb_x16_2400.ini"

#: Requests kept of each standard trace: enough for the queues to reach steady state and
#: for ~ 20 refresh intervals (tREFI = 8,660 cycles), small enough for a quick test.
TRACE_REQUESTS = {"seq": 20_000, "rand": 20_000, "embed": 20_000, "gemv": 16_384, "idle": 400}
TOLERANCE = 0.10

pytestmark = pytest.mark.skipif(peer_missing() is not None, reason=str(peer_missing()))


@pytest.fixture(scope="module")
def peer_binary() -> Path:
    return build_peer(DEFAULT_CACHE)


@pytest.fixture(scope="module")
def figures(peer_binary: Path) -> dict[str, dict]:
    """Per trace: (ours, DRAMsim3) bandwidth in GB/s and average read latency in ns."""
    profile = load_profile("lpddr4_2400")
    out: dict[str, dict] = {}
    for name, n in TRACE_REQUESTS.items():
        tr = standard_trace(name, seed=0)
        addr, wr, cyc = tr.addresses[:n], tr.is_write[:n], tr.arrival_cycles[:n]
        ds3 = run_peer(peer_binary, INI, addr, wr, cyc)
        ours = replay(profile, addr, wr, cyc).summary()
        moved = n * REQUEST_BYTES
        out[name] = {
            "bandwidth": (moved / (ours["cycles"] * profile.timing.tCK_ns),
                          moved / (ds3["cycles"] * ds3["tCK_ns"])),
            "latency": (ours["avg_read_latency_ns"], ds3["avg_read_latency_ns"]),
        }
    return out


@pytest.mark.parametrize("trace", ["seq", "rand", "embed", "gemv"])
def test_bandwidth_within_10_percent_of_dramsim3(figures, trace):
    ours, ref = figures[trace]["bandwidth"]
    assert abs(ours - ref) / ref <= TOLERANCE, (trace, ours, ref)


def test_unloaded_read_latency_within_10_percent_of_dramsim3(figures):
    ours, ref = figures["idle"]["latency"]
    assert abs(ours - ref) / ref <= TOLERANCE, (ours, ref)


def test_the_shipped_profile_is_the_dramsim3_file_plus_jedec_trpab():
    shipped = load_profile("lpddr4_2400")
    imported = import_dramsim3(INI)
    assert (shipped.dram, shipped.power, shipped.controller) == (
        imported.dram, imported.power, imported.controller)
    ours, theirs = shipped.timing.cycles(), imported.timing.cycles()
    assert {k for k in ours if ours[k] != theirs[k]} == {"tRPab"}
    assert theirs["tRPab"] == theirs["tRP"]  # DRAMsim3 precharges all banks in tRP
    assert shipped.timing.tCK_ns == imported.timing.tCK_ns
