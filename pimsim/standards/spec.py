"""The vocabulary of a DRAM standard, and the read-only registry of standards.

A :class:`Standard` is data in the manner of Ramulator 2: its hierarchy levels, its
commands, the timing parameters a profile must give, the :class:`TimingConstraint` rows
between commands and the consistency rules between parameters. Each standard lives in its
own module of :mod:`pimsim.standards` as a module-level ``STANDARD``;
:func:`discover_standards` finds them, so adding a standard is adding one file.

Meaning of a constraint row (Ramulator 2 semantics): after a ``preceding`` command to a
node of ``level`` (a bank, a bank group, a rank or a channel), a ``following`` command to
the same node (``sibling=False``) or to another node under the same parent
(``sibling=True``, e.g. another rank of the channel) must wait ``latency`` cycles. With
``window=W > 1`` the following command waits ``latency`` after the W-th most recent
preceding command (tFAW: four activations per window per rank). ``data_bus=True`` marks a
row that exists only because the command moves data over the channel's external data bus
(burst spacing, read/write turnaround, rank switching): PIM column commands that stay
inside the device are exempt from exactly those rows (see :mod:`pimsim.standards.pim`).
Latencies are timing names or small expressions of them (``"CL + burst + tRTRS - CWL"``,
``max(a, b)``; ``burst`` is the profile's data-bus cycles per burst).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType, ModuleType

from pimsim.errors import PimsimError, ProfileError

#: Timing names that the engine, the energy model and the profile summary read from every
#: profile (pimsim.dram: CL, CWL, tREFI; pimsim.energy: tRC, tRAS, tRFC; the row-miss
#: latency of the summary: tRCD_RD, CL; the refresh derating: tRFC, tREFI), so every
#: standard declares them.
REQUIRED_TIMING_NAMES: tuple[str, ...] = (
    "CL", "CWL", "tRCD_RD", "tRP", "tRAS", "tRC", "tRFC", "tREFI",
)

#: Comparison operators a :class:`TimingRule` may use, with the word its message uses.
RULE_OPERATORS: dict[str, str] = {">=": "less than", ">": "not greater than"}


@dataclass(frozen=True)
class TimingConstraint:
    """One timing rule: ``following`` waits ``latency`` after ``preceding`` at ``level``."""

    level: str
    preceding: tuple[str, ...]
    following: tuple[str, ...]
    latency: str
    window: int = 1
    sibling: bool = False
    data_bus: bool = False


@dataclass(frozen=True)
class CommandSpec:
    """A command of a standard.

    ``role`` says what the command does to the bank state machine and which queue item it
    serves: ``act`` opens a row, ``pre`` closes one, ``prea`` closes all banks of a rank,
    ``ref`` refreshes a rank, ``rd``/``wr`` are column accesses. ``scope`` is ``bank`` or
    ``rank``. ``auto_precharge`` closes the row after the access; ``internal`` column
    accesses do not use the external data bus.
    """

    name: str
    role: str
    scope: str = "bank"
    auto_precharge: bool = False
    internal: bool = False

    @property
    def is_column(self) -> bool:
        return self.role in ("rd", "wr")


@dataclass(frozen=True)
class TimingParam:
    """A timing parameter a profile gives, in memory-clock cycles, with its smallest value."""

    name: str
    doc: str
    minimum: int = 1


@dataclass(frozen=True)
class TimingRule:
    """A consistency rule between timing parameters: ``key op expr`` must hold."""

    key: str
    op: str
    expr: str


@dataclass(frozen=True)
class Dramsim3Dialect:
    """How DRAMsim3 (src/configuration.cc, InitDRAMParams) reads this standard's .ini.

    ``protocols``: the ``[dram_structure] protocol`` names. ``data_rate``: transfers per
    memory clock as DRAMsim3 times a burst (burst_cycle = BL / data_rate). ``column_scale``:
    what one .ini column is in device columns (``"1"``, ``"2"`` for HBM's prefetch, ``"BL"``
    for GDDR). ``split_rcd``: tRCDRD / tRCDWR instead of one tRCD. ``io_pj_per_bit``: the
    I/O energy an import fills in (DRAMsim3 files carry none), with its source in the
    standard's module.
    """

    protocols: tuple[str, ...]
    data_rate: int
    column_scale: str
    split_rcd: bool
    io_pj_per_bit: float


@dataclass(frozen=True)
class Standard:
    """A DRAM standard: levels, commands, timing names, constraints and rules."""

    name: str
    #: hierarchy levels, outermost first
    levels: tuple[str, ...]
    commands: tuple[CommandSpec, ...]
    #: the integer timing parameters a profile of this standard gives (tCK_ns aside)
    timing: tuple[TimingParam, ...]
    constraints: tuple[TimingConstraint, ...]
    rules: tuple[TimingRule, ...] = ()
    #: separate row and column command buses (HBM, JESD235): per cycle one row command
    #: (ACT/PRE/REF) and one column command (RD/WR) may issue on a channel.
    dual_command_bus: bool = False
    #: row-hit cap of the FR-FCFS scheduler (DRAMsim3: 4 hits before a waiting conflict).
    row_hit_cap: int = 4
    dramsim3: Dramsim3Dialect | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        missing = [n for n in REQUIRED_TIMING_NAMES if n not in self.timing_names]
        if missing:
            raise PimsimError(
                f"standard {self.name}: timing names {', '.join(missing)} missing; accepted: a "
                f"standard declaring all of {', '.join(REQUIRED_TIMING_NAMES)}"
            )
        for rule in self.rules:
            if rule.op not in RULE_OPERATORS or rule.key not in self.timing_names:
                raise PimsimError(
                    f"standard {self.name}: rule {rule.key} {rule.op} {rule.expr}: accepted: "
                    f"a declared timing name and one of {', '.join(RULE_OPERATORS)}"
                )

    @property
    def command_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.commands)

    @property
    def timing_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.timing)

    def command(self, name: str) -> CommandSpec:
        for c in self.commands:
            if c.name == name:
                return c
        raise PimsimError(
            f"standard {self.name}: unknown command {name!r}; accepted: "
            f"{', '.join(self.command_names)}"
        )


class StandardRegistry(Mapping[str, Standard]):
    """A read-only mapping name -> :class:`Standard`; lookups ignore case."""

    def __init__(self, standards: Iterable[Standard]) -> None:
        table: dict[str, Standard] = {}
        for std in standards:
            if std.name.upper() in (k.upper() for k in table):
                raise PimsimError(f"standard {std.name}: declared twice; accepted: unique names")
            table[std.name] = std
        self._table = MappingProxyType(table)

    @classmethod
    def from_modules(cls, modules: Iterable[ModuleType]) -> StandardRegistry:
        """The standards of the modules that define a module-level ``STANDARD``."""
        return cls(m.STANDARD for m in modules if isinstance(getattr(m, "STANDARD", None),
                                                            Standard))

    def __getitem__(self, name: str) -> Standard:
        for key, std in self._table.items():
            if key.upper() == str(name).upper():
                return std
        raise ProfileError(
            f"dram.standard: unknown standard {name!r}; accepted: {', '.join(self._table)}"
        )

    def get(  # type: ignore[override]
        self, name: str, default: Standard | None = None
    ) -> Standard | None:
        """The standard called ``name`` (any case), else ``default``."""
        return self[name] if name in self else default

    def __contains__(self, name: object) -> bool:
        return str(name).upper() in (k.upper() for k in self._table)

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def by_dramsim3_protocol(self) -> dict[str, Standard]:
        """DRAMsim3 protocol name -> standard, from each standard's :class:`Dramsim3Dialect`."""
        return {p: s for s in self._table.values() if s.dramsim3 for p in s.dramsim3.protocols}


def discover_standards(package: ModuleType) -> StandardRegistry:
    """The registry of every module of ``package`` that defines a ``STANDARD``.

    The modules are found with :mod:`pkgutil` and imported by name (the plug-in mechanism
    that makes a new standard one new file); they are sorted, so the order is stable.
    """
    modules = [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name)
        if not info.ispkg
    ]
    return StandardRegistry.from_modules(modules)
