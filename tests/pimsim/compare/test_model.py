"""The model view: per-kernel costs, the three plans, and a workload at another batch."""

from __future__ import annotations

import pytest

from pimsim import standalone_energy_pj
from pimsim.compare.grid import CompareGrid
from pimsim.compare.model import compare_model
from pimsim.compare.run import default_grid, run_grid
from pimsim.compare.transform import placed, with_batch, with_dtype
from pimsim.cost.pim import unsupported_reason
from pimsim.energy import background_energy_pj
from pimsim.errors import WorkloadError
from pimsim.hw.load import load_profile
from pimsim.sim.engine import kernel_costs, simulate
from pimsim.workload import Gemm
from pimsim.workload.examples import criteo_dlrm
from pimsim.workload.graph import Workload
from pimsim.workload.kernels import EmbeddingBag, Gemm, Table

ROWS = (1460, 583, 100_000)
BATCHES = (1, 16)


def build(batch: int) -> Workload:
    return criteo_dlrm(ROWS, batch=batch, dtype="fp16")


@pytest.fixture(scope="module")
def view():
    return compare_model(build, load_profile("hbm2_pim"), BATCHES, dtype="fp16")


def test_best_plan_is_never_slower_than_host_only_or_naive(view) -> None:
    p = load_profile("hbm2_pim")
    for batch in BATCHES:
        wl = build(batch)
        runs = [k.name for k in wl.kernels if unsupported_reason(p, k) is None]
        host = simulate(placed(wl, ()), p).makespan_ns
        naive = simulate(placed(wl, runs), p).makespan_ns
        best = view.plans.query("batch == @batch and plan == 'best'").iloc[0]
        assert best["latency_ns"] <= min(host, naive) * (1 + 1e-12)
        assert view.plans.query("batch == @batch and plan == 'host-only'").iloc[0][
            "latency_ns"] == pytest.approx(host)


def test_per_kernel_best_is_the_faster_side(view) -> None:
    p = load_profile("hbm2_pim")
    for batch in BATCHES:
        wl = build(batch)
        runs = [k.name for k in wl.kernels if unsupported_reason(p, k) is None]
        host = kernel_costs(placed(wl, ()), p)
        pim = kernel_costs(placed(wl, runs), p)
        rows = view.kernels[view.kernels["batch"] == batch].set_index("kernel")
        for name in host:
            want = "pim" if name in runs and pim[name].time_ns < host[name].time_ns else "host"
            assert rows.loc[name, "best"] == want, (batch, name)
        assert set(rows.index[rows["pim_status"] != "ok"]) == set(host) - set(runs)


def test_model_kernel_matches_the_map_point_of_its_shape(view) -> None:
    """A layer of the model and the same GEMM in the advantage map cost the same: the two
    views take their numbers from one model."""
    p = load_profile("hbm2_pim")
    grid = default_grid(p, CompareGrid(batches=BATCHES, gemms=((1024, 512),)))
    points = run_grid(p, grid).set_index("batch")
    for batch in BATCHES:
        row = view.kernels.query("batch == @batch and kernel == 'top1'").iloc[0]
        assert row["shape"] == f"{batch}x1024x512"
        assert row["pim_latency_ns"] == pytest.approx(points.loc[batch, "pim_latency_ns"])
        assert row["host_latency_ns"] == pytest.approx(points.loc[batch, "host_latency_ns"])


def test_with_batch_gives_the_workload_built_at_that_batch() -> None:
    base = criteo_dlrm(ROWS, batch=256, dtype="fp16")
    for batch in (1, 4):
        got, want = with_batch(base, batch), criteo_dlrm(ROWS, batch=batch, dtype="fp16")
        assert [k.signature() for k in got.kernels] == [k.signature() for k in want.kernels]


def test_with_batch_scales_token_maps_and_refuses_what_it_cannot_scale() -> None:
    wl = Workload(tables={"t": Table(rows=100, dim=8)}, check_shapes=False, kernels=[
        EmbeddingBag(name="e", table="t", batch=8, pooling=2),
        Gemm(name="tok", m=8 * 16, k=4, n=4)])
    assert with_batch(wl, 2).kernel("tok").m == 2 * 16
    odd = Workload(tables={"t": Table(rows=100, dim=8)}, check_shapes=False, kernels=[
        EmbeddingBag(name="e", table="t", batch=8, pooling=2), Gemm(name="g", m=12, k=4, n=4)])
    with pytest.raises(WorkloadError, match="kernel 'g': m = 12 is not a multiple"):
        with_batch(odd, 2)
    explicit = Workload(tables={"t": Table(rows=100, dim=8)}, kernels=[
        EmbeddingBag(name="e", table="t", batch=2, indices=[[1], [2, 3]])])
    with pytest.raises(WorkloadError, match="kernel 'e'"):
        with_batch(explicit, 4)


def test_with_dtype_sets_host_and_pim_alike() -> None:
    wl = with_dtype(criteo_dlrm(ROWS, batch=2, dtype="fp32"), "bf16")
    assert {t.dtype for t in wl.tables.values()} == {"bf16"}
    assert {k.dtype for k in wl.kernels if not isinstance(k, EmbeddingBag)} == {"bf16"}


def test_best_plan_by_energy_spends_no_more_than_host_only_or_naive() -> None:
    p = load_profile("gddr6_aim")
    mc = compare_model(lambda b: criteo_dlrm(ROWS, batch=b), p, (4,), dtype="bf16",
                       objective="energy")
    wl = with_dtype(criteo_dlrm(ROWS, batch=4), "bf16")
    runs = [k.name for k in wl.kernels if unsupported_reason(p, k) is None]
    energies = [simulate(placed(wl, on), p).totals()["energy_pj"] for on in ((), runs)]
    best = mc.plans.query("plan == 'best'").iloc[0]
    assert best["energy_pj"] <= min(energies) * (1 + 1e-12)


def test_a_pim_kernel_alone_pays_for_the_idle_host_and_memory() -> None:
    # hbm2_pim: a GEMV on the PIM units; the host waits for it, so the system's energy
    # while it runs holds the host's static power over its time (hbm2.yaml host.static_w)
    # and the whole memory's background beside the kernel's own energy
    profile = load_profile("hbm2_pim")
    wl = Workload(name="gemv", tables={}, kernels=[
        Gemm(name="g", m=1, n=1024, k=1024, dtype="fp16", placement="pim")], deps={})
    cost = kernel_costs(wl, profile)["g"]
    assert cost.energy.host_static_pj == 0.0
    static = profile.host.static_w * 1e3 * cost.time_ns  # W x ns = 1000 pJ
    cycles = int(round(cost.time_ns / profile.timing.tCK_ns))
    background = background_energy_pj(profile, cycles) - cost.energy.background_pj
    assert standalone_energy_pj(cost, profile) == pytest.approx(
        cost.energy.total_pj + static + max(0.0, background), rel=1e-12)
