"""What keeping block outputs across subnets (codesign.nas.memo.BlockMemo) saves a search's
estimates, and that it changes no answer.

A seeded stream of subnets as an evolutionary search proposes them (``--parents`` sampled
subnets, then ``--children`` one-mutation children of them in turn) is estimated twice on
the same frozen supernet with the ``small`` reproduction's settings (4,096 refit rows, 2,048
validation rows, 10 L-BFGS steps): without the memo and with one. It prints both wall
times, the speed-up, the memo's hits, misses and size, and the largest difference of the
answers (0 when the memo is exact).

    nice -n 10 .venv/bin/python benchmarks/block_memo.py --data RUN/data/cache --supernet RUN/supernet
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from codesign.data.cache import CtrData
from codesign.nas.memo import BlockMemo
from codesign.nas.moves import mutate, sample
from codesign.train.finetune import estimate_subnet
from codesign.train.supernet import load_supernet


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="prepared data cache")
    ap.add_argument("--supernet", required=True, help="trained supernet (folder or file)")
    ap.add_argument("--parents", type=int, default=4)
    ap.add_argument("--children", type=int, default=12)
    ap.add_argument("--fit-rows", type=int, default=4096)
    ap.add_argument("--val-rows", type=int, default=2048)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = CtrData.open(args.data)
    net, _ = load_supernet(args.supernet, data.schema)
    net.eval()
    rng = np.random.default_rng(args.seed)
    parents = [sample("full", rng) for _ in range(args.parents)]
    specs = parents + [mutate(parents[i % args.parents], "full", rng, 1)
                       for i in range(args.children)]
    kw = dict(finetune_steps=args.steps, split="val", seed=args.seed, limit=args.val_rows,
              rows=args.fit_rows)
    t0 = time.perf_counter()
    plain = [estimate_subnet(net, s, data, **kw) for s in specs]
    t1 = time.perf_counter()
    memo = BlockMemo()
    kept = [estimate_subnet(net, s, data, memo=memo, **kw) for s in specs]
    t2 = time.perf_counter()
    d_ll = max(abs(a.logloss - b.logloss) for a, b in zip(plain, kept))
    d_auc = max(abs(a.auc - b.auc) for a, b in zip(plain, kept))
    print(f"{len(specs)} estimates ({args.parents} sampled, {args.children} one-mutation "
          f"children), {args.fit_rows} refit / {args.val_rows} val rows, {args.threads} "
          f"thread(s), load average {os.getloadavg()[0]:.1f}")
    print(f"without memo: {t1 - t0:.2f} s ({(t1 - t0) / len(specs):.3f} s per estimate)")
    print(f"with memo:    {t2 - t1:.2f} s ({(t2 - t1) / len(specs):.3f} s per estimate), "
          f"{(t1 - t0) / (t2 - t1):.2f}x")
    print(f"memo: {memo.hits} blocks read back, {memo.misses} computed, {memo.nbytes / 1e6:.0f} MB")
    print(f"largest difference: log loss {d_ll:.3g}, AUC {d_auc:.3g}")


if __name__ == "__main__":
    main()
