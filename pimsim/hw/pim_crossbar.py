"""The fields of a ``crossbar`` PIM section (ReRAM crossbar arrays in the memory) and what
follows from them.

A unit (``units_per_channel`` of them per channel) is a tile in the style of ISAAC (Shafiee
et al., ISCA 2016) and PUMA (Ankit et al., ASPLOS 2019): ``crossbars_per_tile`` square
crossbars of ``crossbar_size`` rows x columns of ReRAM cells holding ``cell_bits`` each,
a buffer, and a digital unit (the section's ``lanes`` x ``clock_mhz``, ``alu_pj_per_op``)
for what the arrays cannot do. Weights are stationary:

- a weight of ``weight_bits`` is bit-sliced over ``ceil(weight_bits / cell_bits)``
  adjacent columns (:meth:`CrossbarFields.slices`);
- an input of ``input_bits`` enters through the rows' DACs ``dac_bits`` at a time, one
  crossbar cycle per slice of the input (:meth:`CrossbarFields.input_cycles`, bit-serial);
- every crossbar has ``adcs_per_crossbar`` ADCs of ``adc_bits`` time-multiplexed over its
  columns (ISAAC: one ADC per crossbar), each converting ``adc_samples_per_s``;
- a weight has ``weight_replicas`` copies on distinct crossbars, each serving its share of
  the batch rows at the same time;
- a crossbar cycle reads the array (``crossbar_read_ns``) while the ADCs convert the
  previous read's columns, so a cycle lasts the longer of the two
  (:meth:`CrossbarFields.cycle_ns`); the converted partial sums are shifted and added in
  the digital unit (one shift-and-add per conversion);
- each column is stored as it is or flipped, whichever sums to at most half its maximum
  (ISAAC's weight encoding), which saves the ADCs one bit
  (:meth:`CrossbarFields.lossless_adc_bits`).

Energy per event: ``cell_read_pj`` per cell of a driven row per read,
``dac_pj_per_conversion`` per row driven per input cycle, ``adc_pj_by_bits[adc_bits]`` per
conversion, ``shift_add_pj`` per partial sum, ``buffer_pj_per_byte`` per byte through the
tile buffer, ``program_pj_per_cell`` and ``program_ns_per_row`` to write the weights,
amortised over ``amortise_inferences``; ``endurance_cycles`` bounds how often cells can be
rewritten.

The section model itself is ``pimsim.hw.pim.CrossbarSection`` (these fields and the common
ones of ``PimSectionBase``); the searchable knobs ``crossbar_size``, ``adc_bits`` and
``weight_bits`` (and ``weight_replicas``) are validated here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from pimsim.hw.dtypes import DTYPE_BITS
from pimsim.util.validation import StrictModel

#: Knobs of the crossbar section that the co-design search may vary.
CROSSBAR_KNOBS: frozenset[str] = frozenset({"crossbar_size", "adc_bits", "weight_bits",
                                           "weight_replicas"})
#: Crossbar sizes the model accepts: powers of two (MNSIM 2.0 explores 2^k up to 1024).
CROSSBAR_SIZES: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)


def _bits_problem(key: str, value: Any, low: int, high: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return f"{key} = {value!r}: accepted: an integer {low}..{high}"
    return None


class CrossbarFields(StrictModel):
    """The crossbar-specific fields (see the module docstring). The section model that
    combines them with ``PimSectionBase`` declares the fields used below from there."""

    if TYPE_CHECKING:
        units_per_channel: int
        dtypes: list[str]

    crossbar_size: int = Field(description="rows = columns of one crossbar")
    crossbars_per_tile: int = Field(ge=1, description="crossbars of one unit (tile)")
    cell_bits: int = Field(ge=1, le=8, description="bits one ReRAM cell holds")
    weight_bits: int = Field(description="bits of a stored weight, bit-sliced over cells")
    input_bits: int = Field(ge=1, le=16, description="bits of an input element")
    dac_bits: int = Field(ge=1, le=8, description="bits a row's DAC applies per cycle")
    adc_bits: int = Field(description="resolution of the column ADCs")
    adc_pj_by_bits: dict[int, float] = Field(
        min_length=1, description="energy of one conversion per ADC resolution (pJ)")
    adc_samples_per_s: float = Field(gt=0, description="conversions per second of one ADC")
    adcs_per_crossbar: int = Field(ge=1, description="ADCs shared by a crossbar's columns")
    crossbar_read_ns: float = Field(gt=0, description="one analog read of a crossbar")
    cell_read_pj: float = Field(ge=0, description="read energy of one cell of a driven row")
    dac_pj_per_conversion: float = Field(ge=0, description="one row driven for one cycle")
    shift_add_pj: float = Field(ge=0, description="one shift-and-add of a partial sum")
    buffer_pj_per_byte: float = Field(ge=0, description="tile buffer access per byte")
    program_ns_per_row: float = Field(gt=0, description="writing one crossbar row")
    program_pj_per_cell: float = Field(ge=0, description="writing one cell (verify included)")
    endurance_cycles: float = Field(ge=1, description="writes a cell survives")
    amortise_inferences: int = Field(
        ge=1, description="inferences the one-time weight programming is spread over")
    weight_replicas: int = Field(
        default=1, ge=1, description="copies of every weight on the crossbars; batch rows "
        "are spread over the copies and run at once (ISAAC replicates weights to balance its "
        "pipeline); each copy takes its own crossbars and programming")

    @model_validator(mode="after")
    def _crossbar_consistent(self) -> CrossbarFields:
        for key in CROSSBAR_KNOBS:
            problem = self.crossbar_knob_problem(key, getattr(self, key))
            if problem:
                raise ValueError(problem)
        if self.dac_bits > self.input_bits:
            raise ValueError(f"dac_bits = {self.dac_bits} exceeds input_bits = "
                             f"{self.input_bits}; accepted: 1..{self.input_bits}")
        bad = {b: e for b, e in self.adc_pj_by_bits.items() if not 1 <= b <= 16 or e < 0}
        if bad:
            raise ValueError(f"adc_pj_by_bits {bad}: accepted: resolutions 1..16 bits -> "
                             "pJ per conversion >= 0")
        return self

    def crossbar_knob_problem(self, key: str, value: Any) -> str | None:
        """Why ``value`` is not a valid ``key`` (a crossbar knob) here (None: it is)."""
        if key == "crossbar_size":
            if value not in CROSSBAR_SIZES or isinstance(value, bool):
                return (f"crossbar_size = {value!r}: accepted: one of "
                        f"{', '.join(map(str, CROSSBAR_SIZES))}")
            return None
        if key == "adc_bits":
            problem = _bits_problem(key, value, 1, 16)
            if problem is None and value not in self.adc_pj_by_bits:
                problem = (f"adc_bits = {value}: no energy for it in adc_pj_by_bits; accepted: "
                           f"{sorted(self.adc_pj_by_bits)}")
            return problem
        if key == "weight_replicas":
            return _bits_problem(key, value, 1, 1024)
        if key == "weight_bits":
            high = max(DTYPE_BITS[d] for d in self.dtypes)
            return _bits_problem(key, value, 1, high)
        return f"{key!r} is not a crossbar knob; accepted: {sorted(CROSSBAR_KNOBS)}"

    def _check_searchable(self, key: str, values: list[Any]) -> None:
        if key not in CROSSBAR_KNOBS:
            super()._check_searchable(key, values)  # type: ignore[misc]
            return
        if not values:
            raise ValueError(f"searchable.{key} is empty; give at least one value")
        for v in values:
            problem = self.crossbar_knob_problem(key, v)
            if problem:
                raise ValueError(f"searchable.{problem}")

    # --- derived ---------------------------------------------------------------------
    def slices(self) -> int:
        """Columns (cells) one weight occupies: ``ceil(weight_bits / cell_bits)``."""
        return -(-self.weight_bits // self.cell_bits)

    def input_cycles(self) -> int:
        """Crossbar cycles per input vector: ``ceil(input_bits / dac_bits)``."""
        return -(-self.input_bits // self.dac_bits)

    def adc_ns(self) -> float:
        """Time of one conversion of one ADC."""
        return 1e9 / self.adc_samples_per_s

    def adc_pj(self) -> float:
        """Energy of one conversion at ``adc_bits``."""
        return float(self.adc_pj_by_bits[self.adc_bits])

    def convert_ns(self, columns: int | None = None) -> float:
        """Time the ADCs of a crossbar take for ``columns`` columns (default: all)."""
        cols = self.crossbar_size if columns is None else columns
        return -(-cols // self.adcs_per_crossbar) * self.adc_ns()

    def cycle_ns(self, columns: int | None = None) -> float:
        """One pipelined crossbar cycle: the read overlaps the conversion of the previous
        read, so the longer of the two."""
        return max(self.crossbar_read_ns, self.convert_ns(columns))

    def lossless_adc_bits(self) -> int:
        """ADC resolution that keeps every column's partial sum exact with ISAAC's weight
        flipping (Shafiee et al., ISCA 2016, Sec. 5): a column whose cells over the rows sum
        to more than half their maximum is stored flipped (``2^cell_bits - 1 - w``, the
        digital unit recovers the sum), so a partial sum is at most
        ``(2^dac_bits - 1) x floor(rows x (2^cell_bits - 1) / 2)``: the bits of that value,
        one fewer than the unflipped log R + v + w (log R + v + w - 1 when v or w is 1);
        8 bits for 128 rows, 1-bit DACs and 2-bit cells, ISAAC's 8-bit ADC."""
        half = self.crossbar_size * (2**self.cell_bits - 1) // 2
        return int((2**self.dac_bits - 1) * half).bit_length()

    def arithmetic(self) -> dict[str, int]:
        """What the accuracy side quantises by (``codesign.quant.CrossbarQuant``'s fields):
        ``rows`` (a partial sum's length), ``cell_bits``, ``weight_bits``, ``input_bits``,
        ``dac_bits``, ``adc_bits``."""
        return {"rows": self.crossbar_size, "cell_bits": self.cell_bits,
                "weight_bits": self.weight_bits, "input_bits": self.input_bits,
                "dac_bits": self.dac_bits, "adc_bits": self.adc_bits}

    def cells_per_crossbar(self) -> int:
        return self.crossbar_size * self.crossbar_size

    def crossbars(self, channels: int) -> int:
        """Crossbars of ``channels`` channels' tiles."""
        return channels * self.units_per_channel * self.crossbars_per_tile

    def weight_crossbars(self, k: int, n: int) -> tuple[int, int]:
        """Row blocks and column blocks of a ``k x n`` weight (its crossbars: their
        product)."""
        size = self.crossbar_size
        return -(-k // size), -(-(n * self.slices()) // size)

    def peak_macs_per_ns(self, channels: int) -> float:
        """Multiply-adds per ns of every crossbar at full use: each holds ``size x size /
        slices`` weights and completes their products once every ``input_cycles``
        cycles."""
        per_xbar = self.cells_per_crossbar() / self.slices()
        return self.crossbars(channels) * per_xbar / (self.input_cycles() * self.cycle_ns())

    def conversions_per_ns(self, channels: int) -> float:
        """ADC conversions per ns of every ADC of ``channels`` channels."""
        return self.crossbars(channels) * self.adcs_per_crossbar / self.adc_ns()

    def capacity_text(self, channels: int) -> str:
        """The crossbar capacity of ``channels`` channels with its geometry."""
        n = self.crossbars(channels)
        cells = n * self.cells_per_crossbar()
        return (f"{n:,} crossbars ({channels} channels x {self.units_per_channel} tiles x "
                f"{self.crossbars_per_tile} crossbars of {self.crossbar_size}x"
                f"{self.crossbar_size} cells of {self.cell_bits} bits = {cells:,} cells, "
                f"{cells * self.cell_bits / 8e6:.1f} MB)")
