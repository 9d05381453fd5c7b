"""The NASRec search spaces: typed subnet specs, sampling, mutation, validation, hashing and
import/export of NASRec's subnet JSON format.

A subnet has ``num_blocks`` (7) choice blocks. Block ``i`` (0-based) may read the outputs of
the earlier "sources" ``0..i``: source 0 is the raw input (dense features ``[B, n_dense]`` and
the embedded sparse features ``[B, n_sparse, 16]``), source ``j >= 1`` is the output of block
``j - 1`` (a dense tensor ``[B, dense_width]`` and a sparse tensor of ``sparse_tokens`` tokens
of 16, plus 8 tokens when the block merges its dense output into the sparse one).

Each block has one dense operator (FC, dot-product, sigmoid gating, sum) and one sparse
operator (attention, EFC); FC and dot-product read the concatenation of ``dense_inputs``
(dot-product also reads ``sparse_inputs``), the binary operators read ``dense_left`` and
``dense_right``; the sparse operator reads the token concatenation of ``sparse_inputs``.
The order of indices inside ``dense_inputs``/``sparse_inputs`` carries no meaning (inputs are
always concatenated in ascending source order, as NASRec does); it is kept only so that a
NASRec JSON file round-trips exactly.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from codesign.errors import SpecError
from pimsim.fileio import atomic_write_json

#: Dense output widths a block may choose (NASRec ``dense_node_dims``).
DENSE_WIDTHS: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 768, 1024)
#: Sparse token counts a block may choose (NASRec ``sparse_node_dims``).
TOKEN_COUNTS: tuple[int, ...] = (16, 32, 48, 64)
#: Embedding width of every sparse token.
EMB_DIM = 16
#: Number of choice blocks.
NUM_BLOCKS = 7
#: Maximum number of distinct sources a block's dense or sparse input may concatenate.
MAX_INPUTS = 4
#: Tokens the dense->sparse merge appends (NASRec ``DS_INTERACT_NUM_SPLITS``).
MERGE_TOKENS = 8

DENSE_OPS: tuple[str, ...] = ("fc", "dot", "gating", "sum")
SPARSE_OPS: tuple[str, ...] = ("attention", "efc")
#: Dense operators that read ``dense_left``/``dense_right`` instead of ``dense_inputs``.
BINARY_DENSE_OPS: frozenset[str] = frozenset({"gating", "sum"})

SPEC_FORMAT = "pimrec-subnet/1"


@dataclass(frozen=True)
class SearchSpace:
    """One NASRec search space: the operators and sizes a block may choose."""

    name: str
    nasrec_config: str
    #: NASRec's op list for ``nasrec_config``: index -> our operator name.
    nasrec_ops: tuple[str, ...]
    dense_ops: tuple[str, ...]
    sparse_ops: tuple[str, ...]
    dense_widths: tuple[int, ...] = DENSE_WIDTHS
    token_counts: tuple[int, ...] = TOKEN_COUNTS
    num_blocks: int = NUM_BLOCKS
    emb_dim: int = EMB_DIM
    max_inputs: int = MAX_INPUTS


SPACES: dict[str, SearchSpace] = {
    # NASRec-Full, NASRec config "xlarge": 0 linear-2d, 1 dot-product, 2 sigmoid-gating,
    # 3 sum, 4 transformer, 5 linear-3d.
    "full": SearchSpace(
        name="full",
        nasrec_config="xlarge",
        nasrec_ops=("fc", "dot", "gating", "sum", "attention", "efc"),
        dense_ops=("fc", "dot", "gating", "sum"),
        sparse_ops=("attention", "efc"),
    ),
    # NASRec-Small, NASRec config "autoctr": 0 linear-2d, 1 dot-product, 2 linear-3d.
    "small": SearchSpace(
        name="small",
        nasrec_config="autoctr",
        nasrec_ops=("fc", "dot", "efc"),
        dense_ops=("fc", "dot"),
        sparse_ops=("efc",),
    ),
}
_SPACE_BY_NASREC_CONFIG = {s.nasrec_config: s for s in SPACES.values()}


def get_space(name: str | SearchSpace) -> SearchSpace:
    """The search space called ``name`` ("full" or "small"); a SearchSpace passes through."""
    if isinstance(name, SearchSpace):
        return name
    try:
        return SPACES[name]
    except (KeyError, TypeError):
        raise SpecError(
            f"space: unknown search space {name!r}; accepted: {', '.join(sorted(SPACES))}"
        ) from None


@dataclass(frozen=True)
class BlockSpec:
    """The choices of one block (see the module docstring for their meaning)."""

    dense_inputs: tuple[int, ...]
    sparse_inputs: tuple[int, ...]
    dense_left: int
    dense_right: int
    dense_op: str
    sparse_op: str
    dense_width: int
    sparse_tokens: int
    dense_to_sparse: bool
    deep_fm: bool

    @property
    def out_tokens(self) -> int:
        """Tokens of this block's sparse output (its own plus the merged dense tokens)."""
        return self.sparse_tokens + (MERGE_TOKENS if self.dense_to_sparse else 0)


