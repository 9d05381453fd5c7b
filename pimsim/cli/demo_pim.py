"""Demo: a Criteo-sized DLRM inference batch on ``hbm2_pim``, with its trace and timeline.

``run_pim_demo(out_dir)`` simulates 26 embedding bags (host; HBM2-PIM's bank-level FP16
SIMD units do not gather) and a 7-layer MLP (PIM), batch 256, on the table sizes of
``examples/criteo_dlrm_b256.yaml``, and writes the trace as Parquet and Chrome trace-event
JSON and a timeline PNG. ``python -m pimsim.cli.demo_pim OUT`` runs it from the command
line (an output folder that cannot be written is one line and exit 2, before any work).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pimsim.errors import PimsimError
from pimsim.hw.load import load_profile
from pimsim.sim.engine import simulate
from pimsim.util.cli import EXIT_BAD_INPUT
from pimsim.util.fileio import check_writable
from pimsim.workload.examples import criteo_dlrm, example_table_rows


def run_pim_demo(out_dir: str | Path, *, seed: int = 0, quiet: bool = False) -> dict[str, Path]:
    """Simulate the demo batch; returns the paths written (parquet, chrome, timeline)."""
    out = check_writable(out_dir, PimsimError, "output folder", folder=True)
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


def main(argv: list[str]) -> int:
    """``python -m pimsim.cli.demo_pim [OUT]`` (default ``demo_out``); the exit status."""
    try:
        run_pim_demo(argv[0] if argv else "demo_out")
    except PimsimError as exc:
        print(f"pimsim: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
