"""The reproduction's tables of one operating point (B, C and B_host with accuracy; B / C
beside the published ratios) and the summary over every point."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from codesign.pipeline.acceptance import RULE_FIRST, RULE_SHORT
from codesign.pipeline.decompose import METRICS
from codesign.pipeline.points import OperatingPoint
from codesign.pipeline.protocol import PUBLISHED, read_json


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def results_table(out: Path, pdir: Path, dataset: str) -> pd.DataFrame:
    """One row per model (B, C, B_host) of the point in ``pdir`` with accuracy (supernet
    estimate; test log loss and AUC, mean and std over the seeds trained from scratch),
    FLOPs, energy and latency; C is the accepted C (``scratch_C.json``)."""
    b = read_json(out / "B.json")
    hw = read_json(pdir / "hardware.json")
    scratch = {"B": read_json(out / "scratch_B.json"), "C": read_json(pdir / "scratch_C.json")}
    rows = []
    for tag, sup, sc in (("B", b, scratch["B"]), ("C", scratch["C"], scratch["C"]),
                         ("B_host", b, scratch["B"])):
        h = hw[tag]
        std = sc.get("test_std", {})
        rows.append({
            "dataset": dataset, "model": tag,
            "supernet_logloss": sup["objectives"]["logloss"],
            "test_logloss": sc["test"]["logloss"],
            "test_logloss_std": std.get("logloss", math.nan),
            "test_auc": sc["test"]["auc"], "test_auc_std": std.get("auc", math.nan),
            "seeds": len(sc.get("seeds", [0])),
            "mflops": h["flops"] / 1e6, "energy_uj": h["energy_pj"] / 1e6,
            "latency_us": h["latency_ns"] / 1e3,
            "pim_kernels": len(h["on_pim"]),
        })
    return pd.DataFrame(rows)


def ratios_table(df: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """B / C and B_host / C of FLOPs, energy and latency, then the published B / C."""
    by = df.set_index("model")
    ratios = []
    for ref in ("B", "B_host"):
        ratios.append({
            "dataset": dataset, "ratio": f"{ref} / C",
            "flops": _ratio(by.loc[ref, "mflops"], by.loc["C", "mflops"]),
            "energy": _ratio(by.loc[ref, "energy_uj"], by.loc["C", "energy_uj"]),
            "latency": _ratio(by.loc[ref, "latency_us"], by.loc["C", "latency_us"]),
        })
    ratios.append({"dataset": "published", "ratio": "B / C", **PUBLISHED})
    return pd.DataFrame(ratios)


def summary_row(dataset: str, point: OperatingPoint, folder: str, results: pd.DataFrame,
                shares: pd.DataFrame, pdir: Path) -> dict[str, Any]:
    """One line of the summary: B / C per metric, the hardware and architecture shares of
    energy and latency, C's mean test log loss against B's and whether C was accepted,
    whether the advantage map shows PIM can win, and a serving point's limit."""
    by = results.set_index("model")
    sh = shares.set_index("metric")
    hw, c = read_json(pdir / "hardware.json"), read_json(pdir / "scratch_C.json")
    limit = read_json(pdir / "C.json").get("latency_limit_us")
    row: dict[str, Any] = {"dataset": dataset, "profile": point.profile, "batch": point.batch,
                           "limit_us": math.nan if limit is None else float(limit)}
    for metric, _ in METRICS:
        row[metric] = float(sh.loc[metric, "total_B_over_C"])
    for metric in ("energy", "latency"):
        row[f"{metric}_hw_share"] = float(sh.loc[metric, "hardware"])
        row[f"{metric}_arch_share"] = float(sh.loc[metric, "architecture"])
    row["test_logloss_C_minus_B"] = float(by.loc["C", "test_logloss"] - by.loc["B", "test_logloss"])
    row["C_rule"] = RULE_SHORT.get(c.get("rule", RULE_FIRST), "not recorded")
    row["pim_can_win"] = bool(hw.get("advantage", {}).get("pim_can_win", True))
    row["C_within_limit"] = bool(hw["C"].get("within_limit", True))
    row["folder"] = folder
    return row


def published_row(dataset: str) -> dict[str, Any]:
    """The published B / C beside the measured ones."""
    return {"dataset": dataset, "profile": "published", "batch": math.nan, **PUBLISHED}
