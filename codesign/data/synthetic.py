"""Synthetic CTR data written in exactly the raw formats of Criteo, Avazu and KDD 2012.

Rows are drawn per data set (``codesign.data.synth_draws``: Zipf value ranks over each
field's real distinct count, dense values, missing values), labelled by a hidden model with
crosses and nonlinear dense effects (``codesign.data.synth_truth``) whose intercept is
calibrated so that the click rate is near the real file's (``schema.BASE_RATES``), and
written in the raw format (``codesign.data.formats``): the rank becomes the field's raw
token (8 hex digits for Criteo and Avazu's hashed fields, integers elsewhere). The hidden
model is fixed per data set; ``seed`` draws the rows.

Output locations:
- criteo: ``out_path`` is the file (train.txt format); an existing folder gets ``train.txt``.
- avazu: ``out_path`` is the file (train CSV with header); an existing folder gets ``train``.
- kdd: ``out_path`` is a folder; it receives ``training.txt`` and ``userid_profile.txt``
  (the profile lists the users that occur, about 97 % of them; UserID 0 has none), which is
  the layout ``prepare("kdd", out_path, ...)`` reads.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from codesign.data.cache import CtrData
from codesign.data.formats import AVAZU, AVAZU_HEX_FIELDS, CRITEO, KDD_PROFILE, KDD_TRAINING
from codesign.data.hashing import GOLDEN_GAMMA, splitmix64
from codesign.data.kdd import PROFILE_NAME, TRAINING_NAME
from codesign.data.prepare import prepare, remove_stale_temporaries
from codesign.data.schema import BASE_RATES, DATASET_NAMES, get_schema
from codesign.data.synth_draws import (
    AVAZU_C20_MISSING,
    AVAZU_FIRST_HOUR,
    AVAZU_INT_VALUES,
    DRAW,
    KDD_ID_FIELDS,
    WORLD_SEEDS,
    Chunk,
    kdd_user_profile,
)
from codesign.data.synth_text import Text, decimal_text, hex8_text, join_rows
from codesign.data.synth_truth import calibrate, make_truth
from codesign.errors import DataFormatError
from pimsim.util.fileio import atomic_open, atomic_write_bytes

#: Rows drawn and written at a time. Part of the output's identity: the same (data set,
#: rows, seed, chunk_rows) gives byte-identical files, another chunk size other rows.
SYNTH_CHUNK_ROWS: int = 100_000
#: Rows of the fixed pilot sample on which the intercept is calibrated (drawn from the
#: data set's world seed, so the intercept does not depend on ``seed``).
_PILOT_ROWS = 40_000
#: Salts of the raw tokens: Criteo / Avazu hex values, KDD's 64-bit DisplayURL hashes.
_HEX_SALT = 0xABCD0000
_DISPLAY_URL_SALT = np.uint64(0xD15)
#: KDD ids: field f's permutation of 1..n starts at offset f * 7919 (a prime, so fields
#: start apart) and steps by Knuth's multiplicative-hash constant 2654435761 (a prime
#: close to 2**32 / golden ratio) made coprime with n, which scatters consecutive ranks over 1..n.
_ID_OFFSET_PRIME = 7919
_ID_MULTIPLIER = 2654435761
#: Prefix (after ``.<cache name>.``) of the folder holding a synthetic cache's raw rows.
RAW_TEMPORARY = "raw-"


def _id_token(rank: np.ndarray, n_values: int, field: int) -> np.ndarray:
    """Bijective map of ranks 1..n onto ids 1..n (0 stays 0), as int64."""
    a = _ID_MULTIPLIER % n_values if n_values > 1 else 1
    while np.gcd(a, n_values) != 1:
        a += 1
    b = (field * _ID_OFFSET_PRIME) % n_values
    out = ((rank - 1) * a + b) % n_values + 1
    return np.where(rank > 0, out, 0)


def _hex_value(rank: np.ndarray, field: int) -> np.ndarray:
    """The 32-bit value written for a rank of field ``field``: a hash, as the real files'
    categorical values are (Criteo and Avazu publish hashed ids)."""
    return splitmix64(rank.astype(np.uint64) * GOLDEN_GAMMA ^ np.uint64(_HEX_SALT + field)) & np.uint64(0xFFFFFFFF)


def _render_criteo(chunk: Chunk, label: np.ndarray, rng: np.random.Generator) -> bytes:
    cols = [decimal_text(label.astype(np.int64))]
    for j in range(chunk.raw["dense"].shape[1]):
        cols.append(decimal_text(chunk.raw["dense"][:, j], chunk.raw["dense_missing"][:, j]))
    for f in range(chunk.keys.shape[1]):
        k = chunk.keys[:, f]
        cols.append(hex8_text(_hex_value(k, f), k == 0))
    return join_rows(cols, CRITEO.sep)


def _render_avazu(chunk: Chunk, label: np.ndarray, rng: np.random.Generator) -> bytes:
    cols = [decimal_text(chunk.raw["id"]), decimal_text(label.astype(np.int64))]
    for f, name in enumerate(get_schema("avazu").sparse_names):
        k = chunk.keys[:, f]
        if name == "hour":
            day, hh = (k - 1) // 24, (k - 1) % 24
            cols.append(decimal_text(AVAZU_FIRST_HOUR + day * 100 + hh))
        elif name == "C20":
            off, _ = AVAZU_INT_VALUES[name]
            cols.append(decimal_text(np.where(k == 1, AVAZU_C20_MISSING, off + (k - 2))))
        elif name in AVAZU_HEX_FIELDS:
            cols.append(hex8_text(_hex_value(k, f), np.zeros(k.shape[0], dtype=bool)))
        else:
            off, step = AVAZU_INT_VALUES[name]
            cols.append(decimal_text(off + step * (k - 1)))
    return join_rows(cols, AVAZU.sep)


def _render_kdd(chunk: Chunk, label: np.ndarray, rng: np.random.Generator) -> bytes:
    cards = dict(zip(get_schema("kdd").sparse_names, get_schema("kdd").cardinalities))
    n = label.shape[0]
    imp = chunk.raw["impression"]
    # Clicks of a positive instance: 1 plus a few more, never more than its impressions.
    clicks = np.where(label > 0, np.minimum(imp, 1 + rng.poisson(0.15, n)), 0)
    text: dict[str, Text] = {
        "Click": decimal_text(clicks), "Impression": decimal_text(imp),
        "Depth": decimal_text(chunk.raw["depth"]), "Position": decimal_text(chunk.raw["position"]),
    }
    for f, name in enumerate(KDD_ID_FIELDS):
        k = chunk.keys[:, f]
        if name == "DisplayURL":  # 64-bit hashes in the real file
            text[name] = decimal_text(splitmix64(k.astype(np.uint64) ^ _DISPLAY_URL_SALT))
        else:
            text[name] = decimal_text(_id_token(k, cards[name] - 1, f))
    return join_rows([text[c.name] for c in KDD_TRAINING.columns], KDD_TRAINING.sep)


_RENDER = {"criteo": _render_criteo, "avazu": _render_avazu, "kdd": _render_kdd}
_FORMATS = {"criteo": CRITEO, "avazu": AVAZU, "kdd": KDD_TRAINING}
#: The file name given inside an existing folder (KDD always writes into a folder).
_FILE_IN_FOLDER = {"criteo": "train.txt", "avazu": "train", "kdd": TRAINING_NAME}


def _target(schema_name: str, out: Path) -> Path:
    if schema_name == "kdd":
        if out.exists() and not out.is_dir():
            raise DataFormatError(
                f"{out}: exists and is not a folder; accepted: a folder for {TRAINING_NAME} and {PROFILE_NAME}"
            )
        out.mkdir(parents=True, exist_ok=True)
    return out / _FILE_IN_FOLDER[schema_name] if out.is_dir() else out


def write_synthetic(
    schema_name: str,
    rows: int,
    out_path: str | os.PathLike[str],
    *,
    seed: int,
    chunk_rows: int = SYNTH_CHUNK_ROWS,
    quiet: bool = True,
) -> list[Path]:
    """Write ``rows`` synthetic rows in the raw format of ``schema_name``; return the files.

    See the module docstring for where the files go. Reproducible: the same
    (schema_name, rows, seed, chunk_rows) gives byte-identical files.
    """
    if schema_name not in DATASET_NAMES:
        raise DataFormatError(f"schema: {schema_name!r}; accepted: {', '.join(DATASET_NAMES)}")
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 1:
        raise DataFormatError(f"rows: {rows!r}; accepted: a positive integer")
    if chunk_rows < 1:
        raise DataFormatError(f"chunk_rows: {chunk_rows!r}; accepted: a positive integer")
    out = Path(out_path)
    target = _target(schema_name, out)
    remove_stale_temporaries(target)
    if schema_name == "kdd":
        remove_stale_temporaries(out / PROFILE_NAME)
    schema = get_schema(schema_name)
    seed0 = WORLD_SEEDS[schema_name]
    # Avazu's one dense input is the hour of day (the cache's dense column stays zero).
    truth = make_truth(seed0, schema.n_sparse, 1 if schema_name == "avazu" else schema.n_dense)
    pilot = DRAW[schema_name](np.random.default_rng(seed0 + 2), _PILOT_ROWS)
    intercept = calibrate(truth.logit(pilot.keys, pilot.z), BASE_RATES[schema_name])
    rng = np.random.default_rng(seed)
    users: list[np.ndarray] = []
    with atomic_open(target, "wb") as handle, tqdm(
        total=rows, desc=f"synth {schema_name}", unit="rows", disable=quiet, leave=False
    ) as bar:
        handle.write(_FORMATS[schema_name].header_line)
        done = 0
        while done < rows:
            n = min(chunk_rows, rows - done)
            chunk = DRAW[schema_name](rng, n)
            p = 1.0 / (1.0 + np.exp(-(intercept + truth.logit(chunk.keys, chunk.z))))
            label = (rng.random(n) < p).astype(np.int64)
            handle.write(_RENDER[schema_name](chunk, label, rng))
            if schema_name == "kdd":
                users.append(np.unique(chunk.keys[:, KDD_ID_FIELDS.index("UserID")]))
            done += n
            bar.update(n)
    written = [target]
    if schema_name == "kdd":
        written.append(_write_kdd_profile(out / PROFILE_NAME, np.unique(np.concatenate(users))))
    return written


def _write_kdd_profile(path: Path, user_ranks: np.ndarray) -> Path:
    has, gender, age = kdd_user_profile(user_ranks)
    ranks = user_ranks[has]
    ui = KDD_ID_FIELDS.index("UserID")
    ids = _id_token(ranks, get_schema("kdd").cardinalities[ui] - 1, ui)
    order = np.argsort(ids)
    cols = [decimal_text(ids[order]), decimal_text(gender[has][order]), decimal_text(age[has][order])]
    return atomic_write_bytes(path, join_rows(cols, KDD_PROFILE.sep) if ranks.size else b"")


def make_synthetic_cache(
    schema_name: str,
    rows: int,
    out_dir: str | os.PathLike[str],
    *,
    seed: int,
    cap: int | None = None,
    quiet: bool = True,
) -> CtrData:
    """Synthesise ``rows`` rows into a temporary folder and prepare them into ``out_dir``.

    ``cap`` limits every field's bucket count (None: the real distinct counts, up to 10M
    rows per Criteo field; pass e.g. 2**16 for small models in tests and benchmarks).
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out, (RAW_TEMPORARY,))
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.{RAW_TEMPORARY}", dir=out.parent) as tmp:
        raw = Path(tmp) / ("kdd" if schema_name == "kdd" else "raw.txt")
        write_synthetic(schema_name, rows, raw, seed=seed, quiet=quiet)
        return prepare(schema_name, raw, out, cap=cap, quiet=quiet)
