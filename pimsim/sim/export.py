"""Files of a simulation trace: Parquet, CSV, Chrome trace-event JSON (Perfetto and
chrome://tracing open it) and a timeline picture (PNG, matplotlib's Figure API).

Every file is written to a temporary name beside the destination and renamed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pimsim.util.fileio import atomic_write, atomic_write_text

if TYPE_CHECKING:  # for annotations only: trace.py imports this module
    from pimsim.sim.trace import Trace

#: Colour of each kernel kind in the timeline (others: :data:`OTHER_COLOR`).
OP_COLORS: dict[str, str] = {"embedding_bag": "tab:blue", "gemm": "tab:orange",
                             "interaction": "tab:green", "elementwise": "tab:purple",
                             "transfer": "tab:gray"}
OTHER_COLOR = "tab:red"
#: Hatching of the bars of kernels that ran on PIM.
PIM_HATCH = "///"
#: Resolution of the timeline picture (dots per inch), height of one kernel's row and the
#: largest picture height (inches).
TIMELINE_DPI = 110
TIMELINE_ROW_IN = 0.22
TIMELINE_MAX_HEIGHT_IN = 60.0
#: Height (inches) of the band at the bottom of the picture that holds the legend.
LEGEND_BAND_IN = 0.35


def _lanes(units: set[str]) -> list[str]:
    """The host lane first, then the others by name."""
    return sorted(units, key=lambda u: (u != "host", u))


def to_parquet(trace: Trace, path: str | os.PathLike[str]) -> Path:
    df = trace.df
    df.attrs = {}
    return atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))


def to_csv(trace: Trace, path: str | os.PathLike[str]) -> Path:
    df = trace.df
    return atomic_write(path, lambda tmp: df.to_csv(tmp, index=False))


def chrome_events(trace: Trace) -> dict[str, Any]:
    """Chrome trace-event JSON: one process, a thread (lane) per unit; times in us."""
    lanes = _lanes({r.unit for r in trace.records})
    tid = {u: i + 1 for i, u in enumerate(lanes)}
    events: list[dict[str, Any]] = [
        {"name": "process_name", "ph": "M", "pid": 1, "tid": 0,
         "args": {"name": f"pimsim {trace.meta.get('profile', '')}".strip()}}
    ]
    for u in lanes:
        events.append({"name": "thread_name", "ph": "M", "pid": 1, "tid": tid[u],
                       "args": {"name": u}})
        events.append({"name": "thread_sort_index", "ph": "M", "pid": 1, "tid": tid[u],
                       "args": {"sort_index": tid[u]}})
    for r in trace.records:
        events.append({
            "name": r.name, "cat": f"{r.op},{r.placement}", "ph": "X", "pid": 1,
            "tid": tid[r.unit], "ts": r.start_ns / 1e3, "dur": max(r.duration_ns, 0) / 1e3,
            "args": {"placement": r.placement, "flops": r.flops,
                     "external_bytes": r.external_bytes,
                     "internal_bytes": r.internal_bytes,
                     "dram_commands": r.dram_commands, "energy_pj": r.energy_pj,
                     "fallback": r.fallback},
        })
    return {"traceEvents": events, "displayTimeUnit": "ns",
            "otherData": {k: str(v) for k, v in trace.meta.items()}}


def to_chrome_json(trace: Trace, path: str | os.PathLike[str]) -> Path:
    return atomic_write_text(path, json.dumps(chrome_events(trace)))


def timeline_figure(trace: Trace, title: str | None = None) -> Any:
    """The timeline as a matplotlib ``Figure``: one row per kernel, named on the left and
    grouped by the lane it ran on (host first, lane names on the right), one bar per
    kernel from its start to its end, coloured by its kind and hatched when it ran on PIM.
    The legend sits in a band below the axes, so it hides no bar, and lists exactly the
    kinds (and the hatching) drawn."""
    # lazy: matplotlib takes 0.19 s to import (python -X importtime); only commands that
    # draw pay it
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    recs = [r for r in trace.records if r.placement != "memory"]
    lanes = _lanes({r.unit for r in recs})
    rows = sorted(recs, key=lambda r: (lanes.index(r.unit), r.start_ns, r.name))
    fig = Figure(figsize=(11, min(TIMELINE_MAX_HEIGHT_IN, 2.0 + TIMELINE_ROW_IN * len(rows))))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for y, r in enumerate(rows):
        ax.barh(y, r.duration_ns / 1e3, left=r.start_ns / 1e3, height=0.7,
                color=OP_COLORS.get(r.op, OTHER_COLOR), edgecolor="black", linewidth=0.3,
                hatch=PIM_HATCH if r.placement == "pim" else None)
    font = max(4.0, min(8.0, 400.0 / max(1, len(rows))))
    ax.set_yticks(range(len(rows)), [r.name for r in rows], fontsize=font)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    for lane in lanes:
        ys = [y for y, r in enumerate(rows) if r.unit == lane]
        if ys[0] > 0:
            ax.axhline(ys[0] - 0.5, color="gray", linewidth=0.6)
        ax.text(1.005, (ys[0] + ys[-1]) / 2, lane, transform=ax.get_yaxis_transform(),
                va="center", ha="left", fontsize=7, rotation=-90 if len(ys) > 3 else 0)
    ax.set_xlabel("time (us)")
    ax.grid(True, axis="x", alpha=0.3)
    drawn = list(dict.fromkeys(r.op for r in rows))
    handles = [Patch(facecolor=OP_COLORS.get(op, OTHER_COLOR), edgecolor="black", label=op)
               for op in drawn]
    if any(r.placement == "pim" for r in rows):
        handles.append(Patch(facecolor="white", edgecolor="black", hatch=PIM_HATCH,
                             label="on PIM (hatched)"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=7,
               frameon=False)
    ax.set_title(title or f"{trace.meta.get('workload', '')} on {trace.meta.get('profile', '')}")
    fig.tight_layout(rect=(0.0, LEGEND_BAND_IN / fig.get_figheight(), 1.0, 1.0))
    return fig


def timeline_png(trace: Trace, path: str | os.PathLike[str], title: str | None = None) -> Path:
    """Write :func:`timeline_figure` as a PNG."""
    fig = timeline_figure(trace, title)
    return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=TIMELINE_DPI, format="png"))
