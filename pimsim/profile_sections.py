"""Typed ``host`` and ``pim`` sections of a hardware profile.

``pimsim.profile.Profile`` holds one :class:`HostSection` and, on PIM profiles, one
:class:`PimSection`. Both are pydantic models at the input boundary: unknown keys, wrong
types and values out of range are rejected with the key path. Every figure in a YAML
profile carries its source in a comment and, for the numbers the model uses, in the
``sources`` mapping (field name -> citation or estimate reasoning) so that the provenance
travels with the data (Accelergy style).

This module sits at the bottom of pimsim's import graph beside ``profile``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DType = Literal["fp32", "fp16", "bf16", "int32", "int8"]

#: Bytes of one element of each data type.
DTYPE_BYTES: dict[str, int] = {"fp32": 4, "fp16": 2, "bf16": 2, "int32": 4, "int8": 1}

PimKind = Literal["bank_simd", "bank_mac", "buffer_nmp", "dpu"]
KernelOp = Literal["embedding_bag", "gemm", "interaction", "elementwise", "transfer"]

#: Knobs of a PIM section that the co-design search may vary, and the field they set.
SEARCHABLE_KNOBS: frozenset[str] = frozenset({"units_per_channel", "channels_used", "dtype"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class LlcSection(_Strict):
    """A last-level cache in front of the DRAM that keeps whole embedding rows (LRU by row)."""

    capacity_bytes: int = Field(gt=0)
    line_bytes: int = Field(default=64, gt=0, description="cache line; rows occupy whole lines")
    policy: Literal["lru_row"] = "lru_row"


class HostSection(_Strict):
    """The host processor as a roofline on top of the profile's DRAM."""

    peak_gflops: float = Field(gt=0, description="peak FP32 GFLOP/s of the cores used")
    cores: int = Field(ge=1)
    llc: LlcSection | None = None
    pj_per_flop: float = Field(ge=0, description="core energy per FLOP")
    pj_per_byte: float = Field(
        ge=0, description="on-chip energy per byte moved between DRAM interface and cores"
    )
    sources: dict[str, str] = Field(default_factory=dict)

    def compute_ns(self, flops: float) -> float:
        """Roofline compute time of ``flops`` at the peak rate."""
        return float(flops) / self.peak_gflops


class PimSection(_Strict):
    """One kind of PIM unit replicated over the memory.

    ``units_per_channel`` counts units that each read ``access_bytes`` per internal column
    access (bank kinds) or one unit per rank (``buffer_nmp``) or one DPU per MRAM bank
    (``dpu``). The ALU of a unit has ``lanes`` lanes at ``clock_mhz`` and completes one
    operation per lane per ``cycles_per_op[dtype]`` cycles (1 when absent).
    """

    kind: PimKind
    unit_level: Literal["bank", "rank"]
    units_per_channel: int = Field(ge=1)
    max_units_per_channel: int = Field(ge=1, description="units the silicon has per channel")
    channels_used: int | None = Field(default=None, ge=1, description="None: every channel")
    lanes: int = Field(ge=1)
    clock_mhz: float = Field(gt=0)
    access_bytes: int = Field(ge=1, description="bytes a unit reads per internal access")
    dtypes: list[DType] = Field(min_length=1)
    dtype: DType
    cycles_per_op: dict[str, float] = Field(
        default_factory=dict,
        description="ALU cycles per lane op, keys '<dtype>_add' / '<dtype>_mac' (emulated "
        "floats on a dpu); absent keys cost 1 cycle",
    )
    alu_pj_per_op: float = Field(ge=0, description="energy of one lane operation (MAC = 1 op)")
    alu_energy_note: str = Field(min_length=1, description="where alu_pj_per_op comes from")
    supported_ops: list[KernelOp] = Field(min_length=1)
    global_buffer_bytes: int = Field(default=0, ge=0, description="input buffer per channel")
    unit_cache_bytes: int = Field(
        default=0, ge=0, description="row cache per unit, LRU by row (RecNMP RankCache)")
    wram_bytes: int = Field(default=0, ge=0)
    mram_bytes: int = Field(default=0, ge=0)
    dma_bytes_per_cycle: float = Field(default=0.0, ge=0, description="dpu MRAM->WRAM DMA")
    host_link_gbps: float | None = Field(
        default=None, gt=0, description="host<->PIM transfer rate cap per rank (dpu)"
    )
    searchable: dict[str, list[Any]] = Field(default_factory=dict)
    sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> "PimSection":
        if self.dtype not in self.dtypes:
            raise ValueError(f"dtype {self.dtype!r} is not in dtypes {self.dtypes}")
        if self.units_per_channel > self.max_units_per_channel:
            raise ValueError(
                f"units_per_channel {self.units_per_channel} exceeds max_units_per_channel "
                f"{self.max_units_per_channel}"
            )
        for key, values in self.searchable.items():
            if key not in SEARCHABLE_KNOBS:
                raise ValueError(
                    f"searchable knob {key!r} unknown; accepted: {sorted(SEARCHABLE_KNOBS)}"
                )
            if not values:
                raise ValueError(f"searchable.{key} is empty; give at least one value")
            if key == "dtype":
                bad = [v for v in values if v not in self.dtypes]
                if bad:
                    raise ValueError(f"searchable.dtype {bad} not in dtypes {self.dtypes}")
            if key == "units_per_channel":
                bad = [v for v in values if not (isinstance(v, int) and
                                                 1 <= v <= self.max_units_per_channel)]
                if bad:
                    raise ValueError(
                        f"searchable.units_per_channel {bad} outside 1..{self.max_units_per_channel}"
                    )
            if key == "channels_used":
                bad = [v for v in values if not (isinstance(v, int) and v >= 1)]
                if bad:
                    raise ValueError(f"searchable.channels_used {bad}: need integers >= 1")
        for key, cyc in self.cycles_per_op.items():
            dt, _, op = key.partition("_")
            if dt not in DTYPE_BYTES or op not in ("add", "mac") or cyc <= 0:
                raise ValueError(
                    f"cycles_per_op.{key} = {cyc}: keys are '<dtype>_add' or '<dtype>_mac' "
                    f"with dtype in {sorted(DTYPE_BYTES)}; values > 0"
                )
        return self

    # --- derived ---------------------------------------------------------------------
    def op_cycles(self, dtype: str, op: str = "mac") -> float:
        """ALU cycles of one lane operation (``op`` = ``add`` or ``mac``)."""
        return float(self.cycles_per_op.get(f"{dtype}_{op}", 1.0))

    def unit_ops_per_ns(self, dtype: str, op: str = "mac") -> float:
        """Lane operations per ns of one unit."""
        return self.lanes * self.clock_mhz * 1e-3 / self.op_cycles(dtype, op)

    def alu_ops_per_ns(self, channels: int, dtype: str, op: str = "mac") -> float:
        """Lane operations per ns of every unit in ``channels`` channels."""
        return channels * self.units_per_channel * self.unit_ops_per_ns(dtype, op)

    def with_knobs(self, **knobs: Any) -> "PimSection":
        """A copy with searchable knobs set (validated)."""
        bad = set(knobs) - SEARCHABLE_KNOBS
        if bad:
            raise ValueError(f"unknown knob(s) {sorted(bad)}; accepted: {sorted(SEARCHABLE_KNOBS)}")
        data = self.model_dump()
        data.update(knobs)
        return PimSection.model_validate(data)
