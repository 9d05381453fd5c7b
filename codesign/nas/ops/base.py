"""The operator contract of the supernet, and the pieces every operator is made of.

An operator (:class:`Op`) holds the weights of its largest configuration (:class:`Sizes`)
and owns everything the rest of the code needs to know about it:

- its metadata: ``name``, the input ports it ``reads`` (``dense``, ``sparse``, ``left``,
  ``right``; :data:`PORT_SIDE` says which output of a source each port takes) and the side
  it ``writes`` (``dense`` or ``sparse``);
- :meth:`Op.dims`: the one rule from the widths of its inputs to its :class:`Dims`;
- :meth:`Op.slice`: the weights one subnet uses, as a small typed dataclass of
  :class:`Affine` and :class:`Norm` pieces (``None`` for a piece the subnet skips);
- :meth:`Op.compute`: a pure function of those weights, shared by the supernet and the
  extracted subnet, so both give the same numbers by construction;
- :meth:`Op.steps`: its matrix products (:class:`Product`, which the FLOPs count sums) and
  the element-wise work between them (:class:`Elementwise`), in order, each naming what it
  reads; the PIM mapping turns them into pimsim kernels;
- :meth:`Op.param_count`, from the shapes of the sliced weights;
- :meth:`Op.extract`: a standalone module of ``nn.Linear`` / ``nn.LayerNorm`` layers.

Inputs that concatenate several sources (dense connectivity) are described by
:class:`Dims`: for each source, the range of that source's weight piece that the
concatenated input occupies. Each source has its own weight piece (a separate Parameter,
:class:`SegmentedWeight`), so a subnet's gradient touches only the pieces it reads; nothing
is masked and no FLOP is spent on unused width.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: Epsilon of every layer norm (torch's default, as NASRec).
LN_EPS = 1e-5
#: Initial weight of the attention operator's layer norms (NASRec ``LN_INIT``).
ATTN_LN_INIT = 0.17

#: One contiguous range of one source's weight piece: (source, start, length).
Segment = tuple[int, int, int]

#: Which output of a source each input port reads.
PORT_SIDE: dict[str, str] = {
    "dense": "dense", "left": "dense", "right": "dense", "sparse": "sparse",
}


@dataclass(frozen=True)
class Dims:
    """The dimensions an operator uses for one subnet.

    ``out``: output width (dense) or token count (sparse). ``dense_cols`` / ``sparse_cols``:
    the input ranges, in concatenation order, as (source, start, length) into the per-source
    weight pieces. ``in_width``: the padded width of the binary dense ops' inputs (and the
    input width of the dense -> sparse merge).
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


@dataclass(frozen=True)
class Sizes:
    """The largest configuration the operators of one block hold weights for: the widest
    output, the most tokens, and the widest output of each source the block may read."""

    max_dense: int
    max_tokens: int
    emb_dim: int
    #: Width of each source's dense output (source 0: the raw dense features).
    dense_sources: tuple[int, ...]
    #: Tokens of each source's sparse output (own tokens plus the merged ones).
    sparse_sources: tuple[int, ...]
    #: The final layer only: the dense and the sparse operators with a weight row.
    dense_heads: tuple[str, ...] = ()
    sparse_heads: tuple[str, ...] = ()

    @property
    def max_in(self) -> int:
        """Widest input of a binary dense operator (a block output or the raw features)."""
        return max(self.max_dense, self.dense_sources[0])


# --------------------------------------------------------------------------- weight pieces


@dataclass(frozen=True)
class Affine:
    """A sliced linear map: its weight [out, in], given whole or as the column blocks of
    the sources it reads (concatenated on first use), and an optional bias [out]."""

    weight: Tensor | tuple[Tensor, ...]
    bias: Tensor | None = None

    @cached_property
    def matrix(self) -> Tensor:
        """The weight as one [out, in] matrix."""
        w = self.weight
        if isinstance(w, Tensor):
            return w
        return w[0] if len(w) == 1 else torch.cat(w, dim=1)

    def tensors(self) -> tuple[Tensor, ...]:
        """The weight (its blocks) and the bias: what a subnet reads."""
        w = (self.weight,) if isinstance(self.weight, Tensor) else self.weight
        return w if self.bias is None else (*w, self.bias)

    def __call__(self, x: Tensor) -> Tensor:
        return F.linear(x, self.matrix, self.bias)

    def over_tokens(self, x: Tensor) -> Tensor:
        """x: [B, N, E] -> [B, E, N']: the map applied over the token axis."""
        return F.linear(x.transpose(1, 2), self.matrix, self.bias)


