"""replay_chunks: a request stream given chunk by chunk, replayed in bounded memory, in one
lane or in channel groups run in parallel threads, with results identical to the whole-
stream replay (:func:`pimsim.dram.run_requests`).

Channel groups: the controller of each channel works alone, but admission is in order
and a full transaction queue stops it for every channel (head-of-line), which couples the
channels. While no request waits for a transaction queue, every request is admitted at its
arrival cycle and each group of channels evolves exactly as in the whole replay; a group
fed only its own requests is then the whole replay restricted to its channels. So the
groups run in parallel (the kernel releases the GIL) and every group checks that each of
its requests was admitted at its arrival cycle; if one was not (a saturating stream), the
replay starts over in one lane, which the result does not depend on. The first chunk of a
parallel replay is short so that a saturating stream is found out quickly.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from pimsim.dram.codes import S_STATUS
from pimsim.dram.result import DramResult, RequestTotals, totals_result
from pimsim.dram.run import DEFAULT_STALL_LIMIT_CYCLES, validate_requests
from pimsim.dram.state import Requests
from pimsim.dram.stream import EngineSetup, Lane, Released
from pimsim.errors import PimsimError
from pimsim.hw.schema import Profile

#: requests of the first chunk of a replay in channel groups (see the module docstring)
PROBE_REQUESTS = 65_536
#: chunks a lane of a replay in channel groups may be given before the oldest one's
#: results are taken back: lanes run at their own pace (no wait for the slowest at every
#: chunk), in memory bounded by this many chunks per lane; one lane alone is given one
#: chunk ahead (nothing to wait for, less memory)
CHUNKS_AHEAD = 3

#: one chunk of a stream: byte addresses, is_write, arrival cycles, flags (or None)
Chunk = tuple[np.ndarray, np.ndarray, np.ndarray, "np.ndarray | None"]


class ReleaseSink(Protocol):
    """Where per-request results go as they become final, in stream order."""

    def write(self, batch: Released) -> None: ...

    def restart(self) -> None:
        """Drop everything written: the replay starts over (see the module docstring)."""


@dataclass
class Prepared:
    """A chunk ready for the lanes: for one lane its requests decoded, with their stream
    indices; for channel groups the checked chunk, which each group's thread decodes and
    selects for itself (the calling thread would otherwise decode for both cores)."""

    one_lane: tuple[Requests, np.ndarray] | None
    checked: tuple | None     #: (addresses, is_write, arrival, flags, first stream index)
    fed: int                  #: requests fed once this chunk is
    last_arrival: int         #: arrival cycle of its last request (-1: empty)


@dataclass
class Pending:
    """What the lanes released after one chunk: per lane its results, and the stream index
    of the oldest request any lane still held then (the requests fed, when none)."""

    released: list[Released]
    frontier: int


class _Coupled(Exception):
    """A group's request waited for a transaction queue: the groups are not independent."""


def _checked_chunks(profile: Profile, chunks: Iterable[Chunk], pim: bool) -> Iterator[tuple]:
    """The chunks as checked int64 arrays, with the stream index of their first request."""
    first = 0
    last_arrival: int | None = None
    for addresses, is_write, arrival, flags in chunks:
        addr, wr, arr, fl = validate_requests(profile, addresses, is_write, arrival, flags,
                                              first_index=first)
        if not pim and fl.any():
            i = int(np.argmax(fl != 0))
            raise PimsimError(f"flags[{first + i}] = {int(fl[i])} in a replay_chunks stream "
                              "without pim=True; accepted: pim=True for a stream with flags")
        if arr.shape[0] and last_arrival is not None and int(arr[0]) < last_arrival:
            raise PimsimError(
                f"arrival_cycles[{first}] = {int(arr[0])} is before arrival_cycles"
                f"[{first - 1}] = {last_arrival}; accepted: non-decreasing arrival cycles "
                "(in-order stream)")
        if arr.shape[0]:
            last_arrival = int(arr[-1])
        yield first, addr, wr, arr, fl
        first += int(addr.shape[0])


def _split(checked: Iterator[tuple], probe: int) -> Iterator[tuple]:
    """``checked`` with its first chunk cut after ``probe`` requests."""
    head = next(checked, None)
    if head is None:
        return
    first, *arrays = head
    if probe and arrays[0].shape[0] > probe:
        yield (first, *(a[:probe] for a in arrays))
        head = (first + probe, *(a[probe:] for a in arrays))
    yield head
    yield from checked


