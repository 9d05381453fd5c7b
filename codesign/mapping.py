"""A subnet on a data set, with a PIM plan, as a :mod:`pimsim` workload.

:func:`subnet_graph` lists the kernels of a subnet per sample, with their dependencies;
:func:`map_subnet` turns them into a :class:`pimsim.workload.Workload` for a batch size and a
:class:`codesign.plan.PimPlan` (placement and data type of every kernel).

Kernels and shapes come from :mod:`codesign.flops` (``op_kernels`` over the supernet's
execution plan :func:`codesign.supernet.make_plan`): nothing is re-derived here, so the
multiply-adds of the workload equal ``batch x count_flops(spec).total_flops`` by construction
(:func:`workload_macs`; a test checks it on the NASRec reference subnets and random specs).

Mapping of one FLOPs kernel (per sample: ``batch`` products of ``m x k`` by ``k x n``):

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
  such kernels are host-only (no PIM kind keeps activations resident), see
  :attr:`MappedKernel.pim_capable_ops`.

Work that FLOPs do not count becomes ``Elementwise`` kernels: the sigmoid gating
(``gating``, 2 inputs), the sum operator (``sum``), and the DeepFM residual (``sum`` of the
dense output and the FM term). Embedding lookups are one ``EmbeddingBag`` per sparse field
(``emb.<field>``), present only when some operator reads the raw sparse features.

Tensors crossing dependency edges change layout (tokens <-> features), so the workload is
built with ``check_shapes=False``; the shapes are checked here instead (every kernel's input
width equals the concatenated widths of what it reads; see :func:`subnet_graph`).

Kernel names are stable for a spec: ``b<block>.<op>.<product>`` (``b3.attention.scores``),
``b<block>.<op>.<elementwise>`` (``b2.gating.mul``, ``b4.sum.add``, ``b1.fm.add``),
``final.logit`` and ``emb.<field>``. A :class:`~codesign.plan.PimPlan` names kernels by them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codesign.errors import CodesignError, SpecError
from codesign.flops import Kernel as FlopsKernel
from codesign.flops import _counts, count_flops, op_kernels
from codesign.space import MERGE_TOKENS, SubnetSpec, spec_hash
from codesign.supernet import Plan, make_plan

if TYPE_CHECKING:  # pragma: no cover
    from pimsim.workload import Workload

    from codesign.plan import PimPlan

__all__ = [
    "MappedKernel",
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
#: Skew of embedding accesses (bounded Zipf, as the DRAMsim3 ``embed`` reference trace).
DEFAULT_ZIPF_S = 1.05


@dataclass(frozen=True)
class MappedKernel:
    """One kernel of a subnet, per sample.

    ``kind`` is the pimsim op (``gemm``, ``interaction``, ``elementwise``); ``rows`` the
    rows per sample of a ``gemm`` (``batch x m`` of the FLOPs kernel), ``k``/``n`` its inner
    and output widths; for ``interaction`` ``rows`` = tokens and ``k`` = token width; for
    ``elementwise`` ``n`` = width, ``inputs`` = operands, ``fn`` = function. ``weighted``:
    the product reads a resident weight matrix. ``deps``: names of the kernels it waits for
    (``emb.<field>`` for raw sparse features). ``source``: the FLOPs kernel it came from.
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
    source: FlopsKernel | None = None

    #: pimsim ops that a PIM kind might run for this kernel (activation products: none).
    @property
    def pim_capable_ops(self) -> tuple[str, ...]:
        if self.kind == "gemm":
            return ("gemm",) if self.weighted else ()
        if self.kind == "elementwise":
            return ("elementwise",)
        return ()

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
    total_flops: int  # codesign.flops per sample

    def dense_names(self) -> list[str]:
        return [k.name for k in self.kernels]

    def by_name(self) -> dict[str, MappedKernel]:
        return {k.name: k for k in self.kernels}


def _schema_parts(schema: Any) -> tuple[int, int, tuple[str, ...], tuple[int, ...]]:
    nd, ns, cards = _counts(schema)
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


class _Builder:
    def __init__(self, emb_dim: int) -> None:
        self.e = emb_dim
        self.out: list[MappedKernel] = []
        self.width: dict[str, int] = {}  # output width per sample (for shape checks)

    def add(self, mk: MappedKernel, out_width: int) -> str:
        self.out.append(mk)
        self.width[mk.name] = out_width
        return mk.name


