"""``codesign train-supernet`` and ``codesign train`` (a subnet from scratch); ``codesign
eval`` is in :mod:`codesign.cli.evaluate`."""

from __future__ import annotations

import argparse
import typing
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from codesign.cli.options import add_quiet, add_threads, command
from codesign.cli.precision import add_precision, describe, precision_of
from codesign.data.cache import CtrData
from codesign.nas.nasrec_json import load_spec
from codesign.nas.space import SPACES, spec_hash
from codesign.quant import Precision
from codesign.train.checkpoint import save_torch
from codesign.train.config import TrainConfig, TrainError, default
from codesign.train.loop import steps_per_epoch
from codesign.train.metrics import base_rate_logloss
from codesign.train.probe import ProbeReport
from codesign.train.scratch import train_from_scratch_run
from codesign.train.supernet import train_supernet
from pimsim.util.cli import positive_int
from pimsim.util.fileio import atomic_write_json, check_writable

#: Last steps whose mean training loss ``train-supernet`` prints.
LOSS_TAIL_STEPS = 50
#: Probe reports of a ``train-supernet`` run when --probe-every is not given.
PROBE_REPORTS = 10


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
    sp.add_argument("--overwrite", action="store_true",
                    help="start again even if OUT holds a checkpoint (it is replaced)")
    sp.add_argument("--sampling", choices=typing.get_args(TrainConfig.model_fields["sampling"].annotation),
                    default=default("sampling"),
                    help="single: one sampled subnet per step (NASRec); sandwich: the largest, "
                    "the smallest and --sandwich-random sampled subnets per step (BigNAS); fair: one "
                    "subnet per dense operator, every block's operators permuted over them, "
                    "each on an equal share of the batch (FairNAS) (default: %(default)s)")
    sp.add_argument("--sandwich-random", type=int, default=default("sandwich_random"),
                    help="sampled subnets of a sandwich step (default: %(default)s)")
    sp.add_argument("--distill", action=argparse.BooleanOptionalAction, default=default("distill"),
                    help="sandwich only: the other subnets learn the largest's predictions "
                    "(default: %(default)s)")
    sp.add_argument("--shrink-fraction", type=float, default=default("shrink_fraction"),
                    help="progressive shrinking: fraction of the steps over which the narrowest "
                    "allowed width falls to the space's smallest (default: %(default)s)")
    sp.add_argument("--precision-sampling", type=float, default=default("precision_sampling"),
                    help="fraction of sampled subnet passes that run under a random precision "
                    "(each table fp32/fp16/int8/int4, each operator fp32/fp16/bf16/int8, "
                    "straight-through gradients) (default: %(default)s)")
    sp.add_argument("--checkpoint-storage",
                    choices=typing.get_args(TrainConfig.model_fields["checkpoint_storage"].annotation),
                    default=default("checkpoint_storage"),
                    help="matrices of the finished checkpoint: int8 row-wise (1 byte per "
                    "parameter, error at most half of max |row| / 127) or float16 (2 bytes, error at "
                    "most 2^-11 of each weight) (default: %(default)s)")
    sp.add_argument("--probe-every", type=positive_int, default=None,
                    help="steps between probe reports (train / val log loss of the whole "
                    "supernet and of fixed probe subnets against the base rate; default: "
                    "ten reports per run, and always one at the end)")
    sp.add_argument("--probe-rows", type=int, default=default("probe_rows"),
                    help="rows of train and of val each probe is evaluated on; 0: no probes "
                    "(default: %(default)s)")
    sp.add_argument("--checkpoint-every", type=positive_int, default=default("checkpoint_every_steps"),
                    help="steps between checkpoints (default: %(default)s)")
    sp.add_argument("--supernet-warmup", type=float, default=default("supernet_warmup_fraction"),
                    help="fraction of steps in which the whole supernet is trained with a "
                    "probability falling 1 -> 0 (default: %(default)s)")

    tr = command(subparsers, "train", cmd_train)
    tr.add_argument("--spec", type=Path, required=True, help="spec JSON (ours or NASRec's)")
    _add_common(tr)
    add_precision(tr)
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
    --optimizer hybrid), cosine schedule with warm-up, whole-supernet warm-up, then sampled
    subnets. Prints the loss beside the base-rate log loss, and probe reports (train / val
    log loss of the whole supernet and fixed probe subnets). Writes OUT/supernet.pt every
    --checkpoint-every steps (float32 with optimizer state, about 11 bytes per parameter)
    and at the end (int8 weights alone, about 1 byte per parameter); --resume continues an
    interrupted run; a folder holding a checkpoint is refused without --resume or
    --overwrite.
    """
    if args.quiet and args.probe_every is not None:
        raise TrainError("--probe-every with --quiet: accepted: one of them (--quiet prints "
                         "the final probe report only)")
    if args.resume and args.overwrite:
        raise TrainError("--resume and --overwrite: accepted: one of them (continue the run, "
                         "or start again)")
    check_writable(args.out, TrainError, "--out", folder=True)
    data = CtrData.open(args.data)
    total = steps_per_epoch(data, TrainConfig.make(batch_size=args.batch_size,
                                                   train_rows=args.train_rows)) * args.epochs
    cfg = _config(
        args,
        checkpoint_dir=args.out,
        checkpoint_every_steps=args.checkpoint_every,
        supernet_warmup_fraction=args.supernet_warmup,
        # --quiet prints the last probe report alone: no intermediate ones to evaluate
        probe_every_steps=(None if args.quiet
                           else args.probe_every or max(1, total // PROBE_REPORTS)),
        probe_rows=args.probe_rows,
        sampling=args.sampling,
        sandwich_random=args.sandwich_random,
        distill=args.distill,
        shrink_fraction=args.shrink_fraction,
        precision_sampling=args.precision_sampling,
        checkpoint_storage=args.checkpoint_storage,
    )
    base = base_rate_logloss(data, "train")
    if not args.quiet:
        warm = int(round(total * args.supernet_warmup))
        print(f"supernet[{args.space}]: {total} steps; base-rate log loss {base:.5f} (train), "
              f"{base_rate_logloss(data, 'val'):.5f} (val): a model that learns goes below it")
        if warm:
            print(f"steps 1-{warm} are the whole-supernet warm-up: its early steps train the whole "
                  "supernet (several times slower than a subnet step), so the first ETA is too "
                  "long and falls once the warm-up ends")
    run = train_supernet(data, cfg, space=args.space, resume=args.resume, overwrite=args.overwrite,
                         on_probe=None if args.quiet else _print_probe)
    print(
        f"supernet[{args.space}]: steps {run.steps_done}/{run.total_steps} "
        f"(resumed from {run.resumed_from_step}), {run.samples_per_s:,.0f} samples/s, "
        f"{run.wall_s:.1f} s; checkpoint {run.checkpoint_path}"
    )
    if run.losses:
        tail = run.losses[-min(LOSS_TAIL_STEPS, len(run.losses)) :]
        print(f"train loss (last {len(tail)} steps): {sum(tail) / len(tail):.5f}; "
              f"base-rate log loss {base:.5f}")
    if args.quiet and run.probes:
        _print_probe(run.probes[-1])
    return 0


def _print_probe(report: ProbeReport) -> None:
    tqdm.write("\n".join(report.lines()))


def cmd_train(args: argparse.Namespace) -> int:
    """Train one subnet from scratch; print val/test log loss and AUC.

    Train subnet SPEC alone from fresh weights and evaluate it; with --precision (or
    --table-dtype / --dense-dtype) quantisation-aware, evaluated under that precision.
    """
    if args.out is not None:
        check_writable(args.out, TrainError, "--out", folder=True)
    spec = load_spec(args.spec)
    data = CtrData.open(args.data)
    precision = precision_of(args, spec, data.schema)
    run = train_from_scratch_run(spec, data, _config(args), precision=precision)
    base = base_rate_logloss(data, "val")
    print(f"subnet {spec_hash(spec)[:12]} trained from scratch: {run.steps} steps, {run.samples_per_s:,.0f} samples/s")
    print(describe(precision))
    print(f"val : {run.val}")
    print(f"test: {run.test}")
    print(f"base-rate val log loss: {base:.5f}")
    if args.out is not None:
        save_torch(run.model.state_dict(), args.out / "model.pt")
        atomic_write_json(
            args.out / "metrics.json",
            {
                "spec_hash": spec_hash(spec),
                "precision": (precision or Precision()).to_dict(),
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
