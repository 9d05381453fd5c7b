"""Overhead of the co-search machinery itself (codesign.search / pimsim.util.executors).

Prints: the wall time of a paper-budget regularized evolution (2048 proposals) on the cheap
example problem of codesign.search.toy, in memory and with the fsync'd journal +
per-generation checkpoint, in each fitness mode; the time of non_dominated_sort on random points; and the per-task overhead
of each executor on a trivial function. Run: .venv/bin/python benchmarks/search_overhead.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from pimsim.util.executors import make_executor
from codesign.search import SearchConfig, non_dominated_sort, run_search
from codesign.search.toy import IntVectorProblem


def main() -> None:
    print("regularized evolution, budget=paper (2048 proposals), toy problem (8 genes, 6 values):")
    for mode in ("accuracy", "constrained", "pareto"):
        limits = {"latency_ns": 250.0} if mode == "constrained" else {}
        cfg = SearchConfig(budget="paper", mode=mode, limits=limits, seed=0)
        problem = IntVectorProblem(length=8, high=6, target=(3, 1, 4, 1, 5, 2, 0, 3), max_sum=30)
        t0 = time.perf_counter()
        res = run_search(problem, cfg, quiet=True)
        t_mem = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            run_search(IntVectorProblem(length=8, high=6, target=(3, 1, 4, 1, 5, 2, 0, 3),
                                        max_sum=30), cfg, out_dir=tmp, quiet=True)
            t_disk = time.perf_counter() - t0
            size = sum(p.stat().st_size for p in Path(tmp).iterdir())
        print(f"  {mode:<11} in memory {t_mem:6.2f} s, with journal+checkpoints {t_disk:6.2f} s "
              f"({size / 1e6:.1f} MB on disk); {len(res.history)} evaluations, "
              f"best logloss {res.best['logloss']:.4f}")
    rng = np.random.default_rng(0)
    for n in (256, 2048, 8192):
        pts = rng.random((n, 3))
        t0 = time.perf_counter()
        non_dominated_sort(pts)
        ms = 1e3 * (time.perf_counter() - t0)
        print(f"non_dominated_sort n={n:5d}, 3 objectives: {ms:8.1f} ms")
    items = list(range(200))
    for spec in ("serial", "pool", "local"):
        t0 = time.perf_counter()
        with make_executor(spec, workers=None if spec == "serial" else 2) as ex:
            t_start = time.perf_counter() - t0
            t0 = time.perf_counter()
            ex.map(abs, items)
            t_map = time.perf_counter() - t0
        print(f"executor {spec:<6}: start {t_start:5.2f} s, map of 200 trivial tasks "
              f"{1e3 * t_map / len(items):6.2f} ms/task")


if __name__ == "__main__":
    main()
