"""``codesign reproduce``: the reproduction protocol as resumable stages.

Stages (each writes its artefact atomically into the output folder and is skipped when the
artefact is already there, so running the same command again continues an interrupted run):

0. ``data/``: the data cache (synthetic rows in the raw format, or ``--raw``), prepared.
1. ``supernet/``: the weight-sharing supernet (NASRec-Full space) trained on the train split
   (its own checkpoints resume); ``supernet/done.json`` marks it finished.
2. ``B.json``: baseline B, the best subnet of an ``accuracy`` search (fixed plan: the
   profile's naive plan), search state in ``search_B/``.
Stages 3 to 5 run once per operating point (a hardware profile at an inference batch,
:mod:`codesign.pipeline.points`), in the point's folder (``points/<profile>_b<batch>/``;
the run folder itself when there is one point); every co-search shares the estimate cache
``cache/``, so a subnet's supernet log loss is computed once.

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
   B's result, marked ``same_subnet_as_b``; a subnet is trained once across the points
   (``scratch/``).
5. ``hardware.json`` and ``traces/``: the decomposition's rows (B, B_host, B+plan, C-arch, C,
   DLRM: :mod:`codesign.pipeline.decompose`) simulated at the point's batch; Parquet per
   row, Chrome trace-event JSON of B and C.
6. ``report.md``, ``summary.csv`` and per point ``results.csv``, ``ratios.csv``,
   ``decomposition.csv``, ``shares.csv``, ``pareto.png``, ``breakdown.png``,
   ``components.png`` (:mod:`codesign.pipeline.report_md`).

``timings.json`` holds the wall seconds of each stage, over all its attempts; the report
shows them. Log losses compared in stage 3 are the supernet estimates (head fine-tuned) on
the validation rows; stage 4 reports the test split. The simulation uses the data set's
published table sizes (the deployed model), whatever bucket cap the training cache used.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from codesign.data.cache import CtrData
from codesign.data.prepare import prepare
from codesign.data.schema import DATASET_NAMES
from codesign.data.synthetic import make_synthetic_cache
from codesign.errors import CodesignError
from codesign.nas.space import to_dict
from codesign.pipeline.point_stages import stage_scratch_b, stage_scratch_c, stage_search_c, stage_simulate
from codesign.pipeline.acceptance import SCRATCH_SEEDS, TEST_TOLERANCE
from codesign.pipeline.points import LIMIT_NONE, OperatingPoint, operating_points
from codesign.pipeline.protocol import (
    DEFAULT_BUDGET,
    DEFAULT_PROFILE,
    DEFAULT_SCHEDULER,
    REPRO_BUDGETS,
    SETTINGS_NAME,
    SIM_BATCH,
    STAGES,
    ReproBudget,
    read_json,
    read_timings,
    write_json,
)
from codesign.pipeline.report import write_csv
from codesign.pipeline.report_md import write_report
from codesign.pipeline.run import Run, Stages, problem, search
from codesign.train.checkpoint import CHECKPOINT_NAME
from codesign.train.config import TrainConfig
from codesign.train.supernet import train_supernet
from pimsim import load_profile

#: Smallest ``synthetic_rows``: fewer leave a split without clicks.
MIN_SYNTHETIC_ROWS = 100


def _stage_data(run: Run) -> None:
    if run.synthetic_rows is not None:
        make_synthetic_cache(run.dataset, run.synthetic_rows, run.data_dir, seed=run.seed,
                             cap=run.bud.cap, quiet=run.quiet)
    else:
        prepare(run.dataset, run.raw, run.data_dir, cap=run.bud.cap, quiet=run.quiet)


def _stage_supernet(run: Run) -> None:
    cfg = TrainConfig.make(epochs=run.bud.supernet_epochs, seed=run.seed,
                           checkpoint_dir=run.supernet_dir, train_rows=run.bud.train_rows,
                           quiet=run.quiet, num_threads=run.threads)
    resume = (run.supernet_dir / CHECKPOINT_NAME).is_file()
    res = train_supernet(CtrData.open(run.data_dir), cfg, space="full", resume=resume)
    write_json(run.supernet_dir / "done.json", {
        "steps": res.steps_done, "samples_per_s": res.samples_per_s,
        "wall_s": res.wall_s, "finished": res.finished,
    })


def _stage_search_b(run: Run) -> None:
    # the accuracy search scores no hardware: its problem is the first profile's at the
    # simulated batch (whose naive plan B.json records), whatever the points
    prob = problem(run, False, OperatingPoint(run.points[0].profile, SIM_BATCH))
    res = search(run, prob, run.out / "search_B")
    g = res.best_genome
    write_json(run.out / "B.json", {
        "spec": to_dict(g.spec), "plan": g.plan.to_dict(),
        "objectives": {k: res.best[k] for k in ("logloss", "auc", "flops") if k in res.best},
        "evaluations": int(len(res.history)),
    })
    write_csv(res.history, run.out / "search_B" / "history.csv")


def _stage_report(run: Run) -> None:
    write_report(run.out, run.dataset, run.points, run.bud.name)


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
    profiles: tuple[str, ...] | None = None,
    batches: tuple[int, ...] = (SIM_BATCH,),
    latency_limit: float | str = LIMIT_NONE,
) -> Path | None:
    """Run (or continue) the reproduction; returns the path of ``report.md``, or None when
    ``stop_after`` (a stage name of :data:`STAGES`; a per-point stage stops once every
    point has finished it) ended the run early (continue it later with the same
    arguments). The operating points are every pair of ``profiles`` (default: ``profile``
    alone) and ``batches``, and with ``latency_limit`` (``auto``, or µs) one serving point
    per profile (:func:`codesign.pipeline.points.operating_points`)."""
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
    names = tuple(profiles) if profiles is not None else (profile,)
    points = operating_points(names, tuple(batches), latency_limit)
    run = Run(out=Path(out_dir), dataset=dataset, points=points,
              profiles={p: load_profile(p) for p in names},  # fail early on a bad profile
              bud=bud, seed=seed, raw=raw, synthetic_rows=synthetic_rows, scheduler=scheduler,
              workers=workers, threads=threads, quiet=quiet)
    run.out.mkdir(parents=True, exist_ok=True)
    settings: dict[str, Any] = {"dataset": dataset, "profile": names[0], "budget": asdict(bud),
                                "seed": seed, "raw": None if raw is None else str(raw),
                                "synthetic_rows": synthetic_rows,
                                # null for one profile at SIM_BATCH, as a run that does not
                                # record it
                                "operating_points": None,
                                "scratch": {"seeds": SCRATCH_SEEDS,
                                            "test_tolerance": TEST_TOLERANCE}}
    if len(names) > 1 or tuple(batches) != (SIM_BATCH,) or latency_limit != LIMIT_NONE:
        settings["operating_points"] = {"profiles": list(names), "batches": list(batches),
                                        "latency_limit_us": latency_limit}
    _check_settings(run.out, settings)
    if threads is not None:
        torch.set_num_threads(threads)
    say = log or ((lambda s: None) if quiet else (lambda s: print(s, flush=True)))
    st = Stages(run.out, say, stop_after)
    out = run.out
    report = out / "report.md"
    shared: list[tuple[str, Path, Callable[[], None]]] = [
        ("data", run.data_dir / "meta.json", lambda: _stage_data(run)),
        ("supernet", run.supernet_dir / "done.json", lambda: _stage_supernet(run)),
        ("search B", out / "B.json", lambda: _stage_search_b(run)),
    ]
    for name, artefact, fn in shared:
        st.run(name, artefact, fn)
        if st.stop_here(name):
            return None
    steps: list[tuple[str, str | None, Callable[[OperatingPoint], None]]] = [
        # (stage, artefact in the point's folder or None for the run's one stage, stage)
        ("search C", "C.json", lambda p: stage_search_c(run, p)),
        ("scratch B", None, lambda p: stage_scratch_b(run)),
        ("scratch C", "scratch_C.json", lambda p: stage_scratch_c(run, p)),
        ("simulate", "hardware.json", lambda p: stage_simulate(run, p)),
    ]
    for name, artefact_name, step in steps:
        if artefact_name is None:
            st.run(name, out / "scratch_B.json", lambda: step(points[0]))
        for p in points if artefact_name is not None else ():
            st.run(name, run.dir(p) / artefact_name, lambda p=p, step=step: step(p),
                   "" if run.single else p.name)
        if st.stop_here(name):
            return None
    st.run("report", report, lambda: _stage_report(run))
    return report
