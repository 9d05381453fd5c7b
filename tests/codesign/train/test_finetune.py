"""Head fine-tuning moves the head only, never the supernet, and an estimate is the
fine-tuned head evaluated on val."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from codesign.data.cache import CtrData
from codesign.train.config import TrainError
from codesign.train.finetune import estimate_subnet, final_module, finetune_head
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


def test_lbfgs_refit_reaches_the_logistic_regression_optimum(data: CtrData) -> None:
    """The head refit is L2-regularised logistic regression on the frozen subnet's features:
    its solution matches scikit-learn's on the same rows and features."""
    net = build_supernet(data.schema, "small", 16, seed=2)
    spec = small_spec(5, width=16, tokens=16, space="small")
    rows, l2, seed = 1500, 1e-3, 0
    tuned = finetune_head(net, spec, data, steps=300, rows=rows, l2=l2, seed=seed)
    # the same rows (documented: default_rng([seed, 3])) and the final layer's inputs
    chosen = np.sort(np.random.default_rng([seed, 3]).choice(data.indices("train"), rows, replace=False))
    frozen = net.extract(spec).eval()
    inputs: list[torch.Tensor] = []
    handle = final_module(frozen).register_forward_pre_hook(
        lambda _m, args: inputs.append(torch.cat([args[0], args[1].flatten(1)], dim=1)))
    with torch.no_grad():
        frozen(torch.from_numpy(np.asarray(data.dense[chosen], dtype=np.float32)),
               torch.from_numpy(np.asarray(data.sparse[chosen], dtype=np.int64)))
    handle.remove()
    x = inputs[0].double().numpy()
    y = np.asarray(data.label[chosen], dtype=np.float64)
    # ours: mean log loss + l2 * |w|^2; scikit-learn: C * sum(log loss) + |w|^2 / 2
    ref = LogisticRegression(C=1.0 / (2.0 * l2 * rows), solver="newton-cholesky", tol=1e-10).fit(x, y)
    head = final_module(tuned)
    w = head.linear.weight.detach().double().numpy().ravel()
    b = float(head.linear.bias.detach().double())
    ours, theirs = x @ w + b, ref.decision_function(x)

    def objective(z: np.ndarray, weights: np.ndarray) -> float:
        return float(np.mean(np.logaddexp(0.0, z) - y * z) + l2 * weights @ weights)

    # the same optimum, up to float32 L-BFGS's precision (the logits differ by at most a
    # few hundredths along the objective's flat directions)
    assert objective(ours, w) == pytest.approx(objective(theirs, ref.coef_.ravel()), abs=1e-5)
    np.testing.assert_allclose(ours, theirs, atol=3e-2)
