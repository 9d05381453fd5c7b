"""C's acceptance on the test split (several seeds, the tolerance, the fallbacks), the
latency-limited serving point and the advantage maps, on the package run's supernet and B."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from codesign.hw.evaluate import hardware_metrics, sim_schema, simulate_subnet
from codesign.hw.plans import naive_plan
from codesign.nas.moves import functional_hash
from codesign.nas.space import from_dict
from codesign.pipeline.acceptance import (
    RULE_B_SUBNET,
    RULE_NEXT,
    RULE_SAME,
    RULE_SHORT,
    SCRATCH_SEEDS,
    TEST_TOLERANCE,
    accepted,
    seeds_of,
    summarise,
    train_seeds,
)
from codesign.pipeline.points import AUTO_LIMIT_SPEEDUP, POINTS_DIR, parse_limit
from codesign.pipeline.reproduce import reproduce
from codesign.pipeline.selection import LOGLOSS_TOLERANCE
from codesign.errors import CodesignError
from pimsim import load_profile
from tests.codesign.pipeline.conftest import MICRO


def _copy_run(run_dir: Path, out: Path) -> Path:
    """A run folder sharing the package run's data, supernet and B (their stages skip)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("data", "supernet", "search_B"):
        (out / name).symlink_to(run_dir / name, target_is_directory=True)
    for name in ("cache", "scratch"):
        shutil.copytree(run_dir / name, out / name)
    for name in ("B.json", "scratch_B.json"):
        (out / name).write_bytes((run_dir / name).read_bytes())
    return out


def test_mean_and_std_over_seeds_by_hand() -> None:
    runs = [{"val": {"logloss": v, "auc": 0.7}, "test": {"logloss": t, "auc": a}}
            for v, t, a in ((0.50, 0.46, 0.70), (0.52, 0.47, 0.72), (0.54, 0.48, 0.74))]
    s = summarise(runs)
    assert s["test"]["logloss"] == pytest.approx(0.47)
    assert s["test_std"]["logloss"] == pytest.approx(0.01)  # sample std of 0.46, 0.47, 0.48
    assert s["val"]["logloss"] == pytest.approx(0.52)
    assert s["test_std"]["auc"] == pytest.approx(0.02)
    assert summarise(runs[:1])["test_std"]["logloss"] == 0.0
    assert seeds_of(5) == tuple(range(5, 5 + SCRATCH_SEEDS))


def test_acceptance_tolerance_is_on_the_mean() -> None:
    b = {"test": {"logloss": 0.4500}}
    assert accepted(b, {"test": {"logloss": 0.4500 + TEST_TOLERANCE - 1e-9}})
    assert not accepted(b, {"test": {"logloss": 0.4500 + TEST_TOLERANCE + 1e-6}})
    assert not accepted(b, {"test": {"logloss": float("nan")}})


def test_train_seeds_trains_each_seed_once(tmp_path: Path) -> None:
    calls: list[int] = []

    def one(seed: int) -> SimpleNamespace:
        calls.append(seed)
        m = SimpleNamespace(logloss=0.4 + seed / 100, auc=0.7)
        return SimpleNamespace(val=m, test=m, steps=3, wall_s=1.5)

    first = train_seeds(tmp_path, "abc", (0, 1, 2), lambda s: _as_run(one(s)))
    again = train_seeds(tmp_path, "abc", (0, 1, 2), lambda s: _as_run(one(s)))
    assert calls == [0, 1, 2] and first == again
    assert first["test"]["logloss"] == pytest.approx(0.41) and first["wall_s"] == 4.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["abc_s0.json", "abc_s1.json", "abc_s2.json"]


def _as_run(ns: SimpleNamespace) -> SimpleNamespace:
    """A ScratchRun-like object whose metrics are dataclasses (``asdict`` reads them)."""
    from dataclasses import make_dataclass
    metric = make_dataclass("M", [("logloss", float), ("auc", float)])
    return SimpleNamespace(val=metric(ns.val.logloss, ns.val.auc),
                           test=metric(ns.test.logloss, ns.test.auc), steps=ns.steps,
                           wall_s=ns.wall_s)


def test_parse_limit() -> None:
    assert parse_limit("auto") == "auto" and parse_limit(" None ") == "none"
    assert parse_limit("250") == 250.0
    for bad in ("0", "-3", "inf", "fast"):
        with pytest.raises(CodesignError, match="--latency-limit-us"):
            parse_limit(bad)


