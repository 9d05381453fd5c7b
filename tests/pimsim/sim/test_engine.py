"""SimPy layer: overlap of independent kernels, dependencies, energy sums, caching."""

from __future__ import annotations

import pytest

from pimsim.energy import background_energy_pj
from pimsim.hw.load import load_profile
from pimsim.sim.engine import critical_path_ns, kernel_costs, simulate
from pimsim.sim.trace import ENERGY_COLUMNS, KernelRecord
from pimsim.workload.examples import criteo_dlrm, example_table_rows
from pimsim.workload.graph import Workload
from pimsim.workload.kernels import Elementwise, Gemm, Interaction

ROWS = example_table_rows()


def _pair(deps: dict[str, list[str]]) -> Workload:
    """A PIM GEMV and a host interaction (compute only) that use disjoint resources,
    each followed by a small host or PIM step."""
    return Workload(kernels=[
        Gemm(name="gemv", m=1, n=2048, k=2048, dtype="fp16", placement="pim"),
        Elementwise(name="relu", fn="relu", m=1, n=2048, dtype="fp16", placement="pim"),
        Interaction(name="dot", batch=1, tokens=128, dim=16, dtype="fp16"),
        Gemm(name="top", m=1, n=64, k=128 * 127 // 2, dtype="fp16"),
    ], deps={"relu": ["gemv"], "top": ["dot"], **deps})


def _channel_interval(r: KernelRecord) -> tuple[float, float]:
    """When a kernel held its memory channels."""
    if r.placement != "host":
        return r.start_ns, r.end_ns
    start = r.start_ns + r.extra.get("launch_ns", 0.0)
    return start, start + r.dram_ns


@pytest.fixture(scope="module")
def hbm2_pim():
    return load_profile("hbm2_pim")


def test_independent_kernels_overlap_but_never_beat_the_longest_chain(hbm2_pim) -> None:
    par = simulate(_pair({}), hbm2_pim)
    seq = simulate(_pair({"dot": ["relu"]}), hbm2_pim)
    dur = {r.name: r.duration_ns for r in par.records if r.placement != "memory"}
    total = sum(dur.values())
    assert seq.makespan_ns == pytest.approx(total)
    assert par.makespan_ns < seq.makespan_ns
    assert par.makespan_ns >= critical_path_ns(_pair({}), dur) * (1 - 1e-12)
    # the host interaction ran while the PIM GEMV held the channels
    g, d = par.kernel("gemv"), par.kernel("dot")
    assert d.start_ns < g.end_ns and g.start_ns < d.end_ns


def test_dependencies_respected_and_channels_not_shared(hbm2_pim) -> None:
    w = criteo_dlrm(ROWS, batch=64, pooling=4, dtype="fp16", mlp_placement="pim",
                    fallback_to_host=True)
    tr = simulate(w, hbm2_pim, seed=3)
    end = {r.name: r.end_ns for r in tr.records}
    for r in tr.records:
        for d in w.deps.get(r.name, []):
            assert r.start_ns >= end[d] - 1e-9, (r.name, d)
    # kernels never hold memory channels at the same time (all use every channel): a PIM
    # kernel holds them for its whole time, a host kernel for its memory time after launch
    busy = sorted(_channel_interval(r) for r in tr.records
                  if r.dram_commands and r.placement != "memory")
    for (_, a_end), (b_start, _) in zip(busy, busy[1:]):
        assert b_start >= a_end - 1e-9
    dur = {r.name: r.duration_ns for r in tr.records if r.placement != "memory"}
    assert tr.makespan_ns >= critical_path_ns(w, dur) * (1 - 1e-12)


@pytest.mark.parametrize("name", ["hbm2_pim", "gddr6_aim", "ddr4_recnmp", "upmem", "ddr4_3200"])
def test_energy_components_sum_to_total(name: str) -> None:
    p = load_profile(name)
    placement = "pim" if p.pim is not None else "host"
    w = criteo_dlrm(ROWS, batch=32, pooling=8, dtype="fp16" if name == "hbm2_pim" else "fp32",
                    embedding_placement=placement, mlp_placement=placement,
                    fallback_to_host=True)
    if name == "gddr6_aim":
        w = criteo_dlrm(ROWS, batch=32, pooling=8, dtype="bf16", mlp_placement="pim",
                        fallback_to_host=True)
    if name == "upmem":
        w = criteo_dlrm(ROWS, batch=32, pooling=8, dtype="int32", embedding_placement="pim",
                        fallback_to_host=True)
    tr = simulate(w, p)
    df = tr.df
    assert (df[list(ENERGY_COLUMNS)].sum(axis=1) - df["energy_pj"]).abs().max() < 1e-6
    t = tr.totals()
    assert t["energy_pj"] == pytest.approx(sum(t[c] for c in ENERGY_COLUMNS))
    assert (df[list(ENERGY_COLUMNS)] >= 0).all().all()
    # background over the run is the whole memory's background power x makespan
    full = background_energy_pj(p, int(round(tr.makespan_ns / p.timing.tCK_ns)))
    assert t["background_pj"] >= full * (1 - 1e-6)
    if p.pim is not None and name != "gddr6_aim":
        assert (df["placement"] == "pim").any()


def test_identical_kernels_are_simulated_once(hbm2_pim) -> None:
    w = Workload(kernels=[Gemm(name=n, m=1, n=512, k=512, dtype="fp16", placement="pim")
                          for n in ("a", "b")])
    costs = kernel_costs(w, hbm2_pim)
    assert costs["b"].extra.get("cached_from") == "a"
    assert costs["a"].time_ns == costs["b"].time_ns
    tr = simulate(w, hbm2_pim)
    assert tr.kernel("b").start_ns == pytest.approx(tr.kernel("a").end_ns)


def test_deterministic_given_the_seed(hbm2_pim) -> None:
    w = criteo_dlrm(ROWS, batch=16, pooling=4, dtype="fp16")
    a = simulate(w, hbm2_pim, seed=5).df
    b = simulate(w, hbm2_pim, seed=5).df
    assert a.equals(b)
