"""The stages of one operating point: its co-search and the supernet's choice of C
(``C.json``), C's acceptance by training from scratch (``scratch_C.json``, which holds the
accepted C: :mod:`codesign.pipeline.acceptance`), and the decomposition's simulations with
the advantage maps of B and C (``hardware.json``, ``traces/``, ``advantage/``), in the
point's folder (:meth:`codesign.pipeline.run.Run.dir`).

Training from scratch is a function of the subnet and the seed, so a subnet trained for one
point (or B's) is not trained again for another: results are kept by the subnet's
functional hash and the seed in ``scratch/`` of the run folder."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from codesign.data.cache import CtrData
from codesign.hw.evaluate import hardware_metrics, sim_schema, simulate_subnet
from codesign.hw.placement import PimPlan
from codesign.hw.plans import naive_plan
from codesign.nas.moves import functional_hash
from codesign.nas.space import from_dict, to_dict
from codesign.pipeline.acceptance import (
    ACCEPT_TRIES,
    RULE_B_SUBNET,
    RULE_FIRST,
    RULE_NEXT,
    RULE_SAME,
    accepted,
    seeds_of,
    train_seeds,
)
from codesign.pipeline.advantage import write_advantage
from codesign.pipeline.decompose import cosearch_plan_for, decompose
from codesign.pipeline.points import AUTO_LIMIT_SPEEDUP, OperatingPoint
from codesign.pipeline.protocol import read_json, write_json
from codesign.pipeline.report import write_csv
from codesign.pipeline.run import Run, problem, search
from codesign.pipeline.selection import (
    LOGLOSS_TOLERANCE,
    RULE_FALLBACK,
    RULE_MET,
    b_elite,
    c_seeds,
    ranked_within_tolerance,
    search_population,
    select_c,
)
from codesign.train.config import TrainConfig
from codesign.train.scratch import train_from_scratch_run

#: Objectives of B and C kept in their JSON files.
KEPT_OBJECTIVES = ("logloss", "auc", "flops", "latency_ns", "energy_pj")


def select_key(point: OperatingPoint) -> str:
    """What C minimises at ``point`` (:data:`codesign.pipeline.selection.SELECT_KEYS`)."""
    return "energy" if point.serving else "edp"


def resolve_limit(run: Run, point: OperatingPoint) -> float | None:
    """A serving point's latency limit in µs: its own, or B's naive-plan latency at the
    point's batch over :data:`AUTO_LIMIT_SPEEDUP`; None for a batch point."""
    if not point.serving:
        return None
    if point.limit_us is not None:
        return float(point.limit_us)
    profile = run.profiles[point.profile]
    spec_b = from_dict(read_json(run.out / "B.json")["spec"])
    schema = sim_schema(run.dataset)
    t = simulate_subnet(spec_b, schema, naive_plan(spec_b, schema, profile), profile,
                        batch=point.batch, seed=run.seed)
    return hardware_metrics(t)["latency_ns"] / 1e3 / AUTO_LIMIT_SPEEDUP