def _prefill(out: Path, spec: dict, scratch_b: dict, logloss: float) -> None:
    """Seed runs of ``spec`` "trained from scratch" with test log loss ``logloss``."""
    key = functional_hash(from_dict(spec))[:16]
    for s in seeds_of(0):
        rec = {"seed": s, "val": scratch_b["val"], "test": {**scratch_b["test"], "logloss": logloss},
               "steps": 1, "wall_s": 0.0}
        (out / "scratch" / f"{key}_s{s}.json").write_text(json.dumps(rec))


@pytest.mark.slow
@pytest.mark.parametrize("second", [None, "passes"])
def test_a_c_that_fails_on_test_is_replaced(run_dir: Path, tmp_path: Path, second: str | None) -> None:
    """C's seeds trained from scratch (pre-filled here) are worse than B by more than the
    tolerance: C is not accepted. With a second front candidate within the supernet
    tolerance whose test log loss equals B's, that one is C (RULE_NEXT); with none, C
    becomes B's subnet (RULE_B_SUBNET)."""
    out = tmp_path / "run"
    shutil.copytree(run_dir, out)
    b = json.loads((out / "B.json").read_text())
    c = json.loads((out / "C.json").read_text())
    scratch_b = json.loads((out / "scratch_B.json").read_text())
    hist = pd.read_csv(out / "search_C" / "history.csv")
    # candidates: the co-search's first genomes of distinct subnets other than B's
    seen = {functional_hash(from_dict(b["spec"]))}
    picks = []
    for j, g in enumerate(hist["genome"]):
        h = functional_hash(from_dict(json.loads(g)["spec"]))
        if h not in seen:
            seen.add(h)
            picks.append(j)
    want = 1 if second is None else 2
    assert len(picks) >= want, "the co-search evaluated too few subnets"
    picks = picks[:want]
    genome = json.loads(hist["genome"].iloc[picks[0]])
    c.update(spec=genome["spec"], plan=genome["plan"], same_subnet_as_b=False, is_b_genome=False)
    (out / "C.json").write_text(json.dumps(c))
    hist["front"] = [0 if j in picks else 1 for j in range(len(hist))]
    if second is not None:  # within the supernet tolerance, so a candidate
        hist.loc[picks[1], "logloss"] = b["objectives"]["logloss"]
    hist.to_csv(out / "search_C" / "history.csv", index=False)
    worse = scratch_b["test"]["logloss"] + 10 * TEST_TOLERANCE
    _prefill(out, c["spec"], scratch_b, worse)
    if second is not None:
        second_spec = json.loads(hist["genome"].iloc[picks[1]])["spec"]
        _prefill(out, second_spec, scratch_b, scratch_b["test"]["logloss"])
    for name in ("scratch_C.json", "hardware.json", "report.md"):
        (out / name).unlink()
    reproduce("criteo", out, profile="hbm2_pim", budget=MICRO, synthetic_rows=3000, seed=0,
              scheduler="serial", threads=1, quiet=True)
    final = json.loads((out / "scratch_C.json").read_text())
    assert not final["supernet_choice_accepted"]
    assert final["tried"][0]["test"]["logloss"] == pytest.approx(worse)
    assert not final["tried"][0]["accepted"]
    report = (out / "report.md").read_text()
    assert "failed the test tolerance" in report
    if second is None:
        assert final["rule"] == RULE_B_SUBNET and final["spec"] == b["spec"]
        assert final["test"] == scratch_b["test"] and len(final["tried"]) == 1
        assert RULE_B_SUBNET in report
    else:
        assert final["rule"] == RULE_NEXT and final["spec"] == second_spec
        assert [t["accepted"] for t in final["tried"]] == [False, True]
        assert final["test"]["logloss"] == pytest.approx(scratch_b["test"]["logloss"])
    summary = pd.read_csv(out / "summary.csv")
    assert summary.loc[0, "test_logloss_C_minus_B"] == pytest.approx(0.0)
    assert summary.loc[0, "C_rule"] == RULE_SHORT[final["rule"]]


