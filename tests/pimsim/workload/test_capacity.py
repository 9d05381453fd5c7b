"""A workload whose tables and weights do not fit the profile's memory is an error naming
them, their bytes and the capacity; addresses never wrap around the memory."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pimsim.cli import main
from pimsim.cost.layout import Layout
from pimsim.errors import WorkloadError
from pimsim.hw.load import BUILTIN_PROFILE_DIR, load_profile
from pimsim.sim.engine import simulate
from pimsim.workload.graph import Workload, save_workload
from pimsim.workload.kernels import EmbeddingBag, Gemm, Table


def hbm2_capacity_by_hand() -> int:
    """channels x ranks x banks x rows x columns x bus width (bytes), read from the YAML."""
    d = yaml.safe_load((BUILTIN_PROFILE_DIR / "hbm2.yaml").read_text())["dram"]
    banks = d["bankgroups"] * d["banks_per_group"]
    return d["channels"] * d["ranks"] * banks * d["rows"] * d["columns"] * d["bus_width"] // 8


def one_table(rows: int, name: str = "big", extra: int = 0) -> Workload:
    tables = {name: Table(rows=rows, dim=16, dtype="fp32")}  # 64 bytes a row
    kernels = [EmbeddingBag(name="emb", table=name, batch=4, pooling=2)]
    if extra:
        tables["second"] = Table(rows=extra, dim=16, dtype="fp32")
        kernels.append(EmbeddingBag(name="emb2", table="second", batch=4, pooling=2))
    return Workload(name="capacity", tables=tables, kernels=kernels)


def test_a_51_gb_table_on_8_gib_hbm2_is_an_error_naming_it(tmp_path: Path, capsys) -> None:
    capacity = hbm2_capacity_by_hand()
    assert capacity == 8 * 2**30
    big = save_workload(one_table(51_000_000_000 // 64), tmp_path / "big.yaml")
    assert main(["simulate", "--profile", "hbm2", "--workload", str(big)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "table big 51,000,000,000 bytes" in err[0]
    assert f"capacity {capacity:,} bytes (8 GiB = 8 channels x 1 ranks x 16 banks x 32768 " \
        "rows x 128 columns x 128-bit bus)" in err[0]


def test_tables_that_fit_alone_but_not_together_are_both_named() -> None:
    capacity = hbm2_capacity_by_hand()
    rows = int(0.6 * capacity) // 64
    w = one_table(rows, extra=rows)
    with pytest.raises(WorkloadError, match=rf"table big {rows * 64:,} bytes, table second "
                       rf"{rows * 64:,} bytes \(total {2 * rows * 64:,} bytes\)"):
        Layout(load_profile("hbm2")).check_fits(w)
    # the library refuses too, when the layout places the second table (no wrap-around)
    with pytest.raises(WorkloadError, match="does not fit the memory of profile 'hbm2'"):
        simulate(w, load_profile("hbm2"))


def test_weights_count_and_data_that_fits_simulates(tmp_path: Path) -> None:
    capacity = hbm2_capacity_by_hand()
    hbm2 = load_profile("hbm2")
    half = one_table(capacity // 2 // 64)
    Layout(hbm2).check_fits(half)
    assert simulate(half, hbm2).kernel("emb").end_ns > 0
    # a GEMM's weight (k x n x 4 bytes) is resident data too: 2**16 x 2**14 x 4 = 4 GiB more
    heavy = Workload(name="heavy", tables=half.tables, kernels=[
        *half.kernels, Gemm(name="fc", m=1, k=2**16, n=2**14 + 1, weight="w")])
    with pytest.raises(WorkloadError, match=r"weight w 4,295,229,440 bytes"):
        Layout(hbm2).check_fits(heavy)
