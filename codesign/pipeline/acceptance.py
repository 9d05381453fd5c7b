"""B and C trained from scratch with several seeds, and C's acceptance on the test split.

The supernet picks C within :data:`~codesign.pipeline.selection.LOGLOSS_TOLERANCE` of B on
its own estimates; whether C is as accurate as B is decided by training both from scratch
with :data:`SCRATCH_SEEDS` seeds (the run's seed and the next ones) and comparing the mean
test log loss: C is accepted when its mean is at most B's + :data:`TEST_TOLERANCE`.

When the supernet's choice fails that, the next candidates of the co-search's front (other
subnets within the supernet tolerance, best first by the point's key) are trained in turn,
at most :data:`ACCEPT_TRIES` subnets in all; when none passes, C falls back to B's subnet
(with the best plan the co-search found for it), which passes by construction: the
hardware side alone. The rule that applied is recorded (:data:`RULES`).

A subnet's run for one seed is kept in ``scratch/<hash>_s<seed>.json`` of the run folder,
so a subnet is trained once per seed across the operating points."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from codesign.pipeline.protocol import read_json, write_json

#: Seeds per subnet trained from scratch (the run's seed, +1, +2).
SCRATCH_SEEDS = 3
#: C's mean test log loss may exceed B's by at most this.
TEST_TOLERANCE = 0.002
#: Most subnets trained for C's acceptance at one point (the supernet's choice included).
ACCEPT_TRIES = 2
#: How C was accepted (``scratch_C.json`` ``rule``).
RULE_FIRST = "the supernet's choice met the test tolerance"
RULE_NEXT = "the supernet's choice failed the test tolerance; the next front candidate met it"
RULE_B_SUBNET = ("no candidate met the test tolerance; C falls back to B's subnet with the "
                 "co-search's plan (the hardware side alone)")
RULE_SAME = "C has B's subnet: B's training from scratch is C's"
RULES = (RULE_FIRST, RULE_NEXT, RULE_B_SUBNET, RULE_SAME)
#: Each rule in a word or two (the summary's ``C_rule`` column).
RULE_SHORT = {RULE_FIRST: "supernet's choice", RULE_NEXT: "next candidate",
              RULE_B_SUBNET: "fallback: B's subnet", RULE_SAME: "B's subnet"}
#: Metrics averaged over the seeds.
METRICS = ("logloss", "auc")


def seeds_of(seed: int) -> tuple[int, ...]:
    """The seeds a subnet is trained with in a run of ``seed``."""
    return tuple(seed + k for k in range(SCRATCH_SEEDS))


def summarise(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean and sample standard deviation (ddof 1; 0 for one run) over ``runs`` of each
    split's metrics: ``{"test": {...mean}, "test_std": {...}, "val": ..., "val_std": ...}``."""
    out: dict[str, Any] = {}
    for split in ("val", "test"):
        vals = {m: np.array([float(r[split][m]) for r in runs]) for m in METRICS}
        out[split] = {m: float(v.mean()) for m, v in vals.items()}
        out[f"{split}_std"] = {m: float(v.std(ddof=1)) if len(v) > 1 else 0.0
                               for m, v in vals.items()}
    return out


def train_seeds(scratch_dir: Path, key: str, seeds: Sequence[int],
                train_one: Callable[[int], Any]) -> dict[str, Any]:
    """The subnet ``key`` (its hash) trained once per seed by ``train_one(seed)`` (a
    :class:`~codesign.train.scratch.ScratchRun`), each run kept in
    ``scratch_dir/<key>_s<seed>.json``; returns :func:`summarise` of the runs with
    ``seeds``, ``runs`` (per seed) and the summed ``wall_s``."""
    runs = []
    for s in seeds:
        path = scratch_dir / f"{key}_s{s}.json"
        if path.is_file():
            runs.append(dict(read_json(path)))
            continue
        r = train_one(s)
        rec = {"seed": s, "val": asdict(r.val), "test": asdict(r.test), "steps": r.steps,
               "wall_s": r.wall_s}
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, rec)
        runs.append(rec)
    return {**summarise(runs), "seeds": list(seeds), "runs": runs,
            "wall_s": float(sum(float(r["wall_s"]) for r in runs))}


def accepted(b: dict[str, Any], c: dict[str, Any], tolerance: float = TEST_TOLERANCE) -> bool:
    """C's mean test log loss is at most B's + ``tolerance`` (and both are finite)."""
    lb, lc = float(b["test"]["logloss"]), float(c["test"]["logloss"])
    return math.isfinite(lb) and math.isfinite(lc) and lc <= lb + tolerance
