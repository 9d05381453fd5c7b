"""Block outputs kept across the frozen passes of different subnets (codesign.nas.memo): the
estimate with the memo is the estimate without it, bit for bit, on sampled subnets and
their one-mutation children; a child reuses its parent's unchanged blocks; the memo stays
within its byte bound and tells row sets apart."""

from __future__ import annotations

import numpy as np
import torch

from codesign.data.cache import CtrData
from codesign.nas.memo import BlockMemo
from codesign.nas.moves import mutate, sample
from codesign.train.finetune import estimate_subnet, final_module, head_inputs
from codesign.train.supernet import build_supernet


def _specs(n_parents: int, n_children: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    parents = [sample("small", rng) for _ in range(n_parents)]
    return parents + [mutate(parents[i % n_parents], "small", rng, 1) for i in range(n_children)]


def test_estimates_with_the_memo_are_the_estimates_without_it(data: CtrData) -> None:
    net = build_supernet(data.schema, "small", 16, seed=2).eval()
    specs = _specs(3, 9, seed=11)
    memo = BlockMemo()
    kw = dict(rows=800, seed=0, limit=500)
    plain = [estimate_subnet(net, s, data, 3, **kw) for s in specs]
    kept = [estimate_subnet(net, s, data, 3, memo=memo, **kw) for s in specs]
    for a, b in zip(plain, kept):
        assert (a.logloss, a.auc, a.n) == (b.logloss, b.auc, b.n)
    # one-mutation children share blocks with their parents: some blocks are read back
    assert memo.hits > 0 and memo.misses > 0
    # the same subnets again: every block is read back, nothing recomputed
    hits = memo.hits
    again = [estimate_subnet(net, s, data, 3, memo=memo, **kw) for s in specs]
    assert [r.logloss for r in again] == [r.logloss for r in plain]
    assert memo.hits > hits


def test_features_equal_and_row_sets_kept_apart(data: CtrData) -> None:
    """The logit layer's inputs from the memo equal a plain pass's; two different row sets
    of the same size never share an entry (their tags differ)."""
    net = build_supernet(data.schema, "small", 16, seed=3).eval()
    spec = _specs(1, 0, seed=5)[0]
    model = net.extract(spec).eval()
    final = final_module(model)
    a, b = data.indices("val")[:300], data.indices("val")[300:600]
    memo = BlockMemo()
    ((fa, _),) = head_inputs(model, final, data, a, memo=memo)
    ((fb, _),) = head_inputs(model, final, data, b, memo=memo)
    ((pa, _),) = head_inputs(model, final, data, a)
    ((pb, _),) = head_inputs(model, final, data, b)
    assert all(torch.equal(x, y) for x, y in zip(fa, pa))
    assert all(torch.equal(x, y) for x, y in zip(fb, pb))
    assert memo.hits == 0  # b's pass read nothing of a's


def test_memo_stays_within_its_bound() -> None:
    memo = BlockMemo(max_bytes=3 * 400)
    t = {"dense": torch.zeros(100)}  # 400 bytes
    for sid in range(5):
        memo.put("rows", sid, dict(t))
    assert memo.nbytes == 1200
    assert memo.get("rows", 0, ("dense",)) is None and memo.get("rows", 1, ("dense",)) is None
    assert memo.get("rows", 4, ("dense",)) is not None
    assert memo.get("rows", 4, ("dense", "sparse")) is None  # a side it does not hold
    memo.put("rows", 9, {"dense": torch.zeros(1000)})  # larger than the bound: not kept
    assert memo.get("rows", 9, ("dense",)) is None and memo.nbytes == 1200
    assert memo.sig_id(("x", 1)) == memo.sig_id(("x", 1)) != memo.sig_id(("x", 2))
