"""Estimates and from-scratch training under a precision: the refit caches the quantised
body's features, the estimate is the returned quantised model evaluated on val, the
supernet never moves, and quantisation-aware training trains through the fake
quantisation and still learns."""

from __future__ import annotations

import pytest
import torch

from codesign.data.cache import CtrData
from codesign.quant import Precision, QuantizedSubnet, operator_keys
from codesign.quant.arith import ActRange
from codesign.train.config import TrainConfig
from codesign.train.finetune import estimate_subnet, final_module, finetune_head
from codesign.train.metrics import base_rate_logloss, evaluate
from codesign.train.scratch import train_from_scratch_run
from codesign.train.supernet import build_supernet
from tests.codesign.train.subnets import assert_same_state, small_spec, state


def _precision(data: CtrData, keys: tuple[str, ...]) -> Precision:
    return Precision(tables={f: "int4" for f in data.schema.sparse_names},
                     ops={k: "int8" for k in keys})


def test_estimate_under_a_precision(data: CtrData) -> None:
    net = build_supernet(data.schema, "small", 16, seed=2)
    before = state(net)
    spec = small_spec(5, space="small")
    p = _precision(data, operator_keys(net.extract(spec)))
    tuned = finetune_head(net, spec, data, steps=20, rows=2000, precision=p)
    assert isinstance(tuned, QuantizedSubnet)
    assert_same_state(state(net), before, atol=0)  # the shared weights never move
    ranges = [m for m in tuned.modules() if isinstance(m, ActRange)]
    assert ranges and all(float(r.absmax) >= 0 for r in ranges)  # calibrated
    # the head is refitted on other (quantised) features than the fp32 refit's
    plain = finetune_head(net, spec, data, steps=20, rows=2000)
    assert not torch.equal(final_module(tuned).linear.weight, final_module(plain).linear.weight)
    est = estimate_subnet(net, spec, data, 20, rows=2000, precision=p)
    assert est.logloss == pytest.approx(evaluate(tuned, data, "val").logloss, abs=1e-9)
    assert est.logloss != pytest.approx(estimate_subnet(net, spec, data, 20, rows=2000).logloss,
                                        abs=1e-7)
    # without a refit the head is the supernet's, the body still quantised and calibrated
    untuned = finetune_head(net, spec, data, steps=0, rows=2000, precision=p)
    assert isinstance(untuned, QuantizedSubnet)
    assert torch.equal(final_module(untuned).linear.weight, final_module(net.extract(spec)).linear.weight)
    evaluate(untuned, data, "val", limit=100)


def test_quantisation_aware_training_learns(data: CtrData) -> None:
    spec = small_spec()
    cfg = TrainConfig(epochs=1, batch_size=128, train_rows=8192, lr=0.05, quiet=True, seed=1)
    net = build_supernet(data.schema, spec.space, cfg.emb_dim, cfg.seed)
    p = _precision(data, operator_keys(net.extract(spec)))
    run = train_from_scratch_run(spec, data, cfg, precision=p, eval_limit=1000)
    assert isinstance(run.model, QuantizedSubnet) and run.steps == 64
    ranges = [m for m in run.model.modules() if isinstance(m, ActRange)]
    assert ranges and all(float(r.absmax) > 0 for r in ranges)  # running ranges followed
    assert run.val.logloss == pytest.approx(evaluate(run.model, data, "val", limit=1000).logloss, abs=1e-9)
    assert run.val.logloss < base_rate_logloss(data, "val") - 0.005  # it learns through STE
