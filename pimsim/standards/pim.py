"""PIM commands derived from a standard's own commands, and the one mapping back.

:func:`with_pim_commands` derives, from the external column commands RD/WR/RDA/WRA, the
internal variants RDI/WRI/RDAI/WRAI: same bank, bank-group and rank timing (tRCD, tCCD_S/L,
tRTP, tWR, tWTR, ...), none of the ``data_bus`` rows, since an internal access does not
drive the external bus. Every standard applies it, so the PIM layer gets its commands from
data. All-bank broadcast forms (``ACT_AB``, ``RD_AB``, ``RDI_AB``, ...) are names the
engine reports for a command applied to every bank of a rank; they use the rows of their
base command. :func:`base_command` is the one mapping from any of these names to the base
command whose energy and timing it has.
"""

from __future__ import annotations

from dataclasses import replace

from pimsim.standards.spec import Standard, TimingConstraint

#: External column command -> its internal (in-device, no external bus) variant.
INTERNAL_OF: dict[str, str] = {"RD": "RDI", "WR": "WRI", "RDA": "RDAI", "WRA": "WRAI"}

#: Internal variant -> external column command.
EXTERNAL_OF: dict[str, str] = {v: k for k, v in INTERNAL_OF.items()}

#: Suffix of the all-bank broadcast form of a command (``ACT_AB``).
ALL_BANK_SUFFIX = "_AB"


def base_command(name: str) -> str:
    """The base command of an internal and/or all-bank command name.

    ``RDI_AB`` -> ``RD``, ``WRAI`` -> ``WRA``, ``ACT_AB`` -> ``ACT``; a base name is its own.
    """
    stem = name.removesuffix(ALL_BANK_SUFFIX)
    return EXTERNAL_OF.get(stem, stem)


def is_all_bank(name: str) -> bool:
    """Whether ``name`` is the all-bank broadcast form of a command (one per bank of a rank)."""
    return name.endswith(ALL_BANK_SUFFIX)


def with_pim_commands(std: Standard) -> Standard:
    """Add internal column commands RDI/WRI/RDAI/WRAI derived from RD/WR/RDA/WRA.

    Each non-``data_bus`` constraint naming an external column command is copied with the
    internal variant substituted (on either side); ``data_bus`` rows are not copied.
    """
    names = set(std.command_names)
    new_cmds = list(std.commands)
    for ext, internal in INTERNAL_OF.items():
        if ext in names and internal not in names:
            new_cmds.append(replace(std.command(ext), name=internal, internal=True))
    extra: list[TimingConstraint] = []
    for c in std.constraints:
        if c.data_bus:
            continue
        pre_int = tuple(INTERNAL_OF[x] for x in c.preceding if x in INTERNAL_OF)
        fol_int = tuple(INTERNAL_OF[x] for x in c.following if x in INTERNAL_OF)
        if pre_int:  # internal -> external and internal
            extra.append(replace(c, preceding=pre_int, following=c.following + fol_int))
        if fol_int:  # external -> internal
            extra.append(replace(c, following=fol_int))
    return replace(std, commands=tuple(new_cmds), constraints=std.constraints + tuple(extra))
