"""What the synthetic data draws, per data set: the distributions as a table, and the draws.

Every categorical field draws a value rank 1..n from a bounded Zipf law over the field's real
distinct count n (``codesign.data.schema``); rank 0 means missing. Dense values and the
other fields follow the table below. What each entry imitates, and why:

================== ============================================ ===============================
entry              value                                        imitates / why
================== ============================================ ===============================
ZIPF_EXPONENTS     each field's exponent uniform in [1.05,      the heavy head and long tail of
                   1.35), drawn once per data set               CTR id fields (a few values in
                                                                most rows, most values rare);
                                                                chosen, not fitted: no per-field
                                                                exponent of the real files is
                                                                used
CRITEO_DENSE       per I1..I13: log(1 + x) ~ Normal(mean, sd)   the Kaggle train.txt's count
                   clipped at 0; missing fraction               features: mostly small counts,
                                                                I5 large; mean and sd chosen by
                                                                eye, not fitted
CRITEO_DENSE,      missing fractions: I1, I10 0.45, I12 0.77;   the missing rates reported by
CRITEO_CAT_MISSING C19, C20, C25, C26 0.44, C22 0.76, ...       exploratory analyses of
                                                                train.txt (approximate; not
                                                                counted here)
CRITEO_I2_NEGATIVE 5 % of I2 values are -1..-3                  I2 is the one Criteo feature
                                                                with negative values (down to
                                                                -3); the reader must accept them
AVAZU_FIRST_HOUR   hour = 14102100 + day * 100 + hh over the    the train file's 10 days from
                   240 hours of the schema, uniform             2014-10-21 (YYMMDDHH); traffic
                                                                per hour is near uniform
AVAZU_INT_VALUES   integer field = first + step * (rank - 1)    the value ranges of the
                                                                per-feature table cited in
                                                                ``codesign.data.schema`` (C1
                                                                from 1001, C14 375..24052, C17
                                                                112..2758, C19 33..1959, C21
                                                                1..219, ...)
AVAZU_C20_MISSING  C20's most frequent value is -1, then        C20 as listed there: -1, then
                   100000, 100001, ...                          100000..100248
KDD_NO_USER        5 % of rows have UserID 0                    the unknown user of training.txt
KDD_PROFILE_PERCENT 97 % of users have a profile line           users missing from
                                                                userid_profile.txt, so the join
                                                                has misses to handle
KDD_MAX_DEPTH      Depth uniform in 1..3, Position uniform in   the values Depth and Position
                   1..Depth                                     take in training.txt
KDD_IMPRESSION_P   Impression ~ Geometric(0.55) (1, 2, ...)     most instances shown once, a
                                                                few many times
================== ============================================ ===============================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimsim.util.rng import zipf_ranks

from codesign.data.hashing import splitmix64
from codesign.data.schema import get_schema

#: The constant seed of each data set's synthetic world: + 0 the hidden model, + 1 the
#: Zipf exponents, + 2 the pilot sample that calibrates the base rate. ``write_synthetic``'s
#: own seed draws only the rows.
WORLD_SEEDS: dict[str, int] = {"criteo": 0xC17E0, "avazu": 0xA7A2, "kdd": 0x4DD12}
ZIPF_EXPONENTS: tuple[float, float] = (1.05, 1.35)


@dataclass(frozen=True)
class DenseLaw:
    """One integer feature: log(1 + x) ~ Normal(mean, sd) clipped at 0; missing w.p. ``missing``."""

    mean: float
    sd: float
    missing: float


CRITEO_DENSE: tuple[DenseLaw, ...] = tuple(DenseLaw(*row) for row in (
    (1.0, 1.0, 0.45), (2.5, 1.6, 0.0), (2.0, 1.2, 0.21), (1.6, 1.0, 0.22), (7.5, 2.0, 0.03),
    (3.5, 1.6, 0.22), (1.8, 1.2, 0.04), (2.4, 1.0, 0.0005), (3.5, 1.3, 0.04), (0.5, 0.6, 0.45),
    (1.0, 0.8, 0.04), (0.4, 0.7, 0.77), (1.8, 1.1, 0.22),
))
#: Missing fraction of C1..C26.
CRITEO_CAT_MISSING: tuple[float, ...] = (
    0, 0, 0.03, 0.03, 0, 0.12, 0, 0, 0, 0, 0, 0.03, 0, 0, 0, 0.03, 0, 0, 0.44, 0.44, 0.03,
    0.76, 0, 0.03, 0.44, 0.44,
)
#: Fraction of I2 values replaced by -1, -2 or -3.
CRITEO_I2_NEGATIVE: float = 0.05
_CRITEO_I2 = 1

AVAZU_FIRST_HOUR: int = 14102100
#: Integer fields: (first value, step) for ranks 1, 2, ...
AVAZU_INT_VALUES: dict[str, tuple[int, int]] = {
    "C1": (1001, 1), "banner_pos": (0, 1), "device_type": (0, 1), "device_conn_type": (0, 1),
    "C14": (375, 7), "C15": (120, 40), "C16": (20, 30), "C17": (112, 6), "C18": (0, 1),
    "C19": (33, 29), "C20": (100000, 1), "C21": (1, 3),
}
AVAZU_C20_MISSING: int = -1

KDD_NO_USER: float = 0.05
KDD_PROFILE_PERCENT: int = 97
KDD_MAX_DEPTH: int = 3
KDD_IMPRESSION_P: float = 0.55
#: The id fields of training.txt (the first eight of the KDD schema); Gender and Age follow.
KDD_ID_FIELDS: tuple[str, ...] = (
    "DisplayURL", "AdID", "AdvertiserID", "QueryID", "KeywordID", "TitleID", "DescriptionID", "UserID",
)
# Salt of the profile hash: which users have a profile, and their gender and age.
_PROFILE_SALT = np.uint64(0x5EED)


@dataclass(frozen=True)
class Chunk:
    """Drawn rows: what the hidden model sees and what the renderer writes."""

    keys: np.ndarray  # [n, F] int64 value ranks (0 = missing)
    z: np.ndarray  # [n, D] standardised log1p dense (what the model sees)
    raw: dict[str, np.ndarray]  # dataset-specific raw columns


def _category_keys(
    rng: np.random.Generator, schema_name: str, n: int, *, n_drawn: int | None = None,
    missing: tuple[float, ...] | None = None, uniform: frozenset[str] = frozenset(),
) -> np.ndarray:
    """Value ranks [n, F] of the first ``n_drawn`` fields (the rest stay 0): uniform for the
    fields named in ``uniform``, Zipf otherwise, then missing with ``missing[f]``."""
    schema = get_schema(schema_name)
    counts = [c - 1 for c in schema.cardinalities]
    exps = np.random.default_rng(WORLD_SEEDS[schema_name] + 1).uniform(*ZIPF_EXPONENTS, size=len(counts))
    keys = np.zeros((n, len(counts)), dtype=np.int64)
    for f in range(len(counts) if n_drawn is None else n_drawn):
        if schema.sparse_names[f] in uniform:
            k = rng.integers(1, counts[f] + 1, n)
        else:
            k = zipf_ranks(rng, counts[f], float(exps[f]), n)
        if missing is not None:
            k[rng.random(n) < missing[f]] = 0
        keys[:, f] = k
    return keys


def draw_criteo(rng: np.random.Generator, n: int) -> Chunk:
    keys = _category_keys(rng, "criteo", n, missing=CRITEO_CAT_MISSING)
    n_dense = len(CRITEO_DENSE)
    dense_vals = np.empty((n, n_dense), dtype=np.int64)
    dense_miss = np.empty((n, n_dense), dtype=bool)
    z = np.empty((n, n_dense))
    for j, law in enumerate(CRITEO_DENSE):
        lz = np.maximum(rng.normal(law.mean, law.sd, n), 0.0)
        x = np.floor(np.expm1(lz)).astype(np.int64)
        if j == _CRITEO_I2:
            x = np.where(rng.random(n) < CRITEO_I2_NEGATIVE, -rng.integers(1, 4, n), x)
        m = rng.random(n) < law.missing
        dense_vals[:, j] = x
        dense_miss[:, j] = m
        zz = np.log1p(np.maximum(np.where(m, 0, x), 0))
        z[:, j] = (zz - law.mean) / law.sd
    return Chunk(keys, z, {"dense": dense_vals, "dense_missing": dense_miss})


def draw_avazu(rng: np.random.Generator, n: int) -> Chunk:
    keys = _category_keys(rng, "avazu", n, uniform=frozenset({"hour"}))
    hh = (keys[:, 0] - 1) % 24
    z = np.sin(2 * np.pi * hh / 24.0)[:, None]  # time-of-day enters the model as a dense signal
    # Even 63-bit ids: any value the reader's unsigned 20-digit check accepts.
    ids = rng.integers(0, np.iinfo(np.int64).max, n, dtype=np.int64).astype(np.uint64) * np.uint64(2)
    return Chunk(keys, z, {"id": ids})


def kdd_user_profile(user_rank: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(has_profile, gender 0..2, age 1..6) of each user rank (0 = no user)."""
    h = splitmix64(user_rank.astype(np.uint64) ^ _PROFILE_SALT)
    has = ((h % np.uint64(100)) < np.uint64(KDD_PROFILE_PERCENT)) & (user_rank > 0)
    gender = ((h >> np.uint64(8)) % np.uint64(3)).astype(np.int64)
    age = ((h >> np.uint64(16)) % np.uint64(6)).astype(np.int64) + 1
    return has, gender, age


