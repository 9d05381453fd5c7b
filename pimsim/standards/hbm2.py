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
from pimsim.standards.spec import Dramsim3Dialect

#: How DRAMsim3 reads a HBM2 .ini (configuration.cc); the I/O default's source is above.
DRAMSIM3 = Dramsim3Dialect(protocols=("HBM", "HBM2"), data_rate=2, column_scale="2",
                           split_rcd=True, io_pj_per_bit=0.8)

STANDARD = with_pim_commands(jedec.BANKGROUP_SDRAM.standard(
    "HBM2", dual_command_bus=True, dramsim3=DRAMSIM3,
    notes="JESD235 HBM2; dual command bus (row + column) as DRAMsim3's hbm_dual_cmd"))
