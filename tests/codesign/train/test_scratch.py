"""Training a subnet from scratch learns: it beats the base-rate predictor."""

from __future__ import annotations

from codesign.data.cache import CtrData
from codesign.train.config import TrainConfig
from codesign.train.metrics import base_rate_logloss
from codesign.train.scratch import train_from_scratch
from tests.codesign.train.subnets import small_spec


def test_scratch_training_beats_base_rate(data: CtrData) -> None:
    base = base_rate_logloss(data, "val")
    assert 0.5 < base < 0.65  # Criteo-like click rate near 0.26
    cfg = TrainConfig(epochs=2, batch_size=128, train_rows=8192, lr=0.05, quiet=True, seed=1)
    model, val, test = train_from_scratch(small_spec(), data, cfg)
    assert val.n == len(data.indices("val")) and test.n == len(data.indices("test"))
    assert val.logloss < base - 0.008
    assert val.auc > 0.58 and test.auc > 0.58
