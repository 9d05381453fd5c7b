"""Typed hardware profiles: DRAM organisation, timing, power, controller, host and PIM.

A profile is data (YAML in ``hw_profiles/``); the rules of each DRAM standard live in
``pimsim.standards``. Timing values are in memory-clock cycles except ``tCK_ns``.
Currents are in mA (per device), voltages in V, I/O energy in pJ per bit.

Loading (:func:`load_profile`, :func:`profile_from_dict`) validates every key and turns
pydantic's errors into :class:`~pimsim.errors.ProfileError` messages of the form
``FILE:LINE: key.path = VALUE: problem; accepted: ...``. Consistency rules between
fields (tRC >= tRAS + tRP, powers of two for the address mapping, ...) are model
validators, so they also hold for profiles built in Python.

:func:`import_dramsim3` reads a DRAMsim3 ``.ini`` configuration the way DRAMsim3's
``Config`` does (``src/configuration.cc``: rank derivation from ``channel_size``, the
per-protocol "column" and burst-cycle conventions, its defaults for absent keys).

This module is the bottom of pimsim's import graph: it imports nothing from pimsim but
``pimsim.errors``.
"""

from __future__ import annotations

import math
import os
import re
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pimsim.errors import ProfileError
from pimsim.profile_sections import HostSection, PimSection
from pimsim.fileio import atomic_write_text

#: The six address-mapping fields of DRAMsim3 (row, rank, bank group, bank, channel,
#: column); an ``address_mapping`` string is a permutation of them, most significant first.
ADDRESS_FIELDS: tuple[str, ...] = ("ro", "ra", "bg", "ba", "ch", "co")

#: Folder of the profiles shipped with the project, and the environment variable that adds
#: folders (``os.pathsep``-separated, searched first) to the name lookup.
BUILTIN_PROFILE_DIR: Path = Path(__file__).resolve().parents[1] / "hw_profiles"
PROFILE_PATH_ENV = "PIMSIM_PROFILE_PATH"


class _Inconsistent(ValueError):
    """A consistency rule failed; ``key`` is the field to blame inside the section."""

    def __init__(self, key: str, value: Any, problem: str, accepted: str) -> None:
        super().__init__(f"{key} = {value!r}: {problem}; accepted: {accepted}")
        self.key = key
        self.value = value
        self.problem = problem
        self.accepted = accepted


class _BadValue(ValueError):
    """A field's own value is unacceptable (raised by field validators)."""

    def __init__(self, problem: str, accepted: str) -> None:
        super().__init__(f"{problem}; accepted: {accepted}")
        self.problem = problem
        self.accepted = accepted


_NUMBER_TYPES: tuple[Any, ...] = (int, float, int | None, float | None)


