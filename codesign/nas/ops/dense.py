"""Dense operators: they write a block's dense output ``[B, width]``.

Definitions follow NASRec (facebookresearch/NasRec, nasrec/supernet/modules.py) with
``use_layernorm = 1``:

- ``fc``: ``relu(LN(x W^T))`` over the concatenated dense inputs.
- ``dot``: dense input projected to 16 (skipped when it is 16 wide), sparse tokens projected
  over the token axis to ``p = round(sqrt(2 D))`` tokens (+LN; skipped when already ``p``),
  pairwise dot products of the ``p + 1`` tokens (strict lower triangle, ``p (p + 1) / 2``
  values), projected to ``D`` (skipped when there are ``D`` pairs) (+LN).
- ``gating``: left and right zero-padded to a common width ``w``;
  ``LN(P (sigmoid(S left + s) * right) + b)``, ``P`` skipped when ``w = D``.
- ``sum``: ``LN(P (left + right))``, ``P`` skipped when ``w = D``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from codesign.nas.ops.base import (
    Affine,
    Dims,
    Elementwise,
    Norm,
    Op,
    Product,
    Segment,
    SegmentedWeight,
    Sizes,
    Step,
    linear,
    ln_params,
)


def dot_tokens(width: int) -> int:
    """Operator balancing of the dot-product: project to p tokens, p = round(sqrt(2 width)),
    so that the p (p + 1) / 2 pairwise products are about ``width`` values."""
    return int(round(math.sqrt(2 * width)))


@dataclass(frozen=True)
class FCWeights:
    linear: Affine
    norm: Norm


class FC(Op, name="fc", reads=("dense",), writes="dense"):
    """``relu(LN(x W^T))`` over the concatenated dense inputs (NASRec's linear-2d)."""

    def __init__(self, sizes: Sizes) -> None:
        super().__init__(sizes)
        self.weight = SegmentedWeight(sizes.max_dense, sizes.dense_sources)
        self.ln_weight, self.ln_bias = ln_params(sizes.max_dense)

    def slice(self, dims: Dims) -> FCWeights:
        d = dims.out
        return FCWeights(
            linear=Affine(self.weight.take(d, dims.dense_cols)),
            norm=Norm(self.ln_weight[:d], self.ln_bias[:d]),
        )

    @staticmethod
    def compute(w: FCWeights, x: Tensor) -> Tensor:  # type: ignore[override]
        return F.relu(w.norm(w.linear(x)))

    def steps(self, dims: Dims) -> list[Step]:
        return [linear("linear", dims.dense_in, dims.out, ("dense",))]


@dataclass(frozen=True)
class DotWeights:
    dense_proj: Affine | None
    dense_norm: Norm | None
    token_proj: Affine | None
    token_norm: Norm | None
    #: None when the pairs are exactly the output width.
    out_proj: Affine | None
    norm: Norm


class Dot(Op, name="dot", reads=("dense", "sparse"), writes="dense"):
    """Pairwise dot products of the dense input and the sparse tokens, projected."""

    def __init__(self, sizes: Sizes) -> None:
        super().__init__(sizes)
        e, d_max = sizes.emb_dim, sizes.max_dense
        p_max = dot_tokens(d_max)
        self.dense_proj = SegmentedWeight(e, sizes.dense_sources)
        self.dense_ln_weight, self.dense_ln_bias = ln_params(e)
        self.token_proj = SegmentedWeight(p_max, sizes.sparse_sources)
        self.token_ln_weight, self.token_ln_bias = ln_params(p_max)
        self.out_proj = nn.Parameter(torch.zeros(d_max, p_max * (p_max + 1) // 2))
        self.ln_weight, self.ln_bias = ln_params(d_max)

    def slice(self, dims: Dims) -> DotWeights:
        d, e = dims.out, self.sizes.emb_dim
        p = dot_tokens(d)
        pairs = p * (p + 1) // 2
        project_dense = dims.dense_in != e
        project_tokens = dims.sparse_in != p
        return DotWeights(
            dense_proj=Affine(self.dense_proj.take(e, dims.dense_cols)) if project_dense else None,
            dense_norm=Norm(self.dense_ln_weight, self.dense_ln_bias) if project_dense else None,
            token_proj=Affine(self.token_proj.take(p, dims.sparse_cols))
            if project_tokens
            else None,
            token_norm=Norm(self.token_ln_weight[:p], self.token_ln_bias[:p])
            if project_tokens
            else None,
            # Row-major strict lower triangle: the first pairs of the largest layout are
            # exactly the pairs among the first p + 1 tokens, so a prefix slice is consistent.
            out_proj=Affine(self.out_proj[:d, :pairs]) if pairs != d else None,
            norm=Norm(self.ln_weight[:d], self.ln_bias[:d]),
        )

    @staticmethod
    def compute(w: DotWeights, dense: Tensor, sparse: Tensor) -> Tensor:  # type: ignore[override]
        x = dense
        if w.dense_proj is not None and w.dense_norm is not None:
            x = w.dense_norm(w.dense_proj(x))
        y = sparse
        if w.token_proj is not None and w.token_norm is not None:
            y = w.token_norm(w.token_proj.over_tokens(sparse)).transpose(1, 2)
        t = torch.cat([x.unsqueeze(1), y], dim=1)  # [B, p + 1, 16]
        z = torch.bmm(t, t.transpose(1, 2))
        n = t.shape[1]
        li, lj = torch.tril_indices(n, n, offset=-1, device=t.device)
        r = z[:, li, lj]
        if w.out_proj is not None:
            r = w.out_proj(r)
        return w.norm(r)

    def steps(self, dims: Dims) -> list[Step]:
        d, e = dims.out, self.sizes.emb_dim
        p = dot_tokens(d)
        out: list[Step] = []
        x, y = "dense", "sparse"
        if dims.dense_in != e:
            out.append(linear("dense_proj", dims.dense_in, e, (x,)))
            x = "dense_proj"
        if dims.sparse_in != p:
            out.append(linear("token_proj", dims.sparse_in, p, (y,), m=e))
            y = "token_proj"
        out.append(Product("interaction", m=p + 1, n=p + 1, k=e, reads=(x, y), gram=True))
        pairs = p * (p + 1) // 2
        if pairs != d:
            out.append(linear("out_proj", pairs, d, ("interaction",)))
        return out


def _pad_pair(left: Tensor, right: Tensor) -> tuple[Tensor, Tensor]:
    a, b = left.shape[-1], right.shape[-1]
    if a < b:
        left = F.pad(left, (0, b - a))
    elif b < a:
        right = F.pad(right, (0, a - b))
    return left, right


class _Binary(Op, reads=("left", "right"), writes="dense"):
    """A dense operator over two dense inputs zero-padded to a common width."""

    @classmethod
    def dims(cls, out: int, cols: Mapping[str, tuple[Segment, ...]]) -> Dims:
        width = max(sum(s[2] for s in cols[port]) for port in cls.reads)
        return Dims(out=out, in_width=width)


@dataclass(frozen=True)
class GatingWeights:
    gate: Affine
    #: None when the padded width is the output width.
    out_proj: Affine | None
    norm: Norm


class Gating(_Binary, name="gating"):
    """``LN(P (sigmoid(S left + s) * right) + b)``."""

    def __init__(self, sizes: Sizes) -> None:
        super().__init__(sizes)
        n, d_max = sizes.max_in, sizes.max_dense
        self.gate_weight = nn.Parameter(torch.zeros(n, n))
        self.gate_bias = nn.Parameter(torch.zeros(n))
        self.out_proj = nn.Parameter(torch.zeros(d_max, n))
        self.out_bias = nn.Parameter(torch.zeros(d_max))
        self.ln_weight, self.ln_bias = ln_params(d_max)

    def slice(self, dims: Dims) -> GatingWeights:
        d, n = dims.out, dims.in_width
        return GatingWeights(
            gate=Affine(self.gate_weight[:n, :n], self.gate_bias[:n]),
            out_proj=Affine(self.out_proj[:d, :n], self.out_bias[:d]) if n != d else None,
            norm=Norm(self.ln_weight[:d], self.ln_bias[:d]),
        )

    @staticmethod
    def compute(w: GatingWeights, left: Tensor, right: Tensor) -> Tensor:  # type: ignore[override]
        left, right = _pad_pair(left, right)
        g = torch.sigmoid(w.gate(left)) * right
        if w.out_proj is not None:
            g = w.out_proj(g)
        return w.norm(g)

    def steps(self, dims: Dims) -> list[Step]:
        d, n = dims.out, dims.in_width
        # the gate reads ``left`` zero-padded to n: its k is not the width of ``left``
        out: list[Step] = [linear("gate", n, n, ("left",), checked=False),
                           Elementwise("mul", fn="gating", width=n, reads=("gate", "right"))]
        if n != d:
            out.append(linear("out_proj", n, d, ("mul",)))
        return out


@dataclass(frozen=True)
class SumWeights:
    #: None when the padded width is the output width.
    out_proj: Affine | None
    norm: Norm


class Sum(_Binary, name="sum"):
    """``LN(P (left + right))``."""

    def __init__(self, sizes: Sizes) -> None:
        super().__init__(sizes)
        self.out_proj = nn.Parameter(torch.zeros(sizes.max_dense, sizes.max_in))
        self.ln_weight, self.ln_bias = ln_params(sizes.max_dense)

    def slice(self, dims: Dims) -> SumWeights:
        d, n = dims.out, dims.in_width
        return SumWeights(
            out_proj=Affine(self.out_proj[:d, :n]) if n != d else None,
            norm=Norm(self.ln_weight[:d], self.ln_bias[:d]),
        )

    @staticmethod
    def compute(w: SumWeights, left: Tensor, right: Tensor) -> Tensor:  # type: ignore[override]
        left, right = _pad_pair(left, right)
        s = left + right
        if w.out_proj is not None:
            s = w.out_proj(s)
        return w.norm(s)

    def steps(self, dims: Dims) -> list[Step]:
        d, n = dims.out, dims.in_width
        out: list[Step] = [Elementwise("add", fn="sum", width=n, reads=("left", "right"))]
        if n != d:
            out.append(linear("out_proj", n, d, ("add",)))
        return out
