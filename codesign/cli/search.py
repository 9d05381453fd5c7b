"""``codesign search``: regularized-evolution co-search over subnet x PIM plan x PIM knobs
with a trained supernet and pimsim."""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from pathlib import Path

from codesign.cli.options import (
    add_executor,
    add_quiet,
    check_executor,
    check_writable,
    command,
    field_default,
    positive_number,
)
from codesign.cosearch import CoSearchProblem, Genome
from codesign.data.schema import DATASET_NAMES
from codesign.errors import CodesignError, read_json_file
from codesign.search.store import SearchStore
from pimsim.util.executors import SERIAL, make_executor
from codesign.pipeline.protocol import DEFAULT_BUDGET
from codesign.pipeline.report import write_csv, write_text
from codesign.hw.operating import (
    BATCH_MIXES,
    DEFAULT_BATCH,
    parse_batch_mix,
    parse_batches,
    parse_latency_limits,
)
from codesign.hw.placement import PimPlan
from codesign.hw.plans import reconcile_plan, validate_plan
from codesign.search import BUDGETS, FITNESS_MODES, SearchConfig, SearchResult, run_search
from codesign.nas.space import from_dict
from codesign.train.finetune import FINETUNE_ROWS
from pimsim.util.cli import non_negative_int, positive_int
from pimsim.util.cli import to_jsonable

#: Objectives a ``--limit`` may bound: the hardware figures CoSearchProblem.evaluate returns.
LIMIT_KEYS = ("latency_ns", "energy_pj", "flops")
#: Fitness mode of a search that names none: the trade-off front.
DEFAULT_MODE = "pareto"


def _limit(text: str) -> tuple[str, float]:
    key, sep, value = text.partition("=")
    if not sep or key not in LIMIT_KEYS:
        raise argparse.ArgumentTypeError(
            f"{text!r}; accepted: KEY=V with KEY one of {', '.join(LIMIT_KEYS)}")
    return key, positive_number(value)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sp = command(subparsers, "search", _run_search)
    sp.add_argument("--data", type=Path, required=True, help="prepared data cache folder")
    sp.add_argument("--supernet", type=Path, required=True, help="supernet checkpoint")
    sp.add_argument("--profile", required=True, help="hardware profile name or YAML path")
    sp.add_argument("--mode", choices=FITNESS_MODES, default=DEFAULT_MODE,
                    help="fitness: accuracy, constrained (needs --limit or --latency-limit-us) "
                    "or pareto (default: %(default)s)")
    sp.add_argument("--budget", choices=tuple(BUDGETS), default=DEFAULT_BUDGET,
                    help="population and generations preset (default: %(default)s)")
    sp.add_argument("--out", type=Path, required=True)
    again = sp.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue the search in OUT")
    again.add_argument("--overwrite", action="store_true",
                       help="start again, replacing the search in OUT")
    add_executor(sp)
    sp.add_argument("--limit", type=_limit, action="append", default=[],
                    help=f"constrained mode: KEY=V ({', '.join(LIMIT_KEYS)}; latency of one "
                    "batch in ns, its energy in pJ, FLOPs per sample at 2 per multiply-add; with "
                    "several --batch sizes, the aggregate of --batch-mix, energy per sample); "
                    "repeatable")
    sp.add_argument("--batch", default=str(DEFAULT_BATCH), metavar="B[,B...]",
                    help="batch sizes each genome is simulated at (default: %(default)s)")
    sp.add_argument("--batch-mix", default=BATCH_MIXES[0], metavar="MIX",
                    help="how several batches combine into the latency, energy and edp the "
                    "fitness ranks: worst (the largest over the batches), sum, or weights "
                    "w1:w2:... (weighted sum), one per batch; latency per request, energy per "
                    "sample (default: %(default)s)")
    sp.add_argument("--latency-limit-us", default=None, metavar="X[,X...]",
                    help="constrained mode: latency limit of one request in us at each batch "
                    "(one value for every batch, or one per batch); a genome over any limit "
                    "is infeasible")
    sp.add_argument("--dataset", choices=DATASET_NAMES, default=None,
                    help="simulate with the published table sizes of the cache's data set, "
                    "named again here (another data set is refused; default: the cache's own, "
                    "possibly capped, table sizes)")
    sp.add_argument("--finetune-steps", type=non_negative_int, default=field_default(CoSearchProblem, "finetune_steps"),
                    help="head refit iterations per estimate (default: %(default)s)")
    sp.add_argument("--eval-rows", type=positive_int, default=field_default(CoSearchProblem, "eval_rows"),
                    help="validation rows per estimate (default: %(default)s)")
    sp.add_argument("--finetune-rows", type=positive_int, default=None,
                    help=f"training rows each head refit reads (default: {FINETUNE_ROWS})")
    sp.add_argument("--seed", type=non_negative_int, default=0)
    sp.add_argument("--precision-genes", action="store_true",
                    help="search the precision of every embedding table (fp32, fp16, int8, "
                    "int4 row-wise) and dense operator (fp32, fp16, bf16, int8) too, each "
                    "drawn from what its host or PIM target runs; the accuracy estimate "
                    "applies them (not with --mode accuracy)")
    sp.add_argument("--initial", type=Path, action="append", default=[],
                    help="JSON file of a genome put first into the initial population (counted "
                    "in the budget): {'spec': ..., 'plan': ...} such as reproduce's B.json, or "
                    "a subnet spec alone (then the profile's naive plan); repeatable")
    add_quiet(sp)


