"""A subnet whose forward applies a :class:`~codesign.quant.precision.Precision`.

:func:`apply_precision` wraps a :class:`~codesign.nas.subnet.SubnetModel` without copying
it (the wrapper computes with the model's own parameters, so training the wrapper trains
the model): table rows are quantised as the table's data type stores them at lookup
(row-wise quantisation depends on the row alone, so quantising the looked-up rows equals
looking up a quantised table), and each operator with a precision runs its own
:meth:`~codesign.nas.ops.base.Op.compute` on weights whose products compute in its
arithmetic (:mod:`codesign.quant.arith`). Operators without one run unchanged, so an
all-fp32 precision gives bit-identical outputs.

What an operator's precision covers: its weighted products (weights, their inputs and, for
fp16/bf16, their outputs), and for fp16/bf16 the operator's inputs and output as well.
Activation-by-activation products (the dot-product's Gram matrix, attention's scores) and
element-wise work keep float32 arithmetic on those values: the mapping places them on the
host.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from codesign.nas.ops import Op, Standalone
from codesign.nas.ops.base import Affine
from codesign.nas.plan import ExecutionPlan, OpCall, run_plan
from codesign.nas.subnet import SubnetModel, check_batch, embed, op_key
from codesign.quant.arith import ActRange, Arithmetic, Range
from codesign.quant.fake import rowwise
from codesign.quant.precision import Precision, PrecisionError

#: The arithmetic of an operator without a precision.
FP32 = Arithmetic("fp32")


def mapping_key(block: int, name: str) -> str:
    """The operator key of block ``block``'s operator ``name`` (the PIM mapping's
    kernel-name prefix): ``b3.fc``; the logit layer (block -1): ``final``."""
    return name if block < 0 else f"b{block}.{name}"


def plan_operator_keys(plan: ExecutionPlan) -> tuple[str, ...]:
    """The operator keys of every operator ``plan`` runs, in execution order."""
    keys = [mapping_key(bp.index, c.name) for bp in plan.blocks if bp is not None
            for c in bp.calls()]
    return (*keys, mapping_key(-1, plan.final.name))


def operator_keys(model: SubnetModel) -> tuple[str, ...]:
    """The operator keys of every operator ``model`` runs, in execution order."""
    return plan_operator_keys(model.plan)


def uniform_precision(plan: ExecutionPlan, sparse_names: Sequence[str], *,
                      table_dtype: str = "fp32", dense_dtype: str = "fp32") -> Precision:
    """One data type for every table and one for every operator of ``plan``."""
    return Precision(tables={f: table_dtype for f in sparse_names},
                     ops={k: dense_dtype for k in plan_operator_keys(plan)})


def default_sparse_names(n: int) -> tuple[str, ...]:
    """Field names when the schema gives none: C1..Cn (as the PIM mapping names them)."""
    return tuple(f"C{i + 1}" for i in range(n))


@dataclasses.dataclass(frozen=True)
class QuantAffine(Affine):
    """An :class:`Affine` piece whose product computes in ``arith`` (input range ``act``)."""

    arith: Arithmetic = FP32
    act: Range | None = None

    def __call__(self, x: Tensor) -> Tensor:
        return self.arith.linear(x, self.matrix, self.bias, self.act)

    def over_tokens(self, x: Tensor) -> Tensor:
        return self.arith.linear(x.transpose(1, 2), self.matrix, self.bias, self.act)


def compute_in(op: type[Op], weights: Any, arith: Arithmetic,
               ranges: Callable[[str], Range | None], *x: Tensor) -> Tensor:
    """``op.compute(weights, *x)`` with every weighted product in ``arith``; ``ranges``
    gives each weight piece's input range by the piece's field name."""
    swap: dict[str, Any] = {}
    for f in dataclasses.fields(weights):
        v = getattr(weights, f.name)
        if isinstance(v, Affine):
            swap[f.name] = QuantAffine(v.weight, v.bias, arith=arith, act=ranges(f.name))
    xs = [arith.values(t) for t in x]
    return arith.values(op.compute(dataclasses.replace(weights, **swap), *xs))


def quantise_tokens(tokens: Tensor, tables: Sequence[tuple[str, Tensor]]) -> Tensor:
    """Embedded tokens ``[B, fields, dim]`` with the fields of each (dtype, field indices)
    group quantised row-wise as that type stores them."""
    if not tables:
        return tokens
    out = tokens.clone()
    for dtype, idx in tables:
        out[:, idx] = rowwise(tokens[:, idx], dtype)
    return out


def table_groups(precision: Precision, sparse_names: Sequence[str]) -> list[tuple[str, Tensor]]:
    """(dtype, field indices) of every non-fp32 table type of ``precision``."""
    groups: dict[str, list[int]] = {}
    for i, field in enumerate(sparse_names):
        if precision.table(field) != "fp32":
            groups.setdefault(precision.table(field), []).append(i)
    return [(dt, torch.tensor(idx)) for dt, idx in sorted(groups.items())]


class QuantOp(nn.Module):
    """One extracted operator computing in ``arith``; holds the operator without
    registering it (its parameters belong to the wrapped subnet) and one activation range
    per weighted product."""

    def __init__(self, inner: Standalone, key: str, arith: Arithmetic) -> None:
        super().__init__()
        object.__setattr__(self, "inner", inner)
        self.key = key
        self.arith = arith
        pieces = [n for n, m in inner.named_children() if isinstance(m, nn.Linear)]
        self.ranges = nn.ModuleDict(
            {n: ActRange(f"{key}.{n}") for n in pieces} if arith.needs_range else {}
        )

    def _range(self, name: str) -> Range | None:
        # nn.ModuleDict has no get()
        return self.ranges[name] if name in self.ranges else None  # type: ignore[return-value]  # noqa: SIM401

    def forward(self, *x: Tensor) -> Tensor:
        inner: Standalone = self.__dict__["inner"]
        return compute_in(inner.op, inner.weights(), self.arith, self._range, *x)


class QuantizedSubnet(nn.Module):
    """``forward(dense, sparse) -> logits`` of ``base`` under ``precision``."""

    def __init__(self, base: SubnetModel, precision: Precision,
                 sparse_names: Sequence[str]) -> None:
        super().__init__()
        self.base = base
        self.precision = precision
        qops: dict[str, QuantOp] = {}
        for bp in (*base.plan.blocks, None):
            calls = [(-1, base.plan.final)] if bp is None else [(bp.index, c) for c in bp.calls()]
            for block, c in calls:
                key = mapping_key(block, c.name)
                arith = arithmetic(precision, key)
                if arith is not None:
                    mk = op_key(block, c.name)
                    qops[mk] = QuantOp(base.ops[mk], key, arith)
        self.qops = nn.ModuleDict(qops)
        self._tables = table_groups(precision, sparse_names)
        self.train(base.training)  # the wrapper starts in the model's mode

    def operator(self, key: str) -> nn.Module:
        """The module that runs the operator with key ``key`` (``b3.fc``, ``final``)."""
        block, name = (-1, key) if key == "final" else (int(key[1:].split(".")[0]),
                                                        key.split(".", 1)[1])
        mk = op_key(block, name)
        return self.qops[mk] if mk in self.qops else self.base.ops[mk]

    def _call(self, block: int, c: OpCall, *x: Tensor) -> Tensor:
        mk = op_key(block, c.name)
        return (self.qops[mk] if mk in self.qops else self.base.ops[mk])(*x)

    def forward(self, dense: Tensor, sparse: Tensor) -> Tensor:
        base = self.base
        check_batch(dense, sparse, base.n_dense, len(base.cardinalities))
        tokens = None
        if base.embedding is not None:
            tokens = quantise_tokens(embed(base.embedding, sparse, base.offsets, base.cards),
                                     self._tables)
        plan = base.plan
        return run_plan(plan, dense if plan.need_raw_dense else None, tokens, self._call)


def arithmetic(precision: Precision, key: str) -> Arithmetic | None:
    """The arithmetic of operator ``key`` under ``precision`` (None: fp32)."""
    if key in precision.crossbar:
        return Arithmetic("crossbar", precision.crossbar[key])
    dt = precision.op(key)
    return None if dt == "fp32" else Arithmetic(dt)


def apply_precision(model: SubnetModel, precision: Precision | None,
                    sparse_names: Sequence[str] | None = None) -> nn.Module:
    """A model whose forward computes ``model`` under ``precision`` (``model`` itself when
    it is None or all fp32). ``sparse_names``: the schema's sparse field names that
    ``precision.tables`` refers to (default C1..Cn). Every key of the precision must name a
    field or an operator of this subnet."""
    if precision is None or precision.is_fp32:
        return model
    names = (tuple(sparse_names) if sparse_names is not None
             else default_sparse_names(len(model.cardinalities)))
    if len(names) != len(model.cardinalities):
        raise PrecisionError(f"sparse_names: {len(names)} names; accepted: one per sparse "
                             f"field of the subnet ({len(model.cardinalities)})")
    for field in precision.tables:
        if field not in names:
            raise PrecisionError(f"precision.tables.{field}: not a sparse field of the data "
                                 f"set; accepted: {', '.join(names)}")
    keys = operator_keys(model)
    for where, m in (("ops", precision.ops), ("crossbar", precision.crossbar)):
        for key in m:
            if key not in keys:
                raise PrecisionError(f"precision.{where}.{key}: not an operator of this "
                                     f"subnet; accepted: {', '.join(keys)}")
    return QuantizedSubnet(model, precision, names)


def calibrate(model: nn.Module, batches: Iterable[tuple[Tensor, Tensor]]) -> int:
    """Set every activation range of ``model`` to the max ``|x|`` its input reaches over
    ``batches`` of (dense, sparse); return the rows seen (0 when ``model`` has no range)."""
    ranges = [m for m in model.modules() if isinstance(m, ActRange)]
    if not ranges:
        return 0
    was_training = model.training
    model.eval()
    seen = 0
    try:
        for r in ranges:
            r.calibrating = True
            r.absmax.fill_(-1.0)
        with torch.no_grad():
            for dense, sparse in batches:
                model(dense, sparse)
                seen += int(dense.shape[0])
    finally:
        for r in ranges:
            r.calibrating = False
        model.train(was_training)
    if seen == 0:
        raise PrecisionError("calibrate: no rows; accepted: at least one batch")
    return seen
