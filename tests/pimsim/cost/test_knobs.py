"""Knobs that can make PIM faster or leaner: batch tiling on the bank kinds (weights read
once per tile) and the DPU clock (UPMEM's 350 to 450 MHz parts). Expected values are hand
computations from the profiles' organisation."""

from __future__ import annotations

import numpy as np
import pytest

from pimsim.cost.layout import Layout
from pimsim.cost.memory import memory_only
from pimsim.cost.pim import kind_model, pim_kernel_cost
from pimsim.dram.run import run_requests
from pimsim.hw.load import load_profile, profile_from_dict
from pimsim.hw.pim import SEARCHABLE_KNOBS
from pimsim.errors import ProfileError
from pimsim.workload import Gemm
from tests.helpers.cmdlog_validator import validate_command_log


def _cost(profile, kernel):  # noqa: ANN001, ANN202
    return pim_kernel_cost(profile, kernel, Layout(profile), np.random.default_rng(0))


def _with(profile, **knobs):  # noqa: ANN001, ANN003, ANN202
    return profile.model_copy(update={"pim": profile.pim.with_knobs(**knobs)})


def _variant(base: str, **pim: object):  # noqa: ANN202
    data = load_profile(base).model_dump(mode="json")
    data["pim"].update(pim)
    return profile_from_dict(data, "<variant>")


def test_knobs_are_section_fields() -> None:
    assert {"clock_mhz", "batch_tile"} <= SEARCHABLE_KNOBS
    # a knob the kind has no field for is refused where the profile lists it
    with pytest.raises(ProfileError, match="batch_tile.*not a field of kind 'buffer_nmp'"):
        _variant("ddr4_recnmp", searchable={"batch_tile": [1, 2]})
    with pytest.raises(ProfileError, match="searchable.batch_tile \\[16\\] outside 1..8"):
        _variant("hbm2_pim", searchable={"batch_tile": [1, 16]})
    with pytest.raises(ProfileError, match="clock_mhz \\[500\\] outside"):
        _variant("upmem", searchable={"clock_mhz": [350, 500]})
    p = load_profile("hbm2_pim")
    with pytest.raises(ValueError, match="batch_tile 16 exceeds max_batch_tile 8"):
        p.pim.with_knobs(batch_tile=16)


