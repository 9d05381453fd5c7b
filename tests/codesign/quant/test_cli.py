"""``codesign eval`` and ``codesign train`` take a precision: a file or the shorthands;
the output says which, option clashes and bad files exit 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codesign.cli.main import main as codesign_main
from codesign.data.synthetic import make_synthetic_cache
from codesign.nas.nasrec_json import save_spec
from codesign.quant import Precision
from tests.codesign.train.subnets import small_spec


@pytest.mark.slow
def test_eval_and_train_with_a_precision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = make_synthetic_cache("criteo", 2_000, tmp_path / "criteo", seed=3, cap=512)
    ck = tmp_path / "ck"
    common = ["--data", str(data.path), "--batch-size", "32", "--train-rows", "64", "--quiet"]
    assert codesign_main(["train-supernet", *common, "--out", str(ck), "--space", "small",
                          "--supernet-warmup", "0"]) == 0
    spec_path = tmp_path / "spec.json"
    save_spec(small_spec(1, space="small"), spec_path)
    ev = ["eval", "--spec", str(spec_path), "--supernet", str(ck), "--data", str(data.path),
          "--finetune-steps", "2", "--quiet"]
    capsys.readouterr()
    assert codesign_main([*ev]) == 0
    fp32 = capsys.readouterr().out
    assert "precision: fp32" in fp32
    assert codesign_main([*ev, "--table-dtype", "int4"]) == 0
    out = capsys.readouterr().out
    p = Precision(tables={f: "int4" for f in data.schema.sparse_names})
    assert f"precision {p.key()}: tables 26 int4" in out
    last = next(line for line in out.splitlines() if "head fine-tuning steps" in line)
    assert last not in fp32  # another log loss
    pfile = tmp_path / "p.json"
    Precision(ops={"final": "int8"}).save(pfile)
    assert codesign_main([*ev, "--precision", str(pfile)]) == 0
    assert "ops 1 int8" in capsys.readouterr().out
    # a clash, a bad file, a key the subnet does not have: exit 2, one line, no traceback
    assert codesign_main([*ev, "--precision", str(pfile), "--dense-dtype", "int8"]) == 2
    err = capsys.readouterr().err
    assert "--precision with --dense-dtype: accepted: a precision file, or the" in err
    pfile.write_text(json.dumps({"tables": {"C1": "int3"}}))
    assert codesign_main([*ev, "--precision", str(pfile)]) == 2
    err = capsys.readouterr().err
    assert "p.json: precision.tables.C1: 'int3'; accepted: fp32, fp16, int8, int4" in err
    assert "Traceback" not in err
    pfile.write_text(json.dumps({"ops": {"b0.dot": "int8"}}))
    assert codesign_main([*ev, "--precision", str(pfile)]) == 2
    assert "precision.ops.b0.dot: not an operator of this subnet; accepted: b0.fc" in capsys.readouterr().err
    # train: quantisation-aware, the precision recorded in metrics.json
    assert codesign_main(["train", "--spec", str(spec_path), *common, "--dense-dtype", "int8",
                          "--out", str(tmp_path / "m")]) == 0
    assert "ops " in capsys.readouterr().out
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert set(metrics["precision"]["ops"].values()) == {"int8"}
