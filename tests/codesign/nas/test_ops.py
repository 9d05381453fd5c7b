"""Each operator alone: the extracted module computes what the sliced operator computes,
holds the parameters ``param_count`` says, and torch's own FLOP counter agrees with its
``products`` (torch does not see the fused attention scores on CPU: those are left out)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from codesign.nas.ops import FM, OPS, PORT_SIDE, Dims, Final, Merge, Op, Sizes, init_parameters
from codesign.nas.ops.base import Affine, Norm

SIZES = Sizes(max_dense=64, max_tokens=32, emb_dim=16, dense_sources=(13, 64),
              sparse_sources=(26, 40), dense_heads=("fc",), sparse_heads=("efc",))
#: Products torch's counter does not see (scaled_dot_product_attention on CPU).
FUSED = ("scores", "weighted_sum")


def _inputs(op: type[Op], cols: dict[str, tuple], batch: int, g: torch.Generator) -> list[torch.Tensor]:
    xs = []
    for port in op.reads:
        width = sum(n for _, _, n in cols[port])
        shape = (batch, width) if PORT_SIDE[port] == "dense" else (batch, width, SIZES.emb_dim)
        xs.append(torch.randn(*shape, generator=g))
    return xs


CASES = [
    (OPS["fc"], 48, {"dense": ((0, 0, 13), (1, 0, 20))}),
    (OPS["dot"], 32, {"dense": ((1, 0, 30),), "sparse": ((0, 0, 26), (1, 32, 8))}),
    (OPS["dot"], 36, {"dense": ((0, 0, 16),), "sparse": ((0, 0, 8),)}),  # no projections
    (OPS["gating"], 40, {"left": ((0, 0, 13),), "right": ((1, 0, 24),)}),
    (OPS["gating"], 24, {"left": ((0, 0, 13),), "right": ((1, 0, 24),)}),  # no out_proj
    (OPS["sum"], 64, {"left": ((1, 0, 64),), "right": ((1, 0, 64),)}),
    (OPS["attention"], 16, {"sparse": ((0, 0, 26), (1, 0, 16), (1, 32, 8))}),
    (OPS["efc"], 32, {"sparse": ((1, 0, 40),)}),
]


@pytest.mark.parametrize("op,out,cols", CASES)
def test_extracted_operator_equals_sliced_operator(op: type[Op], out: int, cols: dict) -> None:
    g = torch.Generator().manual_seed(out)
    module = op(SIZES)
    init_parameters(module, g)
    dims = op.dims(out, cols)
    xs = _inputs(op, cols, 4, g)
    alone = module.extract(dims)
    with torch.no_grad():
        ref = module(*xs, dims=dims)
        # the copies are contiguous, the slices not: float rounding may differ in the last bit
        torch.testing.assert_close(alone(*xs), ref, rtol=0, atol=1e-5)
    assert sum(p.numel() for p in alone.parameters()) == module.param_count(dims)
    assert all(isinstance(m, (nn.Linear, nn.LayerNorm)) for m in alone.children())
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        alone(*xs)
    seen = sum(p.flops for p in module.products(dims) if p.name not in FUSED)
    assert fc.get_total_flops() // 2 // 4 == seen


def test_bridge_operators() -> None:
    g = torch.Generator().manual_seed(0)
    for op, dims, xs in (
        (Merge, Dims(out=8, in_width=48), [torch.randn(3, 48, generator=g)]),
        (FM, Dims(out=64), [torch.randn(3, 20, 16, generator=g)]),
        (Final, Dims(out=1, dense_cols=((0, 0, 32),), sparse_cols=((0, 0, 160),), heads=("fc", "efc")),
         [torch.randn(3, 32, generator=g), torch.randn(3, 10, 16, generator=g)]),
    ):
        module = op(SIZES)
        init_parameters(module, g)
        alone = module.extract(dims)
        with torch.no_grad():
            torch.testing.assert_close(alone(*xs), module(*xs, dims=dims), rtol=0, atol=1e-5)
        assert sum(p.numel() for p in alone.parameters()) == module.param_count(dims)
        assert repr(alone).startswith(op.__name__ + "(")


def test_registry_metadata() -> None:
    for name, op in OPS.items():
        assert op.name == name and op.writes in ("dense", "sparse")
        assert op.reads and set(op.reads) <= set(PORT_SIDE)
        assert op.shrinks_to is None or OPS[op.shrinks_to].writes == op.writes
    with pytest.raises(TypeError, match="unknown operator metadata"):
        type("Bad", (Op,), {}, side="dense")


def test_weights_are_typed_pieces() -> None:
    fc = OPS["fc"](SIZES)
    w = fc.slice(OPS["fc"].dims(32, {"dense": ((0, 0, 13),)}))
    assert isinstance(w.linear, Affine) and isinstance(w.norm, Norm)
    assert tuple(w.linear.matrix.shape) == (32, 13) and w.linear.bias is None
