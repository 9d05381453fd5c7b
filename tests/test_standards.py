"""Standards as data: tables, derived PIM commands, compilation with a profile's numbers."""

from __future__ import annotations

import numpy as np
import pytest

from pimsim.errors import PimsimError, ProfileError
from pimsim.profile import load_profile
from pimsim.standards import (
    DDR4,
    SLOT_BANK,
    SLOT_BANKGROUP,
    SLOT_CHANNEL,
    SLOT_RANK,
    SLOT_RANK_SIBLING,
    Standard,
    TimingConstraint,
    compile_timing,
    eval_latency,
    get_standard,
    register_standard,
    with_pim_commands,
)


@pytest.fixture(scope="module")
def hbm2():
    return load_profile("hbm2")


def test_every_standard_has_the_commands_and_families():
    for name in ("DDR4", "HBM2", "GDDR6"):
        std = get_standard(name)
        for cmd in ("ACT", "PRE", "PREA", "RD", "WR", "RDA", "WRA", "REF",
                    "RDI", "WRI", "RDAI", "WRAI"):
            assert cmd in std.command_names
        latencies = " ".join(c.latency for c in std.constraints)
        for fam in ("tRCD_RD", "tRCD_WR", "CL", "CWL", "burst", "tCCD_S", "tCCD_L", "tRRD_S",
                    "tRRD_L", "tFAW", "tRAS", "tRP", "tRC", "tRTP", "tWR", "tWTR_S", "tWTR_L",
                    "tRTRS", "tRFC"):
            assert fam in latencies, (name, fam)
        assert any(c.window == 4 and c.latency == "tFAW" for c in std.constraints)
    assert get_standard("hbm2").dual_command_bus and not get_standard("DDR4").dual_command_bus


def test_unknown_standard_is_a_profile_error():
    with pytest.raises(ProfileError, match="dram.standard.*LPDDR9"):
        get_standard("LPDDR9")


def test_eval_latency():
    v = {"CL": 14, "CWL": 4, "burst": 2, "tRTRS": 2}
    assert eval_latency("CL + burst + tRTRS - CWL", v) == 14
    assert eval_latency("max(CL, 20) - 1", v) == 19
    with pytest.raises(PimsimError, match="unknown name 'tXYZ'"):
        eval_latency("tXYZ + 1", v)
    with pytest.raises(PimsimError, match="unsupported syntax"):
        eval_latency("CL / 2", v)


def test_compiled_values_match_the_profile(hbm2):
    ct = compile_timing(get_standard("HBM2"), hbm2)
    t = hbm2.timing
    i = ct.id
    assert ct.lat[SLOT_BANK, i("ACT"), i("RD")] == t.tRCD_RD
    assert ct.lat[SLOT_BANK, i("ACT"), i("WR")] == t.tRCD_WR
    assert ct.lat[SLOT_BANK, i("ACT"), i("ACT")] == t.tRC
    assert ct.lat[SLOT_BANK, i("PRE"), i("ACT")] == t.tRP
    assert ct.lat[SLOT_BANK, i("RD"), i("PRE")] == t.tRTP
    assert ct.lat[SLOT_BANK, i("WR"), i("PRE")] == t.CWL + hbm2.burst_cycles + t.tWR
    assert ct.lat[SLOT_BANKGROUP, i("RD"), i("RD")] == t.tCCD_L
    assert ct.lat[SLOT_RANK, i("RD"), i("RD")] == t.tCCD_S
    assert ct.lat[SLOT_BANKGROUP, i("ACT"), i("ACT")] == t.tRRD_L
    assert ct.lat[SLOT_RANK, i("ACT"), i("ACT")] == t.tRRD_S
    assert ct.lat[SLOT_RANK, i("REF"), i("ACT")] == t.tRFC
    assert ct.lat[SLOT_CHANNEL, i("RD"), i("RD")] == hbm2.burst_cycles
    assert ct.lat[SLOT_CHANNEL, i("RD"), i("WR")] == t.CL + hbm2.burst_cycles + t.tRTRS - t.CWL
    assert ct.lat[SLOT_RANK_SIBLING, i("RD"), i("RD")] == hbm2.burst_cycles + t.tRTRS
    w = int(np.nonzero(ct.win_prev[:, i("ACT")])[0][0])
    assert ct.win_count[w] == 4 and ct.win_lat[w] == t.tFAW and ct.win_next[w, i("ACT")]


def test_internal_commands_keep_bank_timing_but_not_the_bus(hbm2):
    ct = compile_timing(get_standard("HBM2"), hbm2)
    i = ct.id
    # bank timing and column spacing apply to internal accesses
    assert ct.lat[SLOT_BANK, i("ACT"), i("RDI")] == hbm2.timing.tRCD_RD
    assert ct.lat[SLOT_BANKGROUP, i("RDI"), i("RDI")] == hbm2.timing.tCCD_L
    assert ct.lat[SLOT_BANKGROUP, i("RD"), i("RDI")] == hbm2.timing.tCCD_L
    assert ct.lat[SLOT_BANK, i("RDI"), i("PRE")] == hbm2.timing.tRTP
    # ... the data bus rows do not
    for a, b in (("RDI", "RDI"), ("RD", "RDI"), ("RDI", "RD"), ("RDI", "WR"), ("WRI", "RD")):
        assert ct.lat[SLOT_CHANNEL, i(a), i(b)] == -1, (a, b)
        assert ct.lat[SLOT_RANK_SIBLING, i(a), i(b)] == -1, (a, b)
    assert ct.col_cmd[0, 0, 1] == i("RDI") and ct.col_cmd[1, 1, 0] == i("WRA")


def test_adding_a_standard_is_adding_data(hbm2):
    extra = TimingConstraint("rank", ("ACT",), ("ACT",), "tRRD_S + 3")
    std = with_pim_commands(Standard("DDR4X", DDR4.levels, DDR4.commands[:8],
                                     DDR4.constraints[:0] + tuple(
                                         c for c in DDR4.constraints
                                         if c.preceding[0] not in ("RDI", "WRI", "RDAI", "WRAI")
                                         and c.following[0] not in ("RDI", "WRI", "RDAI", "WRAI")
                                     ) + (extra,)))
    register_standard(std)
    ct = compile_timing(get_standard("ddr4x"), hbm2)
    assert ct.lat[SLOT_RANK, ct.id("ACT"), ct.id("ACT")] == hbm2.timing.tRRD_S + 3


def test_bad_constraint_level_is_reported(hbm2):
    bad = Standard("BAD", DDR4.levels, DDR4.commands,
                   DDR4.constraints + (TimingConstraint("bank", ("ACT",), ("ACT",), "tFAW",
                                                        window=4),))
    with pytest.raises(PimsimError, match="windowed constraints"):
        compile_timing(bad, hbm2)
