"""Re-exports of codesign.cli.train; to be removed with the layout move."""

from codesign.cli.train import cmd_eval, cmd_train, cmd_train_supernet, register

__all__ = ["cmd_eval", "cmd_train", "cmd_train_supernet", "register"]
