"""Issue 4: the fixes for the supernet's instability at NASRec's lr 0.12."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F

from codesign.ops import Dims, ElasticFM, init_parameters
from codesign.train import TrainConfig, TrainError, make_optimizers, peak_lr, supernet_loss


def test_peak_lr_scales_with_horizon() -> None:
    cfg = TrainConfig(lr=0.12, optimizer="adagrad")
    assert cfg.lr_reference_steps == 71_626
    assert peak_lr(cfg, 71_626) == 0.12
    assert peak_lr(cfg, 10**6) == 0.12  # never above lr
    assert math.isclose(peak_lr(cfg, 781), 0.12 * math.sqrt(781 / 71_626))
    assert math.isclose(peak_lr(cfg, 781), 0.012531, rel_tol=1e-4)
    assert peak_lr(TrainConfig(lr=0.12, lr_reference_steps=None, optimizer="adagrad"), 781) == 0.12
    # hybrid: the tables' Adagrad keeps its rate (each row sees few updates in any run)
    assert peak_lr(TrainConfig(lr=0.12), 781) == 0.12


class _Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(50, 4)
        self.fc = torch.nn.Linear(4, 1)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.fc(self.emb(idx)).squeeze(-1)


def test_adagrad_optimizer_uses_peak_lr() -> None:
    opt = make_optimizers(_Tiny(), TrainConfig(lr=0.12, lr_warmup_fraction=0.0, optimizer="adagrad"), 781)
    assert opt.groups == ["all"]
    assert math.isclose(opt.lrs()["all"], 0.12 * math.sqrt(781 / 71_626))


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
    assert math.isclose(opt.lrs()["embedding"], 0.12) and math.isclose(opt.lrs()["dense"], 1e-3)
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
    assert opt.lrs() == opt2.lrs()
    with pytest.raises(TrainError, match="optimizer groups"):
        make_optimizers(_Tiny(), TrainConfig(optimizer="adagrad"), 100).load_state_dict(state)


def test_fm_is_normalised_at_width_16() -> None:
    # The raw second-order term of 144 non-negative tokens is in the thousands; the FM's
    # output is layer-normed at every width (NASRec's supernet always normalises it).
    fm = ElasticFM(16, 1024)
    init_parameters(fm, torch.Generator().manual_seed(0))
    x = torch.relu(torch.randn(64, 144, 16, generator=torch.Generator().manual_seed(1)))
    s = x.sum(1)
    assert float((s * s - (x * x).sum(1)).mean()) > 1000
    for d in (16, 256):
        with torch.no_grad():
            y = fm(x, Dims(out=d))
        assert y.shape == (64, d)
        assert float(y.mean(-1).abs().max()) < 1e-4
        assert abs(float(y.std(-1, correction=0).mean()) - 1.0) < 1e-3


def test_centred_loss_ignores_a_batch_offset_but_not_the_ranking() -> None:
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(64, generator=g)
    label = (torch.rand(64, generator=g) < 0.3).float()
    bias = torch.tensor([-0.8])
    base = supernet_loss(logits, label, bias, True)
    # a constant offset (what a subnet's width adds through the shared head) changes nothing
    torch.testing.assert_close(supernet_loss(logits + 7.5, label, bias, True), base)
    # the uncentred loss pays for it
    assert supernet_loss(logits + 7.5, label, bias, False) > 2 * supernet_loss(logits, label, bias, False)
    # the centred loss reads logits - mean + bias: exactly BCE on those
    expect = F.binary_cross_entropy_with_logits(logits - logits.mean() + bias, label)
    torch.testing.assert_close(base, expect)
    # gradients: the offset's direction (all ones) carries no gradient, the bias takes it
    x = logits.clone().requires_grad_(True)
    b = bias.clone().requires_grad_(True)
    supernet_loss(x, label, b, True).backward()
    assert abs(float(x.grad.sum())) < 1e-6
    assert float(b.grad) != 0.0
    # ranking still matters: a better-ordered batch has a lower centred loss
    good = label * 2.0 - 1.0
    assert supernet_loss(good, label, bias, True) < supernet_loss(-good, label, bias, True)
