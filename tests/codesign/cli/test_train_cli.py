"""``codesign train-supernet``, ``eval`` and ``train``: outputs, files and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from codesign.cli.main import main as codesign_main
from codesign.data.synthetic import make_synthetic_cache
from codesign.nas.nasrec_json import save_spec
from codesign.train.config import TrainConfig
from tests.codesign.train.subnets import small_spec


def test_cli_train_supernet_eval_and_train(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny steps: OpenMP threads waiting for each other only slow them
    try:
        data = make_synthetic_cache("criteo", 2_000, tmp_path / "criteo", seed=3, cap=512)
        ck = tmp_path / "ck"
        common = ["--data", str(data.path), "--batch-size", "32", "--train-rows", "64", "--quiet"]
        assert codesign_main(["train-supernet", *common, "--out", str(ck), "--space", "small", "--supernet-warmup", "0"]) == 0
        assert "steps 2/2" in capsys.readouterr().out  # 64 rows / batch 32
        spec_path = tmp_path / "spec.json"
        save_spec(small_spec(1, space="small"), spec_path)
        assert codesign_main(["eval", "--spec", str(spec_path), "--supernet", str(ck), "--data", str(data.path), "--finetune-steps", "2"]) == 0
        assert "after 2 head fine-tuning steps: logloss" in capsys.readouterr().out
        assert codesign_main(["train", "--spec", str(spec_path), *common, "--out", str(tmp_path / "m")]) == 0
        out = capsys.readouterr().out
        assert "val : logloss" in out and "test: logloss" in out
        assert (tmp_path / "m" / "metrics.json").is_file() and (tmp_path / "m" / "model.pt").is_file()
        assert [p.name for p in sorted((tmp_path / "m").iterdir())] == ["metrics.json", "model.pt"]
        # bad input: exit status 2 and a one-line message, no traceback
        assert codesign_main(["eval", "--spec", str(spec_path), "--supernet", str(tmp_path / "none"), "--data", str(data.path)]) == 2
        err = capsys.readouterr().err
        assert "no such checkpoint" in err and "Traceback" not in err
        assert codesign_main(["train-supernet", "--data", str(tmp_path / "nodata"), "--out", str(ck)]) == 2
        # a full-space spec against a small-space supernet is refused
        save_spec(small_spec(1), spec_path)
        assert codesign_main(["eval", "--spec", str(spec_path), "--supernet", str(ck), "--data", str(data.path)]) == 2
        assert "space" in capsys.readouterr().err
    finally:
        torch.set_num_threads(old_threads)


def test_train_help_shows_the_config_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        codesign_main(["train-supernet", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    cfg = TrainConfig()
    assert f"(default: {cfg.lr})" in text and f"(default: {cfg.dense_lr})" in text
    assert f"steps between checkpoints (default: {cfg.checkpoint_every_steps})" in text
    assert "{hybrid,adagrad}" in text
