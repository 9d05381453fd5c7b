"""The host model: shape-dependent FLOP/s, peaks per data type, launch cost, static power,
activation traffic beyond the LLC. Expectations are hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pimsim.cost.host import host_kernel_cost
from pimsim.cost.layout import Layout
from pimsim.hw.load import load_profile
from pimsim.workload import Elementwise, Gemm


def _cost(profile, kernel):
    return host_kernel_cost(profile, kernel, Layout(profile), np.random.default_rng(0))


def test_tile_and_wave_quantisation_by_hand() -> None:
    """NVIDIA's Matrix Multiplication Background guide, Sec. 3: a 256 x 64 output on 20 SMs
    fits in 4 tiles of 64 x 64 (no tile padding), one partial wave: 4 / 20 of the GPU; a
    256 x 512 output: 32 tiles of 64 x 64 in 2 waves of 20: 32 / 40."""
    h = load_profile("hbm2").host
    assert h.cores == 20
    assert h.gemm_efficiency(256, 64) == pytest.approx(4 / 20)
    assert h.gemm_efficiency(256, 512) == pytest.approx(32 / 40)
    # 4096 x 4096: the best are 64 x 64 tiles, 64 x 64 = 4096 of them in 205 waves of 20
    assert h.gemm_efficiency(4096, 4096) == pytest.approx(4096 / (205 * 20))
    # a GEMV: 4096 outputs in blocks of 256 = 16 blocks on 20 SMs
    assert h.gemm_efficiency(1, 4096) == pytest.approx(16 / 20)
    # with K: the 4 tiles of a 256 x 64 output leave 16 SMs idle, so a K of 4096 is split
    # in 5 slices (20 // 4; each 4096 / 5 >= 64 deep): 20 blocks, one full wave; a K of 128
    # allows 2 slices of 64 (8 blocks of 20)
    g = Gemm(name="g", m=256, n=64, k=4096, dtype="fp32")
    c = _cost(load_profile("hbm2"), g)
    assert c.compute_ns == pytest.approx(g.flops() / h.peak_gflops)
    assert h.gemm_efficiency(256, 64, 128) == pytest.approx(8 / 20)
    assert h.gemm_efficiency(256, 64, 63) == pytest.approx(4 / 20)


def test_a_larger_batch_keeps_the_rate_of_a_smaller_one() -> None:
    """Achieved FLOP/s of a CTR MLP layer (K >= 64) does not collapse when the batch grows:
    at every batch it is at least 2/3 of the best rate of any smaller batch (what is lost
    is the quantisation of tiles and K slices over the cores: e.g. 2 of 3 waves' worth).
    Without split-K, a 64 x 256 output (4 tiles of 64 x 64 on 20 SMs) ran at a quarter of
    the rate of the 16 x 256 matrix-vector form."""
    batches = (1, 2, 4, 8, 16, 32, 64, 128, 256)
    for name in ("hbm2", "gddr6", "ddr4_3200", "ddr4_cpu"):
        h = load_profile(name).host
        for k, n in ((512, 256), (1024, 512), (256, 128), (4096, 4096), (367, 1024), (512, 64)):
            best = 0.0
            for m in batches:
                rate = 2 * m * n * k / h.gemm_compute_ns(m, n, k, 2 * m * n * k, "fp32")
                assert rate >= best * (2 / 3) * (1 - 1e-9), (name, k, n, m, rate / best)
                best = max(best, rate)
    assert load_profile("hbm2").host.gemm_efficiency(64, 256) == pytest.approx(4 / 20)


def test_half_precision_runs_at_its_own_peak_and_energy() -> None:
    """V100 FP16 tensor cores: 125 TFLOP/s over 4 stacks (datasheet), 8x the FP32 rate;
    the dynamic energy per FLOP is FP32's divided by the same factor."""
    p = load_profile("hbm2")
    h = p.host
    assert h.peak_for("fp16") == pytest.approx(125_000 / 4)
    g32 = Gemm(name="g", m=2048, n=2048, k=2048, dtype="fp32")
    g16 = Gemm(name="g", m=2048, n=2048, k=2048, dtype="fp16")
    c32, c16 = _cost(p, g32), _cost(p, g16)
    assert c32.compute_ns / c16.compute_ns == pytest.approx(h.peak_for("fp16") / h.peak_gflops)
    assert h.pj_per_flop_for("fp16") == pytest.approx(h.pj_per_flop * h.peak_gflops / 31250)
    # a type the profile lists no peak for runs at the FP32 rate (T4: no BF16 unit)
    t4 = load_profile("gddr6").host
    assert t4.peak_for("bf16") == t4.peak_gflops


def test_launch_and_static_power_are_charged_per_kernel() -> None:
    p = load_profile("hbm2")
    h = p.host
    tiny = Gemm(name="g", m=1, n=64, k=16, dtype="fp32")
    c = _cost(p, tiny)
    assert c.time_ns == pytest.approx(h.launch_ns + max(c.compute_ns, c.dram_ns))
    assert c.time_ns >= h.launch_ns  # a tiny kernel costs at least its launch
    assert c.energy.host_static_pj == pytest.approx(h.static_w * 1e3 * c.time_ns)  # W x ns


def test_activations_beyond_the_llc_go_through_the_memory() -> None:
    p = load_profile("hbm2")
    llc = p.host.llc.capacity_bytes
    tx = p.transaction_bytes
    small = Gemm(name="s", m=64, n=256, k=256, dtype="fp32")  # 64 KB + 64 KB of activations
    big = Gemm(name="b", m=4096, n=256, k=256, dtype="fp32")  # 4 MB + 4 MB > 1.5 MB
    assert small.input_bytes() + small.output_bytes() < llc
    assert big.input_bytes() + big.output_bytes() > llc
    cs, cb = _cost(p, small), _cost(p, big)
    assert cs.external_bytes == small.resident_bytes()
    act = big.input_bytes() + big.output_bytes()
    assert cb.external_bytes == big.resident_bytes() + tx * math.ceil(
        big.input_bytes() / tx) + tx * math.ceil(big.output_bytes() / tx)
    assert cb.extra["activation_bytes"] == act
    # an elementwise kernel on large activations is memory-bound on the host
    e = Elementwise(name="e", fn="sum", m=4096, n=256, inputs=2, dtype="fp32")
    ce = _cost(p, e)
    assert ce.dram_ns > ce.compute_ns
    assert ce.external_bytes >= e.input_bytes() + e.output_bytes()


def test_cpu_host_profile() -> None:
    """The CPU host (Xeon Gold 6248 slice) behind the DDR4 profiles, RecNMP's and
    UPMEM's: AVX-512 FP32 peak 4 cores x 2.5 GHz x 64 (Intel ARK) and VNNI int8 at 4x."""
    for name in ("ddr4_3200", "ddr4_recnmp", "upmem"):
        h = load_profile(name).host
        assert h.kind == "cpu"
        assert h.peak_gflops == pytest.approx(4 * 2.5 * 64)
        assert h.peak_for("int8") == pytest.approx(4 * h.peak_gflops)
        assert h.static_w > 0 and h.launch_ns > 0
    for name in ("hbm2", "gddr6", "lpddr4_2400"):
        assert load_profile(name).host.kind == "gpu"


def test_cpu_server_socket_profile() -> None:
    """ddr4_cpu: an AMD EPYC 7742 socket (64 Zen 2 cores at 2.25 GHz, two 256-bit FMA pipes
    each: 32 FP32 FLOP/cycle; no VNNI) on eight DDR4-3200 channels (8 x 25.6 GB/s)."""
    p = load_profile("ddr4_cpu")
    h = p.host
    assert h.kind == "cpu" and h.cores == 64
    assert h.peak_gflops == pytest.approx(64 * 2.25 * 32)
    assert h.peak_for("int8") == h.peak_gflops
    assert p.dram.channels == 8
    assert p.peak_bandwidth_gbps == pytest.approx(8 * 25.6, rel=0.01)
    # the BLIS 6 x 16 micro-kernel: a 96 x 64 output is 16 x 4 = 64 blocks, one per core
    assert h.gemm_efficiency(96, 64) == pytest.approx(1.0)
    assert h.gemm_efficiency(96, 32) == pytest.approx(32 / 64)
