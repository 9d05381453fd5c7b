"""Per-request replay results streamed to a Parquet file (a ReleaseSink of
:func:`pimsim.dram.replay_chunks`), one row group per released batch, through the
numpy-only writer of :mod:`pimsim.requests.parquetfile`."""

from __future__ import annotations

import numpy as np

from pimsim.dram import Released, ReleaseSink
from pimsim.requests.parquetfile import ParquetColumnsWriter

#: the columns of the per-request Parquet file and their types
REQUEST_TYPES = {"request": "int64", "is_write": "bool", "admit_cycle": "int64",
                 "complete_cycle": "int64"}
REQUEST_COLUMNS = tuple(REQUEST_TYPES)


class ParquetRequests(ReleaseSink):
    """Per-request results appended to the Parquet file ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fh = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._writer = ParquetColumnsWriter(self._fh, REQUEST_TYPES)

    @property
    def rows(self) -> int:
        return self._writer.rows

    def write(self, batch: Released) -> None:
        self._writer.write([batch.index, batch.is_write.astype(np.bool_), batch.admit,
                            batch.complete])

    def restart(self) -> None:
        self._fh.seek(0)
        self._fh.truncate()
        self._writer = ParquetColumnsWriter(self._fh, REQUEST_TYPES)

    def close(self) -> None:
        self._writer.close()
        self._fh.close()
