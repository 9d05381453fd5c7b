"""Supernet training: resume equals an uninterrupted run, resume checks, determinism, the
whole-supernet warm-up, and atomic checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from codesign.data.cache import CtrData
from codesign.train.checkpoint import CHECKPOINT_NAME, load_checkpoint
from codesign.train.config import TrainConfig, TrainError
from codesign.train.supernet import train_supernet
from tests.codesign.train.subnets import assert_same_state, state

#: Batch and rows for the supernet tests: a few small steps each.
SMALL = dict(batch_size=32, train_rows=128, quiet=True, supernet_warmup_fraction=0.0, probe_rows=0)


def test_resume_equals_uninterrupted(data: CtrData, tmp_path: Path) -> None:
    full = train_supernet(data, TrainConfig(**SMALL, seed=4), space="small")
    assert full.finished and full.steps_done == 4  # 128 rows / batch 32
    ckdir = tmp_path / "ck"
    part = train_supernet(
        data, TrainConfig(**SMALL, seed=4, checkpoint_dir=ckdir, checkpoint_every_steps=1, stop_after_steps=2),
        space="small",
    )
    assert part.steps_done == 2 and not part.finished
    assert load_checkpoint(ckdir)["step"] == 2
    resumed = train_supernet(data, TrainConfig(**SMALL, seed=4, checkpoint_dir=ckdir), space="small", resume=True)
    assert resumed.resumed_from_step == 2 and resumed.steps_done == 4 and resumed.finished
    assert part.losses + resumed.losses == pytest.approx(full.losses, abs=1e-6)
    assert_same_state(state(resumed.supernet), state(full.supernet))
    # the final checkpoint holds the finished run; nothing temporary is left behind
    assert load_checkpoint(ckdir)["step"] == 4
    assert [p.name for p in ckdir.iterdir()] == [CHECKPOINT_NAME]


def test_resume_rejects_changed_config(data: CtrData, tmp_path: Path) -> None:
    ckdir = tmp_path / "ck"
    train_supernet(data, TrainConfig(**SMALL, seed=4, checkpoint_dir=ckdir, stop_after_steps=1), space="small")
    with pytest.raises(TrainError, match="config.lr"):
        train_supernet(data, TrainConfig(**SMALL, seed=4, lr=0.5, checkpoint_dir=ckdir), space="small", resume=True)
    with pytest.raises(TrainError, match="space 'small'"):
        train_supernet(data, TrainConfig(**SMALL, seed=4, checkpoint_dir=ckdir), space="full", resume=True)
    with pytest.raises(TrainError, match="no checkpoint_dir"):
        train_supernet(data, TrainConfig(**SMALL, seed=4), space="small", resume=True)


def test_deterministic_with_seed(data: CtrData) -> None:
    cfg = dict(SMALL, batch_size=16, train_rows=48, supernet_warmup_fraction=0.5)
    a = train_supernet(data, TrainConfig(**cfg, seed=7), space="small")
    b = train_supernet(data, TrainConfig(**cfg, seed=7), space="small")
    assert a.steps_done == 3
    assert a.whole_supernet_steps >= 1  # the warm-up trained the whole supernet (step 0: p = 1)
    assert a.losses == b.losses
    assert_same_state(state(a.supernet), state(b.supernet), atol=0)
    c = train_supernet(data, TrainConfig(**cfg, seed=8, stop_after_steps=1), space="small")
    assert c.losses[0] != a.losses[0]


def test_a_corrupt_or_foreign_checkpoint_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / CHECKPOINT_NAME
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(TrainError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path)
    torch.save({"format": "other/1"}, bad)
    with pytest.raises(TrainError, match="format 'other/1'"):
        load_checkpoint(bad)
