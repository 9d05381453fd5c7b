"""Fake quantisation against hand computations: FBGEMM's row-wise formulas, their error
bound, float rounding, symmetric codes, and straight-through gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from codesign.quant.fake import (
    fake_activation,
    fake_weight,
    round_float,
    rowwise,
    rowwise_int4,
    rowwise_int8,
    symmetric_scale,
)


def test_int4_row_by_hand() -> None:
    # min 0 (exact in fp16), range 3: scale 3/15 = 0.2 -> fp16 0.199951171875
    row = torch.tensor([[0.0, 1.0, 2.0, 3.0]])
    codes, scale, bias = rowwise_int4(row)
    s = float(np.float16(0.2))
    assert float(scale) == s and float(bias) == 0.0
    assert codes.tolist() == [[0, round(1 / s), round(2 / s), 15]]  # 0, 5, 10, 15
    assert rowwise(row, "int4").tolist() == [[0.0, 5 * s, 10 * s, 15 * s]]


def test_int8_row_by_hand() -> None:
    row = torch.tensor([[-1.0, 0.0, 0.5, 1.55]])
    codes, scale, bias = rowwise_int8(row)
    assert float(bias) == -1.0 and float(scale) == pytest.approx(2.55 / 255)
    # (x - min) * 255 / range: 0, 100, 150, 255
    assert codes.tolist() == [[0.0, 100.0, 150.0, 255.0]]


def test_constant_row_is_exact() -> None:
    row = torch.full((1, 8), 0.375)
    for dt in ("int8", "int4"):
        assert torch.equal(rowwise(row, dt), row)


@pytest.mark.parametrize("dtype", ["int8", "int4"])
def test_rowwise_error_is_at_most_half_a_step(dtype: str) -> None:
    """Every element lies within half a step of its row's grid: |x - q| <= scale / 2, plus,
    for int4, the fp16 rounding of the bias (the grid starts at fp16(min), not min)."""
    gen = torch.Generator().manual_seed(0)
    rows = torch.randn(2000, 16, generator=gen) * torch.rand(2000, 1, generator=gen) * 3
    q = rowwise(rows, dtype)
    codes, scale, bias = rowwise_int8(rows) if dtype == "int8" else rowwise_int4(rows)
    err = (rows - q).abs()
    bound = scale / 2 + (rows.amin(1, keepdim=True) - bias).abs()
    assert bool((err <= bound * (1 + 1e-5) + 1e-7).all())
    levels = 255 if dtype == "int8" else 15
    assert float(codes.min()) >= 0 and float(codes.max()) <= levels
    assert float(err.max()) > 0  # it does quantise
    # the step itself: range / levels (fp16-rounded for int4)
    rng = rows.amax(1) - rows.amin(1)
    assert torch.allclose(scale.squeeze(1), rng / levels, rtol=2e-3)


def test_float_rounding_by_hand() -> None:
    x = torch.tensor([1 + 2**-12, 1 + 2**-10, 1 + 2**-9, 65504.0])
    assert round_float(x, "fp16").tolist() == [1.0, 1 + 2**-10, 1 + 2**-9, 65504.0]
    assert round_float(x, "bf16").tolist()[:3] == [1.0, 1.0, 1.0]  # bf16: 7 fraction bits
    assert rowwise(x[None], "fp16").tolist() == [round_float(x, "fp16").tolist()]


def test_symmetric_codes_by_hand() -> None:
    w = torch.tensor([[0.5, -1.27, 0.004], [0.0, 0.0, 0.0]])
    q = fake_weight(w, 8)  # row 0: scale 1.27 / 127 = 0.01
    assert q[0].tolist() == pytest.approx([0.5, -1.27, 0.0])
    assert q[1].tolist() == [0.0, 0.0, 0.0]  # an all-zero channel stays zero
    s = symmetric_scale(torch.tensor(2.54), 8)  # 0.02
    a = fake_activation(torch.tensor([0.011, 3.0, -9.0]), s, 8)
    assert a.tolist() == pytest.approx([0.02, 2.54, -2.54])  # saturates beyond the range


@pytest.mark.parametrize("fn", [
    lambda x: rowwise(x, "int4"), lambda x: rowwise(x, "int8"), lambda x: rowwise(x, "fp16"),
    lambda x: round_float(x, "bf16"), lambda x: fake_weight(x, 8), lambda x: fake_weight(x, 3),
    lambda x: fake_activation(x, symmetric_scale(x.detach().abs().amax(), 8), 8),
])
def test_straight_through_gradient_is_the_identity(fn) -> None:  # type: ignore[no-untyped-def]
    x = torch.randn(6, 16, generator=torch.Generator().manual_seed(1), requires_grad=True)
    g = torch.randn(6, 16, generator=torch.Generator().manual_seed(2))
    (fn(x) * g).sum().backward()
    assert x.grad is not None and torch.equal(x.grad, g)
