"""Standards as data: tables, derived PIM commands, compilation with a profile's numbers."""

from __future__ import annotations

import importlib
import sys
import types

import numpy as np
import pytest

import pimsim.standards.ddr4
from tests.helpers.cmdlog_validator import validate_command_log
from pimsim.dram.address import AddressMapper
from pimsim.dram import run_requests
from pimsim.errors import PimsimError, ProfileError
from pimsim.hw.load import load_profile, profile_from_dict
from pimsim.standards import (
    DDR4,
    STANDARDS,
    SLOT_BANK,
    SLOT_BANKGROUP,
    SLOT_CHANNEL,
    SLOT_RANK,
    SLOT_RANK_SIBLING,
    Standard,
    StandardRegistry,
    TimingConstraint,
    base_command,
    compile_timing,
    discover_standards,
    eval_latency,
    get_standard,
    level_slots,
    with_pim_commands,
)


@pytest.fixture(scope="module")
def hbm2():
    return load_profile("hbm2")


def test_every_standard_has_the_commands_and_families():
    for name in STANDARDS:
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


def _ddr4x() -> Standard:
    extra = TimingConstraint("rank", ("ACT",), ("ACT",), "tRRD_S + 3")
    base = tuple(c for c in DDR4.constraints
                 if not {*c.preceding, *c.following} & {"RDI", "WRI", "RDAI", "WRAI"})
    return with_pim_commands(Standard("DDR4X", DDR4.levels, DDR4.commands[:8], DDR4.timing,
                                      base + (extra,), DDR4.rules))


def test_a_registry_from_an_explicit_module_list(hbm2):
    """A module defining STANDARD is all a standard needs; the global registry is untouched."""
    extra_module = types.ModuleType("ddr4x")
    extra_module.STANDARD = _ddr4x()
    registry = StandardRegistry.from_modules([pimsim.standards.ddr4, extra_module, types])
    assert list(registry) == ["DDR4", "DDR4X"]
    ct = compile_timing(registry["ddr4x"], hbm2)
    assert ct.lat[SLOT_RANK, ct.id("ACT"), ct.id("ACT")] == hbm2.timing.tRRD_S + 3
    assert "DDR4X" not in STANDARDS
    with pytest.raises(ProfileError, match="unknown standard 'DDR9'; accepted: DDR4, DDR4X"):
        registry["DDR9"]
    data = hbm2.model_dump()
    data["dram"]["standard"] = "DDR4X"
    profile = profile_from_dict(data, "<ddr4x>", standards=registry)
    assert compile_timing(registry[profile.dram.standard], profile).lat.shape == ct.lat.shape
    with pytest.raises(ProfileError, match="dram.standard = 'DDR4X': unknown standard"):
        profile_from_dict(data, "<ddr4x>")  # the package's registry has no DDR4X


