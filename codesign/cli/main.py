"""The ``codesign`` entry point: the command groups in ``--help`` order, run by pimsim's
runner; CodesignError and PimsimError are printed as one line and the process exits 2."""

from __future__ import annotations

from codesign.errors import CodesignError
from pimsim.util.cli import run_command_line
from pimsim import PimsimError

#: Modules that contribute subcommands, in the order they appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "codesign.cli.data",
    "codesign.cli.space",
    "codesign.cli.train",
    "codesign.cli.evaluate",
    "codesign.cli.search",
    "codesign.cli.reproduce",
)


def main(argv: list[str] | None = None) -> int:
    return run_command_line(
        "codesign", "NASRec-style supernet and PIM co-search for CTR models.",
        COMMAND_MODULES, (CodesignError, PimsimError), argv)