def stage_search_c(run: Run, point: OperatingPoint) -> None:
    """The co-search at ``point``, seeded with B's genome (B's subnet on the point's naive
    plan) and its neighbours, and C picked from its front (at a serving point: a
    ``constrained`` search, energy minimised, within the latency limit and B's supernet
    log loss + the tolerance)."""
    pdir = run.dir(point)
    pdir.mkdir(parents=True, exist_ok=True)
    b = read_json(run.out / "B.json")
    limit_us = resolve_limit(run, point)
    prob = problem(run, True, point, limit_us)
    spec_b = from_dict(b["spec"])
    elite = b_elite(pd.read_csv(run.out / "search_B" / "history.csv"))
    seeds = c_seeds(prob, spec_b, prob.naive(spec_b), search_population(run.bud), run.seed,
                    elite)
    b_ll = float(b["objectives"]["logloss"])
    res = search(run, prob, pdir / "search_C", tuple(prob.to_json(g) for g in seeds),
                 logloss_limit=b_ll + LOGLOSS_TOLERANCE if point.serving else None)
    front = res.front.reset_index(drop=True)
    b_key = prob.key(seeds[0])
    b_row = res.history[res.history["key"] == b_key].iloc[0]
    common = {"evaluations": int(len(res.history)), "front_size": int(len(front)),
              "seeded": len(seeds), "profile": point.profile, "batch": point.batch,
              "serving": point.serving, "latency_limit_us": limit_us,
              "b_in_search": {k: float(b_row[k]) for k in KEPT_OBJECTIVES if k in b_row}}
    if front.empty:  # a serving point where no genome meets the limit
        write_json(pdir / "C.json", {
            **common, "feasible": False, "spec": b["spec"], "plan": prob.naive(spec_b).to_dict(),
            "objectives": dict(common["b_in_search"]), "met_tolerance": False,
            "rule": f"no genome within the latency limit ({limit_us:.4g} µs) and B's log "
                    "loss + the tolerance: C is B",
            "is_b_genome": True, "same_subnet_as_b": True})
        write_csv(res.history, pdir / "search_C" / "history.csv")
        return
    i, met = select_c(front, b_ll, key=select_key(point))
    row = front.iloc[i]
    g = prob.from_json(json.loads(row["genome"]))
    write_json(pdir / "C.json", {
        **common, "feasible": True,
        "spec": to_dict(g.spec), "plan": g.plan.to_dict(),
        "objectives": {k: float(row[k]) for k in KEPT_OBJECTIVES if k in row},
        "met_tolerance": bool(met), "rule": RULE_MET if met else RULE_FALLBACK,
        "is_b_genome": row["key"] == b_key,
        "same_subnet_as_b": to_dict(g.spec) == b["spec"],
    })
    write_csv(res.history, pdir / "search_C" / "history.csv")


def _fhash(spec_dict: dict[str, Any]) -> str:
    """The functional hash of a spec's JSON form: equal for specs that build one model."""
    return functional_hash(from_dict(spec_dict))


def train_subnet(run: Run, spec_dict: dict[str, Any]) -> dict[str, Any]:
    """Test and validation metrics (mean and std over :func:`seeds_of` the run's seed) of
    the subnet trained from scratch with the run's budget, each seed's run kept in
    ``scratch/<hash>_s<seed>.json`` by the subnet's functional hash (trained once per model
    and seed: two specs that differ in inert fields build the same model)."""
    spec = from_dict(spec_dict)

    def one(seed: int) -> Any:
        cfg = TrainConfig.make(epochs=run.bud.scratch_epochs, seed=seed, quiet=run.quiet,
                               train_rows=run.bud.train_rows, num_threads=run.threads)
        return train_from_scratch_run(spec, CtrData.open(run.data_dir), cfg)

    return train_seeds(run.out / "scratch", functional_hash(spec)[:16], seeds_of(run.seed), one)


def stage_scratch_b(run: Run) -> None:
    write_json(run.out / "scratch_B.json", train_subnet(run, read_json(run.out / "B.json")["spec"]))


def _candidates(pdir: Any, c: dict[str, Any], b_logloss: float, key: str) -> list[dict[str, Any]]:
    """C's candidates for acceptance, in order: the supernet's choice, then the other
    subnets of the front within the supernet tolerance (best first by ``key``), at most
    :data:`ACCEPT_TRIES` subnets."""
    out = [{"spec": c["spec"], "plan": c["plan"], "objectives": c["objectives"]}]
    hist_path = pdir / "search_C" / "history.csv"
    if not hist_path.is_file() or not c.get("feasible", True):
        return out
    hist = pd.read_csv(hist_path)
    front = hist[hist["front"] == 0].reset_index(drop=True) if "front" in hist else hist.iloc[0:0]
    seen = [c["spec"]]
    for i in ranked_within_tolerance(front, b_logloss, key=key) if not front.empty else ():
        if len(out) >= ACCEPT_TRIES:
            break
        g = json.loads(front.iloc[i]["genome"])
        spec = to_dict(from_dict(g["spec"]))
        if spec in seen:
            continue
        seen.append(spec)
        row = front.iloc[i]
        out.append({"spec": spec, "plan": g["plan"],
                    "objectives": {k: float(row[k]) for k in KEPT_OBJECTIVES if k in row}})
    return out


