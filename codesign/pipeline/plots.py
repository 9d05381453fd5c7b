"""The reproduction's plots: the Pareto front and the per-kernel breakdown, saved atomically.

The plots use matplotlib's object API (``Figure`` with the Agg canvas): this module never
imports pyplot and never changes the global backend, so it works headless and in worker
processes.

- :func:`pareto_plot` (:func:`pareto_figure`) - log loss against energy and against latency,
  all points, the non-dominated ones highlighted with each projection's 2-D front as a step
  line, and marked points such as the baseline ``B`` and the co-design ``C``. Axis limits
  are robust: a point beyond an upper Tukey fence (and beyond every front point and mark) is
  drawn at the axis edge with its own marker, so a few diverged subnets do not squash the
  front. Marks that fall within :data:`LABEL_MIN_PX` of each other on screen share one label
  ("B = C" when they coincide), so labels never overprint.
- :func:`kernel_breakdown_plot` - per kernel: latency bars coloured by placement (host / PIM)
  and energy bars stacked by component, from a DataFrame with columns ``name``,
  ``latency_ns``, ``energy_<component>_pj`` and optionally ``placement`` (and a group column
  such as ``model`` for B beside C).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from codesign.pipeline.report import ReportError, require_columns, save_figure

__all__ = [
    "LABEL_MIN_PX",
    "TUKEY_K",
    "energy_components",
    "front_2d",
    "kernel_breakdown_figure",
    "kernel_breakdown_plot",
    "kernel_breakdown_table",
    "pareto_figure",
    "pareto_plot",
    "upper_limit",
]

_ENERGY_COLUMN = re.compile(r"^energy_(?P<component>.+)_pj$")
_MARK_STYLES = ("*", "D", "P", "X", "^", "s", "v")
_MARK_COLOURS = ("tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown", "tab:pink")
#: Tukey's far-out fence: a value above Q3 + TUKEY_K x IQR is an outlier (Tukey 1977).
TUKEY_K = 3.0
#: Marks closer than this on screen (pixels) share one label.
LABEL_MIN_PX = 40.0
#: Share of an axis's span added on each side.
_MARGIN = 0.05
#: Bar colours of the breakdown by placement.
PLACEMENT_COLOURS = {"host": "tab:blue", "pim": "tab:orange", "mixed": "0.6"}


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
# Pareto-front plot
# --------------------------------------------------------------------------------------------


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


def upper_limit(values: np.ndarray, keep: np.ndarray) -> float:
    """The largest value an axis shows: the larger of ``keep``'s maximum (front points and
    marks, always shown) and Tukey's far-out fence of the finite ``values``."""
    finite = values[np.isfinite(values)]
    kept = keep[np.isfinite(keep)]
    if finite.size == 0:
        return float(kept.max()) if kept.size else 1.0
    q1, q3 = np.percentile(finite, [25, 75])
    fence = q3 + TUKEY_K * (q3 - q1)
    return float(max(fence if q3 > q1 else finite.max(), kept.max() if kept.size else -math.inf))


def _limits(values: np.ndarray, keep: np.ndarray, log: bool) -> tuple[float, float, float]:
    """(low, high, edge) of one axis in data units; ``edge`` is where points beyond ``high``
    are drawn."""
    t = np.log10 if log else (lambda v: v)
    shown = values[np.isfinite(values) & ((values > 0) if log else True)]
    hi = upper_limit(t(shown) if shown.size else shown, t(keep[keep > 0]) if log else keep)
    lo_candidates = np.concatenate([t(shown), t(keep[keep > 0]) if log else keep])
    lo = float(np.nanmin(lo_candidates)) if lo_candidates.size else hi - 1.0
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    lo, edge, top = lo - _MARGIN * span, hi + _MARGIN * span, hi + 2 * _MARGIN * span
    back = (lambda v: 10.0 ** v) if log else (lambda v: v)
    return back(lo), back(top), back(edge)