def subnet_graph(spec: SubnetSpec, schema: Any) -> SubnetGraph:
    """The kernels of ``spec`` on ``schema`` (a DatasetSchema, a data set name, or
    ``(n_dense, n_sparse, cardinalities)``), per sample, with dependencies."""
    nd, ns, names, cards = _schema_parts(schema)
    e = spec.emb_dim
    plan: Plan = make_plan(spec, nd, ns, emb_dim=e)
    report = count_flops(spec, (nd, ns, cards))
    b = _Builder(e)
    # producers of each source's dense / sparse output, and its width (dense: features,
    # sparse: tokens)
    d_prod: dict[int, list[str]] = {0: []}
    s_prod: dict[int, list[str]] = {0: [f"emb.{f}" for f in names] if plan.need_raw_sparse else []}
    d_w: dict[int, int] = {0: nd}
    s_t: dict[int, int] = {0: ns}

    def cat(prods: dict[int, list[str]], srcs: Sequence[int]) -> list[str]:
        out: list[str] = []
        for j in sorted(srcs):
            out.extend(prods[j])
        return out

    def take(ks: list[FlopsKernel], part: str) -> FlopsKernel | None:
        for idx, k in enumerate(ks):
            if k.name == part:
                return ks.pop(idx)
        return None

    def gemm(i: int, op: str, k: FlopsKernel, deps: list[str], in_width: int | None) -> str:
        if in_width is not None and in_width != k.k:
            raise CodesignError(
                f"mapping: block {i} {op}.{k.name}: input width {in_width} does not match "
                f"k = {k.k} from codesign.flops"
            )
        name = f"b{i}.{op}.{k.name}" if i >= 0 else f"final.{k.name}"
        mk = MappedKernel(
            name=name, block=i, op=op, part=k.name, kind="gemm", rows=k.batch * k.m, k=k.k,
            n=k.n, weighted=k.weight_elems > 0, deps=tuple(deps), source=k,
        )
        return b.add(mk, k.n)

    def elementwise(i: int, op: str, part: str, fn: str, n: int, deps: list[str],
                    inputs: int) -> str:
        mk = MappedKernel(name=f"b{i}.{op}.{part}", block=i, op=op, part=part,
                          kind="elementwise", rows=1, k=n, n=n, fn=fn, inputs=inputs,
                          deps=tuple(deps))
        return b.add(mk, n)

    def done(i: int, op: str, ks: list[FlopsKernel]) -> None:
        if ks:
            raise CodesignError(
                f"mapping: block {i} op {op!r}: codesign.flops lists products "
                f"{[k.name for k in ks]} that the mapping does not know"
            )

    for bp in plan.blocks:
        if bp is None:
            continue
        i = bp.index
        dense_out: list[str] = []
        for op, dims in bp.dense_ops:
            ks, _ = op_kernels(i, op, dims, e)
            if op == "fc":
                k = take(ks, "linear")
                assert k is not None
                dense_out = [gemm(i, op, k, cat(d_prod, bp.dense_inputs),
                                  sum(d_w[j] for j in bp.dense_inputs))]
            elif op == "dot":
                x = cat(d_prod, bp.dense_inputs)
                y = cat(s_prod, bp.sparse_inputs)
                k = take(ks, "dense_proj")
                if k is not None:
                    x = [gemm(i, op, k, x, sum(d_w[j] for j in bp.dense_inputs))]
                k = take(ks, "token_proj")
                if k is not None:
                    y = [gemm(i, op, k, y, sum(s_t[j] for j in bp.sparse_inputs))]
                k = take(ks, "interaction")
                assert k is not None and k.m == k.n and k.k == e
                inter = MappedKernel(
                    name=f"b{i}.dot.interaction", block=i, op=op, part="interaction",
                    kind="interaction", rows=k.m, k=k.k, n=k.n, deps=tuple(x + y), source=k,
                )
                pairs = k.m * (k.m - 1) // 2
                last = b.add(inter, pairs)
                k = take(ks, "out_proj")
                if k is not None:
                    last = gemm(i, op, k, [last], pairs)
                dense_out = [last]
            elif op in ("gating", "sum"):
                w = dims.in_width
                left, right = d_prod[bp.left], d_prod[bp.right]
                if op == "gating":
                    k = take(ks, "gate")
                    assert k is not None
                    g = gemm(i, op, k, left, None)  # left is zero-padded to w
                    last = elementwise(i, op, "mul", "gating", w, [g, *right], 2)
                else:
                    last = elementwise(i, op, "add", "sum", w, list(dict.fromkeys(left + right)), 2)
                k = take(ks, "out_proj")
                if k is not None:
                    last = gemm(i, op, k, [last], w)
                dense_out = [last]
            else:
                raise CodesignError(f"mapping: block {i}: dense op {op!r} has no mapping")
            done(i, op, ks)
        sparse_out: list[str] = []
        for op, dims in bp.sparse_ops:
            ks, _ = op_kernels(i, op, dims, e)
            y = cat(s_prod, bp.sparse_inputs)
            t_in = sum(s_t[j] for j in bp.sparse_inputs)
            if op == "efc":
                k = take(ks, "token_proj")
                assert k is not None
                sparse_out = [gemm(i, op, k, y, t_in)]
            elif op == "attention":
                last = None
                for part in ("token_proj", "in_proj", "scores", "weighted_sum", "out_proj",
                             "ffn1", "ffn2"):
                    k = take(ks, part)
                    assert k is not None, part
                    if part == "token_proj":
                        last = gemm(i, op, k, y, t_in)
                    elif part == "weighted_sum":  # reads the scores and V (from in_proj)
                        last = gemm(i, op, k, [last, f"b{i}.attention.in_proj"], None)
                    else:
                        last = gemm(i, op, k, [last], None)
                sparse_out = [last]
            else:
                raise CodesignError(f"mapping: block {i}: sparse op {op!r} has no mapping")
            done(i, op, ks)
        if bp.need_sparse:
            merged: list[str] = []
            if bp.merge is not None:
                ks, _ = op_kernels(i, "merge", bp.merge, e)
                k = take(ks, "proj")
                merged = [gemm(i, "merge", k, dense_out, bp.width)] if k is not None else dense_out
                done(i, "merge", ks)
            s_prod[i + 1] = sparse_out + merged
            s_t[i + 1] = bp.tokens + (MERGE_TOKENS if bp.merge is not None else 0)
        if bp.need_dense:
            d = dense_out
            if bp.fm is not None:
                ks, _ = op_kernels(i, "fm", bp.fm, e)
                k = take(ks, "proj")
                fm = [gemm(i, "fm", k, sparse_out, e)] if k is not None else sparse_out
                d = [elementwise(i, "fm", "add", "sum", bp.width, dense_out + fm, 2)]
                done(i, "fm", ks)
            d_prod[i + 1] = d
            d_w[i + 1] = bp.width
    last = len(plan.blocks)
    ks, _ = op_kernels(-1, "final", plan.final, e)
    k = take(ks, "logit")
    assert k is not None
    gemm(-1, "final", k, d_prod[last] + s_prod[last], None)
    done(-1, "final", ks)
    graph = SubnetGraph(
        spec=spec, kernels=tuple(b.out), tables=names, cardinalities=cards, emb_dim=e,
        uses_embeddings=plan.need_raw_sparse, total_flops=report.total_flops,
    )
    got = sum(k.macs_per_sample for k in graph.kernels)
    if got != report.total_flops:  # the products of codesign.flops, each mapped once
        raise CodesignError(
            f"mapping: {got} multiply-adds per sample mapped but codesign.flops counts "
            f"{report.total_flops}"
        )
    return graph


