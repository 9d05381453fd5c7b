"""Operators at fixed places of every block, outside the search's operator choice:

- ``merge`` (dense -> sparse): ``LN(W dense)`` to 128 = 8 tokens x 16 (skipped when the
  dense output is 128 wide), appended to the block's sparse output.
- ``fm`` (DeepFM, sparse -> dense): ``LN(P ((sum_t x_t)^2 - sum_t x_t^2))`` (16 wide),
  ``P`` projects to ``D`` (skipped when D = 16; the LN is not), added to the block's dense
  output.
- ``final``: one logit from the last block's dense output and flattened sparse output, with
  one weight row per operator of the last block: the dense columns read the row of the last
  dense operator, the sparse columns the row of the last sparse operator (an attention
  token and an EFC token mean different things, so one shared row would be pulled between
  them by every other training step). The whole supernet, whose last block sums all
  operators, reads the mean of the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from codesign.nas.ops.base import Affine, Dims, Norm, Op, Sizes, Step, linear, ln_params

#: Tokens the dense->sparse merge appends (NASRec ``DS_INTERACT_NUM_SPLITS``).
MERGE_TOKENS = 8


@dataclass(frozen=True)
class MergeWeights:
    #: None when the dense output already has ``tokens x emb_dim`` values.
    proj: Affine | None
    norm: Norm | None
    tokens: int


class Merge(Op, name="merge", reads=("dense",), writes="sparse"):
    """Dense -> sparse: the dense output as ``MERGE_TOKENS`` more tokens."""

    def __init__(self, sizes: Sizes) -> None:
        super().__init__(sizes)
        n = MERGE_TOKENS * sizes.emb_dim
        self.proj = nn.Parameter(torch.zeros(n, sizes.max_dense))
        self.ln_weight, self.ln_bias = ln_params(n)

    def slice(self, dims: Dims) -> MergeWeights:
        project = dims.in_width != MERGE_TOKENS * self.sizes.emb_dim
        return MergeWeights(
            proj=Affine(self.proj[:, : dims.in_width]) if project else None,
            norm=Norm(self.ln_weight, self.ln_bias) if project else None,
            tokens=MERGE_TOKENS,
        )

    @staticmethod
    def compute(w: MergeWeights, dense: Tensor) -> Tensor:  # type: ignore[override]
        y = dense
        if w.proj is not None and w.norm is not None:
            y = w.norm(w.proj(y))
        return y.reshape(y.shape[0], w.tokens, -1)

    def steps(self, dims: Dims) -> list[Step]:
        n = MERGE_TOKENS * self.sizes.emb_dim
        return [linear("proj", dims.in_width, n, ("dense",))] if dims.in_width != n else []


@dataclass(frozen=True)
class FMWeights:
    #: None when the output width is the embedding width.
    proj: Affine | None
    norm: Norm


class FM(Op, name="fm", reads=("sparse",), writes="dense"):
    """DeepFM: the second-order interaction of the sparse output, at the dense width."""

    def __init__(self, sizes: Sizes) -> None:
        super().__init__(sizes)
        self.proj = nn.Parameter(torch.zeros(sizes.max_dense, sizes.emb_dim))
        self.ln_weight, self.ln_bias = ln_params(sizes.max_dense)

    def slice(self, dims: Dims) -> FMWeights:
        d = dims.out
        return FMWeights(
            proj=Affine(self.proj[:d]) if d != self.sizes.emb_dim else None,
            norm=Norm(self.ln_weight[:d], self.ln_bias[:d]),
        )

    @staticmethod
    def compute(w: FMWeights, sparse: Tensor) -> Tensor:  # type: ignore[override]
        s = sparse.sum(dim=1)
        ix = s * s - (sparse * sparse).sum(dim=1)
        if w.proj is not None:
            ix = w.proj(ix)
        # Always normalised: the raw interaction is a sum of up to (T + 8) * k squared-token
        # terms, unbounded in the token count (NASRec's supernet always projects and
        # layer-norms here, since its FM output is 16 wide and its max width 1024).
        return w.norm(ix)

    def steps(self, dims: Dims) -> list[Step]:
        e = self.sizes.emb_dim
        # the projection reads the token sum (emb_dim wide), not the tokens
        return [linear("proj", e, dims.out, ("sparse",), checked=False)] if dims.out != e else []


@dataclass(frozen=True)
class FinalWeights:
    linear: Affine


class Final(Op, name="final", reads=("dense", "sparse"), writes="dense"):
    """The logit layer; ``Dims.heads`` selects its weight rows, ``dense_cols`` /
    ``sparse_cols`` hold (0, start, length) ranges of the dense / sparse row."""

    def __init__(self, sizes: Sizes) -> None:
        super().__init__(sizes)
        sparse_flat = (sizes.max_tokens + MERGE_TOKENS) * sizes.emb_dim
        self.dense_weight = nn.ParameterDict(
            {op: nn.Parameter(torch.zeros(1, sizes.max_dense)) for op in sizes.dense_heads}
        )
        self.sparse_weight = nn.ParameterDict(
            {op: nn.Parameter(torch.zeros(1, sparse_flat)) for op in sizes.sparse_heads}
        )
        self.bias = nn.Parameter(torch.zeros(1))

    @staticmethod
    def _row(table: nn.ParameterDict, heads: tuple[str, ...]) -> Tensor:
        rows = [table[h] for h in heads if h in table]
        if not rows:
            raise ValueError(f"final layer: heads {heads}; accepted: {sorted(table.keys())}")
        return rows[0] if len(rows) == 1 else torch.stack(rows).mean(dim=0)

    def slice(self, dims: Dims) -> FinalWeights:
        dense = self._row(self.dense_weight, dims.heads)
        sparse = self._row(self.sparse_weight, dims.heads)
        parts = [dense[:, a : a + n] for _, a, n in dims.dense_cols]
        parts += [sparse[:, a : a + n] for _, a, n in dims.sparse_cols]
        return FinalWeights(linear=Affine(tuple(parts), self.bias))

    @staticmethod
    def compute(w: FinalWeights, dense: Tensor, sparse: Tensor) -> Tensor:  # type: ignore[override]
        return w.linear(torch.cat([dense, sparse.flatten(1)], dim=1)).squeeze(-1)

    def steps(self, dims: Dims) -> list[Step]:
        k = dims.dense_in + dims.sparse_in
        return [linear("logit", k, 1, ("dense", "sparse"), checked=False)]
