"""Data types reach the simulator: sizes in bits, FBGEMM's row-wise quantised tables, the
host's data types and peaks, PIM lanes and ALU energy per type, refusals. Expected values
are hand computations from the published layouts and datasheets named in each test."""

from __future__ import annotations

import pytest

import pimsim
from pimsim.cost.pim import internal_bandwidth_gbps
from pimsim.errors import PimsimError, ProfileError
from pimsim.hw.host import HostSection
from pimsim.hw.load import load_profile, profile_from_dict
from pimsim.sim.engine import simulate
from pimsim.workload import EmbeddingBag, Gemm, Table, Workload


def _variant(base: str, **pim: object) -> pimsim.Profile:
    """``base`` with its pim section updated (a profile of the same memory)."""
    p = load_profile(base)
    data = p.model_dump(mode="json")
    data["pim"].update(pim)
    data["name"] = f"{base}_variant"
    return profile_from_dict(data, "<variant>")


def test_fbgemm_row_bytes_by_hand() -> None:
    """FBGEMM's fused row-wise tables (src/QuantUtils.cc): int8 rows are dim bytes + fp32
    scale + fp32 bias; int4 rows ceil(dim / 2) bytes + fp16 scale + fp16 bias."""
    assert Table(rows=10, dim=64, dtype="int8").row_bytes == 64 + 4 + 4
    assert Table(rows=10, dim=64, dtype="int4").row_bytes == 32 + 2 + 2
    assert Table(rows=10, dim=13, dtype="int4").row_bytes == 7 + 2 + 2  # 13 nibbles: 7 bytes
    assert Table(rows=10, dim=64, dtype="fp16").row_bytes == 128
    assert Table(rows=1000, dim=16, dtype="int8").bytes == 1000 * 24
    # a GEMM of int4 weights packs two per byte
    g = Gemm(name="g", m=3, n=512, k=1024, dtype="int4")
    assert g.resident_bytes() == 1024 * 512 // 2
    assert Gemm(name="g", m=3, n=1, k=5, dtype="int4").input_bytes() == 8  # 15 nibbles


def test_quantised_pooling_dequantises_every_element() -> None:
    """A quantised row is dequantised as it is pooled: one multiply-add per element read
    besides the pooling add (FBGEMM's EmbeddingSpMDM reference: out = fma(scale, q,
    out + bias)); the pooled vector is fp32."""
    k = EmbeddingBag(name="e", table="t", batch=4, pooling=10, rows=100, dim=16, dtype="int8")
    lookups = 4 * 10
    assert k.dequant_macs() == lookups * 16
    assert k.flops() == (lookups - 4) * 16 + 2 * lookups * 16
    assert k.output_bytes() == 4 * 16 * 4
    f = EmbeddingBag(name="f", table="t", batch=4, pooling=10, rows=100, dim=16, dtype="fp16")
    assert f.dequant_macs() == 0 and f.output_bytes() == 4 * 16 * 2


def test_host_data_types_and_peaks_by_hand() -> None:
    """What each host computes, with its datasheet peaks: V100 FP16 tensor cores and
    int8 dp4a (4x FP32), T4 tensor cores FP16 / INT8 / INT4 (65 / 130 / 260 T, x 0.6 for
    the channel's share), Xeon Gold 6248 VNNI (4 cores x 2.5 GHz x 64 FP32 FLOP x 4),
    EPYC 7742 AVX2 int8 at the FP32 rate, Jetson Nano paired FP16 and no dp4a."""
    assert pimsim.host_dtypes(load_profile("hbm2")) == ("fp32", "fp16", "int8")
    assert pimsim.host_dtypes(load_profile("gddr6")) == ("fp32", "fp16", "int8", "int4")
    assert pimsim.host_dtypes(load_profile("ddr4_3200")) == ("fp32", "int8")
    assert pimsim.host_dtypes(load_profile("lpddr4_2400")) == ("fp32", "fp16")
    v100 = load_profile("hbm2").host
    assert v100.peak_for("int8") == pytest.approx(4 * 15.7e3 / 4, rel=0.01)
    assert v100.peak_for("fp16") == pytest.approx(125e3 / 4)
    t4 = load_profile("gddr6").host
    assert (t4.peak_for("int8"), t4.peak_for("int4")) == (0.6 * 130e3, 0.6 * 260e3)
    assert t4.peak_for("bf16") == t4.peak_gflops  # no BF16 unit: the FP32 rate
    xeon = load_profile("ddr4_3200").host
    assert xeon.peak_for("int8") == 4 * 2.5 * 64 * 4
    epyc = load_profile("ddr4_cpu").host
    assert "int8" in epyc.dtypes and epyc.peak_for("int8") == epyc.peak_gflops
    # the PIM profiles compute on their base's host
    assert pimsim.host_dtypes(load_profile("hbm2_pim")) == pimsim.host_dtypes(load_profile("hbm2"))


