"""Precision genes: PimPlan's table and operator precisions, what each target accepts, the
sampled and mutated genes, their JSON form, and the data types they give the workload."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.cosearch import CoSearchProblem
from codesign.data.schema import get_schema
from codesign.errors import SpecError
from codesign.hw.capability import crossbar_quant, profile_with_knobs
from codesign.hw.greedy import greedy_plan
from codesign.hw.mapping import map_subnet, subnet_graph
from codesign.hw.placement import PimPlan, TablePlan, load_plan, operator_key, save_plan
from codesign.hw.plans import (
    mutate_plan,
    naive_plan,
    reconcile_plan,
    sample_plan,
    validate_plan,
)
from codesign.nas.moves import sample
from codesign.quant import DENSE_DTYPES, TABLE_DTYPES, CrossbarQuant, Precision
from pimsim import Profile, load_profile
from pimsim.workload import EmbeddingBag, Gemm

SCHEMA = get_schema("criteo")
PROFILE_DIR = Path(__file__).resolve().parents[3] / "hw_profiles"
ALL_PROFILES = sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))
#: The four row types of a table the host dequantises (issue: fp32, fp16, int8 and int4
#: row-wise), stated here independently of codesign.quant.
HOST_TABLE_TYPES = {"fp32", "fp16", "int8", "int4"}


@pytest.fixture(scope="module")
def loaded() -> dict[str, Profile]:
    return {n: load_profile(n) for n in ALL_PROFILES}


def _accepted_by_profile(profile: Profile) -> tuple[set[str], set[str], bool]:
    """What the profile's own sections say: the host's dense types (its ``dtypes``), the
    PIM kind's types, and whether the kind pools embeddings."""
    host = set(profile.host.dtypes) if profile.host else {"fp32"}
    pim = profile.pim
    if pim is None:
        return host, set(), False
    return host, set(pim.dtypes), "embedding_bag" in pim.supported_ops


def _check_genes(plan: PimPlan, spec, profile: Profile) -> None:
    """Every precision explicit and run by its target, as the profile's sections say."""
    validate_plan(plan, spec, SCHEMA, profile)
    graph = subnet_graph(spec, SCHEMA)
    host, pim, pools = _accepted_by_profile(profile)
    for f in graph.tables:
        t = plan.tables[f]
        if not graph.uses_embeddings:
            continue
        assert t.dtype is not None, f
        assert t.dtype in (HOST_TABLE_TYPES if t.placement == "host" else pim), (f, t)
        assert t.placement == "host" or pools
    for mk in graph.kernels:
        dtype = plan.precision[mk.op_key]
        where = plan.dense[mk.name]
        assert dtype in DENSE_DTYPES
        assert dtype in (host if where == "host" else pim), (mk.name, where, dtype)
    # the workload gives each kernel the plan's type
    wl = map_subnet(spec, SCHEMA, plan, batch=2, profile=profile)
    names = graph.by_name()
    for k in wl.kernels:
        if isinstance(k, EmbeddingBag):
            assert wl.tables[k.table].dtype == plan.tables[k.table].dtype
        else:
            assert k.dtype == plan.precision[names[k.name].op_key], k.name


