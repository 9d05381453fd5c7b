"""``pimsim compare``: host against the profile's PIM units, as an advantage map over a
grid of kernels and batch sizes, or for a model (``--workload`` / ``--spec``) kernel by
kernel and plan by plan (:mod:`pimsim.compare`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pimsim.cli.spec import spec_workload
from pimsim.compare.grid import (
    DEFAULT_BATCHES,
    DISTRIBUTIONS,
    FAMILY_OPS,
    CompareGrid,
    parse_gemms,
    parse_ints,
    parse_names,
)
from pimsim.compare.model import OBJECTIVES, compare_model
from pimsim.compare.report import write_grid, write_model
from pimsim.compare.run import default_grid, require_pim, run_grid
from pimsim.compare.transform import with_batch
from pimsim.errors import PimsimError
from pimsim.hw.dtypes import DTYPE_BITS
from pimsim.hw.load import load_profile
from pimsim.util.cli import check_outputs, positive_int
from pimsim.util.executors import DEFAULT_EXECUTOR, make_executor
from pimsim.workload.graph import load_workload

#: Options that shape the grid of the advantage map (not used by the model view).
GRID_OPTIONS: tuple[str, ...] = ("family", "gemm", "dims", "pooling", "dist", "rows")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``compare`` command to the ``pimsim`` parser."""
    sp = subparsers.add_parser(
        "compare", help="where PIM pays off: host vs PIM over kernels and batch sizes",
        description="Without --workload/--spec: the advantage map of the profile, a grid of "
        "GEMM shapes and embedding tables x batch sizes, each run on the host alone and on "
        "the profile's PIM kind; writes OUT/advantage.csv, crossover.csv, advantage.md and "
        "heatmap_<family>.png (host/PIM ratios, > 1: PIM wins). With --workload or --spec: "
        "the model view, per kernel host vs PIM at every batch, and the host-only, naive "
        "and best plans; writes OUT/model_kernels.csv, model_plans.csv, model.md, "
        "model.png and the best plan's timeline per batch.",
    )
    sp.add_argument("--profile", "-p", required=True, help="PIM profile name or YAML path")
    src = sp.add_mutually_exclusive_group()
    src.add_argument("--workload", "-w", help="model view of this workload (YAML or JSON)")
    src.add_argument("--spec", help="model view of a codesign subnet JSON; needs --dataset")
    sp.add_argument("--dataset", help="with --spec: criteo, avazu or kdd (table sizes)")
    sp.add_argument("--batch", default=",".join(map(str, DEFAULT_BATCHES)),
                    help="batch sizes, comma-separated (default %(default)s)")
    sp.add_argument("--dtype", help="data type of host and PIM alike, comma-separated for "
                    "the map (default: the PIM kind's pim.dtype for GEMMs and the model, "
                    f"every type it accepts for tables); accepted: {', '.join(DTYPE_BITS)}")
    sp.add_argument("--family", help=f"map: kernel families ({', '.join(FAMILY_OPS)}; "
                    "default: those the PIM kind runs)")
    sp.add_argument("--gemm", help="map: GEMM shapes KxN (input x output features), "
                    "comma-separated (default: CTR MLP layers and 4096x4096)")
    sp.add_argument("--dims", help="map: embedding dims, comma-separated (default 16,64,128)")
    sp.add_argument("--pooling", help="map: pooling factors (default 1,20,80)")
    sp.add_argument("--dist", help=f"map: index distributions ({', '.join(DISTRIBUTIONS)})")
    sp.add_argument("--rows", type=positive_int, help="map: rows of every table (default 1M)")
    sp.add_argument("--objective", choices=OBJECTIVES, default="latency",
                    help="model: what the best placement minimises (default latency)")
    sp.add_argument("--out", help="output folder (default compare_out/<profile>)")
    sp.add_argument("--seed", type=int, default=0, help="seed of the index generators")
    sp.add_argument("--scheduler", default=DEFAULT_EXECUTOR,
                    help="map: serial (default) | pool | local (Dask LocalCluster) | "
                    "tcp://HOST:PORT")
    sp.add_argument("--workers", type=positive_int, default=None,
                    help="processes of the pool or the Dask LocalCluster (default: CPU cores)")
    sp.add_argument("--quiet", action="store_true", help="no progress on standard error")
    sp.set_defaults(func=cmd_compare)


