"""Vectorised splitting, checking and conversion of delimited text chunks (any ``RawFormat``).

A chunk of whole lines is viewed as one uint8 array. Separator and newline positions give
every field's start and length without a Python loop per line; each column is then checked
and converted on a padded byte matrix (one row per line). Lines with the wrong field count
or a field that fails its column's check are reported in a ``SkipReport`` (count plus the
first examples with file:line and text) and dropped, or raise DataFormatError in strict mode.

Categorical fields are hashed by ``codesign.data.hashing``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from codesign.data.formats import Column
from codesign.data.hashing import MAX_TOKEN_BYTES, bucketize, gather_words, hash_tokens
from codesign.errors import DataFormatError

#: Longest dense integer accepted (digits, a leading '-' not counted).
MAX_DENSE_DIGITS: int = 18
#: Longest integer id accepted (20 digits hold any uint64).
MAX_INT_DIGITS: int = 20

# Byte values (ASCII) the checks compare against.
_NL, _CR, _MINUS = ord("\n"), ord("\r"), ord("-")
_ZERO, _ONE, _NINE = ord("0"), ord("1"), ord("9")
_LOWER_A, _LOWER_F = ord("a"), ord("f")

#: What meta.json says of the dense columns (``dense_transform``).
DENSE_DESCRIPTION: str = "log(max(x, 0) + 1), missing -> 0"

_DESCRIBE = {
    "label01": "label is not 0 or 1",
    "label_count": "click count is not a non-negative integer",
    "dense": "non-numeric dense value",
    "hex8": "category is not 8 hex digits",
    "int": "category is not an integer",
    "token": "category token too long",
    "ignore_int": "field is not an integer",
}


@dataclass
class SkipReport:
    """Malformed lines met while reading: total count and the first few examples."""

    count: int = 0
    examples: list[str] = field(default_factory=list)
    max_examples: int = 10

    def add(self, where: str, reason: str, text: str) -> None:
        self.count += 1
        if len(self.examples) < self.max_examples:
            self.examples.append(f"{where}: {reason}: {text!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "examples": list(self.examples)}

    def summary(self) -> str:
        if self.count == 0:
            return "no malformed lines"
        lines = [f"skipped {self.count} malformed line(s); first {len(self.examples)}:"]
        lines += [f"  {e}" for e in self.examples]
        return "\n".join(lines)


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
    is_nl = body == _NL
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
    cr_idx = cr_idx[body[sep_pos[cr_idx] - 1] == _CR]
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


def gather(words: np.ndarray, starts: np.ndarray, lens: np.ndarray, width: int) -> np.ndarray:
    """Bytes of each field in a zero-padded [n, width] uint8 matrix (longer fields are cut)."""
    n_words = max(1, -(-width // 8))
    packed = gather_words(words, starts, np.minimum(lens, width), n_words)
    return packed.view(np.uint8).reshape(starts.shape[0], 8 * n_words)[:, :width]


def _is_digit(mat: np.ndarray) -> np.ndarray:
    return (mat >= _ZERO) & (mat <= _NINE)


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
        neg = (mat[:, 0] == _MINUS) & (use_len > 0)
    offs = np.arange(width)[None, :]
    body = (offs < use_len[:, None]) & ~((offs == 0) & neg[:, None])
    ok = ~too_long & np.all(_is_digit(mat) | ~body, axis=1)
    ok &= ~(neg & (use_len == 1))  # a lone '-'
    # Digit j of a field of length L has weight 10 ** (L - 1 - j).
    power = np.power(10.0, (use_len[:, None] - 1 - offs).clip(0, None))
    vals = np.where(body, (mat.astype(np.float64) - _ZERO) * power, 0.0).sum(axis=1)
    vals = np.where(neg, -vals, vals)
    vals[~ok] = 0.0
    return vals, ok


def hex8_ok(words: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """True where a field is empty or exactly 8 hex digits (either case)."""
    mat = gather(words, starts, np.minimum(lens, 8), 8)
    lower = mat | 0x20  # ASCII letters to lower case (digits are unchanged by the bit)
    hexd = _is_digit(mat) | ((lower >= _LOWER_A) & (lower <= _LOWER_F))
    return (lens == 0) | ((lens == 8) & np.all(hexd, axis=1))


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


@dataclass
class ChunkParser:
    """Checks and converts the chunks of one file of one format.

    ``hash_fields`` maps each categorical column name to its field index (the hash salt);
    malformed lines go to ``skipped`` or, with ``strict``, raise at the first.
    """

    columns: tuple[Column, ...]
    sep: bytes
    hash_fields: dict[str, int]
    path: Path
    skipped: SkipReport
    strict: bool

    def parse(self, data: bytes, first_line: int) -> ParsedColumns:
        """Check and convert one chunk of whole lines whose first line is file line
        ``first_line`` (1-based)."""
        table = split_fields(data, self.sep, len(self.columns))
        ok_lines = np.flatnonzero(table.count_ok)
        bad_cols: list[np.ndarray] = []
        # Converted columns of every well-formed line; the rows that fail a check go below.
        out = ParsedColumns(line_numbers=ok_lines + first_line, values={}, hashes={}, missing={})
        for k, col in enumerate(self.columns):
            bad_cols.append(~self._convert(col, table.words, table.starts[:, k], table.lens[:, k], out))
        bad_matrix = np.stack(bad_cols, axis=1) if bad_cols else np.zeros((ok_lines.shape[0], 0), bool)
        row_bad = bad_matrix.any(axis=1)
        keep = ~row_bad
        # Malformed lines, in file order: wrong field count, or a field failing its check.
        bad_line_flags = ~table.count_ok
        bad_line_flags[ok_lines[row_bad]] = True
        if bad_line_flags.any():
            self._report(table, ok_lines, bad_matrix, bad_line_flags, first_line)
        return ParsedColumns(
            line_numbers=ok_lines[keep] + first_line,
            values={k: v[keep] for k, v in out.values.items()},
            hashes={k: v[keep] for k, v in out.hashes.items()},
            missing={k: v[keep] for k, v in out.missing.items()},
        )

    def _convert(self, col: Column, words: np.ndarray, s: np.ndarray, ln: np.ndarray,
                 out: ParsedColumns) -> np.ndarray:
        """Convert one column into ``out``; return which fields passed the column's check."""
        empty = ln == 0
        if col.kind == "label01":
            first = gather(words, s, np.minimum(ln, 1), 1)[:, 0]
            out.values[col.name] = (first == _ONE).astype(np.float64)
            return (ln == 1) & ((first == _ZERO) | (first == _ONE))
        if col.kind in ("label_count", "ignore_int"):
            vals, ok = parse_decimal(words, s, ln, signed=False, max_digits=MAX_INT_DIGITS)
            out.values[col.name] = vals
            return ok & ~empty
        if col.kind == "dense":
            vals, ok = parse_decimal(words, s, ln, signed=True, max_digits=MAX_DENSE_DIGITS)
        elif col.kind == "hex8":
            ok = hex8_ok(words, s, ln)
        elif col.kind == "int":
            vals, ok = parse_decimal(words, s, ln, signed=True, max_digits=MAX_INT_DIGITS)
        elif col.kind == "token":
            ok = ln <= MAX_TOKEN_BYTES
        else:  # pragma: no cover - Column kinds are a closed set
            raise DataFormatError(f"column {col.name}: unknown kind {col.kind!r}")
        if col.kind in ("dense", "int"):
            out.values[col.name] = vals
        if col.kind != "dense":
            lower = col.kind == "hex8"
            out.hashes[col.name] = hash_tokens(words, s, ln, self.hash_fields[col.name], lower_hex=lower)
        out.missing[col.name] = empty
        return ok

    def _report(self, table: FieldTable, ok_lines: np.ndarray, bad_matrix: np.ndarray,
                bad_line_flags: np.ndarray, first_line: int) -> None:
        """Record (or, strict, raise on) the malformed lines of one chunk."""
        skipped = self.skipped
        n_bad = int(np.count_nonzero(bad_line_flags))
        ok_row_of_line = np.full(table.n_lines, -1, dtype=np.int64)
        ok_row_of_line[ok_lines] = np.arange(ok_lines.shape[0])
        n_show = 1 if self.strict else max(0, min(n_bad, skipped.max_examples - len(skipped.examples)))
        for line in np.flatnonzero(bad_line_flags)[:n_show]:
            where = f"{self.path}:{first_line + int(line)}"
            text = table.line_text(int(line))
            if not table.count_ok[line]:
                found = int(table.n_fields_found[line])
                reason = f"wrong field count ({found}, expected {len(self.columns)})"
            else:
                r = int(ok_row_of_line[line])
                k = int(np.argmax(bad_matrix[r]))
                col = self.columns[k]
                reason = f"{_DESCRIBE[col.kind]} in {col.name} ({table.field_text(r, k)!r})"
            if self.strict:
                raise DataFormatError(f"{where}: {reason}: {text!r}")
            skipped.add(where, reason, text)
        skipped.count += n_bad - int(min(n_show, n_bad))


def bucketize_fields(parsed: ParsedColumns, names: tuple[str, ...],
                     cardinalities: tuple[int, ...]) -> np.ndarray:
    """The embedding rows [n, len(names)] int32 of the named hashed fields."""
    return np.stack(
        [bucketize(parsed.hashes[n], parsed.missing[n], c) for n, c in zip(names, cardinalities)],
        axis=1,
    )


def dense_transform(values: np.ndarray) -> np.ndarray:
    """NASRec's dense preprocessing: log(max(x, 0) + 1), as float32."""
    return np.log1p(np.maximum(values, 0.0)).astype(np.float32)
