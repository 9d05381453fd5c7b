"""The probe set: what shows that a supernet learns while it trains.

A fixed set of subnets (the whole supernet, the space's largest and smallest subnet and
``PROBE_RANDOM`` subnets sampled from ``default_rng([seed, 5])``) is evaluated on fixed rows
of the train split and of val, each against the log loss of always predicting the train
split's base rate on the same rows. A probe's log loss reads the logits as training does (centred on their
mean plus the head's bias, ``TrainConfig.center_logits``), so it is the loss training
lowers, on rows it may not have seen; a subnet's estimate refits its head and can only be
lower.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from codesign.data.cache import CtrData
from codesign.nas.moves import largest, sample, smallest
from codesign.nas.space import SubnetSpec
from codesign.train.loop import iter_batches, to_tensors
from codesign.train.metrics import PREDICT_BATCH, metrics
from codesign.train.sampling import centred

#: Sampled subnets of the probe set.
PROBE_RANDOM = 2


def probe_specs(space: str, seed: int) -> list[tuple[str, SubnetSpec | None]]:
    """(name, spec) of the probe set; None is the whole supernet."""
    rng = np.random.default_rng([seed, 5])
    out: list[tuple[str, SubnetSpec | None]] = [("whole", None), ("largest", largest(space)),
                                                 ("smallest", smallest(space))]
    out += [(f"random{i + 1}", sample(space, rng)) for i in range(PROBE_RANDOM)]
    return out


@dataclass(frozen=True)
class ProbeReport:
    """Log losses of the probe set at one step: per probe name, (train, val)."""

    step: int
    total_steps: int
    base_train: float
    base_val: float
    losses: dict[str, tuple[float, float]]

    def beats_base_rate(self) -> dict[str, bool]:
        """Per probe, whether its val log loss is below the base rate's."""
        return {name: val < self.base_val for name, (_, val) in self.losses.items()}

    def lines(self) -> list[str]:
        """The report as text lines (what ``train-supernet`` prints)."""
        out = [f"probe at step {self.step}/{self.total_steps}: log loss train / val "
               f"(base rate {self.base_train:.5f} / {self.base_val:.5f})"]
        for name, (tr, va) in self.losses.items():
            mark = "below" if va < self.base_val else "NOT below"
            out.append(f"  {name:9s} {tr:.5f} / {va:.5f}  ({mark} the base rate on val)")
        return out


def _base_logloss(data: CtrData, rows: np.ndarray) -> float:
    p = min(max(data.base_rate("train"), 1e-12), 1 - 1e-12)
    labels = np.asarray(data.label[rows], dtype=np.float64)
    return metrics(labels, np.full(labels.shape, p)).logloss


def _centred_logloss(net: nn.Module, data: CtrData, rows: np.ndarray, spec: SubnetSpec | None,
                     center: bool) -> float:
    logits, labels = [], []
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            for batch in iter_batches(data, rows, PREDICT_BATCH):
                dense, sparse, label = to_tensors(batch)
                logits.append(net(dense, sparse, spec))
                labels.append(label)
    finally:
        net.train(was_training)
    z = centred(torch.cat(logits), net.final.bias.detach(), center)
    return metrics(torch.cat(labels).numpy(), torch.sigmoid(z.double()).numpy()).logloss


def run_probes(net: nn.Module, data: CtrData, space: str, seed: int, center: bool, step: int,
               total_steps: int, rows: int) -> ProbeReport:
    """Evaluate the probe set of ``space`` and ``seed`` on the first ``rows`` rows (in file
    order) of the train split and of val."""
    tr, va = data.indices("train")[:rows], data.indices("val")[:rows]
    losses = {
        name: (_centred_logloss(net, data, tr, spec, center), _centred_logloss(net, data, va, spec, center))
        for name, spec in probe_specs(space, seed)
    }
    return ProbeReport(step=step, total_steps=total_steps, base_train=_base_logloss(data, tr),
                       base_val=_base_logloss(data, va), losses=losses)