def test_discovery_finds_a_new_file(tmp_path, monkeypatch):
    """Adding a standard is adding one file: a package with one more module is discovered."""
    package = tmp_path / "mystandards"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "ddr4x.py").write_text(
        "from pimsim.standards import DDR4\n"
        "from dataclasses import replace\n"
        "STANDARD = replace(DDR4, name='DDR4X')\n"
    )
    (package / "helpers.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("mystandards", "mystandards.ddr4x", "mystandards.helpers"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    registry = discover_standards(importlib.import_module("mystandards"))
    assert list(registry) == ["DDR4X"]
    assert registry["DDR4X"].constraints == DDR4.constraints


def test_the_registry_is_read_only():
    with pytest.raises(TypeError):
        STANDARDS["X"] = DDR4  # type: ignore[index]
    assert sorted(STANDARDS) == ["DDR4", "GDDR6", "HBM2", "LPDDR4"]


def test_level_slots_come_from_the_declared_levels():
    assert level_slots(("channel", "rank", "bankgroup", "bank")) == {
        ("bank", False): SLOT_BANK, ("bankgroup", False): SLOT_BANKGROUP,
        ("rank", False): SLOT_RANK, ("rank", True): SLOT_RANK_SIBLING,
        ("channel", False): SLOT_CHANNEL,
    }
    assert level_slots(("stack", "pseudochannel", "bankgroup", "bank"))[
        ("pseudochannel", True)] == SLOT_RANK_SIBLING


def test_a_standard_of_another_depth_is_refused(hbm2):
    flat = Standard("FLAT", ("channel", "rank", "bank"), DDR4.commands, DDR4.timing,
                    DDR4.constraints)
    with pytest.raises(PimsimError, match="levels channel, rank, bank; accepted: 4 levels"):
        compile_timing(flat, hbm2)


def test_a_standard_must_declare_the_timing_the_engine_reads():
    with pytest.raises(PimsimError, match="timing names tREFI missing"):
        Standard("NOREF", DDR4.levels, DDR4.commands,
                 tuple(p for p in DDR4.timing if p.name != "tREFI"), DDR4.constraints)


@pytest.mark.parametrize(("name", "base"), [
    ("RD", "RD"), ("RDI", "RD"), ("WRAI", "WRA"), ("RDAI_AB", "RDA"), ("ACT_AB", "ACT"),
    ("PREA", "PREA"), ("REF", "REF"), ("WRI_AB", "WR"),
])
def test_base_command(name, base):
    assert base_command(name) == base


def test_lpddr4_adds_its_own_timing_names():
    lp = get_standard("LPDDR4")
    assert set(lp.timing_names) - set(DDR4.timing_names) == {"tPPD", "tRPab"}
    assert lp.dramsim3 is not None and lp.dramsim3.protocols == ("LPDDR4",)
    profile = load_profile("lpddr4_2400")
    ct = compile_timing(lp, profile)
    t = profile.timing
    assert ct.lat[SLOT_RANK, ct.id("PRE"), ct.id("PRE")] == t.tPPD
    assert ct.lat[SLOT_RANK, ct.id("PREA"), ct.id("ACT")] == t.tRPab > t.tRP
    assert ct.lat[SLOT_CHANNEL, ct.id("RD"), ct.id("RD")] == profile.burst_cycles == 8


def test_bad_constraint_level_is_reported(hbm2):
    bad = Standard("BAD", DDR4.levels, DDR4.commands, DDR4.timing,
                   DDR4.constraints + (TimingConstraint("bank", ("ACT",), ("ACT",), "tFAW",
                                                        window=4),))
    with pytest.raises(PimsimError, match="windowed constraints"):
        compile_timing(bad, hbm2)


def test_an_lpddr4_command_log_keeps_every_rule():
    """A random mixed stream on LPDDR4: the independent validator finds no violation, and
    the two LPDDR4 rows hold (PRE to PRE in a rank >= tPPD, PREA to ACT/REF >= tRPab)."""
    profile = load_profile("lpddr4_2400")
    rng = np.random.default_rng(1)
    n = 3_000
    fields = dict(channel=np.zeros(n, np.int64), rank=rng.integers(0, 2, n),
                  bankgroup=rng.integers(0, 2, n), bank=rng.integers(0, 4, n),
                  row=rng.integers(0, 8, n), column=rng.integers(0, 8, n))
    addr = AddressMapper(profile).encode(**fields)
    arrival = np.cumsum(rng.choice([0, 0, 1, 5, 40], n))
    log = run_requests(profile, addr, rng.random(n) < 0.3, arrival,
                       record_commands=True).command_log
    assert validate_command_log(profile, log) == []
    t = profile.timing
    for _, rank_log in log.groupby("rank"):
        pre = rank_log[rank_log.command == "PRE"].cycle.to_numpy()
        assert pre.size > 100 and np.diff(pre).min() >= t.tPPD
        cmds, cycles = rank_log.command.to_numpy(), rank_log.cycle.to_numpy()
        for i in np.nonzero(cmds == "PREA")[0]:
            later = cycles[i + 1:][np.isin(cmds[i + 1:], ["ACT", "REF"])]
            assert later.size == 0 or later[0] - cycles[i] >= t.tRPab
