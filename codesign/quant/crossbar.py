"""A matrix product as a bit-sliced ReRAM crossbar computes it.

The crossbar holds unsigned conductances and takes unsigned input steps, so signed
integer codes are offset-encoded (ISAAC's biased weights; the same for inputs):
``x_u = x + 2^(input_bits - 1)``, ``w_u = w + 2^(weight_bits - 1)``. Each weight is split
into ``weight_slices`` digits of ``cell_bits`` (one cell each), each input into
``input_slices`` digits of ``dac_bits`` (one DAC step each). A crossbar of ``rows`` word
lines sums, for one input step and one cell slice, the products of a ``rows``-long chunk
of the dot product; an ADC of ``adc_bits`` reads that partial sum: with fewer bits than
the partial sum's range needs (:attr:`CrossbarQuant.lossless_adc_bits`), it reads it to the
nearest multiple of ``2^(lossless - adc_bits)`` and saturates at its top code. Shift-and-add
combines the readings, and the digital unit removes the offsets exactly:
``sum (x_u - ox)(w_u - ow) = sum x_u w_u - ow sum x_u - ox sum w_u + K ox ow``.

When the ADC is lossless the result is the exact integer dot product, computed as one
matrix product. Otherwise every (input step, cell slice, chunk) is one small matrix
product: ``input_slices x weight_slices`` times the dense product's multiply-adds, in
sub-batches of rows that bound the memory (:data:`PARTIAL_ELEMS`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from codesign.quant.precision import CrossbarQuant

#: Partial sums held at once (input steps x rows x cell slices x outputs of one chunk):
#: 4 M float32 values, 16 MB.
PARTIAL_ELEMS = 4 * 2**20
#: Integers up to this magnitude are exact in float32 (a 24-bit significand).
FLOAT32_EXACT = 2**24


def _digits(u: Tensor, bits: int, n: int) -> Tensor:
    """The ``n`` base-``2^bits`` digits of the non-negative integers ``u``, least
    significant first: ``[n, *u.shape]`` (int32)."""
    v = u.to(torch.int32)
    mask = 2**bits - 1
    return torch.stack([(v >> (i * bits)) & mask for i in range(n)])


def adc_codes(p: Tensor, q: CrossbarQuant) -> tuple[Tensor, float]:
    """Partial sums ``p`` as the ADC reads them, as (codes, step): the reading is
    ``codes * step``. Exact (step 1) when ``adc_bits`` covers the range, else rounded to
    the step ``2^(lossless - adc_bits)`` and saturated at the top code. Works in place."""
    lost = q.lossless_adc_bits - q.adc_bits
    if lost <= 0:
        return p, 1.0
    step = float(2**lost)
    return p.mul_(1.0 / step).round_().clamp_(max=2**q.adc_bits - 1), step


def crossbar_dot(x: Tensor, w: Tensor, q: CrossbarQuant) -> Tensor:
    """``x @ w.T`` of integer codes (``x``: ``[N, K]`` within ``input_bits``, ``w``:
    ``[O, K]`` within ``weight_bits``, both signed, as floats) as the crossbar computes it;
    float64 ``[N, O]``."""
    n, k = x.shape
    o = w.shape[0]
    exact_bound = k * 2 ** (q.input_bits - 1) * 2 ** (q.weight_bits - 1)
    if q.adc_bits >= q.lossless_adc_bits:
        dt = torch.float32 if exact_bound < FLOAT32_EXACT else torch.float64
        return (x.to(dt) @ w.to(dt).T).double()
    ox, ow = float(2 ** (q.input_bits - 1)), float(2 ** (q.weight_bits - 1))
    xu, wu = x.double() + ox, w.double() + ow
    si, sw, r = q.input_slices, q.weight_slices, q.rows
    dt = torch.float32 if q.max_partial_sum < FLOAT32_EXACT else torch.float64
    chunks = -(-k // r)
    pad = chunks * r - k
    xs = torch.nn.functional.pad(_digits(xu, q.dac_bits, si), (0, pad)).to(dt)   # [si, n, K']
    ws = torch.nn.functional.pad(_digits(wu, q.cell_bits, sw), (0, pad)).to(dt)   # [sw, o, K']
    total = torch.zeros(n, o, dtype=torch.float64)
    step = max(1, PARTIAL_ELEMS // (si * sw * o))
    for c in range(chunks):
        wc = ws[:, :, c * r : (c + 1) * r].reshape(sw * o, r).T
        for a in range(0, n, step):
            b = min(n, a + step)
            xc = xs[:, a:b, c * r : (c + 1) * r].reshape(si * (b - a), r)
            codes, adc_step = adc_codes(xc @ wc, q)
            codes = codes.view(si, b - a, sw, o)
            part = torch.zeros(b - a, o, dtype=codes.dtype)
            for i in range(si):
                for j in range(sw):
                    part.add_(codes[i, :, j], alpha=adc_step * 2.0 ** (i * q.dac_bits + j * q.cell_bits))
            total[a:b] += part
    return total - ow * xu.sum(dim=1, keepdim=True) - ox * wu.sum(dim=1) + k * ox * ow
