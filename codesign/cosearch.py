"""The co-design search problem: genome = (SubnetSpec, PimPlan).

:class:`CoSearchProblem` implements :class:`codesign.search.SearchProblem`:

- ``sample`` / ``mutate``: a subnet of the space and a plan for it (:mod:`codesign.hw.plans`);
  with ``co_design=False`` the plan is always the profile's naive plan and only the subnet
  varies (the accuracy-only baseline). A mutation changes the subnet or the plan (a fair
  coin per mutation); after a subnet change the plan is reconciled with the new kernels.
- ``evaluate``: the supernet's log loss and AUC of the subnet after fine-tuning its final
  layer (:func:`codesign.train.estimate_subnet`), cached by the spec hash (in memory and,
  with ``cache_dir``, on disk under a folder named by the hash of the supernet's and the
  data's identity and the estimate's settings, so co-search genomes that share a subnet
  train its head once and a score is never reused for another supernet or data); the subnet's FLOPs (:mod:`codesign.nas.flops`); and, with ``simulate``, latency and
  energy on the profile with the plan's knobs at each of ``batches``, per batch and
  aggregated over ``batch_weights``' mix (:mod:`codesign.hw.operating`).
  Kernel costs are cached across evaluations by kernel signature through the engine's
  ``cache`` argument (:func:`pimsim.sim.engine.kernel_costs`), one cache per profile variant,
  so a kernel repeated across candidates is simulated once per process.

:func:`codesign.hw.greedy.greedy_plan` places each table and dense kernel of a subnet, for
given knobs, on the host or on PIM by comparing that kernel's standalone cost on each, from
the same cached kernel costs. ``sample`` draws the naive, a greedy (random objective)
or a random plan with probabilities ``p_naive`` / ``p_greedy`` / the rest; ``mutate`` ends
with a "re-place" move (probability ``p_replace``: the child's plan becomes the greedy plan
of its subnet and knobs); with probability ``p_shrink`` its subnet change is a "shrink"
(one FLOPs-lowering change, :func:`shrink_moves`) instead of a random
mutation; ``seed_genomes`` puts the greedy plans after the first genome.

``identity`` (what a search stores and compares on resume) holds the content hash of the
supernet checkpoint and of the loaded profile, the data cache's fingerprint, the simulated
data set and every setting of an estimate; a ``dataset`` other than the data cache's own is
refused.

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
from pimsim.util.cli import to_jsonable
from pimsim.util.fileio import atomic_write_json

from codesign.data.cache import CtrData
from codesign.errors import CodesignError
from codesign.nas.flops import count_flops
from codesign.hw.capability import knob_options
from codesign.hw.evaluate import sim_schema
from codesign.hw.greedy import GREEDY_OBJECTIVES, KernelCostFn, cached_kernel_cost, knobs_variant
from codesign.hw.operating import OperatingPoints, greedy_over_batches, resolve_batches
from codesign.hw.placement import PimPlan
from codesign.hw.plans import mutate_plan, naive_plan, reconcile_plan, sample_plan
from codesign.nas.moves import functional_hash, mutate, sample, shrink_candidates
from codesign.nas.space import SubnetSpec, from_dict, to_dict
from codesign.train.checkpoint import CHECKPOINT_NAME
from codesign.train.finetune import estimate_subnet
from codesign.train.supernet import load_supernet

__all__ = ["CoSearchProblem", "Genome", "shrink_moves"]


@dataclass(frozen=True)
class Genome:
    spec: SubnetSpec
    plan: PimPlan


#: Per-process memo of loaded inputs (data, supernet, profile) and caches; see the module
#: docstring. Keyed by the problem's paths; never pickled.
_PROCESS_MEMO: dict[tuple[Any, ...], Any] = {}

#: Settings of the problem that its results depend on (part of :meth:`CoSearchProblem.identity`).
IDENTITY_SETTINGS = ("space", "co_design", "finetune_steps", "finetune_lr",
                     "finetune_batch", "eval_rows", "seed", "simulate", "p_naive", "p_greedy",
                     "p_pim", "p_replace", "p_shrink")
#: The identity keys a supernet estimate depends on (the accuracy cache's key).
ACCURACY_INPUTS = ("supernet", "data", "space", "finetune_steps", "finetune_lr",
                   "finetune_batch", "eval_rows", "seed")


def checkpoint_digest(path: str | Path) -> str:
    """``sha256:<hex>`` of a supernet checkpoint's bytes (a file, or a folder holding
    ``supernet.pt``): its identity, wherever it is stored."""
    p = Path(path)
    if p.is_dir():
        p = p / CHECKPOINT_NAME
    try:
        with open(p, "rb") as fh:
            return "sha256:" + hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise CodesignError(f"--supernet {p}: cannot read ({exc.strerror or exc}); accepted: "
                            "a checkpoint file or folder written by `codesign train-supernet`") from None


def profile_digest(profile: Profile) -> str:
    """``sha256:<hex>`` of a loaded profile's content (after ``extends:``)."""
    return "sha256:" + hashlib.sha256(profile.model_dump_json().encode()).hexdigest()


