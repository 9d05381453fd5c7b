"""``pimsim compare`` in-process: outputs, the CSV round trip, and bad options."""

from __future__ import annotations

import pandas as pd
import pytest

from pimsim.cli import main
from pimsim.compare.grid import CompareGrid
from pimsim.compare.run import default_grid, run_grid
from pimsim.compare.tables import read_points_csv, write_csv
from pimsim.hw.load import load_profile
from pimsim.workload.examples import criteo_dlrm
from pimsim.workload.graph import save_workload
from tests.helpers.shared import NASREC_REFERENCE


def test_map_writes_tables_and_heatmaps_and_the_csv_reads_back(tmp_path, capsys) -> None:
    out = tmp_path / "map"
    rc = main(["compare", "--profile", "upmem", "--quiet", "--batch", "1,64", "--gemm",
               "256x128", "--dims", "64", "--pooling", "80", "--dist", "uniform",
               "--rows", "100000", "--dtype", "int32", "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0 and "### gemm" in text and "### embedding" in text
    assert "d64 p80 uniform" in text and "latency crossover" in text
    for name in ("advantage.csv", "crossover.csv", "advantage.md", "heatmap_gemm.png",
                 "heatmap_embedding.png"):
        assert (out / name).stat().st_size > 100, name
    points = read_points_csv(out / "advantage.csv")
    assert len(points) == 4 and set(points["batch"]) == {1, 64}
    assert (points["host_latency_ns"] / points["pim_latency_ns"]).tolist() == pytest.approx(
        points["latency_ratio"].tolist())


def test_point_table_round_trip(tmp_path) -> None:
    p = load_profile("hbm2_pim")
    grid = default_grid(p, CompareGrid(batches=(1, 4), gemms=((512, 256),)), dtypes=("fp16", "fp32"))
    points = run_grid(p, grid)
    assert set(points.loc[points["dtype"] == "fp32", "pim_status"]) != {"ok"}  # fp16-only kind
    back = read_points_csv(write_csv(points, tmp_path / "p.csv"))
    pd.testing.assert_frame_equal(back, points, check_dtype=False)


def test_model_view_from_a_workload_file(tmp_path, capsys) -> None:
    w = save_workload(criteo_dlrm((1460, 583), batch=8, dtype="fp16"), tmp_path / "w.yaml")
    out = tmp_path / "model"
    assert main(["compare", "--profile", "hbm2_pim", "--quiet", "--workload", str(w),
                 "--batch", "1,8", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "host-only" in text and "naive" in text and "top1" in text
    plans = pd.read_csv(out / "model_plans.csv")
    assert set(plans["plan"]) == {"host-only", "naive", "best"} and set(plans["batch"]) == {1, 8}
    for name in ("model_kernels.csv", "model.md", "model.png", "timeline_b1.png",
                 "timeline_b8.png"):
        assert (out / name).is_file(), name


def test_profile_without_pim_is_one_line_error(capsys) -> None:
    assert main(["compare", "--profile", "hbm2", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'hbm2'" in err and "pim" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, words", [
    (["--batch", "0,4"], ["--batch", "0"]),
    (["--batch", "1,x"], ["--batch", "'x'"]),
    (["--gemm", "1024"], ["--gemm", "KxN"]),
    (["--dtype", "fp64"], ["--dtype", "'fp64'", "fp16"]),
    (["--dist", "normal"], ["--dist", "'normal'", "zipf"]),
    (["--family", "embedding"], ["--family embedding", "bank_simd", "gemm"]),
    (["--workload", "w.yaml", "--gemm", "4x4"], ["--gemm", "advantage map"]),
    (["--spec", "s.json"], ["--spec needs --dataset"]),
    (["--dataset", "criteo"], ["--dataset goes with --spec"]),
])
def test_bad_options_exit_2_naming_the_option(argv, words, capsys) -> None:
    assert main(["compare", "--profile", "hbm2_pim", "--quiet", *argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for w in words:
        assert w in err, (w, err)


def test_model_view_of_a_nasrec_subnet_through_the_spec_hook(tmp_path, capsys) -> None:
    spec = NASREC_REFERENCE / "criteo_small_best.json"
    if not spec.is_file():
        pytest.skip(f"{spec} is absent (NASRec's published subnets, ../shared/reference)")
    out = tmp_path / "spec"
    assert main(["compare", "--profile", "gddr6_aim", "--quiet", "--spec", str(spec),
                 "--dataset", "criteo", "--batch", "1", "--out", str(out)]) == 0
    assert "criteo_small_best on gddr6_aim" in capsys.readouterr().out
    plans = pd.read_csv(out / "model_plans.csv").set_index("plan")
    assert plans.loc["best", "latency_ns"] <= plans.loc[["host-only", "naive"],
                                                        "latency_ns"].min()
    kernels = pd.read_csv(out / "model_kernels.csv")
    assert (kernels["op"] == "embedding_bag").sum() == 26  # Criteo's 26 sparse features
    assert set(kernels.loc[kernels["op"] == "embedding_bag", "best"]) == {"host"}  # AiM: no gather
