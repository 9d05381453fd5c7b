"""Subnet spec files: NASRec's subnet JSON format (import and export), and loading or
saving a spec in either format (ours is :func:`codesign.nas.space.to_dict`)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codesign.errors import SpecError, read_json_file
from codesign.nas.space import (
    EMB_DIM,
    SPACE_BY_NASREC_CONFIG,
    SPEC_FORMAT,
    BlockSpec,
    SubnetSpec,
    as_bool,
    as_int,
    as_int_tuple,
    from_dict,
    get_key,
    get_space,
    to_dict,
    validate,
)
from pimsim.util.cli import to_jsonable
from pimsim.util.fileio import atomic_write_json

_NASREC_ARCH_KEYS = ("micro", "macro", "num_blocks", "use_layernorm", "config")


def is_nasrec_json(d: Any) -> bool:
    """Whether a parsed JSON object is in NASRec's subnet format (has micro and macro)."""
    return isinstance(d, Mapping) and "micro" in d and "macro" in d


def _load_json(path_or_dict: str | Path | Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    """The parsed object and the ``"<path>: "`` prefix of its error messages."""
    if isinstance(path_or_dict, Mapping):
        return path_or_dict, ""
    path = Path(path_or_dict)
    return read_json_file(path, SpecError, "a subnet spec JSON file"), f"{path}: "


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
    config = get_key(d, "config", "")
    if config not in SPACE_BY_NASREC_CONFIG:
        raise SpecError(
            f"config: {config!r}; accepted: {', '.join(sorted(SPACE_BY_NASREC_CONFIG))}"
        )
    sp = SPACE_BY_NASREC_CONFIG[config]
    micro, macro = d["micro"], d["macro"]
    if not isinstance(micro, list) or not isinstance(macro, list):
        raise SpecError("micro, macro: expected lists")
    if len(micro) != len(macro):
        raise SpecError(f"macro: {len(macro)} entries but micro has {len(micro)}")
    nb = as_int(d.get("num_blocks", len(micro)), "num_blocks")
    if nb != len(micro):
        raise SpecError(f"num_blocks: {nb} but micro has {len(micro)} entries")
    ln = d.get("use_layernorm", 1)
    if as_int(ln, "use_layernorm") != 1:
        raise SpecError(f"use_layernorm: {ln!r}; accepted: 1 (pimrec always uses layer norm)")
    blocks = []
    for i, (mi, ma) in enumerate(zip(micro, macro)):
        p, q = f"micro[{i}]", f"macro[{i}]"
        nodes = as_int_tuple(get_key(mi, "active_nodes", p), f"{p}.active_nodes")
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
            v = as_int_tuple(get_key(ma, key, q), f"{q}.{key}")
            if len(v) != 1:
                raise SpecError(f"{q}.{key}: {list(v)}; accepted: exactly one index")
            return v[0]

        blocks.append(
            BlockSpec(
                dense_inputs=as_int_tuple(get_key(ma, "dense_idx", q), f"{q}.dense_idx"),
                sparse_inputs=as_int_tuple(get_key(ma, "sparse_idx", q), f"{q}.sparse_idx"),
                dense_left=one("dense_left_idx"),
                dense_right=one("dense_right_idx"),
                dense_op=ops[0],
                sparse_op=ops[1],
                dense_width=as_int(get_key(mi, "dense_in_dims", p), f"{p}.dense_in_dims"),
                sparse_tokens=as_int(get_key(mi, "sparse_in_dims", p), f"{p}.sparse_in_dims"),
                dense_to_sparse=as_bool(
                    get_key(mi, "dense_sparse_interact", p), f"{p}.dense_sparse_interact"
                ),
                deep_fm=as_bool(get_key(mi, "deep_fm", p), f"{p}.deep_fm"),
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
    atomic_write_json(path, to_jsonable(d), indent=1, allow_nan=False)

