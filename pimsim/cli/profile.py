"""``pimsim profile import-dramsim3 | check | list`` and ``pimsim profiles``.

``pimsim profile import-dramsim3 FILE.ini -o FILE.yaml``
``pimsim profile check FILE.yaml|NAME [--json]``
``pimsim profile list`` (also ``pimsim profiles``): every profile on the search path (by the
name ``check``, ``simulate`` and ``replay`` look it up by: its file name), loaded
and validated, with its standard, peak and PIM bandwidth; exit 2 if any is invalid.

Both ``check`` and ``list`` judge a profile by one rule, :func:`pimsim.hw.load.load_profile`
(the schema): a profile without a ``host`` section is valid (``replay`` needs the memory
only) and both say that it runs no host kernels.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pimsim.energy import background_power_mw, command_energies_pj
from pimsim.errors import PimsimError
from pimsim.cost.pim import bandwidth_ratio, internal_bandwidth_gbps
from pimsim.hw.dramsim3 import import_dramsim3_with_comments
from pimsim.hw.pim_crossbar import CrossbarFields
from pimsim.hw.load import list_profiles, load_profile, profile_to_yaml, save_profile
from pimsim.util.cli import (
    EXIT_BAD_INPUT,
    check_outputs,
    print_columns,
    print_table,
    to_jsonable,
)

#: What ``check`` and ``list`` say of a profile without a host section.
NO_HOST = "replay only; simulate runs no host kernels on it"

#: Commands whose energy ``profile check`` prints.
CHECKED_COMMANDS: tuple[str, ...] = ("ACT", "RD", "WR", "REF")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``profile`` and ``profiles`` commands to the ``pimsim`` parser."""
    profile = subparsers.add_parser("profile", help="check, list or import hardware profiles")
    profile_sub = profile.add_subparsers(dest="profile_command", required=True, metavar="ACTION")

    imp = profile_sub.add_parser(
        "import-dramsim3", help="convert a DRAMsim3 .ini configuration into a YAML profile"
    )
    imp.add_argument("ini", type=Path, help="DRAMsim3 configuration file (.ini)")
    imp.add_argument("-o", "--output", type=Path, default=None,
                     help="YAML file to write (default: print to standard output)")
    imp.add_argument("--name", type=_profile_name, default=None,
                     help="profile name (default: the name of the -o file, else of the .ini file)")
    imp.set_defaults(func=_cmd_import_dramsim3)

    check = profile_sub.add_parser("check", help="validate a profile and print a summary")
    check.add_argument("profile", help="a YAML file or a profile name such as hbm2")
    check.add_argument("--json", action="store_true", help="print the summary as JSON")
    check.set_defaults(func=_cmd_profile_check)

    listing = "list and validate every profile on the search path (hw_profiles/ and " \
        "PIMSIM_PROFILE_PATH)"
    lst = profile_sub.add_parser("list", help=listing)
    lst.set_defaults(func=cmd_profile_list)
    prof = subparsers.add_parser(
        "profiles", help=listing,
        description="Load and validate every profile in hw_profiles/ (and PIMSIM_PROFILE_PATH)"
        "; print name, standard, peak and PIM bandwidth. Exit 2 if any profile is invalid.",
    )
    prof.set_defaults(func=cmd_profile_list)


def _profile_name(text: str) -> str:
    """argparse type: a non-empty profile name."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty name; accepted: a non-empty profile name")
    return text


def _cmd_import_dramsim3(args: argparse.Namespace) -> int:
    check_outputs(args, {"output": False}, PimsimError)
    profile, comments = import_dramsim3_with_comments(args.ini)
    # the name the profile is looked up by: the YAML file's name when one is written
    name = args.name or (args.output.stem if args.output is not None else None)
    if name:
        profile = profile.model_copy(update={"name": name})
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
    for command in CHECKED_COMMANDS:
        summary[f"energy_{command}_pj"] = energies[command]
    summary["background_mw_per_rank"] = background_power_mw(profile)
    summary["host"] = "yes" if profile.host is not None else f"none: {NO_HOST}"
    summary["pim_kind"] = profile.pim.kind if profile.pim is not None else "none"
    if isinstance(profile.pim, CrossbarFields):
        x, n_ch = profile.pim, profile.pim.channels_used or profile.dram.channels
        summary["crossbar_capacity"] = x.capacity_text(n_ch)
        summary["crossbar_peak_tmacs"] = x.peak_macs_per_ns(n_ch) * 1e-3
        summary["crossbar_adc_gsps"] = x.conversions_per_ns(n_ch)
        summary["crossbar_lossless_adc_bits"] = x.lossless_adc_bits()
        summary["crossbar_lifetime_inferences"] = x.endurance_cycles * x.amortise_inferences
    if args.json:
        print(json.dumps(to_jsonable(summary), indent=2))
    else:
        print(f"{args.profile}: OK")
        print_table(summary)
    return 0


def cmd_profile_list(args: argparse.Namespace) -> int:
    bad: list[str] = []
    rows: list[tuple[str, ...]] = []
    for path in list_profiles():
        try:
            p = load_profile(path)
            host = "yes" if p.host is not None else "none"
            if p.pim is not None:
                internal = f"{internal_bandwidth_gbps(p):.1f}"
                ratio = f"{bandwidth_ratio(p):.2f}"
                kind = p.pim.kind
            else:
                internal, ratio, kind = "-", "-", "-"
            rows.append((path.stem, p.dram.standard, f"{p.peak_bandwidth_gbps:.1f}", host, kind,
                         internal, ratio, "ok", str(path)))
        except PimsimError as exc:
            bad.append(str(exc))
            rows.append((path.stem, "?", "?", "?", "?", "?", "?", "INVALID", str(path)))
    if not rows:
        print("no profiles found")
        return 0
    print_columns(("profile", "standard", "peak GB/s", "host", "pim kind", "internal GB/s",
                   "int/ext", "status", "path"), rows)
    if any(r[3] == "none" for r in rows):
        print(f"host none: {NO_HOST}")
    for msg in bad:
        print(f"pimsim: error: {msg}")
    return EXIT_BAD_INPUT if bad else 0
