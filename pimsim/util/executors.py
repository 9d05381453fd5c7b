"""Where sweep points and candidate evaluations run: in-process, a local process pool, or Dask.

Every executor offers the same small interface:

- ``submit(fn, *args, **kwargs) -> future`` and ``as_completed(futures)``, which yields the
  futures in the order they finish (the co-search journals each evaluation as it arrives);
- ``map(fn, items) -> list``, results in the order of ``items`` whatever the completion order;
- ``imap_unordered(fn, items)``, pairs ``(index, result)`` in completion order;
- ``close()`` and the context-manager protocol.

Futures are ``concurrent.futures.Future`` (local) or ``distributed.Future`` (Dask); both have
``result()``. ``fn`` and its arguments must be picklable (module-level functions, picklable
objects) because they may cross process boundaries; a function defined in a module the workers
can import is pickled by reference.

``make_executor(spec)`` turns a command-line value into an executor:

=======================  ==============================================================
``None``, ``"serial"``   :class:`LocalExecutor` with ``workers=0``: everything in-process
                         (the default: deterministic, no process start-up)
``"pool"``               :class:`LocalExecutor`, a process pool with ``workers`` processes
                         (default: the number of CPU cores)
``"local"``              :class:`DaskExecutor` on a fresh ``distributed.LocalCluster``
``"tcp://HOST:PORT"``    :class:`DaskExecutor` connected to a running Dask scheduler
=======================  ==============================================================

A command line that wants another default (a process pool) passes it explicitly.

A pool's workers and a LocalCluster's end with the process that started them, also when it
is killed (:mod:`pimsim.util.parentwatch`).

Results never depend on which executor runs the work: callers that need determinism (the
co-search) collect a whole batch and process it in submission order.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from pimsim.errors import PimsimError
from pimsim.util.parentwatch import exit_with_parent

R = TypeVar("R")

__all__ = [
    "DEFAULT_EXECUTOR",
    "SERIAL",
    "DaskExecutor",
    "Executor",
    "ExecutorError",
    "FutureLike",
    "LocalExecutor",
    "default_workers",
    "make_executor",
]


class ExecutorError(PimsimError):
    """An executor specification is invalid or the executor cannot be started."""


class FutureLike(Protocol):
    """What both ``concurrent.futures.Future`` and ``distributed.Future`` provide."""

    def result(self, timeout: float | None = None) -> Any: ...

    def done(self) -> bool: ...


def default_workers() -> int:
    """The number of CPU cores this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class Executor(ABC):
    """Runs picklable functions somewhere; see the module docstring for the contract."""

    #: Number of evaluations that can run at once (1 for in-process serial execution).
    workers: int

    @abstractmethod
    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> FutureLike:
        """Start ``fn(*args, **kwargs)`` and return its future."""

    @abstractmethod
    def as_completed(self, futures: Iterable[FutureLike]) -> Iterator[FutureLike]:
        """Yield ``futures`` in the order they finish."""

    def close(self) -> None:
        """Release workers; the executor cannot be used afterwards."""

    def map(self, fn: Callable[[Any], R], items: Iterable[Any]) -> list[R]:
        """``[fn(x) for x in items]`` run on the executor; the order of ``items`` is kept.

        The first exception raised by ``fn`` (in item order) is re-raised here.
        """
        futures = [self.submit(fn, item) for item in items]
        return [f.result() for f in futures]

    def imap_unordered(
        self, fn: Callable[[Any], R], items: Iterable[Any]
    ) -> Iterator[tuple[int, R]]:
        """Yield ``(index, fn(items[index]))`` as each evaluation finishes."""
        futures = [self.submit(fn, item) for item in items]
        index_of = {id(f): i for i, f in enumerate(futures)}
        for fut in self.as_completed(futures):
            yield index_of[id(fut)], fut.result()

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _DeferredFuture:
    """A future for in-process execution: runs its call once, on first demand."""

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]):
        self._call: tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]] | None = (
            fn, args, kwargs,
        )
        self._value: Any = None
        self._exc: Exception | None = None

    def _run(self) -> None:
        if self._call is None:
            return
        fn, args, kwargs = self._call
        self._call = None
        try:
            self._value = fn(*args, **kwargs)
        except Exception as exc:  # stored like a pool would; re-raised by result()
            self._exc = exc

    def result(self, timeout: float | None = None) -> Any:
        self._run()
        if self._exc is not None:
            raise self._exc
        return self._value

    def done(self) -> bool:
        return self._call is None


def _serial_as_completed(futures: list[FutureLike]) -> Iterator[FutureLike]:
    for fut in futures:
        if isinstance(fut, _DeferredFuture):
            fut._run()
        yield fut


