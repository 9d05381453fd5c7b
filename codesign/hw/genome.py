"""Genomes of the co-search, (SubnetSpec, PimPlan): how they are drawn, changed, named and
stored (:class:`GenomeOps`, what :class:`codesign.cosearch.CoSearchProblem` delegates to).

- ``sample``: a subnet of the space and a plan for it: the naive plan, a greedy plan
  (random objective, random knobs) or a random plan with probabilities ``p_naive`` /
  ``p_greedy`` / the rest; with ``co_design=False`` always the naive plan.
- ``mutate``: a change of the subnet or of the plan (a fair coin per mutation), the plan
  reconciled with a changed subnet; with probability ``p_shrink`` the subnet change is a
  "shrink" (one FLOPs-lowering change, :func:`shrink_moves`), and with probability
  ``p_replace`` the child's plan ends as the greedy plan of its subnet and knobs.
- ``seed_genomes``: a subnet's naive plan, its greedy plans, then mutations of the first.
- ``key``: the subnet's functional hash (inert fields reset), with the plan's key in a
  co-design search; ``to_json`` / ``from_json``: ``{"spec": ..., "plan": ...}``.

With ``precision_genes`` every plan carries the precision of each table and operator
(:mod:`codesign.hw.plans`), greedy plans keep the precisions they are given (drawn first
for a sampled genome, the parent's in a re-place), and a mutation may change a precision.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from codesign.errors import CodesignError
from codesign.hw.greedy import GREEDY_OBJECTIVES
from codesign.hw.mapping import subnet_graph
from codesign.hw.placement import PimPlan
from codesign.hw.plans import (
    mutate_plan,
    naive_plan,
    reconcile_plan,
    sample_plan,
    searchable_knobs,
)
from codesign.hw.precision_genes import draw_precision
from codesign.nas.flops import count_flops
from codesign.nas.moves import functional_hash, mutate, sample, shrink_candidates
from codesign.nas.space import SubnetSpec, from_dict, to_dict
from pimsim import Profile

__all__ = ["Genome", "GenomeOps", "GreedyFn", "shrink_moves"]


@dataclass(frozen=True)
class Genome:
    spec: SubnetSpec
    plan: PimPlan


#: ``greedy(spec, knobs, objective, table_dtypes=..., precision=...)``: the greedy plan of
#: a subnet (:func:`codesign.hw.greedy.greedy_plan` with the search's cost cache).
GreedyFn = Callable[..., PimPlan]


def shrink_moves(spec: SubnetSpec, schema: Any = "criteo", space: str | None = None) -> list[SubnetSpec]:
    """The single-field changes of ``spec`` (:func:`codesign.nas.moves.shrink_candidates`) that
    strictly lower its FLOPs on ``schema`` (as :func:`codesign.nas.flops.count_flops` takes it),
    in that function's order."""
    flops = count_flops(spec, schema).total_flops
    return [s for s in shrink_candidates(spec, space) if count_flops(s, schema).total_flops < flops]


