"""codesign.hw.placement and codesign.hw.plans: PimPlan validation against PIM kinds, naive /
sampled / mutated plans, I/O."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codesign.data.schema import get_schema
from codesign.errors import SpecError
from codesign.hw.placement import PimPlan, TablePlan, load_plan, save_plan
from codesign.hw.plans import (
    apply_knobs,
    host_plan,
    mutate_plan,
    naive_plan,
    plan_genes,
    sample_plan,
    validate_plan,
)
from codesign.hw.mapping import map_subnet, subnet_graph
from codesign.nas.moves import sample
from pimsim import Profile
from pimsim.workload import EmbeddingBag

SCHEMA = get_schema("criteo")


def _knob(profile, name):  # profile.pim is a dict or a PimSection
    pim = profile.pim
    return pim[name] if isinstance(pim, dict) else getattr(pim, name)


@pytest.fixture(scope="module")
def hbm(profiles: dict[str, Profile]) -> Profile:
    return profiles["hbm2_pim"]  # bank_simd: runs GEMV, cannot pool embeddings


@pytest.fixture(scope="module")
def nmp(profiles: dict[str, Profile]) -> Profile:
    return profiles["ddr4_recnmp"]  # buffer_nmp: pools embeddings only


@pytest.fixture(scope="module")
def spec():
    # a subnet with an attention block (activation products) and gating
    rng = np.random.default_rng(3)
    while True:
        s = sample("full", rng)
        names = [k.name for k in subnet_graph(s, SCHEMA).kernels]
        if any(n.endswith(".scores") for n in names) and any(".gating." in n for n in names) \
                and any(n.endswith(".interaction") for n in names):
            return s


def test_naive_plan_pools_where_the_kind_can(spec, hbm, nmp) -> None:
    p = naive_plan(spec, SCHEMA, hbm)  # HBM2-PIM cannot pool embeddings
    assert all(t.placement == "host" for t in p.tables.values())
    assert set(p.dense.values()) == {"host"}
    assert p.knobs == {"channels_used": 8, "dtype": "fp16", "units_per_channel": 16,
                       "batch_tile": 1}  # the profile's own values (hw_profiles/hbm2_pim.yaml)
    q = naive_plan(spec, SCHEMA, nmp)  # RecNMP pools every table
    assert len(q.tables) == 26 and all(t.placement == "pim" for t in q.tables.values())
    assert set(q.dense.values()) == {"host"}
    wl = map_subnet(spec, SCHEMA, q, profile=nmp)
    bags = [k for k in wl.kernels if isinstance(k, EmbeddingBag)]
    if bags:
        assert all(b.placement == "pim" for b in bags)


def test_kernel_on_incapable_kind_is_rejected_naming_the_field(spec, hbm, profiles) -> None:
    names = [k.name for k in subnet_graph(spec, SCHEMA).kernels]
    scores = next(n for n in names if n.endswith(".scores"))
    with pytest.raises(SpecError, match=rf'plan\.dense\[{scores!r}\].*activation'):
        validate_plan(PimPlan(dense={scores: "pim"}), spec, SCHEMA, hbm)
    inter = next(n for n in names if n.endswith(".interaction"))
    with pytest.raises(SpecError, match="interaction"):
        validate_plan(PimPlan(dense={inter: "pim"}), spec, SCHEMA, hbm)
    gating = next(n for n in names if n.endswith(".gating.mul"))
    with pytest.raises(SpecError, match="elementwise 'gating'"):  # bank_simd: no sigmoid
        validate_plan(PimPlan(dense={gating: "pim"}), spec, SCHEMA, hbm)
    # the same gating runs on GDDR6-AiM (bank_mac has the activation LUT)
    validate_plan(PimPlan(dense={gating: "pim"}), spec, SCHEMA, profiles["gddr6_aim"])
    with pytest.raises(SpecError, match=r"plan\.tables\.C1\.placement.*cannot pool"):
        validate_plan(PimPlan(tables={"C1": TablePlan(placement="pim")}), spec, SCHEMA, hbm)
    # map_subnet refuses the same plan
    with pytest.raises(SpecError, match="activation"):
        map_subnet(spec, SCHEMA, PimPlan(dense={scores: "pim"}), profile=hbm)
    with pytest.raises(SpecError, match="no PIM units"):
        validate_plan(PimPlan(dense={names[0]: "pim"}), spec, SCHEMA, profiles["hbm2"])


def test_knobs_and_names_are_checked(spec, hbm) -> None:
    with pytest.raises(SpecError, match=r"plan\.knobs\.units_per_channel: 3 out of range"):
        validate_plan(PimPlan(knobs={"units_per_channel": 3}), spec, SCHEMA, hbm)
    with pytest.raises(SpecError, match=r"plan\.knobs\.dtype: 'fp32' out of range"):
        validate_plan(PimPlan(knobs={"dtype": "fp32"}), spec, SCHEMA, hbm)
    with pytest.raises(SpecError, match=r"plan\.knobs\.lanes: not a searchable knob"):
        validate_plan(PimPlan(knobs={"lanes": 8}), spec, SCHEMA, hbm)
    with pytest.raises(SpecError, match=r"plan\.dense\['b9\.fc\.linear'\]: no such kernel"):
        validate_plan(PimPlan(dense={"b9.fc.linear": "pim"}), spec, SCHEMA, hbm)
    with pytest.raises(SpecError, match=r"plan\.tables\.C99: unknown table"):
        validate_plan(PimPlan(tables={"C99": TablePlan()}), spec, SCHEMA, hbm)
    with pytest.raises(SpecError, match=r"plan: dense\.x = 'gpu': input should be 'host' or 'pim'"):
        PimPlan.from_dict({"dense": {"x": "gpu"}})


def test_apply_knobs_returns_a_modified_copy(spec, hbm) -> None:
    p = PimPlan(knobs={"units_per_channel": 4, "channels_used": 2})
    new = apply_knobs(hbm, p)
    assert _knob(new, "units_per_channel") == 4 and _knob(new, "channels_used") == 2
    assert _knob(hbm, "units_per_channel") == 16 and _knob(hbm, "channels_used") in (None, 8)
    assert apply_knobs(hbm, PimPlan()) is hbm


def test_sample_and_mutate_are_valid_seeded_and_change_something(spec, hbm) -> None:
    genes = plan_genes(spec, SCHEMA, hbm)
    assert genes.tables == ()  # no pooling on bank_simd
    assert genes.dense and all(".scores" not in n and ".interaction" not in n
                               for n in genes.dense)
    a = sample_plan(spec, SCHEMA, hbm, np.random.default_rng(7))
    b = sample_plan(spec, SCHEMA, hbm, np.random.default_rng(7))
    assert a == b and a.key() == b.key()
    validate_plan(a, spec, SCHEMA, hbm)
    rng = np.random.default_rng(11)
    cur = a
    for _ in range(30):
        nxt = mutate_plan(cur, spec, SCHEMA, hbm, rng, n_mutations=1)
        validate_plan(nxt, spec, SCHEMA, hbm)
        cur = nxt
    assert cur.key() != a.key()
    # a mutation of a subnet change keeps the plan valid for the new subnet
    other = sample("full", np.random.default_rng(99))
    moved = mutate_plan(a, other, SCHEMA, hbm, np.random.default_rng(1), 2)
    validate_plan(moved, other, SCHEMA, hbm)
    assert set(moved.dense) == {k.name for k in subnet_graph(other, SCHEMA).kernels}


def test_json_round_trip_and_key(tmp_path: Path, spec, hbm) -> None:
    p = sample_plan(spec, SCHEMA, hbm, np.random.default_rng(2), p_pim=0.5)
    path = save_plan(p, tmp_path / "plan.json")
    q = load_plan(path)
    assert q == p and q.key() == p.key()
    # host entries are the default: listing them does not change the key
    assert host_plan(spec, SCHEMA).key() == PimPlan().key()
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(SpecError, match=r"bad\.json:1:2: not valid JSON"):
        load_plan(tmp_path / "bad.json")