class _Replay:
    """One attempt at a replay in ``n_lanes`` lanes (see the module docstring)."""

    def __init__(self, setup: EngineSetup, n_lanes: int, keep: bool,
                 sink: ReleaseSink | None, pools: list[ThreadPoolExecutor]) -> None:
        self.setup = setup
        n_ch = setup.geo.n_ch
        #: lane of each channel: contiguous groups of channels
        self.lane_of = np.arange(n_ch, dtype=np.int64) * n_lanes // n_ch
        self.first_channel = [int(np.argmax(self.lane_of == g)) for g in range(n_lanes)]
        self.lanes = [Lane(setup.channels(c0, int((self.lane_of == g).sum())))
                      for g, c0 in enumerate(self.first_channel)]
        #: one thread per lane: the chunks given to a lane run in order, each lane at its
        #: own pace
        self.pools = pools
        self.keep = keep
        self.sink = sink
        #: per lane, the totals of what it released (added up in the lane's own thread)
        self.totals = [RequestTotals() for _ in self.lanes]
        self.kept: list[Released] = []
        self.held: list[Released] = []

    def _start(self, fn: Callable[[Lane], Any]) -> list[Future]:
        """``fn`` on every lane, each in its lane's thread after what the lane was given
        before (the kernel releases the GIL)."""
        return [pool.submit(fn, lane) for pool, lane in zip(self.pools, self.lanes)]

    def prepare(self, first: int, addr: np.ndarray, wr: np.ndarray, arr: np.ndarray,
                fl: np.ndarray) -> Prepared:
        """A chunk made ready for the lanes (done while they run the previous one)."""
        last = int(arr[-1]) if arr.shape[0] else -1
        fed = first + int(addr.shape[0])
        if len(self.lanes) == 1:
            index = np.arange(first, fed, dtype=np.int64)
            return Prepared((self.setup.decode(addr, wr, arr, fl), index), None, fed, last)
        return Prepared(None, (addr, wr, arr, fl, first), fed, last)

    def _part(self, chunk: Prepared, lane: Lane) -> tuple[Requests, np.ndarray]:
        """``lane``'s requests of ``chunk`` and their stream indices."""
        if chunk.one_lane is not None:
            return chunk.one_lane
        (part,) = self.setup.decode_by_lane(*chunk.checked, self.lane_of, self.first_channel,
                                            lanes=[self.lanes.index(lane)])
        return part

    def start(self, chunk: Prepared, final: bool) -> list[Future]:
        """Start the lanes on ``chunk``; :meth:`finish` waits for them."""
        # channel groups go on to the arrival of the chunk's last request, where the whole
        # replay stops (groups then share one cycle), even in the final chunk: a group
        # whose own requests end sooner must not see the end of the stream (its write
        # buffers drain at the end) before the whole stream ends
        grouped = len(self.lanes) > 1
        until = chunk.last_arrival if grouped else -1
        fed = chunk.fed

        def run(lane: Lane) -> tuple[Released, int, bool]:
            lane.feed(*self._part(chunk, lane), final=final and not grouped, until_t=until)
            if final:
                # released once every group has ended
                return Released.empty(), fed, lane.stalled_admission
            # released and added up in the lane's thread, which then goes on to its next
            # chunk without waiting for the main thread
            done = self._release(lane)
            oldest = lane.oldest_held
            return done, fed if oldest is None else oldest, lane.stalled_admission

        return self._start(run)

    def finish(self, running: list[Future], final: bool) -> Pending:
        """Wait for the lanes; what they released, for :meth:`emit`."""
        outcomes = [fut.result() for fut in running]
        fed = outcomes[0][1]
        if final and len(self.lanes) > 1:
            # every group to its own end, then all through the last cycle any group ran,
            # as the whole replay runs every channel to its end
            for fut in self._start(lambda lane: lane.feed(*_nothing(), final=True)):
                fut.result()
            end = max(lane.cycle - 1 for lane in self.lanes)
            for fut in self._start(lambda lane: lane.feed(*_nothing(), final=True,
                                                          until_t=end)):
                fut.result()
        # a lane's flag as it was after this chunk (the lane may have gone on since)
        stalled = any(s for _, _, s in outcomes)
        if final:
            stalled = any(lane.stalled_admission for lane in self.lanes)
        if stalled and len(self.lanes) > 1:
            raise _Coupled
        if final:
            released = [self._release(lane) for lane in self.lanes]
            oldest = [i for i in (lane.oldest_held for lane in self.lanes) if i is not None]
            return Pending(released, min(oldest) if oldest else fed)
        return Pending([r for r, _, _ in outcomes], min(o for _, o, _ in outcomes))

    def _release(self, lane: Lane) -> Released:
        """What ``lane`` released, added to its totals."""
        done = lane.release()
        self.totals[self.lanes.index(lane)].add(done.admit, done.complete, done.is_write,
                                                done.flags, self.setup.geo.nb_rank)
        return done

    def emit(self, pending: Pending) -> None:
        """Pass on to the sink and the kept results, in stream order, the released results
        before the oldest request any lane still holds; keep the rest for a later call.
        (The totals do not depend on the order: the lanes add them up.)"""
        if self.sink is None and not self.keep:
            return
        self.held.extend(pending.released)
        held = Released.concat(self.held)
        frontier = pending.frontier
        order = np.argsort(held.index, kind="stable")
        ready = order[held.index[order] < frontier]
        self.held = [held.take(order[held.index[order] >= frontier])]
        batch = held.take(ready)
        if len(batch):
            if self.keep:
                self.kept.append(batch)
            if self.sink is not None:
                self.sink.write(batch)

    def result(self) -> DramResult:
        s = self.setup
        counts = sum(lane.counts for lane in self.lanes)
        bank_ops = sum(lane.bank_ops for lane in self.lanes)
        stats = sum(lane.stats for lane in self.lanes)
        stats[S_STATUS] = 0
        admit = complete = None
        if self.keep:
            kept = Released.concat(self.kept)
            admit, complete = kept.admit, kept.complete
        return totals_result(RequestTotals.sum(self.totals), counts, bank_ops, stats, s.ct,
                             int(s.profile.transaction_bytes), admit, complete)


