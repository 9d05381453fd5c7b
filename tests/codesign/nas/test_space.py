"""Search space: sampling, mutation, validation, hashing, canonical and NASRec JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.errors import SpecError
from codesign.nas.moves import mutate, sample
from codesign.nas.nasrec_json import from_nasrec_json, load_spec, save_spec, to_nasrec_json
from codesign.nas.space import (
    SPACES,
    BlockSpec,
    SubnetSpec,
    canonical_json,
    from_dict,
    get_space,
    spec_hash,
    to_dict,
    validate,
)
from tests.helpers.shared import NASREC_REFERENCE

REF = NASREC_REFERENCE
needs_ref = pytest.mark.skipif(not REF.is_dir(), reason="shared/reference/nasrec not present")


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), space=st.sampled_from(["full", "small"]))
def test_sampled_specs_are_valid(seed: int, space: str) -> None:
    spec = sample(space, np.random.default_rng(seed))
    assert validate(spec, space) is spec
    sp = get_space(space)
    for i, b in enumerate(spec.blocks):
        assert 1 <= len(b.dense_inputs) <= min(i + 1, 4)
        assert 1 <= len(b.sparse_inputs) <= min(i + 1, 4)
        assert b.dense_op in sp.dense_ops and b.sparse_op in sp.sparse_ops


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    space=st.sampled_from(["full", "small"]),
    n=st.integers(1, 5),
)
def test_mutated_specs_are_valid_and_differ(seed: int, space: str, n: int) -> None:
    rng = np.random.default_rng(seed)
    parent = sample(space, rng)
    child = mutate(parent, space, rng, n_mutations=n)
    validate(child, space)
    if n == 1:
        assert canonical_json(child) != canonical_json(parent)
        diffs = sum(
            1
            for a, b in zip(parent.blocks, child.blocks)
            for f in ("dense_inputs", "sparse_inputs")
            if set(getattr(a, f)) != set(getattr(b, f))
        ) + sum(
            1
            for a, b in zip(parent.blocks, child.blocks)
            for f in ("dense_left", "dense_right", "dense_op", "sparse_op", "dense_width",
                      "sparse_tokens", "dense_to_sparse", "deep_fm")
            if getattr(a, f) != getattr(b, f)
        )
        assert diffs == 1


def test_sampling_is_seeded_and_input_counts_follow_binomial() -> None:
    a = sample("full", np.random.default_rng(7))
    b = sample("full", np.random.default_rng(7))
    assert a == b and spec_hash(a) == spec_hash(b)
    rng = np.random.default_rng(0)
    counts = np.array([[len(s.blocks[i].dense_inputs) for i in range(7)]
                       for s in (sample("full", rng) for _ in range(2000))])
    assert (counts[:, 0] == 1).all()
    # block i: 1 + Binomial(min(i, 3), 0.5) -> mean 1 + min(i, 3) / 2
    for i in range(7):
        assert counts[:, i].mean() == pytest.approx(1 + min(i, 3) / 2, abs=0.08)
    assert counts.max() == 4


def test_validation_names_the_field_path() -> None:
    spec = sample("full", np.random.default_rng(3))
    blocks = list(spec.blocks)

    def bad(i: int, **kw: object) -> SubnetSpec:
        bl = list(blocks)
        bl[i] = replace(bl[i], **kw)
        return SubnetSpec(blocks=tuple(bl), space="full")

    cases = [
        (bad(3, dense_width=100), r"blocks\[3\]\.dense_width: 100; accepted: 16, 32"),
        (bad(2, sparse_tokens=20), r"blocks\[2\]\.sparse_tokens: 20"),
        (bad(1, dense_inputs=(0, 2)), r"blocks\[1\]\.dense_inputs: index 2 out of range"),
        (bad(5, sparse_inputs=(1, 1)), r"blocks\[5\]\.sparse_inputs: \[1, 1\] repeats"),
        (bad(6, dense_inputs=(0, 1, 2, 3, 4)), r"blocks\[6\]\.dense_inputs: .* 1 to 4"),
        (bad(4, dense_inputs=()), r"blocks\[4\]\.dense_inputs: \[\] has 0 entries"),
        (bad(0, dense_left=1), r"blocks\[0\]\.dense_left: 1 out of range; accepted: 0..0"),
        (bad(2, dense_op="conv"), r"blocks\[2\]\.dense_op: 'conv' not in space 'full'"),
        (bad(2, deep_fm=1), r"blocks\[2\]\.deep_fm: 1; accepted: true or false"),
    ]
    for s, pattern in cases:
        with pytest.raises(SpecError, match=pattern):
            validate(s)
    with pytest.raises(SpecError, match=r"blocks: 6 blocks; accepted: exactly 7"):
        validate(SubnetSpec(blocks=spec.blocks[:6]))
    # an attention block is not a member of NASRec-Small
    small = sample("small", np.random.default_rng(3))
    full = replace(small, blocks=(replace(small.blocks[0], sparse_op="attention"),) + small.blocks[1:])
    with pytest.raises(SpecError, match=r"blocks\[0\]\.sparse_op: 'attention' not in space 'small'"):
        validate(full, "small")
    with pytest.raises(SpecError, match="unknown search space 'huge'"):
        get_space("huge")


def test_canonical_dict_round_trip_and_hash() -> None:
    rng = np.random.default_rng(11)
    for space in SPACES:
        for _ in range(20):
            s = sample(space, rng)
            d = json.loads(json.dumps(to_dict(s)))
            assert from_dict(d) == s
            assert spec_hash(from_dict(d)) == spec_hash(s)
    s = sample("full", rng)
    # index order inside an input list has no meaning: same hash
    rev = replace(s, blocks=tuple(replace(b, dense_inputs=b.dense_inputs[::-1]) for b in s.blocks))
    assert spec_hash(rev) == spec_hash(s)
    other = mutate(s, "full", rng)
    assert spec_hash(other) != spec_hash(s)
    with pytest.raises(SpecError, match=r"blocks\[0\]\.dense_width: missing"):
        d = to_dict(s)
        del d["blocks"][0]["dense_width"]
        from_dict(d)
    with pytest.raises(SpecError, match=r"blocks\[1\]\.widthx: unknown key"):
        d = to_dict(s)
        d["blocks"][1]["widthx"] = 3
        from_dict(d)


def test_hash_is_stable_across_processes() -> None:
    s = sample("small", np.random.default_rng(5))
    code = (
        "import numpy as np\n"
        "from codesign.nas.moves import sample\n"
        "from codesign.nas.space import spec_hash\n"
        "print(spec_hash(sample('small', np.random.default_rng(5))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
    )
    assert out.stdout.strip() == spec_hash(s)
    assert len(spec_hash(s)) == 64


@needs_ref
@pytest.mark.parametrize(
    "name,space,ops0",
    [("criteo_full_best.json", "full", ("gating", "attention")),
     ("criteo_small_best.json", "small", ("fc", "efc"))],
)
def test_nasrec_reference_import_and_exact_round_trip(name: str, space: str, ops0: tuple[str, str]) -> None:
    path = REF / name
    original = json.loads(path.read_text())
    spec = from_nasrec_json(path)
    assert spec.space == space
    assert (spec.blocks[0].dense_op, spec.blocks[0].sparse_op) == ops0
    assert to_nasrec_json(spec) == original
    assert json.dumps(to_nasrec_json(spec)) == json.dumps(original)  # key order too
    assert from_nasrec_json(to_nasrec_json(spec)) == spec
    assert load_spec(path) == spec


def test_nasrec_op_index_mapping() -> None:
    spec = sample("full", np.random.default_rng(0))
    d = to_nasrec_json(spec)
    names = ["fc", "dot", "gating", "sum", "attention", "efc"]
    for b, m in zip(spec.blocks, d["micro"]):
        assert [names[k] for k in m["active_nodes"]] == [b.dense_op, b.sparse_op]
    assert d["config"] == "xlarge"
    small = sample("small", np.random.default_rng(0))
    ds = to_nasrec_json(small)
    assert ds["config"] == "autoctr"
    for b, m in zip(small.blocks, ds["micro"]):
        assert [["fc", "dot", "efc"][k] for k in m["active_nodes"]] == [b.dense_op, b.sparse_op]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), space=st.sampled_from(["full", "small"]))
def test_nasrec_round_trip_random(seed: int, space: str) -> None:
    s = sample(space, np.random.default_rng(seed))
    d = json.loads(json.dumps(to_nasrec_json(s)))
    assert from_nasrec_json(d) == s


def test_nasrec_errors_name_nasrec_paths(tmp_path: Path) -> None:
    s = sample("small", np.random.default_rng(1))
    d = to_nasrec_json(s)
    d["micro"][2]["active_nodes"] = [2, 2]
    with pytest.raises(SpecError, match=r"micro\[2\]\.active_nodes\[0\]: 2 is not a dense op of config 'autoctr'"):
        from_nasrec_json(d)
    d = to_nasrec_json(s)
    d["micro"][4]["dense_in_dims"] = 100
    with pytest.raises(SpecError, match=r"micro\[4\]\.dense_in_dims: 100"):
        from_nasrec_json(d)
    d = to_nasrec_json(s)
    d["macro"][1]["dense_idx"] = [0, 5]
    with pytest.raises(SpecError, match=r"macro\[1\]\.dense_idx: index 5 out of range"):
        from_nasrec_json(d)
    d = to_nasrec_json(s)
    d["config"] = "large"
    with pytest.raises(SpecError, match=r"config: 'large'; accepted: autoctr, xlarge"):
        from_nasrec_json(d)
    p = tmp_path / "broken.json"
    p.write_text('{"micro": [\n  1,\n')
    with pytest.raises(SpecError, match=r"broken\.json:3:1: not valid JSON"):
        from_nasrec_json(p)


def test_save_and_load_both_formats(tmp_path: Path) -> None:
    s = sample("full", np.random.default_rng(9))
    save_spec(s, tmp_path / "ours.json")
    save_spec(s, tmp_path / "theirs.json", nasrec=True)
    assert load_spec(tmp_path / "ours.json") == s
    assert load_spec(tmp_path / "theirs.json") == s
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ours.json", "theirs.json"]


def test_block_out_tokens() -> None:
    b = BlockSpec((0,), (0,), 0, 0, "fc", "efc", 64, 32, True, False)
    assert b.out_tokens == 40
    assert replace(b, dense_to_sparse=False).out_tokens == 32
