"""Supernet benchmark: does the supernet rank subnets as from-scratch training does?

On synthetic rows of each format asked for (Criteo, Avazu, KDD; ``make_synthetic_cache``,
caches under ``/tmp/pimrec-bench`` reused when present) this script

1. trains the weight-sharing supernet for ``--epochs`` epochs (default one) of the train
   split with the training method given by the options (sampling rule, distillation,
   progressive shrinking, schedule), prints its probe reports (train / val log loss of the
   whole supernet and of fixed probe subnets against the base rate) and its samples/s,
   epoch and training time and the size of its finished checkpoint (and of a resumable one);
2. samples ``--subnets`` random subnets and estimates each from the finished checkpoint
   (head refit on ``FINETUNE_ROWS`` training rows, then val log loss and AUC), as the search
   does;
3. trains each from scratch with ``--seeds`` seeds on a full epoch of the train split
   (``benchmarks/supernet_truth.py``; cached per subnet and seed) and ranks by the mean;
4. reports Kendall tau between the estimates and the truth (log loss and AUC) with a
   bootstrap interval over subnets, and the truth's own seed spread and seed-to-seed tau;
5. shows what each ranking follows: Kendall tau of the log loss against each operator's
   count of blocks, and against sizes and bridges of the blocks that reach the logit.

It exits with status 1 when a probe subnet's val log loss is not below the base rate.

Usage::

    python benchmarks/supernet.py --datasets criteo avazu kdd --subnets 14
    python benchmarks/supernet.py --sampling sandwich --distill      # a training method
    python benchmarks/supernet.py --quick                            # a smoke run

Timings depend on what else runs on the machine; the script prints its load average.
Measured figures and what they decided are in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
import time
import typing
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.linear_model import LogisticRegression

from supernet_truth import (  # benchmarks/supernet_truth.py, beside this script
    BENCH_CAP,
    BENCH_ROWS,
    Truth,
    bench_specs,
    kendall,
    open_cache,
    seed_agreement,
    split_half_agreement,
    tau_interval,
    truth_dir,
    truth_of,
)
from codesign.data.cache import CtrData
from codesign.nas.ops import FC
from codesign.nas.plan import BlockPlan, ExecutionPlan
from codesign.nas.space import DENSE_OPS, SPACES, SPARSE_OPS, SubnetSpec, spec_hash
from codesign.train.checkpoint import CHECKPOINT_NAME, checkpoint_record, config_dict, save_torch
from codesign.train.config import TrainConfig, default
from codesign.train.finetune import FINETUNE_ROWS, FINETUNE_STEPS, REFIT_L2, estimate_subnet
from codesign.train.metrics import EvalResult, base_rate_logloss, metrics
from codesign.train.optim import make_optimizers
from codesign.train.probe import ProbeReport
from codesign.train.storage import pack_state, unpack_state
from codesign.train.supernet import load_supernet, train_supernet
from pimsim.util.fileio import atomic_write_json


def fmt_row(cells: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(c.rjust(w) for c, w in zip(cells, widths)) + " |"


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = [fmt_row(header, widths), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [fmt_row(r, widths) for r in rows]
    return "\n".join(lines)


def logistic_baseline(data: CtrData, max_train_rows: int, seed: int) -> tuple[EvalResult, EvalResult, float]:
    """Logistic regression (scikit-learn, lbfgs) on one-hot hashed buckets plus the
    standardised dense features: val, test and fit seconds."""
    cards = np.asarray(data.schema.cardinalities, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(cards)[:-1]])
    n_cols = int(cards.sum())
    tr = data.indices("train")
    if tr.shape[0] > max_train_rows:
        tr = np.sort(np.random.default_rng(seed).choice(tr, max_train_rows, replace=False))
    dense_tr = np.asarray(data.dense[tr], dtype=np.float64)
    mu, sd = dense_tr.mean(0), dense_tr.std(0) + 1e-9

    def features(idx: np.ndarray) -> sp.csr_matrix:
        sparse = np.asarray(data.sparse[idx], dtype=np.int64) + offsets
        n = idx.shape[0]
        rows = np.repeat(np.arange(n), sparse.shape[1])
        onehot = sp.csr_matrix(
            (np.ones(rows.shape[0], dtype=np.float64), (rows, sparse.ravel())), shape=(n, n_cols)
        )
        dense = (np.asarray(data.dense[idx], dtype=np.float64) - mu) / sd
        return sp.hstack([onehot, sp.csr_matrix(dense)], format="csr")

    t0 = time.perf_counter()
    model = LogisticRegression(C=0.1, max_iter=300, tol=1e-5)
    model.fit(features(tr), np.asarray(data.label[tr]))
    wall = time.perf_counter() - t0
    out = []
    for split in ("val", "test"):
        idx = data.indices(split)
        p = model.predict_proba(features(idx))[:, 1]
        out.append(metrics(np.asarray(data.label[idx]), p))
    return out[0], out[1], wall


def method_config(args: argparse.Namespace) -> dict[str, typing.Any]:
    """The TrainConfig keys the command line sets (the training method)."""
    return {
        "sampling": args.sampling, "sandwich_random": args.sandwich_random, "distill": args.distill,
        "shrink_fraction": args.shrink, "supernet_warmup_fraction": args.supernet_warmup,
        "lr_warmup_fraction": args.lr_warmup, "dense_lr": args.dense_lr, "lr": args.lr,
        "seed": args.seed, "optimizer": args.optimizer, "center_logits": not args.no_center,
        "epochs": args.epochs,
    }


def train_or_load(data: CtrData, cache: Path, args: argparse.Namespace
                  ) -> tuple[torch.nn.Module, torch.nn.Module | None, dict, list[str]]:
    """The finished supernet of this method as its checkpoint stores it (trained, or read
    from the cached checkpoint), the float32 supernet when trained here (else None), its
    speed and sizes, and its final probe report's lines."""
    trained = None
    method = method_config(args)
    # the optimizer, the centring and the epochs name a supernet's folder only when not at
    # their defaults
    named = {k: v for k, v in method.items()
             if k not in ("optimizer", "center_logits", "epochs") or v != default(k)}
    tag = hashlib.sha256(json.dumps([args.space, named], sort_keys=True).encode()).hexdigest()[:10]
    ck_dir = cache.parent / f"{cache.name}.supernet-{tag}"
    stats_path = ck_dir / "stats.json"
    if stats_path.exists() and not args.fresh:
        stats = json.loads(stats_path.read_text())
        print(f"supernet: reused {ck_dir} ({json.dumps(method, sort_keys=True)})")
    else:
        cfg = TrainConfig(**method, checkpoint_dir=ck_dir, checkpoint_every_steps=10**9,
                          probe_every_steps=args.probe_every, quiet=True)
        printed = lambda r: print("\n".join(r.lines()), flush=True)  # noqa: E731
        run = train_supernet(data, cfg, space=args.space, overwrite=True, on_probe=printed)
        trained = run.supernet
        resumable = ck_dir / "resumable.pt"
        final: ProbeReport = run.probes[-1]
        stats = {
            "steps": run.steps_done, "samples_per_s": run.samples_per_s, "wall_s": run.wall_s,
            "whole_supernet_steps": run.whole_supernet_steps,
            "finished_bytes": (ck_dir / CHECKPOINT_NAME).stat().st_size,
            "probe": final.losses, "base_train": final.base_train, "base_val": final.base_val,
            "probe_lines": final.lines(), "method": method,
        }
        if args.resumable_size:  # the same weights as an interrupted run would keep them
            save_torch(checkpoint_record(
                run.supernet.state_dict(), finished=False, storage="float32",
                resume_state={"optimizer": _fresh_optimizer_state(run.supernet, cfg)},
                step=run.steps_done, total_steps=run.total_steps, space=args.space,
                schema=data.schema.to_dict(), config=config_dict(cfg)), resumable)
            stats["resumable_bytes"] = resumable.stat().st_size
            resumable.unlink()
        atomic_write_json(stats_path, stats, indent=2)
    net, _ = load_supernet(ck_dir, data.schema)
    stats["dir"] = str(ck_dir)
    return net, trained, stats, stats["probe_lines"]


