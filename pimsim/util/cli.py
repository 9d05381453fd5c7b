"""The command-line runner of ``pimsim`` and ``codesign``, argparse types and printing.

Each group of subcommands lives in its own module with a ``register(subparsers)`` function
that adds its parsers and sets ``func`` on each. :func:`run_command_line` prints errors of
the given exception families as one line and exits with status 2, never with a traceback.
:func:`check_outputs` checks a command's output paths before it starts its work.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import math
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from pimsim.util.fileio import check_writable

__all__ = [
    "COMMAND_ENVIRONMENT",
    "Commands",
    "build_parser",
    "check_outputs",
    "chosen_command",
    "flatten",
    "format_value",
    "lazy_parser",
    "non_negative_int",
    "positive_int",
    "print_columns",
    "print_table",
    "run_command_line",
    "to_jsonable",
]

#: Exit status of a command whose reader closed the pipe (128 + SIGPIPE), as a shell reports.
EXIT_BROKEN_PIPE = 141
#: Exit status of an interrupted command (128 + SIGINT).
EXIT_INTERRUPTED = 130
#: Exit status of a command given bad input (an error of the package's family).
EXIT_BAD_INPUT = 2


def _whole_number(text: str, accepted: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer; accepted: "
                                         f"{accepted}") from None


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1, with a clear message otherwise."""
    value = _whole_number(text, "a positive integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer; accepted: a "
                                         "positive integer (1, 2, ...)")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: a whole number >= 0 (a seed, a count that may be zero)."""
    value = _whole_number(text, "a whole number >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; accepted: a whole number "
                                         ">= 0 (0, 1, 2, ...)")
    return value


def check_outputs(args: argparse.Namespace, options: Mapping[str, bool],
                  error: type[Exception]) -> None:
    """Raise ``error`` (one line) unless every output option given in ``args`` can be
    written, before any work starts. ``options`` maps an attribute of ``args`` (``"out"``,
    ``"chrome"``) to whether its value is a folder (True) or a file (False); options left
    at None are skipped. Two options naming one file are refused too."""
    seen: dict[Path, str] = {}
    for name, folder in options.items():
        value = getattr(args, name, None)
        if value is None:
            continue
        flag = "--" + name.replace("_", "-")
        path = check_writable(value, error, flag, folder=folder).absolute()
        if path in seen:
            raise error(f"{flag} {value}: {seen[path]} writes the same file; accepted: a "
                        "different path for each output")
        seen[path] = flag


def build_parser(prog: str, description: str,
                 modules: Sequence[str]) -> argparse.ArgumentParser:
    """A parser with every subcommand of ``modules`` (dotted names) registered: the whole
    command line at once, for tools and tests that read its options."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in modules:
        importlib.import_module(name).register(sub)
    return parser


#: a command line's subcommands: name -> (module that registers it, one-line help)
Commands = Mapping[str, tuple[str, str]]


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names: its first word that is not an option."""
    return next((a for a in argv if not a.startswith("-")), None)


def lazy_parser(prog: str, description: str, commands: Commands,
                argv: Sequence[str]) -> argparse.ArgumentParser:
    """A parser in which only the module of the subcommand ``argv`` names is imported
    (and registered); every other subcommand is a stub with its help, enough for
    ``--help`` and for argparse's list of choices. Start-up then pays for one command's
    imports, not for all of them."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    name = chosen_command(argv)
    if name in commands:
        importlib.import_module(commands[name][0]).register(sub)
    for other, (_, help_text) in commands.items():
        if other not in sub.choices:
            sub.add_parser(other, help=help_text, add_help=False)
    return parser


#: Environment a command runs in unless the user set the variable: numpy's OpenBLAS starts
#: one thread per core when numpy is imported, and they spin for about 0.1 s of CPU (on the
#: project's 2-core machine, ``import numpy`` alone: 0.23 s CPU, 0.13 s with one thread),
#: which a short command pays on its start-up and a replay in channel groups takes from its
#: lanes. pimsim's array work is elementwise or compiled, none of it a numpy BLAS call;
#: codesign's matrix products run in torch, whose BLAS (MKL) keeps its own threads.
COMMAND_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1"}


def run_command_line(prog: str, description: str, commands: Commands,
                     errors: tuple[type[BaseException], ...],
                     argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the chosen subcommand (only its module is imported:
    :func:`lazy_parser`), map ``errors`` to one line and exit 2. Sets
    :data:`COMMAND_ENVIRONMENT` first (it takes effect when numpy is not yet imported)."""
    for name, value in COMMAND_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    words = sys.argv[1:] if argv is None else argv
    args = lazy_parser(prog, description, commands, words).parse_args(words)
    try:
        return int(args.func(args) or 0)
    except errors as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): silence the rest of the output.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def exit_process(status: int) -> NoReturn:
    """End a command-line process with ``status`` (the console scripts' last step).

    When the main thread is the last thread left, the exit handlers run and the standard
    streams are flushed, as at a normal exit, and the process then ends at once: the
    interpreter's teardown, which frees every module and the machine code Numba loaded, is
    skipped. That teardown is about 0.5 s of a short ``pimsim replay`` on the project's
    2-core machine (benchmarks/README.md, "Replay"). With other threads alive the exit is
    the normal one, which waits for them.
    """
    if threading.active_count() > 1:
        sys.exit(status)
    atexit._run_exitfuncs()  # what a normal exit runs first (logging's flush and the like)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or the reader went away
            pass
    os._exit(status)


def format_value(value: Any) -> str:
    """A number as people read it: 4 significant digits when very large or small."""
    if isinstance(value, float):
        if value == 0 or not math.isfinite(value):
            return str(value)
        if abs(value) >= 1e6 or abs(value) < 1e-3:
            return f"{value:.4g}"
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return str(value)


def print_table(rows: Mapping[str, Any]) -> None:
    """``key  value`` lines, the keys padded to one width."""
    width = max((len(k) for k in rows), default=0)
    for key, value in rows.items():
        print(f"{key:<{width}}  {format_value(value)}")


def print_columns(head: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A header and rows of strings, each column padded to its widest cell."""
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    for r in (head, *rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


def to_jsonable(value: Any) -> Any:
    """``value`` with numpy scalars and arrays made plain Python and non-finite floats made
    ``None``, so that ``json.dumps(..., allow_nan=False)`` writes strict JSON (``NaN`` is
    not JSON, and strict readers refuse it)."""
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy scalars and arrays
        return to_jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def flatten(summary: Mapping[str, Any]) -> dict[str, Any]:
    """Nested mappings (e.g. energy by component) become ``outer.inner`` keys."""
    flat: dict[str, Any] = {}
    for key, value in summary.items():
        if isinstance(value, Mapping):
            for sub, sub_value in flatten(value).items():
                flat[f"{key}.{sub}"] = sub_value
        else:
            flat[key] = value
    return flat
