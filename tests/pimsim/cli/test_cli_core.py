"""``pimsim profile ...`` and ``pimsim replay``, run in-process through pimsim.cli.main."""

from __future__ import annotations

import csv
import json
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pimsim.cli import main
from pimsim.profile import import_dramsim3, load_profile
from pimsim.tracefile import write_trace

DRAMSIM3 = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "dramsim3"
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
    text = (Path(__file__).resolve().parents[1] / "hw_profiles" / "hbm2.yaml").read_text()
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


class _FakeResult:
    def __init__(self, n: int) -> None:
        self.n = n

    def summary(self) -> dict[str, Any]:
        return {"cycles": np.int64(100), "bandwidth_gbps": 1.5, "avg_read_latency_ns": 42.0,
                "row_hit_rate": 0.5, "energy": {"act_pj": 1.0, "total_pj": 3.0},
                "requests": self.n}


def test_replay_command_plumbing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command reads the trace, calls pimsim.replay.replay and prints its summary."""
    calls: list[tuple[Any, ...]] = []

    def fake_replay(profile: Any, addresses: Any, is_write: Any, arrival_cycles: Any) -> Any:
        calls.append((profile.name, addresses.tolist(), is_write.tolist(),
                       arrival_cycles.tolist()))
        return _FakeResult(len(addresses))

    module = types.ModuleType("pimsim.replay")
    module.replay = fake_replay  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pimsim.replay", module)
    trace = write_trace(tmp_path / "t.trace", [0, 64, 128], [False, True, False], [0, 0, 4])
    out_csv = tmp_path / "s" / "summary.csv"
    code, out, err = _run(capsys, "replay", "--profile", "hbm2", "--trace", str(trace),
                          "--json", "--out", str(out_csv))
    assert code == 0 and err == ""
    assert calls == [("hbm2", [0, 64, 128], [False, True, False], [0, 0, 4])]
    summary = json.loads(out)
    assert summary["cycles"] == 100 and summary["energy"]["total_pj"] == 3.0
    with out_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [{"cycles": "100", "bandwidth_gbps": "1.5", "avg_read_latency_ns": "42.0",
                     "row_hit_rate": "0.5", "energy.act_pj": "1.0", "energy.total_pj": "3.0",
                     "requests": "3"}]
    code, out, _ = _run(capsys, "replay", "--profile", "hbm2", "--trace", str(trace))
    assert code == 0
    assert "avg_read_latency_ns" in out and "energy.total_pj" in out


def test_replay_bad_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "bad.trace"
    trace.write_text("0x0 READ 0\n0x40 FETCH 1\n")
    code, out, err = _run(capsys, "replay", "--profile", "hbm2", "--trace", str(trace))
    assert code == 2 and out == ""
    assert err.startswith(f"pimsim: error: {trace}:2: '0x40 FETCH 1': operation 'FETCH'")
    empty = tmp_path / "empty.trace"
    empty.write_text("# nothing\n")
    code, _, err = _run(capsys, "replay", "--profile", "hbm2", "--trace", str(empty))
    assert code == 2 and "no requests" in err
    code, _, err = _run(capsys, "replay", "--profile", "nope", "--trace", str(trace))
    assert code == 2 and "no such profile name" in err


def test_replay_with_the_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pimsim.replay")
    n = 2000
    addresses = np.arange(n, dtype=np.uint64) * np.uint64(64)
    trace = write_trace(tmp_path / "seq.trace", addresses, np.zeros(n, bool),
                        np.zeros(n, np.int64))
    code, out, err = _run(capsys, "replay", "--profile", "hbm2", "--trace", str(trace), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert {"cycles", "bandwidth_gbps", "avg_read_latency_ns", "row_hit_rate"} <= set(summary)
    assert 0 < summary["bandwidth_gbps"] <= 256.0
    assert 0.5 < summary["row_hit_rate"] <= 1.0
