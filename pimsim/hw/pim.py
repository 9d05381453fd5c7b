"""The typed ``pim`` section of a hardware profile: one section model per PIM kind.

A profile's ``pim`` mapping is validated as :data:`PimSection`, a union of section models
discriminated by ``kind`` (:data:`SECTION_OF_KIND`, dispatched by a plain validator so that
error locations stay ``pim.<key>``): the common fields live on :class:`PimSectionBase`, each kind's
model adds only its own (the bank kinds' read-out width, RecNMP's instruction size and
RankCache, UPMEM's DMA, WRAM/MRAM, host link and emulated-op cycles; the ReRAM crossbar
tiles' geometry, converters and energies, from :mod:`pimsim.hw.pim_crossbar`). Every figure in a
YAML profile carries its source in a comment and, for the numbers the model uses, in the
``sources`` mapping (field name -> citation or estimate reasoning), so that the
provenance travels with the data (Accelergy style).

The cost models of the kinds (``pimsim.cost.pim``) read these sections; a new kind adds
its section model here and to :data:`PimSection`.

Per data type, a section gives the lanes of a unit (``lanes_by_dtype``, else ``lanes``) and
the energy of one lane operation (``alu_pj_by_dtype``, else ``alu_pj_per_op``). The knobs
the co-search may set (:data:`SEARCHABLE_KNOBS`) are fields of the section, each listed
under ``searchable`` only where the kind's published hardware has the choice: the clock
up to ``max_clock_mhz`` (the fastest published part), the data type among ``dtypes``,
and for the bank kinds ``batch_tile`` up to ``max_batch_tile`` (what the units' register
files hold).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (
    Field,
    PlainValidator,
    SerializationInfo,
    WrapSerializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from pimsim.hw.dtypes import DTYPE_BITS, DType
from pimsim.hw.pim_crossbar import CROSSBAR_KNOBS, CrossbarFields
from pimsim.hw.section import required_section
from pimsim.util.validation import StrictModel

KernelOp = Literal["embedding_bag", "gemm", "interaction", "elementwise", "transfer"]
#: Elementwise functions a workload may ask for (a kind runs the subset it lists).
ElementwiseFn = Literal["sum", "gating", "relu", "sigmoid"]

#: Knobs of a PIM section that the co-design search may vary, and the field they set.
SEARCHABLE_KNOBS: frozenset[str] = frozenset({"units_per_channel", "channels_used", "dtype",
                                              "clock_mhz", "batch_tile"} | CROSSBAR_KNOBS)


class PimSectionBase(StrictModel):
    """What every PIM kind declares: one kind of unit replicated over the memory.

    ``units_per_channel`` counts units that each read ``access_bytes`` per internal column
    access (bank kinds) or one unit per rank (``buffer_nmp``) or one DPU per MRAM bank
    (``dpu``). The ALU of a unit has ``lanes`` lanes at ``clock_mhz`` and completes one
    operation per lane per :meth:`op_cycles` cycles.
    """

    kind: str
    unit_level: Literal["bank", "rank"]
    units_per_channel: int = Field(ge=1)
    max_units_per_channel: int = Field(ge=1, description="units the silicon has per channel")
    channels_used: int | None = Field(default=None, ge=1, description="None: every channel")
    lanes: int = Field(ge=1)
    clock_mhz: float = Field(gt=0)
    max_clock_mhz: float | None = Field(
        default=None, gt=0, description="clock of the fastest published part of the kind "
        "(None: clock_mhz is the only one); bounds the clock_mhz knob")
    access_bytes: int = Field(ge=1, description="bytes a unit reads per internal access")
    dtypes: list[DType] = Field(min_length=1)
    dtype: DType
    alu_pj_per_op: float = Field(ge=0, description="energy of one lane operation (MAC = 1 op)")
    alu_pj_by_dtype: dict[DType, float] = Field(
        default_factory=dict,
        description="energy of one lane operation per data type (absent types: alu_pj_per_op)")
    alu_energy_note: str = Field(min_length=1, description="where alu_pj_per_op comes from")
    internal_access_energy_factor: float = Field(
        default=1.0, ge=0, le=1,
        description="energy of an internal column access (RDI/WRI) over the array energy of "
        "its external form (IDD4R/IDD4W - IDD3N): 1 = the full column path")
    lanes_by_dtype: dict[DType, int] = Field(
        default_factory=dict,
        description="lanes per data type where a narrower type packs more lanes into the "
        "ALU's width (absent types: lanes)")
    supported_ops: list[KernelOp] = Field(min_length=1)
    elementwise_fns: list[ElementwiseFn] = Field(
        default_factory=list, description="the elementwise functions the units execute")
    searchable: dict[str, list[Any]] = Field(default_factory=dict)
    sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> "PimSectionBase":
        if self.dtype not in self.dtypes:
            raise ValueError(f"dtype {self.dtype!r} is not in dtypes {self.dtypes}")
        for field in ("lanes_by_dtype", "alu_pj_by_dtype"):
            bad = sorted(set(getattr(self, field)) - set(self.dtypes))
            if bad:
                raise ValueError(f"{field} lists {bad}, which are not in dtypes {self.dtypes}")
        if self.max_clock_mhz is not None and self.clock_mhz > self.max_clock_mhz:
            raise ValueError(f"clock_mhz {self.clock_mhz} exceeds max_clock_mhz "
                             f"{self.max_clock_mhz}")
        if self.units_per_channel > self.max_units_per_channel:
            raise ValueError(
                f"units_per_channel {self.units_per_channel} exceeds max_units_per_channel "
                f"{self.max_units_per_channel}"
            )
        if "elementwise" in self.supported_ops and not self.elementwise_fns:
            raise ValueError("supported_ops has elementwise but elementwise_fns is empty; "
                             "list the functions the units execute")
        for key, values in self.searchable.items():
            self._check_searchable(key, values)
        return self

    def _check_searchable(self, key: str, values: list[Any]) -> None:
        if key not in SEARCHABLE_KNOBS:
            raise ValueError(
                f"searchable knob {key!r} unknown; accepted: {sorted(SEARCHABLE_KNOBS)}")
        if key not in type(self).model_fields:
            raise ValueError(f"searchable knob {key!r} is not a field of kind {self.kind!r}; "
                             f"accepted: {sorted(SEARCHABLE_KNOBS & set(type(self).model_fields))}")
        if not values:
            raise ValueError(f"searchable.{key} is empty; give at least one value")
        if key == "clock_mhz":
            top = self.max_clock_mhz or self.clock_mhz
            bad = [v for v in values if not (isinstance(v, (int, float)) and 0 < v <= top)]
            if bad:
                raise ValueError(f"searchable.clock_mhz {bad} outside (0, {top}] "
                                 "(max_clock_mhz, else clock_mhz)")
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

    # --- derived ---------------------------------------------------------------------
    def op_cycles(self, dtype: str, op: str = "mac") -> float:
        """ALU cycles of one lane operation (``op`` = ``add`` or ``mac``): 1 unless the
        kind emulates the type (see :class:`DpuSection`)."""
        return 1.0

    def lanes_for(self, dtype: str) -> int:
        """Lanes of one unit for ``dtype`` (``lanes_by_dtype``, else ``lanes``)."""
        return int(self.lanes_by_dtype.get(dtype, self.lanes))  # type: ignore[call-overload]

    def alu_pj_for(self, dtype: str | None) -> float:
        """Energy of one lane operation on ``dtype`` (``alu_pj_by_dtype``, else
        ``alu_pj_per_op``)."""
        if dtype is None:
            return self.alu_pj_per_op
        return float(self.alu_pj_by_dtype.get(dtype, self.alu_pj_per_op))  # type: ignore[call-overload]

    def unit_ops_per_ns(self, dtype: str, op: str = "mac") -> float:
        """Lane operations per ns of one unit."""
        return self.lanes_for(dtype) * self.clock_mhz * 1e-3 / self.op_cycles(dtype, op)

    def alu_ops_per_ns(self, channels: int, dtype: str, op: str = "mac") -> float:
        """Lane operations per ns of every unit in ``channels`` channels."""
        return channels * self.units_per_channel * self.unit_ops_per_ns(dtype, op)

    def with_knobs(self, **knobs: Any) -> "PimSectionBase":
        """A copy with searchable knobs set (validated)."""
        bad = set(knobs) - SEARCHABLE_KNOBS
        if bad:
            raise ValueError(f"unknown knob(s) {sorted(bad)}; accepted: {sorted(SEARCHABLE_KNOBS)}")
        data = self.model_dump()
        data.update(knobs)
        return type(self).model_validate(data)


class _BankSection(PimSectionBase):
    """Units beside the banks, fed by all-bank internal column commands."""

    readout_lanes: int = Field(
        ge=1, description="values read out per output element (lane partial sums the host adds)")
    column_cycles: float | None = Field(
        default=None, gt=0,
        description="interval of the units' internal column (MAC) commands in DRAM clock "
        "cycles where the device runs them faster than tCCD_L (None: tCCD_L)")
    mac_act_extra_ns: float = Field(
        default=0.0, ge=0,
        description="extra activate-to-MAC delay over tRCD per all-bank row opened for MACs")
    batch_tile: int = Field(
        default=1, ge=1,
        description="batch columns whose input vectors the units hold at once: the "
        "weights are streamed once per tile, each weight access feeding the MACs of every "
        "column of the tile")
    max_batch_tile: int = Field(
        default=1, ge=1,
        description="the largest batch_tile the units' registers hold (accumulators and "
        "inputs of that many columns)")

    @model_validator(mode="after")
    def _tile(self) -> "_BankSection":
        if self.batch_tile > self.max_batch_tile:
            raise ValueError(f"batch_tile {self.batch_tile} exceeds max_batch_tile "
                             f"{self.max_batch_tile}")
        bad = [v for v in self.searchable.get("batch_tile", [])
               if not (isinstance(v, int) and 1 <= v <= self.max_batch_tile)]
        if bad:
            raise ValueError(f"searchable.batch_tile {bad} outside 1..{self.max_batch_tile} "
                             "(max_batch_tile)")
        return self


class BankSimdSection(_BankSection):
    """Samsung HBM2-PIM (Aquabolt-XL): SIMD units whose lane partial sums are read out."""

    kind: Literal["bank_simd"]


class BankMacSection(_BankSection):
    """SK hynix GDDR6-AiM: MAC units whose adder tree reduces the lanes inside the unit."""

    kind: Literal["bank_mac"]
    global_buffer_bytes: int = Field(ge=0, description="input buffer per channel")


class BufferNmpSection(PimSectionBase):
    """RecNMP: one pooling unit per rank in the DIMM buffer chip."""

    kind: Literal["buffer_nmp"]
    nmp_inst_bytes: int = Field(ge=1, description="bytes of the instruction sent per lookup")
    unit_cache_bytes: int = Field(
        default=0, ge=0, description="row cache per unit, LRU by row (RecNMP RankCache), "
        "shared by the tables pooled on the unit")
    internal_io_pj_per_bit: float = Field(
        default=0.0, ge=0,
        description="energy per bit of a rank's DRAM -> buffer-chip transfer on the DIMM")


class DpuSection(PimSectionBase):
    """UPMEM: a general-purpose core (DPU) per MRAM bank, fed by MRAM->WRAM DMA."""

    kind: Literal["dpu"]
    cycles_per_op: dict[str, float] = Field(
        default_factory=dict,
        description="ALU cycles per lane op, keys '<dtype>_add' / '<dtype>_mac' (emulated "
        "floats); absent keys cost 1 cycle",
    )
    dma_bytes_per_cycle: float = Field(
        gt=0, description="MRAM->WRAM DMA streaming rate of one DPU (1 / cycles per byte)")
    dma_setup_cycles: float = Field(
        default=0.0, ge=0, description="fixed latency of one MRAM->WRAM DMA transfer")
    dma_max_bytes: int = Field(default=2048, ge=8, description="largest single DMA transfer")
    slice_bytes: int | None = Field(
        default=None, ge=1, description="bytes of an embedding row one DPU holds (a column "
        "slice; None: access_bytes)")
    unit_power_mw: float = Field(
        default=0.0, ge=0, description="power of one DPU while a kernel runs (cores, WRAM, "
        "its MRAM bank), over the kernel's DPU time, at power_clock_mhz")
    power_clock_mhz: float | None = Field(
        default=None, gt=0, description="clock at which unit_power_mw holds (None: "
        "clock_mhz); at another clock the power scales with it (dynamic power at a fixed "
        "voltage, an estimate)")
    wram_bytes: int = Field(
        default=0, ge=0, description="working memory; half holds the input rows of a GEMM pass "
        "(0: one row per pass)")
    mram_bytes: int = Field(default=0, ge=0)
    host_link_gbps: float | None = Field(
        default=None, gt=0, description="host->PIM transfer rate cap per rank")
    host_link_out_gbps: float | None = Field(
        default=None, gt=0, description="PIM->host transfer rate cap per rank (None: "
        "host_link_gbps)")
    index_bytes: int = Field(ge=1, description="bytes of one lookup index sent to a DPU")
    chips_per_rank: int = Field(ge=1, description="PIM chips of a rank written in parallel")

    @model_validator(mode="after")
    def _cycles_keys(self) -> "DpuSection":
        for key, cyc in self.cycles_per_op.items():
            dt, _, op = key.partition("_")
            if dt not in DTYPE_BITS or op not in ("add", "mac") or cyc <= 0:
                raise ValueError(
                    f"cycles_per_op.{key} = {cyc}: keys are '<dtype>_add' or '<dtype>_mac' "
                    f"with dtype in {sorted(DTYPE_BITS)}; values > 0"
                )
        return self

    def op_cycles(self, dtype: str, op: str = "mac") -> float:
        return float(self.cycles_per_op.get(f"{dtype}_{op}", 1.0))

    def unit_power_at_clock_mw(self) -> float:
        """Power of one busy DPU at ``clock_mhz`` (``unit_power_mw`` scaled from
        ``power_clock_mhz`` with the clock)."""
        return self.unit_power_mw * self.clock_mhz / (self.power_clock_mhz or self.clock_mhz)

    def dma_bytes_per_ns(self) -> float:
        """MRAM->WRAM streaming bytes per ns of one DPU."""
        return self.dma_bytes_per_cycle * self.clock_mhz * 1e-3

    def dma_ns(self, transfers: float, nbytes: float) -> float:
        """Time of ``transfers`` DMA transfers moving ``nbytes`` in all on one DPU:
        ``setup + size / rate`` each (Gomez-Luna et al. 2022, Sec. 3.2: latency = alpha +
        beta x size)."""
        cycles = transfers * self.dma_setup_cycles + nbytes / self.dma_bytes_per_cycle
        return cycles / (self.clock_mhz * 1e-3)


class CrossbarSection(CrossbarFields, PimSectionBase):
    """ReRAM crossbar tiles in the memory (ISAAC / PUMA / PRIME): weight-stationary
    matrix-vector products, a digital unit per tile (:mod:`pimsim.hw.pim_crossbar`)."""

    kind: Literal["crossbar"]


#: The section model of each kind.
SECTION_OF_KIND: dict[str, type[PimSectionBase]] = {
    "bank_simd": BankSimdSection, "bank_mac": BankMacSection,
    "buffer_nmp": BufferNmpSection, "dpu": DpuSection, "crossbar": CrossbarSection,
}


class _KindOnly(StrictModel):
    """The discriminator alone, to report an unknown kind at its own key."""

    kind: Literal[tuple(SECTION_OF_KIND)]  # type: ignore[valid-type]


def _section_of_kind(value: Any) -> PimSectionBase:
    """Validate a pim mapping with the model of its ``kind``.

    A plain validator rather than pydantic's tagged union, so that error locations stay
    ``pim.<key>`` (a tagged union inserts the tag: ``pim.<kind>.<key>``).
    """
    if isinstance(value, PimSectionBase):
        return value
    if not isinstance(value, dict):
        raise PydanticCustomError("dict_type", "expected a mapping, found {found}",
                                  {"found": type(value).__name__})
    # an unknown kind is reported at pim.kind, with the accepted kinds
    kind = _KindOnly.model_validate({"kind": value.get("kind")}).kind
    return SECTION_OF_KIND[kind].model_validate(value)


def _dump_section(value: Any, handler: Any, info: SerializationInfo) -> Any:
    """Serialize a section with its own model (the plain validator hides which one)."""
    if not isinstance(value, PimSectionBase):
        return handler(value)
    return value.model_dump(mode=info.mode, exclude_none=info.exclude_none,
                            exclude_defaults=info.exclude_defaults,
                            exclude_unset=info.exclude_unset, by_alias=bool(info.by_alias))


#: The ``pim`` section of a profile: the model of its ``kind``.
PimSection = Annotated[
    Union[tuple(SECTION_OF_KIND.values())],  # type: ignore[valid-type]
    PlainValidator(_section_of_kind),
    WrapSerializer(_dump_section),
]


def pim_section(profile: Any) -> PimSectionBase:
    """The profile's pim section (a PimsimError if it has none)."""
    section: PimSectionBase = required_section(
        profile, "pim",
        "PIM placement needs a PIM profile (hbm2_pim, gddr6_aim, ddr4_recnmp, upmem, "
        "reram_pim)")
    return section
