"""``reproduce`` does not train from scratch again a C that is B's subnet: it reuses B's
result and the report says so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from codesign.pipeline.acceptance import RULE_SAME, SCRATCH_SEEDS
from codesign.pipeline.reproduce import reproduce
from tests.codesign.pipeline.conftest import MICRO


def test_c_with_bs_subnet_reuses_bs_training(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    shutil.copytree(run_dir, out)
    b = json.loads((out / "B.json").read_text())
    c = json.loads((out / "C.json").read_text())
    # the co-search picked B's own genome
    c.update(spec=b["spec"], plan=b["plan"], is_b_genome=True, same_subnet_as_b=True)
    (out / "C.json").write_text(json.dumps(c))
    for name in ("scratch_C.json", "hardware.json", "report.md"):
        (out / name).unlink()
    reproduce("criteo", out, profile="hbm2_pim", budget=MICRO, synthetic_rows=3000, seed=0,
              scheduler="serial", threads=1, quiet=True)
    scratch_b = json.loads((out / "scratch_B.json").read_text())
    scratch_c = json.loads((out / "scratch_C.json").read_text())
    for key in ("val", "test", "val_std", "test_std", "seeds", "runs"):
        assert scratch_c[key] == scratch_b[key], key
    assert scratch_c["rule"] == RULE_SAME and scratch_c["same_subnet_as_b"]
    assert scratch_c["accepted"] and [t["accepted"] for t in scratch_c["tried"]] == [True]
    # B's seeds are the only runs trained from scratch
    assert len(list((out / "scratch").glob("*.json"))) == SCRATCH_SEEDS
    assert "**C = B's subnet** (and B's plan)" in (out / "report.md").read_text()
    results = (out / "results.csv").read_text().splitlines()
    rows = {line.split(",")[1]: line.split(",")[2:] for line in results[1:]}
    header = results[0].split(",")[2:]
    acc = [i for i, h in enumerate(header) if "logloss" in h or "auc" in h or h in ("seeds", "mflops")]
    assert [rows["B"][i] for i in acc] == [rows["C"][i] for i in acc]  # same subnet
    # C's plan is the best of its subnet's candidate plans, B's naive plan among them
    hw = json.loads((out / "hardware.json").read_text())
    edp = {t: hw[t]["latency_ns"] * hw[t]["energy_pj"] for t in ("B", "C")}
    assert edp["C"] <= edp["B"] * (1 + 1e-12)
