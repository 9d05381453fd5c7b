"""The ``pimsim`` command line: :func:`main` (the ``pimsim`` script runs it through
``pimsim.cli.main:script``) and one module per command group; the demo ``python -m
pimsim.cli.demo``.

``run_command_line`` and ``positive_int`` are re-exports of pimsim.util.cli for codesign;
to be removed with the layout move.
"""

from pimsim.cli.main import main
from pimsim.util.cli import positive_int, run_command_line  # noqa: F401

__all__ = ["main"]