def cached_estimate(net: torch.nn.Module, spec: SubnetSpec, data: CtrData, args: argparse.Namespace,
                    folder: str) -> EvalResult:
    """The supernet's estimate of ``spec``, cached beside its checkpoint (per subnet, head
    refit method and steps)."""
    # the refit's rows and l2 name the file only when not at their defaults
    refit = "" if (args.refit_rows, args.refit_l2) == (FINETUNE_ROWS, REFIT_L2) else f"-r{args.refit_rows}-l2{args.refit_l2:g}"
    path = Path(folder) / "estimates" / f"{spec_hash(spec)}-{args.head_method}{args.finetune_steps}{refit}-s{args.seed}.json"
    if path.exists():
        return EvalResult(**json.loads(path.read_text()))
    e = estimate_subnet(net, spec, data, args.finetune_steps, seed=args.seed, method=args.head_method,
                        **refit_args(args))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, e.__dict__)
    return e


def refit_args(args: argparse.Namespace) -> dict[str, typing.Any]:
    """The head refit's rows and l2 as :func:`estimate_subnet` takes them."""
    return {"rows": args.refit_rows, "l2": args.refit_l2}


def _fresh_optimizer_state(net: torch.nn.Module, cfg: TrainConfig) -> dict:
    """The optimizers' state after one step (every moment buffer allocated): the size an
    interrupted run's checkpoint holds."""
    opt = make_optimizers(net, cfg, 10)
    for p in net.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    opt.zero_grad()
    return opt.state_dict()


