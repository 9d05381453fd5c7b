"""pimsim against DRAMsim3 itself (a live peer) on random streams, every supported standard.

The peer (``../shared/peers/dramsim3``) is built once per session into
``~/.cache/pimrec-peers/dramsim3`` (a build already there is reused; building takes about a
minute); without the peer folder, or without a build and a compiler, the tests skip and say
why. Each standard's DRAMsim3 configuration is imported as the pimsim profile, and both
simulators replay the same streams, admitted in order as fast as the queues accept: reads
only, write-heavy, mixed reads and writes with row hits, misses and conflicts, and bursts
with idle gaps. Cycles to the last request and the average read latency (admission to data)
must agree within +-10 %.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pimsim.hw.dramsim3 import import_dramsim3
from pimsim.requests.replay import replay
from tests.helpers.dramsim3_peer import (
    CONFIG_OF_STANDARD, CONFIGS, DEFAULT_CACHE, build_peer, bursty_stream, mixed_stream,
    peer_missing,
)
from tests.helpers.dramsim3_peer import run_peer as run_dramsim3

TOLERANCE = 0.10
#: requests per stream: several drains of the 32-entry write buffers and a few refresh
#: intervals on every standard, a fraction of a second in each simulator
N = 4_000
MIB = 1 << 20

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(peer_missing() is not None, reason=str(peer_missing()))]


def _stream(kind: str, seed: int):
    rng = np.random.default_rng(seed)
    if kind == "reads":
        return mixed_stream(rng, N, 0.0, seq_share=0.3)
    if kind == "write-heavy":
        return mixed_stream(rng, N, 0.8, seq_share=0.5)
    if kind == "mixed-conflicts":  # 16 MiB: few rows per bank, many conflicts, some reuse
        return mixed_stream(rng, N, 0.35, span_bytes=16 * MIB, seq_share=0.3)
    return bursty_stream(rng, N, 0.3, burst=200, gap_cycles=1_500)


@pytest.fixture(scope="session")
def peer() -> Path:
    return build_peer(DEFAULT_CACHE)


@pytest.mark.parametrize("kind", ["reads", "write-heavy", "mixed-conflicts", "bursts"])
@pytest.mark.parametrize("standard", sorted(CONFIG_OF_STANDARD))
def test_cycles_and_read_latency_within_10_percent_of_dramsim3(peer, standard, kind):
    ini = CONFIGS / CONFIG_OF_STANDARD[standard]
    profile = import_dramsim3(ini)
    s = _stream(kind, seed=len(kind) * 7 + len(standard))
    ours = replay(profile, s.addresses, s.is_write, s.arrival_cycles).summary()
    theirs = run_dramsim3(peer, ini, s.addresses, s.is_write, s.arrival_cycles)
    cycles = ours["cycles"] / theirs["cycles"]
    latency = ours["avg_read_latency_ns"] / theirs["avg_read_latency_ns"]
    assert abs(cycles - 1) <= TOLERANCE, (standard, kind, ours["cycles"], theirs["cycles"])
    assert abs(latency - 1) <= TOLERANCE, (standard, kind, ours["avg_read_latency_ns"],
                                           theirs["avg_read_latency_ns"])
