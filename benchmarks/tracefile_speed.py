"""Speed of the DRAMsim3-format trace reader and writer (pimsim.requests.tracefile).

Writes a trace of N random 64-byte requests (30 % writes) to a temporary folder, reads it
back, checks the round trip and prints wall seconds and lines per second.

    python benchmarks/tracefile_speed.py [--lines 1000000] [--seed 0]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from pimsim.requests.tracefile import read_trace, write_trace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many reads")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    n = args.lines
    addresses = rng.integers(0, 2**34, n, dtype=np.uint64) * np.uint64(64)
    is_write = rng.random(n) < 0.3
    cycles = np.cumsum(rng.integers(0, 4, n)).astype(np.int64)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.trace"
        start = time.perf_counter()
        write_trace(path, addresses, is_write, cycles)
        write_s = time.perf_counter() - start
        size_mb = path.stat().st_size / 1e6
        read_s = float("inf")
        for _ in range(max(1, args.repeat)):
            start = time.perf_counter()
            trace = read_trace(path)
            read_s = min(read_s, time.perf_counter() - start)
        ok = (np.array_equal(trace.addresses, addresses)
              and np.array_equal(trace.is_write, is_write)
              and np.array_equal(trace.arrival_cycles, cycles))
    print(f"lines            {n:,}")
    print(f"file MB          {size_mb:.1f}")
    print(f"write s          {write_s:.3f}   ({n / write_s:,.0f} lines/s)")
    print(f"read s (best)    {read_s:.3f}   ({n / read_s:,.0f} lines/s)")
    print(f"round trip       {'identical' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
