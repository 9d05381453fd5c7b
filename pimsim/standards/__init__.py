"""DRAM standards as data (Ramulator 2 style): one module per standard, one registry.

Each standard module (``ddr4``, ``hbm2``, ``gddr6``, ``lpddr4``) defines a ``STANDARD``:
its levels, commands, the timing names a profile gives, its constraint rows and rules,
built from the named JEDEC groups of :mod:`pimsim.standards.jedec` it lists.
:data:`STANDARDS` is the read-only registry of every such module, found by
:func:`~pimsim.standards.spec.discover_standards`: adding a standard is adding one file.
:func:`~pimsim.standards.compile.compile_timing` turns a standard and a profile's numbers
into the arrays of the engine in :mod:`pimsim.dram`.
"""

from __future__ import annotations

import sys

from pimsim.standards.compile import (
    DERIVED_NAMES,
    ENGINE_LEVELS,
    N_SLOTS,
    ROLE_CODES,
    SLOT_BANK,
    SLOT_BANKGROUP,
    SLOT_CHANNEL,
    SLOT_RANK,
    SLOT_RANK_SIBLING,
    CompiledTiming,
    compile_timing,
    eval_latency,
    level_slots,
    timing_values,
)
from pimsim.standards.pim import INTERNAL_OF, base_command, is_all_bank, with_pim_commands
from pimsim.standards.spec import (
    CommandSpec,
    Dramsim3Dialect,
    Standard,
    StandardRegistry,
    TimingConstraint,
    TimingParam,
    TimingRule,
    discover_standards,
)

#: Every standard of this package, by name (read-only; lookups ignore case).
STANDARDS: StandardRegistry = discover_standards(sys.modules[__name__])


def get_standard(name: str) -> Standard:
    """The standard called ``name`` (case-insensitive); a ProfileError names the accepted."""
    return STANDARDS[name]


DDR4 = STANDARDS["DDR4"]
HBM2 = STANDARDS["HBM2"]
GDDR6 = STANDARDS["GDDR6"]
LPDDR4 = STANDARDS["LPDDR4"]

__all__ = [
    "CommandSpec", "CompiledTiming", "DDR4", "DERIVED_NAMES", "Dramsim3Dialect",
    "ENGINE_LEVELS", "GDDR6", "HBM2", "INTERNAL_OF", "LPDDR4", "N_SLOTS", "ROLE_CODES",
    "SLOT_BANK", "SLOT_BANKGROUP", "SLOT_CHANNEL", "SLOT_RANK", "SLOT_RANK_SIBLING",
    "STANDARDS", "Standard", "StandardRegistry", "TimingConstraint", "TimingParam",
    "TimingRule", "base_command", "compile_timing", "discover_standards", "eval_latency",
    "get_standard", "is_all_bank", "level_slots", "timing_values", "with_pim_commands",
]
