"""Address mapping: byte address <-> (channel, rank, bank group, bank, row, column).

The mapping string is a permutation of the two-letter fields ``ro ra bg ba ch co``, most
significant first, as DRAMsim3 names them (``rorabgbachco``, ``rochrababgco``, ...). Below
``co`` sit the byte-offset bits of one transaction (bus_width / 8 x BL bytes). The column
field counts transactions within a row: ``columns / burst_length`` values (DRAMsim3's
``LogBase2(columns) - LogBase2(BL)`` bits). Decoding and encoding are vectorised in numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimsim.errors import PimsimError, ProfileError

FIELDS: tuple[str, ...] = ("ro", "ra", "bg", "ba", "ch", "co")


def _log2(n: int, what: str) -> int:
    if n < 1 or n & (n - 1):
        raise ProfileError(f"{what}: {n} is not a power of two; accepted: 1, 2, 4, 8, ...")
    return n.bit_length() - 1


@dataclass(frozen=True)
class DecodedAddresses:
    """Decoded fields, one int64 array each (same length as the input)."""

    channel: np.ndarray
    rank: np.ndarray
    bankgroup: np.ndarray
    bank: np.ndarray
    row: np.ndarray
    column: np.ndarray


class AddressMapper:
    """Vectorised address mapper for one profile."""

    def __init__(self, profile) -> None:  # noqa: ANN001 - pimsim.hw.schema.Profile
        d = profile.dram
        mapping = str(profile.controller.address_mapping)
        tokens = [mapping[i : i + 2] for i in range(0, len(mapping), 2)]
        if len(mapping) != 12 or sorted(tokens) != sorted(FIELDS):
            raise ProfileError(
                f"controller.address_mapping: {mapping!r} is not a permutation of the fields "
                f"{' '.join(FIELDS)}; accepted: 12 letters, each field once, e.g. 'rorabgbachco'"
            )
        self.mapping = mapping
        self.offset_bits = _log2(int(profile.transaction_bytes), "transaction bytes")
        self.widths: dict[str, int] = {
            "ch": _log2(d.channels, "dram.channels"),
            "ra": _log2(d.ranks, "dram.ranks"),
            "bg": _log2(d.bankgroups, "dram.bankgroups"),
            "ba": _log2(d.banks_per_group, "dram.banks_per_group"),
            "ro": _log2(d.rows, "dram.rows"),
            "co": _log2(d.columns // d.burst_length, "dram.columns / dram.burst_length"),
        }
        self.positions: dict[str, int] = {}
        pos = self.offset_bits
        for tok in reversed(tokens):
            self.positions[tok] = pos
            pos += self.widths[tok]
        self.address_bits = pos
        self.capacity_bytes = 1 << pos

    def _field(self, a: np.ndarray, name: str) -> np.ndarray:
        return (a >> self.positions[name]) & ((1 << self.widths[name]) - 1)

    def decode(self, addr: np.ndarray) -> DecodedAddresses:
        """Decode byte addresses (any integer array). Bits above the capacity are ignored."""
        a = np.asarray(addr)
        if a.dtype.kind not in "iu":
            raise PimsimError(f"addresses: dtype {a.dtype} is not an integer type")
        a = a.astype(np.int64, copy=False)
        return DecodedAddresses(
            channel=self._field(a, "ch"),
            rank=self._field(a, "ra"),
            bankgroup=self._field(a, "bg"),
            bank=self._field(a, "ba"),
            row=self._field(a, "ro"),
            column=self._field(a, "co"),
        )

    def encode(
        self,
        channel: np.ndarray | int = 0,
        rank: np.ndarray | int = 0,
        bankgroup: np.ndarray | int = 0,
        bank: np.ndarray | int = 0,
        row: np.ndarray | int = 0,
        column: np.ndarray | int = 0,
    ) -> np.ndarray:
        """Byte address (offset 0 within the transaction) of the given fields."""
        parts = {"ch": channel, "ra": rank, "bg": bankgroup, "ba": bank, "ro": row, "co": column}
        out = np.zeros(np.broadcast(*[np.asarray(v) for v in parts.values()]).shape, np.int64)
        for name, value in parts.items():
            v = np.asarray(value, dtype=np.int64)
            limit = 1 << self.widths[name]
            if np.any((v < 0) | (v >= limit)):
                bad = v[(v < 0) | (v >= limit)].ravel()[0]
                raise PimsimError(f"encode: field {name} = {bad} out of range; accepted: 0..{limit - 1}")
            out = out | (v << self.positions[name])
        return out
