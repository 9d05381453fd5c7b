"""One streaming reader for every raw format: file -> checked chunks -> cache columns.

``iter_parsed`` reads a file of a ``RawFormat`` in whole-line chunks of at most
``chunk_rows`` lines (bounded memory), checks the header if the format has one and parses
each chunk (``codesign.data.tokenize``), keeping the file line numbers of every message
right. ``read_raw`` turns the parsed chunks into what the cache stores: dense float32
(``log(max(x, 0) + 1)``; one zero column for a format without dense fields), sparse int32
embedding rows and the float32 label.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from tqdm import tqdm

from codesign.data.formats import RawFormat
from codesign.data.schema import DatasetSchema
from codesign.data.tokenize import ChunkParser, ParsedColumns, SkipReport, bucketize_fields, dense_transform
from codesign.errors import DataFormatError

#: Lines parsed at a time: bounds the reader's memory (its working arrays grow with the
#: chunk) while keeping the Python overhead per chunk small against the vectorised work.
DEFAULT_CHUNK_ROWS: int = 200_000

#: One chunk of cache columns: dense float32 [n, n_dense], sparse int32 [n, n_sparse],
#: label float32 [n].
Columns = tuple[np.ndarray, np.ndarray, np.ndarray]


def open_raw(path: str | os.PathLike[str], what: str) -> tuple[Path, int]:
    """Check that a raw file exists and is not empty: (path, size in bytes)."""
    p = Path(path)
    if not p.is_file():
        raise DataFormatError(f"{p}: no such file; accepted: the {what}")
    size = p.stat().st_size
    if size == 0:
        raise DataFormatError(f"{p}: empty file (0 bytes); accepted: the {what} with at least one data line")
    return p, size


def make_progress(total_bytes: int, desc: str, quiet: bool) -> tqdm:
    return tqdm(total=total_bytes, desc=desc, unit="B", unit_scale=True, disable=quiet, leave=False)


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


@dataclass(frozen=True)
class ReadOptions:
    """How a file is read: where malformed lines are reported, whether the first one stops
    the read (``strict``), lines per chunk, and whether progress bars are hidden."""

    skipped: SkipReport
    strict: bool = False
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    quiet: bool = False


def iter_parsed(path: str | os.PathLike[str], fmt: RawFormat, schema: DatasetSchema,
                opts: ReadOptions) -> Iterator[ParsedColumns]:
    """The parsed chunks of one raw file (chunks whose lines were all malformed included).

    The file is checked (exists, not empty) at the call, before the first chunk is asked
    for. Each categorical field is hashed with its index in ``schema.sparse_names`` as salt.
    """
    p, size = open_raw(path, fmt.what)
    parser = ChunkParser(
        columns=fmt.columns, sep=fmt.sep, path=p, skipped=opts.skipped, strict=opts.strict,
        hash_fields={name: i for i, name in enumerate(schema.sparse_names)},
    )
    return _parsed_chunks(p, size, fmt, parser, opts.chunk_rows, opts.quiet)


def _parsed_chunks(
    p: Path, size: int, fmt: RawFormat, parser: ChunkParser, chunk_rows: int, quiet: bool
) -> Iterator[ParsedColumns]:
    with open(p, "rb") as handle, make_progress(size, fmt.name, quiet) as bar:
        line = 1
        if fmt.header is not None:
            header_raw = handle.readline()
            bar.update(len(header_raw))
            _check_header(p, fmt, fmt.header, header_raw)
            line = 2
        any_data = False
        for data, n_lines in iter_line_chunks(handle, chunk_rows, progress=bar):
            any_data = True
            yield parser.parse(data, line)
            line += n_lines
        if fmt.header is not None and not any_data:
            raise DataFormatError(f"{p}: a header but no data lines; accepted: at least one data line")


def _check_header(p: Path, fmt: RawFormat, expected: tuple[str, ...], header_raw: bytes) -> None:
    sep = fmt.sep.decode()
    text = header_raw.decode("utf-8", errors="replace").strip("\r\n")
    header = tuple(h.strip() for h in text.split(sep))
    if header != expected:
        raise DataFormatError(
            f"{p}:1: header {sep.join(header)!r}; accepted: {sep.join(expected)!r} ({fmt.header_hint})"
        )


def label_of(parsed: ParsedColumns, fmt: RawFormat) -> np.ndarray:
    """The float32 0/1 label of each kept row, by the format's label rule."""
    if fmt.label is None:
        raise DataFormatError(f"format {fmt.name!r}: no label column; accepted: a training file format")
    values = parsed.values[fmt.label]
    return (values > 0 if fmt.label_rule == "count" else values).astype(np.float32)


def dense_of(parsed: ParsedColumns, fmt: RawFormat, schema: DatasetSchema) -> np.ndarray:
    """The cache's dense columns [n, n_dense]: transformed values, or zeros for a format
    with no dense field."""
    if not fmt.dense_names:
        return np.zeros((parsed.n_rows, schema.n_dense), dtype=np.float32)
    return np.stack([dense_transform(parsed.values[n]) for n in schema.dense_names], axis=1)


def read_raw(path: str | os.PathLike[str], fmt: RawFormat, schema: DatasetSchema,
             opts: ReadOptions) -> Iterator[Columns]:
    """Stream the cache columns of a raw file whose every schema field is one of its
    columns (Criteo, Avazu)."""
    for parsed in iter_parsed(path, fmt, schema, opts):
        if parsed.n_rows == 0:
            continue
        sparse = bucketize_fields(parsed, schema.sparse_names, schema.cardinalities)
        yield dense_of(parsed, fmt, schema), sparse, label_of(parsed, fmt)
