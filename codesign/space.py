"""Re-exports of codesign.nas.space, codesign.nas.moves, codesign.nas.nasrec_json and codesign.nas.plan; to be removed with the layout move."""

from codesign.nas.moves import active_form, functional_hash, mutate, sample, shrink_candidates
from codesign.nas.nasrec_json import (
    from_nasrec_json,
    is_nasrec_json,
    load_spec,
    save_spec,
    to_nasrec_json,
)
from codesign.nas.ops import MERGE_TOKENS
from codesign.nas.plan import active_ops, required_outputs
from codesign.nas.space import (
    DENSE_OPS,
    DENSE_WIDTHS,
    EMB_DIM,
    MAX_INPUTS,
    NUM_BLOCKS,
    SPACES,
    SPARSE_OPS,
    SPEC_FORMAT,
    TOKEN_COUNTS,
    BlockSpec,
    SearchSpace,
    SubnetSpec,
    canonical_json,
    canonicalize,
    from_dict,
    get_space,
    spec_hash,
    to_dict,
    validate,
)

__all__ = [
    "DENSE_OPS", "DENSE_WIDTHS", "EMB_DIM", "MAX_INPUTS", "MERGE_TOKENS", "NUM_BLOCKS", "SPACES",
    "SPARSE_OPS", "SPEC_FORMAT", "TOKEN_COUNTS", "BlockSpec", "SearchSpace", "SubnetSpec",
    "active_form", "active_ops", "canonical_json", "canonicalize", "from_dict",
    "from_nasrec_json", "functional_hash", "get_space", "is_nasrec_json", "load_spec", "mutate",
    "required_outputs", "sample", "save_spec", "shrink_candidates", "spec_hash", "to_dict",
    "to_nasrec_json", "validate",
]
