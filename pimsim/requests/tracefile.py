"""Request trace files in DRAMsim3's one-line format.

One request per line::

    0x<hex byte address> READ|WRITE <arrival cycle>

``READ``/``WRITE`` in any case, the cycle in decimal, fields separated by spaces or tabs.
Blank lines and ``#`` comments (whole line or after the fields) are allowed. Arrival
cycles must not decrease from one request to the next.

Parsing is vectorised: the file is split into fields by pandas' C tokenizer, the three
columns are checked and converted as arrays; only when something is wrong does a line-by-
line scan run, to name the first bad line as ``file:line: text`` in a TraceFormatError.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pimsim.dram import validate_requests
from pimsim.errors import PimsimError, TraceFormatError
from pimsim.requests.arrays import Requests
from pimsim.util.fileio import atomic_write_text, read_text

_ACCEPTED = ("accepted: '0x<hex address> READ|WRITE <decimal cycle>' (read/write in any case), "
             "blank lines and '#' comments")
_LINE = re.compile(r"^\s*0[xX]([0-9a-fA-F]{1,16})\s+(read|write)\s+([0-9]{1,19})\s*$",
                   re.IGNORECASE)
_MAX_U64 = (1 << 64) - 1
_MAX_I64 = (1 << 63) - 1


def _strip_comment(line: str) -> str:
    return line.split("#", 1)[0].strip()


def _scan_for_error(path: Path, text: str) -> TraceFormatError:
    """Find the first bad line the slow way and describe it."""
    previous_cycle: int | None = None
    previous_line = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        body = _strip_comment(raw)
        if not body:
            continue
        match = _LINE.match(body)
        if match is None:
            fields = body.split()
            if len(fields) != 3:
                why = f"{len(fields)} field(s), expected 3"
            elif not re.fullmatch(r"0[xX][0-9a-fA-F]+", fields[0]):
                why = f"address {fields[0]!r} is not a 0x-prefixed hex number"
            elif fields[1].upper() not in {"READ", "WRITE"}:
                why = f"operation {fields[1]!r} is neither READ nor WRITE"
            elif not fields[2].isdigit():
                why = f"cycle {fields[2]!r} is not a non-negative decimal integer"
            else:
                why = "a number is too large (address <= 2^64-1, cycle <= 2^63-1)"
            return TraceFormatError(f"{path}:{number}: {raw.strip()!r}: {why}; {_ACCEPTED}")
        address = int(match.group(1), 16)
        cycle = int(match.group(3))
        if address > _MAX_U64 or cycle > _MAX_I64:
            return TraceFormatError(
                f"{path}:{number}: {raw.strip()!r}: a number is too large (address <= 2^64-1, "
                f"cycle <= 2^63-1); {_ACCEPTED}"
            )
        if previous_cycle is not None and cycle < previous_cycle:
            return TraceFormatError(
                f"{path}:{number}: {raw.strip()!r}: arrival cycle {cycle} is less than "
                f"{previous_cycle} on line {previous_line}; accepted: non-decreasing arrival "
                "cycles (sort the trace by cycle)"
            )
        previous_cycle, previous_line = cycle, number
    return TraceFormatError(f"{path}: malformed trace; {_ACCEPTED}")


def _column(frame: pd.DataFrame, name: str) -> pa.Array:
    column = pa.array(frame[name])
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return column


def _hex_to_u64(addr: pa.Array) -> npt.NDArray[np.uint64]:
    """Vectorised '0x...' -> uint64 for validated strings of at most 16 significant digits."""
    width = 16
    digits = pc.utf8_lpad(
        pc.utf8_ltrim(pc.utf8_slice_codeunits(addr, 2), characters="0"), width, padding="0"
    )
    digits = digits.cast(pa.large_string())
    offsets = np.frombuffer(digits.buffers()[1], dtype=np.int64)[
        digits.offset : digits.offset + len(digits) + 1
    ]
    data = np.frombuffer(digits.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    codes = data.reshape(-1, width).astype(np.uint64)
    # '0'..'9' -> 0..9, 'a'..'f' / 'A'..'F' -> 10..15
    values = np.where(codes <= ord("9"), codes - ord("0"), (codes | 0x20) - (ord("a") - 10))
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint64) * np.uint64(4)
    return np.bitwise_or.reduce(values << shifts, axis=1).astype(np.uint64)


def _empty(name: str) -> Requests:
    return Requests(np.zeros(0, np.uint64), np.zeros(0, np.bool_), np.zeros(0, np.int64), name)


def read_trace(path: str | os.PathLike[str]) -> Requests:
    """Read a DRAMsim3-format trace file (see the module docstring); addresses are uint64."""
    trace_path = Path(path)
    text = read_text(trace_path, TraceFormatError, "the trace")
    if not text.strip():
        return _empty(str(trace_path))
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=r"\s+", header=None, names=["addr", "op", "cycle"],
            comment="#", dtype=str, skip_blank_lines=True, engine="c", na_filter=False,
            quoting=csv.QUOTE_NONE,
        )
    except pd.errors.EmptyDataError:
        return _empty(str(trace_path))
    except (pd.errors.ParserError, ValueError):
        raise _scan_for_error(trace_path, text) from None
    if frame.empty:
        return _empty(str(trace_path))
    addr = _column(frame, "addr")
    op = pc.utf8_upper(_column(frame, "op"))
    cycle = _column(frame, "cycle")
    addr_ok = pc.all(pc.match_substring_regex(addr, r"^0[xX]0*[0-9a-fA-F]{1,16}$")).as_py()
    op_ok = pc.all(pc.is_in(op, value_set=pa.array(["READ", "WRITE"]))).as_py()
    cycle_ok = pc.all(pc.match_substring_regex(cycle, r"^[0-9]{1,18}$")).as_py()
    if not (addr_ok and op_ok and cycle_ok):
        raise _scan_for_error(trace_path, text)
    cycles = pc.cast(cycle, pa.int64()).to_numpy(zero_copy_only=False).astype(np.int64)
    if cycles.size > 1 and bool(np.any(np.diff(cycles) < 0)):
        raise _scan_for_error(trace_path, text)
    is_write = pc.equal(op, "WRITE").to_numpy(zero_copy_only=False).astype(np.bool_)
    return Requests(_hex_to_u64(addr), is_write, cycles, str(trace_path))


#: What the request checks compare addresses with when writing a file: the format holds any
#: 64-bit address, the checks (int64, as the engine) any address below 2**63.
_FILE_FORMAT = SimpleNamespace(name="DRAMsim3 trace file", capacity_bytes=1 << 63)


def write_trace(
    path: str | os.PathLike[str],
    addresses: npt.ArrayLike,
    is_write: npt.ArrayLike,
    arrival_cycles: npt.ArrayLike,
) -> Path:
    """Write a trace file atomically (temporary file in the same folder, then rename).

    The arrays pass the engine's request checks (:func:`pimsim.dram.validate_requests`);
    uint64 addresses of 2**63 and above, which the format holds and int64 cannot, are
    checked as 2**63 - 1.
    """
    target = Path(path)
    addr = np.asarray(addresses)
    checked = np.minimum(addr, _MAX_I64) if addr.dtype == np.uint64 else addr
    try:
        validate_requests(_FILE_FORMAT, checked, is_write, arrival_cycles)
    except PimsimError as exc:
        raise TraceFormatError(f"{target}: {exc}") from None
    writes = np.asarray(is_write, dtype=bool)
    cycles = np.asarray(arrival_cycles)
    names = ("READ", "WRITE")
    body = "\n".join(
        f"0x{a:x} {names[w]} {c}"
        for a, w, c in zip(addr.astype(np.uint64).tolist(), writes.tolist(),
                           cycles.astype(np.int64).tolist())
    )
    return atomic_write_text(target, body + ("\n" if body else ""))
