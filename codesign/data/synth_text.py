"""Columns of values rendered as text, many rows at once, and joined into delimited lines.

A rendered column is a ``Text``: a [n, width] uint8 matrix of characters and a boolean
mask of the same shape saying which of them belong to the field (fields are right-aligned
in the matrix; a missing field has no character). ``join_rows`` interleaves the columns
with a separator, ends each row with a newline and keeps only the masked characters, so a
whole chunk becomes one bytes object without a Python loop per row.
"""

from __future__ import annotations

import numpy as np

#: A rendered column: (characters [n, width] uint8, which characters are kept [n, width]).
Text = tuple[np.ndarray, np.ndarray]

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
#: Digits of the largest uint64 (18446744073709551615); one more column holds a '-'.
_MAX_DIGITS = 20
_ZERO, _MINUS = ord("0"), ord("-")


def hex8_text(values: np.ndarray, missing: np.ndarray) -> Text:
    """The low 32 bits of each value as 8 lower-case hex digits; missing rows are empty."""
    v = values.astype(np.uint64) & np.uint64(0xFFFFFFFF)
    shifts = np.arange(28, -1, -4, dtype=np.uint64)
    mat = _HEX[((v[:, None] >> shifts[None, :]) & np.uint64(15)).astype(np.intp)]
    mask = np.repeat(~missing[:, None], 8, axis=1)
    return mat, mask


def decimal_text(values: np.ndarray, missing: np.ndarray | None = None) -> Text:
    """Signed int64 or uint64 values as decimal text (right-aligned in 21 columns); missing
    rows are empty."""
    n = values.shape[0]
    if values.dtype == np.uint64:
        mag = values.copy()
        neg = np.zeros(n, dtype=bool)
    else:
        v = values.astype(np.int64)
        neg = v < 0
        mag = np.abs(v).astype(np.uint64)
    width = _MAX_DIGITS + 1
    mat = np.empty((n, width), dtype=np.uint8)
    ndig = np.ones(n, dtype=np.int64)
    rest = mag.copy()
    ten = np.uint64(10)
    for j in range(_MAX_DIGITS):
        mat[:, width - 1 - j] = (rest % ten).astype(np.uint8) + _ZERO
        rest //= ten
        ndig = np.where(rest > 0, j + 2, ndig)
    length = ndig + neg
    sign_col = width - 1 - ndig
    mat[np.flatnonzero(neg), sign_col[neg]] = _MINUS
    mask = np.arange(width)[None, :] >= (width - length)[:, None]
    if missing is not None:
        mask &= ~missing[:, None]
    return mat, mask


def const_text(text: bytes, n: int) -> Text:
    """The same bytes on every one of ``n`` rows."""
    row = np.frombuffer(text, dtype=np.uint8)
    return np.broadcast_to(row, (n, row.shape[0])), np.ones((n, row.shape[0]), dtype=bool)


def join_rows(cols: list[Text], sep: bytes) -> bytes:
    """Rows of fields joined with ``sep`` and ended with a newline, as one bytes object."""
    n = cols[0][0].shape[0]
    parts: list[Text] = []
    for i, col in enumerate(cols):
        if i:
            parts.append(const_text(sep, n))
        parts.append(col)
    parts.append(const_text(b"\n", n))
    mat = np.concatenate([p[0] for p in parts], axis=1)
    mask = np.concatenate([p[1] for p in parts], axis=1)
    return mat[mask].tobytes()
