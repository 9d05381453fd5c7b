"""``codesign eval`` says what it is doing while it works (a line on stderr as each stage
starts), and its figures are the library's supernet estimate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from codesign.cli.main import main as codesign_main
from codesign.data.cache import CtrData
from codesign.nas.nasrec_json import save_spec
from codesign.nas.space import from_dict
from codesign.train.finetune import estimate_subnet
from codesign.train.supernet import load_supernet


@pytest.mark.slow
def test_eval_prints_its_stages_and_the_librarys_estimate(
        run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = from_dict(json.loads((run_dir / "B.json").read_text())["spec"])
    spec_path = tmp_path / "b.json"
    save_spec(spec, spec_path)
    data = run_dir / "data" / "cache"
    argv = ["eval", "--spec", str(spec_path), "--supernet", str(run_dir / "supernet"),
            "--data", str(data), "--finetune-steps", "3", "--threads", "1"]
    assert codesign_main(argv) == 0
    captured = capsys.readouterr()
    stages = captured.err.strip().splitlines()
    assert [re.sub(r"^eval \[ *[0-9.]+ s\] ", "", s).split(" ")[0] for s in stages] == [
        "loading", "val", "refitting", "val", "done"]
    seconds = [float(re.match(r"eval \[ *([0-9.]+) s\]", s).group(1)) for s in stages]
    assert seconds == sorted(seconds)
    assert "3 L-BFGS iterations on" in stages[2]
    net, _ = load_supernet(run_dir / "supernet", CtrData.open(data).schema)
    expected = estimate_subnet(net, spec, CtrData.open(data), 3, split="val", seed=0)
    assert f"val after 3 head fine-tuning steps: {expected}" in captured.out
    assert codesign_main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().err == ""
