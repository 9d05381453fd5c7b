"""Training a subnet alone from freshly initialised weights (the from-scratch reference a
supernet's estimates are compared with), and training any standalone model.

With a precision (:class:`codesign.quant.Precision`) the subnet trains under it
(quantisation-aware training): every step computes the forward pass as the precision
does (:func:`codesign.quant.apply_precision`; straight-through gradients), the activation
ranges follow their running averages, and the evaluation runs the same quantised model
with the ranges training ended with."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from codesign.data.cache import CtrData
from codesign.nas.space import SubnetSpec, spec_hash
from codesign.quant import Precision, apply_precision
from codesign.train.config import TrainConfig
from codesign.train.loop import steps_per_epoch, train_steps
from codesign.train.metrics import EvalResult, evaluate
from codesign.train.optim import make_optimizers
from codesign.train.supernet import build_supernet, init_output_bias


@dataclass
class ScratchRun:
    """The outcome of :func:`train_from_scratch_run`: the model, its val and test scores."""

    model: nn.Module
    val: EvalResult
    test: EvalResult
    steps: int
    wall_s: float
    samples_per_s: float
    losses: list[float] = field(default_factory=list)


def train_model(
    model: nn.Module,
    data: CtrData,
    config: TrainConfig,
    *,
    desc: str = "train",
) -> tuple[list[float], int, float]:
    """Train a standalone model (``forward(dense, sparse)``) with the config's optimizer and
    schedule; return (losses, samples, wall seconds)."""
    if config.num_threads is not None:
        torch.set_num_threads(config.num_threads)
    total = steps_per_epoch(data, config) * config.epochs
    stop_at = total if config.stop_after_steps is None else min(total, config.stop_after_steps)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = make_optimizers(model, config, total)

    def loss_of(dense: Tensor, sparse: Tensor, label: Tensor, _step: int) -> Tensor:
        return F.binary_cross_entropy_with_logits(model(dense, sparse), label)

    model.train()
    done = train_steps(loss_of, params, opt, data, config, start_step=0, stop_at=stop_at,
                       bar_total=stop_at, desc=desc)
    model.eval()
    return done.losses, done.samples, done.wall_s


def train_from_scratch_run(
    spec: SubnetSpec,
    data: CtrData,
    config: TrainConfig,
    *,
    eval_limit: int | None = None,
    precision: Precision | None = None,
) -> ScratchRun:
    """Train subnet ``spec`` alone from freshly initialised weights (the supernet's own
    initialisation for ``config.seed``, output bias at the base rate), evaluate on val and
    test (at most ``eval_limit`` rows each); with ``precision``, quantisation-aware (module
    docstring), and the model returned computes under it."""
    net = build_supernet(data.schema, spec.space, config.emb_dim, config.seed)
    init_output_bias(net, data)
    model = apply_precision(net.extract(spec), precision, data.schema.sparse_names)
    del net
    losses, samples, wall = train_model(model, data, config, desc=f"scratch {spec_hash(spec)[:8]}")
    return ScratchRun(
        model=model,
        val=evaluate(model, data, "val", limit=eval_limit),
        test=evaluate(model, data, "test", limit=eval_limit),
        steps=len(losses),
        wall_s=wall,
        samples_per_s=samples / wall if wall > 0 else float("nan"),
        losses=losses,
    )


def train_from_scratch(
    spec: SubnetSpec,
    data: CtrData,
    config: TrainConfig,
    *,
    eval_limit: int | None = None,
    precision: Precision | None = None,
) -> tuple[nn.Module, EvalResult, EvalResult]:
    """:func:`train_from_scratch_run` as (model, val, test)."""
    run = train_from_scratch_run(spec, data, config, eval_limit=eval_limit, precision=precision)
    return run.model, run.val, run.test
