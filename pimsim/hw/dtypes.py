"""Element data types that tables, kernels and PIM units declare, and their sizes."""

from __future__ import annotations

from typing import Literal

DType = Literal["fp32", "fp16", "bf16", "int32", "int8"]

#: Bytes of one element of each data type.
DTYPE_BYTES: dict[str, int] = {"fp32": 4, "fp16": 2, "bf16": 2, "int32": 4, "int8": 1}
