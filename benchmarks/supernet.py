"""Supernet benchmark: training speed, one-shot ranking quality and a logistic baseline.

On synthetic Criteo-format rows (``make_synthetic_cache``; the cache folder is reused when
present) this script

1. trains the weight-sharing supernet for one epoch on the train split (torch threads = 2
   by default) and reports samples/s and the epoch's wall time;
2. samples ``--subnets`` random subnets (single-operator any-connection) and estimates each
   with the supernet: the final layer alone is refitted on ``FINETUNE_ROWS`` (20,000) training rows (at most
   ``--finetune-steps`` full-batch L-BFGS iterations from the supernet's head, a convex
   problem on the frozen subnet's features), then val log loss and AUC;
3. trains each of those subnets from scratch on a documented budget (``--scratch-rows``
   training rows, one pass, same optimizer and schedule) and evaluates it on val;
4. reports Kendall's tau between the two rankings (by val log loss, and by AUC);
5. fits a logistic-regression baseline (scikit-learn, lbfgs) on the same train split:
   features = one-hot of every hashed categorical bucket (the cache's capped ids, one column
   per (field, bucket)) plus the 13 log-transformed dense features standardised; evaluated
   on the same val and test rows.

Usage::

    python benchmarks/supernet.py                 # 500,000 rows, 20 subnets
    python benchmarks/supernet.py --quick         # a small smoke run (about a minute)
    python benchmarks/supernet.py --speed-steps 200 --threads 2   # training speed only

Timings depend on what else runs on the machine; the script prints its load average.
Measured figures and what they decided are in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import typing
from pathlib import Path

import numpy as np
import torch

import scipy.sparse as sp
from scipy.stats import kendalltau
from sklearn.linear_model import LogisticRegression

from codesign.data.cache import CtrData
from codesign.data.synthetic import make_synthetic_cache
from codesign.nas.moves import sample
from codesign.nas.space import SPACES, SubnetSpec, spec_hash
from codesign.train.checkpoint import CHECKPOINT_NAME
from codesign.train.config import TrainConfig, default
from codesign.train.finetune import FINETUNE_ROWS, FINETUNE_STEPS, estimate_subnet
from codesign.train.metrics import EvalResult, base_rate_logloss, metrics
from codesign.train.scratch import ScratchRun, train_from_scratch_run
from codesign.train.supernet import load_supernet, train_supernet
from pimsim.util.fileio import atomic_write_json


def kendall_tau(a: list[float], b: list[float]) -> float:
    return float(kendalltau(a, b).statistic)


def logistic_baseline(data: CtrData, max_train_rows: int, seed: int) -> tuple[EvalResult, EvalResult, float]:
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


def scratch_result(
    spec: SubnetSpec, data: CtrData, config: TrainConfig, eval_rows: int | None, folder: Path, fresh: bool
) -> ScratchRun:
    """Train ``spec`` from scratch, or reuse the result cached in ``folder`` under its hash
    (from-scratch results do not depend on the supernet, so supernet variants share them)."""
    path = folder / f"{spec_hash(spec)}.json"
    if path.exists() and not fresh:
        saved = json.loads(path.read_text())
        return ScratchRun(
            model=None, val=EvalResult(**saved["val"]), test=EvalResult(**saved["test"]),
            steps=saved["steps"], wall_s=saved["wall_s"], samples_per_s=saved["samples_per_s"],
        )
    sc = train_from_scratch_run(spec, data, config, eval_limit=eval_rows)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, {"val": sc.val.__dict__, "test": sc.test.__dict__, "steps": sc.steps,
                             "wall_s": sc.wall_s, "samples_per_s": sc.samples_per_s})
    return sc


def fmt_row(cells: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(c.rjust(w) for c, w in zip(cells, widths)) + " |"


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = [fmt_row(header, widths), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [fmt_row(r, widths) for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=500_000, help="synthetic Criteo rows")
    ap.add_argument("--subnets", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="20,000 rows, 4 subnets, small budgets")
    ap.add_argument("--cache", type=Path, default=None, help="cache folder (default under /tmp/pimrec-bench)")
    ap.add_argument("--cap", type=int, default=2**16, help="bucket cap per categorical field")
    ap.add_argument("--space", choices=tuple(SPACES), default="full")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--optimizer", choices=typing.get_args(TrainConfig.model_fields["optimizer"].annotation),
                    default=default("optimizer"),
                    help="hybrid: Adagrad on the tables + Adam on the dense operators; adagrad: NASRec's")
    ap.add_argument("--lr", type=float, default=default("lr"),
                    help="Adagrad lr (tables; everything with --optimizer adagrad)")
    ap.add_argument("--dense-lr", type=float, default=default("dense_lr"), help="Adam lr of the dense operators (hybrid)")
    ap.add_argument("--supernet-warmup", type=float, default=0.02, help="whole-supernet warm-up fraction")
    ap.add_argument("--finetune-steps", type=int, default=None,
                    help=f"head fit: iterations on {FINETUNE_ROWS:,} cached rows (default "
                    f"{FINETUNE_STEPS}; 50 with --quick)")
    ap.add_argument("--scratch-rows", type=int, default=None,
                    help="from-scratch budget: training rows per subnet (default: the whole train "
                    "split, one epoch; at 100,000 rows every subnet lands within the noise of one run)")
    ap.add_argument("--eval-rows", type=int, default=None, help="evaluate on at most N val rows")
    ap.add_argument("--head-method", choices=("lbfgs", "adagrad"), default="lbfgs",
                    help="head refit of each estimate: full-batch L-BFGS or minibatch Adagrad steps")
    ap.add_argument("--no-center", action="store_true",
                    help="train the supernet on the uncentred loss (TrainConfig.center_logits=False)")
    ap.add_argument("--lr-rows", type=int, default=400_000, help="logistic baseline: max training rows")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fresh", action="store_true", help="retrain the supernet even if a finished checkpoint exists")
    ap.add_argument("--fresh-scratch", action="store_true",
                    help="retrain every from-scratch subnet even if its result is cached")
    ap.add_argument("--json", type=Path, default=None, help="also write all figures as JSON here")
    ap.add_argument(
        "--speed-steps", type=int, default=None,
        help="only measure supernet training speed over this many steps (no checkpoint) and exit",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.rows, args.subnets = 20_000, 4
        args.scratch_rows, args.lr_rows = 16_000, 16_000
        if args.finetune_steps is None:
            args.finetune_steps = 50
    if args.finetune_steps is None:
        args.finetune_steps = FINETUNE_STEPS
    torch.set_num_threads(args.threads)
    base_dir = Path("/tmp/pimrec-bench")
    cache = args.cache or base_dir / f"criteo-{args.rows}-cap{args.cap}"

    t0 = time.perf_counter()
    try:
        data = CtrData.open(cache)
        made = "reused"
    except Exception:
        data = make_synthetic_cache("criteo", args.rows, cache, seed=2026, cap=args.cap, quiet=False)
        made = f"made in {time.perf_counter() - t0:.1f} s"
    n_train, n_val = data.indices("train").shape[0], data.indices("val").shape[0]
    print(f"data: {cache} ({made}); {data.n_rows:,} rows, train {n_train:,}, val {n_val:,}; "
          f"embedding rows {sum(data.schema.cardinalities):,}")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, load average {os.getloadavg()}")
    base = base_rate_logloss(data, "val")
    opt_kw = {"optimizer": args.optimizer, "lr": args.lr, "dense_lr": args.dense_lr,
              "center_logits": not args.no_center}

    if args.speed_steps is not None:
        run = train_supernet(
            data,
            TrainConfig(**opt_kw, supernet_warmup_fraction=args.supernet_warmup, seed=args.seed,
                        stop_after_steps=args.speed_steps, quiet=True),
            space=args.space,
        )
        whole = run.whole_supernet_steps
        print(f"supernet training speed: {run.samples_per_s:,.0f} samples/s over {run.steps_done} steps "
              f"({whole} of them whole-supernet), {args.threads} threads; one epoch of {n_train:,} rows "
              f"at this speed: {n_train / run.samples_per_s / 60:.1f} min")
        tenth = max(1, len(run.losses) // 10)
        means = [float(np.mean(run.losses[i : i + tenth])) for i in range(0, len(run.losses), tenth)]
        print(f"mean training loss per {tenth} steps: {', '.join(f'{m:.3f}' for m in means)}; "
              f"base-rate val log loss {base:.5f}")
        return 0

    # 1. supernet training -----------------------------------------------------------
    tag = (f"{args.space}-{args.optimizer}-lr{args.lr}-dlr{args.dense_lr}-wu{args.supernet_warmup}-s{args.seed}"
           + ("-uncentred" if args.no_center else ""))
    ck_dir = cache.parent / f"{cache.name}.supernet-{tag}"
    stats_path = ck_dir / "speed.json"
    cfg = TrainConfig(
        **opt_kw,
        epochs=1,
        supernet_warmup_fraction=args.supernet_warmup,
        seed=args.seed,
        checkpoint_dir=ck_dir,
        checkpoint_every_steps=100,
        quiet=False,
    )
    if args.fresh and stats_path.exists():
        stats_path.unlink()
        (ck_dir / CHECKPOINT_NAME).unlink(missing_ok=True)
    if stats_path.exists():
        net, _ = load_supernet(ck_dir, data.schema)
        speed = json.loads(stats_path.read_text())
        print(f"supernet: reused finished checkpoint {ck_dir}")
    else:
        run = train_supernet(data, cfg, space=args.space, resume=True)
        net = run.supernet
        speed = {
            "steps": run.steps_done,
            "samples_per_s": run.samples_per_s,
            "wall_s": run.wall_s,
            "whole_supernet_steps": run.whole_supernet_steps,
            "resumed_from_step": run.resumed_from_step,
            "final_train_loss_100": float(np.mean(run.losses[-100:])),
        }
        atomic_write_json(stats_path, speed, indent=2)
    epoch_s = n_train / speed["samples_per_s"]
    print(f"supernet: {speed['steps']} steps, {speed['samples_per_s']:,.0f} samples/s, "
          f"one epoch {epoch_s / 60:.1f} min (target <= 10 min), whole-supernet steps "
          f"{speed['whole_supernet_steps']}, train loss (last 100) {speed['final_train_loss_100']:.4f}")

    # 2./3. subnets: supernet estimate vs from scratch -------------------------------
    rng = np.random.default_rng([args.seed, 99])
    specs = [sample(args.space, rng) for _ in range(args.subnets)]
    scratch_cfg = TrainConfig(
        **opt_kw, epochs=1, train_rows=min(args.scratch_rows or n_train, n_train), seed=args.seed, quiet=True
    )
    scratch_tag = (f"{args.optimizer}-lr{args.lr}-dlr{args.dense_lr}-rows{scratch_cfg.train_rows}"
                   f"-s{args.seed}-eval{args.eval_rows or 'all'}")
    scratch_dir = cache.parent / f"{cache.name}.scratch-{scratch_tag}"
    results = []
    for i, spec in enumerate(specs):
        t = time.perf_counter()
        est = estimate_subnet(
            net, spec, data, args.finetune_steps, seed=args.seed, limit=args.eval_rows,
            method=args.head_method,
        )
        t_est = time.perf_counter() - t
        sc = scratch_result(spec, data, scratch_cfg, args.eval_rows, scratch_dir, args.fresh_scratch)
        results.append((spec, est, sc, t_est))
        print(f"  subnet {i + 1:2d}/{len(specs)} {spec_hash(spec)[:8]}: supernet {est.logloss:.5f} / "
              f"{est.auc:.4f} ({t_est:.0f} s)   scratch {sc.val.logloss:.5f} / {sc.val.auc:.4f} "
              f"({sc.wall_s:.0f} s, {sc.samples_per_s:,.0f} samples/s)", flush=True)

    tau_ll = kendall_tau([r[1].logloss for r in results], [r[2].val.logloss for r in results])
    tau_auc = kendall_tau([r[1].auc for r in results], [r[2].val.auc for r in results])

    # 5. logistic regression baseline ------------------------------------------------
    lr_path = cache.parent / f"{cache.name}.logistic-{args.lr_rows}-s{args.seed}.json"
    if lr_path.exists():  # the baseline depends only on the cache, the row budget and the seed
        saved = json.loads(lr_path.read_text())
        lr_val, lr_test, lr_wall = EvalResult(**saved["val"]), EvalResult(**saved["test"]), saved["fit_s"]
        print(f"logistic regression: reused {lr_path}")
    else:
        lr_val, lr_test, lr_wall = logistic_baseline(data, args.lr_rows, args.seed)
        atomic_write_json(lr_path, {"val": lr_val.__dict__, "test": lr_test.__dict__, "fit_s": lr_wall})

    # report -------------------------------------------------------------------------
    rows = [
        [str(i + 1), spec_hash(s)[:8], f"{e.logloss:.5f}", f"{e.auc:.4f}", f"{c.val.logloss:.5f}", f"{c.val.auc:.4f}"]
        for i, (s, e, c, _) in enumerate(results)
    ]
    print()
    print(f"## Supernet benchmark ({data.n_rows:,} synthetic Criteo rows, space {args.space}, {args.threads} threads)")
    print()
    print(table(["#", "subnet", "supernet val logloss", "supernet val AUC", "scratch val logloss", "scratch val AUC"], rows))
    print()
    summary = [
        ["supernet training samples/s", f"{speed['samples_per_s']:,.0f}"],
        ["supernet epoch wall time", f"{epoch_s / 60:.1f} min ({n_train:,} rows; target <= 10 min)"],
        ["optimizer / whole-supernet warm-up", f"{args.optimizer} (Adagrad {args.lr}, Adam {args.dense_lr}) / {args.supernet_warmup}"],
        ["head fine-tuning", f"{args.head_method}, {args.finetune_steps} steps, {FINETUNE_ROWS:,} train rows"],
        ["from-scratch budget", f"{scratch_cfg.train_rows:,} rows, 1 pass, same optimizer"],
        ["Kendall tau (val log loss)", f"{tau_ll:.3f} (target >= 0.4)"],
        ["Kendall tau (val AUC)", f"{tau_auc:.3f}"],
        ["base-rate val log loss", f"{base:.5f}"],
        ["logistic regression val", f"{lr_val.logloss:.5f} / AUC {lr_val.auc:.4f}"],
        ["logistic regression test", f"{lr_test.logloss:.5f} / AUC {lr_test.auc:.4f} (fit {lr_wall:.0f} s)"],
        ["best scratch subnet val", f"{min(r[2].val.logloss for r in results):.5f}"],
        ["total wall time", f"{(time.perf_counter() - t0) / 60:.1f} min"],
    ]
    print(table(["figure", "value"], summary))
    if args.json is not None:
        atomic_write_json(args.json, {
            "speed": speed, "tau_logloss": tau_ll, "tau_auc": tau_auc, "base_logloss": base,
            "logistic": {"val": lr_val.__dict__, "test": lr_test.__dict__},
            "subnets": [{"hash": spec_hash(s), "supernet": e.__dict__, "scratch": c.val.__dict__} for s, e, c, _ in results],
        }, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
