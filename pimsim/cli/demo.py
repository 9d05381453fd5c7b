"""``python -m pimsim.cli.demo`` (``make demo``): the standard traces on the three profiles.

Replays seq, rand, embed, gemv and idle (:mod:`pimsim.requests.traces`) on ``ddr4_3200``, ``hbm2``
and ``gddr6`` and prints one table: cycles, bandwidth, average read latency, row-hit rate,
energy. Takes well under a minute (the engine is compiled once and cached).
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from pimsim.errors import PimsimError
from pimsim.hw.load import load_profile
from pimsim.requests.replay import replay
from pimsim.requests.traces import TRACE_NAMES, standard_trace
from pimsim.util.cli import non_negative_int

PROFILES: tuple[str, ...] = ("ddr4_3200", "hbm2", "gddr6")


def demo_table(profiles: tuple[str, ...] = PROFILES, traces: tuple[str, ...] = TRACE_NAMES,
               seed: int = 0) -> pd.DataFrame:
    """One row per (profile, trace) with the replay summary's main figures."""
    rows = []
    loaded = [load_profile(p) for p in profiles]
    for name in traces:
        tr = standard_trace(name, seed=seed)
        for prof in loaded:
            t0 = time.perf_counter()
            s = replay(prof, tr.addresses, tr.is_write, tr.arrival_cycles).summary()
            rows.append({
                "trace": name,
                "profile": prof.name,
                "requests": len(tr),
                "cycles": s["cycles"],
                "GB/s": round(s["bandwidth_gbps"], 1),
                "peak GB/s": round(prof.peak_bandwidth_gbps, 1),
                "avg read lat ns": round(s["avg_read_latency_ns"], 1),
                "row hit rate": round(s["row_hit_rate"], 3),
                "energy uJ": round(s["energy_total_pj"] * 1e-6, 2),
                "wall s": round(time.perf_counter() - t0, 3),
            })
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pimsim.cli.demo",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=non_negative_int, default=0,
                    help="seed of the random traces (a whole number >= 0)")
    args = ap.parse_args(argv)
    try:
        t0 = time.perf_counter()
        table = demo_table(seed=args.seed)
    except PimsimError as exc:
        print(f"pimsim: error: {exc}", file=sys.stderr)
        return 2
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))
    print(f"\n{len(table)} replays in {time.perf_counter() - t0:.1f} s "
          "(first run includes the one-time Numba compilation)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
