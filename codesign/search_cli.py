"""Re-exports of codesign.cli.search and codesign.cli.reproduce; to be removed with the layout move."""

from codesign.cli.reproduce import register as register_reproduce
from codesign.cli.search import register as register_search

__all__ = ["register", "register_reproduce", "register_search"]


def register(subparsers):  # type: ignore[no-untyped-def]
    """Both command groups the flat module registered."""
    register_search(subparsers)
    register_reproduce(subparsers)
