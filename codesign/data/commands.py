"""Re-exports of codesign.cli.data; to be removed with the layout move."""

from codesign.cli.data import register

__all__ = ["register"]
