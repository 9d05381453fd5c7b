"""Report helpers: Markdown tables, Pareto and per-kernel breakdown plots, files written atomically.

Every file goes through :mod:`pimsim.util.fileio` (a temporary file beside the destination, then a
rename), so a reader never sees a half-written file. The plots use matplotlib's object API
(``Figure`` with the Agg canvas): this module never imports pyplot and never changes the
global backend, so it works headless and in worker processes.

- :func:`markdown_table` - a pipe table from a DataFrame (numbers right-aligned).
- :func:`pareto_plot` - log loss against energy and against latency, all points, the
  non-dominated ones highlighted with each projection's 2-D front as a step line, and marked
  points such as the baseline ``B`` and the co-design ``C``.
- :func:`kernel_breakdown_plot` - per kernel: latency bars and energy bars stacked by
  component, from a DataFrame with columns ``name``, ``latency_ns`` and
  ``energy_<component>_pj`` (optionally a group column such as ``model`` for B beside C).
- :func:`write_csv`, :func:`write_parquet`, :func:`write_text`, :func:`save_figure`.
"""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from codesign.errors import CodesignError
from pimsim.util.fileio import atomic_write_bytes, atomic_write_text

__all__ = [
    "ReportError",
    "energy_components",
    "format_number",
    "kernel_breakdown_plot",
    "kernel_breakdown_table",
    "markdown_table",
    "pareto_plot",
    "save_figure",
    "write_csv",
    "write_parquet",
    "write_text",
]

_ENERGY_COLUMN = re.compile(r"^energy_(?P<component>.+)_pj$")
_MARK_STYLES = ("*", "D", "P", "X", "^", "s", "v")
_MARK_COLOURS = ("tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown", "tab:pink")


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


def _new_figure(width_in: float, height_in: float, ncols: int) -> tuple[Any, list[Any]]:
    # lazy: matplotlib takes about 0.25 s to import (python -X importtime); the tables and
    # the commands that never plot do not need it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in))
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


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


# --------------------------------------------------------------------------------------------
# Pareto-front plot
# --------------------------------------------------------------------------------------------


def _require_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ReportError(
            f"{what}: missing column(s) {missing}; got {list(df.columns)}; accepted: a "
            f"DataFrame with {list(columns)}"
        )


