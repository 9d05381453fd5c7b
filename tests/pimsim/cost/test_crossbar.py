"""The ``crossbar`` PIM kind on reram_pim: bounds from the section's numbers, hand-counted
energy parts, capacity, programming amortisation.

Hand figures use the profile's published constants (ISAAC Table I): 8 channels x 21 tiles x
96 crossbars = 16,128 crossbars of 128 x 128 cells of 2 bits; int8 weights over 4 cells;
8 input cycles (1-bit DACs); one ADC per crossbar at 1.28 GS/s; 100 ns reads.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pimsim.cost.layout import Layout
from pimsim.cost.pim import (
    bandwidth_ratio,
    capabilities,
    internal_bandwidth_gbps,
    pim_kernel_cost,
)
from pimsim.energy import CROSSBAR_COMPONENTS, ENERGY_COMPONENTS
from pimsim.errors import PimsimError
from pimsim.hw.load import load_profile
from pimsim.sim.engine import simulate
from pimsim.sim.trace import Trace
from pimsim.workload import (
    Elementwise,
    EmbeddingBag,
    Gemm,
    Interaction,
    Table,
    Workload,
)

XBARS = 8 * 21 * 96
SIZE, SLICES, CYCLES, READ_NS = 128, 4, 8, 100.0
ADC_NS = 1 / 1.28  # ns per conversion


@pytest.fixture(scope="module")
def reram():
    return load_profile("reram_pim")


def _cost(profile, kernel):
    return pim_kernel_cost(profile, kernel, Layout(profile), np.random.default_rng(0))


@pytest.mark.parametrize("k, n, m", [(13, 512, 1), (1024, 512, 1), (1024, 512, 16),
                                     (367, 1024, 64), (4096, 4096, 4), (16, 64, 256)])
def test_gemm_never_beats_peak_mvm_rate_nor_adc_throughput(reram, k, n, m) -> None:
    """Analytic bounds: every crossbar busy, each holding 128 x 128 / 4 weights and
    finishing their products every 8 cycles of 100 ns; and each product of a column's
    128 rows needs at least one conversion per input cycle and bit slice."""
    c = _cost(reram, Gemm(name="g", m=m, k=k, n=n, dtype="int8", placement="pim"))
    peak_macs_per_ns = XBARS * SIZE * SIZE / SLICES / (CYCLES * READ_NS)
    min_conversions = m * CYCLES * n * SLICES * math.ceil(k / SIZE)
    adc_bound = min_conversions / (XBARS / ADC_NS)
    bound = max(m * k * n / peak_macs_per_ns, adc_bound)
    assert c.compute_ns >= bound
    assert c.time_ns >= bound
    assert c.extra["adc_conversions"] >= min_conversions


def test_gemv_time_by_hand(reram) -> None:
    """1024 x 512 at batch 1: 8 row blocks x 16 column blocks; 8 pipelined 100 ns cycles
    (128 conversions take 100 ns too) plus the last read's conversions: 900 ns."""
    c = _cost(reram, Gemm(name="g", m=1, k=1024, n=512, dtype="int8", placement="pim"))
    assert c.extra["crossbars"] == 8 * 16
    assert c.compute_ns == pytest.approx(8 * 100 + 100)


def test_energy_is_the_sum_of_its_parts(reram) -> None:
    """k = 256, n = 128, m = 2: 2 row blocks, 4 column blocks, 16 cycles; parts counted
    by hand with the profile's per-event energies."""
    m, k, n = 2, 256, 128
    c = _cost(reram, Gemm(name="g", m=m, k=k, n=n, dtype="int8", placement="pim"))
    e = c.energy
    cycles = m * CYCLES
    conversions = cycles * 2 * n * SLICES
    assert e.xbar_adc_pj == pytest.approx(conversions * 1.67)
    assert e.xbar_dac_pj == pytest.approx(cycles * k * 4 * 0.39)
    assert e.xbar_array_pj == pytest.approx(cycles * k * n * SLICES * 0.00183)
    assert e.xbar_digital_pj == pytest.approx(conversions * 0.021)
    assert e.xbar_buffer_pj == pytest.approx((m * k + m * n) * 0.64)
    assert e.xbar_program_pj == pytest.approx(k * n * SLICES * 10.0 / 1e6)
    parts = sum(getattr(e, p) for p in CROSSBAR_COMPONENTS)
    assert e.crossbar_pj == pytest.approx(parts)
    assert set(CROSSBAR_COMPONENTS) == {"xbar_array_pj", "xbar_adc_pj", "xbar_dac_pj",
                                        "xbar_digital_pj", "xbar_buffer_pj", "xbar_program_pj"}
    assert e.total_pj == pytest.approx(sum(getattr(e, f) for f in ENERGY_COMPONENTS))
    assert e.pim_alu_pj == 0.0  # nothing of the tiles is booked outside its parts
    # the trace carries the same parts
    trace = simulate(Workload(kernels=[c_k := Gemm(name="g", m=m, k=k, n=n, dtype="int8",
                                                   placement="pim")]), reram)
    rec = trace.kernel(c_k.name)
    for p in CROSSBAR_COMPONENTS:
        assert getattr(rec, p) == pytest.approx(getattr(e, p))


