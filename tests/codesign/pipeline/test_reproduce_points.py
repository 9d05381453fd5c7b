"""``reproduce`` on two operating points (one profile at batch 1 and at 256): every artefact
of each point, the summary, and the decomposition's rows checked against simulations made
here and against each other."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from codesign.hw.evaluate import hardware_metrics, sim_schema, simulate_subnet
from codesign.hw.placement import PimPlan
from codesign.hw.plans import host_plan, naive_plan
from codesign.nas.flops import count_flops
from codesign.nas.space import from_dict
from codesign.pipeline.breakdown import KERNEL_CLASSES, kernel_class
from codesign.pipeline.decompose import ROWS
from codesign.pipeline.points import POINTS_DIR
from codesign.pipeline.protocol import PUBLISHED
from codesign.pipeline.report_md import summary_text
from codesign.pipeline.reproduce import reproduce
from pimsim import ENERGY_COLUMNS, load_profile
from tests.codesign.pipeline.conftest import MICRO

PROFILE = "gddr6_aim"
BATCHES = (1, 256)
PER_POINT = ("C.json", "scratch_C.json", "hardware.json", "results.csv", "ratios.csv",
             "decomposition.csv", "shares.csv", "energy_components.csv", "kernel_classes.csv",
             "pareto.png", "breakdown.png", "components.png", "search_C/checkpoint.json",
             "traces/B.chrome.json", "traces/C.chrome.json",
             *(f"traces/{r}.parquet" for r in ROWS))


@pytest.fixture(scope="module")
def points_run(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two points on the package run's supernet and B (copied: their stages are skipped)."""
    out = tmp_path_factory.mktemp("points")
    for name in ("data", "supernet", "search_B"):  # read only
        (out / name).symlink_to(run_dir / name, target_is_directory=True)
    shutil.copytree(run_dir / "cache", out / "cache")  # the estimates, reused
    for name in ("B.json", "scratch_B.json"):
        (out / name).write_bytes((run_dir / name).read_bytes())
    reproduce("criteo", out, profiles=(PROFILE,), batches=BATCHES,
              budget=MICRO, synthetic_rows=3000, seed=0, scheduler="serial", threads=1,
              quiet=True)
    return out


@pytest.mark.slow
def test_every_point_writes_every_artefact(points_run: Path) -> None:
    for b in BATCHES:
        pdir = points_run / POINTS_DIR / f"{PROFILE}_b{b}"
        for name in PER_POINT:
            assert (pdir / name).is_file(), (b, name)
        c = json.loads((pdir / "C.json").read_text())
        assert (c["profile"], c["batch"]) == (PROFILE, b)
    for name in ("report.md", "summary.csv", "timings.json"):
        assert (points_run / name).is_file(), name
    summary = pd.read_csv(points_run / "summary.csv")
    assert list(summary["batch"].iloc[:2]) == list(BATCHES)
    assert summary.iloc[-1][["flops", "energy", "latency"]].to_dict() == PUBLISHED
    report = (points_run / "report.md").read_text()
    for b in BATCHES:
        assert f"## {PROFILE} at batch {b}" in report
    assert "µJ" in report and "µs" in report and "other (" not in report
    text = summary_text(points_run)
    assert "| criteo | gddr6_aim | 1 |" in text and text.endswith(f"{points_run / 'report.md'}")
    # per-point stages are timed per point
    times = json.loads((points_run / "timings.json").read_text())
    assert {f"search C {PROFILE}_b{b}" for b in BATCHES} <= set(times)


