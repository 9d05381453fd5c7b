"""``codesign reproduce`` end to end on a small synthetic set (the run of ``conftest.py``):
its artefacts, resume, how C is chosen and seeded, and the co-search problem it builds."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from codesign.cosearch import GREEDY_OBJECTIVES, CoSearchProblem, shrink_moves
from codesign.errors import CodesignError
from pimsim.util.executors import LocalExecutor
from codesign.nas.flops import count_flops
from codesign.pipeline.protocol import PUBLISHED, STAGES, read_timings
from codesign.pipeline.report_md import summary_text
from codesign.pipeline.reproduce import reproduce
from codesign.pipeline.selection import RULE_MET, b_elite, c_seeds, select_c
from codesign.nas.space import from_dict, spec_hash, to_dict
from tests.codesign.pipeline.conftest import MICRO
ARTEFACTS = (
    "report.md", "results.csv", "ratios.csv", "pareto.png", "breakdown.png",
    "traces/B.chrome.json", "traces/C.chrome.json", "traces/B.parquet", "traces/C.parquet",
    "traces/B_host.parquet", "B.json", "C.json", "scratch_B.json", "scratch_C.json",
    "hardware.json", "supernet/done.json", "search_B/checkpoint.json",
    "search_C/checkpoint.json", "timings.json",
)


def test_reproduce_writes_every_artefact(run_dir: Path) -> None:
    """Smoke test: every artefact exists and its numbers are finite and consistent with each
    other; the relations between B and C that matter are checked in
    test_c_is_chosen_among_points_at_least_as_good_as_b."""
    for name in ARTEFACTS:
        assert (run_dir / name).is_file(), name
    df = pd.read_csv(run_dir / "results.csv")
    assert list(df["model"]) == ["B", "C", "B_host"]
    for col in ("test_logloss", "test_auc", "mflops", "energy_uj", "latency_us"):
        assert np.isfinite(df[col]).all(), col
    assert (df[["mflops", "energy_uj", "latency_us"]] > 0).all().all()
    ratios = pd.read_csv(run_dir / "ratios.csv")
    assert list(ratios["ratio"]) == ["B / C", "B_host / C", "B / C"]
    # each ratio is the quotient of the models' table columns, computed here by hand
    by = df.set_index("model")
    for row, ref in ((0, "B"), (1, "B_host")):
        for col, table_col in (("flops", "mflops"), ("energy", "energy_uj"), ("latency", "latency_us")):
            assert ratios.loc[row, col] == pytest.approx(by.loc[ref, table_col] / by.loc["C", table_col])
    assert ratios.iloc[-1][["flops", "energy", "latency"]].to_dict() == PUBLISHED
    report = (run_dir / "report.md").read_text()
    assert "| criteo | B |" in report and "published" in report
    for name in ("B", "C"):
        events = json.loads((run_dir / "traces" / f"{name}.chrome.json").read_text())
        assert any(e.get("name") == "final.logit" for e in events["traceEvents"])
    # the B/C/B_host hardware numbers come from the simulations that the table shows
    hw = json.loads((run_dir / "hardware.json").read_text())
    assert df.set_index("model").loc["C", "latency_us"] == pytest.approx(
        hw["C"]["latency_ns"] / 1e3)
    # both searches ran the same number of evaluations (4 + 2)
    b, c = (json.loads((run_dir / f"{t}.json").read_text()) for t in ("B", "C"))
    assert b["evaluations"] == c["evaluations"] == 6
    assert b["plan"]["dense"] and set(b["plan"]["dense"].values()) == {"host"}


def test_rerun_skips_every_stage(run_dir: Path) -> None:
    before = {n: (run_dir / n).stat().st_mtime_ns for n in ARTEFACTS}
    lines: list[str] = []
    reproduce("criteo", run_dir, profile="hbm2_pim", budget=MICRO, synthetic_rows=3000,
              seed=0, scheduler="serial", log=lines.append)
    assert all("done already" in line for line in lines), lines
    assert {n: (run_dir / n).stat().st_mtime_ns for n in ARTEFACTS} == before
    # stop_after ends the run after that stage (here: already finished ones) and says so
    lines.clear()
    assert reproduce("criteo", run_dir, profile="hbm2_pim", budget=MICRO, synthetic_rows=3000,
                     seed=0, scheduler="serial", log=lines.append, stop_after="search B") is None
    assert [line.split("]")[0] for line in lines] == ["[data", "[supernet", "[search B", "[search B"]
    assert "stopping here" in lines[-1]
    with pytest.raises(CodesignError, match="stop_after"):
        reproduce("criteo", run_dir, profile="hbm2_pim", budget=MICRO, synthetic_rows=3000,
                  seed=0, quiet=True, stop_after="nonsense")

    with pytest.raises(CodesignError, match="seed=0"):
        reproduce("criteo", run_dir, profile="hbm2_pim", budget=MICRO, synthetic_rows=3000,
                  seed=1, quiet=True)


def test_cosearch_problem_evaluates_the_same_in_a_worker_process(run_dir: Path) -> None:
    prob = CoSearchProblem(
        data_dir=str(run_dir / "data" / "cache"), supernet=str(run_dir / "supernet"),
        profile="hbm2_pim", dataset="criteo", finetune_steps=2, finetune_batch=256,
        eval_rows=300, batch=8, num_threads=1,
    )
    rng = np.random.default_rng(4)
    g = prob.sample(rng)
    child = prob.mutate(g, rng, 3)
    assert prob.key(child) != prob.key(g)
    assert prob.from_json(json.loads(json.dumps(prob.to_json(child)))) == child
    local = prob.evaluate(child)
    clone = pickle.loads(pickle.dumps(prob))
    assert clone._acc == {}
    with LocalExecutor(1) as ex:
        remote = ex.submit(prob.evaluate, child).result()
    assert remote == local
    for k in ("logloss", "auc", "latency_ns", "energy_pj", "flops"):
        assert np.isfinite(local[k]), k
    # kernel costs are cached by signature across evaluations: simulating the same subnet
    # again (another plan object, same kernels) adds no cache entry and gives the same numbers
    caches = prob._memo("sim_caches")
    n = sum(len(c) for c in caches.values())
    again = prob.hardware(child.spec, child.plan.model_copy())
    assert sum(len(c) for c in caches.values()) == n
    assert again["latency_ns"] == local["latency_ns"]


def test_select_c_rule() -> None:
    front = pd.DataFrame({"logloss": [0.440, 0.4405, 0.4430],
                          "latency_ns": [10.0, 5.0, 1.0], "energy_pj": [10.0, 5.0, 1.0]})
    assert select_c(front, 0.4400) == (1, True)  # within +0.001, lowest energy x latency
    assert select_c(front, 0.4300) == (0, False)  # none within: the lowest log loss


def test_c_is_chosen_among_points_at_least_as_good_as_b(run_dir: Path) -> None:
    b, c = (json.loads((run_dir / f"{t}.json").read_text()) for t in ("B", "C"))
    hw = json.loads((run_dir / "hardware.json").read_text())
    # population 4: B's genome and one neighbour of B are seeded
    assert c["met_tolerance"] is True and c["rule"] == RULE_MET and c["seeded"] == 2
    assert c["objectives"]["logloss"] <= b["objectives"]["logloss"] + 1e-3
    # C's co-search evaluated B's genome first: exactly B's supernet log loss, and the
    # simulation of stage 5 gives B the numbers the search saw
    hist = pd.read_csv(run_dir / "search_C" / "history.csv")
    first = hist.iloc[0]
    assert hist["seeded"].iloc[:2].all() and not hist["seeded"].iloc[2:].any()
    assert first["logloss"] == b["objectives"]["logloss"]
    assert json.loads(first["genome"]) == {"spec": b["spec"], "plan": b["plan"]}
    assert first["latency_ns"] == pytest.approx(hw["B"]["latency_ns"], rel=1e-9)
    assert c["b_in_search"]["energy_pj"] == pytest.approx(hw["B"]["energy_pj"], rel=1e-9)
    edp = {t: hw[t]["latency_ns"] * hw[t]["energy_pj"] for t in ("B", "C")}
    assert edp["C"] <= edp["B"] * (1 + 1e-9)
    # the same number of evaluations as B's search, the seed included
    assert len(hist) == c["evaluations"] == b["evaluations"]
    report = (run_dir / "report.md").read_text()
    assert f"C was picked by the rule: **{RULE_MET}**" in report


def test_timings_and_summary(run_dir: Path) -> None:
    times = read_timings(run_dir)
    assert tuple(times) == STAGES
    assert all(v >= 0 for v in times.values())
    report = (run_dir / "report.md").read_text()
    assert "## Run time by stage" in report and "| search B |" in report
    assert "| total |" in report
    text = summary_text(run_dir)
    assert "| criteo | B |" in text and "| criteo | B / C |" in text
    assert text.splitlines()[-1] == f"report: {run_dir / 'report.md'}"


def test_c_seeds_are_b_then_mutated_plans_and_deterministic(run_dir: Path) -> None:
    prob = CoSearchProblem(
        data_dir=str(run_dir / "data" / "cache"), supernet=str(run_dir / "supernet"),
        profile="gddr6_aim", dataset="criteo",
    )
    b = json.loads((run_dir / "B.json").read_text())
    spec = from_dict(b["spec"])
    plan = prob.naive(spec)
    seeds = c_seeds(prob, spec, plan, 32, 0)
    # B and 3 more plans of B's subnet, then B's shrinks (then neighbours) up to half of 32
    assert len(seeds) == 16 and seeds[0].plan == plan
    assert all(g.spec == spec for g in seeds[:4])
    assert all(g.spec != spec for g in seeds[4:])
    assert len({prob.key(g) for g in seeds}) == 16
    shrinks = shrink_moves(spec, prob.schema, prob.space)
    n_shrink = min(len(shrinks), 12)
    assert {spec_hash(g.spec) for g in seeds[4:4 + n_shrink]} <= {spec_hash(s) for s in shrinks}
    flops_b = count_flops(spec, prob.schema).total_flops
    assert all(count_flops(g.spec, prob.schema).total_flops < flops_b for g in seeds[4:4 + n_shrink])
    for g in seeds[4:]:  # a shrink or neighbour carries a greedy plan of its own subnet
        assert g.plan in [prob.greedy(g.spec, plan.knobs, o) for o in GREEDY_OBJECTIVES]
    again = c_seeds(prob, spec, plan, 32, 0)
    assert [prob.key(g) for g in again] == [prob.key(g) for g in seeds]
    assert [prob.key(g) for g in c_seeds(prob, spec, plan, 32, 1)] != [
        prob.key(g) for g in seeds]
    assert len(c_seeds(prob, spec, plan, 8, 0)) == 4
    # B's search's next-best subnets alternate with B's shrinks, best first
    hist = pd.read_csv(run_dir / "search_B" / "history.csv")
    elite = b_elite(hist)
    assert elite[0] == spec  # B is the best of its own search
    best = hist.sort_values("logloss", kind="stable")
    assert [to_dict(e) for e in elite] == [
        json.loads(g)["spec"] for g in best.drop_duplicates("key")["genome"]]
    with_elite = c_seeds(prob, spec, plan, 32, 0, elite)
    specs = [g.spec for g in with_elite[4:]]
    from_elite = [s for s in specs if s in elite[1:]]
    assert from_elite == [e for e in elite[1:] if e in from_elite]  # best first
    assert len(from_elite) >= min(len(elite) - 1, 12 - min(len(shrinks), 6))
    assert len(with_elite) == 16 and with_elite[:4] == seeds[:4]
    assert len(c_seeds(prob, spec, plan, 4, 0)) == 2
