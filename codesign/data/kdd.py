"""Reader of KDD Cup 2012 track 2 ``training.txt`` joined with ``userid_profile.txt``.

training.txt: 12 tab-separated integers per line: Click, Impression, DisplayURL, AdID,
AdvertiserID, Depth, Position, QueryID, KeywordID, TitleID, DescriptionID, UserID.
userid_profile.txt: UserID, Gender, Age (tab-separated integers).

Label = Click > 0; dense = Impression, Depth, Position; categorical = DisplayURL, AdID,
AdvertiserID, QueryID, KeywordID, TitleID, DescriptionID, UserID and, through the profile,
Gender and Age (missing when the user has no profile line).

``raw`` is either the folder holding both files (as the Kaggle archive unpacks) or the path
of training.txt, with userid_profile.txt next to it; ``profile`` overrides the latter.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from codesign.data._parse import (
    iter_parsed_chunks,
    Column,
    bucketize,
    dense_transform,
    make_progress,
    open_raw,
)
from codesign.data.cache import SkipReport
from codesign.data.schema import DatasetSchema
from codesign.errors import DataFormatError

DEFAULT_CHUNK_ROWS: int = 200_000
TRAINING_NAME = "training.txt"
PROFILE_NAME = "userid_profile.txt"
TRAINING_HEADER: tuple[str, ...] = (
    "Click", "Impression", "DisplayURL", "AdID", "AdvertiserID", "Depth", "Position",
    "QueryID", "KeywordID", "TitleID", "DescriptionID", "UserID",
)
_KINDS = {"Click": "label_count", "Impression": "dense", "Depth": "dense", "Position": "dense"}
COLUMNS: tuple[Column, ...] = tuple(Column(n, _KINDS.get(n, "int")) for n in TRAINING_HEADER)  # type: ignore[arg-type]
PROFILE_COLUMNS: tuple[Column, ...] = (
    Column("UserID", "ignore_int"), Column("Gender", "int"), Column("Age", "int"),
)


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


def read_profile(
    path: Path, schema: DatasetSchema, *, skipped: SkipReport, strict: bool, chunk_rows: int, quiet: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted user ids and their Gender / Age rows (int32); on duplicates the first wins."""
    p, size = open_raw(path, f"KDD 2012 {PROFILE_NAME} (UserID, Gender, Age)")
    hash_fields = {name: i for i, name in enumerate(schema.sparse_names)}
    cards = dict(zip(schema.sparse_names, schema.cardinalities))
    ids, genders, ages = [], [], []
    with open(p, "rb") as handle, make_progress(size, "kdd profile", quiet) as bar:
        for parsed in iter_parsed_chunks(
            handle, PROFILE_COLUMNS, sep=b"\t", hash_fields=hash_fields, path=p, first_line=1,
            skipped=skipped, strict=strict, chunk_rows=chunk_rows, progress=bar,
        ):
            ids.append(parsed.values["UserID"].astype(np.int64))
            genders.append(bucketize(parsed.hashes["Gender"], parsed.missing["Gender"], cards["Gender"]))
            ages.append(bucketize(parsed.hashes["Age"], parsed.missing["Age"], cards["Age"]))
    uid = np.concatenate(ids)
    order = np.argsort(uid, kind="stable")
    uid = uid[order]
    first = np.ones(uid.shape[0], dtype=bool)
    first[1:] = uid[1:] != uid[:-1]
    return uid[first], np.concatenate(genders)[order][first], np.concatenate(ages)[order][first]


def read_kdd(
    raw: str | os.PathLike[str],
    schema: DatasetSchema,
    *,
    skipped: SkipReport,
    strict: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    quiet: bool = False,
    profile: str | os.PathLike[str] | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Stream (dense float32 [n,3], sparse int32 [n,10], label float32 [n]) chunks."""
    training, prof = kdd_paths(raw, profile)
    p, size = open_raw(training, f"KDD 2012 track 2 {TRAINING_NAME} (12 tab-separated integers)")
    uid_sorted, gender_rows, age_rows = read_profile(
        prof, schema, skipped=skipped, strict=strict, chunk_rows=chunk_rows, quiet=quiet
    )
    hash_fields = {name: i for i, name in enumerate(schema.sparse_names)}
    cards = dict(zip(schema.sparse_names, schema.cardinalities))
    with open(p, "rb") as handle, make_progress(size, "kdd", quiet) as bar:
        for parsed in iter_parsed_chunks(
            handle, COLUMNS, sep=b"\t", hash_fields=hash_fields, path=p, first_line=1,
            skipped=skipped, strict=strict, chunk_rows=chunk_rows, progress=bar,
        ):
            n = parsed.n_rows
            if n == 0:
                continue
            uid = parsed.values["UserID"].astype(np.int64)
            pos = np.searchsorted(uid_sorted, uid)
            pos_c = np.minimum(pos, max(uid_sorted.shape[0] - 1, 0))
            found = (pos < uid_sorted.shape[0]) & ~parsed.missing["UserID"]
            if uid_sorted.shape[0]:
                found &= uid_sorted[pos_c] == uid
            columns = []
            for name in schema.sparse_names:
                if name == "Gender":
                    columns.append(np.where(found, gender_rows[pos_c] if found.any() else 0, 0).astype(np.int32))
                elif name == "Age":
                    columns.append(np.where(found, age_rows[pos_c] if found.any() else 0, 0).astype(np.int32))
                else:
                    columns.append(bucketize(parsed.hashes[name], parsed.missing[name], cards[name]))
            sparse = np.stack(columns, axis=1)
            dense = np.stack([dense_transform(parsed.values[n]) for n in schema.dense_names], axis=1)
            label = (parsed.values["Click"] > 0).astype(np.float32)
            yield dense, sparse, label
