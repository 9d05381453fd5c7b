"""The co-design search problem: genome = (SubnetSpec, PimPlan).

:class:`CoSearchProblem` implements :class:`codesign.search.SearchProblem`:

- ``sample`` / ``mutate``: a subnet of the space and a plan for it (:mod:`codesign.plan`);
  with ``co_design=False`` the plan is always the profile's naive plan and only the subnet
  varies (the accuracy-only baseline). A mutation changes the subnet or the plan (a fair
  coin per mutation); after a subnet change the plan is reconciled with the new kernels.
- ``evaluate``: the supernet's log loss and AUC of the subnet after fine-tuning its final
  layer (:func:`codesign.train.estimate_subnet`), cached by the spec hash (in memory and,
  with ``cache_dir``, on disk, so co-search genomes that share a subnet train its head
  once); the subnet's FLOPs (:mod:`codesign.flops`); and, with ``simulate``, latency and
  energy of one batch on the profile with the plan's knobs (:func:`simulate_subnet`).
  Kernel costs are cached across evaluations by kernel signature through the engine's
  ``cache`` argument (:func:`pimsim.engine.kernel_costs`), one cache per profile variant,
  so a kernel repeated across candidates is simulated once per process.

The problem pickles without its loaded state: each worker process loads the data, the
supernet and the profile once (a per-process memo keyed by the paths, which only avoids
reloading and never changes a result).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from codesign.errors import CodesignError
from codesign.flops import count_flops
from codesign.mapping import map_subnet
from codesign.plan import (
    PimPlan,
    apply_knobs,
    mutate_plan,
    naive_plan,
    reconcile_plan,
    sample_plan,
)
from codesign.space import SubnetSpec, from_dict, mutate, sample, spec_hash, to_dict
from pimsim.fileio import atomic_write_json

__all__ = ["Genome", "CoSearchProblem", "simulate_subnet", "hardware_metrics", "sim_schema"]


@dataclass(frozen=True)
class Genome:
    spec: SubnetSpec
    plan: PimPlan


def sim_schema(name_or_schema: Any) -> Any:
    """The schema whose table sizes the simulation uses: a data set name gives its
    published cardinalities (the deployed model), a DatasetSchema passes through."""
    if isinstance(name_or_schema, str):
        from codesign.data.schema import get_schema

        return get_schema(name_or_schema)
    return name_or_schema


def simulate_subnet(spec: SubnetSpec, schema: Any, plan: PimPlan | None, profile: Any, *,
                    batch: int = 256, pooling: Any = None, seed: int = 0,
                    cache: dict[tuple[Any, ...], Any] | None = None) -> Any:
    """Simulate one batch of ``spec`` with ``plan`` on ``profile`` (knobs applied);
    returns the pimsim Trace. ``cache``: kernel-cost cache of that profile variant."""
    from pimsim.engine import simulate

    prof = apply_knobs(profile, plan) if plan is not None else profile
    wl = map_subnet(spec, schema, plan, batch=batch, pooling=pooling, profile=prof)
    replicate: dict[str, int] | int = 0
    if plan is not None:
        replicate = {f"emb.{f}": plan.hot_rows for f in plan.replicated_tables()}
    return simulate(wl, prof, seed=seed, replicate_hot_rows=replicate, cache=cache)


def hardware_metrics(trace: Any) -> dict[str, float]:
    """Latency (makespan) and energy of a trace, with energy by component."""
    from pimsim.trace import ENERGY_COLUMNS

    df = trace.df
    out = {"latency_ns": float(trace.makespan_ns), "energy_pj": float(df["energy_pj"].sum())}
    for c in ENERGY_COLUMNS:
        out[f"energy_{c}"] = float(df[c].sum())
    return out


#: Per-process memo of loaded inputs (data, supernet, profile) and caches; see the module
#: docstring. Keyed by the problem's paths; never pickled.
_PROCESS_MEMO: dict[tuple[Any, ...], Any] = {}


@dataclass
class CoSearchProblem:
    """Search problem over (SubnetSpec, PimPlan); see the module docstring.

    ``data_dir``: prepared data cache; ``supernet``: checkpoint path; ``profile``: profile
    name or YAML path; ``dataset``: name whose published table sizes the simulation uses
    (None: the data cache's own schema).
    """

    data_dir: str
    supernet: str
    profile: str
    co_design: bool = True
    space: str = "full"
    dataset: str | None = None
    batch: int = 256
    finetune_steps: int = 50
    finetune_lr: float = 0.05
    finetune_batch: int = 512
    eval_rows: int | None = 20000
    seed: int = 0
    simulate: bool = True
    cache_dir: str | None = None
    #: Probability that a sampled genome starts from the naive plan; otherwise each open
    #: table / kernel goes on PIM with probability ``p_pim``.
    p_naive: float = 0.5
    p_pim: float = 0.15
    num_threads: int | None = None
    _acc: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_acc"] = {}
        return state

    # ---- loaded inputs (per process) ----------------------------------------------------
    def _memo(self, what: str) -> Any:
        key = (what, self.data_dir, self.supernet, self.profile, self.dataset)
        if key in _PROCESS_MEMO:
            return _PROCESS_MEMO[key]
        if what == "data":
            from codesign.data.cache import CtrData

            val: Any = CtrData.open(self.data_dir)
        elif what == "supernet":
            from codesign.train import load_supernet

            val, _ = load_supernet(self.supernet, self._memo("data").schema)
            val.eval()
        elif what == "profile":
            from pimsim.profile import load_profile

            val = load_profile(self.profile)
        elif what == "schema":
            val = self._schema_from_data() if self.dataset is None else sim_schema(self.dataset)
        elif what == "sim_caches":
            val = {}
        else:  # pragma: no cover
            raise KeyError(what)
        _PROCESS_MEMO[key] = val
        return val

    def _schema_from_data(self) -> Any:
        from codesign.data.cache import CtrData

        meta = Path(self.data_dir) / "meta.json"
        if meta.is_file():
            return CtrData.open(self.data_dir).schema
        raise CodesignError(f"{self.data_dir}: no prepared data (meta.json missing)")

    @property
    def schema(self) -> Any:
        """The schema of the simulated model (table sizes)."""
        return self._memo("schema")

    @property
    def hw_profile(self) -> Any:
        return self._memo("profile")

    # ---- genome operations ---------------------------------------------------------------
    def naive(self, spec: SubnetSpec) -> PimPlan:
        return naive_plan(spec, self.schema, self.hw_profile)

    def seed_genomes(self, spec: SubnetSpec, n: int, rng: np.random.Generator,
                     plan: PimPlan | None = None, n_mutations: int = 2) -> list[Genome]:
        """``n`` distinct genomes of ``spec`` for a search's initial population: first
        ``(spec, plan)`` (default: the naive plan), then that plan with ``n_mutations``
        random plan mutations each (fewer genomes when the plan has too little to vary)."""
        first = Genome(spec, self.naive(spec) if plan is None else plan)
        out, keys = [first], {self.key(first)}
        tries = 0
        while len(out) < n and tries < 50 * n:
            tries += 1
            g = Genome(spec, mutate_plan(first.plan, spec, self.schema, self.hw_profile, rng,
                                         n_mutations))
            k = self.key(g)
            if k not in keys:
                keys.add(k)
                out.append(g)
        return out

    def sample(self, rng: np.random.Generator) -> Genome:
        spec = sample(self.space, rng)
        if not self.co_design:
            return Genome(spec, self.naive(spec))
        if rng.random() < self.p_naive:
            return Genome(spec, self.naive(spec))
        return Genome(spec, sample_plan(spec, self.schema, self.hw_profile, rng, self.p_pim))

    def mutate(self, genome: Genome, rng: np.random.Generator, n_mutations: int) -> Genome:
        spec, plan = genome.spec, genome.plan
        if not self.co_design:
            spec = mutate(spec, self.space, rng, max(1, n_mutations))
            return Genome(spec, self.naive(spec))
        n_spec = int(rng.binomial(max(1, n_mutations), 0.5))
        n_plan = max(1, n_mutations) - n_spec
        if n_spec:
            spec = mutate(spec, self.space, rng, n_spec)
        plan = reconcile_plan(plan, spec, self.schema, self.hw_profile)
        if n_plan:
            plan = mutate_plan(plan, spec, self.schema, self.hw_profile, rng, n_plan)
        return Genome(spec, plan)

    def key(self, genome: Genome) -> str:
        if not self.co_design:
            return spec_hash(genome.spec)
        text = spec_hash(genome.spec) + ":" + genome.plan.key()
        return hashlib.sha256(text.encode()).hexdigest()

    def to_json(self, genome: Genome) -> Any:
        return {"spec": to_dict(genome.spec), "plan": genome.plan.to_dict()}

    def from_json(self, data: Any) -> Genome:
        if not isinstance(data, dict) or "spec" not in data or "plan" not in data:
            raise CodesignError(
                f"genome: {str(data)[:80]!r}; accepted: an object with 'spec' and 'plan'"
            )
        return Genome(from_dict(data["spec"]), PimPlan.from_dict(data["plan"], "genome.plan"))

    # ---- evaluation ---------------------------------------------------------------------
    def accuracy(self, spec: SubnetSpec) -> dict[str, float]:
        """Supernet log loss / AUC of ``spec`` after head fine-tuning (cached by hash)."""
        h = spec_hash(spec)
        if h in self._acc:
            return self._acc[h]
        path = Path(self.cache_dir) / "accuracy" / f"{h}.json" if self.cache_dir else None
        if path is not None and path.is_file():
            try:
                res = json.loads(path.read_text())
                self._acc[h] = res
                return res
            except (OSError, json.JSONDecodeError):
                pass  # a damaged cache entry is recomputed and rewritten
        import torch

        from codesign.train import estimate_subnet

        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        r = estimate_subnet(
            self._memo("supernet"), spec, self._memo("data"), self.finetune_steps,
            split="val", lr=self.finetune_lr, batch_size=self.finetune_batch,
            seed=self.seed, limit=self.eval_rows,
        )
        res = {"logloss": float(r.logloss), "auc": float(r.auc)}
        self._acc[h] = res
        if path is not None:
            atomic_write_json(path, res)
        return res

    def hardware(self, spec: SubnetSpec, plan: PimPlan) -> dict[str, float]:
        """Latency and energy of one batch of ``spec`` with ``plan`` (cached kernel costs)."""
        profile = self.hw_profile
        caches = self._memo("sim_caches")
        variant = json.dumps(plan.knobs, sort_keys=True)
        cache = caches.setdefault(variant, {})
        trace = simulate_subnet(spec, self.schema, plan, profile, batch=self.batch,
                                seed=self.seed, cache=cache)
        return hardware_metrics(trace)

    def evaluate(self, genome: Genome) -> dict[str, float]:
        out: dict[str, float] = dict(self.accuracy(genome.spec))
        rep = count_flops(genome.spec, self.schema)
        out["flops"] = float(rep.total_flops)
        out["mflops"] = rep.mflops
        if self.simulate:
            hw = self.hardware(genome.spec, genome.plan)
            out.update(hw)
            out["edp"] = hw["latency_ns"] * hw["energy_pj"]
        if not math.isfinite(out["logloss"]):
            out["logloss"] = math.inf
        return out
