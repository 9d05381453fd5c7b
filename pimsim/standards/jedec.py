"""Named groups of JEDEC rows that several standards share.

Each group is a named tuple of rows; :data:`BANKGROUP_SDRAM` is the :class:`Family` of
groups that DDR4, HBM2, GDDR6 and LPDDR4 all use, and a standard module names the family it
starts from and what it adds (LPDDR4: tPPD and tRPab), so what a standard is can be read in
its own file. The rows follow Ramulator 2's DDR4 / HBM2 tables, with DRAMsim3's
turnaround values (src/timing.cc: read_to_write = RL + burst - WL + tRTRS;
write_to_read_s/l = WL + burst + tWTR_S/L; rank switch = burst + tRTRS), for DDR4
(JESD79-4), HBM2 (JESD235) and GDDR6 (JESD250).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pimsim.standards.spec import (
    CommandSpec,
    Standard,
    TimingConstraint,
    TimingParam,
    TimingRule,
)

#: The four-level hierarchy, outermost first, that the profile's organisation counts
#: (channels, ranks, bankgroups, banks_per_group).
LEVELS_WITH_BANKGROUPS: tuple[str, ...] = ("channel", "rank", "bankgroup", "bank")

#: Row commands, all-bank precharge, all-bank refresh and the four column commands.
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("ACT", "act"),
    CommandSpec("PRE", "pre"),
    CommandSpec("PREA", "prea", scope="rank"),
    CommandSpec("REF", "ref", scope="rank"),
    CommandSpec("RD", "rd"),
    CommandSpec("WR", "wr"),
    CommandSpec("RDA", "rd", auto_precharge=True),
    CommandSpec("WRA", "wr", auto_precharge=True),
)

#: Parameters of every JEDEC SDRAM here, in memory-clock cycles.
TIMING_CORE: tuple[TimingParam, ...] = (
    TimingParam("CL", "read latency (CAS, AL included)"),
    TimingParam("CWL", "write latency (AL included)"),
    TimingParam("tRCD_RD", "ACT to RD"),
    TimingParam("tRCD_WR", "ACT to WR"),
    TimingParam("tRP", "PRE to ACT"),
    TimingParam("tRAS", "ACT to PRE"),
    TimingParam("tRC", "ACT to ACT, same bank"),
)

#: Bank-group parameters: short (other group) and long (same group) spacings.
TIMING_BANKGROUPS: tuple[TimingParam, ...] = (
    TimingParam("tCCD_S", "column to column, other bank group"),
    TimingParam("tCCD_L", "column to column, same bank group"),
    TimingParam("tRRD_S", "ACT to ACT, other bank group"),
    TimingParam("tRRD_L", "ACT to ACT, same bank group"),
)

#: Four-activation window, write recovery, turnarounds, rank switch and refresh.
TIMING_WINDOW_AND_REFRESH: tuple[TimingParam, ...] = (
    TimingParam("tFAW", "window of four ACTs per rank"),
    TimingParam("tWR", "write recovery: end of write data to PRE"),
    TimingParam("tWTR_S", "end of write data to RD, other bank group"),
    TimingParam("tWTR_L", "end of write data to RD, same bank group"),
    TimingParam("tRTP", "RD to PRE"),
    TimingParam("tRTRS", "rank-to-rank switch", minimum=0),
    TimingParam("tRFC", "REF to ACT (all-bank refresh cycle)"),
    TimingParam("tREFI", "average refresh interval"),
)

_RD = ("RD", "RDA")
_WR = ("WR", "WRA")
_CAS = _RD + _WR
TC = TimingConstraint

#: The channel's shared data bus: burst spacing and read/write turnaround.
DATA_BUS_ROWS: tuple[TimingConstraint, ...] = (
    TC("channel", _RD, _RD, "burst", data_bus=True),
    TC("channel", _WR, _WR, "burst", data_bus=True),
    TC("channel", _RD, _WR, "CL + burst + tRTRS - CWL", data_bus=True),
    TC("channel", _WR, _RD, "CWL + burst + tRTRS - CL", data_bus=True),
)

#: Other ranks of the channel: rank switching on the data bus.
RANK_SWITCH_ROWS: tuple[TimingConstraint, ...] = (
    TC("rank", _RD, _CAS, "burst + tRTRS", sibling=True, data_bus=True),
    TC("rank", _WR, _RD, "CWL + burst + tRTRS - CL", sibling=True, data_bus=True),
    TC("rank", _WR, _WR, "burst + tRTRS", sibling=True, data_bus=True),
)

#: One rank: short column and activation spacing, tFAW, all-bank precharge and refresh.
RANK_ROWS: tuple[TimingConstraint, ...] = (
    TC("rank", _RD, _RD, "tCCD_S"),
    TC("rank", _WR, _WR, "tCCD_S"),
    TC("rank", _WR, _RD, "CWL + burst + tWTR_S"),
    TC("rank", ("ACT",), ("ACT",), "tRRD_S"),
    TC("rank", ("ACT",), ("ACT",), "tFAW", window=4),
    TC("rank", ("ACT",), ("PREA",), "tRAS"),
    TC("rank", ("RD",), ("PREA",), "tRTP"),
    TC("rank", ("WR",), ("PREA",), "CWL + burst + tWR"),
    TC("rank", ("PREA",), ("ACT",), "tRP"),
    TC("rank", ("ACT",), ("REF",), "tRC"),
    TC("rank", ("PRE", "PREA"), ("REF",), "tRP"),
    TC("rank", ("RDA",), ("REF",), "tRTP + tRP"),
    TC("rank", ("WRA",), ("REF",), "CWL + burst + tWR + tRP"),
    TC("rank", ("REF",), ("ACT", "REF", "PREA"), "tRFC"),
)

#: One bank group: long column, write-to-read and activation spacing.
BANKGROUP_ROWS: tuple[TimingConstraint, ...] = (
    TC("bankgroup", _RD, _RD, "tCCD_L"),
    TC("bankgroup", _WR, _WR, "tCCD_L"),
    TC("bankgroup", _WR, _RD, "CWL + burst + tWTR_L"),
    TC("bankgroup", ("ACT",), ("ACT",), "tRRD_L"),
)

#: One bank: the row cycle.
BANK_ROWS: tuple[TimingConstraint, ...] = (
    TC("bank", ("ACT",), ("ACT",), "tRC"),
    TC("bank", ("ACT",), _RD, "tRCD_RD"),
    TC("bank", ("ACT",), _WR, "tRCD_WR"),
    TC("bank", ("ACT",), ("PRE",), "tRAS"),
    TC("bank", ("PRE",), ("ACT",), "tRP"),
    TC("bank", ("RD",), ("PRE",), "tRTP"),
    TC("bank", ("WR",), ("PRE",), "CWL + burst + tWR"),
    TC("bank", ("RDA",), ("ACT",), "tRTP + tRP"),
    TC("bank", ("WRA",), ("ACT",), "CWL + burst + tWR + tRP"),
)

#: Consistency rules of the core parameters (a row cycle holds an ACT and a PRE, ...).
RULES_CORE: tuple[TimingRule, ...] = (
    TimingRule("tRC", ">=", "tRAS + tRP"),
    TimingRule("tRAS", ">=", "tRCD_RD"),
    TimingRule("tFAW", ">=", "tRRD_S"),
)

#: A same-group spacing is never shorter than the other-group one.
RULES_BANKGROUPS: tuple[TimingRule, ...] = (
    TimingRule("tRRD_L", ">=", "tRRD_S"),
    TimingRule("tCCD_L", ">=", "tCCD_S"),
    TimingRule("tWTR_L", ">=", "tWTR_S"),
)

#: Precharge to precharge between banks of a rank (LPDDR4 JESD209-4, GDDR6 JESD250;
#: DRAMsim3 src/timing.cc applies it, for LPDDR4 and GDDR, to the other banks of the rank).
TIMING_PPD: tuple[TimingParam, ...] = (
    TimingParam("tPPD", "PRE to PRE, other bank of the rank", minimum=0),
)
PPD_ROWS: tuple[TimingConstraint, ...] = (TC("rank", ("PRE",), ("PRE",), "tPPD"),)

#: Refresh must leave time between refreshes.
RULES_REFRESH: tuple[TimingRule, ...] = (TimingRule("tREFI", ">", "tRFC"),)


@dataclass(frozen=True)
class Family:
    """Levels, commands, timing parameters, constraint rows and rules that standards share."""

    levels: tuple[str, ...]
    commands: tuple[CommandSpec, ...]
    timing: tuple[TimingParam, ...]
    constraints: tuple[TimingConstraint, ...]
    rules: tuple[TimingRule, ...]

    def plus(
        self,
        timing: tuple[TimingParam, ...] = (),
        constraints: tuple[TimingConstraint, ...] = (),
        rules: tuple[TimingRule, ...] = (),
    ) -> Family:
        """This family with more timing parameters, rows and rules."""
        return replace(self, timing=self.timing + timing,
                       constraints=self.constraints + constraints, rules=self.rules + rules)

    def standard(self, name: str, **properties: Any) -> Standard:
        """A :class:`Standard` called ``name`` of this family; ``properties`` are the other
        fields of :class:`Standard` (``dual_command_bus``, ``dramsim3``, ``notes``, ...)."""
        return Standard(name=name, levels=self.levels, commands=self.commands,
                        timing=self.timing, constraints=self.constraints, rules=self.rules,
                        **properties)


#: A JEDEC SDRAM with bank groups, ranks on a shared channel data bus and all-bank refresh:
#: every group above.
BANKGROUP_SDRAM = Family(
    levels=LEVELS_WITH_BANKGROUPS,
    commands=COMMANDS,
    timing=TIMING_CORE + TIMING_BANKGROUPS + TIMING_WINDOW_AND_REFRESH,
    constraints=DATA_BUS_ROWS + RANK_SWITCH_ROWS + RANK_ROWS + BANKGROUP_ROWS + BANK_ROWS,
    rules=RULES_CORE + RULES_BANKGROUPS + RULES_REFRESH,
)
