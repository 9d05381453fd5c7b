"""``codesign reproduce``: the reproduction protocol (supernet, baseline B, co-design C,
training from scratch, simulation, report) as resumable stages."""

from __future__ import annotations

import argparse
from pathlib import Path

from codesign.cli.options import (
    add_executor,
    add_quiet,
    add_threads,
    check_executor,
    check_writable,
    command,
)
from codesign.data.schema import DATASET_NAMES
from codesign.errors import CodesignError
from codesign.hw.operating import parse_batches
from codesign.pipeline.points import (
    AUTO_LIMIT_SPEEDUP,
    DEFAULT_BATCHES,
    DEFAULT_PROFILES,
    LIMIT_AUTO,
    parse_limit,
)
from codesign.pipeline.protocol import DEFAULT_BUDGET, REPRO_BUDGETS, STAGES
from codesign.pipeline.report_md import summary_text
from codesign.pipeline.reproduce import reproduce
from pimsim.util.cli import non_negative_int, positive_int


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    rp = command(subparsers, "reproduce", _run_reproduce)
    rp.add_argument("--dataset", choices=DATASET_NAMES, required=True)
    src = rp.add_mutually_exclusive_group(required=True)
    src.add_argument("--raw", type=Path, help="raw data set file (Kaggle format)")
    src.add_argument("--synthetic-rows", type=positive_int,
                     help="generate N synthetic rows in the raw format")
    hw = rp.add_mutually_exclusive_group()
    hw.add_argument("--profiles", default=None, metavar="P[,P...]",
                    help="hardware profiles (names or YAML paths), one co-search per profile "
                    f"and batch (default: {','.join(DEFAULT_PROFILES)})")
    hw.add_argument("--profile", default=None, metavar="P",
                    help="one hardware profile: --profiles P")
    rp.add_argument("--batch", default=",".join(map(str, DEFAULT_BATCHES)), metavar="B[,B...]",
                    help="inference batches of the operating points (default: %(default)s)")
    rp.add_argument("--latency-limit-us", default=LIMIT_AUTO, metavar="auto|none|US",
                    help="one more operating point per profile: batch 1 under this latency "
                    "limit (µs; auto: B's naive-plan latency / "
                    f"{AUTO_LIMIT_SPEEDUP:g}; none: no such point; default %(default)s)")
    rp.add_argument("--budget", choices=tuple(REPRO_BUDGETS), default=DEFAULT_BUDGET,
                    help="training, search and evaluation sizes (default: %(default)s)")
    rp.add_argument("--out", type=Path, required=True)
    rp.add_argument("--seed", type=non_negative_int, default=0)
    add_executor(rp)
    add_threads(rp)
    add_quiet(rp)
    rp.add_argument("--stop-after", choices=STAGES, default=None, metavar="STAGE",
                    help="stop once this stage is finished (" + ", ".join(STAGES) + "); "
                    "the same command continues from there")


def _profiles(args: argparse.Namespace) -> tuple[str, ...]:
    if args.profile is not None:
        return (args.profile,)
    if args.profiles is None:
        return DEFAULT_PROFILES
    names = tuple(p.strip() for p in args.profiles.split(","))
    if any(not p for p in names):
        raise CodesignError(f"--profiles {args.profiles}: an empty name; accepted: profile "
                            "names or YAML paths separated by commas")
    return names


def _run_reproduce(args: argparse.Namespace) -> int:
    """The reproduction protocol: supernet, baseline B, co-design C, report.

    Train the supernet, accuracy search (B), one pareto co-search (C) per profile and batch
    (and a latency-limited one at batch 1 per profile), train B and each C from scratch
    with 3 seeds (C accepted at B's mean test log loss + 0.002), simulate the
    decomposition (B, B_host, B+plan, C-arch, C, DLRM) and the advantage maps of B and C
    at each point, write OUT/report.md, summary.csv and per point the tables,
    plots and traces. Each stage is skipped when its artefact exists, so running the same
    command again continues an interrupted run.
    """
    check_executor(args)
    check_writable(args.out, "--out", "folder")
    profiles = _profiles(args)
    report = reproduce(
        args.dataset, args.out, profiles=profiles, batches=parse_batches(args.batch),
        latency_limit=parse_limit(args.latency_limit_us),
        budget=args.budget,
        raw=args.raw, synthetic_rows=args.synthetic_rows, seed=args.seed,
        scheduler=args.scheduler, workers=args.workers, threads=args.threads,
        quiet=args.quiet, stop_after=args.stop_after,
    )
    if report is None:
        print(f"stopped after stage {args.stop_after!r}; run the same command again to continue")
        return 0
    print(summary_text(report.parent))
    return 0
