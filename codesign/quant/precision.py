"""Precision: per embedding table and per dense operator, the data type a subnet computes
in, and per operator placed on a crossbar PIM its crossbar arithmetic.

- ``tables``: sparse field name -> one of :data:`TABLE_DTYPES` (``int8`` / ``int4``: rows
  quantised row-wise with a scale and a bias per row, as FBGEMM's fused quantised tables);
- ``ops``: operator key -> one of :data:`DENSE_DTYPES` (weights and activations). The
  operator key is the prefix of the mapping's kernel names: ``b{block}.{op}`` for a
  block's operator (``b3.fc``, ``b2.attention``), ``final`` for the logit layer;
- ``crossbar``: operator key -> :class:`CrossbarQuant`.

Absent entries are fp32 (no crossbar). :meth:`Precision.key` is canonical and ``""`` for
all-fp32, so that caches keyed by it stay valid for fp32 estimates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from codesign.errors import SpecError

__all__ = ["DENSE_DTYPES", "TABLE_DTYPES", "CrossbarQuant", "Precision"]

#: Data types of embedding table rows.
TABLE_DTYPES: tuple[str, ...] = ("fp32", "fp16", "int8", "int4")
#: Data types of dense operators (weights and activations).
DENSE_DTYPES: tuple[str, ...] = ("fp32", "fp16", "bf16", "int8")


@dataclass(frozen=True)
class CrossbarQuant:
    """Crossbar arithmetic of one operator: ``rows``-long dot products per crossbar, cells
    of ``cell_bits``, weights of ``weight_bits`` (bit-sliced over cells), inputs of
    ``input_bits`` through ``dac_bits`` DACs, partial sums read by ``adc_bits`` ADCs."""

    rows: int
    cell_bits: int
    weight_bits: int
    input_bits: int
    dac_bits: int
    adc_bits: int

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise SpecError(f"crossbar.{f.name}: {v!r}; accepted: an integer >= 1")

    def to_dict(self) -> dict[str, int]:
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Any, where: str = "crossbar") -> CrossbarQuant:
        names = [f.name for f in fields(cls)]
        if not isinstance(data, Mapping) or set(data) != set(names):
            raise SpecError(f"{where}: {data!r}; accepted: an object with exactly "
                            f"{', '.join(names)}")
        try:
            return cls(**{n: data[n] for n in names})
        except SpecError as exc:
            raise SpecError(f"{where}.{exc}") from None


def _check(where: str, entries: Mapping[str, str], accepted: tuple[str, ...]) -> None:
    for name, dtype in entries.items():
        if not isinstance(name, str) or dtype not in accepted:
            raise SpecError(f"{where}[{name!r}]: {dtype!r}; accepted: {', '.join(accepted)}")


@dataclass(frozen=True)
class Precision:
    """Data types of a subnet's tables and dense operators (see the module docstring)."""

    tables: Mapping[str, str] = field(default_factory=dict)
    ops: Mapping[str, str] = field(default_factory=dict)
    crossbar: Mapping[str, CrossbarQuant] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check("precision.tables", self.tables, TABLE_DTYPES)
        _check("precision.ops", self.ops, DENSE_DTYPES)
        for name, q in self.crossbar.items():
            if not isinstance(q, CrossbarQuant):
                raise SpecError(f"precision.crossbar[{name!r}]: {q!r}; accepted: a "
                                "CrossbarQuant")

    def table(self, field_name: str) -> str:
        return self.tables.get(field_name, "fp32")

    def op(self, key: str) -> str:
        return self.ops.get(key, "fp32")

    def is_fp32(self) -> bool:
        return self.key() == ""

    def to_dict(self) -> dict[str, Any]:
        """Entries other than fp32, keys sorted."""
        return {
            "tables": {k: v for k, v in sorted(self.tables.items()) if v != "fp32"},
            "ops": {k: v for k, v in sorted(self.ops.items()) if v != "fp32"},
            "crossbar": {k: q.to_dict() for k, q in sorted(self.crossbar.items())},
        }

    def key(self) -> str:
        """Canonical text of the entries other than fp32; ``""`` for all-fp32."""
        d = {k: v for k, v in self.to_dict().items() if v}
        return json.dumps(d, sort_keys=True, separators=(",", ":")) if d else ""

    @classmethod
    def from_dict(cls, data: Any, where: str = "precision") -> Precision:
        if not isinstance(data, Mapping) or set(data) - {"tables", "ops", "crossbar"}:
            raise SpecError(f"{where}: {str(data)[:80]!r}; accepted: an object with "
                            "'tables', 'ops' and 'crossbar'")
        tables, ops, xbar = (data.get(k, {}) for k in ("tables", "ops", "crossbar"))
        for name, part in (("tables", tables), ("ops", ops), ("crossbar", xbar)):
            if not isinstance(part, Mapping):
                raise SpecError(f"{where}.{name}: {part!r}; accepted: an object")
        return cls(tables=dict(tables), ops=dict(ops),
                   crossbar={k: CrossbarQuant.from_dict(v, f"{where}.crossbar[{k!r}]")
                             for k, v in xbar.items()})
