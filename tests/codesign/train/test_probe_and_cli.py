"""Visible learning and first contact: probe reports against the base rate at intervals and
at the end, and ``codesign train-supernet`` refusing an occupied folder without --resume or
--overwrite."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from codesign.cli.main import main as codesign_main
from codesign.data.cache import CtrData
from codesign.train.config import TrainConfig
from codesign.train.supernet import train_supernet


@pytest.mark.slow
def test_probe_reports_at_intervals_against_the_base_rate(data: CtrData) -> None:
    cfg = TrainConfig(batch_size=32, train_rows=96, quiet=True, supernet_warmup_fraction=0.0,
                      probe_every_steps=2, probe_rows=64, seed=1)
    seen = []
    run = train_supernet(data, cfg, space="small", on_probe=seen.append)
    assert [r.step for r in run.probes] == [2, 3] and seen == run.probes  # every 2 steps and the end
    # the base rate by hand: the train split's click rate, its log loss on the probe rows
    y_train = np.asarray(data.label[data.indices("train")], dtype=np.float64)
    p = y_train.mean()
    y = np.asarray(data.label[data.indices("val")[:64]], dtype=np.float64)
    expected = -float(np.mean(y * math.log(p) + (1 - y) * math.log(1 - p)))
    report = run.probes[-1]
    assert report.base_val == pytest.approx(expected, rel=1e-9)
    assert list(report.losses) == ["whole", "largest", "smallest", "random1", "random2"]
    assert all(0 < tr < 5 and 0 < va < 5 for tr, va in report.losses.values())
    assert f"base rate {report.base_train:.5f} / {report.base_val:.5f}" in report.lines()[0]


def test_cli_refuses_an_occupied_folder_without_resume_or_overwrite(
        data: CtrData, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ck = tmp_path / "ck"
    common = ["train-supernet", "--data", str(data.path), "--out", str(ck), "--space", "small",
              "--batch-size", "32", "--train-rows", "64", "--supernet-warmup", "0", "--probe-rows", "32"]
    assert codesign_main([*common, "--max-steps", "1"]) == 0  # an interrupted run
    out = capsys.readouterr().out
    assert "base-rate log loss" in out and "probe at step 1/2" in out
    assert codesign_main(common) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "--overwrite" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert codesign_main([*common, "--resume", "--overwrite"]) == 2
    assert codesign_main([*common, "--overwrite", "--quiet"]) == 0
    assert "steps 2/2 (resumed from 0)" in capsys.readouterr().out
    assert codesign_main([*common, "--resume", "--quiet"]) == 0  # finished: nothing left to do
    assert "steps 2/2 (resumed from 2)" in capsys.readouterr().out
