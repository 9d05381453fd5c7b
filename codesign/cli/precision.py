"""The precision options of ``codesign eval`` and ``codesign train``: a precision file, or
one data type for every table and one for every dense operator."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from codesign.nas.plan import make_plan
from codesign.nas.space import SubnetSpec
from codesign.quant import (
    DENSE_DTYPES,
    TABLE_DTYPES,
    Precision,
    load_precision,
    uniform_precision,
)
from codesign.quant.precision import PrecisionError


def add_precision(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--precision", type=Path, default=None, metavar="FILE.json",
                        help="data types of tables and operators (pimrec-precision/1 JSON: "
                        "tables by sparse field, ops by operator key such as b3.fc or final, "
                        "crossbar arithmetic); default: fp32")
    parser.add_argument("--table-dtype", choices=TABLE_DTYPES, default=None,
                        help="every embedding table's rows in this type (int8 / int4: "
                        "row-wise with a scale and bias per row)")
    parser.add_argument("--dense-dtype", choices=DENSE_DTYPES, default=None,
                        help="every dense operator in this type (int8: weights per output "
                        "channel and activations per tensor)")


def precision_of(args: argparse.Namespace, spec: SubnetSpec, schema: Any) -> Precision | None:
    """The precision the options ask for (None: fp32)."""
    short = [o for o, v in (("--table-dtype", args.table_dtype),
                            ("--dense-dtype", args.dense_dtype)) if v is not None]
    if args.precision is not None and short:
        raise PrecisionError(f"--precision with {' and '.join(short)}: accepted: a precision "
                             "file, or the --table-dtype / --dense-dtype shorthands")
    if args.precision is not None:
        return load_precision(args.precision)
    if not short:
        return None
    plan = make_plan(spec, len(schema.dense_names), len(schema.sparse_names),
                     emb_dim=spec.emb_dim)
    return uniform_precision(plan, schema.sparse_names, table_dtype=args.table_dtype or "fp32",
                             dense_dtype=args.dense_dtype or "fp32")


def describe(precision: Precision | None) -> str:
    """One line saying what a precision sets."""
    if precision is None or precision.is_fp32:
        return "precision: fp32"
    parts = []
    for what, m in (("tables", precision.tables), ("ops", precision.ops)):
        counts: dict[str, int] = {}
        for v in m.values():
            counts[v] = counts.get(v, 0) + 1
        if counts:
            parts.append(f"{what} " + ", ".join(f"{n} {dt}" for dt, n in sorted(counts.items())))
    if precision.crossbar:
        parts.append(f"crossbar {len(precision.crossbar)} operators")
    return f"precision {precision.key()}: " + "; ".join(parts)
