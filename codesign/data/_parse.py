"""Vectorised parsing of delimited text chunks, shared by the Criteo, Avazu and KDD readers.

A chunk of whole lines is viewed as one uint8 array. Separator and newline positions give
every field's start and length without a Python loop per line; each column is then checked
and converted on a padded byte matrix (one row per line). Lines with the wrong field count
or a field that fails its column's check are reported (count plus the first examples with
file:line and text) and dropped, or raise DataFormatError in strict mode.

Categorical tokens are hashed with FNV-1a 64 over their bytes, salted with the field index
and finished with the splitmix64 mixer: stable across runs, machines and Python versions
(unlike the salted built-in ``hash``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
from tqdm import tqdm

from codesign.data.cache import SkipReport
from codesign.errors import DataFormatError

ColumnKind = Literal["label01", "label_count", "dense", "hex8", "int", "token", "ignore_int"]

#: Longest token accepted in any field; longer fields make the line malformed.
MAX_TOKEN_BYTES: int = 32
#: Longest dense integer accepted (digits, a leading '-' not counted).
MAX_DENSE_DIGITS: int = 18

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)

_DESCRIBE = {
    "label01": "label is not 0 or 1",
    "label_count": "click count is not a non-negative integer",
    "dense": "non-numeric dense value",
    "hex8": "category is not 8 hex digits",
    "int": "category is not an integer",
    "token": "category token too long",
    "ignore_int": "field is not an integer",
}


@dataclass(frozen=True)
class Column:
    """How one raw column is checked and where its value goes."""

    name: str
    kind: ColumnKind


@dataclass
class FieldTable:
    """Field positions of the well-formed (right field count) lines of one chunk."""

    buf: np.ndarray  # uint8, the chunk (ends with a newline)
    line_start: np.ndarray  # int64 [n_lines]
    line_end: np.ndarray  # int64 [n_lines], position of the newline
    count_ok: np.ndarray  # bool [n_lines]
    n_fields_found: np.ndarray  # int64 [n_lines]
    starts: np.ndarray  # int64 [n_ok, F]
    lens: np.ndarray  # int64 [n_ok, F]

    @property
    def n_lines(self) -> int:
        return int(self.line_start.shape[0])

    def line_text(self, line: int, limit: int = 300) -> str:
        raw = self.buf[self.line_start[line] : self.line_end[line]].tobytes()
        text = raw.rstrip(b"\r").decode("utf-8", errors="replace")
        return text if len(text) <= limit else text[:limit] + "..."

    def field_text(self, ok_row: int, col: int, limit: int = 60) -> str:
        s = int(self.starts[ok_row, col])
        raw = self.buf[s : s + int(self.lens[ok_row, col])].tobytes()
        text = raw.decode("utf-8", errors="replace")
        return text if len(text) <= limit else text[:limit] + "..."


def split_fields(data: bytes, sep: bytes, n_fields: int) -> FieldTable:
    """Locate the fields of every line of ``data`` (whole lines, newline-terminated)."""
    if not data.endswith(b"\n"):
        data = data + b"\n"
    buf = np.frombuffer(data, dtype=np.uint8)
    is_nl = buf == 10
    is_sep = is_nl | (buf == sep[0])
    sep_pos = np.flatnonzero(is_sep)
    nl_pos = np.flatnonzero(is_nl)
    n_lines = nl_pos.shape[0]
    line_start = np.empty(n_lines, dtype=np.int64)
    line_start[0] = 0
    line_start[1:] = nl_pos[:-1] + 1
    # Field j (global) ends at sep_pos[j] and starts after the previous separator.
    f_start = np.empty(sep_pos.shape[0], dtype=np.int64)
    f_start[0] = 0
    f_start[1:] = sep_pos[:-1] + 1
    f_len = sep_pos - f_start
    # A trailing '\r' (CRLF files) is not part of the last field.
    at_nl = is_nl[sep_pos]
    cr = at_nl & (f_len > 0)
    cr_idx = np.flatnonzero(cr)
    cr_idx = cr_idx[buf[sep_pos[cr_idx] - 1] == 13]
    f_len[cr_idx] -= 1
    # Fields per line: the newline separators close lines, so count per line via cumsum.
    line_of_field = np.cumsum(at_nl) - at_nl  # newlines strictly before field j
    counts = np.bincount(line_of_field, minlength=n_lines).astype(np.int64)
    first_field = np.empty(n_lines, dtype=np.int64)
    first_field[0] = 0
    np.cumsum(counts[:-1], out=first_field[1:])
    count_ok = counts == n_fields
    # A blank line (one empty field) when one field is expected is still malformed.
    if n_fields == 1:
        count_ok &= f_len[first_field] > 0
    ok_lines = np.flatnonzero(count_ok)
    idx = first_field[ok_lines][:, None] + np.arange(n_fields, dtype=np.int64)[None, :]
    return FieldTable(
        buf=buf,
        line_start=line_start,
        line_end=nl_pos.astype(np.int64),
        count_ok=count_ok,
        n_fields_found=counts,
        starts=f_start[idx],
        lens=f_len[idx],
    )


def gather(buf: np.ndarray, starts: np.ndarray, lens: np.ndarray, width: int) -> np.ndarray:
    """Bytes of each field in a zero-padded [n, width] matrix (fields longer are cut)."""
    n = starts.shape[0]
    if n == 0 or width == 0:
        return np.zeros((n, width), dtype=np.uint8)
    offs = np.arange(width, dtype=np.int64)[None, :]
    pos = np.minimum(starts[:, None] + offs, buf.shape[0] - 1)
    mat = buf[pos]
    mat[offs >= lens[:, None]] = 0
    return mat


def _is_digit(mat: np.ndarray) -> np.ndarray:
    return (mat >= 48) & (mat <= 57)


def parse_decimal(
    buf: np.ndarray, starts: np.ndarray, lens: np.ndarray, *, signed: bool, max_digits: int
) -> tuple[np.ndarray, np.ndarray]:
    """Integers written in decimal: (value float64, ok bool). Empty fields give 0 and ok."""
    n = starts.shape[0]
    width = max_digits + (1 if signed else 0)
    too_long = lens > width
    use_len = np.minimum(lens, width)
    mat = gather(buf, starts, use_len, width)
    neg = np.zeros(n, dtype=bool)
    if signed:
        neg = (mat[:, 0] == 45) & (use_len > 0)
    offs = np.arange(width)[None, :]
    body = (offs < use_len[:, None]) & ~((offs == 0) & neg[:, None])
    digit = _is_digit(mat)
    ok = ~too_long & np.all(digit | ~body, axis=1)
    ok &= ~(neg & (use_len == 1))  # a lone '-'
    vals = np.zeros(n, dtype=np.float64)
    for j in range(width):
        active = body[:, j]
        vals = np.where(active, vals * 10.0 + (mat[:, j].astype(np.float64) - 48.0), vals)
    vals = np.where(neg, -vals, vals)
    vals[~ok] = 0.0
    return vals, ok


def hex8_ok(buf: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """True where a field is empty or exactly 8 hex digits (either case)."""
    mat = gather(buf, starts, np.minimum(lens, 8), 8)
    lower = mat | 0x20
    hexd = _is_digit(mat) | ((lower >= 97) & (lower <= 102))
    return (lens == 0) | ((lens == 8) & np.all(hexd, axis=1))


def hash_tokens(
    buf: np.ndarray, starts: np.ndarray, lens: np.ndarray, field_index: int, *, lower_hex: bool = False
) -> np.ndarray:
    """Stable 64-bit hash of each token's bytes, salted with ``field_index``."""
    width = int(min(int(lens.max(initial=0)), MAX_TOKEN_BYTES))
    mat = gather(buf, starts, np.minimum(lens, width), width)
    if lower_hex:
        letters = (mat >= 65) & (mat <= 70)
        mat = np.where(letters, mat | 0x20, mat)
    h = np.full(starts.shape[0], _FNV_OFFSET, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(width):
            active = lens > j
            hj = (h ^ mat[:, j].astype(np.uint64)) * _FNV_PRIME
            h = np.where(active, hj, h)
        return splitmix64(h ^ (np.uint64(field_index + 1) * _GOLDEN))


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser (bijective on uint64)."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64, copy=True)
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


def bucketize(h: np.ndarray, missing: np.ndarray, cardinality: int) -> np.ndarray:
    """Hash -> row 1..C-1, missing -> row 0 (int32)."""
    out = (h % np.uint64(cardinality - 1)).astype(np.int64) + 1
    out[missing] = 0
    return out.astype(np.int32)


@dataclass
class ParsedColumns:
    """Converted columns of the lines that passed every check, in line order."""

    line_numbers: np.ndarray  # int64, 1-based file line of each kept row
    values: dict[str, np.ndarray]  # dense/int/label columns: float64 values
    hashes: dict[str, np.ndarray]  # categorical columns: uint64 hash
    missing: dict[str, np.ndarray]  # categorical and dense columns: bool, field empty

    @property
    def n_rows(self) -> int:
        return int(self.line_numbers.shape[0])


def parse_chunk(
    data: bytes,
    columns: tuple[Column, ...],
    *,
    sep: bytes,
    hash_fields: dict[str, int],
    path: Path,
    first_line: int,
    skipped: SkipReport,
    strict: bool,
) -> ParsedColumns:
    """Check and convert one chunk of whole lines; malformed lines go to ``skipped``.

    ``first_line`` is the 1-based file line number of the chunk's first line;
    ``hash_fields`` maps each categorical column name to its field index (hash salt).
    """
    n_fields = len(columns)
    table = split_fields(data, sep, n_fields)
    ok_lines = np.flatnonzero(table.count_ok)
    bad_cols: list[np.ndarray] = []
    values: dict[str, np.ndarray] = {}
    hashes: dict[str, np.ndarray] = {}
    missing: dict[str, np.ndarray] = {}
    buf = table.buf
    for k, col in enumerate(columns):
        s, ln = table.starts[:, k], table.lens[:, k]
        empty = ln == 0
        if col.kind == "label01":
            first = gather(buf, s, np.minimum(ln, 1), 1)[:, 0]
            ok = (ln == 1) & ((first == 48) | (first == 49))
            values[col.name] = (first == 49).astype(np.float64)
        elif col.kind in ("label_count", "ignore_int"):
            vals, ok = parse_decimal(buf, s, ln, signed=False, max_digits=20)
            ok &= ~empty
            values[col.name] = vals
        elif col.kind == "dense":
            vals, ok = parse_decimal(buf, s, ln, signed=True, max_digits=MAX_DENSE_DIGITS)
            values[col.name] = vals
            missing[col.name] = empty
        elif col.kind == "hex8":
            ok = hex8_ok(buf, s, ln)
            hashes[col.name] = hash_tokens(buf, s, ln, hash_fields[col.name], lower_hex=True)
            missing[col.name] = empty
        elif col.kind == "int":
            vals, ok = parse_decimal(buf, s, ln, signed=True, max_digits=20)
            values[col.name] = vals
            hashes[col.name] = hash_tokens(buf, s, ln, hash_fields[col.name])
            missing[col.name] = empty
        elif col.kind == "token":
            ok = ln <= MAX_TOKEN_BYTES
            hashes[col.name] = hash_tokens(buf, s, ln, hash_fields[col.name])
            missing[col.name] = empty
        else:  # pragma: no cover - Column kinds are a closed set
            raise DataFormatError(f"column {col.name}: unknown kind {col.kind!r}")
        bad_cols.append(~ok)
    bad_matrix = np.stack(bad_cols, axis=1) if bad_cols else np.zeros((ok_lines.shape[0], 0), bool)
    row_bad = bad_matrix.any(axis=1)
    keep = ~row_bad
    # Malformed lines, in file order: wrong field count, or a field failing its check.
    bad_line_flags = ~table.count_ok
    bad_line_flags[ok_lines[row_bad]] = True
    n_bad = int(np.count_nonzero(bad_line_flags))
    if n_bad:
        ok_row_of_line = np.full(table.n_lines, -1, dtype=np.int64)
        ok_row_of_line[ok_lines] = np.arange(ok_lines.shape[0])
        n_show = 1 if strict else max(0, min(n_bad, skipped.max_examples - len(skipped.examples)))
        bad_lines = np.flatnonzero(bad_line_flags)
        for line in bad_lines[:n_show]:
            where = f"{path}:{first_line + int(line)}"
            text = table.line_text(int(line))
            if not table.count_ok[line]:
                found = int(table.n_fields_found[line])
                reason = f"wrong field count ({found}, expected {n_fields})"
            else:
                r = int(ok_row_of_line[line])
                k = int(np.argmax(bad_matrix[r]))
                reason = f"{_DESCRIBE[columns[k].kind]} in {columns[k].name} ({table.field_text(r, k)!r})"
            if strict:
                raise DataFormatError(f"{where}: {reason}: {text!r}")
            skipped.add(where, reason, text)
        skipped.count += n_bad - int(min(n_show, n_bad))
    kept_lines = ok_lines[keep]
    return ParsedColumns(
        line_numbers=kept_lines + first_line,
        values={k: v[keep] for k, v in values.items()},
        hashes={k: v[keep] for k, v in hashes.items()},
        missing={k: v[keep] for k, v in missing.items()},
    )


def open_raw(path: str | os.PathLike[str], what: str) -> tuple[Path, int]:
    """Check that a raw file exists and is not empty: (path, size in bytes)."""
    p = Path(path)
    if not p.is_file():
        raise DataFormatError(f"{p}: no such file; accepted: the {what}")
    size = p.stat().st_size
    if size == 0:
        raise DataFormatError(f"{p}: empty file (0 bytes); accepted: the {what} with at least one data line")
    return p, size


def iter_line_chunks(
    handle: BinaryIO, chunk_rows: int, *, progress: tqdm | None = None
) -> Iterator[tuple[bytes, int]]:
    """Whole-line chunks of at most ``chunk_rows`` lines: (bytes, lines in it)."""
    if chunk_rows < 1:
        raise DataFormatError(f"chunk_rows: {chunk_rows}; accepted: a positive integer")
    while True:
        lines = list(itertools.islice(handle, chunk_rows))
        if not lines:
            return
        data = b"".join(lines)
        if progress is not None:
            progress.update(len(data))
        yield data, len(lines)


def make_progress(total_bytes: int, desc: str, quiet: bool) -> tqdm:
    return tqdm(total=total_bytes, desc=desc, unit="B", unit_scale=True, disable=quiet, leave=False)


def dense_transform(values: np.ndarray) -> np.ndarray:
    """NASRec's dense preprocessing: log(max(x, 0) + 1), as float32."""
    return np.log1p(np.maximum(values, 0.0)).astype(np.float32)
