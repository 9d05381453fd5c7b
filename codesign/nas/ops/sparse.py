"""Sparse operators: they write a block's sparse output ``[B, tokens, emb_dim]``.

Definitions follow NASRec (facebookresearch/NasRec, nasrec/supernet/modules.py) with
``use_layernorm = 1``:

- ``attention``: tokens projected over the token axis to ``T`` (+LN over tokens), 8-head
  self-attention over 16-dim tokens, add & LN, a feed-forward layer 16-16-16 (ReLU), add & LN.
- ``efc``: ``relu(LN(x^T W^T))^T``: a linear map over the token axis to ``T`` tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from codesign.nas.ops.base import (
    ATTN_LN_INIT,
    Affine,
    Dims,
    Norm,
    Op,
    Product,
    SegmentedWeight,
    Sizes,
    Step,
    linear,
    ln_params,
)

#: Heads of the attention operator (NASRec ``NUM_MHA_HEADS``).
NUM_HEADS = 8


@dataclass(frozen=True)
class EFCWeights:
    token_proj: Affine
    norm: Norm


class EFC(Op, name="efc", reads=("sparse",), writes="sparse"):
    """``relu(LN(x^T W^T))^T``: a linear map over the token axis to ``T`` tokens (NASRec's
    linear-3d)."""

    def __init__(self, sizes: Sizes) -> None:
        super().__init__(sizes)
        self.token_proj = SegmentedWeight(sizes.max_tokens, sizes.sparse_sources)
        self.ln_weight, self.ln_bias = ln_params(sizes.max_tokens)

    def slice(self, dims: Dims) -> EFCWeights:
        proj = Affine(self.token_proj.take(dims.out, dims.sparse_cols))
        return EFCWeights(proj, Norm(self.ln_weight[: dims.out], self.ln_bias[: dims.out]))

    @staticmethod
    def compute(w: EFCWeights, sparse: Tensor) -> Tensor:  # type: ignore[override]
        return F.relu(w.norm(w.token_proj.over_tokens(sparse))).transpose(1, 2)

    def steps(self, dims: Dims) -> list[Step]:
        return [linear("token_proj", dims.sparse_in, dims.out, ("sparse",), m=self.sizes.emb_dim)]


@dataclass(frozen=True)
class AttentionWeights:
    token_proj: Affine
    token_norm: Norm
    in_proj: Affine
    out_proj: Affine
    attn_norm: Norm
    fc1: Affine
    fc2: Affine
    ffn_norm: Norm


class Attention(Op, name="attention", reads=("sparse",), writes="sparse", shrinks_to=EFC.name):
    """A token map, then a transformer layer over the tokens."""

    def __init__(self, sizes: Sizes) -> None:
        super().__init__(sizes)
        e, t_max = sizes.emb_dim, sizes.max_tokens
        if e % NUM_HEADS:
            raise ValueError(f"emb_dim {e} must be a multiple of {NUM_HEADS} heads")
        self.token_proj = SegmentedWeight(t_max, sizes.sparse_sources)
        self.token_ln_weight, self.token_ln_bias = ln_params(t_max)
        self.in_proj_weight = nn.Parameter(torch.zeros(3 * e, e))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * e))
        self.out_proj_weight = nn.Parameter(torch.zeros(e, e))
        self.out_proj_bias = nn.Parameter(torch.zeros(e))
        self.attn_ln_weight, self.attn_ln_bias = ln_params(e, ATTN_LN_INIT)
        self.fc1_weight = nn.Parameter(torch.zeros(e, e))
        self.fc1_bias = nn.Parameter(torch.zeros(e))
        self.fc2_weight = nn.Parameter(torch.zeros(e, e))
        self.fc2_bias = nn.Parameter(torch.zeros(e))
        self.ffn_ln_weight, self.ffn_ln_bias = ln_params(e, ATTN_LN_INIT)

    def slice(self, dims: Dims) -> AttentionWeights:
        t = dims.out
        return AttentionWeights(
            token_proj=Affine(self.token_proj.take(t, dims.sparse_cols)),
            token_norm=Norm(self.token_ln_weight[:t], self.token_ln_bias[:t]),
            in_proj=Affine(self.in_proj_weight, self.in_proj_bias),
            out_proj=Affine(self.out_proj_weight, self.out_proj_bias),
            attn_norm=Norm(self.attn_ln_weight, self.attn_ln_bias),
            fc1=Affine(self.fc1_weight, self.fc1_bias),
            fc2=Affine(self.fc2_weight, self.fc2_bias),
            ffn_norm=Norm(self.ffn_ln_weight, self.ffn_ln_bias),
        )

    @staticmethod
    def compute(w: AttentionWeights, sparse: Tensor) -> Tensor:  # type: ignore[override]
        h = w.token_norm(w.token_proj.over_tokens(sparse)).transpose(1, 2)  # [B, T, 16]
        bsz, t, e = h.shape
        q, k, v = w.in_proj(h).view(bsz, t, 3, NUM_HEADS, e // NUM_HEADS).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v)  # softmax(q k^T / sqrt(e/H)) v: [B, H, T, e/H]
        a = w.attn_norm(w.out_proj(a.transpose(1, 2).reshape(bsz, t, e)) + h)
        f = w.fc2(F.relu(w.fc1(a)))
        return w.ffn_norm(a + f)

    def steps(self, dims: Dims) -> list[Step]:
        t, h, e = dims.out, NUM_HEADS, self.sizes.emb_dim
        return [
            linear("token_proj", dims.sparse_in, t, ("sparse",), m=e),
            linear("in_proj", e, 3 * e, ("token_proj",), m=t, checked=False),
            Product("scores", m=t, n=t, k=e // h, batch=h, reads=("in_proj",)),
            # the weighted sum reads the scores and V (from in_proj)
            Product("weighted_sum", m=t, n=e // h, k=t, batch=h, reads=("scores", "in_proj")),
            linear("out_proj", e, e, ("weighted_sum",), m=t, checked=False),
            linear("ffn1", e, e, ("out_proj",), m=t, checked=False),
            linear("ffn2", e, e, ("ffn1",), m=t, checked=False),
        ]
