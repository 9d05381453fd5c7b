"""The typed ``host`` section of a hardware profile: a processor on top of the DRAM, its LLC.

The host is a roofline with the corrections a real processor needs (DESIGN.md, "honest in
both directions"):

- **achieved FLOP/s by kernel shape**: a GEMM's output is computed in tiles (GPU thread
  blocks / CPU register blocks), the tiles run in waves over ``cores``; the efficiency of
  a shape is its tile quantisation (useful / padded output elements) times its wave
  quantisation (tiles / (waves x cores)), with the best of the profile's ``tiles`` (in
  either orientation: C = AB or its transpose), the way cuBLAS picks a tile per shape
  (NVIDIA, "Matrix Multiplication Background User's Guide", DU-09799-001, 2023, Sec.
  3.1-3.2). An output with a side shorter than every tile (a small batch, a one-output
  layer) runs as matrix-vector kernels of ``gemv_block`` outputs per block, as BLAS
  libraries do; their DRAM traffic is the replayed stream. A GEMM with fewer tiles than
  ``cores`` and a long reduction splits its K dimension over idle cores (split-K, as
  cuBLAS and CUTLASS do for small outputs with large K: CUTLASS, "Efficient GEMM in CUDA",
  parallelised reductions), in slices of at least :data:`SPLIT_K_MIN_SLICE`, so a larger
  batch never runs at a lower rate than a smaller one for want of tiles; the partial-sum
  reduction is not charged (an estimate: m x n x splits accumulators against m x n x k
  multiply-adds). The tiles' different on-chip data reuse is not modelled;
- **peaks per data type** (``peak_gflops_by_dtype``: FP16 tensor cores, VNNI int8, ...; absent
  types run at the FP32 ``peak_gflops``), so host and PIM can run the same type. ``dtypes``
  lists the types the host's hardware computes (FP32 always, and every type with a peak
  of its own); :func:`host_dtypes` is the public query. A kernel of another type keeps
  its storage size and is computed at the FP32 rate (converted on load, as a CPU without
  FP16 arithmetic converts with F16C); embedding pooling (and the dequantisation of a
  row-wise quantised table) runs on the vector units at the FP32 rate;
- a **launch cost** per kernel (``launch_ns``: a GPU kernel launch, a CPU parallel region);
- **static power** (``static_w``) over the whole elapsed time, idle included, beside the
  dynamic ``pj_per_flop`` (at the FP32 peak). Per data type, ``pj_per_flop_by_dtype``
  where a figure is published; otherwise a faster unit does the same work per joule times
  its speed-up (full-load power is the same whichever unit runs, an estimate).

Every figure in a YAML profile carries its source in a comment and, for the numbers the
model uses, in the ``sources`` mapping (field name -> citation or estimate reasoning), so
that the provenance travels with the data (Accelergy style).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator

from pimsim.hw.dtypes import DType
from pimsim.hw.section import required_section
from pimsim.util.validation import StrictModel

#: The shortest K slice split-K gives one block: CUTLASS's usual main-loop depth of a
#: 64-wide tile (an estimate: shorter slices spend more on the reduction than they gain).
SPLIT_K_MIN_SLICE = 64


class LlcSection(StrictModel):
    """A last-level cache in front of the DRAM that keeps whole embedding rows (LRU by row)."""

    capacity_bytes: int = Field(gt=0)
    line_bytes: int = Field(default=64, gt=0, description="cache line; rows occupy whole lines")
    policy: Literal["lru_row"] = "lru_row"


class HostSection(StrictModel):
    """The host processor on top of the profile's DRAM (see the module docstring)."""

    kind: Literal["gpu", "cpu"] = Field(default="gpu", description="processor class")
    peak_gflops: float = Field(gt=0, description="peak FP32 GFLOP/s of the cores used")
    peak_gflops_by_dtype: dict[DType, float] = Field(
        default_factory=dict, description="peak GFLOP/s (GOP/s) for other data types")
    dtypes: list[DType] = Field(
        default_factory=list,
        description="data types the hardware computes (empty: fp32 and the types of "
        "peak_gflops_by_dtype); fp32 always")
    pj_per_flop_by_dtype: dict[DType, float] = Field(
        default_factory=dict,
        description="dynamic energy per FLOP (OP) of other data types (absent: FP32's "
        "scaled by the peak ratio)")
    cores: int = Field(ge=1, description="parallel units a GEMM's tiles are spread over")
    tiles: list[tuple[int, int]] = Field(
        default_factory=list,
        description="output tile shapes (rows, cols) a GEMM may use; empty: no quantisation")
    gemv_block: int | None = Field(
        default=None, ge=1,
        description="outputs per block of the matrix-vector kernels that run outputs with a "
        "side shorter than every tile (None: tiles only)")
    launch_ns: float = Field(default=0.0, ge=0, description="fixed cost of starting a kernel")
    static_w: float = Field(default=0.0, ge=0,
                            description="static power of the host share, charged over "
                            "the whole elapsed time")
    llc: LlcSection | None = None
    pj_per_flop: float = Field(ge=0, description="dynamic core energy per FP32 FLOP")
    pj_per_byte: float = Field(
        ge=0, description="on-chip energy per byte moved between DRAM interface and cores"
    )
    sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _dtypes(self) -> "HostSection":
        if not self.dtypes:
            self.dtypes = ["fp32", *(d for d in self.peak_gflops_by_dtype if d != "fp32")]
        if "fp32" not in self.dtypes:
            raise ValueError(f"dtypes {self.dtypes} must include fp32")
        for field in ("peak_gflops_by_dtype", "pj_per_flop_by_dtype"):
            bad = sorted(set(getattr(self, field)) - set(self.dtypes))
            if bad:
                raise ValueError(f"{field} lists {bad}, which are not in dtypes {self.dtypes}")
        return self

    def peak_for(self, dtype: str | None) -> float:
        """Peak GFLOP/s for ``dtype`` (FP32's where the profile lists none)."""
        if dtype is None:
            return self.peak_gflops
        return float(self.peak_gflops_by_dtype.get(dtype, self.peak_gflops))  # type: ignore[call-overload]

    def pj_per_flop_for(self, dtype: str | None) -> float:
        """Dynamic energy per FLOP for ``dtype``: ``pj_per_flop_by_dtype``, else FP32's
        scaled by the peak ratio."""
        if dtype is not None and dtype in self.pj_per_flop_by_dtype:
            return float(self.pj_per_flop_by_dtype[dtype])  # type: ignore[index]
        return self.pj_per_flop * self.peak_gflops / self.peak_for(dtype)

    def compute_ns(self, flops: float, dtype: str | None = None) -> float:
        """Compute time of ``flops`` at the peak rate of ``dtype``."""
        return float(flops) / self.peak_for(dtype)

    def gemm_efficiency(self, m: int, n: int, k: int | None = None) -> float:
        """Fraction of the peak an ``m x n`` output reaches: the best tile's tile x wave
        quantisation (1 without tiles); with the reduction length ``k``, a shape with fewer
        tiles than cores also splits K over the idle ones (module docstring)."""
        if not self.tiles:
            return 1.0
        best = 0.0
        # C = A B and its transpose C^T = B^T A^T are the same kernel: a library may
        # tile either orientation, so every tile is tried both ways
        shapes = {*self.tiles, *((b, a) for a, b in self.tiles)}
        side = min(min(t) for t in self.tiles)
        if self.gemv_block and min(m, n) < side:
            # a skinny output runs as matrix-vector kernels: one row of the short side
            # per block of gemv_block outputs along the long side
            shapes.add((1, self.gemv_block) if m <= n else (self.gemv_block, 1))
        for tm, tn in shapes:
            gm, gn = math.ceil(m / tm), math.ceil(n / tn)
            tile_q = (m * n) / (gm * tm * gn * tn)
            tiles = gm * gn
            if k is not None and tiles < self.cores:
                tiles *= max(1, min(self.cores // tiles, k // SPLIT_K_MIN_SLICE))
            wave_q = tiles / (math.ceil(tiles / self.cores) * self.cores)
            best = max(best, tile_q * wave_q)
        return best

    def gemm_compute_ns(self, m: int, n: int, k: int, flops: float, dtype: str | None
                        ) -> float:
        """Compute time of an ``m x k`` by ``k x n`` GEMM at its shape's efficiency."""
        return self.compute_ns(flops, dtype) / self.gemm_efficiency(m, n, k)

    def static_pj(self, elapsed_ns: float) -> float:
        """Static energy over ``elapsed_ns`` (W x ns = 1000 pJ)."""
        return self.static_w * 1e3 * float(elapsed_ns)


def host_dtypes(profile: Any) -> tuple[str, ...]:
    """The data types the profile's host computes (fp32 first; a PimsimError if the
    profile has no host section)."""
    return tuple(host_section(profile).dtypes)


def host_section(profile: Any) -> HostSection:
    """The profile's host section (a PimsimError if it has none)."""
    section: HostSection = required_section(
        profile, "host",
        "host kernels need host.peak_gflops, cores, pj_per_flop and pj_per_byte")
    return section
