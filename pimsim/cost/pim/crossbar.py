"""``crossbar``: ReRAM crossbar tiles in the memory (PRIME, ISAAC, PUMA), weight-stationary.

The profile's ``pim`` section is a :class:`pimsim.hw.pim.CrossbarSection` (its fields and
the derived quantities in :mod:`pimsim.hw.pim_crossbar`). What the kind runs:

- ``gemm``: a matrix-vector product per batch row on the crossbars that hold the weight.
  A ``k x n`` weight of ``weight_bits`` takes ``ceil(k / size)`` row blocks and
  ``ceil(n x slices / size)`` column blocks of crossbars; every one of them works at once.
  A batch row takes ``input_cycles`` crossbar cycles (bit-serial inputs through the DACs);
  each cycle reads the arrays and converts every used column (``adcs_per_crossbar`` ADCs
  time-multiplexed over the columns), the read of one cycle overlapping the conversions of
  the previous one, so ``m`` rows take ``m x input_cycles x cycle + min(read, convert)``
  (a two-stage pipeline). Each conversion is shifted and added once (bit slices, input
  bits and row blocks reduce into the output). The weights are written once and stay:
  programming (``size`` rows per crossbar, the crossbars in parallel) is charged
  ``1 / amortise_inferences`` per run, time and energy, its totals and the endurance
  lifetime are reported in the kernel's ``extra``;
- ``interaction`` (activation-by-activation products) and ``elementwise`` on the tiles'
  digital units (``lanes`` x ``clock_mhz`` per tile, ``alu_pj_per_op``), as the
  capabilities list them: crossbars hold stationary weights, not activations;
- transfers, as every kind.

Inputs reach the tiles and outputs leave them over the memory channels (host writes /
reads of the PIM channels, as the other kinds' input vectors do), overlapped with the
arrays' work; every byte in and out passes the tile buffer (``buffer_pj_per_byte``). A
kernel holds the channels for its copies only (the arrays do not use the DRAM), and a GEMM
holds the crossbars of its own weight (unit group ``pim:crossbar:ch..:<weight>``), so GEMMs
on different weights run at once, as ISAAC's layers do; the digital units are one group.
With ``weight_replicas`` copies of each weight, the batch rows are spread over the copies.
Embedding tables stay in the memory (PRIME and REREC keep them in ReRAM main memory): the
kind does not pool them; their lookups run on the host from the same memory.

Capacity: the weights of the kernels placed on the crossbars must fit them all at once
(weight-stationary; a weight shared by kernels counted once). :meth:`CrossbarKind.
capacity_refusals` walks the PIM kernels in schedule order; a weight that does not fit is
refused with its kernel, cells, crossbars and the capacity with its geometry (the engine
spills it to the host where the workload allows ``fallback_to_host``).

Energy: every part is booked to its own component (:class:`pimsim.energy.EnergyBreakdown`
``xbar_*``), and the copies' DRAM energy as for any stream.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pimsim.cost.layout import Layout
from pimsim.cost.memory import MemCost
from pimsim.cost.pim.base import UNIT_KEY, PimKind, PimWork
from pimsim.energy import EnergyBreakdown
from pimsim.errors import PimsimError
from pimsim.hw.dtypes import DTYPE_BYTES
from pimsim.hw.pim import CrossbarSection
from pimsim.workload import Elementwise, Gemm, Interaction


@dataclass
class CrossbarWork(PimWork):
    """A kernel's work on the tiles, with its energy parts (``xbar_*`` component -> pJ)."""

    parts: dict[str, float] = field(default_factory=dict)


