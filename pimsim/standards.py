"""DRAM standards as data, in the manner of Ramulator 2.

A :class:`Standard` is a name, the hierarchy levels, a command set and a list of
:class:`TimingConstraint` rows ``(level, preceding, following, latency, window, sibling)``.
Latencies are names of profile timing fields, or small expressions of them
(``"CL + burst + tRTRS - CWL"``; ``burst`` is the profile's data-bus cycles per burst,
``max(a, b)`` is allowed). Profiles give the numbers, standards give the rules: the one
generic engine in :mod:`pimsim.dram` reads the arrays that :func:`compile_timing` makes.

Meaning of a row (Ramulator 2 semantics): after a ``preceding`` command to a node of
``level`` (a bank, a bank group, a rank or a channel), a ``following`` command to the same
node (``sibling=False``) or to another node under the same parent (``sibling=True``, e.g.
another rank of the channel) must wait ``latency`` cycles. With ``window=W > 1`` the
following command must wait ``latency`` after the W-th most recent preceding command
(tFAW: four activations per window per rank). ``data_bus=True`` marks a constraint that
exists only because the command moves data over the channel's external data bus (burst
spacing, read/write turnaround, rank switching): PIM column commands that stay inside the
device ("internal" reads and writes) are exempt from exactly those rows.

PIM extension (issue 3). :func:`with_pim_commands` derives, from the external column
commands RD/WR/RDA/WRA, the internal variants RDI/WRI/RDAI/WRAI: same bank, bank-group and
rank timing (tRCD, tCCD_S/L, tRTP, tWR, tWTR, ...), none of the ``data_bus`` rows. Every
standard built here carries them, so adding a standard is adding data and the PIM layer gets
its commands for free. All-bank broadcast forms (``ACT_AB``, ``RD_AB``, ``PRE_AB``, ...)
use the timing rows of their base command; the engine applies them to every bank of a rank
(see :mod:`pimsim.dram`).
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from pimsim.errors import PimsimError, ProfileError

#: Hierarchy levels of every standard here, outermost first.
LEVELS: tuple[str, ...] = ("channel", "rank", "bankgroup", "bank")

#: Level slots of the compiled latency table ``lat[slot, prev, next]``.
SLOT_BANK, SLOT_BANKGROUP, SLOT_RANK, SLOT_RANK_SIBLING, SLOT_CHANNEL = range(5)
N_SLOTS = 5

#: Timing names an expression may use, besides the profile's Timing fields.
DERIVED_NAMES: tuple[str, ...] = ("burst",)


@dataclass(frozen=True)
class TimingConstraint:
    """One timing rule: ``following`` waits ``latency`` after ``preceding`` at ``level``."""

    level: str
    preceding: tuple[str, ...]
    following: tuple[str, ...]
    latency: str
    window: int = 1
    sibling: bool = False
    data_bus: bool = False


@dataclass(frozen=True)
class CommandSpec:
    """A command of a standard.

    ``role`` says what the command does to the bank state machine and which queue item it
    serves: ``act`` opens a row, ``pre`` closes one, ``prea`` closes all banks of a rank,
    ``ref`` refreshes a rank, ``rd``/``wr`` are column accesses. ``scope`` is ``bank`` or
    ``rank``. ``auto_precharge`` closes the row after the access; ``internal`` column
    accesses do not use the external data bus.
    """

    name: str
    role: str
    scope: str = "bank"
    auto_precharge: bool = False
    internal: bool = False

    @property
    def is_column(self) -> bool:
        return self.role in ("rd", "wr")


@dataclass(frozen=True)
class Standard:
    """A DRAM standard: levels, commands and timing constraints, plus a few properties."""

    name: str
    levels: tuple[str, ...]
    commands: tuple[CommandSpec, ...]
    constraints: tuple[TimingConstraint, ...]
    #: separate row and column command buses (HBM, JESD235): per cycle one row command
    #: (ACT/PRE/REF) and one column command (RD/WR) may issue on a channel.
    dual_command_bus: bool = False
    #: row-hit cap of the FR-FCFS scheduler (DRAMsim3: 4 hits before a waiting conflict).
    row_hit_cap: int = 4
    notes: str = ""

    @property
    def command_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.commands)

    def command(self, name: str) -> CommandSpec:
        for c in self.commands:
            if c.name == name:
                return c
        raise PimsimError(
            f"standard {self.name}: unknown command {name!r}; accepted: "
            f"{', '.join(self.command_names)}"
        )


# ----------------------------------------------------------------------------------------
# Latency expressions
# ----------------------------------------------------------------------------------------
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


def eval_latency(expr: str, values: dict[str, int]) -> int:
    """Evaluate a latency expression over timing ``values`` (ints); ``max``/``min`` allowed."""

    def ev(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return int(node.value)
        if isinstance(node, ast.Name):
            if node.id not in values:
                raise PimsimError(
                    f"timing expression {expr!r}: unknown name {node.id!r}; accepted: "
                    f"{', '.join(sorted(values))}"
                )
            return int(values[node.id])
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return int(_BINOPS[type(node.op)](ev(node.left), ev(node.right)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("max", "min")
            and node.args
            and not node.keywords
        ):
            fn = max if node.func.id == "max" else min
            return int(fn(ev(a) for a in node.args))
        raise PimsimError(
            f"timing expression {expr!r}: unsupported syntax {ast.dump(node)[:60]}; accepted: "
            "integers, timing names, + - *, max(...), min(...)"
        )

    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise PimsimError(f"timing expression {expr!r}: not an expression ({exc.msg})") from None
    return ev(tree)


def timing_values(profile: Any) -> dict[str, int]:
    """The integer timing names of ``profile`` (cycles) plus ``burst``."""
    t = profile.timing
    values = {k: int(v) for k, v in t.model_dump().items() if k != "tCK_ns" and v is not None}
    values["burst"] = int(profile.burst_cycles)
    return values


# ----------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------
BASE_COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("ACT", "act"),
    CommandSpec("PRE", "pre"),
    CommandSpec("PREA", "prea", scope="rank"),
    CommandSpec("REF", "ref", scope="rank"),
    CommandSpec("RD", "rd"),
    CommandSpec("WR", "wr"),
    CommandSpec("RDA", "rd", auto_precharge=True),
    CommandSpec("WRA", "wr", auto_precharge=True),
)

_RD = ("RD", "RDA")
_WR = ("WR", "WRA")
_CAS = _RD + _WR
TC = TimingConstraint

#: JEDEC-style rules shared by DDR4, HBM2 and GDDR6 (JESD79-4, JESD235, JESD250), in the
#: form of Ramulator 2's DDR4/HBM2 tables and with DRAMsim3's turnaround values
#: (src/timing.cc: read_to_write = RL + burst - WL + tRTRS; write_to_read_s/l =
#: WL + burst + tWTR_S/L; rank switch burst + tRTRS).
COMMON_CONSTRAINTS: tuple[TimingConstraint, ...] = (
    # --- channel: the shared data bus ------------------------------------------------
    TC("channel", _RD, _RD, "burst", data_bus=True),
    TC("channel", _WR, _WR, "burst", data_bus=True),
    TC("channel", _RD, _WR, "CL + burst + tRTRS - CWL", data_bus=True),
    TC("channel", _WR, _RD, "CWL + burst + tRTRS - CL", data_bus=True),
    # --- other ranks of the channel: rank switching on the data bus -----------------
    TC("rank", _RD, _CAS, "burst + tRTRS", sibling=True, data_bus=True),
    TC("rank", _WR, _RD, "CWL + burst + tRTRS - CL", sibling=True, data_bus=True),
    TC("rank", _WR, _WR, "burst + tRTRS", sibling=True, data_bus=True),
    # --- rank --------------------------------------------------------------------------
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
    # --- bank group --------------------------------------------------------------------
    TC("bankgroup", _RD, _RD, "tCCD_L"),
    TC("bankgroup", _WR, _WR, "tCCD_L"),
    TC("bankgroup", _WR, _RD, "CWL + burst + tWTR_L"),
    TC("bankgroup", ("ACT",), ("ACT",), "tRRD_L"),
    # --- bank --------------------------------------------------------------------------
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

INTERNAL_OF: dict[str, str] = {"RD": "RDI", "WR": "WRI", "RDA": "RDAI", "WRA": "WRAI"}


def with_pim_commands(std: Standard) -> Standard:
    """Add internal column commands RDI/WRI/RDAI/WRAI derived from RD/WR/RDA/WRA.

    Each non-``data_bus`` constraint naming an external column command is copied with the
    internal variant substituted (on either side); ``data_bus`` rows are not copied, since
    an internal access does not drive the external bus.
    """
    names = set(std.command_names)
    new_cmds = list(std.commands)
    for ext, internal in INTERNAL_OF.items():
        if ext in names and internal not in names:
            spec = std.command(ext)
            new_cmds.append(replace(spec, name=internal, internal=True))
    extra: list[TimingConstraint] = []
    for c in std.constraints:
        if c.data_bus:
            continue
        pre_int = tuple(INTERNAL_OF[x] for x in c.preceding if x in INTERNAL_OF)
        fol_int = tuple(INTERNAL_OF[x] for x in c.following if x in INTERNAL_OF)
        if not pre_int and not fol_int:
            continue
        if pre_int:  # internal -> external and internal
            extra.append(replace(c, preceding=pre_int, following=c.following + fol_int))
        if fol_int:  # external -> internal
            extra.append(replace(c, following=fol_int))
    return replace(std, commands=tuple(new_cmds), constraints=std.constraints + tuple(extra))


def _make(name: str, **kw: Any) -> Standard:
    return with_pim_commands(
        Standard(name=name, levels=LEVELS, commands=BASE_COMMANDS,
                 constraints=COMMON_CONSTRAINTS, **kw)
    )


#: DDR4 (JESD79-4): bank groups, tCCD_S/L, tRRD_S/L, tWTR_S/L, tFAW, one command bus.
DDR4 = _make("DDR4", notes="JESD79-4 DDR4 SDRAM; rows as Ramulator 2 DDR4 / DRAMsim3 timing.cc")

#: HBM2 (JESD235): same rules per pseudo-/legacy channel, separate row and column command
#: buses (JESD235 'row and column command interfaces'), which DRAMsim3 models as its
#: hbm_dual_cmd (src/controller.cc).
HBM2 = _make("HBM2", dual_command_bus=True,
             notes="JESD235 HBM2; dual command bus (row + column) as DRAMsim3's hbm_dual_cmd")

#: GDDR6 (JESD250): 16n prefetch, bank groups optional, one command bus here.
GDDR6 = _make("GDDR6", notes="JESD250 GDDR6; tPPD / t32AW not modelled (not in profiles)")

_STANDARDS: dict[str, Standard] = {s.name: s for s in (DDR4, HBM2, GDDR6)}


def register_standard(std: Standard) -> None:
    """Make a new standard (data) available to :func:`get_standard`."""
    _STANDARDS[std.name] = std


def get_standard(name: str) -> Standard:
    """The standard called ``name`` (case-insensitive)."""
    for key, std in _STANDARDS.items():
        if key.upper() == str(name).upper():
            return std
    raise ProfileError(
        f"dram.standard: unknown standard {name!r}; accepted: {', '.join(_STANDARDS)}"
    )


# ----------------------------------------------------------------------------------------
# Compilation to arrays
# ----------------------------------------------------------------------------------------
ROLE_CODES: dict[str, int] = {"act": 0, "pre": 1, "prea": 2, "ref": 3, "rd": 4, "wr": 5}


@dataclass
class CompiledTiming:
    """Arrays the Numba engine reads. Commands are numbered as ``names``.

    ``lat[slot, prev, next]``: minimum distance in cycles (-1: no constraint) for slots
    bank, bankgroup, rank, other ranks of the channel, channel. ``win_*``: windowed
    constraints at rank level (``win_prev[w, c]`` / ``win_next[w, c]`` masks, ``win_count``,
    ``win_lat``). ``col_cmd[is_write, auto_precharge, internal]`` gives the column command
    id; ``act``, ``pre``, ``prea``, ``ref`` the other ids.
    """

    standard: Standard
    names: tuple[str, ...]
    lat: np.ndarray
    win_prev: np.ndarray
    win_next: np.ndarray
    win_count: np.ndarray
    win_lat: np.ndarray
    col_cmd: np.ndarray
    role: np.ndarray
    internal: np.ndarray
    auto_pre: np.ndarray
    act: int
    pre: int
    prea: int
    ref: int
    values: dict[str, int] = field(default_factory=dict)

    def id(self, name: str) -> int:
        return self.names.index(name)


_SLOT_OF = {
    ("bank", False): SLOT_BANK,
    ("bankgroup", False): SLOT_BANKGROUP,
    ("rank", False): SLOT_RANK,
    ("rank", True): SLOT_RANK_SIBLING,
    ("channel", False): SLOT_CHANNEL,
}


def compile_timing(standard: Standard, profile: Any) -> CompiledTiming:
    """Evaluate ``standard``'s constraints with ``profile``'s numbers into engine arrays."""
    names = standard.command_names
    idx = {n: i for i, n in enumerate(names)}
    nc = len(names)
    values = timing_values(profile)
    lat = np.full((N_SLOTS, nc, nc), -1, dtype=np.int64)
    windows: list[tuple[set[str], set[str], int, int]] = []
    for k, c in enumerate(standard.constraints):
        where = f"standard {standard.name} constraint {k} ({c.level}, {c.preceding}->{c.following})"
        for n in c.preceding + c.following:
            if n not in idx:
                raise PimsimError(f"{where}: unknown command {n!r}; accepted: {', '.join(names)}")
        value = eval_latency(c.latency, values)
        if value < 0:
            value = 0
        if c.window > 1:
            if c.level != "rank" or c.sibling:
                raise PimsimError(
                    f"{where}: windowed constraints are supported at level 'rank' only, "
                    f"got {c.level!r} (sibling={c.sibling})"
                )
            windows.append((set(c.preceding), set(c.following), c.window, value))
            continue
        slot = _SLOT_OF.get((c.level, c.sibling))
        if slot is None:
            raise PimsimError(
                f"{where}: level {c.level!r} with sibling={c.sibling} is not supported; "
                "accepted: bank, bankgroup, rank, rank (sibling), channel"
            )
        for p in c.preceding:
            for f in c.following:
                lat[slot, idx[p], idx[f]] = max(lat[slot, idx[p], idx[f]], value)
    nw = max(1, len(windows))
    win_prev = np.zeros((nw, nc), dtype=np.bool_)
    win_next = np.zeros((nw, nc), dtype=np.bool_)
    win_count = np.zeros(nw, dtype=np.int64)
    win_lat = np.zeros(nw, dtype=np.int64)
    for w, (pre, fol, count, value) in enumerate(windows):
        for n in pre:
            win_prev[w, idx[n]] = True
        for n in fol:
            win_next[w, idx[n]] = True
        win_count[w] = count
        win_lat[w] = value
    role = np.array([ROLE_CODES[c.role] for c in standard.commands], dtype=np.int64)
    internal = np.array([c.internal for c in standard.commands], dtype=np.bool_)
    auto_pre = np.array([c.auto_precharge for c in standard.commands], dtype=np.bool_)
    col_cmd = np.full((2, 2, 2), -1, dtype=np.int64)
    for c in standard.commands:
        if c.is_column:
            col_cmd[int(c.role == "wr"), int(c.auto_precharge), int(c.internal)] = idx[c.name]
    if (col_cmd < 0).any():
        raise PimsimError(
            f"standard {standard.name}: needs RD, WR, RDA, WRA and their internal variants; "
            f"has {', '.join(names)}"
        )
    for need in ("ACT", "PRE", "PREA", "REF"):
        if need not in idx:
            raise PimsimError(f"standard {standard.name}: command {need} missing")
    return CompiledTiming(
        standard=standard, names=names, lat=lat, win_prev=win_prev, win_next=win_next,
        win_count=win_count, win_lat=win_lat, col_cmd=col_cmd, role=role,
        internal=internal, auto_pre=auto_pre, act=idx["ACT"], pre=idx["PRE"],
        prea=idx["PREA"], ref=idx["REF"], values=values,
    )