def test_digital_unit_runs_what_crossbars_cannot(reram) -> None:
    """Interactions and elementwise kernels on the tiles' digital units: at most 8 ch x
    21 tiles x 16 lanes x 1 GHz operations per ns, 0.3 pJ each; lookups and fp32 refused."""
    caps = capabilities(reram)
    assert caps.unsupported("embedding_bag", "int8") is not None
    assert "'fp32'" in caps.unsupported("gemm", "fp32")
    dot = Interaction(name="d", batch=64, tokens=27, dim=64, dtype="int8", placement="pim")
    c = _cost(reram, dot)
    assert c.compute_ns >= dot.macs() / (8 * 21 * 16 * 1.0)
    assert c.energy.xbar_digital_pj == pytest.approx(dot.macs() * 0.3)
    assert c.energy.xbar_adc_pj == 0.0 and c.energy.xbar_array_pj == 0.0
    ew = Elementwise(name="s", fn="sigmoid", m=64, n=512, dtype="int8", placement="pim")
    assert _cost(reram, ew).energy.xbar_digital_pj == pytest.approx(ew.flops() * 0.3)
    bag = EmbeddingBag(name="e", table="t", batch=4, pooling=2, placement="pim")
    wl = Workload(tables={"t": Table(rows=1000, dim=16, dtype="int8")}, kernels=[bag])
    with pytest.raises(PimsimError, match=r"kind 'crossbar'.*op 'embedding_bag'"):
        simulate(wl, reram)


def test_a_weight_larger_than_the_crossbars_is_refused(reram) -> None:
    """8192 x 8192 int8 needs 64 x 256 = 16,384 crossbars > 16,128."""
    big = Gemm(name="huge", m=1, k=8192, n=8192, dtype="int8", placement="pim")
    with pytest.raises(PimsimError) as err:
        simulate(Workload(kernels=[big]), reram)
    msg = str(err.value)
    for text in ("'huge'", "8192 x 8192", "67,108,864 bytes", "268,435,456 cells",
                 "16,384 crossbars",
                 ("16,128 crossbars (8 channels x 21 tiles x 96 crossbars of 128x128 cells "
                  "of 2 bits")):
        assert text in msg
    spilled = simulate(Workload(kernels=[big], fallback_to_host=True), reram).kernel("huge")
    assert spilled.placement == "host" and spilled.fallback


def test_capacity_counts_every_resident_weight_once(reram) -> None:
    """Two 4096 x 4096 weights take 2 x 4,096 crossbars; a third distinct 8,192 does not
    fit the 8,000 left, a kernel re-using the first weight does."""
    def g(name: str, weight: str, k: int = 4096, n: int = 4096) -> Gemm:
        return Gemm(name=name, m=1, k=k, n=n, dtype="int8", weight=weight, placement="pim")

    kernels = [g("a", "wa"), g("b", "wb"), g("a2", "wa"), g("c", "wc", 4096, 8192)]
    wl = Workload(kernels=kernels, deps={"b": ["a"], "a2": ["b"], "c": ["a2"]})
    with pytest.raises(PimsimError, match=r"kernel 'c'.*free 7,936 of 16,128 crossbars.*"
                                          r"earlier kernels"):
        simulate(wl, reram)
    wl = Workload(kernels=kernels, deps=wl.deps, fallback_to_host=True)
    placements = {r.name: r.placement for r in simulate(wl, reram).records}
    assert placements == {"a": "pim", "b": "pim", "a2": "pim", "c": "host",
                          "(idle memory)": "memory"}


