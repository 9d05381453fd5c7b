"""Workloads: shapes, FLOPs/bytes, index generation, DAG validation, YAML/JSON I/O."""

from __future__ import annotations

import json

import numpy as np
import pytest

from codesign.data.schema import get_schema
from pimsim.errors import WorkloadError
from pimsim.workload.examples import CRITEO_EXAMPLE, criteo_dlrm, example_table_rows
from pimsim.workload.graph import Workload, load_workload, save_workload
from pimsim.workload.indices import zipf_rows
from pimsim.workload.kernels import (
    Elementwise,
    EmbeddingBag,
    Gemm,
    Interaction,
    Table,
    Transfer,
)

#: The table sizes of the example workload (the Criteo Kaggle set's 26 tables).
ROWS = example_table_rows()


def test_kernel_flops_and_bytes_from_shapes() -> None:
    g = Gemm(name="g", m=4, n=8, k=16, dtype="fp16")
    assert g.macs() == 4 * 8 * 16 and g.flops() == 2 * 4 * 8 * 16
    assert g.resident_bytes() == 16 * 8 * 2
    assert g.input_bytes() == 4 * 16 * 2 and g.output_bytes() == 4 * 8 * 2
    it = Interaction(name="i", batch=2, tokens=27, dim=16)
    assert it.pairs() == 27 * 26 // 2
    assert it.flops() == 2 * 2 * 351 * 16 and it.output_shape() == (2, 351)
    e = Elementwise(name="e", fn="sum", m=3, n=5, inputs=3)
    assert e.flops() == 3 * 5 * 2 and e.input_bytes() == 3 * 3 * 5 * 4
    w = Workload(tables={"t": Table(rows=100, dim=8, dtype="fp16")},
                 kernels=[EmbeddingBag(name="b", table="t", batch=10, pooling=4)])
    b = w.kernel("b")
    assert b.lookups() == 40 and b.resident_bytes() == 40 * 16
    assert b.flops() == (40 - 10) * 8 and b.output_shape() == (10, 8)
    assert Transfer(name="x", bytes=100, direction="host_to_pim").output_bytes() == 100


def test_example_tables_are_the_criteo_schema_cardinalities() -> None:
    # codesign.data.schema is the one home of the data sets' cardinalities (it adds row 0
    # for a missing value); the example file, which the demo reads, must agree with it.
    assert [c - 1 for c in get_schema("criteo").cardinalities] == list(ROWS)
    example = load_workload(CRITEO_EXAMPLE)
    built = criteo_dlrm(ROWS, batch=256, pooling=1, dtype="fp16", mlp_placement="pim",
                        fallback_to_host=True)
    assert built.to_dict() == example.to_dict()


def test_criteo_workload_shape() -> None:
    w = criteo_dlrm(ROWS, batch=256, pooling=1)
    emb = [k for k in w.kernels if isinstance(k, EmbeddingBag)]
    gemm = [k for k in w.kernels if isinstance(k, Gemm)]
    assert len(emb) == 26 and len(gemm) == 7
    assert [w.tables[k.table].rows for k in emb] == list(ROWS)
    assert w.kernel("top0").k == 351 + 16
    order = w.topological_order()
    assert order.index("interact") > max(order.index(f"emb{i}") for i in range(26))


def test_indices_uniform_zipf_explicit_deterministic() -> None:
    w = Workload(tables={"t": Table(rows=1000, dim=4)}, kernels=[
        EmbeddingBag(name="u", table="t", batch=50, pooling=8),
        EmbeddingBag(name="z", table="t", batch=50, pooling=8, distribution="zipf", zipf_s=1.2),
        EmbeddingBag(name="x", table="t", batch=2, indices=[[1, 2, 3], [999]]),
    ])
    o1, i1 = w.kernel("u").bag_indices(np.random.default_rng(7))
    o2, i2 = w.kernel("u").bag_indices(np.random.default_rng(7))
    assert np.array_equal(i1, i2) and list(o1[:3]) == [0, 8, 16] and o1[-1] == 400
    assert i1.min() >= 0 and i1.max() < 1000
    o, i = w.kernel("x").bag_indices(np.random.default_rng(0))
    assert list(o) == [0, 3, 4] and list(i) == [1, 2, 3, 999]
    z = zipf_rows(np.random.default_rng(1), 1000, 1.2, 20000)
    counts = np.bincount(z, minlength=1000)
    # skew: the hottest row is drawn far more often than a uniform row (20 on average)
    assert counts.max() > 10 * 20 and z.min() >= 0 and z.max() < 1000


