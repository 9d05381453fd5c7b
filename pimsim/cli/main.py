"""The ``pimsim`` entry point: one module per command group.

``pimsim profile ...`` / ``pimsim profiles`` (:mod:`pimsim.cli.profile`), ``pimsim replay``
(:mod:`pimsim.cli.replay`), ``pimsim simulate`` (:mod:`pimsim.cli.simulate`), ``pimsim
sweep`` (:mod:`pimsim.cli.sweep`) and ``pimsim compare`` (:mod:`pimsim.cli.compare`). Errors of the PimsimError family are printed as one line
and the process exits with status 2.
"""

from __future__ import annotations

import sys

from pimsim.errors import PimsimError
from pimsim.util.cli import run_command_line

DESCRIPTION = "Cycle-approximate simulator of banked DRAM with PIM units."
#: Modules that contribute subcommands, in the order they appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = tuple(
    f"pimsim.cli.{group}" for group in ("profile", "replay", "simulate", "sweep", "compare"))


def main(argv: list[str] | None = None) -> int:
    """Run ``pimsim ARGV`` (the process arguments when ``argv`` is None); the exit status."""
    return run_command_line("pimsim", DESCRIPTION, COMMAND_MODULES, (PimsimError,), argv)


if __name__ == "__main__":
    sys.exit(main())
