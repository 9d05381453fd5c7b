"""Optimizers: the peak rate's horizon scaling, the schedule against hand values, the hybrid
groups, the optimizer state round trip, and clipping against a hand-computed norm."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from codesign.train.config import TrainConfig, TrainError
from codesign.train.optim import clip_grad_norm, lr_factor, make_optimizers, peak_lr


def rates(opt: object) -> dict[str, float]:
    """The current learning rate of each optimizer group."""
    return {n: float(o.param_groups[0]["lr"]) for n, o in zip(opt.groups, opt.optimizers)}  # type: ignore[attr-defined]


def test_peak_lr_scales_with_horizon() -> None:
    cfg = TrainConfig(lr=0.12, optimizer="adagrad", lr_reference_steps=10_000)
    assert peak_lr(cfg, 10_000) == 0.12
    assert peak_lr(cfg, 10**6) == 0.12  # never above lr
    assert math.isclose(peak_lr(cfg, 2_500), 0.06)  # a quarter of the horizon: half the rate
    assert math.isclose(peak_lr(TrainConfig(lr=0.12, optimizer="adagrad"), 781), 0.012531, rel_tol=1e-4)
    assert peak_lr(TrainConfig(lr=0.12, lr_reference_steps=None, optimizer="adagrad"), 781) == 0.12
    # hybrid: the tables' Adagrad keeps its rate (each row sees few updates in any run)
    assert peak_lr(TrainConfig(lr=0.12), 781) == 0.12


def test_schedule_warms_up_linearly_then_follows_a_cosine() -> None:
    f = lr_factor(10, 0.2, 0.0)  # 2 warm-up steps, then a cosine over 8
    assert [f(0), f(1), f(2)] == [0.5, 1.0, 1.0]
    assert f(6) == pytest.approx(0.5)  # half-way down the cosine
    assert f(10) == pytest.approx(0.0, abs=1e-15)
    assert lr_factor(10, 0.2, 0.1)(10) == pytest.approx(0.1)


class _Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(50, 4)
        self.fc = torch.nn.Linear(4, 1)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.fc(self.emb(idx)).squeeze(-1)


def test_adagrad_optimizer_uses_peak_lr() -> None:
    opt = make_optimizers(_Tiny(), TrainConfig(lr=0.12, lr_warmup_fraction=0.0, optimizer="adagrad",
                                               lr_reference_steps=3_124), 781)
    assert opt.groups == ["all"]
    assert math.isclose(rates(opt)["all"], 0.06)  # sqrt(781 / 3124) = 1/2


def test_hybrid_optimizer_groups_and_checkpoint_roundtrip() -> None:
    model = _Tiny()
    cfg = TrainConfig(lr=0.12, dense_lr=1e-3, lr_warmup_fraction=0.0)
    opt = make_optimizers(model, cfg, 100)
    assert opt.groups == ["embedding", "dense"]
    assert isinstance(opt.optimizers[0], torch.optim.Adagrad)
    assert isinstance(opt.optimizers[1], torch.optim.Adam)
    assert opt.optimizers[0].param_groups[0]["params"] == [model.emb.weight]
    assert {id(p) for p in opt.optimizers[1].param_groups[0]["params"]} == {
        id(model.fc.weight), id(model.fc.bias)}
    assert math.isclose(rates(opt)["embedding"], 0.12) and math.isclose(rates(opt)["dense"], 1e-3)
    idx = torch.arange(8)
    for _ in range(3):
        opt.zero_grad()
        model(idx).pow(2).mean().backward()
        opt.step()
    state = copy.deepcopy(opt.state_dict())  # as a checkpoint file would hold it
    twin = _Tiny()
    twin.load_state_dict(model.state_dict())
    opt2 = make_optimizers(twin, cfg, 100)
    opt2.load_state_dict(state)
    for m, o in ((model, opt), (twin, opt2)):
        o.zero_grad()
        m(idx).pow(2).mean().backward()
        o.step()
    for a, b in zip(model.parameters(), twin.parameters()):
        assert torch.equal(a, b)
    assert rates(opt) == rates(opt2)
    with pytest.raises(TrainError, match="optimizer groups"):
        make_optimizers(_Tiny(), TrainConfig(optimizer="adagrad"), 100).load_state_dict(state)


def test_clip_matches_a_hand_norm_for_dense_and_sparse_gradients() -> None:
    dense = torch.nn.Parameter(torch.zeros(2))
    dense.grad = torch.tensor([3.0, 0.0])
    sparse = torch.nn.Parameter(torch.zeros(3, 1))
    sparse.grad = torch.sparse_coo_tensor([[1]], [[4.0]], (3, 1), check_invariants=True)
    assert clip_grad_norm([dense, sparse], 1.0) == pytest.approx(5.0)  # sqrt(3^2 + 4^2)
    assert float(dense.grad[0]) == pytest.approx(3.0 / 5.0, rel=1e-5)
    assert float(sparse.grad.to_dense()[1, 0]) == pytest.approx(4.0 / 5.0, rel=1e-5)
    assert clip_grad_norm([torch.nn.Parameter(torch.zeros(1))], 1.0) == 0.0  # no gradient
