"""pimsim.sweep: grid, validation, resume, pool and Dask = serial."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from pimsim.cli import main as pimsim_main
from pimsim.errors import PimsimError, ProfileError
from pimsim.hw.load import BUILTIN_PROFILE_DIR, load_profile
from pimsim.sim.trace import ENERGY_COLUMNS
from pimsim.sweep import grid, parse_set, run_sweep, set_params
from pimsim.util.executors import make_executor
from pimsim.workload.graph import Workload, save_workload

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


def test_sweep_rows_files_and_resume(tmp_path: Path, small_workload: Workload) -> None:
    prof = load_profile("hbm2_pim")
    out = tmp_path / "sw"
    res = run_sweep(prof, small_workload, SETS, out)
    assert res.ran == 4 and res.skipped == 0
    df = res.rows
    assert list(df["pim.units_per_channel"]) == [8, 8, 16, 16]
    assert list(df["pim.channels_used"]) == [4, 8, 4, 8]
    assert (df["status"] == "ok").all()
    comps = [c for c in df.columns
             if c.startswith("energy_") and c.endswith("_pj") and c != "energy_pj"]
    assert comps == [f"energy_{c}" for c in ENERGY_COLUMNS]
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
    again = run_sweep(prof, small_workload, SETS, out, resume=True)
    assert again.ran == 0 and again.skipped == 4
    pd.testing.assert_frame_equal(again.rows, df)
    # a point lost (torn journal line): only that one runs again
    lines = (out / "points.jsonl").read_text().splitlines()
    (out / "points.jsonl").write_text("\n".join(lines[:2]) + "\n" + lines[2][:20])
    part = run_sweep(prof, small_workload, SETS, out, resume=True)
    assert part.ran == 2 and part.skipped == 2
    pd.testing.assert_frame_equal(part.rows, df)
    with pytest.raises(PimsimError, match="holds a sweep already"):
        run_sweep(prof, small_workload, SETS, out)


def test_invalid_point_is_a_row_not_a_crash(small_workload: Workload) -> None:
    # channels_used above dram.channels passes the profile model but fails at simulation
    prof = load_profile("hbm2_pim")
    res = run_sweep(prof, small_workload, [("pim.channels_used", [8, 16])], None)
    assert res.rows["status"].iloc[0] == "ok"
    assert "channels_used" in res.rows["status"].iloc[1]
    assert math.isnan(res.rows["latency_ns"].iloc[1])


@pytest.mark.parametrize(("scheduler", "chunk"), [("pool", 3), ("local", 4)])
def test_local_pool_and_dask_local_cluster_give_the_serial_results(
        scheduler: str, chunk: int, small_workload: Workload) -> None:
    prof = load_profile("hbm2_pim")
    serial = run_sweep(prof, small_workload, SETS, None, plots=False).rows
    with make_executor(scheduler, workers=2) as ex:
        other = run_sweep(prof, small_workload, SETS, None, executor=ex, chunk=chunk).rows
    pd.testing.assert_frame_equal(serial, other)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_resume_with_other_inputs_is_refused_and_leaves_the_folder_as_it_was(
        tmp_path: Path, small_workload: Workload, capsys) -> None:
    w = save_workload(small_workload, tmp_path / "w.yaml")
    out = tmp_path / "sw"
    base = ["sweep", "--profile", "hbm2_pim", "--workload", str(w), "--out", str(out),
            "--quiet"]
    grid_a = ["--set", "pim.units_per_channel=8,16"]
    assert pimsim_main(base + grid_a) == 0
    capsys.readouterr()
    before = _snapshot(out)
    edited = tmp_path / "edited" / "hbm2_pim.yaml"  # same name, another PIM clock
    edited.parent.mkdir()
    shipped = (BUILTIN_PROFILE_DIR / "hbm2_pim.yaml").read_text()
    clock = re.search(r"^  clock_mhz: (\d+) ", shipped, re.MULTILINE)
    assert clock, "hbm2_pim.yaml declares its PIM clock"
    edited.write_text(shipped.replace(clock.group(0), f"  clock_mhz: {int(clock.group(1)) + 50} "))
    others = [
        (base + ["--set", "pim.units_per_channel=4,8", "--resume"],
         "--set grid differs",
         "there: --set pim.units_per_channel=8,16; here: --set pim.units_per_channel=4,8"),
        (base + grid_a + ["--set", "pim.channels_used=4", "--resume"], "--set grid differs",
         "here: --set pim.units_per_channel=8,16 --set pim.channels_used=4"),
        (base + grid_a + ["--seed", "1", "--resume"], "--seed differs", "there: 0; here: 1"),
        ([a if a != "hbm2_pim" else str(edited) for a in base] + grid_a + ["--resume"],
         "--profile (its contents) differs", "there: "),
        (base + grid_a + ["--resume", "--workload", str(save_workload(
            small_workload.model_copy(update={"name": "other"}), tmp_path / "w2.yaml"))],
         "--workload/--spec (the workload's digest) differs", "there: "),
    ]
    for argv, what, values in others:
        assert pimsim_main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"--resume: {what} from the sweep in {out}" in err[0], err
        assert values in err[0], err
        assert _snapshot(out) == before  # nothing rewritten, appended or removed
    # the same inputs resume: nothing runs again and every file is byte for byte the same
    assert pimsim_main(base + grid_a + ["--resume"]) == 0
    assert "0 points simulated, 2 skipped" in capsys.readouterr().out
    assert _snapshot(out) == before


def test_points_without_their_header_are_not_resumed(tmp_path: Path,
                                                     small_workload: Workload) -> None:
    out = tmp_path / "sw"
    prof = load_profile("hbm2_pim")
    run_sweep(prof, small_workload, SETS[:1], out, plots=False)
    (out / "sweep.json").unlink()
    points = (out / "points.jsonl").read_bytes()
    with pytest.raises(PimsimError, match="points.jsonl without sweep.json"):
        run_sweep(prof, small_workload, SETS[:1], out, resume=True, plots=False)
    assert (out / "points.jsonl").read_bytes() == points
