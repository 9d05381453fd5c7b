"""``pimsim simulate`` and ``pimsim profiles``: workload simulation and the profile list."""

from __future__ import annotations

import argparse
from typing import Any

from pimsim.errors import PimsimError


def register(subparsers: Any) -> None:
    sim = subparsers.add_parser(
        "simulate", help="simulate a workload (YAML/JSON) on a profile; print per-kernel table",
        description="Simulate a workload on a hardware profile and print one row per kernel "
        "and the totals (latency, DRAM commands, bytes, FLOPs, energy by component).",
    )
    sim.add_argument("--profile", "-p", required=True, help="profile name or YAML path")
    src = sim.add_mutually_exclusive_group(required=True)
    src.add_argument("--workload", "-w", help="workload YAML or JSON file")
    src.add_argument("--spec", help="codesign subnet JSON (ours or NASRec's); needs --dataset")
    sim.add_argument("--dataset", help="with --spec: criteo, avazu or kdd (table sizes)")
    sim.add_argument("--plan", help="with --spec: PimPlan JSON (default: all on the host)")
    sim.add_argument("--batch", type=int, default=256, help="with --spec: batch size")
    sim.add_argument("--out", help="write the trace as Parquet (or CSV if it ends in .csv)")
    sim.add_argument("--chrome", help="write Chrome trace-event JSON (open in Perfetto)")
    sim.add_argument("--timeline", help="write a timeline picture (PNG)")
    sim.add_argument("--seed", type=int, default=0, help="seed of the index generators")
    sim.add_argument("--replicate-hot-rows", type=int, default=0, metavar="N",
                     help="replicate the N hottest rows of each table in every PIM unit")
    sim.set_defaults(func=cmd_simulate)

    prof = subparsers.add_parser(
        "profiles", help="list and validate every profile in hw_profiles/",
        description="Load and validate every profile in hw_profiles/ (and PIMSIM_PROFILE_PATH)"
        "; print name, standard, peak and PIM bandwidth. Exit 2 if any profile is invalid.",
    )
    prof.set_defaults(func=cmd_profiles)


def cmd_simulate(args: argparse.Namespace) -> int:
    from pimsim.engine import simulate
    from pimsim.profile import load_profile
    from pimsim.workload import load_workload

    profile = load_profile(args.profile)
    replicate: Any = args.replicate_hot_rows
    if args.spec:  # the codesign hook (pimsim.commands_sweep.spec_workload)
        from pimsim.commands_sweep import spec_workload

        builder = spec_workload(args.spec, args.dataset, args.plan, args.batch)
        profile = builder.profile_for(profile)
        workload = builder(profile)
        replicate = builder.replicate_hot_rows or replicate
    else:
        workload = load_workload(args.workload)
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


def cmd_profiles(args: argparse.Namespace) -> int:
    from pimsim.pim import bandwidth_ratio, internal_bandwidth_gbps
    from pimsim.profile import list_profiles, load_profile

    bad: list[str] = []
    rows: list[tuple[str, ...]] = []
    for path in list_profiles():
        try:
            p = load_profile(path)
            if p.host is None:
                raise PimsimError(f"{path}: no host section; every profile needs one")
            if p.pim is not None:
                internal = f"{internal_bandwidth_gbps(p):.1f}"
                ratio = f"{bandwidth_ratio(p):.2f}"
                kind = p.pim.kind
            else:
                internal, ratio, kind = "-", "-", "-"
            rows.append((p.name, p.dram.standard, f"{p.peak_bandwidth_gbps:.1f}", kind, internal,
                         ratio, "ok"))
        except PimsimError as exc:
            bad.append(str(exc))
            rows.append((path.stem, "?", "?", "?", "?", "?", "INVALID"))
    head = ("profile", "standard", "peak GB/s", "pim kind", "internal GB/s", "int/ext", "status")
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    for r in (head, *rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    if bad:
        for msg in bad:
            print(f"pimsim: error: {msg}")
        return 2
    return 0
