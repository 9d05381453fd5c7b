"""KDD Cup 2012 track 2: ``training.txt`` joined with ``userid_profile.txt`` by UserID.

The label is Click > 0; the dense features are Impression, Depth and Position; the
categorical features are the eight ids of training.txt and, through the profile, Gender and
Age (missing when the user has no profile line; on duplicate profile lines the first wins).
The formats of both files are in ``codesign.data.formats``.

``raw`` is either the folder holding both files (as the Kaggle archive unpacks) or the path
of training.txt, with userid_profile.txt next to it; ``profile`` overrides the latter.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from codesign.data.formats import KDD_PROFILE, KDD_PROFILE_FIELDS, KDD_TRAINING
from codesign.data.hashing import bucketize
from codesign.data.reader import Columns, ReadOptions, dense_of, iter_parsed, label_of
from codesign.data.schema import DatasetSchema
from codesign.errors import DataFormatError

TRAINING_NAME = "training.txt"
PROFILE_NAME = "userid_profile.txt"


def kdd_paths(raw: str | os.PathLike[str], profile: str | os.PathLike[str] | None = None) -> tuple[Path, Path]:
    """(training.txt, userid_profile.txt) for a folder or a training-file path."""
    p = Path(raw)
    training = p / TRAINING_NAME if p.is_dir() else p
    prof = Path(profile) if profile is not None else training.parent / PROFILE_NAME
    if not prof.is_file():
        raise DataFormatError(
            f"{prof}: no such file; accepted: KDD 2012 track 2 {PROFILE_NAME} next to "
            f"{training.name} (UserID, Gender, Age, tab-separated)"
        )
    return training, prof


def read_profile(path: Path, schema: DatasetSchema, opts: ReadOptions) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Sorted unique user ids and, per profile field, their embedding rows (int32)."""
    cards = dict(zip(schema.sparse_names, schema.cardinalities))
    ids: list[np.ndarray] = []
    rows: dict[str, list[np.ndarray]] = {name: [] for name in KDD_PROFILE_FIELDS}
    for parsed in iter_parsed(path, KDD_PROFILE, schema, opts):
        ids.append(parsed.values["UserID"].astype(np.int64))
        for name in KDD_PROFILE_FIELDS:
            rows[name].append(bucketize(parsed.hashes[name], parsed.missing[name], cards[name]))
    uid = np.concatenate(ids)
    order = np.argsort(uid, kind="stable")
    uid = uid[order]
    first = np.ones(uid.shape[0], dtype=bool)
    first[1:] = uid[1:] != uid[:-1]
    return uid[first], {name: np.concatenate(r)[order][first] for name, r in rows.items()}


def read_kdd(raw: str | os.PathLike[str], schema: DatasetSchema, opts: ReadOptions, *,
             profile: str | os.PathLike[str] | None = None) -> Iterator[Columns]:
    """Stream (dense float32 [n,3], sparse int32 [n,10], label float32 [n]) chunks.

    training.txt is checked (exists, not empty) before the profile is read."""
    training, prof = kdd_paths(raw, profile)
    chunks = iter_parsed(training, KDD_TRAINING, schema, opts)
    uid_sorted, profile_rows = read_profile(prof, schema, opts)
    cards = dict(zip(schema.sparse_names, schema.cardinalities))
    for parsed in chunks:
        if parsed.n_rows == 0:
            continue
        uid = parsed.values["UserID"].astype(np.int64)
        pos = np.searchsorted(uid_sorted, uid)
        pos_c = np.minimum(pos, max(uid_sorted.shape[0] - 1, 0))
        found = (pos < uid_sorted.shape[0]) & ~parsed.missing["UserID"]
        if uid_sorted.shape[0]:
            found &= uid_sorted[pos_c] == uid
        columns = []
        for name in schema.sparse_names:
            if name in profile_rows:
                joined = profile_rows[name][pos_c] if found.any() else 0
                columns.append(np.where(found, joined, 0).astype(np.int32))
            else:
                columns.append(bucketize(parsed.hashes[name], parsed.missing[name], cards[name]))
        yield dense_of(parsed, KDD_TRAINING, schema), np.stack(columns, axis=1), label_of(parsed, KDD_TRAINING)
