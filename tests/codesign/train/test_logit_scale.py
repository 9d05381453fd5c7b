"""What keeps the supernet's logits on a trainable scale at NASRec's lr 0.12: the centred
supernet loss, and the layer-normed FM operator."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from codesign.nas.ops import FM, Dims, Sizes, init_parameters
from codesign.train.sampling import supernet_loss


def test_fm_is_normalised_at_width_16() -> None:
    # The raw second-order term of 144 non-negative tokens is in the thousands; the FM's
    # output is layer-normed at every width (NASRec's supernet always normalises it).
    fm = FM(Sizes(max_dense=1024, max_tokens=0, emb_dim=16, dense_sources=(1024,),
                   sparse_sources=()))
    init_parameters(fm, torch.Generator().manual_seed(0))
    x = torch.relu(torch.randn(64, 144, 16, generator=torch.Generator().manual_seed(1)))
    s = x.sum(1)
    assert float((s * s - (x * x).sum(1)).mean()) > 1000
    for d in (16, 256):
        with torch.no_grad():
            y = fm(x, dims=Dims(out=d))
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
    # the centred loss is the log loss of sigmoid(logits - mean + bias), by hand
    z = logits - logits.mean() + bias
    p = torch.sigmoid(z)
    torch.testing.assert_close(base, -(label * p.log() + (1 - label) * (1 - p).log()).mean())
    # gradients: the offset's direction (all ones) carries no gradient, the bias takes it
    x = logits.clone().requires_grad_(True)
    b = bias.clone().requires_grad_(True)
    supernet_loss(x, label, b, True).backward()
    assert abs(float(x.grad.sum())) < 1e-6
    assert float(b.grad) != 0.0
    # ranking still matters: a better-ordered batch has a lower centred loss
    good = label * 2.0 - 1.0
    assert supernet_loss(good, label, bias, True) < supernet_loss(-good, label, bias, True)
    assert F.binary_cross_entropy_with_logits(z, label) == base
