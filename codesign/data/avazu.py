"""Reader of the Avazu CTR prediction ``train`` file (Kaggle, CSV with a header).

Header: id, click, hour, C1, banner_pos, site_id, site_domain, site_category, app_id,
app_domain, app_category, device_id, device_ip, device_model, device_type,
device_conn_type, C14..C21. ``id`` is ignored (checked to be an integer); ``click`` is the
label; the 22 other columns are categorical, ``hour`` (YYMMDDHH) included. site_*, app_*,
device_id, device_ip and device_model are 8 hex digits; the others are integers. Avazu has
no dense feature: the cache holds one all-zero dense column.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from codesign.data._parse import (
    Column,
    bucketize_fields,
    iter_parsed_chunks,
    make_progress,
    open_raw,
)
from codesign.data.cache import SkipReport
from codesign.data.schema import AVAZU_CATEGORICAL, DatasetSchema
from codesign.errors import DataFormatError

DEFAULT_CHUNK_ROWS: int = 200_000
HEX_FIELDS: frozenset[str] = frozenset(
    {"site_id", "site_domain", "site_category", "app_id", "app_domain", "app_category",
     "device_id", "device_ip", "device_model"}
)
HEADER: tuple[str, ...] = ("id", "click") + AVAZU_CATEGORICAL
COLUMNS: tuple[Column, ...] = (Column("id", "ignore_int"), Column("click", "label01")) + tuple(
    Column(n, "hex8" if n in HEX_FIELDS else "int") for n in AVAZU_CATEGORICAL
)


def read_avazu(
    path: str | os.PathLike[str],
    schema: DatasetSchema,
    *,
    skipped: SkipReport,
    strict: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    quiet: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Stream (dense float32 [n,1] zeros, sparse int32 [n,22], label float32 [n]) chunks."""
    p, size = open_raw(path, "Avazu train CSV (header id,click,hour,C1,...,C21)")
    hash_fields = {name: i for i, name in enumerate(schema.sparse_names)}
    with open(p, "rb") as handle, make_progress(size, "avazu", quiet) as bar:
        header_raw = handle.readline()
        bar.update(len(header_raw))
        header = tuple(h.strip() for h in header_raw.decode("utf-8", errors="replace").strip("\r\n").split(","))
        if header != HEADER:
            raise DataFormatError(
                f"{p}:1: header {','.join(header)!r}; accepted: {','.join(HEADER)!r} "
                "(the Avazu training file; the test file has no click column)"
            )
        any_data = False
        for parsed in iter_parsed_chunks(
            handle, COLUMNS, sep=b",", hash_fields=hash_fields, path=p, first_line=2,
            skipped=skipped, strict=strict, chunk_rows=chunk_rows, progress=bar,
        ):
            any_data = True
            if parsed.n_rows == 0:
                continue
            sparse = bucketize_fields(parsed, schema.sparse_names, schema.cardinalities)
            dense = np.zeros((parsed.n_rows, schema.n_dense), dtype=np.float32)
            yield dense, sparse, parsed.values["click"].astype(np.float32)
        if not any_data:
            raise DataFormatError(f"{p}: a header but no data lines; accepted: at least one data line")
