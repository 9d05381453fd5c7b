"""The typed ``host`` section of a hardware profile: a roofline processor and its LLC.

Every figure in a YAML profile carries its source in a comment and, for the numbers the
model uses, in the ``sources`` mapping (field name -> citation or estimate reasoning), so
that the provenance travels with the data (Accelergy style).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from pimsim.hw.section import required_section
from pimsim.util.validation import StrictModel


class LlcSection(StrictModel):
    """A last-level cache in front of the DRAM that keeps whole embedding rows (LRU by row)."""

    capacity_bytes: int = Field(gt=0)
    line_bytes: int = Field(default=64, gt=0, description="cache line; rows occupy whole lines")
    policy: Literal["lru_row"] = "lru_row"


class HostSection(StrictModel):
    """The host processor as a roofline on top of the profile's DRAM."""

    peak_gflops: float = Field(gt=0, description="peak FP32 GFLOP/s of the cores used")
    cores: int = Field(ge=1)
    llc: LlcSection | None = None
    pj_per_flop: float = Field(ge=0, description="core energy per FLOP")
    pj_per_byte: float = Field(
        ge=0, description="on-chip energy per byte moved between DRAM interface and cores"
    )
    sources: dict[str, str] = Field(default_factory=dict)

    def compute_ns(self, flops: float) -> float:
        """Roofline compute time of ``flops`` at the peak rate."""
        return float(flops) / self.peak_gflops


def host_section(profile: Any) -> HostSection:
    """The profile's host section (a PimsimError if it has none)."""
    section: HostSection = required_section(
        profile, "host",
        "host kernels need host.peak_gflops, cores, pj_per_flop and pj_per_byte")
    return section
