"""Data layout: where embedding tables, weights and buffers live, and their address streams.

Two placements:

- **interleaved** (host data, ``buffer_nmp`` tables): regions are laid out one after the
  other in the byte address space and spread over channels / ranks / banks by the
  profile's address mapping. Optionally restricted to a subset of channels (the channels
  a PIM kind uses): the channel field of every address is folded into that subset.
- **pinned** (bank-level PIM kinds): a matrix is split evenly over the banks of each PIM
  channel; its address stream is built field by field (channel, rank, row, column) with
  :meth:`pimsim.dram.address.AddressMapper.encode`, so that all-bank commands sweep rows in
  order.

Data never wraps around the memory: a region that would end beyond the capacity (channels
x ranks x banks x rows x columns x bus width) raises :class:`~pimsim.errors.WorkloadError`
naming the regions placed, their bytes and the capacity, and :meth:`Layout.check_fits`
does the same for a whole workload's tables and weights before anything is simulated.

Hot-row replication (:func:`hot_rows`, :func:`assign_hot_to_units`): the most frequent
rows of a batch can be replicated in every rank / bank, so that rank- or bank-level PIM
units can serve them locally and balance their load (RecNMP's hot-entry profiling).

:func:`interleave_streams` orders a sequential stream as several cores reading it together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from pimsim.dram.address import AddressMapper
from pimsim.errors import WorkloadError
from pimsim.hw.schema import Profile
from pimsim.workload import Gemm, Workload

#: Regions a capacity error names one by one (the largest first); the rest are counted.
NAMED_REGIONS = 8


@dataclass(frozen=True)
class Region:
    name: str
    base: int
    nbytes: int


class Layout:
    """Address regions of one workload on one profile (allocated on first use)."""

    def __init__(self, profile: Profile, channels: tuple[int, ...] | None = None) -> None:
        self.profile = profile
        self.mapper = AddressMapper(profile)
        self.capacity_bytes = int(self.mapper.capacity_bytes)
        self.tx_bytes = int(profile.transaction_bytes)
        d = profile.dram
        self.cols_per_row = d.columns // d.burst_length
        self.row_bytes = self.cols_per_row * self.tx_bytes
        # region bases are aligned to one row of every bank of every channel, so that a
        # region starts on a fresh row everywhere
        self.align = self.row_bytes * d.channels * d.ranks * profile.banks_per_rank
        self.channels = channels
        self.regions: dict[str, Region] = {}
        self._next = 0

    # --- interleaved regions -----------------------------------------------------------
    def region(self, name: str, nbytes: int) -> Region:
        r = self.regions.get(name)
        if r is None or r.nbytes < nbytes:
            base = self._next
            if base + self._span(nbytes) > self.capacity_bytes:
                placed = {n: reg.nbytes for n, reg in self.regions.items()}
                raise WorkloadError(self._no_room({**placed, name: int(nbytes)}))
            self._next = base + self._span(nbytes)
            r = Region(name, base, int(nbytes))
            self.regions[name] = r
        return r

    def _span(self, nbytes: int) -> int:
        """Bytes of address space a region of ``nbytes`` takes (whole alignment units)."""
        return -(-max(int(nbytes), 1) // self.align) * self.align

    def check_fits(self, workload: Workload) -> None:
        """Raise :class:`~pimsim.errors.WorkloadError` when the tables and weights of
        ``workload`` (weights shared by id counted once) do not fit the memory."""
        data = {f"table:{name}": t.bytes for name, t in workload.tables.items()}
        for k in workload.kernels:
            if isinstance(k, Gemm):
                data.setdefault(f"weight:{k.weight or k.name}", k.resident_bytes())
        if sum(self._span(b) for b in data.values()) > self.capacity_bytes:
            raise WorkloadError(self._no_room(data))

    def _no_room(self, data: Mapping[str, int]) -> str:
        d = self.profile.dram
        big = sorted(data.items(), key=lambda kv: -kv[1])
        named = ", ".join(f"{n.replace(':', ' ', 1)} {b:,} bytes" for n, b in big[:NAMED_REGIONS])
        rest = f" and {len(big) - NAMED_REGIONS} smaller" if len(big) > NAMED_REGIONS else ""
        return (f"the workload's data does not fit the memory of profile "
                f"{self.profile.name!r}: {named}{rest} (total {sum(data.values()):,} bytes); "
                f"capacity {self.capacity_bytes:,} bytes ({self.capacity_bytes / 2**30:g} "
                f"GiB = {d.channels} channels x {d.ranks} ranks x {self.profile.banks_per_rank} "
                f"banks x {d.rows} rows x {d.columns} columns x {d.bus_width}-bit bus); "
                "accepted: tables and weights that fit, or a profile with more memory")

    def _finish(self, addr: np.ndarray, channels: tuple[int, ...] | None) -> np.ndarray:
        chans = channels if channels is not None else self.channels
        if chans is not None and len(chans) < self.profile.dram.channels:
            pos, width = self.mapper.positions["ch"], self.mapper.widths["ch"]
            mask = ((1 << width) - 1) << pos
            ch = (addr & mask) >> pos
            sub = np.asarray(chans, dtype=np.int64)[ch % len(chans)]
            addr = (addr & ~mask) | (sub << pos)
        return addr.astype(np.uint64)

    def row_spans(self, rows: np.ndarray, row_bytes: int) -> np.ndarray:
        """Transactions each row of ``rows`` spans: rows are packed back to back from a
        transaction-aligned base, so a row whose size is not a divisor or multiple of the
        transaction (a quantised row's scale and bias, an int4 row) may straddle one
        more."""
        start = np.asarray(rows, dtype=np.int64) * row_bytes
        tx = self.tx_bytes
        return (start + row_bytes - 1) // tx - start // tx + 1

    def embedding_addresses(self, table: str, rows: np.ndarray, row_bytes: int,
                            table_bytes: int,
                            channels: tuple[int, ...] | None = None) -> np.ndarray:
        """Transaction addresses of every row in ``rows`` (in order), whole rows: the
        :meth:`row_spans` transactions of each row, from the one holding its first byte."""
        reg = self.region(f"table:{table}", table_bytes)
        tx = self.tx_bytes
        rows = np.asarray(rows, dtype=np.int64)
        counts = self.row_spans(rows, row_bytes)
        first = (reg.base + rows * row_bytes) // tx
        starts = np.cumsum(counts) - counts
        step = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)
        addr = (np.repeat(first, counts) + step) * tx
        return self._finish(addr, channels)

    def sequential_addresses(self, name: str, nbytes: int,
                             channels: tuple[int, ...] | None = None) -> np.ndarray:
        """Transaction addresses covering ``nbytes`` of region ``name`` in order."""
        reg = self.region(name, nbytes)
        n = -(-int(nbytes) // self.tx_bytes)
        addr = reg.base + np.arange(n, dtype=np.int64) * self.tx_bytes
        return self._finish(addr, channels)

    def weight_addresses(self, weight: str, nbytes: int,
                         channels: tuple[int, ...] | None = None) -> np.ndarray:
        return self.sequential_addresses(f"weight:{weight}", nbytes, channels)

    def buffer_addresses(self, name: str, nbytes: int,
                         channels: tuple[int, ...] | None = None) -> np.ndarray:
        return self.sequential_addresses(f"buffer:{name}", nbytes, channels)

    # --- pinned streams (bank-level PIM) -----------------------------------------------
    def pinned_row_stream(self, name: str, n_commands: int, cmds_per_row: int,
                          channel: int = 0, rank: int = 0) -> np.ndarray:
        """Addresses of ``n_commands`` all-bank column commands on one channel and rank:
        command j reads column ``(j mod cmds_per_row) mod cols_per_row`` of row
        ``first_row + j // cmds_per_row``; ``name`` picks the region's first row."""
        reg = self.region(f"pinned:{name}", n_commands * self.tx_bytes)
        rows_total = self.profile.dram.rows
        first_row = (reg.base // self.align) % rows_total
        j = np.arange(n_commands, dtype=np.int64)
        row = (first_row + j // cmds_per_row) % rows_total
        col = (j % cmds_per_row) % self.cols_per_row
        return self.mapper.encode(channel=channel, rank=rank, bankgroup=0, bank=0,
                                  row=row, column=col).astype(np.uint64)


def hot_rows(indices: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` most frequent row ids of ``indices`` (ties: smaller id first)."""
    if count <= 0 or indices.size == 0:
        return np.zeros(0, dtype=np.int64)
    uniq, freq = np.unique(indices, return_counts=True)
    order = np.lexsort((uniq, -freq))
    return uniq[order[:count]].astype(np.int64)


def assign_hot_to_units(idx: np.ndarray, unit: np.ndarray, hot: np.ndarray,
                        n_units: int) -> np.ndarray:
    """Lookups of replicated (hot) rows go to units in turn (balanced); others stay."""
    if hot.size == 0:
        return unit
    is_hot = np.isin(idx, hot)
    out = unit.copy()
    out[is_hot] = np.arange(int(is_hot.sum())) % n_units
    return out


def interleave_streams(addrs: np.ndarray, cores: int, block: int) -> np.ndarray:
    """A sequential stream read by ``cores`` cores together: the cores take consecutive
    blocks of ``block`` requests (one DRAM row each) round-robin, and their requests reach
    the controller interleaved. Neighbouring blocks lie in different banks / bank groups
    under the usual mappings, so the stream spreads over them as a multi-core scan does."""
    n = addrs.size
    span = cores * block
    if cores <= 1 or n <= block:
        return addrs
    groups = -(-n // span)
    pad = np.full(groups * span - n, -1, dtype=np.int64)
    grid = np.concatenate([addrs.astype(np.int64), pad]).reshape(groups, cores, block)
    out = grid.transpose(0, 2, 1).ravel()
    return out[out >= 0].astype(np.uint64)
