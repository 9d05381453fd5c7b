"""Checkpoints: a finished one holds the weights alone, int8 row-wise within half a step of
each row's scale, a quarter of float32's bytes; an interrupted one resumes; old formats and
an occupied folder are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from codesign.data.cache import CtrData
from codesign.train.checkpoint import CHECKPOINT_NAME, is_finished, load_checkpoint
from codesign.train.config import TrainConfig, TrainError
from codesign.train.storage import INT8_MAX, pack_state, unpack_state
from codesign.train.supernet import load_supernet, train_supernet
from tests.codesign.train.subnets import state

SMALL = dict(batch_size=32, train_rows=64, quiet=True, supernet_warmup_fraction=0.0, probe_rows=0)


def test_finished_checkpoint_round_trip(data: CtrData, tmp_path: Path) -> None:
    ck = tmp_path / "ck"
    run = train_supernet(data, TrainConfig(**SMALL, seed=2, checkpoint_dir=ck), space="small")
    assert run.finished
    trained = state(run.supernet)
    ckpt = load_checkpoint(ck)
    assert is_finished(ckpt) and "optimizer" not in ckpt and "sample_rng" not in ckpt
    net, meta = load_supernet(ck, data.schema)
    loaded = state(net)
    assert loaded.keys() == trained.keys() and meta["step"] == run.total_steps
    for name, w in trained.items():
        if w.dim() >= 2:  # int8 row-wise: error at most half a quantisation step of its row
            step = w.reshape(w.shape[0], -1).abs().amax(dim=1) / INT8_MAX
            err = (loaded[name] - w).reshape(w.shape[0], -1).abs().amax(dim=1)
            assert bool((err <= step / 2 + 1e-7).all()), name
        else:
            assert torch.equal(loaded[name], w), name
    # int8 values plus a float32 scale per row: about a quarter of the float32 weights
    f32_bytes = sum(w.numel() * 4 for w in trained.values())
    assert (ck / CHECKPOINT_NAME).stat().st_size < 0.3 * f32_bytes


def test_interrupted_checkpoint_keeps_what_resume_needs(data: CtrData, tmp_path: Path) -> None:
    ck = tmp_path / "ck"
    train_supernet(data, TrainConfig(**SMALL, seed=2, checkpoint_dir=ck, stop_after_steps=1), space="small")
    ckpt = load_checkpoint(ck)
    assert not is_finished(ckpt) and {"optimizer", "sample_rng", "torch_rng"} <= ckpt.keys()
    assert all(t.dtype == torch.float32 for t in ckpt["model"].values() if t.is_floating_point())


def test_an_occupied_folder_needs_resume_or_overwrite(data: CtrData, tmp_path: Path) -> None:
    ck = tmp_path / "ck"
    cfg = TrainConfig(**SMALL, seed=2, checkpoint_dir=ck, stop_after_steps=1)
    train_supernet(data, cfg, space="small")
    before = (ck / CHECKPOINT_NAME).read_bytes()
    with pytest.raises(TrainError, match=r"training supernet checkpoint at step 1/2.*--resume.*--overwrite"):
        train_supernet(data, cfg, space="small")
    assert (ck / CHECKPOINT_NAME).read_bytes() == before  # untouched by the refused run
    again = train_supernet(data, TrainConfig(**SMALL, seed=2, checkpoint_dir=ck), space="small", overwrite=True)
    assert again.resumed_from_step == 0 and again.finished and is_finished(load_checkpoint(ck))


def test_old_checkpoint_formats_are_refused(tmp_path: Path) -> None:
    old = tmp_path / CHECKPOINT_NAME
    torch.save({"format": "pimrec-supernet-ckpt/3", "model": {}}, old)
    with pytest.raises(TrainError, match=r"older pimrec.*accepted: pimrec-supernet-ckpt/4.*--overwrite"):
        load_checkpoint(tmp_path)


def test_float16_storage_round_trip() -> None:
    g = torch.Generator().manual_seed(0)
    state = {"w": torch.randn(8, 5, generator=g), "b": torch.randn(5, generator=g), "i": torch.arange(3)}
    back = unpack_state(pack_state(state, "float16"), "test")
    assert back["w"].dtype == torch.float32 and torch.equal(back["b"], state["b"]) and torch.equal(back["i"], state["i"])
    # float16 has 11 significant bits: relative rounding error at most 2^-11 (normal range)
    assert bool(((back["w"] - state["w"]).abs() <= state["w"].abs() * 2.0**-11).all())
    with pytest.raises(TrainError, match="accepted: float32, float16, int8-rowwise"):
        pack_state(state, "int4")
