"""The typed hardware profile: DRAM organisation, timing, power, controller, host and PIM.

A profile is data (YAML in ``hw_profiles/``); the rules of each DRAM standard live in
:mod:`pimsim.standards`. ``dram.standard`` names a registered standard, and ``timing``
gives exactly that standard's timing names (in memory-clock cycles) plus ``tCK_ns``; the
standard's consistency rules (tRC >= tRAS + tRP, ...) are checked on them. Currents are in
mA (per device), voltages in V, I/O energy in pJ per bit. Consistency rules between fields
are model validators, so they also hold for profiles built in Python; they raise
:class:`~pimsim.util.validation.KeyProblems`, which :mod:`pimsim.util.validation` turns
into ``FILE:LINE: key = value: problem; accepted: ...`` messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pimsim.hw.host import HostSection
from pimsim.hw.pim import PimSection
from pimsim.standards import STANDARDS, Standard, StandardRegistry, eval_latency
from pimsim.standards.spec import RULE_OPERATORS
from pimsim.util.validation import KeyProblem, KeyProblems, StrictModel

#: The six address-mapping fields of DRAMsim3 (row, rank, bank group, bank, channel,
#: column); an ``address_mapping`` string is a permutation of them, most significant first.
ADDRESS_FIELDS: tuple[str, ...] = ("ro", "ra", "bg", "ba", "ch", "co")


#: The validation-context key of a :class:`StandardRegistry` to check ``dram.standard``
#: and ``timing`` against instead of :data:`pimsim.standards.STANDARDS`.
STANDARDS_CONTEXT_KEY = "standards"


def _registry(info: ValidationInfo) -> StandardRegistry:
    context = info.context if isinstance(info.context, Mapping) else {}
    return context.get(STANDARDS_CONTEXT_KEY, STANDARDS)


def _is_pow2(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


def _require_multiple(key: str, value: int, of: str, base: int) -> None:
    if value % base:
        raise KeyProblems.one(key, value, f"not a multiple of {of} ({base})",
                              f"a multiple of {base}")


class DramOrg(StrictModel):
    """Organisation of the memory system (per channel unless said otherwise)."""

    standard: str = Field(description="a standard of pimsim.standards")
    channels: int = Field(ge=1, le=1024)
    ranks: int = Field(ge=1, le=16, description="ranks per channel")
    bankgroups: int = Field(ge=1, le=16)
    banks_per_group: int = Field(ge=1, le=64)
    rows: int = Field(ge=1, description="rows per bank")
    columns: int = Field(ge=1, description="columns per row (device columns)")
    device_width: int = Field(ge=1, description="DQ bits of one device")
    bus_width: int = Field(ge=1, description="data bus bits of one channel")
    burst_length: int = Field(ge=1, description="BL: transfers per column access")
    data_rate: int = Field(
        default=2, ge=1, le=16, description="data transfers per memory clock on the bus (DDR: 2)"
    )

    @field_validator("standard")
    @classmethod
    def _registered(cls, value: str, info: ValidationInfo) -> str:
        registry = _registry(info)
        if value not in tuple(registry):
            names = ", ".join(repr(n) for n in registry)
            raise KeyProblems([KeyProblem((), "unknown standard", f"one of {names}")])
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DramOrg:
        _require_multiple("bus_width", self.bus_width, "device_width", self.device_width)
        _require_multiple("burst_length", self.burst_length, "data_rate", self.data_rate)
        _require_multiple("columns", self.columns, "burst_length", self.burst_length)
        # The address mapping slices bit fields: every field count must be a power of two.
        for key in ("channels", "ranks", "bankgroups", "banks_per_group", "rows"):
            value = getattr(self, key)
            if not _is_pow2(value):
                raise KeyProblems.one(
                    key, value, "not a power of two (the address mapping uses bit fields)",
                    "1, 2, 4, 8, ...",
                )
        if not _is_pow2(self.columns // self.burst_length):
            raise KeyProblems.one(
                "columns", self.columns,
                f"columns / burst_length = {self.columns // self.burst_length} is not a power "
                "of two (the address mapping uses bit fields)",
                f"burst_length ({self.burst_length}) x a power of two",
            )
        transaction_bytes = self.bus_width * self.burst_length // 8
        if self.bus_width * self.burst_length % 8 or not _is_pow2(transaction_bytes):
            raise KeyProblems.one(
                "bus_width", self.bus_width,
                f"bus_width x burst_length / 8 = {self.bus_width * self.burst_length / 8:g} "
                "bytes per transaction is not a power of two",
                "a bus width that makes bus_width x burst_length / 8 a power of two",
            )
        return self


class Timing(BaseModel):
    """``tCK_ns`` in ns, and the timing names of the profile's standard in memory-clock
    cycles (which names, and their rules, are checked by :class:`Profile`)."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)
    __pydantic_extra__: dict[str, int]

    tCK_ns: float = Field(gt=0, le=100)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            bad = [KeyProblem((k,), "a boolean where a number is expected", "a number")
                   for k, v in data.items() if isinstance(v, bool)]
            if bad:
                raise KeyProblems(bad)
        return data

    def cycles(self) -> dict[str, int]:
        """The timing values in cycles (every key but ``tCK_ns``)."""
        return dict(self.model_extra or {})


