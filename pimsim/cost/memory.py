"""Request streams through the DRAM engine, and the cost types every unit returns.

:func:`replay_stream` replays an address stream (every request due at cycle 0: a
saturating stream) through :func:`pimsim.dram.run_requests` and returns a
:class:`MemCost`; with ``repeat`` it stands for the stream run back to back many times,
extrapolated from two replays. :func:`mem_energy` prices a :class:`MemCost` with
:func:`pimsim.energy.dram_energy`. :class:`KernelCost` is what the host and the PIM kinds
return for one kernel and what the SimPy layer schedules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from pimsim.dram import run_requests
from pimsim.energy import (
    COMMAND_COMPONENT,
    ENERGY_COMPONENTS,
    EnergyBreakdown,
    command_energies_pj,
    dram_energy,
    extend_command_energies,
)
from pimsim.hw.schema import Profile
from pimsim.standards.pim import ALL_BANK_SUFFIX, EXTERNAL_OF, is_all_bank

#: Rank-wide commands charged once per command, not once per bank they touch.
_PER_COMMAND: tuple[str, ...] = ("REF", "PREA")
#: Commands the engine's refresh manager issues (every rank of every channel of the replayed
#: profile refreshes while a stream runs, whichever channels the stream uses).
REFRESH_COMMANDS: tuple[str, ...] = ("REF", "PREA")


def _add_counts(a: dict[str, float], b: dict[str, float], f: float = 1.0) -> dict[str, float]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0.0) + v * f
    return out


@dataclass
class MemCost:
    """A request stream replayed through the DRAM engine.

    ``counts``: commands issued by kind (``ACT_AB`` = one all-bank ACT); ``ops``:
    bank-level operations by command (an all-bank ACT on 16 banks = 16), which is what
    energy is charged on.
    """

    cycles: float = 0.0
    counts: dict[str, float] = field(default_factory=dict)
    external_bytes: int = 0
    internal_bytes: int = 0
    requests: int = 0
    ops: dict[str, float] = field(default_factory=dict)

    def __add__(self, o: "MemCost") -> "MemCost":
        return MemCost(self.cycles + o.cycles, _add_counts(self.counts, o.counts),
                       self.external_bytes + o.external_bytes,
                       self.internal_bytes + o.internal_bytes, self.requests + o.requests,
                       _add_counts(self.ops, o.ops))

    def scaled(self, f: float) -> "MemCost":
        """The cost of ``f`` identical copies run one after the other."""
        return MemCost(self.cycles * f, {k: v * f for k, v in self.counts.items()},
                       int(round(self.external_bytes * f)), int(round(self.internal_bytes * f)),
                       int(round(self.requests * f)), {k: v * f for k, v in self.ops.items()})

    def on_channels(self, n_ch: int, refreshed_channels: int) -> "MemCost":
        """A stream simulated on one channel standing for the same stream on ``n_ch``
        channels at once: time unchanged, the stream's commands and bytes multiplied.

        Refresh is not the stream's: the engine refreshed all ``refreshed_channels``
        channels of the replayed profile while the stream ran, so its REF / PREA are
        scaled to the ``n_ch`` channels the stream stands for (once per rank and tREFI)."""
        ref = n_ch / max(1, refreshed_channels)

        def scale(d: dict[str, float]) -> dict[str, float]:
            return {k: v * (ref if k in REFRESH_COMMANDS else n_ch) for k, v in d.items()}

        return MemCost(self.cycles, scale(self.counts), self.external_bytes * n_ch,
                       self.internal_bytes * n_ch, self.requests * n_ch, scale(self.ops))

    def refresh_share(self, f: float) -> MemCost:
        """The stream with only ``f`` of the refreshes the engine issued during it (the
        part of the ranks' time that belongs to this stream)."""
        def scale(d: dict[str, float]) -> dict[str, float]:
            return {k: v * (f if k in REFRESH_COMMANDS else 1.0) for k, v in d.items()}

        return MemCost(self.cycles, scale(self.counts), self.external_bytes,
                       self.internal_bytes, self.requests, scale(self.ops))

    def alongside(self, o: "MemCost") -> "MemCost":
        """This stream and ``o`` running at the same time on separate paths of the same
        ranks: times overlap, and the ranks' refreshes during the overlap are counted
        once (the larger count of the two replays)."""
        m = self + o
        m.cycles = max(self.cycles, o.cycles)
        for d, a, b in ((m.counts, self.counts, o.counts), (m.ops, self.ops, o.ops)):
            for k in REFRESH_COMMANDS:
                if k in d:
                    d[k] = max(a.get(k, 0.0), b.get(k, 0.0))
        return m


@dataclass
class KernelCost:
    """What running one kernel costs, before scheduling (start/end come from the engine).

    ``time_ns`` is the whole kernel. ``channel_hold`` says when it holds its memory
    channels: ``whole`` (its whole time: bank-level PIM), ``memory`` (``dram_ns`` after
    ``launch_ns``; host kernels compute the rest with the channels free), ``copies`` (its
    host->PIM and PIM->host copies, ``copy_ns``, at its start and end: DPUs work on their
    own banks in between)."""

    name: str
    op: str
    placement: str
    unit: str
    channels: tuple[int, ...]
    time_ns: float
    dram_ns: float
    compute_ns: float
    counts: dict[str, float]
    external_bytes: int
    internal_bytes: int
    flops: int
    energy: EnergyBreakdown
    fallback: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    #: Part of ``time_ns`` before the kernel touches memory (a host kernel's launch).
    launch_ns: float = 0.0
    channel_hold: Literal["whole", "memory", "copies"] = "whole"
    copy_ns: tuple[float, float] = (0.0, 0.0)

    @property
    def energy_pj(self) -> dict[str, float]:
        """The energy by component (:data:`pimsim.energy.ENERGY_COMPONENTS`, the trace's
        energy columns)."""
        return {name: float(getattr(self.energy, name)) for name in ENERGY_COMPONENTS}


def memory_only(profile: Profile) -> Profile:
    """The profile without its host and pim sections: what the DRAM engine replays on
    (it reads the memory's organisation, timing and controller only)."""
    if profile.pim is None and profile.host is None:
        return profile
    return profile.model_copy(update={"pim": None, "host": None})


def replay_stream(
    profile: Profile,
    addresses: np.ndarray,
    is_write: np.ndarray | bool = False,
    flags: np.ndarray | int | None = None,
    repeat: float = 1.0,
) -> MemCost:
    """Replay a request stream (all due at cycle 0) and return its cost.

    ``repeat`` > 1 stands for the stream run ``repeat`` times back to back: the stream is
    replayed k and 2k times (k copies cover two refresh intervals), and the cost
    extrapolated linearly from the difference (the steady state of a periodic stream), so
    long repeated streams cost two replays.
    """
    addr = np.ascontiguousarray(addresses, dtype=np.uint64)
    n = addr.size
    if n == 0:
        return MemCost()
    memory = memory_only(profile)
    w = np.broadcast_to(np.asarray(is_write, dtype=np.bool_), (n,)).copy()
    fl = None
    if flags is not None:
        fl = np.broadcast_to(np.asarray(flags, dtype=np.uint8), (n,)).copy()

    def run(k: int) -> MemCost:
        a = np.tile(addr, k)
        arrival = np.zeros(a.size, dtype=np.int64)
        res = run_requests(memory, a, np.tile(w, k), arrival,
                           flags=None if fl is None else np.tile(fl, k))
        counts = {str(c): float(v) for c, v in dict(res.command_counts).items()}
        # energy is charged per bank operation, except rank-wide REF / PREA (per command)
        ops = {str(c): float(v) for c, v in dict(res.bank_ops).items()
               if c not in _PER_COMMAND} or {k: v for k, v in counts.items()}
        for c in _PER_COMMAND:
            if c in counts:
                ops[c] = counts[c]
        ext = int(res.bytes_read) + int(res.bytes_written)
        return MemCost(float(res.total_cycles), counts, ext, int(res.internal_bytes), a.size,
                       ops)

    one = run(1)
    if repeat <= 1.0:
        return one
    k = max(1, int(np.ceil(2.0 * profile.timing.tREFI / max(one.cycles, 1.0))))
    if 2 * k >= repeat:
        return run(int(np.ceil(repeat)))
    first = run(k) if k > 1 else one
    second = run(2 * k)
    step = MemCost(
        max(second.cycles - first.cycles, 0.0),
        _add_counts(second.counts, first.counts, -1.0),
        second.external_bytes - first.external_bytes,
        second.internal_bytes - first.internal_bytes,
        second.requests - first.requests,
        _add_counts(second.ops, first.ops, -1.0),
    ).scaled(1.0 / k)
    return first + step.scaled(repeat - k)


def base_command_counts(profile: Profile, counts: dict[str, float]) -> dict[str, int]:
    """Bank-level operation counts in the energy table's commands.

    An all-bank command (``X_AB``, when given command counts rather than the engine's
    ``bank_ops``) acts on every bank of the rank: it costs ``banks_per_rank`` bank
    commands. Internal column commands (``RDI``, ``WRAI``, ...) keep their names: they
    have their own energy (:func:`internal_command_energies`).
    """
    out: dict[str, float] = {}
    for name, n in counts.items():
        base = name.removesuffix(ALL_BANK_SUFFIX)
        mult = profile.banks_per_rank if is_all_bank(name) else 1
        out[base] = out.get(base, 0.0) + float(n) * mult
    return {k: max(0, int(round(v))) for k, v in out.items()}


def internal_command_energies(profile: Profile, factor: float) -> tuple[dict[str, float],
                                                                         dict[str, str]]:
    """The command-energy table with the internal column commands added, each at
    ``factor`` x the array energy of its external form, and their energy components.

    An external column access's IDD4R/IDD4W increment covers the array, the die's
    global data lines and the read/write path to the I/O (the I/O itself is charged per
    external byte); an internal access feeds a unit beside the bank and stops short of
    that path, hence its own, smaller energy (the factor is a profile's PIM figure)."""
    table = command_energies_pj(profile)
    extra = {internal: table[external] * factor for internal, external in EXTERNAL_OF.items()}
    return (extend_command_energies(table, extra),
            {internal: COMMAND_COMPONENT[external] for internal, external in EXTERNAL_OF.items()})


def mem_energy(profile: Profile, mem: MemCost, channels: int, *,
               internal_factor: float = 1.0) -> EnergyBreakdown:
    """DRAM energy of a replayed stream.

    Background is charged for the ranks of the ``channels`` channels the kernel occupies,
    over the stream's cycles; commands by the engine's bank operations, internal column
    accesses at ``internal_factor`` of their external form's array energy; I/O by
    external bytes.
    """
    counts = base_command_counts(profile, mem.ops)
    table, components = internal_command_energies(profile, internal_factor)
    return dram_energy(profile, counts, int(round(mem.cycles)), int(mem.external_bytes),
                       ranks=max(1, channels) * profile.dram.ranks, table=table,
                       components=components)
