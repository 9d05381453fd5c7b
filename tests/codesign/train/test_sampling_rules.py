"""The rules of what a supernet step trains: the sandwich rule trains the largest and the
smallest subnet every step, in-place distillation takes its targets from the largest
subnet without gradient, progressive shrinking's floor falls from the widest widths, and
strict fairness trains every operator of every block once a step, each subnet on its own
part of the batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from codesign.data.cache import CtrData
from codesign.nas.moves import fair_sample, largest, smallest
from codesign.nas.space import get_space, validate
from codesign.nas.supernet import Supernet
from codesign.train.config import TrainConfig
from codesign.train.loop import to_tensors
from codesign.train.sampling import SupernetStep, split_rows

SMALL = dict(batch_size=16, train_rows=64, quiet=True, supernet_warmup_fraction=0.0, probe_rows=0)


def test_sandwich_trains_the_largest_and_smallest_subnet_every_step(data: CtrData, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[object]] = []
    forward = Supernet.forward

    def recording(self: Supernet, dense: torch.Tensor, sparse: torch.Tensor, spec: object = None) -> torch.Tensor:
        if torch.is_grad_enabled():
            seen[-1].append(spec)
        return forward(self, dense, sparse, spec)

    monkeypatch.setattr(Supernet, "forward", recording)
    net = Supernet(data.schema, space="small", seed=0)
    cfg = TrainConfig(**SMALL, sampling="sandwich", sandwich_random=2, seed=1)
    rule = SupernetStep(net, "small", np.random.default_rng(0), cfg, total_steps=6)
    dense, sparse, label = to_tensors(data.take(data.indices("train")[:16]))
    big, small = largest("small"), smallest("small")
    sp = get_space("small")
    assert {b.dense_width for b in big.blocks} == {max(sp.dense_widths)}
    assert {b.dense_width for b in small.blocks} == {min(sp.dense_widths)}
    for step in range(6):
        seen.append([])
        rule(dense, sparse, label, step).backward()
        # one step: the largest, the smallest, then the two sampled subnets
        assert seen[-1][:2] == [big, small] and len(seen[-1]) == 4
        assert all(s not in (big, small, None) for s in seen[-1][2:])


def test_distillation_targets_come_from_the_largest_subnet_without_gradient(data: CtrData) -> None:
    torch.manual_seed(0)
    net = Supernet(data.schema, space="full", seed=0)
    cfg = TrainConfig(**SMALL, sampling="sandwich", sandwich_random=0, distill=True, seed=1)
    rule = SupernetStep(net, "full", np.random.default_rng(0), cfg, total_steps=1)
    dense, sparse, label = to_tensors(data.take(data.indices("train")[:16]))
    loss = rule(dense, sparse, label, 0)
    # by the definition: the largest learns the labels, the smallest the largest's
    # probabilities (both logits centred on their batch mean plus the head's bias)
    bias = net.final.bias

    def centred(spec: object) -> torch.Tensor:
        z = net(dense, sparse, spec)
        return z - z.mean() + bias

    zb, zs = centred(largest("full")), centred(smallest("full"))
    expected = 0.5 * (F.binary_cross_entropy_with_logits(zb, label)
                      + F.binary_cross_entropy_with_logits(zs, torch.sigmoid(zb)))
    torch.testing.assert_close(loss, expected)
    # attention weights are read by the largest subnet only (the smallest uses EFC): their
    # gradient is that of the largest's own label loss, nothing flows back through the targets
    attn = [p for n, p in net.named_parameters() if ".attention." in n and p.dim() >= 2]
    own = torch.autograd.grad(0.5 * F.binary_cross_entropy_with_logits(zb, label), attn, allow_unused=True)
    got = torch.autograd.grad(loss, attn, allow_unused=True)
    pairs = [(g, o) for g, o in zip(got, own) if o is not None]
    assert pairs and all(g is not None for g, _ in pairs)
    for g, o in pairs:
        torch.testing.assert_close(g, o)


def test_progressive_shrinking_floor_falls_from_the_widest(data: CtrData) -> None:
    net = Supernet(data.schema, space="small", seed=0)
    cfg = TrainConfig(**SMALL, shrink_fraction=1.0, seed=1)
    rule = SupernetStep(net, "small", np.random.default_rng(0), cfg, total_steps=100)
    sp = get_space("small")
    dense, sparse, label = to_tensors(data.take(data.indices("train")[:8]))
    with torch.no_grad():
        rule(dense, sparse, label, 0)
        first = rule.last_specs[0]
        assert first is not None
        assert {b.dense_width for b in first.blocks} == {max(sp.dense_widths)}
        assert {b.sparse_tokens for b in first.blocks} == {max(sp.token_counts)}
        widths = set()
        for step in range(90, 100):
            rule(dense, sparse, label, step)
            spec = rule.last_specs[0]
            assert spec is not None
            widths |= {b.dense_width for b in spec.blocks}
    assert min(widths) < max(sp.dense_widths) // 2  # late steps reach the narrow widths


def test_fair_groups_train_every_operator_of_every_block_once() -> None:
    sp = get_space("full")
    rng = np.random.default_rng(3)
    for _ in range(20):
        group = fair_sample("full", rng)
        assert len(group) == max(len(sp.dense_ops), len(sp.sparse_ops)) == 4
        for i in range(sp.num_blocks):
            dense = sorted(s.blocks[i].dense_op for s in group)
            sparse = sorted(s.blocks[i].sparse_op for s in group)
            assert dense == sorted(sp.dense_ops)  # each dense operator exactly once
            assert sparse == sorted(sp.sparse_ops * 2)  # each of the 2 sparse ones twice
        for s in group:
            validate(s, "full")  # the other fields are sampled as usual, within the space


def test_split_rows_partitions_the_batch() -> None:
    parts = split_rows(10, 4)
    assert [(p.start, p.stop) for p in parts] == [(0, 3), (3, 6), (6, 8), (8, 10)]
    assert [(p.start, p.stop) for p in split_rows(3, 4)] == [(0, 1), (1, 2), (2, 3)]


def test_a_fair_step_trains_each_subnet_on_its_own_rows_and_every_operator(data: CtrData, monkeypatch: pytest.MonkeyPatch) -> None:
    rows: list[int] = []
    forward = Supernet.forward

    def recording(self: Supernet, dense: torch.Tensor, sparse: torch.Tensor, spec: object = None) -> torch.Tensor:
        rows.append(int(dense.shape[0]))
        return forward(self, dense, sparse, spec)

    monkeypatch.setattr(Supernet, "forward", recording)
    torch.manual_seed(0)
    net = Supernet(data.schema, space="full", seed=0)
    cfg = TrainConfig(**SMALL, sampling="fair", seed=1)
    rule = SupernetStep(net, "full", np.random.default_rng(0), cfg, total_steps=1)
    dense, sparse, label = to_tensors(data.take(data.indices("train")[:16]))
    # an epoch's last batch may hold fewer rows than the group has subnets: one row each
    rows.clear()
    with torch.no_grad():
        rule(dense[:3], sparse[:3], label[:3], 0)
    assert rows == [1, 1, 1] and len(rule.last_specs) == len(rule.last_precisions) == 3
    rows.clear()
    loss = rule(dense, sparse, label, 0)
    assert rows == [4, 4, 4, 4] and len(rule.last_specs) == 4
    # the loss is the mean of the four subnets' centred losses on their quarters
    bias = net.final.bias
    expected = label.new_zeros(())
    for spec, part in zip(rule.last_specs, [slice(0, 4), slice(4, 8), slice(8, 12), slice(12, 16)]):
        z = forward(net, dense[part], sparse[part], spec)
        expected = expected + F.binary_cross_entropy_with_logits(z - z.mean() + bias, label[part])
    torch.testing.assert_close(loss, expected / 4)
    # the last block feeds the head in every subnet: each of its operators with weights gets
    # a gradient from the one step
    loss.backward()
    last = net.blocks[-1]
    for op in (*get_space("full").dense_ops, *get_space("full").sparse_ops):
        params = list(last[op].parameters())
        if params:
            assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in params), op
