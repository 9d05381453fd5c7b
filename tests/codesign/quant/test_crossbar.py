"""The crossbar's arithmetic on tiny matrices, against a loop-by-loop reference written
from the hardware description (offset encoding, bit slices, ISAAC's weight flipping per
column and chunk, one ADC reading per chunk, per input step and per cell slice), and the
lossless ADC width as the boundary."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import pimsim
from codesign.hw.capability import crossbar_quant
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
    """Integer-exact loops: what each ADC reads of a (possibly flipped) column, recovered,
    shifted and added, offsets removed. ISAAC Sec. 5: a column whose cell digits over the
    chunk sum to more than half their maximum is stored as ``2^cell_bits - 1 - digit``, so
    a partial sum is at most ``(2^dac_bits - 1) * floor(rows * (2^cell_bits - 1) / 2)``."""
    ox, ow = 2 ** (q.input_bits - 1), 2 ** (q.weight_bits - 1)
    n, k = x.shape
    xmax, cmax = 2**q.dac_bits - 1, 2**q.cell_bits - 1
    need = int(np.ceil(np.log2(xmax * (q.rows * cmax // 2) + 1)))
    step = 2 ** max(0, need - q.adc_bits)
    out = np.zeros((n, w.shape[0]), dtype=np.int64)
    for a, o in itertools.product(range(n), range(w.shape[0])):
        xu, wu = [int(v) + ox for v in x[a]], [int(v) + ow for v in w[o]]
        total = 0
        for start in range(0, k, q.rows):
            chunk = range(start, min(k, start + q.rows))
            for j in range(q.weight_slices):
                cells = [(wu[t] >> (j * q.cell_bits)) & cmax for t in chunk]
                flipped = sum(cells) > len(chunk) * cmax // 2
                stored = [cmax - c for c in cells] if flipped else cells
                for i in range(q.input_slices):
                    steps = [(xu[t] >> (i * q.dac_bits)) & xmax for t in chunk]
                    p = sum(s * c for s, c in zip(steps, stored, strict=True))
                    assert p <= xmax * (q.rows * cmax // 2)
                    if step > 1:  # nearest code (ties to even), saturating at the top
                        p = min(round(p / step), 2**q.adc_bits - 1) * step
                    if flipped:
                        p = cmax * sum(steps) - p
                    total += p << (i * q.dac_bits + j * q.cell_bits)
        out[a, o] = total - ow * sum(xu) - ox * sum(wu) + k * ox * ow
    return out


def _codes(seed: int, shape: tuple[int, int], bits: int) -> np.ndarray:
    top = 2 ** (bits - 1) - 1
    return np.random.default_rng(seed).integers(-top, top + 1, size=shape)


@pytest.mark.parametrize("q", [
    # K = 10 over these rows leaves a shorter last chunk, flipped against its own length
    CrossbarQuant(rows=4, cell_bits=2, weight_bits=4, input_bits=4, dac_bits=2, adc_bits=4),
    CrossbarQuant(rows=4, cell_bits=2, weight_bits=4, input_bits=4, dac_bits=2, adc_bits=3),
    CrossbarQuant(rows=4, cell_bits=1, weight_bits=3, input_bits=4, dac_bits=1, adc_bits=1),
    CrossbarQuant(rows=3, cell_bits=2, weight_bits=5, input_bits=3, dac_bits=1, adc_bits=2),
    CrossbarQuant(rows=8, cell_bits=2, weight_bits=8, input_bits=8, dac_bits=1, adc_bits=3),
    CrossbarQuant(rows=8, cell_bits=3, weight_bits=8, input_bits=8, dac_bits=2, adc_bits=5),
])
def test_crossbar_matches_the_loop_reference(q: CrossbarQuant) -> None:
    assert q.adc_bits < q.lossless_adc_bits  # the emulated (lossy) path
    x, w = _codes(1, (5, 10), q.input_bits), _codes(2, (3, 10), q.weight_bits)
    got = crossbar_dot(torch.tensor(x, dtype=torch.float32), torch.tensor(w, dtype=torch.float32), q)
    assert np.array_equal(got.numpy().astype(np.int64), reference(x, w, q))


def test_lossless_width_is_the_boundary() -> None:
    """rows 4, 2-bit cells, 2-bit DAC steps: a flipped column's digits sum to at most
    floor(4 * 3 / 2) = 6, so partial sums reach 3 * 6 = 18 and 5 ADC bits read them
    exactly: the product is the exact integer x @ w.T; 4 bits read them to even numbers
    and the product moves."""
    x = np.array([[7, -7, 3, 1, 0, -2], [1, 2, 3, 4, 5, 6]])
    w = np.array([[7, 7, 7, 7, 7, 7], [-1, 0, 1, -3, 5, 2]])
    exact = x @ w.T  # by hand: [[7*(7-7+3+1+0-2), ...]]
    assert exact[0, 0] == 14
    xt, wt = torch.tensor(x, dtype=torch.float32), torch.tensor(w, dtype=torch.float32)
    for adc in (5, 6, 12):
        q = CrossbarQuant(rows=4, cell_bits=2, weight_bits=4, input_bits=4, dac_bits=2, adc_bits=adc)
        assert q.lossless_adc_bits == 5
        assert np.array_equal(crossbar_dot(xt, wt, q).numpy(), exact)
        assert np.array_equal(reference(x, w, q), exact)
    lossy = CrossbarQuant(rows=4, cell_bits=2, weight_bits=4, input_bits=4, dac_bits=2, adc_bits=4)
    got = crossbar_dot(xt, wt, lossy).numpy()
    assert not np.array_equal(got, exact)
    assert np.array_equal(got.astype(np.int64), reference(x, w, lossy))


#: ISAAC's crossbar (Shafiee et al., ISCA 2016, Sec. 5 and Table I): 128 rows, 2-bit
#: cells, 1-bit DAC steps, 8-bit weights and inputs.
ISAAC = {"rows": 128, "cell_bits": 2, "weight_bits": 8, "input_bits": 8, "dac_bits": 1}


def _isaac_columns() -> tuple[np.ndarray, np.ndarray]:
    """One input row at the top code (every input step 1) and two weight columns of 128
    rows. Column 0: every weight at the top code, offset code 255 = digits 3333, so each
    cell slice sums to 384 > 2^8 - 1 unflipped and is stored flipped (all 0). Column 1:
    64 rows of offset code 255, one of 85 (digits 1111), 63 of 0: each slice sums to
    193 > floor(384 / 2) = 192, so it is stored flipped and reads 191, odd: an ADC one bit
    short (step 2) reads it as 192."""
    x = np.full((1, 128), 127)
    col1 = np.array([255] * 64 + [85] + [0] * 63) - 128
    return x, np.stack([np.full(128, 127), col1])


def test_a_flipped_top_code_column_is_exact_at_the_lossless_width_and_not_below() -> None:
    x, w = _isaac_columns()
    exact = x @ w.T
    xt, wt = torch.tensor(x, dtype=torch.float32), torch.tensor(w, dtype=torch.float32)
    at = CrossbarQuant(**ISAAC, adc_bits=8)
    assert at.lossless_adc_bits == 8  # ISAAC Sec. 5: 9 bits, one fewer with the encoding
    assert np.array_equal(crossbar_dot(xt, wt, at).numpy(), exact)
    assert np.array_equal(reference(x, w, at), exact)
    below = CrossbarQuant(**ISAAC, adc_bits=7)
    got = crossbar_dot(xt, wt, below).numpy().astype(np.int64)
    assert np.array_equal(got, reference(x, w, below))
    assert got[0, 0] == exact[0, 0]  # a flipped all-top column reads 0 at any width
    assert got[0, 1] != exact[0, 1]


def test_the_reram_pim_profiles_crossbar_arithmetic_is_lossless() -> None:
    """The reram_pim profile's section, as the accuracy side reads it (its
    ``arithmetic()``, and ``crossbar_quant`` of the section): an 8-bit ADC, lossless on
    both sides; the loop reference over three chunks (the last of 44 rows) of random and
    worst-case columns gives the exact integer product."""
    pim = pimsim.load_profile("reram_pim").pim
    q = CrossbarQuant(**pim.arithmetic())
    assert q == crossbar_quant(pim)
    assert q.adc_bits == 8 == q.lossless_adc_bits == pim.lossless_adc_bits()
    x, w = _isaac_columns()
    rng = np.random.default_rng(3)
    x = np.concatenate([np.tile(x, (1, 3))[:, :300], rng.integers(-127, 128, (1, 300))])
    w = np.concatenate([np.tile(w, (1, 3))[:, :300], rng.integers(-127, 128, (2, 300))])
    exact = x @ w.T
    assert np.array_equal(reference(x, w, q), exact)
    got = crossbar_dot(torch.tensor(x, dtype=torch.float32), torch.tensor(w, dtype=torch.float32), q)
    assert np.array_equal(got.numpy(), exact)


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
                                                          input_bits=8, dac_bits=1, adc_bits=5)}),
        "lossy": Precision(crossbar={fc: CrossbarQuant(rows=16, cell_bits=2, weight_bits=8,
                                                       input_bits=8, dac_bits=1, adc_bits=4)}),
    }.items():
        qm = apply_precision(model, p)
        calibrate(qm, [(dense, sparse)])
        with torch.no_grad():
            outs[name] = qm(dense, sparse)
    assert CrossbarQuant(rows=16, cell_bits=2, weight_bits=8, input_bits=8, dac_bits=1,
                         adc_bits=4).lossless_adc_bits == 5  # 1 * floor(16 * 3 / 2) = 24 < 32
    assert torch.allclose(outs["lossless"], outs["int8"], atol=1e-5, rtol=0)
    assert float((outs["lossy"] - outs["int8"]).abs().max()) > 1e-3
    qm.zero_grad()
    qm(dense, sparse).sum().backward()
    w = model.ops[f"{block}_fc"].linear.weight
    assert w.grad is not None and float(w.grad.abs().sum()) > 0
