"""``pimsim compare`` on reram_pim: the advantage map and the model view with the
crossbars' capacity."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pimsim
from pimsim.cli import main
from pimsim.compare import compare_model
from pimsim.hw.load import load_profile
from pimsim.workload import Gemm, Workload


def test_compare_prints_the_crossover_table(tmp_path: Path, capsys) -> None:
    """GEMMs only (the kind pools no tables). With one tile per channel (8 x 96 = 768
    crossbars) a 2048 x 2048 weight (16 x 64 = 1,024 crossbars) is n/a with the capacity
    message; 1024 x 512 (128 crossbars) runs, against a host that streams its 512 KiB
    weight at most at the 256 GB/s peak."""
    small = tmp_path / "reram_small.yaml"
    small.write_text("name: reram_small\nextends: reram_pim\npim:\n  units_per_channel: 1\n")
    code = main(["compare", "--profile", str(small), "--gemm", "1024x512,2048x2048",
                 "--batch", "1,16", "--out", str(tmp_path / "o"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "reram_small (crossbar)" in out and "### gemm" in out and "### embedding" not in out
    assert "latency crossover" in out
    pts = pd.read_csv(tmp_path / "o" / "advantage.csv")
    big = pts[pts["shape"] == "2048x2048"]
    assert big["pim_latency_ns"].isna().all()
    assert big["pim_status"].str.contains(r"1,024 crossbars; free 768 of 768").all()
    fits = pts[pts["shape"] == "1024x512"]
    assert (fits["pim_status"] == "ok").all()
    assert (fits["host_latency_ns"] >= 1024 * 512 / 256.0).all()
    assert (tmp_path / "o" / "crossover.csv").is_file()


def test_model_view_keeps_weights_that_do_not_fit_on_the_host() -> None:
    """Two 4096 x 4096 layers take 8,192 crossbars; a 4096 x 8192 layer (8,192 more) does
    not fit the 7,936 left: n/a, and never on PIM in any plan."""
    def build(batch: int) -> Workload:
        ks = [Gemm(name=n, m=batch, k=4096, n=w, dtype="int8")
              for n, w in (("l1", 4096), ("l2", 4096), ("l3", 8192))]
        return Workload(kernels=ks, deps={"l2": ["l1"], "l3": ["l2"]})

    mc = compare_model(build, load_profile("reram_pim"), [1, 16])
    rows = mc.kernels.set_index(["batch", "kernel"])
    for b in (1, 16):
        assert "cannot hold the weights of kernel 'l3'" in rows.loc[(b, "l3"), "pim_status"]
        assert rows.loc[(b, "l3"), "best"] == "host"
        assert rows.loc[(b, "l1"), "pim_status"] == "ok"
    assert (mc.plans["kernels_on_pim"] <= 2).all()


@pytest.mark.parametrize("batch", [1, 256])
def test_simulate_cli_shows_the_crossbar_parts(tmp_path: Path, capsys, batch: int) -> None:
    wl = tmp_path / "w.yaml"
    wl.write_text("name: one\nkernels:\n  - {op: gemm, name: g, m: " + str(batch)
                  + ", k: 512, n: 256, dtype: int8, placement: pim}\n")
    csv = tmp_path / "t.csv"
    assert main(["simulate", "--profile", "reram_pim", "--workload", str(wl),
                 "--out", str(csv)]) == 0
    out = capsys.readouterr().out
    parts = ("xbar_array", "xbar_adc", "xbar_dac", "xbar_digital", "xbar_buffer",
             "xbar_program")
    for part in parts:
        assert part in out  # the totals line names every part
    row = pd.read_csv(csv).set_index("name").loc["g"]
    assert row["energy_pj"] == pytest.approx(
        sum(row[c] for c in row.index if c.endswith("_pj") and c != "energy_pj"))
    assert all(row[f"{p}_pj"] > 0 for p in parts)


def test_capacity_refusals_is_public_and_follows_placement() -> None:
    """codesign asks pimsim which PIM kernels do not fit: only kernels placed on PIM
    count (two 4096 x 4096 weights fill 8,192 of the 16,128 crossbars)."""
    p = pimsim.load_profile("reram_pim")
    ks = [pimsim.Gemm(name=n, m=1, k=4096, n=w, dtype="int8", placement=pl)
          for n, w, pl in (("a", 4096, "pim"), ("b", 4096, "pim"), ("c", 8192, "pim"),
                           ("d", 8192, "host"))]
    assert list(pimsim.capacity_refusals(p, ks)) == ["c"]
    assert pimsim.capacity_refusals(p, ks[:2]) == {}
    assert pimsim.capacity_refusals(pimsim.load_profile("hbm2_pim"), ks) == {}
