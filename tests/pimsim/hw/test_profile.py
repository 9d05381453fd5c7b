"""Profiles: loading by name and path, validation messages, save/load, DRAMsim3 import."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from pimsim.errors import ProfileError
from pimsim.hw.dramsim3 import import_dramsim3, import_dramsim3_with_comments
from pimsim.hw.load import (
    BUILTIN_PROFILE_DIR,
    list_profiles,
    load_profile,
    profile_from_dict,
    save_profile,
)
from pimsim.hw.schema import Profile

REPO = Path(__file__).resolve().parents[3]
REFERENCE = REPO.parent / "shared" / "reference"
DRAMSIM3 = REFERENCE / "dramsim3"
needs_reference = pytest.mark.skipif(
    not (DRAMSIM3 / "HBM2_8Gb_x128.ini").is_file(), reason="shared/reference/dramsim3 absent"
)


def _hbm2_dict() -> dict[str, Any]:
    return load_profile("hbm2").model_dump(mode="json", exclude_none=True)


def _write(tmp_path: Path, data: dict[str, Any], name: str = "p.yaml") -> tuple[Path, str]:
    text = yaml.safe_dump(data, sort_keys=False)
    path = tmp_path / name
    path.write_text(text)
    return path, text


def _line_of(text: str, key: str, section: str | None = None) -> int:
    in_section = section is None
    for number, line in enumerate(text.splitlines(), start=1):
        if section is not None and line.startswith(f"{section}:"):
            in_section = True
            continue
        if in_section and line.strip().startswith(f"{key}:"):
            return number
    raise AssertionError(f"{key} not in text")


# --- the shipped profiles ------------------------------------------------------------

@pytest.mark.parametrize("name", ["hbm2", "ddr4_3200", "gddr6"])
def test_builtin_profiles_load_by_name_and_path(name: str) -> None:
    by_name = load_profile(name)
    by_path = load_profile(BUILTIN_PROFILE_DIR / f"{name}.yaml")
    assert by_name == by_path
    assert by_name.name == name
    assert by_name.peak_bandwidth_gbps > 0


def test_builtin_profile_figures() -> None:
    hbm2 = load_profile("hbm2")
    assert hbm2.peak_bandwidth_gbps == pytest.approx(256.0)
    assert hbm2.transaction_bytes == 64
    assert hbm2.burst_cycles == 2
    assert hbm2.dram.channels == 8 and hbm2.dram.ranks == 1
    assert hbm2.controller.address_mapping == "rorabgbachco"
    assert hbm2.controller.trans_queue_size == 32
    assert hbm2.capacity_bytes == 8 * 2**30
    ddr4 = load_profile("ddr4_3200")
    assert ddr4.peak_bandwidth_gbps == pytest.approx(64 / 8 * 2 / 0.63)
    assert ddr4.devices_per_rank == 8 and ddr4.dram.ranks == 2
    assert ddr4.capacity_bytes == 16 * 2**30
    gddr6 = load_profile("gddr6")
    assert gddr6.burst_cycles == 2
    assert gddr6.peak_bandwidth_gbps == pytest.approx(128 / 8 * 8 / 0.66)


def test_every_number_in_builtin_profiles_has_a_comment() -> None:
    number_value = re.compile(r"^[A-Za-z_][\w]*:\s+-?[0-9][0-9_.eE+-]*\s*(#.*)?$")
    for name in ("hbm2", "ddr4_3200", "gddr6", "lpddr4_2400"):
        path = BUILTIN_PROFILE_DIR / f"{name}.yaml"
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            stripped = line.strip()
            if number_value.match(stripped):
                assert "#" in stripped, f"{path.name}:{number}: {stripped!r} has no source comment"


@needs_reference
def test_hbm2_yaml_matches_dramsim3_import() -> None:
    shipped = load_profile("hbm2")
    imported = import_dramsim3(DRAMSIM3 / "HBM2_8Gb_x128.ini")
    for section in ("dram", "timing", "power", "controller"):
        assert getattr(shipped, section) == getattr(imported, section), section


def test_list_profiles_and_env_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = {p.stem for p in list_profiles()}
    assert {"hbm2", "ddr4_3200", "gddr6"} <= names
    data = _hbm2_dict()
    data["name"] = "mine"
    data["timing"]["CL"] = 20
    _write(tmp_path, data, "mine.yaml")
    _write(tmp_path, {**data, "name": "hbm2x"}, "hbm2.yaml")  # shadows the built-in
    monkeypatch.setenv("PIMSIM_PROFILE_PATH", str(tmp_path))
    assert load_profile("mine").timing.CL == 20
    assert load_profile("hbm2").name == "hbm2x"
    found = {p.stem: p for p in list_profiles()}
    assert found["hbm2"] == tmp_path / "hbm2.yaml"
    assert "gddr6" in found


def test_unknown_name_lists_what_exists() -> None:
    with pytest.raises(ProfileError) as info:
        load_profile("hbm9")
    assert "'hbm9'" in str(info.value) and "hbm2" in str(info.value)
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile("/nonexistent/x.yaml")


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    for source in ("hbm2", "ddr4_3200", "gddr6"):
        profile = load_profile(source)
        path = save_profile(profile, tmp_path / "out" / f"{source}.yaml",
                            comments={"timing.CL": "a comment"}, header=["generated"])
        assert load_profile(path) == profile
        assert "# a comment" in path.read_text()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "ddr4_3200.yaml", "gddr6.yaml", "hbm2.yaml"
    ]  # no temporary files left behind


def test_save_keeps_host_and_pim_sections(tmp_path: Path) -> None:
    """Every shipped profile, typed host / pim sections included, survives save + load."""
    profiles = [load_profile(path) for path in list_profiles()]
    with_sections = [p for p in profiles if p.host is not None or p.pim is not None]
    if not with_sections:
        pytest.skip("no shipped profile has a host or pim section")
    for profile in with_sections:
        path = save_profile(profile, tmp_path / f"{profile.name}.yaml")
        assert load_profile(path) == profile


# --- validation messages -----------------------------------------------------------------

def test_unknown_key_names_file_line_and_accepted_keys(tmp_path: Path) -> None:
    data = _hbm2_dict()
    data["timing"]["tFOO"] = 3
    path, text = _write(tmp_path, data)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    msg = str(info.value)
    assert f"{path}:{_line_of(text, 'tFOO', 'timing')}: timing.tFOO = 3: unknown key" in msg
    assert "tRCD_RD" in msg  # the accepted keys are listed


def test_missing_key(tmp_path: Path) -> None:
    data = _hbm2_dict()
    del data["timing"]["tRP"]
    path, text = _write(tmp_path, data)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    msg = str(info.value)
    assert "timing.tRP: missing key" in msg
    assert f"{path}:{_line_of(text, 'timing')}:" in msg  # the section's line


def test_missing_section() -> None:
    data = _hbm2_dict()
    del data["power"]
    with pytest.raises(ProfileError, match=r"<dict>: power: missing key"):
        profile_from_dict(data, "<dict>")


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("timing", "CL", "fast", "accepted: an integer"),
        ("timing", "CL", 14.5, "accepted: an integer"),
        ("timing", "CL", True, "a boolean where a number is expected; accepted: a number"),
        ("timing", "tCK_ns", "1ns", "accepted: a number"),
        ("timing", "CL", 0, "accepted: >= 1"),
        ("timing", "tCK_ns", -1.0, "accepted: > 0"),
        ("dram", "standard", "DDR5", "accepted: one of 'DDR4', 'GDDR6', 'HBM2', 'LPDDR4'"),
        ("controller", "page_policy", "closed", "accepted: one of 'open' or 'close'"),
        ("dram", "channels", 2048, "accepted: <= 1024"),
        ("power", "io_pj_per_bit", -0.5, "accepted: >= 0"),
    ],
)
def test_wrong_type_and_out_of_range(
    tmp_path: Path, section: str, key: str, value: Any, expected: str
) -> None:
    data = _hbm2_dict()
    data[section][key] = value
    path, text = _write(tmp_path, data)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}:{_line_of(text, key, section)}: {section}.{key} = {value!r}:")
    assert expected in msg


@pytest.mark.parametrize(
    ("section", "changes", "blamed", "accepted"),
    [
        ("timing", {"tRC": 47}, "tRC", ">= 48"),
        ("timing", {"tRAS": 13, "tRC": 27}, "tRAS", ">= 14"),
        ("timing", {"tFAW": 3}, "tFAW", ">= 4"),
        ("timing", {"tRRD_L": 3}, "tRRD_L", ">= 4"),
        ("timing", {"tCCD_L": 0}, "tCCD_L", ">= 1"),  # range check comes first
        ("timing", {"tCCD_S": 3}, "tCCD_L", ">= 3"),
        ("timing", {"tWTR_L": 5}, "tWTR_L", ">= 6"),
        ("timing", {"tREFI": 260}, "tREFI", "> 260"),
        ("dram", {"data_rate": 3}, "burst_length", "a multiple of 3"),
        ("dram", {"device_width": 48}, "bus_width", "a multiple of 48"),
        ("dram", {"columns": 130}, "columns", "a multiple of 4"),
        ("dram", {"columns": 96}, "columns", "power of two"),
        ("dram", {"rows": 30000}, "rows", "1, 2, 4, 8"),
        ("dram", {"channels": 6}, "channels", "1, 2, 4, 8"),
        ("dram", {"bankgroups": 3}, "bankgroups", "1, 2, 4, 8"),
        ("controller", {"address_mapping": "rorabgbachch"}, "address_mapping", "ro ra bg ba ch co"),
        ("controller", {"address_mapping": "robgbachco"}, "address_mapping", "ro ra bg ba ch co"),
        ("power", {"IDD4R": 50.0}, "IDD4R", ">= 55.0"),
    ],
)
def test_consistency_rules(
    tmp_path: Path, section: str, changes: dict[str, Any], blamed: str, accepted: str
) -> None:
    data = _hbm2_dict()
    data[section].update(changes)
    path, text = _write(tmp_path, data)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    msg = str(info.value)
    line = _line_of(text, blamed, section)
    assert msg.startswith(f"{path}:{line}: {section}.{blamed} = "), msg
    assert "accepted:" in msg and accepted in msg


def test_consistency_rules_hold_for_python_built_profiles() -> None:
    profile = load_profile("hbm2")
    bad = profile.model_dump()
    bad["timing"]["tRC"] = 10
    with pytest.raises(ProfileError, match=r"<mine>: timing.tRC = 10: less than tRAS \+ tRP"):
        profile_from_dict(bad, "<mine>")
    with pytest.raises(Exception):
        Profile.model_validate(bad)


def test_yaml_syntax_error_and_duplicate_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ndram:\n  channels: [1, 2\n")
    with pytest.raises(ProfileError, match=rf"^{path}:\d+: YAML syntax error"):
        load_profile(path)
    path.write_text("name: x\ndram:\n  channels: 1\n  channels: 2\n")
    with pytest.raises(ProfileError, match=rf"^{path}:4: dram.channels: duplicate key"):
        load_profile(path)
    path.write_text("")
    with pytest.raises(ProfileError, match="empty"):
        load_profile(path)
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ProfileError, match="accepted: a mapping"):
        load_profile(path)


def test_several_problems_are_all_reported(tmp_path: Path) -> None:
    data = _hbm2_dict()
    data["timing"]["CL"] = "x"
    data["power"]["VDD"] = -1
    path, _ = _write(tmp_path, data)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert "2 problems" in str(info.value)
    assert "timing.CL" in str(info.value) and "power.VDD" in str(info.value)


# --- DRAMsim3 import ---------------------------------------------------------------------

@needs_reference
def test_import_hbm2() -> None:
    profile, notes = import_dramsim3_with_comments(DRAMSIM3 / "HBM2_8Gb_x128.ini")
    d, t, p = profile.dram, profile.timing, profile.power
    assert d.standard == "HBM2"
    assert (d.channels, d.ranks, d.bankgroups, d.banks_per_group) == (8, 1, 4, 4)
    assert (d.rows, d.columns, d.device_width, d.bus_width) == (32768, 128, 128, 128)
    assert (d.burst_length, d.data_rate, profile.burst_cycles) == (4, 2, 2)
    assert (t.tCK_ns, t.CL, t.CWL, t.tRCD_RD, t.tRCD_WR) == (1.0, 14, 4, 14, 14)
    assert t.tRTP == 5  # tRTP_L / tRTP_S are ignored by DRAMsim3
    assert t.tRC == t.tRAS + t.tRP == 48
    assert t.tRTRS == 2  # DRAMsim3's default
    assert (p.VDD, p.IDD0, p.IDD4R, p.IDD4W) == (1.2, 65.0, 390.0, 500.0)
    assert profile.controller.address_mapping == "rorabgbachco"
    assert profile.controller.queue_structure == "per_bank"
    assert profile.controller.page_policy == "open"
    assert profile.controller.cmd_queue_size == 8
    assert profile.peak_bandwidth_gbps == pytest.approx(256.0)
    assert "HBM2_8Gb_x128.ini:15" in notes["timing.tRCD_RD"]
    assert "tRTP = 5" in notes["timing.tRTP"]


@needs_reference
def test_import_ddr4() -> None:
    profile = import_dramsim3(DRAMSIM3 / "DDR4_8Gb_x8_3200.ini")
    d, t = profile.dram, profile.timing
    assert d.standard == "DDR4"
    assert (d.channels, d.ranks, d.bankgroups, d.banks_per_group) == (1, 2, 4, 4)
    assert (d.columns, d.burst_length, d.data_rate, profile.burst_cycles) == (1024, 8, 2, 4)
    assert (t.tRCD_RD, t.tRCD_WR, t.tRTP, t.tRC, t.tRTRS) == (22, 22, 12, 74, 1)
    assert t.tCK_ns == 0.63
    assert profile.devices_per_rank == 8
    assert profile.controller.address_mapping == "rochrababgco"
    assert profile.capacity_bytes == 16384 * 2**20


@needs_reference
def test_import_gddr6() -> None:
    profile = import_dramsim3(DRAMSIM3 / "GDDR6_8Gb_x16.ini")
    d, t = profile.dram, profile.timing
    assert d.standard == "GDDR6"
    assert d.ranks == 1  # channel_size 4096 MB < one rank of 8192 MB: forced to 1
    assert (d.bankgroups, d.banks_per_group) == (1, 16)  # bankgroup_enable = false
    assert d.columns == 128 * 16
    assert profile.burst_cycles == 1  # DRAMsim3: burst_cycle = BL / 16 for GDDR6
    assert profile.transaction_bytes == 256
    assert (t.tRCD_RD, t.tRCD_WR, t.tRTP, t.tRC) == (24, 20, 5, 78)
    assert profile.capacity_bytes == 8192 * 2**20


@needs_reference
def test_import_and_save_round_trip(tmp_path: Path) -> None:
    for ini in sorted(DRAMSIM3.glob("*.ini")):
        profile, notes = import_dramsim3_with_comments(ini)
        path = save_profile(profile, tmp_path / f"{ini.stem}.yaml", comments=notes)
        assert load_profile(path) == profile


_GOOD_INI = """\
[dram_structure]
protocol = DDR4   ; a comment
bankgroups = 4
banks_per_group = 4
rows = 65536
columns = 1024
device_width = 8
BL = 8
# another comment
[timing]
tCK = 0.75
AL = 2
CL = 18
CWL = 14
tRCD = 20
tRP = 18
tRAS = 40
tRFC = 420
tREFI = 10400
tRRD_S = 4
tRRD_L = 6
tWTR_S = 3
tWTR_L = 9
tFAW = 28
tWR = 20
tRTP = 10
tCCD_S = 4
tCCD_L = 6
[power]
VDD = 1.2
IDD0 = 60
IDD2N = 40
IDD3N = 50
IDD4W = 140
IDD4R = 150
IDD5AB = 240
[system]
channel_size = 8192
channels = 2
bus_width = 64
address_mapping = rochrababgco
queue_structure = PER_BANK
row_buf_policy = CLOSE_PAGE
cmd_queue_size = 8
trans_queue_size = 64
"""


def test_import_written_ini(tmp_path: Path) -> None:
    path = tmp_path / "mine.ini"
    path.write_text(_GOOD_INI)
    profile = import_dramsim3(path)
    assert profile.name == "mine"
    assert profile.dram.ranks == 1 and profile.dram.channels == 2
    assert profile.timing.CL == 20 and profile.timing.CWL == 16  # AL added
    assert profile.timing.tRCD_RD == 18  # tRCD - AL, as DRAMsim3's timing.cc
    assert profile.timing.tRTRS == 2  # absent: DRAMsim3's default
    assert profile.controller.page_policy == "close"
    assert profile.controller.trans_queue_size == 64
    assert profile.power.IDD2P is None


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        ("protocol = DDR4   ; a comment", "protocol = DDR7",
         r"mine.ini:2: \[dram_structure\] protocol = 'DDR7': unknown or unsupported protocol; "
         r"accepted: DDR4, GDDR6, HBM, HBM2, LPDDR4"),
        ("protocol = DDR4   ; a comment", "", r"protocol: missing key"),
        ("CL = 18", "CL 18", r"mine.ini:13: malformed line 'CL 18'; accepted:"),
        ("CL = 18", "CL = eighteen", r"mine.ini:13: \[timing\] CL = 'eighteen': not an integer"),
        ("tCK = 0.75", "tCK = fast", r"mine.ini:11: \[timing\] tCK = 'fast': not a number"),
        ("tRP = 18", "tRP = 18\ntRP = 19", r"mine.ini:17: \[timing\] tRP given twice"),
        ("row_buf_policy = CLOSE_PAGE", "row_buf_policy = ADAPTIVE",
         r"row_buf_policy = 'ADAPTIVE': not supported by pimsim; accepted: OPEN_PAGE, CLOSE_PAGE"),
        ("queue_structure = PER_BANK", "queue_structure = PER_RANK",
         r"queue_structure = 'PER_RANK': not supported"),
        ("tRAS = 40", "tRAS = 10", r"timing.tRAS = 10: less than tRCD_RD = 18"),
        ("address_mapping = rochrababgco", "address_mapping = rochrababg",
         r"controller.address_mapping = 'rochrababg': not a permutation"),
        ("bus_width = 64", "bus_width = 60", r"bus_width = 60: not a multiple of device_width"),
    ],
)
def test_import_malformed_ini(tmp_path: Path, old: str, new: str, pattern: str) -> None:
    assert old in _GOOD_INI
    path = tmp_path / "mine.ini"
    path.write_text(_GOOD_INI.replace(old, new, 1))
    with pytest.raises(ProfileError, match=pattern):
        import_dramsim3(path)


def test_import_text_before_section(tmp_path: Path) -> None:
    path = tmp_path / "x.ini"
    path.write_text("protocol = DDR4\n")
    with pytest.raises(ProfileError, match=r"x.ini:1: .* before any \[section\]"):
        import_dramsim3(path)
    with pytest.raises(ProfileError, match="cannot read"):
        import_dramsim3(tmp_path / "absent.ini")


def test_profile_copy_is_independent() -> None:
    a = load_profile("hbm2")
    b = copy.deepcopy(a)
    b.timing.CL = 15
    assert a.timing.CL == 14
