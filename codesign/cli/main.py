"""The ``codesign`` entry point: the command groups in ``--help`` order, run by pimsim's
runner, which imports only the chosen command's module; CodesignError and PimsimError are
printed as one line and the process exits 2."""

from __future__ import annotations

from typing import NoReturn

from codesign.errors import CodesignError
from pimsim.util.cli import Commands, exit_process, run_command_line
from pimsim import PimsimError

#: Each subcommand, in ``--help`` order: the module that registers it and its help line
#: (the first line of the module's run function's docstring; tests/test_cli_start.py
#: checks that they agree).
COMMANDS: Commands = {
    "data": ("codesign.cli.data", "Prepare raw CTR data or write synthetic data."),
    "import-nasrec": ("codesign.cli.space", "Import a NASRec subnet JSON file, print a summary, "
                      "optionally save our spec."),
    "flops": ("codesign.cli.space",
              "FLOPs per sample (2 per multiply-add) and parameters of a subnet spec."),
    "train-supernet": ("codesign.cli.train",
                       "Train a weight-sharing supernet (checkpoints, --resume)."),
    "train": ("codesign.cli.train",
              "Train one subnet from scratch; print val/test log loss and AUC."),
    "eval": ("codesign.cli.evaluate",
             "Estimate a subnet with a trained supernet (head fine-tuning, then val)."),
    "search": ("codesign.cli.search",
               "Regularized-evolution co-search over subnet x PIM plan x PIM knobs."),
    "reproduce": ("codesign.cli.reproduce",
                  "The reproduction protocol: supernet, baseline B, co-design C, report."),
}
#: Modules that contribute subcommands, in the order they appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(m for m, _ in COMMANDS.values()))


def main(argv: list[str] | None = None) -> int:
    return run_command_line(
        "codesign", "NASRec-style supernet and PIM co-search for CTR models.",
        COMMANDS, (CodesignError, PimsimError), argv)


def script() -> NoReturn:
    """The ``codesign`` console script: :func:`main` on the process arguments, then the exit
    (:func:`pimsim.util.cli.exit_process`)."""
    exit_process(main())


if __name__ == "__main__":
    script()
