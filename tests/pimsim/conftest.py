"""Fixtures shared by the tests of pimsim's sweep and command line."""

from __future__ import annotations

import pytest

from pimsim.workload.graph import Workload
from pimsim.workload.kernels import EmbeddingBag, Gemm, Table


@pytest.fixture
def small_workload() -> Workload:
    """An embedding bag on the host and a PIM GEMV feeding one host GEMM (no shape rule)."""
    return Workload(
        name="small",
        tables={"t0": Table(rows=100_000, dim=16)},
        kernels=[
            EmbeddingBag(name="emb", table="t0", batch=64, pooling=4, distribution="zipf"),
            Gemm(name="fc", m=1, k=1024, n=1024, dtype="fp16", placement="pim"),
            Gemm(name="top", m=64, k=1040, n=1, dtype="fp32"),
        ],
        deps={"top": ["emb", "fc"]},
        check_shapes=False,
    )