def timing_problems(std: Standard, timing: Timing) -> list[KeyProblem]:
    """What is wrong with ``timing`` for ``std``: unknown, missing or too small values
    first; else the first broken consistency rule."""
    given = timing.cycles()
    names = std.timing_names
    accepted = f"the keys tCK_ns, {', '.join(names)} (standard {std.name})"
    problems = [KeyProblem(("timing", k), "unknown key", accepted, v)
                for k, v in given.items() if k not in names]
    for p in std.timing:
        if p.name not in given:
            problems.append(KeyProblem(("timing", p.name), "missing key",
                                       f"a value for it ({p.doc}, in cycles)"))
        elif given[p.name] < p.minimum:
            problems.append(KeyProblem(
                ("timing", p.name), f"input should be greater than or equal to {p.minimum}",
                f">= {p.minimum}", given[p.name]))
    if problems:
        return problems
    for rule in std.rules:
        bound = eval_latency(rule.expr, given)
        value = given[rule.key]
        if not (value >= bound if rule.op == ">=" else value > bound):
            return [KeyProblem(("timing", rule.key),
                               f"{RULE_OPERATORS[rule.op]} {rule.expr} = {bound}",
                               f"{rule.op} {bound}", value)]
    return []


class Power(StrictModel):
    """Supply voltage, IDD currents (mA, per device) and I/O energy."""

    VDD: float = Field(gt=0, le=5)
    IDD0: float = Field(gt=0)
    IDD2N: float = Field(gt=0)
    IDD3N: float = Field(gt=0)
    IDD4R: float = Field(gt=0)
    IDD4W: float = Field(gt=0)
    IDD5AB: float = Field(gt=0)
    IDD2P: float | None = Field(default=None, gt=0)
    IDD3P: float | None = Field(default=None, gt=0)
    IDD6x: float | None = Field(default=None, gt=0)
    io_pj_per_bit: float = Field(ge=0, description="energy per bit moved on the external bus")

    @model_validator(mode="after")
    def _consistent(self) -> Power:
        for key in ("IDD4R", "IDD4W", "IDD5AB", "IDD0"):
            value = getattr(self, key)
            if value < self.IDD3N:
                raise KeyProblems.one(
                    key, value, f"less than IDD3N = {self.IDD3N} (negative command energy)",
                    f">= {self.IDD3N}",
                )
        return self


class Controller(StrictModel):
    """Memory controller: address mapping, page policy, queues, scheduler, write buffer.

    ``write_queue``: ``buffered`` keeps writes in a per-channel write buffer beside the
    read (transaction) queue and drains them in batches; ``unified`` sends them through
    the transaction queue in order with the reads. The defaults are DRAMsim3's
    (src/controller.cc and configuration.cc): a buffer as large as the transaction queue
    (``write_buffer_size`` absent), ``unified_queue = false``, and a drain that starts when
    the buffer is full or holds more than 8 writes while the command queues are empty (a
    threshold at or above the buffer's size: only a full buffer drains).
    """

    address_mapping: str = Field(description="DRAMsim3 field string, e.g. rorabgbachco")
    page_policy: Literal["open", "close"] = "open"
    queue_structure: Literal["per_bank", "shared"] = "per_bank"
    trans_queue_size: int = Field(default=32, ge=1, le=4096)
    cmd_queue_size: int = Field(default=8, ge=1, le=4096)
    scheduler: Literal["frfcfs", "fcfs"] = "frfcfs"
    write_queue: Literal["buffered", "unified"] = "buffered"
    write_buffer_size: int | None = Field(
        default=None, ge=1, le=4096, description="write-buffer entries per channel "
        "(absent: trans_queue_size, as DRAMsim3)")
    write_drain_threshold: int = Field(
        default=8, ge=0, le=4096, description="writes above which an idle command queue "
        "starts a drain (DRAMsim3 controller.cc: 8)")

    @property
    def write_buffer_entries(self) -> int:
        """Write-buffer entries per channel; 0 when writes share the transaction queue."""
        if self.write_queue == "unified":
            return 0
        return self.write_buffer_size if self.write_buffer_size is not None \
            else self.trans_queue_size

    @model_validator(mode="after")
    def _consistent(self) -> Controller:
        mapping = self.address_mapping
        fields = [mapping[i : i + 2] for i in range(0, len(mapping), 2)]
        if len(mapping) != 12 or sorted(fields) != sorted(ADDRESS_FIELDS):
            raise KeyProblems.one(
                "address_mapping", mapping,
                "not a permutation of the six two-letter fields",
                "a 12-letter string using each of ro ra bg ba ch co once, "
                "most significant first, e.g. 'rorabgbachco'",
            )
        return self


