"""Issue 4: the fixes for the supernet's instability at NASRec's lr 0.12."""

from __future__ import annotations

import math

import torch

from codesign.ops import Dims, ElasticFM, init_parameters
from codesign.train import TrainConfig, peak_lr


def test_peak_lr_scales_with_horizon() -> None:
    cfg = TrainConfig(lr=0.12)
    assert cfg.lr_reference_steps == 71_626
    assert peak_lr(cfg, 71_626) == 0.12
    assert peak_lr(cfg, 10**6) == 0.12  # never above lr
    assert math.isclose(peak_lr(cfg, 781), 0.12 * math.sqrt(781 / 71_626))
    assert math.isclose(peak_lr(cfg, 781), 0.012531, rel_tol=1e-4)
    assert peak_lr(TrainConfig(lr=0.12, lr_reference_steps=None), 781) == 0.12


def test_optimizer_uses_peak_lr() -> None:
    from codesign.train import _make_optimizer

    p = torch.nn.Parameter(torch.zeros(3))
    opt, sched = _make_optimizer([p], TrainConfig(lr=0.12, lr_warmup_fraction=0.0), 781)
    assert math.isclose(opt.param_groups[0]["lr"], 0.12 * math.sqrt(781 / 71_626))


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
