"""Optimizers of training: hybrid Adagrad (tables) / Adam (dense) or NASRec's single Adagrad,
the linear warm-up + cosine schedule, its peak rate, and gradient-norm clipping."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from codesign.train.config import TrainConfig, TrainError

#: Added to the gradient norm before dividing by it when clipping sparse gradients (torch's
#: clip_grad_norm_ uses the same 1e-6), so a zero norm never divides.
_CLIP_EPS = 1e-6


def lr_factor(total_steps: int, warmup_fraction: float, min_fraction: float) -> Callable[[int], float]:
    """The schedule as a factor of the peak rate: linear warm-up over ``warmup_fraction`` of
    ``total_steps``, then a cosine down to ``min_fraction``."""
    warm = int(round(total_steps * warmup_fraction))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        span = max(1, total_steps - warm)
        progress = min(1.0, (step - warm) / span)
        return min_fraction + (1 - min_fraction) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def peak_lr(config: TrainConfig, total_steps: int) -> float:
    """The peak Adagrad rate of a run of ``total_steps`` steps: ``lr`` with ``hybrid`` (the
    tables), the horizon-scaled rate with ``adagrad`` (see ``lr_reference_steps``)."""
    if config.optimizer == "hybrid" or config.lr_reference_steps is None:
        return config.lr
    return config.lr * min(1.0, math.sqrt(max(1, total_steps) / config.lr_reference_steps))


def embedding_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The weights of every ``nn.Embedding`` in ``model`` (the sparse tables)."""
    return [m.weight for m in model.modules() if isinstance(m, nn.Embedding) and m.weight.requires_grad]


class Optimizers:
    """One or two torch optimizers, each with its warm-up + cosine schedule, stepped together.

    ``step()`` steps every optimizer, then every schedule; ``state_dict()`` holds both for
    checkpoints. ``groups`` names them (``embedding`` / ``dense`` or ``all``)."""

    def __init__(self, parts: list[tuple[str, torch.optim.Optimizer]], total_steps: int,
                 config: TrainConfig) -> None:
        factor = lr_factor(total_steps, config.lr_warmup_fraction, config.lr_min_fraction)
        self.groups = [name for name, _ in parts]
        self.optimizers = [opt for _, opt in parts]
        self.schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, factor) for opt in self.optimizers]

    def zero_grad(self) -> None:
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)

    def step(self) -> None:
        for opt in self.optimizers:
            opt.step()
        for sched in self.schedulers:
            sched.step()

    def state_dict(self) -> dict[str, Any]:
        return {
            "groups": list(self.groups),
            "optimizers": [o.state_dict() for o in self.optimizers],
            "schedulers": [s.state_dict() for s in self.schedulers],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("groups") != self.groups:
            raise TrainError(
                f"checkpoint optimizer groups {state.get('groups')!r}; this run has "
                f"{self.groups!r}; accepted: a checkpoint of the same optimizer setting"
            )
        for o, st in zip(self.optimizers, state["optimizers"]):
            o.load_state_dict(st)
        for s, st in zip(self.schedulers, state["schedulers"]):
            s.load_state_dict(st)


def _fusable(params: list[nn.Parameter]) -> bool:
    # The fused CPU kernels are several times faster than the per-parameter loop on the
    # supernet's large sliced weights; both are deterministic. Sparse gradients need the loop.
    return all(p.device.type == "cpu" and p.dtype == torch.float32 for p in params)


def _adagrad(params: list[nn.Parameter], lr: float, config: TrainConfig, fused: bool) -> torch.optim.Adagrad:
    return torch.optim.Adagrad(
        params, lr=lr, eps=config.eps, initial_accumulator_value=config.initial_accumulator,
        fused=(fused and _fusable(params)) or None,
    )


def make_optimizers(model: nn.Module, config: TrainConfig, total_steps: int) -> Optimizers:
    """The optimizers of ``config.optimizer`` over ``model``'s trainable parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adagrad":
        return Optimizers([("all", _adagrad(params, peak_lr(config, total_steps), config, True))],
                          total_steps, config)
    emb_ids = {id(p) for p in embedding_parameters(model)}
    emb = [p for p in params if id(p) in emb_ids]
    dense = [p for p in params if id(p) not in emb_ids]
    parts: list[tuple[str, torch.optim.Optimizer]] = []
    if emb:
        sparse = any(isinstance(m, nn.Embedding) and m.sparse for m in model.modules())
        parts.append(("embedding", _adagrad(emb, config.lr, config, fused=not sparse)))
    if dense:
        parts.append(("dense", torch.optim.Adam(dense, lr=config.dense_lr, fused=_fusable(dense) or None)))
    return Optimizers(parts, total_steps, config)


def clip_grad_norm(params: Sequence[nn.Parameter], max_norm: float) -> float:
    """Clip the total 2-norm of the gradients (dense or sparse) to ``max_norm``; return the norm."""
    with_grad = [p for p in params if p.grad is not None]
    if not with_grad:
        return 0.0
    if not any(p.grad.is_sparse for p in with_grad):  # type: ignore[union-attr]
        return float(torch.nn.utils.clip_grad_norm_(with_grad, max_norm))
    sq = torch.zeros((), dtype=torch.float64)
    for p in with_grad:
        g = p.grad
        assert g is not None
        v = g.coalesce()._values() if g.is_sparse else g
        sq = sq + torch.linalg.vector_norm(v.detach()).double() ** 2
    total = float(sq.sqrt())
    if total > max_norm:
        scale = max_norm / (total + _CLIP_EPS)
        for p in with_grad:
            assert p.grad is not None
            p.grad.mul_(scale)
    return total