@dataclass(frozen=True)
class Norm:
    """A sliced layer norm over the last axis."""

    weight: Tensor
    bias: Tensor

    def __call__(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, LN_EPS)


def weight_tensors(weights: Any) -> Iterator[Tensor]:
    """Every tensor of a weights dataclass (its Affine and Norm pieces), in field order."""
    for f in fields(weights):
        v = getattr(weights, f.name)
        if isinstance(v, Affine):
            yield from v.tensors()
        elif isinstance(v, Norm):
            yield v.weight
            yield v.bias


class SegmentedWeight(nn.Module):
    """A weight matrix ``[out_max, sum(in_max)]`` stored as one Parameter per input source."""

    def __init__(self, out_max: int, in_max: Sequence[int]) -> None:
        super().__init__()
        self.out_max = out_max
        self.in_max = tuple(in_max)
        self.pieces = nn.ParameterList(
            [nn.Parameter(torch.zeros(out_max, n)) for n in self.in_max]
        )

    def take(self, out: int, cols: Sequence[Segment]) -> tuple[Tensor, ...]:
        """The first ``out`` rows of the column ranges ``cols``, one block per range."""
        return tuple(self.pieces[s][:out, a : a + n] for s, a, n in cols)


def ln_params(n: int, init: float = 1.0) -> tuple[nn.Parameter, nn.Parameter]:
    """Weight and bias of a layer norm over ``n`` features."""
    return nn.Parameter(torch.full((n,), init)), nn.Parameter(torch.zeros(n))


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


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class Product:
    """One matrix product of an operator, per sample: ``batch`` independent products of an
    ``m x k`` by a ``k x n`` matrix. For a layer applied to each sample's feature vector,
    m = 1 (a batch of B samples makes it B x k by k x n); for a map over the token axis,
    m = the embedding width (the rows of the token matrix)."""

    name: str
    m: int
    n: int
    k: int
    batch: int = 1
    #: Weight elements this product reads (0 for activation x activation products).
    weight_elems: int = 0
    #: Input ports of the operator or names of its earlier steps that this product reads.
    reads: tuple[str, ...] = ()
    #: The dot-product's Gram matrix ``t t^T`` of the ``m = n`` tokens (pimsim Interaction).
    gram: bool = False
    #: ``k`` is the concatenated width of what it reads (the mapping checks it).
    matches_input: bool = False

    @property
    def flops(self) -> int:
        return self.batch * self.m * self.n * self.k

    @property
    def out_width(self) -> int:
        """Output values per row: ``n``, or the strict lower triangle of a Gram matrix."""
        return self.m * (self.m - 1) // 2 if self.gram else self.n


@dataclass(frozen=True)
class Elementwise:
    """Element-wise work between products, not counted as FLOPs (NASRec convention):
    ``fn`` over ``width`` values per sample, reading its ``reads`` as operands."""

    name: str
    fn: str
    width: int
    reads: tuple[str, ...]

    @property
    def out_width(self) -> int:
        return self.width


Step = Product | Elementwise


def linear(name: str, k: int, n: int, reads: tuple[str, ...], m: int = 1, *,
           checked: bool = True) -> Product:
    """A product with a resident ``k x n`` weight."""
    return Product(name, m=m, n=n, k=k, weight_elems=k * n, reads=reads, matches_input=checked)


# --------------------------------------------------------------------------- the contract


