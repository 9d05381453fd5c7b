"""Import a DRAMsim3 ``.ini`` configuration as a profile, with a provenance note per key.

The file is read the way DRAMsim3's ``Config`` does (``src/configuration.cc``: rank
derivation from ``channel_size``, the per-protocol "column" and burst-cycle conventions,
its defaults for absent keys). Which standard a ``protocol`` names, and that protocol's
conventions, come from each standard's :class:`~pimsim.standards.spec.Dramsim3Dialect`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pimsim.errors import ProfileError
from pimsim.hw.dramsim3_ini import DramsimIni
from pimsim.hw.load import profile_from_dict
from pimsim.hw.schema import Profile
from pimsim.standards import STANDARDS, Standard, eval_latency

#: DRAMsim3 protocol name -> standard, from the registry.
DRAMSIM3_PROTOCOLS: dict[str, Standard] = STANDARDS.by_dramsim3_protocol()

#: I/O energy per bit an import fills in, per standard (DRAMsim3 files carry none); the
#: sources are in each standard's module.
DEFAULT_IO_PJ_PER_BIT: dict[str, float] = {
    s.name: s.dramsim3.io_pj_per_bit for s in STANDARDS.values() if s.dramsim3
}

#: Timing names that an .ini may lack (or DRAMsim3 does not read), the expression DRAMsim3
#: uses in their place, and why.
_DERIVED_TIMING: dict[str, tuple[str, str]] = {
    "tRC": ("tRAS + tRP", "DRAMsim3 computes tRC = tRAS + tRP"),
    "tRPab": ("tRP", "DRAMsim3 has no tRPab: it precharges all banks in tRP"),
}

#: Buffered writes above which DRAMsim3 starts a drain once its command queues are empty
#: (src/controller.cc ScheduleTransaction: ``write_buffer_.size() > 8``).
DRAMSIM3_WRITE_DRAIN_THRESHOLD = 8

#: With one bank group (bankgroup_enable = false folds the banks into one) DRAMsim3 applies
#: the other-group spacing where the same-group one would apply (src/timing.cc, "bankgroups
#: == 1": "the value of tXXX_S should be used instead of tXXX_L"): the _L name takes the
#: _S value.
_SINGLE_GROUP_SHORT: dict[str, str] = {"tCCD_L": "tCCD_S", "tWTR_L": "tWTR_S",
                                       "tRRD_L": "tRRD_S"}


def _dramsim3_choice(ini: DramsimIni, key: str, choices: Mapping[str, str]) -> str:
    value = ini.text("system", key)
    if value.upper() not in choices:
        raise ProfileError(
            f"{ini.path}:{ini.values.get(('system', key), ('', '?'))[1]}: [system] {key} = "
            f"{value!r}: not supported by pimsim; accepted: {', '.join(choices)}"
        )
    return choices[value.upper()]


def _standard_of(ini: DramsimIni) -> tuple[Standard, str]:
    path = ini.path
    accepted = ", ".join(DRAMSIM3_PROTOCOLS)
    if not ini.has("dram_structure", "protocol"):
        raise ProfileError(
            f"{path}: [dram_structure] protocol: missing key; accepted: one of {accepted}")
    raw = ini.text("dram_structure", "protocol")
    if raw not in DRAMSIM3_PROTOCOLS:
        raise ProfileError(
            f"{path}:{ini.values[('dram_structure', 'protocol')][1]}: [dram_structure] "
            f"protocol = {raw!r}: unknown or unsupported protocol; accepted: {accepted}"
        )
    return DRAMSIM3_PROTOCOLS[raw], raw


def _require_positive(ini: DramsimIni, section: str, values: Mapping[str, int]) -> None:
    for key, value in values.items():
        if value < 1:
            raise ProfileError(
                f"{ini.where(section, key)}: [{section}] {key} = {value}: out of range; "
                "accepted: an integer >= 1"
            )


def _ranks(ini: DramsimIni, megs_per_rank: int) -> tuple[int, str]:
    """Ranks per channel as DRAMsim3's CalculateSize derives them, and the note saying so."""
    channel_size_mb = ini.integer("system", "channel_size")
    if megs_per_rank < 1:
        raise ProfileError(
            f"{ini.path}: a rank of this device holds less than 1 MB ({megs_per_rank}); "
            "accepted: rows x columns large enough for DRAMsim3's MB-based size calculation"
        )
    if megs_per_rank > channel_size_mb:
        return 1, (f"channel_size = {channel_size_mb} MB < one rank of {megs_per_rank} MB: "
                   "DRAMsim3 forces 1 rank")
    return channel_size_mb // megs_per_rank, (
        f"channel_size {channel_size_mb} MB / {megs_per_rank} MB per rank "
        f"({ini.where('system', 'channel_size')}; DRAMsim3 CalculateSize)")


