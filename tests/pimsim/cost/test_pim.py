"""PIM kinds: physical bounds, the published comparison points, bytes, unsupported kernels."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

from pimsim.cost.llc import lru_row_hits
from pimsim.cost.pim import bandwidth_ratio, capabilities, internal_bandwidth_gbps
from pimsim.sim.engine import simulate
from pimsim.errors import PimsimError
from pimsim.hw.pim import pim_section
from pimsim.hw.load import load_profile
from pimsim.workload import EmbeddingBag, Gemm, Interaction, Table, Workload

MEMORY = ("act_pj", "read_pj", "write_pj", "ref_pj", "background_pj", "io_pj")
PIM_PROFILES = ("hbm2_pim", "gddr6_aim", "ddr4_recnmp", "upmem")


def _memory_bound_kernel(name: str) -> tuple[Workload, int]:
    """The kernel each kind is built for, and the bytes its units must read."""
    p = load_profile(name)
    pim = pim_section(p)
    if "embedding_bag" not in capabilities(p).ops:  # GEMV units (bank kinds)
        k = Gemm(name="k", m=1, n=4096, k=4096, dtype=pim.dtype)
        return Workload(kernels=[k]), k.resident_bytes()
    t = Table(rows=1_000_000, dim=64, dtype=pim.dtype)
    k = EmbeddingBag(name="k", table="t", batch=64, pooling=80)
    return Workload(tables={"t": t}, kernels=[k]), 64 * 80 * t.row_bytes


def _placed(w: Workload, placement: str, fallback: bool = False) -> Workload:
    data = w.to_dict()
    data["fallback_to_host"] = fallback
    for k in data["kernels"]:
        k["placement"] = placement
    return Workload.from_dict(data)


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple]:
    out = {}
    for name in PIM_PROFILES:
        p = load_profile(name)
        w, need = _memory_bound_kernel(name)
        out[name] = (p, need, simulate(_placed(w, "host"), p), simulate(_placed(w, "pim"), p))
    return out


@pytest.mark.parametrize("name", PIM_PROFILES)
def test_pim_never_beats_internal_bandwidth_nor_the_ratio(runs, name: str) -> None:
    p, need, host, pim = runs[name]
    rec = pim.kernel("k")
    assert rec.placement == "pim"
    ratio = bandwidth_ratio(p)
    assert ratio > 1.0
    # the units cannot consume their data faster than the internal bandwidth allows
    assert rec.duration_ns >= need / internal_bandwidth_gbps(p) * (1 - 1e-9)
    speedup = host.makespan_ns / pim.makespan_ns
    assert 0.0 < speedup <= ratio, f"{name}: speedup {speedup:.2f} > ratio {ratio:.2f}"


def test_hbm2_pim_gemv_beats_host_with_less_energy(runs) -> None:
    p, need, host, pim = runs["hbm2_pim"]
    speedup = host.makespan_ns / pim.makespan_ns
    assert speedup > 2.0  # Samsung's own simulator: > 2x for GEMV 4096 x 4096
    ht, pt = host.totals(), pim.totals()
    assert pt["energy_pj"] < ht["energy_pj"]
    assert sum(pt[c] for c in MEMORY) < sum(ht[c] for c in MEMORY)
    # no external I/O for the weights: only the input vector and the partial sums cross
    assert pt["io_pj"] < 0.05 * ht["io_pj"]
    assert pt["external_bytes"] < 0.01 * need


def test_recnmp_pooling_speedup_and_memory_energy_within_bounds(runs) -> None:
    p, need, host, pim = runs["ddr4_recnmp"]
    speedup = host.makespan_ns / pim.makespan_ns
    ht, pt = host.totals(), pim.totals()
    saving = 1.0 - sum(pt[c] for c in MEMORY) / sum(ht[c] for c in MEMORY)
    ranks = p.dram.ranks
    # rank-level parallelism: faster than the host, never more than one channel per rank
    assert 1.0 < speedup <= ranks
    assert 0.0 < saving < 1.0
    # published RecNMP point (with its RankCache and scheduling): 4.2x, 45.8 % less energy
    print(f"RecNMP pooling: speedup {speedup:.2f}x (published 4.2x), memory energy saving "
          f"{100 * saving:.1f} % (published 45.8 %)")


def test_bytes_conserved() -> None:
    hbm = load_profile("hbm2_pim")
    g = Gemm(name="g", m=1, n=1024, k=1024, dtype="fp16")
    host = simulate(Workload(kernels=[g]), hbm).kernel("g")
    pim = simulate(_placed(Workload(kernels=[g]), "pim"), hbm).kernel("g")
    assert host.external_bytes == g.resident_bytes() and host.internal_bytes == 0
    assert pim.internal_bytes == g.resident_bytes()
    # host side of a lookup stream without LLC: every looked-up row crosses the bus once
    p = load_profile("ddr4_recnmp")
    p_nollc = p.model_copy(update={"host": p.host.model_copy(update={"llc": None})})
    t = Table(rows=200_000, dim=16)
    rows = np.random.default_rng(3).choice(200_000, 32 * 20, replace=False).reshape(32, 20)
    # distinct rows: the engine serves a read of an already pending address once
    e = EmbeddingBag(name="e", table="t", batch=32, indices=rows.tolist())
    w = Workload(tables={"t": t}, kernels=[e])
    h = simulate(w, p_nollc).kernel("e")
    assert h.external_bytes == 32 * 20 * t.row_bytes
    n = simulate(_placed(w, "pim"), p_nollc).kernel("e")
    hits = n.extra["rank_cache_hits"]
    assert n.internal_bytes == (32 * 20 - hits) * t.row_bytes
    # external: 8-byte instructions per lookup (whole bursts) + one pooled vector per bag
    tx = p.transaction_bytes
    assert n.external_bytes == -(-(32 * 20 * 8) // tx) * tx + 32 * t.row_bytes


def test_unsupported_kernel_raises_or_falls_back() -> None:
    p = load_profile("hbm2_pim")
    w = Workload(kernels=[Interaction(name="dot", batch=4, tokens=5, dim=8, dtype="fp16",
                                      placement="pim")])
    with pytest.raises(PimsimError, match=r"kind 'bank_simd'.*kernel 'dot'.*interaction"):
        simulate(w, p)
    tr = simulate(_placed(w, "pim", fallback=True), p)
    rec = tr.kernel("dot")
    assert rec.placement == "host" and rec.fallback
    fp32 = Workload(kernels=[Gemm(name="g", m=1, n=8, k=8, dtype="fp32", placement="pim")])
    with pytest.raises(PimsimError, match=r"kernel 'g'.*dtype 'fp32'.*\['fp16'\]"):
        simulate(fp32, p)
    with pytest.raises(PimsimError, match=r"no pim section"):
        simulate(_placed(Workload(kernels=[Gemm(name="g", m=1, n=8, k=8)]), "pim"),
                 load_profile("hbm2"))


def test_fewer_units_mean_less_internal_bandwidth_and_slower_gemv() -> None:
    p = load_profile("hbm2_pim")
    half = p.model_copy(update={"pim": p.pim.with_knobs(units_per_channel=8)})
    assert internal_bandwidth_gbps(half) == pytest.approx(internal_bandwidth_gbps(p) / 2)
    w = _placed(Workload(kernels=[Gemm(name="g", m=1, n=2048, k=2048, dtype="fp16")]), "pim")
    assert simulate(w, half).makespan_ns > 1.5 * simulate(w, p).makespan_ns
    with pytest.raises(ValueError, match="units_per_channel"):
        p.pim.with_knobs(units_per_channel=64)


def test_hot_row_replication_balances_dpu_groups() -> None:
    p = load_profile("upmem")
    t = Table(rows=50_000, dim=16, dtype="int32")
    w = _placed(Workload(tables={"t": t}, kernels=[
        EmbeddingBag(name="e", table="t", batch=64, pooling=40, distribution="zipf",
                     zipf_s=1.3)]), "pim")
    plain = simulate(w, p).kernel("e")
    repl = simulate(w, p, replicate_hot_rows=64).kernel("e")
    assert repl.extra["max_unit_lookups"] < plain.extra["max_unit_lookups"]
    assert repl.duration_ns < plain.duration_ns


def _lru_reference(seq: np.ndarray, cap: int) -> np.ndarray:
    cache: OrderedDict[int, None] = OrderedDict()
    hits = []
    for x in seq.tolist():
        hit = x in cache
        hits.append(hit)
        if hit:
            cache.move_to_end(x)
        else:
            cache[x] = None
            if len(cache) > cap:
                cache.popitem(last=False)
    return np.array(hits)


@pytest.mark.parametrize("cap", [1, 3, 16])
def test_lru_row_cache_matches_reference(cap: int) -> None:
    rng = np.random.default_rng(cap)
    seq = rng.integers(0, 40, 3000) * 7919
    assert np.array_equal(lru_row_hits(seq, cap), _lru_reference(seq, cap))
