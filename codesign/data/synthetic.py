"""Synthetic CTR data written in exactly the raw formats of Criteo, Avazu and KDD 2012.

Every categorical field draws a value rank from a bounded Zipf law over the field's real
distinct count (``codesign.data.schema``), then writes the rank as the field's raw token
(8 hex digits for Criteo and Avazu's hashed fields, integers elsewhere). Labels come from a
hidden ground-truth logistic model over those ranks and the dense values:

    logit = b + sum_f a_f g_f(v_f)                         main effects
              + sum_(f,h) c_fh <u_f(v_f), u_h(v_h)> / 2    pairwise crosses (rank-4 factors)
              + sum_j d_j phi_j(z_j)                       nonlinear dense effects
              + e z_0 w(v_k)                               a dense x categorical cross

with g, u, w pseudo-random functions of (field, value) computed by hashing (no table per
value, so 10M-value fields cost nothing), z the standardised log(1 + x) of a dense value and
phi in {sin, square, tanh, hinge}. The intercept b is calibrated by bisection on a pilot
sample so that the base click rate is near the real set's (Criteo 0.26, Avazu 0.17, KDD
0.045). The hidden model is fixed per schema (its own constant seed); ``seed`` draws the rows.
A model that learns crosses and nonlinear dense effects therefore beats a logistic
regression, which beats the base rate.

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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from codesign.data._parse import splitmix64
from codesign.data.cache import CtrData
from codesign.data.schema import DATASET_NAMES, get_schema
from codesign.errors import DataFormatError

#: Target base click rates: Criteo Kaggle train.txt has 11,745,438 positives in 45,840,617
#: rows (0.256); Avazu train 6,865,066 in 40,428,967 (0.170); KDD 2012 track 2 about 0.045
#: of training.txt lines have Click > 0 (figures as stated in the brief of issue 4).
BASE_RATES: dict[str, float] = {"criteo": 0.256, "avazu": 0.17, "kdd": 0.045}
DEFAULT_CHUNK_ROWS: int = 100_000
_TRUTH_SEEDS = {"criteo": 0xC17E0, "avazu": 0xA7A2, "kdd": 0x4DD12}
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_PILOT_ROWS = 40_000


# --------------------------------------------------------------------------- rendering ---

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _hex8(values: np.ndarray, missing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v = values.astype(np.uint64) & np.uint64(0xFFFFFFFF)
    shifts = np.arange(28, -1, -4, dtype=np.uint64)
    mat = _HEX[((v[:, None] >> shifts[None, :]) & np.uint64(15)).astype(np.intp)]
    mask = np.repeat(~missing[:, None], 8, axis=1)
    return mat, mask


def _decimal(values: np.ndarray, missing: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Signed int64 or uint64 values as decimal text (right-aligned, 21 columns)."""
    n = values.shape[0]
    if values.dtype == np.uint64:
        mag = values.copy()
        neg = np.zeros(n, dtype=bool)
    else:
        v = values.astype(np.int64)
        neg = v < 0
        mag = np.abs(v).astype(np.uint64)
    width = 21
    mat = np.empty((n, width), dtype=np.uint8)
    ndig = np.ones(n, dtype=np.int64)
    rest = mag.copy()
    ten = np.uint64(10)
    for j in range(20):
        mat[:, width - 1 - j] = (rest % ten).astype(np.uint8) + 48
        rest //= ten
        ndig = np.where(rest > 0, j + 2, ndig)
    length = ndig + neg
    sign_col = width - 1 - ndig
    mat[np.flatnonzero(neg), sign_col[neg]] = 45
    mask = np.arange(width)[None, :] >= (width - length)[:, None]
    if missing is not None:
        mask &= ~missing[:, None]
    return mat, mask


def _const(text: bytes, n: int) -> tuple[np.ndarray, np.ndarray]:
    row = np.frombuffer(text, dtype=np.uint8)
    return np.broadcast_to(row, (n, row.shape[0])), np.ones((n, row.shape[0]), dtype=bool)


