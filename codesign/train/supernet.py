"""Weight-sharing supernet training (NASRec, Zhang et al., WWW 2023, Sec. 4): build and
initialise the supernet, :func:`train_supernet` (what a step trains is
:mod:`codesign.train.sampling`'s), checkpoints and resume, the probe reports, and loading
a trained supernet.

The sampler is a numpy Generator from ``default_rng([seed, 2])`` whose state is checkpointed;
weights come from ``Supernet(seed=...)``'s private ``torch.Generator``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from codesign.data.cache import CtrData
from codesign.nas.space import get_space
from codesign.nas.supernet import Supernet
from codesign.train.checkpoint import (
    CHECKPOINT_NAME,
    check_resume,
    check_schema,
    checkpoint_record,
    config_dict,
    is_finished,
    load_checkpoint,
    refuse_existing,
    save_torch,
)
from codesign.train.config import TrainConfig, TrainError
from codesign.train.loop import steps_per_epoch, train_steps
from codesign.train.metrics import base_rate_logloss
from codesign.train.optim import make_optimizers
from codesign.train.probe import ProbeReport, run_probes
from codesign.train.sampling import SupernetStep

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
    #: The probe reports of this call (at ``probe_every_steps`` and at the end).
    probes: list[ProbeReport]


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


def train_supernet(
    data: CtrData,
    config: TrainConfig,
    *,
    space: str = "full",
    resume: bool = False,
    overwrite: bool = False,
    supernet: nn.Module | None = None,
    on_probe: Callable[[ProbeReport], None] | None = None,
) -> SupernetRun:
    """Train a weight-sharing supernet on ``data``'s train split.

    With ``resume=True`` and a checkpoint in ``config.checkpoint_dir``, training continues
    from it (the config must match the checkpoint's apart from
    :data:`~codesign.train.checkpoint.RESUME_FREE`); the result equals an uninterrupted
    run's, and a finished checkpoint is loaded as it is. Without ``resume`` a folder holding
    a checkpoint is refused unless ``overwrite``. The probe set is evaluated every
    ``config.probe_every_steps`` steps and at the end; ``on_probe`` receives each report.
    """
    get_space(space)
    if config.num_threads is not None:
        torch.set_num_threads(config.num_threads)
    total_steps = steps_per_epoch(data, config) * config.epochs
    ckpt_path = config.checkpoint_dir / CHECKPOINT_NAME if config.checkpoint_dir is not None else None
    refuse_existing(ckpt_path, resume, overwrite)
    if resume and ckpt_path is None:
        raise TrainError("resume: no checkpoint_dir given; accepted: resume with the checkpoint folder of the run")

    if supernet is not None:
        net = supernet
    else:
        net = build_supernet(data.schema, space, config.emb_dim, config.seed)
        init_output_bias(net, data)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = make_optimizers(net, config, total_steps)
    sample_rng = np.random.default_rng([config.seed, 2])
    step = 0
    if resume and ckpt_path is not None and ckpt_path.is_file():
        ckpt = load_checkpoint(ckpt_path)
        check_resume(ckpt, config, space, data)
        net.load_state_dict(ckpt["model"])
        step = int(ckpt["step"])
        if not is_finished(ckpt):
            opt.load_state_dict(ckpt["optimizer"])
            sample_rng.bit_generator.state = ckpt["sample_rng"]
            torch.set_rng_state(ckpt["torch_rng"])
    resumed_from = step
    stop_at = total_steps if config.stop_after_steps is None else min(total_steps, config.stop_after_steps)
    probes: list[ProbeReport] = []

    def probe(at_step: int) -> None:
        if config.probe_rows == 0:
            return
        report = run_probes(net, data, space, config.seed, config.center_logits, at_step, total_steps,
                            config.probe_rows)
        probes.append(report)
        if on_probe is not None:
            on_probe(report)

    def save(at_step: int) -> None:
        if ckpt_path is None:
            return
        finished = at_step >= total_steps
        save_torch(checkpoint_record(
            net.state_dict(), finished=finished, storage=config.checkpoint_storage,
            resume_state={"optimizer": opt.state_dict(), "sample_rng": sample_rng.bit_generator.state,
                          "torch_rng": torch.get_rng_state()},
            step=at_step, total_steps=total_steps, space=space, schema=data.schema.to_dict(),
            config=config_dict(config),
        ), ckpt_path)

    def after_step(at_step: int) -> None:
        if at_step % config.checkpoint_every_steps == 0 or at_step == stop_at:
            save(at_step)
        every = config.probe_every_steps
        if every is not None and at_step % every == 0 and at_step != stop_at:
            probe(at_step)

    loss_of = SupernetStep(net, space, sample_rng, config, total_steps,
                           tuple(data.schema.sparse_names))
    net.train()
    done = train_steps(loss_of, params, opt, data, config, start_step=step, stop_at=stop_at,
                       bar_total=total_steps, desc=f"supernet[{space}]", after_step=after_step,
                       base_logloss=base_rate_logloss(data, "train"))
    if done.step == resumed_from and resumed_from < total_steps:
        save(done.step)
    probe(done.step)
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
        probes=probes,
    )


def load_supernet(path: str | os.PathLike[str], schema: Any) -> tuple[nn.Module, dict[str, Any]]:
    """The supernet stored in a checkpoint, for data of ``schema`` (must match)."""
    ckpt = load_checkpoint(path)
    check_schema(ckpt, schema)
    cfg = ckpt["config"]
    net = build_supernet(schema, ckpt["space"], int(cfg["emb_dim"]), int(cfg["seed"]))
    net.load_state_dict(ckpt["model"])
    return net, ckpt
