"""PIM kinds as registered classes: capabilities, per-kind data from the profile, a new kind."""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import pytest

from pimsim.cost.layout import Layout
from pimsim.cost.memory import replay_stream
from pimsim.cost.pim import (
    KINDS,
    PimKind,
    PimWork,
    capabilities,
    internal_bandwidth_gbps,
    pim_kernel_cost,
    unsupported_reason,
)
from pimsim.dram import FLAG_INTERNAL
from pimsim.errors import PimsimError, ProfileError
from pimsim.hw.pim import PimSectionBase
from pimsim.hw.load import load_profile, profile_from_dict
from pimsim.sim.engine import simulate
from pimsim.workload import Elementwise, Gemm, Interaction, Workload


def test_capabilities_follow_the_profile() -> None:
    hbm = capabilities(load_profile("hbm2_pim"))
    assert hbm.kind == "bank_simd" and not hbm.replicates_hot_rows
    assert hbm.unsupported("gemm", "fp16") is None
    assert hbm.unsupported("transfer") is None
    assert "embedding_bag" in hbm.unsupported("embedding_bag", "fp16")
    assert "'fp32'" in hbm.unsupported("gemm", "fp32")
    assert "'gating'" in hbm.unsupported("elementwise", "fp16", "gating")
    aim = capabilities(load_profile("gddr6_aim"))
    assert aim.unsupported("elementwise", "bf16", "gating") is None
    for name in ("ddr4_recnmp", "upmem"):
        assert capabilities(load_profile(name)).replicates_hot_rows
    # the elementwise instruction set is profile data: removing a function removes it
    p = load_profile("gddr6_aim")
    fewer = p.model_copy(update={"pim": p.pim.model_copy(update={"elementwise_fns": ["sum"]})})
    assert capabilities(fewer).unsupported("elementwise", "bf16", "gating") is not None
    with pytest.raises(PimsimError, match="no 'pim' section"):
        capabilities(load_profile("hbm2"))


def test_bank_readout_width_is_profile_data() -> None:
    """host_bytes of a GEMV = outputs x readout_lanes x element bytes (hand count)."""
    p = load_profile("hbm2_pim")
    g = Gemm(name="g", m=2, n=256, k=128, dtype="fp16", placement="pim")
    for lanes in (16, 1):
        prof = p.model_copy(update={"pim": p.pim.model_copy(update={"readout_lanes": lanes})})
        c = pim_kernel_cost(prof, g, Layout(prof), np.random.default_rng(0))
        h = prof.host
        expect = (2 * 256 * (lanes - 1)) * h.pj_per_flop + (2 * 256 * lanes * 2) * h.pj_per_byte
        assert c.energy.host_pj == pytest.approx(expect)


def test_a_section_has_only_its_kinds_fields() -> None:
    data = load_profile("hbm2_pim").model_dump()
    data["pim"]["nmp_inst_bytes"] = 8  # a buffer_nmp field on a bank_simd section
    with pytest.raises(ProfileError, match=r"pim\.nmp_inst_bytes = 8: unknown key"):
        profile_from_dict(data, "x.yaml")
    data = load_profile("hbm2_pim").model_dump()
    data["pim"]["kind"] = "optical"
    with pytest.raises(ProfileError, match=r"pim.kind = 'optical': .*accepted: one of 'bank_simd', 'bank_mac'"):
        profile_from_dict(data, "x.yaml")


class _StreamSection(PimSectionBase):
    kind: Literal["stream_alu"]


class _StreamKind(PimKind):
    """A toy kind: elementwise kernels read and written as internal accesses."""

    name: ClassVar[str] = "stream_alu"
    modelled_ops: ClassVar[tuple[str, ...]] = ("elementwise",)

    def channel_bandwidth_gbps(self, dtype: str) -> float:
        return self.alu_gbps(dtype)

    def elementwise(self, k: Elementwise, layout: Layout) -> PimWork:
        rd = layout.buffer_addresses(f"{k.name}:in", k.input_bytes(), channels=self.chans)
        wr = layout.buffer_addresses(f"{k.name}:out", k.output_bytes(), channels=self.chans)
        addr = np.concatenate([rd, wr])
        is_write = np.concatenate([np.zeros(rd.size, bool), np.ones(wr.size, bool)])
        mem = replay_stream(self.profile, addr, is_write, FLAG_INTERNAL)
        ops = k.m * k.n
        return PimWork(mem, alu_ops=ops, internal_bytes=k.input_bytes() + k.output_bytes(),
                       alu_ns=ops / self.pim.alu_ops_per_ns(len(self.chans), k.dtype, "add"))


