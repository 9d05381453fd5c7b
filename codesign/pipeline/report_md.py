"""The reproduction's report: per operating point the B, C and B_host table, the ratios
beside the published ones, the decomposition and its shares, energy by component, busy time
by kernel class and the plots; the summary of every point; ``report.md`` and the short text
``codesign reproduce`` prints."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from codesign.pipeline.breakdown import class_kernels, components_figure, row_breakdowns
from codesign.pipeline.decompose import ROWS, decomposition_table, shares_table
from codesign.pipeline.plots import kernel_breakdown_plot, pareto_plot
from codesign.pipeline.points import OperatingPoint, point_dir
from codesign.pipeline.acceptance import SCRATCH_SEEDS, TEST_TOLERANCE
from codesign.pipeline.protocol import TIMINGS_NAME, read_json, read_timings
from codesign.pipeline.report import markdown_table, save_figure, write_csv, write_text
from codesign.pipeline.selection import LOGLOSS_TOLERANCE, RULE_FALLBACK, RULE_MET
from codesign.pipeline.tables import published_row, ratios_table, results_table, summary_row

#: The run's summary of every operating point, in the run folder.
SUMMARY_NAME = "summary.csv"


def _models_md(df: pd.DataFrame) -> str:
    return markdown_table(df, float_format={
        "supernet_logloss": ".5f", "test_logloss": ".5f", "test_logloss_std": ".5f",
        "test_auc": ".5f", "test_auc_std": ".5f", "mflops": ".4g",
        "energy_uj": ".4g", "latency_us": ".4g"})


def _acceptance_lines(b_scratch: dict[str, Any], c: dict[str, Any]) -> list[str]:
    """How C was accepted on the test split, with every subnet tried."""
    b_ll = float(b_scratch["test"]["logloss"])
    lines = [f"C's acceptance (test log loss, mean over {len(b_scratch.get('seeds', [0]))} "
             f"seeds trained from scratch; C passes at B's mean + {TEST_TOLERANCE}): "
             f"**{c.get('rule', 'not recorded')}**. B: {b_ll:.5f} ± "
             f"{float(b_scratch.get('test_std', {}).get('logloss', math.nan)):.5f}.", ""]
    tried = c.get("tried", [])
    if tried:
        rows = [{"try": i + 1, "subnet": t["spec_hash"], "supernet_logloss": t["supernet_logloss"],
                 "test_logloss": t["test"]["logloss"], "std": t["test_std"]["logloss"],
                 "minus_B": t["test"]["logloss"] - b_ll, "accepted": t["accepted"]}
                for i, t in enumerate(tried)]
        lines += [markdown_table(pd.DataFrame(rows), float_format=".5f"), ""]
    if not c.get("supernet_choice_accepted", True):
        lines += ["**The supernet's choice of C failed the test tolerance.**", ""]
    return lines


def _advantage_lines(adv: dict[str, Any], prefix: str) -> list[str]:
    """The advantage maps of B and C: the best plan against the host, and per kernel class
    what PIM runs and wins."""
    if not adv:
        return []
    verdict = ("PIM can win here (the model view's best plan beats the host alone on latency "
               "or energy for B or C)" if adv["pim_can_win"] else
               "**PIM cannot win here**: for neither B nor C does any placement beat the host "
               "alone; no hardware share above 1 is possible at this point")
    lines = [f"### Advantage map (`pimsim compare` model view, {adv['dtype']} on both sides)",
             "", verdict + ".", ""]
    for tag in ("B", "C"):
        a = adv.get(tag)
        if a is None:
            continue
        lines += [f"{tag}: best plan ({a['best_from']}, {a['kernels_on_pim']} kernels on PIM) "
                  f"host / plan latency {a['best_latency_ratio']:.3g}x, energy "
                  f"{a['best_energy_ratio']:.3g}x; every runnable kernel on PIM (naive): "
                  f"{a['naive_latency_ratio']:.3g}x, {a['naive_energy_ratio']:.3g}x "
                  f"(files: `{prefix}advantage/{tag}/`).", "",
                  markdown_table(pd.DataFrame(a["classes"]), float_format=".4g"), ""]
    return lines


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


def _summary_md(summary: pd.DataFrame) -> str:
    return markdown_table(summary.drop(columns=["folder"], errors="ignore"), float_format=".3g")


def summary_text(out: str | os.PathLike[str]) -> str:
    """A short text for the terminal: with one operating point, how C was picked and the
    B/C tables; the summary of every point, the run time and the path of ``report.md`` (of
    a finished run in ``out``)."""
    out = Path(out)
    summary = pd.read_csv(out / SUMMARY_NAME)
    times = read_timings(out)
    lines: list[str] = []
    if (out / "C.json").is_file():  # one point: its files are in the run folder
        b, c = read_json(out / "B.json"), read_json(out / "C.json")
        lines += [*_choice_lines(b, c), _models_md(pd.read_csv(out / "results.csv")), "",
                  markdown_table(pd.read_csv(out / "ratios.csv"), float_format=".3g"), ""]
    lines += ["B / C at every operating point (larger = C better; hw / arch share: B / B+plan "
              "and B / C-arch):", "", _summary_md(summary), "",
              f"run time: {sum(times.values()):.0f} s over {len(times)} stages "
              f"({', '.join(f'{k} {v:.0f} s' for k, v in times.items())})",
              f"report: {out / 'report.md'}"]
    return "\n".join(lines)


def _shares_lines(shares: pd.DataFrame) -> list[str]:
    """The shares table and what it says: per metric, B / C against hardware x architecture."""
    lines = [markdown_table(shares, float_format=".4g"), ""]
    for _, r in shares.iterrows():
        if r["metric"] == "flops":
            continue
        lines.append(
            f"- {r['metric']}: the plan alone gives {r['hardware']:.3g}x, the architecture "
            f"alone {r['architecture']:.3g}x, their product {r['hardware_x_architecture']:.3g}x; "
            f"C (both) gives {r['total_B_over_C']:.3g}x, so doing both together is "
            f"{r['joint']:.3g}x the product (1: the gains multiply; above 1: C's plan does "
            "more for C's subnet than B's best plan does for B's).")
    return [*lines, ""]


def _point_section(out: Path, pdir: Path, dataset: str, point: OperatingPoint,
                   budget: str) -> tuple[list[str], dict[str, Any]]:
    """Write the point's tables and plots into ``pdir``; return its report lines and its
    summary row."""
    df = results_table(out, pdir, dataset)
    write_csv(df, pdir / "results.csv")
    rdf = ratios_table(df, dataset)
    write_csv(rdf, pdir / "ratios.csv")
    hw = read_json(pdir / "hardware.json")
    dec = decomposition_table(hw)
    write_csv(dec, pdir / "decomposition.csv")
    shares = shares_table(dec)
    write_csv(shares, pdir / "shares.csv")
    energy, busy = row_breakdowns(pdir / "traces", ROWS)
    write_csv(energy, pdir / "energy_components.csv")
    write_csv(busy, pdir / "kernel_classes.csv")
    b, c = read_json(out / "B.json"), read_json(pdir / "C.json")
    accepted_c = read_json(pdir / "scratch_C.json")
    hist = pd.read_csv(pdir / "search_C" / "history.csv")
    c_ll = accepted_c["objectives"]["logloss"]
    logloss = {"B": b["objectives"]["logloss"], "C": c_ll, "C-arch": c_ll,
               "B+plan": b["objectives"]["logloss"]}
    marks = {t: {"logloss": logloss[t], "energy_uj": hw[t]["energy_pj"] / 1e6,
                 "latency_us": hw[t]["latency_ns"] / 1e3} for t in ("B", "C", "B+plan", "C-arch")}
    # DLRM is not in the search space: no supernet log loss, its cost as lines
    dlrm = {"DLRM (no supernet estimate)": {"energy_uj": hw["DLRM"]["energy_pj"] / 1e6,
                                            "latency_us": hw["DLRM"]["latency_ns"] / 1e3}}
    hist = hist.assign(energy_uj=hist["energy_pj"] / 1e6, latency_us=hist["latency_ns"] / 1e3)
    where = point.label
    limit = c.get("latency_limit_us")
    limit_lines = [] if limit is None else [
        f"Latency limit at batch {point.batch}: **{float(limit):.4g} µs** (the co-search keeps "
        "only genomes within it and C is the least energy among them within B's log loss + "
        f"the tolerance). C {'meets' if hw['C'].get('within_limit') else '**misses**'} it; "
        f"B {'meets' if hw['B'].get('within_limit') else 'misses'} it." +
        ("" if c.get("feasible", True) else " **No genome of the co-search met it.**"), ""]
    pareto_plot(hist, pdir / "pareto.png", marks=marks, xs=("energy_uj", "latency_us"),
                vlines=dlrm,
                title=f"{dataset}: co-search on {where} (budget {budget})")
    kernel_breakdown_plot(class_kernels(pdir / "traces", ("B", "C")),
                          pdir / "breakdown.png", group="model", max_kernels=None,
                          title=f"{dataset}, {where}: latency and energy by kernel class")
    save_figure(components_figure(energy, busy, f"{dataset}, {where}"), pdir / "components.png")
    rel = os.path.relpath(pdir, out)
    prefix = "" if rel == "." else f"{rel}/"
    lines = [
        f"## {where}", "",
        *limit_lines,
        *_choice_lines(b, c),
        *_acceptance_lines(read_json(out / "scratch_B.json"), accepted_c),
        "### B, C and B_host", "", _models_md(df), "",
        markdown_table(rdf, float_format=".3g"), "",
        "### Decomposition (one batch; `*_vs_B`: B / row, larger = better than B)", "",
        markdown_table(dec, float_format={"mflops": ".4g", "energy_uj": ".4g",
                                          "latency_us": ".4g", "flops_vs_B": ".3g",
                                          "energy_vs_B": ".3g", "latency_vs_B": ".3g"}), "",
        "Shares: hardware = B / B+plan (B's subnet, its best plan), architecture = B / C-arch "
        "(C's subnet on the naive plan), total = B / C, joint = total / (hardware x "
        "architecture).", "",
        *_shares_lines(shares),
        *_advantage_lines(hw.get("advantage", {}), prefix),
        "### Energy by component (µJ)", "", markdown_table(energy, float_format=".4g"), "",
        "### Busy time by kernel class (µs; overlapping kernels both count)", "",
        markdown_table(busy, float_format=".4g"), "",
        f"C places {len(hw['C']['on_pim'])} kernels on PIM with knobs {hw['C']['knobs']}; B "
        f"places {len(hw['B']['on_pim'])}; B+plan's plan: {hw['B+plan']['plan_source']}. "
        f"Searches: {b.get('evaluations')} evaluations each; C's front holds "
        f"{c.get('front_size')} points.", "",
        f"![pareto]({prefix}pareto.png) ![components]({prefix}components.png) "
        f"![breakdown]({prefix}breakdown.png)", "",
    ]
    return lines, summary_row(dataset, point, rel, df, shares, pdir)


def write_report(out: Path, dataset: str, points: Sequence[OperatingPoint], budget: str) -> Path:
    """Write every point's tables and plots, ``summary.csv`` and ``report.md`` of the run in
    ``out``; returns the path of report.md."""
    single = len(points) == 1
    sections: list[str] = []
    rows = []
    for p in points:
        lines, row = _point_section(out, point_dir(out, p, single), dataset, p, budget)
        sections += lines
        rows.append(row)
    summary = pd.DataFrame([*rows, published_row(dataset)])
    write_csv(summary, out / SUMMARY_NAME)
    lines = [
        f"# pimrec reproduction: {dataset}, budget `{budget}`, "
        f"{len(points)} operating point(s)", "",
        "B: best subnet of an accuracy-only search with the profile's naive plan (tables on "
        "PIM where the kind can pool, dense kernels on the host). C: at each operating point, "
        "the co-search front point with the lowest energy x latency whose supernet log loss is "
        f"at most B's + {LOGLOSS_TOLERANCE}, accepted when its mean test log loss over "
        f"{SCRATCH_SEEDS} seeds trained from scratch is at most B's + {TEST_TOLERANCE} (else "
        "the next front candidate, else B's subnet with its best plan). B_host: B with every kernel on the host. B+plan: "
        "B's subnet with its best plan (placement and configuration alone). C-arch: C's subnet "
        "on the naive plan (architecture alone). DLRM: DLRM's Criteo model on the data set's "
        "tables, naive placement (handcrafted baseline). Latency (µs) and energy (µJ): one "
        "inference batch of the point's size simulated by pimsim; `mflops`: MFLOPs/sample, 2 "
        "per multiply-add (what is counted follows NASRec).", "",
        "## Summary: B / C at every operating point beside the published ratios", "",
        _summary_md(summary), "",
        "`limit_us`: a serving point's latency limit; `C_rule`: how C passed the test "
        "tolerance (the supernet's choice, the next front candidate, B's subnet because C has "
        "it, or B's subnet as the fallback when no candidate passed); `pim_can_win`: the advantage map shows a plan that beats the host alone "
        "(where it is false, only the architecture can give a gain).", "",
        "The published work does not define its PIM hardware, configuration space or the "
        "baseline of its ratios; these are pimrec's own (see README).", "",
        *sections,
        "## Artefacts", "",
        f"- `{SUMMARY_NAME}`: the summary above; per point (its folder): `results.csv`, "
        "`ratios.csv`, `decomposition.csv`, `shares.csv`, `energy_components.csv`, "
        "`kernel_classes.csv`",
        "- `pareto.png`: log loss vs energy (µJ) and vs latency (µs) of every co-search "
        "evaluation, B, C, B+plan and C-arch marked, DLRM's energy and latency as dashed "
        "lines (it has no supernet log loss; points beyond Tukey's far-out fence are drawn at "
        "the axis edge)",
        "- `components.png`: energy by component and busy time by kernel class of every row; "
        "`breakdown.png`: latency (by placement) and energy by component of each kernel class "
        "of B and C",
        "- `traces/<row>.parquet` per row, `traces/B.chrome.json`, `traces/C.chrome.json` "
        "(Perfetto)",
        f"- `{TIMINGS_NAME}`: wall seconds of each stage (the report stage's own time is added "
        "after this report is written)",
        "",
        "## Run time by stage (wall seconds on the machine that ran it)", "",
        _timings_md(read_timings(out)), "",
    ]
    return write_text(out / "report.md", "\n".join(lines))
