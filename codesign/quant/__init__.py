"""Numeric precision of a subnet and what it does to the model's accuracy.

- ``precision``: :class:`Precision` (the data type of each embedding table and each dense
  operator, and the crossbar arithmetic of operators placed on a ReRAM crossbar), its
  validation, canonical key and JSON form;
- ``fake``: fake quantisation with straight-through gradients: FBGEMM-style row-wise
  int8 / int4 table rows, fp16 / bf16 rounding, symmetric int8 weights and activations;
- ``crossbar``: a matrix product as a bit-sliced crossbar computes it (weights and inputs
  sliced onto cells and DAC steps, each crossbar's partial sums through an ADC);
- ``arith``: the arithmetic of one dense operator (which of the above its products use)
  and the calibrated activation ranges;
- ``apply``: :func:`apply_precision`, a subnet whose forward applies a precision.

Operator keys are the PIM mapping's kernel-name prefixes (``b3.fc`` for block 3's FC,
``final`` for the logit layer): every kernel ``b3.fc.*`` of :mod:`codesign.hw.mapping`
runs at ``ops["b3.fc"]``.
"""

from codesign.quant.apply import (
    QuantizedSubnet,
    apply_precision,
    calibrate,
    operator_keys,
    plan_operator_keys,
    uniform_precision,
)
from codesign.quant.precision import (
    DENSE_DTYPES,
    TABLE_DTYPES,
    CrossbarQuant,
    Precision,
    PrecisionError,
    load_precision,
)

__all__ = [
    "DENSE_DTYPES", "TABLE_DTYPES", "CrossbarQuant", "Precision", "PrecisionError",
    "QuantizedSubnet", "apply_precision", "calibrate", "load_precision", "operator_keys",
    "plan_operator_keys", "uniform_precision",
]