def test_a_new_kind_is_a_class_and_a_profile() -> None:
    base = load_profile("ddr4_3200")
    section = _StreamSection(
        kind="stream_alu", unit_level="bank", units_per_channel=4, max_units_per_channel=4,
        lanes=8, clock_mhz=500, access_bytes=8, dtypes=["fp32"], dtype="fp32",
        alu_pj_per_op=2.0, alu_energy_note="test kind", supported_ops=["elementwise"],
        elementwise_fns=["relu"])
    prof = base.model_copy(update={"pim": section, "name": "toy"})
    kinds = KINDS.with_kind(_StreamKind)
    assert "stream_alu" not in KINDS  # the built-in registry is unchanged
    k = Elementwise(name="r", fn="relu", m=16, n=512, inputs=1, placement="pim")
    c = pim_kernel_cost(prof, k, Layout(prof), np.random.default_rng(0), kinds=kinds)
    assert c.placement == "pim" and c.unit == "pim:stream_alu:ch0-0"
    assert c.external_bytes == 0  # internal accesses do not cross the bus
    assert c.internal_bytes == 2 * 16 * 512 * 4
    assert c.energy.pim_alu_pj == pytest.approx(16 * 512 * 2.0)
    # ALU bound by hand: 8192 ops / (4 units x 8 lanes x 0.5 GHz)
    assert c.time_ns >= 16 * 512 / (4 * 8 * 0.5)
    with pytest.raises(PimsimError, match="'stream_alu' has no cost model"):
        pim_kernel_cost(prof, k, Layout(prof), np.random.default_rng(0))
    dot = Interaction(name="d", batch=2, tokens=3, dim=4, placement="pim")
    with pytest.raises(PimsimError, match=r"kind 'stream_alu'.*op 'interaction'"):
        pim_kernel_cost(prof, dot, Layout(prof), np.random.default_rng(0), kinds=kinds)
    # the whole simulator runs the new kind, with no engine code of its own
    trace = simulate(Workload(kernels=[k]), prof, kinds=kinds)
    (rec,) = [r for r in trace.records if r.name == "r"]
    assert rec.placement == "pim" and rec.pim_alu_pj == pytest.approx(c.energy.pim_alu_pj)
    assert rec.end_ns - rec.start_ns == pytest.approx(c.time_ns)


@pytest.mark.parametrize("name, gbps", [
    # 8 channels x min(16 units x 32 B / (tCCD_L 2 x 1 ns), 16 x 16 lanes x 2 B x 0.25 GHz):
    # 4x the external 256 GB/s, Samsung's "4x processing bandwidth" (Lee et al., ISCA 2021)
    ("hbm2_pim", 8 * min(16 * 32 / 2.0, 16 * 16 * 2 * 0.25)),
    # 1 channel x min(128 units x 32 B / (2 CK x 0.66 ns) MAC column, 128 x 16 lanes x 2 B
    # x 1 GHz): AiM's 32 B per bank every 2 CK (Lee et al., JSSC 2023), 16x the pins
    ("gddr6_aim", min(128 * 32 / (2 * 0.66), 128 * 16 * 2 * 1.0)),
    # 4 ranks x 8 B x 2 transfers / 0.63 ns, at most 4 units x 16 lanes x 4 B x 0.4 GHz
    ("ddr4_recnmp", min(4 * 8 * 2 / 0.63, 4 * 16 * 4 * 0.4)),
    # 128 DPUs x 2 B/cycle streaming (beta = 0.5 cycle/B, Gomez-Luna et al. 2022) x 0.35 GHz
    ("upmem", 128 * 2.0 * 0.35),
])
def test_internal_bandwidth_by_hand(name: str, gbps: float) -> None:
    assert internal_bandwidth_gbps(load_profile(name)) == pytest.approx(gbps)


@pytest.mark.parametrize("name", ["hbm2_pim", "gddr6_aim", "upmem", "reram_pim"])
def test_no_kind_runs_an_activation_by_activation_product(name: str) -> None:
    # attention's scores x values: the k x n operand exists only at run time, so no unit
    # can hold it beside its bank or in its crossbars, whatever the kind runs otherwise
    profile = load_profile(name)
    dtype = capabilities(profile).dtypes[0]
    weights = Gemm(name="proj", m=16, n=64, k=64, dtype=dtype, placement="pim")
    scores = weights.model_copy(update={"name": "scores", "activation_operand": True})
    assert unsupported_reason(profile, weights) is None
    assert "activation-by-activation" in unsupported_reason(profile, scores)
    wl = Workload(name="w", tables={}, kernels=[scores], deps={}, check_shapes=False)
    with pytest.raises(PimsimError, match="activation-by-activation"):
        simulate(wl, profile)
