"""The two cores' gain on a replay alone: one lane against two channel groups, in one
process after a warm-up, alternating.

    python benchmarks/replay_lanes.py [--requests 10M] [--runs 5] [--cache DIR]

Replays replay_scale.py's ``paced`` trace (random reads one every 4 cycles: the channel
groups stay independent; generated into --cache when absent) with
:func:`pimsim.requests.filereplay.replay_file` on HBM2, ``lanes=1`` then ``lanes=2``, --runs
times each, alternating so that the machine's drift falls on both alike. Prints each run's
wall and CPU seconds (CPU: the whole process, every thread), then per lane count the best
and the median, and the gain best against best and median against median. Process start-up
and imports are not in these figures (replay_scale.py's end-to-end rows have them). Checks
that both lane counts give the same cycles and row hits.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

# numpy's OpenBLAS threads spin at import and take CPU from the lanes; the command line
# sets the same (pimsim.util.cli.COMMAND_ENVIRONMENT)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from replay_scale import CACHE, _count, make_trace  # noqa: E402

from pimsim.hw.load import load_profile  # noqa: E402
from pimsim.requests.filereplay import replay_file  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", default="10M", help="requests in the paced trace")
    ap.add_argument("--runs", type=int, default=5, help="runs per lane count")
    ap.add_argument("--cache", type=Path, default=CACHE, help="where the trace is kept")
    args = ap.parse_args(argv)
    profile = load_profile("hbm2")
    n = _count(args.requests)
    trace = make_trace("paced", n, args.cache)
    warm = make_trace("paced", 100_000, args.cache)
    for lanes in (1, 2):  # compile or load every kernel of both paths first
        replay_file(profile, warm, lanes=lanes)
    print(f"load average at start: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    walls: dict[int, list[float]] = {1: [], 2: []}
    seen: dict[int, tuple] = {}
    for run in range(max(1, args.runs)):
        for lanes in (1, 2):
            t0, c0 = time.perf_counter(), time.process_time()
            res = replay_file(profile, trace, lanes=lanes)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            walls[lanes].append(wall)
            summary = res.summary()
            seen[lanes] = (summary["cycles"], summary["row_hits"])
            print(f"run {run + 1}, {lanes} lane(s): {wall:.2f} s wall, {cpu:.2f} s CPU",
                  flush=True)
    if seen[1] != seen[2]:
        print(f"lanes differ: one lane {seen[1]}, two {seen[2]}")
        return 1
    for lanes in (1, 2):
        print(f"{lanes} lane(s): best {min(walls[lanes]):.2f} s, median "
              f"{statistics.median(walls[lanes]):.2f} s")
    print(f"gain of two lanes on {n:,} requests: "
          f"{min(walls[1]) / min(walls[2]):.2f}x best against best, "
          f"{statistics.median(walls[1]) / statistics.median(walls[2]):.2f}x by the medians")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
