"""Demo: a Criteo-sized DLRM inference batch on ``hbm2_pim``, with its trace and timeline.

``run_pim_demo(out_dir)`` simulates 26 embedding bags (host; HBM2-PIM's bank-level FP16
SIMD units do not gather) and a 7-layer MLP (PIM), batch 256, on the table sizes of
``examples/criteo_dlrm_b256.yaml``, and writes the trace as Parquet and Chrome trace-event
JSON and a timeline PNG. ``python -m pimsim.cli.demo_pim OUT`` runs it from the command
line.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pimsim.hw.load import load_profile
from pimsim.sim.engine import simulate
from pimsim.workload.examples import criteo_dlrm, example_table_rows


def run_pim_demo(out_dir: str | Path, *, seed: int = 0, quiet: bool = False) -> dict[str, Path]:
    """Simulate the demo batch; returns the paths written (parquet, chrome, timeline)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    profile = load_profile("hbm2_pim")
    workload = criteo_dlrm(example_table_rows(), batch=256, pooling=1, dtype="fp16",
                           embedding_placement="host", mlp_placement="pim",
                           fallback_to_host=True)
    trace = simulate(workload, profile, seed=seed)
    paths = {
        "parquet": trace.to_parquet(out / "criteo_hbm2_pim.parquet"),
        "chrome": trace.to_chrome_json(out / "criteo_hbm2_pim.json"),
        "timeline": trace.timeline_png(out / "criteo_hbm2_pim.png",
                                       title="Criteo DLRM batch 256 on hbm2_pim"),
    }
    if not quiet:
        print(trace.table())
        for kind, p in paths.items():
            print(f"{kind}: {p}")
    return paths


if __name__ == "__main__":
    run_pim_demo(sys.argv[1] if len(sys.argv) > 1 else "demo_out")
