"""Weight-sharing supernet training (NASRec, Zhang et al., WWW 2023, Sec. 4): build and
initialise the supernet, the centred loss, :func:`train_supernet` with the whole-supernet
warm-up and single-path sampling, checkpoints and resume, and loading a trained supernet.

Each step either trains the WHOLE supernet (``spec=None``, with a probability falling
linearly from 1 to 0 over the first ``supernet_warmup_fraction`` of the steps) or one subnet
drawn by single-operator any-connection sampling (:func:`codesign.nas.moves.sample`). The
sampler is a numpy Generator from ``default_rng([seed, 2])`` whose state is checkpointed;
weights come from ``Supernet(seed=...)``'s private ``torch.Generator``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from codesign.data.cache import CtrData
from codesign.nas.moves import sample
from codesign.nas.space import get_space
from codesign.nas.supernet import Supernet
from codesign.train.checkpoint import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_NAME,
    check_resume,
    check_schema,
    config_dict,
    load_checkpoint,
    save_torch,
)
from codesign.train.config import TrainConfig, TrainError
from codesign.train.loop import steps_per_epoch, train_steps
from codesign.train.optim import make_optimizers

#: The base rate is clipped to [BASE_RATE_EPS, 1 - BASE_RATE_EPS] before its logit, so a
#: split without clicks (or with clicks only) still gives a finite bias.
BASE_RATE_EPS = 1e-6


@dataclass
class SupernetRun:
    """The outcome of :func:`train_supernet`."""

    supernet: nn.Module
    config: TrainConfig
    space: str
    steps_done: int
    total_steps: int
    #: Mean training loss of each step run in THIS call (not those before a resume).
    losses: list[float]
    #: Steps that trained the whole supernet (spec=None) in this call.
    whole_supernet_steps: int
    samples: int
    wall_s: float
    samples_per_s: float
    resumed_from_step: int
    checkpoint_path: Path | None
    finished: bool


def build_supernet(schema: Any, space: str, emb_dim: int, seed: int) -> nn.Module:
    """A freshly initialised Supernet; its weights depend only on ``seed``."""
    get_space(space)  # SpecError for an unknown space name
    return Supernet(schema, space=space, emb_dim=emb_dim, seed=seed)


def init_output_bias(net: nn.Module, data: CtrData) -> float:
    """Set the logit layer's bias of a freshly built supernet to the train split's base-rate
    logit (log p / (1 - p)) and return it: a model then starts at the base-rate log loss
    instead of spending its first few hundred Adam steps (1e-3 each) walking the bias from 0
    to about -1 (Criteo) or -3 (KDD)."""
    p = min(max(data.base_rate("train"), BASE_RATE_EPS), 1 - BASE_RATE_EPS)
    logit = math.log(p / (1 - p))
    with torch.no_grad():
        net.final.bias.fill_(logit)
    return logit


def supernet_loss(logits: Tensor, label: Tensor, bias: Tensor, center: bool) -> Tensor:
    """Binary cross-entropy of a supernet training step; with ``center`` (see
    ``TrainConfig.center_logits``) on ``logits - mean(logits) + bias``, so that a constant
    added to every logit of the batch changes neither the loss nor any gradient but the
    bias's."""
    if center:
        logits = logits - logits.mean() + bias
    return F.binary_cross_entropy_with_logits(logits, label)


class _SampledStep:
    """The loss of one supernet step: draw the whole supernet or a sampled subnet, forward,
    centred loss; counts the whole-supernet steps."""

    def __init__(self, net: nn.Module, space: str, rng: np.random.Generator, warm_steps: int,
                 center: bool) -> None:
        self.net, self.space, self.rng, self.warm_steps, self.center = net, space, rng, warm_steps, center
        self.whole = 0

    def __call__(self, dense: Tensor, sparse: Tensor, label: Tensor, step: int) -> Tensor:
        # One uniform draw and one sampled spec per step, always in this order, so the
        # generator's stream does not depend on the outcome.
        p_whole = max(0.0, 1.0 - step / self.warm_steps) if self.warm_steps > 0 else 0.0
        u = float(self.rng.random())
        spec = sample(self.space, self.rng)
        if u < p_whole:
            spec = None
            self.whole += 1
        logits = self.net(dense, sparse, spec)
        return supernet_loss(logits, label, self.net.final.bias, self.center)