def test_host_int8_gemm_runs_at_the_int8_peak_and_energy() -> None:
    """A compute-bound GEMM in int8 on the Xeon slice takes 1/4 of its FP32 compute time
    (VNNI: 4x the FP32 rate, same tile efficiency) and, without a published per-type
    energy, the same full-load power: 1/4 of the FP32 core energy."""
    p = load_profile("ddr4_3200")
    recs = {}
    for dt in ("fp32", "int8"):
        w = Workload(kernels=[Gemm(name="g", m=256, n=1024, k=1024, dtype=dt)])
        recs[dt] = simulate(w, p).kernel("g")
    assert recs["fp32"].compute_ns == pytest.approx(4 * recs["int8"].compute_ns)
    flops = 2 * 256 * 1024 * 1024
    for dt, per_elem, speedup in (("fp32", 4, 1), ("int8", 1, 4)):
        # activations (1 MB in, 1 MB out at fp32) fit the 5.5 MB LLC: only weights move
        assert "activation_bytes" not in recs[dt].extra
        want = flops * p.host.pj_per_flop / speedup + 1024 * 1024 * per_elem * p.host.pj_per_byte
        assert recs[dt].host_pj == pytest.approx(want), dt
    # a published per-type figure replaces the scaled one
    h = p.host.model_copy(update={"pj_per_flop_by_dtype": {"int8": 2.0}})
    assert h.pj_per_flop_for("int8") == 2.0 and h.pj_per_flop_for("fp32") == p.host.pj_per_flop


def test_host_section_checks_its_data_types() -> None:
    base = load_profile("ddr4_3200").host.model_dump()
    with pytest.raises(ValueError, match="peak_gflops_by_dtype lists \\['int8'\\]"):
        HostSection.model_validate({**base, "dtypes": ["fp32"]})
    with pytest.raises(ValueError, match="must include fp32"):
        HostSection.model_validate({**base, "dtypes": ["int8"]})


def test_pim_refuses_a_type_its_kind_does_not_run() -> None:
    """HBM2-PIM runs FP16 only (Kwon et al., ISSCC 2021): an int8 GEMV on its units is
    refused, naming the kernel, the type and what is accepted."""
    p = load_profile("hbm2_pim")
    w = Workload(kernels=[Gemm(name="fc1", m=1, n=256, k=256, dtype="int8", placement="pim")])
    with pytest.raises(PimsimError) as err:
        simulate(w, p)
    msg = str(err.value)
    assert "'fc1'" in msg and "'int8'" in msg and "['fp16']" in msg
    assert pimsim.capabilities(load_profile("gddr6_aim")).unsupported("gemm", "fp16") \
        == "dtype 'fp16' not supported (accepted: ['bf16'])"
    # a per-type field may only name types the kind runs
    with pytest.raises(ProfileError, match="lanes_by_dtype lists \\['int8'\\]"):
        _variant("hbm2_pim", lanes_by_dtype={"int8": 32})


def test_lanes_per_type_by_hand() -> None:
    """Internal bandwidth = min(column rate, ALU rate), the ALU consuming lanes x element
    size x clock: HBM2-PIM's 16 units x 32 B per tCCD_L (4 ns) = 128 GB/s per channel,
    and 16 FP16 lanes x 2 B x 250 MHz x 16 units = 128 GB/s. An int8 variant with 32 lanes
    (the same 256-bit datapath) keeps 128; with 16 int8 lanes the ALUs halve it."""
    chans = 8
    p = load_profile("hbm2_pim")
    assert internal_bandwidth_gbps(p, dtype="fp16") == pytest.approx(chans * 128.0)
    wide = _variant("hbm2_pim", dtypes=["fp16", "int8"], lanes_by_dtype={"int8": 32})
    assert internal_bandwidth_gbps(wide, dtype="int8") == pytest.approx(chans * 128.0)
    narrow = _variant("hbm2_pim", dtypes=["fp16", "int8"])
    assert internal_bandwidth_gbps(narrow, dtype="int8") == pytest.approx(chans * 64.0)
    caps = pimsim.capabilities(wide)
    assert dict(caps.lanes_by_dtype) == {"fp16": 16, "int8": 32}


