"""Speed of one training step (forward + backward, batch 512) of sampled subnets on CPU.

Usage: python benchmarks/subnet_step.py [--space full|small] [--subnets 20] [--batch 512]
Prints per-subnet MFLOPs and milliseconds, then the median (sampled subnets only), the
sandwich rule's largest and smallest subnet; also the whole supernet
(spec=None) at a small batch. Criteo layout (13 dense, 26 sparse), tables capped at --cap.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from codesign.data.schema import get_schema
from codesign.nas.flops import count_flops
from codesign.nas.moves import largest, sample, smallest
from codesign.nas.space import SPACES
from codesign.nas.supernet import Supernet
from codesign.train.config import default


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--space", default="full", choices=tuple(SPACES))
    ap.add_argument("--subnets", type=int, default=20)
    ap.add_argument("--batch", type=int, default=default("batch_size"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cap", type=int, default=100_000, help="rows per embedding table")
    ap.add_argument("--sparse-embedding", action="store_true", help="sparse embedding gradients")
    args = ap.parse_args()
    schema = get_schema("criteo", cap=args.cap)
    t0 = time.perf_counter()
    net = Supernet(schema, space=args.space, seed=0, sparse_embedding=args.sparse_embedding)
    print(f"supernet built in {time.perf_counter() - t0:.2f} s, "
          f"{sum(p.numel() for p in net.parameters()) / 1e6:.1f} M parameters, "
          f"{torch.get_num_threads()} torch threads")
    g = torch.Generator().manual_seed(0)
    b = args.batch
    dense = torch.rand(b, schema.n_dense, generator=g)
    sparse = torch.randint(0, 10**9, (b, schema.n_sparse), generator=g) % torch.tensor(schema.cardinalities)
    label = (torch.rand(b, generator=g) < 0.25).float()
    opt = torch.optim.Adagrad(net.parameters(), lr=0.01, eps=1e-2)
    rng = np.random.default_rng(0)
    times: list[float] = []
    cpus: list[float] = []
    flops: list[float] = []
    named = [(f"subnet {k:2d}", sample(args.space, rng)) for k in range(args.subnets)]
    # the sandwich rule's fixed pair, trained every step of --sampling sandwich
    named += [("largest  ", largest(args.space)), ("smallest ", smallest(args.space))]
    for k, (name, spec) in enumerate(named):
        best = float("inf")
        best_cpu = float("inf")
        for _ in range(args.repeats):
            t = time.perf_counter()
            c = time.process_time()
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(dense, sparse, spec), label)
            loss.backward()
            fb = time.perf_counter() - t
            best_cpu = min(best_cpu, time.process_time() - c)
            opt.step()
            best = min(best, fb)
        mf = count_flops(spec, schema).mflops
        if k < args.subnets:
            times.append(best * 1e3)
            cpus.append(best_cpu * 1e3)
            flops.append(mf)
        print(f"{name}: {mf:7.3f} MFLOPs/sample (2 per multiply-add)  forward+backward {best * 1e3:7.1f} ms wall, "
              f"{best_cpu * 1e3:7.1f} ms CPU (all threads)")
    print(f"median forward+backward at batch {b}: {statistics.median(times):.1f} ms "
          f"(min {min(times):.1f}, max {max(times):.1f}); median CPU time {statistics.median(cpus):.1f} ms; "
          f"median {statistics.median(flops):.3f} MFLOPs")
    small_b = 64
    t = time.perf_counter()
    out = net(dense[:small_b], sparse[:small_b], None)
    out.sum().backward()
    print(f"whole supernet (spec=None) forward+backward at batch {small_b}: "
          f"{(time.perf_counter() - t) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
