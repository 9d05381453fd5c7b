"""``pimsim sweep``: a grid over profile parameters; and the ``--spec`` hook.

``--workload W`` sweeps a workload file. ``--spec S --dataset D [--plan P] [--batch N]``
sweeps a codesign subnet: pimsim never imports codesign at module level, and
:func:`spec_workload` is the single place where it does, lazily, inside the function, with
a clear error when codesign is not installed (``pimsim simulate --spec`` uses it too).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pimsim.errors import PimsimError


def spec_workload(spec: str, dataset: str | None, plan: str | None = None,
                  batch: int = 256) -> Any:
    """The codesign builder of a subnet's workload (``builder(profile) -> Workload``).

    The one lazy import of codesign from pimsim (see the module docstring).
    """
    if not dataset:
        raise PimsimError("--spec needs --dataset (criteo, avazu or kdd) for the table sizes")
    try:
        from codesign.errors import CodesignError
        from codesign.mapping import SpecWorkload
    except ModuleNotFoundError as exc:  # pragma: no cover - codesign ships with pimsim
        raise PimsimError(
            f"--spec needs the codesign package ({exc}); accepted: --workload FILE, or install "
            "pimrec with codesign"
        ) from None
    try:
        return SpecWorkload.from_files(spec, dataset, plan, batch)
    except CodesignError as exc:
        raise PimsimError(str(exc)) from None


def register(subparsers: Any) -> None:
    sp = subparsers.add_parser(
        "sweep", help="simulate a grid of profile parameters (--set KEY=V1,V2,...)",
        description="Sweep profile parameters by dotted key (dram.channels, "
        "pim.units_per_channel, timing.tCK_ns, pim.dtype, ...): the Cartesian product of the "
        "--set values, each point simulated (serially, on a process pool, or on Dask). "
        "Writes OUT/results.parquet, OUT/results.csv, one OUT/sweep_<key>.png per parameter; "
        "--resume skips the points already in OUT/points.jsonl.",
    )
    sp.add_argument("--profile", "-p", required=True, help="profile name or YAML path")
    src = sp.add_mutually_exclusive_group(required=True)
    src.add_argument("--workload", "-w", help="workload YAML or JSON file")
    src.add_argument("--spec", help="codesign subnet JSON (ours or NASRec's)")
    sp.add_argument("--dataset", help="with --spec: criteo, avazu or kdd (table sizes)")
    sp.add_argument("--plan", help="with --spec: PimPlan JSON (its knobs are ignored: the "
                    "sweep sets the hardware)")
    sp.add_argument("--batch", type=int, default=256, help="with --spec: batch size")
    sp.add_argument("--set", dest="sets", action="append", required=True, metavar="KEY=V,..",
                    help="a swept parameter and its values; repeat for a grid")
    sp.add_argument("--out", required=True, help="output folder")
    sp.add_argument("--scheduler", default=None,
                    help="serial (default) | pool | local (Dask LocalCluster) | tcp://HOST:PORT")
    sp.add_argument("--workers", type=int, default=None)
    sp.add_argument("--resume", action="store_true", help="skip points already finished")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--quiet", action="store_true")
    sp.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    from pimsim.profile import load_profile
    from pimsim.sweep import make_map_executor, parse_set, run_sweep
    from pimsim.workload import load_workload

    profile = load_profile(args.profile)
    if args.workload:
        if args.plan or args.dataset:
            raise PimsimError("--plan and --dataset go with --spec, not --workload")
        workload: Any = load_workload(args.workload)
    else:
        workload = spec_workload(args.spec, args.dataset, args.plan, args.batch)
    sets = [parse_set(s) for s in args.sets]
    ex = make_map_executor(args.scheduler, args.workers)

    def progress(done: int, total: int) -> None:
        if not args.quiet:
            print(f"\rsweep: {done}/{total} points", end="", file=sys.stderr, flush=True)

    try:
        res = run_sweep(profile, workload, sets, args.out, executor=ex, resume=args.resume,
                        seed=args.seed, progress=progress)
    finally:
        ex.close()
    if not args.quiet:
        print(file=sys.stderr)
    keys = [k for k, _ in sets]
    cols = keys + ["latency_ns", "energy_pj", "status"]
    print(res.rows[cols].to_string(index=False))
    print(f"{res.ran} points simulated, {res.skipped} skipped (done before); results in "
          f"{args.out}")
    return 0
