"""The DRAMsim3 .ini importer: the shipped configurations, conventions, malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pimsim.errors import ProfileError
from pimsim.hw.dramsim3 import import_dramsim3, import_dramsim3_with_comments
from pimsim.hw.load import load_profile, save_profile
from tests.helpers.shared import DRAMSIM3_REFERENCE

DRAMSIM3 = DRAMSIM3_REFERENCE
needs_reference = pytest.mark.skipif(
    not (DRAMSIM3 / "HBM2_8Gb_x128.ini").is_file(), reason="shared/reference/dramsim3 absent"
)


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
    assert (t.t32AW, t.tPPD) == (420, 2)  # GDDR6_8Gb_x16.ini lines 38, 37


@needs_reference
def test_one_bank_group_takes_the_short_spacings() -> None:
    """bankgroup_enable = false: DRAMsim3's timing.cc applies tCCD_S, tWTR_S and tRRD_S
    where a same-group spacing would apply; the file's _L values (tCCD_L = 4) are unused."""
    profile, notes = import_dramsim3_with_comments(DRAMSIM3 / "GDDR6_8Gb_x16.ini")
    t = profile.timing
    assert (t.tCCD_L, t.tCCD_S) == (3, 3)  # the file: tCCD_S = 3, tCCD_L = 4
    assert (t.tWTR_L, t.tRRD_L) == (t.tWTR_S, t.tRRD_S)
    assert "one bank group" in notes["timing.tCCD_L"]
    hbm2 = import_dramsim3(DRAMSIM3 / "HBM2_8Gb_x128.ini")  # bank groups on: _L kept
    assert (hbm2.timing.tCCD_S, hbm2.timing.tCCD_L) == (1, 2)


@needs_reference
def test_write_buffer_follows_dramsim3() -> None:
    """DRAMsim3 (controller.cc) keeps a write buffer as large as its transaction queue
    beside the read queue unless unified_queue = true, and drains above 8 writes."""
    profile, notes = import_dramsim3_with_comments(DRAMSIM3 / "DDR4_8Gb_x8_3200.ini")
    ctl = profile.controller
    assert (ctl.write_queue, ctl.write_buffer_entries, ctl.write_drain_threshold) == (
        "buffered", 32, 8)
    assert "controller.cc" in notes["controller.write_drain_threshold"]


def test_unified_queue_is_imported(tmp_path: Path) -> None:
    path = tmp_path / "unified.ini"
    path.write_text(_GOOD_INI + "unified_queue = true\n")
    assert import_dramsim3(path).controller.write_queue == "unified"
    assert import_dramsim3(path).controller.write_buffer_entries == 0


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
