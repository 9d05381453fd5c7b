"""GDDR6 (JESD250): 16n prefetch, bank groups optional, one command bus here.

What GDDR6 adds to the JEDEC rows of :mod:`pimsim.standards.jedec`:

- ``t32AW``, the 32-activation window: at most 32 ACTs to a rank's banks in any
  ``t32AW``, on top of tFAW's four (JESD250 lists tFAW and t32AW; DRAMsim3
  src/channel_state.cc ActivationWindowOk checks both for GDDR, with a ring of the last 32
  ACTs per rank, which is this window's semantics). Random streams are bound by it:
  DRAMsim3's GDDR6_8Gb_x16.ini gives t32AW = 420 cycles, 13.1 cycles per ACT, beyond
  tRRD (9) and tFAW / 4 (8).
- ``tPPD``, precharge to precharge between banks (DRAMsim3 src/timing.cc applies it for
  GDDR and LPDDR4).

Bank groups: with ``bankgroup_enable = false`` DRAMsim3 folds the banks into one group and
applies the _S spacings (src/timing.cc: ``bankgroups == 1``); an import writes those values
into the profile's _L names (:mod:`pimsim.hw.dramsim3`), so the engine replays them as
given.

I/O energy default of a DRAMsim3 import, 5.5 pJ/bit: PCB point-to-point links at 12-16
Gb/s; Micron's "ultra-bandwidth solutions" comparison gives 7.5 pJ/bit average device
energy for GDDR6 (6.0 for HBM2E), of which I/O is the larger part (an estimate inside that
total).
"""

from __future__ import annotations

from pimsim.standards import jedec
from pimsim.standards.pim import with_pim_commands
from pimsim.standards.spec import Dramsim3Dialect, TimingConstraint, TimingParam, TimingRule

#: activations a t32AW window holds (JESD250)
ACTS_PER_32AW = 32

TIMING_GDDR6: tuple[TimingParam, ...] = jedec.TIMING_PPD + (
    TimingParam("t32AW", f"window of {ACTS_PER_32AW} ACTs per rank"),
)

ROWS_GDDR6: tuple[TimingConstraint, ...] = jedec.PPD_ROWS + (
    TimingConstraint("rank", ("ACT",), ("ACT",), "t32AW", window=ACTS_PER_32AW),
)

#: a window of 32 activations is no shorter than tFAW's window of four
RULES_GDDR6: tuple[TimingRule, ...] = (TimingRule("t32AW", ">=", "tFAW"),)

#: How DRAMsim3 reads a GDDR6 .ini (configuration.cc); the I/O default's source is above.
DRAMSIM3 = Dramsim3Dialect(protocols=("GDDR6",), data_rate=16, column_scale="BL",
                           split_rcd=True, io_pj_per_bit=5.5)

STANDARD = with_pim_commands(
    jedec.BANKGROUP_SDRAM.plus(TIMING_GDDR6, ROWS_GDDR6, RULES_GDDR6).standard(
        "GDDR6", dramsim3=DRAMSIM3, notes="JESD250 GDDR6, with t32AW and tPPD"))
