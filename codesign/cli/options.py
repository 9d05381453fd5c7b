"""Pieces every ``codesign`` command group uses: adding a subcommand, the options that mean
the same in several commands (so their help and defaults are written once), argparse types
that say what they accept in the user's terms, and the checks that run before any work:
an output path that cannot be written, an option that does not apply to the chosen mode."""

from __future__ import annotations

import argparse
import inspect
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from codesign.errors import CodesignError
from codesign.pipeline.protocol import DEFAULT_SCHEDULER
from pimsim.util import fileio
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


def int_at_least(low: int) -> Callable[[str], int]:
    """argparse type: a whole number >= ``low``, refused in the user's terms otherwise."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer; accepted: an "
                                             f"integer >= {low}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is not an integer >= {low}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def positive_number(text: str) -> float:
    """argparse type: a finite number > 0 (limits)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a finite number > 0")
    return value


def check_writable(path: Path, option: str, kind: Literal["file", "folder"]) -> None:
    """Refuse, before any work starts, an output ``path`` that cannot be written (one line
    naming ``option``; :func:`pimsim.util.fileio.check_writable`)."""
    fileio.check_writable(path, CodesignError, option, folder=kind == "folder")


def refuse_unused(args: argparse.Namespace, mode: str, unused: dict[str, Any]) -> None:
    """Refuse options that do not apply to ``mode``: ``unused`` maps an option's flag to
    the value it has when not given."""
    for flag, default in unused.items():
        if getattr(args, flag.lstrip("-").replace("-", "_")) != default:
            raise CodesignError(f"{flag}: does not apply to {mode}; accepted: leave it out")


def check_executor(args: argparse.Namespace) -> None:
    """``--scheduler`` names an executor; ``--workers`` sizes a pool or a Dask LocalCluster
    and is refused with ``serial`` or a remote scheduler."""
    if args.scheduler not in ("serial", "pool", "local") and "://" not in args.scheduler:
        raise CodesignError(f"--scheduler {args.scheduler}: unknown; accepted: serial, pool, "
                            "local or a Dask scheduler address tcp://HOST:PORT")
    if args.workers is not None and args.scheduler not in ("pool", "local"):
        raise CodesignError(f"--workers: does not apply to --scheduler {args.scheduler}; "
                            "accepted: --workers with --scheduler pool or local")
