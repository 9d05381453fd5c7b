"""Synthetic data: exact raw formats, reproducible, base rates, labels that carry signal."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sps
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from codesign.data.cache import CtrData
from codesign.data.prepare import prepare
from codesign.data.schema import BASE_RATES
from pimsim.util.rng import zipf_ranks
from codesign.data.synthetic import make_synthetic_cache, write_synthetic
from codesign.errors import DataFormatError


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


def test_criteo_synthetic_format(tmp_path: Path) -> None:
    (path,) = write_synthetic("criteo", 3000, tmp_path / "train.txt", seed=1)
    lines = path.read_text().splitlines()
    assert len(lines) == 3000
    fields = [line.split("\t") for line in lines]
    assert {len(f) for f in fields} == {40}
    assert {f[0] for f in fields} == {"0", "1"}
    cats = [c for f in fields for c in f[14:]]
    present = [c for c in cats if c]
    assert all(len(c) == 8 and all(ch in "0123456789abcdef" for ch in c) for c in present)
    assert 0.05 < 1 - len(present) / len(cats) < 0.3  # missing categorical values occur
    dense = [d for f in fields for d in f[1:14]]
    assert any(d == "" for d in dense) and any(d.startswith("-") for d in dense)
    assert all(d == "" or d.lstrip("-").isdigit() for d in dense)


def test_avazu_and_kdd_synthetic_format(tmp_path: Path) -> None:
    (avazu,) = write_synthetic("avazu", 2000, tmp_path / "train", seed=1)
    lines = avazu.read_text().splitlines()
    assert lines[0].startswith("id,click,hour,C1,banner_pos,site_id") and lines[0].endswith("C20,C21")
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == 2000 and {len(r) for r in rows} == {24}
    assert all(r[2].startswith("14102") or r[2].startswith("14103") for r in rows)
    kdd = write_synthetic("kdd", 2000, tmp_path / "kdd", seed=1)
    assert [p.name for p in kdd] == ["training.txt", "userid_profile.txt"]
    train = [line.split("\t") for line in kdd[0].read_text().splitlines()]
    assert {len(r) for r in train} == {12}
    assert all(int(r[0]) <= int(r[1]) for r in train)  # clicks <= impressions
    assert all(1 <= int(r[6]) <= int(r[5]) <= 3 for r in train)  # 1 <= position <= depth
    prof = [line.split("\t") for line in kdd[1].read_text().splitlines()]
    users = {r[11] for r in train} - {"0"}
    assert {len(r) for r in prof} == {3} and 0.9 < len(prof) / len(users) <= 1.0
    ids = [int(r[0]) for r in prof]
    assert ids == sorted(ids)


@pytest.mark.parametrize("name", ["criteo", "avazu", "kdd"])
def test_synthetic_reproducible(tmp_path: Path, name: str) -> None:
    target = "x" if name == "kdd" else "x.txt"
    a = write_synthetic(name, 1500, tmp_path / "a" / target, seed=7, chunk_rows=500)
    b = write_synthetic(name, 1500, tmp_path / "b" / target, seed=7, chunk_rows=500)
    c = write_synthetic(name, 1500, tmp_path / "c" / target, seed=8, chunk_rows=500)
    assert _digest(a) == _digest(b) != _digest(c)


def _one_hot(data: CtrData, split: str) -> tuple[sps.csr_matrix, np.ndarray]:
    b = data.take(data.indices(split))  # type: ignore[arg-type]
    n, f = b.sparse.shape
    offsets = np.concatenate([[0], np.cumsum(data.schema.cardinalities[:-1])])
    x = sps.csr_matrix(
        (np.ones(n * f), (np.repeat(np.arange(n), f), (b.sparse + offsets).ravel())),
        shape=(n, int(sum(data.schema.cardinalities))),
    )
    return sps.hstack([x, sps.csr_matrix(b.dense)]).tocsr(), b.label


@pytest.mark.parametrize("name, rows, tol", [("criteo", 12000, 0.025), ("avazu", 20000, 0.015), ("kdd", 40000, 0.008)])
def test_synthetic_parses_cleanly_base_rate_and_signal(tmp_path: Path, name: str, rows: int, tol: float) -> None:
    data = make_synthetic_cache(name, rows, tmp_path / "cache", seed=3, cap=1024)
    assert data.n_rows == rows and data.meta["skipped"]["count"] == 0
    assert abs(float(np.mean(data.label)) - BASE_RATES[name]) < tol
    assert [p.name for p in tmp_path.iterdir()] == ["cache"]  # the raw temp folder is gone
    x_tr, y_tr = _one_hot(data, "train")
    x_va, y_va = _one_hot(data, "val")
    model = LogisticRegression(C=0.05, solver="liblinear").fit(x_tr, y_tr)
    base = log_loss(y_va, np.full(y_va.shape, y_tr.mean()))
    learned = log_loss(y_va, model.predict_proba(x_va)[:, 1])
    assert learned < base - 0.01, (name, base, learned)


def test_written_files_prepare_with_zero_skipped(tmp_path: Path) -> None:
    files = write_synthetic("criteo", 5000, tmp_path / "raw.txt", seed=2)
    data = prepare("criteo", files[0], tmp_path / "c", strict=True, quiet=True)
    assert data.n_rows == 5000
    # Default (uncapped) schema: ids stay inside the published cardinalities.
    assert np.all(np.asarray(data.sparse).max(axis=0) < np.array(data.schema.cardinalities))


def test_zipf_ranks_bounded_and_heavy_headed() -> None:
    r = zipf_ranks(np.random.default_rng(0), 10_000_000, 1.1, 200_000)
    assert r.min() >= 1 and r.max() <= 10_000_000
    assert np.mean(r == 1) > 0.05 and np.mean(r <= 1000) > 0.4


def test_synthetic_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="schema"):
        write_synthetic("movielens", 10, tmp_path / "x", seed=0)
    with pytest.raises(DataFormatError, match="rows"):
        write_synthetic("criteo", 0, tmp_path / "x", seed=0)
    (tmp_path / "f").write_text("x")
    with pytest.raises(DataFormatError, match="not a folder"):
        write_synthetic("kdd", 10, tmp_path / "f", seed=0)
