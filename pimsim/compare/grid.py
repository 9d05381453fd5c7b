"""The advantage map's grid: GEMM shapes and embedding tables, each at every batch size.

A point is one kernel at one batch size. GEMM points are ``Gemm(m = batch, k, n)`` (the
weight ``k x n`` resident in memory); embedding points are ``EmbeddingBag(batch, pooling)``
on one table of ``rows x dim`` elements, indices ``uniform`` or ``zipf``. Every point
carries its data type, the same on the host and on PIM.

The default shapes are those of CTR models and of the published PIM points:

- GEMM ``k x n``: ``13x512`` (DLRM's first bottom layer: Criteo's 13 dense features),
  ``16x64`` (a NASRec dense block on 16-wide embeddings), ``256x128``, ``512x256`` and
  ``1024x512`` (DLRM's bottom and top MLP layers, ``pimsim.workload.examples``),
  ``367x1024`` (the example's first top layer: 351 interaction pairs + 16), ``4096x4096``
  (the GEMV of Samsung's HBM-PIM and SK hynix's AiM published speed-ups);
- tables: dims 16, 64, 128 (Criteo DLRM and RecNMP's embedding widths), pooling 1
  (one-hot Criteo), 20 and 80 (RecNMP's multi-hot production pooling), 1 M rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pimsim.errors import PimsimError
from pimsim.hw.dtypes import DTYPE_BITS
from pimsim.workload.kernels import EmbeddingBag, Gemm, Table

#: Kernel families of the grid and the kernel op each one is made of.
FAMILY_OPS: dict[str, str] = {"gemm": "gemm", "embedding": "embedding_bag"}
DEFAULT_BATCHES: tuple[int, ...] = (1, 4, 16, 64, 256)
DEFAULT_GEMMS: tuple[tuple[int, int], ...] = ((13, 512), (16, 64), (256, 128), (512, 256),
                                              (367, 1024), (1024, 512), (4096, 4096))
DEFAULT_DIMS: tuple[int, ...] = (16, 64, 128)
DEFAULT_POOLING: tuple[int, ...] = (1, 20, 80)
DISTRIBUTIONS: tuple[str, ...] = ("uniform", "zipf")
#: Rows of every table of the grid (1 M: larger than every host LLC of the profiles).
DEFAULT_TABLE_ROWS = 1_000_000


@dataclass(frozen=True)
class Point:
    """One kernel at one batch size: ``family`` (gemm | embedding), ``shape`` (the row
    label of the map, without the batch), the kernel and, for embeddings, its table."""

    family: str
    shape: str
    batch: int
    dtype: str
    kernel: Any
    table: Table | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CompareGrid:
    """What ``pimsim compare`` runs for a profile (see the module docstring)."""

    families: tuple[str, ...] = tuple(FAMILY_OPS)
    batches: tuple[int, ...] = DEFAULT_BATCHES
    gemms: tuple[tuple[int, int], ...] = DEFAULT_GEMMS
    dims: tuple[int, ...] = DEFAULT_DIMS
    pooling: tuple[int, ...] = DEFAULT_POOLING
    distributions: tuple[str, ...] = DISTRIBUTIONS
    rows: int = DEFAULT_TABLE_ROWS
    #: Data types of the GEMM points and of the tables (None: the caller's default).
    gemm_dtypes: tuple[str, ...] = ()
    table_dtypes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_choices("family", self.families, FAMILY_OPS)
        check_choices("distribution", self.distributions, DISTRIBUTIONS)
        check_choices("dtype", (*self.gemm_dtypes, *self.table_dtypes), DTYPE_BITS)
        for name, values in (("batch", self.batches), ("dim", self.dims),
                             ("pooling", self.pooling), ("rows", (self.rows,)),
                             ("gemm", [v for s in self.gemms for v in s])):
            bad = [v for v in values if int(v) < 1]
            if bad:
                raise PimsimError(f"--{name}: {bad[0]} is not a positive integer; accepted: "
                                  "whole numbers >= 1")

    def points(self) -> list[Point]:
        """Every point, shape by shape, batches ascending within a shape."""
        pts: list[Point] = []
        batches = sorted(set(self.batches))
        if "gemm" in self.families:
            for dtype in self.gemm_dtypes:
                for k, n in self.gemms:
                    for b in batches:
                        pts.append(Point("gemm", f"{k}x{n}", b, dtype,
                                         Gemm(name=f"gemm_{k}x{n}_b{b}", m=b, k=k, n=n,
                                              dtype=dtype),
                                         params={"k": k, "n": n}))
        if "embedding" in self.families:
            for dtype in self.table_dtypes:
                for dist in self.distributions:
                    for dim in self.dims:
                        for pool in self.pooling:
                            table = Table(rows=self.rows, dim=dim, dtype=dtype)
                            for b in batches:
                                pts.append(Point(
                                    "embedding", f"d{dim} p{pool} {dist}", b, dtype,
                                    EmbeddingBag(name=f"emb_d{dim}_p{pool}_{dist}_b{b}",
                                                 table="t", batch=b, pooling=pool,
                                                 distribution=dist),
                                    table=table,
                                    params={"dim": dim, "pooling": pool,
                                            "distribution": dist, "rows": self.rows}))
        return pts


def check_choices(option: str, values: Sequence[str], accepted: Any) -> None:
    """A PimsimError naming ``--option``, the first value not in ``accepted``, and them."""
    for v in values:
        if v not in accepted:
            raise PimsimError(f"--{option}: {v!r} is not known; accepted: "
                              f"{', '.join(accepted)}")


def positive_int_in(option: str, text: str, part: str) -> int:
    """``part`` of the value ``text`` of ``--option`` as a whole number >= 1."""
    try:
        value = int(part.strip())
    except ValueError:
        raise PimsimError(f"--{option} {text!r}: {part.strip()!r} is not an integer; "
                          "accepted: whole numbers >= 1") from None
    if value < 1:
        raise PimsimError(f"--{option} {text!r}: {value} is not a positive integer; "
                          "accepted: whole numbers >= 1")
    return value


def parse_ints(option: str, text: str) -> tuple[int, ...]:
    """``"1,4,16"`` -> (1, 4, 16); a PimsimError naming ``--option`` for anything else."""
    return tuple(dict.fromkeys(positive_int_in(option, text, p) for p in text.split(",")))


def parse_gemms(text: str) -> tuple[tuple[int, int], ...]:
    """``"13x512,4096x4096"`` -> ((13, 512), (4096, 4096)): input x output features."""
    out: list[tuple[int, int]] = []
    for part in text.split(","):
        k, sep, n = part.strip().lower().partition("x")
        if not sep:
            raise PimsimError(f"--gemm {text!r}: {part.strip()!r} is not KxN; accepted: "
                              "comma-separated KxN (input x output features), e.g. 1024x512")
        out.append((positive_int_in("gemm", text, k), positive_int_in("gemm", text, n)))
    return tuple(dict.fromkeys(out))


def parse_names(option: str, text: str, accepted: Any) -> tuple[str, ...]:
    """``"a,b"`` -> ("a", "b"), each checked against ``accepted``."""
    names = tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    if not names:
        raise PimsimError(f"--{option}: empty; accepted: {', '.join(accepted)}")
    check_choices(option, names, accepted)
    return names
