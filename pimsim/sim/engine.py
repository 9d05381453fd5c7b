"""SimPy layer: kernels as processes on the host and on PIM unit groups, channels shared.

Two levels (DESIGN.md): each kernel's cost - its DRAM command stream through the Numba
engine, its compute / ALU time, its energy - is computed once by :mod:`pimsim.cost.host` or
:mod:`pimsim.cost.pim` (:func:`kernel_costs`, cached by kernel signature within a run: identical
kernels are simulated once). SimPy then schedules kernels, never single DRAM requests:

- a kernel process waits for all its dependencies, then acquires its compute resource
  (``host``, or the PIM unit group it runs on) and then every memory channel its stream
  uses, in ascending channel order (a global order, so no deadlock). A bank-level PIM
  kernel holds its channels for its whole time (its units sit in the memory). A host
  kernel starts with its launch, holds the channels only for its memory time
  (``dram_ns``) and computes the rest with them free, so PIM work can overlap with host
  compute. A kernel on a DPU group of its own (one table of a batch on UPMEM) holds them
  for its copies in and out only, so the tables' DPU groups work at the same time;
- independent kernels overlap when they use different compute resources and disjoint
  channels (for instance a host interaction while PIM channels pool embeddings).

The trace has one record per kernel plus ``(idle memory)``, with what the memory and the
host cost over the makespan outside every kernel, so that energy adds up over elapsed
time: the whole memory's background energy not booked to a kernel, its refreshes (every
rank refreshes once per tREFI, busy or idle: the makespan's due refreshes less those the
kernels' streams issued), and the host's static power while it runs no kernel.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import simpy

from pimsim.energy import background_energy_pj, command_energies_pj
from pimsim.errors import PimsimError
from pimsim.cost.host import host_kernel_cost
from pimsim.cost.memory import KernelCost
from pimsim.hw.host import host_section
from pimsim.cost.layout import Layout
from pimsim.cost.pim import (
    KINDS,
    UNIT_KEY,
    PimKinds,
    capacity_refusals,
    check_supported,
    pim_kernel_cost,
    unsupported_reason,
)
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
    # PIM units' row caches are shared by the tables pooled on them
    cache_share = max(1, sum(1 for k in workload.kernels
                             if isinstance(k, EmbeddingBag) and k.placement == "pim"))
    if cache is None:
        cache = {}
    order = workload.topological_order()
    # kernels whose resident data does not fit the PIM units' own storage (crossbars)
    spilled = capacity_refusals(profile, [workload.kernel(n) for n in order], kinds=kinds)
    costs: dict[str, KernelCost] = {}
    for name in order:
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
            elif name in spilled:
                if not workload.fallback_to_host:
                    raise PimsimError(spilled[name])
                placement, fallback = "host", True  # spilled to the host
        sig = k.signature()
        replicate = (replicate_hot_rows.get(name, 0) if isinstance(replicate_hot_rows, Mapping)
                     else replicate_hot_rows)
        is_emb = isinstance(k, EmbeddingBag)
        key = (sig, placement, seed, llc_share if is_emb and placement == "host" else 0,
               replicate if is_emb and placement == "pim" else 0,
               cache_share if is_emb and placement == "pim" else 0)
        hit = cache.get(key)
        if hit is not None:
            unit, extra = hit.unit, {**hit.extra, "cached_from": hit.name}
            if UNIT_KEY in hit.extra:  # a unit of the kernel's own weight (crossbar GEMMs)
                own = getattr(k, "weight", None) or name
                unit = unit.removesuffix(str(hit.extra[UNIT_KEY])) + own
                extra[UNIT_KEY] = own
            costs[name] = dataclasses.replace(hit, name=name, fallback=fallback, unit=unit,
                                              extra=extra)
            continue
        rng = np.random.default_rng([seed, int(sig[:15], 16)])
        if placement == "host":
            c = host_kernel_cost(profile, k, layout, rng, llc_share=llc_share,
                                 fallback=fallback)
        else:
            c = pim_kernel_cost(profile, k, layout, rng, replicate_hot_rows=replicate,
                                cache_share=cache_share, kinds=kinds)
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
        unit_req = unit.request()
        yield unit_req
        if c.channel_hold == "copies":
            # copies in with the channels, the units on their own banks, copies out
            start = env.now
            yield env.timeout(c.launch_ns)
            yield from hold_channels(c, c.copy_ns[0])
            yield env.timeout(max(0.0, c.time_ns - c.launch_ns - sum(c.copy_ns)))
            yield from hold_channels(c, c.copy_ns[1])
        else:
            held = yield from acquire_channels(c)
            start = env.now
            if c.channel_hold == "memory":
                # launch, memory time with the channels, then compute with them free
                yield env.timeout(c.launch_ns + c.dram_ns)
                release(held)
                yield env.timeout(max(0.0, c.time_ns - c.launch_ns - c.dram_ns))
            else:
                yield env.timeout(c.time_ns)
                release(held)
        unit.release(unit_req)
        records[name] = _record(c, start, env.now)
        done[name].succeed()

    def acquire_channels(c: KernelCost) -> Any:
        """Every channel of ``c`` in ascending order (a global order: no deadlock)."""
        held = []
        for ch in sorted(c.channels):
            req = channels[ch].request()
            held.append((channels[ch], req))
            yield req
        return held

    def release(held: list[tuple[simpy.Resource, Any]]) -> None:
        for res, req in held:
            res.release(req)

    def hold_channels(c: KernelCost, duration_ns: float) -> Any:
        if duration_ns <= 0.0:
            return
        held = yield from acquire_channels(c)
        yield env.timeout(duration_ns)
        release(held)

    for name in workload.topological_order():
        env.process(run(name))
    env.run()
    recs = sorted(records.values(), key=lambda r: (r.start_ns, r.name))
    makespan = max((r.end_ns for r in recs), default=0.0)
    idle = _idle_record(profile, recs, makespan)
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
        **{name: e[name] for name in ENERGY_COLUMNS},
        extra={**c.extra, "launch_ns": c.launch_ns} if c.launch_ns else dict(c.extra),
    )


def refreshes_due(profile: Profile, elapsed_ns: float) -> int:
    """All-bank refreshes every rank of the memory owes over ``elapsed_ns``: one per
    tREFI per rank."""
    t = profile.timing
    ranks = profile.dram.channels * profile.dram.ranks
    return round(ranks * elapsed_ns / (t.tREFI * t.tCK_ns))


def _idle_record(profile: Profile, recs: list[KernelRecord],
                 makespan_ns: float) -> KernelRecord | None:
    """What the memory and host cost over the makespan outside every kernel: background
    not booked to a kernel, the refreshes due less those issued, the host's idle static
    power (see the module docstring)."""
    cycles = int(round(makespan_ns / profile.timing.tCK_ns))
    background = max(0.0, background_energy_pj(profile, cycles)
                     - sum(r.background_pj for r in recs))
    n_ref = max(0, refreshes_due(profile, makespan_ns) - sum(r.n_ref for r in recs))
    ref = n_ref * command_energies_pj(profile)["REF"]
    static = 0.0
    if profile.host is not None:
        host_busy = sum(r.duration_ns for r in recs if r.placement == "host")
        static = host_section(profile).static_pj(max(0.0, makespan_ns - host_busy))
    if background <= 0.0 and n_ref == 0 and static <= 0.0:
        return None
    return KernelRecord(name=IDLE_RECORD_NAME, op=IDLE_OP, placement="memory",
                        unit="memory", start_ns=0.0, end_ns=makespan_ns,
                        background_pj=background, n_ref=n_ref, ref_pj=ref,
                        host_static_pj=static)


def critical_path_ns(workload: Workload, durations: dict[str, float]) -> float:
    """Length of the longest dependency chain, with each kernel taking ``durations[name]``."""
    finish: dict[str, float] = {}
    for name in workload.topological_order():
        start = max((finish[d] for d in workload.deps.get(name, [])), default=0.0)
        finish[name] = start + durations[name]
    return max(finish.values(), default=0.0)
