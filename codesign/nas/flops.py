"""Analytic FLOPs, parameter counts and matrix-product shapes of a subnet.

Convention (the one of every FLOPs figure pimrec prints, :data:`FLOPS_CONVENTION`): a
multiply-add counts as 2 FLOPs, as pimsim's kernels and torch's FLOP counter count them;
what is counted follows NASRec: embedding lookups and element-wise work (activations, layer
norms, sums, the FM square terms, softmax) are not counted, operators whose output never
reaches the final logit are not counted, attention's matrix products (scores and weighted
sum) are. Numbers are per sample (pimsim's simulate totals are per batch). NASRec's own
README counts one FLOP per multiply-add, so its published MFLOPs compare with
:attr:`FlopsReport.total_macs`.

The products are each operator's own :meth:`~codesign.nas.ops.base.Op.products` over the
subnet's execution plan (:func:`codesign.nas.plan.make_plan`), and its parameters are the
sizes of the weights it slices (:meth:`~codesign.nas.ops.base.Op.param_count`, on a
meta-device copy of the operator: shapes only, no memory). NASRec's released Criteo
subnets count 1.448 M multiply-adds (Full; published 1.45 MFLOPs) and 2.208 M (Small;
published 2.20): ``tests/codesign/nas/test_flops.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import torch

from codesign.data.schema import get_schema
from codesign.errors import SpecError
from codesign.nas.ops import Dims, Op, Product, Sizes
from codesign.nas.plan import ExecutionPlan, OpCall, make_plan
from codesign.nas.space import SubnetSpec

#: Meta-device operators kept for counting: one per operator kind and block geometry.
_META_OPS = 512
#: Operator counts kept: one per operator kind, geometry and dimensions.
_OP_COUNTS = 65536
#: FLOPs of one multiply-add.
FLOPS_PER_MAC = 2
#: How every FLOPs figure is counted, as outputs name it.
FLOPS_CONVENTION = "2 FLOPs per multiply-add"


@dataclass(frozen=True)
class MatMul:
    """One matrix product of a subnet: operator ``op`` of block ``block`` (-1 = the logit
    layer) and the product itself, whose fields (name, shape, weight, flops) it shows."""

    block: int
    op: str
    product: Product

    @property
    def name(self) -> str:
        return self.product.name

    @property
    def macs(self) -> int:
        # Product.flops counts multiply-adds
        return self.product.flops

    @property
    def flops(self) -> int:
        return FLOPS_PER_MAC * self.macs

    def __getattr__(self, attr: str) -> Any:
        # m, n, k, batch, weight_elems: those of the product
        if attr.startswith("__") or attr == "product":  # copy and pickle probe before init
            raise AttributeError(attr)
        return getattr(self.product, attr)


@dataclass(frozen=True)
class OpCount:
    """FLOPs and parameters of one operator run (block -1 = the logit layer)."""

    block: int
    op: str
    macs: int
    params: int

    @property
    def flops(self) -> int:
        return FLOPS_PER_MAC * self.macs


@dataclass(frozen=True)
class FlopsReport:
    """Multiply-adds and FLOPs (:data:`FLOPS_CONVENTION`) per sample and parameters of one
    subnet on one data set."""

    total_macs: int
    params_dense: int
    params_embedding: int
    ops: tuple[OpCount, ...]
    #: Every matrix product, in execution order.
    kernels: tuple[MatMul, ...]
    n_dense: int
    n_sparse: int
    blocks_reached: tuple[bool, ...] = field(default=())

    @property
    def total_flops(self) -> int:
        return FLOPS_PER_MAC * self.total_macs

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
            "convention": f"FLOPs per sample, {FLOPS_CONVENTION}",
            "mflops": self.mflops,
            "total_flops": self.total_flops,
            "total_macs": self.total_macs,
            "params_dense": self.params_dense,
            "params_embedding": self.params_embedding,
            "per_block": {str(k): v for k, v in sorted(self.per_block().items())},
            "per_op": self.per_op(),
            "blocks_reached": list(self.blocks_reached),
            "kernels": [
                {"block": k.block, "op": k.op, "name": k.name, "m": k.m, "n": k.n, "k": k.k,
                 "batch": k.batch, "macs": k.macs, "flops": k.flops}
                for k in self.kernels
            ],
        }


def feature_counts(schema_or_counts: Any) -> tuple[int, int, Sequence[int] | None]:
    """(n_dense, n_sparse, cardinalities or None) from a schema, a (n_dense, n_sparse[,
    cardinalities]) tuple, or a data set name."""
    if isinstance(schema_or_counts, str):
        schema_or_counts = get_schema(schema_or_counts)
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


@lru_cache(maxsize=_META_OPS)
def meta_op(op: type[Op], sizes: Sizes) -> Op:
    """An operator on the meta device: its slices have the real shapes and hold no data."""
    with torch.device("meta"):
        return op(sizes)


@lru_cache(maxsize=_OP_COUNTS)
def op_counts(op: type[Op], sizes: Sizes, dims: Dims) -> tuple[tuple[Product, ...], int]:
    """The matrix products and the parameter count of one operator run."""
    meta = meta_op(op, sizes)
    return tuple(meta.products(dims)), meta.param_count(dims)


def plan_calls(plan: ExecutionPlan) -> Iterator[tuple[int, OpCall, Sizes]]:
    """Every operator run of ``plan`` in execution order, with its block (-1 = the logit
    layer) and the sizes of its weights."""
    g = plan.geometry
    for bp in plan.blocks:
        if bp is None:
            continue
        sizes = g.block_sizes(bp.index)
        for c in bp.calls():
            yield bp.index, c, sizes
    yield -1, plan.final, g.final_sizes()


def plan_products(plan: ExecutionPlan) -> tuple[list[MatMul], list[OpCount]]:
    """All matrix products of a plan, in execution order, and per-operator counts."""
    kernels: list[MatMul] = []
    ops: list[OpCount] = []
    for block, c, sizes in plan_calls(plan):
        products, params = op_counts(c.op, sizes, c.dims)
        kernels += [MatMul(block, c.name, p) for p in products]
        ops.append(OpCount(block, c.name, sum(p.flops for p in products), params))  # MACs
    return kernels, ops


def count_flops(spec: SubnetSpec, schema_or_counts: Any = "criteo") -> FlopsReport:
    """Multiply-adds and FLOPs per sample, parameters and matrix-product shapes of ``spec`` on a data set
    (a DatasetSchema, a ``(n_dense, n_sparse)`` pair, or a data set name)."""
    nd, ns, cards = feature_counts(schema_or_counts)
    plan = make_plan(spec, nd, ns, emb_dim=spec.emb_dim)
    kernels, ops = plan_products(plan)
    emb_params = 0
    if cards is not None and plan.need_raw_sparse:
        emb_params = int(sum(cards)) * spec.emb_dim
    return FlopsReport(
        total_macs=sum(o.macs for o in ops),
        params_dense=sum(o.params for o in ops),
        params_embedding=emb_params,
        ops=tuple(ops),
        kernels=tuple(kernels),
        n_dense=nd,
        n_sparse=ns,
        blocks_reached=tuple(bp is not None for bp in plan.blocks),
    )
