"""The request stream's engine indices from its byte addresses, in one compiled pass.

Per request: the address fields (:class:`pimsim.dram.address.AddressMapper`'s positions
and widths) and from them the indices the engine works with (``B``, ``G``, ``Q`` of
:mod:`pimsim.dram.state`). One pass over the addresses instead of a numpy pass per field
and index: the reader of a long trace decodes every chunk while the engine runs, on the
same cores.
"""

from __future__ import annotations

import numpy as np

from pimsim.dram.address import AddressMapper
from pimsim.dram.state import Geometry, Requests
from pimsim.util.jit import njit

#: the address fields in the order of decode_indices' shift / mask arguments
FIELD_ORDER = ("ch", "ra", "bg", "ba", "ro", "co")
#: rows of decode_indices' output: channel, rank, bank (B), bank group (G), queue (Q),
#: row, column
N_DECODED = 7


@njit(inline="always")
def _layout(shift, mask, n_bg, n_bpg, per_bank):  # noqa: ANN001, ANN201
    """The shifts and masks as scalars, and the queue strides of a rank and a bank. Read
    from their arrays inside a loop, they would be read again after every store (the
    compiler cannot tell that the outputs do not alias them)."""
    nb_rank = n_bg * n_bpg
    return ((shift[0], shift[1], shift[2], shift[3], shift[4], shift[5]),
            (mask[0], mask[1], mask[2], mask[3], mask[4], mask[5]),
            nb_rank if per_bank else 1, 1 if per_bank else 0)


@njit(inline="always")
def _decode_one(a, sh, mk, n_rk, n_bg, n_bpg, nq_ch, q_rank, q_bank):  # noqa: ANN001, ANN201
    """Address ``a``'s channel, rank, B, G, Q, row and column (``sh``, ``mk``, ``q_rank``,
    ``q_bank``: :func:`_layout`'s)."""
    ch = (a >> sh[0]) & mk[0]
    ra = (a >> sh[1]) & mk[1]
    bg = (a >> sh[2]) & mk[2]
    ba = (a >> sh[3]) & mk[3]
    rk = ch * n_rk + ra
    in_rank = bg * n_bpg + ba
    return (ch, ra, rk * (n_bg * n_bpg) + in_rank, rk * n_bg + bg,
            ch * nq_ch + ra * q_rank + in_rank * q_bank, (a >> sh[4]) & mk[4],
            (a >> sh[5]) & mk[5])


@njit(cache=True, nogil=True)
def decode_indices(addr, shift, mask, n_rk, n_bg, n_bpg, nq_ch, per_bank, out):  # noqa: ANN001
    """Fill ``out[:, i]`` (the N_DECODED rows) for every address ``addr[i]``."""
    sh, mk, q_rank, q_bank = _layout(shift, mask, n_bg, n_bpg, per_bank)
    channel, rank, bank, bankgroup, queue, row, column = (out[0], out[1], out[2], out[3],
                                                          out[4], out[5], out[6])
    for i in range(addr.shape[0]):
        (channel[i], rank[i], bank[i], bankgroup[i], queue[i], row[i],
         column[i]) = _decode_one(addr[i], sh, mk, n_rk, n_bg, n_bpg, nq_ch, q_rank, q_bank)


def decode_requests(mapper: AddressMapper, geo: Geometry, addr: np.ndarray, wr: np.ndarray,
                    arr: np.ndarray, fl: np.ndarray) -> Requests:
    """The request arrays (``addr`` int64) with their decoded fields and engine indices."""
    shift = np.array([mapper.positions[f] for f in FIELD_ORDER], dtype=np.int64)
    mask = np.array([(1 << mapper.widths[f]) - 1 for f in FIELD_ORDER], dtype=np.int64)
    out = np.empty((N_DECODED, addr.shape[0]), dtype=np.int64)
    decode_indices(addr, shift, mask, geo.n_rk, geo.n_bg, geo.n_bpg, geo.nq_ch,
                   geo.per_bank, out)
    return Requests(out[0], out[1], out[2], out[3], out[4], out[5], out[6], wr, fl, arr,
                    addr)


