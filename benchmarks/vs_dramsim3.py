"""pimsim beside DRAMsim3 (a live peer) on the same streams and configurations.

    python benchmarks/vs_dramsim3.py [--requests N] [--standards HBM2,DDR4,GDDR6,LPDDR4]
                                     [--cache DIR] [--seed S] [--markdown]

Builds DRAMsim3 and its trace front end (``../shared/peers/dramsim3/build.sh DIR``; a build
already in DIR, default ``~/.cache/pimrec-peers/dramsim3``, is reused). For each standard,
the DRAMsim3 configuration of ``tests/helpers/dramsim3_peer.CONFIG_OF_STANDARD`` is
imported as a pimsim profile (``pimsim profile import-dramsim3``) and both simulators
replay the same streams: the standard traces (seq, rand, embed, gemv cut to N requests,
idle 400 reads one every 1,000 cycles) plus a write-heavy (75 % writes) and a mixed (33 %
writes) stream of sequential runs and random lines. Printed side by side: cycles to the
last request, average read latency (admission to data, ns), bandwidth (requests x 64 B
over that time), DRAM energy (pimsim without I/O, which DRAMsim3 does not model; DRAMsim3's
total_energy x tCK, since it sums mA x V x cycles) and wall seconds (pimsim: one replay
after JIT warm-up; DRAMsim3: its simulation loop), with pimsim / DRAMsim3 ratios.
DRAMsim3's statistics files go to a temporary folder.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

# the repository root first on the path: run as ``python benchmarks/vs_dramsim3.py``,
# sys.path[0] is benchmarks/, and the peer helper lives in tests/helpers
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pimsim.hw.dramsim3 import import_dramsim3  # noqa: E402
from pimsim.requests.replay import replay  # noqa: E402
from pimsim.requests.traces import standard_trace  # noqa: E402
from tests.helpers.dramsim3_peer import (  # noqa: E402
    CONFIG_OF_STANDARD, CONFIGS, DEFAULT_CACHE, LINE_BYTES, Stream, build_peer, mixed_stream,
    peer_missing, run_peer,
)

#: requests of the idle trace kept (one every 1,000 cycles: the unloaded latency)
IDLE_REQUESTS = 400


def streams(n: int, seed: int) -> list[Stream]:
    """The compared streams, the same for every standard."""
    out = []
    for name in ("seq", "rand", "embed", "gemv", "idle"):
        tr = standard_trace(name, seed=seed)
        k = IDLE_REQUESTS if name == "idle" else n
        out.append(Stream(name, tr.addresses[:k], tr.is_write[:k].astype(np.int64),
                          tr.arrival_cycles[:k]))
    rng = np.random.default_rng(seed)
    out.append(mixed_stream(rng, n, 0.75, name="write-heavy"))
    out.append(mixed_stream(rng, n, 1 / 3, name="mixed"))
    return out


def compare(standard: str, binary: Path, stream_list: list[Stream]) -> list[dict]:
    ini = CONFIGS / CONFIG_OF_STANDARD[standard]
    profile = import_dramsim3(ini)
    tck = profile.timing.tCK_ns
    warm = stream_list[0]
    replay(profile, warm.addresses[:64], warm.is_write[:64], warm.arrival_cycles[:64])
    rows = []
    for s in stream_list:
        t0 = time.perf_counter()
        ours = replay(profile, s.addresses, s.is_write, s.arrival_cycles).summary()
        wall = time.perf_counter() - t0
        ds3 = run_peer(binary, ini, s.addresses, s.is_write, s.arrival_cycles)
        moved = s.addresses.shape[0] * LINE_BYTES
        energy = ours["energy_total_pj"] - ours["energy_io_pj"]
        ds3_energy = ds3["total_energy_pj"] * ds3["tCK_ns"] if ds3["total_energy_pj"] else 0.0
        row = {
            "standard": standard, "stream": s.name,
            "cycles": ours["cycles"], "ds3 cycles": ds3["cycles"],
            "lat ns": ours["avg_read_latency_ns"], "ds3 lat ns": ds3["avg_read_latency_ns"],
            "GB/s": moved / (ours["cycles"] * tck),
            "ds3 GB/s": moved / (ds3["cycles"] * ds3["tCK_ns"]),
            "energy uJ": energy * 1e-6, "ds3 energy uJ": ds3_energy * 1e-6,
            "wall s": wall, "ds3 wall s": ds3["loop_wall_s"],
        }
        row["cycles ratio"] = row["cycles"] / row["ds3 cycles"]
        row["lat ratio"] = row["lat ns"] / row["ds3 lat ns"] if row["ds3 lat ns"] else np.nan
        row["energy ratio"] = energy / ds3_energy if ds3_energy else np.nan
        row["speed ratio"] = row["ds3 wall s"] / wall
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--standards", default=",".join(CONFIG_OF_STANDARD))
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    why = peer_missing()
    if why:
        raise SystemExit(f"vs_dramsim3: {why}")
    binary = build_peer(args.cache)
    print(f"DRAMsim3 peer: {binary}\n")
    stream_list = streams(args.requests, args.seed)
    rows = []
    for std in args.standards.split(","):
        rows += compare(std.strip().upper(), binary, stream_list)
    frame = pd.DataFrame(rows)
    cols = ["standard", "stream", "cycles", "ds3 cycles", "cycles ratio", "lat ns",
            "ds3 lat ns", "lat ratio", "GB/s", "ds3 GB/s", "energy uJ", "ds3 energy uJ",
            "energy ratio", "wall s", "ds3 wall s", "speed ratio"]
    fmt = {c: "{:.3f}".format for c in cols if "ratio" in c}
    if args.markdown:
        print(frame[cols].to_markdown(index=False, floatfmt=".3g"))
    else:
        with pd.option_context("display.width", 250, "display.max_columns", 30):
            print(frame[cols].to_string(index=False, formatters=fmt, float_format="{:.4g}".format))
    off = frame[(abs(frame["cycles ratio"] - 1) > 0.10) | (abs(frame["lat ratio"] - 1) > 0.10)]
    print(f"\noutside +-10 % on cycles or read latency: {len(off)} of {len(frame)}")
    for _, r in off.iterrows():
        print(f"  {r['standard']} {r['stream']}: cycles x{r['cycles ratio']:.3f}, "
              f"read latency x{r['lat ratio']:.3f}")


if __name__ == "__main__":
    main()
