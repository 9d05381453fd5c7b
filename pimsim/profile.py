"""Typed hardware profiles: DRAM organisation, timing, power, controller, host and PIM.

A profile is data (YAML in ``hw_profiles/``); the rules of each DRAM standard live in
``pimsim.standards``. Timing values are in memory-clock cycles except ``tCK_ns``.
Currents are in mA, voltages in V, I/O energy in pJ per bit.

This module is the bottom of pimsim's import graph: it imports nothing from pimsim but
``pimsim.errors``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    """Base model: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class DramOrg(_Strict):
    """Organisation of the memory system (per channel unless said otherwise)."""

    standard: Literal["DDR4", "HBM2", "GDDR6"]
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


class Timing(_Strict):
    """Timing parameters: tCK in ns, everything else in memory-clock cycles."""

    tCK_ns: float = Field(gt=0)
    CL: int = Field(ge=1)
    CWL: int = Field(ge=1)
    tRCD_RD: int = Field(ge=1)
    tRCD_WR: int = Field(ge=1)
    tRP: int = Field(ge=1)
    tRAS: int = Field(ge=1)
    tRC: int = Field(ge=1)
    tCCD_S: int = Field(ge=1)
    tCCD_L: int = Field(ge=1)
    tRRD_S: int = Field(ge=1)
    tRRD_L: int = Field(ge=1)
    tFAW: int = Field(ge=1)
    tWR: int = Field(ge=1)
    tWTR_S: int = Field(ge=1)
    tWTR_L: int = Field(ge=1)
    tRTP: int = Field(ge=1)
    tRTRS: int = Field(ge=0, description="rank-to-rank switch")
    tRFC: int = Field(ge=1)
    tREFI: int = Field(ge=1)


class Power(_Strict):
    """Supply voltage, IDD currents (mA, per device) and I/O energy."""

    VDD: float = Field(gt=0)
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


class Controller(_Strict):
    """Memory controller: address mapping, page policy, queues, scheduler."""

    address_mapping: str = Field(description="DRAMsim3 field string, e.g. rorabgbachco")
    page_policy: Literal["open", "close"] = "open"
    queue_structure: Literal["per_bank", "shared"] = "per_bank"
    trans_queue_size: int = Field(default=32, ge=1, le=4096)
    cmd_queue_size: int = Field(default=8, ge=1, le=4096)
    scheduler: Literal["frfcfs", "fcfs"] = "frfcfs"


class Profile(_Strict):
    """A whole hardware profile. ``host`` and ``pim`` are filled by the PIM issue."""

    name: str
    description: str = ""
    dram: DramOrg
    timing: Timing
    power: Power
    controller: Controller
    host: dict[str, Any] | None = None
    pim: dict[str, Any] | None = None

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
