"""Numba's on-disk cache of this package, kept consistent with the package's sources.

Numba keys a cached function on its own source file only, while the kernel's machine
code holds the inlined pieces of every module here: after an edit of another module it
would load stale code. :func:`purge_if_stale` removes the package's cached machine code
when the hash of all its sources differs from the hash recorded next to the cache, so a
changed piece is always compiled again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pimsim.dram.kernel import simulate
from pimsim.util.fileio import atomic_write_text

#: the file, in the cache directory, that records the sources' hash of the cached code
STAMP_NAME = "dram_sources.sha256"
#: Numba's cache files: the index and the machine code of each cached function
CACHE_SUFFIXES = (".nbi", ".nbc")
#: the package's sources
PACKAGE_DIR = Path(__file__).resolve().parent


def sources_hash(package_dir: Path) -> str:
    """SHA-256 of every ``.py`` file of ``package_dir`` (names and contents, sorted)."""
    h = hashlib.sha256()
    for path in sorted(package_dir.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def purge_if_stale(cache_dir: Path, digest: str) -> bool:
    """Remove the Numba cache files of ``cache_dir`` unless its stamp records ``digest``;
    then record ``digest``. Returns whether files were removed. A cache directory that
    cannot be written is left alone (Numba then does not write there either)."""
    stamp = cache_dir / STAMP_NAME
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:  # no stamp yet
        pass
    removed = False
    try:
        for path in cache_dir.iterdir():
            if path.suffix in CACHE_SUFFIXES:
                path.unlink(missing_ok=True)
                removed = True
        atomic_write_text(stamp, digest)
    except OSError:  # no cache directory yet, or not writable
        pass
    return removed


def cache_dir() -> Path:
    """Where Numba caches this package's functions (the one of :func:`simulate`; every
    module of the package shares it); the in-tree ``__pycache__`` if Numba does not say."""
    cache = getattr(simulate, "_cache", None)
    path = getattr(cache, "cache_path", None)
    return Path(path) if path else PACKAGE_DIR / "__pycache__"
