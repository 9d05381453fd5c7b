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


@njit(cache=True, nogil=True)
def decode_indices(addr, shift, mask, n_rk, n_bg, n_bpg, nq_ch, per_bank, out):  # noqa: ANN001
    """Fill ``out[:, i]`` (the N_DECODED rows) for every address ``addr[i]``."""
    nb_rank = n_bg * n_bpg
    # the shifts and masks as scalars: read from their arrays inside the loop, they would be
    # read again after every store (the compiler cannot tell that ``out`` does not alias)
    s_ch, s_ra, s_bg, s_ba, s_ro, s_co = (shift[0], shift[1], shift[2], shift[3], shift[4],
                                          shift[5])
    m_ch, m_ra, m_bg, m_ba, m_ro, m_co = mask[0], mask[1], mask[2], mask[3], mask[4], mask[5]
    q_rank = nb_rank if per_bank else 1
    q_bank = 1 if per_bank else 0
    channel, rank, bank, bankgroup, queue, row, column = (out[0], out[1], out[2], out[3],
                                                          out[4], out[5], out[6])
    for i in range(addr.shape[0]):
        a = addr[i]
        ch = (a >> s_ch) & m_ch
        ra = (a >> s_ra) & m_ra
        bg = (a >> s_bg) & m_bg
        ba = (a >> s_ba) & m_ba
        rk = ch * n_rk + ra
        in_rank = bg * n_bpg + ba
        channel[i] = ch
        rank[i] = ra
        bank[i] = rk * nb_rank + in_rank
        bankgroup[i] = rk * n_bg + bg
        queue[i] = ch * nq_ch + ra * q_rank + in_rank * q_bank
        row[i] = (a >> s_ro) & m_ro
        column[i] = (a >> s_co) & m_co


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
