"""Bounded Zipf draws against the laws they sample, and the row scatter."""

from __future__ import annotations

import numpy as np

from pimsim.util.rng import scatter_ranks, zipf_ranks, zipf_ranks_exact

N = 1000
S = 1.05
DRAWS = 200_000


def _frequencies(ranks: np.ndarray) -> np.ndarray:
    assert ranks.dtype == np.int64 and ranks.min() >= 1 and ranks.max() <= N
    return np.bincount(ranks, minlength=N + 1)[1:] / ranks.size


def test_exact_sampler_follows_the_discrete_law() -> None:
    f = _frequencies(zipf_ranks_exact(np.random.default_rng(0), N, S, DRAWS))
    k = np.arange(1, N + 1, dtype=float)
    p = k**-S / (k**-S).sum()
    assert abs(f[0] - p[0]) < 0.01 and abs(f[1] / f[0] - 2**-S) < 0.05


def test_continuous_sampler_follows_the_floored_power_law() -> None:
    # P(k) = (k^(1-s) - (k+1)^(1-s)) / (1 - (N+1)^(1-s)), computed by hand from the CDF
    f = _frequencies(zipf_ranks(np.random.default_rng(0), N, S, DRAWS))
    e = 1.0 - S
    k = np.arange(1, N + 1, dtype=float)
    p = (k**e - (k + 1) ** e) / (1.0 - (N + 1.0) ** e)
    assert abs(p.sum() - 1.0) < 1e-12
    sd = np.sqrt(p[:10] * (1 - p[:10]) / DRAWS)
    assert (np.abs(f[:10] - p[:10]) < 5 * sd).all()
    f_one = _frequencies(zipf_ranks(np.random.default_rng(1), N, 1.0, DRAWS))
    p_one = np.log((k + 1) / k) / np.log(N + 1.0)  # the s = 1 form
    assert abs(f_one[0] - p_one[0]) < 5 * np.sqrt(p_one[0] * (1 - p_one[0]) / DRAWS)


def test_scatter_is_a_bijection_that_moves_the_hot_rows() -> None:
    for rows in (1, 2, 10, 97, 1000, 1 << 20, 10_131_227):
        ranks = np.arange(min(rows, 100_000), dtype=np.int64)
        ids = scatter_ranks(ranks, rows)
        assert ids.min() >= 0 and ids.max() < rows
        assert np.unique(ids).size == ranks.size
    ids = scatter_ranks(np.arange(4, dtype=np.int64), 1000)
    assert np.abs(np.diff(ids)).min() > 100  # consecutive ranks land far apart
