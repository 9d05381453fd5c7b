"""Re-exports of codesign.hw.mapping and codesign.hw.spec_workload; to be removed with the layout move."""

from typing import Any

from codesign.hw.mapping import (
    DEFAULT_POOLING,
    DEFAULT_ZIPF_S,
    MappedKernel,
    SubnetGraph,
    map_subnet,
    subnet_graph,
    workload_macs,
)

__all__ = ["DEFAULT_POOLING", "DEFAULT_ZIPF_S", "MappedKernel", "SpecWorkload", "SubnetGraph",
           "map_subnet", "subnet_graph", "workload_macs"]


def __getattr__(name: str) -> Any:
    # codesign.hw.spec_workload imports codesign.plan, which imports this module: importing
    # it here at the top would close that cycle while codesign.plan is half initialised.
    if name == "SpecWorkload":
        from codesign.hw.spec_workload import SpecWorkload

        return SpecWorkload
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
