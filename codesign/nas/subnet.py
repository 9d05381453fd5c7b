"""The standalone subnet a supernet extracts, and the input checks both models share.

:class:`SubnetModel` is a plain ``nn.Module``: one extracted operator per operator the
subnet runs (each made of ``nn.Linear`` / ``nn.LayerNorm`` layers holding copies of the
sliced weights), the embedding table when the subnet reads the raw sparse features, and the
supernet's execution plan, run by the same :func:`~codesign.nas.plan.run_plan`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from codesign.errors import DataFormatError
from codesign.nas.memo import BlockMemo
from codesign.nas.ops import Standalone
from codesign.nas.plan import ExecutionPlan, OpCall, run_plan
from codesign.nas.space import SubnetSpec


def check_batch(dense: Tensor, sparse: Tensor, n_dense: int, n_sparse: int) -> None:
    """Raise DataFormatError unless the batch has ``n_dense`` dense and ``n_sparse``
    integer sparse features per row."""
    if dense.dim() != 2 or dense.shape[1] != n_dense:
        raise DataFormatError(f"dense: shape {tuple(dense.shape)}; accepted: [batch, {n_dense}]")
    if sparse.dim() != 2 or sparse.shape[1] != n_sparse or sparse.shape[0] != dense.shape[0]:
        raise DataFormatError(
            f"sparse: shape {tuple(sparse.shape)}; accepted: [{dense.shape[0]}, {n_sparse}]"
        )
    if sparse.dtype not in (torch.int64, torch.int32):
        raise DataFormatError(f"sparse: dtype {sparse.dtype}; accepted: int64")


def register_tables(module: nn.Module, cardinalities: Sequence[int]) -> None:
    """Give ``module`` the ``offsets`` (first row of each table in the one embedding
    matrix) and ``cards`` buffers that :func:`embed` reads."""
    offsets = np.concatenate([[0], np.cumsum(cardinalities)[:-1]]).astype(np.int64)
    module.register_buffer("offsets", torch.as_tensor(offsets), persistent=False)
    module.register_buffer("cards", torch.as_tensor(tuple(cardinalities), dtype=torch.int64),
                           persistent=False)


def embed(table: nn.Embedding, sparse: Tensor, offsets: Tensor, cards: Tensor) -> Tensor:
    """[B, n_sparse] category ids (0 = missing) -> [B, n_sparse, emb_dim] tokens."""
    bad = (sparse < 0) | (sparse >= cards)
    if bool(bad.any()):
        r, c = (int(v) for v in bad.nonzero()[0])
        card = int(cards[c])
        raise DataFormatError(
            f"sparse[{r}, {c}]: id {int(sparse[r, c])} out of range; accepted: "
            f"0..{card - 1} (schema cardinality {card})"
        )
    return table(sparse.long() + offsets)


def op_key(block: int, name: str) -> str:
    """The key of an extracted operator in :attr:`SubnetModel.ops`."""
    return name if block < 0 else f"{block}_{name}"


class SubnetModel(nn.Module):
    """A standalone subnet: ``forward(dense, sparse) -> logits [B]``."""

    def __init__(
        self,
        spec: SubnetSpec,
        plan: ExecutionPlan,
        ops: dict[str, Standalone],
        embedding: nn.Embedding | None,
        cardinalities: Sequence[int],
        n_dense: int,
    ) -> None:
        super().__init__()
        self.spec = spec
        self.plan = plan
        self.ops = nn.ModuleDict(ops)
        self.embedding = embedding
        self.n_dense = n_dense
        self.cardinalities = tuple(cardinalities)
        register_tables(self, self.cardinalities)

    def final_layer_parameters(self) -> list[nn.Parameter]:
        """The logit layer's parameters (for head fine-tuning): weight, bias."""
        head = self.ops[op_key(-1, self.plan.final.name)].linear
        return [head.weight, head.bias]

    def _call(self, block: int, c: OpCall, *x: Tensor) -> Tensor:
        return self.ops[op_key(block, c.name)](*x)

    def forward(self, dense: Tensor, sparse: Tensor, memo: BlockMemo | None = None,
                tag: Hashable = None) -> Tensor:
        """Logits [B]; with ``memo`` and ``tag`` (frozen weights, rows named by ``tag``),
        blocks kept there are not recomputed (:func:`codesign.nas.plan.run_plan`)."""
        check_batch(dense, sparse, self.n_dense, len(self.cardinalities))
        tokens = None
        if self.embedding is not None:
            tokens = embed(self.embedding, sparse, self.offsets, self.cards)
        return run_plan(self.plan, dense if self.plan.need_raw_dense else None, tokens,
                        self._call, memo, tag)


def extract_ops(plan: ExecutionPlan, blocks: Any, final: Any) -> dict[str, Standalone]:
    """One extracted operator per operator ``plan`` runs, from the supernet's ``blocks``
    (one ModuleDict of operators per block) and logit layer ``final``."""
    ops: dict[str, Standalone] = {}
    for bp in plan.blocks:
        if bp is None:
            continue
        for c in bp.calls():
            ops[op_key(bp.index, c.name)] = blocks[bp.index][c.name].extract(c.dims)
    ops[op_key(-1, plan.final.name)] = final.extract(plan.final.dims)
    return ops