def test_programming_is_amortised_over_the_stated_inferences(reram) -> None:
    """Writing 1024 x 512 int8 weights: 128 rows x 1 us per crossbar (in parallel), 1024 x
    512 x 4 cells x 10 pJ; a run pays 1 / amortise_inferences of both."""
    g = Gemm(name="g", m=1, k=1024, n=512, dtype="int8", placement="pim")
    once = reram.model_copy(update={"pim": reram.pim.model_copy(
        update={"amortise_inferences": 1})})
    c_many, c_once = _cost(reram, g), _cost(once, g)
    program_ns, program_pj = 128 * 1000.0, 1024 * 512 * 4 * 10.0
    assert c_once.extra["program_ns_total"] == pytest.approx(program_ns)
    assert c_once.energy.xbar_program_pj == pytest.approx(program_pj)
    assert c_many.energy.xbar_program_pj == pytest.approx(program_pj / 1e6)
    assert c_once.time_ns - c_many.time_ns == pytest.approx(program_ns * (1 - 1e-6))
    assert c_many.extra["lifetime_inferences"] == pytest.approx(1e6 * 1e6)


def test_weight_copies_serve_batch_rows_at_once(reram) -> None:
    """4 copies of a 1024 x 512 weight: 16 rows in 4 rounds of 8 cycles (+ the last
    conversions), 4 x 128 crossbars, 4x the programming; conversions unchanged."""
    g = Gemm(name="g", m=16, k=1024, n=512, dtype="int8", placement="pim")
    four = reram.model_copy(update={"pim": reram.pim.with_knobs(weight_replicas=4)})
    one, rep = _cost(reram, g), _cost(four, g)
    assert one.compute_ns == pytest.approx(16 * 8 * 100 + 100)
    assert rep.compute_ns == pytest.approx(4 * 8 * 100 + 100)
    assert rep.extra["crossbars"] == 4 * 128
    assert rep.extra["adc_conversions"] == one.extra["adc_conversions"]
    assert rep.energy.xbar_program_pj == pytest.approx(4 * one.energy.xbar_program_pj)


def test_gemms_on_different_weights_run_at_once(reram) -> None:
    """Two independent GEMMs hold their own crossbars: the makespan is about one of them
    (each 16 x 8 cycles of 100 ns), not their sum; the channels are held for copies only."""
    a = Gemm(name="a", m=16, k=512, n=512, dtype="int8", placement="pim")
    b = Gemm(name="b", m=16, k=512, n=512, dtype="int8", placement="pim")
    trace = simulate(Workload(kernels=[a, b]), reram)
    ra, rb = trace.kernel("a"), trace.kernel("b")
    assert ra.unit != rb.unit
    one = ra.duration_ns
    assert trace.makespan_ns < 1.5 * one
    assert one >= 16 * 8 * 100


def test_gemv_speedup_within_the_arrays_rate_over_the_memory(reram) -> None:
    """The project's PIM sanity rule on the 4096 x 4096 GEMV: the kernel takes at least its
    weight bytes over the arrays' weight rate (internal_bandwidth_gbps: 16,128 crossbars x
    4,096 int8 weights per 800 ns), and its speed-up over the host stays under that rate
    over the memory's 256 GB/s."""
    g = Gemm(name="k", m=1, k=4096, n=4096, dtype="int8")
    rate = internal_bandwidth_gbps(reram)
    assert rate == pytest.approx(XBARS * 4096 / 800.0)
    host = simulate(Workload(kernels=[g]), reram)
    pim = simulate(Workload(kernels=[g.model_copy(update={"placement": "pim"})]), reram)
    assert pim.kernel("k").duration_ns >= g.resident_bytes() / rate
    assert 1.0 < host.makespan_ns / pim.makespan_ns <= bandwidth_ratio(reram)


def test_a_trace_file_without_the_crossbar_columns_reads_them_as_zero(reram, tmp_path) -> None:
    trace = simulate(Workload(kernels=[Gemm(name="g", m=1, k=64, n=64, dtype="int8")]), reram)
    path = trace.to_parquet(tmp_path / "t.parquet")
    df = pd.read_parquet(path).drop(columns=list(CROSSBAR_COMPONENTS))
    df.to_parquet(path)
    back = Trace.from_parquet(path)
    assert back.kernel("g").xbar_adc_pj == 0.0
    assert back.kernel("g").energy_pj == pytest.approx(trace.kernel("g").energy_pj)
