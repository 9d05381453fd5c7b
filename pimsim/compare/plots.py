"""Heatmaps of host-over-PIM ratios, and the model view's figure (PNG, matplotlib).

A heatmap has one row per shape (or kernel) and one column per batch; the colour is the
ratio on a logarithmic diverging scale centred at 1 (blue: PIM wins, red: the host wins,
symmetric limits so that 2x and 1/2x are equally strong), the ratio printed in every cell;
grey cells marked ``n/a`` are kernels the PIM kind does not run.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pimsim.util.fileio import atomic_write_bytes

#: Colour map of the ratios: red (< 1, host wins) through white (1) to blue (> 1, PIM wins).
CMAP = "RdBu"
#: The colour scale spans at least 1/2 .. 2.
MIN_SPAN = 2.0
#: Labelled ratios on the colour bars (those inside the scale).
COLOUR_TICKS: tuple[float, ...] = (0.001, 0.01, 0.1, 0.5, 1.0, 2.0, 10.0, 100.0, 1000.0)


def _figure(width: float, height: float) -> Any:
    # lazy: matplotlib takes 0.19 s to import (python -X importtime); only the commands
    # that draw pay it
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | os.PathLike[str]) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return atomic_write_bytes(path, buf.getvalue())


def ratio_matrix(df: pd.DataFrame, row_key: str, value: str,
                 rows: Sequence[str], batches: Sequence[int]) -> np.ndarray:
    """``value`` of ``df`` arranged rows x batches (NaN where a cell is missing)."""
    cells = {(str(r[row_key]), int(r["batch"])): float(r[value]) for _, r in df.iterrows()}
    return np.array([[cells.get((r, b), math.nan) for b in batches] for r in rows], dtype=float)


def draw_heatmap(fig: Any, ax: Any, matrix: np.ndarray, rows: Sequence[str],
                 batches: Sequence[int], title: str, ylabel: str) -> None:
    """One ratio heatmap on ``ax`` (see the module docstring), with its colour bar."""
    from matplotlib.colors import LogNorm  # lazy: with the figure, see _figure

    finite = matrix[np.isfinite(matrix) & (matrix > 0)]
    span = MIN_SPAN
    if finite.size:
        span = max(span, float(finite.max()), 1.0 / float(finite.min()))
    cmap = _cmap()
    masked = np.ma.masked_invalid(np.where(matrix > 0, matrix, np.nan))
    im = ax.imshow(masked, cmap=cmap, norm=LogNorm(vmin=1.0 / span, vmax=span), aspect="auto")
    ax.set_xticks(range(len(batches)))
    ax.set_xticklabels([str(b) for b in batches])
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(list(rows), fontsize=8)
    ax.set_xlabel("batch size")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    strong = math.log10(span) * 0.6
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            v = matrix[i, j]
            if not math.isfinite(v) or v <= 0:
                ax.text(j, i, "n/a", ha="center", va="center", fontsize=7, color="0.3")
                continue
            colour = "white" if abs(math.log10(v)) > strong else "black"
            ax.text(j, i, f"{v:.3g}" if v < 100 else f"{v:.0f}", ha="center", va="center",
                    fontsize=7, color=colour)
    bar = fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02)
    ticks = [t for t in COLOUR_TICKS if 1.0 / span <= t <= span]
    bar.ax.minorticks_off()
    bar.set_ticks(ticks)
    bar.set_ticklabels([f"{t:g}x" for t in ticks])
    bar.set_label("host / PIM (> 1: PIM wins)", fontsize=8)


def _cmap() -> Any:
    from matplotlib import colormaps  # lazy: with the figure, see _figure

    return colormaps[CMAP].with_extremes(bad="0.85")


def heatmap_png(df: pd.DataFrame, row_key: str, rows: Sequence[str], title: str,
                ylabel: str, path: str | os.PathLike[str]) -> Path:
    """Latency and energy ratio heatmaps side by side (rows x batches of ``df``)."""
    batches = sorted(int(b) for b in df["batch"].unique())
    height = 1.6 + 0.32 * len(rows)
    fig = _figure(4.0 + 1.6 * len(batches), height)
    axes = fig.subplots(1, 2)
    for ax, value, what in ((axes[0], "latency_ratio", "latency"),
                            (axes[1], "energy_ratio", "energy")):
        matrix = ratio_matrix(df, row_key, value, rows, batches)
        draw_heatmap(fig, ax, matrix, rows, batches, f"{what}: host / PIM", ylabel)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def grid_heatmaps(points: pd.DataFrame, label: str,
                  out_dir: str | os.PathLike[str]) -> list[Path]:
    """``heatmap_<family>.png`` per family of the point table, rows ``shape (dtype)``;
    ``label`` names the profile in the titles."""
    paths = []
    df = points.assign(row=[f"{s} ({d})" for s, d in zip(points["shape"], points["dtype"])])
    for family, g in df.groupby("family", sort=False):
        rows = list(dict.fromkeys(g["row"]))
        if family == "gemm":
            what, kernels = "GEMM k x n (weights k x n, m = batch)", "GEMM"
        else:
            what = "table: dim, pooling, indices"
            kernels = f"embedding bags on a {int(g['rows'].iloc[0]):,}-row table"
        paths.append(heatmap_png(g, "row", rows, f"{label}: host vs PIM, {kernels}", what,
                                 Path(out_dir) / f"heatmap_{family}.png"))
    return paths


def model_png(plans: pd.DataFrame, kernels: pd.DataFrame, title: str,
              path: str | os.PathLike[str]) -> Path:
    """The model view: latency and energy of each plan against the batch (log axes), and
    the latency ratio heatmap of the kernels the PIM kind runs."""
    batches = sorted(int(b) for b in plans["batch"].unique())
    runs = kernels[kernels["pim_status"] == "ok"]
    names = list(dict.fromkeys(runs["kernel"]))
    fig = _figure(13.0, max(4.5, 1.6 + 0.24 * len(names)))
    grid = fig.add_gridspec(2, 2, width_ratios=(1.0, 1.3))
    for row, (value, label) in enumerate((("latency_ns", "latency (us)"),
                                          ("energy_pj", "energy (uJ)"))):
        ax = fig.add_subplot(grid[row, 0])
        scale = 1e3 if value == "latency_ns" else 1e6
        for plan, g in plans.groupby("plan", sort=False):
            g = g.sort_values("batch")
            ax.plot(g["batch"], g[value] / scale, marker="o", label=plan)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(batches)
        ax.set_xticklabels([str(b) for b in batches])
        ax.set_xlabel("batch size")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    ax = fig.add_subplot(grid[:, 1])
    draw_heatmap(fig, ax, ratio_matrix(runs, "kernel", "latency_ratio", names, batches),
                 names, batches, "per-kernel latency: host / PIM (kernels PIM runs)",
                 "kernel")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return _save(fig, path)
