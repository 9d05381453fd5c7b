"""The from-scratch truth of the supernet benchmark, and the statistics that compare a
ranking with it.

Each subnet is trained alone from fresh weights on one full epoch of the train split with
each of ``seeds`` (the seed sets the initialisation and the epoch's row order) and scored on
val; the truth is the mean over seeds. Results are cached per (subnet, seed) as JSON, so a
rerun, or a run with another supernet, reuses them.

Run alone it fills the cache (``python benchmarks/supernet_truth.py --dataset criteo``), so
the truth can be computed while supernet variants train in another process.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.stats import kendalltau

from codesign.data.cache import CtrData
from codesign.data.synthetic import make_synthetic_cache
from codesign.nas.moves import sample
from codesign.nas.space import SPACES, SubnetSpec, spec_hash
from codesign.train.config import TrainConfig
from codesign.train.metrics import EvalResult
from codesign.train.scratch import train_from_scratch_run
from pimsim.util.fileio import atomic_write_json

#: Where the benchmark keeps its caches (data, supernets, from-scratch results).
BENCH_DIR = Path("/tmp/pimrec-bench")
#: Seed of the synthetic rows of every benchmark cache.
DATA_SEED = 2026
#: Synthetic rows per format of the benchmark's caches (160,000 train rows). At this scale
#: subnets trained alone learn well past the base rate and the truth's two seeds rank Criteo's
#: subnets more alike than at 50,000 rows, where a logistic regression beat every subnet
#: (benchmarks/README.md, "Supernet ranking").
BENCH_ROWS = 200_000
#: Bucket cap per categorical field of the benchmark's caches. It is a choice, not a
#: measurement: against a cap of 2^16, each bucket of a field with more than 2^16 values
#: sees about four times as many rows of an epoch, so its embedding gets more updates.
BENCH_CAP = 2**14
#: Bootstrap resamples of tau's confidence interval.
BOOTSTRAP = 2000


def open_cache(dataset: str, rows: int, cap: int, cache: Path | None = None) -> tuple[CtrData, Path, str]:
    """The benchmark's synthetic cache of ``dataset`` (made when absent)."""
    path = cache or BENCH_DIR / f"{dataset}-{rows}-cap{cap}"
    t0 = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    # the benchmark and this script run side by side: one makes the cache, the other waits
    # for it (two writers of one cache would remove each other's temporaries)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return CtrData.open(path), path, "reused"
        except Exception:
            data = make_synthetic_cache(dataset, rows, path, seed=DATA_SEED, cap=cap,
                                        quiet=True)
            return data, path, f"made in {time.perf_counter() - t0:.1f} s"


def bench_specs(space: str, n: int, seed: int) -> list[SubnetSpec]:
    """The benchmark's subnets: ``n`` single-operator any-connection samples."""
    rng = np.random.default_rng([seed, 99])
    return [sample(space, rng) for _ in range(n)]


@dataclass(frozen=True)
class Truth:
    """A subnet's from-scratch val scores, one per seed."""

    spec: SubnetSpec
    logloss: tuple[float, ...]
    auc: tuple[float, ...]
    wall_s: tuple[float, ...]

    @property
    def mean_logloss(self) -> float:
        return float(np.mean(self.logloss))

    @property
    def mean_auc(self) -> float:
        return float(np.mean(self.auc))

    @property
    def spread_logloss(self) -> float:
        return float(max(self.logloss) - min(self.logloss))


def scratch_config(data: CtrData, seed: int) -> TrainConfig:
    """One full epoch of the train split, the default optimizer and schedule."""
    return TrainConfig(epochs=1, seed=seed, quiet=True)


