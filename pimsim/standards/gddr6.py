"""GDDR6 (JESD250): 16n prefetch, bank groups optional, one command bus here.

The profiles take DRAMsim3's GDDR6 timing (GDDR6_8Gb_x16.ini), whose tPPD and t32AW rows
are not modelled: the shipped profiles do not give them.

I/O energy default of a DRAMsim3 import, 5.5 pJ/bit: PCB point-to-point links at 12-16
Gb/s; Micron's "ultra-bandwidth solutions" comparison gives 7.5 pJ/bit average device
energy for GDDR6 (6.0 for HBM2E), of which I/O is the larger part (an estimate inside that
total).
"""

from __future__ import annotations

from pimsim.standards import jedec
from pimsim.standards.pim import with_pim_commands
from pimsim.standards.spec import Dramsim3Dialect

#: How DRAMsim3 reads a GDDR6 .ini (configuration.cc); the I/O default's source is above.
DRAMSIM3 = Dramsim3Dialect(protocols=("GDDR6",), data_rate=16, column_scale="BL",
                           split_rcd=True, io_pj_per_bit=5.5)

STANDARD = with_pim_commands(jedec.BANKGROUP_SDRAM.standard(
    "GDDR6", dramsim3=DRAMSIM3,
    notes="JESD250 GDDR6; tPPD / t32AW not modelled (not in profiles)"))
