"""Supernet: weight slicing, extraction, gradient isolation, the whole-supernet mode."""

from __future__ import annotations


import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from codesign.data.schema import DatasetSchema
from codesign.errors import DataFormatError, SpecError
from codesign.nas.flops import count_flops
from codesign.nas.moves import sample
from codesign.nas.nasrec_json import from_nasrec_json
from codesign.nas.supernet import Supernet
from tests.helpers.shared import NASREC_REFERENCE

REF = NASREC_REFERENCE

SCHEMA = DatasetSchema(
    name="tiny-criteo",
    dense_names=tuple(f"I{i}" for i in range(13)),
    sparse_names=tuple(f"C{i}" for i in range(26)),
    cardinalities=tuple(20 + 3 * i for i in range(26)),
)


def batch(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    dense = torch.rand(n, 13, generator=g) * 3
    cards = torch.tensor(SCHEMA.cardinalities)
    sparse = (torch.randint(0, 10**6, (n, 26), generator=g) % cards).long()
    return dense, sparse


@pytest.fixture(scope="module")
def net() -> Supernet:
    return Supernet(SCHEMA, space="full", seed=0)


@pytest.fixture(scope="module")
def small_net() -> Supernet:
    return Supernet(SCHEMA, space="small", seed=1)


def reference_specs() -> list:
    if not REF.is_dir():
        return []
    return [from_nasrec_json(REF / "criteo_full_best.json"), from_nasrec_json(REF / "criteo_small_best.json")]


def test_extract_equals_supernet(net: Supernet, small_net: Supernet) -> None:
    dense, sparse = batch(32, 0)
    rng = np.random.default_rng(0)
    specs = [sample("full", rng) for _ in range(4)] + [sample("small", rng) for _ in range(2)]
    specs += reference_specs()
    with torch.no_grad():
        for spec in specs:
            for model in (net, small_net) if spec.space == "small" else (net,):
                ref = model(dense, sparse, spec)
                sub = model.extract(spec)
                out = sub(dense, sparse)
                assert ref.shape == (32,)
                assert torch.isfinite(ref).all()
                torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)
                # the standalone model holds only what it uses: params = analytic count
                n_params = sum(p.numel() for p in sub.parameters())
                assert n_params == count_flops(spec, SCHEMA).params_total
                # and it does not share storage with the supernet
                sup_ptrs = {p.data_ptr() for p in model.parameters()}
                assert not any(p.data_ptr() in sup_ptrs for p in sub.parameters())


def test_different_subnets_give_different_outputs(net: Supernet) -> None:
    dense, sparse = batch(16, 1)
    rng = np.random.default_rng(4)
    with torch.no_grad():
        outs = [net(dense, sparse, sample("full", rng)) for _ in range(3)]
    assert not torch.allclose(outs[0], outs[1]) and not torch.allclose(outs[1], outs[2])


def test_gradient_step_changes_only_used_weights() -> None:
    model = Supernet(SCHEMA, space="full", seed=3)
    dense, sparse = batch(32, 2)
    labels = (torch.arange(32) % 3 == 0).float()
    rng = np.random.default_rng(2)
    for _ in range(2):
        spec = sample("full", rng)
        masks = model.subnet_parameter_masks(spec)
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            model(dense, sparse, spec), labels
        )
        loss.backward()
        opt.step()
        names = model.subnet_parameter_names(spec)
        assert names == set(masks)
        used_elems = 0
        for n, p in model.named_parameters():
            changed = p.detach() != before[n]
            if n == "embedding.weight":
                rows = torch.zeros(p.shape[0], dtype=torch.bool)
                rows[(sparse + model.offsets).flatten()] = True
                if n in masks:
                    assert not changed[~rows].any()
                    assert changed[rows].any()
                else:
                    assert not changed.any()
                continue
            if n not in masks:
                assert not changed.any(), f"{n} changed but the subnet does not use it"
                continue
            assert not changed[~masks[n]].any(), f"{n}: unused elements changed"
            assert changed.any(), f"{n}: used but nothing changed"
            used_elems += int(masks[n].sum())
        # the subnet touches a small part of the supernet
        total = sum(p.numel() for n, p in model.named_parameters() if n != "embedding.weight")
        assert used_elems < 0.5 * total
        assert used_elems == count_flops(spec, SCHEMA).params_dense


def test_whole_supernet_runs_and_trains_every_operator(small_net: Supernet) -> None:
    dense, sparse = batch(8, 3)
    small_net.zero_grad(set_to_none=True)
    out = small_net(dense, sparse, None)
    assert out.shape == (8,) and torch.isfinite(out).all()
    out.sum().backward()
    for i, block in enumerate(small_net.blocks):
        for name, op in block.items():
            grads = [p.grad for p in op.parameters()]
            assert any(g is not None and bool((g != 0).any()) for g in grads), f"block {i} {name}"
    small_net.zero_grad(set_to_none=True)


