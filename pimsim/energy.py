"""DRAM energy from IDD currents and VDD, the Micron (TN-41-01) / DRAMPower way.

Energies are in pJ: mA x V x ns = pJ, so every cycle count is multiplied by tCK in ns.
(DRAMsim3 multiplies mA x V x cycles and calls it pJ, which is right only where
tCK = 1 ns; pimsim does not copy that.) Currents are per device; a command acts on every
device of a rank, so per-command energies are multiplied by ``devices_per_rank``.

Per-command energies (:func:`command_energies_pj`), a table of command -> pJ:

- ``ACT``: one activate-precharge pair,
  ``VDD x (IDD0 x tRC - (IDD3N x tRAS + IDD2N x (tRC - tRAS))) x tCK``. The whole pair is
  charged at the ACT, as Micron's TN-41-01 (P_ACT covers ACT+PRE) and DRAMsim3 do: every
  row that is opened is closed again, so counting ACTs counts pairs.
- ``PRE``: 0 (its share is in ``ACT``). ``PREA`` = ``PRE`` per open bank, and ``RDA`` /
  ``WRA`` = ``RD`` / ``WR`` + the ``PRE`` share, hence also no extra precharge energy; the
  keys exist so that a different split (DRAMPower's E_act / E_pre) only changes the table.
- ``RD``: ``VDD x (IDD4R - IDD3N) x burst_cycles x tCK``; ``WR`` likewise with IDD4W.
- ``REF``: all-bank refresh, ``VDD x (IDD5AB - IDD3N) x tRFC x tCK``.

Background (:func:`background_energy_pj`): ``VDD x IDD3N x tCK`` per rank per cycle, as
DRAMsim3's ``act_stb`` approximation (active standby all the time), unless the caller
passes ``precharged_rank_cycles`` (rank-cycles with every bank precharged), which are
charged at IDD2N (precharge standby) instead. Refresh and command energies are
increments over this background, so the components add up without double counting.

I/O: ``io_pj_per_bit x 8 x external_bytes`` (bytes that cross the external bus).

The table is a plain dict so that the PIM models can add their own commands (all-bank
PIM column accesses, ...) with :func:`extend_command_energies`, without new code paths.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any
from dataclasses import asdict, dataclass, fields

from pimsim.errors import PimsimError
from pimsim.hw.schema import Profile

#: Command kinds the DRAM engine counts; a missing key in a count mapping means 0.
DRAM_COMMANDS: tuple[str, ...] = ("ACT", "PRE", "PREA", "RD", "WR", "RDA", "WRA", "REF")

#: Which energy component each command's energy is booked to.
COMMAND_COMPONENT: dict[str, str] = {
    "ACT": "act_pj", "PRE": "act_pj", "PREA": "act_pj",
    "RD": "read_pj", "RDA": "read_pj",
    "WR": "write_pj", "WRA": "write_pj",
    "REF": "ref_pj",
}


@dataclass(frozen=True)
class EnergyBreakdown:
    """Energy by component, in pJ: the one set of component names of pimsim.

    ``act_pj`` (ACT+PRE pairs), ``read_pj`` / ``write_pj`` (column reads / writes inside
    the DRAM, internal PIM accesses included), ``ref_pj`` (refresh), ``background_pj``,
    ``io_pj`` (external bus), ``pim_alu_pj`` (PIM unit operations), ``host_pj`` (host cores
    and on-chip data movement), ``host_static_pj`` (the host's static power over elapsed
    time). ReRAM crossbar units (PIM kind ``crossbar``) book their parts separately:
    ``xbar_array_pj`` (the analog reads of the arrays), ``xbar_adc_pj`` and ``xbar_dac_pj``
    (the converters), ``xbar_digital_pj`` (shift-and-add and the tile's digital unit),
    ``xbar_buffer_pj`` (the tile buffers) and ``xbar_program_pj`` (writing the weights
    into the cells, amortised over the profile's stated number of inferences).
    """

    act_pj: float = 0.0
    read_pj: float = 0.0
    write_pj: float = 0.0
    ref_pj: float = 0.0
    background_pj: float = 0.0
    io_pj: float = 0.0
    pim_alu_pj: float = 0.0
    host_pj: float = 0.0
    host_static_pj: float = 0.0
    xbar_array_pj: float = 0.0
    xbar_adc_pj: float = 0.0
    xbar_dac_pj: float = 0.0
    xbar_digital_pj: float = 0.0
    xbar_buffer_pj: float = 0.0
    xbar_program_pj: float = 0.0

    @property
    def total_pj(self) -> float:
        return float(sum(getattr(self, f.name) for f in fields(self)))

    @property
    def crossbar_pj(self) -> float:
        """Energy of ReRAM crossbar units (every ``xbar_*`` part)."""
        return float(sum(getattr(self, name) for name in CROSSBAR_COMPONENTS))

    @property
    def dram_pj(self) -> float:
        """Energy spent in the DRAM devices (everything but PIM units and the host)."""
        return (self.total_pj - self.pim_alu_pj - self.host_pj - self.host_static_pj
                - self.crossbar_pj)

    def as_dict(self) -> dict[str, float]:
        """Components and ``total_pj``, as plain floats."""
        out = {k: float(v) for k, v in asdict(self).items()}
        out["total_pj"] = self.total_pj
        return out

    def __add__(self, other: EnergyBreakdown) -> EnergyBreakdown:
        if not isinstance(other, EnergyBreakdown):
            return NotImplemented
        return EnergyBreakdown(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def scaled(self, factor: float) -> EnergyBreakdown:
        """Every component multiplied by ``factor`` (e.g. per request, per sample)."""
        return EnergyBreakdown(**{f.name: getattr(self, f.name) * factor for f in fields(self)})

    @classmethod
    def zero(cls) -> EnergyBreakdown:
        return cls()


#: The energy components, in :class:`EnergyBreakdown` order.
ENERGY_COMPONENTS: tuple[str, ...] = tuple(f.name for f in fields(EnergyBreakdown))
#: The parts of a ReRAM crossbar unit's energy.
CROSSBAR_COMPONENTS: tuple[str, ...] = tuple(c for c in ENERGY_COMPONENTS
                                             if c.startswith("xbar_"))


def command_energies_pj(profile: Profile) -> dict[str, float]:
    """Energy of one command of each kind on a rank, in pJ (see the module docstring)."""
    p, t = profile.power, profile.timing
    tck_ns = t.tCK_ns
    devices = float(profile.devices_per_rank)
    burst = float(profile.burst_cycles)
    act_pair = p.VDD * (p.IDD0 * t.tRC - (p.IDD3N * t.tRAS + p.IDD2N * (t.tRC - t.tRAS)))
    read = p.VDD * (p.IDD4R - p.IDD3N) * burst
    write = p.VDD * (p.IDD4W - p.IDD3N) * burst
    refresh = p.VDD * (p.IDD5AB - p.IDD3N) * t.tRFC
    pre = 0.0  # the precharge share is charged with ACT (one ACT+PRE pair per ACT)
    table = {
        "ACT": act_pair,
        "PRE": pre,
        "PREA": pre,  # per bank it closes; with pre = 0 the number of open banks is moot
        "RD": read,
        "WR": write,
        "RDA": read + pre,
        "WRA": write + pre,
        "REF": refresh,
    }
    return {k: v * tck_ns * devices for k, v in table.items()}


def extend_command_energies(
    table: Mapping[str, float], extra: Mapping[str, float]
) -> dict[str, float]:
    """A new table with ``extra`` commands added (or overriding), values in pJ."""
    for key, value in extra.items():
        if not isinstance(value, (int, float)) or value < 0:
            raise PimsimError(
                f"energy table: command {key!r} = {value!r}: not a non-negative number of pJ; "
                "accepted: a number >= 0"
            )
    return {**table, **{k: float(v) for k, v in extra.items()}}


def background_power_mw(profile: Profile, precharged: bool = False) -> float:
    """Background power of one rank in mW (= pJ/ns): VDD x IDD3N (or IDD2N) x devices."""
    p = profile.power
    current_ma = p.IDD2N if precharged else p.IDD3N
    return p.VDD * current_ma * profile.devices_per_rank


def background_energy_pj(
    profile: Profile,
    elapsed_cycles: int,
    ranks: int | None = None,
    precharged_rank_cycles: int = 0,
) -> float:
    """Background energy of ``ranks`` ranks (default: all ranks of all channels).

    ``precharged_rank_cycles`` (summed over ranks) are charged at IDD2N, the rest of the
    ``ranks x elapsed_cycles`` rank-cycles at IDD3N.
    """
    n_ranks = profile.dram.channels * profile.dram.ranks if ranks is None else ranks
    _check_count("elapsed_cycles", elapsed_cycles)
    _check_count("ranks", n_ranks)
    _check_count("precharged_rank_cycles", precharged_rank_cycles)
    rank_cycles = n_ranks * elapsed_cycles
    if precharged_rank_cycles > rank_cycles:
        raise PimsimError(
            f"energy: precharged_rank_cycles = {precharged_rank_cycles}: more than ranks x "
            f"elapsed_cycles = {rank_cycles}; accepted: 0 .. {rank_cycles}"
        )
    tck = profile.timing.tCK_ns
    active = rank_cycles - precharged_rank_cycles
    return (
        background_power_mw(profile) * active
        + background_power_mw(profile, precharged=True) * precharged_rank_cycles
    ) * tck


def standalone_energy_pj(cost: Any, profile: Profile) -> float:
    """The system's energy while one kernel (a ``KernelCost``) runs alone: its own energy
    with its background replaced by the whole memory's background over its time (at least
    its own) and its host static energy by the host's static power over its time (at least
    its own), so that a slow kernel pays for the memory and the host idling around it, as
    the engine books them over a schedule's idle time."""
    time_ns = float(cost.time_ns)
    energy = float(cost.energy.total_pj)
    own = float(cost.energy.background_pj)
    whole = background_energy_pj(profile, int(round(time_ns / profile.timing.tCK_ns)))
    energy += max(0.0, whole - own)
    if profile.host is not None:
        static = profile.host.static_pj(time_ns)
        energy += max(0.0, static - float(cost.energy.host_static_pj))
    return energy


