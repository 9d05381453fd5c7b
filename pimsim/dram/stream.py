"""A replay fed in chunks: :class:`Lane` keeps the engine's state between the chunks and
releases each request's result as soon as it is final, so memory stays bounded whatever
the length of the stream.

A lane's window holds the requests fed and not yet released: from the oldest request
still in a queue on. After each chunk the released prefix is cut off and the indices the
queues hold are shifted down by its length (the kernel addresses requests by their place
in the window). A read merged into a pending read takes its leader's completion once the
leader is served, as the whole-trace replay does at its end.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from pimsim.dram.address import AddressMapper
from pimsim.dram.codes import N_STATS, REFRESH_ALL_BANK, ROW_POLICIES, S_STATUS, SCHEDULERS
from pimsim.dram.decode import decode_by_lane
from pimsim.dram.kernel import new_engine_state, resume
from pimsim.dram.run import call_kernel, compiled_timing_for, decoded_requests, geometry
from pimsim.dram.state import (
    N_SCAL, SCAL_CYCLE, SCAL_NEXT, Geometry, Outcome, Requests, Timing,
)
from pimsim.dram.tables import engine_timing
from pimsim.errors import PimsimError
from pimsim.hw.schema import Profile
from pimsim.standards import CompiledTiming


@dataclass(frozen=True)
class EngineSetup:
    """What every lane of one replay shares: the profile's compiled tables and choices."""

    profile: Profile
    ct: CompiledTiming
    geo: Geometry
    tm: Timing
    scheduler: int
    row_policy: int
    pim: bool                 #: some request carries a flag (a compile-time literal)
    stall_limit_cycles: int

    @classmethod
    def of(cls, profile: Profile, *, pim: bool, stall_limit_cycles: int) -> EngineSetup:
        ct = compiled_timing_for(profile)
        return cls(profile, ct, geometry(profile), engine_timing(ct, profile, pim=bool(pim)),
                   SCHEDULERS[profile.controller.scheduler],
                   ROW_POLICIES[profile.controller.page_policy], bool(pim),
                   int(stall_limit_cycles))

    def decode(self, addr: np.ndarray, wr: np.ndarray, arr: np.ndarray,
               fl: np.ndarray) -> Requests:
        return decoded_requests(self.profile, self.geo, addr, wr, arr, fl)

    def channels(self, first: int, count: int) -> EngineSetup:
        """The setup of a lane that simulates channels ``first .. first + count - 1`` only
        (its channels numbered from 0; see :meth:`decode_by_lane`)."""
        return replace(self, geo=self.geo._replace(n_ch=int(count)))

    def decode_by_lane(self, addr: np.ndarray, wr: np.ndarray, arr: np.ndarray,
                       fl: np.ndarray, first: int, lane_of: np.ndarray,
                       first_channels: list[int], lanes: list[int] | None = None
                       ) -> list[tuple[Requests, np.ndarray]]:
        """A chunk (its first request the stream's ``first``) decoded and split among
        lanes: lane ``g`` simulates the channels ``c`` with ``lane_of[c] == g``, numbered
        from ``first_channels[g]`` (:meth:`channels`). For each lane of ``lanes`` (default:
        all), its requests, every channel-major index moved down by the channels before its
        first, and their stream indices."""
        g = self.geo
        down = np.array([[c, c * g.n_rk * g.nb_rank, c * g.n_rk * g.n_bg, c * g.nq_ch]
                         for c in first_channels], dtype=np.int64).reshape(-1, 4)
        return decode_by_lane(AddressMapper(self.profile), g, addr, wr, arr, fl, first,
                              lane_of, down, lanes)


@dataclass
class Released:
    """Requests whose results are final: their index in the whole stream, kind, flags and
    cycles, in stream order."""

    index: np.ndarray
    is_write: np.ndarray
    flags: np.ndarray
    admit: np.ndarray
    complete: np.ndarray

    @classmethod
    def empty(cls) -> Released:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, z, z, z)

    def __len__(self) -> int:
        return int(self.index.shape[0])

    def take(self, sel: np.ndarray) -> Released:
        return Released(self.index[sel], self.is_write[sel], self.flags[sel], self.admit[sel],
                        self.complete[sel])

    @classmethod
    def concat(cls, parts: list[Released]) -> Released:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("index", "is_write", "flags", "admit", "complete")))


def _empty_requests() -> Requests:
    return Requests(*(np.zeros(0, dtype=np.int64) for _ in Requests._fields))


