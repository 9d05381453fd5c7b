"""Moves in a search space: random sampling, mutation, the active form of a subnet (its
inert choices reset) and the single-field changes that shrink it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from codesign.errors import SpecError
from codesign.nas.ops import OPS
from codesign.nas.plan import active_ops, required_outputs
from codesign.nas.space import (
    BlockSpec,
    SearchSpace,
    SubnetSpec,
    canonicalize,
    get_space,
    spec_hash,
    validate,
)

def _sample_inputs(i: int, rng: np.random.Generator, max_inputs: int) -> tuple[int, ...]:
    n = 1 + int(rng.binomial(min(i, max_inputs - 1), 0.5))
    return tuple(sorted(int(v) for v in rng.choice(i + 1, size=n, replace=False)))


def _sample_block(i: int, sp: SearchSpace, rng: np.random.Generator) -> BlockSpec:
    return BlockSpec(
        dense_inputs=_sample_inputs(i, rng, sp.max_inputs),
        sparse_inputs=_sample_inputs(i, rng, sp.max_inputs),
        dense_left=int(rng.integers(i + 1)),
        dense_right=int(rng.integers(i + 1)),
        dense_op=str(sp.dense_ops[rng.integers(len(sp.dense_ops))]),
        sparse_op=str(sp.sparse_ops[rng.integers(len(sp.sparse_ops))]),
        dense_width=int(sp.dense_widths[rng.integers(len(sp.dense_widths))]),
        sparse_tokens=int(sp.token_counts[rng.integers(len(sp.token_counts))]),
        dense_to_sparse=bool(rng.integers(2)),
        deep_fm=bool(rng.integers(2)),
    )


def sample(space: str | SearchSpace, rng: np.random.Generator) -> SubnetSpec:
    """A random subnet by single-operator any-connection sampling: one dense and one sparse
    operator per block, uniform widths and flags, and for block ``i`` a number of dense (and,
    independently, sparse) inputs of ``1 + Binomial(min(i, 3), 0.5)`` distinct sources drawn
    uniformly from ``0..i``; left and right inputs uniform over ``0..i``."""
    sp = get_space(space)
    blocks = tuple(_sample_block(i, sp, rng) for i in range(sp.num_blocks))
    return SubnetSpec(blocks=blocks, space=sp.name, emb_dim=sp.emb_dim)


def fair_sample(space: str | SearchSpace, rng: np.random.Generator) -> list[SubnetSpec]:
    """Subnets under strict fairness (FairNAS, Chu et al., ICCV 2021, Sec. 3.2): as many as
    the larger of the space's dense and sparse operator counts, each drawn as :func:`sample`
    draws one except for its operators: in every block, each side's operators over the group
    are a random permutation of the space's repeated (each exactly once when the side has as
    many operators as the group has subnets, equally often when its count divides it)."""
    sp = get_space(space)
    n = max(len(sp.dense_ops), len(sp.sparse_ops))
    drawn = [[_sample_block(i, sp, rng) for i in range(sp.num_blocks)] for _ in range(n)]
    for i in range(sp.num_blocks):
        dense = rng.permutation(n) % len(sp.dense_ops)
        sparse = rng.permutation(n) % len(sp.sparse_ops)
        for k in range(n):
            drawn[k][i] = replace(drawn[k][i], dense_op=str(sp.dense_ops[dense[k]]),
                                  sparse_op=str(sp.sparse_ops[sparse[k]]))
    return [SubnetSpec(blocks=tuple(b), space=sp.name, emb_dim=sp.emb_dim) for b in drawn]


_MUTABLE_FIELDS: tuple[str, ...] = (
    "dense_inputs",
    "sparse_inputs",
    "dense_left",
    "dense_right",
    "dense_op",
    "sparse_op",
    "dense_width",
    "sparse_tokens",
    "dense_to_sparse",
    "deep_fm",
)


def _mutate_field(
    b: BlockSpec, i: int, name: str, sp: SearchSpace, rng: np.random.Generator
) -> BlockSpec | None:
    """A copy of ``b`` with ``name`` changed to another valid value, or None if impossible."""
    cur = getattr(b, name)
    if name in ("dense_inputs", "sparse_inputs"):
        if i == 0:
            return None  # the only possible input set is (0,)
        for _ in range(32):
            new = _sample_inputs(i, rng, sp.max_inputs)
            if set(new) != set(cur):
                return replace(b, **{name: new})
        return None
    if name in ("dense_left", "dense_right"):
        options = [v for v in range(i + 1) if v != cur]
    elif name == "dense_op":
        options = [v for v in sp.dense_ops if v != cur]
    elif name == "sparse_op":
        options = [v for v in sp.sparse_ops if v != cur]
    elif name == "dense_width":
        options = [v for v in sp.dense_widths if v != cur]
    elif name == "sparse_tokens":
        options = [v for v in sp.token_counts if v != cur]
    else:  # boolean flags
        options = [not cur]
    if not options:
        return None
    return replace(b, **{name: options[int(rng.integers(len(options)))]})


def mutate(
    spec: SubnetSpec,
    space: str | SearchSpace | None = None,
    rng: np.random.Generator | None = None,
    n_mutations: int = 1,
) -> SubnetSpec:
    """A copy of ``spec`` with ``n_mutations`` random single-field changes (a random block,
    a random field, a different valid value). The result is always valid in ``space``."""
    if rng is None:
        raise SpecError("mutate: rng: a numpy Generator is required (no global RNG state)")
    if n_mutations < 0:
        raise SpecError(f"mutate: n_mutations: {n_mutations}; accepted: >= 0")
    sp = get_space(space if space is not None else spec.space)
    validate(spec, sp)
    blocks = list(spec.blocks)
    for _ in range(n_mutations):
        while True:
            i = int(rng.integers(len(blocks)))
            name = _MUTABLE_FIELDS[int(rng.integers(len(_MUTABLE_FIELDS)))]
            new = _mutate_field(blocks[i], i, name, sp, rng)
            if new is not None:
                blocks[i] = new
                break
    out = SubnetSpec(blocks=tuple(blocks), space=sp.name, emb_dim=spec.emb_dim)
    return validate(out, sp)


def active_form(spec: SubnetSpec) -> SubnetSpec:
    """``spec`` with every choice that does not change the computed function reset to a
    fixed default: the fields of operators that do not reach the logit, the inputs an
    operator does not read (``dense_inputs`` of the binary operators, ``dense_left/right``
    of FC and dot-product, ``sparse_inputs`` when neither the sparse operator nor a
    dot-product reads them), and flags with nothing to act on (the merge of a block whose
    sparse output is unused, DeepFM of one whose dense output is unused). Input lists are
    sorted. Two specs with the same active form build the same model, FLOPs and kernels;
    search keys use :func:`functional_hash` so that a mutation of an inert field is not a new
    candidate."""
    sp = get_space(spec.space)
    need = required_outputs(spec)
    blocks = []
    for i, b in enumerate(spec.blocks):
        d_need, s_need = need[i + 1]
        dense_on, sparse_on = active_ops(b, d_need, s_need)
        reads = OPS[b.dense_op].reads
        concat = "dense" in reads  # reads dense_inputs (else dense_left / dense_right)
        reads_sparse = sparse_on or (dense_on and "sparse" in reads)
        blocks.append(
            BlockSpec(
                dense_inputs=tuple(sorted(b.dense_inputs)) if dense_on and concat else (0,),
                sparse_inputs=tuple(sorted(b.sparse_inputs)) if reads_sparse else (0,),
                dense_left=b.dense_left if dense_on and not concat else 0,
                dense_right=b.dense_right if dense_on and not concat else 0,
                dense_op=b.dense_op if dense_on else sp.dense_ops[0],
                sparse_op=b.sparse_op if sparse_on else sp.sparse_ops[0],
                dense_width=b.dense_width if dense_on else sp.dense_widths[0],
                sparse_tokens=b.sparse_tokens if sparse_on else sp.token_counts[0],
                dense_to_sparse=b.dense_to_sparse and s_need,
                deep_fm=b.deep_fm and d_need,
            )
        )
    return SubnetSpec(blocks=tuple(blocks), space=spec.space, emb_dim=spec.emb_dim)


def functional_hash(spec: SubnetSpec) -> str:
    """:func:`spec_hash` of :func:`active_form`: equal for specs that build the same model."""
    return spec_hash(active_form(spec))


def shrink_candidates(spec: SubnetSpec, space: str | SearchSpace | None = None) -> list[SubnetSpec]:
    """Every valid single-field change of ``spec`` that makes it smaller, in a fixed order:
    per block whose operators reach the logit, a smaller dense width (dense operator active)
    or token count (sparse operator active), attention -> EFC, one input fewer of the
    concatenating operators (which may leave earlier blocks unused), and the dense->sparse
    merge or DeepFM switched off. Smaller is not always cheaper (a binary operator whose
    output narrows below its inputs gains a projection): :func:`codesign.cosearch.shrink_moves`
    keeps those that lower the FLOPs."""
    sp = get_space(space if space is not None else spec.space)
    validate(spec, sp)
    need = required_outputs(spec)
    out: list[SubnetSpec] = []
    seen = {spec_hash(canonicalize(spec))}

    def add(i: int, b: BlockSpec) -> None:
        blocks = list(spec.blocks)
        blocks[i] = b
        cand = SubnetSpec(blocks=tuple(blocks), space=sp.name, emb_dim=spec.emb_dim)
        try:
            validate(cand, sp)
        except SpecError:
            return
        h = spec_hash(canonicalize(cand))
        if h not in seen:
            seen.add(h)
            out.append(cand)

    for i, b in enumerate(spec.blocks):
        d_need, s_need = need[i + 1]
        dense_on, sparse_on = active_ops(b, d_need, s_need)
        if dense_on:
            for w in sp.dense_widths:
                if w < b.dense_width:
                    add(i, replace(b, dense_width=w))
            if "dense" in OPS[b.dense_op].reads and len(b.dense_inputs) > 1:
                for j in b.dense_inputs:
                    add(i, replace(b, dense_inputs=tuple(v for v in b.dense_inputs if v != j)))
        uses_sparse = sparse_on or (dense_on and "sparse" in OPS[b.dense_op].reads)
        if sparse_on:
            for t in sp.token_counts:
                if t < b.sparse_tokens:
                    add(i, replace(b, sparse_tokens=t))
            cheaper = OPS[b.sparse_op].shrinks_to
            if cheaper is not None and cheaper in sp.sparse_ops:
                add(i, replace(b, sparse_op=cheaper))
        if uses_sparse and len(b.sparse_inputs) > 1:
            for j in b.sparse_inputs:
                add(i, replace(b, sparse_inputs=tuple(v for v in b.sparse_inputs if v != j)))
        if b.dense_to_sparse and s_need:
            add(i, replace(b, dense_to_sparse=False))
        if b.deep_fm and d_need:
            add(i, replace(b, deep_fm=False))
    return out



def largest(space: str | SearchSpace) -> SubnetSpec:
    """The largest subnet of ``space`` (the sandwich rule's): in block ``i`` the space's first
    dense and sparse operator (FC, attention in NASRec-Full) over the ``max_inputs`` most
    recent sources, the widest width, the most tokens, merge and DeepFM on."""
    sp = get_space(space)
    blocks = []
    for i in range(sp.num_blocks):
        recent = tuple(range(max(0, i + 1 - sp.max_inputs), i + 1))
        blocks.append(BlockSpec(
            dense_inputs=recent, sparse_inputs=recent, dense_left=i, dense_right=max(0, i - 1),
            dense_op=sp.dense_ops[0], sparse_op=sp.sparse_ops[0], dense_width=max(sp.dense_widths),
            sparse_tokens=max(sp.token_counts), dense_to_sparse=True, deep_fm=True,
        ))
    return validate(SubnetSpec(blocks=tuple(blocks), space=sp.name, emb_dim=sp.emb_dim), sp)


def smallest(space: str | SearchSpace) -> SubnetSpec:
    """The smallest subnet of ``space`` (the sandwich rule's): a chain in which block ``i``
    reads only source ``i``, with the first dense operator (FC) and the last sparse one (EFC
    in NASRec-Full), the narrowest width, the fewest tokens, merge and DeepFM off."""
    sp = get_space(space)
    blocks = tuple(
        BlockSpec(
            dense_inputs=(i,), sparse_inputs=(i,), dense_left=i, dense_right=i,
            dense_op=sp.dense_ops[0], sparse_op=sp.sparse_ops[-1], dense_width=min(sp.dense_widths),
            sparse_tokens=min(sp.token_counts), dense_to_sparse=False, deep_fm=False,
        )
        for i in range(sp.num_blocks)
    )
    return validate(SubnetSpec(blocks=blocks, space=sp.name, emb_dim=sp.emb_dim), sp)


def with_floor(spec: SubnetSpec, min_width: int, min_tokens: int) -> SubnetSpec:
    """``spec`` with every dense width below ``min_width`` and token count below
    ``min_tokens`` raised to them (progressive shrinking's elastic floor)."""
    blocks = tuple(
        replace(b, dense_width=max(b.dense_width, min_width), sparse_tokens=max(b.sparse_tokens, min_tokens))
        for b in spec.blocks
    )
    return SubnetSpec(blocks=blocks, space=spec.space, emb_dim=spec.emb_dim)
