"""Bank-level PIM kinds fed by all-bank internal column commands: ``bank_simd`` and ``bank_mac``.

``bank_simd`` (Samsung HBM2-PIM / Aquabolt-XL) and ``bank_mac`` (SK hynix GDDR6-AiM) run
GEMM/GEMV and elementwise kernels with the same command stream. Weights are pinned:
split by output rows over the PIM channels and spread over the banks of each channel.

Batch tiling: the batch runs in passes of ``batch_tile`` columns (:meth:`BankKind.tile`;
the last pass takes the rest). Per pass, the tile's input vectors are written into the
units' register files / the channel's global buffer by all-bank writes (over the bus once
per channel), the weights stream once as all-bank internal reads, each weight access
feeding the MACs of every column of the tile from the registers, and ``readout_lanes``
values per output element and column are read out (bank_simd: each unit's lane partial
sums, which the host adds; bank_mac: one, its adder tree reduces inside the unit). So the
weights are read ``ceil(m / batch_tile)`` times; the MAC work is the same, and a pass
whose MACs outlast its column commands is ALU-bound. ``batch_tile = 1`` is the published
dataflow (PIMSimulator's ``executeGemv`` streams the weights once per batch item);
``max_batch_tile`` is what the units' registers hold (HBM2-PIM: one GRF_B accumulator
register per column), and bank_mac holds at most the vectors its global buffer fits.
Each all-bank column command feeds ``units_per_channel x access_bytes`` bytes to the
units. The two kinds differ only in their profile data.

Where the device's MAC column interval (``column_cycles``) is shorter than the DRAM's
tCCD_L, one engine command (issued at tCCD_L) stands for ``tCCD_L / column_cycles`` of
the device's commands: it feeds that many times the bytes, so rows are swept, activated
and refreshed at the device's rate.

Energy: an internal read costs ``internal_access_energy_factor`` of an external read's
array energy (:func:`pimsim.cost.memory.mem_energy`), charged for the bytes the units take.
The all-bank write of the input vector into the register files / global buffer crosses
the bus once and fills registers beside the banks, not the arrays: it is charged as one
write burst per command, not one per bank.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from pimsim.cost.layout import Layout
from pimsim.cost.memory import MemCost, replay_stream
from pimsim.cost.pim.base import PimKind, PimWork
from pimsim.dram import FLAG_ALL_BANK, FLAG_INTERNAL
from pimsim.hw.dtypes import nbytes
from pimsim.hw.schema import Profile
from pimsim.standards import INTERNAL_OF
from pimsim.workload import Elementwise, Gemm


def _charge_used_banks(profile: Profile, mem: MemCost, bytes_per_cmd: float, tx: int) -> None:
    """An all-bank internal column command reaches every bank, but the units take
    ``bytes_per_cmd`` from them (bank_simd: one bank of each pair per command; a command
    standing for several device commands: more than one burst per bank): charge the
    column energy of the bursts actually read."""
    frac = bytes_per_cmd / float(profile.banks_per_rank * tx)
    for key in INTERNAL_OF.values():
        if key in mem.ops:
            mem.ops[key] *= frac


def _register_writes(profile: Profile, mem: MemCost) -> None:
    """All-bank writes into register files / a global buffer: one write burst per
    command (the data crosses the bus once; no array is written), not one per bank."""
    n = mem.counts.get("WR_AB", 0.0)
    if n and "WR" in mem.ops:
        mem.ops["WR"] = max(0.0, mem.ops["WR"] - n * (profile.banks_per_rank - 1))


def _cmds_per_row(profile: Profile, layout: Layout, bytes_per_cmd: float) -> int:
    """All-bank column commands that consume one row of every bank of a rank."""
    rank_row_bytes = profile.banks_per_rank * layout.row_bytes
    return max(1, int(rank_row_bytes // max(1.0, bytes_per_cmd)))


class BankKind(PimKind):
    """Units beside the banks, fed by all-bank internal column commands."""

    modelled_ops: ClassVar[tuple[str, ...]] = ("gemm", "elementwise")

    def channel_bandwidth_gbps(self, dtype: str) -> float:
        """``min(units x access_bytes / column interval, units x lanes x dtype bytes x
        clock)``, the column interval being ``column_cycles`` (or tCCD_L) x tCK."""
        p = self.pim
        dram = p.units_per_channel * p.access_bytes / self._column_ns()
        return min(dram, self.alu_gbps(dtype))

    def _column_ns(self) -> float:
        t = self.profile.timing
        return float(self.pim.column_cycles or t.tCCD_L) * t.tCK_ns

    def _bytes_per_cmd(self) -> float:
        """Bytes one engine command (at tCCD_L) feeds to the units of a channel."""
        t = self.profile.timing
        per_device_cmd = self.pim.units_per_channel * self.pim.access_bytes
        return per_device_cmd * max(1.0, t.tCCD_L * t.tCK_ns / self._column_ns())

    def tile(self, k: Gemm) -> int:
        """Batch columns that share one pass over the weights: ``batch_tile``, at most
        the batch."""
        return max(1, min(self.pim.batch_tile, k.m))

    def pass_stream(self, k: Gemm, layout: Layout, cols: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Addresses, write flags and command flags of one pass over the weights for
        ``cols`` batch columns, on one channel: the columns' input vectors written into
        the units (all-bank writes), the weights read once (all-bank internal reads), the
        columns' outputs read out."""
        profile, pim = self.profile, self.pim
        tx = layout.tx_bytes
        bytes_per_cmd = self._bytes_per_cmd()
        n_rd = self.weight_reads(k)
        n_in = cols * -(-nbytes(k.dtype, k.k) // tx)
        n_out_ch = -(-k.n // len(self.chans))
        n_out = -(-nbytes(k.dtype, cols * n_out_ch * pim.readout_lanes) // tx)
        wname = k.weight or k.name
        rd = layout.pinned_row_stream(f"{wname}:w", n_rd,
                                      _cmds_per_row(profile, layout, bytes_per_cmd))
        wr = layout.pinned_row_stream(f"{wname}:in", n_in, layout.cols_per_row)
        out = layout.buffer_addresses(f"{wname}:out", n_out * tx, channels=(self.chans[0],))
        addr = np.concatenate([wr, rd, out])
        is_write = np.concatenate([np.ones(n_in, bool), np.zeros(n_rd + n_out, bool)])
        flags = np.concatenate([np.full(n_in, FLAG_ALL_BANK, np.uint8),
                                np.full(n_rd, FLAG_ALL_BANK | FLAG_INTERNAL, np.uint8),
                                np.zeros(n_out, np.uint8)])
        return addr, is_write, flags

    def weight_reads(self, k: Gemm) -> int:
        """All-bank internal reads that stream a channel's share of the weights once."""
        w_ch = -(-k.resident_bytes() // len(self.chans))
        return int(np.ceil(w_ch / self._bytes_per_cmd()))

    def _passes(self, k: Gemm, layout: Layout, cols: int, repeat: int) -> MemCost:
        """``repeat`` passes of ``cols`` batch columns each (:meth:`pass_stream`)."""
        addr, is_write, flags = self.pass_stream(k, layout, cols)
        return replay_stream(self.profile, addr, is_write, flags, repeat=repeat)

    def gemm(self, k: Gemm, layout: Layout) -> PimWork:
        """Passes of :meth:`tile` batch columns each (the last one holds the rest); a
        pass streams the weights once (module docstring)."""
        profile, pim, chans = self.profile, self.pim, self.chans
        n_ch = len(chans)
        bytes_per_cmd = self._bytes_per_cmd()
        n_rd = self.weight_reads(k)
        tile = self.tile(k)
        full, rest = divmod(k.m, tile)
        passes = full + (1 if rest else 0)
        mem = self._passes(k, layout, tile, full)
        if rest:
            mem = mem + self._passes(k, layout, rest, 1)
        mem = mem.on_channels(n_ch, profile.dram.channels)
        _charge_used_banks(profile, mem, bytes_per_cmd, layout.tx_bytes)
        _register_writes(profile, mem)
        macs = k.macs()
        readout = pim.readout_lanes
        # rows opened for MACs wait mac_act_extra_ns longer before their first MAC
        act_stall = mem.counts.get("ACT_AB", 0.0) / n_ch * pim.mac_act_extra_ns
        return PimWork(
            mem, alu_ops=macs, alu_ns=macs / pim.alu_ops_per_ns(n_ch, k.dtype, "mac"),
            col_ns=n_rd * passes * profile.timing.tCCD_L * profile.timing.tCK_ns,
            extra_ns=act_stall, dtype=k.dtype,
            internal_bytes=int(n_rd * bytes_per_cmd * n_ch * passes),
            host_flops=k.m * k.n * (readout - 1),
            host_bytes=nbytes(k.dtype, k.m * k.n * readout),
            extra={"passes": passes, "batch_tile": tile, "commands_per_pass": n_rd,
                   "mac_act_stall_ns": act_stall})

    def elementwise(self, k: Elementwise, layout: Layout) -> PimWork:
        profile, pim = self.profile, self.pim
        n_ch = len(self.chans)
        bytes_per_cmd = self._bytes_per_cmd()
        per_row = _cmds_per_row(profile, layout, bytes_per_cmd)
        n_rd = int(np.ceil(k.input_bytes() / n_ch / bytes_per_cmd))
        n_wr = int(np.ceil(k.output_bytes() / n_ch / bytes_per_cmd))
        rd = layout.pinned_row_stream(f"{k.name}:in", n_rd, per_row)
        wr = layout.pinned_row_stream(f"{k.name}:out", n_wr, per_row)
        addr = np.concatenate([rd, wr])
        is_write = np.concatenate([np.zeros(n_rd, bool), np.ones(n_wr, bool)])
        flags = np.full(addr.size, FLAG_ALL_BANK | FLAG_INTERNAL, np.uint8)
        mem = replay_stream(profile, addr, is_write, flags).on_channels(
            n_ch, profile.dram.channels)
        _charge_used_banks(profile, mem, bytes_per_cmd, layout.tx_bytes)
        ops = max(k.flops(), k.m * k.n)
        return PimWork(
            mem, alu_ops=ops, alu_ns=ops / pim.alu_ops_per_ns(n_ch, k.dtype, "add"),
            col_ns=(n_rd + n_wr) * profile.timing.tCCD_L * profile.timing.tCK_ns,
            internal_bytes=int((n_rd + n_wr) * bytes_per_cmd * n_ch), dtype=k.dtype)


class BankSimdKind(BankKind):
    """Samsung HBM2-PIM (Aquabolt-XL): 16-lane FP16 SIMD units, one per two banks."""

    name: ClassVar[str] = "bank_simd"


class BankMacKind(BankKind):
    """SK hynix GDDR6-AiM: a 16-multiplier BF16 MAC unit per bank, global input buffer."""

    name: ClassVar[str] = "bank_mac"

    def tile(self, k: Gemm) -> int:
        """``batch_tile``, at most the input vectors the channel's global buffer holds."""
        held = self.pim.global_buffer_bytes // max(1, nbytes(k.dtype, k.k))
        return max(1, min(super().tile(k), held))
