"""The stages of one operating point: its co-search and C (``C.json``), C trained from
scratch (``scratch_C.json``) and the decomposition's simulations (``hardware.json``,
``traces/``), in the point's folder (:meth:`codesign.pipeline.run.Run.dir`).

Training from scratch is a function of the subnet and the seed, so a subnet trained for one
point (or B's) is not trained again for another: results are kept by the subnet's hash in
``scratch/`` of the run folder."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import pandas as pd

from codesign.data.cache import CtrData
from codesign.hw.evaluate import sim_schema
from codesign.hw.placement import PimPlan
from codesign.nas.space import from_dict, spec_hash, to_dict
from codesign.pipeline.decompose import decompose
from codesign.pipeline.points import OperatingPoint
from codesign.pipeline.protocol import read_json, write_json
from codesign.pipeline.report import write_csv
from codesign.pipeline.run import Run, problem, search
from codesign.pipeline.selection import (
    RULE_FALLBACK,
    RULE_MET,
    b_elite,
    c_seeds,
    search_population,
    select_c,
)
from codesign.train.config import TrainConfig
from codesign.train.scratch import train_from_scratch_run

#: Objectives of B and C kept in their JSON files.
KEPT_OBJECTIVES = ("logloss", "auc", "flops", "latency_ns", "energy_pj")


def stage_search_c(run: Run, point: OperatingPoint) -> None:
    """The co-search at ``point``, seeded with B's genome (B's subnet on the point's naive
    plan) and its neighbours, and C picked from its front."""
    pdir = run.dir(point)
    pdir.mkdir(parents=True, exist_ok=True)
    b = read_json(run.out / "B.json")
    prob = problem(run, True, point)
    spec_b = from_dict(b["spec"])
    elite = b_elite(pd.read_csv(run.out / "search_B" / "history.csv"))
    seeds = c_seeds(prob, spec_b, prob.naive(spec_b), search_population(run.bud), run.seed,
                    elite)
    res = search(run, prob, pdir / "search_C", tuple(prob.to_json(g) for g in seeds))
    front = res.front.reset_index(drop=True)
    i, met = select_c(front, float(b["objectives"]["logloss"]))
    row = front.iloc[i]
    g = prob.from_json(json.loads(row["genome"]))
    b_key = prob.key(seeds[0])
    b_row = res.history[res.history["key"] == b_key].iloc[0]
    write_json(pdir / "C.json", {
        "spec": to_dict(g.spec), "plan": g.plan.to_dict(),
        "objectives": {k: float(row[k]) for k in KEPT_OBJECTIVES if k in row},
        "met_tolerance": bool(met), "rule": RULE_MET if met else RULE_FALLBACK,
        "evaluations": int(len(res.history)), "front_size": int(len(front)),
        "seeded": len(seeds), "is_b_genome": row["key"] == b_key,
        "same_subnet_as_b": to_dict(g.spec) == b["spec"],
        "b_in_search": {k: float(b_row[k]) for k in KEPT_OBJECTIVES if k in b_row},
        "profile": point.profile, "batch": point.batch,
    })
    write_csv(res.history, pdir / "search_C" / "history.csv")


def train_subnet(run: Run, spec_dict: dict[str, Any]) -> dict[str, Any]:
    """Test and validation metrics of the subnet trained from scratch with the run's budget,
    kept in ``scratch/<hash>.json`` (trained once per subnet)."""
    spec = from_dict(spec_dict)
    path = run.out / "scratch" / f"{spec_hash(spec)[:16]}.json"
    if path.is_file():
        return dict(read_json(path))
    cfg = TrainConfig.make(epochs=run.bud.scratch_epochs, seed=run.seed, quiet=run.quiet,
                           train_rows=run.bud.train_rows, num_threads=run.threads)
    r = train_from_scratch_run(spec, CtrData.open(run.data_dir), cfg)
    result = {"val": asdict(r.val), "test": asdict(r.test), "steps": r.steps,
              "wall_s": r.wall_s}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, result)
    return result


def stage_scratch_b(run: Run) -> None:
    write_json(run.out / "scratch_B.json", train_subnet(run, read_json(run.out / "B.json")["spec"]))


def stage_scratch_c(run: Run, point: OperatingPoint) -> None:
    """C of ``point`` trained from scratch (B's result when C has B's subnet, marked)."""
    pdir = run.dir(point)
    spec = read_json(pdir / "C.json")["spec"]
    if spec == read_json(run.out / "B.json")["spec"]:
        write_json(pdir / "scratch_C.json",
                   {**read_json(run.out / "scratch_B.json"), "same_subnet_as_b": True})
        return
    write_json(pdir / "scratch_C.json", train_subnet(run, spec))


def stage_simulate(run: Run, point: OperatingPoint) -> None:
    """Every row of the decomposition at ``point`` (:func:`decompose`)."""
    pdir = run.dir(point)
    c = read_json(pdir / "C.json")
    hist_path = pdir / "search_C" / "history.csv"
    hw = decompose(
        pdir, spec_b=from_dict(read_json(run.out / "B.json")["spec"]),
        spec_c=from_dict(c["spec"]), plan_c=PimPlan.from_dict(c["plan"], "C.json: plan"),
        schema=sim_schema(run.dataset), profile=run.profiles[point.profile],
        batch=point.batch, seed=run.seed,
        history=pd.read_csv(hist_path) if hist_path.is_file() else None)
    write_json(pdir / "hardware.json", hw)