def _organisation(ini: DramsimIni, std: Standard, raw: str, note: Any) -> dict[str, Any]:
    """The ``dram`` section (configuration.cc InitDRAMParams / CalculateSize)."""
    dialect = std.dramsim3
    assert dialect is not None  # the protocol map holds only standards with a dialect
    bankgroups = ini.integer("dram_structure", "bankgroups")
    banks_per_group = ini.integer("dram_structure", "banks_per_group")
    note("dram.bankgroups", ini.where("dram_structure", "bankgroups"))
    note("dram.banks_per_group", ini.where("dram_structure", "banks_per_group"))
    if not ini.boolean("dram_structure", "bankgroup_enable", True):
        banks_per_group *= bankgroups
        bankgroups = 1
        text = "bankgroup_enable = false: DRAMsim3 folds all banks into one group"
        note("dram.bankgroups", text)
        note("dram.banks_per_group", text)
    structure = {k: ini.integer("dram_structure", k)
                 for k in ("rows", "columns", "device_width", "BL")}
    system = {k: ini.integer("system", k) for k in ("channels", "bus_width", "channel_size")}
    _require_positive(ini, "dram_structure", structure)
    _require_positive(ini, "system", system)
    columns_file, burst_length = structure["columns"], structure["BL"]
    device_width, bus_width = structure["device_width"], system["bus_width"]
    # DRAMsim3 regulates "column" to mean one device_width-bit physical column: GDDR
    # columns are device_width x BL bits, HBM columns device_width x 2 (prefetch).
    col_note = ini.where("dram_structure", "columns")
    if dialect.column_scale == "BL":
        columns = columns_file * burst_length
        col_note += f"; {columns_file} x BL {burst_length} (DRAMsim3 GDDR column convention)"
    elif dialect.column_scale == "2":
        columns = columns_file * 2
        col_note += f"; {columns_file} x 2 (DRAMsim3 HBM prefetch column convention)"
    else:
        columns = columns_file
    note("dram.columns", col_note)
    for key, ini_key in (("rows", "rows"), ("device_width", "device_width"),
                         ("burst_length", "BL")):
        note(f"dram.{key}", ini.where("dram_structure", ini_key))
    note("dram.channels", ini.where("system", "channels"))
    note("dram.bus_width", ini.where("system", "bus_width"))
    if bus_width % device_width:
        raise ProfileError(
            f"{ini.where('system', 'bus_width')}: [system] bus_width = {bus_width}: not a "
            f"multiple of device_width ({device_width}); accepted: a multiple of {device_width}"
        )
    page_size_bytes = columns * device_width // 8
    megs_per_bank = page_size_bytes * (structure["rows"] // 1024) // 1024
    ranks, rank_note = _ranks(
        ini, megs_per_bank * bankgroups * banks_per_group * (bus_width // device_width))
    note("dram.ranks", rank_note)
    note("dram.data_rate",
         f"DRAMsim3 burst_cycle = BL / {dialect.data_rate} for {raw} (configuration.cc)")
    return {
        "standard": std.name, "channels": system["channels"], "ranks": ranks,
        "bankgroups": bankgroups, "banks_per_group": banks_per_group,
        "rows": structure["rows"], "columns": columns, "device_width": device_width,
        "bus_width": bus_width, "burst_length": burst_length, "data_rate": dialect.data_rate,
    }


def _timing(ini: DramsimIni, std: Standard, bankgroups: int, note: Any) -> dict[str, Any]:
    """The ``timing`` section, one value per timing name of ``std`` (configuration.cc
    InitTimingParams, timing.cc); ``bankgroups`` as DRAMsim3 counts them."""
    dialect = std.dramsim3
    assert dialect is not None
    al = ini.integer("timing", "AL")
    values: dict[str, int] = {}
    for name in std.timing_names:
        if name in ("CL", "CWL"):
            values[name] = al + ini.integer("timing", name)
            note(f"timing.{name}", ini.where("timing", name) + (f"; + AL {al}" if al else ""))
        elif name in ("tRCD_RD", "tRCD_WR"):
            key = name.replace("_", "") if dialect.split_rcd else "tRCD"
            values[name] = ini.integer("timing", key) - (0 if dialect.split_rcd else al)
            note(f"timing.{name}", f"{key}, " + ini.where("timing", key))
        elif name in _DERIVED_TIMING and not ini.has("timing", name):
            continue
        else:
            values[name] = ini.integer("timing", name)
            note(f"timing.{name}", ini.where("timing", name))
    for name, (expr, why) in _DERIVED_TIMING.items():
        if name not in std.timing_names:
            continue
        if name in values:
            note(f"timing.{name}", ini.where("timing", name) + f" ({why})")
        else:
            values[name] = eval_latency(expr, values)
            note(f"timing.{name}", f"{expr} (absent from the file; {why})")
    if bankgroups == 1:
        for same, other in _SINGLE_GROUP_SHORT.items():
            if same in values and other in values and values[same] != values[other]:
                values[same] = values[other]
                note(f"timing.{same}", f"{other} = {values[other]}, "
                     f"{ini.where('timing', other)}: one bank group, DRAMsim3 applies the _S "
                     f"spacing (timing.cc; the file's {same} is not used)")
    if not ini.has("timing", "tRTP") and (ini.has("timing", "tRTP_L")
                                          or ini.has("timing", "tRTP_S")):
        note("timing.tRTP", "DRAMsim3 ignores tRTP_L/tRTP_S and uses its default tRTP = 5")
    note("timing.tCK_ns", ini.where("timing", "tCK"))
    return {"tCK_ns": ini.real("timing", "tCK"), **{n: values[n] for n in std.timing_names}}


def _power(ini: DramsimIni, std: Standard, note: Any) -> dict[str, Any]:
    power: dict[str, Any] = {}
    for key in ("VDD", "IDD0", "IDD2N", "IDD3N", "IDD4R", "IDD4W", "IDD5AB"):
        power[key] = ini.real("power", key)
        note(f"power.{key}", ini.where("power", key))
    for key in ("IDD2P", "IDD3P", "IDD6x"):
        if ini.has("power", key):
            power[key] = ini.real("power", key)
            note(f"power.{key}", ini.where("power", key))
    power["io_pj_per_bit"] = DEFAULT_IO_PJ_PER_BIT[std.name]
    note("power.io_pj_per_bit",
         f"not in DRAMsim3 files: pimsim default for {std.name} "
         f"(sources in pimsim.standards.{std.name.lower()})")
    return power


def _controller(ini: DramsimIni, note: Any) -> dict[str, Any]:
    controller: dict[str, Any] = {
        "address_mapping": ini.text("system", "address_mapping"),
        "page_policy": _dramsim3_choice(
            ini, "row_buf_policy", {"OPEN_PAGE": "open", "CLOSE_PAGE": "close"}),
        "queue_structure": _dramsim3_choice(ini, "queue_structure", {"PER_BANK": "per_bank"}),
        "trans_queue_size": ini.integer("system", "trans_queue_size"),
        "cmd_queue_size": ini.integer("system", "cmd_queue_size"),
        "scheduler": "frfcfs",
        "write_queue": "unified" if ini.boolean("system", "unified_queue", False)
        else "buffered",
        "write_drain_threshold": DRAMSIM3_WRITE_DRAIN_THRESHOLD,
    }
    for key, ini_key in (("address_mapping", "address_mapping"),
                         ("page_policy", "row_buf_policy"),
                         ("queue_structure", "queue_structure"),
                         ("trans_queue_size", "trans_queue_size"),
                         ("cmd_queue_size", "cmd_queue_size")):
        note(f"controller.{key}", ini.where("system", ini_key))
    note("controller.scheduler", "DRAMsim3's command queues schedule FR-FCFS")
    note("controller.write_queue", ini.where("system", "unified_queue")
         + " (unified_queue; DRAMsim3's default false: a write buffer beside the read queue)")
    note("controller.write_buffer_size",
         "absent: trans_queue_size entries (DRAMsim3 controller.cc sizes its write buffer so)")
    note("controller.write_drain_threshold",
         "DRAMsim3 controller.cc: a drain starts above 8 buffered writes with empty command "
         "queues (a constant there, not a key)")
    return controller


def import_dramsim3_with_comments(
    ini_path: str | os.PathLike[str],
) -> tuple[Profile, dict[str, str]]:
    """Import a DRAMsim3 .ini; also return a provenance comment per ``section.key``."""
    path = Path(ini_path)
    ini = DramsimIni(path)
    notes: dict[str, str] = {}
    note = notes.__setitem__
    std, raw = _standard_of(ini)
    note("dram.standard", f"protocol = {raw} ({ini.where('dram_structure', 'protocol')})")
    dram = _organisation(ini, std, raw, note)
    data = {
        "name": path.stem,
        "description": f"Imported from the DRAMsim3 configuration {path.name} "
                       f"({raw}, {dram['channels']} channel(s), {dram['ranks']} "
                       "rank(s)/channel)",
        "dram": dram,
        "timing": _timing(ini, std, dram["bankgroups"], note),
        "power": _power(ini, std, note),
        "controller": _controller(ini, note),
    }
    return profile_from_dict(data, str(path)), notes


def import_dramsim3(ini_path: str | os.PathLike[str]) -> Profile:
    """Read a DRAMsim3 ``.ini`` configuration into a validated :class:`Profile`."""
    return import_dramsim3_with_comments(ini_path)[0]
