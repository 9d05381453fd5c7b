"""Element data types that tables, kernels and PIM units declare, and their sizes.

Sizes are in bits (:data:`DTYPE_BITS`) so that a sub-byte type (``int4``) has one; the
bytes of a run of elements are :func:`nbytes` (whole bytes, rounded up: two int4 elements
share a byte). :data:`DTYPE_BYTES` keeps the whole-byte types only.

Embedding tables of ``int8`` and ``int4`` are row-wise quantised the way FBGEMM stores
its fused tables: each row carries its own scale and bias after its elements
(:data:`ROWWISE_SCALE_BIAS_BYTES`), and a lookup dequantises ``scale * q + bias``:

- int8: ``dim`` bytes + fp32 scale + fp32 bias (FBGEMM ``src/QuantUtils.cc``,
  ``FloatOrHalfToFused8BitRowwiseQuantizedSBFloat``: ``output_columns = input_columns +
  2 * sizeof(float)``);
- int4: ``ceil(dim / 2)`` bytes + fp16 scale + fp16 bias (FBGEMM
  ``FloatOrHalfToFusedNBitRowwiseQuantizedSBHalf``, bench
  ``EmbeddingSpMDMNBitBenchmark.cc``: ``fused_embedding_dim = ceil(dim / num_elem_per_byte)
  + 2 * sizeof(float16)``; PyTorch's ``embedding_bag_4bit`` reads ``D = (row_bytes - 4) *
  2``).
"""

from __future__ import annotations

from typing import Literal

DType = Literal["fp32", "fp16", "bf16", "int32", "int8", "int4"]

#: Bits of one element of each data type.
DTYPE_BITS: dict[str, int] = {"fp32": 32, "fp16": 16, "bf16": 16, "int32": 32, "int8": 8,
                              "int4": 4}

#: Bytes of one element of the whole-byte data types (``int4`` has none: see :func:`nbytes`).
DTYPE_BYTES: dict[str, int] = {k: v // 8 for k, v in DTYPE_BITS.items() if v % 8 == 0}

#: Bytes of the scale and bias a row-wise quantised table row carries (FBGEMM's fused
#: layouts, module docstring).
ROWWISE_SCALE_BIAS_BYTES: dict[str, int] = {"int8": 8, "int4": 4}


def nbytes(dtype: str, count: int) -> int:
    """Bytes of ``count`` packed elements of ``dtype``, rounded up to whole bytes."""
    return -(-int(count) * DTYPE_BITS[dtype] // 8)


def element_bytes(dtype: str) -> float:
    """Bytes of one element (0.5 for int4): for rates in bytes per lane operation."""
    return DTYPE_BITS[dtype] / 8.0


def row_bytes(dtype: str, dim: int) -> int:
    """Bytes of one embedding-table row of ``dim`` elements: the packed elements, plus
    the row's scale and bias when ``dtype`` is row-wise quantised."""
    return nbytes(dtype, dim) + ROWWISE_SCALE_BIAS_BYTES.get(dtype, 0)


def is_rowwise_quantised(dtype: str) -> bool:
    """Whether a table of ``dtype`` stores row-wise quantised rows (scale and bias)."""
    return dtype in ROWWISE_SCALE_BIAS_BYTES