def test_whole_supernet_full_space(net: Supernet) -> None:
    dense, sparse = batch(4, 4)
    with torch.no_grad():
        out = net(dense, sparse, None)
    assert out.shape == (4,) and torch.isfinite(out).all()
    plan = net.plan(None)
    assert all(bp is not None and len(bp.dense_ops) == 4 and len(bp.sparse_ops) == 2 for bp in plan.blocks)


def test_matrix_products_match_the_flops_model(net: Supernet) -> None:
    """FLOPs counted by torch on the extracted model equal the analytic kernels (attention's
    fused score/softmax products are not seen by torch's counter on CPU: added from the
    model)."""
    dense, sparse = batch(8, 5)
    rng = np.random.default_rng(8)
    for spec in [sample("full", rng) for _ in range(5)] + reference_specs():
        rep = count_flops(spec, SCHEMA)
        sub = net.extract(spec)
        with torch.no_grad(), FlopCounterMode(display=False) as fc:
            sub(dense, sparse)
        attn = sum(k.flops for k in rep.kernels if k.name in ("scores", "weighted_sum"))
        # torch counts 2 FLOPs per multiply-add, as count_flops does; batch of 8
        assert fc.get_total_flops() // 8 == rep.total_flops - attn


def test_seeded_init_is_deterministic_and_leaves_global_rng_alone() -> None:
    state = torch.random.get_rng_state()
    a = Supernet(SCHEMA, space="small", seed=5)
    assert torch.equal(torch.random.get_rng_state(), state)
    b = Supernet(SCHEMA, space="small", seed=5)
    c = Supernet(SCHEMA, space="small", seed=6)
    pa, pb, pc = (dict(m.named_parameters()) for m in (a, b, c))
    assert all(torch.equal(pa[n], pb[n]) for n in pa)
    assert not torch.equal(pa["blocks.0.fc.weight.pieces.0"], pc["blocks.0.fc.weight.pieces.0"])


def test_final_layer_parameters(net: Supernet) -> None:
    spec = sample("full", np.random.default_rng(1))
    params = net.final_layer_parameters(spec)
    last = spec.blocks[-1]
    expected = [net.final.dense_weight[last.dense_op], net.final.sparse_weight[last.sparse_op], net.final.bias]
    assert len(params) == 3 and all(p is q for p, q in zip(params, expected))
    assert len(net.final_layer_parameters(None)) == 4 + 2 + 1
    sub = net.extract(spec)
    head = sub.final_layer_parameters()
    last = spec.blocks[-1]
    assert head[0].shape == (1, last.dense_width + 16 * last.out_tokens)


def test_bad_inputs_raise_package_errors(net: Supernet, small_net: Supernet) -> None:
    dense, sparse = batch(4, 6)
    spec = sample("full", np.random.default_rng(0))
    with pytest.raises(DataFormatError, match=r"dense: shape \(4, 12\); accepted: \[batch, 13\]"):
        net(dense[:, :12], sparse, spec)
    bad = sparse.clone()
    bad[2, 5] = SCHEMA.cardinalities[5]
    with pytest.raises(DataFormatError, match=r"sparse\[2, 5\]: id 35 out of range; accepted: 0..34"):
        net(dense, bad, None)
    attn = sample("small", np.random.default_rng(0))
    attn = type(attn)(
        blocks=tuple(b.__class__(**{**b.__dict__, "sparse_op": "attention"}) for b in attn.blocks),
        space="full",
    )
    with pytest.raises(SpecError, match=r"sparse_op: 'attention' not in space 'small'"):
        small_net(dense, sparse, attn)
    with pytest.raises(SpecError, match="max_dense: 512; accepted: 1024"):
        Supernet(SCHEMA, max_dense=512)


def test_sparse_embedding_gradients(small_net: Supernet) -> None:
    model = Supernet(SCHEMA, space="small", seed=1, sparse_embedding=True)  # same seed as small_net
    dense, sparse = batch(16, 7)
    spec = sample("small", np.random.default_rng(3))
    with torch.no_grad():
        torch.testing.assert_close(model(dense, sparse, spec), small_net(dense, sparse, spec))
    model(dense, sparse, spec).sum().backward()
    if model.plan(spec).need_raw_sparse:
        assert model.embedding.weight.grad is not None and model.embedding.weight.grad.is_sparse
    with torch.no_grad():
        torch.testing.assert_close(model.extract(spec)(dense, sparse), model(dense, sparse, spec))
    # masks work under no_grad and with frozen parameters, and leave requires_grad as it was
    head = model.final.dense_weight[spec.blocks[-1].dense_op]
    head.requires_grad_(False)
    with torch.no_grad():
        masks = model.subnet_parameter_masks(spec)
    name = f"final.dense_weight.{spec.blocks[-1].dense_op}"
    assert name in masks and not head.requires_grad
