"""Columnar on-disk cache of a prepared CTR data set, read through numpy memory maps.

A cache is one folder::

    dense.f32   [N, n_dense]  float32, C order, headerless (log(max(x, 0) + 1) applied)
    sparse.i32  [N, n_sparse] int32,   C order, headerless (0 = missing, 1..C-1 = hashed)
    label.f32   [N]           float32  (0.0 / 1.0)
    split.u8    [N]           uint8    (0 train, 1 val, 2 test)
    meta.json   schema, rows, split counts, source, skipped-line report, format version and
                the fingerprint: sha256 of the four columns' bytes, as written

``CacheWriter`` builds a cache in a temporary sibling folder, appending chunks as they are
parsed (bounded memory), computes the stratified split from ``label.f32`` in a second pass
and renames the folder into place, so a reader never sees a half-written cache.
``CtrData.open`` validates every file against ``meta.json`` and memory-maps the columns.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from codesign.data.hashing import HASH_DESCRIPTION
from codesign.data.schema import DatasetSchema
from codesign.data.tokenize import DENSE_DESCRIPTION, SkipReport
from codesign.errors import DataFormatError

FORMAT_VERSION: int = 1
SPLIT_NAMES: tuple[str, str, str] = ("train", "val", "test")
SPLIT_CODES: dict[str, int] = {name: code for code, name in enumerate(SPLIT_NAMES)}
#: Default split fractions (train, val, test) and seed, as NASRec.
SPLIT_FRACTIONS: tuple[float, float, float] = (0.8, 0.1, 0.1)
SPLIT_SEED: int = 2018

SplitName = Literal["train", "val", "test"]
#: Rows per pass when a memory-mapped column is scanned: 4 Mi rows, 16 MiB of float32
#: labels, so a scan of a 100M-row cache never holds a whole column in memory.
_SCAN_ROWS: int = 1 << 22

_FILES = {
    "dense": ("dense.f32", np.float32),
    "sparse": ("sparse.i32", np.int32),
    "label": ("label.f32", np.float32),
    "split": ("split.u8", np.uint8),
}


@dataclass(frozen=True)
class Batch:
    """One mini-batch: dense float32 [B, n_dense], sparse int64 [B, n_sparse], label float32 [B]."""

    dense: np.ndarray
    sparse: np.ndarray
    label: np.ndarray

    def __len__(self) -> int:
        return int(self.label.shape[0])


def stratified_split(
    label: np.ndarray,
    *,
    seed: int = SPLIT_SEED,
    fractions: tuple[float, float, float] = SPLIT_FRACTIONS,
    chunk_rows: int = _SCAN_ROWS,
) -> np.ndarray:
    """Assign every row to train (0), val (1) or test (2), stratified by label.

    Within each class with n rows exactly round(n * f_val) go to val, round(n * f_test) to
    test and the rest to train; which rows is a seeded random permutation. Memory: one uint8
    per row of the largest class plus one chunk; ``label`` may be a memory map.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise DataFormatError(
            f"split fractions: {fractions}; accepted: three non-negative numbers summing to 1"
        )
    n = int(label.shape[0])
    rng = np.random.default_rng(seed)
    # First cheap pass: class counts.
    n_pos = 0
    for start in range(0, n, chunk_rows):
        n_pos += int(np.count_nonzero(label[start : start + chunk_rows] > 0.5))
    counts = {0: n - n_pos, 1: n_pos}
    pools: dict[int, np.ndarray] = {}
    for cls in (0, 1):
        m = counts[cls]
        n_val = int(round(m * fractions[1]))
        n_test = int(round(m * fractions[2]))
        n_val = min(n_val, m)
        n_test = min(n_test, m - n_val)
        pool = np.zeros(m, dtype=np.uint8)
        pool[m - n_val - n_test : m - n_test] = 1
        pool[m - n_test :] = 2
        rng.shuffle(pool)
        pools[cls] = pool
    out = np.empty(n, dtype=np.uint8)
    cursor = {0: 0, 1: 0}
    # Second pass: hand out each class's shuffled assignments in row order.
    for start in range(0, n, chunk_rows):
        pos = np.asarray(label[start : start + chunk_rows]) > 0.5
        block = np.empty(pos.shape[0], dtype=np.uint8)
        for cls, mask in ((0, ~pos), (1, pos)):
            k = int(np.count_nonzero(mask))
            block[mask] = pools[cls][cursor[cls] : cursor[cls] + k]
            cursor[cls] += k
        out[start : start + block.shape[0]] = block
    return out


