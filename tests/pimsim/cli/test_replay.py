"""``pimsim replay``, run in-process through pimsim.cli.main."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import pimsim.cli.replay
from pimsim.cli import main
from pimsim.requests.tracefile import write_trace


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class _FakeResult:
    def __init__(self, n: int) -> None:
        self.n = n
        self.dram = type("Dram", (), {"requests": n})()

    def summary(self) -> dict[str, Any]:
        return {"cycles": np.int64(100), "bandwidth_gbps": 1.5, "avg_read_latency_ns": 42.0,
                "row_hit_rate": 0.5, "energy": {"act_pj": 1.0, "total_pj": 3.0},
                "requests": self.n}


def test_replay_command_plumbing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command passes the trace and its options to pimsim.requests.filereplay
    .replay_file and prints its summary."""
    calls: list[tuple[Any, ...]] = []

    def fake_replay(profile: Any, path: Any, *, requests_out: Any, lanes: Any) -> Any:
        calls.append((profile.name, str(path), requests_out, lanes))
        return _FakeResult(3)

    monkeypatch.setattr(pimsim.cli.replay, "replay_file", fake_replay)
    trace = write_trace(tmp_path / "t.trace", [0, 64, 128], [False, True, False], [0, 0, 4])
    out_csv = tmp_path / "s" / "summary.csv"
    code, out, err = _run(capsys, "replay", "--profile", "hbm2", "--trace", str(trace),
                          "--json", "--out", str(out_csv))
    assert code == 0 and err == ""
    assert calls == [("hbm2", str(trace), None, None)]
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
