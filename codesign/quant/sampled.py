"""Random precisions for supernet training: a subnet step of the weight-sharing supernet
computed under a precision drawn for that step, as the one-shot mixed-precision
supernets train (AutoRAC, arXiv 2505.10748: one supernet over all mixed-precision
options), so that the shared weights learn to survive every precision the search may pick.

The supernet's own sliced weights compute each operator (no copy), with straight-through
gradients into them; activation ranges come from each batch (:class:`BatchRange`), since
the subnet and its precision change every step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from torch import Tensor

from codesign.nas.plan import ExecutionPlan, OpCall, run_plan
from codesign.nas.space import SubnetSpec
from codesign.quant.apply import (
    arithmetic,
    compute_in,
    mapping_key,
    plan_operator_keys,
    quantise_tokens,
    table_groups,
)
from codesign.quant.arith import BatchRange
from codesign.quant.precision import DENSE_DTYPES, TABLE_DTYPES, Precision


def random_precision(rng: np.random.Generator, plan: ExecutionPlan,
                     sparse_names: Sequence[str]) -> Precision:
    """Every table's type drawn uniformly from :data:`TABLE_DTYPES`, then every operator's
    from :data:`DENSE_DTYPES` (always as many draws for a plan, whatever they give)."""
    tables = {f: TABLE_DTYPES[int(rng.integers(len(TABLE_DTYPES)))] for f in sparse_names}
    ops = {k: DENSE_DTYPES[int(rng.integers(len(DENSE_DTYPES)))]
           for k in plan_operator_keys(plan)}
    return Precision(tables=tables, ops=ops)


def supernet_forward(net: Any, dense: Tensor, sparse: Tensor, spec: SubnetSpec,
                     precision: Precision, sparse_names: Sequence[str]) -> Tensor:
    """Logits of subnet ``spec`` of the supernet ``net`` under ``precision``."""
    net.check_inputs(dense, sparse)
    plan = net.plan(spec)
    tokens = None
    if plan.need_raw_sparse:
        tokens = quantise_tokens(net.embed(sparse), table_groups(precision, sparse_names))
    batch_range = BatchRange()

    def call(block: int, c: OpCall, *x: Tensor) -> Tensor:
        op = net.final if block < 0 else net.blocks[block][c.name]
        arith = arithmetic(precision, mapping_key(block, c.name))
        if arith is None:
            return op(*x, dims=c.dims)
        return compute_in(type(op), op.slice(c.dims), arith, lambda _name: batch_range, *x)

    return run_plan(plan, dense if plan.need_raw_dense else None, tokens, call)