class LocalExecutor(Executor):
    """A local process pool, or in-process serial execution when ``workers == 0``.

    ``start_method`` is the multiprocessing start method of the pool ("spawn" by default:
    workers start from a clean interpreter, safe with threads, torch and Numba in the parent).
    With ``workers == 0`` nothing runs until asked for: ``submit`` returns a deferred future
    that runs the function in the calling process on ``result()`` or when ``as_completed``
    reaches it (in submission order), so results stream one by one as they would from a pool.
    """

    def __init__(self, workers: int | None = None, start_method: str = "spawn") -> None:
        if workers is None:
            workers = default_workers()
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 0:
            raise ExecutorError(
                f"executor workers: got {workers!r}; accepted: an integer >= 0 "
                "(0 = run in-process, serially)"
            )
        methods = multiprocessing.get_all_start_methods()
        if start_method not in methods:
            raise ExecutorError(
                f"executor start_method: got {start_method!r}; accepted: {', '.join(methods)}"
            )
        self._serial = workers == 0
        self.workers = max(1, workers)
        self.start_method = start_method
        self._pool: cf.ProcessPoolExecutor | None = None
        self._closed = False

    def _get_pool(self) -> cf.ProcessPoolExecutor:
        if self._closed:
            raise ExecutorError("LocalExecutor: used after close()")
        if self._pool is None:
            # workers end with this process, even when it is killed (parentwatch)
            self._pool = cf.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context(self.start_method),
                initializer=exit_with_parent, initargs=(os.getpid(),),
            )
        return self._pool

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> FutureLike:
        if self._serial:
            if self._closed:
                raise ExecutorError("LocalExecutor: used after close()")
            return _DeferredFuture(fn, args, kwargs)
        return self._get_pool().submit(fn, *args, **kwargs)

    def as_completed(self, futures: Iterable[FutureLike]) -> Iterator[FutureLike]:
        futures = list(futures)
        if self._serial:
            return _serial_as_completed(futures)
        return cf.as_completed(futures)  # type: ignore[arg-type]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._closed = True

    def __repr__(self) -> str:
        if self._serial:
            return "LocalExecutor(workers=0)"
        return f"LocalExecutor(workers={self.workers}, start_method={self.start_method!r})"


class DaskExecutor(Executor):
    """Runs on Dask distributed.

    ``scheduler="local"`` starts a ``distributed.LocalCluster`` of ``workers`` single-threaded
    worker processes (default: the number of cores) and shuts it down on ``close()``;
    ``scheduler="tcp://HOST:PORT"`` (or ``tls://``, ``ucx://``, ``inproc://``) connects to a
    running scheduler, whose workers must be able to import the functions' modules.
    """

    _ADDRESS_PREFIXES = ("tcp://", "tls://", "ucx://", "inproc://")

    def __init__(
        self,
        scheduler: str = "local",
        workers: int | None = None,
        connect_timeout_s: float = 30.0,
    ) -> None:
        try:
            import distributed  # lazy: 0.2 s to import (-X importtime), paid only by Dask users
        except ImportError as exc:  # pragma: no cover - dask[distributed] is a dependency
            raise ExecutorError(
                f"executor scheduler {scheduler!r}: dask.distributed is not installed "
                "(pip install 'dask[distributed]')"
            ) from exc
        self._distributed = distributed
        self._cluster: Any = None
        self.scheduler = scheduler
        if scheduler == "local":
            n = default_workers() if workers is None else workers
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise ExecutorError(
                    f"executor workers: got {workers!r}; accepted: an integer >= 1 for "
                    "a Dask LocalCluster"
                )
            self._cluster = distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self._client = distributed.Client(self._cluster, set_as_default=False)
            # the cluster's workers are this process's children: they end with it, even
            # when it is killed (parentwatch)
            from pimsim.util.daskplugins import ExitWithParent  # lazy: imports distributed
            self._client.register_plugin(ExitWithParent(os.getpid()))
        elif scheduler.startswith(self._ADDRESS_PREFIXES):
            try:
                self._client = distributed.Client(
                    scheduler, timeout=connect_timeout_s, set_as_default=False
                )
            except OSError as exc:
                raise ExecutorError(
                    f"executor scheduler {scheduler!r}: cannot connect within "
                    f"{connect_timeout_s:g} s ({exc})"
                ) from exc
        else:
            raise ExecutorError(
                f"executor scheduler: got {scheduler!r}; accepted: 'local' or an address "
                "such as 'tcp://HOST:PORT'"
            )
        self.workers = max(1, sum(self._client.nthreads().values()))

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (for callers that need scatter or dashboards)."""
        return self._client

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> FutureLike:
        # pure=False: every call runs (no key deduplication, no hashing of large arguments).
        return self._client.submit(fn, *args, pure=False, **kwargs)

    def as_completed(self, futures: Iterable[FutureLike]) -> Iterator[FutureLike]:
        return iter(self._distributed.as_completed(list(futures), loop=self._client.loop))

    def map(self, fn: Callable[[Any], R], items: Iterable[Any]) -> list[R]:
        futures = [self.submit(fn, item) for item in items]
        return list(self._client.gather(futures))

    def close(self) -> None:
        client, self._client = getattr(self, "_client", None), None
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __repr__(self) -> str:
        return f"DaskExecutor(scheduler={self.scheduler!r}, workers={self.workers})"


#: The executor every command uses when it names none: in-process (deterministic, no
#: process start-up); results do not depend on the executor.
SERIAL = "serial"
DEFAULT_EXECUTOR = SERIAL


def make_executor(spec: str | None = None, workers: int | None = None) -> Executor:
    """Build an executor from a command-line value (see the table in the module docstring)."""
    if spec is None or spec == SERIAL:
        if workers not in (None, 0):
            raise ExecutorError(
                f"executor 'serial': got workers={workers!r}; accepted: none or 0"
            )
        return LocalExecutor(0)
    if spec == "pool":
        return LocalExecutor(workers)
    if spec == "local" or spec.startswith(DaskExecutor._ADDRESS_PREFIXES):
        return DaskExecutor(spec, workers=workers)
    raise ExecutorError(
        f"executor: got {spec!r}; accepted: 'serial' (in-process, the default), 'pool' "
        "(local process pool), 'local' (Dask LocalCluster) or a Dask scheduler address "
        "'tcp://HOST:PORT'"
    )

