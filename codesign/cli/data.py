"""``codesign data prepare`` (raw CTR file -> memory-mapped cache) and ``codesign data synth``
(synthetic rows in a raw format)."""

from __future__ import annotations

import argparse
from pathlib import Path

from codesign.cli.options import add_quiet, check_writable, command, int_at_least
from codesign.data.cache import SPLIT_SEED
from codesign.data.prepare import DEFAULT_CHUNK_ROWS, prepare
from codesign.data.schema import DATASET_NAMES, DEFAULT_SEARCH_CAP
from codesign.data.synthetic import write_synthetic
from pimsim.util.cli import non_negative_int, positive_int

#: Smallest bucket cap: a field needs its missing row and at least one value row.
MIN_CAP = 2


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    data = subparsers.add_parser("data", help="Prepare raw CTR data or write synthetic data.")
    sub = data.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")

    prep = command(sub, "prepare", _run_prepare)
    prep.add_argument("--dataset", required=True, choices=DATASET_NAMES)
    prep.add_argument(
        "--raw", required=True,
        help="criteo: train.txt; avazu: train (CSV); kdd: the folder with training.txt and "
        "userid_profile.txt, or training.txt itself",
    )
    prep.add_argument("--out", type=Path, required=True,
                      help="cache folder to create (replaced atomically)")
    prep.add_argument("--strict", action="store_true", help="stop at the first malformed line")
    prep.add_argument(
        "--cap", type=int_at_least(MIN_CAP), default=None,
        help=f"limit every field to N embedding rows (default: none; the search uses {DEFAULT_SEARCH_CAP})",
    )
    prep.add_argument("--seed", type=non_negative_int, default=SPLIT_SEED,
                      help="split seed (default: %(default)s)")
    prep.add_argument("--chunk-rows", type=positive_int, default=DEFAULT_CHUNK_ROWS,
                      help="lines per chunk (default: %(default)s)")
    add_quiet(prep, "no progress bar or summary")

    synth = command(sub, "synth", _run_synth)
    synth.add_argument("--schema", required=True, choices=DATASET_NAMES)
    synth.add_argument("--rows", required=True, type=positive_int)
    synth.add_argument("--out", type=Path, required=True, help="output file (kdd: output folder)")
    synth.add_argument("--seed", type=non_negative_int, default=0)
    add_quiet(synth, "no progress bar")


def _run_prepare(args: argparse.Namespace) -> int:
    """Convert a raw Criteo / Avazu / KDD 2012 file into the memory-mapped cache.

    Parse, hash (splitmix64, salted per field, into per-field buckets), split 8:1:1
    stratified by label and write a memory-mapped cache folder. Malformed lines are skipped
    and counted unless --strict.
    """
    check_writable(args.out, "--out", "folder")
    data = prepare(
        args.dataset, args.raw, args.out, cap=args.cap, strict=args.strict,
        seed=args.seed, chunk_rows=args.chunk_rows, quiet=args.quiet,
    )
    if not args.quiet:
        counts = data.meta["counts"]
        parts = ", ".join(f"{k} {v['rows']} ({v['positives']} positive)" for k, v in counts.items())
        print(f"{data.path}: {data.n_rows} rows: {parts}")
    return 0


def _run_synth(args: argparse.Namespace) -> int:
    """Write synthetic data in a raw format.

    Write synthetic rows in exactly the raw format of a data set (Zipf categorical values,
    missing values, labels from a hidden model with crosses). kdd: --out is a folder that
    receives training.txt and userid_profile.txt.
    """
    folder = args.schema == "kdd" or args.out.is_dir()
    check_writable(args.out, "--out", "folder" if folder else "file")
    files = write_synthetic(args.schema, args.rows, args.out, seed=args.seed, quiet=args.quiet)
    for f in files:
        print(f)
    return 0
