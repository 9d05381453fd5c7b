"""SimPy layer: kernels as processes on the host and on PIM unit groups, channels shared.

Two levels (DESIGN.md): each kernel's cost - its DRAM command stream through the Numba
engine, its compute / ALU time, its energy - is computed once by :mod:`pimsim.cost.host` or
:mod:`pimsim.cost.pim` (:func:`kernel_costs`, cached by kernel signature within a run: identical
kernels are simulated once). SimPy then schedules kernels, never single DRAM requests:

- a kernel process waits for all its dependencies, then acquires its compute resource
  (``host``, or the PIM unit group it runs on) and then every memory channel its stream
  uses, in ascending channel order (a global order, so no deadlock), holds them for the
  kernel's time and releases them;
- independent kernels overlap when they use different compute resources and disjoint
  channels (for instance a host interaction while PIM channels pool embeddings).

The trace has one record per kernel plus, when the memory idles for part of the run, one
``(idle memory)`` record with the background energy of the whole memory not attributed
to any kernel, so that energy components add up to the memory's total over the makespan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import simpy

from pimsim.energy import background_energy_pj
from pimsim.errors import PimsimError
from pimsim.cost.host import host_kernel_cost
from pimsim.cost.memory import KernelCost
from pimsim.cost.layout import Layout
from pimsim.cost.pim import KINDS, PimKinds, check_supported, pim_kernel_cost, unsupported_reason
from pimsim.hw.schema import Profile
from pimsim.standards import base_command
from pimsim.sim.trace import ENERGY_COLUMNS, IDLE_OP, KernelRecord, Trace
from pimsim.workload.graph import Workload
from pimsim.workload.kernels import EmbeddingBag

#: Name of the record of the memory's background energy outside every kernel.
IDLE_RECORD_NAME = "(idle memory)"


def kernel_costs(workload: Workload, profile: Profile, *, seed: int = 0,
                 replicate_hot_rows: int | Mapping[str, int] = 0,
                 cache: dict[tuple[Any, ...], KernelCost] | None = None,
                 kinds: PimKinds = KINDS) -> dict[str, KernelCost]:
    """Cost of every kernel of ``workload`` on ``profile`` (placement, fallback applied).

    ``replicate_hot_rows``: hot rows replicated for every PIM embedding kernel, or per
    kernel name (absent names: 0). ``cache``: a dict kept by the caller to reuse costs
    across calls (key: kernel signature, placement, seed and what else changes the cost);
    use one dict per profile. ``kinds``: the registry of PIM kinds the profile's ``pim.kind``
    is looked up in (a caller's own kinds beside the built-in ones).
    """
    layout = Layout(profile)
    llc_share = max(1, sum(1 for k in workload.kernels
                           if isinstance(k, EmbeddingBag) and k.placement == "host"))
    if cache is None:
        cache = {}
    costs: dict[str, KernelCost] = {}
    for name in workload.topological_order():
        k = workload.kernel(name)
        placement, fallback = k.placement, False
        if placement == "pim":
            if profile.pim is None:
                if not workload.fallback_to_host:
                    raise PimsimError(
                        f"kernel {name!r} is placed on 'pim' but profile {profile.name!r} has "
                        "no pim section; use a PIM profile or fallback_to_host: true"
                    )
                placement, fallback = "host", True
            elif unsupported_reason(profile, k, kinds=kinds) is not None:
                if not workload.fallback_to_host:
                    check_supported(profile, k, kinds=kinds)  # raises, naming kind and kernel
                placement, fallback = "host", True
        sig = k.signature()
        replicate = (replicate_hot_rows.get(name, 0) if isinstance(replicate_hot_rows, Mapping)
                     else replicate_hot_rows)
        is_emb = isinstance(k, EmbeddingBag)
        key = (sig, placement, seed, llc_share if is_emb and placement == "host" else 0,
               replicate if is_emb and placement == "pim" else 0)
        hit = cache.get(key)
        if hit is not None:
            costs[name] = dataclasses.replace(hit, name=name, fallback=fallback,
                                              extra={**hit.extra, "cached_from": hit.name})
            continue
        rng = np.random.default_rng([seed, int(sig[:15], 16)])
        if placement == "host":
            c = host_kernel_cost(profile, k, layout, rng, llc_share=llc_share,
                                 fallback=fallback)
        else:
            c = pim_kernel_cost(profile, k, layout, rng, replicate_hot_rows=replicate,
                                kinds=kinds)
        cache[key] = c
        costs[name] = c
    return costs


def simulate(workload: Workload, profile: Profile, *, seed: int = 0,
             replicate_hot_rows: int | Mapping[str, int] = 0,
             cache: dict[tuple[Any, ...], KernelCost] | None = None,
             kinds: PimKinds = KINDS) -> Trace:
    """Simulate ``workload`` on ``profile``; returns the per-kernel :class:`Trace`
    (``replicate_hot_rows``, ``cache`` and ``kinds``: see :func:`kernel_costs`)."""
    costs = kernel_costs(workload, profile, seed=seed, replicate_hot_rows=replicate_hot_rows,
                         cache=cache, kinds=kinds)
    env = simpy.Environment()
    units: dict[str, simpy.Resource] = {}
    channels = [simpy.Resource(env, capacity=1) for _ in range(profile.dram.channels)]
    done = {name: env.event() for name in costs}
    records: dict[str, KernelRecord] = {}

    def run(name: str) -> Any:
        deps = workload.deps.get(name, [])
        if deps:
            yield simpy.AllOf(env, [done[d] for d in deps])
        c = costs[name]
        unit = units.setdefault(c.unit, simpy.Resource(env, capacity=1))
        held = [(unit, unit.request())]
        yield held[0][1]
        for ch in sorted(c.channels):
            req = channels[ch].request()
            held.append((channels[ch], req))
            yield req
        start = env.now
        yield env.timeout(c.time_ns)
        for res, req in held:
            res.release(req)
        records[name] = _record(c, start, env.now)
        done[name].succeed()

    for name in workload.topological_order():
        env.process(run(name))
    env.run()
    recs = sorted(records.values(), key=lambda r: (r.start_ns, r.name))
    makespan = max((r.end_ns for r in recs), default=0.0)
    idle = _idle_background(profile, recs, makespan)
    if idle is not None:
        recs.append(idle)
    meta = {"profile": profile.name, "workload": workload.name, "seed": seed,
            "makespan_ns": makespan}
    return Trace(recs, meta)


def _record(c: KernelCost, start: float, end: float) -> KernelRecord:
    e = c.energy_pj
    cnt = c.counts

    def count(*names: str) -> int:
        return int(round(sum(v for k, v in cnt.items() if base_command(k) in names)))

    return KernelRecord(
        name=c.name, op=c.op, placement=c.placement, unit=c.unit, start_ns=float(start),
        end_ns=float(end), dram_ns=c.dram_ns, compute_ns=c.compute_ns, fallback=c.fallback,
        n_act=count("ACT"), n_pre=count("PRE", "PREA"), n_rd=count("RD", "RDA"),
        n_wr=count("WR", "WRA"), n_ref=count("REF"), external_bytes=int(c.external_bytes),
        internal_bytes=int(c.internal_bytes), flops=int(c.flops),
        **{name: e[name] for name in ENERGY_COLUMNS}, extra=dict(c.extra),
    )


def _idle_background(profile: Profile, recs: list[KernelRecord],
                     makespan_ns: float) -> KernelRecord | None:
    """Background energy of the whole memory over the makespan not booked to a kernel."""
    cycles = int(round(makespan_ns / profile.timing.tCK_ns))
    total = background_energy_pj(profile, cycles)
    rest = total - sum(r.background_pj for r in recs)
    if rest <= 0.0:
        return None
    return KernelRecord(name=IDLE_RECORD_NAME, op=IDLE_OP, placement="memory",
                        unit="memory", start_ns=0.0, end_ns=makespan_ns, background_pj=rest)


def critical_path_ns(workload: Workload, durations: dict[str, float]) -> float:
    """Length of the longest dependency chain, with each kernel taking ``durations[name]``."""
    finish: dict[str, float] = {}
    for name in workload.topological_order():
        start = max((finish[d] for d in workload.deps.get(name, [])), default=0.0)
        finish[name] = start + durations[name]
    return max(finish.values(), default=0.0)
