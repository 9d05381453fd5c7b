"""A stream replayed chunk by chunk, in one lane or in parallel channel groups, gives the
results of the whole-stream replay (pimsim.dram.run_requests), request by request."""

from __future__ import annotations

import numpy as np
import pytest

from pimsim.dram import DramResult, Released, run_requests
from pimsim.dram.chunked import replay_chunks
from pimsim.errors import PimsimError


def _stream(n: int, seed: int, mean_gap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random reads and writes over 256 MiB, a fifth of them to one address (merges),
    arriving ``mean_gap`` cycles apart on average (0: all at once)."""
    rng = np.random.default_rng(seed)
    addr = rng.integers(0, 1 << 22, n, dtype=np.int64) * 64
    addr[rng.random(n) < 0.2] = 64 * 5
    wr = rng.random(n) < 0.3
    gaps = rng.integers(0, 2 * mean_gap + 1, n) if mean_gap else np.zeros(n, np.int64)
    return addr, wr, np.cumsum(gaps)


def _chunks(addr, wr, arr, size):  # noqa: ANN001, ANN202
    n = addr.shape[0]
    return lambda: ((addr[i:i + size], wr[i:i + size], arr[i:i + size], None)
                    for i in range(0, max(n, 1), size))


def _assert_same(a: DramResult, b: DramResult) -> None:
    np.testing.assert_array_equal(a.admit_cycle, b.admit_cycle)
    np.testing.assert_array_equal(a.complete_cycle, b.complete_cycle)
    for name in ("total_cycles", "command_counts", "bank_ops", "row_hits", "row_misses",
                 "row_conflicts", "reads", "writes", "bytes_read", "bytes_written",
                 "merged_reads", "merged_writes", "internal_bytes", "requests",
                 "read_latency_cycles"):
        assert getattr(a, name) == getattr(b, name), name


@pytest.mark.parametrize(("profile_name", "mean_gap"), [("hbm2", 12), ("ddr4", 40)])
def test_chunks_of_any_size_replay_as_the_whole(profile_name: str, mean_gap: int,
                                                request: pytest.FixtureRequest) -> None:
    profile = request.getfixturevalue(profile_name)
    addr, wr, arr = _stream(1500, seed=3, mean_gap=mean_gap)
    whole = run_requests(profile, addr, wr, arr)
    # the stream spans many refresh intervals (tREFI), has writes and merged requests
    assert whole.command_counts["REF"] >= 4 and whole.writes > 300
    assert whole.merged_reads + whole.merged_writes > 10
    for size in (1, 7, 64, 1499, 1500):
        _assert_same(replay_chunks(profile, _chunks(addr, wr, arr, size), keep_requests=True),
                     whole)


@pytest.mark.parametrize("mean_gap", [0, 12])
def test_channel_groups_replay_as_the_whole(hbm2, mean_gap: int) -> None:  # noqa: ANN001
    """Independent groups (a sparse stream) and coupled ones (a saturating stream, where
    full transaction queues stop admission for every channel) both give the whole
    replay's results."""
    addr, wr, arr = _stream(3000, seed=4, mean_gap=mean_gap)
    whole = run_requests(hbm2, addr, wr, arr)
    for size, lanes in ((3000, 2), (333, 2), (1000, 3), (500, 8)):
        _assert_same(replay_chunks(hbm2, _chunks(addr, wr, arr, size), lanes=lanes,
                                   keep_requests=True), whole)


class _Collect:
    def __init__(self) -> None:
        self.batches: list[Released] = []
        self.restarts = 0

    def write(self, batch: Released) -> None:
        self.batches.append(batch)

    def restart(self) -> None:
        self.batches.clear()
        self.restarts += 1


@pytest.mark.parametrize("mean_gap", [0, 12])
def test_sink_gets_every_request_once_in_order(hbm2, mean_gap: int) -> None:  # noqa: ANN001
    addr, wr, arr = _stream(2000, seed=5, mean_gap=mean_gap)
    whole = run_requests(hbm2, addr, wr, arr)
    sink = _Collect()
    res = replay_chunks(hbm2, _chunks(addr, wr, arr, 256), lanes=2, sink=sink)
    got = Released.concat(sink.batches)
    np.testing.assert_array_equal(got.index, np.arange(2000))
    np.testing.assert_array_equal(got.admit, whole.admit_cycle)
    np.testing.assert_array_equal(got.complete, whole.complete_cycle)
    np.testing.assert_array_equal(got.is_write, wr.astype(np.int64))
    assert res.admit_cycle is None and res.total_cycles == whole.total_cycles
    # a saturating stream couples the groups: the replay started over in one lane
    assert sink.restarts == (1 if mean_gap == 0 else 0)


def test_coupling_found_late_starts_over(hbm2) -> None:  # noqa: ANN001
    """A stream sparse for many chunks, then saturating: the groups are found coupled
    while lanes hold chunks given ahead; the sink is told to start over and the one-lane
    replay gives the whole replay's results."""
    addr, wr, arr = _stream(3000, seed=6, mean_gap=12)
    arr[2000:] = arr[1999]  # the last third arrives at once
    whole = run_requests(hbm2, addr, wr, arr)
    sink = _Collect()
    res = replay_chunks(hbm2, _chunks(addr, wr, arr, 100), lanes=2, sink=sink,
                        keep_requests=True)
    assert sink.restarts == 1
    _assert_same(res, whole)
    got = Released.concat(sink.batches)
    np.testing.assert_array_equal(got.index, np.arange(3000))
    np.testing.assert_array_equal(got.complete, whole.complete_cycle)


def test_order_is_checked_across_chunks(hbm2) -> None:  # noqa: ANN001
    addr = np.arange(6, dtype=np.int64) * 64
    arr = np.array([0, 1, 5, 4, 6, 7])
    with pytest.raises(PimsimError, match=r"arrival_cycles\[3\] = 4 is before "
                                          r"arrival_cycles\[2\] = 5"):
        replay_chunks(hbm2, _chunks(addr, np.zeros(6, bool), arr, 3))
    with pytest.raises(PimsimError, match=r"addresses\[4\] = -64 is negative"):
        replay_chunks(hbm2, _chunks(np.array([0, 64, 128, 192, -64]), np.zeros(5, bool),
                                    np.zeros(5, np.int64), 2))


def test_empty_stream(hbm2) -> None:  # noqa: ANN001
    z = np.zeros(0, np.int64)
    res = replay_chunks(hbm2, lambda: iter([(z, z, z, None)]), keep_requests=True)
    assert res.requests == 0 and res.total_cycles == 0 and res.admit_cycle.shape == (0,)


def test_flags_need_the_pim_kernel(hbm2) -> None:  # noqa: ANN001
    z = np.zeros(3, np.int64)
    with pytest.raises(PimsimError, match=r"flags\[1\] = 1 .*accepted: pim=True"):
        replay_chunks(hbm2, lambda: iter([(z, z, z, np.array([0, 1, 0]))]))
