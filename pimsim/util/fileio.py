"""The one atomic file write of the project, shared by pimsim and codesign.

Every result file is written to a temporary file in the destination folder, flushed to
disk, then renamed over the destination (``os.replace``), so a reader (or a run that was
killed) never sees a half-written file. Forms: :func:`atomic_open` (a handle),
:func:`atomic_write_text`, :func:`atomic_write_bytes`, :func:`atomic_write_json`, and
:func:`atomic_write` for writers that want a file name (``torch.save``, pyarrow,
``Figure.savefig``). It imports nothing from the project.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = [
    "atomic_open",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "read_text",
]


def _temp_beside(path: Path) -> tuple[int, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)


def _read_umask() -> int:
    # POSIX has no call that only reads the umask: set it, then put it back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: The process's umask, read once at import (reading it later, while other threads create
#: files, could hand them the temporary value).
_UMASK = _read_umask()


def _publish(tmp: str, target: Path) -> None:
    """Give the temporary file the permissions a plain ``open`` would (0666 less the
    umask; ``mkstemp`` makes it 0600), then rename it over ``target``."""
    os.chmod(tmp, 0o666 & ~_UMASK)
    os.replace(tmp, target)


@contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", *,
                newline: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; rename it over ``path`` on success.

    ``mode`` is ``"w"`` (text, UTF-8) or ``"wb"``. On any exception the temporary file is
    removed and ``path`` is left as it was.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open: mode {mode!r} not accepted; accepted: 'w', 'wb'")
    target = Path(path)
    fd, tmp = _temp_beside(target)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _publish(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    with atomic_open(path, "w") as handle:
        handle.write(text)
    return Path(path)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def atomic_write_json(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 1,
                      **dump_kwargs: Any) -> Path:
    """Write ``obj`` as JSON (with a final newline) to ``path`` atomically."""
    with atomic_open(path, "w") as handle:
        json.dump(obj, handle, indent=indent, **dump_kwargs)
        handle.write("\n")
    return Path(path)


def atomic_write(path: str | os.PathLike[str], write_fn: Callable[[str], Any]) -> Path:
    """Call ``write_fn(tmp_path)`` (a writer that wants a file name: ``torch.save``,
    pyarrow, ``Figure.savefig``) on a temporary file beside ``path``, flush it to disk and
    rename it over ``path``; returns the path."""
    target = Path(path)
    fd, tmp = _temp_beside(target)
    os.close(fd)
    try:
        write_fn(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        _publish(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def read_text(path: str | os.PathLike[str], error: type[Exception], what: str) -> str:
    """The UTF-8 text of ``path``; an unreadable file raises ``error`` naming the path and
    ``what`` it should have been ("the trace", "the profile")."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read {what}: {exc}") from None
