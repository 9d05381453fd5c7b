"""Per-request replay results streamed to a Parquet file (a ReleaseSink of
:func:`pimsim.dram.replay_chunks`)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pimsim.dram import ReleaseSink, Released

#: the columns of the per-request Parquet file
REQUEST_COLUMNS = ("request", "is_write", "admit_cycle", "complete_cycle")


class ParquetRequests(ReleaseSink):
    """Per-request results appended to a Parquet file, one row group per batch."""

    SCHEMA = pa.schema([("request", pa.int64()), ("is_write", pa.bool_()),
                        ("admit_cycle", pa.int64()), ("complete_cycle", pa.int64())])

    def __init__(self, path: str) -> None:
        self.path = path
        self.rows = 0
        self._writer = self._open()

    def _open(self) -> pq.ParquetWriter:
        # no dictionary pages: the columns are distinct integers, for which a dictionary
        # only costs memory while a row group is built
        return pq.ParquetWriter(self.path, self.SCHEMA, use_dictionary=False)

    def write(self, batch: Released) -> None:
        table = pa.table([batch.index, batch.is_write.astype(np.bool_), batch.admit,
                          batch.complete], schema=self.SCHEMA)
        self._writer.write_table(table)
        self.rows += len(batch)

    def restart(self) -> None:
        self._writer.close()
        self.rows = 0
        self._writer = self._open()

    def close(self) -> None:
        self._writer.close()