def bench_format(dataset: str, args: argparse.Namespace) -> tuple[list[list[str]], bool, dict]:
    """Run the benchmark on one format; the summary rows, whether the probes beat the base
    rate, and the figures as JSON."""
    data, cache, made = open_cache(dataset, args.rows, args.cap)
    n_train = int(data.indices("train").shape[0])
    print(f"\n# {dataset}: {cache} ({made}); {data.n_rows:,} rows, train {n_train:,}, "
          f"val {data.indices('val').shape[0]:,}; load average {os.getloadavg()}", flush=True)
    net, fp32_net, stats, probe_lines = train_or_load(data, cache, args)
    print("\n".join(probe_lines))
    specs = bench_specs(args.space, args.subnets, 0)
    est: list[EvalResult] = []
    truths: list[Truth] = []
    seeds = list(range(args.seeds))

    for spec in specs:  # estimates first: the truth may still be filling in another process
        est.append(cached_estimate(net, spec, data, args, stats["dir"]))
    if fp32_net is not None and args.storage_check > 0:
        # the finished checkpoint's storage (int8 row-wise by default) and float16, each
        # against the same supernet's float32 weights
        half = copy.deepcopy(fp32_net)
        half.load_state_dict(unpack_state(pack_state(fp32_net.state_dict(), "float16"),
                                          "float16 storage check"))
        deltas: dict[str, list[list[float]]] = {"storage_delta": [[], []],
                                                "storage_delta_float16": [[], []]}
        by_storage: dict[str, list[list[float]]] = {"float32": [], "float16": []}
        for spec, e in list(zip(specs, est))[: args.storage_check]:
            e32 = estimate_subnet(fp32_net, spec, data, args.finetune_steps, seed=args.seed,
                                  method=args.head_method, **refit_args(args))
            e16 = estimate_subnet(half, spec, data, args.finetune_steps, seed=args.seed,
                                  method=args.head_method, **refit_args(args))
            for key, other in (("storage_delta", e), ("storage_delta_float16", e16)):
                deltas[key][0].append(abs(e32.logloss - other.logloss))
                deltas[key][1].append(abs(e32.auc - other.auc))
            by_storage["float32"].append([e32.logloss, e32.auc])
            by_storage["float16"].append([e16.logloss, e16.auc])
        for key, (d_ll, d_auc) in deltas.items():
            stats[key] = [len(d_ll), max(d_ll), max(d_auc)]
        if args.storage_check >= len(specs):  # every subnet: its ranking under each storage
            stats["estimates_by_storage"] = by_storage
        atomic_write_json(Path(stats["dir"]) / "stats.json", stats, indent=2)
    if args.no_truth:
        print(f"{len(est)} estimates cached in {stats['dir']}; no truth asked for")
        for key, name in (("storage_delta", default("checkpoint_storage")),
                          ("storage_delta_float16", "float16")):
            if key in stats:
                n, d_ll, d_auc = stats[key]
                print(f"{name} storage: max |change| of {n} estimates against float32, "
                      f"log loss / AUC {d_ll:.6f} / {d_auc:.6f}")
        return [], True, {}
    other: list[EvalResult] = []
    if args.compare_seed is not None and args.compare_seed != args.seed:
        # a second supernet, the same method from another seed: how far the estimates
        # move with the supernet's own initialisation and sampling
        o_args = copy.copy(args)
        o_args.seed = args.compare_seed
        o_net, _, o_stats, o_lines = train_or_load(data, cache, o_args)
        print(f"supernet seed {args.compare_seed}:\n" + "\n".join(o_lines))
        other = [cached_estimate(o_net, spec, data, o_args, o_stats["dir"]) for spec in specs]
    if args.available_truth:  # the subnets whose every seed is in the truth cache
        keep = [i for i, spec in enumerate(specs) if all(
            (truth_dir(cache) / f"{spec_hash(spec)}-s{s}.json").exists() for s in seeds)]
        specs, est = [specs[i] for i in keep], [est[i] for i in keep]
        other = [other[i] for i in keep] if other else other
        print(f"truth cached for {len(specs)} of {args.subnets} subnets: ranking those")
    for i, spec in enumerate(specs):
        truths.append(truth_of(spec, data, seeds, truth_dir(cache), wait=args.wait_truth))
        t = truths[-1]
        print(f"  {i + 1:2d}/{len(specs)} {spec_hash(spec)[:8]}: supernet {est[i].logloss:.5f} / "
              f"{est[i].auc:.4f}   scratch {t.mean_logloss:.5f} / {t.mean_auc:.4f} "
              f"(seed spread {t.spread_logloss:.5f})", flush=True)
    e_ll, t_ll = [e.logloss for e in est], [t.mean_logloss for t in truths]
    e_auc, t_auc = [e.auc for e in est], [t.mean_auc for t in truths]
    tau_ll, tau_auc = kendall(e_ll, t_ll), kendall(e_auc, t_auc)
    ci_ll, ci_auc = tau_interval(e_ll, t_ll), tau_interval(e_auc, t_auc)
    spreads = [t.spread_logloss for t in truths]
    gaps = np.diff(np.sort(t_ll))
    probe = {k: tuple(v) for k, v in stats["probe"].items()}
    beats = all(val < stats["base_val"] for name, (_, val) in probe.items() if name != "whole")
    epoch_min = n_train / stats["samples_per_s"] / 60
    size = stats["finished_bytes"] / 1e6
    rows = [
        ["Kendall tau, val log loss (90% CI)", f"{tau_ll:.3f} ({ci_ll[0]:.3f} to {ci_ll[1]:.3f})"],
        ["Kendall tau, val AUC (90% CI)", f"{tau_auc:.3f} ({ci_auc[0]:.3f} to {ci_auc[1]:.3f})"],
        ["truth: seed spread of log loss, median / max", f"{np.median(spreads):.5f} / {max(spreads):.5f}"],
        ["truth: median gap between neighbours", f"{float(np.median(gaps)):.5f}"],
        ["truth: seed-0 vs seed-1 tau", f"{seed_agreement(truths):.3f}" if len(seeds) > 1 else "-"],
        *([["truth: split-half tau (mean of each half of the seeds)",
            f"{split_half_agreement(truths):.3f}"]] if len(seeds) >= 4 else []),
        ["base-rate log loss train / val (probe rows)", f"{stats['base_train']:.5f} / {stats['base_val']:.5f}"],
        *[[f"probe {name} train / val", f"{tr:.5f} / {va:.5f}"] for name, (tr, va) in probe.items()],
        ["supernet samples/s", f"{stats['samples_per_s']:,.0f}"],
        ["supernet epoch time", f"{epoch_min:.1f} min ({n_train:,} rows)"],
        ["supernet training time", f"{stats['wall_s'] / 60:.1f} min ({stats['steps']} steps, "
         f"{stats['whole_supernet_steps']} of them whole-supernet)"],
        ["finished checkpoint", f"{size:.1f} MB"],
    ]
    if args.logistic_rows > 0:
        lr_val, lr_test, lr_wall = logistic_baseline(data, args.logistic_rows, args.seed)
        rows.append(["logistic regression val / test log loss",
                     f"{lr_val.logloss:.5f} / {lr_test.logloss:.5f} (fit {lr_wall:.0f} s)"])
    if "storage_delta" in stats:
        n, d_ll, d_auc = stats["storage_delta"]
        rows.append([f"{default('checkpoint_storage')} storage: max |change| of {n} estimates, log loss / AUC",
                     f"{d_ll:.6f} / {d_auc:.6f}"])
    if "storage_delta_float16" in stats:
        n, d_ll, d_auc = stats["storage_delta_float16"]
        rows.append([f"float16 storage: max |change| of {n} estimates, log loss / AUC",
                     f"{d_ll:.6f} / {d_auc:.6f}"])
    for storage, pairs in stats.get("estimates_by_storage", {}).items():
        if len(pairs) != len(truths):
            continue  # estimated before --available-truth dropped some subnets
        s_ll, s_auc = [p[0] for p in pairs], [p[1] for p in pairs]
        c_ll, c_auc = tau_interval(s_ll, t_ll), tau_interval(s_auc, t_auc)
        rows.append([f"Kendall tau of the {storage} weights' estimates, log loss / AUC (90% CI)",
                     f"{kendall(s_ll, t_ll):.3f} ({c_ll[0]:.3f} to {c_ll[1]:.3f}) / "
                     f"{kendall(s_auc, t_auc):.3f} ({c_auc[0]:.3f} to {c_auc[1]:.3f})"])
    if other:
        o_ll = [e.logloss for e in other]
        mean_ll = [(a + b) / 2 for a, b in zip(e_ll, o_ll)]
        c_o, c_m = tau_interval(o_ll, t_ll), tau_interval(mean_ll, t_ll)
        rows += [
            [f"supernet: seed {args.seed} vs seed {args.compare_seed} tau of the estimates (log loss)",
             f"{kendall(e_ll, o_ll):.3f}"],
            [f"Kendall tau of the seed-{args.compare_seed} supernet, val log loss (90% CI)",
             f"{kendall(o_ll, t_ll):.3f} ({c_o[0]:.3f} to {c_o[1]:.3f})"],
            ["Kendall tau of the two supernets' mean estimate, val log loss (90% CI)",
             f"{kendall(mean_ll, t_ll):.3f} ({c_m[0]:.3f} to {c_m[1]:.3f})"],
        ]
    if "resumable_bytes" in stats:
        rows.append(["resumable checkpoint (float32 + optimizer)", f"{stats['resumable_bytes'] / 1e6:.1f} MB"])
    print(operator_table(specs, e_ll, t_ll))
    print(structure_table([net.plan(s) for s in specs], e_ll, t_ll))
    figures = {"tau_logloss": tau_ll, "tau_logloss_ci": ci_ll, "tau_auc": tau_auc, "tau_auc_ci": ci_auc,
               "stats": stats, "subnets": [{"hash": spec_hash(s), "supernet": e.__dict__,
                                            "scratch_logloss": t.logloss, "scratch_auc": t.auc}
                                           for s, e, t in zip(specs, est, truths)],
               "base_val_full": base_rate_logloss(data, "val")}
    if other:
        figures["compare_seed"] = {"seed": args.compare_seed,
                                   "estimates": [e.__dict__ for e in other]}
    return rows, beats, figures


