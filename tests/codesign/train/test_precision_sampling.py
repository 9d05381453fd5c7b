"""Random precisions in supernet training: off by default, drawn from a stream of their
own (the sampled subnets do not change), and computed on the supernet's sliced weights
exactly as the extracted subnet computes under the same precision."""

from __future__ import annotations

import numpy as np
import torch

from codesign.data.cache import CtrData
from codesign.quant import Precision, QuantizedSubnet, calibrate, operator_keys
from codesign.quant.sampled import supernet_forward
from codesign.train.config import TrainConfig
from codesign.train.loop import to_tensors
from codesign.train.sampling import SupernetStep
from codesign.train.supernet import build_supernet, train_supernet
from tests.codesign.train.subnets import small_spec, state


def _batch(data: CtrData, n: int = 64) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return to_tensors(data.take(data.indices("train")[:n]))


def test_supernet_forward_equals_the_extracted_subnet(data: CtrData) -> None:
    net = build_supernet(data.schema, "small", 16, seed=2).eval()
    spec = small_spec(5, space="small")
    names = tuple(data.schema.sparse_names)
    dense, sparse, _ = _batch(data)
    with torch.no_grad():
        assert torch.equal(supernet_forward(net, dense, sparse, spec, Precision(), names),
                           net(dense, sparse, spec))
        keys = operator_keys(net.extract(spec))
        for p in (Precision(tables={n: "int4" for n in names}, ops={k: "fp16" for k in keys}),
                  Precision(tables={n: "int8" for n in names[:5]}, ops={k: "int8" for k in keys})):
            qm = QuantizedSubnet(net.extract(spec).eval(), p, names)
            calibrate(qm, [(dense, sparse)])  # the batch's own range, as the step takes it
            torch.testing.assert_close(supernet_forward(net, dense, sparse, spec, p, names),
                                       qm(dense, sparse), atol=1e-5, rtol=1e-5)


def test_random_precisions_leave_the_subnet_stream_alone(data: CtrData) -> None:
    net = build_supernet(data.schema, "small", 16, seed=2)
    dense, sparse, label = _batch(data)
    runs = {}
    for frac in (0.0, 1.0):
        cfg = TrainConfig(supernet_warmup_fraction=0.0, precision_sampling=frac, seed=4)
        step = SupernetStep(net, "small", np.random.default_rng(9), cfg, 10,
                            tuple(data.schema.sparse_names))
        specs, precs, losses = [], [], []
        for s in range(3):
            losses.append(float(step(dense, sparse, label, s).detach()))
            specs.append(step.last_specs)
            precs.append(step.last_precisions)
        runs[frac] = (specs, precs, losses)
    assert runs[0.0][0] == runs[1.0][0]  # the same subnets
    assert all(p == [None] for p in runs[0.0][1])
    drawn = [p[0] for p in runs[1.0][1]]
    assert all(p is not None and not p.is_fp32 for p in drawn) and len({p.key() for p in drawn}) == 3
    assert runs[0.0][2] != runs[1.0][2]


def test_training_with_random_precisions_is_repeatable(data: CtrData) -> None:
    cfg = TrainConfig(batch_size=128, train_rows=512, supernet_warmup_fraction=0.0,
                      precision_sampling=0.5, probe_rows=0, quiet=True, seed=3)
    a = train_supernet(data, cfg, space="small")
    b = train_supernet(data, cfg, space="small")
    assert a.steps_done == 4 and all(np.isfinite(a.losses))
    sa, sb = state(a.supernet), state(b.supernet)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