def train_supernet(
    data: CtrData,
    config: TrainConfig,
    *,
    space: str = "full",
    resume: bool = False,
    supernet: nn.Module | None = None,
) -> SupernetRun:
    """Train a weight-sharing supernet on ``data``'s train split.

    With ``resume=True`` and a checkpoint in ``config.checkpoint_dir``, training continues
    from it (the config must match the checkpoint's apart from checkpointing / stopping /
    quiet / threads); the result equals an uninterrupted run's.
    """
    get_space(space)
    if config.num_threads is not None:
        torch.set_num_threads(config.num_threads)
    total_steps = steps_per_epoch(data, config) * config.epochs
    warm_steps = int(round(total_steps * config.supernet_warmup_fraction))

    if supernet is not None:
        net = supernet
    else:
        net = build_supernet(data.schema, space, config.emb_dim, config.seed)
        init_output_bias(net, data)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = make_optimizers(net, config, total_steps)
    sample_rng = np.random.default_rng([config.seed, 2])
    step = 0
    ckpt_path = config.checkpoint_dir / CHECKPOINT_NAME if config.checkpoint_dir is not None else None

    if resume:
        if ckpt_path is None:
            raise TrainError("resume: no checkpoint_dir given; accepted: resume with the checkpoint folder of the run")
        if ckpt_path.is_file():
            ckpt = load_checkpoint(ckpt_path)
            check_resume(ckpt, config, space, data)
            net.load_state_dict(ckpt["model"])
            opt.load_state_dict(ckpt["optimizer"])
            sample_rng.bit_generator.state = ckpt["sample_rng"]
            torch.set_rng_state(ckpt["torch_rng"])
            step = int(ckpt["step"])
    resumed_from = step
    stop_at = total_steps if config.stop_after_steps is None else min(total_steps, config.stop_after_steps)

    def save(at_step: int) -> None:
        if ckpt_path is None:
            return
        save_torch({
            "format": CHECKPOINT_FORMAT,
            "model": net.state_dict(),
            "optimizer": opt.state_dict(),
            "sample_rng": sample_rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "step": at_step,
            "total_steps": total_steps,
            "space": space,
            "schema": data.schema.to_dict(),
            "config": config_dict(config),
        }, ckpt_path)

    def after_step(at_step: int) -> None:
        if at_step % config.checkpoint_every_steps == 0 or at_step == stop_at:
            save(at_step)

    loss_of = _SampledStep(net, space, sample_rng, warm_steps, config.center_logits)
    net.train()
    done = train_steps(loss_of, params, opt, data, config, start_step=step, stop_at=stop_at,
                       bar_total=total_steps, desc=f"supernet[{space}]", after_step=after_step)
    if done.step == resumed_from:
        save(done.step)
    return SupernetRun(
        supernet=net,
        config=config,
        space=space,
        steps_done=done.step,
        total_steps=total_steps,
        losses=done.losses,
        whole_supernet_steps=loss_of.whole,
        samples=done.samples,
        wall_s=done.wall_s,
        samples_per_s=done.samples / done.wall_s if done.wall_s > 0 else float("nan"),
        resumed_from_step=resumed_from,
        checkpoint_path=ckpt_path,
        finished=done.step >= total_steps,
    )


def load_supernet(path: str | os.PathLike[str], schema: Any) -> tuple[nn.Module, dict[str, Any]]:
    """The supernet stored in a checkpoint, for data of ``schema`` (must match)."""
    ckpt = load_checkpoint(path)
    check_schema(ckpt, schema)
    cfg = ckpt["config"]
    net = build_supernet(schema, ckpt["space"], int(cfg["emb_dim"]), int(cfg["seed"]))
    net.load_state_dict(ckpt["model"])
    return net, ckpt
