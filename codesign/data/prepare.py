"""Convert a raw CTR file once into the memory-mapped cache (see ``codesign.data.cache``),
and remove what a killed run left beside its output (:func:`remove_stale_temporaries`)."""

from __future__ import annotations

import glob
import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from codesign.data.cache import SPLIT_FRACTIONS, SPLIT_SEED, CacheWriter, CtrData
from codesign.data.formats import AVAZU, CRITEO, RawFormat
from codesign.data.kdd import kdd_paths, read_kdd
from codesign.data.reader import DEFAULT_CHUNK_ROWS, Columns, ReadOptions, read_raw
from codesign.data.schema import DATASET_NAMES, DatasetSchema, get_schema
from codesign.data.tokenize import SkipReport
from codesign.errors import DataFormatError

#: The data sets read by the one reader; KDD (a join of two files) has its own.
_SINGLE_FILE: dict[str, RawFormat] = {"criteo": CRITEO, "avazu": AVAZU}


#: What a killed run writing the cache ``<folder>/<name>`` leaves there, after ``.<name>.``:
#: the cache being built (``tmp-``) and an old cache moved aside (``old-``).
CACHE_TEMPORARIES = ("tmp-", "old-")


def remove_stale_temporaries(target: str | os.PathLike[str],
                             prefixes: tuple[str, ...] = ()) -> list[Path]:
    """Remove the hidden temporaries a killed run writing ``target`` left beside it: named
    ``.<name>.<prefix>...`` for one of ``prefixes``, or ``.<name>.<...>.tmp`` (an atomic
    write's file); returns them. Two runs writing the same output at the same time are not
    supported: each would clean the other's temporaries."""
    path = Path(target)
    if not path.parent.is_dir():
        return []
    removed = []
    for p in path.parent.glob(f".{glob.escape(path.name)}.*"):
        rest = p.name[len(path.name) + 2:]
        if rest.startswith(prefixes) or rest.endswith(".tmp"):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def _read(dataset: str, raw: Path, schema: DatasetSchema, opts: ReadOptions) -> Iterator[Columns]:
    if dataset == "kdd":
        return read_kdd(raw, schema, opts)
    return read_raw(raw, _SINGLE_FILE[dataset], schema, opts)


def _source_info(dataset: str, raw_path: Path) -> dict[str, Any]:
    if dataset == "kdd":
        training, profile = kdd_paths(raw_path)
        files = [training, profile]
    else:
        files = [raw_path]
    return {
        "dataset": dataset,
        "path": str(raw_path),
        "files": [
            {"path": str(f), "bytes": f.stat().st_size if f.is_file() else None} for f in files
        ],
    }


def prepare(
    dataset: str,
    raw_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    buckets: Mapping[str, int] | Sequence[int] | None = None,
    cap: int | None = None,
    strict: bool = False,
    seed: int = SPLIT_SEED,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    quiet: bool = False,
) -> CtrData:
    """Parse, hash and split a raw data set into a cache folder; return it opened.

    ``buckets`` overrides per-field bucket counts (default: each field's published distinct
    count + 1), then ``cap`` limits every field. Malformed lines are skipped and counted
    (reported on stderr unless ``quiet`` and stored in meta.json) or, with ``strict``, raise
    DataFormatError at the first. The train/val/test split is 8:1:1, stratified by label,
    reproducible from ``seed``. Memory stays bounded by ``chunk_rows``.
    """
    if dataset not in DATASET_NAMES:
        raise DataFormatError(f"dataset: {dataset!r}; accepted: {', '.join(DATASET_NAMES)}")
    schema = get_schema(dataset, buckets=buckets, cap=cap)
    raw = Path(raw_path)
    if not raw.exists():
        raise DataFormatError(f"{raw}: no such file or folder; accepted: the raw {dataset} data")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DataFormatError(f"{out}: exists and is not a folder; accepted: a folder path for "
                              "the cache")
    remove_stale_temporaries(out, CACHE_TEMPORARIES)
    skipped = SkipReport()
    opts = ReadOptions(skipped=skipped, strict=strict, chunk_rows=chunk_rows, quiet=quiet)
    with CacheWriter(out_dir, schema) as writer:
        for dense, sparse, label in _read(dataset, raw, schema, opts):
            writer.append(dense, sparse, label)
        if writer.n_rows == 0:
            raise DataFormatError(
                f"{raw}: no well-formed line ({skipped.count} malformed); {skipped.summary()}"
            )
        writer.finish(
            seed=seed,
            fractions=SPLIT_FRACTIONS,
            source=_source_info(dataset, raw),
            skipped=skipped,
            extra={"cap": cap},
        )
    if not quiet:
        print(f"codesign data: {writer.n_rows} rows -> {out_dir}; {skipped.summary()}", file=sys.stderr)
    return CtrData.open(out_dir)
