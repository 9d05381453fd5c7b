"""The crossbar's arithmetic on tiny matrices, against a loop-by-loop reference written
from the hardware description (offset encoding, bit slices, one ADC reading per chunk, per
input step and per cell slice), and the lossless ADC width as the boundary."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from codesign.nas.supernet import Supernet
from codesign.quant import (
    CrossbarQuant,
    Precision,
    apply_precision,
    calibrate,
    operator_keys,
)
from codesign.quant.crossbar import crossbar_dot
from tests.codesign.quant.conftest import batch, model_of


def reference(x: np.ndarray, w: np.ndarray, q: CrossbarQuant) -> np.ndarray:
    """Integer-exact loops: what each ADC reads, shifted and added, offsets removed."""
    ox, ow = 2 ** (q.input_bits - 1), 2 ** (q.weight_bits - 1)
    n, k = x.shape
    need = int(np.ceil(np.log2(q.rows * (2**q.dac_bits - 1) * (2**q.cell_bits - 1) + 1)))
    step = 2 ** max(0, need - q.adc_bits)
    out = np.zeros((n, w.shape[0]), dtype=np.int64)
    for a, o in itertools.product(range(n), range(w.shape[0])):
        xu, wu = [int(v) + ox for v in x[a]], [int(v) + ow for v in w[o]]
        total = 0
        for start in range(0, k, q.rows):
            for i in range(q.input_slices):
                for j in range(q.weight_slices):
                    p = sum(((xu[t] >> (i * q.dac_bits)) & (2**q.dac_bits - 1))
                            * ((wu[t] >> (j * q.cell_bits)) & (2**q.cell_bits - 1))
                            for t in range(start, min(k, start + q.rows)))
                    if step > 1:  # nearest code (ties to even), saturating at the top
                        p = min(round(p / step), 2**q.adc_bits - 1) * step
                    total += p << (i * q.dac_bits + j * q.cell_bits)
        out[a, o] = total - ow * sum(xu) - ox * sum(wu) + k * ox * ow
    return out


def _codes(seed: int, shape: tuple[int, int], bits: int) -> np.ndarray:
    top = 2 ** (bits - 1) - 1
    return np.random.default_rng(seed).integers(-top, top + 1, size=shape)


@pytest.mark.parametrize("q", [
    CrossbarQuant(rows=4, cell_bits=2, weight_bits=4, input_bits=4, dac_bits=2, adc_bits=6),
    CrossbarQuant(rows=4, cell_bits=1, weight_bits=3, input_bits=4, dac_bits=1, adc_bits=3),
    CrossbarQuant(rows=3, cell_bits=2, weight_bits=5, input_bits=3, dac_bits=1, adc_bits=2),
    CrossbarQuant(rows=8, cell_bits=2, weight_bits=8, input_bits=8, dac_bits=1, adc_bits=5),
])
def test_crossbar_matches_the_loop_reference(q: CrossbarQuant) -> None:
    x, w = _codes(1, (5, 10), q.input_bits), _codes(2, (3, 10), q.weight_bits)
    got = crossbar_dot(torch.tensor(x, dtype=torch.float32), torch.tensor(w, dtype=torch.float32), q)
    assert np.array_equal(got.numpy().astype(np.int64), reference(x, w, q))


def test_lossless_width_is_the_boundary() -> None:
    """rows 4, 2-bit cells, 2-bit DAC steps: partial sums reach 4 * 3 * 3 = 36, so 6 ADC
    bits read them exactly and the product is the exact integer x @ w.T; 5 bits read them
    to even numbers and the product moves."""
    x = np.array([[7, -7, 3, 1, 0, -2], [1, 2, 3, 4, 5, 6]])
    w = np.array([[7, 7, 7, 7, 7, 7], [-1, 0, 1, -3, 5, 2]])
    exact = x @ w.T  # by hand: [[7*(7-7+3+1+0-2), ...]]
    assert exact[0, 0] == 14
    xt, wt = torch.tensor(x, dtype=torch.float32), torch.tensor(w, dtype=torch.float32)
    for adc in (6, 7, 12):
        q = CrossbarQuant(rows=4, cell_bits=2, weight_bits=4, input_bits=4, dac_bits=2, adc_bits=adc)
        assert q.lossless_adc_bits == 6
        assert np.array_equal(crossbar_dot(xt, wt, q).numpy(), exact)
    lossy = CrossbarQuant(rows=4, cell_bits=2, weight_bits=4, input_bits=4, dac_bits=2, adc_bits=5)
    got = crossbar_dot(xt, wt, lossy).numpy()
    assert not np.array_equal(got, exact)
    assert np.array_equal(got.astype(np.int64), reference(x, w, lossy))


def test_an_operator_on_the_crossbar(supernet: Supernet) -> None:
    """A subnet's FC on a crossbar: at the lossless ADC width it computes exactly the
    fake-quantised int8 product (8-bit weights per channel, 8-bit inputs per tensor, the
    same codes); below it, the outputs move; gradients pass straight through."""
    seed = next(s for s in range(100) if any(k.endswith(".fc") for k in operator_keys(model_of(supernet, s))))
    model = model_of(supernet, seed)
    dense, sparse = batch(64)
    fc = next(k for k in operator_keys(model) if k.endswith(".fc"))
    block = fc.split(".")[0][1:]
    outs = {}
    for name, p in {
        "int8": Precision(ops={fc: "int8"}),
        "lossless": Precision(crossbar={fc: CrossbarQuant(rows=16, cell_bits=2, weight_bits=8,
                                                          input_bits=8, dac_bits=1, adc_bits=6)}),
        "lossy": Precision(crossbar={fc: CrossbarQuant(rows=16, cell_bits=2, weight_bits=8,
                                                       input_bits=8, dac_bits=1, adc_bits=4)}),
    }.items():
        qm = apply_precision(model, p)
        calibrate(qm, [(dense, sparse)])
        with torch.no_grad():
            outs[name] = qm(dense, sparse)
    assert CrossbarQuant(rows=16, cell_bits=2, weight_bits=8, input_bits=8, dac_bits=1,
                         adc_bits=4).lossless_adc_bits == 6  # 16 * 1 * 3 = 48 < 64
    assert torch.allclose(outs["lossless"], outs["int8"], atol=1e-5, rtol=0)
    assert float((outs["lossy"] - outs["int8"]).abs().max()) > 1e-3
    qm.zero_grad()
    qm(dense, sparse).sum().backward()
    w = model.ops[f"{block}_fc"].linear.weight
    assert w.grad is not None and float(w.grad.abs().sum()) > 0
