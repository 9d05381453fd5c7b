"""SearchResult: the history of a search as a table, its Pareto front and its best genome."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from codesign.search.config import SearchConfig, canonical_json
from codesign.search.pareto import constraint_violation, fitness_order, non_dominated_sort

__all__ = ["SearchResult", "make_result"]


@dataclass
class SearchResult:
    """What a search returns.

    ``history``: one row per evaluated genome in proposal order, columns ``index``,
    ``generation``, ``key``, ``parent`` (key or None), ``n_mutations``, ``seeded`` (one of the
    config's ``initial_genomes``), ``genome`` (canonical
    JSON text), one column per objective, and ``front`` (non-dominated rank of the row over
    ``config.objectives`` within the whole history, when every row has those objectives),
    ``feasible``/``violation`` in mode ``constrained``, where ``front`` ranks the feasible
    rows only (an infeasible row has ``front`` -1).
    ``front``: the history rows with ``front == 0`` (empty if the objectives are missing or,
    in mode ``constrained``, when no genome meets every limit).
    ``best``: the best history row under the mode's order (in mode ``pareto``: the front row
    with the lowest ``metric``; in mode ``constrained``: the feasible row with the lowest
    ``metric``, None when there is none: a genome over a limit is never the best), as a
    dict; ``best_genome`` the same as a genome object.
    ``population``/``population_keys``: the final population, oldest first. ``generation``:
    the last finished generation. ``duplicates_accepted``: proposals that took a cached result
    after ``max_retries``; ``redraws``: proposals re-drawn as invalid or duplicate;
    ``evaluations_run``: evaluations this call ran (journal and checkpoint hits excluded).
    """

    config: SearchConfig
    history: pd.DataFrame
    population_keys: list[str]
    population: list[Any]
    best: dict[str, Any] | None
    best_genome: Any
    front: pd.DataFrame
    generation: int
    duplicates_accepted: int
    redraws: int
    evaluations_run: int


def _history_frame(config: SearchConfig, history: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    objective_names = sorted({n for r in history for n in r["objectives"]})
    n_seeded = len(config.initial_genomes)
    rows = []
    for rec in history:
        row = {
            "index": rec["index"],
            "generation": rec["generation"],
            "key": rec["key"],
            "parent": rec["parent"],
            "n_mutations": rec["n_mutations"],
            "seeded": rec["generation"] == 0 and rec["index"] < n_seeded,
            "genome": canonical_json(rec["genome"]),
        }
        for name in objective_names:
            row[name] = rec["objectives"].get(name, math.nan)
        rows.append(row)
    return pd.DataFrame(
        rows,
        columns=["index", "generation", "key", "parent", "n_mutations", "seeded", "genome",
                 *objective_names],
    )


def make_result(config: SearchConfig, history: Sequence[Mapping[str, Any]],
                genomes: Mapping[str, Any], population: Sequence[str], generation: int, *,
                duplicates_accepted: int, redraws: int, evaluations_run: int) -> SearchResult:
    """The result of a search from its committed ``history`` records (in proposal order),
    its canonical ``genomes`` by key and its final ``population`` keys."""
    cfg = config
    frame = _history_frame(cfg, history)
    objs = [rec["objectives"] for rec in history]
    have_front = bool(history) and all(all(k in o for k in cfg.objectives) for o in objs)
    feasible = np.ones(len(history), dtype=bool)
    if cfg.mode == "constrained" and history:
        viol = constraint_violation(objs, cfg.limits)
        feasible = viol == 0.0
        frame["violation"] = viol
        frame["feasible"] = feasible
    if have_front:
        points = frame[list(cfg.objectives)].to_numpy(dtype=np.float64)
        ranks = np.full(len(history), -1, dtype=np.int64)
        ranks[feasible] = non_dominated_sort(points[feasible], cfg.senses)
        frame["front"] = ranks
        front = frame[frame["front"] == 0].reset_index(drop=True)
    else:
        front = frame.iloc[0:0].copy()
    best: dict[str, Any] | None = None
    best_genome: Any = None
    if history:
        if cfg.mode == "pareto" and have_front and not front.empty:
            metric_col = cfg.metric if cfg.metric in front else cfg.objectives[0]
            i = int(front.sort_values([metric_col, "index"], kind="stable").iloc[0]["index"])
        else:
            i = int(fitness_order(objs, cfg)[0])
        if feasible[i]:
            best = frame.iloc[i].to_dict()
            best_genome = genomes[history[i]["key"]]
    return SearchResult(config=cfg, history=frame, population_keys=list(population),
                        population=[genomes[k] for k in population], best=best,
                        best_genome=best_genome, front=front, generation=generation,
                        duplicates_accepted=duplicates_accepted, redraws=redraws,
                        evaluations_run=evaluations_run)