@pytest.mark.slow
def test_decomposition_rows_are_the_simulations_they_name(points_run: Path) -> None:
    """B_host and C-arch re-simulated here from B.json / C.json and the plan functions; the
    ratios and shares are quotients of the rows; B+plan is no worse than B or B_host on
    energy x latency (both are among its candidates)."""
    schema = sim_schema("criteo")
    profile = load_profile(PROFILE)
    spec_b = from_dict(json.loads((points_run / "B.json").read_text())["spec"])
    for b in BATCHES:
        pdir = points_run / POINTS_DIR / f"{PROFILE}_b{b}"
        hw = json.loads((pdir / "hardware.json").read_text())
        c = json.loads((pdir / "scratch_C.json").read_text())  # the accepted C
        spec_c = from_dict(c["spec"])
        again = {
            "B": hardware_metrics(simulate_subnet(spec_b, schema, naive_plan(spec_b, schema, profile),
                                                  profile, batch=b, seed=0)),
            "B_host": hardware_metrics(simulate_subnet(spec_b, schema, host_plan(spec_b, schema),
                                                       profile, batch=b, seed=0)),
            "C-arch": hardware_metrics(simulate_subnet(spec_c, schema, naive_plan(spec_c, schema, profile),
                                                       profile, batch=b, seed=0)),
            "C": hardware_metrics(simulate_subnet(
                spec_c, schema, PimPlan.from_dict(hw["C"]["plan"], "hardware.json"), profile,
                batch=b, seed=0)),
        }
        # C's plan is the best of its candidates: never worse than the co-search's own plan
        # for C's subnet nor than the naive plan (C-arch)
        own = hardware_metrics(simulate_subnet(spec_c, schema, PimPlan.from_dict(
            c["plan"], "scratch_C.json"), profile, batch=b, seed=0))
        edp_c = hw["C"]["latency_ns"] * hw["C"]["energy_pj"]
        assert edp_c <= own["latency_ns"] * own["energy_pj"] * (1 + 1e-12)
        assert edp_c <= hw["C-arch"]["latency_ns"] * hw["C-arch"]["energy_pj"] * (1 + 1e-12)
        for tag, m in again.items():
            assert hw[tag]["latency_ns"] == pytest.approx(m["latency_ns"], rel=1e-9), (b, tag)
            assert hw[tag]["energy_pj"] == pytest.approx(m["energy_pj"], rel=1e-9), (b, tag)
        assert hw["B_host"]["on_pim"] == [] and hw["B_host"]["flops"] == hw["B"]["flops"]
        assert hw["B+plan"]["flops"] == hw["B"]["flops"] == count_flops(spec_b, schema).total_flops
        assert hw["C-arch"]["flops"] == hw["C"]["flops"] == count_flops(spec_c, schema).total_flops
        edp = {t: hw[t]["latency_ns"] * hw[t]["energy_pj"] for t in ROWS}
        assert edp["B+plan"] <= min(edp["B"], edp["B_host"]) * (1 + 1e-12)
        # DLRM: 7 GEMMs (13-512-256-16 bottom, 1024-512-256-1 top) and the dot interaction of
        # 27 tokens of 16 (351 pairs), per sample, 2 FLOPs per multiply-add
        gemm_macs = 13 * 512 + 512 * 256 + 256 * 16 + (351 + 16) * 1024 + 1024 * 512 + 512 * 256 + 256
        assert hw["DLRM"]["flops"] == 2 * (gemm_macs + 351 * 16)
        dec = pd.read_csv(pdir / "decomposition.csv").set_index("model")
        shares = pd.read_csv(pdir / "shares.csv").set_index("metric")
        for metric, key, col in (("energy", "energy_pj", "energy_uj"),
                                 ("latency", "latency_ns", "latency_us")):
            for tag in ROWS:
                assert dec.loc[tag, f"{metric}_vs_B"] == pytest.approx(hw["B"][key] / hw[tag][key])
            s = shares.loc[metric]
            assert s["hardware"] == pytest.approx(hw["B"][key] / hw["B+plan"][key])
            assert s["architecture"] == pytest.approx(hw["B"][key] / hw["C-arch"][key])
            assert s["total_B_over_C"] == pytest.approx(hw["B"][key] / hw["C"][key])
            # what the report states: total = hardware x architecture x joint
            assert s["hardware"] * s["architecture"] * s["joint"] == pytest.approx(s["total_B_over_C"])
        # energy by component sums to each row's energy; busy time by class to its kernels'
        energy = pd.read_csv(pdir / "energy_components.csv").set_index("model")
        busy = pd.read_csv(pdir / "kernel_classes.csv").set_index("model")
        assert list(busy.columns) == list(KERNEL_CLASSES)
        for tag in ROWS:
            assert energy.loc[tag].sum() == pytest.approx(hw[tag]["energy_pj"] / 1e6, rel=1e-9)
            assert busy.loc[tag].sum() > 0
        assert busy.loc["DLRM", "attention"] == 0 and busy.loc["DLRM", "interaction"] > 0


def test_kernel_classes() -> None:
    assert kernel_class("emb.C1", "embedding_bag") == "embedding"
    assert kernel_class("b3.attention.qk", "gemm") == "attention"
    assert kernel_class("b2.dot.product", "gemm") == "interaction"
    assert kernel_class("b1.fm.square", "elementwise") == "interaction"
    assert kernel_class("b0.fc.matmul", "gemm") == "MLP"
    assert kernel_class("final.logit", "gemm") == "MLP"
    assert kernel_class("interact", "interaction") == "interaction"
    assert kernel_class("top2", "gemm") == "MLP"
    assert len(ENERGY_COLUMNS) > 1
