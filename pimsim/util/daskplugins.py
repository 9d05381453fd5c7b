"""The Dask worker plugin that ends a LocalCluster's workers with the process that started
them (:func:`pimsim.util.parentwatch.exit_with_parent`). Imported only by a DaskExecutor,
so that a command that never uses Dask does not import distributed."""

from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

from pimsim.util.parentwatch import exit_with_parent


class ExitWithParent(WorkerPlugin):
    """Each worker (also one a nanny restarts) exits when ``parent_pid`` dies."""

    name = "pimsim-exit-with-parent"

    def __init__(self, parent_pid: int) -> None:
        self.parent_pid = parent_pid

    def setup(self, worker: object) -> None:  # noqa: ARG002 - WorkerPlugin's signature
        exit_with_parent(self.parent_pid)
