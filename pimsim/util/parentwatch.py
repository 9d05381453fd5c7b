"""Worker processes that never outlive the process that started them.

A process pool or a Dask LocalCluster started by a command runs its workers as child
processes. When the command ends normally it stops them; when it is killed (``kill -9``,
the OOM killer) nothing does, and the workers, and the multiprocessing resource tracker
that waits for them, would stay alive. :func:`exit_with_parent`, run first in each worker,
starts a thread that ends the worker as soon as its parent is gone: on Linux and macOS an
orphan is re-parented the moment its parent dies, so a parent id that changed means the
parent died; the starting process is also watched by id, for a worker started through an
intermediate (a forkserver). The resource
tracker then sees its last user go and exits by itself.
"""

from __future__ import annotations

import os
import threading
import time

#: seconds between two looks at the parent (the worker outlives its parent by at most this)
PARENT_POLL_S = 0.25
#: exit status of a worker whose parent died
EXIT_PARENT_GONE = 70


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _watch(parent_pid: int, first_parent: int) -> None:
    while os.getppid() == first_parent and _alive(parent_pid):
        time.sleep(PARENT_POLL_S)
    os._exit(EXIT_PARENT_GONE)


def exit_with_parent(parent_pid: int) -> None:
    """End this process as soon as ``parent_pid`` dies or this process is re-parented
    (``parent_pid`` may be a grandparent: a forkserver in between); the look-out runs in a
    daemon thread."""
    first_parent = os.getppid()
    if first_parent == 1 or not _alive(parent_pid):
        os._exit(EXIT_PARENT_GONE)
    threading.Thread(target=_watch, args=(parent_pid, first_parent), name="exit-with-parent",
                     daemon=True).start()