def shrink_moves(spec: SubnetSpec, schema: Any = "criteo", space: str | None = None) -> list[SubnetSpec]:
    """The single-field changes of ``spec`` (:func:`codesign.nas.moves.shrink_candidates`) that
    strictly lower its FLOPs on ``schema`` (as :func:`codesign.nas.flops.count_flops` takes it),
    in that function's order."""
    flops = count_flops(spec, schema).total_flops
    return [s for s in shrink_candidates(spec, space) if count_flops(s, schema).total_flops < flops]


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
        self.batch, self.batches = resolve_batches(self.batch, self.batches)
        self.operating  # validates the batches, their weights and the limits

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
        return dict(self._inputs)

    def _accuracy_dir(self) -> Path | None:
        if self.cache_dir is None:
            return None
        inputs = self.identity()
        text = json.dumps({k: inputs[k] for k in ACCURACY_INPUTS}, sort_keys=True)
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

    # ---- genome operations ---------------------------------------------------------------
    def naive(self, spec: SubnetSpec) -> PimPlan:
        return naive_plan(spec, self.schema, self.hw_profile)

    def kernel_cost(self, knobs: Mapping[str, Any]) -> KernelCostFn:
        """Kernel costs on the profile variant with ``knobs``, through the same per-process
        cache as :meth:`hardware` (a kernel costed for a greedy plan is not re-simulated
        when a genome is evaluated, and the other way round)."""
        caches = self._memo("sim_caches")
        return cached_kernel_cost(caches.setdefault(knobs_variant(knobs), {}), self.seed)

    def greedy(self, spec: SubnetSpec, knobs: Mapping[str, Any] | None = None,
               objective: str = "edp") -> PimPlan:
        """:func:`~codesign.hw.operating.greedy_over_batches` of ``spec`` for ``knobs``
        (default: the naive plan's, i.e. the profile's own), with the shared cost cache."""
        if knobs is None:
            knobs = self.naive(spec).knobs
        cache = self._memo("sim_caches").setdefault(knobs_variant(knobs), {})
        return greedy_over_batches(self.operating, spec, self.schema, self.hw_profile, knobs,
                                   objective, seed=self.seed, cache=cache)

    def _random_greedy(self, spec: SubnetSpec, knobs: Mapping[str, Any],
                       rng: np.random.Generator) -> PimPlan:
        objective = GREEDY_OBJECTIVES[int(rng.integers(len(GREEDY_OBJECTIVES)))]
        return self.greedy(spec, knobs, objective)

    def seed_genomes(self, spec: SubnetSpec, n: int, rng: np.random.Generator,
                     plan: PimPlan | None = None, n_mutations: int = 2) -> list[Genome]:
        """``n`` distinct genomes of ``spec`` for a search's initial population: first
        ``(spec, plan)`` (default: the naive plan), then ``(spec, greedy plan)`` for each
        objective of :data:`GREEDY_OBJECTIVES` with that plan's knobs (co-design only;
        duplicates dropped), then the first plan with ``n_mutations`` random plan
        mutations each (fewer genomes when the plan has too little to vary)."""
        first = Genome(spec, self.naive(spec) if plan is None else plan)
        out, keys = [first], {self.key(first)}
        if self.co_design:
            for objective in GREEDY_OBJECTIVES:
                if len(out) >= n:
                    break
                g = Genome(spec, self.greedy(spec, first.plan.knobs, objective))
                k = self.key(g)
                if k not in keys:
                    keys.add(k)
                    out.append(g)
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

    def _random_knobs(self, rng: np.random.Generator) -> dict[str, Any]:
        options = knob_options(self.hw_profile)
        return {k: v[int(rng.integers(len(v)))] for k, v in options.items()}

    def sample(self, rng: np.random.Generator) -> Genome:
        spec = sample(self.space, rng)
        if not self.co_design:
            return Genome(spec, self.naive(spec))
        u = rng.random()
        if u < self.p_naive:
            return Genome(spec, self.naive(spec))
        if u < self.p_naive + self.p_greedy:
            return Genome(spec, self._random_greedy(spec, self._random_knobs(rng), rng))
        return Genome(spec, sample_plan(spec, self.schema, self.hw_profile, rng, self.p_pim))

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
        plan = reconcile_plan(plan, spec, self.schema, self.hw_profile)
        if n_plan:
            plan = mutate_plan(plan, spec, self.schema, self.hw_profile, rng, n_plan)
        if rng.random() < self.p_replace:
            # re-place: the greedy placement for the (possibly mutated) subnet and knobs
            plan = self._random_greedy(spec, plan.knobs, rng)
        return Genome(spec, plan)

    def key(self, genome: Genome) -> str:
        # functional_hash: a mutation of a field the subnet does not use is no new candidate
        if not self.co_design:
            return functional_hash(genome.spec)
        text = functional_hash(genome.spec) + ":" + genome.plan.key()
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
        """Supernet log loss / AUC of ``spec`` after head fine-tuning (cached by
        :func:`codesign.nas.space.functional_hash`)."""
        h = functional_hash(spec)
        if h in self._acc:
            return self._acc[h]
        folder = self._accuracy_dir()
        path = None if folder is None else folder / f"{h}.json"
        if path is not None and path.is_file():
            try:
                stored = json.loads(path.read_text())
                res = {k: math.nan if v is None else float(v) for k, v in stored.items()}
                self._acc[h] = res
                return res
            except (OSError, AttributeError, TypeError, ValueError):
                pass  # a damaged cache entry is recomputed and rewritten
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
            atomic_write_json(path, to_jsonable(res), allow_nan=False)
        return res

    def hardware(self, spec: SubnetSpec, plan: PimPlan) -> dict[str, float]:
        """Latency, energy and edp of ``spec`` with ``plan`` per batch and aggregated
        (:meth:`codesign.hw.operating.OperatingPoints.metrics`; cached kernel costs)."""
        cache = self._memo("sim_caches").setdefault(knobs_variant(plan.knobs), {})
        return self.operating.metrics(spec, self.schema, plan, self.hw_profile,
                                      seed=self.seed, cache=cache)

    def evaluate(self, genome: Genome) -> dict[str, float]:
        out: dict[str, float] = dict(self.accuracy(genome.spec))
        rep = count_flops(genome.spec, self.schema)
        out["flops"] = float(rep.total_flops)
        out["mflops"] = rep.mflops
        if self.simulate:
            out.update(self.hardware(genome.spec, genome.plan))
        if not math.isfinite(out["logloss"]):
            out["logloss"] = math.inf
        return out
