"""``codesign search`` (co-search over subnet x PIM plan) and ``codesign reproduce``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from codesign.errors import CodesignError
from codesign.reproduce import STAGES
from pimsim.cli import positive_int




def _limit(text: str) -> tuple[str, float]:
    key, sep, value = text.partition("=")
    if not sep or key not in ("latency_ns", "energy_pj", "flops"):
        raise argparse.ArgumentTypeError(
            f"{text!r}; accepted: latency_ns=V, energy_pj=V or flops=V")
    try:
        return key, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sp = subparsers.add_parser(
        "search",
        help="regularized-evolution co-search over subnet x PIM plan x PIM knobs",
        description="Search genomes (SubnetSpec, PimPlan) with a trained supernet (log loss "
        "after head fine-tuning) and pimsim (latency, energy of one batch). Mode accuracy "
        "keeps the profile's naive plan; constrained and pareto search the plan too. Writes "
        "OUT/journal.jsonl, OUT/checkpoint.json, OUT/history.csv, OUT/front.csv, OUT/best.json.",
    )
    sp.add_argument("--data", type=Path, required=True, help="prepared data cache folder")
    sp.add_argument("--supernet", type=Path, required=True, help="supernet checkpoint")
    sp.add_argument("--profile", required=True, help="hardware profile name or YAML path")
    sp.add_argument("--mode", choices=("accuracy", "constrained", "pareto"), default="pareto")
    sp.add_argument("--budget", choices=("tiny", "small", "paper"), default="tiny")
    sp.add_argument("--out", type=Path, required=True)
    sp.add_argument("--resume", action="store_true", help="continue the search in OUT")
    sp.add_argument("--scheduler", default=None,
                    help="serial | pool (default) | local (Dask LocalCluster) | tcp://HOST:PORT")
    sp.add_argument("--workers", type=positive_int, default=None)
    sp.add_argument("--limit", type=_limit, action="append", default=[],
                    help="constrained mode: KEY=V (latency_ns, energy_pj, flops); repeatable")
    sp.add_argument("--dataset", default=None,
                    help="simulate with this data set's published table sizes (default: the "
                    "cache's own schema)")
    sp.add_argument("--finetune-steps", type=int, default=50)
    sp.add_argument("--eval-rows", type=positive_int, default=20000)
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--initial", type=Path, action="append", default=[],
                    help="JSON file of a genome put first into the initial population (counted "
                    "in the budget): {'spec': ..., 'plan': ...} such as reproduce's B.json, or "
                    "a subnet spec alone (then the profile's naive plan); repeatable")
    sp.add_argument("--quiet", action="store_true")
    sp.set_defaults(func=_run_search)

    rp = subparsers.add_parser(
        "reproduce",
        help="the reproduction protocol: supernet, baseline B, co-design C, report",
        description="Steps 1-6 of the co-design issue: train the supernet, accuracy search "
        "(B), pareto co-search (C), train both from scratch, simulate, write OUT/report.md, "
        "results.csv, pareto.png, breakdown.png and the Chrome traces of B and C. Each stage "
        "is skipped when its artefact exists, so rerunning continues an interrupted run.",
    )
    rp.add_argument("--dataset", choices=("criteo", "avazu", "kdd"), required=True)
    src = rp.add_mutually_exclusive_group(required=True)
    src.add_argument("--raw", type=Path, help="raw data set file (Kaggle format)")
    src.add_argument("--synthetic-rows", type=positive_int,
                     help="generate N synthetic rows in the raw format")
    rp.add_argument("--profile", default="hbm2_pim")
    rp.add_argument("--budget", choices=("tiny", "small", "paper"), default="tiny")
    rp.add_argument("--out", type=Path, required=True)
    rp.add_argument("--seed", type=int, default=0)
    rp.add_argument("--scheduler", default="serial",
                    help="serial (default) | pool | local | tcp://HOST:PORT")
    rp.add_argument("--workers", type=positive_int, default=None)
    rp.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads")
    rp.add_argument("--resume", action="store_true",
                    help="accepted for symmetry: finished stages are always skipped")
    rp.add_argument("--quiet", action="store_true")
    rp.add_argument("--stop-after", choices=STAGES, default=None, metavar="STAGE",
                    help="stop once this stage is finished (" + ", ".join(STAGES) + "); "
                    "the same command continues from there")
    rp.set_defaults(func=_run_reproduce)


def _initial_genome(problem: object, path: Path) -> object:
    """The genome in ``path``: {'spec', 'plan'} (a plan is dropped in mode accuracy, which
    keeps the naive plan), or a spec alone with the profile's naive plan."""
    from codesign.cosearch import CoSearchProblem, Genome
    from codesign.plan import PimPlan, validate_plan
    from codesign.space import from_dict

    assert isinstance(problem, CoSearchProblem)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CodesignError(f"--initial {path}: unreadable ({exc}); accepted: a JSON file") from exc
    if not isinstance(data, dict):
        raise CodesignError(f"--initial {path}: got {type(data).__name__}; accepted: a JSON "
                            "object with 'spec' (and 'plan'), or a subnet spec")
    try:
        spec = from_dict(data["spec"] if "spec" in data else data)
        if "plan" in data and problem.co_design:
            plan = PimPlan.from_dict(data["plan"], "plan")
            return Genome(spec, validate_plan(plan, spec, problem.schema, problem.hw_profile))
        return Genome(spec, problem.naive(spec))
    except CodesignError as exc:
        raise CodesignError(f"--initial {path}: {exc}") from None


