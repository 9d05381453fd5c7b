"""The execution plan of a subnet: which operators run, at which dimensions, reading what.

:func:`make_plan` (one subnet) and :func:`full_plan` (the whole supernet) build plans with
the same code: each operator's :class:`~codesign.nas.ops.base.Dims` come from its own
``dims`` rule over the ranges its ports read. :func:`run_plan` executes a plan; the
supernet, the extracted subnet, the FLOPs count and the PIM mapping all read it, so they
agree on what a subnet computes.

Only operators whose output reaches the logit run (:func:`required_outputs`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from codesign.errors import SpecError
from codesign.nas.ops import (
    FM,
    MERGE_TOKENS,
    OPS,
    PORT_SIDE,
    Dims,
    Final,
    Merge,
    Op,
    Segment,
    Sizes,
)
from codesign.nas.memo import BlockMemo, block_signature
from codesign.nas.space import BlockSpec, SearchSpace, SubnetSpec, get_space, validate

#: Index of each side in a (dense, sparse) pair.
_SIDE_INDEX = {"dense": 0, "sparse": 1}


#: The sources each input port of a block's operators reads, in ascending order.
Wiring = dict[str, tuple[int, ...]]


def wiring(b: BlockSpec) -> Wiring:
    """The sources each port reads in block ``b``."""
    return {"dense": tuple(sorted(b.dense_inputs)), "sparse": tuple(sorted(b.sparse_inputs)),
            "left": (b.dense_left,), "right": (b.dense_right,)}


def active_ops(b: BlockSpec, dense_needed: bool, sparse_needed: bool) -> tuple[bool, bool]:
    """Whether a block's (dense operator, sparse operator) must run, given which of its
    outputs are needed."""
    dense_op = dense_needed or (sparse_needed and b.dense_to_sparse)
    sparse_op = sparse_needed or (dense_needed and b.deep_fm)
    return dense_op, sparse_op


def required_outputs(spec: SubnetSpec) -> list[tuple[bool, bool]]:
    """For each source 0..num_blocks: (dense output needed, sparse output needed) for the
    final logit. The last block's two outputs feed the logit; a block's dense operator is
    needed when its dense output is, or when its sparse output is and it merges dense into
    sparse; its sparse operator when its sparse output is, or when its dense output is and
    it has DeepFM. A running operator needs what its ports read."""
    n = len(spec.blocks)
    need = [[False, False] for _ in range(n + 1)]
    need[n] = [True, True]
    for i in range(n, 0, -1):
        b = spec.blocks[i - 1]
        w = wiring(b)
        for on, name in zip(active_ops(b, need[i][0], need[i][1]), (b.dense_op, b.sparse_op)):
            if on:
                for port in OPS[name].reads:
                    for j in w[port]:
                        need[j][_SIDE_INDEX[PORT_SIDE[port]]] = True
    return [(d, s) for d, s in need]


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class Geometry:
    """The largest sizes of a supernet on one data set: what its operators hold weights for."""

    n_dense: int
    n_sparse: int
    max_dense: int
    max_tokens: int
    emb_dim: int
    dense_ops: tuple[str, ...]
    sparse_ops: tuple[str, ...]

    @classmethod
    def of(cls, space: SearchSpace, n_dense: int, n_sparse: int,
           max_tokens: int | None = None) -> Geometry:
        return cls(n_dense, n_sparse, max(space.dense_widths),
                   max(space.token_counts) if max_tokens is None else max_tokens,
                   space.emb_dim, space.dense_ops, space.sparse_ops)

    def block_sizes(self, i: int) -> Sizes:
        """Sizes of block ``i``'s operators (it reads sources 0..i)."""
        return Sizes(
            dense_sources=(self.n_dense,) + (self.max_dense,) * i,
            sparse_sources=(self.n_sparse,) + (self.max_tokens + MERGE_TOKENS,) * i,
            max_dense=self.max_dense, max_tokens=self.max_tokens, emb_dim=self.emb_dim,
        )

    def final_sizes(self) -> Sizes:
        """Sizes of the logit layer, with a weight row per operator of the space."""
        return Sizes(
            dense_sources=(self.max_dense,), sparse_sources=(self.max_tokens + MERGE_TOKENS,),
            max_dense=self.max_dense, max_tokens=self.max_tokens, emb_dim=self.emb_dim,
            dense_heads=self.dense_ops, sparse_heads=self.sparse_ops,
        )


