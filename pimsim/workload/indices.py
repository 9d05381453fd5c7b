"""Bag indices of an embedding-bag kernel: uniform, bounded Zipf(s), explicit or from a file.

``uniform`` and ``zipf`` draw ``batch x pooling`` row ids from the kernel's seeded generator
(Zipf ranks by :func:`pimsim.util.rng.zipf_ranks`, scattered over the table by
:func:`pimsim.util.rng.scatter_ranks`); ``explicit`` takes the bags listed on the kernel;
``file`` reads a ``.npy`` array of shape (batch, pooling), or text with one bag per line
(row ids separated by spaces or commas).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pimsim.errors import WorkloadError
from pimsim.util.fileio import read_text
from pimsim.util.rng import scatter_ranks, zipf_ranks

if TYPE_CHECKING:  # the kernel type, for annotations only: kernels.py imports this module
    from pimsim.workload.kernels import EmbeddingBag


def bag_indices(k: EmbeddingBag, rows: int,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(offsets[batch + 1], row indices) of every bag of ``k`` over a table of ``rows``."""
    if k.distribution == "explicit":
        assert k.indices is not None
        lens = np.array([len(b) for b in k.indices], dtype=np.int64)
        idx = np.fromiter((i for b in k.indices for i in b), dtype=np.int64,
                          count=int(lens.sum()))
    elif k.distribution == "file":
        lens, idx = read_indices_file(k)
    else:
        assert k.pooling is not None
        n = k.batch * k.pooling
        lens = np.full(k.batch, k.pooling, dtype=np.int64)
        if k.distribution == "uniform":
            idx = rng.integers(0, rows, size=n, dtype=np.int64)
        else:
            idx = zipf_rows(rng, rows, k.zipf_s, n)
    if idx.size and (idx.min() < 0 or idx.max() >= rows):
        bad = int(idx[(idx < 0) | (idx >= rows)][0])
        raise WorkloadError(
            f"kernel {k.name!r}: index {bad} out of range for table {k.table!r}; "
            f"accepted: 0..{rows - 1}"
        )
    offsets = np.zeros(lens.size + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    return offsets, idx


def zipf_rows(rng: np.random.Generator, rows: int, s: float, n: int) -> np.ndarray:
    """``n`` row ids of a table of ``rows``: bounded Zipf(s) ranks, scattered."""
    return scatter_ranks(zipf_ranks(rng, rows, s, n) - 1, rows)


def read_indices_file(k: EmbeddingBag) -> tuple[np.ndarray, np.ndarray]:
    """(bag lengths, row ids) of the ``indices_file`` of ``k``, checked against its batch."""
    assert k.indices_file is not None
    path = Path(k.indices_file)
    if not path.is_file():
        raise WorkloadError(f"kernel {k.name!r}: indices_file {str(path)!r} not found")
    if path.suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise WorkloadError(f"kernel {k.name!r}: indices_file {str(path)!r}: not a NumPy "
                                f"array file ({exc}); accepted: a .npy array of row ids") from None
        if arr.ndim != 2 or arr.shape[0] != k.batch:
            raise WorkloadError(
                f"kernel {k.name!r}: indices_file {str(path)!r} has shape {arr.shape}; "
                f"accepted: ({k.batch}, pooling)"
            )
        return np.full(k.batch, arr.shape[1], dtype=np.int64), arr.astype(np.int64).ravel()
    lens: list[int] = []
    vals: list[int] = []
    what = f"the indices of kernel {k.name!r} (one bag per line)"
    for lineno, line in enumerate(read_text(path, WorkloadError, what).splitlines(), 1):
        text = line.strip()
        if not text:
            continue
        try:
            bag = [int(t) for t in text.replace(",", " ").split()]
        except ValueError:
            raise WorkloadError(
                f"{path}:{lineno}: kernel {k.name!r}: {text[:60]!r} is not a list of "
                "integers; accepted: row ids separated by spaces or commas"
            ) from None
        lens.append(len(bag))
        vals.extend(bag)
    if len(lens) != k.batch:
        raise WorkloadError(
            f"{path}: kernel {k.name!r}: {len(lens)} bags; accepted: batch = {k.batch}"
        )
    return np.array(lens, dtype=np.int64), np.array(vals, dtype=np.int64)
