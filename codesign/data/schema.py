"""Dataset schemas of the three CTR benchmarks: field names, embedding-table sizes, click rates.

A schema is the contract between the data cache and the models: ``n_dense`` float features
and ``n_sparse`` categorical fields, field ``i`` having ``cardinalities[i]`` embedding rows.
Row 0 of every field is reserved for a missing value; hashed values land in 1..C-1.

Default cardinalities are each field's distinct count in the full public training file, plus
one for the missing row. ``get_schema(name, cap=N)`` limits every field to at most N rows
(the search uses a cap so that supernet training fits in memory); ``DEFAULT_SEARCH_CAP`` is
the value the CLI suggests. ``BASE_RATES`` are the click rates of the full training files.
This module is the only table of those figures; each names its source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from codesign.errors import DataFormatError

#: Cap that the search uses by default: 2**20 rows per field keeps the 26 Criteo tables at
#: 16-wide fp32 under 26 * 64 MiB while leaving every field below 1M distinct values exact.
DEFAULT_SEARCH_CAP: int = 2**20

@dataclass(frozen=True)
class DatasetSchema:
    """Field layout of one CTR data set.

    ``cardinalities[i]`` counts the embedding rows of sparse field ``i`` INCLUDING row 0,
    which stands for a missing value.
    """

    name: str
    dense_names: tuple[str, ...]
    sparse_names: tuple[str, ...]
    cardinalities: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.name:
            raise DataFormatError("schema.name: empty; accepted: a non-empty data set name")
        if len(self.dense_names) < 1:
            raise DataFormatError(
                f"schema {self.name!r}.dense_names: empty; accepted: at least one dense field"
            )
        if len(self.sparse_names) != len(self.cardinalities):
            raise DataFormatError(
                f"schema {self.name!r}.cardinalities: {len(self.cardinalities)} values for "
                f"{len(self.sparse_names)} sparse fields; accepted: one per sparse field"
            )
        names = self.dense_names + self.sparse_names
        if len(set(names)) != len(names):
            raise DataFormatError(
                f"schema {self.name!r}: duplicate field names in {names}; accepted: unique names"
            )
        for field, card in zip(self.sparse_names, self.cardinalities):
            if not isinstance(card, int) or isinstance(card, bool) or card < 2 or card > 2**31 - 1:
                raise DataFormatError(
                    f"schema {self.name!r}.cardinalities[{field}]: {card!r}; accepted: an "
                    "integer from 2 (missing row + one value) to 2**31-1"
                )

    @property
    def n_dense(self) -> int:
        return len(self.dense_names)

    @property
    def n_sparse(self) -> int:
        return len(self.sparse_names)

    def with_cap(self, cap: int | None) -> DatasetSchema:
        """This schema with every field limited to ``cap`` rows (None: unchanged)."""
        if cap is None:
            return self
        if not isinstance(cap, int) or isinstance(cap, bool) or cap < 2:
            raise DataFormatError(f"cap: {cap!r}; accepted: an integer >= 2 or None")
        return replace(self, cardinalities=tuple(min(c, cap) for c in self.cardinalities))

    def with_buckets(self, buckets: Mapping[str, int] | Sequence[int] | None) -> DatasetSchema:
        """This schema with explicit bucket counts (rows incl. the missing row).

        ``buckets`` is either one count per sparse field, in order, or a mapping from field
        name to count for the fields to change.
        """
        if buckets is None:
            return self
        if isinstance(buckets, Mapping):
            unknown = sorted(set(buckets) - set(self.sparse_names))
            if unknown:
                raise DataFormatError(
                    f"buckets: unknown field(s) {unknown} for {self.name!r}; accepted: "
                    f"{list(self.sparse_names)}"
                )
            cards = tuple(int(buckets.get(f, c)) for f, c in zip(self.sparse_names, self.cardinalities))
        else:
            values = tuple(buckets)
            if len(values) != self.n_sparse:
                raise DataFormatError(
                    f"buckets: {len(values)} counts for {self.name!r}; accepted: one per sparse "
                    f"field ({self.n_sparse})"
                )
            cards = tuple(int(v) for v in values)
        return replace(self, cardinalities=cards)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dense_names": list(self.dense_names),
            "sparse_names": list(self.sparse_names),
            "cardinalities": list(self.cardinalities),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "schema") -> DatasetSchema:
        if not isinstance(data, Mapping):
            raise DataFormatError(f"{where}: {type(data).__name__}; accepted: a mapping")
        missing = [k for k in ("name", "dense_names", "sparse_names", "cardinalities") if k not in data]
        if missing:
            raise DataFormatError(f"{where}: missing key(s) {missing}")
        try:
            return cls(
                name=str(data["name"]),
                dense_names=tuple(str(x) for x in data["dense_names"]),
                sparse_names=tuple(str(x) for x in data["sparse_names"]),
                cardinalities=tuple(int(x) for x in data["cardinalities"]),
            )
        except (TypeError, ValueError) as exc:
            raise DataFormatError(f"{where}: {exc}") from None


# --- Criteo (Display Advertising Challenge, Kaggle train.txt, 45,840,617 rows) -----------
# Distinct values per categorical field C1..C26 over the whole Kaggle train.txt: the
# embedding-table sizes that Facebook's DLRM data loader counts on that file (``ln_emb`` of
# facebookresearch/dlrm on the Kaggle set; reproduced, for example, as NUM_SPARSE_EMBS "from
# dataset.npz" in real-zhangzhe/wukong, exp/train_wukong_on_criteo_kaggle_dataset.py).
# Row 0 is added for missing values.
_CRITEO_COUNTS: tuple[int, ...] = (
    1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194,
    27, 14992, 5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572,
)

# --- Avazu (Kaggle CTR prediction, train, 40,428,967 rows) --------------------------------
# Distinct values per field over the whole Avazu train file, as listed in the per-feature
# table of the data set that circulates with Avazu EDA code (hour 240, C1 7, banner_pos 7,
# site_id 4737, site_domain 7745, site_category 26, app_id 8552, app_domain 559,
# app_category 36, device_id 2686408, device_ip 6729486, device_model 8251, device_type 5,
# device_conn_type 4, C14 2626, C15 8, C16 9, C17 435, C18 4, C19 68, C20 172, C21 60); the
# same numbers, without hour, are NUM_EMBEDDINGS_PER_FEATURE of TorchRec-style Avazu loaders.
AVAZU_CATEGORICAL: tuple[str, ...] = (
    "hour", "C1", "banner_pos", "site_id", "site_domain", "site_category", "app_id",
    "app_domain", "app_category", "device_id", "device_ip", "device_model", "device_type",
    "device_conn_type", "C14", "C15", "C16", "C17", "C18", "C19", "C20", "C21",
)
_AVAZU_COUNTS: tuple[int, ...] = (
    240, 7, 7, 4737, 7745, 26, 8552, 559, 36, 2686408, 6729486, 8251, 5, 4, 2626, 8, 9,
    435, 4, 68, 172, 60,
)

# --- KDD Cup 2012 track 2 (training.txt, 149,639,105 rows) --------------------------------
# QueryID, KeywordID, TitleID, DescriptionID, UserID: the record counts of the id files
# shipped with the data (queryid_tokensid 26,243,606; purchasedkeywordid_tokensid 1,249,785;
# titleid_tokensid 4,051,441; descriptionid_tokensid 3,171,830; userid_profile 23,669,283;
# Apache Hivemall's KDD Cup 2012 track 2 dataset page). The ids are dense 1..n in those files.
# DisplayURL, AdID, AdvertiserID have no id file; 26,273 / 641,707 / 14,847 are the distinct
# counts reported in KDD 2012 track 2 write-ups (NOT verified against the raw file here: treat
# as approximate). Gender takes 0..2 and Age 0..6 in userid_profile.txt (3 and 7 values).
KDD_CATEGORICAL: tuple[str, ...] = (
    "DisplayURL", "AdID", "AdvertiserID", "QueryID", "KeywordID", "TitleID", "DescriptionID",
    "UserID", "Gender", "Age",
)
_KDD_COUNTS: tuple[int, ...] = (
    26273, 641707, 14847, 26243606, 1249785, 4051441, 3171830, 23669283, 3, 7,
)

#: Click rate of each full training file, the target of the synthetic data's labels.
#: Criteo: 11,745,438 positives in the 45,840,617 rows of Kaggle train.txt (0.256).
#: Avazu: 6,865,066 clicks in the 40,428,967 rows of train (0.170).
#: KDD 2012 track 2: about 0.045 of training.txt lines have Click > 0 -- an estimate, NOT
#: counted on the raw file here (clicks are rare enough that OpenML's subsample, d/42717,
#: had to drop negatives to reach 5:1); count it with ``prepare`` when the file is at hand.
BASE_RATES: dict[str, float] = {"criteo": 0.256, "avazu": 0.17, "kdd": 0.045}

SCHEMAS: dict[str, DatasetSchema] = {
    "criteo": DatasetSchema(
        name="criteo",
        dense_names=tuple(f"I{i}" for i in range(1, 14)),
        sparse_names=tuple(f"C{i}" for i in range(1, 27)),
        cardinalities=tuple(c + 1 for c in _CRITEO_COUNTS),
    ),
    "avazu": DatasetSchema(
        name="avazu",
        dense_names=("dense_zero",),
        sparse_names=AVAZU_CATEGORICAL,
        cardinalities=tuple(c + 1 for c in _AVAZU_COUNTS),
    ),
    "kdd": DatasetSchema(
        name="kdd",
        dense_names=("Impression", "Depth", "Position"),
        sparse_names=KDD_CATEGORICAL,
        cardinalities=tuple(c + 1 for c in _KDD_COUNTS),
    ),
}

#: Dataset names accepted everywhere a dataset is named.
DATASET_NAMES: tuple[str, ...] = tuple(SCHEMAS)


def get_schema(
    name: str,
    *,
    cap: int | None = None,
    buckets: Mapping[str, int] | Sequence[int] | None = None,
) -> DatasetSchema:
    """The schema of data set ``name`` ("criteo", "avazu" or "kdd").

    ``buckets`` overrides bucket counts (see ``DatasetSchema.with_buckets``), then ``cap``
    limits every field to at most ``cap`` rows.
    """
    try:
        schema = SCHEMAS[name]
    except KeyError:
        raise DataFormatError(
            f"dataset: {name!r}; accepted: {', '.join(DATASET_NAMES)}"
        ) from None
    return schema.with_buckets(buckets).with_cap(cap)