@dataclass(frozen=True)
class OpCall:
    """One operator run: its class, dimensions, and the sources each of its ports reads
    (empty for the bridge operators, which read their block's own outputs)."""

    op: type[Op]
    dims: Dims
    inputs: tuple[tuple[str, tuple[int, ...]], ...] = ()

    @property
    def name(self) -> str:
        return self.op.name


@dataclass(frozen=True)
class BlockPlan:
    """What one block runs for one subnet."""

    index: int
    #: The dense operators (one for a subnet; all of the space in the whole supernet),
    #: whose outputs are summed, and the same for the sparse operators.
    dense_ops: tuple[OpCall, ...]
    sparse_ops: tuple[OpCall, ...]
    #: The dense -> sparse merge and DeepFM, when they run.
    merge: OpCall | None
    fm: OpCall | None
    #: Which outputs of the block later blocks or the logit read.
    need_dense: bool
    need_sparse: bool

    def calls(self) -> tuple[OpCall, ...]:
        """Every operator run of the block, in execution order."""
        bridges = tuple(c for c in (self.merge, self.fm) if c is not None)
        return self.dense_ops + self.sparse_ops + bridges

    @property
    def width(self) -> int:
        """Width of the block's dense output."""
        return self.dense_ops[0].dims.out if self.dense_ops else 0

    @property
    def out_tokens(self) -> int:
        """Tokens of the block's sparse output (its own and the merged ones)."""
        own = self.sparse_ops[0].dims.out if self.sparse_ops else 0
        return own + (self.merge.dims.out if self.merge is not None else 0)


@dataclass(frozen=True)
class ExecutionPlan:
    """What a subnet (or the whole supernet) runs: each block's plan (None for a block
    whose outputs never reach the logit), the logit layer, whether the raw dense and sparse
    features are read, and the sizes the operators hold weights for."""

    blocks: tuple[BlockPlan | None, ...]
    final: OpCall
    need_raw_dense: bool
    need_raw_sparse: bool
    geometry: Geometry


@dataclass(frozen=True)
class _Sources:
    """Dense width, own tokens and merge flag of every source so far."""

    widths: list[int]
    tokens: list[int]
    merged: list[bool]
    max_tokens: int

    def cols(self, port: str, srcs: Sequence[int]) -> tuple[Segment, ...]:
        """Ranges of a concatenation: a dense source occupies 0..width-1 of its piece; a
        sparse source its own tokens at 0..T-1 and its merged tokens at
        max_tokens..max_tokens+7."""
        if PORT_SIDE[port] == "dense":
            return tuple((j, 0, self.widths[j]) for j in srcs)
        cols: list[Segment] = []
        for j in srcs:
            cols.append((j, 0, self.tokens[j]))
            if self.merged[j]:
                cols.append((j, self.max_tokens, MERGE_TOKENS))
        return tuple(cols)

    def call(self, op: type[Op], out: int, w: Wiring) -> OpCall:
        inputs = tuple((port, w[port]) for port in op.reads)
        dims = op.dims(out, {port: self.cols(port, srcs) for port, srcs in inputs})
        return OpCall(op, dims, inputs)


def _block(i: int, src: _Sources, w: Wiring, ops: tuple[Sequence[type[Op]], Sequence[type[Op]]],
           width: int, tokens: int, merge: bool, fm: bool, need: tuple[bool, bool]) -> BlockPlan:
    dense_ops, sparse_ops = ops
    return BlockPlan(
        index=i,
        dense_ops=tuple(src.call(op, width, w) for op in dense_ops),
        sparse_ops=tuple(src.call(op, tokens, w) for op in sparse_ops),
        merge=OpCall(Merge, Dims(out=MERGE_TOKENS, in_width=width)) if merge else None,
        fm=OpCall(FM, Dims(out=width)) if fm else None,
        need_dense=need[0],
        need_sparse=need[1],
    )


