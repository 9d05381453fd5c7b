"""Speed of the co-search's hardware evaluation: mapping + pimsim simulation of one subnet.

Prints the wall time per subnet (batch 256, hbm2_pim, random subnets of NASRec-Full with
random plans) without a kernel-cost cache and with every kernel already cached (what a
long co-search sees, since candidates share most kernels), and the FLOPs check of the
mapping on the NASRec reference subnets.

    .venv/bin/python benchmarks/cosearch_sim.py [--n 20] [--profile hbm2_pim]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from codesign.data.schema import get_schema
from codesign.nas.flops import count_flops
from codesign.hw.evaluate import simulate_subnet
from codesign.hw.plans import naive_plan, sample_plan
from codesign.hw.mapping import map_subnet, workload_macs
from codesign.nas.moves import sample
from codesign.nas.nasrec_json import load_spec
from pimsim.hw.load import load_profile

REF = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "nasrec"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--profile", default="hbm2_pim")
    ap.add_argument("--dataset", default="criteo")
    args = ap.parse_args()
    schema, prof = get_schema(args.dataset), load_profile(args.profile)
    rng = np.random.default_rng(0)
    specs = [sample("full", rng) for _ in range(args.n)]
    plans = [sample_plan(s, schema, prof, rng, 0.15) for s in specs]
    simulate_subnet(specs[0], schema, naive_plan(specs[0], schema, prof), prof)  # warm-up
    t = time.perf_counter()
    for s in specs:
        map_subnet(s, schema, batch=256)
    map_ms = (time.perf_counter() - t) / args.n * 1e3
    t = time.perf_counter()
    for s, p in zip(specs, plans):
        simulate_subnet(s, schema, p, prof)
    cold_ms = (time.perf_counter() - t) / args.n * 1e3
    cache: dict = {}
    for s, p in zip(specs, plans):
        simulate_subnet(s, schema, p, prof, cache=cache)
    t = time.perf_counter()
    for s, p in zip(specs, plans):
        simulate_subnet(s, schema, p, prof, cache=cache)
    warm_ms = (time.perf_counter() - t) / args.n * 1e3
    print(f"{args.n} random NASRec-Full subnets on {args.dataset}, profile {args.profile}, "
          "batch 256")
    print(f"  map_subnet:                     {map_ms:8.1f} ms per subnet")
    print(f"  simulate, no kernel-cost cache: {cold_ms:8.1f} ms per subnet")
    print(f"  simulate, kernels cached:       {warm_ms:8.1f} ms per subnet "
          f"({len(cache)} distinct kernel costs)")
    if REF.is_dir():
        for name in ("criteo_full_best.json", "criteo_small_best.json"):
            spec = load_spec(REF / name)
            wl = map_subnet(spec, schema, batch=256)
            ref = count_flops(spec, schema)
            print(f"  {name}: {len(wl.kernels)} kernels, workload MACs / 256 = "
                  f"{workload_macs(wl) / 256 / 1e6:.3f} M, codesign.nas.flops multiply-adds = {ref.total_macs / 1e6:.3f} M")


if __name__ == "__main__":
    main()
