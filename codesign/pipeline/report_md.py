"""The reproduction's results: the table of B, C and B_host, the ratios beside the published
ones, the plots, ``report.md``, and the short summary ``codesign reproduce`` prints."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from codesign.pipeline.protocol import PUBLISHED, SIM_BATCH, TIMINGS_NAME, read_json, read_timings
from codesign.pipeline.plots import kernel_breakdown_plot, pareto_plot
from codesign.pipeline.report import markdown_table, write_csv, write_text
from codesign.pipeline.selection import LOGLOSS_TOLERANCE, RULE_FALLBACK, RULE_MET
from pimsim import ENERGY_COLUMNS, Trace

#: Kernels per model shown in the breakdown plot (the rest are summed into one bar).
BREAKDOWN_KERNELS = 12


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def results_table(out: Path, dataset: str) -> pd.DataFrame:
    """One row per model (B, C, B_host) with accuracy, FLOPs, energy and latency."""
    b, c = read_json(out / "B.json"), read_json(out / "C.json")
    hw = read_json(out / "hardware.json")
    scratch = {t: read_json(out / f"scratch_{t}.json") for t in ("B", "C")}
    rows = []
    for tag, sup, sc in (("B", b, scratch["B"]), ("C", c, scratch["C"]),
                         ("B_host", b, scratch["B"])):
        h = hw[tag]
        rows.append({
            "dataset": dataset, "model": tag,
            "supernet_logloss": sup["objectives"]["logloss"],
            "test_logloss": sc["test"]["logloss"], "test_auc": sc["test"]["auc"],
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


def _models_md(df: pd.DataFrame) -> str:
    return markdown_table(df, float_format={
        "supernet_logloss": ".5f", "test_logloss": ".5f", "test_auc": ".5f", "mflops": ".4g",
        "energy_uj": ".4g", "latency_us": ".4g"})


def _choice_lines(b: dict[str, Any], c: dict[str, Any]) -> list[str]:
    """Which rule picked C, and how C relates to B."""
    rule = c.get("rule", RULE_MET if c.get("met_tolerance", True) else RULE_FALLBACK)
    lines = [f"C was picked by the rule: **{rule}** (tolerance {LOGLOSS_TOLERANCE}; B's supernet "
             f"log loss {b['objectives']['logloss']:.5f}, C's {c['objectives']['logloss']:.5f}).",
             ""]
    if not c.get("met_tolerance", True):
        lines += ["**No front point met the log-loss tolerance; C is the front's lowest log "
                  "loss point.**", ""]
    if c.get("same_subnet_as_b"):
        plan = "and B's plan" if c.get("is_b_genome") else "with another PIM plan"
        lines += [f"**C = B's subnet** ({plan}): B's training from scratch is C's, not run twice.",
                  ""]
    if c.get("seeded"):
        what = ("C is B's own genome (no front point within the tolerance has a lower energy x "
                "latency)" if c.get("is_b_genome") else
                "C keeps B's subnet with another PIM plan" if c.get("same_subnet_as_b") else
                "C is another subnet than B")
        lines += [f"C's co-search started from {c['seeded']} seeded genome(s) (B itself, "
                  "B's subnet with greedy and mutated plans, then B's FLOPs-lowering shrinks "
                  "alternating with the next-best subnets of B's search, then one-mutation "
                  "neighbours of B, with greedy plans), counted in its evaluations; "
                  f"{what}.", ""]
    return lines


def _timings_md(times: dict[str, float]) -> str:
    if not times:
        return "(none recorded)"
    total = sum(times.values())
    rows = [{"stage": k, "seconds": v, "share_%": 100.0 * v / total if total else math.nan}
            for k, v in times.items()]
    rows.append({"stage": "total", "seconds": total, "share_%": 100.0})
    return markdown_table(pd.DataFrame(rows), float_format=".1f")


def summary_text(out: str | os.PathLike[str]) -> str:
    """A short text for the terminal: how C was picked, the B/C tables, the run time and the
    path of ``report.md`` (of a finished run in ``out``)."""
    out = Path(out)
    b, c = read_json(out / "B.json"), read_json(out / "C.json")
    df = pd.read_csv(out / "results.csv")
    rdf = pd.read_csv(out / "ratios.csv")
    times = read_timings(out)
    lines = [*_choice_lines(b, c), _models_md(df), "", markdown_table(rdf, float_format=".3g"),
             "", f"run time: {sum(times.values()):.0f} s over {len(times)} stages "
             f"({', '.join(f'{k} {v:.0f} s' for k, v in times.items())})",
             f"report: {out / 'report.md'}"]
    return "\n".join(lines)


def _kernels(out: Path) -> pd.DataFrame:
    """Per-kernel latency and energy by component of B and C, from their traces."""
    kdfs = []
    for tag in ("B", "C"):
        tdf = Trace.from_parquet(out / "traces" / f"{tag}.parquet").df
        tdf = tdf[tdf["op"] != "background"]
        k = pd.DataFrame({"model": tag, "name": tdf["name"], "placement": tdf["placement"],
                          "latency_ns": tdf["duration_ns"]})
        for col in ENERGY_COLUMNS:
            k[f"energy_{col[:-3]}_pj"] = tdf[col].to_numpy()
        kdfs.append(k)
    return pd.concat(kdfs, ignore_index=True)


def write_report(out: Path, dataset: str, profile: str, budget: str) -> Path:
    """Write results.csv, ratios.csv, pareto.png, breakdown.png and report.md of the run in
    ``out``; returns the path of report.md."""
    df = results_table(out, dataset)
    write_csv(df, out / "results.csv")
    rdf = ratios_table(df, dataset)
    write_csv(rdf, out / "ratios.csv")
    b, c = read_json(out / "B.json"), read_json(out / "C.json")
    hist = pd.read_csv(out / "search_C" / "history.csv")
    hw = read_json(out / "hardware.json")
    marks = {t: {"logloss": (b if t == "B" else c)["objectives"]["logloss"],
                 "energy_pj": hw[t]["energy_pj"], "latency_ns": hw[t]["latency_ns"]}
             for t in ("B", "C")}
    pareto_plot(hist, out / "pareto.png", marks=marks,
                title=f"{dataset}: co-search on {profile} (budget {budget})")
    kernel_breakdown_plot(_kernels(out), out / "breakdown.png", group="model",
                          max_kernels=BREAKDOWN_KERNELS,
                          title=f"{dataset}: per-kernel latency and energy, B vs C")
    lines = [
        f"# pimrec reproduction: {dataset}, profile `{profile}`, budget `{budget}`",
        "",
        "B: best subnet of an accuracy-only search with the profile's naive plan (tables on "
        "PIM where the kind can pool, dense kernels on the host). C: the co-search front point "
        "with the lowest energy x latency whose supernet log loss is at most B's + "
        f"{LOGLOSS_TOLERANCE}. B_host: B with every kernel on the host. Latency and energy: one "
        f"inference batch of {SIM_BATCH} simulated by pimsim; `mflops`: MFLOPs/sample, 2 per "
        "multiply-add (what is counted follows NASRec).",
        "",
        *_choice_lines(b, c),
        "## Models", "", _models_md(df), "",
        "## Ratios (larger = C better) beside the published ones", "",
        markdown_table(rdf, float_format=".3g"), "",
        f"Searches: {b.get('evaluations')} evaluations each (B accuracy, C pareto); C's front "
        f"holds {c.get('front_size')} points. C places {len(hw['C']['on_pim'])} kernels on PIM "
        f"with knobs {hw['C']['knobs']}; B places {len(hw['B']['on_pim'])}.", "",
        "The published work does not define its PIM hardware, configuration space or the "
        "baseline of its ratios; these are pimrec's own (see README).", "",
        "## Artefacts", "",
        "- `results.csv`, `ratios.csv`: the tables above",
        "- `pareto.png`: log loss vs energy and vs latency of every co-search evaluation, B and "
        "C marked (points beyond Tukey's far-out fence are drawn at the axis edge)",
        "- `breakdown.png`: per-kernel latency (coloured by placement: host or PIM) and energy "
        "by component of B and C",
        "- `traces/B.chrome.json`, `traces/C.chrome.json` (Perfetto), `traces/*.parquet`",
        f"- `{TIMINGS_NAME}`: wall seconds of each stage (the report stage's own time is added "
        "after this report is written)",
        "",
        "## Run time by stage (wall seconds on the machine that ran it)", "",
        _timings_md(read_timings(out)), "",
    ]
    return write_text(out / "report.md", "\n".join(lines))
