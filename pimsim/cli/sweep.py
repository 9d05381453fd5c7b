"""``pimsim sweep``: a grid over profile parameters (``--set KEY=V1,V2,...``), each point
simulated on an executor, for a workload file or a codesign subnet (``--spec``)."""

from __future__ import annotations

import argparse
import sys

from pimsim.cli.spec import add_source_arguments, workload_or_builder
from pimsim.errors import PimsimError
from pimsim.hw.load import load_profile
from pimsim.sweep import parse_set, run_sweep
from pimsim.util.cli import check_outputs, non_negative_int, positive_int
from pimsim.util.executors import DEFAULT_EXECUTOR, make_executor
from pimsim.workload.graph import Workload

#: Schedulers whose processes ``--workers`` sizes (a remote Dask cluster has its own).
SIZED_SCHEDULERS: tuple[str, ...] = ("pool", "local")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``sweep`` command to the ``pimsim`` parser."""
    sp = subparsers.add_parser(
        "sweep", help="simulate a grid of profile parameters (--set KEY=V1,V2,...)",
        description="Sweep profile parameters by dotted key (dram.channels, "
        "pim.units_per_channel, timing.tCK_ns, pim.dtype, ...): the Cartesian product of the "
        "--set values, each point simulated (serially, on a process pool, or on Dask). "
        "Writes OUT/results.parquet, OUT/results.csv, one OUT/sweep_<key>.png per parameter; "
        "--resume skips the points already in OUT/points.jsonl (and refuses a folder written "
        "for another grid, profile, workload or seed).",
    )
    add_source_arguments(sp, "with --spec: PimPlan JSON (its knobs set the base profile; a "
                         "--set of the same key overrides)")
    sp.add_argument("--set", dest="sets", action="append", required=True, metavar="KEY=V,..",
                    help="a swept parameter and its values; repeat for a grid")
    sp.add_argument("--out", required=True, help="output folder")
    sp.add_argument("--scheduler", default=DEFAULT_EXECUTOR,
                    help="serial (default) | pool | local (Dask LocalCluster) | tcp://HOST:PORT")
    sp.add_argument("--workers", type=positive_int, default=None,
                    help="with --scheduler pool or local: processes (default: CPU cores)")
    sp.add_argument("--resume", action="store_true", help="skip points already finished")
    sp.add_argument("--seed", type=non_negative_int, default=0,
                    help="seed of the index generators (a whole number >= 0)")
    sp.add_argument("--quiet", action="store_true", help="no progress on standard error")
    sp.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    check_outputs(args, {"out": True}, PimsimError)
    if args.workers is not None and args.scheduler not in SIZED_SCHEDULERS:
        raise PimsimError(
            f"--workers {args.workers}: --scheduler {args.scheduler} does not start processes"
            f"; accepted: --workers with --scheduler {' or '.join(SIZED_SCHEDULERS)}")
    profile = load_profile(args.profile)
    workload = workload_or_builder(args)
    if not isinstance(workload, Workload):  # a --spec builder: its plan's knobs, then --set
        profile = workload.profile_for(profile)
    sets = [parse_set(s) for s in args.sets]

    def progress(done: int, total: int) -> None:
        if not args.quiet:
            print(f"\rsweep: {done}/{total} points", end="", file=sys.stderr, flush=True)

    with make_executor(args.scheduler, args.workers) as ex:
        res = run_sweep(profile, workload, sets, args.out, executor=ex, resume=args.resume,
                        seed=args.seed, progress=progress)
    if not args.quiet:
        print(file=sys.stderr)
    keys = [k for k, _ in sets]
    cols = keys + ["latency_ns", "energy_pj", "status"]
    print(res.rows[cols].to_string(index=False))
    print(f"{res.ran} points simulated, {res.skipped} skipped (done before); results in "
          f"{args.out}")
    return 0