def _join(cols: list[tuple[np.ndarray, np.ndarray]], sep: bytes) -> bytes:
    """Rows of fields joined with ``sep`` and ended with a newline, as one bytes object."""
    n = cols[0][0].shape[0]
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    for i, col in enumerate(cols):
        if i:
            parts.append(_const(sep, n))
        parts.append(col)
    parts.append(_const(b"\n", n))
    mat = np.concatenate([p[0] for p in parts], axis=1)
    mask = np.concatenate([p[1] for p in parts], axis=1)
    return mat[mask].tobytes()


# --------------------------------------------------------------------- hidden model ---


def _unit(keys: np.ndarray, salt: int) -> np.ndarray:
    """Pseudo-random values of variance 1 (uniform on [-sqrt 3, sqrt 3]) per key."""
    with np.errstate(over="ignore"):
        h = splitmix64(keys.astype(np.uint64) * _GOLDEN ^ np.uint64(salt & 0xFFFFFFFFFFFF))
    u = (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return (u - 0.5) * np.sqrt(12.0)


@dataclass(frozen=True)
class Truth:
    """The hidden labelling model of one schema (fixed by its constant seed)."""

    main: np.ndarray  # [F] weight of each field's main effect
    pairs: tuple[tuple[int, int, float], ...]  # (field, field, weight) crosses
    dense: tuple[tuple[int, str, float], ...]  # (dense index, phi name, weight)
    dense_cat: tuple[int, int, float]  # (dense index, field, weight)
    dense_pair: tuple[int, int, float] | None  # (dense, dense, weight) product term
    factors: int = 4

    def logit(self, keys: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Logit without intercept; keys [n, F] int64 value ranks (0 missing), z [n, D]."""
        n, n_fields = keys.shape
        out = np.zeros(n, dtype=np.float64)
        for f in range(n_fields):
            if self.main[f] != 0.0:
                out += self.main[f] * _unit(keys[:, f], 1000 * f + 1)
        for f, h, w in self.pairs:
            acc = np.zeros(n)
            for k in range(self.factors):
                acc += _unit(keys[:, f], 1000 * f + 10 + k) * _unit(keys[:, h], 1000 * h + 10 + k)
            out += w * acc / np.sqrt(self.factors)
        for j, phi, w in self.dense:
            out += w * _PHI[phi](z[:, j])
        j, f, w = self.dense_cat
        if z.shape[1]:
            out += w * z[:, j] * _unit(keys[:, f], 1000 * f + 99)
        if self.dense_pair is not None:
            a, b, w = self.dense_pair
            out += w * z[:, a] * z[:, b]
        return out


_PHI: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin": lambda x: np.sin(2.0 * x),
    "square": lambda x: x * x - 1.0,
    "tanh": lambda x: np.tanh(2.0 * x),
    "hinge": lambda x: np.maximum(x - 0.5, 0.0) * 2.0 - 0.4,
}


def _make_truth(schema_name: str, n_fields: int, n_dense: int) -> Truth:
    rng = np.random.default_rng(_TRUTH_SEEDS[schema_name])
    main = rng.uniform(0.15, 0.55, size=n_fields) * rng.choice([-1.0, 1.0], size=n_fields)
    n_pairs = max(3, n_fields // 3)
    pairs = []
    seen: set[tuple[int, int]] = set()
    while len(pairs) < n_pairs:
        f, h = sorted(int(x) for x in rng.choice(n_fields, size=2, replace=False))
        if (f, h) not in seen:
            seen.add((f, h))
            pairs.append((f, h, float(rng.uniform(0.45, 0.8))))
    names = list(_PHI)
    dense = tuple(
        (j, names[int(rng.integers(len(names)))], float(rng.uniform(0.25, 0.6) * rng.choice([-1, 1])))
        for j in range(n_dense)
    )
    dense_cat = (0, int(rng.integers(n_fields)), 0.4)
    dense_pair = (0, 1, 0.35) if n_dense >= 2 else None
    return Truth(main=main, pairs=tuple(pairs), dense=dense, dense_cat=dense_cat, dense_pair=dense_pair)


def _calibrate(logits: np.ndarray, target: float) -> float:
    """Intercept b with mean(sigmoid(b + logits)) = target (bisection)."""
    lo, hi = -20.0, 20.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        rate = float(np.mean(1.0 / (1.0 + np.exp(-(mid + logits)))))
        lo, hi = (mid, hi) if rate < target else (lo, mid)
    return 0.5 * (lo + hi)


# ------------------------------------------------------------------ feature draws ---


def zipf_ranks(rng: np.random.Generator, n_values: int, s: float, size: int) -> np.ndarray:
    """Ranks 1..n_values from a bounded (continuous-approximation) Zipf law with exponent s."""
    u = rng.random(size)
    if abs(s - 1.0) < 1e-9:
        r = np.exp(u * np.log(n_values + 1.0))
    else:
        a = 1.0 - s
        r = ((np.power(n_values + 1.0, a) - 1.0) * u + 1.0) ** (1.0 / a)
    return np.clip(np.floor(r), 1, n_values).astype(np.int64)


@dataclass(frozen=True)
class _Chunk:
    keys: np.ndarray  # [n, F] int64 value ranks (0 = missing)
    z: np.ndarray  # [n, D] standardised log1p dense (what the model sees)
    raw: dict[str, np.ndarray]  # dataset-specific raw columns


# Criteo dense: (mean, sd) of log(1 + x) and the fraction missing, chosen to resemble the
# Kaggle file (I1, I10, I12 mostly missing; I5 large counts; I2 sometimes negative).
_CRITEO_DENSE = (
    (1.0, 1.0, 0.45), (2.5, 1.6, 0.0), (2.0, 1.2, 0.21), (1.6, 1.0, 0.22), (7.5, 2.0, 0.03),
    (3.5, 1.6, 0.22), (1.8, 1.2, 0.04), (2.4, 1.0, 0.0005), (3.5, 1.3, 0.04), (0.5, 0.6, 0.45),
    (1.0, 0.8, 0.04), (0.4, 0.7, 0.77), (1.8, 1.1, 0.22),
)
# Criteo categorical missing fractions (C1..C26), resembling the Kaggle file.
_CRITEO_CAT_MISSING = (
    0, 0, 0.03, 0.03, 0, 0.12, 0, 0, 0, 0, 0, 0.03, 0, 0, 0, 0.03, 0, 0, 0.44, 0.44, 0.03,
    0.76, 0, 0.03, 0.44, 0.44,
)


def _zipf_exponents(schema_name: str, n_fields: int) -> np.ndarray:
    rng = np.random.default_rng(_TRUTH_SEEDS[schema_name] + 1)
    return rng.uniform(1.05, 1.35, size=n_fields)


def _draw_criteo(rng: np.random.Generator, n: int) -> _Chunk:
    schema = get_schema("criteo")
    counts = [c - 1 for c in schema.cardinalities]
    s = _zipf_exponents("criteo", len(counts))
    keys = np.empty((n, len(counts)), dtype=np.int64)
    for f, (m, miss) in enumerate(zip(counts, _CRITEO_CAT_MISSING)):
        k = zipf_ranks(rng, m, float(s[f]), n)
        k[rng.random(n) < miss] = 0
        keys[:, f] = k
    dense_vals = np.empty((n, 13), dtype=np.int64)
    dense_miss = np.empty((n, 13), dtype=bool)
    z = np.empty((n, 13))
    for j, (mu, sd, miss) in enumerate(_CRITEO_DENSE):
        lz = np.maximum(rng.normal(mu, sd, n), 0.0)
        x = np.floor(np.expm1(lz)).astype(np.int64)
        if j == 1:  # I2 takes small negative values
            x = np.where(rng.random(n) < 0.05, -rng.integers(1, 4, n), x)
        m = rng.random(n) < miss
        dense_vals[:, j] = x
        dense_miss[:, j] = m
        zz = np.log1p(np.maximum(np.where(m, 0, x), 0))
        z[:, j] = (zz - mu) / sd
    return _Chunk(keys, z, {"dense": dense_vals, "dense_missing": dense_miss})


# Avazu value sets: integer fields are written as offset + step * (rank - 1).
_AVAZU_INT = {
    "C1": (1001, 1), "banner_pos": (0, 1), "device_type": (0, 1), "device_conn_type": (0, 1),
    "C14": (375, 7), "C15": (120, 40), "C16": (20, 30), "C17": (112, 6), "C18": (0, 1),
    "C19": (33, 29), "C20": (100000, 1), "C21": (1, 3),
}


def _draw_avazu(rng: np.random.Generator, n: int) -> _Chunk:
    schema = get_schema("avazu")
    counts = [c - 1 for c in schema.cardinalities]
    s = _zipf_exponents("avazu", len(counts))
    keys = np.empty((n, len(counts)), dtype=np.int64)
    for f, m in enumerate(counts):
        if schema.sparse_names[f] == "hour":
            keys[:, f] = rng.integers(1, m + 1, n)  # hours are near uniform over 10 days
        else:
            keys[:, f] = zipf_ranks(rng, m, float(s[f]), n)
    hh = (keys[:, 0] - 1) % 24
    z = np.sin(2 * np.pi * hh / 24.0)[:, None]  # time-of-day enters the model as a dense signal
    ids = rng.integers(0, np.iinfo(np.int64).max, n, dtype=np.int64).astype(np.uint64) * np.uint64(2)
    return _Chunk(keys, z, {"id": ids})


_KDD_ID_FIELDS = ("DisplayURL", "AdID", "AdvertiserID", "QueryID", "KeywordID", "TitleID", "DescriptionID", "UserID")


def _kdd_user_profile(user_rank: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(has_profile, gender 0..2, age 1..6) of each user rank (0 = no user)."""
    h = splitmix64(user_rank.astype(np.uint64) ^ np.uint64(0x5EED))
    has = ((h % np.uint64(100)) < np.uint64(97)) & (user_rank > 0)
    gender = ((h >> np.uint64(8)) % np.uint64(3)).astype(np.int64)
    age = ((h >> np.uint64(16)) % np.uint64(6)).astype(np.int64) + 1
    return has, gender, age


def _draw_kdd(rng: np.random.Generator, n: int) -> _Chunk:
    schema = get_schema("kdd")
    counts = [c - 1 for c in schema.cardinalities]
    s = _zipf_exponents("kdd", len(counts))
    keys = np.zeros((n, len(counts)), dtype=np.int64)
    for f, name in enumerate(_KDD_ID_FIELDS):
        keys[:, f] = zipf_ranks(rng, counts[f], float(s[f]), n)
    ui = _KDD_ID_FIELDS.index("UserID")
    keys[rng.random(n) < 0.05, ui] = 0  # UserID 0: unknown user, no profile
    has, gender, age = _kdd_user_profile(keys[:, ui])
    keys[:, 8] = np.where(has, gender + 1, 0)
    keys[:, 9] = np.where(has, age + 1, 0)
    depth = rng.integers(1, 4, n)
    position = 1 + np.floor(rng.random(n) * depth).astype(np.int64)
    impression = 1 + rng.geometric(0.55, n) - 1
    z = np.stack(
        [
            (np.log1p(impression) - 0.9) / 0.4,
            (np.log1p(depth) - 1.05) / 0.3,
            (np.log1p(position) - 0.9) / 0.3,
        ],
        axis=1,
    )
    return _Chunk(keys, z, {"impression": impression, "depth": depth, "position": position})


_DRAW = {"criteo": _draw_criteo, "avazu": _draw_avazu, "kdd": _draw_kdd}


def _id_token(rank: np.ndarray, n_values: int, field: int) -> np.ndarray:
    """Bijective map of ranks 1..n onto ids 1..n (0 stays 0), as int64."""
    a = 2654435761 % n_values if n_values > 1 else 1
    while np.gcd(a, n_values) != 1:
        a += 1
    b = (field * 7919) % n_values
    out = ((rank - 1) * a + b) % n_values + 1
    return np.where(rank > 0, out, 0)


def _hex_value(rank: np.ndarray, field: int) -> np.ndarray:
    return splitmix64(rank.astype(np.uint64) * _GOLDEN ^ np.uint64(0xABCD0000 + field)) & np.uint64(0xFFFFFFFF)


# ------------------------------------------------------------------------ writers ---


def _render_criteo(chunk: _Chunk, label: np.ndarray) -> bytes:
    cols = [_decimal(label.astype(np.int64))]
    for j in range(13):
        cols.append(_decimal(chunk.raw["dense"][:, j], chunk.raw["dense_missing"][:, j]))
    for f in range(26):
        k = chunk.keys[:, f]
        cols.append(_hex8(_hex_value(k, f), k == 0))
    return _join(cols, b"\t")


def _render_avazu(chunk: _Chunk, label: np.ndarray) -> bytes:
    schema = get_schema("avazu")
    cols = [_decimal(chunk.raw["id"]), _decimal(label.astype(np.int64))]
    for f, name in enumerate(schema.sparse_names):
        k = chunk.keys[:, f]
        if name == "hour":
            day, hh = (k - 1) // 24, (k - 1) % 24
            cols.append(_decimal(14102100 + day * 100 + hh))
        elif name in _AVAZU_INT:
            off, step = _AVAZU_INT[name]
            vals = off + step * (k - 1)
            if name == "C20":
                vals = np.where(k == 1, -1, 100000 + (k - 2))
            cols.append(_decimal(vals))
        else:
            cols.append(_hex8(_hex_value(k, f), np.zeros(k.shape[0], dtype=bool)))
    return _join(cols, b",")


def _render_kdd(chunk: _Chunk, label: np.ndarray, rng: np.random.Generator) -> bytes:
    schema = get_schema("kdd")
    n = label.shape[0]
    imp = chunk.raw["impression"]
    clicks = np.where(label > 0, np.minimum(imp, 1 + rng.poisson(0.15, n)), 0)
    cols = [_decimal(clicks), _decimal(imp)]
    ids = {}
    for f, name in enumerate(_KDD_ID_FIELDS):
        m = schema.cardinalities[f] - 1
        if name == "DisplayURL":  # 64-bit hashes in the real file
            ids[name] = _decimal(splitmix64(chunk.keys[:, f].astype(np.uint64) ^ np.uint64(0xD15)))
        else:
            ids[name] = _decimal(_id_token(chunk.keys[:, f], m, f))
    cols += [ids["DisplayURL"], ids["AdID"], ids["AdvertiserID"]]
    cols += [_decimal(chunk.raw["depth"]), _decimal(chunk.raw["position"])]
    cols += [ids[k] for k in ("QueryID", "KeywordID", "TitleID", "DescriptionID", "UserID")]
    return _join(cols, b"\t")


def _atomic_target(path: Path) -> tuple[Path, object]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    return Path(tmp), os.fdopen(fd, "wb")


def write_synthetic(
    schema_name: str,
    rows: int,
    out_path: str | os.PathLike[str],
    *,
    seed: int,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    quiet: bool = True,
) -> list[Path]:
    """Write ``rows`` synthetic rows in the raw format of ``schema_name``; return the files.

    See the module docstring for where the files go. Reproducible: the same
    (schema_name, rows, seed, chunk_rows) gives byte-identical files.
    """
    if schema_name not in _DRAW:
        raise DataFormatError(f"schema: {schema_name!r}; accepted: {', '.join(DATASET_NAMES)}")
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 1:
        raise DataFormatError(f"rows: {rows!r}; accepted: a positive integer")
    if chunk_rows < 1:
        raise DataFormatError(f"chunk_rows: {chunk_rows!r}; accepted: a positive integer")
    out = Path(out_path)
    if schema_name == "kdd":
        if out.exists() and not out.is_dir():
            raise DataFormatError(f"{out}: exists and is not a folder; accepted: a folder for training.txt and userid_profile.txt")
        out.mkdir(parents=True, exist_ok=True)
        target = out / "training.txt"
    else:
        target = out / ("train.txt" if schema_name == "criteo" else "train") if out.is_dir() else out
    schema = get_schema(schema_name)
    truth = _make_truth(schema_name, schema.n_sparse, 1 if schema_name == "avazu" else schema.n_dense)
    pilot = _DRAW[schema_name](np.random.default_rng(_TRUTH_SEEDS[schema_name] + 2), _PILOT_ROWS)
    intercept = _calibrate(truth.logit(pilot.keys, pilot.z), BASE_RATES[schema_name])
    rng = np.random.default_rng(seed)
    users: list[np.ndarray] = []
    tmp, handle = _atomic_target(target)
    try:
        with handle, tqdm(total=rows, desc=f"synth {schema_name}", unit="rows", disable=quiet, leave=False) as bar:  # type: ignore[attr-defined]
            if schema_name == "avazu":
                handle.write(  # type: ignore[attr-defined]
                    b"id,click,hour,C1,banner_pos,site_id,site_domain,site_category,app_id,app_domain,"
                    b"app_category,device_id,device_ip,device_model,device_type,device_conn_type,"
                    b"C14,C15,C16,C17,C18,C19,C20,C21\n"
                )
            done = 0
            while done < rows:
                n = min(chunk_rows, rows - done)
                chunk = _DRAW[schema_name](rng, n)
                p = 1.0 / (1.0 + np.exp(-(intercept + truth.logit(chunk.keys, chunk.z))))
                label = (rng.random(n) < p).astype(np.int64)
                if schema_name == "criteo":
                    data = _render_criteo(chunk, label)
                elif schema_name == "avazu":
                    data = _render_avazu(chunk, label)
                else:
                    data = _render_kdd(chunk, label, rng)
                    users.append(np.unique(chunk.keys[:, _KDD_ID_FIELDS.index("UserID")]))
                handle.write(data)  # type: ignore[attr-defined]
                done += n
                bar.update(n)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    written = [target]
    if schema_name == "kdd":
        written.append(_write_kdd_profile(out / "userid_profile.txt", np.unique(np.concatenate(users))))
    return written


def _write_kdd_profile(path: Path, user_ranks: np.ndarray) -> Path:
    has, gender, age = _kdd_user_profile(user_ranks)
    ranks = user_ranks[has]
    m = get_schema("kdd").cardinalities[_KDD_ID_FIELDS.index("UserID")] - 1
    ids = _id_token(ranks, m, _KDD_ID_FIELDS.index("UserID"))
    order = np.argsort(ids)
    data = _join([_decimal(ids[order]), _decimal(gender[has][order]), _decimal(age[has][order])], b"\t") if ranks.size else b""
    tmp, handle = _atomic_target(path)
    try:
        with handle:  # type: ignore[attr-defined]
            handle.write(data)  # type: ignore[attr-defined]
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


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
    from codesign.data.prepare import prepare  # local: prepare imports the readers

    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.raw-", dir=out.parent) as tmp:
        raw = Path(tmp) / ("kdd" if schema_name == "kdd" else "raw.txt")
        write_synthetic(schema_name, rows, raw, seed=seed, quiet=quiet)
        return prepare(schema_name, raw, out, cap=cap, quiet=quiet)
