"""Re-exports of codesign.cli.space; to be removed with the layout move."""

from codesign.cli.space import cmd_flops, cmd_import_nasrec, register, summary_lines

__all__ = ["cmd_flops", "cmd_import_nasrec", "register", "summary_lines"]
