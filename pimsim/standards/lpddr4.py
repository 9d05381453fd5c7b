"""LPDDR4 SDRAM (JESD209-4), as DRAMsim3 models it, plus its all-bank precharge time.

What LPDDR4 adds to the JEDEC rows of :mod:`pimsim.standards.jedec`:

- ``tPPD``, precharge to precharge between banks of a rank (JESD209-4 tPPD = 4 nCK; DRAMsim3
  src/timing.cc applies it, for LPDDR4 and GDDR, to other banks of the same rank);
- ``tRPab``, all-bank precharge to ACT or REF, longer than the per-bank tRP (JESD209-4:
  tRPab = max(21 ns, 4 nCK), tRPpb = max(18 ns, 4 nCK)); DRAMsim3 uses tRP for both.

What the engine cannot express, so it is modelled in its closest form:

- JESD209-4 has 8 banks per channel and no bank groups. DRAMsim3's
  LPDDR4_8Gb_x16_2400.ini nevertheless describes 2 groups of 4 banks with tCCD_S/L,
  tRRD_S/L and tWTR_S/L, and the engine replays a four-level hierarchy: this standard keeps
  the bank-group level and its _S/_L parameters. A profile with ``bankgroups: 1`` and equal
  _S/_L values is the JEDEC form; ``hw_profiles/lpddr4_2400.yaml`` follows the DRAMsim3 file
  so that the two simulators compare on one device.
- Per-bank refresh (REFpb) is not modelled: refresh is all-bank per rank, as DRAMsim3's
  RANK_LEVEL_STAGGERED policy in that file.
- LPDDR4 commands take two or four clocks on the 6-bit command/address bus; every command
  here takes one, as in DRAMsim3.

I/O energy default of a DRAMsim3 import, 3.0 pJ/bit: an estimate at half DDR4's 6.0, since
LPDDR4's LVSTL signalling swings 367 or 440 mV, less than half of LPDDR3's, and its Vssq
termination draws current only while a 0 is driven (JEDEC's JESD209-4 announcement, 2014).
"""

from __future__ import annotations

from pimsim.standards import jedec
from pimsim.standards.pim import with_pim_commands
from pimsim.standards.spec import Dramsim3Dialect, TimingConstraint, TimingParam, TimingRule

TIMING_LPDDR4: tuple[TimingParam, ...] = jedec.TIMING_PPD + (
    TimingParam("tRPab", "all-bank precharge (PREA) to ACT or REF"),
)

ROWS_LPDDR4: tuple[TimingConstraint, ...] = jedec.PPD_ROWS + (
    TimingConstraint("rank", ("PREA",), ("ACT", "REF"), "tRPab"),
)

RULES_LPDDR4: tuple[TimingRule, ...] = (TimingRule("tRPab", ">=", "tRP"),)

#: How DRAMsim3 reads an LPDDR4 .ini (configuration.cc: burst_cycle = BL / 2, one tRCD);
#: the I/O default's source is above.
DRAMSIM3 = Dramsim3Dialect(protocols=("LPDDR4",), data_rate=2, column_scale="1",
                           split_rcd=False, io_pj_per_bit=3.0)

STANDARD = with_pim_commands(
    jedec.BANKGROUP_SDRAM.plus(TIMING_LPDDR4, ROWS_LPDDR4, RULES_LPDDR4).standard(
        "LPDDR4", dramsim3=DRAMSIM3,
        notes="JESD209-4 LPDDR4 as DRAMsim3 models it (bank groups kept), with tPPD, tRPab"))
