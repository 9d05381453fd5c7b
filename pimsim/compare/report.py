"""What a ``pimsim compare`` run writes, and the Markdown it prints.

The advantage map of a profile (:func:`write_grid`):

- ``advantage.csv``: one row per point (:data:`pimsim.compare.run.POINT_COLUMNS`);
- ``crossover.csv``: one row per shape (:func:`pimsim.compare.crossover.crossover_table`);
- ``advantage.md``: the crossover tables and why points did not run on PIM;
- ``heatmap_gemm.png``, ``heatmap_embedding.png``: the ratio heatmaps.

The model view (:func:`write_model`): ``model_kernels.csv``, ``model_plans.csv``,
``model.md`` (plans per batch, best placement per kernel and batch), ``model.png`` and
``timeline_b<B>.png``, the best plan's schedule at every batch.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from pimsim.compare.crossover import crossover_table
from pimsim.compare.model import ModelComparison
from pimsim.compare.plots import grid_heatmaps, model_png
from pimsim.compare.tables import (
    crossover_markdown,
    kernels_markdown,
    plans_markdown,
    unsupported_markdown,
    write_csv,
)
from pimsim.util.fileio import atomic_write_text


def grid_markdown(points: pd.DataFrame, label: str) -> str:
    """The advantage map's Markdown (``label`` names the profile): crossover tables and
    the points PIM did not run."""
    text = crossover_markdown(crossover_table(points), f"PIM advantage map: {label}")
    refused = unsupported_markdown(points)
    return text + (f"\n{refused}\n" if refused else "")


def write_grid(points: pd.DataFrame, label: str,
               out_dir: str | os.PathLike[str]) -> tuple[str, list[Path]]:
    """Write the advantage map's files into ``out_dir`` (``label`` names the profile in
    titles); its Markdown and the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = grid_markdown(points, label)
    paths = [write_csv(points, out / "advantage.csv"),
             write_csv(crossover_table(points), out / "crossover.csv"),
             atomic_write_text(out / "advantage.md", text)]
    paths += grid_heatmaps(points, label, out)
    return text, paths


def model_markdown(mc: ModelComparison) -> str:
    """The model view's Markdown: the plans per batch, then the best placement per kernel."""
    dtype = mc.dtype or "as written"
    return "\n".join([
        f"## {mc.workload} on {mc.profile}: host vs PIM (data type {dtype}, best by "
        f"{mc.objective})", "",
        "Plans: host-only, naive (every kernel the PIM kind runs on PIM), best (per-kernel "
        "best placement, scheduled; 'best from' names the plan when a whole plan scheduled "
        "better). Gains are host-only over best.", "",
        plans_markdown(mc.plans), "",
        "Per kernel and batch: best placement, host/PIM latency / energy ratio (> 1: PIM "
        "wins).", "",
        kernels_markdown(mc.kernels), ""])


def write_model(mc: ModelComparison, out_dir: str | os.PathLike[str],
                timelines: bool = True) -> tuple[str, list[Path]]:
    """Write the model view's files into ``out_dir``; its Markdown and the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = model_markdown(mc)
    paths = [write_csv(mc.kernels, out / "model_kernels.csv"),
             write_csv(mc.plans, out / "model_plans.csv"),
             atomic_write_text(out / "model.md", text),
             model_png(mc.plans, mc.kernels, f"{mc.workload} on {mc.profile}: plans and "
                       "kernels, host vs PIM", out / "model.png")]
    if timelines:
        for batch, trace in mc.best_traces.items():
            paths.append(trace.timeline_png(
                out / f"timeline_b{batch}.png",
                title=f"{mc.workload} on {mc.profile}, batch {batch}: best plan"))
    return text, paths
