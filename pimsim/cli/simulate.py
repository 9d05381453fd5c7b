"""``pimsim simulate``: a workload (file, or a codesign subnet through ``--spec``) on a
profile; prints one row per kernel and the totals, and writes the trace files asked for.

Every output path is checked before anything is loaded or simulated, and so is every
option against the mode it belongs to (``--replicate-hot-rows`` needs embedding kernels on
PIM and is not given twice, by the option and by a ``--plan``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pimsim.cli.spec import add_source_arguments, workload_or_builder
from pimsim.cost.layout import Layout
from pimsim.errors import PimsimError
from pimsim.hw.load import load_profile
from pimsim.hw.schema import Profile
from pimsim.sim.engine import simulate
from pimsim.util.cli import check_outputs, non_negative_int
from pimsim.workload.graph import Workload
from pimsim.workload.kernels import EmbeddingBag

#: The output options of ``simulate`` and whether each names a folder.
OUTPUTS: dict[str, bool] = {"out": False, "chrome": False, "timeline": False}
#: Suffixes ``--out`` accepts: Parquet, or CSV.
TRACE_SUFFIXES: tuple[str, ...] = (".parquet", ".csv")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``simulate`` command to the ``pimsim`` parser."""
    sim = subparsers.add_parser(
        "simulate", help="simulate a workload (YAML/JSON) on a profile; print per-kernel table",
        description="Simulate a workload on a hardware profile and print one row per kernel "
        "and the totals (latency, DRAM commands, bytes, FLOPs, energy by component).",
    )
    add_source_arguments(sim, "with --spec: PimPlan JSON (default: all on the host)")
    sim.add_argument("--out", metavar="FILE",
                     help="write the trace as Parquet (FILE.parquet) or CSV (FILE.csv)")
    sim.add_argument("--chrome", metavar="FILE",
                     help="write Chrome trace-event JSON (open in Perfetto)")
    sim.add_argument("--timeline", metavar="FILE", help="write a timeline picture (PNG)")
    sim.add_argument("--seed", type=non_negative_int, default=0,
                     help="seed of the index generators (a whole number >= 0)")
    sim.add_argument("--replicate-hot-rows", type=non_negative_int, default=None, metavar="N",
                     help="replicate the N hottest rows of each PIM embedding table in every "
                     "PIM unit (default 0; with --spec the plan says it)")
    sim.set_defaults(func=cmd_simulate)


def _check_out_suffix(out: str | None) -> None:
    if out is not None and Path(out).suffix not in TRACE_SUFFIXES:
        raise PimsimError(f"--out {out}: unknown trace format {Path(out).suffix or '(none)'}; "
                          f"accepted: a path ending in {' or '.join(TRACE_SUFFIXES)}")


def _check_replication(n: int, workload: Workload, profile: Profile) -> None:
    """``--replicate-hot-rows N > 0`` needs a PIM profile and an embedding kernel on PIM."""
    if n == 0:
        return
    on_pim = [k.name for k in workload.kernels
              if isinstance(k, EmbeddingBag) and k.placement == "pim"]
    if profile.pim is None or not on_pim:
        where = (f"profile {profile.name!r} has no pim section" if profile.pim is None
                 else f"workload {workload.name!r} has no embedding kernel placed on pim")
        raise PimsimError(f"--replicate-hot-rows {n}: {where}, so no table is replicated; "
                          "accepted: 0, or a PIM profile and embedding kernels on pim")


def cmd_simulate(args: argparse.Namespace) -> int:
    check_outputs(args, OUTPUTS, PimsimError)
    _check_out_suffix(args.out)
    profile = load_profile(args.profile)
    source = workload_or_builder(args)
    replicate: Any = args.replicate_hot_rows or 0
    if isinstance(source, Workload):
        workload = source
    else:
        profile = source.profile_for(profile)
        workload = source(profile)
        if source.replicate_hot_rows:
            if args.replicate_hot_rows is not None:
                plan = f" --plan {args.plan}" if args.plan else ""
                raise PimsimError(
                    f"--replicate-hot-rows {args.replicate_hot_rows}: the --spec workload"
                    f"{plan} already sets hot-row replication; accepted: one of the two")
            replicate = source.replicate_hot_rows
    if args.replicate_hot_rows:
        _check_replication(args.replicate_hot_rows, workload, profile)
    Layout(profile).check_fits(workload)
    trace = simulate(workload, profile, seed=args.seed, replicate_hot_rows=replicate)
    print(f"# {workload.name} on {profile.name} (seed {args.seed})")
    print(trace.table())
    if args.out:
        path = trace.to_csv(args.out) if args.out.endswith(".csv") else trace.to_parquet(
            args.out)
        print(f"trace: {path}")
    if args.chrome:
        print(f"chrome trace: {trace.to_chrome_json(args.chrome)}")
    if args.timeline:
        print(f"timeline: {trace.timeline_png(args.timeline)}")
    return 0
