"""The kernels of a recommender workload, with exact shapes and data types.

Kernels (``op`` discriminates them in YAML/JSON):

- ``embedding_bag`` (:class:`EmbeddingBag`): gather ``pooling`` rows per bag from a table
  and sum them (SparseLengthsSum). Indices come from :mod:`pimsim.workload.indices`.
- ``gemm`` (:class:`Gemm`): ``out[m, n] = in[m, k] @ W[k, n]``; W resides in memory.
- ``interaction`` (:class:`Interaction`): pairwise dot products of ``tokens`` vectors of
  width ``dim`` per sample (DLRM / NASRec dot-product).
- ``elementwise`` (:class:`Elementwise`): ``sum`` of several inputs, ``gating``
  (``a * sigmoid(b)``), ``relu`` or ``sigmoid``.
- ``transfer`` (:class:`Transfer`): bytes moved between host and PIM.

FLOPs count a multiply-add as 2 FLOPs (``macs`` gives multiply-adds). Each kernel carries
``placement`` = ``host`` | ``pim``.

Sizes follow the data type in bits (:mod:`pimsim.hw.dtypes`): an ``int4`` element is half
a byte. A table of ``int8`` or ``int4`` holds row-wise quantised rows (FBGEMM's fused
layout: the packed elements, then the row's scale and bias), and pooling it dequantises
every element it reads: one multiply-add (``scale * q + bias``) per element besides the
pooling add (FBGEMM's reference ``EmbeddingSpMDM``: ``out = fma(scale, q, out + bias)``),
counted by :meth:`EmbeddingBag.dequant_macs` on whichever unit pools.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Annotated, Literal, Union

import numpy as np
from pydantic import ConfigDict, Field, model_validator

from pimsim.errors import WorkloadError
from pimsim.hw.dtypes import DType, is_rowwise_quantised, nbytes, row_bytes
from pimsim.util.rng import DEFAULT_ZIPF_S
from pimsim.util.validation import StrictModel
from pimsim.workload.indices import bag_indices, read_indices_file

Placement = Literal["host", "pim"]


class WorkloadModel(StrictModel):
    """The strict base of workload models, without validation on assignment: the
    after-validators normalise fields by assigning them."""

    model_config = ConfigDict(validate_assignment=False)


class Table(WorkloadModel):
    """An embedding table: ``rows`` x ``dim`` elements of ``dtype`` (``int8`` / ``int4``:
    row-wise quantised rows with their scale and bias, see the module docstring)."""

    rows: int = Field(ge=1)
    dim: int = Field(ge=1)
    dtype: DType = "fp32"

    @property
    def quantised(self) -> bool:
        """Whether the rows are row-wise quantised (a scale and bias per row)."""
        return is_rowwise_quantised(self.dtype)

    @property
    def row_bytes(self) -> int:
        """Bytes of one row: its packed elements (and scale and bias when quantised)."""
        return row_bytes(self.dtype, self.dim)

    @property
    def pooled_dtype(self) -> str:
        """Type of a pooled (summed) row: fp32 for a quantised table (dequantised, as
        FBGEMM's quantised lookups return), else the table's type."""
        return "fp32" if self.quantised else self.dtype

    @property
    def pooled_row_bytes(self) -> int:
        """Bytes of one pooled row (a bag's output or a partial sum)."""
        return nbytes(self.pooled_dtype, self.dim)

    @property
    def bytes(self) -> int:
        return self.rows * self.row_bytes


class _KernelBase(WorkloadModel):
    name: str = Field(min_length=1)
    placement: Placement = "host"

    # Every kernel defines these; the defaults are for kernels without the quantity.
    def flops(self) -> int:
        return 0

    def macs(self) -> int:
        return 0

    def resident_bytes(self) -> int:
        """Bytes of data resident in memory that the kernel reads (tables, weights)."""
        return 0

    def input_bytes(self) -> int:
        """Bytes of activations the kernel consumes from its producers."""
        return 0

    def output_bytes(self) -> int:
        return 0

    def output_shape(self) -> tuple[int, int] | None:
        return None

    def signature(self) -> str:
        """Identity of the work, independent of the kernel's name (for result caching)."""
        data = self.model_dump(exclude={"name"})
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:24]


class EmbeddingBag(_KernelBase):
    op: Literal["embedding_bag"] = "embedding_bag"
    table: str = Field(min_length=1)
    rows: int | None = Field(default=None, ge=1, description="must match the table if given")
    dim: int | None = Field(default=None, ge=1, description="must match the table if given")
    dtype: DType | None = Field(default=None, description="must match the table if given")
    batch: int = Field(ge=1)
    pooling: int | None = Field(default=None, ge=1)
    distribution: Literal["uniform", "zipf", "explicit", "file"] = "uniform"
    zipf_s: float = Field(default=DEFAULT_ZIPF_S, gt=0)
    indices: list[list[int]] | None = None
    indices_file: str | None = None

    @model_validator(mode="after")
    def _source(self) -> "EmbeddingBag":
        if self.indices is not None:
            self.distribution = "explicit"
        elif self.indices_file is not None:
            self.distribution = "file"
        if self.distribution == "explicit":
            if self.indices is None or len(self.indices) != self.batch:
                got = None if self.indices is None else len(self.indices)
                raise ValueError(f"indices: need {self.batch} bags (batch), got {got}")
        elif self.distribution == "file":
            if self.indices_file is None:
                raise ValueError("distribution 'file' needs indices_file")
        elif self.pooling is None:
            raise ValueError(f"pooling is required for distribution {self.distribution!r}")
        return self

    # shapes are resolved against the workload's table (Workload.bind)
    _table: Table | None = None
    # lookups of an indices_file, counted when first asked for
    _file_lookups: int | None = None

    def bind(self, table: Table) -> None:
        self._table = table

    @property
    def tbl(self) -> Table:
        if self._table is None:
            if self.rows is None or self.dim is None:
                raise WorkloadError(
                    f"kernel {self.name!r}: table {self.table!r} not bound; put the kernel "
                    "in a Workload with that table or give rows and dim"
                )
            return Table(rows=self.rows, dim=self.dim, dtype=self.dtype or "fp32")
        return self._table

    def lookups(self) -> int:
        if self.indices is not None:
            return sum(len(b) for b in self.indices)
        if self.indices_file is not None:
            if self._file_lookups is None:
                self._file_lookups = int(read_indices_file(self)[0].sum())
            return self._file_lookups
        if self.pooling is not None:
            return self.batch * self.pooling
        raise WorkloadError(f"kernel {self.name!r}: no pooling, indices or indices_file; "
                            "accepted: one of them")

    def pooling_adds(self) -> int:
        """One add per element of every pooled row beyond the first of its bag."""
        return max(0, self.lookups() - self.batch) * self.tbl.dim

    def dequant_macs(self) -> int:
        """Multiply-adds that dequantise the looked-up rows (one per element of a
        row-wise quantised table, none for a float table)."""
        return self.lookups() * self.tbl.dim if self.tbl.quantised else 0

    def flops(self) -> int:
        return self.pooling_adds() + 2 * self.dequant_macs()

    def resident_bytes(self) -> int:
        return self.lookups() * self.tbl.row_bytes

    def output_bytes(self) -> int:
        return self.batch * self.tbl.pooled_row_bytes

    def output_shape(self) -> tuple[int, int]:
        return (self.batch, self.tbl.dim)

    def signature(self) -> str:
        """Identity of the work, the bound table's shape and data type included (a table
        of another type or size is other work, whatever its name)."""
        data = {"kernel": self.model_dump(exclude={"name"}),
                "table": self.tbl.model_dump() if self._table is not None else None}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:24]

    def bag_indices(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(offsets[batch + 1], row indices) of every bag, as int64."""
        return bag_indices(self, self.tbl.rows, rng)


class _MatrixOutput(_KernelBase):
    """A kernel whose output is an ``m`` x ``n`` matrix of ``dtype``. The subclass declares
    the three fields (declared here, they would come first in every YAML dump)."""

    if TYPE_CHECKING:
        m: int
        n: int
        dtype: DType

    def output_bytes(self) -> int:
        return nbytes(self.dtype, self.m * self.n)

    def output_shape(self) -> tuple[int, int]:
        return (self.m, self.n)


class Gemm(_MatrixOutput):
    op: Literal["gemm"] = "gemm"
    m: int = Field(ge=1, description="rows of the input (batch)")
    n: int = Field(ge=1, description="output features")
    k: int = Field(ge=1, description="input features")
    dtype: DType = "fp32"
    weight: str | None = Field(default=None, description="id of the resident weight matrix")
    activation_operand: bool = Field(
        default=False,
        description="the k x n operand is an activation computed at run time (attention "
        "scores x values), not a resident weight: PIM units cannot hold it")

    def macs(self) -> int:
        return self.m * self.n * self.k

    def flops(self) -> int:
        return 2 * self.macs()

    def resident_bytes(self) -> int:
        return nbytes(self.dtype, self.k * self.n)

    def input_bytes(self) -> int:
        return nbytes(self.dtype, self.m * self.k)


class Interaction(_KernelBase):
    op: Literal["interaction"] = "interaction"
    batch: int = Field(ge=1)
    tokens: int = Field(ge=2)
    dim: int = Field(ge=1)
    dtype: DType = "fp32"
    self_interaction: bool = False
    #: Compute the whole tokens x tokens Gram matrix (a batched matmul, as torch.bmm in
    #: NASRec's dot-product) and keep the pairs; False: only the pairs are computed.
    full_matrix: bool = False

    def pairs(self) -> int:
        t = self.tokens
        return t * (t + 1) // 2 if self.self_interaction else t * (t - 1) // 2

    def macs(self) -> int:
        products = self.tokens * self.tokens if self.full_matrix else self.pairs()
        return self.batch * products * self.dim

    def flops(self) -> int:
        return 2 * self.macs()

    def input_bytes(self) -> int:
        return nbytes(self.dtype, self.batch * self.tokens * self.dim)

    def output_bytes(self) -> int:
        return nbytes(self.dtype, self.batch * self.pairs())

    def output_shape(self) -> tuple[int, int]:
        return (self.batch, self.pairs())


#: FLOPs per output element of each elementwise function (sigmoid ~ exp + add + div + neg).
ELEMENTWISE_FLOPS: dict[str, int] = {"relu": 1, "sigmoid": 4, "gating": 5}


class Elementwise(_MatrixOutput):
    op: Literal["elementwise"] = "elementwise"
    fn: Literal["sum", "gating", "relu", "sigmoid"]
    m: int = Field(ge=1)
    n: int = Field(ge=1)
    inputs: int = Field(default=1, ge=1)
    dtype: DType = "fp32"

    @model_validator(mode="after")
    def _arity(self) -> "Elementwise":
        need = {"sum": None, "gating": 2, "relu": 1, "sigmoid": 1}[self.fn]
        if self.fn == "sum" and self.inputs < 2:
            raise ValueError(f"inputs = {self.inputs}: 'sum' needs at least 2")
        if need is not None and self.inputs != need:
            raise ValueError(f"inputs = {self.inputs}: {self.fn!r} takes exactly {need}")
        return self

    def flops(self) -> int:
        per = self.inputs - 1 if self.fn == "sum" else ELEMENTWISE_FLOPS[self.fn]
        return self.m * self.n * per

    def input_bytes(self) -> int:
        return self.inputs * self.output_bytes()


class Transfer(_KernelBase):
    op: Literal["transfer"] = "transfer"
    bytes: int = Field(ge=1)
    direction: Literal["host_to_pim", "pim_to_host"]

    def input_bytes(self) -> int:
        return self.bytes

    def output_bytes(self) -> int:
        return self.bytes


Kernel = Annotated[
    Union[EmbeddingBag, Gemm, Interaction, Elementwise, Transfer], Field(discriminator="op")
]
KERNEL_TYPES = (EmbeddingBag, Gemm, Interaction, Elementwise, Transfer)