@dataclass(frozen=True)
class GenomeOps:
    """The genome operations of one search (see the module docstring)."""

    schema: Any
    profile: Profile
    greedy: GreedyFn
    space: str = "full"
    co_design: bool = True
    precision_genes: bool = False
    p_naive: float = 1 / 3
    p_greedy: float = 1 / 3
    p_pim: float = 0.15
    p_replace: float = 0.25
    p_shrink: float = 0.25

    def naive(self, spec: SubnetSpec) -> PimPlan:
        return naive_plan(spec, self.schema, self.profile, self.precision_genes)

    def greedy_like(self, spec: SubnetSpec, knobs: Mapping[str, Any], objective: str,
                    like: PimPlan | None) -> PimPlan:
        """The greedy plan of ``spec`` for ``knobs``; with precision genes it keeps the
        precisions of ``like`` (a plan of ``spec``)."""
        if not self.precision_genes or like is None:
            return self.greedy(spec, knobs, objective)
        tables = {f: t.dtype for f, t in like.tables.items() if t.dtype is not None}
        plan = self.greedy(spec, knobs, objective, table_dtypes=tables,
                           precision=like.precision)
        return reconcile_plan(plan, spec, self.schema, self.profile, True)

    def _random_greedy(self, spec: SubnetSpec, knobs: Mapping[str, Any],
                       rng: np.random.Generator, like: PimPlan | None) -> PimPlan:
        objective = GREEDY_OBJECTIVES[int(rng.integers(len(GREEDY_OBJECTIVES)))]
        return self.greedy_like(spec, knobs, objective, like)

    def _random_knobs(self, rng: np.random.Generator) -> dict[str, Any]:
        options = searchable_knobs(self.profile, self.precision_genes)
        return {k: v[int(rng.integers(len(v)))] for k, v in options.items()}

    def _drawn_precision(self, spec: SubnetSpec, rng: np.random.Generator) -> PimPlan | None:
        """A plan carrying random precisions of ``spec`` only (with precision genes)."""
        if not self.precision_genes:
            return None
        tables, ops = draw_precision(subnet_graph(spec, self.schema), self.profile, rng)
        return PimPlan.model_validate({"tables": {f: {"dtype": d} for f, d in tables.items()},
                                       "precision": ops})

    def seed_genomes(self, spec: SubnetSpec, n: int, rng: np.random.Generator,
                     plan: PimPlan | None = None, n_mutations: int = 2) -> list[Genome]:
        """``n`` distinct genomes of ``spec`` for a search's initial population: first
        ``(spec, plan)`` (default: the naive plan), then ``(spec, greedy plan)`` for each
        objective of :data:`GREEDY_OBJECTIVES` with that plan's knobs (and precisions;
        co-design only; duplicates dropped), then the first plan with ``n_mutations``
        random plan mutations each (fewer genomes when the plan has too little to vary)."""
        first = Genome(spec, self.naive(spec) if plan is None else plan)
        out, keys = [first], {self.key(first)}
        if self.co_design:
            for objective in GREEDY_OBJECTIVES:
                if len(out) >= n:
                    break
                g = Genome(spec, self.greedy_like(spec, first.plan.knobs, objective, first.plan))
                k = self.key(g)
                if k not in keys:
                    keys.add(k)
                    out.append(g)
        tries = 0
        while len(out) < n and tries < 50 * n:
            tries += 1
            g = Genome(spec, mutate_plan(first.plan, spec, self.schema, self.profile, rng,
                                         n_mutations, self.precision_genes))
            k = self.key(g)
            if k not in keys:
                keys.add(k)
                out.append(g)
        return out

    def sample(self, rng: np.random.Generator) -> Genome:
        spec = sample(self.space, rng)
        if not self.co_design:
            return Genome(spec, self.naive(spec))
        u = rng.random()
        if u < self.p_naive:
            return Genome(spec, self.naive(spec))
        if u < self.p_naive + self.p_greedy:
            knobs = self._random_knobs(rng)
            like = self._drawn_precision(spec, rng)
            return Genome(spec, self._random_greedy(spec, knobs, rng, like))
        return Genome(spec, sample_plan(spec, self.schema, self.profile, rng, self.p_pim,
                                        self.precision_genes))

    def mutate(self, genome: Genome, rng: np.random.Generator, n_mutations: int) -> Genome:
        spec, plan = genome.spec, genome.plan
        if not self.co_design:
            spec = mutate(spec, self.space, rng, max(1, n_mutations))
            return Genome(spec, self.naive(spec))
        n_spec = int(rng.binomial(max(1, n_mutations), 0.5))
        n_plan = max(1, n_mutations) - n_spec
        moves = shrink_moves(spec, self.schema, self.space) if rng.random() < self.p_shrink else []
        if moves:  # a shrink replaces the subnet part of the mutation
            spec = moves[int(rng.integers(len(moves)))]
            n_plan = 0
        elif n_spec:
            spec = mutate(spec, self.space, rng, n_spec)
        plan = reconcile_plan(plan, spec, self.schema, self.profile, self.precision_genes)
        if n_plan:
            plan = mutate_plan(plan, spec, self.schema, self.profile, rng, n_plan,
                               self.precision_genes)
        if rng.random() < self.p_replace:
            # re-place: the greedy placement for the (possibly mutated) subnet and knobs
            plan = self._random_greedy(spec, plan.knobs, rng, plan)
        return Genome(spec, plan)

    def key(self, genome: Genome) -> str:
        # functional_hash: a mutation of a field the subnet does not use is no new candidate
        if not self.co_design:
            return functional_hash(genome.spec)
        text = functional_hash(genome.spec) + ":" + genome.plan.key()
        return hashlib.sha256(text.encode()).hexdigest()

    @staticmethod
    def to_json(genome: Genome) -> Any:
        return {"spec": to_dict(genome.spec), "plan": genome.plan.to_dict()}

    @staticmethod
    def from_json(data: Any) -> Genome:
        if not isinstance(data, dict) or "spec" not in data or "plan" not in data:
            raise CodesignError(
                f"genome: {str(data)[:80]!r}; accepted: an object with 'spec' and 'plan'"
            )
        return Genome(from_dict(data["spec"]), PimPlan.from_dict(data["plan"], "genome.plan"))