def test_indices_from_files(tmp_path) -> None:
    np.save(tmp_path / "idx.npy", np.array([[0, 1], [2, 3], [4, 5]]))
    (tmp_path / "idx.txt").write_text("0 1 2\n7,8\n")
    (tmp_path / "bad.txt").write_text("0 1\nx y\n")
    t = {"t": Table(rows=10, dim=4)}
    w = Workload(tables=t, kernels=[
        EmbeddingBag(name="a", table="t", batch=3, indices_file=str(tmp_path / "idx.npy")),
        EmbeddingBag(name="b", table="t", batch=2, indices_file=str(tmp_path / "idx.txt")),
        EmbeddingBag(name="c", table="t", batch=2, indices_file=str(tmp_path / "bad.txt")),
    ])
    rng = np.random.default_rng(0)
    assert list(w.kernel("a").bag_indices(rng)[1]) == [0, 1, 2, 3, 4, 5]
    o, i = w.kernel("b").bag_indices(rng)
    assert list(o) == [0, 3, 5] and list(i) == [0, 1, 2, 7, 8]
    with pytest.raises(WorkloadError, match=r"bad\.txt:2: kernel 'c'"):
        w.kernel("c").bag_indices(rng)


def test_yaml_and_json_roundtrip(tmp_path) -> None:
    w = criteo_dlrm(ROWS, batch=8, pooling=2, mlp_placement="pim", fallback_to_host=True)
    for name in ("w.yaml", "w.json"):
        path = save_workload(w, tmp_path / name)
        back = load_workload(path)
        assert back.to_dict() == w.to_dict()
    assert json.loads((tmp_path / "w.json").read_text())["fallback_to_host"] is True
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def _two(**deps: list[str]) -> dict:
    return {"kernels": [{"op": "gemm", "name": "a", "m": 2, "n": 4, "k": 3},
                        {"op": "gemm", "name": "b", "m": 2, "n": 5, "k": 4}],
            "deps": deps}


@pytest.mark.parametrize("data, match", [
    (_two(b=["zz"]), r"deps\.b: unknown dependency 'zz'"),
    (_two(a=["b"], b=["a"]), r"dependency cycle among kernels \['a', 'b'\]"),
    ({"kernels": [{"op": "gemm", "name": "a", "m": 2, "n": 4, "k": 3},
                  {"op": "gemm", "name": "b", "m": 2, "n": 5, "k": 7}], "deps": {"b": ["a"]}},
     r"kernel 'b': shape mismatch.*width 4.*\(2, 7\)"),
    ({"kernels": [{"op": "embedding_bag", "name": "e", "table": "nope", "batch": 2,
                   "pooling": 1}]}, r"kernels\[0\] \('e'\)\.table: unknown table 'nope'"),
    ({"tables": {"t": {"rows": 10, "dim": 4}},
      "kernels": [{"op": "embedding_bag", "name": "e", "table": "t", "dim": 8, "batch": 2,
                   "pooling": 1}]}, r"\('e'\)\.dim: 8 does not match table 't' \(dim = 4\)"),
    ({"kernels": [{"op": "gemm", "name": "a", "m": 0, "n": 4, "k": 3}]}, r"kernels\.0\.gemm\.m"),
    ({"kernels": [{"op": "conv", "name": "a"}]}, r"kernels\.0"),
    ({"kernels": [{"op": "elementwise", "name": "a", "fn": "gating", "m": 2, "n": 2,
                   "inputs": 3}]}, r"'gating' takes exactly 2"),
    ({"kernels": [{"op": "gemm", "name": "a", "m": 2, "n": 4, "k": 3},
                  {"op": "gemm", "name": "a", "m": 2, "n": 4, "k": 3}]}, r"duplicate kernel"),
])
def test_bad_workloads_raise_clear_errors(data: dict, match: str) -> None:
    with pytest.raises(WorkloadError, match=match):
        Workload.from_dict(data, source="w.yaml")


def test_bad_files(tmp_path) -> None:
    with pytest.raises(WorkloadError, match="not found"):
        load_workload(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("kernels: [a: b: c]\n")
    with pytest.raises(WorkloadError, match=r"bad.yaml:1: YAML syntax error"):
        load_workload(tmp_path / "bad.yaml")
    w = Workload(tables={"t": Table(rows=5, dim=2)},
                 kernels=[EmbeddingBag(name="e", table="t", batch=1, indices=[[5]])])
    with pytest.raises(WorkloadError, match=r"index 5 out of range .* 0\.\.4"):
        w.kernel("e").bag_indices(np.random.default_rng(0))
