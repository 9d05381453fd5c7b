"""``pimsim simulate``: a workload (file, or a codesign subnet through ``--spec``) on a
profile; prints one row per kernel and the totals, and writes the trace files asked for."""

from __future__ import annotations

import argparse
from typing import Any

from pimsim.cli.spec import add_source_arguments, workload_or_builder
from pimsim.hw.load import load_profile
from pimsim.sim.engine import simulate
from pimsim.workload.graph import Workload


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``simulate`` command to the ``pimsim`` parser."""
    sim = subparsers.add_parser(
        "simulate", help="simulate a workload (YAML/JSON) on a profile; print per-kernel table",
        description="Simulate a workload on a hardware profile and print one row per kernel "
        "and the totals (latency, DRAM commands, bytes, FLOPs, energy by component).",
    )
    add_source_arguments(sim, "with --spec: PimPlan JSON (default: all on the host)")
    sim.add_argument("--out", help="write the trace as Parquet (or CSV if it ends in .csv)")
    sim.add_argument("--chrome", help="write Chrome trace-event JSON (open in Perfetto)")
    sim.add_argument("--timeline", help="write a timeline picture (PNG)")
    sim.add_argument("--seed", type=int, default=0, help="seed of the index generators")
    sim.add_argument("--replicate-hot-rows", type=int, default=0, metavar="N",
                     help="replicate the N hottest rows of each table in every PIM unit")
    sim.set_defaults(func=cmd_simulate)


def cmd_simulate(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    source = workload_or_builder(args)
    replicate: Any = args.replicate_hot_rows
    if isinstance(source, Workload):
        workload = source
    else:
        profile = source.profile_for(profile)
        workload = source(profile)
        replicate = source.replicate_hot_rows or replicate
    trace = simulate(workload, profile, seed=args.seed, replicate_hot_rows=replicate)
    print(f"# {workload.name} on {profile.name} (seed {args.seed})")
    print(trace.table())
    if args.out:
        path = trace.to_csv(args.out) if str(args.out).endswith(".csv") else trace.to_parquet(
            args.out)
        print(f"trace: {path}")
    if args.chrome:
        print(f"chrome trace: {trace.to_chrome_json(args.chrome)}")
    if args.timeline:
        print(f"timeline: {trace.timeline_png(args.timeline)}")
    return 0
