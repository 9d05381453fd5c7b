"""A model's workload at another batch size, in one data type, with a given placement.

The model view of ``pimsim compare`` reads a workload file at the batch it was written for
and runs it at every batch of ``--batch``. :func:`with_batch` rescales the batch axis:

- the workload's batch ``B0`` is the ``batch`` of its embedding bags and interactions
  (they must agree); a workload with neither takes the smallest ``m`` of its GEMMs and
  elementwise kernels;
- embedding bags and interactions get ``batch = B``; GEMM and elementwise ``m`` that are
  multiples of ``B0`` (``m = B0`` for a layer, ``B0 x tokens`` for a token-axis map)
  become ``m / B0 x B``; transfers (activations between host and PIM) scale their bytes the
  same way; anything else on the batch axis is an error naming the kernel.

:func:`with_dtype` gives every table and kernel one data type, so that host and PIM run
the same precision; :func:`placed` puts the named kernels on PIM and the rest on the host.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pimsim.errors import WorkloadError
from pimsim.workload.graph import Workload
from pimsim.workload.kernels import Elementwise, EmbeddingBag, Gemm, Interaction, Transfer


def base_batch(workload: Workload) -> int:
    """The batch ``workload`` was written for (see the module docstring)."""
    batches = {k.batch for k in workload.kernels if isinstance(k, (EmbeddingBag, Interaction))}
    if len(batches) > 1:
        raise WorkloadError(
            f"workload {workload.name!r}: embedding bags and interactions have batches "
            f"{sorted(batches)}; accepted: one batch size, so that it can be rescaled")
    if batches:
        return batches.pop()
    ms = [k.m for k in workload.kernels if isinstance(k, (Gemm, Elementwise))]
    if not ms:
        raise WorkloadError(f"workload {workload.name!r}: no kernel has a batch axis "
                            "(embedding_bag, interaction, gemm, elementwise)")
    return min(ms)


def _scaled(kernel: Any, field: str, value: int, b0: int, batch: int) -> int:
    if value % b0:
        raise WorkloadError(
            f"kernel {kernel.name!r}: {field} = {value} is not a multiple of the workload's "
            f"batch {b0}; accepted: a workload whose batch axis is a multiple of its batch")
    return value // b0 * batch


def _rebatched(kernel: Any, b0: int, batch: int) -> Any:
    if isinstance(kernel, EmbeddingBag):
        if kernel.distribution in ("explicit", "file"):
            raise WorkloadError(
                f"kernel {kernel.name!r}: indices given {kernel.distribution!r} cannot be "
                "rescaled to another batch; accepted: uniform or zipf indices with pooling")
        return kernel.model_copy(update={"batch": batch})
    if isinstance(kernel, Interaction):
        return kernel.model_copy(update={"batch": batch})
    if isinstance(kernel, (Gemm, Elementwise)):
        return kernel.model_copy(update={"m": _scaled(kernel, "m", kernel.m, b0, batch)})
    if isinstance(kernel, Transfer):
        return kernel.model_copy(update={"bytes": _scaled(kernel, "bytes", kernel.bytes, b0,
                                                          batch)})
    return kernel


def _rebuilt(workload: Workload, kernels: list[Any], name: str, *,
             tables: dict[str, Any] | None = None, fallback: bool | None = None) -> Workload:
    return Workload(name=name, tables=dict(workload.tables) if tables is None else tables,
                    kernels=kernels, deps={k: list(v) for k, v in workload.deps.items()},
                    fallback_to_host=workload.fallback_to_host if fallback is None else fallback,
                    check_shapes=workload.check_shapes)


def with_batch(workload: Workload, batch: int) -> Workload:
    """``workload`` at batch ``batch`` (see the module docstring), under its own name."""
    b0 = base_batch(workload)
    if batch == b0:
        return workload
    kernels = [_rebatched(k, b0, batch) for k in workload.kernels]
    return _rebuilt(workload, kernels, workload.name)


def with_dtype(workload: Workload, dtype: str) -> Workload:
    """Every table and kernel of ``workload`` in ``dtype``."""
    tables = {n: t.model_copy(update={"dtype": dtype}) for n, t in workload.tables.items()}
    kernels = []
    for k in workload.kernels:
        if isinstance(k, EmbeddingBag):
            kernels.append(k.model_copy(update={"dtype": None if k.dtype is None else dtype}))
        elif isinstance(k, (Gemm, Interaction, Elementwise)):
            kernels.append(k.model_copy(update={"dtype": dtype}))
        else:
            kernels.append(k)
    return _rebuilt(workload, kernels, workload.name, tables=tables)


def placed(workload: Workload, on_pim: Collection[str]) -> Workload:
    """``workload`` with the kernels named in ``on_pim`` on PIM and every other kernel
    (transfers excepted: they keep their placement) on the host; no fallback."""
    kernels = [k if isinstance(k, Transfer) else
               k.model_copy(update={"placement": "pim" if k.name in on_pim else "host"})
               for k in workload.kernels]
    return _rebuilt(workload, kernels, workload.name, fallback=False)
