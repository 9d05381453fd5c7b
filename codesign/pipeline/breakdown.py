"""What a trace's time and energy go to: energy by component (host compute, DRAM activate,
read/write, refresh, background, I/O, PIM ALU, crossbar arrays and converters) and busy
time by kernel class (embedding, MLP, interaction, attention), for the decomposition's rows.

A kernel's class follows its operation and, for the subnet's kernels, the operator it
belongs to (kernel names ``b<block>.<operator>.<step>``, :mod:`codesign.hw.mapping`):
embedding bags are ``embedding``; interaction kernels and the dot-product and DeepFM
operators ``interaction``; the attention operator ``attention``; every other GEMM and
elementwise kernel (FC, EFC, gating, sum, merge, the final layer, DLRM's MLPs) ``MLP``.
Busy time is the sum of the kernels' durations: kernels that overlap both count, so the
classes of a row can add up to more than its latency."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pimsim import ENERGY_COLUMNS, Trace

#: The kernel classes, in the report's order.
KERNEL_CLASSES: tuple[str, ...] = ("embedding", "MLP", "interaction", "attention")
#: Operators (the second part of a subnet kernel's name) of each class but MLP.
_OPERATOR_CLASS = {"dot": "interaction", "fm": "interaction", "attention": "attention"}
#: ``op`` of the trace's record of the memory's background outside every kernel.
IDLE_OP = "background"


def kernel_class(name: str, op: str) -> str:
    """The class of a trace record's kernel (see the module docstring)."""
    if op == "embedding_bag":
        return "embedding"
    if op == "interaction":
        return "interaction"
    parts = name.split(".")
    operator = parts[1] if len(parts) >= 3 and parts[0].startswith("b") else parts[0]
    return _OPERATOR_CLASS.get(operator, "MLP")


def latency_by_class(trace: Trace) -> dict[str, float]:
    """Busy time (us) of each kernel class (0 for a class without kernels)."""
    df = trace.df[trace.df["op"] != IDLE_OP]
    classes = [kernel_class(str(n), str(o)) for n, o in zip(df["name"], df["op"])]
    busy = df["duration_ns"].groupby(classes).sum()
    return {c: float(busy.get(c, 0.0)) / 1e3 for c in KERNEL_CLASSES}


def energy_by_component(trace: Trace) -> dict[str, float]:
    """Energy (uJ) of each component over the whole trace, background record included."""
    return {c.removesuffix("_pj"): float(trace.df[c].sum()) / 1e6 for c in ENERGY_COLUMNS}


def row_breakdowns(trace_dir: Path, rows: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(energy by component in uJ, busy time by kernel class in us), one row per model of
    ``rows`` read from ``trace_dir/<model>.parquet``; components no row uses are dropped."""
    energy, latency = [], []
    for tag in rows:
        trace = Trace.from_parquet(trace_dir / f"{tag}.parquet")
        energy.append({"model": tag, **energy_by_component(trace)})
        latency.append({"model": tag, **latency_by_class(trace)})
    edf = pd.DataFrame(energy)
    used = [c for c in edf.columns[1:] if (edf[c] != 0).any()]
    return edf[["model", *used]], pd.DataFrame(latency)


def components_figure(energy: pd.DataFrame, latency: pd.DataFrame,
                      title: str | None = None) -> Any:
    """Two panels, one bar per model: energy (uJ) stacked by component, busy time (us)
    stacked by kernel class."""
    # lazy: matplotlib takes about 0.25 s to import; the tables do not need it
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12.0, 4.2))
    FigureCanvasAgg(fig)
    for k, (df, unit, what) in enumerate(((energy, "energy (µJ)", "by component"),
                                          (latency, "busy time (µs)", "by kernel class"))):
        ax = fig.add_subplot(1, 2, k + 1)
        models = list(df["model"])
        bottom = [0.0] * len(models)
        for col in df.columns[1:]:
            vals = [float(v) for v in df[col]]
            if any(vals):
                ax.bar(models, vals, bottom=bottom, label=str(col))
                bottom = [b + v for b, v in zip(bottom, vals)]
        ax.set_ylabel(unit)
        ax.set_title(f"{unit.split(' (')[0]} {what}")
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(loc="best", fontsize=7)
        ax.tick_params(axis="x", labelrotation=30)
    if title:
        fig.suptitle(title)
    return fig


def class_kernels(trace_dir: Path, rows: Sequence[str]) -> pd.DataFrame:
    """Per model of ``rows`` (read from ``trace_dir/<model>.parquet``) and kernel class: busy time (ns),
    placement (host, pim or mixed) and energy by component (pJ), the input of the per-class
    breakdown plot (:func:`codesign.pipeline.plots.kernel_breakdown_plot`)."""
    out = []
    for model in rows:
        df = Trace.from_parquet(trace_dir / f"{model}.parquet").df
        df = df[df["op"] != IDLE_OP]
        cls = [kernel_class(str(n), str(o)) for n, o in zip(df["name"], df["op"])]
        for c, g in df.groupby(cls, sort=False):
            places = set(g["placement"].astype(str))
            out.append({"model": model, "name": c,
                        "placement": places.pop() if len(places) == 1 else "mixed",
                        "latency_ns": float(g["duration_ns"].sum()),
                        **{f"energy_{e[:-3]}_pj": float(g[e].sum()) for e in ENERGY_COLUMNS}})
    return pd.DataFrame(out)
