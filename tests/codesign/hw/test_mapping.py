"""codesign.hw.mapping: subnets as pimsim workloads with the shapes and FLOPs of codesign.nas.flops."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from codesign.data.schema import get_schema
from codesign.errors import SpecError
from codesign.hw.mapping import map_subnet, subnet_graph, workload_macs
from codesign.hw.spec_workload import SpecWorkload
from codesign.nas.flops import count_flops
from codesign.nas.moves import sample
from codesign.nas.nasrec_json import load_spec
from codesign.nas.ops import NUM_HEADS, dot_tokens
from codesign.hw.placement import PimPlan
from pimsim.hw.load import load_profile
from pimsim.workload import EmbeddingBag, Elementwise, Gemm, Interaction
from tests.helpers.shared import NASREC_REFERENCE

REF = NASREC_REFERENCE
needs_ref = pytest.mark.skipif(not REF.is_dir(), reason="shared/reference/nasrec not present")


@needs_ref
@pytest.mark.parametrize("name", ["criteo_full_best.json", "criteo_small_best.json"])
@pytest.mark.parametrize("batch", [1, 256])
def test_reference_subnets_workload_flops_equal_codesign_flops(name: str, batch: int) -> None:
    spec = load_spec(REF / name)
    schema = get_schema("criteo")
    wl = map_subnet(spec, schema, batch=batch)
    assert workload_macs(wl) == batch * count_flops(spec, schema).total_macs
    # one convention: pimsim's FLOPs of the matrix kernels (per batch, 2 per multiply-add)
    # are the batch times codesign's FLOPs per sample
    matrix = [k for k in wl.kernels if isinstance(k, (Gemm, Interaction))]
    assert sum(k.flops() for k in matrix) == batch * count_flops(spec, schema).total_flops
    assert sum(k.flops() for k in matrix) == 2 * workload_macs(wl)
    # one embedding bag per table, all 26 Criteo fields, pooling 1
    bags = [k for k in wl.kernels if isinstance(k, EmbeddingBag)]
    assert [b.table for b in bags] == list(schema.sparse_names)
    assert all(b.batch == batch and b.pooling == 1 for b in bags)
    assert {t: wl.tables[t].rows for t in wl.tables} == dict(
        zip(schema.sparse_names, schema.cardinalities))


@needs_ref
def test_reference_full_subnet_kernel_shapes() -> None:
    # block 0 of criteo_full_best: sigmoid gating (width 128) on the raw dense features
    # (13) and attention (64 tokens) over the 26 raw tokens
    spec = load_spec(REF / "criteo_full_best.json")
    wl = map_subnet(spec, get_schema("criteo"), batch=256)
    k = {x.name: x for x in wl.kernels}
    gate = k["b0.gating.gate"]
    assert (gate.m, gate.k, gate.n) == (256, 13, 13)
    assert isinstance(k["b0.gating.mul"], Elementwise) and k["b0.gating.mul"].fn == "gating"
    assert (k["b0.gating.out_proj"].k, k["b0.gating.out_proj"].n) == (13, 128)
    tp = k["b0.attention.token_proj"]
    assert (tp.m, tp.k, tp.n) == (256 * 16, 26, 64)
    inp = k["b0.attention.in_proj"]
    assert (inp.m, inp.k, inp.n) == (256 * 64, 16, 48)
    sc = k["b0.attention.scores"]
    assert (sc.m, sc.k, sc.n) == (256 * NUM_HEADS * 64, 16 // NUM_HEADS, 64)
    ws = k["b0.attention.weighted_sum"]
    assert (ws.m, ws.k, ws.n) == (256 * NUM_HEADS * 64, 64, 16 // NUM_HEADS)
    # dependencies follow the operator and the dense connectivity
    assert wl.deps["b0.attention.in_proj"] == ["b0.attention.token_proj"]
    assert set(wl.deps["b0.attention.weighted_sum"]) == {"b0.attention.scores",
                                                         "b0.attention.in_proj"}
    assert set(wl.deps["b0.attention.token_proj"]) == {f"emb.C{i}" for i in range(1, 27)}
    assert "final.logit" in k and k["final.logit"].n == 1
    # block 1 is a dot-product of width 32 -> p = 8 tokens (+1 dense) -> 36 pairs
    inter = k["b1.dot.interaction"]
    assert isinstance(inter, Interaction)
    assert inter.tokens == dot_tokens(32) + 1 and inter.dim == 16 and inter.full_matrix
    assert inter.pairs() == 36 and k["b1.dot.out_proj"].k == 36


@pytest.mark.parametrize("space", ["full", "small"])
@pytest.mark.parametrize("dataset", ["criteo", "avazu", "kdd"])
def test_random_specs_map_with_exact_flops_and_shapes(space: str, dataset: str) -> None:
    schema = get_schema(dataset)
    rng = np.random.default_rng(5)
    for _ in range(8):
        spec = sample(space, rng)
        rep = count_flops(spec, schema)
        graph = subnet_graph(spec, schema)
        wl = map_subnet(spec, schema, batch=32)
        assert workload_macs(wl) == 32 * rep.total_macs
        by = {k.name: k for k in wl.kernels}
        # every matrix product of codesign.nas.flops appears once, with its shape x batch
        prods = [m for m in graph.kernels if m.source is not None]
        assert len(prods) == len(rep.kernels)
        for mk in prods:
            src, k = mk.source, by[mk.name]
            if isinstance(k, Gemm):
                assert (k.m, k.k, k.n) == (32 * src.batch * src.m, src.k, src.n)
            else:
                assert isinstance(k, Interaction)
                assert (k.tokens, k.dim) == (src.m, src.k) and src.m == src.n
        # dependencies name existing kernels; the last kernel is the logit
        for name, deps in wl.deps.items():
            assert name in by and all(d in by for d in deps)
        assert wl.topological_order()[-1] == "final.logit"
        bags = [k for k in wl.kernels if isinstance(k, EmbeddingBag)]
        assert len(bags) == (schema.n_sparse if graph.uses_embeddings else 0)


def test_pooling_and_batch_errors() -> None:
    spec = sample("full", np.random.default_rng(0))
    schema = get_schema("kdd")
    wl = map_subnet(spec, schema, batch=8, pooling=[3] * schema.n_sparse)
    assert all(k.pooling == 3 for k in wl.kernels if isinstance(k, EmbeddingBag))
    with pytest.raises(SpecError, match="pooling"):
        map_subnet(spec, schema, pooling=[1, 2])
    with pytest.raises(SpecError, match="batch"):
        map_subnet(spec, schema, batch=0)


@needs_ref
def test_spec_workload_builder_pickles_and_follows_profile_dtype() -> None:
    spec_path = REF / "criteo_small_best.json"
    b = SpecWorkload.from_files(str(spec_path), "criteo", None, 16)
    b2 = pickle.loads(pickle.dumps(b))
    prof = load_profile("hbm2_pim")
    wl = b2(prof)
    assert wl.name == b(prof).name and workload_macs(wl) == 16 * count_flops(
        load_spec(spec_path), "criteo").total_macs
    plan = PimPlan(dense={"b0.fc.linear": "pim"}, knobs={"units_per_channel": 8})
    bp = SpecWorkload(b.spec, "criteo", plan.to_dict(), 16)
    wl = bp(prof)
    k = wl.kernel("b0.fc.linear")
    assert k.placement == "pim" and k.dtype == "fp16"
    pim = bp.profile_for(prof).pim
    assert (pim["units_per_channel"] if isinstance(pim, dict) else pim.units_per_channel) == 8