class CrossbarKind(PimKind):
    """ReRAM crossbar tiles (ISAAC, Shafiee et al., ISCA 2016; PUMA, Ankit et al., ASPLOS
    2019; PRIME, Chi et al., ISCA 2016)."""

    name: ClassVar[str] = "crossbar"
    modelled_ops: ClassVar[tuple[str, ...]] = ("gemm", "interaction", "elementwise")
    pim: CrossbarSection

    def check_profile(self) -> None:
        if not isinstance(self.pim, CrossbarSection):
            raise PimsimError(f"profile {self.profile.name!r}: kind 'crossbar' needs a crossbar "
                              "pim section")

    def channel_bandwidth_gbps(self, dtype: str) -> float:
        """Weight bytes the arrays of one channel use per ns at their peak MVM rate (the
        weights stay in place: the rate they would have to stream at to match it)."""
        return self.pim.peak_macs_per_ns(1) * self.pim.weight_bits / 8.0

    # --- capacity ---------------------------------------------------------------------
    def crossbars_of(self, k: Gemm) -> int:
        """Crossbars a weight takes with all its copies."""
        rb, cb = self.pim.weight_crossbars(k.k, k.n)
        return rb * cb * self.pim.weight_replicas

    def capacity_refusals(self, kernels: Sequence[Any]) -> dict[str, str]:
        n_ch = len(self.chans)
        free = self.pim.crossbars(n_ch)
        placed: dict[str, bool] = {}
        refused: dict[str, str] = {}
        for k in kernels:
            if not isinstance(k, Gemm):
                continue
            wid = k.weight or k.name
            if wid not in placed:
                need = self.crossbars_of(k)
                placed[wid] = need <= free
                if placed[wid]:
                    free -= need
                else:
                    refused[wid] = self._capacity_message(k, need, free)
            if not placed[wid]:
                refused[k.name] = refused[wid]
        return {k.name: refused[k.name] for k in kernels if k.name in refused}

    def _capacity_message(self, k: Gemm, need: int, free: int) -> str:
        p = self.pim
        cells = k.k * k.n * p.slices()
        total = p.crossbars(len(self.chans))
        copies = f" x {p.weight_replicas} copies" if p.weight_replicas > 1 else ""
        return (f"PIM kind 'crossbar' (profile {self.profile.name!r}) cannot hold the weights "
                f"of kernel {k.name!r}: {k.k} x {k.n} weights of {p.weight_bits} bits = "
                f"{k.resident_bytes():,} bytes, {cells:,} cells of {p.cell_bits} bits{copies} "
                f"in {need:,} crossbars; free {free:,} of {p.capacity_text(len(self.chans))}"
                + ("" if free == total else " (the rest hold earlier kernels' weights)")
                + "; set fallback_to_host: true to spill it to the host, or place it there")

    # --- kernels ----------------------------------------------------------------------
    def _copies(self, layout: Layout, name: str, in_bytes: int,
                out_bytes: int) -> tuple[MemCost, tuple[float, float]]:
        """Inputs written to the tiles and outputs read back over the PIM channels: their
        streams and times (in, out)."""
        m_in, t_in = self.host_link(layout, f"{name}:x", in_bytes, True)
        m_out, t_out = self.host_link(layout, f"{name}:y", out_bytes, False)
        return m_in + m_out, (t_in, t_out)

    def gemm(self, k: Gemm, layout: Layout) -> CrossbarWork:
        p, n_ch = self.pim, len(self.chans)
        need, total = self.crossbars_of(k), p.crossbars(n_ch)
        if need > total:
            raise PimsimError(self._capacity_message(k, need, total))
        s, ic = p.slices(), p.input_cycles()
        rb, cb = p.weight_crossbars(k.k, k.n)
        cols = min(p.crossbar_size, k.n * s)  # columns of the fullest crossbar
        copies = min(p.weight_replicas, k.m)  # copies with batch rows to serve
        cycles = k.m * ic
        array_ns = (-(-k.m // copies) * ic * p.cycle_ns(cols)
                    + min(p.crossbar_read_ns, p.convert_ns(cols)))
        conversions = float(cycles * rb * k.n * s)
        row_drives = float(cycles * k.k * cb)
        cells_read = float(cycles * k.k * k.n * s)
        db = DTYPE_BYTES[k.dtype]
        in_bytes, out_bytes = k.input_bytes(), k.output_bytes()
        mem, copy_ns = self._copies(layout, k.weight or k.name, in_bytes, out_bytes)
        rows_written = min(k.k, p.crossbar_size)  # per crossbar, the crossbars in parallel
        program_ns = rows_written * p.program_ns_per_row
        program_pj = k.k * k.n * s * p.program_pj_per_cell * p.weight_replicas
        amort = p.amortise_inferences
        parts = {
            "xbar_array_pj": cells_read * p.cell_read_pj,
            "xbar_dac_pj": row_drives * p.dac_pj_per_conversion,
            "xbar_adc_pj": conversions * p.adc_pj(),
            "xbar_digital_pj": conversions * p.shift_add_pj,
            "xbar_buffer_pj": (in_bytes + out_bytes) * p.buffer_pj_per_byte,
            "xbar_program_pj": program_pj / amort,
        }
        return CrossbarWork(
            mem, alu_ops=0, alu_ns=array_ns, internal_bytes=int(k.resident_bytes() * k.m),
            extra_ns=program_ns / amort, min_time_ns=sum(copy_ns), parts=parts,
            unit=f"{self.unit()}:{k.weight or k.name}", copy_ns=copy_ns,
            extra={UNIT_KEY: k.weight or k.name, "crossbars": need, "row_blocks": rb,
                   "column_blocks": cb, "slices": s, "input_cycles": ic, "weight_copies": copies,
                   "adc_conversions": conversions, "array_ns": array_ns,
                   "copy_ns": sum(copy_ns), "lossless_adc_bits": p.lossless_adc_bits(),
                   "program_ns_total": program_ns, "program_pj_total": program_pj,
                   "amortise_inferences": amort,
                   "lifetime_inferences": p.endurance_cycles * amort, "element_bytes": db})

    def _digital(self, name: str, ops: float, op: str, dtype: str, in_bytes: int,
                 out_bytes: int, layout: Layout) -> CrossbarWork:
        p = self.pim
        mem, copy_ns = self._copies(layout, name, in_bytes, out_bytes)
        alu_ns = ops / p.alu_ops_per_ns(len(self.chans), dtype, op)
        parts = {"xbar_digital_pj": ops * p.alu_pj_per_op,
                 "xbar_buffer_pj": (in_bytes + out_bytes) * p.buffer_pj_per_byte}
        return CrossbarWork(mem, alu_ops=0, alu_ns=alu_ns, internal_bytes=in_bytes + out_bytes,
                            min_time_ns=sum(copy_ns), parts=parts, copy_ns=copy_ns,
                            extra={"digital_ops": ops, "copy_ns": sum(copy_ns)})

    def interaction(self, k: Interaction, layout: Layout) -> CrossbarWork:
        return self._digital(k.name, float(k.macs()), "mac", k.dtype, k.input_bytes(),
                             k.output_bytes(), layout)

    def elementwise(self, k: Elementwise, layout: Layout) -> CrossbarWork:
        ops = float(max(k.flops(), k.m * k.n))
        return self._digital(k.name, ops, "add", k.dtype, k.input_bytes(), k.output_bytes(),
                             layout)

    # --- energy -----------------------------------------------------------------------
    def energy(self, w: PimWork) -> EnergyBreakdown:
        """The copies' DRAM energy and the host's share (as every kind), and the tiles'
        parts, each in its own component."""
        e = super().energy(w)
        parts = w.parts if isinstance(w, CrossbarWork) else {}
        return dataclasses.replace(e, **{k: float(v) for k, v in parts.items()})