def truth_of(spec: SubnetSpec, data: CtrData, seeds: list[int], folder: Path, wait: bool = False) -> Truth:
    """Train (or read from ``folder``) ``spec`` from scratch with each seed; with ``wait``,
    wait for another process (this script run alone) to write the result instead."""
    ll, auc, wall = [], [], []
    for s in seeds:
        path = folder / f"{spec_hash(spec)}-s{s}.json"
        while wait and not path.exists():
            time.sleep(10)
        if path.exists():
            saved = json.loads(path.read_text())
        else:
            run = train_from_scratch_run(spec, data, scratch_config(data, s))
            saved = {"val": run.val.__dict__, "wall_s": run.wall_s, "steps": run.steps}
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write_json(path, saved)
        val = EvalResult(**saved["val"])
        ll.append(val.logloss)
        auc.append(val.auc)
        wall.append(float(saved["wall_s"]))
    return Truth(spec=spec, logloss=tuple(ll), auc=tuple(auc), wall_s=tuple(wall))


def truth_dir(cache: Path) -> Path:
    return cache.parent / f"{cache.name}.truth"


def kendall(a: list[float], b: list[float]) -> float:
    return float(kendalltau(a, b).statistic)


def tau_interval(a: list[float], b: list[float], seed: int = 0, level: float = 0.9) -> tuple[float, float]:
    """Percentile bootstrap interval of Kendall tau over subnets (resampled with
    replacement, ``BOOTSTRAP`` times; draws with fewer than 3 distinct subnets skipped)."""
    x, y = np.asarray(a), np.asarray(b)
    rng = np.random.default_rng([seed, 7])
    taus = []
    for _ in range(BOOTSTRAP):
        idx = rng.integers(0, x.shape[0], x.shape[0])
        if np.unique(idx).shape[0] < 3:
            continue
        t = kendalltau(x[idx], y[idx]).statistic
        if np.isfinite(t):
            taus.append(t)
    lo, hi = np.quantile(taus, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def seed_agreement(truths: list[Truth]) -> float:
    """Kendall tau between the rankings of the first two seeds (how firm the truth is)."""
    return kendall([t.logloss[0] for t in truths], [t.logloss[1] for t in truths])


def split_half_agreement(truths: list[Truth]) -> float:
    """Kendall tau between the rankings by the mean of the first half of the seeds and by
    the mean of the second half (at least 4 seeds): how alike two truths of half the seeds
    rank, a floor on the firmness of the mean over all of them."""
    half = len(truths[0].logloss) // 2
    if half < 2:
        raise ValueError(f"split_half_agreement: {2 * half} seeds; accepted: at least 4")
    return kendall([float(np.mean(t.logloss[:half])) for t in truths],
                   [float(np.mean(t.logloss[half:2 * half])) for t in truths])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", choices=("criteo", "avazu", "kdd"), default="criteo")
    ap.add_argument("--rows", type=int, default=BENCH_ROWS)
    ap.add_argument("--cap", type=int, default=BENCH_CAP)
    ap.add_argument("--subnets", type=int, default=20)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--space", choices=tuple(SPACES), default="full")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reverse", action="store_true",
                    help="train the subnets last to first (a second process filling the same cache)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    data, cache, made = open_cache(args.dataset, args.rows, args.cap)
    print(f"data: {cache} ({made})", flush=True)
    truths = []
    order = list(enumerate(bench_specs(args.space, args.subnets, 0)))
    for i, spec in reversed(order) if args.reverse else order:
        t = truth_of(spec, data, list(range(args.seeds)), truth_dir(cache))
        truths.append(t)
        print(f"  {i + 1:2d}/{args.subnets} {spec_hash(spec)[:8]}: "
              f"{', '.join(f'{v:.5f}' for v in t.logloss)} ({sum(t.wall_s):.0f} s)", flush=True)
    if args.seeds >= 2 and len(truths) >= 2:
        print(f"seed-0 vs seed-1 ranking tau: {seed_agreement(truths):.3f}")
    if args.seeds >= 4 and len(truths) >= 2:
        print(f"split-half ranking tau (mean of seeds 0-{args.seeds // 2 - 1} vs "
              f"{args.seeds // 2}-{2 * (args.seeds // 2) - 1}): {split_half_agreement(truths):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
