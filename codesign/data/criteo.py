"""Reader of the Criteo Display Advertising Challenge ``train.txt`` (Kaggle).

Format: one line per impression, 40 tab-separated fields: the label (0/1), 13 integer
features I1..I13 (decimal, possibly negative), 26 categorical features C1..C26 written as
8 hex digits; an empty field is missing. Lines end with '\\n' ('\\r\\n' is accepted).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from codesign.data._parse import (
    Column,
    bucketize_fields,
    dense_transform,
    iter_parsed_chunks,
    make_progress,
    open_raw,
)
from codesign.data.cache import SkipReport
from codesign.data.schema import DatasetSchema, get_schema

DEFAULT_CHUNK_ROWS: int = 200_000
_BASE = get_schema("criteo")
COLUMNS: tuple[Column, ...] = (
    (Column("label", "label01"),)
    + tuple(Column(n, "dense") for n in _BASE.dense_names)
    + tuple(Column(n, "hex8") for n in _BASE.sparse_names)
)


def read_criteo(
    path: str | os.PathLike[str],
    schema: DatasetSchema,
    *,
    skipped: SkipReport,
    strict: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    quiet: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Stream (dense float32 [n,13], sparse int32 [n,26], label float32 [n]) chunks."""
    p, size = open_raw(path, "Criteo train.txt (label, I1-I13, C1-C26, tab-separated)")
    hash_fields = {name: i for i, name in enumerate(schema.sparse_names)}
    with open(p, "rb") as handle, make_progress(size, "criteo", quiet) as bar:
        for parsed in iter_parsed_chunks(
            handle, COLUMNS, sep=b"\t", hash_fields=hash_fields, path=p, first_line=1,
            skipped=skipped, strict=strict, chunk_rows=chunk_rows, progress=bar,
        ):
            if parsed.n_rows == 0:
                continue
            dense = np.stack([dense_transform(parsed.values[n]) for n in schema.dense_names], axis=1)
            sparse = bucketize_fields(parsed, schema.sparse_names, schema.cardinalities)
            yield dense, sparse, parsed.values["label"].astype(np.float32)
