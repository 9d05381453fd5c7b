"""The token hash against independent references: splitmix64's published outputs, and the
rule meta.json states re-implemented on Python integers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from codesign.data.hashing import GOLDEN_GAMMA, HASH_DESCRIPTION, bucketize, hash_strings, splitmix64
from codesign.data.prepare import prepare

M64 = (1 << 64) - 1


def ref_mix(z: int) -> int:
    """splitmix64's finaliser as published (Vigna, splitmix64.c), on Python integers."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def ref_hash(token: bytes, field: int, *, lower: bool = False) -> int:
    """The rule of HASH_DESCRIPTION, one token at a time."""
    if lower:
        token = token.lower()
    h = ref_mix(((field + 1) * 0x9E3779B97F4A7C15) & M64)
    for i in range(0, len(token), 8):
        h = ref_mix(h ^ int.from_bytes(token[i : i + 8].ljust(8, b"\0"), "little"))
    return ref_mix(h ^ len(token))


def test_splitmix64_matches_the_reference_generator() -> None:
    # The first three outputs of splitmix64 seeded with 0: state k * gamma, mixed.
    with np.errstate(over="ignore"):
        states = np.arange(1, 4, dtype=np.uint64) * GOLDEN_GAMMA
    assert [int(v) for v in splitmix64(states)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_hash_tokens_follow_the_stated_rule() -> None:
    rng = np.random.default_rng(0)
    alphabet = b"0123456789abcdefABCDEF-xyz"
    tokens = [rng.choice(list(alphabet), size=int(n)).astype(np.uint8).tobytes() for n in rng.integers(0, 33, 300)]
    for field in (0, 7, 25):
        got = hash_strings(tokens, field)
        assert [int(h) for h in got] == [ref_hash(t, field) for t in tokens]
    hexes = [b"ABCDEF01", b"05db9164", b"aBcDeF99"]
    assert [int(h) for h in hash_strings(hexes, 3, lower_hex=True)] == [ref_hash(t, 3, lower=True) for t in hexes]


def test_bucketize_rule() -> None:
    h = np.array([0, 1, 998, 999, M64], dtype=np.uint64)
    missing = np.array([False, False, False, False, True])
    assert list(bucketize(h, missing, 1000)) == [1, 2, 999, 1, 0]  # 1 + h % 999; missing -> 0


def test_cache_rows_and_meta_follow_the_stated_rule(tmp_path: Path) -> None:
    cats = [f"{(i * 2654435761) & 0xFFFFFFFF:08X}" for i in range(26)]
    cats[4] = ""
    line = "\t".join(["1", *["3"] * 13, *cats]) + "\n"
    (tmp_path / "train.txt").write_text(line)
    data = prepare("criteo", tmp_path / "train.txt", tmp_path / "c", cap=5000, quiet=True)
    cards = data.schema.cardinalities
    expected = [0 if not c else 1 + ref_hash(c.encode(), f, lower=True) % (cards[f] - 1) for f, c in enumerate(cats)]
    assert list(np.asarray(data.sparse[0])) == expected
    meta = json.loads((tmp_path / "c" / "meta.json").read_text())
    assert meta["preprocessing"]["sparse"] == HASH_DESCRIPTION
    assert "splitmix64" in HASH_DESCRIPTION and "fnv" not in HASH_DESCRIPTION.lower()
