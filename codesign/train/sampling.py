"""What one supernet training step trains, and its loss.

:class:`SupernetStep` draws, each step, one uniform number (the whole-supernet warm-up:
the WHOLE supernet, ``spec=None``, with a probability falling linearly from 1 to 0 over the
first ``supernet_warmup_fraction`` of the steps) and ``n`` subnets by single-operator
any-connection sampling (:func:`codesign.nas.moves.sample`; ``n`` = 1, or
``sandwich_random`` under the sandwich rule), always in this order, so the sampler's stream
never depends on an outcome. Progressive shrinking raises the sampled widths to a floor
that falls over ``shrink_fraction`` of the steps.

With ``precision_sampling`` > 0, each sampled subnet's pass computes, with that
probability, under a random precision (:func:`codesign.quant.sampled.random_precision`),
drawn from ``default_rng([seed, 6, step])`` (a stream of its own, so the subnets a step
samples do not depend on it, and a resumed run draws the same).

The loss of a step is the mean of the centred losses (:func:`supernet_loss`) of the subnets
it trains: one backward pass then adds up their gradients into one optimizer step. Under the
sandwich rule those are the largest subnet, the smallest and the sampled ones; with in-place
distillation every subnet but the largest learns the largest's probabilities, detached.
Under strict fairness (``sampling="fair"``) a step trains a group of subnets in which every
block's every operator appears (:func:`codesign.nas.moves.fair_sample`), each on its own
part of the batch (:func:`split_rows`), so every operator is updated every step from the
rows of one single-path step.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from codesign.nas.moves import fair_sample, largest, sample, smallest, with_floor
from codesign.nas.space import SubnetSpec, get_space
from codesign.quant import Precision
from codesign.quant.apply import default_sparse_names
from codesign.quant.sampled import random_precision, supernet_forward
from codesign.train.config import TrainConfig


def supernet_loss(logits: Tensor, label: Tensor, bias: Tensor, center: bool) -> Tensor:
    """Binary cross-entropy of a supernet training step; with ``center`` (see
    ``TrainConfig.center_logits``) on ``logits - mean(logits) + bias``, so that a constant
    added to every logit of the batch changes neither the loss nor any gradient but the
    bias's. ``label`` may be soft (probabilities, for distillation)."""
    if center:
        logits = logits - logits.mean() + bias
    return F.binary_cross_entropy_with_logits(logits, label)


def centred(logits: Tensor, bias: Tensor, center: bool) -> Tensor:
    """The logits the loss reads (see :func:`supernet_loss`)."""
    return logits - logits.mean() + bias if center else logits


class SupernetStep:
    """The loss of one supernet step (``__call__(dense, sparse, label, step)``); counts the
    whole-supernet steps and remembers the specs each step trained (``last_specs``, None for
    the whole supernet)."""

    def __init__(self, net: nn.Module, space: str, rng: np.random.Generator, config: TrainConfig,
                 total_steps: int, sparse_names: tuple[str, ...] | None = None) -> None:
        self.net, self.space, self.rng, self.config = net, space, rng, config
        self.sparse_names = sparse_names or default_sparse_names(int(net.n_sparse))
        #: The precision each pass of the last step ran under (None: fp32).
        self.last_precisions: list[Precision | None] = []
        self.warm_steps = int(round(total_steps * config.supernet_warmup_fraction))
        self.shrink_steps = int(round(total_steps * config.shrink_fraction))
        sp = get_space(space)
        self.widths, self.tokens = sorted(sp.dense_widths), sorted(sp.token_counts)
        self.big, self.small = largest(space), smallest(space)
        self.whole = 0
        self.last_specs: list[SubnetSpec | None] = []

    def _floor(self, spec: SubnetSpec, step: int) -> SubnetSpec:
        if step >= self.shrink_steps:
            return spec
        left = 1.0 - step / self.shrink_steps  # 1 at the first step, towards 0 at the end
        w = self.widths[min(len(self.widths) - 1, int(left * len(self.widths)))]
        t = self.tokens[min(len(self.tokens) - 1, int(left * len(self.tokens)))]
        return with_floor(spec, w, t)

    def _draw(self, step: int) -> list[SubnetSpec | None]:
        p_whole = max(0.0, 1.0 - step / self.warm_steps) if self.warm_steps > 0 else 0.0
        u = float(self.rng.random())
        if self.config.sampling == "fair":
            group = fair_sample(self.space, self.rng)
            sampled: list[SubnetSpec | None] = [self._floor(s, step) for s in group]
        else:
            n = self.config.sandwich_random if self.config.sampling == "sandwich" else 1
            sampled = [self._floor(sample(self.space, self.rng), step) for _ in range(n)]
        if u < p_whole:
            self.whole += 1
            return [None]
        if self.config.sampling == "sandwich":
            return [self.big, self.small, *sampled]
        return sampled

    def _precisions(self, specs: list[SubnetSpec | None], step: int) -> list[Precision | None]:
        frac = self.config.precision_sampling
        if frac <= 0:
            return [None] * len(specs)
        rng = np.random.default_rng([self.config.seed, 6, step])
        out: list[Precision | None] = []
        for spec in specs:
            u = float(rng.random())
            p = None if spec is None else random_precision(rng, self.net.plan(spec), self.sparse_names)
            out.append(p if u < frac else None)
        return out

    def __call__(self, dense: Tensor, sparse: Tensor, label: Tensor, step: int) -> Tensor:
        specs = self._draw(step)
        self.last_specs = specs
        bias, center = self.net.final.bias, self.config.center_logits
        distill = self.config.sampling == "sandwich" and self.config.distill and specs[0] is not None
        total = label.new_zeros(())
        target = label
        precisions = self._precisions(specs, step)
        self.last_precisions = precisions
        split = self.config.sampling == "fair" and specs[0] is not None
        parts = split_rows(int(label.shape[0]), len(specs)) if split else [slice(None)] * len(specs)
        # a batch with fewer rows than the group has subnets (an epoch's last) trains the
        # group's first subnets, one row each
        specs, precisions = specs[: len(parts)], precisions[: len(parts)]
        self.last_specs, self.last_precisions = specs, precisions
        for k, (spec, prec, rows) in enumerate(zip(specs, precisions, parts)):
            d, s, y = dense[rows], sparse[rows], target[rows]
            if spec is not None and prec is not None:
                logits = supernet_forward(self.net, d, s, spec, prec, self.sparse_names)
            else:
                logits = self.net(d, s, spec)
            total = total + supernet_loss(logits, y, bias, center)
            if k == 0 and distill:
                target = torch.sigmoid(centred(logits, bias, center)).detach()
        return total / len(specs) if self.config.sampling in ("sandwich", "fair") else total


def split_rows(n_rows: int, n_parts: int) -> list[slice]:
    """``n_parts`` consecutive, near-equal, non-empty slices of a batch's ``n_rows`` rows
    (the first ``n_rows % n_parts`` one row longer; ``n_rows`` slices of one row when the
    batch has fewer rows than parts): under strict fairness each subnet of a step trains on
    its own part, so a step reads the rows a single-path step does."""
    n_parts = min(n_parts, n_rows)
    base, extra = divmod(n_rows, n_parts)
    out, start = [], 0
    for k in range(n_parts):
        stop = start + base + (k < extra)
        out.append(slice(start, stop))
        start = stop
    return out
