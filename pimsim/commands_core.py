"""Core ``pimsim`` subcommands: profiles (check, list, DRAMsim3 import) and trace replay.

``pimsim profile import-dramsim3 FILE.ini -o FILE.yaml``
``pimsim profile check FILE.yaml|NAME``
``pimsim profile list``
``pimsim replay --profile P --trace T [--json] [--out summary.csv]``

Errors of the PimsimError family propagate to :func:`pimsim.cli.main`, which prints them
and exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
from pathlib import Path
from typing import Any

from pimsim.energy import background_power_mw, command_energies_pj
from pimsim.errors import PimsimError
from pimsim.profile import (
    import_dramsim3_with_comments,
    list_profiles,
    load_profile,
    profile_to_yaml,
    save_profile,
)
from pimsim.tracefile import read_trace
from pimsim.fileio import atomic_open


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``profile`` and ``replay`` commands to the ``pimsim`` parser."""
    profile = subparsers.add_parser("profile", help="check, list or import hardware profiles")
    profile_sub = profile.add_subparsers(dest="profile_command", required=True, metavar="ACTION")

    imp = profile_sub.add_parser(
        "import-dramsim3", help="convert a DRAMsim3 .ini configuration into a YAML profile"
    )
    imp.add_argument("ini", type=Path, help="DRAMsim3 configuration file (.ini)")
    imp.add_argument("-o", "--output", type=Path, default=None,
                     help="YAML file to write (default: print to standard output)")
    imp.add_argument("--name", default=None, help="profile name (default: the file's stem)")
    imp.set_defaults(func=_cmd_import_dramsim3)

    check = profile_sub.add_parser("check", help="validate a profile and print a summary")
    check.add_argument("profile", help="a YAML file or a profile name such as hbm2")
    check.add_argument("--json", action="store_true", help="print the summary as JSON")
    check.set_defaults(func=_cmd_profile_check)

    lst = profile_sub.add_parser("list", help="list the profiles found by name")
    lst.set_defaults(func=_cmd_profile_list)

    replay = subparsers.add_parser(
        "replay", help="replay a DRAMsim3-format request trace on a profile"
    )
    replay.add_argument("--profile", required=True, help="a YAML file or a profile name")
    replay.add_argument("--trace", required=True, type=Path,
                        help="trace file: '0x<addr> READ|WRITE <cycle>' per line")
    replay.add_argument("--json", action="store_true", help="print the summary as JSON")
    replay.add_argument("--out", type=Path, default=None,
                        help="also write the summary as a one-row CSV file")
    replay.set_defaults(func=_cmd_replay)


# --- helpers --------------------------------------------------------------------------

def _format_value(value: Any) -> str:
    if isinstance(value, float):
        if value == 0 or not math.isfinite(value):
            return str(value)
        if abs(value) >= 1e6 or abs(value) < 1e-3:
            return f"{value:.4g}"
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return str(value)


def _print_table(rows: dict[str, Any]) -> None:
    width = max((len(k) for k in rows), default=0)
    for key, value in rows.items():
        print(f"{key:<{width}}  {_format_value(value)}")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _flatten(summary: dict[str, Any]) -> dict[str, Any]:
    """Nested dicts (e.g. energy by component) become ``outer.inner`` keys."""
    flat: dict[str, Any] = {}
    for key, value in summary.items():
        if isinstance(value, dict):
            for sub, sub_value in _flatten(value).items():
                flat[f"{key}.{sub}"] = sub_value
        else:
            flat[key] = value
    return flat


def _write_csv_atomic(path: Path, row: dict[str, Any]) -> None:
    import csv

    with atomic_open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)


# --- commands -------------------------------------------------------------------------

def _cmd_import_dramsim3(args: argparse.Namespace) -> int:
    profile, comments = import_dramsim3_with_comments(args.ini)
    if args.name:
        profile = profile.model_copy(update={"name": args.name})
    header = (
        f"Imported by 'pimsim profile import-dramsim3' from {args.ini.name} (DRAMsim3",
        "configuration). Each comment names the .ini line a value came from, or how it was",
        "derived the way DRAMsim3's Config (src/configuration.cc) derives it.",
    )
    if args.output is None:
        sys.stdout.write(profile_to_yaml(profile, comments, header))
    else:
        path = save_profile(profile, args.output, comments, header)
        print(f"wrote {path} ({profile.dram.standard}, {profile.dram.channels} channel(s), "
              f"{profile.dram.ranks} rank(s), {profile.peak_bandwidth_gbps:.1f} GB/s peak)")
    return 0


def _cmd_profile_check(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    summary = profile.summary()
    energies = command_energies_pj(profile)
    for command in ("ACT", "RD", "WR", "REF"):
        summary[f"energy_{command}_pj"] = energies[command]
    summary["background_mw_per_rank"] = background_power_mw(profile)
    if args.json:
        print(json.dumps(_jsonable(summary), indent=2))
    else:
        print(f"{args.profile}: OK")
        _print_table(summary)
    return 0


def _cmd_profile_list(args: argparse.Namespace) -> int:
    paths = list_profiles()
    if not paths:
        print("no profiles found")
        return 0
    width = max(len(p.stem) for p in paths)
    for path in paths:
        print(f"{path.stem:<{width}}  {path}")
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    trace = read_trace(args.trace)
    if len(trace) == 0:
        raise PimsimError(f"{args.trace}: the trace has no requests; accepted: at least one "
                          "'0x<addr> READ|WRITE <cycle>' line")
    try:
        replay_module = importlib.import_module("pimsim.replay")
    except ModuleNotFoundError as exc:
        if exc.name == "pimsim.replay":
            raise PimsimError("pimsim replay: the replay engine (pimsim.replay) is not "
                              "installed in this build") from None
        raise
    result = replay_module.replay(
        profile, trace.addresses, trace.is_write, trace.arrival_cycles
    )
    summary = _jsonable(dict(result.summary()))
    if args.out is not None:
        _write_csv_atomic(args.out, _flatten(summary))
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"profile {profile.name}, trace {args.trace} ({len(trace)} requests)")
        _print_table(_flatten(summary))
    return 0
