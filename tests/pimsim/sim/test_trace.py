"""Trace: DataFrame, totals, Parquet/CSV, Chrome trace JSON, timeline PNG."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pimsim.sim.trace import ENERGY_COLUMNS, KernelRecord, Trace


def _toy() -> Trace:
    return Trace([
        KernelRecord(name="a", op="gemm", placement="host", unit="host", start_ns=0,
                     end_ns=100, n_rd=10, external_bytes=640, flops=1000, read_pj=5.0,
                     host_pj=7.0),
        KernelRecord(name="b", op="gemm", placement="pim", unit="pim:bank_simd:ch0-7",
                     start_ns=50, end_ns=250, n_act=2, internal_bytes=4096, flops=2000,
                     act_pj=3.0, pim_alu_pj=11.0),
    ], {"profile": "toy", "workload": "w"})


def test_dataframe_and_totals() -> None:
    tr = _toy()
    df = tr.df
    assert list(df["duration_ns"]) == [100, 200]
    assert list(df["dram_commands"]) == [10, 2]
    t = tr.totals()
    assert t["makespan_ns"] == 250 and t["flops"] == 3000
    assert t["energy_pj"] == pytest.approx(26.0)
    assert t["energy_pj"] == pytest.approx(sum(t[c] for c in ENERGY_COLUMNS))
    assert "a" in tr.table() and "makespan 250.0 ns" in tr.table()


def test_parquet_csv_roundtrip_atomic(tmp_path) -> None:
    tr = _toy()
    pq = tr.to_parquet(tmp_path / "t.parquet")
    csv = tr.to_csv(tmp_path / "t.csv")
    back = Trace.from_parquet(pq)
    assert back.df.equals(tr.df)
    assert pd.read_csv(csv)["energy_pj"].tolist() == tr.df["energy_pj"].tolist()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.parquet"]


def test_chrome_trace_has_host_and_pim_lanes(tmp_path) -> None:
    tr = _toy()
    data = json.loads(tr.to_chrome_json(tmp_path / "t.json").read_text())
    ev = data["traceEvents"]
    lanes = {e["args"]["name"] for e in ev if e["name"] == "thread_name"}
    assert lanes == {"host", "pim:bank_simd:ch0-7"}
    x = {e["name"]: e for e in ev if e["ph"] == "X"}
    assert x["b"]["ts"] == pytest.approx(0.05) and x["b"]["dur"] == pytest.approx(0.2)
    assert x["a"]["tid"] != x["b"]["tid"] and x["b"]["args"]["internal_bytes"] == 4096


def test_timeline_png(tmp_path) -> None:
    p = _toy().timeline_png(tmp_path / "t.png")
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_totals_count_kernels_but_not_the_idle_memory_record() -> None:
    tr = _toy()
    tr.records.append(KernelRecord(name="(idle memory)", op="background", placement="memory",
                                   unit="memory", start_ns=0, end_ns=250, background_pj=4.0))
    t = tr.totals()
    assert t["kernels"] == 2 and t["background_pj"] == 4.0
    assert t["energy_pj"] == pytest.approx(26.0 + 4.0) and t["makespan_ns"] == 250