@dataclass(frozen=True)
class SubnetSpec:
    """A subnet: one BlockSpec per block, in the named search space.

    ``metadata`` carries extra NASRec JSON keys (such as ``test_loss``) so that an imported
    file exports unchanged; it takes no part in equality or in :func:`spec_hash`.
    """

    blocks: tuple[BlockSpec, ...]
    space: str = "full"
    emb_dim: int = EMB_DIM
    metadata: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    @property
    def num_blocks(self) -> int:
        return len(self.blocks)


# --------------------------------------------------------------------------- validation


def _check_indices(value: Any, path: str, block: int, max_n: int) -> None:
    if not isinstance(value, tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise SpecError(f"{path}: expected a list of integers, got {value!r}")
    if not 1 <= len(value) <= max_n:
        raise SpecError(f"{path}: {list(value)} has {len(value)} entries; accepted: 1 to {max_n}")
    if len(set(value)) != len(value):
        raise SpecError(f"{path}: {list(value)} repeats an index; indices must be distinct")
    for v in value:
        if not 0 <= v <= block:
            raise SpecError(
                f"{path}: index {v} out of range; block {block} accepts 0..{block} "
                "(0 = raw features, j = output of block j-1)"
            )


def validate(spec: SubnetSpec, space: str | SearchSpace | None = None) -> SubnetSpec:
    """Raise SpecError naming the field path unless ``spec`` is a valid member of ``space``
    (default: the space the spec names). Returns the spec for chaining."""
    if not isinstance(spec, SubnetSpec):
        raise SpecError(f"spec: expected a SubnetSpec, got {type(spec).__name__}")
    sp = get_space(space if space is not None else spec.space)
    if spec.emb_dim != sp.emb_dim:
        raise SpecError(f"emb_dim: {spec.emb_dim!r} not supported; accepted: {sp.emb_dim}")
    if not isinstance(spec.blocks, tuple) or len(spec.blocks) != sp.num_blocks:
        n = len(spec.blocks) if isinstance(spec.blocks, (tuple, list)) else spec.blocks
        raise SpecError(f"blocks: {n!r} blocks; accepted: exactly {sp.num_blocks}")
    for i, b in enumerate(spec.blocks):
        p = f"blocks[{i}]"
        if not isinstance(b, BlockSpec):
            raise SpecError(f"{p}: expected a BlockSpec, got {type(b).__name__}")
        _check_indices(b.dense_inputs, f"{p}.dense_inputs", i, sp.max_inputs)
        _check_indices(b.sparse_inputs, f"{p}.sparse_inputs", i, sp.max_inputs)
        for name in ("dense_left", "dense_right"):
            v = getattr(b, name)
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= i:
                raise SpecError(f"{p}.{name}: {v!r} out of range; accepted: 0..{i}")
        if b.dense_op not in sp.dense_ops:
            raise SpecError(
                f"{p}.dense_op: {b.dense_op!r} not in space {sp.name!r}; "
                f"accepted: {', '.join(sp.dense_ops)}"
            )
        if b.sparse_op not in sp.sparse_ops:
            raise SpecError(
                f"{p}.sparse_op: {b.sparse_op!r} not in space {sp.name!r}; "
                f"accepted: {', '.join(sp.sparse_ops)}"
            )
        if b.dense_width not in sp.dense_widths or isinstance(b.dense_width, bool):
            raise SpecError(
                f"{p}.dense_width: {b.dense_width!r}; accepted: "
                f"{', '.join(map(str, sp.dense_widths))}"
            )
        if b.sparse_tokens not in sp.token_counts or isinstance(b.sparse_tokens, bool):
            raise SpecError(
                f"{p}.sparse_tokens: {b.sparse_tokens!r}; accepted: "
                f"{', '.join(map(str, sp.token_counts))}"
            )
        for name in ("dense_to_sparse", "deep_fm"):
            if not isinstance(getattr(b, name), bool):
                raise SpecError(f"{p}.{name}: {getattr(b, name)!r}; accepted: true or false")
    return spec


# --------------------------------------------------------------------------- sampling


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
        binary = b.dense_op in BINARY_DENSE_OPS
        reads_sparse = sparse_on or (dense_on and b.dense_op == "dot")
        blocks.append(
            BlockSpec(
                dense_inputs=tuple(sorted(b.dense_inputs)) if dense_on and not binary else (0,),
                sparse_inputs=tuple(sorted(b.sparse_inputs)) if reads_sparse else (0,),
                dense_left=b.dense_left if dense_on and binary else 0,
                dense_right=b.dense_right if dense_on and binary else 0,
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
            if b.dense_op not in BINARY_DENSE_OPS and len(b.dense_inputs) > 1:
                for j in b.dense_inputs:
                    add(i, replace(b, dense_inputs=tuple(v for v in b.dense_inputs if v != j)))
        uses_sparse = sparse_on or (dense_on and b.dense_op == "dot")
        if sparse_on:
            for t in sp.token_counts:
                if t < b.sparse_tokens:
                    add(i, replace(b, sparse_tokens=t))
            if b.sparse_op == "attention" and "efc" in sp.sparse_ops:
                add(i, replace(b, sparse_op="efc"))
        if uses_sparse and len(b.sparse_inputs) > 1:
            for j in b.sparse_inputs:
                add(i, replace(b, sparse_inputs=tuple(v for v in b.sparse_inputs if v != j)))
        if b.dense_to_sparse and s_need:
            add(i, replace(b, dense_to_sparse=False))
        if b.deep_fm and d_need:
            add(i, replace(b, deep_fm=False))
    return out


# --------------------------------------------------------------------------- canonical JSON


def to_dict(spec: SubnetSpec) -> dict[str, Any]:
    """The canonical JSON-ready dict of ``spec`` (our own format, ``format`` = pimrec-subnet/1)."""
    return {
        "format": SPEC_FORMAT,
        "space": spec.space,
        "emb_dim": spec.emb_dim,
        "blocks": [
            {
                "dense_inputs": list(b.dense_inputs),
                "sparse_inputs": list(b.sparse_inputs),
                "dense_left": b.dense_left,
                "dense_right": b.dense_right,
                "dense_op": b.dense_op,
                "sparse_op": b.sparse_op,
                "dense_width": b.dense_width,
                "sparse_tokens": b.sparse_tokens,
                "dense_to_sparse": b.dense_to_sparse,
                "deep_fm": b.deep_fm,
            }
            for b in spec.blocks
        ],
        **({"metadata": dict(spec.metadata)} if spec.metadata else {}),
    }


def _get(d: Mapping[str, Any], key: str, path: str) -> Any:
    if not isinstance(d, Mapping):
        raise SpecError(f"{path}: expected an object, got {type(d).__name__}")
    if key not in d:
        raise SpecError(f"{path}.{key}: missing" if path else f"{key}: missing")
    return d[key]


def _as_int(v: Any, path: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise SpecError(f"{path}: expected an integer, got {v!r}")
    return int(v)


def _as_int_tuple(v: Any, path: str) -> tuple[int, ...]:
    if not isinstance(v, (list, tuple)):
        raise SpecError(f"{path}: expected a list of integers, got {v!r}")
    return tuple(_as_int(x, f"{path}[{k}]") for k, x in enumerate(v))


def _as_bool(v: Any, path: str) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, np.integer)) and int(v) in (0, 1):
        return bool(v)
    raise SpecError(f"{path}: {v!r}; accepted: true/false or 0/1")


def from_dict(d: Mapping[str, Any]) -> SubnetSpec:
    """Parse our canonical dict (see :func:`to_dict`) and validate it."""
    fmt = _get(d, "format", "")
    if fmt != SPEC_FORMAT:
        raise SpecError(f"format: {fmt!r}; accepted: {SPEC_FORMAT!r}")
    space = _get(d, "space", "")
    get_space(space)
    raw_blocks = _get(d, "blocks", "")
    if not isinstance(raw_blocks, list):
        raise SpecError(f"blocks: expected a list, got {type(raw_blocks).__name__}")
    blocks = []
    for i, rb in enumerate(raw_blocks):
        p = f"blocks[{i}]"
        known = {f.name for f in fields(BlockSpec)}
        if isinstance(rb, Mapping):
            extra = sorted(set(rb) - known)
            if extra:
                raise SpecError(f"{p}.{extra[0]}: unknown key; accepted: {', '.join(sorted(known))}")
        blocks.append(
            BlockSpec(
                dense_inputs=_as_int_tuple(_get(rb, "dense_inputs", p), f"{p}.dense_inputs"),
                sparse_inputs=_as_int_tuple(_get(rb, "sparse_inputs", p), f"{p}.sparse_inputs"),
                dense_left=_as_int(_get(rb, "dense_left", p), f"{p}.dense_left"),
                dense_right=_as_int(_get(rb, "dense_right", p), f"{p}.dense_right"),
                dense_op=str(_get(rb, "dense_op", p)),
                sparse_op=str(_get(rb, "sparse_op", p)),
                dense_width=_as_int(_get(rb, "dense_width", p), f"{p}.dense_width"),
                sparse_tokens=_as_int(_get(rb, "sparse_tokens", p), f"{p}.sparse_tokens"),
                dense_to_sparse=_as_bool(_get(rb, "dense_to_sparse", p), f"{p}.dense_to_sparse"),
                deep_fm=_as_bool(_get(rb, "deep_fm", p), f"{p}.deep_fm"),
            )
        )
    meta = d.get("metadata", {})
    if not isinstance(meta, Mapping):
        raise SpecError(f"metadata: expected an object, got {type(meta).__name__}")
    spec = SubnetSpec(
        blocks=tuple(blocks),
        space=str(space),
        emb_dim=_as_int(d.get("emb_dim", EMB_DIM), "emb_dim"),
        metadata=tuple(meta.items()),
    )
    return validate(spec)


def canonical_json(spec: SubnetSpec) -> str:
    """The canonical JSON text of the architecture: index lists sorted (their order has no
    meaning), keys sorted, no whitespace, metadata left out."""
    d = to_dict(spec)
    d.pop("metadata", None)
    for b in d["blocks"]:
        b["dense_inputs"] = sorted(b["dense_inputs"])
        b["sparse_inputs"] = sorted(b["sparse_inputs"])
    return json.dumps(d, sort_keys=True, separators=(",", ":"))


def spec_hash(spec: SubnetSpec) -> str:
    """A stable hash (hex SHA-256 of :func:`canonical_json`): the same in every process."""
    return hashlib.sha256(canonical_json(spec).encode("utf-8")).hexdigest()


def canonicalize(spec: SubnetSpec) -> SubnetSpec:
    """``spec`` with its input index lists sorted ascending (same architecture)."""
    return SubnetSpec(
        blocks=tuple(
            replace(
                b,
                dense_inputs=tuple(sorted(b.dense_inputs)),
                sparse_inputs=tuple(sorted(b.sparse_inputs)),
            )
            for b in spec.blocks
        ),
        space=spec.space,
        emb_dim=spec.emb_dim,
        metadata=spec.metadata,
    )


# --------------------------------------------------------------------------- NASRec JSON

_NASREC_ARCH_KEYS = ("micro", "macro", "num_blocks", "use_layernorm", "config")


def is_nasrec_json(d: Any) -> bool:
    """Whether a parsed JSON object is in NASRec's subnet format (has micro and macro)."""
    return isinstance(d, Mapping) and "micro" in d and "macro" in d


def _load_json(path_or_dict: str | Path | Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    if isinstance(path_or_dict, Mapping):
        return path_or_dict, ""
    path = Path(path_or_dict)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return json.loads(text), f"{path}: "
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None


def from_nasrec_json(path_or_dict: str | Path | Mapping[str, Any]) -> SubnetSpec:
    """Import a NASRec subnet (a path to its JSON file, or the parsed dict).

    ``config`` "xlarge" maps to our space "full", "autoctr" to "small"; ``active_nodes`` =
    [dense op index, sparse op index] into that config's op list; ``dense_in_dims`` = the
    dense width, ``sparse_in_dims`` = the token count. Keys other than the architecture
    (e.g. ``test_loss``) are kept in ``metadata``.
    """
    d, where = _load_json(path_or_dict)
    try:
        return _from_nasrec(d)
    except SpecError as exc:
        raise SpecError(f"{where}{exc}") from None


def _from_nasrec(d: Mapping[str, Any]) -> SubnetSpec:
    if not is_nasrec_json(d):
        raise SpecError("not a NASRec subnet: keys 'micro' and 'macro' are required")
    config = _get(d, "config", "")
    if config not in _SPACE_BY_NASREC_CONFIG:
        raise SpecError(
            f"config: {config!r}; accepted: {', '.join(sorted(_SPACE_BY_NASREC_CONFIG))}"
        )
    sp = _SPACE_BY_NASREC_CONFIG[config]
    micro, macro = d["micro"], d["macro"]
    if not isinstance(micro, list) or not isinstance(macro, list):
        raise SpecError("micro, macro: expected lists")
    if len(micro) != len(macro):
        raise SpecError(f"macro: {len(macro)} entries but micro has {len(micro)}")
    nb = _as_int(d.get("num_blocks", len(micro)), "num_blocks")
    if nb != len(micro):
        raise SpecError(f"num_blocks: {nb} but micro has {len(micro)} entries")
    ln = d.get("use_layernorm", 1)
    if _as_int(ln, "use_layernorm") != 1:
        raise SpecError(f"use_layernorm: {ln!r}; accepted: 1 (pimrec always uses layer norm)")
    blocks = []
    for i, (mi, ma) in enumerate(zip(micro, macro)):
        p, q = f"micro[{i}]", f"macro[{i}]"
        nodes = _as_int_tuple(_get(mi, "active_nodes", p), f"{p}.active_nodes")
        if len(nodes) != 2:
            raise SpecError(
                f"{p}.active_nodes: {list(nodes)}; accepted: [dense op index, sparse op index]"
            )
        ops = []
        for k, (idx, kind, allowed) in enumerate(
            zip(nodes, ("dense", "sparse"), (sp.dense_ops, sp.sparse_ops))
        ):
            if not 0 <= idx < len(sp.nasrec_ops) or sp.nasrec_ops[idx] not in allowed:
                ok = [n for n, o in enumerate(sp.nasrec_ops) if o in allowed]
                raise SpecError(
                    f"{p}.active_nodes[{k}]: {idx} is not a {kind} op of config {config!r}; "
                    f"accepted: {ok}"
                )
            ops.append(sp.nasrec_ops[idx])

        def one(key: str) -> int:
            v = _as_int_tuple(_get(ma, key, q), f"{q}.{key}")
            if len(v) != 1:
                raise SpecError(f"{q}.{key}: {list(v)}; accepted: exactly one index")
            return v[0]

        blocks.append(
            BlockSpec(
                dense_inputs=_as_int_tuple(_get(ma, "dense_idx", q), f"{q}.dense_idx"),
                sparse_inputs=_as_int_tuple(_get(ma, "sparse_idx", q), f"{q}.sparse_idx"),
                dense_left=one("dense_left_idx"),
                dense_right=one("dense_right_idx"),
                dense_op=ops[0],
                sparse_op=ops[1],
                dense_width=_as_int(_get(mi, "dense_in_dims", p), f"{p}.dense_in_dims"),
                sparse_tokens=_as_int(_get(mi, "sparse_in_dims", p), f"{p}.sparse_in_dims"),
                dense_to_sparse=_as_bool(
                    _get(mi, "dense_sparse_interact", p), f"{p}.dense_sparse_interact"
                ),
                deep_fm=_as_bool(_get(mi, "deep_fm", p), f"{p}.deep_fm"),
            )
        )
    meta = tuple((k, copy.deepcopy(v)) for k, v in d.items() if k not in _NASREC_ARCH_KEYS)
    spec = SubnetSpec(blocks=tuple(blocks), space=sp.name, emb_dim=EMB_DIM, metadata=meta)
    try:
        return validate(spec, sp)
    except SpecError as exc:
        # Translate our field path into NASRec's for the user.
        msg = str(exc)
        for ours, theirs in (
            ("dense_inputs", "dense_idx"),
            ("sparse_inputs", "sparse_idx"),
            ("dense_left", "dense_left_idx"),
            ("dense_right", "dense_right_idx"),
            ("dense_width", "dense_in_dims"),
            ("sparse_tokens", "sparse_in_dims"),
        ):
            if f".{ours}:" in msg:
                part = "macro" if ours.endswith(("inputs", "left", "right")) else "micro"
                msg = msg.replace("blocks[", f"{part}[", 1).replace(f".{ours}:", f".{theirs}:", 1)
                break
        raise SpecError(msg) from None


def to_nasrec_json(spec: SubnetSpec) -> dict[str, Any]:
    """Export ``spec`` in NASRec's subnet JSON format (the inverse of from_nasrec_json)."""
    sp = get_space(spec.space)
    validate(spec, sp)
    idx = {name: k for k, name in enumerate(sp.nasrec_ops)}
    out: dict[str, Any] = {
        "micro": [
            {
                "active_nodes": [idx[b.dense_op], idx[b.sparse_op]],
                "dense_in_dims": b.dense_width,
                "sparse_in_dims": b.sparse_tokens,
                "dense_sparse_interact": int(b.dense_to_sparse),
                "deep_fm": int(b.deep_fm),
            }
            for b in spec.blocks
        ],
        "macro": [
            {
                "dense_idx": list(b.dense_inputs),
                "sparse_idx": list(b.sparse_inputs),
                "dense_left_idx": [b.dense_left],
                "dense_right_idx": [b.dense_right],
            }
            for b in spec.blocks
        ],
        "num_blocks": len(spec.blocks),
        "use_layernorm": 1,
        "config": sp.nasrec_config,
    }
    for k, v in spec.metadata:
        out[k] = copy.deepcopy(v)
    return out


def load_spec(path_or_dict: str | Path | Mapping[str, Any]) -> SubnetSpec:
    """Load a spec from our canonical JSON or NASRec's JSON, detected by its keys."""
    d, where = _load_json(path_or_dict)
    try:
        if is_nasrec_json(d):
            return _from_nasrec(d)
        if not isinstance(d, Mapping) or "format" not in d:
            raise SpecError(
                f"not a subnet spec; accepted: our JSON (with \"format\": \"{SPEC_FORMAT}\") "
                "or NASRec's (with \"micro\" and \"macro\")"
            )
        return from_dict(d)
    except SpecError as exc:
        raise SpecError(f"{where}{exc}") from None


def save_spec(spec: SubnetSpec, path: str | Path, nasrec: bool = False) -> None:
    """Write ``spec`` as JSON (ours, or NASRec's with ``nasrec=True``), atomically."""
    path = Path(path)
    d = to_nasrec_json(spec) if nasrec else to_dict(spec)
    atomic_write_json(path, d, indent=1)


# --------------------------------------------------------------------------- graph helpers


def required_outputs(spec: SubnetSpec) -> list[tuple[bool, bool]]:
    """For each source 0..num_blocks: (dense output needed, sparse output needed) for the
    final logit. The last block's two outputs feed the logit; a block's dense operator is
    needed when its dense output is, or when its sparse output is and it merges dense into
    sparse; its sparse operator when its sparse output is, or when its dense output is and
    it has DeepFM."""
    n = len(spec.blocks)
    need = [[False, False] for _ in range(n + 1)]
    need[n] = [True, True]
    for i in range(n, 0, -1):
        b = spec.blocks[i - 1]
        dense_op, sparse_op = active_ops(b, need[i][0], need[i][1])
        if dense_op:
            if b.dense_op in BINARY_DENSE_OPS:
                need[b.dense_left][0] = True
                need[b.dense_right][0] = True
            else:
                for j in b.dense_inputs:
                    need[j][0] = True
                if b.dense_op == "dot":
                    for j in b.sparse_inputs:
                        need[j][1] = True
        if sparse_op:
            for j in b.sparse_inputs:
                need[j][1] = True
    return [(d, s) for d, s in need]


def active_ops(b: BlockSpec, dense_needed: bool, sparse_needed: bool) -> tuple[bool, bool]:
    """Whether a block's (dense operator, sparse operator) must run, given which of its
    outputs are needed."""
    dense_op = dense_needed or (sparse_needed and b.dense_to_sparse)
    sparse_op = sparse_needed or (dense_needed and b.deep_fm)
    return dense_op, sparse_op
