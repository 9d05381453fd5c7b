"""Where one co-search evaluation spends its time, and the fast estimate's answers beside
the reference's.

For a seeded stream of genomes (half sampled, half mutations of earlier ones, as a search
proposes them) it times every stage of :meth:`codesign.cosearch.CoSearchProblem.evaluate`
at two estimate settings: the reference (``--ref-fit-rows`` refit rows, ``--ref-val-rows``
validation rows) and the fast one (``--fit-rows`` / ``--val-rows``). Stages: the frozen
feature pass over the refit rows, the head fit (L-BFGS, ``--steps`` iterations), the
validation pass (the logit layer's inputs on the validation rows, the refitted head on
them, log loss and AUC), FLOPs, simulation (cached kernel costs, ``--batches``) and the
journal (one fsync'd record). It then runs ``CoSearchProblem.evaluate`` end to end with the
fast setting and prints evaluations per second of both, the speed-up, and the answers
side by side: mean and max absolute log-loss difference and Kendall's tau of the ranking,
against the noise floor of the reference itself (the same estimate refitted on other
training rows, ``seed + 1``).

Run (about 5 minutes on one core; a trained supernet and its prepared data cache):

    nice -n 10 .venv/bin/python benchmarks/search_speed.py --data /tmp/p12/data \\
        --supernet /tmp/p12/supernet
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import kendalltau

from codesign.cosearch import CoSearchProblem
from codesign.data.cache import CtrData
from codesign.nas.flops import count_flops
from codesign.nas.moves import functional_hash
from codesign.search.store import SearchStore
from codesign.train.finetune import final_module, fit_head_lbfgs, head_inputs, refit_rows
from codesign.train.metrics import metrics
from codesign.train.supernet import load_supernet

STAGES = ("feature pass", "head fit", "validation", "flops", "simulation", "journal")


def genome_stream(problem: CoSearchProblem, n: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    out = [problem.sample(rng) for _ in range((n + 1) // 2)]
    while len(out) < n:
        out.append(problem.mutate(out[int(rng.integers(len(out)))], rng, 1))
    return out


def staged(problem: CoSearchProblem, supernet: torch.nn.Module, data: CtrData, genome,
           fit_sets: list[np.ndarray], val: np.ndarray, steps: int, store: SearchStore,
           times: dict[str, float]) -> list[float]:
    """Log loss of ``genome`` refitted on each of ``fit_sets`` (the first one timed per
    stage into ``times``), validated on ``val``."""
    model = supernet.extract(genome.spec)
    model.eval()
    final = final_module(model)
    t0 = time.perf_counter()
    fits = head_inputs(model, final, data, fit_sets[0])
    t1 = time.perf_counter()
    ((val_x, val_y),) = head_inputs(model, final, data, val)
    times["feature pass"] += t1 - t0
    times["validation"] += time.perf_counter() - t1
    if len(fit_sets) > 1:
        fits += head_inputs(model, final, data, *fit_sets[1:])
    start = [p.detach().clone() for p in final.parameters()]
    losses = []
    for i, (x, y) in enumerate(fits):
        with torch.no_grad():
            for p, w in zip(final.parameters(), start):
                p.copy_(w)
        t0 = time.perf_counter()
        fit_head_lbfgs(final, x, y, steps, 1e-4)
        t1 = time.perf_counter()
        with torch.inference_mode():
            probs = torch.sigmoid(final(*val_x).double()).numpy()
        losses.append(metrics(val_y.numpy(), probs).logloss)
        if i == 0:
            times["head fit"] += t1 - t0
            times["validation"] += time.perf_counter() - t1
    t0 = time.perf_counter()
    count_flops(genome.spec, problem.schema)
    times["flops"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    hw = problem.hardware(genome.spec, genome.plan)
    times["simulation"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    store.append({"type": "eval", "key": problem.key(genome), "objectives": hw})
    times["journal"] += time.perf_counter() - t0
    return losses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--supernet", type=Path, required=True)
    ap.add_argument("--profile", default="hbm2_pim")
    ap.add_argument("--dataset", default="criteo")
    ap.add_argument("--batches", default="256")
    ap.add_argument("--genomes", type=int, default=20)
    ap.add_argument("--steps", type=int, default=10, help="head refit iterations (small: 10)")
    ap.add_argument("--ref-fit-rows", type=int, default=20_000)
    ap.add_argument("--ref-val-rows", type=int, default=16_384)
    ap.add_argument("--fit-rows", type=int, default=4096)
    ap.add_argument("--val-rows", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()[0]
    batches = tuple(int(b) for b in args.batches.split(","))
    common = dict(data_dir=str(args.data), supernet=str(args.supernet), profile=args.profile,
                  dataset=args.dataset, batches=batches, finetune_steps=args.steps,
                  seed=args.seed, num_threads=args.threads)
    ref = CoSearchProblem(**common, eval_rows=args.ref_val_rows,
                          finetune_rows=args.ref_fit_rows)
    fast = CoSearchProblem(**common, eval_rows=args.val_rows, finetune_rows=args.fit_rows)
    genomes = genome_stream(ref, args.genomes, args.seed)
    data = CtrData.open(args.data)
    supernet, _ = load_supernet(args.supernet, data.schema)
    supernet.eval()
    val_all = data.indices("val")
    ref_sets = [refit_rows(data, args.ref_fit_rows, args.seed),
                refit_rows(data, args.ref_fit_rows, args.seed + 1)]
    fast_sets = [refit_rows(data, args.fit_rows, args.seed)]
    times = {s: {k: 0.0 for k in STAGES} for s in ("reference", "fast")}
    ref_ll, floor_ll, fast_ll, e2e_ll = [], [], [], []
    e2e_s = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        store = SearchStore(Path(tmp), {"benchmark": "search_speed"})
        store.open(resume=False, overwrite=True)
        for g in genomes:
            a, b = staged(ref, supernet, data, g, ref_sets, val_all[: args.ref_val_rows], args.steps, store,
                          times["reference"])
            ref_ll.append(a)
            floor_ll.append(b)
            (c,) = staged(fast, supernet, data, g, fast_sets, val_all[: args.val_rows], args.steps, store,
                          times["fast"])
            fast_ll.append(c)
            t0 = time.perf_counter()
            e2e_ll.append(fast.evaluate(g)["logloss"])
            e2e_s += time.perf_counter() - t0
        store.close()
    load_end = os.getloadavg()[0]
    distinct = len({functional_hash(g.spec) for g in genomes})
    n = len(genomes)
    print(f"{n} genomes, {args.profile} batches {batches}, {args.steps} L-BFGS steps, "
          f"{args.threads} torch thread(s); reference {args.ref_fit_rows} refit / "
          f"{args.ref_val_rows} val rows, fast {args.fit_rows} / {args.val_rows}; load "
          f"average {load_start:.1f} at the start, {load_end:.1f} at the end")
    print(f"{'stage':<14}{'reference s/eval':>18}{'fast s/eval':>14}")
    for k in STAGES:
        print(f"{k:<14}{times['reference'][k] / n:>18.3f}{times['fast'][k] / n:>14.3f}")
    tr, tf = (sum(times[s].values()) / n for s in ("reference", "fast"))
    print(f"{'total':<14}{tr:>18.3f}{tf:>14.3f}")
    print(f"evaluations/s: reference {1 / tr:.3f}, fast {1 / tf:.3f} (staged), fast "
          f"end to end {n / e2e_s:.3f} (CoSearchProblem.evaluate: kernel costs and the "
          f"estimates of repeated subnets cached; {distinct} distinct subnets); staged "
          f"speed-up {tr / tf:.2f}x")
    assert np.allclose(fast_ll, e2e_ll, atol=1e-6), "staged and end-to-end estimates differ"
    r = np.asarray(ref_ll)
    # mean d: the offset every genome shares (a harder or easier validation subset), which
    # a comparison between genomes on the same rows does not see; |d - mean d| is the rest
    print("log loss vs the reference:  mean|d|    max|d|   mean d  mean|d-mean d|  "
          "Kendall tau")
    for name, v in (("noise floor (refit seed+1)", floor_ll), ("fast", fast_ll)):
        d = np.asarray(v) - r
        print(f"  {name:<27}{np.abs(d).mean():8.4f}{np.abs(d).max():10.4f}{d.mean():9.4f}"
              f"{np.abs(d - d.mean()).mean():16.4f}{kendalltau(r, v)[0]:13.3f}")
    print(" genome  reference  noise-floor  fast")
    for i in range(n):
        print(f"  {i:5d}  {ref_ll[i]:9.4f}  {floor_ll[i]:11.4f}  {fast_ll[i]:.4f}")


if __name__ == "__main__":
    main()
