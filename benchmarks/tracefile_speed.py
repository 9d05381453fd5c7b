"""Speed of the DRAMsim3-format trace reader and writer (pimsim.requests.tracefile).

Writes a trace of N random 64-byte requests (30 % writes) to a temporary folder, reads it
back (plain, gzip and zstd), checks the round trip and prints seconds and lines per second,
by wall clock and by this process's CPU time (the figure other load does not change).

    python benchmarks/tracefile_speed.py [--lines 1000000] [--seed 0]
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import time
from pathlib import Path

import numpy as np
import zstandard

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
        compressed = {"gzip": path.with_suffix(".gz"), "zstd": path.with_suffix(".zst")}
        data = path.read_bytes()
        compressed["gzip"].write_bytes(gzip.compress(data, compresslevel=6))
        compressed["zstd"].write_bytes(zstandard.ZstdCompressor().compress(data))
        read_trace(path)  # the scanner compiled or loaded from Numba's cache
        rows = []
        ok = True
        for label, source in (("plain", path), *compressed.items()):
            read_s = cpu_s = float("inf")
            for _ in range(max(1, args.repeat)):
                start, cpu = time.perf_counter(), time.process_time()
                trace = read_trace(source)
                read_s = min(read_s, time.perf_counter() - start)
                cpu_s = min(cpu_s, time.process_time() - cpu)
            ok = ok and (np.array_equal(trace.addresses, addresses)
                         and np.array_equal(trace.is_write, is_write)
                         and np.array_equal(trace.arrival_cycles, cycles))
            rows.append((label, read_s, cpu_s, source.stat().st_size / 1e6))
    print(f"lines            {n:,}")
    print(f"file MB          {size_mb:.1f}")
    print(f"write s          {write_s:.3f}   ({n / write_s:,.0f} lines/s)")
    for label, read_s, cpu_s, mb in rows:
        print(f"read {label:<6} s    {read_s:.3f} wall, {cpu_s:.3f} CPU   ({n / read_s:,.0f} "
              f"lines/s wall, {n / cpu_s:,.0f} lines/CPU-s; {mb:.1f} MB file; best of "
              f"{args.repeat})")
    print(f"round trip       {'identical' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
