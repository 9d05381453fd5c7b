"""Elastic operators of the supernet, by weight slicing.

Every operator holds the weights of its largest configuration and has one contract,
``forward(*inputs, dims_in_use)``: it cuts out the slices the subnet uses (see
:meth:`ElasticOp.sliced`) and computes at the subnet's real widths; nothing is masked, no
FLOP is spent on unused width. The computation itself is a pure function of the sliced
weights (``COMPUTE[kind](weights, *inputs)``) that the standalone subnet
(:class:`FrozenOp`, built by ``Supernet.extract``) calls on its own copies of the same
slices, so the supernet and the extracted subnet give the same numbers by construction.

Inputs that are the concatenation of several sources (dense connectivity) are described by
:class:`Dims`: for each source, the ranges of that source's weight piece that the
concatenated input occupies. Each source has its own weight piece (a separate Parameter), so
a subnet's gradient touches only the pieces of the sources it reads.

Operator definitions follow NASRec (facebookresearch/NasRec, nasrec/supernet/modules.py and
supernet.py) with ``use_layernorm = 1``:

- ``fc``: ``relu(LN(x W^T))`` over the concatenated dense inputs.
- ``dot``: dense input projected to 16 (skipped when it is 16 wide), sparse tokens projected
  over the token axis to ``p = round(sqrt(2 D))`` tokens (+LN; skipped when already ``p``),
  pairwise dot products of the ``p + 1`` tokens (strict lower triangle, ``p (p + 1) / 2``
  values), projected to ``D`` (+LN).
- ``gating``: left and right zero-padded to a common width ``w``;
  ``LN(P (sigmoid(S left + s) * right) + b)``, ``P`` skipped when ``w = D``.
- ``sum``: ``LN(P (left + right))``, ``P`` skipped when ``w = D``.
- ``attention``: tokens projected over the token axis to ``T`` (+LN over tokens), 8-head
  self-attention over 16-dim tokens, add & LN, a feed-forward layer 16-16-16 (ReLU), add & LN.
- ``efc``: ``relu(LN(x^T W^T))^T``: a linear map over the token axis to ``T`` tokens.
- ``merge`` (dense -> sparse): ``LN(W dense)`` to 128 = 8 tokens x 16 (skipped when D = 128).
- ``fm`` (DeepFM, sparse -> dense): ``LN(P ((sum_t x_t)^2 - sum_t x_t^2))`` (16 wide),
  ``P`` projects to ``D`` (skipped when D = 16; the LN is not), added to the block's dense
  output.
- ``final``: one logit from the last block's dense output and flattened sparse output, with
  one weight row per operator kind of the last block: the dense columns read the row of the
  last dense operator, the sparse columns the row of the last sparse operator (an attention
  token and an EFC token mean different things, so one shared row would be pulled between
  them by every other training step). The whole supernet, whose last block sums all
  operators, reads the mean of the rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: Heads of the attention operator (NASRec ``NUM_MHA_HEADS``).
NUM_HEADS = 8
#: Initial weight of the attention operator's layer norms (NASRec ``LN_INIT``).
ATTN_LN_INIT = 0.17
LN_EPS = 1e-5

#: One contiguous range of one source's weight piece: (source, start, length).
Segment = tuple[int, int, int]


@dataclass(frozen=True)
class Dims:
    """The dimensions an operator uses for one subnet.

    ``out``: output width (dense) or token count (sparse). ``dense_cols`` / ``sparse_cols``:
    the input ranges, in concatenation order, as (source, start, length) into the per-source
    weight pieces. ``in_width``: the padded width of the binary dense ops' inputs.
    """

    out: int
    dense_cols: tuple[Segment, ...] = ()
    sparse_cols: tuple[Segment, ...] = ()
    in_width: int = 0
    #: The final layer only: the operators whose outputs it reads (the last block's dense
    #: and sparse operator), which select its per-operator weight rows.
    heads: tuple[str, ...] = ()

    @property
    def dense_in(self) -> int:
        return sum(s[2] for s in self.dense_cols)

    @property
    def sparse_in(self) -> int:
        return sum(s[2] for s in self.sparse_cols)


def dot_tokens(width: int) -> int:
    """Operator balancing of the dot-product: project to p tokens, p = round(sqrt(2 width)),
    so that the p (p + 1) / 2 pairwise products are about ``width`` values."""
    return int(round(math.sqrt(2 * width)))


# --------------------------------------------------------------------------- weight pieces


class SegmentedWeight(nn.Module):
    """A weight matrix ``[out_max, sum(in_max)]`` stored as one Parameter per input source."""

    def __init__(self, out_max: int, in_max: Sequence[int]) -> None:
        super().__init__()
        self.out_max = out_max
        self.in_max = tuple(in_max)
        self.pieces = nn.ParameterList(
            [nn.Parameter(torch.zeros(out_max, n)) for n in self.in_max]
        )

    def take(self, out: int, cols: Sequence[Segment]) -> Tensor:
        parts = [self.pieces[s][:out, a : a + n] for s, a, n in cols]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)


def _linear(x: Tensor, w: Tensor, b: Tensor | None = None) -> Tensor:
    return F.linear(x, w, b)


def _ln(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    return F.layer_norm(x, (x.shape[-1],), w, b, LN_EPS)


def _tokens_linear(x: Tensor, w: Tensor) -> Tensor:
    """x: [B, N, E] -> [B, E, N'] with a linear map over the token axis."""
    return F.linear(x.transpose(1, 2), w)


# --------------------------------------------------------------------------- pure computations


def compute_fc(w: dict[str, Tensor], x: Tensor) -> Tensor:
    return F.relu(_ln(_linear(x, w["weight"]), w["ln_weight"], w["ln_bias"]))


def compute_dot(w: dict[str, Tensor], dense: Tensor, sparse: Tensor) -> Tensor:
    x = dense
    if "dense_proj" in w:
        x = _ln(_linear(x, w["dense_proj"]), w["dense_ln_weight"], w["dense_ln_bias"])
    if "token_proj" in w:
        y = _ln(_tokens_linear(sparse, w["token_proj"]), w["token_ln_weight"], w["token_ln_bias"])
        y = y.transpose(1, 2)
    else:
        y = sparse
    t = torch.cat([x.unsqueeze(1), y], dim=1)  # [B, p + 1, 16]
    z = torch.bmm(t, t.transpose(1, 2))
    n = t.shape[1]
    li, lj = torch.tril_indices(n, n, offset=-1, device=t.device)
    r = z[:, li, lj]
    if "out_proj" in w:
        r = _linear(r, w["out_proj"])
    return _ln(r, w["ln_weight"], w["ln_bias"])


def _pad_pair(left: Tensor, right: Tensor) -> tuple[Tensor, Tensor]:
    a, b = left.shape[-1], right.shape[-1]
    if a < b:
        left = F.pad(left, (0, b - a))
    elif b < a:
        right = F.pad(right, (0, a - b))
    return left, right


def compute_gating(w: dict[str, Tensor], left: Tensor, right: Tensor) -> Tensor:
    left, right = _pad_pair(left, right)
    g = torch.sigmoid(_linear(left, w["gate_weight"], w["gate_bias"])) * right
    if "out_proj" in w:
        g = _linear(g, w["out_proj"], w["out_bias"])
    return _ln(g, w["ln_weight"], w["ln_bias"])


def compute_sum(w: dict[str, Tensor], left: Tensor, right: Tensor) -> Tensor:
    left, right = _pad_pair(left, right)
    s = left + right
    if "out_proj" in w:
        s = _linear(s, w["out_proj"])
    return _ln(s, w["ln_weight"], w["ln_bias"])


def compute_attention(w: dict[str, Tensor], sparse: Tensor) -> Tensor:
    h = _ln(_tokens_linear(sparse, w["token_proj"]), w["token_ln_weight"], w["token_ln_bias"])
    h = h.transpose(1, 2)  # [B, T, 16]
    bsz, t, e = h.shape
    qkv = _linear(h, w["in_proj_weight"], w["in_proj_bias"])
    q, k, v = qkv.view(bsz, t, 3, NUM_HEADS, e // NUM_HEADS).permute(2, 0, 3, 1, 4)
    a = F.scaled_dot_product_attention(q, k, v)  # softmax(q k^T / sqrt(e/H)) v: [B, H, T, e/H]
    a = a.transpose(1, 2).reshape(bsz, t, e)
    a = _linear(a, w["out_proj_weight"], w["out_proj_bias"])
    a = _ln(a + h, w["attn_ln_weight"], w["attn_ln_bias"])
    f = _linear(F.relu(_linear(a, w["fc1_weight"], w["fc1_bias"])), w["fc2_weight"], w["fc2_bias"])
    return _ln(a + f, w["ffn_ln_weight"], w["ffn_ln_bias"])


def compute_efc(w: dict[str, Tensor], sparse: Tensor) -> Tensor:
    y = F.relu(_ln(_tokens_linear(sparse, w["token_proj"]), w["ln_weight"], w["ln_bias"]))
    return y.transpose(1, 2)


def compute_merge(w: dict[str, Tensor], dense: Tensor, tokens: int, emb_dim: int) -> Tensor:
    y = dense
    if "proj" in w:
        y = _ln(_linear(y, w["proj"]), w["ln_weight"], w["ln_bias"])
    return y.reshape(y.shape[0], tokens, emb_dim)


def compute_fm(w: dict[str, Tensor], sparse: Tensor) -> Tensor:
    s = sparse.sum(dim=1)
    ix = s * s - (sparse * sparse).sum(dim=1)
    if "proj" in w:
        ix = _linear(ix, w["proj"])
    # Always normalised: the raw interaction is a sum of up to (T + 8) * k squared-token
    # terms, unbounded in the token count (NASRec's supernet always projects and
    # layer-norms here, since its FM output is 16 wide and its max width 1024).
    return _ln(ix, w["ln_weight"], w["ln_bias"])


def compute_final(w: dict[str, Tensor], dense: Tensor, sparse: Tensor) -> Tensor:
    feats = torch.cat([dense, sparse.flatten(1)], dim=1)
    return _linear(feats, w["weight"], w["bias"]).squeeze(-1)


COMPUTE: dict[str, Callable[..., Tensor]] = {
    "fc": compute_fc,
    "dot": compute_dot,
    "gating": compute_gating,
    "sum": compute_sum,
    "attention": compute_attention,
    "efc": compute_efc,
    "merge": compute_merge,
    "fm": compute_fm,
    "final": compute_final,
}


# --------------------------------------------------------------------------- elastic modules


class ElasticOp(nn.Module):
    """Base class: ``sliced(dims)`` -> the weights in use; ``forward(*inputs, dims_in_use)``."""

    kind: str = ""

    def sliced(self, dims: Dims) -> dict[str, Tensor]:
        raise NotImplementedError

    def forward(self, *args: object) -> Tensor:
        *inputs, dims = args
        assert isinstance(dims, Dims)
        return COMPUTE[self.kind](self.sliced(dims), *inputs)


def _ln_params(n: int, init: float = 1.0) -> tuple[nn.Parameter, nn.Parameter]:
    return nn.Parameter(torch.full((n,), init)), nn.Parameter(torch.zeros(n))


class ElasticFC(ElasticOp):
    kind = "fc"

    def __init__(self, dense_sources: Sequence[int], max_out: int) -> None:
        super().__init__()
        self.weight = SegmentedWeight(max_out, dense_sources)
        self.ln_weight, self.ln_bias = _ln_params(max_out)

    def sliced(self, dims: Dims) -> dict[str, Tensor]:
        d = dims.out
        return {
            "weight": self.weight.take(d, dims.dense_cols),
            "ln_weight": self.ln_weight[:d],
            "ln_bias": self.ln_bias[:d],
        }


class ElasticDot(ElasticOp):
    kind = "dot"

    def __init__(
        self,
        dense_sources: Sequence[int],
        sparse_sources: Sequence[int],
        max_out: int,
        emb_dim: int,
    ) -> None:
        super().__init__()
        self.emb_dim = emb_dim
        p_max = dot_tokens(max_out)
        self.dense_proj = SegmentedWeight(emb_dim, dense_sources)
        self.dense_ln_weight, self.dense_ln_bias = _ln_params(emb_dim)
        self.token_proj = SegmentedWeight(p_max, sparse_sources)
        self.token_ln_weight, self.token_ln_bias = _ln_params(p_max)
        self.out_proj = nn.Parameter(torch.zeros(max_out, p_max * (p_max + 1) // 2))
        self.ln_weight, self.ln_bias = _ln_params(max_out)

    def sliced(self, dims: Dims) -> dict[str, Tensor]:
        d, e = dims.out, self.emb_dim
        p = dot_tokens(d)
        w: dict[str, Tensor] = {}
        if dims.dense_in != e:
            w["dense_proj"] = self.dense_proj.take(e, dims.dense_cols)
            w["dense_ln_weight"] = self.dense_ln_weight
            w["dense_ln_bias"] = self.dense_ln_bias
        if dims.sparse_in != p:
            w["token_proj"] = self.token_proj.take(p, dims.sparse_cols)
            w["token_ln_weight"] = self.token_ln_weight[:p]
            w["token_ln_bias"] = self.token_ln_bias[:p]
        pairs = p * (p + 1) // 2
        if pairs != d:
            # Row-major strict lower triangle: the first pairs of the largest layout are
            # exactly the pairs among the first p + 1 tokens, so a prefix slice is consistent.
            w["out_proj"] = self.out_proj[:d, :pairs]
        w["ln_weight"] = self.ln_weight[:d]
        w["ln_bias"] = self.ln_bias[:d]
        return w


class ElasticGating(ElasticOp):
    kind = "gating"

    def __init__(self, max_in: int, max_out: int) -> None:
        super().__init__()
        self.gate_weight = nn.Parameter(torch.zeros(max_in, max_in))
        self.gate_bias = nn.Parameter(torch.zeros(max_in))
        self.out_proj = nn.Parameter(torch.zeros(max_out, max_in))
        self.out_bias = nn.Parameter(torch.zeros(max_out))
        self.ln_weight, self.ln_bias = _ln_params(max_out)

    def sliced(self, dims: Dims) -> dict[str, Tensor]:
        d, n = dims.out, dims.in_width
        w = {
            "gate_weight": self.gate_weight[:n, :n],
            "gate_bias": self.gate_bias[:n],
            "ln_weight": self.ln_weight[:d],
            "ln_bias": self.ln_bias[:d],
        }
        if n != d:
            w["out_proj"] = self.out_proj[:d, :n]
            w["out_bias"] = self.out_bias[:d]
        return w


class ElasticSum(ElasticOp):
    kind = "sum"

    def __init__(self, max_in: int, max_out: int) -> None:
        super().__init__()
        self.out_proj = nn.Parameter(torch.zeros(max_out, max_in))
        self.ln_weight, self.ln_bias = _ln_params(max_out)

    def sliced(self, dims: Dims) -> dict[str, Tensor]:
        d, n = dims.out, dims.in_width
        w = {"ln_weight": self.ln_weight[:d], "ln_bias": self.ln_bias[:d]}
        if n != d:
            w["out_proj"] = self.out_proj[:d, :n]
        return w


class ElasticAttention(ElasticOp):
    kind = "attention"

    def __init__(self, sparse_sources: Sequence[int], max_tokens: int, emb_dim: int) -> None:
        super().__init__()
        if emb_dim % NUM_HEADS:
            raise ValueError(f"emb_dim {emb_dim} must be a multiple of {NUM_HEADS} heads")
        e = emb_dim
        self.token_proj = SegmentedWeight(max_tokens, sparse_sources)
        self.token_ln_weight, self.token_ln_bias = _ln_params(max_tokens)
        self.in_proj_weight = nn.Parameter(torch.zeros(3 * e, e))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * e))
        self.out_proj_weight = nn.Parameter(torch.zeros(e, e))
        self.out_proj_bias = nn.Parameter(torch.zeros(e))
        self.attn_ln_weight, self.attn_ln_bias = _ln_params(e, ATTN_LN_INIT)
        self.fc1_weight = nn.Parameter(torch.zeros(e, e))
        self.fc1_bias = nn.Parameter(torch.zeros(e))
        self.fc2_weight = nn.Parameter(torch.zeros(e, e))
        self.fc2_bias = nn.Parameter(torch.zeros(e))
        self.ffn_ln_weight, self.ffn_ln_bias = _ln_params(e, ATTN_LN_INIT)

    _FIXED = (
        "in_proj_weight",
        "in_proj_bias",
        "out_proj_weight",
        "out_proj_bias",
        "attn_ln_weight",
        "attn_ln_bias",
        "fc1_weight",
        "fc1_bias",
        "fc2_weight",
        "fc2_bias",
        "ffn_ln_weight",
        "ffn_ln_bias",
    )

    def sliced(self, dims: Dims) -> dict[str, Tensor]:
        t = dims.out
        w = {
            "token_proj": self.token_proj.take(t, dims.sparse_cols),
            "token_ln_weight": self.token_ln_weight[:t],
            "token_ln_bias": self.token_ln_bias[:t],
        }
        for name in self._FIXED:
            w[name] = getattr(self, name)
        return w


class ElasticEFC(ElasticOp):
    kind = "efc"

    def __init__(self, sparse_sources: Sequence[int], max_tokens: int) -> None:
        super().__init__()
        self.token_proj = SegmentedWeight(max_tokens, sparse_sources)
        self.ln_weight, self.ln_bias = _ln_params(max_tokens)

    def sliced(self, dims: Dims) -> dict[str, Tensor]:
        t = dims.out
        return {
            "token_proj": self.token_proj.take(t, dims.sparse_cols),
            "ln_weight": self.ln_weight[:t],
            "ln_bias": self.ln_bias[:t],
        }


class ElasticMerge(ElasticOp):
    """Dense -> sparse merge: the dense output projected to ``tokens x emb_dim``."""

    kind = "merge"

    def __init__(self, max_in: int, tokens: int, emb_dim: int) -> None:
        super().__init__()
        self.tokens, self.emb_dim = tokens, emb_dim
        n = tokens * emb_dim
        self.proj = nn.Parameter(torch.zeros(n, max_in))
        self.ln_weight, self.ln_bias = _ln_params(n)

    def sliced(self, dims: Dims) -> dict[str, Tensor]:
        n = dims.in_width
        if n == self.tokens * self.emb_dim:
            return {}
        return {"proj": self.proj[:, :n], "ln_weight": self.ln_weight, "ln_bias": self.ln_bias}

    def forward(self, *args: object) -> Tensor:
        dense, dims = args
        assert isinstance(dims, Dims) and isinstance(dense, Tensor)
        return compute_merge(self.sliced(dims), dense, self.tokens, self.emb_dim)


class ElasticFM(ElasticOp):
    """DeepFM: second-order interaction of the sparse output, projected to the dense width."""

    kind = "fm"

    def __init__(self, emb_dim: int, max_out: int) -> None:
        super().__init__()
        self.emb_dim = emb_dim
        self.proj = nn.Parameter(torch.zeros(max_out, emb_dim))
        self.ln_weight, self.ln_bias = _ln_params(max_out)

    def sliced(self, dims: Dims) -> dict[str, Tensor]:
        d = dims.out
        w = {"ln_weight": self.ln_weight[:d], "ln_bias": self.ln_bias[:d]}
        if d != self.emb_dim:
            w["proj"] = self.proj[:d]
        return w


class ElasticFinal(ElasticOp):
    """The logit layer over [dense output, flattened sparse output] of the last block, with a
    weight row per dense operator kind and per sparse operator kind (``Dims.heads``)."""

    kind = "final"

    def __init__(
        self, max_dense: int, max_sparse_flat: int, dense_ops: Sequence[str], sparse_ops: Sequence[str]
    ) -> None:
        super().__init__()
        self.max_dense = max_dense
        self.dense_weight = nn.ParameterDict(
            {op: nn.Parameter(torch.zeros(1, max_dense)) for op in dense_ops}
        )
        self.sparse_weight = nn.ParameterDict(
            {op: nn.Parameter(torch.zeros(1, max_sparse_flat)) for op in sparse_ops}
        )
        self.bias = nn.Parameter(torch.zeros(1))

    def _row(self, table: nn.ParameterDict, heads: tuple[str, ...]) -> Tensor:
        rows = [table[h] for h in heads if h in table]
        if not rows:
            raise ValueError(f"final layer: heads {heads}; accepted: {sorted(table.keys())}")
        return rows[0] if len(rows) == 1 else torch.stack(rows).mean(dim=0)

    def sliced(self, dims: Dims) -> dict[str, Tensor]:
        # dense_cols / sparse_cols hold (0, start, length) ranges of the dense / sparse row.
        dense = self._row(self.dense_weight, dims.heads)
        sparse = self._row(self.sparse_weight, dims.heads)
        parts = [dense[:, a : a + n] for _, a, n in dims.dense_cols]
        parts += [sparse[:, a : a + n] for _, a, n in dims.sparse_cols]
        return {"weight": torch.cat(parts, dim=1), "bias": self.bias}


def init_parameters(module: nn.Module, generator: torch.Generator) -> None:
    """Initialise every parameter of ``module`` (NASRec's init_weights): matrices
    Xavier-uniform (each per-source piece on its own shape), biases 0, layer-norm weights 1
    (0.17 for the attention operator's, NASRec ``LN_INIT``). Operators are created with zero
    matrices; the Supernet calls this with its seeded generator."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() >= 2:
                nn.init.xavier_uniform_(p, generator=generator)
            elif name.endswith(("attn_ln_weight", "ffn_ln_weight")):
                p.fill_(ATTN_LN_INIT)
            elif name.endswith("ln_weight"):
                p.fill_(1.0)
            else:
                p.zero_()


class FrozenOp(nn.Module):
    """A standalone operator: its own copies of the sliced weights and the same computation."""

    def __init__(self, kind: str, weights: dict[str, Tensor], **static: int) -> None:
        super().__init__()
        self.kind = kind
        self.static = dict(static)
        self.weights = nn.ParameterDict(
            {k: nn.Parameter(v.detach().clone().contiguous()) for k, v in weights.items()}
        )

    def forward(self, *inputs: Tensor) -> Tensor:
        w = dict(self.weights.items())
        return COMPUTE[self.kind](w, *inputs, **self.static)
