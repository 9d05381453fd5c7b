"""Pieces every ``codesign`` command group uses: adding a subcommand, and the options that
mean the same in several commands (so their help and defaults are written once)."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from typing import Any

from codesign.pipeline.protocol import DEFAULT_SCHEDULER
from pimsim.util.cli import positive_int

Subparsers = argparse._SubParsersAction  # type: ignore[type-arg]


def command(subparsers: Subparsers, name: str, run: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
    """A subcommand ``name`` that runs ``run(args)``; the first paragraph of ``run``'s
    docstring is its one-line help, the rest its ``--help`` description."""
    doc = inspect.getdoc(run) or ""
    summary, _, details = doc.partition("\n\n")
    summary = " ".join(summary.split())
    parser = subparsers.add_parser(name, help=summary, description=" ".join(details.split()) or summary)
    parser.set_defaults(func=run)
    return parser


def add_quiet(parser: argparse.ArgumentParser, what: str = "no progress bars") -> None:
    parser.add_argument("--quiet", action="store_true", help=what)


def add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=positive_int, default=None,
                        help="torch CPU threads (default: torch's own setting)")


def add_executor(parser: argparse.ArgumentParser) -> None:
    """``--scheduler`` and ``--workers``: where evaluations run (pimsim.util.executors)."""
    parser.add_argument("--scheduler", default=DEFAULT_SCHEDULER,
                        help="serial | pool (local process pool) | local (Dask LocalCluster) | "
                        "tcp://HOST:PORT (default: %(default)s)")
    parser.add_argument("--workers", type=positive_int, default=None,
                        help="worker processes of a pool or a Dask LocalCluster")


def field_default(cls: Any, name: str) -> Any:
    """The default of dataclass field ``name`` of ``cls`` (defaults are read, never retyped)."""
    return cls.__dataclass_fields__[name].default