def _is_pow2(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


class _Strict(BaseModel):
    """Base model: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic's lax mode would read ``true`` as 1: in a profile that is a mistake.
        if isinstance(value, bool) and info.field_name is not None:
            if cls.model_fields[info.field_name].annotation in _NUMBER_TYPES:
                raise _BadValue("a boolean where a number is expected", "a number")
        return value


class DramOrg(_Strict):
    """Organisation of the memory system (per channel unless said otherwise)."""

    standard: Literal["DDR4", "HBM2", "GDDR6"]
    channels: int = Field(ge=1, le=1024)
    ranks: int = Field(ge=1, le=16, description="ranks per channel")
    bankgroups: int = Field(ge=1, le=16)
    banks_per_group: int = Field(ge=1, le=64)
    rows: int = Field(ge=1, description="rows per bank")
    columns: int = Field(ge=1, description="columns per row (device columns)")
    device_width: int = Field(ge=1, description="DQ bits of one device")
    bus_width: int = Field(ge=1, description="data bus bits of one channel")
    burst_length: int = Field(ge=1, description="BL: transfers per column access")
    data_rate: int = Field(
        default=2, ge=1, le=16, description="data transfers per memory clock on the bus (DDR: 2)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> DramOrg:
        if self.bus_width % self.device_width:
            raise _Inconsistent(
                "bus_width", self.bus_width,
                f"not a multiple of device_width ({self.device_width})",
                f"a multiple of {self.device_width}",
            )
        if self.burst_length % self.data_rate:
            raise _Inconsistent(
                "burst_length", self.burst_length,
                f"not divisible by data_rate ({self.data_rate})",
                f"a multiple of {self.data_rate}",
            )
        if self.columns % self.burst_length:
            raise _Inconsistent(
                "columns", self.columns,
                f"not a multiple of burst_length ({self.burst_length})",
                f"a multiple of {self.burst_length}",
            )
        # The address mapping slices bit fields: every field count must be a power of two.
        for key in ("channels", "ranks", "bankgroups", "banks_per_group", "rows"):
            value = getattr(self, key)
            if not _is_pow2(value):
                raise _Inconsistent(
                    key, value, "not a power of two (the address mapping uses bit fields)",
                    "1, 2, 4, 8, ...",
                )
        if not _is_pow2(self.columns // self.burst_length):
            raise _Inconsistent(
                "columns", self.columns,
                f"columns / burst_length = {self.columns // self.burst_length} is not a power "
                "of two (the address mapping uses bit fields)",
                f"burst_length ({self.burst_length}) x a power of two",
            )
        transaction_bytes = self.bus_width * self.burst_length // 8
        if self.bus_width * self.burst_length % 8 or not _is_pow2(transaction_bytes):
            raise _Inconsistent(
                "bus_width", self.bus_width,
                f"bus_width x burst_length / 8 = {self.bus_width * self.burst_length / 8:g} "
                "bytes per transaction is not a power of two",
                "a bus width that makes bus_width x burst_length / 8 a power of two",
            )
        return self


class Timing(_Strict):
    """Timing parameters: tCK in ns, everything else in memory-clock cycles."""

    tCK_ns: float = Field(gt=0, le=100)
    CL: int = Field(ge=1)
    CWL: int = Field(ge=1)
    tRCD_RD: int = Field(ge=1)
    tRCD_WR: int = Field(ge=1)
    tRP: int = Field(ge=1)
    tRAS: int = Field(ge=1)
    tRC: int = Field(ge=1)
    tCCD_S: int = Field(ge=1)
    tCCD_L: int = Field(ge=1)
    tRRD_S: int = Field(ge=1)
    tRRD_L: int = Field(ge=1)
    tFAW: int = Field(ge=1)
    tWR: int = Field(ge=1)
    tWTR_S: int = Field(ge=1)
    tWTR_L: int = Field(ge=1)
    tRTP: int = Field(ge=1)
    tRTRS: int = Field(ge=0, description="rank-to-rank switch")
    tRFC: int = Field(ge=1)
    tREFI: int = Field(ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> Timing:
        t = self
        if t.tRC < t.tRAS + t.tRP:
            raise _Inconsistent(
                "tRC", t.tRC, f"less than tRAS + tRP = {t.tRAS} + {t.tRP}",
                f">= {t.tRAS + t.tRP}",
            )
        if t.tRAS < t.tRCD_RD:
            raise _Inconsistent(
                "tRAS", t.tRAS, f"less than tRCD_RD = {t.tRCD_RD}", f">= {t.tRCD_RD}"
            )
        if t.tFAW < t.tRRD_S:
            raise _Inconsistent(
                "tFAW", t.tFAW, f"less than tRRD_S = {t.tRRD_S}", f">= {t.tRRD_S}"
            )
        pairs = (("tRRD_L", "tRRD_S"), ("tCCD_L", "tCCD_S"), ("tWTR_L", "tWTR_S"))
        for long_key, short_key in pairs:
            long_v, short_v = getattr(t, long_key), getattr(t, short_key)
            if long_v < short_v:
                raise _Inconsistent(
                    long_key, long_v, f"less than {short_key} = {short_v}", f">= {short_v}"
                )
        if t.tREFI <= t.tRFC:
            raise _Inconsistent(
                "tREFI", t.tREFI, f"not greater than tRFC = {t.tRFC}", f"> {t.tRFC}"
            )
        return self


class Power(_Strict):
    """Supply voltage, IDD currents (mA, per device) and I/O energy."""

    VDD: float = Field(gt=0, le=5)
    IDD0: float = Field(gt=0)
    IDD2N: float = Field(gt=0)
    IDD3N: float = Field(gt=0)
    IDD4R: float = Field(gt=0)
    IDD4W: float = Field(gt=0)
    IDD5AB: float = Field(gt=0)
    IDD2P: float | None = Field(default=None, gt=0)
    IDD3P: float | None = Field(default=None, gt=0)
    IDD6x: float | None = Field(default=None, gt=0)
    io_pj_per_bit: float = Field(ge=0, description="energy per bit moved on the external bus")

    @model_validator(mode="after")
    def _consistent(self) -> Power:
        for key in ("IDD4R", "IDD4W", "IDD5AB", "IDD0"):
            value = getattr(self, key)
            if value < self.IDD3N:
                raise _Inconsistent(
                    key, value, f"less than IDD3N = {self.IDD3N} (negative command energy)",
                    f">= {self.IDD3N}",
                )
        return self


class Controller(_Strict):
    """Memory controller: address mapping, page policy, queues, scheduler."""

    address_mapping: str = Field(description="DRAMsim3 field string, e.g. rorabgbachco")
    page_policy: Literal["open", "close"] = "open"
    queue_structure: Literal["per_bank", "shared"] = "per_bank"
    trans_queue_size: int = Field(default=32, ge=1, le=4096)
    cmd_queue_size: int = Field(default=8, ge=1, le=4096)
    scheduler: Literal["frfcfs", "fcfs"] = "frfcfs"

    @model_validator(mode="after")
    def _consistent(self) -> Controller:
        mapping = self.address_mapping
        fields = [mapping[i : i + 2] for i in range(0, len(mapping), 2)]
        if len(mapping) != 12 or sorted(fields) != sorted(ADDRESS_FIELDS):
            raise _Inconsistent(
                "address_mapping", mapping,
                "not a permutation of the six two-letter fields",
                "a 12-letter string using each of ro ra bg ba ch co once, "
                "most significant first, e.g. 'rorabgbachco'",
            )
        return self


class Profile(_Strict):
    """A whole hardware profile. ``host`` and ``pim`` are filled by the PIM issue."""

    name: str = Field(min_length=1)
    description: str = ""
    dram: DramOrg
    timing: Timing
    power: Power
    controller: Controller
    host: HostSection | None = None
    pim: PimSection | None = None

    # --- derived quantities (no state; computed from the fields) ---------------------
    @property
    def banks_per_rank(self) -> int:
        return self.dram.bankgroups * self.dram.banks_per_group

    @property
    def devices_per_rank(self) -> int:
        return max(1, self.dram.bus_width // self.dram.device_width)

    @property
    def burst_cycles(self) -> int:
        """Data-bus cycles of one burst: BL / data_rate."""
        return max(1, self.dram.burst_length // self.dram.data_rate)

    @property
    def transaction_bytes(self) -> int:
        """Bytes of one column access on the channel: bus_width / 8 x BL."""
        return self.dram.bus_width // 8 * self.dram.burst_length

    @property
    def peak_bandwidth_gbps(self) -> float:
        """Peak external bandwidth in GB/s (1e9 bytes/s) over all channels."""
        bytes_per_cycle = self.dram.bus_width / 8 * self.dram.data_rate
        return self.dram.channels * bytes_per_cycle / self.timing.tCK_ns

    @property
    def row_bytes(self) -> int:
        """Bytes of one row across the rank (page size x devices per rank)."""
        return self.dram.columns * self.dram.bus_width // 8

    @property
    def capacity_bytes(self) -> int:
        """Total capacity: channels x ranks x banks x rows x row bytes."""
        d = self.dram
        return d.channels * d.ranks * self.banks_per_rank * d.rows * self.row_bytes

    @property
    def refresh_derated_peak_gbps(self) -> float:
        """Peak bandwidth less the share of time all-bank refresh blocks a rank."""
        t = self.timing
        return self.peak_bandwidth_gbps * (1.0 - t.tRFC / t.tREFI)

    def summary(self) -> dict[str, Any]:
        """A short dict that people read (used by ``pimsim profile check``)."""
        d, t = self.dram, self.timing
        return {
            "name": self.name,
            "standard": d.standard,
            "channels": d.channels,
            "ranks_per_channel": d.ranks,
            "banks_per_rank": self.banks_per_rank,
            "devices_per_rank": self.devices_per_rank,
            "capacity_gib": self.capacity_bytes / 2**30,
            "tCK_ns": t.tCK_ns,
            "transaction_bytes": self.transaction_bytes,
            "burst_cycles": self.burst_cycles,
            "peak_bandwidth_gbps": self.peak_bandwidth_gbps,
            "refresh_derated_peak_gbps": self.refresh_derated_peak_gbps,
            "row_miss_read_latency_ns": (t.tRCD_RD + t.CL + self.burst_cycles) * t.tCK_ns,
            "address_mapping": self.controller.address_mapping,
            "page_policy": self.controller.page_policy,
        }


# ---------------------------------------------------------------------------------------
# YAML with line numbers
# ---------------------------------------------------------------------------------------

KeyPath = tuple[str | int, ...]


def _load_yaml_with_lines(text: str, source: str) -> tuple[Any, dict[KeyPath, int]]:
    """Parse YAML; return the data and the 1-based line of every mapping key by path."""
    lines: dict[KeyPath, int] = {}
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, lines
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "syntax error"
        raise ProfileError(f"{source}{line}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"{source}: YAML syntax error: {exc}") from None

    def walk(n: yaml.Node, path: KeyPath) -> None:
        if isinstance(n, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in n.value:
                key = key_node.value
                line = key_node.start_mark.line + 1
                if key in seen:
                    dotted = ".".join(str(p) for p in (*path, key))
                    raise ProfileError(
                        f"{source}:{line}: {dotted}: duplicate key (first at line "
                        f"{seen[key]}); accepted: each key once"
                    )
                seen[key] = line
                lines[(*path, key)] = line
                walk(value_node, (*path, key))
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                lines.setdefault((*path, i), item.start_mark.line + 1)
                walk(item, (*path, i))

    walk(node, ())
    return data, lines


def _model_at(loc: KeyPath) -> type[BaseModel] | None:
    """The pydantic model that holds the mapping at ``loc`` (a path of keys), if any."""
    model: type[BaseModel] | None = Profile
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        candidates = (annotation, *typing.get_args(annotation))
        model = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
    return model


def _lookup(data: Any, loc: KeyPath) -> tuple[bool, Any]:
    cur = data
    for part in loc:
        if isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            cur = cur[part]
        else:
            return False, None
    return True, cur


def _line_of(lines: Mapping[KeyPath, int], loc: KeyPath) -> int | None:
    for cut in range(len(loc), 0, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None


def _describe_constraint(err: Mapping[str, Any]) -> str:
    ctx = err.get("ctx") or {}
    kind = err["type"]
    if kind == "greater_than_equal":
        return f">= {ctx.get('ge')}"
    if kind == "greater_than":
        return f"> {ctx.get('gt')}"
    if kind == "less_than_equal":
        return f"<= {ctx.get('le')}"
    if kind == "less_than":
        return f"< {ctx.get('lt')}"
    if kind == "literal_error":
        return f"one of {ctx.get('expected')}"
    if kind.startswith("int_") or kind == "int_type":
        return "an integer"
    if kind.startswith("float_"):
        return "a number"
    if kind.startswith("string_"):
        if kind == "string_too_short":
            return "a non-empty string"
        return "a string"
    if kind.startswith("dict_") or kind == "model_type":
        return "a mapping of keys to values"
    if kind.startswith("bool_"):
        return "true or false"
    return err.get("msg", "a valid value")


def _format_validation_error(
    exc: ValidationError, data: Any, lines: Mapping[KeyPath, int], source: str
) -> str:
    """Turn pydantic's errors into ProfileError lines: FILE:LINE: key = value: problem."""
    messages: list[str] = []
    for err in exc.errors(include_url=False):
        loc: KeyPath = tuple(err["loc"])
        kind = err["type"]
        ctx = err.get("ctx") or {}
        inner = ctx.get("error")
        if isinstance(inner, _Inconsistent):
            loc = (*loc, inner.key)
            problem, accepted = inner.problem, inner.accepted
            value_text = f" = {inner.value!r}"
        elif isinstance(inner, _BadValue):
            found, value = _lookup(data, loc)
            value_text = f" = {value!r}" if found else ""
            problem, accepted = inner.problem, inner.accepted
        else:
            found, value = _lookup(data, loc)
            value_text = f" = {value!r}" if found else ""
            if kind == "extra_forbidden":
                parent = _model_at(loc[:-1])
                known = ", ".join(parent.model_fields) if parent is not None else "?"
                problem, accepted = "unknown key", f"the keys {known}"
            elif kind == "missing":
                parent = _model_at(loc[:-1])
                problem = "missing key"
                accepted = "a value for it"
                if parent is not None and loc and loc[-1] in parent.model_fields:
                    desc = parent.model_fields[str(loc[-1])].description
                    if desc:
                        accepted = f"a value for it ({desc})"
            else:
                problem = str(err.get("msg", "invalid value"))
                problem = problem[:1].lower() + problem[1:]
                if kind in {"model_type", "dict_type"} and found:
                    problem = f"expected a mapping, found {type(value).__name__}"
                accepted = _describe_constraint(err)
        line = _line_of(lines, loc)
        where = f"{source}:{line}" if line is not None else source
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        messages.append(f"{where}: {dotted}{value_text}: {problem}; accepted: {accepted}")
    if len(messages) == 1:
        return messages[0]
    return f"{len(messages)} problems in {source}:\n  " + "\n  ".join(messages)


def profile_from_dict(
    data: Any, source: str, lines: Mapping[KeyPath, int] | None = None
) -> Profile:
    """Validate a dict (parsed YAML) into a :class:`Profile`.

    ``source`` names the input in messages (a file path, or e.g. ``"<dict>"``); ``lines``
    maps key paths to YAML line numbers when the dict came from a file.
    """
    lines = lines or {}
    if not isinstance(data, Mapping):
        raise ProfileError(
            f"{source}: the profile is a {type(data).__name__}; accepted: a mapping with "
            "the sections name, dram, timing, power, controller (and optional description, "
            "host, pim)"
        )
    try:
        return Profile.model_validate(dict(data))
    except ValidationError as exc:
        raise ProfileError(_format_validation_error(exc, data, lines, source)) from None


# ---------------------------------------------------------------------------------------
# Finding, loading and saving profiles
# ---------------------------------------------------------------------------------------

def profile_dirs() -> list[Path]:
    """Folders searched for profile names: ``$PIMSIM_PROFILE_PATH`` first, then built-ins."""
    dirs: list[Path] = []
    env = os.environ.get(PROFILE_PATH_ENV, "")
    for part in env.split(os.pathsep):
        if part.strip():
            dirs.append(Path(part.strip()).expanduser())
    dirs.append(BUILTIN_PROFILE_DIR)
    return dirs


def list_profiles() -> list[Path]:
    """Every ``*.yaml``/``*.yml`` profile on the search path; earlier folders win by name."""
    found: dict[str, Path] = {}
    for folder in profile_dirs():
        if not folder.is_dir():
            continue
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            found.setdefault(path.stem, path)
    return sorted(found.values(), key=lambda p: p.stem)


def resolve_profile_path(path_or_name: str | os.PathLike[str]) -> Path:
    """A file path as given, or a bare name looked up on :func:`profile_dirs`."""
    text = os.fspath(path_or_name)
    candidate = Path(text).expanduser()
    looks_like_path = (
        candidate.suffix in {".yaml", ".yml"} or os.sep in text or "/" in text
    )
    if candidate.is_file():
        return candidate
    if looks_like_path:
        raise ProfileError(f"{text}: no such profile file; accepted: an existing YAML file "
                           "or a profile name")
    for folder in profile_dirs():
        for ext in (".yaml", ".yml"):
            path = folder / f"{text}{ext}"
            if path.is_file():
                return path
    names = ", ".join(p.stem for p in list_profiles()) or "(none found)"
    raise ProfileError(
        f"{text!r}: no such profile name in {', '.join(str(d) for d in profile_dirs())}; "
        f"accepted: a YAML file path or one of {names}"
    )


def load_profile(path_or_name: str | os.PathLike[str]) -> Profile:
    """Load and validate a profile from a YAML file or a name such as ``"hbm2"``."""
    path = resolve_profile_path(path_or_name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read the profile: {exc}") from None
    data, lines = _load_yaml_with_lines(text, str(path))
    if data is None:
        raise ProfileError(f"{path}: the file is empty; accepted: a YAML profile mapping")
    return profile_from_dict(data, str(path), lines)


def _yaml_scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    if text.endswith("\n...") or text.endswith("..."):
        text = text.rsplit("\n", 1)[0].strip()
    return text


def profile_to_yaml(
    profile: Profile,
    comments: Mapping[str, str] | None = None,
    header: Iterable[str] = (),
) -> str:
    """YAML text of a profile; ``comments`` maps ``section.key`` to an end-of-line comment."""
    comments = comments or {}
    data = profile.model_dump(mode="json", exclude_none=True)
    out: list[str] = [f"# {line}".rstrip() for line in header]

    def comment(key: str) -> str:
        text = comments.get(key)
        return f"  # {text}" if text else ""

    for top, value in data.items():
        if isinstance(value, dict):
            out.append(f"{top}:{comment(top)}")
            for key, sub in value.items():
                dotted = f"{top}.{key}"
                if isinstance(sub, (dict, list)):
                    block = yaml.safe_dump({key: sub}, sort_keys=False, width=10_000)
                    out.extend("  " + line for line in block.rstrip("\n").splitlines())
                else:
                    out.append(f"  {key}: {_yaml_scalar(sub)}{comment(dotted)}")
        else:
            out.append(f"{top}: {_yaml_scalar(value)}{comment(top)}")
    return "\n".join(out) + "\n"


def save_profile(
    profile: Profile,
    path: str | os.PathLike[str],
    comments: Mapping[str, str] | None = None,
    header: Iterable[str] = (),
) -> Path:
    """Write a profile as YAML atomically (temporary file in the same folder, then rename)."""
    target = Path(path)
    atomic_write_text(target, profile_to_yaml(profile, comments, header))
    return target


# ---------------------------------------------------------------------------------------
# DRAMsim3 .ini import
# ---------------------------------------------------------------------------------------

#: DRAMsim3 protocol name -> pimsim standard.
_DRAMSIM3_PROTOCOLS: dict[str, Literal["DDR4", "HBM2", "GDDR6"]] = {
    "DDR4": "DDR4", "HBM": "HBM2", "HBM2": "HBM2", "GDDR6": "GDDR6",
}

#: Transfers per memory clock as DRAMsim3 times a burst (configuration.cc, InitDRAMParams:
#: GDDR6 burst_cycle = BL / 16, every other supported protocol BL / 2).
_DRAMSIM3_DATA_RATE: dict[str, int] = {"DDR4": 2, "HBM2": 2, "GDDR6": 16}

#: I/O energy per bit on the external bus. DRAMsim3 files carry none, so pimsim takes a
#: default per protocol. These are estimates (no datasheet gives an I/O-only figure),
#: chosen inside published totals:
#: - DDR4 6.0: a terminated (POD12) DIMM bus at 3.2 Gb/s; off-chip DDR3/DDR4 interfaces are
#:   usually put at several pJ/bit, a large share of a DIMM access's energy (Li, Reddy and
#:   Jacob, "A Performance & Power Comparison of Modern High-Speed DRAM Architectures",
#:   MEMSYS 2018: most of the power is spent in the I/O interface).
#: - HBM2 0.8: short, unterminated interposer wires; HBM2's whole access energy is ~ 4 pJ/bit
#:   (O'Connor et al., "Fine-Grained DRAM", MICRO 2017), of which I/O is the smaller part.
#: - GDDR6 5.5: PCB point-to-point links at 12-16 Gb/s; Micron's "ultra-bandwidth solutions"
#:   comparison gives 7.5 pJ/bit average device energy for GDDR6 (6.0 for HBM2E), of which
#:   I/O is the larger part.
DEFAULT_IO_PJ_PER_BIT: dict[str, float] = {"DDR4": 6.0, "HBM2": 0.8, "GDDR6": 5.5}

#: DRAMsim3's defaults for absent keys (configuration.cc, Init*Params), per section.
_DRAMSIM3_DEFAULTS: dict[tuple[str, str], float | int | str] = {
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


class _Ini:
    """A parsed .ini file: (section, key) -> (raw value, line)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.values: dict[tuple[str, str], tuple[str, int]] = {}
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(f"{path}: cannot read the DRAMsim3 file: {exc}") from None
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
        if (section, key) in _DRAMSIM3_DEFAULTS:
            return str(_DRAMSIM3_DEFAULTS[(section, key)]), f"{self.path}"
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


def _dramsim3_choice(ini: _Ini, key: str, choices: Mapping[str, str]) -> str:
    value = ini.text("system", key)
    if value.upper() not in choices:
        raise ProfileError(
            f"{ini.path}:{ini.values.get(('system', key), ('', '?'))[1]}: [system] {key} = "
            f"{value!r}: not supported by pimsim; accepted: {', '.join(choices)}"
        )
    return choices[value.upper()]


def import_dramsim3_with_comments(
    ini_path: str | os.PathLike[str],
) -> tuple[Profile, dict[str, str]]:
    """Import a DRAMsim3 .ini; also return a provenance comment per ``section.key``."""
    path = Path(ini_path)
    ini = _Ini(path)
    src = path.name
    notes: dict[str, str] = {}

    def note(key: str, text: str) -> None:
        notes[key] = text

    if not ini.has("dram_structure", "protocol"):
        raise ProfileError(
            f"{path}: [dram_structure] protocol: missing key; accepted: one of "
            f"{', '.join(_DRAMSIM3_PROTOCOLS)}"
        )
    protocol_raw = ini.text("dram_structure", "protocol")
    if protocol_raw not in _DRAMSIM3_PROTOCOLS:
        raise ProfileError(
            f"{path}:{ini.values[('dram_structure', 'protocol')][1]}: [dram_structure] "
            f"protocol = {protocol_raw!r}: unknown or unsupported protocol; accepted: "
            f"{', '.join(_DRAMSIM3_PROTOCOLS)}"
        )
    standard = _DRAMSIM3_PROTOCOLS[protocol_raw]
    is_gddr = standard == "GDDR6"
    is_hbm = standard == "HBM2"
    note("dram.standard", f"protocol = {protocol_raw} ({ini.where('dram_structure', 'protocol')})")

    # --- organisation (configuration.cc InitDRAMParams / CalculateSize) ------------------
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
    rows = ini.integer("dram_structure", "rows")
    columns_file = ini.integer("dram_structure", "columns")
    device_width = ini.integer("dram_structure", "device_width")
    burst_length = ini.integer("dram_structure", "BL")
    channels = ini.integer("system", "channels")
    bus_width = ini.integer("system", "bus_width")
    channel_size_mb = ini.integer("system", "channel_size")
    for key, value in (("rows", rows), ("columns", columns_file),
                       ("device_width", device_width), ("BL", burst_length)):
        if value < 1:
            raise ProfileError(
                f"{ini.where('dram_structure', key)}: [dram_structure] {key} = {value}: "
                "out of range; accepted: an integer >= 1"
            )
    for key, value in (("channels", channels), ("bus_width", bus_width),
                       ("channel_size", channel_size_mb)):
        if value < 1:
            raise ProfileError(
                f"{ini.where('system', key)}: [system] {key} = {value}: out of range; "
                "accepted: an integer >= 1"
            )
    # DRAMsim3 regulates "column" to mean one device_width-bit physical column: GDDR
    # columns are device_width x BL bits, HBM columns device_width x 2 (prefetch).
    columns = columns_file * burst_length if is_gddr else columns_file * 2 if is_hbm \
        else columns_file
    note("dram.rows", ini.where("dram_structure", "rows"))
    col_note = ini.where("dram_structure", "columns")
    if is_gddr:
        col_note += f"; {columns_file} x BL {burst_length} (DRAMsim3 GDDR column convention)"
    elif is_hbm:
        col_note += f"; {columns_file} x 2 (DRAMsim3 HBM prefetch column convention)"
    note("dram.columns", col_note)
    note("dram.device_width", ini.where("dram_structure", "device_width"))
    note("dram.burst_length", ini.where("dram_structure", "BL"))
    note("dram.channels", ini.where("system", "channels"))
    note("dram.bus_width", ini.where("system", "bus_width"))
    if bus_width % device_width:
        raise ProfileError(
            f"{ini.where('system', 'bus_width')}: [system] bus_width = {bus_width}: not a "
            f"multiple of device_width ({device_width}); accepted: a multiple of {device_width}"
        )
    devices_per_rank = bus_width // device_width
    page_size_bytes = columns * device_width // 8
    megs_per_bank = page_size_bytes * (rows // 1024) // 1024
    megs_per_rank = megs_per_bank * bankgroups * banks_per_group * devices_per_rank
    if megs_per_rank < 1:
        raise ProfileError(
            f"{path}: a rank of this device holds less than 1 MB ({megs_per_rank}); accepted: "
            "rows x columns large enough for DRAMsim3's MB-based size calculation"
        )
    if megs_per_rank > channel_size_mb:
        ranks = 1
        rank_note = (f"channel_size = {channel_size_mb} MB < one rank of {megs_per_rank} MB: "
                     "DRAMsim3 forces 1 rank")
    else:
        ranks = channel_size_mb // megs_per_rank
        rank_note = (f"channel_size {channel_size_mb} MB / {megs_per_rank} MB per rank "
                     f"({ini.where('system', 'channel_size')}; DRAMsim3 CalculateSize)")
    note("dram.ranks", rank_note)
    data_rate = _DRAMSIM3_DATA_RATE[standard]
    note("dram.data_rate",
         f"DRAMsim3 burst_cycle = BL / {data_rate} for {protocol_raw} (configuration.cc)")

    # --- timing (configuration.cc InitTimingParams, timing.cc) ----------------------------
    al = ini.integer("timing", "AL")
    timing: dict[str, Any] = {"tCK_ns": ini.real("timing", "tCK")}
    note("timing.tCK_ns", ini.where("timing", "tCK"))
    timing["CL"] = al + ini.integer("timing", "CL")
    timing["CWL"] = al + ini.integer("timing", "CWL")
    note("timing.CL", ini.where("timing", "CL") + (f"; + AL {al}" if al else ""))
    note("timing.CWL", ini.where("timing", "CWL") + (f"; + AL {al}" if al else ""))
    if is_gddr or is_hbm:
        timing["tRCD_RD"] = ini.integer("timing", "tRCDRD")
        timing["tRCD_WR"] = ini.integer("timing", "tRCDWR")
        note("timing.tRCD_RD", "tRCDRD, " + ini.where("timing", "tRCDRD"))
        note("timing.tRCD_WR", "tRCDWR, " + ini.where("timing", "tRCDWR"))
    else:
        trcd = ini.integer("timing", "tRCD") - al
        timing["tRCD_RD"] = timing["tRCD_WR"] = trcd
        note("timing.tRCD_RD", "tRCD, " + ini.where("timing", "tRCD"))
        note("timing.tRCD_WR", "tRCD, " + ini.where("timing", "tRCD"))
    simple = ("tRP", "tRAS", "tCCD_S", "tCCD_L", "tRRD_S", "tRRD_L", "tFAW", "tWR",
              "tWTR_S", "tWTR_L", "tRTP", "tRTRS", "tRFC", "tREFI")
    for key in simple:
        timing[key] = ini.integer("timing", key)
        note(f"timing.{key}", ini.where("timing", key))
    if not ini.has("timing", "tRTP") and (ini.has("timing", "tRTP_L")
                                          or ini.has("timing", "tRTP_S")):
        note("timing.tRTP", "DRAMsim3 ignores tRTP_L/tRTP_S and uses its default tRTP = 5")
    if ini.has("timing", "tRC"):
        timing["tRC"] = ini.integer("timing", "tRC")
        note("timing.tRC", ini.where("timing", "tRC")
             + " (DRAMsim3 itself always uses tRAS + tRP)")
    else:
        timing["tRC"] = timing["tRAS"] + timing["tRP"]
        note("timing.tRC", "tRAS + tRP (absent from the file; DRAMsim3 computes it so)")

    # --- power ---------------------------------------------------------------------------
    power: dict[str, Any] = {}
    for key in ("VDD", "IDD0", "IDD2N", "IDD3N", "IDD4R", "IDD4W", "IDD5AB"):
        power[key] = ini.real("power", key)
        note(f"power.{key}", ini.where("power", key))
    for key in ("IDD2P", "IDD3P", "IDD6x"):
        if ini.has("power", key):
            power[key] = ini.real("power", key)
            note(f"power.{key}", ini.where("power", key))
    power["io_pj_per_bit"] = DEFAULT_IO_PJ_PER_BIT[standard]
    note("power.io_pj_per_bit",
         f"not in DRAMsim3 files: pimsim default for {standard} "
         "(sources in pimsim.profile.DEFAULT_IO_PJ_PER_BIT)")

    # --- controller ----------------------------------------------------------------------
    controller: dict[str, Any] = {
        "address_mapping": ini.text("system", "address_mapping"),
        "page_policy": _dramsim3_choice(
            ini, "row_buf_policy", {"OPEN_PAGE": "open", "CLOSE_PAGE": "close"}),
        "queue_structure": _dramsim3_choice(ini, "queue_structure", {"PER_BANK": "per_bank"}),
        "trans_queue_size": ini.integer("system", "trans_queue_size"),
        "cmd_queue_size": ini.integer("system", "cmd_queue_size"),
        "scheduler": "frfcfs",
    }
    for key, ini_key in (("address_mapping", "address_mapping"),
                         ("page_policy", "row_buf_policy"),
                         ("queue_structure", "queue_structure"),
                         ("trans_queue_size", "trans_queue_size"),
                         ("cmd_queue_size", "cmd_queue_size")):
        note(f"controller.{key}", ini.where("system", ini_key))
    note("controller.scheduler", "DRAMsim3's command queues schedule FR-FCFS")

    data = {
        "name": path.stem,
        "description": f"Imported from the DRAMsim3 configuration {src} "
                       f"({protocol_raw}, {channels} channel(s), {ranks} rank(s)/channel)",
        "dram": {
            "standard": standard, "channels": channels, "ranks": ranks,
            "bankgroups": bankgroups, "banks_per_group": banks_per_group, "rows": rows,
            "columns": columns, "device_width": device_width, "bus_width": bus_width,
            "burst_length": burst_length, "data_rate": data_rate,
        },
        "timing": timing,
        "power": power,
        "controller": controller,
    }
    return profile_from_dict(data, str(path)), notes


def import_dramsim3(ini_path: str | os.PathLike[str]) -> Profile:
    """Read a DRAMsim3 ``.ini`` configuration into a validated :class:`Profile`."""
    return import_dramsim3_with_comments(ini_path)[0]
