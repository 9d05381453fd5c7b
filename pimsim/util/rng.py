"""Bounded Zipf draws and the row scatter: the one home of the project's Zipf sampling.

A bounded Zipf(s) law over ranks 1..n gives rank k the probability k**-s / H(n, s). Two
samplers, for two needs:

- :func:`zipf_ranks` draws from the *continuous* power law x**-s on [1, n + 1) by its
  inverse CDF and floors the result: O(size) time and memory whatever ``n`` (tables of ten
  million rows cost nothing extra). Rank k then has probability (k**(1-s) - (k+1)**(1-s)) /
  (1 - (n+1)**(1-s)), which differs from the discrete law most at the head (for s = 1.05 and
  n = 1000, rank 1 is drawn 0.75 times as often as the discrete law says). Workload index
  generators and the synthetic data sets use it.
- :func:`zipf_ranks_exact` inverts the *discrete* CDF by binary search: the exact law, at
  O(n) memory for the CDF table. The standard ``embed`` request trace of
  ``../shared/reference/README.md`` is defined with it.

:func:`scatter_ranks` maps 0-based ranks to row ids by a fixed bijection, so that hot rows
are spread over a table as a random permutation would spread them, without an O(rows)
permutation table or any draw from the generator.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DEFAULT_ZIPF_S", "scatter_ranks", "zipf_ranks", "zipf_ranks_exact"]

#: The Zipf exponent of embedding lookups when none is given: the one the standard ``embed``
#: trace of ``../shared/reference/README.md`` is defined with.
DEFAULT_ZIPF_S = 1.05

#: |s - 1| below which the s = 1 form of the inverse CDF (exp/log) is used.
_S_ONE_TOLERANCE = 1e-9
#: Multiplier of the scatter, as a fraction of the rows: the golden ratio's fractional part
#: (Fibonacci hashing), which spreads consecutive ranks far apart in the table.
_GOLDEN_FRACTION = 0.6180339887
#: Offset of the scatter, so that rank 0 (the hottest row) is not row 0.
_SCATTER_OFFSET = 12345


def zipf_ranks(rng: np.random.Generator, n: int, s: float, size: int) -> np.ndarray:
    """``size`` ranks in 1..n (int64) from the continuous bounded power law (see above)."""
    u = rng.random(size)
    hi = float(n) + 1.0
    if abs(s - 1.0) < _S_ONE_TOLERANCE:
        x = np.exp(u * np.log(hi))
    else:
        e = 1.0 - s
        x = (1.0 + u * (hi**e - 1.0)) ** (1.0 / e)
    return np.minimum(np.floor(x).astype(np.int64), n)


def zipf_ranks_exact(rng: np.random.Generator, n: int, s: float, size: int) -> np.ndarray:
    """``size`` ranks in 1..n (int64) with P(k) proportional to k**-s exactly."""
    k = np.arange(1, n + 1, dtype=np.float64)
    cdf = np.cumsum(k ** (-s))
    cdf /= cdf[-1]
    u = rng.random(size)
    return np.searchsorted(cdf, u, side="left").astype(np.int64) + 1


def scatter_ranks(ranks0: np.ndarray, rows: int) -> np.ndarray:
    """Row ids ``(rank * a + offset) mod rows`` of 0-based ``ranks0``, ``a`` coprime to
    ``rows`` (so the map is a bijection of 0..rows-1)."""
    return (ranks0 * _coprime_multiplier(rows) + _SCATTER_OFFSET) % rows


def _coprime_multiplier(rows: int) -> int:
    a = int(rows * _GOLDEN_FRACTION) | 1
    while a > 1 and np.gcd(a, rows) != 1:
        a += 2
    return max(a, 1)
