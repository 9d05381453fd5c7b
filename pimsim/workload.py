"""Workloads: recommender kernels with exact shapes and data types, forming a DAG.

Kernels (``op`` discriminates them in YAML/JSON):

- ``embedding_bag`` (:class:`EmbeddingBag`): gather ``pooling`` rows per bag from a table
  and sum them (SparseLengthsSum). Indices are uniform, bounded Zipf(s), explicit per bag,
  or read from a file (``.npy`` of shape (batch, pooling), or text with one bag per line).
- ``gemm`` (:class:`Gemm`): ``out[m, n] = in[m, k] @ W[k, n]``; W resides in memory.
- ``interaction`` (:class:`Interaction`): pairwise dot products of ``tokens`` vectors of
  width ``dim`` per sample (DLRM / NASRec dot-product).
- ``elementwise`` (:class:`Elementwise`): ``sum`` of several inputs, ``gating``
  (``a * sigmoid(b)``), ``relu`` or ``sigmoid``.
- ``transfer`` (:class:`Transfer`): bytes moved between host and PIM.

FLOPs count a multiply-add as 2 FLOPs (``macs`` gives multiply-adds). Each kernel carries
``placement`` = ``host`` | ``pim``; ``Workload.fallback_to_host`` lets kernels a PIM kind
cannot run fall back to the host instead of raising.

Shape rule along DAG edges: a kernel's inputs are the outputs of its dependencies,
concatenated along the feature axis. A ``gemm`` needs rows == m and total width == k;
``elementwise`` needs every input of shape (m, n); ``interaction`` needs rows == batch and
total width == tokens x dim. ``transfer`` passes its single input's shape through.
Dependencies without a shape (transfers without input) are not checked.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pimsim.errors import WorkloadError
from pimsim.profile_sections import DTYPE_BYTES, DType
from pimsim.fileio import atomic_write_text

Placement = Literal["host", "pim"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Table(_Strict):
    """An embedding table: ``rows`` x ``dim`` elements of ``dtype``."""

    rows: int = Field(ge=1)
    dim: int = Field(ge=1)
    dtype: DType = "fp32"

    @property
    def row_bytes(self) -> int:
        return self.dim * DTYPE_BYTES[self.dtype]

    @property
    def bytes(self) -> int:
        return self.rows * self.row_bytes


class _KernelBase(_Strict):
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
    zipf_s: float = Field(default=1.05, gt=0)
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
        if self.pooling is not None:
            return self.batch * self.pooling
        raise WorkloadError(f"kernel {self.name!r}: lookups unknown before the file is read")

    def flops(self) -> int:  # one add per element of every pooled row beyond the first
        return max(0, self.lookups() - self.batch) * self.tbl.dim

    def resident_bytes(self) -> int:
        return self.lookups() * self.tbl.row_bytes

    def output_bytes(self) -> int:
        return self.batch * self.tbl.row_bytes

    def output_shape(self) -> tuple[int, int]:
        return (self.batch, self.tbl.dim)

    def bag_indices(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(offsets[batch + 1], row indices) of every bag, as int64."""
        rows = self.tbl.rows
        if self.distribution == "explicit":
            assert self.indices is not None
            lens = np.array([len(b) for b in self.indices], dtype=np.int64)
            idx = np.fromiter((i for b in self.indices for i in b), dtype=np.int64,
                              count=int(lens.sum()))
        elif self.distribution == "file":
            lens, idx = _read_indices_file(self)
        else:
            assert self.pooling is not None
            n = self.batch * self.pooling
            lens = np.full(self.batch, self.pooling, dtype=np.int64)
            if self.distribution == "uniform":
                idx = rng.integers(0, rows, size=n, dtype=np.int64)
            else:
                idx = zipf_rows(rng, rows, self.zipf_s, n)
        if idx.size and (idx.min() < 0 or idx.max() >= rows):
            bad = int(idx[(idx < 0) | (idx >= rows)][0])
            raise WorkloadError(
                f"kernel {self.name!r}: index {bad} out of range for table {self.table!r}; "
                f"accepted: 0..{rows - 1}"
            )
        offsets = np.zeros(lens.size + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        return offsets, idx


def zipf_rows(rng: np.random.Generator, rows: int, s: float, n: int) -> np.ndarray:
    """``n`` row ids drawn from a bounded Zipf(s) over ranks 1..rows.

    Ranks come from the inverse CDF of the continuous power law x^-s on [1, rows + 1),
    floored (O(n), no per-row table); rank r maps to row ``(r * a + b) mod rows`` with
    ``a`` coprime to ``rows`` - a fixed bijection that scatters hot rows like a random
    permutation would.
    """
    u = rng.random(n)
    hi = float(rows) + 1.0
    if abs(s - 1.0) < 1e-9:
        x = np.exp(u * np.log(hi))
    else:
        e = 1.0 - s
        x = (1.0 + u * (hi**e - 1.0)) ** (1.0 / e)
    rank = np.minimum(np.floor(x).astype(np.int64), rows) - 1
    a = _coprime_multiplier(rows)
    return (rank * a + 12345) % rows


def _coprime_multiplier(rows: int) -> int:
    a = int(rows * 0.6180339887) | 1
    while a > 1 and np.gcd(a, rows) != 1:
        a += 2
    return max(a, 1)


def _read_indices_file(k: EmbeddingBag) -> tuple[np.ndarray, np.ndarray]:
    assert k.indices_file is not None
    path = Path(k.indices_file)
    if not path.is_file():
        raise WorkloadError(f"kernel {k.name!r}: indices_file {str(path)!r} not found")
    if path.suffix == ".npy":
        arr = np.load(path)
        if arr.ndim != 2 or arr.shape[0] != k.batch:
            raise WorkloadError(
                f"kernel {k.name!r}: indices_file {str(path)!r} has shape {arr.shape}; "
                f"accepted: ({k.batch}, pooling)"
            )
        return np.full(k.batch, arr.shape[1], dtype=np.int64), arr.astype(np.int64).ravel()
    lens: list[int] = []
    vals: list[int] = []
    with path.open() as fh:
        for lineno, line in enumerate(fh, 1):
            text = line.strip()
            if not text:
                continue
            try:
                bag = [int(t) for t in text.replace(",", " ").split()]
            except ValueError:
                raise WorkloadError(
                    f"{path}:{lineno}: kernel {k.name!r}: {text[:60]!r} is not a list of "
                    "integers; accepted: row ids separated by spaces or commas"
                ) from None
            lens.append(len(bag))
            vals.extend(bag)
    if len(lens) != k.batch:
        raise WorkloadError(
            f"{path}: kernel {k.name!r}: {len(lens)} bags; accepted: batch = {k.batch}"
        )
    return np.array(lens, dtype=np.int64), np.array(vals, dtype=np.int64)


class Gemm(_KernelBase):
    op: Literal["gemm"] = "gemm"
    m: int = Field(ge=1, description="rows of the input (batch)")
    n: int = Field(ge=1, description="output features")
    k: int = Field(ge=1, description="input features")
    dtype: DType = "fp32"
    weight: str | None = Field(default=None, description="id of the resident weight matrix")

    def macs(self) -> int:
        return self.m * self.n * self.k

    def flops(self) -> int:
        return 2 * self.macs()

    def resident_bytes(self) -> int:
        return self.k * self.n * DTYPE_BYTES[self.dtype]

    def input_bytes(self) -> int:
        return self.m * self.k * DTYPE_BYTES[self.dtype]

    def output_bytes(self) -> int:
        return self.m * self.n * DTYPE_BYTES[self.dtype]

    def output_shape(self) -> tuple[int, int]:
        return (self.m, self.n)


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
        return self.batch * self.tokens * self.dim * DTYPE_BYTES[self.dtype]

    def output_bytes(self) -> int:
        return self.batch * self.pairs() * DTYPE_BYTES[self.dtype]

    def output_shape(self) -> tuple[int, int]:
        return (self.batch, self.pairs())


#: FLOPs per output element of each elementwise function (sigmoid ~ exp + add + div + neg).
ELEMENTWISE_FLOPS: dict[str, int] = {"relu": 1, "sigmoid": 4, "gating": 5}


class Elementwise(_KernelBase):
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
        return self.inputs * self.m * self.n * DTYPE_BYTES[self.dtype]

    def output_bytes(self) -> int:
        return self.m * self.n * DTYPE_BYTES[self.dtype]

    def output_shape(self) -> tuple[int, int]:
        return (self.m, self.n)


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


class Workload(_Strict):
    """Kernels, their dependencies (kernel -> kernels it waits for) and embedding tables."""

    name: str = "workload"
    tables: dict[str, Table] = Field(default_factory=dict)
    kernels: list[Kernel] = Field(min_length=1)
    deps: dict[str, list[str]] = Field(default_factory=dict)
    fallback_to_host: bool = False
    #: Check the shape rule along deps. Off for workloads whose edges carry reshapes or
    #: transposes (codesign.mapping: token-axis maps read tokens as (batch x emb, tokens)).
    check_shapes: bool = True

    @model_validator(mode="after")
    def _check(self) -> "Workload":
        names: dict[str, Any] = {}
        for i, k in enumerate(self.kernels):
            if k.name in names:
                raise WorkloadError(f"kernels[{i}].name: duplicate kernel name {k.name!r}")
            names[k.name] = k
        for kname, ds in self.deps.items():
            if kname not in names:
                raise WorkloadError(
                    f"deps.{kname}: unknown kernel {kname!r}; accepted: {sorted(names)}"
                )
            for d in ds:
                if d not in names:
                    raise WorkloadError(
                        f"deps.{kname}: unknown dependency {d!r}; accepted: {sorted(names)}"
                    )
                if d == kname:
                    raise WorkloadError(f"deps.{kname}: a kernel cannot depend on itself")
        for i, k in enumerate(self.kernels):
            if isinstance(k, EmbeddingBag):
                self._bind_table(i, k)
        self.topological_order()  # raises on a cycle
        if self.check_shapes:
            self._check_shapes()
        return self

    def _bind_table(self, i: int, k: EmbeddingBag) -> None:
        if k.table not in self.tables:
            if k.rows is not None and k.dim is not None and not self.tables.get(k.table):
                # a kernel may define its table inline
                self.tables[k.table] = Table(rows=k.rows, dim=k.dim, dtype=k.dtype or "fp32")
            else:
                raise WorkloadError(
                    f"kernels[{i}] ({k.name!r}).table: unknown table {k.table!r}; accepted: "
                    f"{sorted(self.tables)} (or give rows and dim on the kernel)"
                )
        t = self.tables[k.table]
        for field, want in (("rows", t.rows), ("dim", t.dim), ("dtype", t.dtype)):
            got = getattr(k, field)
            if got is not None and got != want:
                raise WorkloadError(
                    f"kernels[{i}] ({k.name!r}).{field}: {got!r} does not match table "
                    f"{k.table!r} ({field} = {want!r})"
                )
        k.bind(t)

    def kernel(self, name: str) -> Any:
        for k in self.kernels:
            if k.name == name:
                return k
        raise WorkloadError(f"unknown kernel {name!r}")

    def topological_order(self) -> list[str]:
        order = [k.name for k in self.kernels]
        indeg = {n: len(set(self.deps.get(n, []))) for n in order}
        users: dict[str, list[str]] = {n: [] for n in order}
        for n in order:
            for d in set(self.deps.get(n, [])):
                users[d].append(n)
        ready = [n for n in order if indeg[n] == 0]
        out: list[str] = []
        while ready:
            n = ready.pop(0)
            out.append(n)
            for u in users[n]:
                indeg[u] -= 1
                if indeg[u] == 0:
                    ready.append(u)
        if len(out) != len(order):
            cyc = sorted(n for n in order if indeg[n] > 0)
            raise WorkloadError(f"deps: dependency cycle among kernels {cyc}")
        return out

    def _check_shapes(self) -> None:
        shapes: dict[str, tuple[int, int] | None] = {}
        for name in self.topological_order():
            k = self.kernel(name)
            ins = [shapes[d] for d in self.deps.get(name, [])]
            known = [s for s in ins if s is not None]
            if isinstance(k, Transfer):
                shapes[name] = known[0] if len(known) == 1 else None
                continue
            if known and len(known) == len(ins):
                rows = {s[0] for s in known}
                width = sum(s[1] for s in known)
                if isinstance(k, Gemm):
                    want_rows, want_w, what = k.m, k.k, "m and k"
                elif isinstance(k, Interaction):
                    want_rows, want_w, what = k.batch, k.tokens * k.dim, "batch and tokens x dim"
                elif isinstance(k, Elementwise):
                    want_rows, want_w, what = k.m, k.n * k.inputs, "m and inputs x n"
                    if any(s != (k.m, k.n) for s in known) or len(known) != k.inputs:
                        raise WorkloadError(
                            f"kernel {name!r}: inputs have shapes {known}; accepted: "
                            f"{k.inputs} input(s) of shape ({k.m}, {k.n})"
                        )
                else:
                    want_rows, want_w, what = None, None, ""
                if want_rows is not None and (rows != {want_rows} or width != want_w):
                    raise WorkloadError(
                        f"kernel {name!r}: shape mismatch, inputs {known} (concatenated: rows "
                        f"{sorted(rows)}, width {width}) do not match {what} = "
                        f"({want_rows}, {want_w})"
                    )
            shapes[name] = k.output_shape()

    # --- I/O -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=False)

    @classmethod
    def from_dict(cls, data: Any, source: str = "<workload>") -> "Workload":
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise WorkloadError(
                f"{source}: {loc}: {err['msg']} (value: {err.get('input')!r})"
            ) from None


def load_workload(path: str | os.PathLike[str]) -> Workload:
    """Read a workload from YAML or JSON; relative ``indices_file`` paths are resolved
    against the workload file's folder."""
    p = Path(path)
    if not p.is_file():
        raise WorkloadError(f"workload file {str(p)!r} not found")
    try:
        text = p.read_text()
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise WorkloadError(f"{p}: not valid {'JSON' if p.suffix == '.json' else 'YAML'}: "
                            f"{exc}") from None
    if not isinstance(data, dict):
        raise WorkloadError(f"{p}: top level must be a mapping with 'kernels'")
    for k in data.get("kernels", []) or []:
        if isinstance(k, dict) and isinstance(k.get("indices_file"), str):
            f = Path(k["indices_file"])
            if not f.is_absolute():
                k["indices_file"] = str(p.parent / f)
    return Workload.from_dict(data, source=str(p))


def save_workload(workload: Workload, path: str | os.PathLike[str]) -> Path:
    """Write YAML (or JSON for a ``.json`` suffix) atomically."""
    p = Path(path)
    data = workload.to_dict()
    text = json.dumps(data, indent=1) if p.suffix == ".json" else yaml.safe_dump(
        data, sort_keys=False)
    atomic_write_text(p, text)
    return p


#: Rows of the 26 categorical features of Criteo Kaggle (Display Advertising Challenge),
#: as the DLRM reference implementation counts them (facebookresearch/dlrm, Kaggle set).
CRITEO_TABLE_ROWS: tuple[int, ...] = (
    1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194, 27,
    14992, 5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572,
)


def criteo_dlrm(
    *,
    batch: int = 256,
    pooling: int = 1,
    dim: int = 16,
    dtype: str = "fp32",
    embedding_placement: Placement = "host",
    mlp_placement: Placement = "host",
    distribution: str = "zipf",
    fallback_to_host: bool = False,
) -> Workload:
    """A Criteo-sized DLRM inference batch: 26 embedding bags, a 3-layer bottom MLP
    (13-512-256-dim), the dot interaction of 27 tokens and a 4-layer top MLP
    (-1024-512-256-1): 7 GEMM layers."""
    tables = {f"t{i}": Table(rows=r, dim=dim, dtype=dtype) for i, r in enumerate(CRITEO_TABLE_ROWS)}
    kernels: list[Any] = []
    deps: dict[str, list[str]] = {}
    for i in range(len(CRITEO_TABLE_ROWS)):
        kernels.append(EmbeddingBag(name=f"emb{i}", table=f"t{i}", batch=batch, pooling=pooling,
                                    distribution=distribution, placement=embedding_placement))
    prev, width = None, 13
    for j, n in enumerate((512, 256, dim)):
        kernels.append(Gemm(name=f"bot{j}", m=batch, k=width, n=n, dtype=dtype,
                            placement=mlp_placement))
        if prev:
            deps[f"bot{j}"] = [prev]
        prev, width = f"bot{j}", n
    tokens = len(CRITEO_TABLE_ROWS) + 1
    kernels.append(Interaction(name="interact", batch=batch, tokens=tokens, dim=dim, dtype=dtype))
    deps["interact"] = [prev] + [f"emb{i}" for i in range(len(CRITEO_TABLE_ROWS))]
    prev_list, width = ["interact", prev], tokens * (tokens - 1) // 2 + dim
    for j, n in enumerate((1024, 512, 256, 1)):
        kernels.append(Gemm(name=f"top{j}", m=batch, k=width, n=n, dtype=dtype,
                            placement=mlp_placement))
        deps[f"top{j}"] = prev_list
        prev_list, width = [f"top{j}"], n
    return Workload(name=f"criteo_dlrm_b{batch}_p{pooling}", tables=tables, kernels=kernels,
                    deps=deps, fallback_to_host=fallback_to_host)
