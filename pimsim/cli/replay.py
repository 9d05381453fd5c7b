"""``pimsim replay --profile P --trace T [--json] [--out summary.csv] [--requests-out R.parquet]
[--threads N]``: a DRAMsim3-format request trace (plain, gzip or zstd) through the DRAM
engine in bounded memory, its summary printed (and written as one CSV row), the
per-request cycles streamed to Parquet when asked for."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from pimsim.errors import PimsimError
from pimsim.hw.load import load_profile
from pimsim.requests.filereplay import replay_file
from pimsim.util.cli import check_outputs, flatten, positive_int, print_table, to_jsonable
from pimsim.util.fileio import atomic_open


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``replay`` command to the ``pimsim`` parser."""
    replay = subparsers.add_parser(
        "replay", help="replay a DRAMsim3-format request trace on a profile"
    )
    replay.add_argument("--profile", required=True, help="a YAML file or a profile name")
    replay.add_argument("--trace", required=True, type=Path,
                        help="trace file: '0x<addr> READ|WRITE <cycle>' per line (plain, "
                             "gzip or zstd)")
    replay.add_argument("--json", action="store_true", help="print the summary as JSON")
    replay.add_argument("--out", type=Path, default=None,
                        help="also write the summary as a one-row CSV file")
    replay.add_argument("--requests-out", type=Path, default=None,
                        help="write each request's admit and complete cycles to this "
                             "Parquet file")
    replay.add_argument("--threads", type=positive_int, default=None,
                        help="channel groups replayed in parallel (default: one per core "
                             "for a trace of 32 MB or more); results do not depend on it")
    replay.set_defaults(func=_cmd_replay)


def _write_csv_row(path: Path, row: dict[str, Any]) -> None:
    with atomic_open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)


def _cmd_replay(args: argparse.Namespace) -> int:
    check_outputs(args, {"out": False, "requests_out": False}, PimsimError)
    profile = load_profile(args.profile)
    result = replay_file(profile, args.trace, requests_out=args.requests_out,
                         lanes=args.threads)
    if result.dram.requests == 0:
        raise PimsimError(f"{args.trace}: the trace has no requests; accepted: at least one "
                          "'0x<addr> READ|WRITE <cycle>' line")
    summary = to_jsonable(dict(result.summary()))
    if args.out is not None:
        _write_csv_row(args.out, flatten(summary))
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"profile {profile.name}, trace {args.trace} ({result.dram.requests} requests)")
        print_table(flatten(summary))
    return 0
