"""Vectorised parsing of delimited text chunks, shared by the Criteo, Avazu and KDD readers.

A chunk of whole lines is viewed as one uint8 array. Separator and newline positions give
every field's start and length without a Python loop per line; each column is then checked
and converted on a padded byte matrix (one row per line). Lines with the wrong field count
or a field that fails its column's check are reported (count plus the first examples with
file:line and text) and dropped, or raise DataFormatError in strict mode.

Categorical tokens are hashed 8 bytes at a time with the splitmix64 mixer, salted with the
field index (see ``hash_tokens``): stable across runs, machines and Python versions (unlike
the salted built-in ``hash``).
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

    buf: np.ndarray  # uint8, the chunk (ends with a newline), then 8 zero bytes of padding
    words: np.ndarray  # uint64 view: words[i] = the 8 bytes buf[i:i+8] (little-endian)
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
    n_data = len(data)
    data = data + b"\0" * 8
    buf = np.frombuffer(data, dtype=np.uint8)
    # Unaligned 8-byte windows over the chunk: one fancy index reads a whole 8-byte word.
    words = np.ndarray(shape=(n_data + 1,), dtype="<u8", buffer=data, offset=0, strides=(1,))
    body = buf[:n_data]
    is_nl = body == 10
    is_sep = is_nl | (body == sep[0])
    sep_pos = np.flatnonzero(is_sep)
    at_nl = is_nl[sep_pos]
    nl_idx = np.flatnonzero(at_nl)  # index into sep_pos of each line's newline
    nl_pos = sep_pos[nl_idx]
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
    last = f_len[nl_idx] > 0
    cr_idx = nl_idx[last]
    cr_idx = cr_idx[body[sep_pos[cr_idx] - 1] == 13]
    f_len[cr_idx] -= 1
    first_field = np.empty(n_lines, dtype=np.int64)
    first_field[0] = 0
    first_field[1:] = nl_idx[:-1] + 1
    counts = nl_idx - first_field + 1
    count_ok = counts == n_fields
    # A blank line (one empty field) when one field is expected is still malformed.
    if n_fields == 1:
        count_ok &= f_len[first_field] > 0
    ok_lines = np.flatnonzero(count_ok)
    idx = first_field[ok_lines][:, None] + np.arange(n_fields, dtype=np.int64)[None, :]
    return FieldTable(
        buf=buf,
        words=words,
        line_start=line_start,
        line_end=nl_pos.astype(np.int64),
        count_ok=count_ok,
        n_fields_found=counts,
        starts=f_start[idx],
        lens=f_len[idx],
    )


_ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


def gather_words(words: np.ndarray, starts: np.ndarray, lens: np.ndarray, n_words: int) -> np.ndarray:
    """Each field's first ``8 * n_words`` bytes as [n, n_words] uint64, bytes past its end zeroed."""
    n = starts.shape[0]
    out = np.empty((n, n_words), dtype=np.uint64)
    top = words.shape[0] - 1
    for i in range(n_words):
        w = words[np.minimum(starts + 8 * i, top)]
        valid = np.clip(lens - 8 * i, 0, 8).astype(np.uint64)
        mask = np.where(valid >= 8, _ALL_ONES, (np.uint64(1) << (np.uint64(8) * valid)) - np.uint64(1))
        out[:, i] = w & mask
    return out


