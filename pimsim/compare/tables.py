"""The advantage map and the model view as tables: CSV (written and read back) and Markdown.

Every file is written through :mod:`pimsim.util.fileio` (a temporary name, then renamed).
:func:`read_points_csv` reads a point table back with the column types it was written
with, so a map can be re-plotted or compared without running it again.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pimsim.compare.crossover import ratio_text
from pimsim.compare.run import POINT_COLUMNS
from pimsim.errors import PimsimError
from pimsim.util.fileio import atomic_write_text

#: Columns of a point table read as text; every other column is numeric.
TEXT_COLUMNS: tuple[str, ...] = ("family", "shape", "dtype", "distribution", "pim_status")


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """``df`` as CSV at ``path`` (atomic); returns the path."""
    return atomic_write_text(path, df.to_csv(index=False))


def read_points_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A point table written by :func:`write_csv` (columns as ``POINT_COLUMNS``)."""
    try:
        df = pd.read_csv(path, dtype={c: "string" for c in TEXT_COLUMNS},
                         keep_default_na=False, na_values={c: [""] for c in POINT_COLUMNS
                                                           if c not in TEXT_COLUMNS})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise PimsimError(f"{path}: cannot read a point table ({exc}); accepted: the "
                          "advantage.csv that pimsim compare writes") from None
    missing = [c for c in POINT_COLUMNS if c not in df.columns]
    if missing:
        raise PimsimError(f"{path}: columns {missing} missing; accepted: a point table with "
                          f"columns {', '.join(POINT_COLUMNS)}")
    df = df[list(POINT_COLUMNS)]
    return df.astype({c: object for c in TEXT_COLUMNS}).replace({"": math.nan})


def markdown(head: Sequence[str], rows: Sequence[Sequence[Any]],
             right: Sequence[bool] | None = None) -> str:
    """A GitHub pipe table of ``rows`` (cells made text, ``|`` escaped); ``right`` marks
    the right-aligned columns."""
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    align = right or [False] * len(head)
    lines = ["| " + " | ".join(cell(h) for h in head) + " |",
             "|" + "|".join("---:" if r else ":---" for r in align) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def crossover_markdown(xtab: pd.DataFrame, title: str) -> str:
    """The crossover table (:func:`pimsim.compare.crossover.crossover_table`) as Markdown,
    one table per family, each cell ``latency ratio / energy ratio`` (host over PIM)."""
    parts = [f"## {title}", "",
             "Cells: host/PIM latency ratio / energy ratio (> 1: PIM wins). Crossover: the "
             "batches at which PIM wins."]
    ratio_cols = [c for c in xtab.columns if c.startswith("ratio_b")]
    for family, g in xtab.groupby("family", sort=False):
        head = ["shape", "dtype", *[f"b{c[len('ratio_b'):]}" for c in ratio_cols],
                "latency crossover", "energy crossover"]
        rows = [[r["shape"], r["dtype"], *[r[c] for c in ratio_cols], r["latency_crossover"],
                 r["energy_crossover"]] for _, r in g.iterrows()]
        right = [False, False, *[True] * len(ratio_cols), False, False]
        parts += ["", f"### {family}", "", markdown(head, rows, right)]
    return "\n".join(parts) + "\n"


def unsupported_markdown(points: pd.DataFrame) -> str:
    """One line per reason the PIM kind refused points of the grid (empty if none)."""
    refused = points[points["pim_status"] != "ok"]
    lines = []
    for reason, g in refused.groupby("pim_status", sort=False):
        shapes = ", ".join(dict.fromkeys(f"{s} ({d})" for s, d in zip(g["shape"], g["dtype"])))
        lines.append(f"- not on PIM: {shapes}: {reason}")
    return "\n".join(lines)


def si_time(ns: float) -> str:
    """A duration in ns as text with a readable unit."""
    if not math.isfinite(ns):
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if abs(ns) >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def si_energy(pj: float) -> str:
    """An energy in pJ as text with a readable unit."""
    if not math.isfinite(pj):
        return "-"
    for unit, scale in (("J", 1e12), ("mJ", 1e9), ("uJ", 1e6), ("nJ", 1e3)):
        if abs(pj) >= scale:
            return f"{pj / scale:.3g} {unit}"
    return f"{pj:.3g} pJ"


def plans_markdown(plans: pd.DataFrame) -> str:
    """One row per batch: latency and energy of the host-only, naive and best plans, the
    best plan's gains over host-only and how many kernels it puts on PIM."""
    head = ["batch", "host-only", "naive", "best", "best speed-up", "host-only energy",
            "naive energy", "best energy", "best energy gain", "best: on PIM", "best from"]
    rows = []
    for batch, g in plans.groupby("batch", sort=True):
        by = {r["plan"]: r for _, r in g.iterrows()}
        h, n, b = by["host-only"], by["naive"], by["best"]
        rows.append([int(batch), si_time(h["latency_ns"]), si_time(n["latency_ns"]),
                     si_time(b["latency_ns"]), f"{b['latency_ratio']:.2f}x",
                     si_energy(h["energy_pj"]), si_energy(n["energy_pj"]),
                     si_energy(b["energy_pj"]), f"{b['energy_ratio']:.2f}x",
                     int(b["kernels_on_pim"]), b["best_from"]])
    return markdown(head, rows, [True] * 10 + [False])


def kernels_markdown(kernels: pd.DataFrame) -> str:
    """One row per kernel the PIM kind runs, one column per batch: the best placement and
    the host/PIM latency / energy ratios; then one line listing the kernels that stay on
    the host because the kind does not run them."""
    batches = sorted(int(b) for b in kernels["batch"].unique())
    head = ["kernel", "op", f"shape at b{batches[-1]}", *[f"b{b}" for b in batches]]
    rows: list[list[Any]] = []
    host_only: dict[str, list[str]] = {}
    for name, g in kernels.groupby("kernel", sort=False):
        if (g["pim_status"] != "ok").all():
            host_only.setdefault(str(g["op"].iloc[0]), []).append(str(name))
            continue
        by = {int(r["batch"]): r for _, r in g.iterrows()}
        cells = []
        for b in batches:
            r = by.get(b)
            if r is None:
                cells.append("-")
            elif r["pim_status"] != "ok":
                cells.append("host only")
            else:
                cells.append(f"{r['best']} {ratio_text(r['latency_ratio'])} / "
                             f"{ratio_text(r['energy_ratio'])}")
        rows.append([name, g["op"].iloc[0], by[batches[-1]]["shape"], *cells])
    text = markdown(head, rows, [False, False, False, *[True] * len(batches)])
    if host_only:
        groups = [f"{op}: {', '.join(names) if len(names) <= 4 else names[0] + ' .. ' + names[-1]}"
                  f" ({len(names)})" for op, names in host_only.items()]
        text += ("\n\nOn the host at every batch (the PIM kind does not run them): "
                 + "; ".join(groups) + ".")
    return text
