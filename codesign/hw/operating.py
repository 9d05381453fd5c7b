"""Operating points of the co-search: the batch sizes a genome is simulated at, how their
figures combine into the aggregate that the fitness modes rank, and a latency limit per batch.

A genome is simulated once per batch size B (:func:`codesign.hw.evaluate.simulate_subnet`);
its per-batch figures are ``latency_ns@B`` (one request of B samples, start to end),
``energy_pj@B`` (that request's energy), ``energy_pj_per_sample@B`` (``energy_pj@B / B``)
and ``edp@B`` (``latency_ns@B * energy_pj@B``).

The aggregate keeps the names of a single-batch evaluation (``latency_ns``, ``energy_pj``,
``edp``, ``energy_<component>``), so the fitness modes, ``--limit`` and the Pareto axes
read it unchanged:

- one batch: that batch's own figures (energy of one request of B samples), exactly what a
  single-batch search scores;
- several batches: figures normalised so that batch 1 and batch 256 compare: latency as it
  is (it is already per request at its batch), energy per sample, and ``edp`` the
  aggregate of ``latency_ns@B * energy_pj_per_sample@B``. ``mix`` says how they combine:
  ``worst`` takes the largest value over the batches (per figure; the energy components
  are those of the batch with the largest energy per sample, so they still add up to
  ``energy_pj``), a weight per batch takes the weighted sum (``sum``: every weight 1).

``energy_pj_per_sample`` (the aggregate per sample) is always given. A latency limit at a
batch is a search limit on ``latency_ns@B`` (:meth:`OperatingPoints.search_limits`): the
``constrained`` mode treats a genome over any of them as infeasible.

:func:`greedy_over_batches` is the greedy placement for several batches: the greedy plan of
each batch (:func:`codesign.hw.greedy.greedy_plan`, per-kernel standalone costs at that
batch) is a candidate, and the candidate whose simulated aggregate (the same figure the
search ranks: the worst batch, or the declared mix) is lowest wins. A kernel's best place
moves with the batch (bank-level PIM wins matrix-vector products at batch 1 and loses the
compute-bound GEMMs at 256), and a worst case over batches is not a sum over kernels, so the
choice is made on whole-subnet simulations rather than on a per-kernel proxy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pimsim import ENERGY_COLUMNS, Profile

from codesign.errors import CodesignError
from codesign.hw.evaluate import hardware_metrics, simulate_subnet
from codesign.hw.greedy import cached_kernel_cost, greedy_plan
from codesign.hw.placement import PimPlan
from codesign.nas.space import SubnetSpec

__all__ = [
    "BATCH_MIXES",
    "DEFAULT_BATCH",
    "OperatingPoints",
    "greedy_over_batches",
    "parse_batch_mix",
    "parse_batches",
    "parse_latency_limits",
    "resolve_batches",
]

#: The batch of a problem that names none.
DEFAULT_BATCH = 256
#: The named mixes of ``--batch-mix`` (besides ``w1:w2:...``, one weight per batch).
BATCH_MIXES = ("worst", "sum")
#: Greedy objective -> the aggregate key it minimises over candidate plans.
_GREEDY_KEYS = {"latency": "latency_ns", "energy": "energy_pj", "edp": "edp"}


def parse_batches(text: str, option: str = "--batch") -> tuple[int, ...]:
    """``"1,16,256"`` as batch sizes: whole numbers >= 1, distinct, in the given order."""
    out: list[int] = []
    for part in text.split(","):
        try:
            value = int(part.strip())
        except ValueError:
            raise CodesignError(f"{option} {text}: {part.strip()!r} is not an integer; "
                                "accepted: batch sizes >= 1 separated by commas, such as "
                                "1,16,256") from None
        if value < 1:
            raise CodesignError(f"{option} {text}: {value} is not >= 1; accepted: batch sizes "
                                ">= 1 separated by commas")
        if value in out:
            raise CodesignError(f"{option} {text}: batch {value} is given twice; accepted: "
                                "distinct batch sizes")
        out.append(value)
    return tuple(out)


def _number(text: str, option: str, what: str, whole: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise CodesignError(f"{option} {whole}: {text.strip()!r} is not a number; accepted: "
                            f"{what}") from None
    if not math.isfinite(value):
        raise CodesignError(f"{option} {whole}: {text.strip()} is not finite; accepted: {what}")
    return value


def parse_batch_mix(text: str, batches: Sequence[int],
                    option: str = "--batch-mix") -> tuple[float, ...] | None:
    """``worst`` -> None (the worst case); ``sum`` -> a weight of 1 per batch; ``w1:w2:...``
    -> those weights, one per batch of ``batches`` in their order (>= 0, not all 0)."""
    if text == "worst":
        return None
    if text == "sum":
        return (1.0,) * len(batches)
    what = (f"worst, sum, or one weight >= 0 per batch ({len(batches)}: "
            f"{', '.join(map(str, batches))}) separated by ':'")
    parts = text.split(":")
    if len(parts) != len(batches):
        raise CodesignError(f"{option} {text}: {len(parts)} weight(s) for {len(batches)} "
                            f"batch(es); accepted: {what}")
    weights = tuple(_number(p, option, what, text) for p in parts)
    if any(w < 0 for w in weights) or not any(w > 0 for w in weights):
        raise CodesignError(f"{option} {text}: weights must be >= 0 and not all 0; accepted: "
                            f"{what}")
    return weights


def parse_latency_limits(text: str, batches: Sequence[int],
                         option: str = "--latency-limit-us") -> dict[int, float]:
    """``"X"`` (one limit, every batch) or ``"X1,X2,..."`` (one per batch, in their order)
    as ``{batch: limit in us}``; limits are finite and > 0."""
    what = (f"one latency in us for every batch, or one per batch ({len(batches)}: "
            f"{', '.join(map(str, batches))}) separated by commas, each > 0")
    values = [_number(p, option, what, text) for p in text.split(",")]
    if any(v <= 0 for v in values):
        raise CodesignError(f"{option} {text}: a limit is not > 0; accepted: {what}")
    if len(values) == 1:
        values = values * len(batches)
    if len(values) != len(batches):
        raise CodesignError(f"{option} {text}: {len(values)} limits for {len(batches)} "
                            f"batches; accepted: {what}")
    return dict(zip(batches, values))


def resolve_batches(batch: int | None, batches: Sequence[int] | None
                    ) -> tuple[int | None, Any]:
    """``(batch, batches)`` of a problem given either: ``batches`` as a tuple (default
    ``(DEFAULT_BATCH,)``; :class:`OperatingPoints` validates it), ``batch`` the single batch
    or None for several. Both given and different is refused."""
    if batches is None:
        batches = (DEFAULT_BATCH if batch is None else batch,)
    if isinstance(batches, list):
        batches = tuple(batches)
    if batch is not None and batches != (batch,):
        raise CodesignError(f"CoSearchProblem: batch={batch!r} and batches={batches!r}; "
                            "accepted: one of them")
    single = batches[0] if isinstance(batches, tuple) and len(batches) == 1 else None
    return single, batches


@dataclass(frozen=True)
class OperatingPoints:
    """Batch sizes, their mix (``weights``: None for the worst case, else one weight per
    batch) and a latency limit (us) per batch; see the module docstring. Invalid values
    raise :class:`~codesign.errors.CodesignError` naming the field."""

    batches: tuple[int, ...] = (DEFAULT_BATCH,)
    weights: tuple[float, ...] | None = None
    latency_limit_us: Mapping[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.weights, list):
            object.__setattr__(self, "weights", tuple(self.weights))
        b = self.batches
        if (not isinstance(b, tuple) or not b
                or any(not isinstance(x, int) or isinstance(x, bool) or x < 1 for x in b)
                or len(set(b)) != len(b)):
            raise CodesignError(f"CoSearchProblem.batches: {b!r}; accepted: a non-empty tuple "
                                "of distinct integers >= 1")
        w = self.weights
        if w is not None and (len(w) != len(b) or any(not math.isfinite(x) or x < 0 for x in w)
                              or not any(x > 0 for x in w)):
            raise CodesignError(f"CoSearchProblem.batch_weights: {w!r}; accepted: None (worst "
                                f"case) or one finite weight >= 0 per batch ({len(b)}), not "
                                "all 0")
        for batch, limit in self.latency_limit_us.items():
            if batch not in b or not isinstance(limit, (int, float)) or isinstance(limit, bool) \
                    or not math.isfinite(limit) or limit <= 0:
                raise CodesignError(f"CoSearchProblem.latency_limit_us: {batch!r}: {limit!r}; "
                                    f"accepted: a limit > 0 in us at a batch of {list(b)}")

    @property
    def mix(self) -> str:
        """``worst``, ``sum`` or the weights as ``w1:w2:...`` (as ``--batch-mix`` takes it)."""
        if self.weights is None:
            return "worst"
        if all(w == 1.0 for w in self.weights):
            return "sum"
        return ":".join(format(w, ".17g") for w in self.weights)  # exact: the identity

    def identity(self) -> dict[str, Any]:
        """What the evaluation depends on: ``{"batch": B}`` for one batch (the identity of a
        problem made with ``batch=B``, so that such a search's journal resumes), else the
        batches and their mix."""
        if len(self.batches) == 1:
            return {"batch": self.batches[0]}
        return {"batch": list(self.batches), "batch_mix": self.mix}

    def search_limits(self) -> dict[str, float]:
        """The latency limits as the search's ``limits`` (``latency_ns@B`` in ns)."""
        return {f"latency_ns@{b}": float(us) * 1e3 for b, us in self.latency_limit_us.items()}

    def simulate(self, spec: SubnetSpec, schema: Any, plan: PimPlan, profile: Profile, *,
                 seed: int = 0, cache: dict[tuple[Any, ...], Any] | None = None
                 ) -> dict[int, dict[str, float]]:
        """:func:`hardware_metrics` of ``spec`` with ``plan`` at each batch."""
        return {b: hardware_metrics(simulate_subnet(spec, schema, plan, profile, batch=b,
                                                    seed=seed, cache=cache))
                for b in self.batches}

    def aggregate(self, per_batch: Mapping[int, Mapping[str, float]]) -> dict[str, float]:
        """Per-batch keys and the aggregate (see the module docstring) of ``per_batch``
        (:func:`hardware_metrics` of each batch of :attr:`batches`)."""
        out: dict[str, float] = {}
        per_sample: dict[int, dict[str, float]] = {}
        for b in self.batches:
            m = per_batch[b]
            lat, energy = float(m["latency_ns"]), float(m["energy_pj"])
            out[f"latency_ns@{b}"] = lat
            out[f"energy_pj@{b}"] = energy
            out[f"energy_pj_per_sample@{b}"] = energy / b
            out[f"edp@{b}"] = lat * energy
            per_sample[b] = {"latency_ns": lat, "energy_pj": energy / b,
                             "edp": lat * energy / b,
                             **{f"energy_{c}": float(m[f"energy_{c}"]) / b
                                for c in ENERGY_COLUMNS}}
        if len(self.batches) == 1:
            (b,) = self.batches
            m = per_batch[b]
            out.update({k: float(v) for k, v in m.items()})
            out["edp"] = float(m["latency_ns"]) * float(m["energy_pj"])
            out["energy_pj_per_sample"] = float(m["energy_pj"]) / b
            return out
        keys = ("latency_ns", "energy_pj", "edp")
        components = [f"energy_{c}" for c in ENERGY_COLUMNS]
        if self.weights is None:
            for k in keys:
                out[k] = max(per_sample[b][k] for b in self.batches)
            worst = max(self.batches, key=lambda b: per_sample[b]["energy_pj"])
            out.update({c: per_sample[worst][c] for c in components})
        else:
            for k in (*keys, *components):
                out[k] = math.fsum(w * per_sample[b][k]
                                   for b, w in zip(self.batches, self.weights))
        out["energy_pj_per_sample"] = out["energy_pj"]
        return out

    def metrics(self, spec: SubnetSpec, schema: Any, plan: PimPlan, profile: Profile, *,
                seed: int = 0, cache: dict[tuple[Any, ...], Any] | None = None
                ) -> dict[str, float]:
        """:meth:`aggregate` of :meth:`simulate`."""
        return self.aggregate(self.simulate(spec, schema, plan, profile, seed=seed,
                                            cache=cache))


def greedy_over_batches(points: OperatingPoints, spec: SubnetSpec, schema: Any,
                        profile: Profile, knobs: Mapping[str, Any], objective: str = "edp", *,
                        seed: int = 0, cache: dict[tuple[Any, ...], Any] | None = None,
                        table_dtypes: Mapping[str, str] | None = None,
                        precision: Mapping[str, str] | None = None) -> PimPlan:
    """The greedy plan of ``spec`` for ``knobs`` over the batches of ``points``: with one
    batch, :func:`greedy_plan` at that batch; with several, of the greedy plans of each
    batch the one with the lowest aggregate ``objective`` (latency, energy or edp, over
    ``points``' mix; ties go to the earlier batch). ``cache``: the kernel-cost cache of the
    ``knobs`` profile variant (a fresh one when None). ``table_dtypes`` / ``precision``:
    precisions every candidate keeps (:func:`greedy_plan`)."""
    cache = {} if cache is None else cache
    kernel_cost = cached_kernel_cost(cache, seed)
    plans: list[PimPlan] = []
    for b in points.batches:
        plan = greedy_plan(spec, schema, profile, knobs, kernel_cost, objective, batch=b,
                           table_dtypes=table_dtypes, precision=precision)
        if all(plan.key() != p.key() for p in plans):
            plans.append(plan)
    if len(plans) == 1:
        return plans[0]
    key = _GREEDY_KEYS[objective]
    scores = [points.metrics(spec, schema, p, profile, seed=seed, cache=cache)[key]
              for p in plans]
    return plans[min(range(len(plans)), key=lambda i: (scores[i], i))]
