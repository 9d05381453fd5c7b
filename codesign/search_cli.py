"""Re-exports of codesign.cli.search and codesign.cli.reproduce; to be removed with the layout move."""

from codesign.cli.reproduce import register as register_reproduce
from codesign.cli.search import register

__all__ = ["register", "register_reproduce"]
