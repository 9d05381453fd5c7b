"""Request trace files in DRAMsim3's one-line format.

One request per line::

    0x<hex byte address> READ|WRITE <arrival cycle>

``READ``/``WRITE`` in any case, the cycle in decimal, fields separated by spaces or tabs.
Blank lines and ``#`` comments (whole line or after the fields) are allowed. Arrival
cycles must not decrease from one request to the next. A file compressed with gzip or
zstd (told by its first bytes, whatever its name) is read as its text.

:func:`iter_trace` reads a file block by block through the compiled scanner
(:mod:`pimsim.requests.scan`) and yields the requests of each block, so a trace of any
length is read in bounded memory; :func:`read_trace` gathers them. The first line the
scanner does not accept is described as ``file:line: text: why`` in a TraceFormatError.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import zstandard

from pimsim.dram import validate_requests
from pimsim.errors import PimsimError, TraceFormatError
from pimsim.requests.arrays import Requests
from pimsim.requests.scan import (
    MIN_LINE_BYTES, N_ST, SCAN_DECREASING, SCAN_OK, ST_LINES, ST_PREV_CYCLE, ST_PREV_LINE,
    scan_block,
)
from pimsim.util.fileio import atomic_write_text, decode_text

_ACCEPTED = ("accepted: '0x<hex address> READ|WRITE <decimal cycle>' (read/write in any case), "
             "blank lines and '#' comments")
#: one request line, comment stripped (what the compiled scanner accepts)
LINE = re.compile(r"^\s*0[xX]0*([0-9a-fA-F]{1,16})\s+(read|write)\s+0*([0-9]{1,19})\s*$",
                  re.IGNORECASE)
_MAX_I64 = (1 << 63) - 1
#: bytes read from a file at a time (a block's requests are one chunk of iter_trace)
BLOCK_BYTES = 1 << 21
#: the first bytes of a gzip and of a zstd file
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _why(body: str) -> str:
    """Why ``body`` (a line without its comment, not blank) is not a request line."""
    fields = body.split()
    if len(fields) != 3:
        return f"{len(fields)} field(s), expected 3"
    if not re.fullmatch(r"0[xX][0-9a-fA-F]+", fields[0]):
        return f"address {fields[0]!r} is not a 0x-prefixed hex number"
    if fields[1].upper() not in {"READ", "WRITE"}:
        return f"operation {fields[1]!r} is neither READ nor WRITE"
    if not fields[2].isdigit():
        return f"cycle {fields[2]!r} is not a non-negative decimal integer"
    return "a number is too large (address <= 2^64-1, cycle <= 2^63-1)"


def _bad_line(path: Path, number: int, raw: bytes, offset: int) -> TraceFormatError:
    """The error of line ``number`` (``raw``, from byte ``offset`` of the file's text): bytes
    that are not UTF-8 are named by their offset, anything else by what the line lacks."""
    decode_text(raw, path, TraceFormatError, "the trace", start=offset, line=number)
    text = raw.decode("utf-8").rstrip("\r\n")
    body = text.split("#", 1)[0].strip()
    why = _why(body) if LINE.match(body) is None else (
        "a number is too large (address <= 2^64-1, cycle <= 2^63-1)")
    return TraceFormatError(f"{path}:{number}: {text.strip()!r}: {why}; {_ACCEPTED}")


def _cycle_of(raw: bytes) -> int:
    """The cycle of a request line the scanner accepted."""
    return int(LINE.match(raw.decode().split("#", 1)[0].strip()).group(3))


def _decreasing(path: Path, number: int, raw: bytes, cycle: int, previous: int,
                previous_line: int) -> TraceFormatError:
    text = raw.decode("utf-8", errors="replace").strip()
    return TraceFormatError(
        f"{path}:{number}: {text!r}: arrival cycle {cycle} is less than {previous} on line "
        f"{previous_line}; accepted: non-decreasing arrival cycles (sort the trace by cycle)")


def _open(path: Path) -> BinaryIO:
    """The file's bytes, decompressed when it starts as a gzip or zstd file does."""
    handle = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    magic = handle.read(4)
    handle.seek(0)
    if magic.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=handle, mode="rb")  # type: ignore[return-value]
    if magic.startswith(ZSTD_MAGIC):
        return zstandard.ZstdDecompressor().stream_reader(handle, closefd=True)  # type: ignore[return-value]
    return handle


def _fill(stream: BinaryIO, buf: bytearray, have: int) -> int:
    """Read into ``buf`` after its first ``have`` bytes until it is full or the stream
    ends; returns the bytes held."""
    view = memoryview(buf)
    while have < len(buf):
        got = stream.readinto(view[have:])
        if not got:
            break
        have += got
    return have


def iter_trace(path: str | os.PathLike[str], block_bytes: int = BLOCK_BYTES
               ) -> Iterator[Requests]:
    """The requests of a trace file (see the module docstring), one block of about
    ``block_bytes`` of text at a time; addresses are uint64."""
    trace_path = Path(path)
    name = str(trace_path)
    try:
        stream = _open(trace_path)
    except OSError as exc:
        raise TraceFormatError(f"{trace_path}: cannot read the trace: {exc}") from None
    st = np.zeros(N_ST, dtype=np.int64)
    st[ST_PREV_CYCLE] = -1
    buf = bytearray(max(16, int(block_bytes)))
    have = 0
    base = 0  # bytes of the file's text before buf[0]
    with stream:
        while True:
            size = len(buf)
            try:
                have = _fill(stream, buf, have)
            except (OSError, EOFError, zstandard.ZstdError) as exc:
                raise TraceFormatError(f"{trace_path}: cannot read the trace: {exc}") from None
            final = have < size
            data = np.frombuffer(buf, dtype=np.uint8)
            cap = have // MIN_LINE_BYTES + 1
            addr = np.empty(cap, dtype=np.uint64)
            wr = np.empty(cap, dtype=np.uint8)
            cyc = np.empty(cap, dtype=np.int64)
            k, used, status, lo, hi = scan_block(data, have, final, addr, wr, cyc, st)
            if status != SCAN_OK:
                number = int(st[ST_LINES]) + 1  # the lines before it were consumed
                raw = bytes(buf[lo:hi])
                if status == SCAN_DECREASING:
                    raise _decreasing(trace_path, number, raw, _cycle_of(raw),
                                      int(st[ST_PREV_CYCLE]), int(st[ST_PREV_LINE]))
                raise _bad_line(trace_path, number, raw, base + int(lo))
            if k:
                yield Requests(addr[:k].copy(), wr[:k].astype(np.bool_), cyc[:k].copy(), name)
            if final:
                return
            rest = have - used
            base += used
            buf[:rest] = buf[used:have]
            have = rest
            if used == 0:  # one line longer than the block: read more of it
                buf = buf + bytes(len(buf))


def read_trace(path: str | os.PathLike[str]) -> Requests:
    """Read a DRAMsim3-format trace file (see the module docstring); addresses are uint64."""
    parts = list(iter_trace(path))
    if not parts:
        return Requests(np.zeros(0, np.uint64), np.zeros(0, np.bool_), np.zeros(0, np.int64),
                        str(Path(path)))
    return Requests(np.concatenate([p.addresses for p in parts]),
                    np.concatenate([p.is_write for p in parts]),
                    np.concatenate([p.arrival_cycles for p in parts]), str(Path(path)))


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
