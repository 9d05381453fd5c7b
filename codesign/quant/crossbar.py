"""A matrix product as a bit-sliced ReRAM crossbar computes it.

The crossbar holds unsigned conductances and takes unsigned input steps, so signed
integer codes are offset-encoded (ISAAC's biased weights; the same for inputs):
``x_u = x + 2^(input_bits - 1)``, ``w_u = w + 2^(weight_bits - 1)``. Each weight is split
into ``weight_slices`` digits of ``cell_bits`` (one cell each), each input into
``input_slices`` digits of ``dac_bits`` (one DAC step each). A crossbar of ``rows`` word
lines sums, for one input step and one cell slice, the products of a ``rows``-long chunk
of the dot product (the last chunk may be shorter).

Weight flipping (ISAAC, Shafiee et al., ISCA 2016, Sec. 5), decided statically when the
weights are programmed: a column (one output's cell slice over one chunk of ``L`` rows)
whose digits sum to more than ``floor(L (2^cell_bits - 1) / 2)`` is stored flipped,
``w' = 2^cell_bits - 1 - w``, so every partial sum stays within
:attr:`CrossbarQuant.max_partial_sum`. An ADC of ``adc_bits`` reads the stored column's
partial sum: with fewer bits than that range needs (:attr:`CrossbarQuant.lossless_adc_bits`),
to the nearest multiple of ``2^(lossless - adc_bits)``, saturated at its top code. The
digital unit recovers a flipped column's sum as ``(2^cell_bits - 1) * sum(input steps over
the chunk) - reading`` (the input steps' sum is exact, digital), shift-and-adds the
readings in float64, and removes the offsets exactly:
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
    top = 2**q.cell_bits - 1
    dt = torch.float32 if q.max_partial_sum < FLOAT32_EXACT else torch.float64
    xs = _digits(xu, q.dac_bits, si).to(dt)   # [si, n, K]
    ws = _digits(wu, q.cell_bits, sw).to(dt)  # [sw, o, K]
    slice_weight = 2.0 ** (q.cell_bits * torch.arange(sw, dtype=torch.float64))  # [sw]
    total = torch.zeros(n, o, dtype=torch.float64)
    step = max(1, PARTIAL_ELEMS // (si * sw * o))
    for lo in range(0, k, r):
        hi = min(k, lo + r)
        wc = ws[:, :, lo:hi]
        flip = wc.sum(dim=2) > ((hi - lo) * top) // 2                         # [sw, o]
        wc = torch.where(flip[:, :, None], top - wc, wc).reshape(sw * o, hi - lo).T
        # a flipped column's true sum is top * (input steps' sum) - reading: the readings
        # enter with sign -1, and summed over the input steps and cell slices the steps'
        # part is top * (the chunk's sum of x_u) * (sum over flipped slices of 2^(j c))
        sign = 1.0 - 2.0 * flip.to(dt)                                         # [sw, o]
        flipped_weight = slice_weight @ flip.double()                          # [o]
        total += top * xu[:, lo:hi].sum(dim=1, keepdim=True) * flipped_weight
        for a in range(0, n, step):
            b = min(n, a + step)
            xc = xs[:, a:b, lo:hi].reshape(si * (b - a), hi - lo)
            codes, adc_step = adc_codes(xc @ wc, q)
            read = codes.view(si, b - a, sw, o).mul_(sign * adc_step)
            part = torch.zeros(b - a, o, dtype=torch.float64)
            for i in range(si):
                for j in range(sw):
                    part.add_(read[i, :, j], alpha=2.0 ** (i * q.dac_bits + j * q.cell_bits))
            total[a:b] += part
    return total - ow * xu.sum(dim=1, keepdim=True) - ox * wu.sum(dim=1) + k * ox * ow