@settings(max_examples=12, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1))
def test_sampled_and_mutated_genes_are_valid_on_every_profile(loaded, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for profile in loaded.values():
        spec = sample("full", rng)
        plan = sample_plan(spec, SCHEMA, profile, rng, 0.5, precision_genes=True)
        _check_genes(plan, spec, profile)
        for _ in range(3):
            plan = mutate_plan(plan, spec, SCHEMA, profile, rng, 3, precision_genes=True)
            _check_genes(plan, spec, profile)
        # another subnet: the plan is settled with its kernels and operators
        other = sample("full", rng)
        _check_genes(reconcile_plan(plan, other, SCHEMA, profile, True), other, profile)
        _check_genes(naive_plan(other, SCHEMA, profile, True), other, profile)


def test_problem_genomes_with_precision_genes_are_valid(loaded) -> None:
    for name in ("hbm2_pim", "gddr6_aim", "ddr4_recnmp", "upmem", "ddr4_3200"):
        prob = CoSearchProblem(data_dir="unused", supernet="unused", profile=name,
                               dataset="criteo", batch=1, precision_genes=True)
        rng = np.random.default_rng(5)
        seen = set()
        for _ in range(4):
            g = prob.sample(rng)
            _check_genes(g.plan, g.spec, prob.hw_profile)
            for _ in range(2):
                g = prob.mutate(g, rng, 2)
                _check_genes(g.plan, g.spec, prob.hw_profile)
                seen |= set(g.plan.precision.values())
        assert len(seen) >= 2, (name, seen)  # the precisions do vary
        for s in prob.seed_genomes(g.spec, 5, rng, g.plan):
            _check_genes(s.plan, s.spec, prob.hw_profile)


#: Digests of genomes sampled and mutated with precision genes off by the code without
#: precision genes (main branch at 7eba3d4), computed by ``_genes_off_digest`` below: the
#: same seed gives the same genomes, so existing journals resume unchanged. That code knew
#: three knobs; the profiles are given with :data:`DIGEST_KNOBS` alone, so that knobs added
#: to a profile's data (which change its random knob draws) do not enter the comparison.
GENES_OFF_DIGESTS = {
    "ddr4_3200": "efd4b80378ca11a57f16962cba8f7236db13eec78e56aaeac3970353dc741d57",
    "ddr4_cpu": "efd4b80378ca11a57f16962cba8f7236db13eec78e56aaeac3970353dc741d57",
    "ddr4_recnmp": "fe790b030622e45d0445314fcb2a4854b00be6deaab4bc6b02c9bd96bae2bcc4",
    "gddr6": "efd4b80378ca11a57f16962cba8f7236db13eec78e56aaeac3970353dc741d57",
    "gddr6_aim": "d715cf28d6e4e4528e35d2dd004b6d39130ecaada95a4ed677eca12f2d8c3f5c",
    "hbm2": "efd4b80378ca11a57f16962cba8f7236db13eec78e56aaeac3970353dc741d57",
    "hbm2_pim": "3d500f267622ab3525152088e03d85fcb13fb7c2930c2bdb52756548f012ea37",
    "lpddr4_2400": "efd4b80378ca11a57f16962cba8f7236db13eec78e56aaeac3970353dc741d57",
    "upmem": "6cde92ed169ba31b7e687445a50e73cca2fb1db3f58e1b489a22ee60625b9399",
}


DIGEST_KNOBS = frozenset({"units_per_channel", "channels_used", "dtype"})


def _with_digest_knobs(name: str, folder: Path) -> str:
    """A YAML copy of profile ``name`` whose ``pim.searchable`` keeps :data:`DIGEST_KNOBS`."""
    data = load_profile(name).model_dump(mode="json", exclude_none=True)
    if "pim" in data:
        data["pim"]["searchable"] = {k: v for k, v in data["pim"]["searchable"].items()
                                     if k in DIGEST_KNOBS}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def _genes_off_digest(profile: str) -> str:
    prob = CoSearchProblem(data_dir="unused", supernet="unused", profile=profile,
                           dataset="criteo", batch=1, p_greedy=0.0, p_replace=0.0)
    rng = np.random.default_rng(20261201)
    rows: list = []
    for _ in range(6):
        g = prob.sample(rng)
        rows += [prob.to_json(g), prob.key(g)]
        for _ in range(2):
            g = prob.mutate(g, rng, 2)
            rows += [prob.to_json(g), prob.key(g)]
    spec = sample("full", rng)
    plan = sample_plan(spec, prob.schema, prob.hw_profile, rng, 0.5)
    for _ in range(8):
        plan = mutate_plan(plan, spec, prob.schema, prob.hw_profile, rng, 2)
        rows += [plan.to_dict(), plan.key()]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


@pytest.mark.parametrize("name", sorted(GENES_OFF_DIGESTS))
def test_precision_genes_off_give_the_genomes_of_plans_without_them(name: str,
                                                                     tmp_path: Path) -> None:
    assert _genes_off_digest(_with_digest_knobs(name, tmp_path)) == GENES_OFF_DIGESTS[name]


@pytest.fixture(scope="module")
def spec():
    """A subnet that reads the raw sparse features and has an FC operator."""
    rng = np.random.default_rng(3)
    while True:
        s = sample("full", rng)
        g = subnet_graph(s, SCHEMA)
        if g.uses_embeddings and any(k.name.endswith(".fc.linear") for k in g.kernels):
            return s


def _fc(spec) -> str:
    return next(k.op_key for k in subnet_graph(spec, SCHEMA).kernels
                if k.name.endswith(".fc.linear"))


def test_operator_keys_are_the_kernel_names_prefix(spec) -> None:
    for k in subnet_graph(spec, SCHEMA).kernels:
        assert operator_key(k.name) == k.op_key
        assert k.name == f"{k.op_key}.{k.part}"


def test_check_against_names_key_value_and_accepted(spec, loaded) -> None:
    fc = _fc(spec)
    linear = f"{fc}.linear"
    hbm, nmp = loaded["hbm2_pim"], loaded["ddr4_recnmp"]
    # bank_simd runs fp16 only (hbm2_pim.yaml: dtypes [fp16])
    with pytest.raises(SpecError, match=rf"plan\.precision\['{fc}'\]: 'fp32' rejected: its "
                       rf"kernel '{linear}' runs on the PIM .*accepted: fp16$"):
        validate_plan(PimPlan(dense={linear: "pim"}, precision={fc: "fp32"}), spec, SCHEMA, hbm)
    validate_plan(PimPlan(dense={linear: "pim"}, precision={fc: "fp16"}), spec, SCHEMA, hbm)
    # the V100-share host runs fp16 and int8 (dp4a), not bf16 (hbm2.yaml host.dtypes)
    with pytest.raises(SpecError, match=rf"plan\.precision\['{fc}'\]: 'bf16' rejected: .*"
                       r"host .*accepted: fp32, fp16, int8$"):
        validate_plan(PimPlan(precision={fc: "bf16"}), spec, SCHEMA, hbm)
    # the Xeon host of ddr4_recnmp has VNNI int8 (ddr4_3200.yaml), no bf16
    validate_plan(PimPlan(precision={fc: "int8"}), spec, SCHEMA, nmp)
    with pytest.raises(SpecError, match=r"'bf16' rejected: .*accepted: fp32, int8$"):
        validate_plan(PimPlan(precision={fc: "bf16"}), spec, SCHEMA, nmp)
    # RecNMP pools fp32 and int8 tables (ddr4_recnmp.yaml: dtypes [fp32, int8])
    with pytest.raises(SpecError, match=r"plan\.tables\.C1\.dtype: 'int4' rejected: .*PIM.*"
                       r"accepted: fp32, int8$"):
        validate_plan(PimPlan(tables={"C1": TablePlan(placement="pim", dtype="int4")}), spec,
                      SCHEMA, nmp)
    validate_plan(PimPlan(tables={"C1": TablePlan(placement="pim", dtype="int8")}), spec,
                  SCHEMA, nmp)
    validate_plan(PimPlan(tables={"C1": TablePlan(dtype="int4")}), spec, SCHEMA, nmp)
    with pytest.raises(SpecError, match=r"plan\.precision\['b99\.fc'\]: no such operator"):
        validate_plan(PimPlan(precision={"b99.fc": "fp16"}), spec, SCHEMA, hbm)
    with pytest.raises(SpecError, match=r"plan: precision\.b0\.fc = 'fp64': input should be "
                       r"'fp32', 'fp16', 'bf16' or 'int8'"):
        PimPlan.from_dict({"precision": {"b0.fc": "fp64"}})
    with pytest.raises(SpecError, match=r"tables\.C1\.dtype = 'int2'"):
        PimPlan.from_dict({"tables": {"C1": {"dtype": "int2"}}})


def test_plan_json_round_trip_with_and_without_precision(tmp_path: Path, spec, loaded) -> None:
    hbm = loaded["hbm2_pim"]
    for genes in (False, True):
        p = sample_plan(spec, SCHEMA, hbm, np.random.default_rng(4), 0.5, precision_genes=genes)
        assert bool(p.precision) == genes
        q = load_plan(save_plan(p, tmp_path / f"plan{genes}.json"))
        assert q == p and q.key() == p.key()
        data = json.loads((tmp_path / f"plan{genes}.json").read_text())
        assert ("precision" in data) == genes
        assert all(("dtype" in t) == genes for t in data["tables"].values())


def test_plan_json_without_precision_genes_reads_and_hashes_as_before() -> None:
    old = {"format": "pimrec-plan/1", "hot_rows": 512,
           "tables": {"C1": {"placement": "pim", "replicate_hot": True},
                      "C2": {"placement": "host", "replicate_hot": False}},
           "dense": {"b0.fc.linear": "pim", "final.logit": "host"},
           "knobs": {"channels_used": 2, "units_per_channel": 8}}
    plan = PimPlan.from_dict(old)
    assert plan.to_dict() == old
    assert plan.table_dtype("C2") == "fp32" and plan.tables["C1"].dtype is None
    # the key: sha256 of the canonical text, host entries (the default) dropped
    canonical = {**old, "tables": {"C1": old["tables"]["C1"]},
                 "dense": {"b0.fc.linear": "pim"}}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    assert plan.key() == hashlib.sha256(text.encode()).hexdigest()
    # a host table with a precision is no default: it enters the key
    typed = plan.model_copy(update={"tables": {**plan.tables, "C2": TablePlan(dtype="fp16")}})
    assert typed.key() != plan.key()


def test_map_subnet_gives_each_kernel_its_own_dtype(spec, loaded) -> None:
    fc = _fc(spec)
    host_gpu = loaded["hbm2"]
    batch, dim = 8, subnet_graph(spec, SCHEMA).emb_dim
    plain = map_subnet(spec, SCHEMA, None, batch=batch)
    plan = PimPlan(tables={"C1": TablePlan(dtype="fp16"), "C2": TablePlan(dtype="int8")},
                   precision={fc: "fp16"})
    typed = map_subnet(spec, SCHEMA, plan, batch=batch, profile=host_gpu)
    t32, t16 = plain.tables["C1"], typed.tables["C1"]
    rows = SCHEMA.cardinalities[0]
    # hand computation: fp32 rows are dim x 4 bytes, fp16 rows dim x 2
    assert (t32.bytes, t16.bytes) == (rows * dim * 4, rows * dim * 2)
    bags = {k.name: k for k in typed.kernels}, {k.name: k for k in plain.kernels}
    assert bags[0]["emb.C1"].resident_bytes() == batch * 1 * dim * 2  # pooling 1
    assert bags[1]["emb.C1"].resident_bytes() == batch * 1 * dim * 4
    assert typed.tables["C2"].dtype == "int8" and typed.tables["C3"].dtype == "fp32"
    lin32, lin16 = bags[1][f"{fc}.linear"], bags[0][f"{fc}.linear"]
    assert isinstance(lin16, Gemm) and lin16.dtype == "fp16" and lin32.dtype == "fp32"
    assert lin16.resident_bytes() == lin16.k * lin16.n * 2 == lin32.resident_bytes() // 2
    others = [k for k in typed.kernels if not isinstance(k, EmbeddingBag)
              and not k.name.startswith(fc + ".")]
    assert others and all(k.dtype == "fp32" for k in others)


def test_greedy_keeps_the_precisions_it_is_given(spec, loaded) -> None:
    aim = loaded["gddr6_aim"]  # AiM computes bf16 only; the T4-share host fp32 and fp16
    fc = _fc(spec)
    knobs = naive_plan(spec, SCHEMA, aim).knobs
    for dtype, where in (("bf16", "pim"), ("fp32", "host")):
        g = greedy_plan(spec, SCHEMA, aim, knobs, None, "latency", batch=1,
                        table_dtypes={"C1": "int8"}, precision={fc: dtype})
        validate_plan(g, spec, SCHEMA, aim)
        assert g.precision == {fc: dtype} and g.tables["C1"].dtype == "int8"
        assert g.dense[f"{fc}.linear"] == where  # the only target that runs it
    # given none, the plan carries none
    assert greedy_plan(spec, SCHEMA, aim, knobs, None, "latency", batch=1).precision == {}


def test_to_precision_resolves_open_types(spec, loaded) -> None:
    fc = _fc(spec)
    hbm = loaded["hbm2_pim"]
    plan = PimPlan(dense={f"{fc}.linear": "pim"}, tables={"C2": TablePlan(dtype="int8")},
                   knobs={"dtype": "fp16"})
    prec = plan.to_precision(hbm, subnet_graph(spec, SCHEMA))
    assert prec.ops == {fc: "fp16"}  # the PIM kernel runs at the plan's PIM type
    assert prec.tables["C2"] == "int8" and prec.tables.get("C1", "fp32") == "fp32"
    assert prec.crossbar == {}  # bank_simd has no crossbars
    assert PimPlan().to_precision(hbm).key() == ""  # an all-host open plan is fp32
    # UPMEM's default type int32 has no accuracy model: an open precision there is refused
    upmem = loaded["upmem"]
    table_on_dpu = PimPlan(tables={"C1": TablePlan(placement="pim")})
    with pytest.raises(SpecError, match=r"plan\.tables\['C1'\]: left open.*'int32'"):
        table_on_dpu.to_precision(upmem)


def test_crossbar_quant_reads_the_crossbar_section() -> None:
    section = SimpleNamespace(kind="crossbar", crossbar_size=128, cell_bits=2, weight_bits=8,
                              input_bits=8, dac_bits=1, adc_bits=8)
    assert crossbar_quant(section) == CrossbarQuant(rows=128, cell_bits=2, weight_bits=8,
                                                    input_bits=8, dac_bits=1, adc_bits=8)
    assert crossbar_quant(SimpleNamespace(kind="bank_simd")) is None


def test_knobs_are_set_by_field_name_and_revalidated(loaded) -> None:
    for profile in loaded.values():
        pim = profile.pim
        for knob, values in (pim.searchable.items() if pim is not None else ()):
            for v in values:
                if knob == "channels_used" and v > profile.dram.channels:
                    continue
                new = profile_with_knobs(profile, {knob: v})
                assert getattr(new.pim, knob) == v and type(new.pim) is type(pim)
    # a searchable key that is no field of the section is refused, naming it
    hbm = loaded["hbm2_pim"]
    odd = hbm.model_copy(update={"pim": hbm.pim.model_copy(
        update={"searchable": {**hbm.pim.searchable, "warp_size": [32]}})})
    with pytest.raises(SpecError, match=r"\['warp_size'\] are not fields of the 'bank_simd'"):
        profile_with_knobs(odd, {"warp_size": 32})


def test_precision_interface_the_genes_use() -> None:
    assert set(TABLE_DTYPES) == HOST_TABLE_TYPES
    assert set(DENSE_DTYPES) == {"fp32", "fp16", "bf16", "int8"}
    assert Precision().key() == "" and Precision(tables={"C1": "fp32"}).key() == ""
    p = Precision(tables={"C1": "int4"}, ops={"b0.fc": "fp16"},
                  crossbar={"b0.fc": CrossbarQuant(128, 2, 8, 8, 1, 8)})
    assert Precision.from_dict(p.to_dict()) == p and p.key() != ""
    with pytest.raises(SpecError,
                       match=r"precision\.ops\.b0\.fc: 'fp8'; accepted: fp32, fp16, bf16, int8"):
        Precision(ops={"b0.fc": "fp8"})
