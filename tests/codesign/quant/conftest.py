"""Fixtures of the quantisation tests: one torch thread, a small subnet with many kinds of
operators and a batch for it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from codesign.nas.moves import sample
from codesign.nas.space import SubnetSpec
from codesign.nas.subnet import SubnetModel
from codesign.nas.supernet import Supernet

#: A small data set shape: 3 dense features, 4 sparse fields.
CARDS = (40, 30, 20, 50)
N_DENSE = 3


class TinySchema:
    cardinalities = CARDS
    dense_names = tuple(f"I{i + 1}" for i in range(N_DENSE))
    sparse_names = tuple(f"C{i + 1}" for i in range(len(CARDS)))


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="package")
def supernet() -> Supernet:
    return Supernet(TinySchema, "full", seed=0)


def spec_of(seed: int) -> SubnetSpec:
    return sample("full", np.random.default_rng(seed))


def model_of(net: Supernet, seed: int) -> SubnetModel:
    return net.extract(spec_of(seed)).eval()


def batch(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    dense = torch.randn(n, N_DENSE, generator=gen)
    sparse = torch.stack([torch.randint(0, c, (n,), generator=gen) for c in CARDS], dim=1)
    return dense, sparse
