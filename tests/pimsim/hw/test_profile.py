"""Profiles: loading by name and path, validation messages, save/load, DRAMsim3 import."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from pimsim.errors import ProfileError
from pimsim.hw.dramsim3 import import_dramsim3
from pimsim.hw.load import (
    BUILTIN_PROFILE_DIR,
    list_profiles,
    load_profile,
    profile_from_dict,
    save_profile,
)
from pimsim.hw.schema import Profile
from tests.helpers.shared import REFERENCE

REFERENCE = REFERENCE
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


def test_profile_copy_is_independent() -> None:
    a = load_profile("hbm2")
    b = copy.deepcopy(a)
    b.timing.CL = 15
    assert a.timing.CL == 14


# --- extends: ------------------------------------------------------------------------------

_BASE_SECTIONS = ("dram", "timing", "power", "controller", "host")


@pytest.mark.parametrize(("name", "base"), [
    ("hbm2_pim", "hbm2"), ("gddr6_aim", "gddr6"), ("upmem", "ddr4_3200"),
    ("ddr4_recnmp", "ddr4_3200"),
])
def test_pim_profiles_inherit_their_base_sections(name: str, base: str) -> None:
    merged, parent = load_profile(name), load_profile(base)
    assert merged.pim is not None and parent.pim is None
    for section in _BASE_SECTIONS:
        if (name, section) == ("ddr4_recnmp", "dram"):
            assert merged.dram == parent.dram.model_copy(update={"ranks": 4})
        else:
            assert getattr(merged, section) == getattr(parent, section), (name, section)
    text = (BUILTIN_PROFILE_DIR / f"{name}.yaml").read_text()
    assert f"extends: {base}" in text and "\ntiming:" not in text


def test_extends_overrides_keys_and_looks_next_to_the_file(tmp_path: Path) -> None:
    base = _hbm2_dict()
    base["name"] = "hbm2"
    base["timing"]["CL"] = 20  # shadows the shipped hbm2 for profiles in this folder
    _write(tmp_path, base, "hbm2.yaml")
    path, text = _write(tmp_path, {"name": "child", "extends": "hbm2",
                                   "timing": {"CWL": 5}, "controller": {"page_policy": "close"}},
                        "child.yaml")
    child = load_profile(path)
    assert (child.name, child.timing.CL, child.timing.CWL) == ("child", 20, 5)
    assert child.controller.page_policy == "close"
    assert child.controller.address_mapping == "rorabgbachco"
    bad, text = _write(tmp_path, {"name": "child", "extends": "hbm2", "timing": {"CL": 0}},
                       "bad.yaml")
    with pytest.raises(ProfileError) as info:
        load_profile(bad)
    assert str(info.value).startswith(f"{bad}:{_line_of(text, 'CL', 'timing')}: timing.CL = 0:")


def test_extends_errors(tmp_path: Path) -> None:
    a, _ = _write(tmp_path, {"name": "a", "extends": "b"}, "a.yaml")
    _write(tmp_path, {"name": "b", "extends": "a"}, "b.yaml")
    with pytest.raises(ProfileError,
                       match=r"b.yaml:2: extends = 'a': extends itself through a.yaml -> b.yaml"):
        load_profile(a)
    c, _ = _write(tmp_path, {"name": "c", "extends": "nowhere"}, "c.yaml")
    with pytest.raises(ProfileError, match=r"'nowhere': no such profile name"):
        load_profile(c)
    d, _ = _write(tmp_path, {"name": "d", "extends": 3}, "d.yaml")
    with pytest.raises(ProfileError, match=r"d.yaml:2: extends = 3: not a profile name"):
        load_profile(d)


# --- timing: the standard's names ------------------------------------------------------------

def test_timing_keys_are_the_standards(tmp_path: Path) -> None:
    data = _hbm2_dict()
    data["timing"]["tPPD"] = 2  # an LPDDR4 name, not an HBM2 one
    path, text = _write(tmp_path, data)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}:{_line_of(text, 'tPPD', 'timing')}: timing.tPPD = 2: "
                          "unknown key; accepted: the keys tCK_ns, CL, CWL")
    assert "(standard HBM2)" in msg
    data["dram"]["standard"] = "LPDDR4"
    data["timing"]["tRPab"] = 20
    assert profile_from_dict(data, "<dict>").timing.tPPD == 2
    del data["timing"]["tPPD"]
    with pytest.raises(ProfileError, match=r"<dict>: timing.tPPD: missing key; accepted: a "
                                           r"value for it \(PRE to PRE"):
        profile_from_dict(data, "<dict>")


def test_a_standard_rule_names_its_expression() -> None:
    data = load_profile("lpddr4_2400").model_dump()
    data["timing"]["tRPab"] = 10
    with pytest.raises(ProfileError, match=r"timing.tRPab = 10: less than tRP = 15; "
                                           r"accepted: >= 15"):
        profile_from_dict(data, "<dict>")
