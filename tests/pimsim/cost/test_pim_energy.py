"""PIM energy and kind details, each against a hand count from the profile's figures:
internal reads at their own energy, register-file writes as one burst, refresh once per
channel and tREFI, AiM's MAC column rate, RecNMP's int8 lanes / on-DIMM I/O / shared
RankCache, UPMEM's per-transfer DMA latency and DPU->CPU rate."""

from __future__ import annotations

import numpy as np
import pytest

from pimsim.cost.layout import Layout
from pimsim.cost.pim import pim_kernel_cost
from pimsim.energy import command_energies_pj
from pimsim.hw.load import load_profile
from pimsim.sim.engine import simulate
from pimsim.workload import EmbeddingBag, Gemm, Table, Workload


def _pim(profile, kernel, **kw):
    return pim_kernel_cost(profile, kernel, Layout(profile), np.random.default_rng(0), **kw)


@pytest.mark.parametrize("name, dtype", [("hbm2_pim", "fp16"), ("gddr6_aim", "bf16")])
def test_internal_reads_and_register_writes_by_hand(name: str, dtype: str) -> None:
    p = load_profile(name)
    pim, t = p.pim, p.timing
    e = command_energies_pj(p)
    c = _pim(p, Gemm(name="g", m=4, n=2048, k=2048, dtype=dtype, placement="pim"))
    tx = p.transaction_bytes
    # bytes one engine command feeds: units x access bytes, times the device commands it
    # stands for where the MAC column interval is shorter than tCCD_L (AiM: 2 CK)
    per_cmd = pim.units_per_channel * pim.access_bytes * max(
        1.0, t.tCCD_L / (pim.column_cycles or t.tCCD_L))
    bursts = c.counts["RDI_AB"] * per_cmd / tx
    expect_read = e["RD"] * (c.counts.get("RD", 0) + pim.internal_access_energy_factor * bursts)
    assert c.energy.read_pj == pytest.approx(expect_read, rel=1e-3)
    # the input vector: one write burst per all-bank write, not one per bank
    assert c.energy.write_pj == pytest.approx(e["WR"] * c.counts["WR_AB"], rel=1e-6)
    assert pim.internal_access_energy_factor < 1.0


def test_refresh_once_per_channel_and_trefi_on_multichannel_pim() -> None:
    p = load_profile("hbm2_pim")
    c = _pim(p, Gemm(name="g", m=64, n=1024, k=1024, dtype="fp16", placement="pim"))
    due = p.dram.channels * p.dram.ranks * c.dram_ns / (p.timing.tREFI * p.timing.tCK_ns)
    assert due > 3 * p.dram.channels
    # one channel's stream stands for eight: its refreshes are the eight channels', once
    # (a repeated stream is extrapolated from replays a few tREFI long, so the count is
    # whole refreshes of those windows; the schedule tops the run up to what is due)
    assert 0.75 * due <= c.counts["REF"] <= due + p.dram.channels, (c.counts["REF"], due)


def test_aim_runs_at_its_published_mac_column_rate() -> None:
    """GDDR6-AiM: 32 B per bank every 2 CK (1 GHz MAC at 16 Gb/s; Lee et al., JSSC 2023),
    16x a device's pin rate. A batch-1 GEMV needs at least weights / (banks x 32 B / 2 CK)
    and, streaming, gets close to it."""
    p = load_profile("gddr6_aim")
    g = Gemm(name="g", m=1, n=4096, k=4096, dtype="bf16", placement="pim")
    c = _pim(p, g)
    per_bank_gbps = 32.0 / (2 * p.timing.tCK_ns)
    assert per_bank_gbps * 16 / p.peak_bandwidth_gbps * 8 == pytest.approx(16.0, rel=0.01)
    floor_ns = g.resident_bytes() / (p.pim.units_per_channel * per_bank_gbps)
    assert c.time_ns >= floor_ns
    assert c.time_ns - p.host.launch_ns < 2.0 * floor_ns  # rows, refresh, readout on top


def test_recnmp_int8_lanes_on_dimm_io_and_shared_rank_cache() -> None:
    p = load_profile("ddr4_recnmp")
    pim = p.pim
    rows = 200_000
    # int8 dim 64 and fp32 dim 16: 64 elements of 64 int8 lanes, 16 of 16 fp32 lanes; an
    # fp32 row takes one ALU step (its pooling add), an int8 row (row-wise quantised) two:
    # the pooling add and the dequantising multiply-add by its scale
    steps_per_row = {"int8": 2, "fp32": 1}
    costs = {}
    for dtype, dim in (("int8", 64), ("fp32", 16)):
        w = Workload(tables={"t": Table(rows=rows, dim=dim, dtype=dtype)},
                     kernels=[EmbeddingBag(name="e", table="t", batch=64, pooling=20,
                                           placement="pim")])
        costs[dtype] = simulate(w, p).kernel("e")
    for dtype, rec in costs.items():
        steps = rec.extra["max_unit_lookups"] * steps_per_row[dtype]
        assert rec.compute_ns == pytest.approx(steps / (pim.clock_mhz * 1e-3)), dtype
    # the DRAM -> buffer-chip hop: internal bytes at the on-DIMM I/O energy per bit
    rec = costs["fp32"]
    io_ext = rec.external_bytes * 8 * p.power.io_pj_per_bit
    assert rec.io_pj == pytest.approx(io_ext + rec.internal_bytes * 8 * pim.internal_io_pj_per_bit)
    # a RankCache shared by two tables gives each half of it: fewer hits under Zipf
    t = Table(rows=1_000_000, dim=16, dtype="fp32")
    one = Workload(tables={"t": t}, kernels=[EmbeddingBag(
        name="e", table="t", batch=256, pooling=80, distribution="zipf", placement="pim")])
    two = Workload(tables={"t": t, "u": Table(rows=rows, dim=16, dtype="fp32")},
                   kernels=[EmbeddingBag(name="e", table="t", batch=256, pooling=80,
                                         distribution="zipf", placement="pim"),
                            EmbeddingBag(name="f", table="u", batch=256, pooling=80,
                                         distribution="zipf", placement="pim")])
    alone = simulate(one, p).kernel("e").extra["rank_cache_hits"]
    shared = simulate(two, p).kernel("e").extra["rank_cache_hits"]
    assert 0 < shared < alone


def test_upmem_dma_latency_and_out_link_by_hand() -> None:
    """PrIM (Gomez-Luna et al. 2022, Sec. 3.2.1): an MRAM->WRAM DMA of s bytes takes
    alpha + beta x s cycles; DPU->CPU copies run at their own, lower rate (Sec. 3.4)."""
    p = load_profile("upmem")
    pim = p.pim
    k = EmbeddingBag(name="e", table="t", batch=64, pooling=20, placement="pim")
    w = Workload(tables={"t": Table(rows=100_000, dim=16, dtype="int32")}, kernels=[k])
    rec = simulate(w, p).kernel("e")
    lookups = rec.extra["max_unit_lookups"]
    slice_bytes = 64 // rec.extra["dpu_group_size"]
    cycles = lookups * (pim.dma_setup_cycles + slice_bytes / pim.dma_bytes_per_cycle)
    assert rec.extra["dma_ns"] == pytest.approx(cycles / (pim.clock_mhz * 1e-3))
    out_bytes = rec.extra["partials"] * 64
    assert rec.extra["transfer_out_ns"] >= out_bytes / (pim.host_link_out_gbps * p.dram.ranks)
    assert pim.host_link_out_gbps < pim.host_link_gbps
