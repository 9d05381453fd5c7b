"""How the reproduction picks its models: C from the co-search front by B's log loss plus a
tolerance (:func:`select_c`), the genomes C's co-search starts from (:func:`c_seeds`), and
the ranking of B's accuracy search those seeds draw on (:func:`b_elite`)."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from codesign.cosearch import GREEDY_OBJECTIVES, Genome, shrink_moves
from codesign.errors import CodesignError
from codesign.pipeline.protocol import ReproBudget
from codesign.hw.placement import PimPlan
from codesign.search import BUDGETS
from codesign.nas.moves import mutate
from codesign.nas.space import SubnetSpec, from_dict

#: C's supernet log loss may exceed B's by at most this.
LOGLOSS_TOLERANCE = 0.001
#: How C was picked (C.json ``rule``; the report prints it).
RULE_MET = "lowest energy x latency among front points with supernet log loss <= B's + tolerance"
RULE_FALLBACK = "fallback: no front point within B's log loss + tolerance; the lowest log loss"
#: Largest number of genomes of B's subnet seeded into C's co-search.
MAX_C_SEEDS = 4
#: Salt of the seeding generator, ``default_rng([seed, C_SEED_SALT])``, so its stream differs
#: from every other generator of the run.
C_SEED_SALT = 0xC5EED
#: Random one-mutation neighbours tried per missing seed before giving up.
NEIGHBOUR_TRIES = 50


def search_population(bud: ReproBudget) -> int:
    """The population of the budget's search (its preset, or the override)."""
    return int(dict(bud.search_overrides).get("population", BUDGETS[bud.search].population))


def c_seeds(problem: Any, spec_b: SubnetSpec, plan_b: PimPlan, population: int,
            seed: int, elite: Sequence[SubnetSpec] = ()) -> list[Any]:
    """Genomes put first into C's co-search (deterministic for ``seed``, counted in its
    evaluations), up to half the population:

    1. B itself (its subnet and plan), then B's subnet with other plans (greedy and mutated,
       :meth:`CoSearchProblem.seed_genomes`): ``max(1, min(MAX_C_SEEDS, population // 4))``;
    2. alternately, B's shrinks (:func:`codesign.cosearch.shrink_moves`, in a seeded random
       order) and ``elite``, the next-best subnets of B's accuracy search in that order,
       each with its greedy plan for a random objective;
    3. B's one-mutation neighbours with their greedy plans, if still short.

    B's genome has exactly B's supernet log loss (the estimate is a pure function of the
    subnet), so the front always holds a point that equals or dominates B, and the
    tolerance rule of :func:`select_c` always applies. Steps 2 and 3 start the co-search
    where subnets of B's accuracy but lower cost are likely: B is the best of an accuracy
    search of the same size, and a random population rarely comes within the tolerance of
    it."""
    n = max(1, min(MAX_C_SEEDS, population // 4))
    rng = np.random.default_rng([seed, C_SEED_SALT])
    out = problem.seed_genomes(spec_b, n, rng, plan=plan_b)
    keys = {problem.key(g) for g in out}
    want = max(len(out), population // 2)

    def add(spec: SubnetSpec) -> None:
        objective = GREEDY_OBJECTIVES[int(rng.integers(len(GREEDY_OBJECTIVES)))]
        g = Genome(spec, problem.greedy(spec, plan_b.knobs, objective))
        k = problem.key(g)
        if k not in keys:
            keys.add(k)
            out.append(g)

    shrinks = shrink_moves(spec_b, problem.schema, problem.space)
    shrinks = [shrinks[i] for i in rng.permutation(len(shrinks))]
    others = [s for s in elite if s != spec_b]
    for pair in itertools.zip_longest(shrinks, others):
        for spec in pair:
            if spec is not None and len(out) < want:
                add(spec)
    tries = 0
    while len(out) < want and tries < NEIGHBOUR_TRIES * want:
        tries += 1
        add(mutate(spec_b, problem.space, rng, 1))
    return out


def b_elite(history: pd.DataFrame) -> list[SubnetSpec]:
    """The subnets of B's accuracy search, best supernet log loss first (ties: evaluation
    order), one per subnet."""
    rows = history.sort_values(["logloss", "index"], kind="stable")
    seen: set[str] = set()
    out = []
    for _, r in rows.iterrows():
        if r["key"] in seen or not math.isfinite(float(r["logloss"])):
            continue
        seen.add(r["key"])
        out.append(from_dict(json.loads(r["genome"])["spec"]))
    return out


#: What C minimises among the front points within the tolerance: energy x latency at a
#: batch point, energy at a serving point (whose front holds the genomes within its
#: latency limit only).
SELECT_KEYS = ("edp", "energy")


def ranked_within_tolerance(front: pd.DataFrame, b_logloss: float,
                            tolerance: float = LOGLOSS_TOLERANCE, key: str = "edp") -> list[int]:
    """Row positions of ``front`` with ``logloss <= b_logloss + tolerance``, best first by
    ``key`` (:data:`SELECT_KEYS`; ties: lower log loss, then position)."""
    if key not in SELECT_KEYS:
        raise CodesignError(f"select key: {key!r}; accepted: {', '.join(SELECT_KEYS)}")
    energy = front["energy_pj"].to_numpy()
    score = energy * front["latency_ns"].to_numpy() if key == "edp" else energy
    ll = front["logloss"].to_numpy()
    cand = [i for i in range(len(front)) if ll[i] <= b_logloss + tolerance]
    return sorted(cand, key=lambda i: (score[i], ll[i], i))


def select_c(front: pd.DataFrame, b_logloss: float,
             tolerance: float = LOGLOSS_TOLERANCE, key: str = "edp") -> tuple[int, bool]:
    """Row position in ``front`` of C and whether it met the log-loss tolerance: the lowest
    ``key`` (``latency_ns x energy_pj``, or ``energy_pj``) among rows with
    ``logloss <= b_logloss + tolerance``; if none, the lowest log loss."""
    if front.empty:
        raise CodesignError("reproduce: the co-search front is empty; accepted: a finished search")
    ranked = ranked_within_tolerance(front, b_logloss, tolerance, key)
    if ranked:
        return ranked[0], True
    edp = front["latency_ns"].to_numpy() * front["energy_pj"].to_numpy()
    ll = front["logloss"].to_numpy()
    return int(min(range(len(front)), key=lambda i: (ll[i], edp[i], i))), False