def _label_groups(ax: Any, points: Sequence[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
    """One (text, x, y) per group of marks within :data:`LABEL_MIN_PX` on screen, at the
    group's first mark: "B = C" when they coincide, "B, C" when only close."""
    screen = [ax.transData.transform((x, y)) for _, x, y in points]
    groups: list[list[int]] = []
    for i in range(len(points)):
        for g in groups:
            if np.hypot(*(screen[i] - screen[g[0]])) < LABEL_MIN_PX:
                g.append(i)
                break
        else:
            groups.append([i])
    out = []
    for g in groups:
        same = all(points[i][1:] == points[g[0]][1:] for i in g)
        text = (" = " if same else ", ").join(points[i][0] for i in g)
        out.append((text, points[g[0]][1], points[g[0]][2]))
    return out


def _panel(ax: Any, xv: np.ndarray, yv: np.ndarray, mask: np.ndarray | None,
           marks: Mapping[str, Mapping[str, float]], x_col: str, y: str, log_x: bool | None,
           labels: Mapping[str, str],
           vlines: Mapping[str, Mapping[str, float]] | None = None) -> None:
    mx = np.array([float(m[x_col]) for m in marks.values()])
    my = np.array([float(m[y]) for m in marks.values()])
    lx = np.array([float(v[x_col]) for v in (vlines or {}).values() if x_col in v])
    front = front_2d(xv, yv)
    keep_x = np.concatenate([xv[front], mx, lx])
    keep_y = np.concatenate([yv[front], my])
    use_log = log_x
    if use_log is None:  # a log axis when the values it shows span more than two decades
        positive = xv > 0
        _, _, edge = _limits(xv[positive], keep_x[keep_x > 0], True)
        shown = xv[positive & np.isfinite(xv) & (xv <= edge)]
        use_log = shown.size > 1 and shown.max() / shown.min() > 100.0
    x_lo, x_top, x_edge = _limits(xv, keep_x, bool(use_log))
    y_lo, y_top, y_edge = _limits(yv, keep_y, False)
    beyond = ~np.isnan(xv) & ~np.isnan(yv) & ((xv > x_edge) | (yv > y_edge))
    inside = ~beyond
    ax.scatter(xv[inside], yv[inside], s=12, c="0.65", label="evaluated", zorder=1)
    if beyond.any():
        ax.scatter(np.minimum(xv[beyond], x_edge), np.minimum(yv[beyond], y_edge), s=22,
                   marker="x", c="0.35", zorder=1,
                   label=f"beyond the axes ({int(beyond.sum())}), drawn at the edge")
    if mask is not None and mask.any():
        ax.scatter(xv[mask & inside], yv[mask & inside], s=18, c="tab:blue",
                   label="Pareto front", zorder=2)
    if front.size:
        ax.step(xv[front], yv[front], where="post", c="tab:blue", lw=1, alpha=0.7, zorder=2)
    for k, name in enumerate(marks):
        # each later mark smaller, so that coinciding marks all stay visible
        ax.scatter([mx[k]], [my[k]], s=200 / (1 + 0.8 * k),
                   marker=_MARK_STYLES[k % len(_MARK_STYLES)],
                   c=_MARK_COLOURS[k % len(_MARK_COLOURS)], edgecolors="black",
                   label=name, zorder=3)
    for k, (name, v) in enumerate((vlines or {}).items()):
        if x_col in v:
            ax.axvline(float(v[x_col]), ls="--", lw=1.5, c=_MARK_COLOURS[-1 - k % len(_MARK_COLOURS)],
                       label=name, zorder=2)
    if use_log:
        ax.set_xscale("log")
    ax.set_xlim(x_lo, x_top)
    ax.set_ylim(y_lo, y_top)
    for text, x, yy in _label_groups(ax, [(n, mx[k], my[k]) for k, n in enumerate(marks)]):
        ax.annotate(text, (x, yy), textcoords="offset points", xytext=(8, 8), fontsize=11,
                    weight="bold", zorder=4)
    ax.set_xlabel(labels.get(x_col, x_col))
    ax.set_ylabel(labels.get(y, y))
    ax.grid(True, alpha=0.3)
    ax.set_title(f"{labels.get(y, y)} vs {labels.get(x_col, x_col)}")


def pareto_figure(
    points: pd.DataFrame,
    *,
    y: str = "logloss",
    xs: Sequence[str] = ("energy_pj", "latency_ns"),
    marks: Mapping[str, Mapping[str, float]] | None = None,
    front_mask: Sequence[bool] | np.ndarray | None = None,
    log_x: bool | None = None,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
    vlines: Mapping[str, Mapping[str, float]] | None = None,
) -> Any:
    """The matplotlib Figure of :func:`pareto_plot` (same arguments but the path)."""
    require_columns(points, [y, *xs], "pareto_plot points")
    labels = {"logloss": "log loss", "energy_pj": "energy (pJ)", "latency_ns": "latency (ns)",
              "energy_uj": "energy (µJ)", "latency_us": "latency (µs)", **(labels or {})}
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
        _panel(ax, points[x_col].to_numpy(dtype=np.float64), yv, mask, marks, x_col, y, log_x,
               labels, vlines)
    axes[0].legend(loc="best", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def pareto_plot(points: pd.DataFrame, path: str | os.PathLike[str], **options: Any) -> Path:
    """Plot ``y`` against each column of ``xs`` side by side and save it (PNG) atomically.

    All points are drawn in grey; those in ``front_mask`` (default: the rows whose ``front``
    column is 0 when there is one) in blue; each panel's 2-D front (both axes minimised) is a
    step line. ``marks`` maps a label (e.g. "B", "C") to a mapping holding ``y`` and the
    ``xs`` values; each is drawn as a large marker and labelled. ``vlines`` maps a label to
    x values only (a model without a ``y``, such as a handcrafted baseline the supernet
    cannot estimate): a dashed vertical line in each panel it has a value for. ``log_x`` defaults to a log
    axis when the x values span more than two decades. Options: those of
    :func:`pareto_figure`.
    """
    return save_figure(pareto_figure(points, **options), path)


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


def _placement(values: pd.Series) -> str:
    kinds = set(values)
    return kinds.pop() if len(kinds) == 1 else "mixed"


def kernel_breakdown_table(
    kernels: pd.DataFrame, *, group: str | None = None, max_kernels: int | None = 20
) -> pd.DataFrame:
    """The rows :func:`kernel_breakdown_plot` draws: ``label``, ``placement`` (host, pim, or
    mixed for a summed row; host when ``kernels`` has no such column), ``latency_ns`` and the
    energy component columns; per group the kernels sorted by decreasing latency, those
    beyond the ``max_kernels`` largest summed into one "other (N kernels)" row."""
    require_columns(kernels, ["name", "latency_ns", *([group] if group else [])],
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
            f"kernel_breakdown_plot max_kernels: got {max_kernels}; accepted: a positive "
            "integer, or no limit"
        )
    if "placement" not in kernels.columns:
        kernels = kernels.assign(placement="host")
    groups = [(None, kernels)] if group is None else list(kernels.groupby(group, sort=False))
    rows: list[dict[str, Any]] = []
    for gname, gdf in groups:
        gdf = gdf.sort_values("latency_ns", ascending=False, kind="stable")
        prefix = "" if gname is None else f"{gname}: "
        shown = gdf if max_kernels is None else gdf.iloc[:max_kernels]
        for _, row in shown.iterrows():
            rows.append({"label": prefix + str(row["name"]), "placement": str(row["placement"]),
                         "latency_ns": float(row["latency_ns"]),
                         **{c: float(row[c]) for c in comps}})
        rest = gdf.iloc[len(shown):]
        if len(rest):
            rows.append({"label": f"{prefix}other ({len(rest)} kernels)",
                         "placement": _placement(rest["placement"].astype(str)),
                         "latency_ns": float(rest["latency_ns"].sum()),
                         **{c: float(rest[c].sum()) for c in comps}})
    return pd.DataFrame(rows, columns=["label", "placement", "latency_ns", *comps])


def kernel_breakdown_plot(kernels: pd.DataFrame, path: str | os.PathLike[str],
                          **options: Any) -> Path:
    """:func:`kernel_breakdown_figure` of ``kernels`` (with its ``options``), saved
    atomically."""
    return save_figure(kernel_breakdown_figure(kernels, **options), path)


def kernel_breakdown_figure(
    kernels: pd.DataFrame,
    *,
    group: str | None = None,
    max_kernels: int | None = 20,
    title: str | None = None,
) -> Any:
    """Per-kernel latency bars coloured by placement and energy bars stacked by component.

    ``kernels`` has one row per kernel with ``name``, ``latency_ns``, at least one
    ``energy_<component>_pj`` column (e.g. ``energy_dram_pj``, ``energy_pim_pj``) and
    optionally ``placement`` (``host`` / ``pim``); with ``group`` (e.g. "model") the rows of
    each group are drawn one after the other with the group in the label. Per group, kernels
    beyond the ``max_kernels`` largest (by latency) are summed into one "other (N kernels)"
    row.
    """
    comps = energy_components(kernels)
    table = kernel_breakdown_table(kernels, group=group, max_kernels=max_kernels)
    names = list(table["label"])
    lat = table["latency_ns"].to_numpy(dtype=np.float64)
    energy = table[comps].to_numpy(dtype=np.float64)
    ypos = np.arange(len(names))[::-1]
    fig, (ax_lat, ax_en) = _new_figure(12.0, max(3.0, 0.32 * len(names) + 1.5), 2)
    for kind, colour in PLACEMENT_COLOURS.items():
        on = (table["placement"] == kind).to_numpy()
        if on.any():
            ax_lat.barh(ypos[on], lat[on], color=colour, label="PIM" if kind == "pim" else kind)
    ax_lat.set_yticks(ypos, names, fontsize=8)
    ax_lat.set_xlabel("latency (ns)")
    ax_lat.set_title("latency per kernel, by placement")
    ax_lat.grid(True, axis="x", alpha=0.3)
    ax_lat.legend(loc="best", fontsize=8)
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
    return fig