def _progress(quiet: bool, what: str) -> Any:
    def show(done: int, total: int) -> None:
        if not quiet:
            end = "\n" if done == total else ""
            print(f"\rcompare: {done}/{total} {what}", end=end, file=sys.stderr, flush=True)
    return show


def grid_from_args(args: argparse.Namespace) -> tuple[CompareGrid, tuple[str, ...] | None]:
    """The grid the options ask for, and the families named (None: the kind's)."""
    base = CompareGrid()
    grid = CompareGrid(
        batches=parse_ints("batch", args.batch),
        gemms=parse_gemms(args.gemm) if args.gemm else base.gemms,
        dims=parse_ints("dims", args.dims) if args.dims else base.dims,
        pooling=parse_ints("pooling", args.pooling) if args.pooling else base.pooling,
        distributions=(parse_names("dist", args.dist, DISTRIBUTIONS) if args.dist
                       else base.distributions),
        rows=args.rows or base.rows)
    families = parse_names("family", args.family, FAMILY_OPS) if args.family else None
    return grid, families


def cmd_compare(args: argparse.Namespace) -> int:
    check_outputs(args, {"out": True}, PimsimError)
    profile = load_profile(args.profile)
    require_pim(profile)
    dtypes = parse_names("dtype", args.dtype, DTYPE_BITS) if args.dtype else None
    out = Path(args.out or Path("compare_out") / profile.name)
    if args.workload or args.spec:
        return _model(args, profile, dtypes, out)
    if args.dataset:
        raise PimsimError("--dataset goes with --spec")
    grid, families = grid_from_args(args)
    grid = default_grid(profile, grid, families=families, dtypes=dtypes)
    with make_executor(args.scheduler, args.workers) as ex:
        points = run_grid(profile, grid, seed=args.seed, executor=ex,
                          progress=_progress(args.quiet, "points"))
    text, paths = write_grid(points, f"{profile.name} ({profile.pim.kind})", out)
    print(text)
    print(f"{len(points)} points; files in {out}: " + ", ".join(p.name for p in paths))
    return 0


def _model(args: argparse.Namespace, profile: Any, dtypes: tuple[str, ...] | None,
           out: Path) -> int:
    given = [f"--{o}" for o in GRID_OPTIONS if getattr(args, o) is not None]
    if given:
        raise PimsimError(f"{', '.join(given)}: options of the advantage map; accepted with "
                          "--workload/--spec: --batch, --dtype, --objective, --out, --seed")
    if dtypes is not None and len(dtypes) > 1:
        raise PimsimError(f"--dtype {args.dtype!r}: the model view runs one data type; "
                          "accepted: one of " + ", ".join(DTYPE_BITS))
    dtype = dtypes[0] if dtypes else profile.pim.dtype
    batches = parse_ints("batch", args.batch)
    if args.workload:
        if args.dataset:
            raise PimsimError("--dataset goes with --spec, not --workload")
        workload = load_workload(args.workload)

        def build(batch: int) -> Any:
            return with_batch(workload, batch)
    else:
        if not args.dataset:
            raise PimsimError("--spec needs --dataset (criteo, avazu or kdd) for the table "
                              "sizes")

        def build(batch: int) -> Any:
            return spec_workload(args.spec, args.dataset, None, batch)(profile)

    name = workload.name if args.workload else Path(args.spec).stem
    mc = compare_model(build, profile, batches, dtype=dtype, objective=args.objective,
                       seed=args.seed, name=name, progress=_progress(args.quiet, "batches"))
    text, paths = write_model(mc, out)
    print(text)
    print(f"files in {out}: " + ", ".join(p.name for p in paths))
    return 0
