"""The one atomic file write of the project, shared by pimsim and codesign.

Every result file is written to a temporary file in the destination folder, flushed to
disk, then renamed over the destination (``os.replace``), so a reader (or a run that was
killed) never sees a half-written file. Forms: :func:`atomic_open` (a handle),
:func:`atomic_write_text`, :func:`atomic_write_bytes`, :func:`atomic_write_json`, and
:func:`atomic_write` for writers that want a file name (``torch.save``, pyarrow,
``Figure.savefig``). :func:`check_writable` tells, before a command starts its work,
whether an output path can be written; :func:`read_text` is the one reader of input text
files (UTF-8), :func:`decode_text` its decoder for readers that take a file in pieces. It
imports nothing from the project: callers pass their own error class.
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
    "check_writable",
    "decode_text",
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


def decode_text(data: bytes, path: str | os.PathLike[str], error: type[Exception], what: str,
                *, start: int = 0, line: int = 1) -> str:
    """``data`` as UTF-8 text (newlines read as ``\\n``); ``data`` is the part of ``path``
    from byte ``start`` (on line ``line``), for readers that decode a file in pieces. Bad
    text raises ``error`` naming the path, ``what`` it should have been and the byte offset
    in the file (and its line) of the first bad byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        at_line = line + data.count(b"\n", 0, exc.start)
        raise error(
            f"{path}: cannot read {what}: not UTF-8 text: byte {start + exc.start} (line "
            f"{at_line}) is 0x{data[exc.start]:02x}; accepted: a UTF-8 text file") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: str | os.PathLike[str], error: type[Exception], what: str) -> str:
    """The UTF-8 text of ``path`` (newlines read as ``\\n``); a file that cannot be read, or
    that is not UTF-8 text, raises ``error`` naming the path, ``what`` it should have been
    ("the trace", "the profile") and, for bad text, the byte offset of the first bad byte
    (:func:`decode_text`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    return decode_text(data, path, error, what)


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable(path: str | os.PathLike[str], error: type[Exception], what: str, *,
                   folder: bool = False) -> Path:
    """Raise ``error`` (one line naming ``what``, e.g. ``"--chrome"``, and the path) unless
    ``path`` can be written: a file path (``folder=False``) that is not a folder, in a
    folder that exists or can be created; or a folder (``folder=True``) that exists or can
    be created. Creates nothing; returns the path."""
    target = Path(path)
    try:
        if target.is_dir() and not folder:
            raise error(f"{what} {path}: is a folder; accepted: a file path")
        if target.exists() and not target.is_dir() and folder:
            raise error(f"{what} {path}: is a file; accepted: a folder (existing or new)")
        base = _nearest_existing((target if folder else target.parent).absolute())
        if not base.is_dir():
            raise error(f"{what} {path}: {base} is a file, not a folder; accepted: a path "
                        "whose folders exist or can be created")
        if not os.access(base, os.W_OK | os.X_OK):
            raise error(f"{what} {path}: folder {base} is not writable; accepted: a path in "
                        "a folder you can write to")
    except OSError as exc:
        raise error(f"{what} {path}: cannot be written: {exc.strerror or exc}; accepted: a "
                    "path in a folder you can write to") from None
    return target
