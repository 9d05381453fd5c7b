"""The advantage map against hand computations from the profiles' own numbers.

A bank-level PIM unit does at most one multiply-add per lane per PIM clock, so a GEMM of
``m x k x n`` MACs takes at least ``m k n / (units x lanes x clock)`` on PIM whatever the
memory does; a host must read a weight matrix larger than its caches at least once over
the external bus, at most ``channels x bus bytes x data rate / tCK``. Where the units'
consumption rate exceeds the external bandwidth, a GEMV (batch 1) is faster on PIM.
"""

from __future__ import annotations

import pytest

from pimsim.compare.grid import CompareGrid
from pimsim.compare.run import default_grid, run_grid
from pimsim.hw.dtypes import DTYPE_BYTES
from pimsim.hw.load import load_profile

BANK_PIM = ("hbm2_pim", "gddr6_aim")


def external_gbps(p) -> float:
    d = p.dram
    return d.channels * d.bus_width / 8 * d.data_rate / p.timing.tCK_ns


def macs_per_ns(p) -> float:
    """Lane MACs per ns of every PIM unit of the channels the kind uses."""
    pim = p.pim
    channels = pim.channels_used or p.dram.channels
    return channels * pim.units_per_channel * pim.lanes * pim.clock_mhz * 1e-3


@pytest.mark.parametrize("name", BANK_PIM)
def test_gemv_on_bank_pim_beats_the_host_where_internal_exceeds_external(name) -> None:
    p = load_profile(name)
    internal = macs_per_ns(p) * DTYPE_BYTES[p.pim.dtype]
    assert internal > external_gbps(p)  # the precondition, from the profile's numbers
    grid = default_grid(p, CompareGrid(batches=(1,), gemms=((4096, 4096),)))
    row = run_grid(p, grid).iloc[0]
    assert row["pim_status"] == "ok" and row["latency_ratio"] > 1.0
    weight_bytes = 4096 * 4096 * DTYPE_BYTES[p.pim.dtype]
    assert row["host_latency_ns"] >= weight_bytes / external_gbps(p)
    assert row["pim_latency_ns"] >= 4096 * 4096 / macs_per_ns(p)


@pytest.mark.parametrize("name", BANK_PIM)
def test_crossover_batch_is_within_the_roofline_bound(name) -> None:
    """PIM can only win at batch m if host(m) > m k n / (PIM MAC rate); the map's last
    winning batch must respect it, and every ratio must sit under the bound."""
    p = load_profile(name)
    grid = default_grid(p, CompareGrid(batches=(1, 4, 16, 64), gemms=((1024, 512), (4096, 4096))))
    points = run_grid(p, grid)
    rate = macs_per_ns(p)
    for shape, g in points.groupby("shape"):
        k, n = (int(v) for v in shape.split("x"))
        possible = []
        for r in g.itertuples():
            pim_floor = r.batch * k * n / rate
            assert r.pim_latency_ns >= pim_floor * (1 - 1e-9)
            assert r.latency_ratio <= r.host_latency_ns / pim_floor * (1 + 1e-9)
            if r.host_latency_ns > pim_floor:
                possible.append(r.batch)
        wins = [int(b) for b in g.loc[g["latency_ratio"] > 1, "batch"]]
        assert all(b <= max(possible, default=0) for b in wins), (shape, wins, possible)
