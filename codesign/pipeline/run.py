"""A reproduction run as the stages see it: its arguments and folders (:class:`Run`), the
stage runner that skips finished stages and keeps their times (:class:`Stages`), and the
search problems and searches the stages start (:func:`problem`, :func:`search`)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codesign.cosearch import CoSearchProblem
from codesign.pipeline.points import OperatingPoint, point_dir
from codesign.pipeline.protocol import TIMINGS_NAME, ReproBudget, read_timings, write_json
from codesign.search import SearchConfig, run_search
from pimsim import Profile
from pimsim.util.executors import SERIAL, make_executor


@dataclass(frozen=True)
class Run:
    """Everything a stage reads: the arguments of ``reproduce`` and the folders."""

    out: Path
    dataset: str
    points: tuple[OperatingPoint, ...]
    profiles: dict[str, Profile]
    bud: ReproBudget
    seed: int
    raw: str | os.PathLike[str] | None
    synthetic_rows: int | None
    scheduler: str | None
    workers: int | None
    threads: int | None
    quiet: bool

    @property
    def data_dir(self) -> Path:
        return self.out / "data" / "cache"

    @property
    def supernet_dir(self) -> Path:
        return self.out / "supernet"

    @property
    def single(self) -> bool:
        """One operating point: its artefacts sit in the run folder itself."""
        return len(self.points) == 1

    def dir(self, point: OperatingPoint) -> Path:
        return point_dir(self.out, point, self.single)


#: Seconds between the writes of a running stage's time so far to ``timings.json``: a run
#: stopped hard (killed, out of memory, the machine gone) loses at most this much of it.
HEARTBEAT_S = 30.0


class Stages:
    """Runs stages in order, skipping those whose artefact exists, and keeps their times.

    A stage's time is the wall time of every attempt at it: a stage without its artefact
    starts from the time its interrupted attempts recorded, and a running stage writes its
    time so far every :data:`HEARTBEAT_S` seconds and when it fails."""

    def __init__(self, out: Path, log: Callable[[str], None], stop_after: str | None) -> None:
        self.out, self.log, self.stop_after = out, log, stop_after
        self.times = read_timings(out)

    def run(self, name: str, artefact: Path, fn: Callable[[], None], label: str = "") -> None:
        """Run stage ``name`` (shown and timed as ``name label``) unless ``artefact``
        exists."""
        full = f"{name} {label}".strip()
        if artefact.exists():
            self.log(f"[{full}] done already ({artefact.relative_to(self.out)})")
        else:
            before = self.times.get(full, 0.0)
            self.log(f"[{full}] running" + (f" ({before:.0f} s before)" if before else ""))
            t0 = time.perf_counter()
            done = threading.Event()

            def record() -> None:  # by the heartbeat thread, then (after it ends) by this one
                self.times[full] = before + time.perf_counter() - t0
                write_json(self.out / TIMINGS_NAME, self.times)

            def beat() -> None:
                while not done.wait(HEARTBEAT_S):
                    record()

            beater = threading.Thread(target=beat, name=f"timing {full}", daemon=True)
            beater.start()
            try:
                fn()
            finally:
                done.set()
                beater.join()
                record()
            self.log(f"[{full}] {self.times[full]:.1f} s")

    def stop_here(self, name: str) -> bool:
        """True (and said) when ``name`` is the ``stop_after`` stage."""
        if name == self.stop_after:
            self.log(f"[{name}] stopping here (stop_after); run again to continue")
            return True
        return False


def problem(run: Run, co_design: bool, point: OperatingPoint,
            limit_us: float | None = None) -> CoSearchProblem:
    """The search problem of B (``co_design=False``) or of C at ``point`` (with a latency
    limit of ``limit_us`` at the point's batch); every problem shares the run's estimate
    cache, so a subnet is estimated once across the searches."""
    return CoSearchProblem(
        data_dir=str(run.data_dir), supernet=str(run.supernet_dir), profile=point.profile,
        co_design=co_design, space="full", dataset=run.dataset, batches=(point.batch,),
        finetune_steps=run.bud.finetune_steps, finetune_batch=run.bud.finetune_batch,
        eval_rows=run.bud.eval_rows, finetune_rows=run.bud.finetune_rows, seed=run.seed,
        simulate=co_design, cache_dir=str(run.out / "cache"),
        latency_limit_us={} if limit_us is None else {point.batch: float(limit_us)},
        # worker processes share the cores: one torch thread each
        num_threads=1 if run.scheduler not in (None, SERIAL) else run.threads,
    )


def search(run: Run, prob: CoSearchProblem, folder: Path, seeds: tuple[Any, ...] = (),
           logloss_limit: float | None = None) -> Any:
    """Run (or resume) the search of ``prob`` in ``folder`` with the run's budget: an
    accuracy search for B, a pareto co-search for C, or with latency limits a
    ``constrained`` co-search minimising energy (its front: the genomes within them and,
    with ``logloss_limit``, within that supernet log loss)."""
    limits = prob.operating.search_limits()
    if limits and logloss_limit is not None:
        limits["logloss"] = float(logloss_limit)
    mode = "constrained" if limits else "pareto" if prob.co_design else "accuracy"
    extra: dict[str, Any] = {"metric": "energy_pj", "limits": limits} if limits else {}
    cfg = SearchConfig(budget=run.bud.search, seed=run.seed, mode=mode,
                       initial_genomes=seeds, **extra, **dict(run.bud.search_overrides))
    with make_executor(run.scheduler, run.workers) as ex:
        return run_search(prob, cfg, out_dir=folder, resume=True, executor=ex, quiet=run.quiet)
