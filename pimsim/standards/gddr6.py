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
from pimsim.standards.spec import Dramsim3Dialect, Standard

STANDARD = with_pim_commands(Standard(
    name="GDDR6",
    levels=jedec.LEVELS_WITH_BANKGROUPS,
    commands=jedec.COMMANDS,
    timing=jedec.TIMING_CORE + jedec.TIMING_BANKGROUPS + jedec.TIMING_WINDOW_AND_REFRESH,
    constraints=(jedec.DATA_BUS_ROWS + jedec.RANK_SWITCH_ROWS + jedec.RANK_ROWS
                 + jedec.BANKGROUP_ROWS + jedec.BANK_ROWS),
    rules=jedec.RULES_CORE + jedec.RULES_BANKGROUPS + jedec.RULES_REFRESH,
    dramsim3=Dramsim3Dialect(protocols=("GDDR6",), data_rate=16, column_scale="BL",
                             split_rcd=True, io_pj_per_bit=5.5),
    notes="JESD250 GDDR6; tPPD / t32AW not modelled (not in profiles)",
))
