"""Schema and memory-mapped cache: round trip, corruption, batches, stratified split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from codesign.data import CacheWriter, CtrData, DatasetSchema, get_schema, stratified_split
from codesign.data.schema import DEFAULT_SEARCH_CAP, SCHEMAS
from codesign.errors import DataFormatError


def test_schemas_shapes_and_published_counts() -> None:
    criteo, avazu, kdd = (get_schema(n) for n in ("criteo", "avazu", "kdd"))
    assert (criteo.n_dense, criteo.n_sparse) == (13, 26)
    assert criteo.dense_names[0] == "I1" and criteo.sparse_names[-1] == "C26"
    # DLRM's Kaggle counts + the missing row.
    assert criteo.cardinalities[2] == 10131227 + 1 and criteo.cardinalities[8] == 3 + 1
    assert (avazu.n_dense, avazu.n_sparse) == (1, 22)
    assert avazu.sparse_names[0] == "hour" and avazu.cardinalities[0] == 241
    assert avazu.cardinalities[avazu.sparse_names.index("device_ip")] == 6729486 + 1
    assert (kdd.n_dense, kdd.n_sparse) == (3, 10)
    assert kdd.dense_names == ("Impression", "Depth", "Position")
    assert kdd.sparse_names[-2:] == ("Gender", "Age")
    assert set(SCHEMAS) == {"criteo", "avazu", "kdd"}


def test_cap_buckets_and_dict_round_trip() -> None:
    capped = get_schema("criteo", cap=1000)
    assert max(capped.cardinalities) == 1000
    assert capped.cardinalities[8] == 4  # small fields untouched
    assert get_schema("criteo", cap=DEFAULT_SEARCH_CAP).cardinalities[2] == 2**20
    b = get_schema("kdd", buckets={"Gender": 10})
    assert b.cardinalities[b.sparse_names.index("Gender")] == 10
    assert DatasetSchema.from_dict(capped.to_dict()) == capped
    with pytest.raises(DataFormatError, match="accepted: criteo, avazu, kdd"):
        get_schema("movielens")
    with pytest.raises(DataFormatError, match="unknown field"):
        get_schema("kdd", buckets={"Nope": 3})
    with pytest.raises(DataFormatError, match="cap"):
        get_schema("avazu", cap=1)
    with pytest.raises(DataFormatError, match="cardinalities"):
        DatasetSchema("x", ("d",), ("a", "b"), (5,))


def _small_schema() -> DatasetSchema:
    return DatasetSchema("toy", ("d0", "d1"), ("s0", "s1", "s2"), (10, 20, 30))


def _write_cache(path: Path, n: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    dense = rng.random((n, 2), dtype=np.float32)
    sparse = rng.integers(0, 10, (n, 3)).astype(np.int32)
    label = (rng.random(n) < 0.3).astype(np.float32)
    with CacheWriter(path, _small_schema()) as w:
        for s in range(0, n, 300):
            w.append(dense[s : s + 300], sparse[s : s + 300], label[s : s + 300])
        w.finish(source={"path": "toy"})
    return dense, sparse, label


def test_cache_round_trip_and_batches(tmp_path: Path) -> None:
    dense, sparse, label = _write_cache(tmp_path / "c")
    data = CtrData.open(tmp_path / "c")
    assert data.n_rows == 1000 and data.schema == _small_schema()
    np.testing.assert_array_equal(data.dense, dense)
    np.testing.assert_array_equal(data.sparse, sparse)
    np.testing.assert_array_equal(data.label, label)
    parts = [data.indices(s) for s in ("train", "val", "test")]
    assert sum(len(p) for p in parts) == 1000
    assert len(np.unique(np.concatenate(parts))) == 1000
    assert all(p.dtype == np.int64 for p in parts)
    meta = json.loads((tmp_path / "c" / "meta.json").read_text())
    assert meta["counts"]["train"]["rows"] == len(parts[0])
    # Batches: dtypes, contiguity, coverage.
    batches = list(data.batches("train", 128, shuffle=True, rng=np.random.default_rng(1)))
    b = batches[0]
    assert b.dense.dtype == np.float32 and b.sparse.dtype == np.int64 and b.label.dtype == np.float32
    assert b.dense.flags.c_contiguous and b.sparse.flags.c_contiguous and b.label.flags.c_contiguous
    assert b.dense.shape == (128, 2) and b.sparse.shape == (128, 3)
    assert sum(len(x) for x in batches) == len(parts[0])
    assert len(batches) == data.n_batches("train", 128)
    # Same rng seed -> same batches; rows match the columns.
    again = list(data.batches("train", 128, shuffle=True, rng=np.random.default_rng(1)))
    for x, y in zip(batches, again):
        np.testing.assert_array_equal(x.sparse, y.sparse)
    ordered = list(data.batches("val", 50, shuffle=False))
    np.testing.assert_array_equal(np.concatenate([x.label for x in ordered]), label[parts[1]])
    limited = list(data.batches("train", 64, shuffle=True, rng=np.random.default_rng(2), limit=100))
    assert [len(x) for x in limited] == [64, 36]
    assert [len(x) for x in data.batches("train", 64, shuffle=False, limit=100, drop_last=True)] == [64]
    with pytest.raises(DataFormatError, match="rng"):
        next(data.batches("train", 8, shuffle=True))
    with pytest.raises(DataFormatError, match="split"):
        data.indices("dev")  # type: ignore[arg-type]


def test_cache_replaced_atomically_and_abort_cleans(tmp_path: Path) -> None:
    _write_cache(tmp_path / "c", n=500, seed=0)
    _, _, label2 = _write_cache(tmp_path / "c", n=700, seed=1)
    data = CtrData.open(tmp_path / "c")
    assert data.n_rows == 700
    np.testing.assert_array_equal(data.label, label2)
    with pytest.raises(RuntimeError):
        with CacheWriter(tmp_path / "c", _small_schema()) as w:
            w.append(np.zeros((3, 2)), np.zeros((3, 3)), np.zeros(3))
            raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]  # no temp folder left
    assert CtrData.open(tmp_path / "c").n_rows == 700  # old cache untouched


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda d: (d / "meta.json").unlink(), "meta.json: missing"),
        (lambda d: (d / "meta.json").write_text("{not json"), "meta.json: not valid JSON"),
        (lambda d: (d / "sparse.i32").write_bytes(b"\0" * 12), "sparse.i32: 12 bytes"),
        (lambda d: (d / "split.u8").unlink(), "split.u8: missing"),
        (
            lambda d: (d / "meta.json").write_text(
                json.dumps({**json.loads((d / "meta.json").read_text()), "format_version": 99})
            ),
            "format_version 99",
        ),
    ],
)
def test_corrupt_cache_names_the_file(tmp_path: Path, damage, match: str) -> None:
    _write_cache(tmp_path / "c", n=100)
    damage(tmp_path / "c")
    with pytest.raises(DataFormatError, match=match):
        CtrData.open(tmp_path / "c")


def test_missing_cache_folder(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="no such cache folder"):
        CtrData.open(tmp_path / "nope")


def test_stratified_split_exact_and_reproducible() -> None:
    rng = np.random.default_rng(5)
    label = (rng.random(12345) < 0.26).astype(np.float32)
    split = stratified_split(label, seed=2018, chunk_rows=1000)
    for cls in (0, 1):
        m = int(np.count_nonzero(label == cls))
        counts = np.bincount(split[label == cls], minlength=3)
        assert counts[1] == round(m * 0.1) and counts[2] == round(m * 0.1)
        assert counts[0] == m - 2 * round(m * 0.1)
    np.testing.assert_array_equal(split, stratified_split(label, seed=2018))  # chunking-independent
    assert not np.array_equal(split, stratified_split(label, seed=7))
    # Assignment is random within a class: val rows spread over the whole file.
    val_rows = np.flatnonzero(split == 1)
    assert val_rows.min() < 1000 and val_rows.max() > 11000


def test_base_rate_is_the_positive_share_of_the_split(tmp_path: Path) -> None:
    _, _, label = _write_cache(tmp_path / "c")
    data = CtrData.open(tmp_path / "c")
    for split in ("train", "val", "test"):
        idx = data.indices(split)  # type: ignore[arg-type]
        assert data.base_rate(split) == pytest.approx(int(label[idx].sum()) / len(idx))  # type: ignore[arg-type]