def map_subnet(
    spec: SubnetSpec,
    schema: Any,
    plan: PimPlan | None = None,
    *,
    batch: int = 256,
    pooling: int | Sequence[int] | None = None,
    zipf_s: float = DEFAULT_ZIPF_S,
    profile: Any = None,
) -> Workload:
    """The pimsim workload of ``spec`` on ``schema`` for ``batch`` samples.

    ``plan`` places kernels (None: everything on the host, fp32); kernels on PIM use the
    plan's data type (its ``dtype`` knob, else the profile's PIM ``dtype``; ``profile`` is
    needed only when the plan has no ``dtype`` knob and puts something on PIM). ``pooling``:
    lookups per bag, one value or one per sparse field (default 1).
    """
    from pimsim.workload import EmbeddingBag, Elementwise, Gemm, Interaction, Table, Workload

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
        pim_dtype = plan.pim_dtype(profile)
    else:
        pim_dtype = "fp32"

    def place_dense(name: str) -> str:
        return plan.dense_placement(name) if plan is not None else "host"

    def dtype(placement: str) -> str:
        return pim_dtype if placement == "pim" else "fp32"

    tables: dict[str, Table] = {}
    kernels: list[Any] = []
    deps: dict[str, list[str]] = {}
    if graph.uses_embeddings:
        for field, rows, pool in zip(graph.tables, graph.cardinalities, pools):
            pl = plan.table_placement(field) if plan is not None else "host"
            tables[field] = Table(rows=rows, dim=graph.emb_dim, dtype=dtype(pl))
            kernels.append(EmbeddingBag(name=f"emb.{field}", table=field, batch=batch,
                                        pooling=pool, distribution="zipf", zipf_s=zipf_s,
                                        placement=pl))
    for mk in graph.kernels:
        pl = place_dense(mk.name)
        dt = dtype(pl)
        if mk.kind == "gemm":
            # no weight id: equal shapes share one signature, so the engine's cost cache
            # simulates a repeated product once
            kernels.append(Gemm(name=mk.name, m=batch * mk.rows, n=mk.n, k=mk.k, dtype=dt,
                                placement=pl))
        elif mk.kind == "interaction":
            kernels.append(Interaction(name=mk.name, batch=batch, tokens=mk.rows, dim=mk.k,
                                       dtype=dt, full_matrix=True, placement=pl))
        else:
            assert mk.fn is not None
            kernels.append(Elementwise(name=mk.name, fn=mk.fn, m=batch, n=mk.n,
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


@dataclass(frozen=True)
class SpecWorkload:
    """A picklable workload builder for pimsim's ``--spec`` hook (``pimsim simulate
    --spec`` and ``pimsim sweep --spec``): ``builder(profile) -> Workload``.

    ``spec`` and ``plan`` are JSON dicts (the spec in our format or NASRec's); ``dataset``
    names the schema whose published table sizes the tables get. The PIM data type of
    kernels on PIM follows the profile it is called with, and the plan's knobs are not
    applied here: a sweep owns the hardware parameters; ``pimsim simulate --spec`` applies
    them first with :meth:`profile_for`.
    """

    spec: Any
    dataset: str
    plan: Any = None
    batch: int = 256

    @classmethod
    def from_files(cls, spec_path: str, dataset: str, plan_path: str | None = None,
                   batch: int = 256) -> SpecWorkload:
        import json

        from codesign.space import load_spec, to_dict

        spec = to_dict(load_spec(spec_path))
        plan = None
        if plan_path is not None:
            from codesign.plan import load_plan

            plan = load_plan(plan_path).to_dict()
        from codesign.data.schema import get_schema

        get_schema(dataset)  # a clear error for an unknown data set
        return cls(json.loads(json.dumps(spec)), dataset, plan, batch)

    def _parts(self) -> tuple[SubnetSpec, Any, PimPlan | None]:
        from codesign.data.schema import get_schema
        from codesign.plan import PimPlan
        from codesign.space import from_dict

        plan = None if self.plan is None else PimPlan.from_dict(self.plan)
        return from_dict(self.spec), get_schema(self.dataset), plan

    @property
    def replicate_hot_rows(self) -> dict[str, int]:
        _, _, plan = self._parts()
        if plan is None:
            return {}
        return {f"emb.{f}": plan.hot_rows for f in plan.replicated_tables()}

    def profile_for(self, profile: Any) -> Any:
        """``profile`` with the plan's knobs applied."""
        from codesign.plan import apply_knobs

        from pimsim.errors import WorkloadError

        try:
            _, _, plan = self._parts()
            return profile if plan is None else apply_knobs(profile, plan)
        except CodesignError as exc:  # pimsim's CLI reports its own error family
            raise WorkloadError(str(exc)) from None

    def __call__(self, profile: Any) -> Workload:
        from pimsim.errors import WorkloadError

        try:
            spec, schema, plan = self._parts()
            if plan is not None and plan.knobs:
                plan = plan.model_copy(update={"knobs": {}})
            return map_subnet(spec, schema, plan, batch=self.batch, profile=profile)
        except CodesignError as exc:
            raise WorkloadError(str(exc)) from None
