"""HBM2 (JESD235): the JEDEC rows per legacy channel, with separate row and column buses.

JESD235's "row and column command interfaces" let one row command (ACT/PRE/REF) and one
column command (RD/WR) issue per cycle on a channel; DRAMsim3 models this as its
hbm_dual_cmd (src/controller.cc). The hierarchy is the legacy-channel form the profiles
use (pseudo-channel mode off): channel, rank (one per channel), bank group, bank.

I/O energy default of a DRAMsim3 import, 0.8 pJ/bit: short, unterminated interposer wires;
HBM2's whole access energy is ~ 4 pJ/bit (O'Connor et al., "Fine-Grained DRAM", MICRO
2017), of which I/O is the smaller part (an estimate inside that total).
"""

from __future__ import annotations

from pimsim.standards import jedec
from pimsim.standards.pim import with_pim_commands
from pimsim.standards.spec import Dramsim3Dialect, Standard

STANDARD = with_pim_commands(Standard(
    name="HBM2",
    levels=jedec.LEVELS_WITH_BANKGROUPS,
    commands=jedec.COMMANDS,
    timing=jedec.TIMING_CORE + jedec.TIMING_BANKGROUPS + jedec.TIMING_WINDOW_AND_REFRESH,
    constraints=(jedec.DATA_BUS_ROWS + jedec.RANK_SWITCH_ROWS + jedec.RANK_ROWS
                 + jedec.BANKGROUP_ROWS + jedec.BANK_ROWS),
    rules=jedec.RULES_CORE + jedec.RULES_BANKGROUPS + jedec.RULES_REFRESH,
    dual_command_bus=True,
    dramsim3=Dramsim3Dialect(protocols=("HBM", "HBM2"), data_rate=2, column_scale="2",
                             split_rcd=True, io_pj_per_bit=0.8),
    notes="JESD235 HBM2; dual command bus (row + column) as DRAMsim3's hbm_dual_cmd",
))
