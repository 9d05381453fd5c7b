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
from codesign.pipeline.protocol import DEFAULT_BUDGET, DEFAULT_PROFILE, REPRO_BUDGETS, STAGES
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
    rp.add_argument("--profile", default=DEFAULT_PROFILE,
                    help="hardware profile name or YAML path (default: %(default)s)")
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


def _run_reproduce(args: argparse.Namespace) -> int:
    """The reproduction protocol: supernet, baseline B, co-design C, report.

    Train the supernet, accuracy search (B), pareto co-search (C), train both from scratch,
    simulate, write OUT/report.md, results.csv, pareto.png, breakdown.png and the Chrome
    traces of B and C. Each stage is skipped when its artefact exists, so running the same
    command again continues an interrupted run.
    """
    check_executor(args)
    check_writable(args.out, "--out", "folder")
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
