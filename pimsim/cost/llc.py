"""The host's last-level cache as a hit model: LRU by embedding row.

A cache of ``capacity`` rows over an access sequence: an access hits when fewer than
``capacity`` distinct other rows were touched since the previous access to the same row
(its stack distance). Used for the host LLC (whole embedding rows) and for rank-level row
caches of PIM units (RecNMP's RankCache).
"""

from __future__ import annotations

import numpy as np

from pimsim.util.jit import njit


@njit(cache=True)
def _lru_hits(ids: np.ndarray, n_unique: int, capacity: int) -> np.ndarray:
    """Hit flags of an LRU cache of ``capacity`` rows over the access sequence ``ids``.

    An access hits when fewer than ``capacity`` distinct other rows were touched since the
    previous access to the same row (stack distance), counted with a Fenwick tree.
    """
    n = ids.size
    last = np.full(n_unique, -1, np.int64)
    tree = np.zeros(n + 1, np.int64)
    hits = np.zeros(n, np.bool_)
    for i in range(n):
        x = ids[i]
        p = last[x]
        if p >= 0:
            # marks at positions p+1 .. i-1 = prefix(i-1) - prefix(p)
            s = 0
            j = i  # prefix over positions 0..i-1 (1-based index i)
            while j > 0:
                s += tree[j]
                j -= j & (-j)
            j = p + 1
            while j > 0:
                s -= tree[j]
                j -= j & (-j)
            if s < capacity:
                hits[i] = True
            j = p + 1
            while j <= n:
                tree[j] -= 1
                j += j & (-j)
        j = i + 1
        while j <= n:
            tree[j] += 1
            j += j & (-j)
        last[x] = i
    return hits


def lru_row_hits(rows: np.ndarray, capacity_rows: int) -> np.ndarray:
    """Boolean hit flags of an LRU cache holding ``capacity_rows`` rows."""
    if rows.size == 0 or capacity_rows <= 0:
        return np.zeros(rows.size, dtype=np.bool_)
    uniq, inv = np.unique(rows, return_inverse=True)
    return _lru_hits(inv.astype(np.int64), int(uniq.size), int(capacity_rows))
