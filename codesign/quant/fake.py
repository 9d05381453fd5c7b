"""Fake quantisation: the values a lower precision stores, computed in float32, with
straight-through gradients (the forward pass sees the quantised value, the backward pass
the identity, so training and the head refit still get gradients).

Row-wise table quantisation follows FBGEMM's fused tables (pytorch/FBGEMM
``src/QuantUtils.cc``): ``FloatOrHalfToFused8BitRowwiseQuantizedSBFloat`` stores per row an
fp32 ``scale = (max - min) / 255`` and fp32 ``bias = min`` and codes
``lrintf((x - min) * 255 / (range + 1e-8))``;
``FloatOrHalfToFusedNBitRowwiseQuantizedSBHalf`` (4 bits) rounds ``min`` to fp16 first
(the bias), takes ``scale = (max - min_fp16) / 15`` rounded to fp16 (1 when it is 0 or
its inverse is infinite), and codes ``clamp(lrintf((x - min_fp16) / scale), 0, 15)``.
Both dequantise as ``scale * code + bias``. ``lrintf`` rounds half to even, as
``torch.round`` does.
"""

from __future__ import annotations

import torch
from torch import Tensor

#: FBGEMM's epsilon in the 8-bit inverse scale (``kEpsilon``).
FBGEMM_INT8_EPS = 1e-8
#: The torch types that fp16 / bf16 values round to.
FLOAT_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def ste(x: Tensor, q: Tensor) -> Tensor:
    """``q`` in the forward pass, the gradient of ``x`` in the backward pass."""
    return x + (q - x).detach()


def round_float(x: Tensor, dtype: str) -> Tensor:
    """``x`` rounded to fp16 or bf16 (round to nearest even) and back, straight through."""
    return ste(x, x.detach().to(FLOAT_DTYPES[dtype]).to(x.dtype))


def rowwise_int8(rows: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """FBGEMM 8-bit row-wise quantisation of the last axis: (codes, scale, bias), scale and
    bias of shape ``[..., 1]`` in fp32."""
    lo = rows.amin(dim=-1, keepdim=True)
    hi = rows.amax(dim=-1, keepdim=True)
    rng = hi - lo
    codes = torch.round((rows - lo) * (255.0 / (rng + FBGEMM_INT8_EPS)))
    return codes, rng / 255.0, lo


def rowwise_int4(rows: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """FBGEMM 4-bit row-wise quantisation of the last axis (fp16 scale and bias): (codes,
    scale, bias), scale and bias as float32 holding fp16 values, shape ``[..., 1]``."""
    half = torch.float16
    lo = rows.amin(dim=-1, keepdim=True).to(half).to(rows.dtype)
    hi = rows.amax(dim=-1, keepdim=True)
    rng = hi - lo
    scale = torch.where(rng == 0, torch.ones_like(rng), rng / 15.0).to(half).to(rows.dtype)
    scale = torch.where((scale == 0) | torch.isinf(1.0 / scale), torch.ones_like(scale), scale)
    codes = torch.clamp(torch.round((rows - lo) * (1.0 / scale)), 0, 15)
    return codes, scale, lo


def rowwise(rows: Tensor, dtype: str) -> Tensor:
    """Table rows as ``dtype`` stores them (fp32, fp16, int8 or int4 row-wise), dequantised,
    straight through."""
    if dtype == "fp32":
        return rows
    if dtype == "fp16":
        return round_float(rows, "fp16")
    x = rows.detach()
    codes, scale, bias = rowwise_int8(x) if dtype == "int8" else rowwise_int4(x)
    return ste(rows, codes * scale + bias)


def symmetric_scale(absmax: Tensor, bits: int) -> Tensor:
    """Scale of a symmetric signed ``bits``-bit code for values up to ``absmax`` (1 where
    ``absmax`` is 0, so that zeros stay zeros)."""
    top = 2 ** (bits - 1) - 1
    return torch.where(absmax > 0, absmax / top, torch.ones_like(absmax))


def symmetric_codes(x: Tensor, scale: Tensor, bits: int) -> Tensor:
    """``clamp(round(x / scale), -(2^(b-1) - 1), 2^(b-1) - 1)``: integer codes as floats
    (the code -2^(b-1) is left unused so that the range is symmetric around 0)."""
    top = 2 ** (bits - 1) - 1
    return torch.clamp(torch.round(x / scale), -top, top)


def weight_scale(w: Tensor, bits: int) -> Tensor:
    """Per-output-channel (row) symmetric scale of a ``[out, in]`` weight, ``[out, 1]``."""
    return symmetric_scale(w.detach().abs().amax(dim=1, keepdim=True), bits)


def fake_weight(w: Tensor, bits: int) -> Tensor:
    """A ``[out, in]`` weight as symmetric ``bits``-bit codes per output channel,
    dequantised, straight through."""
    s = weight_scale(w, bits)
    return ste(w, symmetric_codes(w.detach(), s, bits) * s)


def fake_activation(x: Tensor, scale: Tensor, bits: int) -> Tensor:
    """An activation as symmetric ``bits``-bit codes of the per-tensor ``scale``,
    dequantised, straight through (values beyond the range saturate)."""
    return ste(x, symmetric_codes(x.detach(), scale, bits) * scale)
