"""Trace: DataFrame, totals, Parquet/CSV, Chrome trace JSON, timeline PNG; the CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pimsim.cli import main
from pimsim.demo_pim import run_pim_demo
from pimsim.engine import simulate
from pimsim.profile import load_profile
from pimsim.trace import ENERGY_COLUMNS, KernelRecord, Trace
from pimsim.workload import criteo_dlrm, save_workload


def _toy() -> Trace:
    return Trace([
        KernelRecord(name="a", op="gemm", placement="host", unit="host", start_ns=0,
                     end_ns=100, n_rd=10, external_bytes=640, flops=1000, rdwr_pj=5.0,
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


def test_demo_writes_trace_and_picture(tmp_path) -> None:
    paths = run_pim_demo(tmp_path, quiet=True)
    df = pd.read_parquet(paths["parquet"])
    assert (df["placement"] == "pim").sum() == 7 and (df["op"] == "embedding_bag").sum() == 26
    assert json.loads(paths["chrome"].read_text())["traceEvents"]
    assert paths["timeline"].stat().st_size > 1000


def test_cli_simulate_and_profiles(tmp_path, capsys) -> None:
    w = save_workload(criteo_dlrm(batch=8, pooling=2, dtype="fp16", mlp_placement="pim"),
                      tmp_path / "w.yaml")
    rc = main(["simulate", "--profile", "hbm2_pim", "--workload", str(w), "--out",
               str(tmp_path / "t.parquet"), "--chrome", str(tmp_path / "t.json"),
               "--timeline", str(tmp_path / "t.png")])
    out = capsys.readouterr().out
    assert rc == 0 and "top3" in out and "makespan" in out
    assert (tmp_path / "t.parquet").is_file() and (tmp_path / "t.json").is_file()
    expected = simulate(criteo_dlrm(batch=8, pooling=2, dtype="fp16", mlp_placement="pim"),
                        load_profile("hbm2_pim"))
    got = pd.read_parquet(tmp_path / "t.parquet")
    assert got["end_ns"].max() == pytest.approx(expected.makespan_ns)
    assert main(["profiles"]) == 0
    out = capsys.readouterr().out
    for name in ("hbm2_pim", "gddr6_aim", "ddr4_recnmp", "upmem", "ddr4_3200", "hbm2", "gddr6"):
        assert name in out
    assert "INVALID" not in out


def test_cli_bad_workload_exits_2(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kernels:\n- {op: gemm, name: g, m: 1, n: 4, k: 4, dtype: fp32, "
                   "placement: pim}\n")
    assert main(["simulate", "--profile", "hbm2_pim", "--workload", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "kernel 'g'" in err and "bank_simd" in err and "Traceback" not in err
    bad.write_text("kernels:\n- {op: embedding_bag, name: e, table: t9, batch: 2, pooling: 1}\n")
    assert main(["simulate", "--profile", "ddr4_3200", "--workload", str(bad)]) == 2
    assert "unknown table 't9'" in capsys.readouterr().err
