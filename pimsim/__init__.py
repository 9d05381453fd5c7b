"""pimsim: a cycle-approximate simulator of banked DRAM with Processing-In-Memory units.

The two entry points most users want::

    import pimsim
    profile = pimsim.load_profile("hbm2")
    result = pimsim.replay(profile, addresses, is_write, arrival_cycles)   # request trace
    trace = pimsim.simulate(workload, pimsim.load_profile("hbm2_pim"))     # kernels + PIM

This module is the public API: the only names codesign imports from pimsim, besides the
shared infrastructure of :mod:`pimsim.util`. By group:

- profiles: :func:`load_profile`, :class:`Profile`, :func:`pim_section` (a profile's PIM
  section, or an error naming the profile) and its type :data:`PimSection`;
- workloads: :class:`Workload`, :func:`load_workload`, :func:`save_workload`,
  :func:`criteo_dlrm` (DLRM's Criteo model as a workload, table sizes passed in), the kernel
  types :class:`Table`, :class:`EmbeddingBag`, :class:`Gemm`, :class:`Interaction`,
  :class:`Elementwise`, :class:`Transfer`;
- PIM capabilities: :func:`capabilities` -> :class:`PimCapabilities` (the kernel ops, data
  types, lanes and ALU energy per type and elementwise functions a profile's PIM units
  run, and whether their embedding cost depends on hot-row replication);
  :func:`capacity_refusals` (the PIM kernels whose resident data does not fit the units'
  own storage: weights beyond the crossbars); :func:`host_dtypes` (the data types a
  profile's host computes);
- simulation: :func:`simulate` -> :class:`Trace` of :class:`KernelRecord`,
  :func:`kernel_costs` (per-kernel costs before scheduling, with a caller's cache),
  :data:`ENERGY_COLUMNS` (the energy components of a trace), :func:`background_energy_pj`
  (the memory's background energy over a number of cycles), :func:`standalone_energy_pj`
  (a kernel's system energy while it runs alone: memory background and host static power
  over its time);
- host against PIM for a whole model: :func:`compare_model` -> :class:`ModelComparison`
  (per kernel and batch, host vs PIM latency and energy, and the host-only, naive and
  best plans scheduled: ``pimsim compare``'s model view), :func:`write_model` (its CSV,
  Markdown and plots);
- request replay: :func:`replay` -> :class:`ReplayResult`;
- request replay: :func:`replay_file` (a trace file in bounded memory, per-request
  results to Parquet);
- errors: :class:`PimsimError` and its subclasses :class:`ProfileError`,
  :class:`TraceFormatError`, :class:`WorkloadError`.

Each name is imported from its module on first use (PEP 562), so a program that needs one
part (``pimsim --help``, a trace replay) does not pay for the import of every other part
(numba, pandas, pydantic, simpy: about 0.4 s).
"""

import importlib
from typing import TYPE_CHECKING, Any

#: each public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "PimCapabilities": "pimsim.cost.pim",
    "capabilities": "pimsim.cost.pim",
    "capacity_refusals": "pimsim.cost.pim",
    "ModelComparison": "pimsim.compare.model",
    "compare_model": "pimsim.compare.model",
    "write_model": "pimsim.compare.report",
    "background_energy_pj": "pimsim.energy",
    "standalone_energy_pj": "pimsim.energy",
    "PimsimError": "pimsim.errors",
    "ProfileError": "pimsim.errors",
    "TraceFormatError": "pimsim.errors",
    "WorkloadError": "pimsim.errors",
    "host_dtypes": "pimsim.hw.host",
    "PimSection": "pimsim.hw.pim",
    "pim_section": "pimsim.hw.pim",
    "load_profile": "pimsim.hw.load",
    "Profile": "pimsim.hw.schema",
    "ReplayResult": "pimsim.requests.replay",
    "replay": "pimsim.requests.replay",
    "replay_file": "pimsim.requests.filereplay",
    "kernel_costs": "pimsim.sim.engine",
    "simulate": "pimsim.sim.engine",
    "ENERGY_COLUMNS": "pimsim.sim.trace",
    "KernelRecord": "pimsim.sim.trace",
    "Trace": "pimsim.sim.trace",
    "Workload": "pimsim.workload.graph",
    "criteo_dlrm": "pimsim.workload.examples",
    "load_workload": "pimsim.workload.graph",
    "save_workload": "pimsim.workload.graph",
    "Elementwise": "pimsim.workload.kernels",
    "EmbeddingBag": "pimsim.workload.kernels",
    "Gemm": "pimsim.workload.kernels",
    "Interaction": "pimsim.workload.kernels",
    "Table": "pimsim.workload.kernels",
    "Transfer": "pimsim.workload.kernels",
}

if TYPE_CHECKING:  # the names as static tools see them
    from pimsim.compare.model import ModelComparison, compare_model
    from pimsim.compare.report import write_model
    from pimsim.cost.pim import PimCapabilities, capabilities, capacity_refusals
    from pimsim.energy import background_energy_pj, standalone_energy_pj
    from pimsim.errors import PimsimError, ProfileError, TraceFormatError, WorkloadError
    from pimsim.hw.host import host_dtypes
    from pimsim.hw.load import load_profile
    from pimsim.hw.pim import PimSection, pim_section
    from pimsim.hw.schema import Profile
    from pimsim.requests.filereplay import replay_file
    from pimsim.requests.replay import ReplayResult, replay
    from pimsim.sim.engine import kernel_costs, simulate
    from pimsim.sim.trace import ENERGY_COLUMNS, KernelRecord, Trace
    from pimsim.workload.examples import criteo_dlrm
    from pimsim.workload.graph import Workload, load_workload, save_workload
    from pimsim.workload.kernels import (
        Elementwise, EmbeddingBag, Gemm, Interaction, Table, Transfer,
    )


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (then a plain attribute)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pimsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "ENERGY_COLUMNS",
    "Elementwise",
    "EmbeddingBag",
    "Gemm",
    "Interaction",
    "KernelRecord",
    "ModelComparison",
    "PimsimError",
    "PimCapabilities",
    "PimSection",
    "Profile",
    "ProfileError",
    "ReplayResult",
    "Table",
    "Trace",
    "TraceFormatError",
    "Transfer",
    "Workload",
    "WorkloadError",
    "background_energy_pj",
    "capabilities",
    "capacity_refusals",
    "compare_model",
    "criteo_dlrm",
    "host_dtypes",
    "kernel_costs",
    "load_profile",
    "load_workload",
    "pim_section",
    "replay",
    "replay_file",
    "save_workload",
    "simulate",
    "standalone_energy_pj",
    "write_model",
]
__version__ = "0.1.0"
