"""Report helpers: Markdown tables and files written atomically (the plots are in
:mod:`codesign.pipeline.plots`).

Every file goes through :mod:`pimsim.util.fileio` (a temporary file beside the destination, then a
rename), so a reader never sees a half-written file.

- :func:`markdown_table` - a pipe table from a DataFrame (numbers right-aligned).
- :func:`write_csv`, :func:`write_parquet`, :func:`write_text`, :func:`save_figure`.
- :func:`require_columns` - the error of an input that lacks columns.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from codesign.errors import CodesignError
from pimsim.util.fileio import atomic_write_bytes, atomic_write_text

__all__ = [
    "ReportError",
    "format_number",
    "markdown_table",
    "require_columns",
    "save_figure",
    "write_csv",
    "write_parquet",
    "write_text",
]


class ReportError(CodesignError):
    """Input to a report helper is missing columns or has unusable values."""


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Atomically write UTF-8 text (Markdown, JSON, ...)."""
    return atomic_write_text(path, text)


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str], index: bool = False) -> Path:
    """Atomically write ``df`` as CSV (floats with full precision)."""
    return write_text(path, df.to_csv(index=index, float_format=None))


def write_parquet(df: pd.DataFrame, path: str | os.PathLike[str], index: bool = False) -> Path:
    """Atomically write ``df`` as Parquet (pyarrow)."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=index)
    return atomic_write_bytes(path, buf.getvalue())


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 120) -> Path:
    """Atomically save a matplotlib Figure; the format follows the suffix (PNG by default)."""
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower() or "png"
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight")
    return atomic_write_bytes(target, buf.getvalue())


# --------------------------------------------------------------------------------------------
# Markdown tables
# --------------------------------------------------------------------------------------------


def format_number(value: Any, spec: str = ".6g") -> str:
    """A cell's text: floats with ``spec`` (NaN as empty), integers as is, None as empty."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        return format(float(value), spec)
    return str(value)


def _escape_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def markdown_table(
    df: pd.DataFrame,
    *,
    float_format: str | Mapping[str, str] = ".6g",
    index: bool = False,
    formatters: Mapping[str, Callable[[Any], str]] | None = None,
) -> str:
    """A GitHub-flavoured Markdown pipe table of ``df``.

    ``float_format`` is a format spec for every float column, or a mapping column -> spec
    (others ``.6g``); ``formatters`` maps a column to a function returning the cell text.
    Numeric columns are right-aligned; ``|`` and newlines in cells are escaped.
    """
    if not isinstance(df, pd.DataFrame):
        raise ReportError(
            f"markdown_table: got {type(df).__name__}; accepted: a pandas DataFrame"
        )
    table = df.reset_index() if index else df
    formatters = dict(formatters or {})
    headers = [str(c) for c in table.columns]
    numeric = [pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(
        table[c]) for c in table.columns]
    lines = [
        "| " + " | ".join(_escape_cell(h) for h in headers) + " |",
        "|" + "|".join("---:" if num else ":---" for num in numeric) + "|",
    ]
    for row in table.itertuples(index=False, name=None):
        cells = []
        for col, value in zip(table.columns, row):
            if col in formatters:
                text = formatters[col](value)
            else:
                spec = (
                    float_format.get(str(col), ".6g")
                    if isinstance(float_format, Mapping)
                    else float_format
                )
                text = format_number(value, spec)
            cells.append(_escape_cell(text))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def require_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ReportError(
            f"{what}: missing column(s) {missing}; got {list(df.columns)}; accepted: a "
            f"DataFrame with {list(columns)}"
        )
