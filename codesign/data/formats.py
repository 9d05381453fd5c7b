"""The raw file formats of Criteo, Avazu and KDD 2012 as data: columns, separator, header, label.

A ``RawFormat`` says everything the one streaming reader (``codesign.data.reader``) needs to
turn a raw file into cache columns: the column kinds in file order (how each field is checked
and converted), the field separator, the header line if the file has one, and which column
gives the label and how. The writers of synthetic data render the same formats from here.

Column kinds (``codesign.data.tokenize`` applies them):

=========== ================================================== =================================
kind        accepted text                                      becomes
=========== ================================================== =================================
label01     exactly ``0`` or ``1``                             the label value
label_count a decimal integer >= 0, up to 20 digits            a value (label = value > 0)
dense       empty, or a decimal integer (a leading '-'         a value; empty is missing
            allowed, up to 18 digits)
hex8        empty, or exactly 8 hex digits (either case)       a hash of the lower-cased text;
                                                               empty is missing
int         empty, or a decimal integer (a leading '-'         a value and a hash; empty is
            allowed, up to 20 digits)                          missing
token       at most 32 bytes (``hashing.MAX_TOKEN_BYTES``)     a hash; empty is missing
ignore_int  a decimal integer >= 0, up to 20 digits            a value, not cached (ids, the
                                                               KDD join key)
=========== ================================================== =================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from codesign.data.schema import AVAZU_CATEGORICAL, get_schema

ColumnKind = Literal["label01", "label_count", "dense", "hex8", "int", "token", "ignore_int"]
#: How the label column becomes a 0/1 label: the value itself, or "value > 0" for counts.
LabelRule = Literal["binary", "count"]


@dataclass(frozen=True)
class Column:
    """How one raw column is checked and where its value goes."""

    name: str
    kind: ColumnKind


@dataclass(frozen=True)
class RawFormat:
    """One raw file layout.

    ``name`` labels progress bars; ``what`` describes the file in error messages; ``header``
    is the exact first line (split on ``sep``) when the file has one, and ``header_hint``
    says what a wrong header usually means.
    """

    name: str
    what: str
    columns: tuple[Column, ...]
    sep: bytes
    label: str | None
    label_rule: LabelRule = "binary"
    header: tuple[str, ...] | None = None
    header_hint: str = ""

    @property
    def dense_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind == "dense")

    @property
    def header_line(self) -> bytes:
        """The header as the file writes it (with its newline); empty without a header."""
        if self.header is None:
            return b""
        return self.sep.join(h.encode() for h in self.header) + b"\n"


_CRITEO = get_schema("criteo")

#: Criteo Display Advertising Challenge ``train.txt`` (Kaggle): per impression the label
#: (0/1), 13 integer features I1..I13 (decimal, possibly negative) and 26 categorical
#: features C1..C26 written as 8 hex digits, tab-separated; an empty field is missing.
CRITEO = RawFormat(
    name="criteo",
    what="Criteo train.txt (label, I1-I13, C1-C26, tab-separated)",
    columns=(Column("label", "label01"),)
    + tuple(Column(n, "dense") for n in _CRITEO.dense_names)
    + tuple(Column(n, "hex8") for n in _CRITEO.sparse_names),
    sep=b"\t",
    label="label",
)

#: Avazu fields written as 8 hex digits; the other categorical fields are integers.
AVAZU_HEX_FIELDS: frozenset[str] = frozenset(
    {"site_id", "site_domain", "site_category", "app_id", "app_domain", "app_category",
     "device_id", "device_ip", "device_model"}
)

#: Avazu CTR prediction ``train`` (Kaggle): CSV with a header. ``id`` is checked to be an
#: integer and dropped; ``click`` is the label; the 22 other columns are categorical,
#: ``hour`` (YYMMDDHH) included. Avazu has no dense feature: the cache holds one all-zero
#: dense column.
AVAZU = RawFormat(
    name="avazu",
    what="Avazu train CSV (header id,click,hour,C1,...,C21)",
    columns=(Column("id", "ignore_int"), Column("click", "label01"))
    + tuple(Column(n, "hex8" if n in AVAZU_HEX_FIELDS else "int") for n in AVAZU_CATEGORICAL),
    sep=b",",
    label="click",
    header=("id", "click") + AVAZU_CATEGORICAL,
    header_hint="the Avazu training file; the test file has no click column",
)

#: Columns of KDD Cup 2012 track 2 ``training.txt``, in file order.
KDD_TRAINING_COLUMNS: tuple[str, ...] = (
    "Click", "Impression", "DisplayURL", "AdID", "AdvertiserID", "Depth", "Position",
    "QueryID", "KeywordID", "TitleID", "DescriptionID", "UserID",
)
_KDD_KINDS: dict[str, ColumnKind] = {
    "Click": "label_count", "Impression": "dense", "Depth": "dense", "Position": "dense",
}

#: KDD Cup 2012 track 2 ``training.txt``: 12 tab-separated integers per line. The label is
#: Click > 0 (Click counts clicks among Impression showings); Impression, Depth and Position
#: are dense; the ids are categorical.
KDD_TRAINING = RawFormat(
    name="kdd",
    what="KDD 2012 track 2 training.txt (12 tab-separated integers)",
    columns=tuple(Column(n, _KDD_KINDS.get(n, "int")) for n in KDD_TRAINING_COLUMNS),
    sep=b"\t",
    label="Click",
    label_rule="count",
)

#: KDD Cup 2012 track 2 ``userid_profile.txt``: UserID, Gender, Age (tab-separated
#: integers), joined onto training.txt by UserID (``codesign.data.kdd``).
KDD_PROFILE = RawFormat(
    name="kdd profile",
    what="KDD 2012 userid_profile.txt (UserID, Gender, Age)",
    columns=(Column("UserID", "ignore_int"), Column("Gender", "int"), Column("Age", "int")),
    sep=b"\t",
    label=None,
)

#: Fields of the KDD schema that come from the profile rather than from training.txt.
KDD_PROFILE_FIELDS: tuple[str, ...] = tuple(c.name for c in KDD_PROFILE.columns[1:])
