"""The co-design search problem: genome = (SubnetSpec, PimPlan).

:class:`CoSearchProblem` implements :class:`codesign.search.SearchProblem`:

- ``sample`` / ``mutate`` / ``seed_genomes`` / ``key`` / ``to_json`` / ``from_json``: the
  genome operations of :class:`codesign.hw.genome.GenomeOps` (a subnet of the space and a
  plan for it; with ``co_design=False`` the plan is always the profile's naive plan and
  only the subnet varies, the accuracy-only baseline; with ``precision_genes`` the plans
  carry the precision of every table and operator).
- ``evaluate``: the supernet's log loss and AUC of the subnet after fine-tuning its final
  layer (:func:`codesign.train.estimate_subnet`), with precision genes at the plan's
  precisions (:meth:`codesign.hw.placement.PimPlan.to_precision`), cached by the spec's
  functional hash and the precision (:mod:`codesign.train.estimate_cache`; in memory and,
  with ``cache_dir``, on disk under a folder named by the hash of the supernet's and the
  data's identity and the estimate's settings, so co-search genomes that share a subnet
  and precision train its head once and a score is never reused for another supernet or
  data); the subnet's FLOPs (:mod:`codesign.nas.flops`); and, with ``simulate``, latency
  and energy on the profile with the plan's knobs at each of ``batches``, per batch and
  aggregated over ``batch_weights``' mix (:mod:`codesign.hw.operating`).
  Kernel costs are cached across evaluations by kernel signature through the engine's
  ``cache`` argument (:func:`pimsim.sim.engine.kernel_costs`), one cache per profile variant,
  so a kernel repeated across candidates is simulated once per process.

:func:`codesign.hw.greedy.greedy_plan` places each table and dense kernel of a subnet, for
given knobs (and precisions), on the host or on PIM by comparing that kernel's standalone
cost on each, from the same cached kernel costs; the genome operations use it for sampled
genomes (``p_greedy``), the "re-place" mutation (``p_replace``) and the seeds.

``identity`` (what a search stores and compares on resume) holds the content hash of the
supernet checkpoint and of the loaded profile, the data cache's fingerprint, the simulated
data set and every setting of an estimate (``precision_genes`` only when on and
``finetune_rows`` only when set, so that searches without them resume as they were); a
``dataset`` other than the data cache's own is refused.

The problem pickles without its loaded state: each worker process loads the data, the
supernet and the profile once (a per-process memo keyed by the paths, which only avoids
reloading and never changes a result).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pimsim import Profile, load_profile

from codesign.data.cache import CtrData
from codesign.errors import CodesignError
from codesign.nas.flops import count_flops
from codesign.nas.memo import BlockMemo
from codesign.hw.evaluate import hardware_metrics, sim_schema, simulate_subnet
from codesign.hw.genome import Genome, GenomeOps, shrink_moves
from codesign.hw.greedy import GREEDY_OBJECTIVES, KernelCostFn, cached_kernel_cost, knobs_variant
from codesign.hw.mapping import subnet_graph
from codesign.hw.operating import OperatingPoints, greedy_over_batches, resolve_batches
from codesign.hw.placement import PimPlan
from codesign.nas.space import SubnetSpec
from codesign.quant.precision import Precision
from codesign.train.estimate_cache import EstimateCache, checkpoint_digest, estimate_at
from codesign.train.supernet import load_supernet

__all__ = [
    "GREEDY_OBJECTIVES",
    "CoSearchProblem",
    "Genome",
    "checkpoint_digest",
    "hardware_metrics",
    "profile_digest",
    "shrink_moves",
    "sim_schema",
    "simulate_subnet",
]

#: Per-process memo of loaded inputs (data, supernet, profile) and caches; see the module
#: docstring. Keyed by the problem's paths; never pickled.
_PROCESS_MEMO: dict[tuple[Any, ...], Any] = {}

#: The problem fields each memo item depends on, and nothing more: the problems of one run
#: at several profiles share one loaded supernet and one block-output memo (the frozen
#: supernet's outputs do not depend on the hardware), so their memory does not grow with
#: the number of profiles.
MEMO_KEYS: dict[str, tuple[str, ...]] = {
    "data": ("data_dir",),
    "supernet": ("data_dir", "supernet"),
    "block_memo": ("data_dir", "supernet"),
    "profile": ("profile",),
    "schema": ("data_dir", "dataset"),
    "sim_caches": ("data_dir", "profile", "dataset"),
}

#: Settings of the problem that its results depend on (part of :meth:`CoSearchProblem.identity`).
IDENTITY_SETTINGS = ("space", "co_design", "finetune_steps", "finetune_lr",
                     "finetune_batch", "eval_rows", "seed", "simulate", "p_naive", "p_greedy",
                     "p_pim", "p_replace", "p_shrink")
#: The identity keys a supernet estimate depends on (the accuracy cache's key).
ACCURACY_INPUTS = ("supernet", "data", "space", "finetune_steps", "finetune_lr",
                   "finetune_batch", "eval_rows", "seed")
#: Accuracy-cache keys present only when set (absent, the estimate is the default one and
#: caches and searches written without them stay valid).
OPTIONAL_ACCURACY_INPUTS = ("finetune_rows",)


def profile_digest(profile: Profile) -> str:
    """``sha256:<hex>`` of a loaded profile's content (after ``extends:``)."""
    return "sha256:" + hashlib.sha256(profile.model_dump_json().encode()).hexdigest()


