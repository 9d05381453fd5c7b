"""The ``pimsim`` entry point: one module per command group.

``pimsim profile ...`` / ``pimsim profiles`` (:mod:`pimsim.cli.profile`), ``pimsim replay``
(:mod:`pimsim.cli.replay`), ``pimsim simulate`` (:mod:`pimsim.cli.simulate`), ``pimsim
sweep`` (:mod:`pimsim.cli.sweep`) and ``pimsim compare`` (:mod:`pimsim.cli.compare`). Only the chosen command's module is imported (``pimsim
--help`` imports none). Errors of the PimsimError family are printed as one line and the
process exits with status 2.
"""

from __future__ import annotations

from typing import NoReturn

from pimsim.errors import PimsimError
from pimsim.util.cli import Commands, exit_process, run_command_line

DESCRIPTION = "Cycle-approximate simulator of banked DRAM with PIM units."
#: Each subcommand, in ``--help`` order: the module that registers it and its help line
#: (the module's own; tests/test_cli_start.py checks that they agree).
COMMANDS: Commands = {
    "profile": ("pimsim.cli.profile", "check, list or import hardware profiles"),
    "profiles": ("pimsim.cli.profile", "list and validate every profile on the search path "
                 "(hw_profiles/ and PIMSIM_PROFILE_PATH)"),
    "replay": ("pimsim.cli.replay", "replay a DRAMsim3-format request trace on a profile"),
    "simulate": ("pimsim.cli.simulate",
                 "simulate a workload (YAML/JSON) on a profile; print per-kernel table"),
    "sweep": ("pimsim.cli.sweep", "simulate a grid of profile parameters (--set KEY=V1,V2,...)"),
    "compare": ("pimsim.cli.compare",
                "where PIM pays off: host vs PIM over kernels and batch sizes"),
}
#: Modules that contribute subcommands, in the order they appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(m for m, _ in COMMANDS.values()))


def main(argv: list[str] | None = None) -> int:
    """Run ``pimsim ARGV`` (the process arguments when ``argv`` is None); the exit status."""
    return run_command_line("pimsim", DESCRIPTION, COMMANDS, (PimsimError,), argv)


def script() -> NoReturn:
    """The ``pimsim`` console script: :func:`main` on the process arguments, then the exit
    (:func:`pimsim.util.cli.exit_process`)."""
    exit_process(main())


if __name__ == "__main__":
    script()