class Lane:
    """One engine state and its window of requests (see the module docstring). Fed the
    whole stream, or the requests of a group of channels (pimsim.dram.chunked)."""

    def __init__(self, setup: EngineSetup) -> None:
        self.setup = setup
        geo, tm = setup.geo, setup.tm
        nc = tm.role.shape[0]
        (self.banks, self.tq, self.q, self.chans, self.ref, self.log,
         self.wb) = new_engine_state(geo, tm, 1)
        self.counts = np.zeros((nc, 2), dtype=np.int64)
        self.bank_ops = np.zeros(nc, dtype=np.int64)
        self.stats = np.zeros(N_STATS, dtype=np.int64)
        self.scal = np.zeros(N_SCAL, dtype=np.int64)
        self.window = _empty_requests()
        self.index = np.zeros(0, dtype=np.int64)    #: stream index of each window entry
        self.admit = np.zeros(0, dtype=np.int64)
        self.complete = np.zeros(0, dtype=np.int64)
        self.leader = np.zeros(0, dtype=np.int64)
        #: some request was admitted after its arrival (a full transaction queue)
        self.stalled_admission = False

    @property
    def cycle(self) -> int:
        """The loop's cycle: where a fed chunk stopped, or after a final feed the first
        cycle not yet run."""
        return int(self.scal[SCAL_CYCLE])

    def feed(self, req: Requests, index: np.ndarray, *, final: bool, until_t: int = -1) -> None:
        """Run the engine on the window plus ``req`` (stream indices ``index``): not
        ``final``, until every request is admitted and cycle ``until_t`` reached; ``final``,
        until every request is served (and through cycle ``until_t`` when >= 0)."""
        s = self.setup
        n_new = int(index.shape[0])
        self.window = Requests(*(np.concatenate((a, b)) for a, b in zip(self.window, req)))
        self.index = np.concatenate((self.index, index))
        fill = np.full(n_new, -1, dtype=np.int64)
        self.admit = np.concatenate((self.admit, fill))
        self.complete = np.concatenate((self.complete, fill))
        self.leader = np.concatenate((self.leader, fill))
        out = Outcome(self.admit, self.complete, self.leader, self.counts, self.bank_ops,
                      self.stats)
        first = int(self.scal[SCAL_NEXT])
        call_kernel(resume, self.window, s.geo, s.tm, self.banks, self.tq, self.q,
                    self.chans, self.ref, out, self.log, self.wb, self.scal, bool(final),
                    int(until_t), s.scheduler, s.row_policy, REFRESH_ALL_BANK, False, s.pim,
                    s.stall_limit_cycles)
        if self.stats[S_STATUS] != 0:
            raise PimsimError(
                f"run_requests: no progress for {s.stall_limit_cycles} cycles on profile "
                f"{s.profile.name!r} (scheduler deadlock); please report this stream"
            )
        last = int(self.scal[SCAL_NEXT])
        if (self.admit[first:last] != self.window.arrival[first:last]).any():
            self.stalled_admission = True

    def _pending(self) -> np.ndarray:
        """Window indices of the requests in a transaction queue, a write buffer or a
        command queue."""
        tq_req = self.tq.entries[0]
        q_req = self.q.entries[0]
        wb_req = self.wb.entries[0]
        in_tq = np.arange(tq_req.shape[1]) < self.tq.length[:, None]
        in_q = np.arange(q_req.shape[1]) < self.q.length[:, None]
        in_wb = np.arange(wb_req.shape[1]) < self.wb.counts[0][:, None]
        return np.concatenate((tq_req[in_tq], q_req[in_q], wb_req[in_wb]))

    def release(self) -> Released:
        """Cut off and return the window's prefix of final results."""
        fed = int(self.scal[SCAL_NEXT])
        pending = self._pending()
        cut = min(fed, int(pending.min())) if pending.size else fed
        follower = np.flatnonzero(self.leader >= 0)
        lead = self.leader[follower]
        served = self.complete[lead] >= 0
        f, lead = follower[served], lead[served]
        self.complete[f] = np.maximum(self.complete[lead], self.admit[f] + 1)
        self.leader[f] = -1
        done = Released(self.index[:cut], self.window.is_write[:cut],
                        self.window.flags[:cut], self.admit[:cut], self.complete[:cut])
        if cut:
            self.window = Requests(*(a[cut:] for a in self.window))
            self.index = self.index[cut:]
            self.admit = self.admit[cut:]
            self.complete = self.complete[cut:]
            self.leader = self.leader[cut:]
            self.leader[self.leader >= 0] -= cut
            self.tq.entries[0] -= cut
            self.q.entries[0] -= cut
            self.wb.entries[0] -= cut
            self.scal[SCAL_NEXT] -= cut
        return done

    @property
    def oldest_held(self) -> int | None:
        """Stream index of the oldest request not yet released (None: none held)."""
        return int(self.index[0]) if self.index.shape[0] else None
