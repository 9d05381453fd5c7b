"""``codesign search`` on the reproduction run's supernet and data: the history, the front,
``--initial`` seeding, ``--resume`` and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from codesign.cli.main import main as codesign_main


def test_cli_search_pareto_and_resume(run_dir: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "search"
    args = ["search", "--data", str(run_dir / "data" / "cache"), "--supernet",
            str(run_dir / "supernet"), "--profile", "hbm2_pim", "--mode", "pareto",
            "--budget", "tiny", "--out", str(out), "--scheduler", "serial", "--dataset",
            "criteo", "--finetune-steps", "1", "--eval-rows", "200", "--quiet"]
    args += ["--initial", str(run_dir / "B.json")]
    assert codesign_main(args) == 0
    hist = pd.read_csv(out / "history.csv")
    assert len(hist) == 16 and hist["key"].is_unique
    # --initial: B's genome is evaluated first, inside the budget of 16
    b = json.loads((run_dir / "B.json").read_text())
    assert list(hist["seeded"]) == [True] + [False] * 15
    assert json.loads(hist["genome"][0]) == {"spec": b["spec"], "plan": b["plan"]}
    front = pd.read_csv(out / "front.csv")
    assert 1 <= len(front) <= len(hist) and (front["front"] == 0).all()
    assert "best (pareto)" in capsys.readouterr().out
    assert codesign_main(args + ["--resume"]) == 0  # finished: nothing evaluated again
    pd.testing.assert_frame_equal(pd.read_csv(out / "history.csv"), hist)
    rc = codesign_main(args + ["--mode", "constrained", "--out", str(tmp_path / "c")])
    assert rc == 2 and "--limit" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"spec": {"format": "nope"}}')
    rc = codesign_main(args[:-2] + ["--initial", str(bad), "--out", str(tmp_path / "x")])
    assert rc == 2 and f"--initial {bad}: format" in capsys.readouterr().err
