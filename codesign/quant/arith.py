"""The arithmetic of one dense operator's weighted products, and the activation ranges
that integer inputs are coded against.

- ``fp16`` / ``bf16``: inputs, weights, bias and outputs of each product rounded to the
  type (accumulation in fp32, as fp16/bf16 units with fp32 accumulators do);
- ``int8``: weights symmetric per output channel (scale ``max |w_row| / 127``), inputs
  symmetric per tensor (scale ``absmax / 127``), bias and accumulation exact (int32);
- ``crossbar``: weights to ``weight_bits`` per output channel, inputs to ``input_bits``
  per tensor, the product through :func:`codesign.quant.crossbar.crossbar_dot`.

Activation ranges (:class:`ActRange`) are per tensor and fixed at inference, so that a
row's output never depends on the other rows of its batch: during training a running
range (exponential moving average of each batch's max ``|x|``, weight
:data:`RANGE_MOMENTUM`, as PyTorch's ``MovingAverageMinMaxObserver``), and a calibrated one
for a model that was not trained with its precision (the max ``|x|`` over calibration
rows, :func:`codesign.quant.apply.calibrate`). Symmetric codes keep the integer product
free of zero-point cross terms, which is what a crossbar's partial sums are; non-negative
(ReLU) inputs give up one bit for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from codesign.quant.crossbar import crossbar_dot
from codesign.quant.fake import (
    fake_activation,
    fake_weight,
    round_float,
    ste,
    symmetric_codes,
    symmetric_scale,
    weight_scale,
)
from codesign.quant.precision import CrossbarQuant, PrecisionError

#: Weight of each training batch's max |x| in the running activation range.
RANGE_MOMENTUM = 0.01
#: Bits of the int8 arithmetic.
INT8_BITS = 8


class ActRange(nn.Module):
    """The per-tensor range (max |x|) of one product's input; ``name`` says whose."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        #: Set by :func:`codesign.quant.apply.calibrate` while it runs.
        self.calibrating = False
        self.register_buffer("absmax", torch.tensor(-1.0))  # < 0: not set yet

    def scale(self, x: Tensor, bits: int) -> Tensor:
        """The symmetric ``bits``-bit scale of ``x``, updating the range first when
        calibrating (max) or training (running average)."""
        batch = x.detach().abs().amax()
        with torch.no_grad():
            if self.calibrating or (self.training and self.absmax < 0):
                self.absmax.copy_(torch.maximum(self.absmax, batch))
            elif self.training:
                self.absmax.mul_(1 - RANGE_MOMENTUM).add_(RANGE_MOMENTUM * batch)
            elif self.absmax < 0:
                raise PrecisionError(
                    f"{self.name}: activation range not set; accepted: a model trained with "
                    "its precision, or one calibrated first (codesign.quant.calibrate)"
                )
        return symmetric_scale(self.absmax.detach(), bits)


class BatchRange:
    """A range taken from each batch itself (max |x| of the batch): for training steps
    whose subnet and precision change every step, where a running range has nothing to
    follow. Never for inference: a row's output would depend on its batch."""

    def scale(self, x: Tensor, bits: int) -> Tensor:
        return symmetric_scale(x.detach().abs().amax(), bits)


#: What an operator's product reads its input range from.
Range = ActRange | BatchRange


@dataclass(frozen=True)
class Arithmetic:
    """How one operator's weighted products compute: ``dtype`` is fp16, bf16, int8 or
    ``crossbar`` (then ``crossbar`` holds its arithmetic)."""

    dtype: str
    crossbar: CrossbarQuant | None = None

    @property
    def rounds_float(self) -> bool:
        return self.dtype in ("fp16", "bf16")

    @property
    def needs_range(self) -> bool:
        return self.dtype in ("int8", "crossbar")

    def values(self, x: Tensor) -> Tensor:
        """An operator's input or output as the type holds it (fp16/bf16 rounding; the
        integer types code only the inputs of products)."""
        return round_float(x, self.dtype) if self.rounds_float else x

    def linear(self, x: Tensor, w: Tensor, b: Tensor | None, act: Range | None) -> Tensor:
        """``x @ w.T + b`` in this arithmetic (``act``: the input's range, for int8 and
        crossbar)."""
        if self.rounds_float:
            r = self.values
            return r(F.linear(r(x), r(w), None if b is None else r(b)))
        assert act is not None
        if self.dtype == "int8":
            s = act.scale(x, INT8_BITS)
            return F.linear(fake_activation(x, s, INT8_BITS), fake_weight(w, INT8_BITS), b)
        q = self.crossbar
        assert q is not None
        sx = act.scale(x, q.input_bits)
        sw = weight_scale(w, q.weight_bits)
        codes = symmetric_codes(x.detach(), sx, q.input_bits).reshape(-1, x.shape[-1])
        dot = crossbar_dot(codes, symmetric_codes(w.detach(), sw, q.weight_bits), q)
        y = (dot * (sx.double() * sw.double().T)).to(x.dtype).reshape(*x.shape[:-1], w.shape[0])
        if b is not None:
            y = y + b
        if not torch.is_grad_enabled():
            return y
        # gradients as of the fake-quantised product (straight through the ADC)
        surrogate = F.linear(fake_activation(x, sx, q.input_bits), fake_weight(w, q.weight_bits), b)
        return ste(surrogate, y)
