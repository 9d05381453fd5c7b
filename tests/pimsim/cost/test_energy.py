"""Per-command and background energy: hand-computed numbers, tCK scaling, DRAMsim3 check."""

from __future__ import annotations


import numpy as np
import pytest

from pimsim.energy import (
    DRAM_COMMANDS,
    ENERGY_COMPONENTS,
    EnergyBreakdown,
    background_energy_pj,
    command_energies_pj,
    dram_energy,
    extend_command_energies,
    io_energy_pj,
)
from pimsim.errors import PimsimError
from pimsim.hw.dramsim3 import import_dramsim3
from pimsim.hw.load import load_profile
from pimsim.hw.schema import Profile
from pimsim.sim.trace import ENERGY_COLUMNS
from tests.helpers.shared import DRAMSIM3_REFERENCE

DRAMSIM3 = DRAMSIM3_REFERENCE
needs_reference = pytest.mark.skipif(
    not (DRAMSIM3 / "HBM2_8Gb_x128.ini").is_file(), reason="shared/reference/dramsim3 absent"
)


def _with_timing(profile: Profile, **changes: float) -> Profile:
    return profile.model_copy(update={"timing": profile.timing.model_copy(update=changes)})


def test_hand_computed_command_energies_ddr4() -> None:
    p = load_profile("ddr4_3200")  # VDD 1.2, IDD0 57, IDD2N 37, IDD3N 52, IDD4R 168,
    e = command_energies_pj(p)      # IDD4W 150, IDD5AB 250, tRC 74, tRAS 52, tRFC 560
    tck, devices = 0.63, 8
    assert e["ACT"] == pytest.approx(1.2 * (57 * 74 - (52 * 52 + 37 * 22)) * tck * devices)
    assert e["ACT"] == pytest.approx(4233.6)
    assert e["RD"] == pytest.approx(1.2 * (168 - 52) * 4 * tck * devices)  # burst = 8 / 2
    assert e["WR"] == pytest.approx(1.2 * (150 - 52) * 4 * tck * devices)
    assert e["REF"] == pytest.approx(1.2 * (250 - 52) * 560 * tck * devices)
    assert e["PRE"] == 0.0 and e["PREA"] == 0.0  # the pair is charged at ACT
    assert e["RDA"] == e["RD"] and e["WRA"] == e["WR"]
    assert set(DRAM_COMMANDS) <= set(e)


def test_act_uses_trc_minus_tras_for_precharge_standby() -> None:
    p = _with_timing(load_profile("hbm2"), tRC=60)  # tRC > tRAS + tRP
    expected = 1.2 * (65 * 60 - (55 * 34 + 40 * (60 - 34))) * 1.0
    assert command_energies_pj(p)["ACT"] == pytest.approx(expected)


def test_halving_tck_halves_command_energy() -> None:
    p = load_profile("gddr6")
    half = _with_timing(p, tCK_ns=p.timing.tCK_ns / 2)
    full_e, half_e = command_energies_pj(p), command_energies_pj(half)
    for command in DRAM_COMMANDS:
        assert half_e[command] == pytest.approx(full_e[command] / 2)
    assert background_energy_pj(half, 1000) == pytest.approx(background_energy_pj(p, 1000) / 2)


@needs_reference
def test_dramsim3_cross_check_hbm2() -> None:
    """tCK = 1 ns: pimsim's energies equal DRAMsim3's per-command increments."""
    p = import_dramsim3(DRAMSIM3 / "HBM2_8Gb_x128.ini")
    e = command_energies_pj(p)
    vdd, idd0, idd2n, idd3n, idd4r, idd4w, idd5ab = 1.2, 65, 40, 55, 390, 500, 250
    trc, tras, trp, trfc, burst, devices = 48, 34, 14, 260, 2, 1
    # DRAMsim3 configuration.cc InitPowerParams (cycles, no tCK factor):
    act = vdd * (idd0 * trc - (idd3n * tras + idd2n * trp)) * devices
    read = vdd * (idd4r - idd3n) * burst * devices
    write = vdd * (idd4w - idd3n) * burst * devices
    ref = vdd * (idd5ab - idd3n) * trfc * devices
    assert act == pytest.approx(828.0)
    assert (e["ACT"], e["RD"], e["WR"], e["REF"]) == pytest.approx((act, read, write, ref))
    assert e["RD"] == pytest.approx(804.0) and e["REF"] == pytest.approx(60840.0)


@needs_reference
def test_dramsim3_cross_check_ddr4_scales_by_tck() -> None:
    """tCK = 0.63 ns: pimsim's energies are 0.63 x DRAMsim3's (which omits tCK)."""
    p = import_dramsim3(DRAMSIM3 / "DDR4_8Gb_x8_3200.ini")
    e = command_energies_pj(p)
    devices = 8
    dramsim3 = {
        "ACT": 1.2 * (57 * 74 - (52 * 52 + 37 * 22)) * devices,
        "RD": 1.2 * (168 - 52) * 4 * devices,
        "WR": 1.2 * (150 - 52) * 4 * devices,
        "REF": 1.2 * (250 - 52) * 560 * devices,
    }
    for command, value in dramsim3.items():
        assert e[command] == pytest.approx(0.63 * value), command


