"""Compile a standard's constraint rows, with a profile's numbers, into engine arrays.

:func:`compile_timing` evaluates every row's latency expression (:func:`eval_latency`) over
the profile's timing values and folds the rows into ``lat[slot, prev, next]`` plus the
windowed (tFAW-like) masks that the engine in :mod:`pimsim.dram` reads. The slots come
from the standard's declared levels (:func:`level_slots`): one per level, innermost first,
and one more for the siblings of the level just inside the outermost (other ranks of a
channel, which share the channel's data bus).
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pimsim.errors import PimsimError
from pimsim.standards.spec import Standard

#: The hierarchy the engine replays, outermost first; the profile's organisation counts it
#: (channels, ranks, bankgroups, banks_per_group). A standard declares levels of this
#: depth; level names may differ, they are matched by position.
ENGINE_LEVELS: tuple[str, ...] = ("channel", "rank", "bankgroup", "bank")

#: Timing names an expression may use besides the profile's timing values.
DERIVED_NAMES: tuple[str, ...] = ("burst",)

#: Engine codes of the command roles (pimsim.dram's ROLE_* constants mirror this table).
ROLE_CODES: dict[str, int] = {"act": 0, "pre": 1, "prea": 2, "ref": 3, "rd": 4, "wr": 5}


def level_slots(levels: tuple[str, ...]) -> dict[tuple[str, bool], int]:
    """Slot of each ``(level, sibling)`` pair of the latency table, innermost level first.

    The level just inside the outermost one (ranks of a channel) gets a sibling slot right
    after its own: rows that bind other ranks of the same channel.
    """
    slots: dict[tuple[str, bool], int] = {}
    for depth, level in enumerate(reversed(levels)):
        slots[(level, False)] = len(slots)
        if depth == len(levels) - 2:
            slots[(level, True)] = len(slots)
    return slots


_ENGINE_SLOTS = level_slots(ENGINE_LEVELS)
#: Slots of the compiled latency table ``lat[slot, prev, next]``, as the engine reads them.
SLOT_BANK = _ENGINE_SLOTS[("bank", False)]
SLOT_BANKGROUP = _ENGINE_SLOTS[("bankgroup", False)]
SLOT_RANK = _ENGINE_SLOTS[("rank", False)]
SLOT_RANK_SIBLING = _ENGINE_SLOTS[("rank", True)]
SLOT_CHANNEL = _ENGINE_SLOTS[("channel", False)]
N_SLOTS = len(_ENGINE_SLOTS)

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
    """The integer timing values of ``profile`` (cycles) plus ``burst``."""
    values = {k: int(v) for k, v in profile.timing.model_dump().items()
              if k != "tCK_ns" and v is not None}
    values["burst"] = int(profile.burst_cycles)
    return values


@dataclass
class CompiledTiming:
    """Arrays the Numba engine reads. Commands are numbered as ``names``.

    ``lat[slot, prev, next]``: minimum distance in cycles (-1: no constraint) for the slots
    of :func:`level_slots`. ``win_*``: windowed constraints at rank level
    (``win_prev[w, c]`` / ``win_next[w, c]`` masks, ``win_count``, ``win_lat``).
    ``col_cmd[is_write, auto_precharge, internal]`` gives the column command id; ``act``,
    ``pre``, ``prea``, ``ref`` the other ids.
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


def _slots_of(standard: Standard) -> dict[tuple[str, bool], int]:
    if len(standard.levels) != len(ENGINE_LEVELS):
        raise PimsimError(
            f"standard {standard.name}: levels {', '.join(standard.levels)}; accepted: "
            f"{len(ENGINE_LEVELS)} levels matching the engine's {', '.join(ENGINE_LEVELS)}"
        )
    return level_slots(standard.levels)


_Window = tuple[set[str], set[str], int, int]  # preceding, following, count, latency


def _windows(standard: Standard, values: dict[str, int]) -> list[_Window]:
    window_level = standard.levels[1]  # the engine keeps one window ring per rank
    out = []
    for k, c in enumerate(standard.constraints):
        if c.window <= 1:
            continue
        if c.level != window_level or c.sibling:
            raise PimsimError(
                f"standard {standard.name} constraint {k} ({c.level}, {c.preceding}->"
                f"{c.following}): windowed constraints are supported at level "
                f"{window_level!r} only, got {c.level!r} (sibling={c.sibling})"
            )
        out.append((set(c.preceding), set(c.following), c.window,
                    max(0, eval_latency(c.latency, values))))
    return out


def compile_timing(standard: Standard, profile: Any) -> CompiledTiming:
    """Evaluate ``standard``'s constraints with ``profile``'s numbers into engine arrays."""
    names = standard.command_names
    idx = {n: i for i, n in enumerate(names)}
    nc = len(names)
    values = timing_values(profile)
    slots = _slots_of(standard)
    lat = np.full((len(slots), nc, nc), -1, dtype=np.int64)
    for k, c in enumerate(standard.constraints):
        where = f"standard {standard.name} constraint {k} ({c.level}, {c.preceding}->{c.following})"
        for n in c.preceding + c.following:
            if n not in idx:
                raise PimsimError(f"{where}: unknown command {n!r}; accepted: {', '.join(names)}")
        if c.window > 1:
            continue
        slot = slots.get((c.level, c.sibling))
        if slot is None:
            raise PimsimError(
                f"{where}: level {c.level!r} with sibling={c.sibling} is not supported; "
                f"accepted: {', '.join(f'{lv} (sibling)' if s else lv for lv, s in slots)}"
            )
        value = max(0, eval_latency(c.latency, values))
        for p in c.preceding:
            for f in c.following:
                lat[slot, idx[p], idx[f]] = max(lat[slot, idx[p], idx[f]], value)
    windows = _windows(standard, values)
    nw = max(1, len(windows))
    win_prev = np.zeros((nw, nc), dtype=np.bool_)
    win_next = np.zeros((nw, nc), dtype=np.bool_)
    win_count = np.zeros(nw, dtype=np.int64)
    win_lat = np.zeros(nw, dtype=np.int64)
    for w, (pre, fol, count, value) in enumerate(windows):
        win_prev[w, [idx[n] for n in pre]] = True
        win_next[w, [idx[n] for n in fol]] = True
        win_count[w] = count
        win_lat[w] = value
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
        win_count=win_count, win_lat=win_lat, col_cmd=col_cmd,
        role=np.array([ROLE_CODES[c.role] for c in standard.commands], dtype=np.int64),
        internal=np.array([c.internal for c in standard.commands], dtype=np.bool_),
        auto_pre=np.array([c.auto_precharge for c in standard.commands], dtype=np.bool_),
        act=idx["ACT"], pre=idx["PRE"], prea=idx["PREA"], ref=idx["REF"], values=values,
    )
