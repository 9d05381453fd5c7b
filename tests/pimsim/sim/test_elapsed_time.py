"""What the schedule charges over elapsed time: refresh once per rank and tREFI, busy or
idle; the host's static power over the whole makespan; host compute overlapping PIM work."""

from __future__ import annotations

import pytest

from pimsim.energy import command_energies_pj
from pimsim.hw.load import load_profile
from pimsim.sim.engine import IDLE_RECORD_NAME, simulate
from pimsim.workload.graph import Workload
from pimsim.workload.kernels import Gemm, Interaction


def _due(profile, elapsed_ns: float) -> float:
    """Refreshes due by hand: every rank of every channel once per tREFI."""
    t = profile.timing
    return profile.dram.channels * profile.dram.ranks * elapsed_ns / (t.tREFI * t.tCK_ns)


@pytest.mark.parametrize("name, kernel", [
    # a compute-bound host GEMM: short DRAM stream, long compute
    ("hbm2", Gemm(name="k", m=2048, n=1024, k=1024, dtype="fp32")),
    # a GEMV on the 8-channel bank PIM: one channel's stream stands for eight
    ("hbm2_pim", Gemm(name="k", m=4, n=4096, k=4096, dtype="fp16", placement="pim")),
    # compute only (no memory traffic at all): the memory idles and still refreshes
    ("hbm2", Interaction(name="k", batch=4096, tokens=64, dim=64, dtype="fp32")),
    ("ddr4_3200", Gemm(name="k", m=512, n=512, k=512, dtype="fp32")),
])
def test_refresh_follows_trefi_per_rank_over_the_makespan(name: str, kernel) -> None:
    p = load_profile(name)
    tr = simulate(Workload(kernels=[kernel]), p)
    due = _due(p, tr.makespan_ns)
    ranks = p.dram.channels * p.dram.ranks
    assert due > ranks  # several refresh intervals: the test means something
    n_ref = tr.totals()["n_ref"]
    # one refresh per rank may be in flight at either end of the run
    assert abs(n_ref - due) <= ranks, (n_ref, due)
    e_ref = command_energies_pj(p)["REF"]
    assert tr.totals()["ref_pj"] == pytest.approx(n_ref * e_ref, rel=1e-6)


def test_host_static_power_is_charged_over_the_whole_makespan() -> None:
    p = load_profile("hbm2_pim")
    # a slow PIM kernel with the host idle, then a host kernel
    w = Workload(kernels=[Gemm(name="pim", m=8, n=1024, k=1024, dtype="fp16", placement="pim"),
                          Gemm(name="host", m=8, n=1024, k=1024, dtype="fp16")],
                 deps={"host": ["pim"]})
    tr = simulate(w, p)
    static = tr.totals()["host_static_pj"]
    assert static == pytest.approx(p.host.static_w * 1e3 * tr.makespan_ns, rel=1e-9)  # W x ns
    idle = tr.kernel(IDLE_RECORD_NAME)
    assert idle.host_static_pj == pytest.approx(
        p.host.static_w * 1e3 * tr.kernel("pim").duration_ns, rel=1e-9)


def test_pim_work_overlaps_host_compute() -> None:
    """A compute-bound host GEMM holds the channels only for its memory time, so an
    independent PIM GEMV runs during the host's compute, not after it."""
    p = load_profile("hbm2_pim")
    host = Gemm(name="host", m=4096, n=512, k=1024, dtype="fp32")
    pim = Gemm(name="pim", m=1, n=2048, k=2048, dtype="fp16", placement="pim")
    tr = simulate(Workload(kernels=[host, pim]), p)
    h, q = tr.kernel("host"), tr.kernel("pim")
    assert h.compute_ns > h.dram_ns + q.duration_ns  # compute-bound with room for the GEMV
    channels_free = h.start_ns + h.extra["launch_ns"] + h.dram_ns
    assert q.start_ns == pytest.approx(channels_free)
    assert q.end_ns < h.end_ns
    assert tr.makespan_ns == pytest.approx(h.duration_ns)