def io_energy_pj(profile: Profile, external_bytes: int) -> float:
    """Energy of moving ``external_bytes`` over the external data bus."""
    _check_count("external_bytes", external_bytes)
    return profile.power.io_pj_per_bit * 8.0 * external_bytes


def _check_count(name: str, value: object) -> int:
    """``value`` as an int >= 0 (Python or numpy integer), else a PimsimError."""
    if isinstance(value, bool):
        value_int = None
    else:
        try:
            value_int = operator.index(value)  # type: ignore[arg-type]
        except TypeError:
            value_int = None
    if value_int is None:
        raise PimsimError(f"energy: {name} = {value!r}: not an integer; accepted: an integer >= 0")
    if value_int < 0:
        raise PimsimError(f"energy: {name} = {value!r}: negative; accepted: an integer >= 0")
    return value_int


def dram_energy(
    profile: Profile,
    command_counts: Mapping[str, int],
    elapsed_cycles: int,
    external_bytes: int,
    ranks: int | None = None,
    precharged_rank_cycles: int = 0,
    table: Mapping[str, float] | None = None,
    components: Mapping[str, str] | None = None,
) -> EnergyBreakdown:
    """Energy of a replay: commands issued, background over ``elapsed_cycles``, and I/O.

    ``command_counts`` uses the keys of ``table`` (default :func:`command_energies_pj`:
    ACT, PRE, PREA, RD, WR, RDA, WRA, REF); a missing key counts 0, an unknown key is an
    error. ``ranks`` is the number of ranks that pay background power (default: every rank
    of the profile). ``components`` maps extra commands (added by the PIM models) to an
    EnergyBreakdown field, over :data:`COMMAND_COMPONENT`; commands in neither are booked
    to ``pim_alu_pj``.
    """
    energies = dict(command_energies_pj(profile) if table is None else table)
    booking = {**COMMAND_COMPONENT, **(components or {})}
    parts = {"act_pj": 0.0, "read_pj": 0.0, "write_pj": 0.0, "ref_pj": 0.0, "pim_alu_pj": 0.0,
             "host_pj": 0.0}
    for command, component in booking.items():
        if component not in parts:
            raise PimsimError(
                f"energy: command {command!r} booked to {component!r}; accepted: "
                f"{', '.join(parts)}"
            )
    for command, count in command_counts.items():
        if command not in energies:
            raise PimsimError(
                f"energy: command {command!r} (count {count}): no energy for it; accepted: "
                f"{', '.join(energies)}"
            )
        n = _check_count(f"command_counts[{command!r}]", count)
        parts[booking.get(command, "pim_alu_pj")] += energies[command] * n
    return EnergyBreakdown(
        act_pj=parts["act_pj"],
        read_pj=parts["read_pj"],
        write_pj=parts["write_pj"],
        ref_pj=parts["ref_pj"],
        background_pj=background_energy_pj(profile, elapsed_cycles, ranks, precharged_rank_cycles),
        io_pj=io_energy_pj(profile, external_bytes),
        pim_alu_pj=parts["pim_alu_pj"],
        host_pj=parts["host_pj"],
    )
