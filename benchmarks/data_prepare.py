"""Speed and memory of synthetic data generation and of `prepare` (Criteo format).

Usage: python benchmarks/data_prepare.py [--rows 1000000] [--schema criteo] [--cap N]
Prints rows per second for synthesis and for prepare, the file size, and the peak resident
memory of this process (ru_maxrss), which bounds what prepare needs for any file size:
prepare streams chunks, so the peak does not grow with the number of rows.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from codesign.data.prepare import DEFAULT_CHUNK_ROWS
from codesign.data.schema import DATASET_NAMES
from codesign.data.synthetic import write_synthetic

#: Lines of train.txt of the Criteo Display Advertising Challenge (Kaggle, 2014): the full
#: file the prepare-time estimate is scaled to.
CRITEO_TRAIN_LINES = 45_840_617


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--schema", default="criteo", choices=DATASET_NAMES)
    parser.add_argument("--cap", type=int, default=None)
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / ("kdd" if args.schema == "kdd" else "train.txt")
        t0 = time.perf_counter()
        files = write_synthetic(args.schema, args.rows, raw, seed=0)
        t_synth = time.perf_counter() - t0
        rss_synth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size = sum(f.stat().st_size for f in files)
        # prepare runs in a child process so that its peak RSS is measured on its own.
        code = (
            "import json, sys, time, resource;from codesign.data.prepare import prepare;"
            "a = json.loads(sys.argv[1]);t = time.perf_counter();"
            "d = prepare(a['schema'], a['raw'], a['out'], cap=a['cap'], chunk_rows=a['chunk'], quiet=True);"
            "print(json.dumps({'s': time.perf_counter() - t, 'skipped': d.meta['skipped']['count'],"
            "'rss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
        )
        job = {"schema": args.schema, "raw": str(raw), "out": str(Path(tmp) / "cache"), "cap": args.cap, "chunk": args.chunk_rows}
        out = subprocess.run([sys.executable, "-c", code, json.dumps(job)], capture_output=True, text=True, check=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        t_prep, rss = res["s"], res["rss"]
        print(f"schema {args.schema}, rows {args.rows:,}, raw {size / 2**20:.1f} MiB, cap {args.cap}")
        print(f"synthesis : {t_synth:7.2f} s  {args.rows / t_synth:12,.0f} rows/s  (peak RSS so far {rss_synth:.0f} MiB)")
        print(f"prepare   : {t_prep:7.2f} s  {args.rows / t_prep:12,.0f} rows/s  {size / 2**20 / t_prep:.1f} MiB/s")
        print(f"prepare peak RSS: {rss:.0f} MiB (chunk_rows {args.chunk_rows:,}); skipped {res['skipped']}")
        if args.schema == "criteo":
            est = CRITEO_TRAIN_LINES / (args.rows / t_prep)
            print(f"estimate for the full Criteo train.txt (45.8M rows): {est / 60:.1f} min at this rate")


if __name__ == "__main__":
    main()