#: rows of decode_split's output: the Requests fields in their order, then the stream index
N_SPLIT_ROWS = len(Requests._fields) + 1


@njit(cache=True, nogil=True)
def decode_split(addr, wr, fl, arr, first, shift, mask, n_rk, n_bg, n_bpg, nq_ch,  # noqa: ANN001, ANN201
                 per_bank, lane_of, down, keep):
    """:func:`decode_indices` and a partition by lane in one pass over the decoded values,
    for the lanes ``g`` with ``keep[g]`` (``lane_of``: the lane of each channel). Returns
    ``(out, starts)``: ``out[:, starts[g]:starts[g + 1]]`` are lane ``g``'s requests in
    stream order (rows: the Requests fields, then the stream index ``first + i``), their
    channel, bank, bank-group and queue indices moved down by ``down[g]`` (the lane's
    channels numbered from 0); a lane not kept has no columns."""
    n = addr.shape[0]
    n_lanes = keep.shape[0]
    sh, mk, q_rank, q_bank = _layout(shift, mask, n_bg, n_bpg, per_bank)
    pos = np.zeros(n_lanes, dtype=np.int64)
    for i in range(n):
        pos[lane_of[(addr[i] >> sh[0]) & mk[0]]] += 1
    starts = np.zeros(n_lanes + 1, dtype=np.int64)
    for g in range(n_lanes):
        starts[g + 1] = starts[g] + (pos[g] if keep[g] else 0)
        pos[g] = starts[g]
    out = np.empty((N_SPLIT_ROWS, starts[n_lanes]), dtype=np.int64)
    (channel, rank, bank, bankgroup, queue, row, column, is_write, flags, arrival, address,
     index) = (out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7], out[8], out[9],
               out[10], out[11])
    for i in range(n):
        a = addr[i]
        g = lane_of[(a >> sh[0]) & mk[0]]
        if not keep[g]:
            continue
        ch, ra, bk, grp, qu, ro, co = _decode_one(a, sh, mk, n_rk, n_bg, n_bpg, nq_ch, q_rank,
                                                  q_bank)
        j = pos[g]
        pos[g] = j + 1
        channel[j] = ch - down[g, 0]
        rank[j] = ra
        bank[j] = bk - down[g, 1]
        bankgroup[j] = grp - down[g, 2]
        queue[j] = qu - down[g, 3]
        row[j] = ro
        column[j] = co
        is_write[j] = wr[i]
        flags[j] = fl[i]
        arrival[j] = arr[i]
        address[j] = a
        index[j] = first + i
    return out, starts


def decode_by_lane(mapper: AddressMapper, geo: Geometry, addr: np.ndarray, wr: np.ndarray,
                   arr: np.ndarray, fl: np.ndarray, first: int, lane_of: np.ndarray,
                   down: np.ndarray, lanes: list[int] | None = None
                   ) -> list[tuple[Requests, np.ndarray]]:
    """:func:`decode_requests` of a chunk whose first request is the stream's ``first``,
    split by lane: for each lane of ``lanes`` (default: every lane of ``down``), its
    requests with lane-local indices (see :func:`decode_split`) and their stream indices.
    All arrays int64. A lane's thread can decode its own part: each call reads the whole
    chunk and writes only the parts asked for."""
    shift = np.array([mapper.positions[f] for f in FIELD_ORDER], dtype=np.int64)
    mask = np.array([(1 << mapper.widths[f]) - 1 for f in FIELD_ORDER], dtype=np.int64)
    wanted = list(range(down.shape[0])) if lanes is None else [int(g) for g in lanes]
    keep = np.zeros(down.shape[0], dtype=np.bool_)
    keep[wanted] = True
    out, starts = decode_split(addr, wr, fl, arr, np.int64(first), shift, mask, geo.n_rk,
                               geo.n_bg, geo.n_bpg, geo.nq_ch, geo.per_bank, lane_of, down,
                               keep)
    parts = []
    for g in wanted:
        rows = out[:, starts[g]:starts[g + 1]]
        parts.append((Requests(*rows[:-1]), rows[-1]))
    return parts
