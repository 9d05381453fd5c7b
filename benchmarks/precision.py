"""Precision benchmark: what each precision costs a supernet's estimate, in log loss and in
time.

For each subnet (``--spec`` files and/or ``--subnets`` sampled ones), estimate it from the
trained supernet (``codesign.train.finetune.estimate_subnet``: head refit on the default
refit rows, then the val split) at fp32 and under each precision below, and print the log
loss, its change from fp32, the AUC and the wall seconds of the estimate, and the change
with the fp32 estimate's head kept ("same head": the fp32-refitted subnet computed under the
precision, its activation ranges calibrated on 4,096 training rows): the estimate's change
mixes the precision's effect with the refit's (an L-BFGS refit of at most 100 iterations
stops elsewhere on slightly other features), the same-head change is the precision's alone:

- tables fp16 / int8 / int4 (row-wise, FBGEMM's formulas), every table;
- dense fp16 / bf16 / int8 (weights per channel, activations per tensor), every operator;
- tables int8 + dense int8;
- with ``--crossbar``: every operator on an ISAAC-like crossbar (128 rows, 2-bit cells,
  8-bit weights and inputs, 1-bit DAC steps, ISAAC's weight flipping) with a lossless ADC
  (8 bits) and with 7 and 6 bits.

With ``--forward-timing``, the forward pass alone: the best of 5 no-grad passes over 4,096
val rows of each subnet, under each precision (calibrated), and its ratio to fp32.

With ``--scratch``, each subnet is also trained from scratch (``codesign train``'s
defaults, one epoch of ``--scratch-rows`` training rows): once in fp32, then evaluated under
each precision (post-training quantisation, ranges calibrated on 4,096 training rows), and
once per precision with quantisation-aware training (``train_from_scratch_run(...,
precision=...)``).

Usage::

    python benchmarks/precision.py --supernet SN_DIR --data CACHE --spec a.json b.json
    python benchmarks/precision.py --supernet SN_DIR --data CACHE --subnets 4 --crossbar
    python benchmarks/precision.py --supernet SN_DIR --data CACHE --spec a.json --scratch

Timings depend on what else runs on the machine; the script prints its load average.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from codesign.data.cache import CtrData
from codesign.nas.moves import sample
from codesign.nas.nasrec_json import load_spec
from codesign.nas.plan import make_plan
from codesign.nas.space import SubnetSpec, spec_hash
from codesign.quant import (
    CrossbarQuant,
    Precision,
    apply_precision,
    calibrate,
    uniform_precision,
)
from codesign.quant.apply import plan_operator_keys
from codesign.train.config import TrainConfig
from codesign.train.finetune import (
    CALIBRATION_ROWS,
    FINETUNE_STEPS,
    estimate_subnet,
    finetune_head,
)
from codesign.train.loop import iter_batches, to_tensors
from codesign.train.metrics import evaluate
from codesign.train.scratch import train_from_scratch_run
from codesign.train.supernet import load_supernet


def precisions(spec: SubnetSpec, data: CtrData, crossbar: bool) -> dict[str, Precision | None]:
    names = tuple(data.schema.sparse_names)
    plan = make_plan(spec, data.schema.n_dense, data.schema.n_sparse, emb_dim=spec.emb_dim)

    def uni(table: str = "fp32", dense: str = "fp32") -> Precision:
        return uniform_precision(plan, names, table_dtype=table, dense_dtype=dense)

    out: dict[str, Precision | None] = {"fp32": None}
    for dt in ("fp16", "int8", "int4"):
        out[f"tables {dt}"] = uni(table=dt)
    for dt in ("fp16", "bf16", "int8"):
        out[f"dense {dt}"] = uni(dense=dt)
    out["tables int8 + dense int8"] = uni("int8", "int8")
    if crossbar:
        keys = plan_operator_keys(plan)
        for adc in (8, 7, 6):
            q = CrossbarQuant(rows=128, cell_bits=2, weight_bits=8, input_bits=8, dac_bits=1,
                              adc_bits=adc)
            out[f"crossbar adc {adc}"] = Precision(crossbar={k: q for k in keys})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--supernet", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--spec", type=Path, nargs="*", default=[])
    ap.add_argument("--subnets", type=int, default=0, help="sampled subnets (seeded)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--finetune-steps", type=int, default=FINETUNE_STEPS)
    ap.add_argument("--limit", type=int, default=None, help="val rows (default: all)")
    ap.add_argument("--crossbar", action="store_true")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--scratch", action="store_true", help="also from-scratch PTQ and QAT")
    ap.add_argument("--scratch-rows", type=int, default=None,
                    help="training rows of a from-scratch epoch (default: all)")
    ap.add_argument("--no-estimates", action="store_true", help="no supernet estimates")
    ap.add_argument("--forward-timing", action="store_true", help="time the forward pass")
    args = ap.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    data = CtrData.open(args.data)
    net, ckpt = load_supernet(args.supernet, data.schema)
    specs = [(str(p), load_spec(p)) for p in args.spec]
    rng = np.random.default_rng(args.seed)
    specs += [(f"sampled {i}", sample(ckpt["space"], rng)) for i in range(args.subnets)]
    print(f"supernet {ckpt['path']} (step {ckpt['step']}/{ckpt['total_steps']}), data "
          f"{data.path}, val rows {args.limit or len(data.indices('val'))}, torch threads "
          f"{torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}")
    for name, spec in specs:
        if args.forward_timing:
            forward_timing(net, name, spec, data, args)
        if not args.no_estimates:
            estimates(net, name, spec, data, args)
        if args.scratch:
            scratch(name, spec, data, args)


def forward_timing(net: torch.nn.Module, name: str, spec: SubnetSpec, data: CtrData,
                   args: argparse.Namespace) -> None:
    print(f"\n### {name} ({spec_hash(spec)[:12]}): forward pass of 4,096 val rows\n")
    print("| precision | best of 5, ms | vs fp32 |")
    print("|---|---|---|")
    model = net.extract(spec).eval()  # type: ignore[operator]
    dense, sparse, _ = to_tensors(data.take(data.indices("val")[:4096]))
    cal = calibration_rows(data, args.seed)
    base = None
    for label, p in precisions(spec, data, args.crossbar).items():
        qm = apply_precision(model, p, data.schema.sparse_names)
        calibrate(qm, (to_tensors(b)[:2] for b in iter_batches(data, cal, 4096)))
        best = float("inf")
        with torch.no_grad():
            for _ in range(5):
                t = time.perf_counter()
                qm(dense, sparse)
                best = min(best, time.perf_counter() - t)
        base = best if base is None else base
        print(f"| {label} | {best * 1e3:.0f} | {best / base:.2f}x |", flush=True)


def calibration_rows(data: CtrData, seed: int) -> np.ndarray:
    return np.sort(np.random.default_rng([seed, 5]).choice(
        data.indices("train"), CALIBRATION_ROWS, replace=False))


def scratch(name: str, spec: SubnetSpec, data: CtrData, args: argparse.Namespace) -> None:
    cfg = TrainConfig.make(train_rows=args.scratch_rows, seed=args.seed, quiet=True,
                           num_threads=args.threads)
    print(f"\n### {name} ({spec_hash(spec)[:12]}) from scratch, {args.scratch_rows or 'all'} "
          "training rows\n")
    print("| precision | PTQ val log loss | change | QAT val log loss | change | QAT s |")
    print("|---|---|---|---|---|---|")
    cal = calibration_rows(data, args.seed)
    base_run = train_from_scratch_run(spec, data, cfg, eval_limit=args.limit)
    base = base_run.val.logloss
    for label, p in precisions(spec, data, args.crossbar).items():
        if p is None:
            print(f"| {label} | {base:.5f} | +0.00000 | {base:.5f} | +0.00000 | "
                  f"{base_run.wall_s:.1f} |", flush=True)
            continue
        ptq = apply_precision(base_run.model, p, data.schema.sparse_names)
        calibrate(ptq, (to_tensors(b)[:2] for b in iter_batches(data, cal, 4096)))
        post = evaluate(ptq, data, "val", limit=args.limit).logloss
        qat = train_from_scratch_run(spec, data, cfg, eval_limit=args.limit, precision=p)
        print(f"| {label} | {post:.5f} | {post - base:+.5f} | {qat.val.logloss:.5f} | "
              f"{qat.val.logloss - base:+.5f} | {qat.wall_s:.1f} |", flush=True)


def estimates(net: torch.nn.Module, name: str, spec: SubnetSpec, data: CtrData,
              args: argparse.Namespace) -> None:
    print(f"\n### {name} ({spec_hash(spec)[:12]})\n")
    print("| precision | val log loss | change | same head | AUC | estimate s |")
    print("|---|---|---|---|---|---|")
    tuned = finetune_head(net, spec, data, steps=args.finetune_steps, seed=args.seed)
    cal = calibration_rows(data, args.seed)
    base = None
    for label, p in precisions(spec, data, args.crossbar).items():
        t = time.perf_counter()
        r = estimate_subnet(net, spec, data, args.finetune_steps, precision=p,
                            limit=args.limit, seed=args.seed)
        wall = time.perf_counter() - t
        base = r.logloss if base is None else base
        same = apply_precision(tuned, p, data.schema.sparse_names)
        calibrate(same, (to_tensors(b)[:2] for b in iter_batches(data, cal, 4096)))
        fixed = evaluate(same, data, "val", limit=args.limit).logloss - base
        print(f"| {label} | {r.logloss:.5f} | {r.logloss - base:+.5f} | {fixed:+.5f} | "
              f"{r.auc:.5f} | {wall:.1f} |", flush=True)


if __name__ == "__main__":
    main()
