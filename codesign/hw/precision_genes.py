"""Precision genes of a plan: what each table and dense operator may run at where it is
placed, the draws of sampling and mutation, and the settling of a plan's precisions with
its placements.

An operator's precision holds for every kernel of it (:attr:`MappedKernel.op_key`), so it
must be a type that each kernel's target runs (:func:`op_dtypes`, the intersection of
:func:`codesign.hw.capability.dense_dtypes` over the kernels). Settling keeps a given
precision wherever some placement of the operator's kernels runs it, moving kernels
between host and PIM as needed; only when none does, or when the plan leaves the precision
open and the caller asks for explicit ones (``fill``), it takes the most accurate type that
the placements run (the first of :data:`codesign.quant.DENSE_DTYPES` /
:data:`~codesign.quant.TABLE_DTYPES`). Nothing here compares costs: precisions change
accuracy, so the hardware side never picks them by cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from codesign.hw.capability import dense_dtypes, has_pim, table_capable, table_dtypes
from codesign.hw.mapping import MappedKernel, SubnetGraph
from codesign.quant.precision import DENSE_DTYPES, TABLE_DTYPES
from pimsim import Profile

__all__ = [
    "FLIP",
    "draw_precision",
    "op_choices",
    "op_dtypes",
    "op_kernels",
    "other_values",
    "placement_options",
    "settle_op",
    "settle_table",
    "table_options",
]

#: The other placement.
FLIP = {"host": "pim", "pim": "host"}


def op_kernels(graph: SubnetGraph) -> dict[str, list[MappedKernel]]:
    """The dense kernels of each operator key, in the graph's order."""
    out: dict[str, list[MappedKernel]] = {}
    for mk in graph.kernels:
        out.setdefault(mk.op_key, []).append(mk)
    return out


def op_dtypes(profile: Profile, kernels: Sequence[MappedKernel],
              placements: Mapping[str, str]) -> tuple[str, ...]:
    """The precisions the operator of ``kernels`` may have with its kernels placed as
    ``placements`` says (kernel name -> host | pim; absent: host), in the order of
    :data:`codesign.quant.DENSE_DTYPES`."""
    accepted = set(DENSE_DTYPES)
    for mk in kernels:
        accepted &= set(dense_dtypes(profile, placements.get(mk.name, "host"), mk))
    return tuple(d for d in DENSE_DTYPES if d in accepted)


def op_choices(profile: Profile, kernels: Sequence[MappedKernel]) -> tuple[str, ...]:
    """The precisions the operator may have under some placement of its kernels: those
    that every kernel runs on the host or on PIM."""
    ok = set(DENSE_DTYPES)
    for mk in kernels:
        ok &= set(dense_dtypes(profile, "host", mk)) | set(dense_dtypes(profile, "pim", mk))
    return tuple(d for d in DENSE_DTYPES if d in ok)


def _runs(profile: Profile, mk: MappedKernel, placement: str, dtype: str) -> bool:
    return dtype in dense_dtypes(profile, placement, mk)


def settle_op(profile: Profile, kernels: Sequence[MappedKernel], placements: Mapping[str, str],
              current: str | None, fill: bool) -> tuple[dict[str, str], str | None]:
    """Placements of ``kernels`` and the operator's precision, consistent.

    ``current`` (the plan's precision; None: left open) is kept if the placements run it,
    else kernels whose placement does not run it move to the other one where that runs
    it. Failing that, or with ``current`` None and ``fill``, the precision becomes the
    first type the placements run, or, if they run none together, every kernel goes to
    the host at the first type the host runs. With ``current`` None and not ``fill`` the
    precision stays open (each kernel's own default applies)."""
    placed = {mk.name: placements.get(mk.name, "host") for mk in kernels}
    if current is None and not fill:
        return placed, None
    if current is not None:
        if current in op_dtypes(profile, kernels, placed):
            return placed, current
        moved = dict(placed)
        for mk in kernels:
            here = placed[mk.name]
            if not _runs(profile, mk, here, current) and _runs(profile, mk, FLIP[here], current):
                moved[mk.name] = FLIP[here]
        if current in op_dtypes(profile, kernels, moved):
            return moved, current
    for option in (placed, {mk.name: "host" for mk in kernels}):
        accepted = op_dtypes(profile, kernels, option)
        if accepted:
            return option, accepted[0]
    # the host runs fp32 on every kernel: unreachable for a valid profile
    raise AssertionError(f"no host precision for {[mk.name for mk in kernels]}")


def settle_table(profile: Profile, placement: str, dtype: str | None, default: str,
                 fill: bool) -> tuple[str, str | None]:
    """A table's placement and precision, consistent: a table on PIM whose precision (or,
    left open, the plan's PIM data type ``default``) the kind does not pool goes to the
    host, which pools every table type. With ``fill`` an open precision becomes the type
    it runs at (``default`` on PIM where representable, else the first type PIM pools;
    fp32 on the host)."""
    if placement == "pim":
        if table_capable(profile, dtype or default) is not None:
            placement = "host"
        elif dtype is None and fill:
            accepted = table_dtypes(profile, "pim")
            dtype = default if default in accepted else (accepted[0] if accepted else None)
            if dtype is None:
                placement = "host"
    if placement == "host" and dtype is None and fill:
        dtype = "fp32"
    return placement, dtype


def draw_precision(graph: SubnetGraph, profile: Profile, rng: np.random.Generator
                   ) -> tuple[dict[str, str], dict[str, str]]:
    """Random precisions of a subnet, before its placement: each table (when the subnet
    reads them) uniform over :data:`~codesign.quant.TABLE_DTYPES` (the host pools every
    type), each operator uniform over :func:`op_choices`. Returns (table dtypes, operator
    precisions)."""
    tables: dict[str, str] = {}
    if graph.uses_embeddings:
        for f in graph.tables:
            tables[f] = TABLE_DTYPES[int(rng.integers(len(TABLE_DTYPES)))]
    ops: dict[str, str] = {}
    for key, kernels in op_kernels(graph).items():
        choices = op_choices(profile, kernels)
        ops[key] = choices[int(rng.integers(len(choices)))]
    return tables, ops


def placement_options(profile: Profile, mk: MappedKernel, dtype: str) -> tuple[str, ...]:
    """Where the dense kernel ``mk`` may run with its operator at ``dtype``."""
    return tuple(p for p in ("host", "pim") if (p == "host" or has_pim(profile))
                 and _runs(profile, mk, p, dtype))


def table_options(profile: Profile, dtype: str) -> tuple[str, ...]:
    """Where a table of precision ``dtype`` may go."""
    pim = has_pim(profile) and dtype in table_dtypes(profile, "pim")
    return ("host", "pim") if pim else ("host",)


def other_values(values: Sequence[Any], current: Any) -> list[Any]:
    return [v for v in values if v != current]
