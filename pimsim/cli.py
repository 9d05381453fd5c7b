"""The ``pimsim`` command line (and the shared runner ``codesign`` uses too).

Each group of subcommands lives in its own module with a ``register(subparsers)`` function
that adds its parsers and sets ``func`` on each. Errors of the package's exception family
are printed as one line and the process exits with status 2, never with a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from pimsim.errors import PimsimError

#: Modules that contribute subcommands, in the order they appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "pimsim.commands_core",
    "pimsim.commands_sim",
    "pimsim.commands_sweep",
)


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1, with a clear message otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer")
    return value


def build_parser(prog: str, description: str,
                 modules: Sequence[str]) -> argparse.ArgumentParser:
    """A parser with one subcommand group per module of ``modules``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in modules:
        importlib.import_module(name).register(sub)
    return parser


def run_command_line(prog: str, description: str, modules: Sequence[str],
                     errors: tuple[type[BaseException], ...],
                     argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the chosen subcommand, map ``errors`` to one line and exit 2."""
    args = build_parser(prog, description, modules).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except errors as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): silence the rest of the output.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    return run_command_line(
        "pimsim", "Cycle-approximate simulator of banked DRAM with PIM units.",
        COMMAND_MODULES, (PimsimError,), argv)


if __name__ == "__main__":
    sys.exit(main())