class Profile(StrictModel):
    """A whole hardware profile; ``host`` and ``pim`` are the sections of
    :mod:`pimsim.hw.pim`."""

    name: str = Field(min_length=1)
    description: str = ""
    dram: DramOrg
    timing: Timing
    power: Power
    controller: Controller
    host: HostSection | None = None
    pim: PimSection | None = None

    @model_validator(mode="after")
    def _timing_of_the_standard(self, info: ValidationInfo) -> Profile:
        problems = timing_problems(_registry(info)[self.dram.standard], self.timing)
        if problems:
            raise KeyProblems(problems)
        return self

    # --- derived quantities (no state; computed from the fields) ---------------------
    @property
    def banks_per_rank(self) -> int:
        return self.dram.bankgroups * self.dram.banks_per_group

    @property
    def devices_per_rank(self) -> int:
        return max(1, self.dram.bus_width // self.dram.device_width)

    @property
    def burst_cycles(self) -> int:
        """Data-bus cycles of one burst: BL / data_rate."""
        return max(1, self.dram.burst_length // self.dram.data_rate)

    @property
    def transaction_bytes(self) -> int:
        """Bytes of one column access on the channel: bus_width / 8 x BL."""
        return self.dram.bus_width // 8 * self.dram.burst_length

    @property
    def peak_bandwidth_gbps(self) -> float:
        """Peak external bandwidth in GB/s (1e9 bytes/s) over all channels."""
        bytes_per_cycle = self.dram.bus_width / 8 * self.dram.data_rate
        return self.dram.channels * bytes_per_cycle / self.timing.tCK_ns

    @property
    def row_bytes(self) -> int:
        """Bytes of one row across the rank (page size x devices per rank)."""
        return self.dram.columns * self.dram.bus_width // 8

    @property
    def capacity_bytes(self) -> int:
        """Total capacity: channels x ranks x banks x rows x row bytes."""
        d = self.dram
        return d.channels * d.ranks * self.banks_per_rank * d.rows * self.row_bytes

    @property
    def refresh_derated_peak_gbps(self) -> float:
        """Peak bandwidth less the share of time all-bank refresh blocks a rank."""
        t = self.timing
        return self.peak_bandwidth_gbps * (1.0 - t.tRFC / t.tREFI)

    def summary(self) -> dict[str, Any]:
        """A short dict that people read (used by ``pimsim profile check``)."""
        d, t = self.dram, self.timing
        return {
            "name": self.name,
            "standard": d.standard,
            "channels": d.channels,
            "ranks_per_channel": d.ranks,
            "banks_per_rank": self.banks_per_rank,
            "devices_per_rank": self.devices_per_rank,
            "capacity_gib": self.capacity_bytes / 2**30,
            "tCK_ns": t.tCK_ns,
            "transaction_bytes": self.transaction_bytes,
            "burst_cycles": self.burst_cycles,
            "peak_bandwidth_gbps": self.peak_bandwidth_gbps,
            "refresh_derated_peak_gbps": self.refresh_derated_peak_gbps,
            "row_miss_read_latency_ns": (t.tRCD_RD + t.CL + self.burst_cycles) * t.tCK_ns,
            "address_mapping": self.controller.address_mapping,
            "page_policy": self.controller.page_policy,
        }
