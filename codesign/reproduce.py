"""``codesign reproduce``: the reproduction protocol of the co-design issue, as resumable stages.

Stages (each writes its artefact atomically into the output folder and is skipped when the
artefact is already there, so an interrupted run continues with ``--resume`` semantics by
default):

0. ``data/``: the data cache (synthetic rows in the raw format, or ``--raw``), prepared.
1. ``supernet/``: the weight-sharing supernet (NASRec-Full space) trained on the train split
   (its own checkpoints resume); ``supernet/done.json`` marks it finished.
2. ``B.json``: baseline B = the best subnet of an ``accuracy`` search (fixed plan: the
   profile's naive plan), search state in ``search_B/``.
3. ``C.json``: co-design C = of a ``pareto`` co-search over (subnet, plan, knobs) with the
   same budget (same number of evaluations) on the same supernet, the front point with the
   lowest energy x latency whose supernet log loss is at most B's + 0.001. The co-search's
   initial population starts with B's genome (and B's subnet with a few mutated plans;
   :func:`c_seeds`), counted in its evaluations, so some front point always equals or
   dominates B and C is never worse than B on the search's own estimates. (``select_c``
   keeps a fallback - the front's lowest log loss, flagged in the report - for fronts
   without such a point; with the seeding it cannot happen here.)
4. ``scratch_B.json``, ``scratch_C.json``: B and C trained from scratch with the same budget;
   test log loss and AUC.
5. ``hardware.json`` and ``traces/``: B (naive plan), C (its plan) and B with every kernel on
   the host simulated at batch 256; Parquet and Chrome trace-event JSON per model.
6. ``report.md``, ``results.csv``, ``pareto.png``, ``breakdown.png``.

``timings.json`` holds the wall seconds of each stage (kept across resumed runs); the report
shows them.

Log losses compared in stage 3 are the supernet estimates (head fine-tuned) on the
validation rows; stage 4 reports the test split. The simulation uses the data set's
published table sizes (the deployed model), whatever bucket cap the training cache used.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from codesign.errors import CodesignError
from codesign.plan import PimPlan, host_plan, naive_plan
from codesign.space import SubnetSpec, from_dict, to_dict
from pimsim.fileio import atomic_write_json

__all__ = ["ReproBudget", "REPRO_BUDGETS", "PUBLISHED", "LOGLOSS_TOLERANCE", "reproduce",
           "select_c", "c_seeds", "b_elite", "summary_text", "read_timings"]

#: Published ratios of the reproduced work (FLOPs, energy, latency of B over C).
PUBLISHED = {"flops": 2.0, "energy": 1.8, "latency": 1.5}
#: C's supernet log loss may exceed B's by at most this (issue: step 3).
LOGLOSS_TOLERANCE = 0.001
#: Simulated batch (issue: step 5).
SIM_BATCH = 256
#: The stages, in order (names for ``stop_after`` and the timings).
STAGES = ("data", "supernet", "search B", "search C", "scratch B", "scratch C", "simulate",
          "report")
#: Wall seconds of each stage, in the output folder.
TIMINGS_NAME = "timings.json"


@dataclass(frozen=True)
class ReproBudget:
    """Training and evaluation sizes that go with a search budget preset.

    ``search``: the search preset (codesign.search.BUDGETS), with ``search_overrides``
    (population, sample, children, generations) on top; ``train_rows``: training rows per
    epoch for the supernet and for training from scratch (None: the whole split);
    ``finetune_steps`` / ``finetune_batch``: head fine-tuning per evaluated subnet;
    ``eval_rows``: validation rows per supernet estimate (None: all); ``cap``: bucket cap
    of the data cache (None: the published distinct counts).
    """

    name: str
    search: str
    supernet_epochs: int
    train_rows: int | None
    finetune_steps: int
    finetune_batch: int
    eval_rows: int | None
    scratch_epochs: int
    cap: int | None
    search_overrides: tuple[tuple[str, int], ...] = ()


#: ``tiny`` runs in about 5 minutes on 2 cores (50,000 synthetic rows); ``small`` trains
#: the supernet and B and C from scratch on 393,216 training rows (768 steps of 512), its
#: search is the ``small`` preset cut to 12 generations (80 evaluations per search), each
#: estimate on 16,384 val rows, and its buckets are capped at 2**14 rows per field, because
#: supernet steps and head fine-tuning dominate on 2 cores.
REPRO_BUDGETS: dict[str, ReproBudget] = {
    "tiny": ReproBudget("tiny", "tiny", 1, 8192, 5, 512, 1000, 1, 2**12),
    "small": ReproBudget("small", "small", 1, 393_216, 10, 512, 16_384, 1, 2**14,
                         (("generations", 12),)),
    "paper": ReproBudget("paper", "paper", 1, None, 100, 512, None, 1, None),
}


def _write_json(path: Path, data: Any) -> None:
    atomic_write_json(path, data, indent=1, default=float)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text())


#: How C was picked (C.json ``rule``; the report prints it).
RULE_MET = "lowest energy x latency among front points with supernet log loss <= B's + tolerance"
RULE_FALLBACK = "fallback: no front point within B's log loss + tolerance; the lowest log loss"
#: Largest number of genomes of B's subnet seeded into C's co-search.
MAX_C_SEEDS = 4


def _population(bud: ReproBudget) -> int:
    from codesign.search import BUDGETS

    return int(dict(bud.search_overrides).get("population", BUDGETS[bud.search].population))


def c_seeds(problem: Any, spec_b: SubnetSpec, plan_b: PimPlan, population: int,
            seed: int, elite: Sequence[SubnetSpec] = ()) -> list[Any]:
    """Genomes put first into C's co-search (deterministic for ``seed``, counted in its
    evaluations), up to half the population:

    1. B itself (its subnet and plan), then B's subnet with other plans (greedy and mutated,
       :meth:`CoSearchProblem.seed_genomes`): ``max(1, min(MAX_C_SEEDS, population // 4))``;
    2. alternately, B's shrinks (:func:`codesign.cosearch.shrink_moves`, in a seeded random
       order) and ``elite``, the next-best subnets of B's accuracy search in that order,
       each with its greedy plan for a random objective;
    3. B's one-mutation neighbours with their greedy plans, if still short.

    B's genome has exactly B's supernet log loss (the estimate is a pure function of the
    subnet), so the front always holds a point that equals or dominates B, and the
    tolerance rule of :func:`select_c` always applies. Steps 2 and 3 start the co-search
    where subnets of B's accuracy but lower cost are likely: B is the best of an accuracy
    search of the same size, and a random population rarely comes within the tolerance of
    it (Criteo, budget small: without them C was B itself)."""
    import numpy as np

    from codesign.cosearch import GREEDY_OBJECTIVES, Genome, shrink_moves
    from codesign.space import mutate

    n = max(1, min(MAX_C_SEEDS, population // 4))
    rng = np.random.default_rng([seed, 0xC5EED])
    out = problem.seed_genomes(spec_b, n, rng, plan=plan_b)
    keys = {problem.key(g) for g in out}
    want = max(len(out), population // 2)

    def add(spec: SubnetSpec) -> None:
        objective = GREEDY_OBJECTIVES[int(rng.integers(len(GREEDY_OBJECTIVES)))]
        g = Genome(spec, problem.greedy(spec, plan_b.knobs, objective))
        k = problem.key(g)
        if k not in keys:
            keys.add(k)
            out.append(g)

    shrinks = shrink_moves(spec_b, problem.schema, problem.space)
    shrinks = [shrinks[i] for i in rng.permutation(len(shrinks))]
    others = [s for s in elite if s != spec_b]
    for pair in itertools.zip_longest(shrinks, others):
        for spec in pair:
            if spec is not None and len(out) < want:
                add(spec)
    tries = 0
    while len(out) < want and tries < 50 * want:
        tries += 1
        add(mutate(spec_b, problem.space, rng, 1))
    return out


def b_elite(history: pd.DataFrame) -> list[SubnetSpec]:
    """The subnets of B's accuracy search, best supernet log loss first (ties: evaluation
    order), one per subnet."""
    rows = history.sort_values(["logloss", "index"], kind="stable")
    seen: set[str] = set()
    out = []
    for _, r in rows.iterrows():
        if r["key"] in seen or not math.isfinite(float(r["logloss"])):
            continue
        seen.add(r["key"])
        out.append(from_dict(json.loads(r["genome"])["spec"]))
    return out


def select_c(front: pd.DataFrame, b_logloss: float,
             tolerance: float = LOGLOSS_TOLERANCE) -> tuple[int, bool]:
    """Row position in ``front`` of C and whether it met the log-loss tolerance: the lowest
    ``latency_ns x energy_pj`` among rows with ``logloss <= b_logloss + tolerance``; if none,
    the lowest log loss."""
    if front.empty:
        raise CodesignError("reproduce: the co-search front is empty; accepted: a finished search")
    edp = front["latency_ns"].to_numpy() * front["energy_pj"].to_numpy()
    ok = front["logloss"].to_numpy() <= b_logloss + tolerance
    if ok.any():
        cand = [i for i in range(len(front)) if ok[i]]
        return min(cand, key=lambda i: (edp[i], front["logloss"].iloc[i], i)), True
    ll = front["logloss"].to_numpy()
    return int(min(range(len(front)), key=lambda i: (ll[i], edp[i], i))), False


class _Stages:
    def __init__(self, out: Path, quiet: bool, log: Callable[[str], None],
                 stop_after: str | None = None) -> None:
        self.stop_after = stop_after
        self.out = out
        self.quiet = quiet
        self.log = log
        self.times: dict[str, float] = {}
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
            _write_json(self.out / TIMINGS_NAME, self.times)
            self.log(f"[{name}] {self.times[name]:.1f} s")
        if name == self.stop_after:
            self.log(f"[{name}] stopping here (stop_after); run again to continue")
            return False
        return True


def reproduce(
    dataset: str,
    out_dir: str | os.PathLike[str],
    *,
    profile: str = "hbm2_pim",
    budget: str | ReproBudget = "tiny",
    raw: str | os.PathLike[str] | None = None,
    synthetic_rows: int | None = None,
    seed: int = 0,
    scheduler: str | None = "serial",
    workers: int | None = None,
    threads: int | None = None,
    quiet: bool = False,
    log: Callable[[str], None] | None = None,
    stop_after: str | None = None,
) -> Path | None:
    """Run (or continue) the reproduction; returns the path of ``report.md``, or None when
    ``stop_after`` (a stage name of :data:`STAGES`) ended the run early (continue it later
    with the same arguments)."""
    from codesign.data.schema import DATASET_NAMES

    if dataset not in DATASET_NAMES:
        raise CodesignError(f"dataset: {dataset!r}; accepted: {', '.join(DATASET_NAMES)}")
    if stop_after is not None and stop_after not in STAGES:
        raise CodesignError(f"stop_after: {stop_after!r}; accepted: {', '.join(STAGES)}")
    if isinstance(budget, ReproBudget):
        bud = budget
    elif budget in REPRO_BUDGETS:
        bud = REPRO_BUDGETS[budget]
    else:
        raise CodesignError(f"budget: {budget!r}; accepted: {', '.join(REPRO_BUDGETS)}")
    if (raw is None) == (synthetic_rows is None):
        raise CodesignError("reproduce: give exactly one of --raw PATH and --synthetic-rows N")
    if synthetic_rows is not None and synthetic_rows < 100:
        raise CodesignError(f"--synthetic-rows: {synthetic_rows}; accepted: >= 100")
    from pimsim.profile import load_profile

    prof = load_profile(profile)  # fail early on a bad profile
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = log or ((lambda s: None) if quiet else (lambda s: print(s, flush=True)))
    st = _Stages(out, quiet, say, stop_after)
    data_dir = out / "data" / "cache"
    settings = {"dataset": dataset, "profile": profile, "budget": asdict(bud), "seed": seed,
                "raw": None if raw is None else str(raw), "synthetic_rows": synthetic_rows}
    sfile = out / "settings.json"
    if sfile.is_file():
        old = _read_json(sfile)
        settings = json.loads(json.dumps(settings))
        diff = [k for k in settings if old.get(k) != settings[k]]
        if diff:
            raise CodesignError(
                f"{sfile}: this folder holds a run with {', '.join(f'{k}={old.get(k)!r}' for k in diff)}; "
                f"accepted: the same settings to continue it, or another --out"
            )
    else:
        _write_json(sfile, settings)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)

    # 0. data
    def stage_data() -> None:
        if synthetic_rows is not None:
            from codesign.data.synthetic import make_synthetic_cache

            make_synthetic_cache(dataset, synthetic_rows, data_dir, seed=seed, cap=bud.cap,
                                 quiet=quiet)
        else:
            from codesign.data.prepare import prepare

            prepare(dataset, raw, data_dir, cap=bud.cap, quiet=quiet)

    if not st.run("data", data_dir / "meta.json", stage_data):
        return None

    from codesign.data.cache import CtrData
    from codesign.train import TrainConfig

    data = CtrData.open(data_dir)
    sup_dir = out / "supernet"

    # 1. supernet
    def stage_supernet() -> None:
        from codesign.train import CHECKPOINT_NAME, train_supernet

        cfg = TrainConfig.make(epochs=bud.supernet_epochs, seed=seed, checkpoint_dir=sup_dir,
                               train_rows=bud.train_rows, quiet=quiet, num_threads=threads)
        resume = (sup_dir / CHECKPOINT_NAME).is_file()
        run = train_supernet(data, cfg, space="full", resume=resume)
        _write_json(sup_dir / "done.json", {
            "steps": run.steps_done, "samples_per_s": run.samples_per_s,
            "wall_s": run.wall_s, "finished": run.finished,
        })

    if not st.run("supernet", sup_dir / "done.json", stage_supernet):
        return None

    from codesign.cosearch import CoSearchProblem, Genome
    from codesign.executor import make_executor
    from codesign.search import SearchConfig, run_search

    def problem(co_design: bool) -> CoSearchProblem:
        return CoSearchProblem(
            data_dir=str(data_dir), supernet=str(sup_dir), profile=profile,
            co_design=co_design, space="full", dataset=dataset, batch=SIM_BATCH,
            finetune_steps=bud.finetune_steps, finetune_batch=bud.finetune_batch,
            eval_rows=bud.eval_rows, seed=seed,
            simulate=co_design, cache_dir=str(out / "cache"),
            num_threads=1 if scheduler not in (None, "serial") else threads,
        )

    def search(prob: CoSearchProblem, seeds: tuple[Any, ...] = ()) -> Any:
        mode = "pareto" if prob.co_design else "accuracy"
        cfg = SearchConfig(budget=bud.search, seed=seed, mode=mode,
                           initial_genomes=seeds, **dict(bud.search_overrides))
        folder = out / f"search_{'C' if prob.co_design else 'B'}"
        with make_executor(scheduler, workers) as ex:
            return run_search(prob, cfg, out_dir=folder, resume=True, executor=ex, quiet=quiet)

    # 2. baseline B
    def stage_b() -> None:
        res = search(problem(False))
        g: Genome = res.best_genome
        _write_json(out / "B.json", {
            "spec": to_dict(g.spec), "plan": g.plan.to_dict(),
            "objectives": {k: res.best[k] for k in ("logloss", "auc", "flops") if k in res.best},
            "evaluations": int(len(res.history)),
        })
        res.history.to_csv(out / "search_B" / "history.csv", index=False)

    if not st.run("search B", out / "B.json", stage_b):
        return None
    b = _read_json(out / "B.json")

    # 3. co-design C
    def stage_c() -> None:
        prob = problem(True)
        elite = b_elite(pd.read_csv(out / "search_B" / "history.csv"))
        seeds = c_seeds(prob, from_dict(b["spec"]), PimPlan.from_dict(b["plan"], "B.json: plan"),
                        _population(bud), seed, elite)
        res = search(prob, tuple(prob.to_json(g) for g in seeds))
        front = res.front.reset_index(drop=True)
        i, met = select_c(front, float(b["objectives"]["logloss"]))
        row = front.iloc[i]
        g = prob.from_json(json.loads(row["genome"]))
        keep = ("logloss", "auc", "flops", "latency_ns", "energy_pj")
        b_key = prob.key(seeds[0])
        b_row = res.history[res.history["key"] == b_key].iloc[0]
        _write_json(out / "C.json", {
            "spec": to_dict(g.spec), "plan": g.plan.to_dict(),
            "objectives": {k: float(row[k]) for k in keep if k in row},
            "met_tolerance": bool(met), "rule": RULE_MET if met else RULE_FALLBACK,
            "evaluations": int(len(res.history)), "front_size": int(len(front)),
            "seeded": len(seeds), "is_b_genome": row["key"] == b_key,
            "same_subnet_as_b": to_dict(g.spec) == b["spec"],
            "b_in_search": {k: float(b_row[k]) for k in keep if k in b_row},
        })
        res.history.to_csv(out / "search_C" / "history.csv", index=False)

    if not st.run("search C", out / "C.json", stage_c):
        return None
    c = _read_json(out / "C.json")
    spec_b, spec_c = from_dict(b["spec"]), from_dict(c["spec"])

    # 4. from scratch
    def scratch(tag: str, spec: SubnetSpec) -> Callable[[], None]:
        def run() -> None:
            from codesign.train import train_from_scratch_run

            cfg = TrainConfig.make(epochs=bud.scratch_epochs, seed=seed, quiet=quiet,
                                   train_rows=bud.train_rows, num_threads=threads)
            r = train_from_scratch_run(spec, data, cfg)
            _write_json(out / f"scratch_{tag}.json", {
                "val": asdict(r.val), "test": asdict(r.test), "steps": r.steps,
                "wall_s": r.wall_s,
            })
        return run

    if not st.run("scratch B", out / "scratch_B.json", scratch("B", spec_b)):
        return None
    if not st.run("scratch C", out / "scratch_C.json", scratch("C", spec_c)):
        return None

    # 5. simulate
    def stage_sim() -> None:
        from codesign.cosearch import hardware_metrics, sim_schema, simulate_subnet
        from codesign.flops import count_flops

        schema = sim_schema(dataset)
        tdir = out / "traces"
        tdir.mkdir(exist_ok=True)
        models = {
            "B": (spec_b, naive_plan(spec_b, schema, prof)),
            "C": (spec_c, PimPlan.from_dict(c["plan"], "C.json: plan")),
            "B_host": (spec_b, host_plan(spec_b, schema)),
        }
        hw: dict[str, Any] = {}
        for tag, (spec, plan) in models.items():
            trace = simulate_subnet(spec, schema, plan, prof, batch=SIM_BATCH, seed=seed)
            trace.to_parquet(tdir / f"{tag}.parquet")
            trace.to_chrome_json(tdir / f"{tag}.chrome.json")
            m = hardware_metrics(trace)
            m["flops"] = float(count_flops(spec, schema).total_flops)
            m["on_pim"] = plan.on_pim()
            m["knobs"] = dict(plan.knobs)
            hw[tag] = m
        _write_json(out / "hardware.json", hw)

    if not st.run("simulate", out / "hardware.json", stage_sim):
        return None

    # 6. report
    report = out / "report.md"
    st.run("report", report, lambda: write_report(out, dataset, profile, bud.name))
    return report


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def results_table(out: Path, dataset: str) -> pd.DataFrame:
    """One row per model (B, C, B_host) with accuracy, FLOPs, energy and latency."""
    b, c = _read_json(out / "B.json"), _read_json(out / "C.json")
    hw = _read_json(out / "hardware.json")
    scratch = {t: _read_json(out / f"scratch_{t}.json") for t in ("B", "C")}
    rows = []
    for tag, sup, sc in (("B", b, scratch["B"]), ("C", c, scratch["C"]),
                         ("B_host", b, scratch["B"])):
        h = hw[tag]
        rows.append({
            "dataset": dataset, "model": tag,
            "supernet_logloss": sup["objectives"]["logloss"],
            "test_logloss": sc["test"]["logloss"], "test_auc": sc["test"]["auc"],
            "mflops": h["flops"] / 1e6, "energy_uj": h["energy_pj"] / 1e6,
            "latency_us": h["latency_ns"] / 1e3,
            "pim_kernels": len(h["on_pim"]),
        })
    return pd.DataFrame(rows)


def _ratios_table(df: pd.DataFrame, dataset: str) -> pd.DataFrame:
    by = df.set_index("model")
    ratios = []
    for ref in ("B", "B_host"):
        ratios.append({
            "dataset": dataset, "ratio": f"{ref} / C",
            "flops": _ratio(by.loc[ref, "mflops"], by.loc["C", "mflops"]),
            "energy": _ratio(by.loc[ref, "energy_uj"], by.loc["C", "energy_uj"]),
            "latency": _ratio(by.loc[ref, "latency_us"], by.loc["C", "latency_us"]),
        })
    ratios.append({"dataset": "published", "ratio": "B / C", **PUBLISHED})
    return pd.DataFrame(ratios)


def _models_md(df: pd.DataFrame) -> str:
    from codesign.report import markdown_table

    return markdown_table(df, float_format={
        "supernet_logloss": ".5f", "test_logloss": ".5f", "test_auc": ".5f", "mflops": ".4g",
        "energy_uj": ".4g", "latency_us": ".4g"})


def _choice_lines(b: dict[str, Any], c: dict[str, Any]) -> list[str]:
    """Which rule picked C, and how C relates to B."""
    rule = c.get("rule", RULE_MET if c.get("met_tolerance", True) else RULE_FALLBACK)
    lines = [f"C was picked by the rule: **{rule}** (tolerance {LOGLOSS_TOLERANCE}; B's supernet "
             f"log loss {b['objectives']['logloss']:.5f}, C's {c['objectives']['logloss']:.5f}).",
             ""]
    if not c.get("met_tolerance", True):
        lines += ["**No front point met the log-loss tolerance; C is the front's lowest log "
                  "loss point.**", ""]
    if c.get("seeded"):
        what = ("C is B's own genome (no front point within the tolerance has a lower energy x "
                "latency)" if c.get("is_b_genome") else
                "C keeps B's subnet with another PIM plan" if c.get("same_subnet_as_b") else
                "C is another subnet than B")
        lines += [f"C's co-search started from {c['seeded']} seeded genome(s) (B itself, "
                  "B's subnet with greedy and mutated plans, then B's FLOPs-lowering shrinks "
                  "alternating with the next-best subnets of B's search, then one-mutation "
                  "neighbours of B, with greedy plans), counted in its evaluations; "
                  f"{what}.", ""]
    return lines


def read_timings(out: Path) -> dict[str, float]:
    """Wall seconds per stage of the run in ``out`` (stages skipped as done keep the time of
    the run that did them)."""
    for name in (TIMINGS_NAME, "stage_times.json"):  # the second: runs before the rename
        if (out / name).is_file():
            return {str(k): float(v) for k, v in _read_json(out / name).items()}
    return {}


def _timings_md(times: dict[str, float]) -> str:
    from codesign.report import markdown_table

    if not times:
        return "(none recorded)"
    total = sum(times.values())
    rows = [{"stage": k, "seconds": v, "share_%": 100.0 * v / total if total else math.nan}
            for k, v in times.items()]
    rows.append({"stage": "total", "seconds": total, "share_%": 100.0})
    return markdown_table(pd.DataFrame(rows), float_format=".1f")


def summary_text(out: str | os.PathLike[str]) -> str:
    """A short text for the terminal: how C was picked, the B/C tables, the run time and the
    path of ``report.md`` (of a finished run in ``out``)."""
    out = Path(out)
    from codesign.report import markdown_table

    b, c = _read_json(out / "B.json"), _read_json(out / "C.json")
    df = pd.read_csv(out / "results.csv")
    rdf = pd.read_csv(out / "ratios.csv")
    times = read_timings(out)
    lines = [*_choice_lines(b, c), _models_md(df), "", markdown_table(rdf, float_format=".3g"),
             "", f"run time: {sum(times.values()):.0f} s over {len(times)} stages "
             f"({', '.join(f'{k} {v:.0f} s' for k, v in times.items())})",
             f"report: {out / 'report.md'}"]
    return "\n".join(lines)


def write_report(out: Path, dataset: str, profile: str, budget: str) -> Path:
    from codesign.report import kernel_breakdown_plot, markdown_table, pareto_plot, write_csv
    from codesign.report import write_text
    from pimsim.trace import ENERGY_COLUMNS, Trace

    df = results_table(out, dataset)
    write_csv(df, out / "results.csv")
    rdf = _ratios_table(df, dataset)
    write_csv(rdf, out / "ratios.csv")
    c = _read_json(out / "C.json")
    b = _read_json(out / "B.json")
    hist = pd.read_csv(out / "search_C" / "history.csv")
    hw = _read_json(out / "hardware.json")
    marks = {t: {"logloss": (b if t == "B" else c)["objectives"]["logloss"],
                 "energy_pj": hw[t]["energy_pj"], "latency_ns": hw[t]["latency_ns"]}
             for t in ("B", "C")}
    pareto_plot(hist, out / "pareto.png", marks=marks,
                title=f"{dataset}: co-search on {profile} (budget {budget})")
    kdfs = []
    for tag in ("B", "C"):
        tdf = Trace.from_parquet(out / "traces" / f"{tag}.parquet").df
        tdf = tdf[tdf["op"] != "background"]
        k = pd.DataFrame({"model": tag, "name": tdf["name"], "latency_ns": tdf["duration_ns"]})
        for col in ENERGY_COLUMNS:
            k[f"energy_{col[:-3]}_pj"] = tdf[col].to_numpy()
        kdfs.append(k)
    kernel_breakdown_plot(pd.concat(kdfs, ignore_index=True), out / "breakdown.png",
                          group="model", max_kernels=12,
                          title=f"{dataset}: per-kernel latency and energy, B vs C")
    times = read_timings(out)
    lines = [
        f"# pimrec reproduction: {dataset}, profile `{profile}`, budget `{budget}`",
        "",
        "B: best subnet of an accuracy-only search with the profile's naive plan (tables on "
        "PIM where the kind can pool, dense kernels on the host). C: the co-search front point "
        "with the lowest energy x latency whose supernet log loss is at most B's + "
        f"{LOGLOSS_TOLERANCE}. B_host: B with every kernel on the host. Latency and energy: one "
        f"inference batch of {SIM_BATCH} simulated by pimsim; FLOPs per sample (NASRec "
        "convention).",
        "",
        *_choice_lines(b, c),
        "## Models", "", _models_md(df), "",
        "## Ratios (larger = C better) beside the published ones", "",
        markdown_table(rdf, float_format=".3g"), "",
        f"Searches: {b.get('evaluations')} evaluations each (B accuracy, C pareto); C's front "
        f"holds {c.get('front_size')} points. C places {len(hw['C']['on_pim'])} kernels on PIM "
        f"with knobs {hw['C']['knobs']}; B places {len(hw['B']['on_pim'])}.", "",
        "The published work does not define its PIM hardware, configuration space or the "
        "baseline of its ratios; these are pimrec's own (see README).", "",
        "## Artefacts", "",
        "- `results.csv`, `ratios.csv`: the tables above",
        "- `pareto.png`: log loss vs energy and vs latency of every co-search evaluation, B and "
        "C marked",
        "- `breakdown.png`: per-kernel latency and energy of B and C",
        "- `traces/B.chrome.json`, `traces/C.chrome.json` (Perfetto), `traces/*.parquet`",
        f"- `{TIMINGS_NAME}`: wall seconds of each stage (the report stage's own time is added "
        "after this report is written)",
        "",
        "## Run time by stage (wall seconds on the machine that ran it)", "",
        _timings_md(times), "",
    ]
    return write_text(out / "report.md", "\n".join(lines))
