"""``pimsim profile ...`` and ``pimsim profiles``, run in-process through pimsim.cli.main."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pimsim.cli import main
from pimsim.hw.dramsim3 import import_dramsim3
from pimsim.hw.load import load_profile
from tests.helpers.shared import DRAMSIM3_REFERENCE

DRAMSIM3 = DRAMSIM3_REFERENCE
needs_reference = pytest.mark.skipif(
    not (DRAMSIM3 / "HBM2_8Gb_x128.ini").is_file(), reason="shared/reference/dramsim3 absent"
)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_profile_check_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "profile", "check", "hbm2")
    assert code == 0 and err == ""
    assert "hbm2: OK" in out
    lines = dict(line.split(None, 1) for line in out.splitlines()[1:])
    assert lines["channels"] == "8"
    assert lines["peak_bandwidth_gbps"] == "256"
    assert lines["capacity_gib"] == "8"


def test_profile_check_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "profile", "check", "ddr4_3200", "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["ranks_per_channel"] == 2
    assert summary["peak_bandwidth_gbps"] == pytest.approx(25.397, rel=1e-3)


def test_profile_check_bad_profile_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (Path(__file__).resolve().parents[3] / "hw_profiles" / "hbm2.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("tRC: 48 ", "tRC: 40 "))
    code, out, err = _run(capsys, "profile", "check", str(bad))
    assert code == 2 and out == ""
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.strip().startswith("tRC:"))
    assert err.startswith(f"pimsim: error: {bad}:{line}: timing.tRC = 40: less than tRAS + tRP")
    assert "Traceback" not in err
    code, _, err = _run(capsys, "profile", "check", "no_such_profile")
    assert code == 2 and "'no_such_profile': no such profile name" in err


def test_profile_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "profile", "list")
    assert code == 0
    names = {line.split()[0] for line in out.splitlines()}
    assert {"hbm2", "ddr4_3200", "gddr6"} <= names


@needs_reference
def test_import_dramsim3_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for ini in sorted(DRAMSIM3.glob("*.ini")):
        target = tmp_path / f"{ini.stem}.yaml"
        code, out, err = _run(capsys, "profile", "import-dramsim3", str(ini), "-o", str(target))
        assert code == 0 and err == ""
        assert f"wrote {target}" in out
        assert load_profile(target) == import_dramsim3(ini)
        text = target.read_text()
        assert text.startswith("# Imported by 'pimsim profile import-dramsim3'")
        assert f"{ini.name}:" in text  # provenance comments name the .ini lines
        code, _, _ = _run(capsys, "profile", "check", str(target))
        assert code == 0
    code, out, _ = _run(capsys, "profile", "import-dramsim3",
                        str(DRAMSIM3 / "HBM2_8Gb_x128.ini"), "--name", "h")
    assert code == 0 and "name: h\n" in out and "tRCD_RD: 14" in out


def test_import_dramsim3_bad_ini_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ini = tmp_path / "x.ini"
    ini.write_text("[dram_structure]\nprotocol = LPDDR9\n")
    code, out, err = _run(capsys, "profile", "import-dramsim3", str(ini), "-o",
                          str(tmp_path / "x.yaml"))
    assert code == 2 and out == ""
    assert err.startswith(f"pimsim: error: {ini}:2: [dram_structure] protocol = 'LPDDR9'")
    assert not (tmp_path / "x.yaml").exists()




def test_profile_list_and_profiles_are_one_listing(capsys: pytest.CaptureFixture[str]) -> None:
    code_a, out_a, _ = _run(capsys, "profile", "list")
    code_b, out_b, _ = _run(capsys, "profiles")
    assert code_a == code_b == 0 and out_a == out_b
    assert out_a.splitlines()[0].split()[:2] == ["profile", "standard"]
    assert "INVALID" not in out_a