def _run_search(args: argparse.Namespace) -> int:
    from codesign.cosearch import CoSearchProblem
    from codesign.executor import make_executor
    from codesign.report import write_csv, write_text
    from codesign.search import SearchConfig, run_search

    limits = dict(args.limit)
    if args.mode == "constrained" and not limits:
        raise CodesignError("--mode constrained: give at least one --limit KEY=V")
    problem = CoSearchProblem(
        data_dir=str(args.data), supernet=str(args.supernet), profile=str(args.profile),
        co_design=args.mode != "accuracy", dataset=args.dataset,
        finetune_steps=args.finetune_steps, eval_rows=args.eval_rows, seed=args.seed,
        simulate=True, cache_dir=str(args.out / "cache"),
        num_threads=1 if args.scheduler not in ("serial",) else None,
    )
    seeds = tuple(problem.to_json(_initial_genome(problem, path)) for path in args.initial)
    cfg = SearchConfig(budget=args.budget, seed=args.seed, mode=args.mode, limits=limits,
                       initial_genomes=seeds)
    with make_executor(args.scheduler, args.workers) as ex:
        res = run_search(problem, cfg, out_dir=args.out, resume=args.resume, executor=ex,
                         quiet=args.quiet)
    write_csv(res.history, args.out / "history.csv")
    write_csv(res.front, args.out / "front.csv")
    best = {k: (v if not hasattr(v, "item") else v.item()) for k, v in (res.best or {}).items()}
    write_text(args.out / "best.json", json.dumps(best, indent=1, default=str) + "\n")
    if res.best is not None:
        print(f"best ({args.mode}): logloss {res.best.get('logloss'):.5f}  latency "
              f"{res.best.get('latency_ns', float('nan')) / 1e3:.4g} us  energy "
              f"{res.best.get('energy_pj', float('nan')) / 1e6:.4g} uJ  "
              f"({len(res.history)} evaluations, front {len(res.front)})")
    print(f"results in {args.out}")
    return 0


def _run_reproduce(args: argparse.Namespace) -> int:
    from codesign.reproduce import reproduce, summary_text

    report = reproduce(
        args.dataset, args.out, profile=args.profile, budget=args.budget,
        raw=args.raw, synthetic_rows=args.synthetic_rows, seed=args.seed,
        scheduler=args.scheduler, workers=args.workers, threads=args.threads,
        quiet=args.quiet, stop_after=args.stop_after,
    )
    if report is None:
        print(f"stopped after stage {args.stop_after!r}; run the same command again to continue")
        return 0
    print(summary_text(report.parent))
    return 0