def _initial_genome(problem: CoSearchProblem, path: Path) -> Genome:
    """The genome in ``path``: {'spec', 'plan'} (a plan is dropped in mode accuracy, which
    keeps the naive plan), or a spec alone with the profile's naive plan. With precision
    genes a plan that leaves precisions open gets the types its kernels run at."""
    try:
        data = read_json_file(path, CodesignError, "a genome or subnet spec JSON file")
    except CodesignError as exc:
        raise CodesignError(f"--initial {exc}") from None
    if not isinstance(data, dict):
        raise CodesignError(f"--initial {path}: got {type(data).__name__}; accepted: a JSON "
                            "object with 'spec' (and 'plan'), or a subnet spec")
    try:
        spec = from_dict(data["spec"] if "spec" in data else data)
        if "plan" in data and problem.co_design:
            plan = PimPlan.from_dict(data["plan"], "plan")
            plan = validate_plan(plan, spec, problem.schema, problem.hw_profile)
            if problem.precision_genes:
                plan = reconcile_plan(plan, spec, problem.schema, problem.hw_profile, True)
            return Genome(spec, plan)
        return Genome(spec, problem.naive(spec))
    except CodesignError as exc:
        raise CodesignError(f"--initial {path}: {exc}") from None


def _run_search(args: argparse.Namespace) -> int:
    """Regularized-evolution co-search over subnet x PIM plan x PIM knobs.

    Search genomes (SubnetSpec, PimPlan) with a trained supernet (log loss after head fine-
    tuning) and pimsim (latency, energy of one batch). Mode accuracy keeps the profile's
    naive plan; constrained and pareto search the plan too. Writes OUT/journal.jsonl,
    OUT/checkpoint.json, OUT/history.csv, OUT/front.csv, OUT/best.json.
    """
    limits = dict(args.limit)
    batches = parse_batches(args.batch)
    weights = parse_batch_mix(args.batch_mix, batches)
    latency_limits = ({} if args.latency_limit_us is None
                      else parse_latency_limits(args.latency_limit_us, batches))
    if args.mode == "constrained" and not limits and not latency_limits:
        raise CodesignError("--mode constrained: give at least one --limit KEY=V or "
                            "--latency-limit-us X")
    for option, given in (("--limit", limits), ("--latency-limit-us", latency_limits)):
        if given and args.mode != "constrained":
            raise CodesignError(f"{option}: does not apply to --mode {args.mode}; accepted: "
                                f"{option} with --mode constrained")
    if args.precision_genes and args.mode == "accuracy":
        raise CodesignError("--precision-genes: does not apply to --mode accuracy (its plan "
                            "is the naive one); accepted: --mode constrained or pareto")
    check_executor(args)
    check_writable(args.out, "--out", "folder")
    problem = CoSearchProblem(
        data_dir=str(args.data), supernet=str(args.supernet), profile=str(args.profile),
        co_design=args.mode != "accuracy", dataset=args.dataset, batches=batches,
        batch_weights=weights, latency_limit_us=latency_limits,
        finetune_steps=args.finetune_steps, eval_rows=args.eval_rows,
        finetune_rows=args.finetune_rows, seed=args.seed,
        simulate=True, cache_dir=str(args.out / "cache"), precision_genes=args.precision_genes,
        # worker processes share the cores: one torch thread each
        num_threads=1 if args.scheduler != SERIAL else None,
    )
    problem.identity()  # reads the data, the profile and the checkpoint: errors come first
    seeds = tuple(problem.to_json(_initial_genome(problem, path)) for path in args.initial)
    cfg = SearchConfig(budget=args.budget, seed=args.seed, mode=args.mode,
                       limits={**limits, **problem.operating.search_limits()},
                       initial_genomes=seeds)
    created = not args.out.exists()
    if not args.quiet:
        print(f"search[{args.mode}]: {cfg.total_evaluations} evaluations (population "
              f"{cfg.population}, then {cfg.generations} generations of {cfg.children} "
              f"children) into {args.out}; the first also loads the data and the supernet, "
              "so the ETA settles after a few", file=sys.stderr, flush=True)
    try:
        with make_executor(args.scheduler, args.workers) as ex:
            res = run_search(problem, cfg, out_dir=args.out, resume=args.resume,
                             overwrite=args.overwrite, executor=ex, quiet=args.quiet)
    except BaseException:
        # a folder this run made and that holds no result is not left behind
        if created and not SearchStore(args.out, {}).holds_search():
            shutil.rmtree(args.out, ignore_errors=True)
        raise
    write_csv(res.history, args.out / "history.csv")
    write_csv(res.front, args.out / "front.csv")
    best = to_jsonable(res.best or {})
    write_text(args.out / "best.json", json.dumps(best, indent=1, allow_nan=False) + "\n")
    for line in summary(res, problem, cfg):
        print(line)
    print(f"results in {args.out}")
    return 0


