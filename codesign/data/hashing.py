"""The stable hash of categorical tokens: 8-byte words, the splitmix64 finaliser, buckets.

A token's bytes are read as little-endian 64-bit words straight out of the chunk buffer
(``gather_words``); ``hash_tokens`` chains them through the splitmix64 finaliser, salted
with the field index, so the same token in the same field hashes the same on every run,
machine and Python version (unlike the salted built-in ``hash``); ``bucketize`` maps a hash
onto embedding rows 1..C-1 (row 0 is a missing value). ``HASH_DESCRIPTION`` states the rule
for the cache's meta.json.
"""

from __future__ import annotations

import numpy as np

#: Longest token accepted in any field; longer fields make the line malformed.
MAX_TOKEN_BYTES: int = 32

#: 2**64 divided by the golden ratio, odd: splitmix64's increment (Steele, Lea and Flood,
#: "Fast splittable pseudorandom number generators", OOPSLA 2014). Multiplying a small key
#: by it spreads consecutive keys over all 64 bits before the finaliser mixes them.
GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
# The two multipliers of splitmix64's finaliser (the same paper; Stafford's "Mix13").
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)

#: What meta.json says of the hash (``hash_tokens`` then ``bucketize``).
HASH_DESCRIPTION: str = (
    "h = splitmix64((field index + 1) * 0x9E3779B97F4A7C15); for each 8-byte little-endian "
    "word w of the token (zero-padded; hex tokens lower-cased): h = splitmix64(h ^ w); "
    "h = splitmix64(h ^ token length); row = 1 + h % (C - 1); missing -> 0"
)

_ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


def gather_words(words: np.ndarray, starts: np.ndarray, lens: np.ndarray, n_words: int) -> np.ndarray:
    """Each field's first ``8 * n_words`` bytes as [n, n_words] uint64, bytes past its end zeroed."""
    n = starts.shape[0]
    out = np.empty((n, n_words), dtype=np.uint64)
    top = words.shape[0] - 1
    for i in range(n_words):
        w = words[np.minimum(starts + 8 * i, top)]
        out[:, i] = w & _word_mask(lens, i)
    return out


def _word_mask(lens: np.ndarray, i: int) -> np.ndarray:
    """Per field, the mask of the bytes of its word ``i`` that lie inside the field."""
    valid = np.clip(lens - 8 * i, 0, 8).astype(np.uint64)
    return np.where(valid >= 8, _ALL_ONES, (np.uint64(1) << (np.uint64(8) * valid)) - np.uint64(1))


#: OR-ed into every byte of a hex token: maps A-F onto a-f and leaves the digits alone.
_LOWER = np.uint64(0x2020202020202020)


def hash_tokens(
    words: np.ndarray, starts: np.ndarray, lens: np.ndarray, field_index: int, *, lower_hex: bool = False
) -> np.ndarray:
    """Stable 64-bit hash of each token's bytes, salted with ``field_index``.

    h = splitmix64((field_index + 1) * GOLDEN_GAMMA); for each 8-byte little-endian word
    of the token (zero-padded): h = splitmix64(h ^ word); finally h = splitmix64(h ^ length). With ``lower_hex`` every
    byte is OR-ed with 0x20 first (maps A-F onto a-f, leaves digits alone).
    """
    use_len = np.minimum(lens, MAX_TOKEN_BYTES)
    n_words = max(1, -(-int(use_len.max(initial=0)) // 8))
    packed = gather_words(words, starts, use_len, n_words)
    h = np.full(starts.shape[0], splitmix64(np.array([field_index + 1], dtype=np.uint64) * GOLDEN_GAMMA)[0])
    with np.errstate(over="ignore"):
        for i in range(n_words):
            w = packed[:, i]
            if lower_hex:
                w = (w | _LOWER) & _word_mask(use_len, i)
            active = use_len > 8 * i
            h = np.where(active, splitmix64(h ^ w), h)
        return splitmix64(h ^ use_len.astype(np.uint64))


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser (bijective on uint64)."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64, copy=True)
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


def bucketize(h: np.ndarray, missing: np.ndarray, cardinality: int) -> np.ndarray:
    """Hash -> row 1..C-1, missing -> row 0 (int32)."""
    out = (h % np.uint64(cardinality - 1)).astype(np.int64) + 1
    out[missing] = 0
    return out.astype(np.int32)


def hash_strings(tokens: list[bytes], field_index: int, *, lower_hex: bool = False) -> np.ndarray:
    """``hash_tokens`` of a list of tokens (convenience for tests and tools)."""
    joined = b"".join(tokens) + b"\0" * 8
    lens = np.array([len(t) for t in tokens], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    words = np.ndarray(shape=(len(joined) - 7,), dtype="<u8", buffer=joined, offset=0, strides=(1,))
    return hash_tokens(words, starts, lens, field_index, lower_hex=lower_hex)
