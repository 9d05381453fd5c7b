"""TrainConfig: bad values are refused with the key, value and rule; defaults are NASRec's."""

from __future__ import annotations

import pytest

from codesign.errors import CodesignError
from codesign.train.config import TrainConfig, TrainError


def test_config_errors_name_every_bad_key() -> None:
    with pytest.raises(TrainError, match="batch_size = 0"):
        TrainConfig.make(batch_size=0)
    with pytest.raises(TrainError, match=r"lr = -1.*epochs = 0"):
        TrainConfig.make(lr=-1, epochs=0)
    with pytest.raises(TrainError, match="nonsense"):
        TrainConfig.make(nonsense=1)
    assert issubclass(TrainError, CodesignError)


def test_defaults_are_nasrec_s() -> None:
    cfg = TrainConfig()
    # facebookresearch/NasRec: Adagrad lr 0.12, eps 1e-2, batch 512, clip 5, warm-up steps // 10
    assert (cfg.lr, cfg.eps, cfg.batch_size, cfg.grad_clip, cfg.lr_warmup_fraction) == (0.12, 1e-2, 512, 5.0, 0.1)
    # the Adagrad horizon is one Criteo epoch: 36,672,495 training rows in batches of 512
    assert cfg.lr_reference_steps == round(36_672_495 / 512)
