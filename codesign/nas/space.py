"""The NASRec search spaces and subnet specs: their types, validation, canonical JSON and
hashes.

A subnet has ``num_blocks`` (7) choice blocks. Block ``i`` (0-based) may read the outputs of
the earlier "sources" ``0..i``: source 0 is the raw input (dense features ``[B, n_dense]`` and
the embedded sparse features ``[B, n_sparse, 16]``), source ``j >= 1`` is the output of block
``j - 1`` (a dense tensor ``[B, dense_width]`` and a sparse tensor of ``sparse_tokens`` tokens
of 16, plus 8 tokens when the block merges its dense output into the sparse one).

Each block has one dense operator (FC, dot-product, sigmoid gating, sum) and one sparse
operator (attention, EFC). Which inputs an operator reads is its own metadata
(:attr:`codesign.nas.ops.base.Op.reads`): a ``dense`` port reads the concatenation of
``dense_inputs``, a ``sparse`` port that of ``sparse_inputs``, the ``left`` and ``right``
ports read ``dense_left`` and ``dense_right``.
The order of indices inside ``dense_inputs``/``sparse_inputs`` carries no meaning (inputs are
always concatenated in ascending source order, as NASRec does); it is kept only so that a
NASRec JSON file round-trips exactly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from codesign.errors import SpecError
from codesign.nas.ops import EFC, FC, MERGE_TOKENS, OPS, Attention, Dot, Gating, Sum

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

DENSE_OPS: tuple[str, ...] = (FC.name, Dot.name, Gating.name, Sum.name)
SPARSE_OPS: tuple[str, ...] = (Attention.name, EFC.name)

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

    def __post_init__(self) -> None:
        for side, names in (("dense", self.dense_ops), ("sparse", self.sparse_ops)):
            for name in names:
                if name not in OPS or OPS[name].writes != side:
                    raise SpecError(
                        f"space {self.name!r}: {side}_ops: {name!r}; accepted: "
                        f"{', '.join(n for n, op in OPS.items() if op.writes == side)}"
                    )


SPACES: dict[str, SearchSpace] = {
    # NASRec-Full, NASRec config "xlarge": 0 linear-2d, 1 dot-product, 2 sigmoid-gating,
    # 3 sum, 4 transformer, 5 linear-3d.
    "full": SearchSpace(
        name="full",
        nasrec_config="xlarge",
        nasrec_ops=DENSE_OPS + SPARSE_OPS,
        dense_ops=DENSE_OPS,
        sparse_ops=SPARSE_OPS,
    ),
    # NASRec-Small, NASRec config "autoctr": 0 linear-2d, 1 dot-product, 2 linear-3d.
    "small": SearchSpace(
        name="small",
        nasrec_config="autoctr",
        nasrec_ops=(FC.name, Dot.name, EFC.name),
        dense_ops=(FC.name, Dot.name),
        sparse_ops=(EFC.name,),
    ),
}
#: The search space of each NASRec configuration name.
SPACE_BY_NASREC_CONFIG = {s.nasrec_config: s for s in SPACES.values()}


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

    #: Sources whose dense outputs a ``dense`` port concatenates, and the same for the
    #: sparse outputs a ``sparse`` port concatenates.
    dense_inputs: tuple[int, ...]
    sparse_inputs: tuple[int, ...]
    #: The sources the ``left`` and ``right`` ports of a binary dense operator read.
    dense_left: int
    dense_right: int
    #: The block's dense and sparse operator (names in the registry OPS).
    dense_op: str
    sparse_op: str
    #: Width of the dense output and tokens of the sparse operator's output.
    dense_width: int
    sparse_tokens: int
    #: Merge the dense output into the sparse one (8 more tokens); add DeepFM of the sparse
    #: output to the dense one.
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


# --------------------------------------------------------------------------- canonical JSON


def to_dict(spec: SubnetSpec) -> dict[str, Any]:
    """The canonical JSON-ready dict of ``spec`` (our own format, ``format`` = pimrec-subnet/1)."""
    return {
        "format": SPEC_FORMAT,
        "space": spec.space,
        "emb_dim": spec.emb_dim,
        "blocks": [
            {f.name: _jsonable(getattr(b, f.name)) for f in fields(BlockSpec)}
            for b in spec.blocks
        ],
        **({"metadata": dict(spec.metadata)} if spec.metadata else {}),
    }


def _jsonable(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def get_key(d: Mapping[str, Any], key: str, path: str) -> Any:
    if not isinstance(d, Mapping):
        raise SpecError(f"{path}: expected an object, got {type(d).__name__}")
    if key not in d:
        raise SpecError(f"{path}.{key}: missing" if path else f"{key}: missing")
    return d[key]


def as_int(v: Any, path: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise SpecError(f"{path}: expected an integer, got {v!r}")
    return int(v)


def as_int_tuple(v: Any, path: str) -> tuple[int, ...]:
    if not isinstance(v, (list, tuple)):
        raise SpecError(f"{path}: expected a list of integers, got {v!r}")
    return tuple(as_int(x, f"{path}[{k}]") for k, x in enumerate(v))


def as_bool(v: Any, path: str) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, np.integer)) and int(v) in (0, 1):
        return bool(v)
    raise SpecError(f"{path}: {v!r}; accepted: true/false or 0/1")


#: How each BlockSpec field is read from JSON.
_BLOCK_FIELDS: dict[str, Any] = {
    "dense_inputs": as_int_tuple,
    "sparse_inputs": as_int_tuple,
    "dense_left": as_int,
    "dense_right": as_int,
    "dense_op": lambda v, _path: str(v),
    "sparse_op": lambda v, _path: str(v),
    "dense_width": as_int,
    "sparse_tokens": as_int,
    "dense_to_sparse": as_bool,
    "deep_fm": as_bool,
}


def from_dict(d: Mapping[str, Any]) -> SubnetSpec:
    """Parse our canonical dict (see :func:`to_dict`) and validate it."""
    fmt = get_key(d, "format", "")
    if fmt != SPEC_FORMAT:
        raise SpecError(f"format: {fmt!r}; accepted: {SPEC_FORMAT!r}")
    space = get_key(d, "space", "")
    get_space(space)
    raw_blocks = get_key(d, "blocks", "")
    if not isinstance(raw_blocks, list):
        raise SpecError(f"blocks: expected a list, got {type(raw_blocks).__name__}")
    blocks = []
    for i, rb in enumerate(raw_blocks):
        p = f"blocks[{i}]"
        known = {f.name for f in fields(BlockSpec)}
        if isinstance(rb, Mapping):
            extra = sorted(set(rb) - known)
            if extra:
                raise SpecError(
                    f"{p}.{extra[0]}: unknown key; accepted: {', '.join(sorted(known))}"
                )
        blocks.append(
            BlockSpec(**{name: parse(get_key(rb, name, p), f"{p}.{name}")
                         for name, parse in _BLOCK_FIELDS.items()})
        )
    meta = d.get("metadata", {})
    if not isinstance(meta, Mapping):
        raise SpecError(f"metadata: expected an object, got {type(meta).__name__}")
    spec = SubnetSpec(
        blocks=tuple(blocks),
        space=str(space),
        emb_dim=as_int(d.get("emb_dim", EMB_DIM), "emb_dim"),
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

