"""Analytic FLOPs, parameter counts and matrix-product shapes of a subnet (NASRec convention).

Convention (NASRec README): one multiply-add counts as one FLOP; embedding lookups and
element-wise work (activations, layer norms, sums, the FM square terms, softmax) are not
counted; operators whose output never reaches the final logit are not counted; attention's
matrix products (scores and weighted sum) are counted. Numbers are per sample.

The kernels come from the same execution plan that the supernet runs
(:func:`codesign.supernet.make_plan`), with the operator definitions of
:mod:`codesign.ops`; the mapping to the PIM simulator reuses :attr:`FlopsReport.kernels`.
On NASRec's released Criteo subnets this gives 1.448 MFLOPs (Full; published 1.45) and
2.208 MFLOPs (Small; published 2.20).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from codesign.errors import SpecError
from codesign.ops import NUM_HEADS, Dims, dot_tokens
from codesign.space import EMB_DIM, MERGE_TOKENS, SubnetSpec
from codesign.supernet import Plan, make_plan

#: Feature counts (dense, sparse) of the data sets, used when only a name is given; the
#: authoritative source is codesign.data.schema (read first when it can be imported).
_FALLBACK_COUNTS: dict[str, tuple[int, int]] = {"criteo": (13, 26), "avazu": (1, 22), "kdd": (3, 10)}


@dataclass(frozen=True)
class Kernel:
    """One matrix product of a subnet, per sample: ``batch`` independent products of an
    ``m x k`` by a ``k x n`` matrix. For a layer applied to each sample's feature vector,
    m = 1 (a batch of B samples makes it B x k by k x n); for a map over the token axis,
    m = 16 (the embedding rows)."""

    block: int  # -1 = the final logit layer
    op: str  # fc, dot, gating, sum, attention, efc, merge, fm, final
    name: str  # which product inside the operator
    m: int
    n: int
    k: int
    batch: int = 1
    #: Weight elements this product reads (0 for activation x activation products).
    weight_elems: int = 0

    @property
    def flops(self) -> int:
        return self.batch * self.m * self.n * self.k


@dataclass(frozen=True)
class OpCount:
    block: int
    op: str
    flops: int
    params: int


@dataclass(frozen=True)
class FlopsReport:
    """FLOPs (multiply-adds) per sample and parameters of one subnet on one data set."""

    total_flops: int
    params_dense: int
    params_embedding: int
    ops: tuple[OpCount, ...]
    kernels: tuple[Kernel, ...]
    n_dense: int
    n_sparse: int
    blocks_reached: tuple[bool, ...] = field(default=())

    @property
    def mflops(self) -> float:
        return self.total_flops / 1e6

    @property
    def params_total(self) -> int:
        return self.params_dense + self.params_embedding

    def per_block(self) -> dict[int, int]:
        """FLOPs per block (-1 = final layer)."""
        out: dict[int, int] = {}
        for o in self.ops:
            out[o.block] = out.get(o.block, 0) + o.flops
        return out

    def per_op(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.ops:
            out[o.op] = out.get(o.op, 0) + o.flops
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "mflops": self.mflops,
            "total_flops": self.total_flops,
            "params_dense": self.params_dense,
            "params_embedding": self.params_embedding,
            "per_block": {str(k): v for k, v in sorted(self.per_block().items())},
            "per_op": self.per_op(),
            "blocks_reached": list(self.blocks_reached),
            "kernels": [
                {"block": k.block, "op": k.op, "name": k.name, "m": k.m, "n": k.n, "k": k.k,
                 "batch": k.batch, "flops": k.flops}
                for k in self.kernels
            ],
        }


def _counts(schema_or_counts: Any) -> tuple[int, int, Sequence[int] | None]:
    """(n_dense, n_sparse, cardinalities or None) from a schema, a (n_dense, n_sparse[,
    cardinalities]) tuple, or a data set name."""
    if isinstance(schema_or_counts, str):
        try:
            from codesign.data.schema import get_schema

            schema_or_counts = get_schema(schema_or_counts)
        except ImportError:
            if schema_or_counts not in _FALLBACK_COUNTS:
                raise SpecError(
                    f"dataset: {schema_or_counts!r}; accepted: {', '.join(_FALLBACK_COUNTS)}"
                ) from None
            nd, ns = _FALLBACK_COUNTS[schema_or_counts]
            return nd, ns, None
    if hasattr(schema_or_counts, "sparse_names") and hasattr(schema_or_counts, "dense_names"):
        cards = getattr(schema_or_counts, "cardinalities", None)
        return len(schema_or_counts.dense_names), len(schema_or_counts.sparse_names), cards
    if isinstance(schema_or_counts, (tuple, list)) and len(schema_or_counts) in (2, 3):
        nd, ns = int(schema_or_counts[0]), int(schema_or_counts[1])
        cards = schema_or_counts[2] if len(schema_or_counts) == 3 else None
        if nd < 1 or ns < 1:
            raise SpecError(f"counts: ({nd}, {ns}); accepted: at least one dense and one sparse")
        return nd, ns, cards
    raise SpecError(
        f"schema_or_counts: {schema_or_counts!r}; accepted: a DatasetSchema, "
        "(n_dense, n_sparse) or a data set name"
    )


def _linear(block: int, op: str, name: str, k: int, n: int, m: int = 1) -> Kernel:
    return Kernel(block, op, name, m=m, n=n, k=k, weight_elems=k * n)


def op_kernels(block: int, op: str, dims: Dims, emb_dim: int = EMB_DIM) -> tuple[list[Kernel], int]:
    """The matrix products of one operator at ``dims`` and its parameter count (weights,
    biases and layer norms of the standalone subnet)."""
    e = emb_dim
    ks: list[Kernel] = []
    params = 0
    d = dims.out
    if op == "fc":
        ks.append(_linear(block, op, "linear", dims.dense_in, d))
        params = dims.dense_in * d + 2 * d
    elif op == "dot":
        p = dot_tokens(d)
        if dims.dense_in != e:
            ks.append(_linear(block, op, "dense_proj", dims.dense_in, e))
            params += dims.dense_in * e + 2 * e
        if dims.sparse_in != p:
            ks.append(_linear(block, op, "token_proj", dims.sparse_in, p, m=e))
            params += dims.sparse_in * p + 2 * p
        ks.append(Kernel(block, op, "interaction", m=p + 1, n=p + 1, k=e))
        pairs = p * (p + 1) // 2
        if pairs != d:
            ks.append(_linear(block, op, "out_proj", pairs, d))
            params += pairs * d
        params += 2 * d
    elif op == "gating":
        w = dims.in_width
        ks.append(_linear(block, op, "gate", w, w))
        params += w * w + w + 2 * d
        if w != d:
            ks.append(_linear(block, op, "out_proj", w, d))
            params += w * d + d
    elif op == "sum":
        w = dims.in_width
        params += 2 * d
        if w != d:
            ks.append(_linear(block, op, "out_proj", w, d))
            params += w * d
    elif op == "attention":
        t, h = d, NUM_HEADS
        ks.append(_linear(block, op, "token_proj", dims.sparse_in, t, m=e))
        ks.append(_linear(block, op, "in_proj", e, 3 * e, m=t))
        ks.append(Kernel(block, op, "scores", m=t, n=t, k=e // h, batch=h))
        ks.append(Kernel(block, op, "weighted_sum", m=t, n=e // h, k=t, batch=h))
        ks.append(_linear(block, op, "out_proj", e, e, m=t))
        ks.append(_linear(block, op, "ffn1", e, e, m=t))
        ks.append(_linear(block, op, "ffn2", e, e, m=t))
        params = dims.sparse_in * t + 2 * t + (3 * e * e + 3 * e) + (e * e + e) + 2 * e
        params += 2 * (e * e + e) + 2 * e
    elif op == "efc":
        ks.append(_linear(block, op, "token_proj", dims.sparse_in, d, m=e))
        params = dims.sparse_in * d + 2 * d
    elif op == "merge":
        n = MERGE_TOKENS * e
        if dims.in_width != n:
            ks.append(_linear(block, op, "proj", dims.in_width, n))
            params = dims.in_width * n + 2 * n
    elif op == "fm":
        params = 2 * d  # the layer norm, applied also when D = 16 (no projection)
        if d != e:
            ks.append(_linear(block, op, "proj", e, d))
            params = e * d + 2 * d
    elif op == "final":
        k = dims.dense_in + dims.sparse_in
        ks.append(_linear(block, op, "logit", k, 1))
        params = k + 1
    else:
        raise SpecError(f"op: {op!r} has no FLOPs model")
    return ks, params


def plan_kernels(plan: Plan, emb_dim: int = EMB_DIM) -> tuple[list[Kernel], list[OpCount]]:
    """All matrix products of a plan, in execution order, and per-operator counts."""
    kernels: list[Kernel] = []
    ops: list[OpCount] = []

    def add(block: int, op: str, dims: Dims) -> None:
        ks, params = op_kernels(block, op, dims, emb_dim)
        kernels.extend(ks)
        ops.append(OpCount(block, op, sum(k.flops for k in ks), params))

    for bp in plan.blocks:
        if bp is None:
            continue
        for name, dims in bp.dense_ops + bp.sparse_ops:
            add(bp.index, name, dims)
        if bp.merge is not None:
            add(bp.index, "merge", bp.merge)
        if bp.fm is not None:
            add(bp.index, "fm", bp.fm)
    add(-1, "final", plan.final)
    return kernels, ops


def count_flops(spec: SubnetSpec, schema_or_counts: Any = "criteo") -> FlopsReport:
    """FLOPs per sample, parameters and matrix-product shapes of ``spec`` on a data set
    (a DatasetSchema, a ``(n_dense, n_sparse)`` pair, or a data set name)."""
    nd, ns, cards = _counts(schema_or_counts)
    plan = make_plan(spec, nd, ns, emb_dim=spec.emb_dim)
    kernels, ops = plan_kernels(plan, spec.emb_dim)
    emb_params = int(sum(cards)) * spec.emb_dim if (cards is not None and plan.need_raw_sparse) else 0
    return FlopsReport(
        total_flops=sum(o.flops for o in ops),
        params_dense=sum(o.params for o in ops),
        params_embedding=emb_params,
        ops=tuple(ops),
        kernels=tuple(kernels),
        n_dense=nd,
        n_sparse=ns,
        blocks_reached=tuple(bp is not None for bp in plan.blocks),
    )
