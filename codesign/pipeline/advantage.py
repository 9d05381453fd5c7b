"""The advantage maps of B and C at an operating point: ``pimsim compare``'s model view of
each subnet (per kernel, host against the profile's PIM units, and the host-only, naive and
best plans scheduled), in the PIM kind's data type on both sides, at the point's batch.

It says whether PIM can pay off at the point at all: :func:`pim_can_win` is true when, for
B or C, the model view's best plan has lower latency or lower energy than the host alone.
Where it is false, no placement can give a hardware share above 1 and the point is not one
where the published targets can be met by the hardware side."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from pimsim import Profile, compare_model, pim_section, write_model

from codesign.hw.mapping import map_subnet
from codesign.nas.space import SubnetSpec
from codesign.pipeline.breakdown import KERNEL_CLASSES, kernel_class
from codesign.pipeline.report import write_csv

#: A ratio counts as a win above this (host / PIM; equal costs are no win).
WIN = 1.0 + 1e-9


def class_table(kernels: pd.DataFrame) -> pd.DataFrame:
    """Per kernel class of the model view's kernel rows: kernels, those PIM runs, those it
    runs faster / with less energy than the host, and the class's host and PIM latency (µs)
    over the kernels PIM runs."""
    k = kernels.assign(cls=[kernel_class(str(n), str(o)) for n, o in zip(kernels["kernel"],
                                                                          kernels["op"])])
    rows = []
    for c in KERNEL_CLASSES:
        g = k[k["cls"] == c]
        runs = g[g["pim_status"] == "ok"]
        rows.append({"class": c, "kernels": len(g), "pim_runs": len(runs),
                     "pim_faster": int((runs["latency_ratio"] > WIN).sum()),
                     "pim_less_energy": int((runs["energy_ratio"] > WIN).sum()),
                     "host_us": float(runs["host_latency_ns"].sum()) / 1e3,
                     "pim_us": float(runs["pim_latency_ns"].sum()) / 1e3})
    return pd.DataFrame(rows)


def write_advantage(out_dir: Path, specs: Mapping[str, SubnetSpec], schema: Any,
                    profile: Profile, batch: int, seed: int) -> dict[str, Any]:
    """The model view of each subnet of ``specs`` (tag -> spec) at ``batch``, written into
    ``out_dir/<tag>/`` (``pimsim compare``'s files) with ``classes.csv``; returns per tag
    the best plan's host-over-plan ratios, where it came from and its PIM kernels, and
    ``pim_can_win`` over all tags."""
    dtype = pim_section(profile).dtype
    summary: dict[str, Any] = {"dtype": dtype}
    for tag, spec in specs.items():
        mc = compare_model(lambda b, spec=spec: map_subnet(spec, schema, None, batch=b),
                           profile, [batch], dtype=dtype, objective="edp", seed=seed, name=tag)
        folder = out_dir / tag
        write_model(mc, folder, timelines=False)
        classes = class_table(mc.kernels)
        write_csv(classes, folder / "classes.csv")
        best = mc.plans[mc.plans["plan"] == "best"].iloc[0]
        naive = mc.plans[mc.plans["plan"] == "naive"].iloc[0]
        summary[tag] = {
            "best_latency_ratio": float(best["latency_ratio"]),
            "best_energy_ratio": float(best["energy_ratio"]),
            "naive_latency_ratio": float(naive["latency_ratio"]),
            "naive_energy_ratio": float(naive["energy_ratio"]),
            "best_from": str(best["best_from"]), "kernels_on_pim": int(best["kernels_on_pim"]),
            "classes": classes.to_dict(orient="records"),
        }
    summary["pim_can_win"] = any(
        summary[t]["best_latency_ratio"] > WIN or summary[t]["best_energy_ratio"] > WIN
        for t in specs)
    return summary
