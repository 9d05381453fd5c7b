"""Re-exports of codesign.data.tokenize, codesign.data.hashing and codesign.data.reader; to be removed with the layout move."""

from codesign.data.formats import Column, ColumnKind
from codesign.data.hashing import MAX_TOKEN_BYTES, bucketize, gather_words, hash_strings, hash_tokens, splitmix64
from codesign.data.reader import iter_line_chunks, make_progress, open_raw
from codesign.data.tokenize import (
    MAX_DENSE_DIGITS,
    FieldTable,
    ParsedColumns,
    SkipReport,
    bucketize_fields,
    dense_transform,
    gather,
    hex8_ok,
    parse_decimal,
    split_fields,
)

__all__ = [
    "Column", "ColumnKind", "FieldTable", "MAX_DENSE_DIGITS", "MAX_TOKEN_BYTES", "ParsedColumns",
    "SkipReport", "bucketize", "bucketize_fields", "dense_transform", "gather", "gather_words",
    "hash_strings", "hash_tokens", "hex8_ok", "iter_line_chunks", "make_progress", "open_raw",
    "parse_decimal", "split_fields", "splitmix64",
]