def follow_table(title: str, kind: str, counts: dict[str, list[int]], e_ll: list[float],
                 t_ll: list[float]) -> str:
    """Per measure of the subnets (``counts``: one value per subnet), Kendall tau between it
    and the log loss from scratch and on the supernet: what each ranking follows (a
    negative tau: more of it, lower loss). A measure equal in every subnet is left out."""
    lines = [[name, f"{kendall(n, t_ll):+.3f}", f"{kendall(n, e_ll):+.3f}"]
             for name, n in counts.items() if len(set(n)) > 1]
    return f"\n{title} against the log loss (Kendall tau)\n" + table(
        [kind, "from scratch", "supernet estimate"], lines)


def operator_table(specs: list[SubnetSpec], e_ll: list[float], t_ll: list[float]) -> str:
    """:func:`follow_table` of each operator's count of blocks using it."""
    counts = {name: [sum(name in (b.dense_op, b.sparse_op) for b in spec.blocks) for spec in specs]
              for name in DENSE_OPS + SPARSE_OPS}
    return follow_table("blocks using each operator", "operator", counts, e_ll, t_ll)


def _reached(p: ExecutionPlan) -> list[BlockPlan]:
    """The blocks of ``p`` whose output reaches the logit."""
    return [bp for bp in p.blocks if bp is not None]


