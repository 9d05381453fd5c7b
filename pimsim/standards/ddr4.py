"""DDR4 SDRAM (JESD79-4): bank groups, tCCD_S/L, tRRD_S/L, tWTR_S/L, tFAW, one command bus.

The rows are Ramulator 2's DDR4 table with DRAMsim3's turnaround values (src/timing.cc).

I/O energy default of a DRAMsim3 import, 6.0 pJ/bit: a terminated (POD12) DIMM bus at
3.2 Gb/s; off-chip DDR3/DDR4 interfaces are usually put at several pJ/bit, a large share of
a DIMM access's energy (Li, Reddy and Jacob, "A Performance & Power Comparison of Modern
High-Speed DRAM Architectures", MEMSYS 2018: most of the power is spent in the I/O
interface). No datasheet gives an I/O-only figure; this is an estimate inside that total.
"""

from __future__ import annotations

from pimsim.standards import jedec
from pimsim.standards.pim import with_pim_commands
from pimsim.standards.spec import Dramsim3Dialect

#: How DRAMsim3 reads a DDR4 .ini (configuration.cc); the I/O default's source is above.
DRAMSIM3 = Dramsim3Dialect(protocols=("DDR4",), data_rate=2, column_scale="1",
                           split_rcd=False, io_pj_per_bit=6.0)

STANDARD = with_pim_commands(jedec.BANKGROUP_SDRAM.standard(
    "DDR4", dramsim3=DRAMSIM3,
    notes="JESD79-4 DDR4 SDRAM; rows as Ramulator 2 DDR4 / DRAMsim3 timing.cc"))
