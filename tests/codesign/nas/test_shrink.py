"""Shrink moves: the single-field changes co-search uses to walk towards cheaper subnets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from codesign.cosearch import shrink_moves
from codesign.data.schema import get_schema
from codesign.nas.flops import count_flops
from codesign.nas.moves import active_form, functional_hash, mutate, sample, shrink_candidates
from codesign.nas.space import canonicalize, spec_hash, validate
from codesign.nas.supernet import Supernet

FIELDS = [f.name for f in dataclasses.fields(sample("full", np.random.default_rng(0)).blocks[0])]


def _changed(a, b) -> list[tuple[int, str]]:
    a, b = canonicalize(a), canonicalize(b)
    return [(i, f) for i, (x, y) in enumerate(zip(a.blocks, b.blocks)) for f in FIELDS
            if getattr(x, f) != getattr(y, f)]


@pytest.mark.parametrize("space", ["full", "small"])
def test_candidates_are_valid_single_field_reductions(space: str) -> None:
    rng = np.random.default_rng(11)
    for _ in range(25):
        spec = sample(space, rng)
        cands = shrink_candidates(spec)
        assert cands, "every sampled subnet has a smaller neighbour"
        assert len({spec_hash(canonicalize(c)) for c in cands}) == len(cands)
        for c in cands:
            validate(c, space)
            (i, name), = _changed(spec, c)
            old, new = getattr(spec.blocks[i], name), getattr(c.blocks[i], name)
            if name in ("dense_width", "sparse_tokens"):
                assert new < old
            elif name in ("dense_inputs", "sparse_inputs"):
                assert set(new) < set(old) and len(new) == len(old) - 1
            elif name == "sparse_op":
                assert (old, new) == ("attention", "efc")
            else:
                assert name in ("dense_to_sparse", "deep_fm") and old and not new


@pytest.mark.parametrize("dataset", ["criteo", "avazu", "kdd"])
def test_moves_strictly_lower_flops_and_keep_most_candidates(dataset: str) -> None:
    rng = np.random.default_rng(5)
    kept = total = 0
    for _ in range(20):
        spec = sample("full", rng)
        f0 = count_flops(spec, dataset).total_flops
        moves = shrink_moves(spec, dataset)
        assert all(count_flops(m, dataset).total_flops < f0 for m in moves)
        kept += len(moves)
        total += len(shrink_candidates(spec))
        assert moves == [c for c in shrink_candidates(spec) if c in moves]  # same order
    assert kept >= 0.8 * total  # a narrower binary op's new projection is the rare exception


def test_smallest_subnet_has_few_moves() -> None:
    spec = sample("small", np.random.default_rng(2))
    blocks = [dataclasses.replace(b, dense_width=16, sparse_tokens=16, dense_to_sparse=False,
                                  deep_fm=False, dense_inputs=b.dense_inputs[:1],
                                  sparse_inputs=b.sparse_inputs[:1]) for b in spec.blocks]
    tiny = validate(dataclasses.replace(spec, blocks=tuple(blocks)))
    assert shrink_candidates(tiny) == [] and shrink_moves(tiny) == []


def test_active_form_is_functional_identity() -> None:
    schema = get_schema("criteo")
    small = schema.with_cap(50)
    net = Supernet(small, seed=0)
    g = torch.Generator().manual_seed(0)
    dense = torch.rand(8, 13, generator=g)
    sparse = torch.stack([torch.randint(0, c, (8,), generator=g) for c in small.cardinalities], 1)
    rng = np.random.default_rng(21)
    same = 0
    for _ in range(12):
        spec = sample("full", rng)
        act = active_form(spec)
        validate(act)
        assert active_form(act) == act  # a fixed point
        assert functional_hash(spec) == spec_hash(act)
        assert count_flops(act).kernels == count_flops(spec).kernels
        with torch.no_grad():
            torch.testing.assert_close(net(dense, sparse, act), net(dense, sparse, spec), rtol=0, atol=0)
        for _ in range(6):  # mutations: a functional change changes the hash, inert ones do not
            m = mutate(spec, "full", rng, 1)
            if functional_hash(m) == functional_hash(spec):
                same += 1
                with torch.no_grad():
                    torch.testing.assert_close(net(dense, sparse, m), net(dense, sparse, spec),
                                               rtol=0, atol=0)
    assert same > 0  # some single mutations touch only inert fields
