"""Speed and figures of the DRAM engine on the standard traces.

    python benchmarks/sim_speed.py [--repeat N] [--profiles hbm2,ddr4_3200,gddr6]

For each (trace, profile): cycles, GB/s, average read latency, row-hit rate, energy, wall
seconds of one replay after JIT warm-up (best of --repeat) and simulated requests per
second. Beside the HBM2 rows: the DRAMsim3 reference figures of
../shared/reference/README.md and the deviation in %.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from pimsim.dram import run_requests
from pimsim.hw.load import load_profile
from pimsim.requests.replay import replay
from pimsim.requests.traces import TRACE_NAMES, standard_trace

# ../shared/reference/README.md (DRAMsim3 on HBM2_8Gb_x128.ini)
DRAMSIM3 = {
    "seq": {"GB/s": 237.5, "lat ns": 84.2, "hit": 0.968, "energy pJ": 9.995e7},
    "rand": {"GB/s": 61.4, "lat ns": 447.2, "hit": 0.001, "energy pJ": 2.301e8},
    "gemv": {"GB/s": 234.9, "lat ns": 83.8, "hit": 0.968, "energy pJ": 1.641e7},
    "idle": {"GB/s": None, "lat ns": 43.8, "hit": 0.000, "energy pJ": None},
}


def _dev(ours: float, ref: float | None) -> str:
    if ref is None or ref == 0:
        return ""
    return f"{100.0 * (ours - ref) / ref:+.1f}%"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profiles", default="hbm2,ddr4_3200,gddr6")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    profiles = [load_profile(p) for p in args.profiles.split(",")]
    traces = {name: standard_trace(name, seed=args.seed) for name in TRACE_NAMES}
    t0 = time.perf_counter()
    warm = traces["gemv"]
    run_requests(profiles[0], warm.addresses[:64], warm.is_write[:64], warm.arrival_cycles[:64])
    print(f"JIT warm-up (compile or load from cache): {time.perf_counter() - t0:.2f} s\n")
    rows = []
    for name, tr in traces.items():
        for prof in profiles:
            best = float("inf")
            best_cpu = float("inf")
            for _ in range(max(1, args.repeat)):
                t1, c1 = time.perf_counter(), time.process_time()
                run_requests(prof, tr.addresses, tr.is_write, tr.arrival_cycles)
                best = min(best, time.perf_counter() - t1)
                best_cpu = min(best_cpu, time.process_time() - c1)
            s = replay(prof, tr.addresses, tr.is_write, tr.arrival_cycles).summary()
            row = {
                "trace": name, "profile": prof.name, "requests": len(tr),
                "cycles": s["cycles"], "GB/s": round(s["bandwidth_gbps"], 1),
                "lat ns": round(s["avg_read_latency_ns"], 1),
                "hit": round(s["row_hit_rate"], 3),
                "energy pJ": f"{s['energy_total_pj']:.3e}",
                "DRAM energy pJ": f"{s['energy_total_pj'] - s['energy_io_pj']:.3e}",
                "wall s": round(best, 4), "cpu s": round(best_cpu, 4),
                "req/s": f"{len(tr) / best:.3g}", "req/cpu-s": f"{len(tr) / best_cpu:.3g}",
            }
            ref = DRAMSIM3.get(name) if prof.dram.standard == "HBM2" else None
            if ref:
                row["DS3 GB/s"] = ref["GB/s"] if ref["GB/s"] is not None else ""
                row["dGB/s"] = _dev(s["bandwidth_gbps"], ref["GB/s"])
                row["DS3 lat"] = ref["lat ns"]
                row["dlat"] = _dev(s["avg_read_latency_ns"], ref["lat ns"])
                row["DS3 hit"] = ref["hit"]
                dram_pj = s["energy_total_pj"] - s["energy_io_pj"]
                row["dE(DRAM)"] = _dev(dram_pj, ref["energy pJ"])
            rows.append(row)
    table = pd.DataFrame(rows).astype(object).fillna("")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False))
    print("\nwall s / cpu s: best of", args.repeat, "replays after warm-up (run_requests, one "
          "thread); req/s = requests / wall s, req/cpu-s = requests / CPU s of this process "
          "(the figure that does not depend on other load on the machine)")
    print("DS3 = DRAMsim3 reference (../shared/reference/README.md); energy there excludes I/O, "
          "so dE compares DRAM energy (total minus I/O)")


if __name__ == "__main__":
    main()
