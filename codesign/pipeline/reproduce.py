"""``codesign reproduce``: the reproduction protocol as resumable stages.

Stages (each writes its artefact atomically into the output folder and is skipped when the
artefact is already there, so running the same command again continues an interrupted run):

0. ``data/``: the data cache (synthetic rows in the raw format, or ``--raw``), prepared.
1. ``supernet/``: the weight-sharing supernet (NASRec-Full space) trained on the train split
   (its own checkpoints resume); ``supernet/done.json`` marks it finished.
2. ``B.json``: baseline B, the best subnet of an ``accuracy`` search (fixed plan: the
   profile's naive plan), search state in ``search_B/``.
3. ``C.json``: co-design C: of a ``pareto`` co-search over (subnet, plan, knobs) with the
   same budget (same number of evaluations) on the same supernet, the front point with the
   lowest energy x latency whose supernet log loss is at most B's + the tolerance
   (:mod:`codesign.pipeline.selection`). The co-search's initial population starts with B's
   genome (:func:`~codesign.pipeline.selection.c_seeds`), counted in its evaluations, so
   some front point always equals or dominates B and C is never worse than B on the
   search's own estimates; ``select_c``'s fallback (the front's lowest log loss, flagged in
   the report) covers fronts without such a point.
4. ``scratch_B.json``, ``scratch_C.json``: B and C trained from scratch with the same budget;
   test log loss and AUC. A C with B's subnet (another plan at most) is not trained again:
   training from scratch is a function of the subnet and the seed, so ``scratch_C.json`` is
   B's result, marked ``same_subnet_as_b``.
5. ``hardware.json`` and ``traces/``: B (naive plan), C (its plan) and B with every kernel on
   the host simulated at batch ``SIM_BATCH``; Parquet and Chrome trace-event JSON per model.
6. ``report.md``, ``results.csv``, ``ratios.csv``, ``pareto.png``, ``breakdown.png``.

``timings.json`` holds the wall seconds of each stage (kept across resumed runs); the report
shows them. Log losses compared in stage 3 are the supernet estimates (head fine-tuned) on
the validation rows; stage 4 reports the test split. The simulation uses the data set's
published table sizes (the deployed model), whatever bucket cap the training cache used.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from codesign.cosearch import CoSearchProblem, Genome
from codesign.hw.evaluate import hardware_metrics, sim_schema, simulate_subnet
from codesign.data.cache import CtrData
from codesign.data.prepare import prepare
from codesign.data.schema import DATASET_NAMES
from codesign.data.synthetic import make_synthetic_cache
from codesign.errors import CodesignError
from pimsim.util.executors import SERIAL, make_executor
from codesign.nas.flops import count_flops
from codesign.pipeline.protocol import (
    DEFAULT_BUDGET,
    DEFAULT_PROFILE,
    DEFAULT_SCHEDULER,
    REPRO_BUDGETS,
    SETTINGS_NAME,
    SIM_BATCH,
    STAGES,
    TIMINGS_NAME,
    ReproBudget,
    read_json,
    read_timings,
    write_json,
)
from codesign.pipeline.report import write_csv
from codesign.pipeline.report_md import write_report
from codesign.pipeline.selection import RULE_FALLBACK, RULE_MET, b_elite, c_seeds, search_population, select_c
from codesign.hw.placement import PimPlan
from codesign.hw.plans import host_plan, naive_plan
from codesign.search import SearchConfig, run_search
from codesign.nas.space import SubnetSpec, from_dict, to_dict
from codesign.train.checkpoint import CHECKPOINT_NAME
from codesign.train.config import TrainConfig
from codesign.train.scratch import train_from_scratch_run
from codesign.train.supernet import train_supernet
from pimsim import Profile, load_profile

#: Smallest ``synthetic_rows``: fewer leave a split without clicks.
MIN_SYNTHETIC_ROWS = 100
#: Objectives of B and C kept in their JSON files.
KEPT_OBJECTIVES = ("logloss", "auc", "flops", "latency_ns", "energy_pj")


@dataclass(frozen=True)
class _Run:
    """Everything a stage reads: the arguments of :func:`reproduce` and the folders."""

    out: Path
    dataset: str
    profile_name: str
    profile: Profile
    bud: ReproBudget
    seed: int
    raw: str | os.PathLike[str] | None
    synthetic_rows: int | None
    scheduler: str | None
    workers: int | None
    threads: int | None
    quiet: bool
    #: The searches' operating points (CoSearchProblem.batches / batch_weights).
    batches: tuple[int, ...] = (SIM_BATCH,)
    batch_weights: tuple[float, ...] | None = None

    @property
    def data_dir(self) -> Path:
        return self.out / "data" / "cache"

    @property
    def supernet_dir(self) -> Path:
        return self.out / "supernet"


class _Stages:
    """Runs stages in order, skipping those whose artefact exists, and keeps their times."""

    def __init__(self, out: Path, log: Callable[[str], None], stop_after: str | None) -> None:
        self.out, self.log, self.stop_after = out, log, stop_after
        self.times = read_timings(out)

    def run(self, name: str, artefact: Path, fn: Callable[[], None]) -> bool:
        """Run stage ``name`` unless ``artefact`` exists; False once ``stop_after`` is reached."""
        if artefact.exists():
            self.log(f"[{name}] done already ({artefact.relative_to(self.out)})")
        else:
            self.log(f"[{name}] running")
            t0 = time.perf_counter()
            fn()
            self.times[name] = time.perf_counter() - t0
            write_json(self.out / TIMINGS_NAME, self.times)
            self.log(f"[{name}] {self.times[name]:.1f} s")
        if name == self.stop_after:
            self.log(f"[{name}] stopping here (stop_after); run again to continue")
            return False
        return True


def _stage_data(run: _Run) -> None:
    if run.synthetic_rows is not None:
        make_synthetic_cache(run.dataset, run.synthetic_rows, run.data_dir, seed=run.seed,
                             cap=run.bud.cap, quiet=run.quiet)
    else:
        prepare(run.dataset, run.raw, run.data_dir, cap=run.bud.cap, quiet=run.quiet)


def _stage_supernet(run: _Run) -> None:
    cfg = TrainConfig.make(epochs=run.bud.supernet_epochs, seed=run.seed,
                           checkpoint_dir=run.supernet_dir, train_rows=run.bud.train_rows,
                           quiet=run.quiet, num_threads=run.threads)
    resume = (run.supernet_dir / CHECKPOINT_NAME).is_file()
    res = train_supernet(CtrData.open(run.data_dir), cfg, space="full", resume=resume)
    write_json(run.supernet_dir / "done.json", {
        "steps": res.steps_done, "samples_per_s": res.samples_per_s,
        "wall_s": res.wall_s, "finished": res.finished,
    })


def _problem(run: _Run, co_design: bool) -> CoSearchProblem:
    return CoSearchProblem(
        data_dir=str(run.data_dir), supernet=str(run.supernet_dir), profile=run.profile_name,
        co_design=co_design, space="full", dataset=run.dataset, batches=run.batches,
        batch_weights=run.batch_weights,
        finetune_steps=run.bud.finetune_steps, finetune_batch=run.bud.finetune_batch,
        eval_rows=run.bud.eval_rows, finetune_rows=run.bud.finetune_rows, seed=run.seed,
        simulate=co_design, cache_dir=str(run.out / "cache"),
        # worker processes share the cores: one torch thread each
        num_threads=1 if run.scheduler not in (None, SERIAL) else run.threads,
    )


def _search(run: _Run, prob: CoSearchProblem, seeds: tuple[Any, ...] = ()) -> Any:
    mode = "pareto" if prob.co_design else "accuracy"
    cfg = SearchConfig(budget=run.bud.search, seed=run.seed, mode=mode,
                       initial_genomes=seeds, **dict(run.bud.search_overrides))
    folder = run.out / f"search_{'C' if prob.co_design else 'B'}"
    with make_executor(run.scheduler, run.workers) as ex:
        return run_search(prob, cfg, out_dir=folder, resume=True, executor=ex, quiet=run.quiet)


def _stage_search_b(run: _Run) -> None:
    res = _search(run, _problem(run, False))
    g: Genome = res.best_genome
    write_json(run.out / "B.json", {
        "spec": to_dict(g.spec), "plan": g.plan.to_dict(),
        "objectives": {k: res.best[k] for k in ("logloss", "auc", "flops") if k in res.best},
        "evaluations": int(len(res.history)),
    })
    write_csv(res.history, run.out / "search_B" / "history.csv")


def _stage_search_c(run: _Run) -> None:
    b = read_json(run.out / "B.json")
    prob = _problem(run, True)
    elite = b_elite(pd.read_csv(run.out / "search_B" / "history.csv"))
    seeds = c_seeds(prob, from_dict(b["spec"]), PimPlan.from_dict(b["plan"], "B.json: plan"),
                    search_population(run.bud), run.seed, elite)
    res = _search(run, prob, tuple(prob.to_json(g) for g in seeds))
    front = res.front.reset_index(drop=True)
    i, met = select_c(front, float(b["objectives"]["logloss"]))
    row = front.iloc[i]
    g = prob.from_json(json.loads(row["genome"]))
    b_key = prob.key(seeds[0])
    b_row = res.history[res.history["key"] == b_key].iloc[0]
    write_json(run.out / "C.json", {
        "spec": to_dict(g.spec), "plan": g.plan.to_dict(),
        "objectives": {k: float(row[k]) for k in KEPT_OBJECTIVES if k in row},
        "met_tolerance": bool(met), "rule": RULE_MET if met else RULE_FALLBACK,
        "evaluations": int(len(res.history)), "front_size": int(len(front)),
        "seeded": len(seeds), "is_b_genome": row["key"] == b_key,
        "same_subnet_as_b": to_dict(g.spec) == b["spec"],
        "b_in_search": {k: float(b_row[k]) for k in KEPT_OBJECTIVES if k in b_row},
    })
    write_csv(res.history, run.out / "search_C" / "history.csv")


def _stage_scratch(run: _Run, tag: str) -> None:
    spec = from_dict(read_json(run.out / f"{tag}.json")["spec"])
    if tag == "C" and to_dict(spec) == read_json(run.out / "B.json")["spec"]:
        write_json(run.out / "scratch_C.json",
                   {**read_json(run.out / "scratch_B.json"), "same_subnet_as_b": True})
        return
    cfg = TrainConfig.make(epochs=run.bud.scratch_epochs, seed=run.seed, quiet=run.quiet,
                           train_rows=run.bud.train_rows, num_threads=run.threads)
    r = train_from_scratch_run(spec, CtrData.open(run.data_dir), cfg)
    write_json(run.out / f"scratch_{tag}.json", {
        "val": asdict(r.val), "test": asdict(r.test), "steps": r.steps, "wall_s": r.wall_s,
    })


def _stage_simulate(run: _Run) -> None:
    spec_b = from_dict(read_json(run.out / "B.json")["spec"])
    c = read_json(run.out / "C.json")
    spec_c = from_dict(c["spec"])
    schema = sim_schema(run.dataset)
    tdir = run.out / "traces"
    tdir.mkdir(exist_ok=True)
    models: dict[str, tuple[SubnetSpec, PimPlan]] = {
        "B": (spec_b, naive_plan(spec_b, schema, run.profile)),
        "C": (spec_c, PimPlan.from_dict(c["plan"], "C.json: plan")),
        "B_host": (spec_b, host_plan(spec_b, schema)),
    }
    hw: dict[str, Any] = {}
    for tag, (spec, plan) in models.items():
        trace = simulate_subnet(spec, schema, plan, run.profile, batch=SIM_BATCH, seed=run.seed)
        trace.to_parquet(tdir / f"{tag}.parquet")
        trace.to_chrome_json(tdir / f"{tag}.chrome.json")
        m = hardware_metrics(trace)
        m["flops"] = float(count_flops(spec, schema).total_flops)
        m["on_pim"] = plan.on_pim()
        m["knobs"] = dict(plan.knobs)
        hw[tag] = m
    write_json(run.out / "hardware.json", hw)


def _stage_report(run: _Run) -> None:
    write_report(run.out, run.dataset, run.profile_name, run.bud.name)


def _check_settings(out: Path, settings: dict[str, Any]) -> None:
    """Refuse to continue a run in ``out`` made with other settings; record them otherwise."""
    sfile = out / SETTINGS_NAME
    if not sfile.is_file() or not read_timings(out):  # no stage finished: nothing to keep
        write_json(sfile, settings)
        return
    old = read_json(sfile)
    settings = json.loads(json.dumps(settings))
    diff = [k for k in settings if old.get(k) != settings[k]]
    if diff:
        raise CodesignError(
            f"{sfile}: this folder holds a run with {', '.join(f'{k}={old.get(k)!r}' for k in diff)}; "
            f"accepted: the same settings to continue it, or another --out"
        )


def _budget(budget: str | ReproBudget) -> ReproBudget:
    if isinstance(budget, ReproBudget):
        return budget
    if budget in REPRO_BUDGETS:
        return REPRO_BUDGETS[budget]
    raise CodesignError(f"budget: {budget!r}; accepted: {', '.join(REPRO_BUDGETS)}")


def reproduce(
    dataset: str,
    out_dir: str | os.PathLike[str],
    *,
    profile: str = DEFAULT_PROFILE,
    budget: str | ReproBudget = DEFAULT_BUDGET,
    raw: str | os.PathLike[str] | None = None,
    synthetic_rows: int | None = None,
    seed: int = 0,
    scheduler: str | None = DEFAULT_SCHEDULER,
    workers: int | None = None,
    threads: int | None = None,
    quiet: bool = False,
    log: Callable[[str], None] | None = None,
    stop_after: str | None = None,
    batches: tuple[int, ...] = (SIM_BATCH,),
    batch_weights: tuple[float, ...] | None = None,
) -> Path | None:
    """Run (or continue) the reproduction; returns the path of ``report.md``, or None when
    ``stop_after`` (a stage name of :data:`STAGES`) ended the run early (continue it later
    with the same arguments). ``batches`` / ``batch_weights``: the operating points the
    searches score genomes at (:class:`codesign.hw.operating.OperatingPoints`); the
    simulate stage runs at ``SIM_BATCH``."""
    if dataset not in DATASET_NAMES:
        raise CodesignError(f"dataset: {dataset!r}; accepted: {', '.join(DATASET_NAMES)}")
    if stop_after is not None and stop_after not in STAGES:
        raise CodesignError(f"stop_after: {stop_after!r}; accepted: {', '.join(STAGES)}")
    bud = _budget(budget)
    if (raw is None) == (synthetic_rows is None):
        raise CodesignError("reproduce: give exactly one of --raw PATH and --synthetic-rows N")
    if synthetic_rows is not None and synthetic_rows < MIN_SYNTHETIC_ROWS:
        raise CodesignError(f"--synthetic-rows: {synthetic_rows}; accepted: an integer >= "
                            f"{MIN_SYNTHETIC_ROWS}")
    if raw is not None and not Path(raw).exists():
        raise CodesignError(f"--raw {raw}: no such file or folder; accepted: the raw {dataset} "
                            "data (a file, or KDD's folder)")
    run = _Run(out=Path(out_dir), dataset=dataset, profile_name=profile,
               profile=load_profile(profile),  # fail early on a bad profile
               bud=bud, seed=seed, raw=raw, synthetic_rows=synthetic_rows, scheduler=scheduler,
               workers=workers, threads=threads, quiet=quiet, batches=tuple(batches),
               batch_weights=None if batch_weights is None else tuple(batch_weights))
    run.out.mkdir(parents=True, exist_ok=True)
    settings: dict[str, Any] = {"dataset": dataset, "profile": profile, "budget": asdict(bud),
                                "seed": seed, "raw": None if raw is None else str(raw),
                                "synthetic_rows": synthetic_rows,
                                # null for the default, as a run that does not record it
                                "operating_points": None}
    if run.batches != (SIM_BATCH,) or batch_weights is not None:
        settings["operating_points"] = {"batches": list(run.batches),
                                        "batch_weights": run.batch_weights}
    _check_settings(run.out, settings)
    if threads is not None:
        torch.set_num_threads(threads)
    say = log or ((lambda s: None) if quiet else (lambda s: print(s, flush=True)))
    st = _Stages(run.out, say, stop_after)
    out = run.out
    report = out / "report.md"
    stages: list[tuple[str, Path, Callable[[], None]]] = [
        ("data", run.data_dir / "meta.json", lambda: _stage_data(run)),
        ("supernet", run.supernet_dir / "done.json", lambda: _stage_supernet(run)),
        ("search B", out / "B.json", lambda: _stage_search_b(run)),
        ("search C", out / "C.json", lambda: _stage_search_c(run)),
        ("scratch B", out / "scratch_B.json", lambda: _stage_scratch(run, "B")),
        ("scratch C", out / "scratch_C.json", lambda: _stage_scratch(run, "C")),
        ("simulate", out / "hardware.json", lambda: _stage_simulate(run)),
        ("report", report, lambda: _stage_report(run)),
    ]
    for name, artefact, fn in stages:
        if not st.run(name, artefact, fn):
            return None if name != "report" else report
    return report
