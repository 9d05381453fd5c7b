"""A Parquet file of flat, required INT64 / BOOLEAN columns, written with numpy and zstd
alone: row groups appended one at a time, the footer at :meth:`ParquetColumnsWriter.close`.

Why not pyarrow: its writer (the library and its allocators) takes a third of the
resident memory a streamed replay may use, for four integer columns (the figures:
benchmarks/README.md, "Replay"). The format (Apache Parquet, parquet.thrift, format 2.x,
read as a spec): the file is ``PAR1``, then per row group and column its data pages (at
most PAGE_ROWS rows each: a ``PageHeader``, then the values PLAIN encoded, INT64
little-endian, BOOLEAN one bit per value, least significant first, and zstd-compressed; no
definition or repetition levels, since the columns are required and flat), then the
``FileMetaData``, its length (4 bytes, little-endian) and ``PAR1``. Headers and metadata
are Thrift structs in the compact protocol: a field is a byte ``(id delta << 4) | type``
then its value; integers are zigzag varints; a struct ends with a 0 byte.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

import numpy as np
import zstandard

MAGIC = b"PAR1"
#: Parquet physical types and the numpy dtypes their PLAIN values are written from
TYPE_BOOLEAN, TYPE_INT64 = 0, 2
PHYSICAL_TYPES = {"bool": TYPE_BOOLEAN, "int64": TYPE_INT64}
#: parquet.thrift enums used here
REQUIRED = 0
ENCODING_PLAIN, ENCODING_RLE = 0, 3
CODEC_ZSTD = 6
PAGE_DATA = 0
#: zstd level of the pages: the fastest, since a page is compressed while the replay waits
ZSTD_LEVEL = 1
#: rows of one data page at most (a reader allocates a page whole)
PAGE_ROWS = 1 << 20

# Thrift compact protocol type codes
_T_TRUE, _T_FALSE, _T_I32, _T_I64, _T_BINARY, _T_LIST, _T_STRUCT = 1, 2, 5, 6, 8, 9, 12


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _zigzag(n: int) -> bytes:
    return _varint((n << 1) ^ (n >> 63))


class _Struct:
    """One Thrift struct being encoded (compact protocol)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.last = 0

    def _head(self, fid: int, ttype: int) -> None:
        delta = fid - self.last
        if 0 < delta <= 15:
            self.buf.append((delta << 4) | ttype)
        else:
            self.buf.append(ttype)
            self.buf += _zigzag(fid)
        self.last = fid

    def i32(self, fid: int, v: int) -> _Struct:
        self._head(fid, _T_I32)
        self.buf += _zigzag(int(v))
        return self

    def i64(self, fid: int, v: int) -> _Struct:
        self._head(fid, _T_I64)
        self.buf += _zigzag(int(v))
        return self

    def string(self, fid: int, s: str) -> _Struct:
        raw = s.encode()
        self._head(fid, _T_BINARY)
        self.buf += _varint(len(raw)) + raw
        return self

    def struct(self, fid: int, s: _Struct) -> _Struct:
        self._head(fid, _T_STRUCT)
        self.buf += s.end()
        return self

    def _list_head(self, fid: int, n: int, etype: int) -> None:
        self._head(fid, _T_LIST)
        self.buf += bytes([(n << 4) | etype]) if n < 15 else bytes([0xF0 | etype]) + _varint(n)

    def structs(self, fid: int, items: list[_Struct]) -> _Struct:
        self._list_head(fid, len(items), _T_STRUCT)
        for s in items:
            self.buf += s.end()
        return self

    def i32s(self, fid: int, values: list[int]) -> _Struct:
        self._list_head(fid, len(values), _T_I32)
        for v in values:
            self.buf += _zigzag(int(v))
        return self

    def strings(self, fid: int, values: list[str]) -> _Struct:
        self._list_head(fid, len(values), _T_BINARY)
        for s in values:
            raw = s.encode()
            self.buf += _varint(len(raw)) + raw
        return self

    def end(self) -> bytes:
        return bytes(self.buf) + b"\x00"


def plain_values(values: np.ndarray, physical: int) -> bytes:
    """The PLAIN encoding of one page's values."""
    if physical == TYPE_BOOLEAN:
        return np.packbits(values.astype(np.bool_), bitorder="little").tobytes()
    return np.ascontiguousarray(values, dtype="<i8").tobytes()


class ParquetColumnsWriter:
    """Writes ``columns`` (name -> "int64" or "bool") to the open binary file ``fh``."""

    def __init__(self, fh: BinaryIO, columns: dict[str, str]) -> None:
        self.fh = fh
        self.names = list(columns)
        self.types = [PHYSICAL_TYPES[t] for t in columns.values()]
        self.row_groups: list[_Struct] = []
        self.rows = 0
        self.offset = 0
        self._zstd = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        self._put(MAGIC)

    def _put(self, data: bytes) -> None:
        self.fh.write(data)
        self.offset += len(data)

    def _column_chunk(self, name: str, physical: int, values: np.ndarray) -> tuple[_Struct, int]:
        start = self.offset
        raw_total = 0
        for lo in range(0, values.shape[0], PAGE_ROWS):
            raw = plain_values(values[lo:lo + PAGE_ROWS], physical)
            packed = self._zstd.compress(raw)
            page = _Struct().i32(1, min(PAGE_ROWS, values.shape[0] - lo))
            page.i32(2, ENCODING_PLAIN).i32(3, ENCODING_RLE).i32(4, ENCODING_RLE)
            header = (_Struct().i32(1, PAGE_DATA).i32(2, len(raw)).i32(3, len(packed))
                      .struct(5, page).end())
            self._put(header)
            self._put(packed)
            raw_total += len(header) + len(raw)
        meta = (_Struct().i32(1, physical).i32s(2, [ENCODING_PLAIN, ENCODING_RLE])
                .strings(3, [name]).i32(4, CODEC_ZSTD).i64(5, values.shape[0])
                .i64(6, raw_total).i64(7, self.offset - start).i64(9, start))
        return _Struct().i64(2, start).struct(3, meta), raw_total

    def write(self, columns: list[np.ndarray]) -> None:
        """Append one row group: ``columns`` in the order of the constructor's names."""
        n = int(columns[0].shape[0])
        if n == 0:
            return
        chunks = []
        total = 0
        for name, physical, values in zip(self.names, self.types, columns):
            chunk, size = self._column_chunk(name, physical, values)
            chunks.append(chunk)
            total += size
        self.row_groups.append(_Struct().structs(1, chunks).i64(2, total).i64(3, n))
        self.rows += n

    def close(self) -> None:
        """Write the footer (the file's schema and row groups). The file stays open."""
        schema = [_Struct().string(4, "schema").i32(5, len(self.names))]
        schema += [_Struct().i32(1, physical).i32(3, REQUIRED).string(4, name)
                   for name, physical in zip(self.names, self.types)]
        meta = (_Struct().i32(1, 1).structs(2, schema).i64(3, self.rows)
                .structs(4, self.row_groups).string(6, "pimsim").end())
        self._put(meta)
        self._put(struct.pack("<I", len(meta)))
        self._put(MAGIC)
