"""Re-exports of pimsim.util.executors; to be removed with the layout move."""

from pimsim.util.executors import (  # noqa: F401
    DaskExecutor,
    Executor,
    ExecutorError,
    LocalExecutor,
    make_executor,
)