def test_int8_pooling_on_twice_the_lanes_by_hand() -> None:
    """RecNMP with int8 lanes twice its 16 fp32 lanes: an int8 row of dim 16 is a pooling
    add and a dequantising multiply-add per element over 32 lanes, the same ALU time as
    an fp32 row's adds over 16 lanes: max lookups per unit x 16 x 2 / (32 x 0.4 GHz)."""
    p = _variant("ddr4_recnmp", lanes_by_dtype={"int8": 32}, unit_cache_bytes=0)
    for dt, lanes, ops in (("int8", 32, 2), ("fp32", 16, 1)):
        w = Workload(tables={"t": Table(rows=100_000, dim=16, dtype=dt)},
                     kernels=[EmbeddingBag(name="e", table="t", batch=64, pooling=20,
                                           placement="pim")])
        rec = simulate(w, p).kernel("e")
        want = rec.extra["max_unit_lookups"] * 16 * ops / (lanes * p.pim.clock_mhz * 1e-3)
        assert rec.compute_ns == pytest.approx(want), dt


def test_alu_energy_per_type_by_hand() -> None:
    """ALU energy = lane operations x energy of one operation of the table's type:
    RecNMP's fp32 adds at 1.0 pJ; an int8 row's add and dequantising multiply-add at the
    int8 lanes' 0.3 pJ (ddr4_recnmp alu_pj_by_dtype, estimated from Horowitz, ISSCC
    2014)."""
    p = load_profile("ddr4_recnmp")
    caps = pimsim.capabilities(p)
    assert dict(caps.alu_pj_by_dtype) == {"fp32": 1.0, "int8": 0.3}
    lookups, dim = 64 * 20, 16
    for dt, ops, pj in (("fp32", 1, 1.0), ("int8", 2, 0.3)):
        w = Workload(tables={"t": Table(rows=100_000, dim=dim, dtype=dt)},
                     kernels=[EmbeddingBag(name="e", table="t", batch=64, pooling=20,
                                           placement="pim")])
        rec = simulate(w, p).kernel("e")
        assert rec.pim_alu_pj == pytest.approx(lookups * dim * ops * pj), dt


def test_packed_quantised_rows_read_every_burst_they_straddle() -> None:
    """int4 rows of dim 64 are 36 bytes, packed back to back (FBGEMM's fused layout): on
    DDR4's 64-byte bursts, row 0 (bytes 0-35) needs one burst, row 3 (108-143) two, row 7
    (252-287) two: the host reads 5 bursts for the bag {0, 3, 7}."""
    p = load_profile("ddr4_3200")
    assert p.transaction_bytes == 64
    t = Table(rows=1000, dim=64, dtype="int4")
    k = EmbeddingBag(name="e", table="t", batch=1, indices=[[0, 3, 7]])
    rec = simulate(Workload(tables={"t": t}, kernels=[k]), p).kernel("e")
    assert rec.external_bytes == 5 * 64


def test_a_shared_cost_cache_tells_table_types_apart() -> None:
    """A caller's cost cache across workloads (the co-search's) must not reuse an fp32
    table's cost for the same table at int8: int8 rows of dim 64 are 72 bytes against 256,
    so the host moves 72 / 256 of the bytes."""
    p = load_profile("ddr4_3200")
    cache: dict = {}
    moved = {}
    for dt in ("fp32", "int8"):
        w = Workload(tables={"t": Table(rows=100_000, dim=64, dtype=dt)},
                     kernels=[EmbeddingBag(name="e", table="t", batch=16, pooling=4)])
        cost = pimsim.kernel_costs(w, p, cache=cache)["e"]
        assert "cached_from" not in cost.extra, dt
        moved[dt] = cost.external_bytes
    assert moved["fp32"] == 16 * 4 * 256 and moved["int8"] == 16 * 4 * 128  # 72 B: 2 bursts


def test_int8_gemm_on_twice_the_lanes_by_hand() -> None:
    """UPMEM with a 2-lane int8 variant: GEMM 256 -> 512 at batch 16 on 128 DPUs gives
    each DPU 4 output rows, 16 x 256 x 4 multiply-adds of 12 cycles (int8_mac), over 2
    lanes at 350 MHz; the weights' DMA (1 KiB per DPU, one pass) is far shorter."""
    p = _variant("upmem", lanes_by_dtype={"int8": 2})
    g = Gemm(name="g", m=16, n=512, k=256, dtype="int8", placement="pim")
    rec = simulate(Workload(kernels=[g]), p).kernel("g")
    want_ns = 16 * 256 * 4 * 12 / (2 * 350e-3)
    assert rec.compute_ns == pytest.approx(want_ns)
    one_lane = simulate(Workload(kernels=[g]), load_profile("upmem")).kernel("g")
    assert one_lane.compute_ns == pytest.approx(2 * want_ns)
