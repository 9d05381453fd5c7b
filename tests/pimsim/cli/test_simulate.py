"""``pimsim simulate`` and ``pimsim profiles``, run in-process."""

from __future__ import annotations

import pandas as pd
import pytest

from pimsim.cli import main
from pimsim.hw.load import load_profile
from pimsim.sim.engine import simulate
from pimsim.workload.examples import criteo_dlrm, example_table_rows
from pimsim.workload.graph import save_workload

ROWS = example_table_rows()


def test_cli_simulate_and_profiles(tmp_path, capsys) -> None:
    w = save_workload(criteo_dlrm(ROWS, batch=8, pooling=2, dtype="fp16", mlp_placement="pim"),
                      tmp_path / "w.yaml")
    rc = main(["simulate", "--profile", "hbm2_pim", "--workload", str(w), "--out",
               str(tmp_path / "t.parquet"), "--chrome", str(tmp_path / "t.json"),
               "--timeline", str(tmp_path / "t.png")])
    out = capsys.readouterr().out
    assert rc == 0 and "top3" in out and "makespan" in out
    assert (tmp_path / "t.parquet").is_file() and (tmp_path / "t.json").is_file()
    expected = simulate(criteo_dlrm(ROWS, batch=8, pooling=2, dtype="fp16", mlp_placement="pim"),
                        load_profile("hbm2_pim"))
    got = pd.read_parquet(tmp_path / "t.parquet")
    assert got["end_ns"].max() == pytest.approx(expected.makespan_ns)
    assert main(["profiles"]) == 0
    out = capsys.readouterr().out
    for name in ("hbm2_pim", "gddr6_aim", "ddr4_recnmp", "upmem", "ddr4_3200", "hbm2", "gddr6"):
        assert name in out
    assert "INVALID" not in out


def test_cli_bad_workload_exits_2(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kernels:\n- {op: gemm, name: g, m: 1, n: 4, k: 4, dtype: fp32, "
                   "placement: pim}\n")
    assert main(["simulate", "--profile", "hbm2_pim", "--workload", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "kernel 'g'" in err and "bank_simd" in err and "Traceback" not in err
    bad.write_text("kernels:\n- {op: embedding_bag, name: e, table: t9, batch: 2, pooling: 1}\n")
    assert main(["simulate", "--profile", "ddr4_3200", "--workload", str(bad)]) == 2
    assert "unknown table 't9'" in capsys.readouterr().err
