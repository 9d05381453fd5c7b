"""replay_file: a trace file streamed through the engine gives the summary of the whole-
trace replay, and its per-request Parquet file the whole replay's cycles."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from pimsim.hw.load import load_profile
from pimsim.requests.filereplay import replay_file
from pimsim.requests.parquet import REQUEST_COLUMNS
from pimsim.requests.replay import replay
from pimsim.requests.tracefile import write_trace


@pytest.fixture(scope="module")
def hbm2():  # noqa: ANN201
    return load_profile("hbm2")


@pytest.mark.parametrize("lanes", [1, 2])
def test_file_replay_matches_the_whole_replay(tmp_path: Path, hbm2, lanes: int) -> None:  # noqa: ANN001
    rng = np.random.default_rng(11)
    n = 4000
    addr = rng.integers(0, 1 << 22, n, dtype=np.int64) * 64
    wr = rng.random(n) < 0.3
    arr = np.cumsum(rng.integers(0, 20, n))
    trace = write_trace(tmp_path / "t.trace", addr, wr, arr)
    gz = tmp_path / "t.trace.gz"
    gz.write_bytes(gzip.compress(trace.read_bytes()))
    whole = replay(hbm2, addr, wr, arr)
    out = tmp_path / "r" / "requests.parquet"
    # blocks of 4 KiB: the file arrives in about 20 chunks
    streamed = replay_file(hbm2, gz, requests_out=out, lanes=lanes, block_bytes=4096)
    assert streamed.summary() == whole.summary()
    table = pq.read_table(out)
    assert tuple(table.column_names) == REQUEST_COLUMNS
    np.testing.assert_array_equal(table["request"].to_numpy(), np.arange(n))
    np.testing.assert_array_equal(table["is_write"].to_numpy(), wr)
    np.testing.assert_array_equal(table["admit_cycle"].to_numpy(), whole.dram.admit_cycle)
    np.testing.assert_array_equal(table["complete_cycle"].to_numpy(),
                                  whole.dram.complete_cycle)
    assert sorted(p.name for p in out.parent.iterdir()) == ["requests.parquet"]