def test_reference_seq_energy_components() -> None:
    """The DRAMsim3 'seq' figures of reference/README.md: 100,000 reads -> 8.04e7 pJ of
    READ energy, 48 refreshes (8 channels x 6) -> 2.92e6 pJ, ~1.40e7 pJ background over
    26,943 cycles (DRAMsim3 charges IDD2N while all banks are precharged, so IDD3N
    throughout is an upper bound a little above it)."""
    p = load_profile("hbm2")
    e = dram_energy(p, {"RD": 100_000, "REF": 48}, elapsed_cycles=26_943,
                    external_bytes=100_000 * 64)
    assert e.read_pj == pytest.approx(8.04e7, rel=1e-3)
    assert e.ref_pj == pytest.approx(2.92e6, rel=1e-3)
    assert e.background_pj == pytest.approx(8 * 1.2 * 55 * 26_943)
    assert 1.40e7 <= e.background_pj <= 1.40e7 * 1.03
    assert e.io_pj == pytest.approx(0.8 * 8 * 6_400_000)


def test_breakdown_sums_and_components() -> None:
    p = load_profile("hbm2")
    counts = {"ACT": 10, "PRE": 9, "PREA": 1, "RD": 100, "RDA": 5, "WR": np.int64(40),
              "WRA": 2, "REF": 3}
    e = dram_energy(p, counts, elapsed_cycles=5000, external_bytes=147 * 64)
    table = command_energies_pj(p)
    assert e.act_pj == pytest.approx(10 * table["ACT"])
    assert e.read_pj == pytest.approx(105 * table["RD"])
    assert e.write_pj == pytest.approx(42 * table["WR"])
    assert e.ref_pj == pytest.approx(3 * table["REF"])
    assert e.background_pj == pytest.approx(8 * 1 * 1.2 * 55 * 5000 * 1.0)
    assert e.io_pj == pytest.approx(io_energy_pj(p, 147 * 64))
    parts = e.as_dict()
    total = parts.pop("total_pj")
    assert total == pytest.approx(sum(parts.values()))
    assert e.total_pj == pytest.approx(total)
    assert e.dram_pj == pytest.approx(total)


def test_background_ranks_and_precharged_cycles() -> None:
    p = load_profile("ddr4_3200")  # 1 channel x 2 ranks, 8 devices per rank
    per_rank_cycle = 1.2 * 52 * 8 * 0.63
    assert background_energy_pj(p, 100) == pytest.approx(2 * 100 * per_rank_cycle)
    assert background_energy_pj(p, 100, ranks=1) == pytest.approx(100 * per_rank_cycle)
    mixed = background_energy_pj(p, 100, precharged_rank_cycles=50)
    assert mixed == pytest.approx(150 * per_rank_cycle + 50 * 1.2 * 37 * 8 * 0.63)
    with pytest.raises(PimsimError, match="precharged_rank_cycles = 201"):
        background_energy_pj(p, 100, precharged_rank_cycles=201)


def test_bad_counts_are_errors() -> None:
    p = load_profile("hbm2")
    with pytest.raises(PimsimError, match=r"command 'NOP'.*accepted: ACT, PRE"):
        dram_energy(p, {"NOP": 1}, 0, 0)
    with pytest.raises(PimsimError, match="negative"):
        dram_energy(p, {"RD": -1}, 0, 0)
    with pytest.raises(PimsimError, match="not an integer"):
        dram_energy(p, {"RD": 1.5}, 0, 0)
    with pytest.raises(PimsimError, match="elapsed_cycles"):
        dram_energy(p, {}, -5, 0)


def test_table_is_extensible() -> None:
    p = load_profile("hbm2")
    table = extend_command_energies(command_energies_pj(p), {"PIM_MAC": 12.5, "HOST_OP": 2.0})
    e = dram_energy(p, {"PIM_MAC": 4, "HOST_OP": 3, "RD": 1}, 0, 0, table=table,
                    components={"HOST_OP": "host_pj"})
    assert e.pim_alu_pj == pytest.approx(50.0)
    assert e.host_pj == pytest.approx(6.0)
    assert e.read_pj == pytest.approx(804.0)
    with pytest.raises(PimsimError, match="not a non-negative number"):
        extend_command_energies(table, {"X": -1.0})
    with pytest.raises(PimsimError, match="booked to 'nowhere'"):
        dram_energy(p, {}, 0, 0, components={"X": "nowhere"})


def test_breakdown_arithmetic() -> None:
    a = EnergyBreakdown(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, pim_alu_pj=7.0, host_pj=8.0)
    b = EnergyBreakdown.zero() + a + a
    assert b.total_pj == pytest.approx(72.0)
    assert b.as_dict()["host_pj"] == 16.0
    assert a.scaled(0.5).total_pj == pytest.approx(18.0)
    assert a.dram_pj == pytest.approx(21.0)


def test_one_set_of_component_names() -> None:
    """The trace's energy columns are the breakdown's components, which sum to its total."""
    a = EnergyBreakdown(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, pim_alu_pj=7.0, host_pj=8.0)
    assert ENERGY_COMPONENTS == tuple(k for k in a.as_dict() if k != "total_pj")
    assert ENERGY_COLUMNS == ENERGY_COMPONENTS
    assert sum(getattr(a, k) for k in ENERGY_COLUMNS) == pytest.approx(a.total_pj)