@dataclass
class CoSearchProblem:
    """Search problem over (SubnetSpec, PimPlan); see the module docstring.

    ``data_dir``: prepared data cache; ``supernet``: checkpoint path; ``profile``: profile
    name or YAML path; ``dataset``: name whose published table sizes the simulation uses
    (None: the data cache's own schema); ``batches``, ``batch_weights``, ``latency_limit_us``:
    :class:`codesign.hw.operating.OperatingPoints` (``batch=B`` is ``batches=(B,)``).
    """

    data_dir: str
    supernet: str
    profile: str
    co_design: bool = True
    space: str = "full"
    dataset: str | None = None
    batch: int | None = None
    finetune_steps: int = 50
    finetune_lr: float = 0.05
    finetune_batch: int = 512
    eval_rows: int | None = 20000
    #: Training rows each head refit reads (None: :data:`codesign.train.finetune.FINETUNE_ROWS`).
    finetune_rows: int | None = None
    seed: int = 0
    simulate: bool = True
    cache_dir: str | None = None
    #: Probabilities that a sampled genome gets the naive plan, or the greedy plan (random
    #: objective, random knobs); otherwise each open table / kernel goes on PIM with
    #: probability ``p_pim``.
    p_naive: float = 1 / 3
    p_greedy: float = 1 / 3
    p_pim: float = 0.15
    #: Probability of the "re-place" move in ``mutate``: the child's plan becomes the greedy
    #: plan (random objective) of its subnet and knobs.
    p_replace: float = 0.25
    #: Probability that ``mutate``'s subnet change is a "shrink" move
    #: (:func:`shrink_moves`: one change that lowers the FLOPs, such as
    #: a smaller width or one input fewer) instead of a random mutation: it walks from an
    #: accurate subnet along the cost axis, where the Pareto front's useful points are.
    p_shrink: float = 0.25
    #: Precision genes: every plan carries the precision of each table and dense operator,
    #: drawn from what its target accepts, and the accuracy estimate applies them.
    precision_genes: bool = False
    num_threads: int | None = None
    batches: tuple[int, ...] | None = None
    batch_weights: tuple[float, ...] | None = None
    latency_limit_us: dict[int, float] = field(default_factory=dict)
    _acc: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)
    #: :meth:`identity`, computed once and pickled with the problem (workers do not hash
    #: the checkpoint again).
    _inputs: dict[str, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("p_naive", "p_greedy", "p_pim", "p_replace", "p_shrink"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0.0 <= v <= 1.0:
                raise CodesignError(f"CoSearchProblem.{name}: {v!r}; accepted: a number in "
                                    "[0, 1]")
        if self.p_naive + self.p_greedy > 1.0 + 1e-12:
            raise CodesignError(
                f"CoSearchProblem.p_naive + p_greedy: {self.p_naive + self.p_greedy!r}; "
                "accepted: at most 1"
            )
        if self.precision_genes and not self.co_design:
            raise CodesignError("CoSearchProblem.precision_genes: needs co_design (the "
                                "plan carries the precisions); accepted: co_design=True")
        self.batch, self.batches = resolve_batches(self.batch, self.batches)
        self.operating  # validates the batches, their weights and the limits

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_acc"] = {}
        return state

    # ---- loaded inputs (per process) ----------------------------------------------------
    def _memo(self, what: str) -> Any:
        key = (what, *(getattr(self, name) for name in MEMO_KEYS[what]))
        if key in _PROCESS_MEMO:
            return _PROCESS_MEMO[key]
        if what == "data":
            val: Any = CtrData.open(self.data_dir)
        elif what == "supernet":
            val, _ = load_supernet(self.supernet, self._memo("data").schema)
            val.eval()
        elif what == "profile":
            val = load_profile(self.profile)
        elif what == "schema":
            val = self._memo("data").schema if self.dataset is None else sim_schema(self.dataset)
        elif what == "sim_caches":
            val = {}
        elif what == "block_memo":  # block outputs of the loaded (frozen) supernet
            val = BlockMemo()
        else:  # pragma: no cover
            raise KeyError(what)
        _PROCESS_MEMO[key] = val
        return val

    def identity(self) -> dict[str, Any]:
        """Everything a result depends on besides the genome (see the module docstring);
        loads the data and the profile, so bad inputs fail here, before a search starts."""
        if self._inputs is None:
            data = self._memo("data")
            if self.dataset is not None and self.dataset != data.schema.name:
                raise CodesignError(
                    f"--dataset {self.dataset}: the data cache {self.data_dir} holds "
                    f"{data.schema.name!r}; accepted: {data.schema.name} (or no --dataset)")
            self._inputs = {
                "supernet": checkpoint_digest(self.supernet),
                "data": data.fingerprint,
                "profile": profile_digest(self.hw_profile),
                "dataset": self.schema.name,
                **{name: getattr(self, name) for name in IDENTITY_SETTINGS},
                **self.operating.identity(),
            }
            if self.precision_genes:
                self._inputs["precision_genes"] = True
            if self.finetune_rows is not None:
                self._inputs["finetune_rows"] = self.finetune_rows
        return dict(self._inputs)

    def _accuracy_dir(self) -> Path | None:
        if self.cache_dir is None:
            return None
        inputs = self.identity()
        text = json.dumps({k: inputs[k] for k in ACCURACY_INPUTS + OPTIONAL_ACCURACY_INPUTS
                           if k in inputs}, sort_keys=True)
        return Path(self.cache_dir) / "accuracy" / hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def schema(self) -> Any:
        """The schema of the simulated model (table sizes)."""
        return self._memo("schema")

    @property
    def hw_profile(self) -> Profile:
        return self._memo("profile")

    @property
    def operating(self) -> OperatingPoints:
        return OperatingPoints(self.batches, self.batch_weights, self.latency_limit_us)

    # ---- genome operations (codesign.hw.genome) -------------------------------------------
    def genome_ops(self) -> GenomeOps:
        return GenomeOps(
            schema=self.schema, profile=self.hw_profile, greedy=self.greedy, space=self.space,
            co_design=self.co_design, precision_genes=self.precision_genes,
            p_naive=self.p_naive, p_greedy=self.p_greedy, p_pim=self.p_pim,
            p_replace=self.p_replace, p_shrink=self.p_shrink)

    def naive(self, spec: SubnetSpec) -> PimPlan:
        return self.genome_ops().naive(spec)

    def kernel_cost(self, knobs: Mapping[str, Any]) -> KernelCostFn:
        """Kernel costs on the profile variant with ``knobs``, through the same per-process
        cache as :meth:`hardware` (a kernel costed for a greedy plan is not re-simulated
        when a genome is evaluated, and the other way round)."""
        caches = self._memo("sim_caches")
        return cached_kernel_cost(caches.setdefault(knobs_variant(knobs), {}), self.seed)

    def greedy(self, spec: SubnetSpec, knobs: Mapping[str, Any] | None = None,
               objective: str = "edp", *, table_dtypes: Mapping[str, str] | None = None,
               precision: Mapping[str, str] | None = None) -> PimPlan:
        """:func:`~codesign.hw.operating.greedy_over_batches` of ``spec`` for ``knobs``
        (default: the naive plan's, i.e. the profile's own), with the shared cost cache,
        keeping the given table and operator precisions."""
        if knobs is None:
            knobs = self.naive(spec).knobs
        cache = self._memo("sim_caches").setdefault(knobs_variant(knobs), {})
        return greedy_over_batches(self.operating, spec, self.schema, self.hw_profile, knobs,
                                   objective, seed=self.seed, cache=cache,
                                   table_dtypes=table_dtypes, precision=precision)

    def seed_genomes(self, spec: SubnetSpec, n: int, rng: np.random.Generator,
                     plan: PimPlan | None = None, n_mutations: int = 2) -> list[Genome]:
        """:meth:`codesign.hw.genome.GenomeOps.seed_genomes`."""
        return self.genome_ops().seed_genomes(spec, n, rng, plan, n_mutations)

    def sample(self, rng: np.random.Generator) -> Genome:
        return self.genome_ops().sample(rng)

    def mutate(self, genome: Genome, rng: np.random.Generator, n_mutations: int) -> Genome:
        return self.genome_ops().mutate(genome, rng, n_mutations)

    def key(self, genome: Genome) -> str:
        return self.genome_ops().key(genome)

    def to_json(self, genome: Genome) -> Any:
        return GenomeOps.to_json(genome)

    def from_json(self, data: Any) -> Genome:
        return GenomeOps.from_json(data)

    # ---- evaluation ---------------------------------------------------------------------
    def precision_of(self, genome: Genome) -> Precision | None:
        """The precision the genome's accuracy is estimated at: its plan's with precision
        genes, else None (fp32)."""
        if not self.precision_genes:
            return None
        graph = subnet_graph(genome.spec, self.schema)
        return genome.plan.to_precision(self.hw_profile, graph)

    def accuracy(self, spec: SubnetSpec, precision: Precision | None = None) -> dict[str, float]:
        """Supernet log loss / AUC of ``spec`` at ``precision`` (None: fp32) after head
        fine-tuning (cached, :class:`codesign.train.estimate_cache.EstimateCache`)."""

        def compute() -> dict[str, float]:
            if self.num_threads is not None:
                torch.set_num_threads(self.num_threads)
            r = estimate_at(
                precision, supernet=self._memo("supernet"), spec=spec, data=self._memo("data"),
                finetune_steps=self.finetune_steps, split="val", lr=self.finetune_lr,
                batch_size=self.finetune_batch, seed=self.seed, limit=self.eval_rows,
                rows=self.finetune_rows, memo=self._memo("block_memo"),
            )
            return {"logloss": float(r.logloss), "auc": float(r.auc)}

        return EstimateCache(self._accuracy_dir(), self._acc).get_or_compute(spec, precision,
                                                                             compute)

    def hardware(self, spec: SubnetSpec, plan: PimPlan) -> dict[str, float]:
        """Latency, energy and edp of ``spec`` with ``plan`` per batch and aggregated
        (:meth:`codesign.hw.operating.OperatingPoints.metrics`; cached kernel costs)."""
        cache = self._memo("sim_caches").setdefault(knobs_variant(plan.knobs), {})
        return self.operating.metrics(spec, self.schema, plan, self.hw_profile,
                                      seed=self.seed, cache=cache)

    def evaluate(self, genome: Genome) -> dict[str, float]:
        out: dict[str, float] = dict(self.accuracy(genome.spec, self.precision_of(genome)))
        rep = count_flops(genome.spec, self.schema)
        out["flops"] = float(rep.total_flops)
        out["mflops"] = rep.mflops
        if self.simulate:
            out.update(self.hardware(genome.spec, genome.plan))
        if not math.isfinite(out["logloss"]):
            out["logloss"] = math.inf
        return out
