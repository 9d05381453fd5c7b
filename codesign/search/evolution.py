"""Regularized evolution (Real et al. 2019, in the batched form NASRec uses) and run_search.

Generation 0 is the config's ``initial_genomes`` followed by sampled genomes up to
``population``. Each later generation ranks the population once (the mode's fitness order),
draws ``children`` parents by independent tournaments of ``sample`` members, mutates each
with ``mutations_at(g)`` mutations, evaluates the children concurrently on the executor,
then ages the population: the children join and the oldest as many leave, whatever their
fitness. A proposal whose key was seen, that ``is_valid`` rejects or whose creation raises
``SpecError`` is re-drawn, up to ``max_retries`` times; so no genome is evaluated twice.
Results are applied in proposal order, never in completion order, so every executor and a
resumed run give the same result as one uninterrupted run. An objective that is not a finite
number is stored as NaN (the worst value), so a resumed run reads back exactly what an
uninterrupted one holds.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
from tqdm.auto import tqdm

from codesign.errors import CodesignError, SpecError
from pimsim.util.executors import Executor, LocalExecutor
from codesign.search.config import SearchConfig, SearchError, canonical_json
from codesign.search.pareto import constraint_violation, rank_positions
from codesign.search.problem import REQUIRED_METHODS, SearchProblem
from codesign.search.result import SearchResult, make_result
from codesign.search.store import Checkpoint, SearchStore, malformed_checkpoint

__all__ = ["run_search"]

G = TypeVar("G")


@dataclass
class _Proposal:
    genome: Any
    genome_json: Any
    key: str
    parent: str | None
    n_mutations: int
    duplicate: bool


class _Search(Generic[G]):
    def __init__(self, problem: SearchProblem[G], config: SearchConfig, executor: Executor,
                 out_dir: Path | None, inputs: Mapping[str, Any]) -> None:
        self.problem = problem
        self.config = config
        self.executor = executor
        self.store = (None if out_dir is None
                      else SearchStore(out_dir, config.to_dict(), inputs))
        self.rng = np.random.default_rng(config.seed)
        self.generation = -1
        self.population: list[str] = []
        self.history: list[dict[str, Any]] = []
        self.results: dict[str, dict[str, float]] = {}  # committed + journaled evaluations
        self.genomes: dict[str, Any] = {}  # key -> canonical genome (committed ones)
        self.duplicates_accepted = 0
        self.redraws = 0
        self.evaluations_run = 0
        self.journaled: set[str] = set()  # results read from the journal, not committed

    # ---- persistence ------------------------------------------------------------------------

    def open_store(self, resume: bool, overwrite: bool) -> None:
        if self.store is None:
            return
        ckpt, entries = self.store.open(resume=resume, overwrite=overwrite)
        if ckpt is not None:
            self._restore(ckpt)
        for entry in entries:
            if entry["key"] not in self.results:
                self.results[entry["key"]] = dict(entry["objectives"])
                self.journaled.add(entry["key"])

    def _restore(self, ckpt: Checkpoint) -> None:
        self.rng = ckpt.rng
        self.generation = ckpt.generation
        self.population = ckpt.population
        self.history = ckpt.history
        self.duplicates_accepted = ckpt.duplicates_accepted
        self.redraws = ckpt.redraws
        assert self.store is not None
        try:
            for rec in self.history:
                self.results[rec["key"]] = dict(rec["objectives"])
                self.genomes[rec["key"]] = self.problem.from_json(rec["genome"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise malformed_checkpoint(str(self.store.checkpoint_path), exc) from exc

    def _journal(self, record: Mapping[str, Any]) -> None:
        if self.store is not None:
            self.store.append(record)

    def _checkpoint(self) -> None:
        if self.store is not None:
            self.store.write_checkpoint(Checkpoint(
                generation=self.generation, rng=self.rng, population=self.population,
                history=self.history, duplicates_accepted=self.duplicates_accepted,
                redraws=self.redraws,
            ))

    def close(self, failed: bool = False) -> None:
        if self.store is not None:
            self.store.close(failed=failed)

    # ---- proposals --------------------------------------------------------------------------

    def _canonical(self, genome: G) -> tuple[G, Any, str]:
        """Canonical form, JSON and key: exactly what a resumed search rebuilds."""
        gjson = json.loads(canonical_json(self.problem.to_json(genome)))
        canon = self.problem.from_json(gjson)
        return canon, gjson, str(self.problem.key(canon))

    def _draw(
        self, make: Callable[[], G], seen: set[str], parent: str | None, n_mut: int, what: str
    ) -> _Proposal:
        is_valid = getattr(self.problem, "is_valid", None)
        last_dup: _Proposal | None = None
        last_error = ""
        for _ in range(self.config.max_retries):
            try:
                genome = make()
            except SpecError as exc:
                last_error = str(exc)
                self.redraws += 1
                continue
            if is_valid is not None and not is_valid(genome):
                last_error = "is_valid() returned False"
                self.redraws += 1
                continue
            canon, gjson, key = self._canonical(genome)
            prop = _Proposal(canon, gjson, key, parent, n_mut, duplicate=key in seen)
            if not prop.duplicate:
                return prop
            last_dup = prop
            self.redraws += 1
        if last_dup is not None:
            self.duplicates_accepted += 1
            return last_dup
        raise SearchError(
            f"search generation {self.generation + 1}: {what} gave no valid genome in "
            f"{self.config.max_retries} tries (last: {last_error}); accepted: a problem whose "
            "sample/mutate return valid genomes"
        )

    def _seeded(self, i: int, data: Any, seen: set[str]) -> _Proposal:
        where = f"search config initial_genomes[{i}]"
        try:
            genome = self.problem.from_json(data)
        except (CodesignError, KeyError, TypeError, ValueError) as exc:
            raise SearchError(
                f"{where}: {str(data)[:80]!r} is not a genome of this problem ({exc}); "
                "accepted: the problem.to_json form of a genome"
            ) from exc
        is_valid = getattr(self.problem, "is_valid", None)
        if is_valid is not None and not is_valid(genome):
            raise SearchError(f"{where}: {str(data)[:80]!r} is rejected by is_valid(); "
                              "accepted: a valid genome")
        canon, gjson, key = self._canonical(genome)
        if key in seen:
            raise SearchError(f"{where}: repeats an earlier genome (key {key}); accepted: "
                              "distinct genomes")
        return _Proposal(canon, gjson, key, None, 0, duplicate=False)

    def _propose(self, gen: int) -> list[_Proposal]:
        cfg = self.config
        seen = {rec["key"] for rec in self.history}
        proposals: list[_Proposal] = []
        if gen == 0:
            for i, data in enumerate(cfg.initial_genomes):
                prop = self._seeded(i, data, seen)
                seen.add(prop.key)
                proposals.append(prop)
            for _ in range(cfg.population - len(proposals)):
                prop = self._draw(lambda: self.problem.sample(self.rng), seen, None, 0, "sample")
                seen.add(prop.key)
                proposals.append(prop)
            return proposals
        ranks = rank_positions([self.results[k] for k in self.population], cfg)
        n_mut = cfg.mutations_at(gen)
        for _ in range(cfg.children):
            contestants = self.rng.choice(len(self.population), size=cfg.sample, replace=False)
            winner = int(contestants[np.argmin(ranks[contestants])])
            parent_key = self.population[winner]
            parent = self.genomes[parent_key]
            prop = self._draw(
                lambda: self.problem.mutate(parent, self.rng, n_mut),
                seen, parent_key, n_mut, f"mutate({parent_key})",
            )
            seen.add(prop.key)
            proposals.append(prop)
        return proposals

    # ---- evaluation -------------------------------------------------------------------------

    def _check_objectives(self, key: str, raw: Any) -> dict[str, float]:
        if not isinstance(raw, Mapping):
            raise SearchError(
                f"evaluate(genome {key}): returned {type(raw).__name__}; accepted: a mapping "
                "of objective name to number"
            )
        out: dict[str, float] = {}
        for name, value in raw.items():
            try:
                number = float(value)
                out[str(name)] = number if math.isfinite(number) else math.nan
            except (TypeError, ValueError) as exc:
                raise SearchError(
                    f"evaluate(genome {key}): objective {name!r} = {value!r}; accepted: a "
                    "number"
                ) from exc
        missing = [n for n in self.config.required_objectives() if n not in out]
        if missing:
            raise SearchError(
                f"evaluate(genome {key}): result lacks {missing}; got keys {sorted(out)}; "
                f"accepted: a mapping with {list(self.config.required_objectives())} for mode "
                f"{self.config.mode!r}"
            )
        return out

    def run_generation(self, gen: int, bar: Any) -> None:
        proposals = self._propose(gen)
        pending: dict[str, _Proposal] = {}
        for prop in proposals:
            if prop.key in self.journaled:  # journaled before a kill: counted at the start
                self.journaled.discard(prop.key)
            elif prop.key in self.results:  # a duplicate
                bar.update(1)
            elif prop.key not in pending:
                pending[prop.key] = prop
            else:
                bar.update(1)
        futures = {}
        for key, prop in pending.items():
            futures[self.executor.submit(self.problem.evaluate, prop.genome)] = key
        for fut in self.executor.as_completed(list(futures)):
            key = futures[fut]
            objectives = self._check_objectives(key, fut.result())
            self.results[key] = objectives
            self.evaluations_run += 1
            self._journal(
                {
                    "type": "eval",
                    "generation": gen,
                    "key": key,
                    "genome": pending[key].genome_json,
                    "objectives": objectives,
                }
            )
            bar.update(1)
        # Commit in proposal order: independent of completion order and of cache hits.
        committed = {rec["key"] for rec in self.history}
        new_keys: list[str] = []
        for prop in proposals:
            new_keys.append(prop.key)
            if prop.key in committed:
                continue
            committed.add(prop.key)
            self.genomes[prop.key] = prop.genome
            self.history.append(
                {
                    "index": len(self.history),
                    "generation": gen,
                    "key": prop.key,
                    "parent": prop.parent,
                    "n_mutations": prop.n_mutations,
                    "genome": prop.genome_json,
                    "objectives": self.results[prop.key],
                }
            )
        if gen == 0:
            self.population = new_keys
        else:
            self.population = self.population[len(new_keys) :] + new_keys
        self.generation = gen
        self._checkpoint()
        best = self._best_value()
        postfix = {"gen": f"{gen}/{self.config.generations}"}
        if best is not None:
            postfix[f"best_{self.config.metric}"] = f"{best:.6g}"
        bar.set_postfix(postfix)

    def _best_value(self) -> float | None:
        """The best ``metric`` so far (mode ``constrained``: of the genomes within the
        limits)."""
        objs = [r["objectives"] for r in self.history]
        if self.config.mode == "constrained":
            viol = constraint_violation(objs, self.config.limits)
            objs = [o for o, v in zip(objs, viol) if v == 0.0]
        vals = [o.get(self.config.metric) for o in objs]
        vals = [v for v in vals if v is not None and not math.isnan(v)]
        return min(vals) if vals else None

    # ---- result -----------------------------------------------------------------------------

    def result(self) -> SearchResult:
        return make_result(
            self.config, self.history, self.genomes, self.population, self.generation,
            duplicates_accepted=self.duplicates_accepted, redraws=self.redraws,
            evaluations_run=self.evaluations_run,
        )


def run_search(
    problem: SearchProblem[G],
    config: SearchConfig,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    executor: Executor | None = None,
    quiet: bool = False,
) -> SearchResult:
    """Run (or, with ``resume=True``, continue) a regularized-evolution search.

    ``out_dir`` holds the journal and checkpoint (nothing is persisted when it is None);
    without ``resume`` an ``out_dir`` that already holds a search is refused unless
    ``overwrite``. ``executor`` runs the evaluations (default: in-process, serially); the
    caller keeps ownership of it. Progress is shown with tqdm unless ``quiet``.
    """
    missing = [m for m in REQUIRED_METHODS if not callable(getattr(problem, m, None))]
    if missing:
        raise SearchError(
            f"search problem {type(problem).__name__}: lacks {missing}; accepted: an object "
            f"with {', '.join(REQUIRED_METHODS)}"
        )
    if not isinstance(config, SearchConfig):
        raise SearchError(
            f"search config: got {type(config).__name__}; accepted: a SearchConfig"
        )
    if resume and out_dir is None:
        raise SearchError(
            "search resume: got resume=True without out_dir; accepted: the folder of the "
            "search to continue"
        )
    identity = getattr(problem, "identity", None)
    inputs = dict(identity()) if callable(identity) else {}
    own_executor = executor is None
    ex = LocalExecutor(0) if executor is None else executor
    search = _Search(problem, config, ex, None if out_dir is None else Path(out_dir), inputs)
    failed = True
    try:
        search.open_store(resume=resume, overwrite=overwrite)
        # Results already on disk count as done, so the rate (and the ETA) is that of the
        # evaluations this run makes.
        done = len(search.history) + search.duplicates_accepted + len(search.journaled)
        with tqdm(
            total=config.total_evaluations,
            initial=min(done, config.total_evaluations),
            disable=quiet,
            desc=f"search[{config.mode}]",
            unit="eval",
            smoothing=0.1,
        ) as bar:
            for gen in range(search.generation + 1, config.generations + 1):
                search.run_generation(gen, bar)
        failed = False
        return search.result()
    finally:
        search.close(failed=failed)
        if own_executor:
            ex.close()
