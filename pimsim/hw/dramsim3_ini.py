"""A DRAMsim3 ``.ini`` file as DRAMsim3's ``Config`` reads it: sections of ``key = value``
lines, ``;`` and ``#`` comments, and DRAMsim3's defaults for absent keys
(``src/configuration.cc``, ``Init*Params``). Every value keeps its line, so an import can
say where each number came from and an error names the file, line, key and value.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from pimsim.errors import ProfileError
from pimsim.util.fileio import read_text

#: DRAMsim3's defaults for absent keys (configuration.cc, Init*Params), per section.
DRAMSIM3_DEFAULTS: dict[tuple[str, str], float | int | str] = {
    ("dram_structure", "bankgroups"): 2,
    ("dram_structure", "banks_per_group"): 2,
    ("dram_structure", "rows"): 1 << 16,
    ("dram_structure", "columns"): 1 << 10,
    ("dram_structure", "device_width"): 8,
    ("dram_structure", "BL"): 8,
    ("timing", "tCK"): 1.0,
    ("timing", "AL"): 0,
    ("timing", "CL"): 12,
    ("timing", "CWL"): 12,
    ("timing", "tCCD_L"): 6,
    ("timing", "tCCD_S"): 4,
    ("timing", "tRTRS"): 2,
    ("timing", "tRTP"): 5,
    ("timing", "tWTR_L"): 5,
    ("timing", "tWTR_S"): 5,
    ("timing", "tWR"): 10,
    ("timing", "tRP"): 10,
    ("timing", "tRRD_L"): 4,
    ("timing", "tRRD_S"): 4,
    ("timing", "tRAS"): 24,
    ("timing", "tRCD"): 10,
    ("timing", "tRFC"): 74,
    ("timing", "tREFI"): 7800,
    ("timing", "tFAW"): 50,
    ("timing", "tRCDRD"): 24,
    ("timing", "tRCDWR"): 20,
    ("timing", "tPPD"): 0,
    ("timing", "t32AW"): 330,
    ("power", "VDD"): 1.2,
    ("power", "IDD0"): 48,
    ("power", "IDD2P"): 25,
    ("power", "IDD2N"): 34,
    ("power", "IDD3N"): 43,
    ("power", "IDD4W"): 123,
    ("power", "IDD4R"): 135,
    ("power", "IDD5AB"): 250,
    ("power", "IDD6x"): 31,
    ("system", "channel_size"): 1024,
    ("system", "channels"): 1,
    ("system", "bus_width"): 64,
    ("system", "address_mapping"): "chrobabgraco",
    ("system", "queue_structure"): "PER_BANK",
    ("system", "row_buf_policy"): "OPEN_PAGE",
    ("system", "cmd_queue_size"): 16,
    ("system", "trans_queue_size"): 32,
}

_INI_SECTION = re.compile(r"^\[\s*([^\]]+?)\s*\]$")
_INI_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\-]*)\s*[=:]\s*(.*)$")


class DramsimIni:
    """A parsed .ini file: (section, key) -> (raw value, line)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.values: dict[tuple[str, str], tuple[str, int]] = {}
        text = read_text(path, ProfileError, "the DRAMsim3 file")
        section: str | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split(";", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            match = _INI_SECTION.match(line)
            if match:
                section = match.group(1)
                continue
            match = _INI_KEY.match(line)
            if match is None:
                raise ProfileError(
                    f"{path}:{number}: malformed line {raw.strip()!r}; accepted: "
                    "'[section]', 'key = value', blank lines and ';' or '#' comments"
                )
            if section is None:
                raise ProfileError(
                    f"{path}:{number}: {raw.strip()!r} comes before any [section]; accepted: "
                    "'key = value' lines inside a [section]"
                )
            key, value = match.group(1), match.group(2).strip()
            if (section, key) in self.values:
                first = self.values[(section, key)][1]
                raise ProfileError(
                    f"{path}:{number}: [{section}] {key} given twice (first at line {first}); "
                    "accepted: each key once"
                )
            self.values[(section, key)] = (value, number)

    def has(self, section: str, key: str) -> bool:
        return (section, key) in self.values

    def where(self, section: str, key: str) -> str:
        if (section, key) in self.values:
            return f"{self.path.name}:{self.values[(section, key)][1]}"
        return "DRAMsim3 default (absent from the file)"

    def _raw(self, section: str, key: str) -> tuple[str, str]:
        if (section, key) in self.values:
            value, line = self.values[(section, key)]
            return value, f"{self.path}:{line}"
        if (section, key) in DRAMSIM3_DEFAULTS:
            return str(DRAMSIM3_DEFAULTS[(section, key)]), f"{self.path}"
        raise ProfileError(
            f"{self.path}: [{section}] {key}: missing key; accepted: a '{key} = ...' line in "
            f"[{section}]"
        )

    def integer(self, section: str, key: str) -> int:
        value, where = self._raw(section, key)
        try:
            return int(value, 0)
        except ValueError:
            raise ProfileError(
                f"{where}: [{section}] {key} = {value!r}: not an integer; accepted: an integer"
            ) from None

    def real(self, section: str, key: str) -> float:
        value, where = self._raw(section, key)
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ProfileError(
                f"{where}: [{section}] {key} = {value!r}: not a number; accepted: a finite "
                "number"
            )
        return number

    def text(self, section: str, key: str) -> str:
        return self._raw(section, key)[0]

    def boolean(self, section: str, key: str, default: bool) -> bool:
        if (section, key) not in self.values:
            return default
        value, line = self.values[(section, key)]
        lowered = value.lower()
        if lowered in {"true", "yes", "on", "1"}:
            return True
        if lowered in {"false", "no", "off", "0"}:
            return False
        raise ProfileError(
            f"{self.path}:{line}: [{section}] {key} = {value!r}: not a boolean; accepted: "
            "true/false, yes/no, on/off, 1/0"
        )


