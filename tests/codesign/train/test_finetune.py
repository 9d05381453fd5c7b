"""Head fine-tuning moves the head only, never the supernet, and an estimate is the
fine-tuned head evaluated on val."""

from __future__ import annotations

import pytest
import torch

from codesign.data.cache import CtrData
from codesign.train.config import TrainError
from codesign.train.finetune import estimate_subnet, finetune_head
from codesign.train.metrics import evaluate
from codesign.train.supernet import build_supernet
from tests.codesign.train.subnets import assert_same_state, small_spec, state


def test_finetune_changes_only_head_and_keeps_supernet(data: CtrData) -> None:
    net = build_supernet(data.schema, "small", 16, seed=2)
    before = state(net)
    spec = small_spec(5, space="small")
    extracted = net.extract(spec)
    tuned = finetune_head(net, spec, data, steps=3, rows=2000)
    assert_same_state(state(net), before, atol=0)  # the shared weights are untouched
    a, b = state(extracted), state(tuned)
    changed = {k for k in a if not torch.equal(a[k], b[k])}
    assert changed and all(k.startswith("ops.final.") for k in changed), changed
    # estimate = fine-tuned head, evaluated on val; it differs from the untuned subnet
    est = estimate_subnet(net, spec, data, finetune_steps=3, rows=2000)
    plain = evaluate(net, data, "val", spec)
    assert est.n == plain.n and est.logloss != plain.logloss
    assert evaluate(tuned, data, "val").logloss == pytest.approx(est.logloss, abs=1e-9)
    # the minibatch Adagrad variant also moves the head only
    sgd = finetune_head(net, spec, data, steps=4, rows=1000, method="adagrad", lr=0.05, batch_size=256)
    c = state(sgd)
    assert {k for k in a if not torch.equal(a[k], c[k])} <= {k for k in a if k.startswith("ops.final.")}
    assert any(not torch.equal(a[k], c[k]) for k in a)
    with pytest.raises(TrainError, match="method"):
        finetune_head(net, spec, data, steps=1, rows=100, method="sgd")
    with pytest.raises(TrainError, match="steps -1"):
        finetune_head(net, spec, data, steps=-1)
    assert_same_state(state(net), before, atol=0)