def _final(width: int, tokens: int, merged: bool, heads: tuple[str, ...], g: Geometry) -> OpCall:
    e = g.emb_dim
    sparse: tuple[Segment, ...] = ((0, 0, tokens * e),)
    if merged:
        sparse += ((0, g.max_tokens * e, MERGE_TOKENS * e),)
    return OpCall(Final, Dims(out=1, dense_cols=((0, 0, width),), sparse_cols=sparse, heads=heads))


def make_plan(
    spec: SubnetSpec,
    n_dense: int,
    n_sparse: int,
    *,
    space: str | SearchSpace | None = None,
    emb_dim: int = 16,
    max_tokens: int = 64,
) -> ExecutionPlan:
    """The execution plan of ``spec`` on data with ``n_dense`` dense and ``n_sparse`` sparse
    features: which operators run (those whose output reaches the logit) at which
    dimensions."""
    sp = get_space(space if space is not None else spec.space)
    validate(spec, sp)
    if spec.emb_dim != emb_dim:
        raise SpecError(f"emb_dim: {spec.emb_dim}; accepted: {emb_dim}")
    g = Geometry.of(sp, n_dense, n_sparse, max_tokens)
    need = required_outputs(spec)
    src = _Sources([n_dense] + [b.dense_width for b in spec.blocks],
                   [n_sparse] + [b.sparse_tokens for b in spec.blocks],
                   [False] + [b.dense_to_sparse for b in spec.blocks], max_tokens)
    blocks: list[BlockPlan | None] = []
    for i, b in enumerate(spec.blocks):
        nd, ns = need[i + 1]
        if not (nd or ns):
            blocks.append(None)
            continue
        run_dense, run_sparse = active_ops(b, nd, ns)
        ops = ([OPS[b.dense_op]] if run_dense else [], [OPS[b.sparse_op]] if run_sparse else [])
        blocks.append(_block(i, src, wiring(b), ops, b.dense_width, b.sparse_tokens,
                             ns and b.dense_to_sparse, nd and b.deep_fm, (nd, ns)))
    last = spec.blocks[-1]
    final = _final(last.dense_width, last.sparse_tokens, last.dense_to_sparse,
                   (last.dense_op, last.sparse_op), g)
    return ExecutionPlan(tuple(blocks), final, need[0][0], need[0][1], g)


def full_plan(g: Geometry, num_blocks: int) -> ExecutionPlan:
    """The plan of the whole supernet (NASRec's warm-up, "full path"): in every block all
    operators at the largest width and token count, FC and dot-product over all earlier
    outputs, the binary operators over the two most recent dense outputs (left = source
    ``i``, right = ``max(i - 1, 0)``), merge and DeepFM everywhere."""
    n = num_blocks
    src = _Sources([g.n_dense] + [g.max_dense] * n, [g.n_sparse] + [g.max_tokens] * n,
                   [False] + [True] * n, g.max_tokens)
    ops = ([OPS[name] for name in g.dense_ops], [OPS[name] for name in g.sparse_ops])
    blocks = tuple(
        _block(i, src, {"dense": tuple(range(i + 1)), "sparse": tuple(range(i + 1)),
                        "left": (i,), "right": (max(i - 1, 0),)}, ops,
               g.max_dense, g.max_tokens, True, True, (True, True))
        for i in range(n)
    )
    final = _final(g.max_dense, g.max_tokens, True, g.dense_ops + g.sparse_ops, g)
    return ExecutionPlan(blocks, final, True, True, g)


# --------------------------------------------------------------------------- execution

#: ``call(block, op_call, *inputs)`` runs one operator (block -1: the logit layer).
Caller = Callable[..., Tensor]


def _cat(xs: list[Tensor], dim: int) -> Tensor:
    return xs[0] if len(xs) == 1 else torch.cat(xs, dim=dim)


