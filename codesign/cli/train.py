"""``codesign train-supernet`` and ``codesign train`` (a subnet from scratch); ``codesign
eval`` is in :mod:`codesign.cli.evaluate`."""

from __future__ import annotations

import argparse
import typing
from pathlib import Path
from typing import Any

import torch

from codesign.cli.options import add_quiet, add_threads, command
from codesign.data.cache import CtrData
from codesign.nas.nasrec_json import load_spec
from codesign.nas.space import SPACES, spec_hash
from codesign.train.checkpoint import save_torch
from codesign.train.config import TrainConfig, TrainError, default
from codesign.train.metrics import base_rate_logloss
from codesign.train.scratch import train_from_scratch_run
from codesign.train.supernet import train_supernet
from pimsim.util.cli import positive_int
from pimsim.util.fileio import atomic_write_json

#: Last steps whose mean training loss ``train-supernet`` prints.
LOSS_TAIL_STEPS = 50


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True, help="cache folder (codesign data prepare / synth)")
    p.add_argument("--epochs", type=positive_int, default=default("epochs"), help="(default: %(default)s)")
    p.add_argument("--batch-size", type=positive_int, default=default("batch_size"),
                   help="(default: %(default)s)")
    p.add_argument("--lr", type=float, default=default("lr"),
                   help="Adagrad learning rate: the embedding tables, or everything with "
                   "--optimizer adagrad (default: %(default)s)")
    p.add_argument("--dense-lr", type=float, default=default("dense_lr"),
                   help="Adam learning rate of the dense operators with --optimizer hybrid "
                   "(default: %(default)s)")
    p.add_argument("--optimizer", choices=typing.get_args(TrainConfig.model_fields["optimizer"].annotation),
                   default=default("optimizer"),
                   help="hybrid: Adagrad on the tables + Adam on the dense operators; "
                   "adagrad: NASRec's single Adagrad (default: %(default)s)")
    p.add_argument("--train-rows", type=positive_int, default=None, help="use at most N training rows per epoch")
    p.add_argument("--max-steps", type=positive_int, default=None, help="stop after N steps in total")
    p.add_argument("--seed", type=int, default=default("seed"))
    add_threads(p)
    add_quiet(p)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sp = command(subparsers, "train-supernet", cmd_train_supernet)
    _add_common(sp)
    sp.add_argument("--out", type=Path, required=True, help="checkpoint folder")
    sp.add_argument("--space", choices=tuple(SPACES), default="full", help="(default: %(default)s)")
    sp.add_argument("--resume", action="store_true", help="continue from OUT/supernet.pt")
    sp.add_argument("--checkpoint-every", type=positive_int, default=default("checkpoint_every_steps"),
                    help="steps between checkpoints (default: %(default)s)")
    sp.add_argument("--supernet-warmup", type=float, default=default("supernet_warmup_fraction"),
                    help="fraction of steps in which the whole supernet is trained with a "
                    "probability falling 1 -> 0 (default: %(default)s)")

    tr = command(subparsers, "train", cmd_train)
    tr.add_argument("--spec", type=Path, required=True, help="spec JSON (ours or NASRec's)")
    _add_common(tr)
    tr.add_argument("--out", type=Path, default=None, help="folder for model.pt and metrics.json")


def _config(args: argparse.Namespace, **extra: Any) -> TrainConfig:
    return TrainConfig.make(
        lr=args.lr,
        dense_lr=args.dense_lr,
        optimizer=args.optimizer,
        batch_size=args.batch_size,
        epochs=args.epochs,
        train_rows=args.train_rows,
        stop_after_steps=args.max_steps,
        seed=args.seed,
        num_threads=args.threads,
        quiet=args.quiet,
        **extra,
    )


def cmd_train_supernet(args: argparse.Namespace) -> int:
    """Train a weight-sharing supernet (checkpoints, --resume).

    Train a NASRec-style supernet: Adagrad on the tables (Adam on the dense operators with
    --optimizer hybrid), cosine schedule with warm-up, whole-supernet warm-up, then one
    sampled subnet per step. Writes OUT/supernet.pt every --checkpoint-every steps and at
    the end; --resume continues from it.
    """
    data = CtrData.open(args.data)
    if args.out.exists() and not args.out.is_dir():
        raise TrainError(f"--out {args.out}: exists and is not a folder; accepted: a folder")
    cfg = _config(
        args,
        checkpoint_dir=args.out,
        checkpoint_every_steps=args.checkpoint_every,
        supernet_warmup_fraction=args.supernet_warmup,
    )
    run = train_supernet(data, cfg, space=args.space, resume=args.resume)
    print(
        f"supernet[{args.space}]: steps {run.steps_done}/{run.total_steps} "
        f"(resumed from {run.resumed_from_step}), {run.samples_per_s:,.0f} samples/s, "
        f"{run.wall_s:.1f} s; checkpoint {run.checkpoint_path}"
    )
    if run.losses:
        tail = run.losses[-min(LOSS_TAIL_STEPS, len(run.losses)) :]
        print(f"train loss (last {len(tail)} steps): {sum(tail) / len(tail):.5f}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Train one subnet from scratch; print val/test log loss and AUC.

    Train subnet SPEC alone from fresh weights and evaluate it.
    """
    spec = load_spec(args.spec)
    data = CtrData.open(args.data)
    run = train_from_scratch_run(spec, data, _config(args))
    base = base_rate_logloss(data, "val")
    print(f"subnet {spec_hash(spec)[:12]} trained from scratch: {run.steps} steps, {run.samples_per_s:,.0f} samples/s")
    print(f"val : {run.val}")
    print(f"test: {run.test}")
    print(f"base-rate val log loss: {base:.5f}")
    if args.out is not None:
        save_torch(run.model.state_dict(), args.out / "model.pt")
        atomic_write_json(
            args.out / "metrics.json",
            {
                "spec_hash": spec_hash(spec),
                "val": run.val.__dict__,
                "test": run.test.__dict__,
                "steps": run.steps,
                "samples_per_s": run.samples_per_s,
                "torch": torch.__version__,
            },
            indent=2,
            sort_keys=True,
        )
        print(f"wrote {args.out / 'model.pt'} and {args.out / 'metrics.json'}")
    return 0
