"""The NASRec-style weight-sharing supernet, and standalone subnets extracted from it.

``Supernet.forward(dense, sparse, spec)`` runs one subnet at its real widths (weight
slicing, see :mod:`codesign.ops`); only the operators whose output reaches the logit run
(the same rule the FLOPs count uses, :func:`codesign.space.required_outputs`).

``spec=None`` runs the whole supernet, as NASRec's warm-up ("full-path") does: in every block
all operators of the space run at the largest width (1024) and token count (64), the dense
operators' outputs are summed, and so are the sparse operators'; FC and dot-product read
the concatenation of all earlier outputs, the binary operators read the two most recent
dense outputs (left = block i's newest source ``i``, right = ``max(i - 1, 0)``: NASRec
concatenates all sources there, which has no weight-sliced equivalent), and every block
merges dense into sparse and applies DeepFM.

``extract(spec)`` returns a :class:`SubnetModel`: an nn.Module that owns copies of exactly the
sliced weights the subnet uses (and the embedding tables when it reads the raw sparse
features) and computes with the same functions, so its output equals the supernet's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor, nn

from codesign.errors import DataFormatError, SpecError
from codesign.ops import (
    Dims,
    ElasticAttention,
    ElasticDot,
    ElasticEFC,
    ElasticFC,
    ElasticFinal,
    ElasticFM,
    ElasticGating,
    ElasticMerge,
    ElasticSum,
    FrozenOp,
    Segment,
    init_parameters,
)
from codesign.space import (
    BINARY_DENSE_OPS,
    MERGE_TOKENS,
    SearchSpace,
    SubnetSpec,
    active_ops,
    get_space,
    required_outputs,
    validate,
)


class SchemaLike(Protocol):
    """What the supernet needs of a dataset schema (codesign.data.schema.DatasetSchema)."""

    @property
    def cardinalities(self) -> Sequence[int]: ...

    @property
    def dense_names(self) -> Sequence[str]: ...

    @property
    def sparse_names(self) -> Sequence[str]: ...


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class BlockPlan:
    """What one block runs for one subnet."""

    index: int
    dense_ops: tuple[tuple[str, Dims], ...]
    sparse_ops: tuple[tuple[str, Dims], ...]
    dense_inputs: tuple[int, ...]
    sparse_inputs: tuple[int, ...]
    left: int
    right: int
    width: int
    tokens: int
    merge: Dims | None
    fm: Dims | None
    need_dense: bool
    need_sparse: bool


@dataclass(frozen=True)
class Plan:
    blocks: tuple[BlockPlan | None, ...]
    final: Dims
    need_raw_dense: bool
    need_raw_sparse: bool


Caller = Callable[..., Tensor]


def run_plan(plan: Plan, dense: Tensor | None, tokens: Tensor | None, call: Caller) -> Tensor:
    """Execute ``plan``; ``call(block, op_name, *inputs, dims)`` runs one operator."""
    d_out: dict[int, Tensor] = {}
    s_out: dict[int, Tensor] = {}
    if dense is not None:
        d_out[0] = dense
    if tokens is not None:
        s_out[0] = tokens
    for bp in plan.blocks:
        if bp is None:
            continue
        i = bp.index
        d: Tensor | None = None
        s: Tensor | None = None
        if bp.dense_ops:
            outs = []
            for name, dims in bp.dense_ops:
                if name in BINARY_DENSE_OPS:
                    outs.append(call(i, name, d_out[bp.left], d_out[bp.right], dims))
                else:
                    x = _cat([d_out[j] for j in bp.dense_inputs], 1)
                    if name == "dot":
                        y = _cat([s_out[j] for j in bp.sparse_inputs], 1)
                        outs.append(call(i, name, x, y, dims))
                    else:
                        outs.append(call(i, name, x, dims))
            d = _sum(outs)
        if bp.sparse_ops:
            y = _cat([s_out[j] for j in bp.sparse_inputs], 1)
            s = _sum([call(i, name, y, dims) for name, dims in bp.sparse_ops])
        if bp.need_sparse:
            assert s is not None
            if bp.merge is not None:
                assert d is not None  # the merge reads the dense output before DeepFM
                s_out[i + 1] = torch.cat([s, call(i, "merge", d, bp.merge)], dim=1)
            else:
                s_out[i + 1] = s
        if bp.need_dense:
            assert d is not None
            if bp.fm is not None:
                assert s is not None
                d = d + call(i, "fm", s, bp.fm)
            d_out[i + 1] = d
    last = len(plan.blocks)
    return call(-1, "final", d_out[last], s_out[last], plan.final)


def _dense_cols(srcs: Sequence[int], widths: Sequence[int]) -> tuple[Segment, ...]:
    return tuple((j, 0, widths[j]) for j in sorted(srcs))


def _sparse_cols(
    srcs: Sequence[int], tokens: Sequence[int], merged: Sequence[bool], max_tokens: int
) -> tuple[Segment, ...]:
    """Token ranges of a sparse concatenation: a block's own tokens sit at 0..T-1 of its
    source piece, its merged dense tokens at max_tokens..max_tokens+7."""
    cols: list[Segment] = []
    for j in sorted(srcs):
        cols.append((j, 0, tokens[j]))
        if merged[j]:
            cols.append((j, max_tokens, MERGE_TOKENS))
    return tuple(cols)


def make_plan(
    spec: SubnetSpec,
    n_dense: int,
    n_sparse: int,
    *,
    space: str | SearchSpace | None = None,
    emb_dim: int = 16,
    max_tokens: int = 64,
) -> Plan:
    """The execution plan of ``spec`` on data with ``n_dense`` dense and ``n_sparse`` sparse
    features: which operators run (those whose output reaches the logit) at which
    dimensions. The supernet, the extracted subnet and the FLOPs count all read it."""
    validate(spec, space if space is not None else spec.space)
    if spec.emb_dim != emb_dim:
        raise SpecError(f"emb_dim: {spec.emb_dim}; accepted: {emb_dim}")
    need = required_outputs(spec)
    widths = [n_dense] + [b.dense_width for b in spec.blocks]
    tokens = [n_sparse] + [b.sparse_tokens for b in spec.blocks]
    merged = [False] + [b.dense_to_sparse for b in spec.blocks]
    plans: list[BlockPlan | None] = []
    for i, b in enumerate(spec.blocks):
        nd, ns = need[i + 1]
        if not (nd or ns):
            plans.append(None)
            continue
        run_dense, run_sparse = active_ops(b, nd, ns)
        dcols = _dense_cols(b.dense_inputs, widths)
        scols = _sparse_cols(b.sparse_inputs, tokens, merged, max_tokens)
        dense_ops: tuple[tuple[str, Dims], ...] = ()
        if run_dense:
            if b.dense_op in BINARY_DENSE_OPS:
                w = max(widths[b.dense_left], widths[b.dense_right])
                dims = Dims(out=b.dense_width, in_width=w)
            elif b.dense_op == "dot":
                dims = Dims(out=b.dense_width, dense_cols=dcols, sparse_cols=scols)
            else:
                dims = Dims(out=b.dense_width, dense_cols=dcols)
            dense_ops = ((b.dense_op, dims),)
        sparse_ops: tuple[tuple[str, Dims], ...] = ()
        if run_sparse:
            sparse_ops = ((b.sparse_op, Dims(out=b.sparse_tokens, sparse_cols=scols)),)
        plans.append(
            BlockPlan(
                index=i,
                dense_ops=dense_ops,
                sparse_ops=sparse_ops,
                dense_inputs=tuple(sorted(b.dense_inputs)),
                sparse_inputs=tuple(sorted(b.sparse_inputs)),
                left=b.dense_left,
                right=b.dense_right,
                width=b.dense_width,
                tokens=b.sparse_tokens,
                merge=Dims(out=MERGE_TOKENS, in_width=b.dense_width)
                if (ns and b.dense_to_sparse)
                else None,
                fm=Dims(out=b.dense_width) if (nd and b.deep_fm) else None,
                need_dense=nd,
                need_sparse=ns,
            )
        )
    last = spec.blocks[-1]
    sparse_final: tuple[Segment, ...] = ((0, 0, last.sparse_tokens * emb_dim),)
    if last.dense_to_sparse:
        sparse_final += ((0, max_tokens * emb_dim, MERGE_TOKENS * emb_dim),)
    final = Dims(
        out=1,
        dense_cols=((0, 0, last.dense_width),),
        sparse_cols=sparse_final,
        heads=(last.dense_op, last.sparse_op),
    )
    return Plan(
        blocks=tuple(plans), final=final, need_raw_dense=need[0][0], need_raw_sparse=need[0][1]
    )


def _cat(xs: list[Tensor], dim: int) -> Tensor:
    return xs[0] if len(xs) == 1 else torch.cat(xs, dim=dim)


def _sum(xs: list[Tensor]) -> Tensor:
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


# --------------------------------------------------------------------------- supernet


class Supernet(nn.Module):
    """Weight-sharing supernet over a NASRec search space for one dataset schema."""

    def __init__(
        self,
        schema: SchemaLike,
        space: str | SearchSpace = "full",
        emb_dim: int = 16,
        num_blocks: int = 7,
        max_dense: int = 1024,
        max_tokens: int = 64,
        seed: int = 0,
        sparse_embedding: bool = False,
    ) -> None:
        """``sparse_embedding=True`` gives the embedding table sparse gradients (only the
        looked-up rows; torch Adagrad/SGD without weight decay and without ``fused`` accept
        them): a dense gradient of a large table costs a full-table write per step."""
        super().__init__()
        self.sparse_embedding = bool(sparse_embedding)
        self.space = get_space(space)
        if emb_dim != self.space.emb_dim:
            raise SpecError(f"emb_dim: {emb_dim}; accepted: {self.space.emb_dim}")
        if num_blocks != self.space.num_blocks:
            raise SpecError(f"num_blocks: {num_blocks}; accepted: {self.space.num_blocks}")
        if max_dense != max(self.space.dense_widths):
            raise SpecError(f"max_dense: {max_dense}; accepted: {max(self.space.dense_widths)}")
        if max_tokens != max(self.space.token_counts):
            raise SpecError(f"max_tokens: {max_tokens}; accepted: {max(self.space.token_counts)}")
        cards = [int(c) for c in schema.cardinalities]
        self.n_dense = len(schema.dense_names)
        self.n_sparse = len(schema.sparse_names)
        if len(cards) != self.n_sparse or any(c < 1 for c in cards):
            raise DataFormatError(
                f"schema.cardinalities: {cards!r}; accepted: one positive count per sparse "
                f"feature ({self.n_sparse})"
            )
        if self.n_dense < 1 or self.n_sparse < 1:
            raise DataFormatError(
                f"schema: {self.n_dense} dense and {self.n_sparse} sparse features; "
                "accepted: at least one of each"
            )
        self.emb_dim = emb_dim
        self.num_blocks = num_blocks
        self.max_dense = max_dense
        self.max_tokens = max_tokens
        self.cardinalities = tuple(cards)
        self.seed = seed

        self._build()
        self.reset_parameters(seed)
        self._plans: dict[SubnetSpec | None, Plan] = {}

    def reset_parameters(self, seed: int) -> None:
        """Initialise all parameters from ``seed`` (a private torch.Generator): embedding
        tables Xavier-normal per table, operators by :func:`codesign.ops.init_parameters`."""
        gen = torch.Generator(device="cpu").manual_seed(int(seed))
        init_parameters(self.blocks, gen)
        init_parameters(self.final, gen)
        e = self.emb_dim
        with torch.no_grad():
            start = 0
            for c in self.cardinalities:  # NASRec: xavier-normal per table
                std = (2.0 / (c + e)) ** 0.5
                nn.init.normal_(self.embedding.weight[start : start + c], 0.0, std, generator=gen)
                start += c

    def _build(self) -> None:
        e = self.emb_dim
        total = sum(self.cardinalities)
        self.embedding = nn.Embedding(
            total, e, _weight=torch.zeros(total, e), sparse=self.sparse_embedding
        )
        offsets = np.concatenate([[0], np.cumsum(self.cardinalities)[:-1]]).astype(np.int64)
        self.register_buffer("offsets", torch.as_tensor(offsets), persistent=False)
        self.register_buffer(
            "cards", torch.as_tensor(self.cardinalities, dtype=torch.int64), persistent=False
        )
        src_tokens = self.max_tokens + MERGE_TOKENS
        blocks = []
        for i in range(self.num_blocks):
            dense_src = [self.n_dense] + [self.max_dense] * i
            sparse_src = [self.n_sparse] + [src_tokens] * i
            max_in = max(self.max_dense, self.n_dense)
            ops: dict[str, nn.Module] = {}
            for name in self.space.dense_ops:
                if name == "fc":
                    ops[name] = ElasticFC(dense_src, self.max_dense)
                elif name == "dot":
                    ops[name] = ElasticDot(dense_src, sparse_src, self.max_dense, e)
                elif name == "gating":
                    ops[name] = ElasticGating(max_in, self.max_dense)
                elif name == "sum":
                    ops[name] = ElasticSum(max_in, self.max_dense)
            for name in self.space.sparse_ops:
                if name == "attention":
                    ops[name] = ElasticAttention(sparse_src, self.max_tokens, e)
                elif name == "efc":
                    ops[name] = ElasticEFC(sparse_src, self.max_tokens)
            ops["merge"] = ElasticMerge(self.max_dense, MERGE_TOKENS, e)
            ops["fm"] = ElasticFM(e, self.max_dense)
            blocks.append(nn.ModuleDict(ops))
        self.blocks = nn.ModuleList(blocks)
        self.final = ElasticFinal(
            self.max_dense, src_tokens * e, self.space.dense_ops, self.space.sparse_ops
        )

    # ----------------------------------------------------------------- plans

    def plan(self, spec: SubnetSpec | None) -> Plan:
        """The (cached) execution plan of ``spec``; None = the whole supernet."""
        p = self._plans.get(spec)
        if p is None:
            p = (
                make_plan(
                    spec,
                    self.n_dense,
                    self.n_sparse,
                    space=self.space,
                    emb_dim=self.emb_dim,
                    max_tokens=self.max_tokens,
                )
                if spec is not None
                else self._full_plan()
            )
            if len(self._plans) > 4096:
                self._plans.clear()
            self._plans[spec] = p
        return p

    def _full_plan(self) -> Plan:
        n = self.num_blocks
        widths = [self.n_dense] + [self.max_dense] * n
        tokens = [self.n_sparse] + [self.max_tokens] * n
        merged = [False] + [True] * n
        plans: list[BlockPlan | None] = []
        for i in range(n):
            srcs = tuple(range(i + 1))
            dcols = _dense_cols(srcs, widths)
            scols = _sparse_cols(srcs, tokens, merged, self.max_tokens)
            left, right = i, max(i - 1, 0)
            dense_ops = []
            for name in self.space.dense_ops:
                if name in BINARY_DENSE_OPS:
                    dims = Dims(out=self.max_dense, in_width=max(widths[left], widths[right]))
                elif name == "dot":
                    dims = Dims(out=self.max_dense, dense_cols=dcols, sparse_cols=scols)
                else:
                    dims = Dims(out=self.max_dense, dense_cols=dcols)
                dense_ops.append((name, dims))
            sparse_ops = tuple(
                (name, Dims(out=self.max_tokens, sparse_cols=scols)) for name in self.space.sparse_ops
            )
            plans.append(
                BlockPlan(
                    index=i,
                    dense_ops=tuple(dense_ops),
                    sparse_ops=sparse_ops,
                    dense_inputs=srcs,
                    sparse_inputs=srcs,
                    left=left,
                    right=right,
                    width=self.max_dense,
                    tokens=self.max_tokens,
                    merge=Dims(out=MERGE_TOKENS, in_width=self.max_dense),
                    fm=Dims(out=self.max_dense),
                    need_dense=True,
                    need_sparse=True,
                )
            )
        e = self.emb_dim
        final = Dims(
            out=1,
            dense_cols=((0, 0, self.max_dense),),
            sparse_cols=((0, 0, (self.max_tokens + MERGE_TOKENS) * e),),
            heads=tuple(self.space.dense_ops) + tuple(self.space.sparse_ops),
        )
        return Plan(blocks=tuple(plans), final=final, need_raw_dense=True, need_raw_sparse=True)

    # ----------------------------------------------------------------- forward

    def check_inputs(self, dense: Tensor, sparse: Tensor) -> None:
        """Raise DataFormatError unless the batch matches the schema."""
        if dense.dim() != 2 or dense.shape[1] != self.n_dense:
            raise DataFormatError(
                f"dense: shape {tuple(dense.shape)}; accepted: [batch, {self.n_dense}]"
            )
        if sparse.dim() != 2 or sparse.shape[1] != self.n_sparse or sparse.shape[0] != dense.shape[0]:
            raise DataFormatError(
                f"sparse: shape {tuple(sparse.shape)}; accepted: [{dense.shape[0]}, {self.n_sparse}]"
            )
        if sparse.dtype not in (torch.int64, torch.int32):
            raise DataFormatError(f"sparse: dtype {sparse.dtype}; accepted: int64")

    def embed(self, sparse: Tensor) -> Tensor:
        """[B, n_sparse] category ids (0 = missing) -> [B, n_sparse, emb_dim] tokens."""
        bad = (sparse < 0) | (sparse >= self.cards)
        if bool(bad.any()):
            r, c = (int(v) for v in bad.nonzero()[0])
            raise DataFormatError(
                f"sparse[{r}, {c}]: id {int(sparse[r, c])} out of range; accepted: "
                f"0..{self.cardinalities[c] - 1} (schema cardinality {self.cardinalities[c]})"
            )
        return self.embedding(sparse.long() + self.offsets)

    def _call(self, block: int, name: str, *args: Any) -> Tensor:
        if block < 0:
            return self.final(*args)
        return self.blocks[block][name](*args)

    def forward(self, dense: Tensor, sparse: Tensor, spec: SubnetSpec | None = None) -> Tensor:
        """Logits [B] of the subnet ``spec`` (None: the whole supernet)."""
        self.check_inputs(dense, sparse)
        plan = self.plan(spec)
        tokens = self.embed(sparse) if plan.need_raw_sparse else None
        return run_plan(plan, dense if plan.need_raw_dense else None, tokens, self._call)

    # ----------------------------------------------------------------- subnets

    def _sliced_weights(self, spec: SubnetSpec | None) -> dict[str, dict[str, Tensor]]:
        plan = self.plan(spec)
        out: dict[str, dict[str, Tensor]] = {}
        for bp in plan.blocks:
            if bp is None:
                continue
            ops = self.blocks[bp.index]
            for name, dims in bp.dense_ops + bp.sparse_ops:
                out[f"{bp.index}.{name}"] = ops[name].sliced(dims)
            if bp.merge is not None:
                out[f"{bp.index}.merge"] = ops["merge"].sliced(bp.merge)
            if bp.fm is not None:
                out[f"{bp.index}.fm"] = ops["fm"].sliced(bp.fm)
        out["final"] = self.final.sliced(plan.final)
        return out

    def extract(self, spec: SubnetSpec) -> SubnetModel:
        """A standalone model with copies of the weights ``spec`` uses; same outputs."""
        plan = self.plan(spec)
        with torch.no_grad():
            weights = self._sliced_weights(spec)
        ops: dict[str, FrozenOp] = {}
        for key, w in weights.items():
            kind = key.split(".")[-1]
            static = {"tokens": MERGE_TOKENS, "emb_dim": self.emb_dim} if kind == "merge" else {}
            ops[key.replace(".", "_")] = FrozenOp(kind, w, **static)
        emb = None
        if plan.need_raw_sparse:
            emb = nn.Embedding(
                self.embedding.num_embeddings,
                self.emb_dim,
                _weight=self.embedding.weight.detach().clone(),
                sparse=self.sparse_embedding,
            )
        model = SubnetModel(
            spec=spec,
            plan=plan,
            ops=ops,
            embedding=emb,
            cardinalities=self.cardinalities,
            n_dense=self.n_dense,
        )
        return model.to(self.embedding.weight.device)

    def final_layer_parameters(self, spec: SubnetSpec | None = None) -> list[nn.Parameter]:
        """The parameters of the logit layer that ``spec`` reads (the weight rows of its last
        block's dense and sparse operator, and the bias; all rows for None), for head
        fine-tuning. A subnet reads the columns of its last block's widths."""
        heads = self.plan(spec).final.heads
        rows = [p for op, p in self.final.dense_weight.items() if op in heads]
        rows += [p for op, p in self.final.sparse_weight.items() if op in heads]
        return [*rows, self.final.bias]

    def subnet_parameter_masks(self, spec: SubnetSpec | None) -> dict[str, Tensor]:
        """For each supernet parameter that ``spec`` reads, a boolean mask of the elements it
        reads. The embedding table counts as read whole when the subnet reads raw sparse
        features (which rows a batch touches depends on the data)."""
        # d/dθ of the sum of all sliced weights counts how often each element is read.
        saved = {n: p.requires_grad for n, p in self.named_parameters()}
        try:
            with torch.enable_grad():
                for p in self.parameters():
                    p.requires_grad_(True)
                weights = self._sliced_weights(spec)
                total = sum(t.sum() for w in weights.values() for t in w.values())
                named = [(n, p) for n, p in self.named_parameters() if n != "embedding.weight"]
                grads = torch.autograd.grad(total, [p for _, p in named], allow_unused=True)
        finally:
            for n, p in self.named_parameters():
                p.requires_grad_(saved[n])
        masks = {
            n: g != 0 for (n, _), g in zip(named, grads) if g is not None and bool((g != 0).any())
        }
        if self.plan(spec).need_raw_sparse:
            masks["embedding.weight"] = torch.ones_like(self.embedding.weight, dtype=torch.bool)
        return masks

    def subnet_parameter_names(self, spec: SubnetSpec | None) -> set[str]:
        """Names of the supernet parameters (any element of which) ``spec`` reads."""
        return set(self.subnet_parameter_masks(spec))


class SubnetModel(nn.Module):
    """A standalone subnet: ``forward(dense, sparse) -> logits [B]``."""

    def final_layer_parameters(self) -> list[nn.Parameter]:
        """The logit layer's parameters (for head fine-tuning)."""
        w = self.ops["final"].weights
        return [w["weight"], w["bias"]]

    def __init__(
        self,
        spec: SubnetSpec,
        plan: Plan,
        ops: dict[str, FrozenOp],
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
        offsets = np.concatenate([[0], np.cumsum(self.cardinalities)[:-1]]).astype(np.int64)
        self.register_buffer("offsets", torch.as_tensor(offsets), persistent=False)
        self.register_buffer(
            "cards", torch.as_tensor(self.cardinalities, dtype=torch.int64), persistent=False
        )

    def _call(self, block: int, name: str, *args: Any) -> Tensor:
        key = "final" if block < 0 else f"{block}_{name}"
        return self.ops[key](*args[:-1])

    def forward(self, dense: Tensor, sparse: Tensor) -> Tensor:
        if dense.dim() != 2 or dense.shape[1] != self.n_dense:
            raise DataFormatError(
                f"dense: shape {tuple(dense.shape)}; accepted: [batch, {self.n_dense}]"
            )
        if sparse.dim() != 2 or sparse.shape[1] != len(self.cardinalities):
            raise DataFormatError(
                f"sparse: shape {tuple(sparse.shape)}; accepted: [batch, {len(self.cardinalities)}]"
            )
        tokens = None
        if self.embedding is not None:
            bad = (sparse < 0) | (sparse >= self.cards)
            if bool(bad.any()):
                r, c = (int(v) for v in bad.nonzero()[0])
                raise DataFormatError(
                    f"sparse[{r}, {c}]: id {int(sparse[r, c])} out of range; accepted: "
                    f"0..{self.cardinalities[c] - 1}"
                )
            tokens = self.embedding(sparse.long() + self.offsets)
        return run_plan(self.plan, dense if self.plan.need_raw_dense else None, tokens, self._call)
