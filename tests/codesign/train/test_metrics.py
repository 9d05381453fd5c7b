"""Log loss, AUC and the base rate against scikit-learn and hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import log_loss, roc_auc_score

from codesign.data.cache import CtrData
from codesign.train.config import TrainError
from codesign.train.metrics import base_rate_logloss, evaluate, metrics


def test_metrics_match_sklearn_and_a_hand_count() -> None:
    y = np.array([0, 1, 1, 0, 1, 0, 0, 1], dtype=np.float32)
    p = np.array([0.1, 0.8, 0.6, 0.4, 0.3, 0.2, 0.7, 0.9])
    r = metrics(y, p)
    assert r.n == 8
    assert r.logloss == pytest.approx(log_loss(y, p), abs=1e-12)
    assert r.auc == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    # AUC by hand: 13 of the 16 (positive, negative) pairs are ordered correctly
    assert r.auc == pytest.approx(13 / 16)
    assert r.logloss == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), abs=1e-12)
    assert math.isnan(metrics(np.ones(3), np.full(3, 0.5)).auc)


class ConstantLogit(torch.nn.Module):
    """A stand-in model whose logit is the first dense feature minus 1."""

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        return dense[:, 0] - 1.0


def test_evaluate_matches_sklearn_on_data(data: CtrData) -> None:
    r = evaluate(ConstantLogit(), data, "val", batch_size=1000)
    idx = data.indices("val")
    y = np.asarray(data.label[idx], dtype=np.float64)
    p = 1 / (1 + np.exp(-(np.asarray(data.dense[idx, 0], dtype=np.float64) - 1.0)))
    assert r.n == idx.shape[0]
    assert r.logloss == pytest.approx(log_loss(y, p), rel=1e-9)
    assert r.auc == pytest.approx(roc_auc_score(y, p), rel=1e-9)
    assert evaluate(ConstantLogit(), data, "val", limit=100).n == 100
    with pytest.raises(TrainError, match="spec given for a standalone model"):
        evaluate(ConstantLogit(), data, "val", spec=object())  # type: ignore[arg-type]


def test_base_rate_and_its_log_loss_match_sklearn(data: CtrData) -> None:
    y_train = np.asarray(data.label[data.indices("train")], dtype=np.float64)
    assert data.base_rate("train") == pytest.approx(y_train.sum() / y_train.shape[0], rel=1e-12)
    y_val = np.asarray(data.label[data.indices("val")], dtype=np.float64)
    expected = log_loss(y_val, np.full(y_val.shape[0], y_train.mean()), labels=[0.0, 1.0])
    assert base_rate_logloss(data, "val") == pytest.approx(expected, rel=1e-12)
