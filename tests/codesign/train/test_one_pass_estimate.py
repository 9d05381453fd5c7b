"""The one-pass estimate (the logit layer's inputs on the refit rows and on the validation
rows cached together, the refitted head applied to the cached validation inputs) gives the
answer of the two-pass estimate: refit the head, then run the whole model over the
validation rows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from codesign.data.cache import CtrData
from codesign.train.finetune import (
    estimate_on_rows,
    estimate_subnet,
    final_module,
    finetune_head,
    head_inputs,
    refit_rows,
)
from codesign.train.metrics import evaluate, predict
from codesign.train.supernet import build_supernet
from tests.codesign.train.subnets import small_spec


def test_features_of_a_row_set_do_not_depend_on_the_other_sets_of_the_pass(data: CtrData) -> None:
    net = build_supernet(data.schema, "small", 16, seed=4)
    model = net.extract(small_spec(3, space="small")).eval()
    final = final_module(model)
    a, b = refit_rows(data, 1500, 0), data.indices("val")[:700]
    ((xa, ya),) = head_inputs(model, final, data, a)
    (xa2, ya2), (xb, yb) = head_inputs(model, final, data, a, b)
    assert all(torch.equal(u, v) for u, v in zip(xa, xa2)) and torch.equal(ya, ya2)
    assert xb[0].shape[0] == yb.shape[0] == 700
    # the cached inputs are the ones the model's own forward feeds its logit layer: the
    # head on them reproduces the whole model's predictions on those rows
    _, probs = predict(model, data, "val", limit=700)
    with torch.no_grad():
        head = torch.sigmoid(final(*xb).double()).numpy()
    np.testing.assert_allclose(head, probs, rtol=0, atol=1e-6)
    assert not xa[0].is_inference()  # plain tensors: the head fit can take gradients


@pytest.mark.parametrize("steps", [0, 4])
def test_one_pass_estimate_equals_refit_then_full_forward(data: CtrData, steps: int) -> None:
    net = build_supernet(data.schema, "small", 16, seed=5)
    spec = small_spec(6, space="small")
    rows, limit = 1200, 900
    tuned = finetune_head(net, spec, data, steps=steps, rows=rows, seed=1)
    two_pass = evaluate(tuned, data, "val", limit=limit)
    one_pass = estimate_subnet(net, spec, data, steps, rows=rows, seed=1, limit=limit)
    assert one_pass.n == two_pass.n == limit
    assert one_pass.logloss == pytest.approx(two_pass.logloss, abs=1e-7)
    assert one_pass.auc == pytest.approx(two_pass.auc, abs=1e-7)
    direct = estimate_on_rows(net, spec, data, refit_rows(data, rows, 1),
                              data.indices("val")[:limit], steps)
    assert direct.logloss == one_pass.logloss


def test_refit_rows_are_a_seeded_sorted_sample_of_the_train_split(data: CtrData) -> None:
    train = data.indices("train")
    r = refit_rows(data, 1000, 2)
    assert r.shape == (1000,) and np.all(np.diff(r) > 0) and np.isin(r, train).all()
    assert np.array_equal(r, refit_rows(data, 1000, 2))
    assert not np.array_equal(r, refit_rows(data, 1000, 3))
    assert refit_rows(data, 10**9, 0).shape[0] == train.shape[0]
