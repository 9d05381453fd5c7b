"""pimsim.sweep and ``pimsim sweep``: grid, validation, resume, Dask = serial, spec hook."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from pimsim.cli import main as pimsim_main
from pimsim.errors import PimsimError, ProfileError
from pimsim.profile import load_profile
from pimsim.sweep import grid, make_map_executor, parse_set, run_sweep, set_params
from pimsim.workload import EmbeddingBag, Gemm, Table, Workload, save_workload

REF = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "nasrec"


def _workload() -> Workload:
    return Workload(
        name="small",
        tables={"t0": Table(rows=100_000, dim=16)},
        kernels=[
            EmbeddingBag(name="emb", table="t0", batch=64, pooling=4, distribution="zipf"),
            Gemm(name="fc", m=1, k=1024, n=1024, dtype="fp16", placement="pim"),
            Gemm(name="top", m=64, k=1040, n=1, dtype="fp32"),
        ],
        deps={"top": ["emb", "fc"]},
        check_shapes=False,
    )


SETS = [("pim.units_per_channel", [8, 16]), ("pim.channels_used", [4, 8])]


def test_parse_set_grid_and_set_params() -> None:
    assert parse_set("dram.channels=4,8") == ("dram.channels", [4, 8])
    assert parse_set("timing.tCK_ns=1.0,1.25") == ("timing.tCK_ns", [1.0, 1.25])
    assert parse_set("pim.dtype=fp16") == ("pim.dtype", ["fp16"])
    for bad in ("dram.channels", "=4", "dram.channels=4,,8", "dram.channels=4,4"):
        with pytest.raises(PimsimError, match="--set"):
            parse_set(bad)
    g = grid([("a", [1, 2]), ("b", ["x", "y", "z"])])
    assert len(g) == 6 and g[0] == {"a": 1, "b": "x"} and g[1] == {"a": 1, "b": "y"}
    prof = load_profile("hbm2_pim")
    p2 = set_params(prof, {"pim.units_per_channel": 8, "timing.tCK_ns": 1.25})
    pim = p2.pim
    assert (pim["units_per_channel"] if isinstance(pim, dict) else pim.units_per_channel) == 8
    assert p2.timing.tCK_ns == 1.25 and prof.timing.tCK_ns != 1.25
    with pytest.raises(ProfileError, match="'chanels' not found under dram; accepted: .*channels"):
        set_params(prof, {"dram.chanels": 4})
    with pytest.raises(ProfileError):
        set_params(prof, {"pim.units_per_channel": 999})  # above max_units_per_channel


def test_sweep_rows_files_and_resume(tmp_path: Path) -> None:
    prof = load_profile("hbm2_pim")
    out = tmp_path / "sw"
    res = run_sweep(prof, _workload(), SETS, out)
    assert res.ran == 4 and res.skipped == 0
    df = res.rows
    assert list(df["pim.units_per_channel"]) == [8, 8, 16, 16]
    assert list(df["pim.channels_used"]) == [4, 8, 4, 8]
    assert (df["status"] == "ok").all()
    comps = [c for c in df.columns
             if c.startswith("energy_") and c.endswith("_pj") and c != "energy_pj"]
    assert len(comps) == 7
    assert (df[comps].sum(axis=1) - df["energy_pj"]).abs().max() <= 1e-6 * df["energy_pj"].max()
    # more PIM units and channels never make the PIM GEMV slower
    lat = df.set_index(["pim.units_per_channel", "pim.channels_used"])["latency_ns"]
    assert lat[(16, 8)] <= lat[(8, 4)]
    for name in ("results.parquet", "results.csv", "points.jsonl",
                 "sweep_pim.units_per_channel.png", "sweep_pim.channels_used.png"):
        assert (out / name).is_file(), name
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), df,
                                  check_dtype=False)
    # resume: nothing runs again
    again = run_sweep(prof, _workload(), SETS, out, resume=True)
    assert again.ran == 0 and again.skipped == 4
    pd.testing.assert_frame_equal(again.rows, df)
    # a point lost (torn journal line): only that one runs again
    lines = (out / "points.jsonl").read_text().splitlines()
    (out / "points.jsonl").write_text("\n".join(lines[:2]) + "\n" + lines[2][:20])
    part = run_sweep(prof, _workload(), SETS, out, resume=True)
    assert part.ran == 2 and part.skipped == 2
    pd.testing.assert_frame_equal(part.rows, df)
    with pytest.raises(PimsimError, match="holds a sweep already"):
        run_sweep(prof, _workload(), SETS, out)


def test_invalid_point_is_a_row_not_a_crash(tmp_path: Path) -> None:
    # channels_used above dram.channels passes the profile model but fails at simulation
    prof = load_profile("hbm2_pim")
    res = run_sweep(prof, _workload(), [("pim.channels_used", [8, 16])], None)
    assert res.rows["status"].iloc[0] == "ok"
    assert "channels_used" in res.rows["status"].iloc[1]
    assert math.isnan(res.rows["latency_ns"].iloc[1])


def test_local_pool_and_dask_local_cluster_give_the_serial_results() -> None:
    prof = load_profile("hbm2_pim")
    serial = run_sweep(prof, _workload(), SETS, None, plots=False).rows
    ex = make_map_executor("pool", workers=2)
    try:
        pool = run_sweep(prof, _workload(), SETS, None, executor=ex, chunk=3).rows
    finally:
        ex.close()
    pd.testing.assert_frame_equal(serial, pool)
    ex = make_map_executor("local", workers=2)
    try:
        dask = run_sweep(prof, _workload(), SETS, None, executor=ex, chunk=4).rows
    finally:
        ex.close()
    pd.testing.assert_frame_equal(serial, dask)


def test_cli_sweep_workload_and_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wpath = save_workload(_workload(), tmp_path / "w.yaml")
    rc = pimsim_main(["sweep", "-p", "hbm2_pim", "-w", str(wpath), "--set",
                      "pim.units_per_channel=4,16", "--out", str(tmp_path / "a"), "--quiet"])
    assert rc == 0
    assert "2 points simulated" in capsys.readouterr().out
    rc = pimsim_main(["sweep", "-p", "hbm2_pim", "-w", str(wpath), "--set",
                      "pim.units_per_channel=4,16", "--out", str(tmp_path / "a"), "--quiet",
                      "--resume"])
    assert rc == 0 and "0 points simulated, 2 skipped" in capsys.readouterr().out
    rc = pimsim_main(["sweep", "-p", "hbm2_pim", "-w", str(wpath), "--set", "dram.nope=1",
                      "--out", str(tmp_path / "b"), "--quiet"])
    assert rc == 2 and "'nope' not found under dram" in capsys.readouterr().err
    if not REF.is_dir():
        pytest.skip("shared/reference/nasrec not present")
    spec = str(REF / "criteo_full_best.json")
    rc = pimsim_main(["sweep", "-p", "hbm2_pim", "--spec", spec, "--dataset", "criteo",
                      "--batch", "8", "--set", "dram.channels=4,8", "--out",
                      str(tmp_path / "c"), "--quiet"])
    assert rc == 0
    rows = pd.read_csv(tmp_path / "c" / "results.csv")
    assert list(rows["dram.channels"]) == [4, 8] and (rows["status"] == "ok").all()
    rc = pimsim_main(["sweep", "-p", "hbm2_pim", "--spec", spec, "--set", "dram.channels=4",
                      "--out", str(tmp_path / "d"), "--quiet"])
    assert rc == 2 and "--spec needs --dataset" in capsys.readouterr().err


def test_cli_simulate_spec_with_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not REF.is_dir():
        pytest.skip("shared/reference/nasrec not present")
    spec = str(REF / "criteo_small_best.json")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"dense": {"b0.fc.linear": "pim"},
                                "knobs": {"units_per_channel": 8}}))
    chrome = tmp_path / "t.json"
    rc = pimsim_main(["simulate", "-p", "hbm2_pim", "--spec", spec, "--dataset", "criteo",
                      "--plan", str(plan), "--batch", "4", "--chrome", str(chrome)])
    out = capsys.readouterr().out
    assert rc == 0 and "b0.fc.linear" in out and "final.logit" in out
    assert json.loads(chrome.read_text())["traceEvents"]
    plan.write_text(json.dumps({"dense": {"final.logit": "gpu"}}))
    rc = pimsim_main(["simulate", "-p", "hbm2_pim", "--spec", spec, "--dataset", "criteo",
                      "--plan", str(plan)])
    assert rc == 2 and "plan.dense.final.logit" in capsys.readouterr().err
