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

#: Colour of each kernel kind in the timeline (others: red).
OP_COLORS: dict[str, str] = {"embedding_bag": "tab:blue", "gemm": "tab:orange",
                             "interaction": "tab:green", "elementwise": "tab:purple",
                             "transfer": "tab:gray"}
#: Resolution of the timeline picture (dots per inch).
TIMELINE_DPI = 110


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


def timeline_png(trace: Trace, path: str | os.PathLike[str], title: str | None = None) -> Path:
    """One horizontal lane per unit, one bar per kernel coloured by its kind."""
    # lazy: matplotlib takes 0.19 s to import (python -X importtime); only commands that
    # draw pay it
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    recs = [r for r in trace.records if r.placement != "memory"]
    lanes = _lanes({r.unit for r in recs})
    fig = Figure(figsize=(11, 1.2 + 0.6 * len(lanes)))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for r in recs:
        y = lanes.index(r.unit)
        ax.barh(y, r.duration_ns / 1e3, left=r.start_ns / 1e3, height=0.6,
                color=OP_COLORS.get(r.op, "tab:red"), edgecolor="black", linewidth=0.3)
    ax.set_yticks(range(len(lanes)), lanes)
    ax.set_xlabel("time (us)")
    ax.invert_yaxis()
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in OP_COLORS.values()]
    ax.legend(handles, list(OP_COLORS), loc="upper right", fontsize=7, ncol=5)
    ax.set_title(title or f"{trace.meta.get('workload', '')} on {trace.meta.get('profile', '')}")
    fig.tight_layout()
    return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=TIMELINE_DPI, format="png"))
