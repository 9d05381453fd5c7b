"""The standard traces match the definitions of ../shared/reference/README.md."""

from __future__ import annotations

import numpy as np
import pytest

from pimsim.errors import PimsimError
from pimsim.requests.traces import standard_trace, standard_traces


def test_definitions():
    tr = standard_traces(seed=0)
    assert [len(tr[k]) for k in ("seq", "rand", "embed", "gemv", "idle")] == [
        100_000, 100_000, 640_000, 16_384, 2_000]
    for t in tr.values():
        assert not t.is_write.any() and (t.addresses % 64 == 0).all()
    assert (tr["seq"].addresses == np.arange(100_000) * 64).all()
    assert tr["rand"].addresses.max() < 1 << 30
    assert (tr["gemv"].addresses == np.arange(16_384) * 64).all()
    assert (tr["idle"].arrival_cycles == np.arange(2_000) * 1_000).all()
    for k in ("seq", "rand", "embed", "gemv"):
        assert (tr[k].arrival_cycles == 0).all()
    e = tr["embed"].addresses.reshape(-1, 4)
    assert (np.diff(e, axis=1) == 64).all() and (e[:, 0] % 256 == 0).all()
    assert e.max() < 1_000_000 * 256


def test_embed_is_skewed_and_seeded():
    a = standard_trace("embed", seed=3).addresses
    b = standard_trace("embed", seed=3).addresses
    c = standard_trace("embed", seed=4).addresses
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    rows, counts = np.unique(a[::4] // 256, return_counts=True)
    assert counts.max() > 100 * np.median(counts)  # a Zipf head


def test_unknown_trace():
    with pytest.raises(PimsimError, match="accepted: seq, rand, embed, gemv, idle"):
        standard_trace("zipf")
