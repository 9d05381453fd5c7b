"""replay_file: a trace file replayed in bounded memory, its per-request results streamed
to Parquet when asked for.

The file is read block by block (:func:`pimsim.requests.tracefile.iter_trace`) and each
block fed to the engine (:func:`pimsim.dram.replay_chunks`), so resident memory does not
grow with the trace; the results are those of :func:`pimsim.requests.replay.replay` on
the whole trace.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from pimsim.dram import ReleaseSink, replay_chunks
from pimsim.hw.schema import Profile
from pimsim.requests.parquet import ParquetRequests
from pimsim.requests.replay import ReplayResult, replay_result
from pimsim.requests.tracefile import BLOCK_BYTES, iter_trace
from pimsim.util.executors import default_workers
from pimsim.util.fileio import atomic_write

#: a trace file at least this large is replayed in parallel channel groups by default
#: (about 2M requests: below that, thread start-up and the short first chunk cost about
#: what the second core gains)
PARALLEL_MIN_BYTES = 1 << 25


def default_lanes(path: Path) -> int:
    """Channel groups for ``path``: one per core when the file is large, else one."""
    try:
        size = path.stat().st_size
    except OSError:
        return 1
    return default_workers() if size >= PARALLEL_MIN_BYTES else 1


def replay_file(profile: Profile, path: str | os.PathLike[str], *,
                requests_out: str | os.PathLike[str] | None = None,
                lanes: int | None = None, block_bytes: int = BLOCK_BYTES) -> ReplayResult:
    """Replay the DRAMsim3-format trace ``path`` (plain, gzip or zstd) on ``profile``.

    ``requests_out``: write every request's admission and completion cycles to this
    Parquet file (columns
    :data:`pimsim.requests.parquet.REQUEST_COLUMNS`, in trace order). ``lanes``: channel
    groups replayed in parallel threads (default: one per core for a large file; the
    result is the same for any value). The result keeps no per-request arrays (memory
    would grow with the trace): :func:`pimsim.requests.replay.replay` does.
    """
    trace = Path(path)
    n_lanes = default_lanes(trace) if lanes is None else int(lanes)

    def chunks() -> Iterator[tuple]:
        for part in iter_trace(trace, block_bytes):
            yield part.addresses, part.is_write, part.arrival_cycles, None

    def run(sink: ReleaseSink | None) -> ReplayResult:
        res = replay_chunks(profile, chunks, lanes=n_lanes, sink=sink)
        return replay_result(profile, res)

    if requests_out is None:
        return run(None)
    results: list[ReplayResult] = []

    def write(tmp: str) -> None:
        sink = ParquetRequests(tmp)
        try:
            results.append(run(sink))
        finally:
            sink.close()

    atomic_write(requests_out, write)
    return results[0]
