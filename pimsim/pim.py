"""Re-exports of pimsim.cost.pim and pimsim.hw.pim; to be removed with the layout move."""

from pimsim.cost.pim import (
    bandwidth_ratio,
    check_supported,
    internal_bandwidth_gbps,
    pim_kernel_cost,
    unsupported_reason,
)
from pimsim.hw.pim import pim_section

#: The ``elementwise_fns`` of the shipped profiles by kind, for codesign.plan until it
#: reads ``pimsim.cost.pim.capabilities(profile).elementwise_fns`` (the profile's own list).
ELEMENTWISE_FNS: dict[str, frozenset[str]] = {
    "bank_simd": frozenset({"sum", "relu"}),
    "bank_mac": frozenset({"sum", "gating", "relu", "sigmoid"}),
    "buffer_nmp": frozenset(),
    "dpu": frozenset({"sum", "gating", "relu", "sigmoid"}),
}

__all__ = ["ELEMENTWISE_FNS", "bandwidth_ratio", "check_supported", "internal_bandwidth_gbps",
           "pim_kernel_cost", "pim_section", "unsupported_reason"]
