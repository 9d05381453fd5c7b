"""How a finished supernet's weights are stored: int8 row-wise (or float16) matrices,
float32 vectors.

A finished supernet is only read (subnet estimates refit a copy of the head in float32 and
evaluate), never trained further, so by default its checkpoint keeps each matrix as int8
with one float32 scale per row (symmetric, scale = max |row| / 127, the "int8 row-wise"
format of quantised embedding tables) and every vector (layer-norm weights, biases) as
float32: a quarter of float32's bytes. ``float16`` keeps half of them with a smaller change
to the estimates; ``benchmarks/supernet.py`` measures the change (the "storage" figures).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from codesign.train.config import TrainError

#: Largest magnitude of a stored int8 value (symmetric quantisation).
INT8_MAX = 127
#: Storage formats of a checkpoint's weights.
STORAGE_FORMATS = ("float32", "float16", "int8-rowwise")


def quantize_rowwise(t: Tensor) -> dict[str, Tensor]:
    """``t`` (2-D or more, float) as int8 values and one float32 scale per row of its first
    dimension."""
    rows = t.detach().float().reshape(t.shape[0], -1)
    scale = rows.abs().amax(dim=1) / INT8_MAX
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    q = torch.clamp(torch.round(rows / safe[:, None]), -INT8_MAX, INT8_MAX).to(torch.int8)
    return {"q": q.reshape(t.shape), "scale": scale}


def dequantize_rowwise(stored: dict[str, Tensor]) -> Tensor:
    """The float32 tensor of :func:`quantize_rowwise`'s output."""
    q, scale = stored["q"], stored["scale"]
    return (q.float().reshape(q.shape[0], -1) * scale[:, None]).reshape(q.shape)


def pack_state(state: dict[str, Tensor], storage: str) -> dict[str, Any]:
    """A state dict in ``storage`` format (``float32``: unchanged)."""
    if storage == "float32":
        return {"storage": storage, "tensors": dict(state)}
    if storage not in STORAGE_FORMATS:
        raise TrainError(f"checkpoint storage: {storage!r}; accepted: {', '.join(STORAGE_FORMATS)}")
    tensors: dict[str, Any] = {}
    for name, t in state.items():
        if t.is_floating_point() and t.dim() >= 2:
            tensors[name] = quantize_rowwise(t) if storage == "int8-rowwise" else t.half()
        else:
            tensors[name] = t.float() if t.is_floating_point() else t
    return {"storage": storage, "tensors": tensors}


def unpack_state(packed: dict[str, Any], where: str) -> dict[str, Tensor]:
    """The float32 state dict of :func:`pack_state`'s output."""
    storage = packed.get("storage")
    if storage not in STORAGE_FORMATS:
        raise TrainError(f"{where}: weight storage {storage!r}; accepted: {', '.join(STORAGE_FORMATS)}")
    out: dict[str, Tensor] = {}
    for name, t in packed["tensors"].items():
        out[name] = dequantize_rowwise(t) if isinstance(t, dict) else t.float() if t.is_floating_point() else t
    return out