def gather(words: np.ndarray, starts: np.ndarray, lens: np.ndarray, width: int) -> np.ndarray:
    """Bytes of each field in a zero-padded [n, width] uint8 matrix (longer fields are cut)."""
    n_words = max(1, -(-width // 8))
    packed = gather_words(words, starts, np.minimum(lens, width), n_words)
    return packed.view(np.uint8).reshape(starts.shape[0], 8 * n_words)[:, :width]


def _is_digit(mat: np.ndarray) -> np.ndarray:
    return (mat >= 48) & (mat <= 57)


def parse_decimal(
    words: np.ndarray, starts: np.ndarray, lens: np.ndarray, *, signed: bool, max_digits: int
) -> tuple[np.ndarray, np.ndarray]:
    """Integers written in decimal: (value float64, ok bool). Empty fields give 0 and ok.

    Values are exact up to 2**53; longer numbers are accepted (ids) but rounded.
    """
    n = starts.shape[0]
    limit = max_digits + (1 if signed else 0)
    too_long = lens > limit
    use_len = np.minimum(lens, limit)
    width = int(use_len.max(initial=0))
    if n == 0 or width == 0:
        return np.zeros(n, dtype=np.float64), ~too_long
    mat = gather(words, starts, use_len, width)
    neg = np.zeros(n, dtype=bool)
    if signed:
        neg = (mat[:, 0] == 45) & (use_len > 0)
    offs = np.arange(width)[None, :]
    body = (offs < use_len[:, None]) & ~((offs == 0) & neg[:, None])
    ok = ~too_long & np.all(_is_digit(mat) | ~body, axis=1)
    ok &= ~(neg & (use_len == 1))  # a lone '-'
    # Digit j of a field of length L has weight 10 ** (L - 1 - j).
    power = np.power(10.0, (use_len[:, None] - 1 - offs).clip(0, None))
    vals = np.where(body, (mat.astype(np.float64) - 48.0) * power, 0.0).sum(axis=1)
    vals = np.where(neg, -vals, vals)
    vals[~ok] = 0.0
    return vals, ok


def hex8_ok(words: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """True where a field is empty or exactly 8 hex digits (either case)."""
    mat = gather(words, starts, np.minimum(lens, 8), 8)
    lower = mat | 0x20
    hexd = _is_digit(mat) | ((lower >= 97) & (lower <= 102))
    return (lens == 0) | ((lens == 8) & np.all(hexd, axis=1))


_LOWER = np.uint64(0x2020202020202020)


def hash_tokens(
    words: np.ndarray, starts: np.ndarray, lens: np.ndarray, field_index: int, *, lower_hex: bool = False
) -> np.ndarray:
    """Stable 64-bit hash of each token's bytes, salted with ``field_index``.

    h = mix(salt); for each 8-byte little-endian word of the token (zero-padded):
    h = splitmix64(h ^ word); finally h = splitmix64(h ^ length). With ``lower_hex`` every
    byte is OR-ed with 0x20 first (maps A-F onto a-f, leaves digits alone).
    """
    use_len = np.minimum(lens, MAX_TOKEN_BYTES)
    n_words = max(1, -(-int(use_len.max(initial=0)) // 8))
    packed = gather_words(words, starts, use_len, n_words)
    h = np.full(starts.shape[0], splitmix64(np.array([field_index + 1], dtype=np.uint64) * _GOLDEN)[0])
    with np.errstate(over="ignore"):
        for i in range(n_words):
            w = packed[:, i]
            if lower_hex:
                valid = np.clip(use_len - 8 * i, 0, 8).astype(np.uint64)
                mask = np.where(valid >= 8, _ALL_ONES, (np.uint64(1) << (np.uint64(8) * valid)) - np.uint64(1))
                w = (w | _LOWER) & mask
            active = use_len > 8 * i
            h = np.where(active, splitmix64(h ^ w), h)
        return splitmix64(h ^ use_len.astype(np.uint64))


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
    buf = table.words
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


def iter_parsed_chunks(
    handle: BinaryIO,
    columns: tuple[Column, ...],
    *,
    sep: bytes,
    hash_fields: dict[str, int],
    path: Path,
    first_line: int,
    skipped: SkipReport,
    strict: bool,
    chunk_rows: int,
    progress: tqdm | None = None,
) -> Iterator[ParsedColumns]:
    """``parse_chunk`` over the whole-line chunks of ``handle``, keeping the file line
    numbers right (``first_line`` = line number of the handle's next line)."""
    line = first_line
    for data, n_lines in iter_line_chunks(handle, chunk_rows, progress=progress):
        parsed = parse_chunk(
            data, columns, sep=sep, hash_fields=hash_fields, path=path,
            first_line=line, skipped=skipped, strict=strict,
        )
        line += n_lines
        yield parsed


def bucketize_fields(parsed: ParsedColumns, names: tuple[str, ...],
                     cardinalities: tuple[int, ...]) -> np.ndarray:
    """The embedding rows [n, len(names)] int32 of the named hashed fields."""
    return np.stack(
        [bucketize(parsed.hashes[n], parsed.missing[n], c) for n, c in zip(names, cardinalities)],
        axis=1,
    )


def make_progress(total_bytes: int, desc: str, quiet: bool) -> tqdm:
    return tqdm(total=total_bytes, desc=desc, unit="B", unit_scale=True, disable=quiet, leave=False)


def dense_transform(values: np.ndarray) -> np.ndarray:
    """NASRec's dense preprocessing: log(max(x, 0) + 1), as float32."""
    return np.log1p(np.maximum(values, 0.0)).astype(np.float32)


def hash_strings(tokens: list[bytes], field_index: int, *, lower_hex: bool = False) -> np.ndarray:
    """``hash_tokens`` of a list of tokens (convenience for tests and tools)."""
    joined = b"".join(tokens) + b"\0" * 8
    lens = np.array([len(t) for t in tokens], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    words = np.ndarray(shape=(len(joined) - 7,), dtype="<u8", buffer=joined, offset=0, strides=(1,))
    return hash_tokens(words, starts, lens, field_index, lower_hex=lower_hex)
