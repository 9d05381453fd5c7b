"""The ``codesign`` command line.

Each group of subcommands lives in its own module with a ``register(subparsers)`` function;
the runner is pimsim's (``pimsim.cli.run_command_line``). Errors of the CodesignError and
PimsimError families are printed as one line and the process exits with status 2.
"""

from __future__ import annotations

import sys

from codesign.errors import CodesignError
from pimsim.cli import run_command_line
from pimsim.errors import PimsimError

#: Modules that contribute subcommands, in the order they appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "codesign.data.commands",
    "codesign.space_cli",
    "codesign.train_cli",
    "codesign.search_cli",
)


def main(argv: list[str] | None = None) -> int:
    return run_command_line(
        "codesign", "NASRec-style supernet and PIM co-search for CTR models.",
        COMMAND_MODULES, (CodesignError, PimsimError), argv)


if __name__ == "__main__":
    sys.exit(main())
