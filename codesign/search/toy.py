"""An example search problem: a documented :class:`~codesign.search.SearchProblem` small
enough to read in a minute, which the tests and benchmarks of the search and of the
executors run.

Genome: a tuple of ``length`` integers in [0, high). Valid when the sum is at most ``max_sum``
(sample and mutate may return invalid genomes on purpose: the search must re-draw them).
Objectives (all minimised, analytic):

- ``logloss = 0.4 + 0.01 * sum((x - target)^2)``: optimum exactly at ``target``;
- ``latency_ns = 100 + 10 * sum(x)`` and ``energy_pj = 50 + 5 * sum(x^2)``: optimum at zero,
  so the three objectives conflict and the Pareto front is non-trivial.

Run as a module it performs one search (:func:`script_config`) into a folder, which the
kill-and-resume test kills mid-generation::

    python -m codesign.search.toy OUT_DIR CALLS_LOG SLEEP_S HANG_AT_CALL [--resume]
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from codesign.search.config import SearchConfig
from codesign.search.evolution import run_search

__all__ = ["TARGET", "IntVectorProblem", "fail_on_three", "main", "script_config",
           "slow_square"]

TARGET = (3, 1, 4, 1, 2, 0)


@dataclass
class IntVectorProblem:
    """Genomes of ``length`` integers in [0, high), valid when their sum is at most
    ``max_sum``; see the module docstring. ``sleep_s``, ``calls_log`` and ``hang_at_call``
    make evaluations slow, logged to a file, or hang, for the tests of resume and of the
    executors; ``calls`` lists this instance's evaluations (their keys) in call order."""

    length: int = 6
    high: int = 5
    target: tuple[int, ...] = TARGET
    max_sum: int = 20
    sleep_s: float = 0.0
    calls_log: str | None = None
    hang_at_call: int | None = None  # with calls_log: that call (1-based) never returns
    calls: list[str] = field(default_factory=list)  # in-process evaluations, in call order

    def sample(self, rng: np.random.Generator) -> tuple[int, ...]:
        return tuple(int(v) for v in rng.integers(0, self.high, size=self.length))

    def mutate(
        self, genome: tuple[int, ...], rng: np.random.Generator, n_mutations: int
    ) -> tuple[int, ...]:
        x = list(genome)
        for _ in range(n_mutations):
            pos = int(rng.integers(0, self.length))
            x[pos] = int(rng.integers(0, self.high))
        return tuple(x)

    def is_valid(self, genome: tuple[int, ...]) -> bool:
        return (
            len(genome) == self.length
            and all(0 <= v < self.high for v in genome)
            and sum(genome) <= self.max_sum
        )

    def key(self, genome: tuple[int, ...]) -> str:
        return hashlib.sha1(",".join(map(str, genome)).encode()).hexdigest()[:16]

    def to_json(self, genome: tuple[int, ...]) -> list[int]:
        return list(genome)

    def from_json(self, data: list[int]) -> tuple[int, ...]:
        return tuple(int(v) for v in data)

    def evaluate(self, genome: tuple[int, ...]) -> dict[str, float]:
        assert self.is_valid(genome), f"invalid genome evaluated: {genome}"
        if self.sleep_s:
            time.sleep(self.sleep_s)
        if self.calls_log and self.hang_at_call:
            log = Path(self.calls_log)
            done = log.read_text().count("\n") if log.exists() else 0
            if done + 1 == self.hang_at_call:
                time.sleep(3600.0)  # stands for an evaluation still running when killed
        key = self.key(genome)
        self.calls.append(key)
        if self.calls_log:
            fd = os.open(self.calls_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, (key + "\n").encode())
            finally:
                os.close(fd)
        x = np.array(genome, dtype=np.float64)
        t = np.array(self.target, dtype=np.float64)
        return {
            "logloss": 0.4 + 0.01 * float(((x - t) ** 2).sum()),
            "latency_ns": 100.0 + 10.0 * float(x.sum()),
            "energy_pj": 50.0 + 5.0 * float((x**2).sum()),
        }


def slow_square(x: int) -> int:
    """An executor task: ``x * x`` after a short sleep. Later items of each three finish first on a pool: completion order != item order."""
    time.sleep(0.03 * (2 - x % 3))
    return x * x


def fail_on_three(x: int) -> int:
    """An executor task that raises on 3 (``x`` otherwise)."""
    if x == 3:
        raise ValueError("three is not accepted")
    return x


def script_config() -> SearchConfig:
    """The search the script runs: 8 + 6 x 4 = 32 evaluations in mode pareto."""
    return SearchConfig(
        budget="tiny", seed=11, mode="pareto", population=8, sample=4, children=4,
        generations=6,
    )


def main(argv: list[str]) -> int:
    out_dir, calls_log, sleep_s, hang_at = argv[0], argv[1], float(argv[2]), int(argv[3])
    problem = IntVectorProblem(sleep_s=sleep_s, calls_log=calls_log, hang_at_call=hang_at or None)
    run_search(
        problem, script_config(), out_dir=Path(out_dir), resume="--resume" in argv,
        quiet=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
