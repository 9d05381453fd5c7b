"""apply_precision on real subnets: fp32 is bit-identical, every mapped kernel's operator
key is one it understands, each operator's precision acts on that operator, bad keys and
uncalibrated ranges are refused, gradients pass."""

from __future__ import annotations

import pytest
import torch

from codesign.hw.mapping import subnet_graph
from codesign.nas.supernet import Supernet
from codesign.quant import (
    Precision,
    PrecisionError,
    QuantizedSubnet,
    apply_precision,
    calibrate,
    operator_keys,
)
from codesign.quant.fake import rowwise
from tests.codesign.quant.conftest import (
    CARDS,
    N_DENSE,
    TinySchema,
    batch,
    model_of,
    spec_of,
)

SEEDS = range(12)
NAMES = TinySchema.sparse_names


def _prefix(kernel: str) -> str:
    parts = kernel.split(".")
    return ".".join(parts[:2]) if parts[0] != "final" else "final"


def test_fp32_is_bit_identical(supernet: Supernet) -> None:
    dense, sparse = batch(128)
    for seed in SEEDS[:4]:
        model = model_of(supernet, seed)
        keys = operator_keys(model)
        explicit = Precision(tables={f: "fp32" for f in NAMES}, ops={k: "fp32" for k in keys})
        assert apply_precision(model, explicit, NAMES) is model
        wrapped = QuantizedSubnet(model, Precision(), NAMES)  # the wrapper's own path
        with torch.no_grad():
            assert torch.equal(wrapped(dense, sparse), model(dense, sparse))


def test_every_mapped_kernel_prefix_is_an_operator_key(supernet: Supernet) -> None:
    seen: set[str] = set()
    dense, sparse = batch(8)
    for seed in SEEDS:
        spec = spec_of(seed)
        model = supernet.extract(spec).eval()
        keys = operator_keys(model)
        graph = subnet_graph(spec, (N_DENSE, len(CARDS), CARDS))
        weighted = {_prefix(k.name) for k in graph.kernels if k.weighted}
        prefixes = {_prefix(k.name) for k in graph.kernels}
        assert prefixes <= set(keys), prefixes - set(keys)
        new = {p for p in prefixes if p.split(".")[-1] not in seen}
        seen |= {p.split(".")[-1] for p in prefixes}
        with torch.no_grad():
            ref = model(dense, sparse)
            for key in new:  # each key's precision acts where that operator has weights
                qm = apply_precision(model, Precision(ops={key: "int8"}), NAMES)
                calibrate(qm, [(dense, sparse)])
                moved = not torch.equal(qm(dense, sparse), ref)
                assert moved == (key in weighted), key
    assert seen >= {"fc", "dot", "gating", "sum", "attention", "efc", "fm", "merge", "final"}, seen


def test_bad_keys_and_missing_ranges_are_refused(supernet: Supernet) -> None:
    model = model_of(supernet, 0)
    keys = operator_keys(model)
    absent = next(f"b{i}.{n}" for i in range(7) for n in ("fc", "dot", "sum") if f"b{i}.{n}" not in keys)
    with pytest.raises(PrecisionError, match=rf"precision\.ops\.{absent}: not an operator of this subnet; accepted: "):
        apply_precision(model, Precision(ops={absent: "int8"}), NAMES)
    with pytest.raises(PrecisionError, match=r"precision\.tables\.C9: not a sparse field.*accepted: C1, C2, C3, C4"):
        apply_precision(model, Precision(tables={"C9": "int4"}), NAMES)
    with pytest.raises(PrecisionError, match=r"sparse_names: 2 names; accepted: one per sparse field"):
        apply_precision(model, Precision(tables={"C1": "int4"}), ("C1", "C2"))
    weighted = next(k for k in keys if k != "final")
    qm = apply_precision(model, Precision(ops={"final": "int8"}), NAMES)
    with pytest.raises(PrecisionError, match=r"final\.linear: activation range not set"):
        qm(*batch(8))
    assert weighted  # a block operator exists beside the logit layer


def test_gradients_reach_tables_and_weights_and_parameters_are_shared(supernet: Supernet) -> None:
    seed = next(s for s in SEEDS if model_of(supernet, s).embedding is not None)
    model = model_of(supernet, seed)
    keys = operator_keys(model)
    qm = apply_precision(model, Precision(tables={f: "int4" for f in NAMES},
                                          ops={k: "int8" for k in keys}), NAMES)
    assert {id(p) for p in qm.parameters()} == {id(p) for p in model.parameters()}
    qm.train()
    dense, sparse = batch(32)
    qm(dense, sparse).sum().backward()  # training mode: running ranges, no calibration needed
    assert model.embedding is not None and model.embedding.weight.grad is not None
    assert float(model.embedding.weight.grad.abs().sum()) > 0
    grads = [p.grad for n, p in model.named_parameters() if n.endswith("weight") and p.dim() == 2]
    assert all(g is not None and bool(torch.isfinite(g).all()) for g in grads)
    assert sum(float(g.abs().sum()) > 0 for g in grads if g is not None) >= len(grads) // 2


def test_table_precision_is_a_quantised_table(supernet: Supernet) -> None:
    """Quantising looked-up rows equals looking up in a table whose C2 rows were quantised
    (row-wise quantisation reads the row alone), and the other tables stay fp32."""
    seed = next(s for s in SEEDS if model_of(supernet, s).embedding is not None)
    model = model_of(supernet, seed)
    qm = apply_precision(model, Precision(tables={"C2": "int4"}), NAMES)
    other = model_of(supernet, seed)
    start = CARDS[0]
    with torch.no_grad():
        w = other.embedding.weight  # type: ignore[union-attr]
        w[start : start + CARDS[1]] = rowwise(w[start : start + CARDS[1]], "int4")
        dense, sparse = batch(256)
        got = qm(dense, sparse)
        assert torch.equal(got, other(dense, sparse))
        assert not torch.equal(got, model(dense, sparse))
