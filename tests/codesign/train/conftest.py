"""Fixtures of the training tests: one torch thread, a small synthetic Criteo cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from codesign.data.cache import CtrData
from codesign.data.synthetic import make_synthetic_cache


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """One torch thread: on a shared 2-core machine OpenMP threads that wait for each other
    make tiny steps many times slower; restored afterwards."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="package")
def data(tmp_path_factory: pytest.TempPathFactory) -> CtrData:
    """20,000 synthetic Criteo rows, buckets capped at 512 rows per field."""
    return make_synthetic_cache("criteo", 20_000, tmp_path_factory.mktemp("train") / "criteo20k", seed=3, cap=512)
