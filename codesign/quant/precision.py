"""The precision of a subnet: a data type per embedding table and per dense operator, and
the crossbar arithmetic of operators placed on a ReRAM crossbar.

Absent entries are fp32, and fp32 entries are dropped on construction, so two precisions
that compute the same model are equal and have the same :meth:`Precision.key` (``""``
when everything is fp32, so that caches keyed before precisions existed stay valid).

JSON form (``pimrec-precision/1``)::

    {"format": "pimrec-precision/1",
     "tables": {"C3": "int4"},
     "ops": {"b2.fc": "int8", "final": "fp16"},
     "crossbar": {"b4.fc": {"rows": 128, "cell_bits": 2, "weight_bits": 8,
                            "input_bits": 8, "dac_bits": 1, "adc_bits": 8}}}

An operator with a ``crossbar`` entry computes its weighted products with that arithmetic
(its own weight and input bits), whatever ``ops`` says for it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from codesign.errors import SpecError, read_json_file
from pimsim.util.fileio import atomic_write_json

#: Data types of an embedding table's rows: int8 / int4 are row-wise quantised with a
#: scale and bias per row, as FBGEMM's fused tables.
TABLE_DTYPES: tuple[str, ...] = ("fp32", "fp16", "int8", "int4")
#: Data types of a dense operator's arithmetic (int8: weights and activations).
DENSE_DTYPES: tuple[str, ...] = ("fp32", "fp16", "bf16", "int8")
#: The ``format`` field of the JSON form.
PRECISION_FORMAT = "pimrec-precision/1"


class PrecisionError(SpecError):
    """A precision (its JSON, a field, a key it names) is invalid."""


#: Accepted range of each crossbar field: (lowest, highest). Weight and input bits up to 16
#: (ISAAC's 16-bit fixed point is the widest of the published crossbar designs), cell bits
#: up to 8 and ADCs up to 32 bits bound what the float32 emulation computes exactly.
CROSSBAR_LIMITS: dict[str, tuple[int, int]] = {
    "rows": (1, 4096),
    "cell_bits": (1, 8),
    "weight_bits": (2, 16),
    "input_bits": (2, 16),
    "dac_bits": (1, 16),
    "adc_bits": (1, 32),
}


@dataclass(frozen=True)
class CrossbarQuant:
    """The arithmetic of one operator on a crossbar: ``rows`` word lines summed per
    bit line, weights of ``weight_bits`` sliced over cells of ``cell_bits``, inputs of
    ``input_bits`` fed ``dac_bits`` at a time, each partial sum read by an ``adc_bits`` ADC;
    each column's cells over a chunk are stored as they are or flipped, whichever sums to at
    most half the maximum (ISAAC's weight encoding, see :attr:`max_column_weight_sum`)."""

    rows: int
    cell_bits: int
    weight_bits: int
    input_bits: int
    dac_bits: int
    adc_bits: int

    def __post_init__(self) -> None:
        self.check("crossbar")

    def check(self, where: str) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            lo, hi = CROSSBAR_LIMITS[f.name]
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise PrecisionError(f"{where}.{f.name}: {v!r}; accepted: an integer {lo}..{hi}")
        if self.dac_bits > self.input_bits:
            raise PrecisionError(f"{where}.dac_bits: {self.dac_bits}; accepted: at most "
                                 f"input_bits ({self.input_bits})")

    @property
    def weight_slices(self) -> int:
        """Cells per weight: ``ceil(weight_bits / cell_bits)``."""
        return -(-self.weight_bits // self.cell_bits)

    @property
    def input_slices(self) -> int:
        """DAC steps per input: ``ceil(input_bits / dac_bits)``."""
        return -(-self.input_bits // self.dac_bits)

    @property
    def max_column_weight_sum(self) -> int:
        """The largest sum of one column's cell digits over a ``rows``-long chunk with
        ISAAC's weight flipping (Shafiee et al., ISCA 2016, Sec. 5): a column whose digits
        sum to more than half the maximum, ``floor(rows * (2^cell_bits - 1) / 2)``, is
        stored flipped (``2^cell_bits - 1 - w``), so no stored column exceeds that half."""
        return self.rows * (2**self.cell_bits - 1) // 2

    @property
    def max_partial_sum(self) -> int:
        """The largest partial sum one ADC conversion reads: an unsigned ``dac_bits`` input
        step on every row times a column of weight-flipped cells,
        ``(2^dac_bits - 1) * floor(rows * (2^cell_bits - 1) / 2)``."""
        return (2**self.dac_bits - 1) * self.max_column_weight_sum

    @property
    def lossless_adc_bits(self) -> int:
        """ADC bits that read every partial sum exactly: the bits of :attr:`max_partial_sum`.
        Without the flip a column needs ``log2(rows) + cell_bits + dac_bits`` for a
        power-of-two ``rows`` and multi-bit cells and DACs, one fewer when either is one bit
        (ISAAC, Sec. 5: A = log R + v + w, or log R + v + w - 1 when v or w is 1); the flip
        halves the largest column sum and saves one bit more: 8 bits for 128 rows, 2-bit
        cells and 1-bit DACs, ISAAC's 8-bit ADC."""
        return int(self.max_partial_sum).bit_length()

    def to_dict(self) -> dict[str, int]:
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: Any, where: str = "crossbar") -> CrossbarQuant:
        names = [f.name for f in fields(cls)]
        if not isinstance(d, Mapping) or set(d) != set(names):
            got = sorted(d) if isinstance(d, Mapping) else d
            raise PrecisionError(f"{where}: {got!r}; accepted: an object with exactly the "
                                 f"fields {names}")
        try:
            return cls(**{n: d[n] for n in names})
        except PrecisionError as exc:
            raise PrecisionError(str(exc).replace("crossbar.", f"{where}.", 1)) from None


def _check_map(where: str, m: Any, accepted: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(m, Mapping):
        raise PrecisionError(f"{where}: {m!r}; accepted: an object of name -> data type")
    out: dict[str, str] = {}
    for k, v in m.items():
        if not isinstance(k, str) or not k:
            raise PrecisionError(f"{where}: key {k!r}; accepted: a non-empty name")
        if v not in accepted:
            raise PrecisionError(f"{where}.{k}: {v!r}; accepted: {', '.join(accepted)}")
        if v != "fp32":
            out[k] = str(v)
    return dict(sorted(out.items()))


def _check_op_key(where: str, key: str) -> None:
    """An operator key is ``b<block>.<operator>`` or ``final``."""
    if key == "final":
        return
    head, _, name = key.partition(".")
    if not (head.startswith("b") and head[1:].isdigit() and name and "." not in name):
        raise PrecisionError(f"{where}: key {key!r}; accepted: b<block>.<operator> (e.g. "
                             "b3.fc, the mapping's kernel-name prefix) or final")


@dataclass(frozen=True, eq=True)
class Precision:
    """Data types of a subnet's tables and operators (absent: fp32). See the module
    docstring for the fields and the JSON form."""

    tables: Mapping[str, str] = field(default_factory=dict)
    ops: Mapping[str, str] = field(default_factory=dict)
    crossbar: Mapping[str, CrossbarQuant] = field(default_factory=dict)

    def __post_init__(self) -> None:
        tables = _check_map("precision.tables", self.tables, TABLE_DTYPES)
        ops = _check_map("precision.ops", self.ops, DENSE_DTYPES)
        for k in ops:
            _check_op_key("precision.ops", k)
        if not isinstance(self.crossbar, Mapping):
            raise PrecisionError(f"precision.crossbar: {self.crossbar!r}; accepted: an object "
                                 "of operator key -> crossbar arithmetic")
        xbar: dict[str, CrossbarQuant] = {}
        for k, v in self.crossbar.items():
            _check_op_key("precision.crossbar", str(k))
            xbar[k] = (v if isinstance(v, CrossbarQuant)
                       else CrossbarQuant.from_dict(v, f"precision.crossbar.{k}"))
        object.__setattr__(self, "tables", MappingProxyType(tables))
        object.__setattr__(self, "ops", MappingProxyType(ops))
        object.__setattr__(self, "crossbar", MappingProxyType(dict(sorted(xbar.items()))))

    def __hash__(self) -> int:
        return hash(self.key())

    @property
    def is_fp32(self) -> bool:
        """Whether everything computes in fp32 (the model is unchanged)."""
        return not (self.tables or self.ops or self.crossbar)

    def table(self, field: str) -> str:
        return self.tables.get(field, "fp32")

    def op(self, key: str) -> str:
        return self.ops.get(key, "fp32")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PRECISION_FORMAT,
            "tables": dict(self.tables),
            "ops": dict(self.ops),
            "crossbar": {k: v.to_dict() for k, v in self.crossbar.items()},
        }

    @classmethod
    def from_dict(cls, d: Any, where: str = "precision") -> Precision:
        if not isinstance(d, Mapping):
            raise PrecisionError(f"{where}: {type(d).__name__}; accepted: a JSON object")
        unknown = set(d) - {"format", "tables", "ops", "crossbar"}
        if unknown:
            raise PrecisionError(f"{where}: unknown fields {sorted(unknown)}; accepted: "
                                 "format, tables, ops, crossbar")
        fmt = d.get("format", PRECISION_FORMAT)
        if fmt != PRECISION_FORMAT:
            raise PrecisionError(f"{where}.format: {fmt!r}; accepted: {PRECISION_FORMAT!r}")
        try:
            return cls(tables=d.get("tables", {}), ops=d.get("ops", {}),
                       crossbar=d.get("crossbar", {}))
        except PrecisionError as exc:
            if where == "precision":
                raise
            raise PrecisionError(f"{where}: {exc}") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Precision:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise PrecisionError(f"precision: not valid JSON at {exc.lineno}:{exc.colno}: "
                                 f"{exc.msg}") from None

    def key(self) -> str:
        """A canonical key: ``""`` when everything is fp32, else 16 hex digits of the
        SHA-256 of the canonical JSON (sorted keys, fp32 entries dropped)."""
        if self.is_fp32:
            return ""
        canon = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode()).hexdigest()[:16]

    def save(self, path: str | os.PathLike[str]) -> None:
        atomic_write_json(path, self.to_dict(), indent=2, sort_keys=True)


def load_precision(path: str | os.PathLike[str]) -> Precision:
    """A precision from its JSON file; errors name the file."""
    d = read_json_file(path, PrecisionError, "a pimrec-precision/1 JSON object")
    return Precision.from_dict(d, where=str(path))