def _sum(xs: list[Tensor]) -> Tensor:
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def _block_sid(memo: BlockMemo, bp: BlockPlan, src_ids: dict[str, dict[int, int]]) -> int:
    """The signature id of ``bp``'s outputs (:func:`codesign.nas.memo.block_signature`)."""
    read = sorted({(PORT_SIDE[port], j) for c in bp.calls() for port, srcs in c.inputs
                   for j in srcs})
    calls = (bp.dense_ops, bp.sparse_ops, bp.merge, bp.fm)
    return memo.sig_id(block_signature(bp.index, calls, tuple(
        (side, j, src_ids[side][j]) for side, j in read)))


def run_plan(plan: ExecutionPlan, dense: Tensor | None, tokens: Tensor | None,
             call: Caller, memo: BlockMemo | None = None, tag: Hashable = None) -> Tensor:
    """Execute ``plan`` on the raw dense features and the embedded sparse ones (None when
    the plan does not read them); returns the logits. With ``memo`` (frozen weights only),
    a block whose outputs ``memo`` holds for the rows ``tag`` names is not recomputed, and
    every computed block's outputs are kept there (:mod:`codesign.nas.memo`)."""
    outs: dict[str, dict[int, Tensor]] = {"dense": {}, "sparse": {}}
    if dense is not None:
        outs["dense"][0] = dense
    if tokens is not None:
        outs["sparse"][0] = tokens
    src_ids: dict[str, dict[int, int]] = {"dense": {}, "sparse": {}}
    if memo is not None:
        src_ids = {side: {0: memo.sig_id(("raw", side))} for side in ("dense", "sparse")}

    def run(i: int, c: OpCall, shared: dict[tuple[str, tuple[int, ...]], Tensor] | None = None
            ) -> Tensor:
        xs = []
        for port, srcs in c.inputs:
            side = PORT_SIDE[port]
            key = (side, tuple(srcs))
            if shared is not None and key in shared:
                xs.append(shared[key])
                continue
            x = _cat([outs[side][j] for j in srcs], 1)
            if shared is not None:
                shared[key] = x
            xs.append(x)
        return call(i, c, *xs)

    for bp in plan.blocks:
        if bp is None:
            continue
        i = bp.index
        sides = tuple(s for s, need in (("dense", bp.need_dense), ("sparse", bp.need_sparse))
                      if need)
        sid = -1
        if memo is not None:
            sid = _block_sid(memo, bp, src_ids)
            src_ids["dense"][i + 1] = src_ids["sparse"][i + 1] = sid
            kept = memo.get(tag, sid, sides)
            if kept is not None:
                for side in sides:
                    outs[side][i + 1] = kept[side]
                continue
        d = _sum([run(i, c) for c in bp.dense_ops]) if bp.dense_ops else None
        # The sparse operators of a block share one concatenation of their common sources;
        # the dense operators each concatenate their own. That fixes the autograd graph, and
        # with it the float rounding of accumulated gradients, so training runs repeat
        # bit for bit across versions of this code.
        shared: dict[tuple[str, tuple[int, ...]], Tensor] = {}
        s = _sum([run(i, c, shared) for c in bp.sparse_ops]) if bp.sparse_ops else None
        if bp.need_sparse:
            assert s is not None
            if bp.merge is not None:
                assert d is not None  # the merge reads the dense output before DeepFM
                outs["sparse"][i + 1] = torch.cat([s, call(i, bp.merge, d)], dim=1)
            else:
                outs["sparse"][i + 1] = s
        if bp.need_dense:
            assert d is not None
            if bp.fm is not None:
                assert s is not None  # DeepFM reads the sparse operators' output, unmerged
                d = d + call(i, bp.fm, s)
            outs["dense"][i + 1] = d
        if memo is not None:
            memo.put(tag, sid, {side: outs[side][i + 1] for side in sides})
    last = len(plan.blocks)
    return call(-1, plan.final, outs["dense"][last], outs["sparse"][last])