@pytest.mark.parametrize(("m", "tile", "passes"), [(8, 1, 8), (8, 8, 1), (10, 4, 3)])
def test_batch_tile_reads_the_weights_once_per_tile(m: int, tile: int, passes: int) -> None:
    """HBM2-PIM, weights 1024 x 512 fp16 (1 MiB) over 8 channels: 128 KiB per channel,
    one all-bank internal read feeds 16 units x 32 B = 512 B, so 256 reads per channel and
    pass; a batch of m in tiles of ``tile`` makes ceil(m / tile) passes."""
    p = _with(load_profile("hbm2_pim"), batch_tile=tile)
    c = _cost(p, Gemm(name="g", m=m, n=512, k=1024, dtype="fp16", placement="pim"))
    per_pass = (1024 * 512 * 2 // 8) // (16 * 32)
    assert c.extra["passes"] == passes
    assert c.counts["RDI_AB"] == pytest.approx(8 * per_pass * passes)
    assert c.internal_bytes == 8 * per_pass * 512 * passes
    # every column's input is still written once, and every output read once
    cols_in = -(-1024 * 2 // p.transaction_bytes)
    assert c.counts["WR_AB"] == pytest.approx(8 * cols_in * m)


def test_a_tiled_pass_in_the_command_log() -> None:
    """One pass of a tile of 8 columns, replayed with its command log: the independent
    validator finds no timing violation, and the log holds 8 inputs' all-bank writes
    (1024 fp16 = 2 KiB = 32 bursts of 64 B each) and the weights' 256 all-bank internal
    reads once (the hand count of the test above)."""
    p = load_profile("hbm2_pim")
    model = kind_model(_with(p, batch_tile=8))
    g = Gemm(name="g", m=8, n=512, k=1024, dtype="fp16", placement="pim")
    addr, is_write, flags = model.pass_stream(g, Layout(p), 8)
    res = run_requests(memory_only(p), addr, is_write, np.zeros(addr.size, np.int64),
                       flags=flags, record_commands=True)
    log = res.command_log
    assert validate_command_log(p, log) == []
    cmds = log["command"].value_counts()
    assert cmds.get("RDI_AB", 0) == 256
    assert cmds.get("WR_AB", 0) == 8 * (1024 * 2 // p.transaction_bytes)


def test_batch_tile_is_an_energy_and_row_lever_within_the_alu_bound() -> None:
    """Tiling 8 columns reads the weights once instead of 8 times: fewer row activations
    and internal reads, less read energy; the MACs are the same, so the kernel never runs
    faster than the units' MAC rate (8 ch x 16 units x 16 lanes x 250 MHz)."""
    base = load_profile("hbm2_pim")
    g = Gemm(name="g", m=8, n=512, k=1024, dtype="fp16", placement="pim")
    one, tiled = _cost(base, g), _cost(_with(base, batch_tile=8), g)
    # the weights' rows are opened once, not 8 times (the 8 inputs' writes open theirs
    # in both cases)
    rank_row_bytes = base.banks_per_rank * Layout(base).row_bytes  # one row of every bank
    weight_rows_per_pass = 8 * (1024 * 512 * 2 // 8) // rank_row_bytes
    assert one.counts["ACT_AB"] - tiled.counts["ACT_AB"] >= 7 * weight_rows_per_pass
    assert tiled.energy.read_pj < one.energy.read_pj / 4
    alu_floor_ns = g.macs() / (8 * 16 * 16 * 0.25)
    assert alu_floor_ns <= tiled.compute_ns <= one.compute_ns
    assert tiled.time_ns <= one.time_ns


def test_aim_tile_is_bounded_by_its_global_buffer() -> None:
    """GDDR6-AiM's 2 KB global buffer holds 2 BF16 input vectors of 512 elements: a variant
    allowing 8 accumulators still tiles 2 columns at k = 512 and 1 at k = 1024."""
    p = _variant("gddr6_aim", max_batch_tile=8, batch_tile=8)
    model = kind_model(p)
    assert model.tile(Gemm(name="g", m=16, n=64, k=512, dtype="bf16")) == 2
    assert model.tile(Gemm(name="g", m=16, n=64, k=1024, dtype="bf16")) == 1
    assert model.tile(Gemm(name="g", m=16, n=64, k=128, dtype="bf16")) == 8


def test_dpu_clock_scales_the_dpu_phase_and_its_power() -> None:
    """UPMEM at 450 instead of 350 MHz: the DPU phase (ALU cycles and MRAM->WRAM DMA
    cycles) takes 350 / 450 of the time; the DPUs draw 450 / 350 of the power
    (unit_power_mw at its 350 MHz clock), so their energy over the phase is unchanged."""
    base = load_profile("upmem")
    g = Gemm(name="g", m=4, n=512, k=256, dtype="int32", placement="pim")
    slow, fast = _cost(base, g), _cost(_with(base, clock_mhz=450), g)
    assert fast.compute_ns == pytest.approx(slow.compute_ns * 350 / 450)
    assert fast.extra["dma_ns"] == pytest.approx(slow.extra["dma_ns"] * 350 / 450)
    dpus = fast.extra["dpus"]
    unit_pj = dpus * base.pim.unit_power_mw * 450 / 350 * fast.compute_ns
    assert fast.energy.pim_alu_pj == pytest.approx(unit_pj)
    assert fast.energy.pim_alu_pj == pytest.approx(slow.energy.pim_alu_pj)
    with pytest.raises(ValueError, match="clock_mhz 500.0 exceeds max_clock_mhz 450"):
        base.pim.with_knobs(clock_mhz=500.0)