#: What :func:`structure_table` measures of a subnet's execution plan (only the blocks whose
#: output reaches the logit count).
STRUCTURE: dict[str, typing.Callable[[ExecutionPlan], int]] = {
    "blocks reached": lambda p: len(_reached(p)),
    "fc width, summed": lambda p: sum(c.dims.out for bp in _reached(p) for c in bp.dense_ops
                                      if c.name == FC.name),
    "dense width, summed": lambda p: sum(c.dims.out for bp in _reached(p) for c in bp.dense_ops),
    "sparse tokens, summed": lambda p: sum(c.dims.out for bp in _reached(p) for c in bp.sparse_ops),
    "DeepFM blocks": lambda p: sum(bp.fm is not None for bp in _reached(p)),
    "dense-to-sparse merges": lambda p: sum(bp.merge is not None for bp in _reached(p)),
    "last block's width": lambda p: p.final.dims.dense_in,
}


def structure_table(plans: list[ExecutionPlan], e_ll: list[float], t_ll: list[float]) -> str:
    """:func:`follow_table` of the sizes and bridges of the subnets' execution plans."""
    counts = {name: [measure(p) for p in plans] for name, measure in STRUCTURE.items()}
    return follow_table("sizes and bridges of the blocks reached", "measure", counts, e_ll, t_ll)


