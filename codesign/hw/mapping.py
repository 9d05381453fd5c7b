"""A subnet on a data set, with a PIM plan, as a :mod:`pimsim` workload.

:func:`subnet_graph` lists the kernels of a subnet per sample, with their dependencies;
:func:`map_subnet` turns them into a :class:`pimsim.workload.Workload` for a batch size and a
PIM plan (placement and data type of every table and kernel; :class:`KernelPlacement` says
what of the plan it reads).

Kernels and shapes are each operator's own steps (:meth:`codesign.nas.ops.base.Op.steps`)
over the subnet's execution plan (:func:`codesign.nas.plan.make_plan`), each step naming
what it reads: nothing is re-derived here and no operator is named, so the multiply-adds of
the workload equal ``batch x count_flops(spec).total_macs`` by construction
(:func:`workload_macs`; a test checks it on the NASRec reference subnets and random specs).

Mapping of one matrix product (per sample: ``batch`` products of ``m x k`` by ``k x n``):

- a product with a weight (``weight_elems > 0``): ``Gemm(m = B * m, k, n)`` whose weight
  ``k x n`` resides in memory (its id is the kernel name). A map over the token axis
  (EFC, token projections: ``m = 16`` embedding rows per sample) reads the tokens as a
  ``(B * 16, tokens)`` matrix; a per-token map (attention's ``in_proj``, ``out_proj``,
  ``ffn1``, ``ffn2``: ``m = t``) reads ``(B * t, 16)``.
- the dot-product's Gram matrix: ``Interaction(batch = B, tokens = p + 1, dim = 16,
  full_matrix = True)`` (the model computes ``torch.bmm(t, t^T)`` and keeps the strict lower
  triangle, as NASRec does and counts).
- attention's activation-by-activation products (``scores``, ``weighted_sum``, per head):
  ``Gemm(m = B * heads * t, k, n)`` whose "weight" is an activation of the same sample;
  such kernels carry ``activation_operand=True`` and are host-only (no PIM kind keeps
  activations resident; pimsim's kinds refuse them), see :attr:`MappedKernel.pim_capable_ops`.

Work that FLOPs do not count becomes ``Elementwise`` kernels: the element-wise steps of
the operators (the sigmoid gating, the sum operator) and the DeepFM residual (``sum`` of
the dense output and the FM term). Embedding lookups are one ``EmbeddingBag`` per sparse field
(``emb.<field>``), present only when some operator reads the raw sparse features.

Tensors crossing dependency edges change layout (tokens <-> features), so the workload is
built with ``check_shapes=False``; the shapes are checked here instead (every kernel's input
width equals the concatenated widths of what it reads when the product says so,
:attr:`~codesign.nas.ops.base.Product.matches_input`; see :func:`subnet_graph`).

Kernel names are stable for a spec: ``b<block>.<op>.<product>`` (``b3.attention.scores``),
``b<block>.<op>.<elementwise>`` (``b2.gating.mul``, ``b4.sum.add``, ``b1.fm.add``),
``final.logit`` and ``emb.<field>``. A PIM plan names kernels by them, and operators by the
names' prefix (:attr:`MappedKernel.op_key`: ``b3.attention``, ``b1.fm``, ``final``), whose
precision every kernel of the operator runs at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from codesign.errors import CodesignError, SpecError
from codesign.nas.flops import MatMul, feature_counts, meta_op, plan_products
from codesign.nas.ops import FM, PORT_SIDE, Elementwise, Product, Sizes, Step
from codesign.nas.plan import OpCall, make_plan
from codesign.nas.space import SubnetSpec, spec_hash
from pimsim import EmbeddingBag, Gemm, Interaction, Table, Workload
from pimsim import Elementwise as ElementwiseKernel
from pimsim.util.rng import DEFAULT_ZIPF_S

__all__ = [
    "MappedKernel",
    "KernelPlacement",
    "SubnetGraph",
    "subnet_graph",
    "map_subnet",
    "workload_macs",
    "DEFAULT_POOLING",
    "DEFAULT_ZIPF_S",
]

#: Lookups per bag when the data set has one categorical value per field (Criteo, Avazu,
#: KDD 2012 are one-hot per field).
DEFAULT_POOLING = 1


@dataclass(frozen=True)
class MappedKernel:
    """One kernel of a subnet, per sample.

    ``kind`` is the pimsim op (``gemm``, ``interaction``, ``elementwise``); ``rows`` the
    rows per sample of a ``gemm`` (``batch x m`` of the matrix product), ``k``/``n`` its inner
    and output widths; for ``interaction`` ``rows`` = tokens and ``k`` = token width; for
    ``elementwise`` ``n`` = width, ``inputs`` = operands, ``fn`` = function. ``weighted``:
    the product reads a resident weight matrix. ``deps``: names of the kernels it waits for
    (``emb.<field>`` for raw sparse features). ``source``: the matrix product it came from.
    """

    name: str
    block: int
    op: str
    part: str
    kind: str
    rows: int
    k: int
    n: int
    weighted: bool = False
    fn: str | None = None
    inputs: int = 1
    deps: tuple[str, ...] = ()
    source: MatMul | None = None

    #: pimsim ops that a PIM kind might run for this kernel (activation products: none).
    @property
    def pim_capable_ops(self) -> tuple[str, ...]:
        if self.kind == "gemm":
            return ("gemm",) if self.weighted else ()
        if self.kind == "elementwise":
            return ("elementwise",)
        return ()

    @property
    def op_key(self) -> str:
        """The operator this kernel belongs to: ``b<block>.<op>``, ``final`` for the
        logit layer (the kernel's name without its last part)."""
        return f"b{self.block}.{self.op}" if self.block >= 0 else self.op

    @property
    def macs_per_sample(self) -> int:
        if self.kind == "gemm":
            return self.rows * self.k * self.n
        if self.kind == "interaction":
            return self.rows * self.rows * self.k
        return 0


@dataclass(frozen=True)
class SubnetGraph:
    """The kernels of a subnet on a data set, in a topological order."""

    spec: SubnetSpec
    kernels: tuple[MappedKernel, ...]
    tables: tuple[str, ...]  # sparse field names, in schema order
    cardinalities: tuple[int, ...]
    emb_dim: int
    uses_embeddings: bool
    total_macs: int  # codesign.nas.flops multiply-adds per sample

    def by_name(self) -> dict[str, MappedKernel]:
        return {k.name: k for k in self.kernels}


class KernelPlacement(Protocol):
    """What :func:`map_subnet` needs of a PIM plan (``codesign.hw.placement.PimPlan``)."""

    def check_against(self, graph: SubnetGraph, profile: Any = None) -> None: ...

    def table_dtype(self, field: str, profile: Any = None) -> str: ...

    def kernel_dtype(self, kernel: MappedKernel, profile: Any = None) -> str: ...

    def dense_placement(self, name: str) -> str: ...

    def table_placement(self, field: str) -> str: ...


def _schema_parts(schema: Any) -> tuple[int, int, tuple[str, ...], tuple[int, ...]]:
    nd, ns, cards = feature_counts(schema)
    names = tuple(getattr(schema, "sparse_names", ())) or tuple(f"C{i + 1}" for i in range(ns))
    if cards is None:
        raise SpecError(
            f"schema: {schema!r} gives no table sizes; accepted: a DatasetSchema (or data set "
            "name) with cardinalities, or (n_dense, n_sparse, cardinalities)"
        )
    cards = tuple(int(c) for c in cards)
    if len(cards) != ns or len(names) != ns:
        raise SpecError(f"schema: {ns} sparse fields but {len(cards)} cardinalities")
    return nd, ns, names, cards


#: What an operator's port reads: the producing kernels and their width along the
#: contraction axis (features for dense inputs, tokens for sparse ones).
Port = tuple[list[str], int]


class _Builder:
    """Collects the kernels of one subnet, operator by operator."""

    def __init__(self) -> None:
        self.out: list[MappedKernel] = []

    def _kernel(self, block: int, op: str, step: Step, deps: list[str]) -> MappedKernel:
        name = f"b{block}.{op}.{step.name}" if block >= 0 else f"{op}.{step.name}"
        unique = tuple(dict.fromkeys(deps))
        if isinstance(step, Elementwise):
            return MappedKernel(name=name, block=block, op=op, part=step.name, kind="elementwise",
                                rows=1, k=step.width, n=step.width, fn=step.fn,
                                inputs=len(step.reads), deps=unique)
        source = MatMul(block, op, step)
        if step.gram:
            return MappedKernel(name=name, block=block, op=op, part=step.name,
                                kind="interaction", rows=step.m, k=step.k, n=step.n,
                                deps=unique, source=source)
        return MappedKernel(name=name, block=block, op=op, part=step.name, kind="gemm",
                            rows=step.batch * step.m, k=step.k, n=step.n,
                            weighted=step.weight_elems > 0, deps=unique, source=source)

    def op(self, block: int, call: OpCall, sizes: Sizes, ports: Mapping[str, Port]) -> list[str]:
        """Add the kernels of one operator run; return the kernels that produce its output
        (those of its first port when it has no step of its own)."""
        steps = meta_op(call.op, sizes).steps(call.dims)
        if not steps:
            return list(ports[call.op.reads[0]][0])
        made: dict[str, Port] = {}
        for step in steps:
            deps: list[str] = []
            width = 0
            for r in step.reads:
                producers, w = made[r] if r in made else ports[r]
                deps += producers
                width += w
            if isinstance(step, Product) and step.matches_input and width != step.k:
                raise CodesignError(
                    f"mapping: block {block} {call.name}.{step.name}: input width {width} "
                    f"does not match k = {step.k} of the operator's product"
                )
            mk = self._kernel(block, call.name, step, deps)
            self.out.append(mk)
            made[step.name] = ([mk.name], step.out_width)
        return made[steps[-1].name][0]

    def residual(self, block: int, width: int, dense: list[str], fm: list[str]) -> list[str]:
        """The DeepFM residual: the block's dense output plus the FM term."""
        mk = self._kernel(block, FM.name, Elementwise("add", "sum", width, ("dense", "fm")),
                          dense + fm)
        self.out.append(mk)
        return [mk.name]


def subnet_graph(spec: SubnetSpec, schema: Any) -> SubnetGraph:
    """The kernels of ``spec`` on ``schema`` (a DatasetSchema, a data set name, or
    ``(n_dense, n_sparse, cardinalities)``), per sample, with dependencies."""
    nd, ns, names, cards = _schema_parts(schema)
    e = spec.emb_dim
    plan = make_plan(spec, nd, ns, emb_dim=e)
    total_macs = sum(k.macs for k in plan_products(plan)[0])
    b = _Builder()
    # producers of each source's dense / sparse output, and its width (dense: features,
    # sparse: tokens)
    prods: dict[str, dict[int, list[str]]] = {
        "dense": {0: []},
        "sparse": {0: [f"emb.{f}" for f in names] if plan.need_raw_sparse else []},
    }
    widths: dict[str, dict[int, int]] = {"dense": {0: nd}, "sparse": {0: ns}}

    def ports(c: OpCall) -> dict[str, Port]:
        out: dict[str, Port] = {}
        for port, srcs in c.inputs:
            side = PORT_SIDE[port]
            out[port] = ([k for j in srcs for k in prods[side][j]],
                         sum(widths[side][j] for j in srcs))
        return out

    for bp in plan.blocks:
        if bp is None:
            continue
        i = bp.index
        sizes = plan.geometry.block_sizes(i)
        dense_out: list[str] = []
        for c in bp.dense_ops:
            dense_out = b.op(i, c, sizes, ports(c))
        sparse_out: list[str] = []
        for c in bp.sparse_ops:
            sparse_out = b.op(i, c, sizes, ports(c))
        if bp.need_sparse:
            merged: list[str] = []
            if bp.merge is not None:
                merged = b.op(i, bp.merge, sizes, {"dense": (dense_out, bp.width)})
            prods["sparse"][i + 1] = sparse_out + merged
            widths["sparse"][i + 1] = bp.out_tokens
        if bp.need_dense:
            d = dense_out
            if bp.fm is not None:
                fm = b.op(i, bp.fm, sizes, {"sparse": (sparse_out, e)})
                d = b.residual(i, bp.width, dense_out, fm)
            prods["dense"][i + 1] = d
            widths["dense"][i + 1] = bp.width
    last = len(plan.blocks)
    b.op(-1, plan.final, plan.geometry.final_sizes(),
         {"dense": (prods["dense"][last], 0), "sparse": (prods["sparse"][last], 0)})
    graph = SubnetGraph(
        spec=spec, kernels=tuple(b.out), tables=names, cardinalities=cards, emb_dim=e,
        uses_embeddings=plan.need_raw_sparse, total_macs=total_macs,
    )
    got = sum(k.macs_per_sample for k in graph.kernels)
    if got != total_macs:  # every product of the plan, each mapped once
        raise CodesignError(
            f"mapping: {got} multiply-adds per sample mapped but the plan's products count "
            f"{total_macs}"
        )
    return graph


def map_subnet(
    spec: SubnetSpec,
    schema: Any,
    plan: KernelPlacement | None = None,
    *,
    batch: int = 256,
    pooling: int | Sequence[int] | None = None,
    zipf_s: float = DEFAULT_ZIPF_S,
    profile: Any = None,
) -> Workload:
    """The pimsim workload of ``spec`` on ``schema`` for ``batch`` samples.

    ``plan`` places kernels and gives each its data type (None: everything on the host,
    fp32): a table its ``dtype``, a dense kernel its operator's precision, and where the
    plan leaves them open fp32 on the host and the plan's PIM data type on PIM (its
    ``dtype`` knob, else the profile's PIM ``dtype``; ``profile`` is needed only when the
    plan has no ``dtype`` knob and leaves the type of something on PIM open).
    ``pooling``: lookups per bag, one value or one per sparse field (default 1).
    """
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise SpecError(f"batch: {batch!r}; accepted: an integer >= 1")
    graph = subnet_graph(spec, schema)
    n_tables = len(graph.tables)
    if pooling is None:
        pools = [DEFAULT_POOLING] * n_tables
    elif isinstance(pooling, int) and not isinstance(pooling, bool):
        pools = [pooling] * n_tables
    else:
        pools = [int(p) for p in pooling]
        if len(pools) != n_tables:
            raise SpecError(
                f"pooling: {len(pools)} values; accepted: one integer or one per sparse field "
                f"({n_tables})"
            )
    if any(p < 1 for p in pools):
        raise SpecError(f"pooling: {pools}; accepted: integers >= 1")
    if plan is not None:
        plan.check_against(graph, profile)

    def place_dense(name: str) -> str:
        return plan.dense_placement(name) if plan is not None else "host"

    tables: dict[str, Table] = {}
    kernels: list[Any] = []
    deps: dict[str, list[str]] = {}
    if graph.uses_embeddings:
        for field, rows, pool in zip(graph.tables, graph.cardinalities, pools):
            pl = plan.table_placement(field) if plan is not None else "host"
            dt = plan.table_dtype(field, profile) if plan is not None else "fp32"
            try:
                tables[field] = Table(rows=rows, dim=graph.emb_dim, dtype=dt)
            except ValidationError as exc:  # a type pimsim's tables do not take
                raise SpecError(f"plan.tables.{field}.dtype: {dt!r}: pimsim's tables refuse "
                                f"it ({exc.errors()[0]['msg']}); accepted: one of those") from None
            kernels.append(EmbeddingBag(name=f"emb.{field}", table=field, batch=batch,
                                        pooling=pool, distribution="zipf", zipf_s=zipf_s,
                                        placement=pl))
    for mk in graph.kernels:
        pl = place_dense(mk.name)
        dt = plan.kernel_dtype(mk, profile) if plan is not None else "fp32"
        if mk.kind == "gemm":
            # no weight id: equal shapes share one signature, so the engine's cost cache
            # simulates a repeated product once
            kernels.append(Gemm(name=mk.name, m=batch * mk.rows, n=mk.n, k=mk.k, dtype=dt,
                                activation_operand=not mk.weighted, placement=pl))
        elif mk.kind == "interaction":
            kernels.append(Interaction(name=mk.name, batch=batch, tokens=mk.rows, dim=mk.k,
                                       dtype=dt, full_matrix=True, placement=pl))
        else:
            assert mk.fn is not None
            kernels.append(ElementwiseKernel(name=mk.name, fn=mk.fn, m=batch, n=mk.n,
                                              inputs=mk.inputs, dtype=dt, placement=pl))
        if mk.deps:
            deps[mk.name] = list(dict.fromkeys(mk.deps))
    return Workload(
        name=f"subnet-{spec_hash(spec)[:12]}-{getattr(schema, 'name', schema)!s}-b{batch}",
        tables=tables, kernels=kernels, deps=deps, check_shapes=False,
    )


def workload_macs(workload: Workload) -> int:
    """Multiply-adds of a workload's matrix products (the NASRec FLOPs convention x batch)."""
    return int(sum(k.macs() for k in workload.kernels))
