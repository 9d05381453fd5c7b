"""The ``--spec`` hook of ``pimsim simulate`` and ``pimsim sweep``: a workload builder found
through an entry point, so that pimsim never imports the package that provides it.

A builder is registered in the entry-point group ``pimsim.workload_builders`` (codesign
declares ``subnet = codesign.hw.spec_workload:SpecWorkload`` in its ``pyproject.toml``).
It is a class with

- ``from_files(spec_path, dataset, plan_path, batch)`` -> builder (a classmethod),
- ``profile_for(profile)`` -> the profile with the plan's hardware knobs applied,
- ``replicate_hot_rows`` -> hot rows replicated per kernel name (a mapping or an int),
- ``__call__(profile)`` -> :class:`~pimsim.workload.graph.Workload`,

and must pickle (sweep points may run in other processes). Errors whose class the
builder's own top-level package defines are its bad-input errors: they are reported as a
:class:`~pimsim.errors.WorkloadError` (pimsim cannot name another package's exception
family); any other exception is a bug and propagates.
"""

from __future__ import annotations

import argparse
from importlib.metadata import entry_points
from typing import Any

from pimsim.errors import PimsimError, WorkloadError
from pimsim.util.cli import positive_int
from pimsim.util.fileio import read_text
from pimsim.workload.graph import Workload, load_workload

#: Entry-point group of the workload builders.
BUILDER_GROUP = "pimsim.workload_builders"
#: Name of the builder ``--spec`` uses: a codesign subnet spec with a PIM plan.
SPEC_BUILDER = "subnet"
#: Batch of a ``--spec`` workload when ``--batch`` is not given.
DEFAULT_BATCH = 256
#: The options that only ``--spec`` reads (attribute of the parsed arguments, flag).
SPEC_ONLY_OPTIONS: tuple[tuple[str, str], ...] = (("dataset", "--dataset"), ("plan", "--plan"),
                                                  ("batch", "--batch"))


def find_builder(name: str) -> Any:
    """The builder class registered as ``name`` in :data:`BUILDER_GROUP`."""
    found = list(entry_points(group=BUILDER_GROUP, name=name))
    if not found:
        installed = sorted(ep.name for ep in entry_points(group=BUILDER_GROUP))
        raise PimsimError(
            f"--spec: no workload builder {name!r} is installed (entry-point group "
            f"{BUILDER_GROUP!r} has {installed or 'none'}); accepted: --workload FILE, or "
            "install pimrec with codesign, which provides it"
        )
    values = sorted({ep.value for ep in found})
    if len(values) > 1:
        raise PimsimError(
            f"--spec: {len(values)} workload builders are installed as {name!r} "
            f"({', '.join(values)}); accepted: exactly one"
        )
    return found[0].load()


def _own_error(builder: Any, exc: BaseException) -> bool:
    """Whether ``exc``'s class comes from the same top-level package as ``builder``."""
    package = builder.__module__.partition(".")[0]
    return type(exc).__module__.partition(".")[0] == package


def spec_workload(spec: str, dataset: str | None, plan: str | None = None,
                  batch: int = DEFAULT_BATCH, *, name: str | None = None) -> Any:
    """The builder of ``spec`` (``builder(profile) -> Workload``), from the files given, by
    the builder registered as ``name`` (default :data:`SPEC_BUILDER`)."""
    if not dataset:
        raise PimsimError("--spec needs --dataset (criteo, avazu or kdd) for the table sizes")
    # The files must be UTF-8 text: read here, so that a bad file is one line in pimsim's
    # terms whatever the builder's own reader does with it.
    read_text(spec, PimsimError, "the --spec subnet (JSON)")
    if plan is not None:
        read_text(plan, PimsimError, "the --plan PIM plan (JSON)")
    builder = find_builder(name or SPEC_BUILDER)
    try:
        return builder.from_files(spec, dataset, plan, batch)
    except Exception as exc:
        if isinstance(exc, PimsimError) or not _own_error(builder, exc):
            raise
        raise WorkloadError(str(exc)) from None


def add_source_arguments(parser: argparse.ArgumentParser, plan_help: str) -> None:
    """``--profile``, and ``--workload FILE`` or ``--spec S --dataset D [--plan P] [--batch N]``."""
    parser.add_argument("--profile", "-p", required=True, help="profile name or YAML path")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--workload", "-w", help="workload YAML or JSON file")
    src.add_argument("--spec", help="codesign subnet JSON (ours or NASRec's); needs --dataset")
    parser.add_argument("--dataset", help="with --spec: criteo, avazu or kdd (table sizes)")
    parser.add_argument("--plan", help=plan_help)
    parser.add_argument("--batch", type=positive_int, default=None,
                        help=f"with --spec: batch size (default {DEFAULT_BATCH}; a workload "
                        "file gives its own)")


def workload_or_builder(args: argparse.Namespace) -> Workload | Any:
    """The workload file of ``--workload``, or the builder of ``--spec``; options that only
    ``--spec`` reads are refused with ``--workload``."""
    if args.workload:
        given = [flag for attr, flag in SPEC_ONLY_OPTIONS if getattr(args, attr) is not None]
        if given:
            raise PimsimError(
                f"{' and '.join(given)}: only --spec reads {'them' if len(given) > 1 else 'it'}"
                f"; --workload {args.workload} gives its own tables, placement and batch; "
                "accepted: --workload FILE alone, or --spec FILE with these")
        return load_workload(args.workload)
    batch = DEFAULT_BATCH if args.batch is None else args.batch
    return spec_workload(args.spec, args.dataset, args.plan, batch)