def stage_scratch_c(run: Run, point: OperatingPoint) -> None:
    """C's acceptance at ``point`` (:mod:`codesign.pipeline.acceptance`): candidates
    trained from scratch until one's mean test log loss is within the tolerance of B's; the
    accepted C (its spec, plan and scratch results) and every try go to ``scratch_C.json``."""
    pdir = run.dir(point)
    c = read_json(pdir / "C.json")
    b_json = read_json(run.out / "B.json")
    b_scratch = read_json(run.out / "scratch_B.json")
    tried: list[dict[str, Any]] = []
    chosen: dict[str, Any] | None = None
    for k, cand in enumerate(_candidates(pdir, c, float(b_json["objectives"]["logloss"]),
                                         select_key(point))):
        same = _fhash(cand["spec"]) == _fhash(b_json["spec"])
        result = b_scratch if same else train_subnet(run, cand["spec"])
        ok = same or accepted(b_scratch, result)
        tried.append({"spec_hash": _fhash(cand["spec"])[:16],
                      "supernet_logloss": cand["objectives"].get("logloss"),
                      "test": result["test"], "test_std": result["test_std"], "accepted": ok})
        if ok:
            rule = RULE_SAME if same else RULE_FIRST if k == 0 else RULE_NEXT
            chosen = {**cand, **result, "rule": rule}
            break
    if chosen is None:
        hist_path = pdir / "search_C" / "history.csv"
        hist = pd.read_csv(hist_path) if hist_path.is_file() else None
        spec_b = from_dict(b_json["spec"])
        plan = cosearch_plan_for(hist, spec_b)
        chosen = {"spec": b_json["spec"],
                  "plan": (plan or PimPlan.from_dict(b_json["plan"], "B.json: plan")).to_dict(),
                  "objectives": c.get("b_in_search", b_json["objectives"]), **b_scratch,
                  "rule": RULE_B_SUBNET}
    chosen["same_subnet_as_b"] = _fhash(chosen["spec"]) == _fhash(b_json["spec"])
    chosen["accepted"] = chosen["rule"] != RULE_B_SUBNET
    chosen["supernet_choice_accepted"] = bool(tried and tried[0]["accepted"])
    chosen["tried"] = tried
    write_json(pdir / "scratch_C.json", chosen)


def final_c(pdir: Any) -> dict[str, Any]:
    """The accepted C of the point in ``pdir``: spec, plan and supernet objectives from
    ``scratch_C.json``."""
    return dict(read_json(pdir / "scratch_C.json"))


def stage_simulate(run: Run, point: OperatingPoint) -> None:
    """Every row of the decomposition at ``point`` (:func:`decompose`) and the advantage
    maps of B and C (:func:`write_advantage`)."""
    pdir = run.dir(point)
    c = final_c(pdir)
    limit_us = read_json(pdir / "C.json").get("latency_limit_us")
    hist_path = pdir / "search_C" / "history.csv"
    profile = run.profiles[point.profile]
    schema = sim_schema(run.dataset)
    spec_b, spec_c = from_dict(read_json(run.out / "B.json")["spec"]), from_dict(c["spec"])
    hw = decompose(
        pdir, spec_b=spec_b, spec_c=spec_c, plan_c=PimPlan.from_dict(c["plan"], "scratch_C.json: plan"),
        schema=schema, profile=profile, batch=point.batch, seed=run.seed,
        history=pd.read_csv(hist_path) if hist_path.is_file() else None,
        limit_ns=None if limit_us is None else float(limit_us) * 1e3)
    hw["advantage"] = write_advantage(pdir / "advantage", {"B": spec_b, "C": spec_c}, schema,
                                      profile, point.batch, run.seed)
    write_json(pdir / "hardware.json", hw)