def front_2d(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the 2-D non-dominated points (both minimised), sorted by x."""
    finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    order = finite[np.lexsort((y[finite], x[finite]))]
    keep: list[int] = []
    best_y = math.inf
    for i in order:
        if y[i] < best_y:
            keep.append(int(i))
            best_y = y[i]
    return np.array(keep, dtype=np.int64)


def pareto_plot(
    points: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    y: str = "logloss",
    xs: Sequence[str] = ("energy_pj", "latency_ns"),
    marks: Mapping[str, Mapping[str, float]] | None = None,
    front_mask: Sequence[bool] | np.ndarray | None = None,
    log_x: bool | None = None,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Path:
    """Plot ``y`` against each column of ``xs`` side by side and save it (PNG) atomically.

    All points are drawn in grey; those in ``front_mask`` (default: the rows whose ``front``
    column is 0 when there is one) in blue; each panel's 2-D front (both axes minimised) is a
    step line. ``marks`` maps a label (e.g. "B", "C") to a mapping holding ``y`` and the
    ``xs`` values; each is drawn as a large marker and annotated. ``log_x`` defaults to a log
    axis when the x values span more than two decades.
    """
    _require_columns(points, [y, *xs], "pareto_plot points")
    labels = {"logloss": "log loss", "energy_pj": "energy (pJ)", "latency_ns": "latency (ns)",
              **(labels or {})}
    marks = dict(marks or {})
    for name, mark in marks.items():
        missing = [c for c in (y, *xs) if c not in mark]
        if missing:
            raise ReportError(
                f"pareto_plot marks.{name}: missing {missing}; accepted: values for "
                f"{[y, *xs]}"
            )
    yv = points[y].to_numpy(dtype=np.float64)
    if front_mask is None and "front" in points.columns:
        front_mask = points["front"].to_numpy() == 0
    mask = None if front_mask is None else np.asarray(front_mask, dtype=bool)
    if mask is not None and mask.shape != yv.shape:
        raise ReportError(
            f"pareto_plot front_mask: got {mask.shape[0]} entries; accepted: one per point "
            f"({yv.shape[0]})"
        )
    fig, axes = _new_figure(5.2 * len(xs), 4.2, len(xs))
    for ax, x_col in zip(axes, xs):
        xv = points[x_col].to_numpy(dtype=np.float64)
        ax.scatter(xv, yv, s=12, c="0.65", label="evaluated", zorder=1)
        if mask is not None and mask.any():
            ax.scatter(xv[mask], yv[mask], s=18, c="tab:blue", label="Pareto front", zorder=2)
        front = front_2d(xv, yv)
        if front.size:
            ax.step(xv[front], yv[front], where="post", c="tab:blue", lw=1, alpha=0.7, zorder=2)
        for k, (name, mark) in enumerate(marks.items()):
            mx, my = float(mark[x_col]), float(mark[y])
            ax.scatter([mx], [my], s=140, marker=_MARK_STYLES[k % len(_MARK_STYLES)],
                       c=_MARK_COLOURS[k % len(_MARK_COLOURS)], edgecolors="black",
                       label=name, zorder=3)
            ax.annotate(name, (mx, my), textcoords="offset points", xytext=(7, 7),
                        fontsize=11, weight="bold")
        finite_x = xv[np.isfinite(xv) & (xv > 0)]
        use_log = log_x
        if use_log is None:
            use_log = finite_x.size > 1 and finite_x.max() / finite_x.min() > 100.0
        if use_log:
            ax.set_xscale("log")
        ax.set_xlabel(labels.get(x_col, x_col))
        ax.set_ylabel(labels.get(y, y))
        ax.grid(True, alpha=0.3)
        ax.set_title(f"{labels.get(y, y)} vs {labels.get(x_col, x_col)}")
    axes[0].legend(loc="best", fontsize=8)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


# --------------------------------------------------------------------------------------------
# Per-kernel breakdown plot
# --------------------------------------------------------------------------------------------


def energy_components(df: pd.DataFrame) -> list[str]:
    """The ``energy_<component>_pj`` columns of ``df`` in column order (``energy_total_pj``
    excluded when components exist; a lone ``energy_pj`` column counts as one component)."""
    comps = [c for c in df.columns if _ENERGY_COLUMN.match(str(c))]
    if len(comps) > 1:
        comps = [c for c in comps if c != "energy_total_pj"]
    if not comps and "energy_pj" in df.columns:
        comps = ["energy_pj"]
    return comps


def kernel_breakdown_table(
    kernels: pd.DataFrame, *, group: str | None = None, max_kernels: int | None = 20
) -> pd.DataFrame:
    """The rows :func:`kernel_breakdown_plot` draws: ``label``, ``latency_ns`` and the energy
    component columns; per group the kernels sorted by decreasing latency, those beyond the
    ``max_kernels`` largest summed into one "other (N kernels)" row."""
    _require_columns(kernels, ["name", "latency_ns", *([group] if group else [])],
                     "kernel_breakdown_plot kernels")
    if kernels.empty:
        raise ReportError(
            "kernel_breakdown_plot kernels: got no rows; accepted: one row per kernel"
        )
    comps = energy_components(kernels)
    if not comps:
        raise ReportError(
            f"kernel_breakdown_plot kernels: no energy_<component>_pj column in "
            f"{list(kernels.columns)}; accepted: e.g. energy_dram_pj, energy_pim_pj"
        )
    values = kernels[["latency_ns", *comps]].to_numpy(dtype=np.float64)
    bad = np.argwhere(~np.isfinite(values) | (values < 0))
    if bad.size:
        r, c = bad[0]
        col = ["latency_ns", *comps][c]
        raise ReportError(
            f"kernel_breakdown_plot kernels row {int(r)} column {col}: "
            f"{values[r, c]!r}; accepted: a finite number >= 0"
        )
    if max_kernels is not None and max_kernels < 1:
        raise ReportError(
            f"kernel_breakdown_plot max_kernels: got {max_kernels}; accepted: >= 1 or None"
        )
    groups = [(None, kernels)] if group is None else list(kernels.groupby(group, sort=False))
    rows: list[dict[str, Any]] = []
    for gname, gdf in groups:
        gdf = gdf.sort_values("latency_ns", ascending=False, kind="stable")
        prefix = "" if gname is None else f"{gname}: "
        shown = gdf if max_kernels is None else gdf.iloc[:max_kernels]
        for _, row in shown.iterrows():
            rows.append({"label": prefix + str(row["name"]),
                         "latency_ns": float(row["latency_ns"]),
                         **{c: float(row[c]) for c in comps}})
        rest = gdf.iloc[len(shown):]
        if len(rest):
            rows.append({"label": f"{prefix}other ({len(rest)} kernels)",
                         "latency_ns": float(rest["latency_ns"].sum()),
                         **{c: float(rest[c].sum()) for c in comps}})
    return pd.DataFrame(rows, columns=["label", "latency_ns", *comps])


def kernel_breakdown_plot(
    kernels: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    group: str | None = None,
    max_kernels: int | None = 20,
    title: str | None = None,
) -> Path:
    """Per-kernel latency bars and energy bars stacked by component, saved atomically.

    ``kernels`` has one row per kernel with ``name``, ``latency_ns`` and at least one
    ``energy_<component>_pj`` column (e.g. ``energy_dram_pj``, ``energy_pim_pj``); with
    ``group`` (e.g. "model") the rows of each group are drawn one after the other with the
    group in the label. Per group, kernels beyond the ``max_kernels`` largest (by latency) are
    summed into one "other (N kernels)" row.
    """
    comps = energy_components(kernels)
    table = kernel_breakdown_table(kernels, group=group, max_kernels=max_kernels)
    names = list(table["label"])
    lat = table["latency_ns"].to_numpy(dtype=np.float64)
    energy = table[comps].to_numpy(dtype=np.float64)
    ypos = np.arange(len(names))[::-1]
    fig, (ax_lat, ax_en) = _new_figure(12.0, max(3.0, 0.32 * len(names) + 1.5), 2)
    ax_lat.barh(ypos, lat, color="tab:blue")
    ax_lat.set_yticks(ypos, names, fontsize=8)
    ax_lat.set_xlabel("latency (ns)")
    ax_lat.set_title("latency per kernel")
    ax_lat.grid(True, axis="x", alpha=0.3)
    left = np.zeros(len(names))
    for k, comp in enumerate(comps):
        m = _ENERGY_COLUMN.match(comp)
        label = m.group("component") if m else comp
        ax_en.barh(ypos, energy[:, k], left=left, label=label)
        left += energy[:, k]
    ax_en.set_yticks(ypos, names, fontsize=8)
    ax_en.set_xlabel("energy (pJ)")
    ax_en.set_title("energy per kernel, by component")
    ax_en.grid(True, axis="x", alpha=0.3)
    ax_en.legend(loc="best", fontsize=8)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