def draw_kdd(rng: np.random.Generator, n: int) -> Chunk:
    keys = _category_keys(rng, "kdd", n, n_drawn=len(KDD_ID_FIELDS))
    ui = KDD_ID_FIELDS.index("UserID")
    keys[rng.random(n) < KDD_NO_USER, ui] = 0
    has, gender, age = kdd_user_profile(keys[:, ui])
    names = get_schema("kdd").sparse_names
    keys[:, names.index("Gender")] = np.where(has, gender + 1, 0)
    keys[:, names.index("Age")] = np.where(has, age + 1, 0)
    depth = rng.integers(1, KDD_MAX_DEPTH + 1, n)
    position = 1 + np.floor(rng.random(n) * depth).astype(np.int64)
    impression = rng.geometric(KDD_IMPRESSION_P, n)
    # Standardised with the approximate mean and sd of log(1 + x) under these laws.
    z = np.stack(
        [
            (np.log1p(impression) - 0.9) / 0.4,
            (np.log1p(depth) - 1.05) / 0.3,
            (np.log1p(position) - 0.9) / 0.3,
        ],
        axis=1,
    )
    return Chunk(keys, z, {"impression": impression, "depth": depth, "position": position})


DRAW = {"criteo": draw_criteo, "avazu": draw_avazu, "kdd": draw_kdd}
