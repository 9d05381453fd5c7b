"""Evaluation: predicted click probabilities, log loss and ROC AUC, and the train split's
base rate (the one base rate: the output-bias initialisation and the base-rate log loss
both read it)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from codesign.data.cache import CtrData
from codesign.nas.space import SubnetSpec
from codesign.train.config import TrainError
from codesign.train.loop import to_tensors

#: Rows per forward pass when predicting (memory only: rows are independent at inference).
PREDICT_BATCH = 4096
#: Probabilities are clipped to [PROB_EPS, 1 - PROB_EPS] before the log loss, so a
#: saturated prediction costs -log(1e-12) = 27.6 instead of infinity.
PROB_EPS = 1e-12


@dataclass(frozen=True)
class EvalResult:
    """Log loss (natural log, mean over rows), ROC AUC and the number of rows evaluated."""

    logloss: float
    auc: float
    n: int

    def __str__(self) -> str:
        return f"logloss {self.logloss:.5f}  AUC {self.auc:.5f}  (n={self.n})"


def is_supernet(model: nn.Module) -> bool:
    """Whether ``model`` is a weight-sharing supernet (forward takes a spec) rather than a
    standalone subnet."""
    return hasattr(model, "extract") and hasattr(model, "final_layer_parameters")


def predict(
    model: nn.Module,
    data: CtrData,
    split: str,
    spec: SubnetSpec | None = None,
    *,
    batch_size: int = PREDICT_BATCH,
    limit: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, predicted click probabilities) of ``split``, rows in file order."""
    sup = is_supernet(model)
    if not sup and spec is not None:
        raise TrainError("evaluate: spec given for a standalone model; accepted: spec only with a Supernet")
    idx = data.indices(split)  # type: ignore[arg-type]
    if limit is not None:
        idx = idx[:limit]
    labels: list[np.ndarray] = []
    probs: list[np.ndarray] = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, idx.shape[0], batch_size):
                dense, sparse, label = to_tensors(data.take(idx[start : start + batch_size]))
                logits = model(dense, sparse, spec) if sup else model(dense, sparse)
                probs.append(torch.sigmoid(logits.double()).numpy())
                labels.append(label.numpy())
    finally:
        model.train(was_training)
    if not labels:
        raise TrainError(f"evaluate: split {split!r} has no rows; accepted: a non-empty split")
    return np.concatenate(labels), np.concatenate(probs)


def metrics(labels: np.ndarray, probs: np.ndarray) -> EvalResult:
    """Log loss and ROC AUC (scikit-learn); AUC is NaN when only one class is present."""
    # lazy: scikit-learn's metrics take about 0.7 s to import (python -X importtime); every
    # `codesign` command imports this module, few of them evaluate.
    from sklearn.metrics import log_loss, roc_auc_score

    y = np.asarray(labels, dtype=np.float64)
    p = np.clip(np.asarray(probs, dtype=np.float64), PROB_EPS, 1 - PROB_EPS)
    ll = float(log_loss(y, p, labels=[0.0, 1.0]))
    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < y.shape[0] else float("nan")
    return EvalResult(logloss=ll, auc=auc, n=int(y.shape[0]))


def evaluate(
    model_or_supernet: nn.Module,
    data: CtrData,
    split: str = "val",
    spec: SubnetSpec | None = None,
    *,
    batch_size: int = PREDICT_BATCH,
    limit: int | None = None,
) -> EvalResult:
    """Log loss and AUC of a standalone model, or of the supernet on ``spec`` (None: whole)."""
    labels, probs = predict(model_or_supernet, data, split, spec, batch_size=batch_size, limit=limit)
    return metrics(labels, probs)


def base_rate_logloss(data: CtrData, split: str = "val") -> float:
    """Log loss on ``split`` of always predicting the train split's base rate."""
    p = min(max(data.base_rate("train"), PROB_EPS), 1 - PROB_EPS)
    y = np.asarray(data.label[data.indices(split)], dtype=np.float64)  # type: ignore[arg-type]
    return float(-(y * math.log(p) + (1 - y) * math.log(1 - p)).mean())