def speed_only(args: argparse.Namespace) -> int:
    """``--speed-steps``: training speed and the loss curve of the first steps, per format."""
    for ds in args.datasets:
        data, cache, _ = open_cache(ds, args.rows, args.cap)
        n_train = int(data.indices("train").shape[0])
        cfg = TrainConfig(**method_config(args), stop_after_steps=args.speed_steps, quiet=True, probe_rows=0)
        run = train_supernet(data, cfg, space=args.space)
        print(f"{ds}: supernet training speed {run.samples_per_s:,.0f} samples/s over {run.steps_done} "
              f"steps ({run.whole_supernet_steps} of them whole-supernet), {args.threads} threads; one "
              f"epoch of {n_train:,} rows at this speed: {n_train / run.samples_per_s / 60:.1f} min")
        tenth = max(1, len(run.losses) // 10)
        means = [float(np.mean(run.losses[i : i + tenth])) for i in range(0, len(run.losses), tenth)]
        print(f"mean training loss per {tenth} steps: {', '.join(f'{m:.3f}' for m in means)}; "
              f"base-rate train log loss {base_rate_logloss(data, 'train'):.5f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", choices=("criteo", "avazu", "kdd"), default=["criteo"])
    ap.add_argument("--rows", type=int, default=BENCH_ROWS, help="synthetic rows per format")
    ap.add_argument("--subnets", type=int, default=20)
    ap.add_argument("--seeds", type=int, default=2, help="from-scratch seeds per subnet")
    ap.add_argument("--quick", action="store_true", help="8,000 rows, 4 subnets, 1 seed")
    ap.add_argument("--cap", type=int, default=BENCH_CAP, help="bucket cap per categorical field")
    ap.add_argument("--space", choices=tuple(SPACES), default="full")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sampling", choices=typing.get_args(TrainConfig.model_fields["sampling"].annotation),
                    default=default("sampling"))
    ap.add_argument("--sandwich-random", type=int, default=default("sandwich_random"))
    ap.add_argument("--distill", action="store_true", default=default("distill"))
    ap.add_argument("--no-distill", dest="distill", action="store_false")
    ap.add_argument("--shrink", type=float, default=default("shrink_fraction"), help="progressive shrinking fraction")
    ap.add_argument("--supernet-warmup", type=float, default=default("supernet_warmup_fraction"))
    ap.add_argument("--epochs", type=int, default=default("epochs"),
                    help="supernet training epochs (the from-scratch truth trains one)")
    ap.add_argument("--lr-warmup", type=float, default=default("lr_warmup_fraction"))
    ap.add_argument("--lr", type=float, default=default("lr"), help="Adagrad lr (tables)")
    ap.add_argument("--dense-lr", type=float, default=default("dense_lr"), help="Adam lr (dense operators)")
    ap.add_argument("--optimizer", choices=typing.get_args(TrainConfig.model_fields["optimizer"].annotation),
                    default=default("optimizer"),
                    help="hybrid: Adagrad on the tables + Adam on the dense operators; adagrad: NASRec's")
    ap.add_argument("--no-center", action="store_true",
                    help="train the supernet on the uncentred loss (TrainConfig.center_logits=False)")
    ap.add_argument("--head-method", choices=("lbfgs", "adagrad"), default="lbfgs",
                    help="head refit of each estimate: full-batch L-BFGS or minibatch Adagrad steps")
    ap.add_argument("--speed-steps", type=int, default=None,
                    help="only train the supernet for this many steps (no checkpoint), print its "
                    "speed and the mean training loss of each tenth of them, and exit")
    ap.add_argument("--finetune-steps", type=int, default=FINETUNE_STEPS,
                    help="head refit: at most this many L-BFGS iterations (default: %(default)s)")
    ap.add_argument("--refit-rows", type=int, default=FINETUNE_ROWS,
                    help="head refit: cached training rows (default: %(default)s)")
    ap.add_argument("--refit-l2", type=float, default=REFIT_L2,
                    help="head refit: weight of the squared head weights (default: %(default)s)")
    ap.add_argument("--probe-every", type=int, default=None, help="steps between probe reports")
    ap.add_argument("--storage-check", type=int, default=5,
                    help="when the supernet is trained in this run, also estimate this many "
                    "subnets with its float32 and float16 weights and report the change int8 "
                    "storage makes; with every subnet, also the ranking of each storage")
    ap.add_argument("--resumable-size", action="store_true",
                    help="also write (and delete) a resumable checkpoint to report its size")
    ap.add_argument("--logistic-rows", type=int, default=0,
                    help="also fit a logistic-regression baseline on at most N train rows (0: no)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--compare-seed", type=int, default=None,
                    help="also train (or reuse) the same method's supernet from this seed, "
                         "estimate the same subnets with it and report how far the two "
                         "supernets' rankings agree and how their mean estimate ranks")
    ap.add_argument("--wait-truth", action="store_true",
                    help="wait for benchmarks/supernet_truth.py (run in another process) to write "
                    "the from-scratch results instead of training them here")
    ap.add_argument("--no-truth", action="store_true",
                    help="only train the supernet and cache its estimates (the ranking comes later)")
    ap.add_argument("--available-truth", action="store_true",
                    help="rank only the subnets whose from-scratch results are all cached")
    ap.add_argument("--fresh", action="store_true", help="retrain the supernet even if cached")
    ap.add_argument("--json", type=Path, default=None, help="also write all figures as JSON here")
    args = ap.parse_args(argv)
    if args.quick:
        args.rows, args.subnets, args.seeds, args.finetune_steps = 8_000, 4, 1, 30
    torch.set_num_threads(args.threads)
    if args.speed_steps is not None:
        return speed_only(args)
    t0 = time.perf_counter()
    all_ok, figures = True, {}
    summaries = []
    for ds in args.datasets:
        rows, ok, figs = bench_format(ds, args)
        all_ok &= ok
        if rows:
            figures[ds] = figs
            summaries.append((ds, rows))
    print(f"\n## Supernet benchmark ({args.rows:,} synthetic rows per format, space {args.space}, "
          f"{args.subnets} subnets x {args.seeds} from-scratch seeds, {args.threads} threads)")
    print(f"method: {json.dumps(method_config(args), sort_keys=True)}")
    for ds, rows in summaries:
        print(f"\n### {ds}\n")
        print(table(["figure", "value"], rows))
    print(f"\ntotal wall time {(time.perf_counter() - t0) / 60:.1f} min")
    if args.json is not None:
        atomic_write_json(args.json, figures, indent=2)
    if not all_ok:
        print("FAIL: a probe subnet's val log loss is not below the base rate", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
