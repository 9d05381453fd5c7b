"""Example workloads: a DLRM inference batch shaped like Criteo's, table sizes passed in.

The data sets' cardinalities live in ``codesign.data.schema`` (pimsim does not import
codesign); the demo and the benchmarks take them from ``examples/criteo_dlrm_b256.yaml``
through :func:`example_table_rows`, or pass their own.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pimsim.errors import WorkloadError
from pimsim.workload.graph import Workload, load_workload
from pimsim.workload.kernels import EmbeddingBag, Gemm, Interaction, Placement, Table

#: The example workloads of the repository (``examples/`` beside ``pimsim/``).
EXAMPLE_DIR: Path = Path(__file__).resolve().parents[2] / "examples"
#: A Criteo DLRM batch of 256 on the Kaggle set's 26 tables (written by :func:`criteo_dlrm`).
CRITEO_EXAMPLE: Path = EXAMPLE_DIR / "criteo_dlrm_b256.yaml"

#: Dense (integer) features of a Criteo sample, I1..I13: the bottom MLP's input width.
CRITEO_DENSE_FEATURES = 13
#: Widths of the example's bottom MLP layers before its last one (of the embedding width).
BOTTOM_MLP: tuple[int, ...] = (512, 256)
#: Widths of the example's top MLP layers, ending in the one logit.
TOP_MLP: tuple[int, ...] = (1024, 512, 256, 1)


def example_table_rows(path: str | os.PathLike[str] = CRITEO_EXAMPLE) -> tuple[int, ...]:
    """Rows of every table of a workload file, in the file's table order."""
    return tuple(t.rows for t in load_workload(path).tables.values())


def criteo_dlrm(
    table_rows: Sequence[int],
    *,
    batch: int = 256,
    pooling: int = 1,
    dim: int = 16,
    dtype: str = "fp32",
    embedding_placement: Placement = "host",
    mlp_placement: Placement = "host",
    distribution: str = "zipf",
    fallback_to_host: bool = False,
    dense_features: int = CRITEO_DENSE_FEATURES,
) -> Workload:
    """A DLRM inference batch: one embedding bag per entry of ``table_rows``, a 3-layer
    bottom MLP (``dense_features``-512-256-dim; Criteo's 13 dense features by default), the
    dot interaction of the tables plus the bottom MLP's output and a 4-layer top MLP
    (-1024-512-256-1): 7 GEMM layers."""
    if dense_features < 1:
        raise WorkloadError(f"criteo_dlrm dense_features: {dense_features}; accepted: >= 1")
    tables = {f"t{i}": Table(rows=r, dim=dim, dtype=dtype) for i, r in enumerate(table_rows)}
    kernels: list[Any] = []
    deps: dict[str, list[str]] = {}
    for i in range(len(tables)):
        kernels.append(EmbeddingBag(name=f"emb{i}", table=f"t{i}", batch=batch, pooling=pooling,
                                    distribution=distribution, placement=embedding_placement))
    prev, width = None, dense_features
    for j, n in enumerate((*BOTTOM_MLP, dim)):
        kernels.append(Gemm(name=f"bot{j}", m=batch, k=width, n=n, dtype=dtype,
                            placement=mlp_placement))
        if prev:
            deps[f"bot{j}"] = [prev]
        prev, width = f"bot{j}", n
    tokens = len(tables) + 1
    kernels.append(Interaction(name="interact", batch=batch, tokens=tokens, dim=dim, dtype=dtype))
    deps["interact"] = [prev] + [f"emb{i}" for i in range(len(tables))]
    prev_list, width = ["interact", prev], tokens * (tokens - 1) // 2 + dim
    for j, n in enumerate(TOP_MLP):
        kernels.append(Gemm(name=f"top{j}", m=batch, k=width, n=n, dtype=dtype,
                            placement=mlp_placement))
        deps[f"top{j}"] = prev_list
        prev_list, width = [f"top{j}"], n
    return Workload(name=f"criteo_dlrm_b{batch}_p{pooling}", tables=tables, kernels=kernels,
                    deps=deps, fallback_to_host=fallback_to_host)