def summary(res: SearchResult, problem: CoSearchProblem, cfg: SearchConfig) -> list[str]:
    """The lines the command prints about its result: the best genome with its aggregate and
    per-batch figures and the limits, or that no genome meets the limits."""
    points = problem.operating
    counts = f"{len(res.history)} evaluations, front {len(res.front)}"
    if res.best is None:
        if cfg.mode != "constrained":
            return []
        closest = float(res.history["violation"].min()) if len(res.history) else math.nan
        return [f"no feasible genome: none of the {len(res.history)} evaluations meets every limit "
                f"({_limits_text(cfg.limits)}); the closest exceeds them by {closest:.3g} "
                "(sum of relative excesses); the front is empty"]
    b = res.best
    many = len(points.batches) > 1
    lines = [f"best ({cfg.mode}): logloss {b.get('logloss'):.5f}  latency "
             f"{b.get('latency_ns', math.nan) / 1e3:.4g} us  energy "
             f"{b.get('energy_pj', math.nan) / 1e6:.4g} uJ{'/sample' if many else ''}  "
             f"({counts})"]
    if many:
        lines[0] += f"; over batches {','.join(map(str, points.batches))}, mix {points.mix}"
    for batch in points.batches:
        limit = points.latency_limit_us.get(batch)
        lines.append(
            f"  batch {batch}: latency {b.get(f'latency_ns@{batch}', math.nan) / 1e3:.4g} us"
            + ("" if limit is None else f" (limit {limit:g} us)")
            + f"  energy {b.get(f'energy_pj@{batch}', math.nan) / 1e6:.4g} uJ "
            f"({b.get(f'energy_pj_per_sample@{batch}', math.nan) / 1e6:.4g} uJ/sample)")
    return lines


def _limits_text(limits: dict[str, float]) -> str:
    return ", ".join(f"{k} <= {v:g}" for k, v in limits.items())