class CacheWriter:
    """Builds a cache folder incrementally; ``finish`` makes it appear atomically.

    Use as a context manager: an exception inside the block removes the temporary folder
    and leaves any existing cache at ``out_dir`` untouched.
    """

    def __init__(self, out_dir: str | os.PathLike[str], schema: DatasetSchema) -> None:
        self.out_dir = Path(out_dir)
        self.schema = schema
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.tmp_dir = Path(
            tempfile.mkdtemp(prefix=f".{self.out_dir.name}.tmp-", dir=self.out_dir.parent)
        )
        os.chmod(self.tmp_dir, 0o755)  # mkdtemp makes 0700; a cache is an ordinary folder
        self._handles = {
            key: open(self.tmp_dir / _FILES[key][0], "wb") for key in ("dense", "sparse", "label")
        }
        self.n_rows = 0
        self._closed = False
        self._digest = hashlib.sha256()

    def __enter__(self) -> CacheWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None or not self._closed:
            self.abort()

    def append(self, dense: np.ndarray, sparse: np.ndarray, label: np.ndarray) -> None:
        n = label.shape[0]
        if dense.shape != (n, self.schema.n_dense) or sparse.shape != (n, self.schema.n_sparse):
            raise DataFormatError(
                f"cache chunk shapes dense {dense.shape}, sparse {sparse.shape}, label "
                f"{label.shape}; accepted: ({n}, {self.schema.n_dense}), ({n}, "
                f"{self.schema.n_sparse}), ({n},)"
            )
        for key, values, dtype in (("dense", dense, np.float32), ("sparse", sparse, np.int32),
                                   ("label", label, np.float32)):
            data = np.ascontiguousarray(values, dtype=dtype).tobytes()
            self._handles[key].write(data)
            self._digest.update(data)
        self.n_rows += int(n)

    def finish(
        self,
        *,
        seed: int = SPLIT_SEED,
        fractions: tuple[float, float, float] = SPLIT_FRACTIONS,
        source: dict[str, Any] | None = None,
        skipped: SkipReport | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Path:
        """Close the columns, write the split and meta.json, rename into ``out_dir``."""
        for handle in self._handles.values():
            handle.close()
        if self.n_rows == 0:
            raise DataFormatError(
                f"{source.get('path') if source else self.out_dir}: no valid rows to cache; "
                "accepted: at least one well-formed line"
            )
        label = np.memmap(self.tmp_dir / "label.f32", dtype=np.float32, mode="r", shape=(self.n_rows,))
        split = stratified_split(label, seed=seed, fractions=fractions)
        split.tofile(self.tmp_dir / "split.u8")
        self._digest.update(split.tobytes())
        counts: dict[str, dict[str, int]] = {}
        pos = np.asarray(label) > 0.5
        for name, code in SPLIT_CODES.items():
            in_split = split == code
            counts[name] = {
                "rows": int(np.count_nonzero(in_split)),
                "positives": int(np.count_nonzero(in_split & pos)),
            }
        del label
        meta = {
            "format_version": FORMAT_VERSION,
            "schema": self.schema.to_dict(),
            "rows": self.n_rows,
            "counts": counts,
            "split": {"seed": seed, "fractions": list(fractions), "stratified_by": "label"},
            "preprocessing": {"dense": DENSE_DESCRIPTION, "sparse": HASH_DESCRIPTION},
            "source": source or {},
            "skipped": (skipped or SkipReport()).to_dict(),
            "fingerprint": "sha256:" + self._digest.hexdigest(),
        }
        if extra:
            meta.update(extra)
        # Written straight into the temporary folder: the folder's rename is the atomic step.
        (self.tmp_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        _replace_dir(self.tmp_dir, self.out_dir)
        self._closed = True
        return self.out_dir

    def abort(self) -> None:
        for handle in self._handles.values():
            if not handle.closed:
                handle.close()
        if self.tmp_dir.exists():
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
        self._closed = True


def _replace_dir(new: Path, target: Path) -> None:
    """Rename ``new`` onto ``target``; an old ``target`` is moved aside, then deleted."""
    if target.exists() or target.is_symlink():
        if not target.is_dir():
            raise DataFormatError(f"{target}: exists and is not a folder; accepted: a folder path")
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, old / "cache")
        os.replace(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)


class CtrData:
    """A prepared data set, memory-mapped. Build with ``CtrData.open(folder)``."""

    def __init__(
        self,
        path: Path,
        schema: DatasetSchema,
        meta: dict[str, Any],
        dense: np.ndarray,
        sparse: np.ndarray,
        label: np.ndarray,
        split: np.ndarray,
    ) -> None:
        self.path = path
        self.schema = schema
        self.meta = meta
        self.dense = dense
        self.sparse = sparse
        self.label = label
        self.split = split
        self.n_rows = int(label.shape[0])
        self._indices: dict[str, np.ndarray] = {}

    def __repr__(self) -> str:
        return f"CtrData({str(self.path)!r}, schema={self.schema.name!r}, n_rows={self.n_rows})"

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> CtrData:
        folder = Path(path)
        meta_path = folder / "meta.json"
        if not folder.is_dir():
            raise DataFormatError(f"{folder}: no such cache folder; accepted: a folder made by `codesign data prepare`")
        try:
            meta = json.loads(meta_path.read_text())
        except FileNotFoundError:
            raise DataFormatError(f"{meta_path}: missing; accepted: a cache made by `codesign data prepare`") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataFormatError(f"{meta_path}: not valid JSON ({exc})") from None
        if not isinstance(meta, dict):
            raise DataFormatError(f"{meta_path}: top level is {type(meta).__name__}; accepted: an object")
        version = meta.get("format_version")
        if version != FORMAT_VERSION:
            raise DataFormatError(
                f"{meta_path}: format_version {version!r}; accepted: {FORMAT_VERSION}"
            )
        schema = DatasetSchema.from_dict(meta.get("schema"), where=f"{meta_path}: schema")
        rows = meta.get("rows")
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 1:
            raise DataFormatError(f"{meta_path}: rows {rows!r}; accepted: a positive integer")
        shapes = {
            "dense": (rows, schema.n_dense),
            "sparse": (rows, schema.n_sparse),
            "label": (rows,),
            "split": (rows,),
        }
        arrays: dict[str, np.ndarray] = {}
        for key, (fname, dtype) in _FILES.items():
            fpath = folder / fname
            expected = int(np.prod(shapes[key])) * np.dtype(dtype).itemsize
            try:
                size = fpath.stat().st_size
            except FileNotFoundError:
                raise DataFormatError(f"{fpath}: missing; accepted: a complete cache folder") from None
            if size != expected:
                raise DataFormatError(
                    f"{fpath}: {size} bytes; accepted: {expected} bytes ({shapes[key]} {np.dtype(dtype).name}) "
                    "as meta.json says: the cache is corrupt, prepare it again"
                )
            arrays[key] = np.memmap(fpath, dtype=dtype, mode="r", shape=shapes[key])
        return cls(folder, schema, meta, arrays["dense"], arrays["sparse"], arrays["label"], arrays["split"])

    def indices(self, split: SplitName) -> np.ndarray:
        """Row numbers (int64, ascending) of one split."""
        if split not in SPLIT_CODES:
            raise DataFormatError(f"split: {split!r}; accepted: {', '.join(SPLIT_NAMES)}")
        if split not in self._indices:
            code = SPLIT_CODES[split]
            parts = []
            for start in range(0, self.n_rows, _SCAN_ROWS):
                block = np.asarray(self.split[start : start + _SCAN_ROWS])
                parts.append(np.flatnonzero(block == code) + start)
            self._indices[split] = np.concatenate(parts).astype(np.int64, copy=False)
        return self._indices[split]

    def take(self, rows: np.ndarray) -> Batch:
        """The rows ``rows`` (any order) as a Batch, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        return Batch(
            dense=np.ascontiguousarray(self.dense[rows], dtype=np.float32),
            sparse=np.ascontiguousarray(self.sparse[rows], dtype=np.int64),
            label=np.ascontiguousarray(self.label[rows], dtype=np.float32),
        )

    def batches(
        self,
        split: SplitName,
        batch_size: int,
        *,
        shuffle: bool,
        rng: np.random.Generator | None = None,
        limit: int | None = None,
        drop_last: bool = False,
    ) -> Iterator[Batch]:
        """Mini-batches over one split.

        ``shuffle=True`` draws a permutation from ``rng`` (required then); otherwise rows come
        in file order. ``limit`` caps the number of ROWS yielded in total (the first ``limit``
        rows of the permuted order); ``drop_last`` drops a final batch smaller than
        ``batch_size``. Within a batch the rows are gathered in ascending order (memory-map
        locality); which rows form a batch depends only on ``rng``.
        """
        if not isinstance(batch_size, int) or batch_size < 1:
            raise DataFormatError(f"batch_size: {batch_size!r}; accepted: a positive integer")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise DataFormatError(f"limit: {limit!r}; accepted: a non-negative integer, or no limit")
        idx = self.indices(split)
        if shuffle:
            if rng is None:
                raise DataFormatError("batches(shuffle=True): rng is None; accepted: a numpy Generator")
            idx = idx[rng.permutation(idx.shape[0])]
        if limit is not None:
            idx = idx[:limit]
        n = idx.shape[0]
        for start in range(0, n, batch_size):
            rows = idx[start : start + batch_size]
            if drop_last and rows.shape[0] < batch_size:
                break
            yield self.take(np.sort(rows) if shuffle else rows)

    def n_batches(self, split: SplitName, batch_size: int, *, limit: int | None = None, drop_last: bool = False) -> int:
        n = self.indices(split).shape[0]
        if limit is not None:
            n = min(n, limit)
        return n // batch_size if drop_last else -(-n // batch_size)

    def base_rate(self, split: SplitName) -> float:
        """Fraction of positive labels in one split."""
        idx = self.indices(split)
        if idx.shape[0] == 0:
            return float("nan")
        return float(np.asarray(self.label[idx], dtype=np.float64).mean())

    @property
    def fingerprint(self) -> str:
        """The cache's identity: the sha256 of its columns stored in meta.json (a cache
        without one: the sha256 of its meta.json content)."""
        stored = self.meta.get("fingerprint")
        if isinstance(stored, str):
            return stored
        text = json.dumps(self.meta, sort_keys=True)
        return "sha256-meta:" + hashlib.sha256(text.encode()).hexdigest()

    @property
    def skipped(self) -> dict[str, Any]:
        return dict(self.meta.get("skipped", {}))