@pytest.fixture(scope="module")
def serving_run(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = _copy_run(run_dir, tmp_path_factory.mktemp("serve"))
    reproduce("criteo", out, profiles=("hbm2_pim",), batches=(1,), latency_limit="auto",
              budget=MICRO, synthetic_rows=3000, seed=0, scheduler="serial", threads=1,
              quiet=True)
    return out


@pytest.mark.slow
def test_serving_point_limit_and_choice(serving_run: Path) -> None:
    """The auto limit is B's naive-plan latency at batch 1 over the published speed-up,
    re-simulated here; the co-search is constrained by it; C is within it whenever the
    search found a genome that is; the summary and report say so."""
    pdir = serving_run / POINTS_DIR / "hbm2_pim_b1_limit"
    c = json.loads((pdir / "C.json").read_text())
    profile = load_profile("hbm2_pim")
    schema = sim_schema("criteo")
    spec_b = from_dict(json.loads((serving_run / "B.json").read_text())["spec"])
    b_lat = hardware_metrics(simulate_subnet(spec_b, schema, naive_plan(spec_b, schema, profile),
                                             profile, batch=1, seed=0))["latency_ns"]
    assert c["serving"] and c["batch"] == 1
    assert c["latency_limit_us"] == pytest.approx(b_lat / 1e3 / AUTO_LIMIT_SPEEDUP, rel=1e-9)
    hist = pd.read_csv(pdir / "search_C" / "history.csv")
    limit_ns = c["latency_limit_us"] * 1e3
    b_ll = json.loads((serving_run / "B.json").read_text())["objectives"]["logloss"]
    within = (hist["latency_ns@1"] <= limit_ns) & (hist["logloss"] <= b_ll + LOGLOSS_TOLERANCE)
    assert list(hist["feasible"]) == list(within)
    hw = json.loads((pdir / "hardware.json").read_text())
    assert hw["B"]["within_limit"] is False  # B is 1.5x over its own limit
    if c["feasible"]:
        assert hist["feasible"].any()
        assert hw["C"]["within_limit"] and hw["C"]["latency_ns"] <= limit_ns
    else:
        assert not hist["feasible"].any()
    summary = pd.read_csv(serving_run / "summary.csv")
    row = summary[summary["folder"] == f"{POINTS_DIR}/hbm2_pim_b1_limit"].iloc[0]
    assert row["limit_us"] == pytest.approx(c["latency_limit_us"])
    assert bool(row["C_within_limit"]) == hw["C"]["within_limit"]
    report = (serving_run / "report.md").read_text()
    assert "## hbm2_pim at batch 1, latency-limited (auto)" in report
    assert f"{c['latency_limit_us']:.4g} µs" in report


@pytest.mark.slow
def test_advantage_maps_match_pimsim_compare(serving_run: Path) -> None:
    """The advantage summary is read off pimsim compare's own files: the best plan's ratios
    are host-only over best in model_plans.csv, and the class table counts the kernel rows."""
    pdir = serving_run / POINTS_DIR / "hbm2_pim_b1"
    adv = json.loads((pdir / "hardware.json").read_text())["advantage"]
    wins = []
    for tag in ("B", "C"):
        plans = pd.read_csv(pdir / "advantage" / tag / "model_plans.csv").set_index("plan")
        kernels = pd.read_csv(pdir / "advantage" / tag / "model_kernels.csv")
        host, best = plans.loc["host-only"], plans.loc["best"]
        assert adv[tag]["best_latency_ratio"] == pytest.approx(host["latency_ns"] / best["latency_ns"])
        assert adv[tag]["best_energy_ratio"] == pytest.approx(host["energy_pj"] / best["energy_pj"])
        classes = pd.read_csv(pdir / "advantage" / tag / "classes.csv")
        assert classes["kernels"].sum() == len(kernels)
        ok = kernels[kernels["pim_status"] == "ok"]
        assert classes["pim_faster"].sum() == int((ok["latency_ratio"] > 1 + 1e-9).sum())
        wins.append(max(adv[tag]["best_latency_ratio"], adv[tag]["best_energy_ratio"]) > 1 + 1e-9)
    assert adv["pim_can_win"] == any(wins)
    # HBM-PIM's published case: matrix-vector products at batch 1 run faster in the banks
    # (Lee et al., ISCA 2021, Fig. 11: GEMV speed-ups over the HBM2 host), so a CTR MLP's
    # layers give PIM a win at batch 1
    assert adv["pim_can_win"]
    assert "### Advantage map" in (serving_run / "report.md").read_text()


def test_infeasible_limit_keeps_b(run_dir: Path, tmp_path: Path) -> None:
    """A limit no genome can meet: the search says so and C is B (nothing beats the
    limit; the report says no genome met it)."""
    out = _copy_run(run_dir, tmp_path / "run")
    reproduce("criteo", out, profiles=("hbm2_pim",), batches=(256,), latency_limit=1e-3,
              budget=MICRO, synthetic_rows=3000, seed=0, scheduler="serial", threads=1,
              quiet=True)
    pdir = out / POINTS_DIR / "hbm2_pim_b1_limit"
    c = json.loads((pdir / "C.json").read_text())
    assert c["feasible"] is False and c["latency_limit_us"] == 1e-3
    final = json.loads((pdir / "scratch_C.json").read_text())
    assert final["rule"] == RULE_SAME
    assert "No genome of the co-search met it." in (out / "report.md").read_text()
    assert np.isfinite(pd.read_csv(out / "summary.csv")["energy"].iloc[0])