class Op(nn.Module):
    """Base of every operator; see the module docstring for the contract. A subclass
    declares its metadata in its header: ``class FC(Op, name="fc", reads=("dense",),
    writes="dense")``."""

    name: ClassVar[str]
    reads: ClassVar[tuple[str, ...]]
    writes: ClassVar[str]
    #: A cheaper operator of the same side that a shrinking move may switch to.
    shrinks_to: ClassVar[str | None] = None

    def __init_subclass__(cls, **meta: Any) -> None:
        unknown = set(meta) - {"name", "reads", "writes", "shrinks_to"}
        if unknown:
            raise TypeError(f"{cls.__name__}: unknown operator metadata {sorted(unknown)}")
        super().__init_subclass__()
        for key, value in meta.items():
            setattr(cls, key, value)

    def __init__(self, sizes: Sizes) -> None:
        super().__init__()
        self.sizes = sizes

    @classmethod
    def dims(cls, out: int, cols: Mapping[str, tuple[Segment, ...]]) -> Dims:
        """The dimensions at output size ``out`` over the ranges ``cols`` of each port."""
        return Dims(out=out, dense_cols=cols.get("dense", ()), sparse_cols=cols.get("sparse", ()))

    def slice(self, dims: Dims) -> Any:
        """The weights in use at ``dims`` (views of this operator's parameters)."""
        raise NotImplementedError

    @staticmethod
    def compute(w: Any, *x: Tensor) -> Tensor:
        """The output from the sliced weights ``w`` and the inputs, one per port."""
        raise NotImplementedError

    def steps(self, dims: Dims) -> list[Step]:
        """Matrix products and element-wise work at ``dims``, in execution order."""
        raise NotImplementedError

    def products(self, dims: Dims) -> list[Product]:
        """The matrix products at ``dims`` (the FLOPs of the NASRec convention)."""
        return [s for s in self.steps(dims) if isinstance(s, Product)]

    def param_count(self, dims: Dims) -> int:
        """Parameters a subnet uses at ``dims``: the sizes of the sliced weights."""
        return sum(t.numel() for t in weight_tensors(self.slice(dims)))

    def forward(self, *x: Tensor, dims: Dims) -> Tensor:
        return self.compute(self.slice(dims), *x)

    def extract(self, dims: Dims) -> Standalone:
        """A standalone module with copies of the weights in use; the same outputs."""
        with torch.no_grad():
            return Standalone(type(self), self.slice(dims))


class Standalone(nn.Module):
    """An extracted operator: ``nn.Linear`` for each Affine piece, ``nn.LayerNorm`` for each
    Norm piece (copies of the sliced weights), computing with the operator's own
    :meth:`Op.compute`. Printed under the operator's class name."""

    def __init__(self, op: type[Op], weights: Any) -> None:
        super().__init__()
        self.op = op
        #: The operator's name (the head fine-tuning finds the final layer by it).
        self.kind = op.name
        self._weights_type = type(weights)
        self._static: dict[str, Any] = {}
        for f in fields(weights):
            v = getattr(weights, f.name)
            if isinstance(v, Affine):
                out_f, in_f = v.matrix.shape
                # built on the meta device: its own random init would draw from torch's global RNG
                layer = nn.Linear(in_f, out_f, bias=v.bias is not None, device="meta")
                layer.weight = nn.Parameter(v.matrix.detach().clone().contiguous())
                if v.bias is not None:
                    layer.bias = nn.Parameter(v.bias.detach().clone().contiguous())
                setattr(self, f.name, layer)
            elif isinstance(v, Norm):
                norm = nn.LayerNorm(v.weight.shape[0], eps=LN_EPS, device="meta")
                norm.weight = nn.Parameter(v.weight.detach().clone().contiguous())
                norm.bias = nn.Parameter(v.bias.detach().clone().contiguous())
                setattr(self, f.name, norm)
            else:
                self._static[f.name] = v

    def _get_name(self) -> str:  # the name nn.Module's repr prints
        return self.op.__name__

    def weights(self) -> Any:
        """The weights dataclass of the operator, read from this module's layers."""
        parts: dict[str, Any] = dict(self._static)
        for name, layer in self.named_children():
            if isinstance(layer, nn.Linear):
                parts[name] = Affine(layer.weight, layer.bias)
            elif isinstance(layer, nn.LayerNorm):
                parts[name] = Norm(layer.weight, layer.bias)
        return self._weights_type(**parts)

    def forward(self, *x: Tensor) -> Tensor:
        return self.op.compute(self.weights(), *x)
