"""``pimsim profile check`` and ``pimsim profiles`` judge a profile by one rule: a profile
imported from DRAMsim3 (no host section) is valid for both, a broken one invalid for both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pimsim.cli import main
from pimsim.hw.load import PROFILE_PATH_ENV
from tests.helpers.shared import DRAMSIM3_PEER, DRAMSIM3_REFERENCE

#: A DRAMsim3 configuration, from the reference figures or the peer's configs.
INI = next((p for p in (DRAMSIM3_REFERENCE / "HBM2_8Gb_x128.ini",
                        DRAMSIM3_PEER / "configs" / "HBM2_8Gb_x128.ini") if p.is_file()), None)


def profiles_status(capsys: pytest.CaptureFixture[str], name: str) -> tuple[int, str]:
    """Exit status of ``pimsim profiles`` and the status column of profile ``name``."""
    rc = main(["profiles"])
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[0][-2:] == ["status", "path"]
    row = next(r for r in rows[1:] if r and r[0] == name)
    return rc, row[-2]


@pytest.mark.skipif(INI is None, reason="no DRAMsim3 HBM2 configuration in ../shared")
def test_an_imported_profile_is_valid_for_both_commands(tmp_path: Path, capsys,
                                                        monkeypatch) -> None:
    assert INI is not None
    folder = tmp_path / "profiles"
    assert main(["profile", "import-dramsim3", str(INI), "-o",
                 str(folder / "imported_hbm2.yaml")]) == 0
    capsys.readouterr()
    monkeypatch.setenv(PROFILE_PATH_ENV, str(folder))
    assert profiles_status(capsys, "imported_hbm2") == (0, "ok")
    assert main(["profile", "check", "imported_hbm2", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["name"] == "imported_hbm2" and summary["host"].startswith("none")
    # a profile without a host runs replays but no host kernel: both say so
    assert main(["profile", "check", "imported_hbm2"]) == 0
    assert "replay only" in capsys.readouterr().out


def test_a_broken_profile_is_invalid_for_both_commands(tmp_path: Path, capsys,
                                                       monkeypatch) -> None:
    (tmp_path / "broken.yaml").write_text("extends: hbm2\ndram:\n  channels: 3\n")
    monkeypatch.setenv(PROFILE_PATH_ENV, str(tmp_path))
    assert profiles_status(capsys, "broken") == (2, "INVALID")
    assert main(["profile", "check", "broken"]) == 2
    assert "dram.channels" in capsys.readouterr().err
