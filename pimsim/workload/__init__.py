"""Workloads: recommender kernels with exact shapes and data types, forming a DAG.

:mod:`~pimsim.workload.kernels` defines the kernel types, :mod:`~pimsim.workload.indices`
the bag indices of embedding kernels, :mod:`~pimsim.workload.graph` the :class:`Workload`
(DAG and shape checks, YAML/JSON files) and :mod:`~pimsim.workload.examples` the example
DLRM batch. The names below are the package's public ones.
"""

from pimsim.workload.examples import CRITEO_EXAMPLE, criteo_dlrm, example_table_rows
from pimsim.workload.graph import Workload, load_workload, save_workload
from pimsim.workload.indices import bag_indices, zipf_rows
from pimsim.workload.kernels import (
    ELEMENTWISE_FLOPS,
    KERNEL_TYPES,
    Elementwise,
    EmbeddingBag,
    Gemm,
    Interaction,
    Kernel,
    Placement,
    Table,
    Transfer,
)

__all__ = [
    "CRITEO_EXAMPLE",
    "ELEMENTWISE_FLOPS",
    "KERNEL_TYPES",
    "Elementwise",
    "EmbeddingBag",
    "Gemm",
    "Interaction",
    "Kernel",
    "Placement",
    "Table",
    "Transfer",
    "Workload",
    "bag_indices",
    "criteo_dlrm",
    "example_table_rows",
    "load_workload",
    "save_workload",
    "zipf_rows",
]
