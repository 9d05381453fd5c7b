"""The numpy-only Parquet writer: what it writes is read back by pyarrow (an independent
Parquet reader) with the same values, types and row groups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pimsim.dram import Released
from pimsim.requests import parquetfile
from pimsim.requests.parquet import REQUEST_COLUMNS, ParquetRequests
from pimsim.requests.parquetfile import ParquetColumnsWriter


def test_columns_read_back_by_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # pages of 7 rows: a row group of 20 rows spans three pages
    monkeypatch.setattr(parquetfile, "PAGE_ROWS", 7)
    rng = np.random.default_rng(3)
    groups = [20, 1, 0, 13]
    ints = [rng.integers(-(1 << 62), 1 << 62, n) for n in groups]
    flags = [rng.random(n) < 0.5 for n in groups]
    path = tmp_path / "t.parquet"
    with path.open("wb") as fh:
        w = ParquetColumnsWriter(fh, {"v": "int64", "flag": "bool"})
        for v, f in zip(ints, flags):
            w.write([v, f])
        w.close()
    meta = pq.ParquetFile(path).metadata
    assert meta.num_rows == sum(groups)
    assert meta.num_row_groups == 3  # the empty group is not written
    table = pq.read_table(path)
    assert table.schema.field("v").type == pa.int64()
    assert table.schema.field("flag").type == pa.bool_()
    np.testing.assert_array_equal(table["v"].to_numpy(), np.concatenate(ints))
    np.testing.assert_array_equal(table["flag"].to_numpy(), np.concatenate(flags))


def test_request_sink_restart_keeps_only_what_follows(tmp_path: Path) -> None:
    def batch(lo: int, n: int) -> Released:
        idx = np.arange(lo, lo + n, dtype=np.int64)
        return Released(idx, idx % 2, np.zeros(n, np.int64), idx * 3, idx * 3 + 40)

    path = tmp_path / "r.parquet"
    sink = ParquetRequests(str(path))
    sink.write(batch(0, 50))
    sink.restart()
    sink.write(batch(0, 30))
    sink.write(batch(30, 12))
    sink.close()
    table = pq.read_table(path)
    assert tuple(table.column_names) == REQUEST_COLUMNS
    np.testing.assert_array_equal(table["request"].to_numpy(), np.arange(42))
    np.testing.assert_array_equal(table["is_write"].to_numpy(), np.arange(42) % 2 == 1)
    np.testing.assert_array_equal(table["admit_cycle"].to_numpy(), np.arange(42) * 3)
    np.testing.assert_array_equal(table["complete_cycle"].to_numpy(), np.arange(42) * 3 + 40)
