"""The NASRec-style weight-sharing supernet.

``Supernet.forward(dense, sparse, spec)`` runs one subnet at its real widths (weight
slicing, see :mod:`codesign.nas.ops`): the operators of its execution plan
(:func:`codesign.nas.plan.make_plan`), the ones whose output reaches the logit.

``spec=None`` runs the whole supernet, as NASRec's warm-up ("full path") does
(:func:`codesign.nas.plan.full_plan`): in every block all operators of the space at the
largest width (1024) and token count (64), the dense operators' outputs summed, and so are
the sparse operators'. NASRec concatenates all sources into its binary operators, which
has no weight-sliced equivalent; here they read the two most recent dense outputs.

``extract(spec)`` returns a :class:`~codesign.nas.subnet.SubnetModel` that owns copies of
exactly the sliced weights the subnet uses (and the embedding table when it reads the raw
sparse features) and computes with the same functions, so its output equals the
supernet's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import torch
from torch import Tensor, nn

from codesign.errors import DataFormatError, SpecError
from codesign.nas.ops import FM, OPS, Final, Merge, Op, init_parameters
from codesign.nas.ops.base import weight_tensors
from codesign.nas.plan import ExecutionPlan, Geometry, OpCall, full_plan, make_plan, run_plan
from codesign.nas.space import SearchSpace, SubnetSpec, get_space
from codesign.nas.subnet import SubnetModel, check_batch, embed, extract_ops, register_tables

#: Plans kept per supernet before the cache is emptied (a search revisits few specs often).
PLAN_CACHE_SIZE = 4096


class SchemaLike(Protocol):
    """What the supernet needs of a dataset schema (codesign.data.schema.DatasetSchema)."""

    @property
    def cardinalities(self) -> Sequence[int]: ...

    @property
    def dense_names(self) -> Sequence[str]: ...

    @property
    def sparse_names(self) -> Sequence[str]: ...


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
        for name, value, accepted in (
            ("emb_dim", emb_dim, self.space.emb_dim),
            ("num_blocks", num_blocks, self.space.num_blocks),
            ("max_dense", max_dense, max(self.space.dense_widths)),
            ("max_tokens", max_tokens, max(self.space.token_counts)),
        ):
            if value != accepted:
                raise SpecError(f"{name}: {value}; accepted: {accepted}")
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
        self.geometry = Geometry.of(self.space, self.n_dense, self.n_sparse)

        self._build()
        self.reset_parameters(seed)
        self._plans: dict[SubnetSpec | None, ExecutionPlan] = {}

    def reset_parameters(self, seed: int) -> None:
        """Initialise all parameters from ``seed`` (a private torch.Generator): embedding
        tables Xavier-normal per table, operators by :func:`codesign.nas.ops.init_parameters`."""
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
        register_tables(self, self.cardinalities)
        kinds: list[type[Op]] = [OPS[n] for n in self.space.dense_ops + self.space.sparse_ops]
        blocks = []
        for i in range(self.num_blocks):
            sizes = self.geometry.block_sizes(i)
            blocks.append(nn.ModuleDict({op.name: op(sizes) for op in (*kinds, Merge, FM)}))
        self.blocks = nn.ModuleList(blocks)
        self.final = Final(self.geometry.final_sizes())

    # ----------------------------------------------------------------- plans

    def plan(self, spec: SubnetSpec | None) -> ExecutionPlan:
        """The (cached) execution plan of ``spec``; None = the whole supernet."""
        p = self._plans.get(spec)
        if p is None:
            if spec is None:
                p = full_plan(self.geometry, self.num_blocks)
            else:
                p = make_plan(spec, self.n_dense, self.n_sparse, space=self.space,
                              emb_dim=self.emb_dim, max_tokens=self.max_tokens)
            if len(self._plans) > PLAN_CACHE_SIZE:
                self._plans.clear()
            self._plans[spec] = p
        return p

    # ----------------------------------------------------------------- forward

    def check_inputs(self, dense: Tensor, sparse: Tensor) -> None:
        """Raise DataFormatError unless the batch matches the schema."""
        check_batch(dense, sparse, self.n_dense, self.n_sparse)

    def embed(self, sparse: Tensor) -> Tensor:
        """[B, n_sparse] category ids (0 = missing) -> [B, n_sparse, emb_dim] tokens."""
        return embed(self.embedding, sparse, self.offsets, self.cards)

    def _call(self, block: int, c: OpCall, *x: Tensor) -> Tensor:
        op = self.final if block < 0 else self.blocks[block][c.name]
        return op(*x, dims=c.dims)

    def forward(self, dense: Tensor, sparse: Tensor, spec: SubnetSpec | None = None) -> Tensor:
        """Logits [B] of the subnet ``spec`` (None: the whole supernet)."""
        self.check_inputs(dense, sparse)
        plan = self.plan(spec)
        tokens = self.embed(sparse) if plan.need_raw_sparse else None
        return run_plan(plan, dense if plan.need_raw_dense else None, tokens, self._call)

    # ----------------------------------------------------------------- subnets

    def _sliced_tensors(self, spec: SubnetSpec | None) -> list[Tensor]:
        """Every sliced weight tensor the plan of ``spec`` reads."""
        plan = self.plan(spec)
        out: list[Tensor] = []
        for bp in plan.blocks:
            if bp is None:
                continue
            for c in bp.calls():
                out += weight_tensors(self.blocks[bp.index][c.name].slice(c.dims))
        out += weight_tensors(self.final.slice(plan.final.dims))
        return out

    def extract(self, spec: SubnetSpec) -> SubnetModel:
        """A standalone model with copies of the weights ``spec`` uses; same outputs."""
        plan = self.plan(spec)
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
            ops=extract_ops(plan, self.blocks, self.final),
            embedding=emb,
            cardinalities=self.cardinalities,
            n_dense=self.n_dense,
        )
        return model.to(self.embedding.weight.device)

    def final_layer_parameters(self, spec: SubnetSpec | None = None) -> list[nn.Parameter]:
        """The parameters of the logit layer that ``spec`` reads (the weight rows of its last
        block's dense and sparse operator, and the bias; all rows for None), for head
        fine-tuning. A subnet reads the columns of its last block's widths."""
        heads = self.plan(spec).final.dims.heads
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
                total = sum(t.sum() for t in self._sliced_tensors(spec))
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
