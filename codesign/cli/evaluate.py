"""``codesign eval``: a subnet as a trained supernet estimates it (head refit, then the
split's log loss and AUC), with a line on stderr as each stage starts."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from codesign.cli.options import add_quiet, add_threads, command
from codesign.cli.precision import add_precision, describe, precision_of
from codesign.data.cache import CtrData
from codesign.nas.nasrec_json import load_spec
from codesign.nas.space import spec_hash
from codesign.train.config import TrainError
from codesign.train.finetune import FINETUNE_ROWS, FINETUNE_STEPS, finetune_head
from codesign.train.metrics import evaluate
from codesign.train.supernet import load_supernet
from pimsim.util.cli import non_negative_int


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ev = command(subparsers, "eval", cmd_eval)
    ev.add_argument("--spec", type=Path, required=True)
    ev.add_argument("--supernet", type=Path, required=True, help="checkpoint file or folder")
    ev.add_argument("--data", type=Path, required=True)
    ev.add_argument("--finetune-steps", type=non_negative_int, default=FINETUNE_STEPS,
                    help="L-BFGS iterations of the head fit (default: %(default)s)")
    ev.add_argument("--split", choices=("val", "test"), default="val")
    ev.add_argument("--seed", type=non_negative_int, default=0)
    add_precision(ev)
    add_threads(ev)
    add_quiet(ev, "no progress lines")


def _stages(quiet: bool) -> Callable[[str], None]:
    """A printer of stage lines on stderr, each with the seconds since the command started."""
    start = time.perf_counter()

    def say(text: str) -> None:
        if not quiet:
            print(f"eval [{time.perf_counter() - start:6.1f} s] {text}", file=sys.stderr,
                  flush=True)

    return say


def cmd_eval(args: argparse.Namespace) -> int:
    """Estimate a subnet with a trained supernet (head fine-tuning, then val).

    Extract SPEC from the supernet checkpoint, refit its final layer on training rows
    (--finetune-steps L-BFGS iterations) and report log loss and AUC. With --precision
    (or --table-dtype / --dense-dtype) the refit's feature pass and the evaluation compute
    under that precision. Each stage prints a line on stderr (--quiet: none).
    """
    say = _stages(args.quiet)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    spec = load_spec(args.spec)
    data = CtrData.open(args.data)
    precision = precision_of(args, spec, data.schema)
    say(f"loading the supernet checkpoint {args.supernet}")
    net, ckpt = load_supernet(args.supernet, data.schema)
    if spec.space != ckpt["space"]:
        raise TrainError(
            f"--spec {args.spec}: space {spec.space!r}; the supernet {ckpt['path']} was trained "
            f"on space {ckpt['space']!r}; accepted: a spec of that space"
        )
    n_split = int(data.indices(args.split).shape[0])
    say(f"{args.split} log loss with the supernet's own head ({n_split:,} rows)")
    before = evaluate(net, data, args.split, spec)
    n_train = min(FINETUNE_ROWS, int(data.indices("train").shape[0]))
    say(f"refitting the head: {args.finetune_steps} L-BFGS iterations on {n_train:,} "
        "training rows")
    model = finetune_head(net, spec, data, steps=args.finetune_steps, seed=args.seed,
                          precision=precision)
    say(f"{args.split} log loss with the refitted head ({n_split:,} rows)")
    after = evaluate(model, data, args.split)
    say("done")
    print(f"subnet {spec_hash(spec)[:12]} in supernet {ckpt['path']} (step {ckpt['step']}/{ckpt['total_steps']})")
    print(describe(precision))
    print(f"{args.split} without fine-tuning (fp32): {before}")
    print(f"{args.split} after {args.finetune_steps} head fine-tuning steps: {after}")
    return 0