def _nothing() -> tuple[Requests, np.ndarray]:
    z = np.zeros(0, dtype=np.int64)
    return Requests(*(z for _ in Requests._fields)), z


def replay_chunks(profile: Profile, chunks: Callable[[], Iterable[Chunk]], *, lanes: int = 1,
                  keep_requests: bool = False, sink: ReleaseSink | None = None,
                  pim: bool = False,
                  stall_limit_cycles: int = DEFAULT_STALL_LIMIT_CYCLES) -> DramResult:
    """Replay the stream ``chunks()`` yields (call it again for a fresh pass: a replay in
    channel groups that finds them coupled starts over) on ``profile``.

    ``lanes``: channel groups run in parallel threads (1: one lane; capped at the number
    of channels). ``keep_requests``: the result carries every request's admission and
    completion cycles (memory grows with the stream); ``sink`` receives them in stream
    order as they become final. ``pim``: some chunk carries flags. Results are those of
    :func:`pimsim.dram.run_requests` on the whole stream (``sim_steps`` aside: groups add
    theirs).
    """
    setup = EngineSetup.of(profile, pim=pim, stall_limit_cycles=stall_limit_cycles)
    n_lanes = max(1, min(int(lanes), setup.geo.n_ch))
    while True:
        # one thread per lane; the calling thread meanwhile reads and decodes the chunks
        # ahead and passes on the results of those done (the kernel and the scanner
        # release the GIL)
        pools = [ThreadPoolExecutor(max_workers=1) for _ in range(n_lanes)]
        attempt = _Replay(setup, n_lanes, keep_requests, sink, pools)
        try:
            stream = _checked_chunks(profile, chunks(), pim)
            if n_lanes > 1:
                stream = _split(stream, PROBE_REQUESTS)
            z = np.zeros(0, dtype=np.int64)
            current = attempt.prepare(*next(stream, (0, z, z, z, z)))
            upcoming = next(stream, None)
            given: deque[list[Future]] = deque()  # per chunk in the lanes, its runs
            ahead = CHUNKS_AHEAD if n_lanes > 1 else 1
            while True:
                final = upcoming is None
                given.append(attempt.start(current, final))
                if not final:
                    current = attempt.prepare(*upcoming)
                    upcoming = next(stream, None)
                while given and (final or len(given) > ahead):
                    running = given.popleft()
                    attempt.emit(attempt.finish(running, final and not given))
                if final:
                    return attempt.result()
        except _Coupled:
            n_lanes = 1
            if sink is not None:
                sink.restart()
        finally:
            for pool in pools:
                pool.shutdown(wait=True, cancel_futures=True)
