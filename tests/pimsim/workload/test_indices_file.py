"""Bags read from an ``indices_file`` (text or .npy): counted, simulated, bad files refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pimsim.errors import WorkloadError
from pimsim.hw.load import load_profile
from pimsim.sim.engine import simulate
from pimsim.workload.graph import Workload
from pimsim.workload.kernels import EmbeddingBag, Table


def bag_workload(path: Path, batch: int) -> Workload:
    return Workload(name="file_bags", tables={"t": Table(rows=1000, dim=8)}, kernels=[
        EmbeddingBag(name="e", table="t", batch=batch, indices_file=str(path))])


def test_a_text_indices_file_gives_its_lookups_and_flops(tmp_path: Path) -> None:
    path = tmp_path / "bags.txt"
    path.write_text("1 2 3\n\n4,5\n6\n")  # 3 bags of 3, 2 and 1 rows
    w = bag_workload(path, batch=3)
    k = w.kernel("e")
    assert k.lookups() == 6
    assert k.flops() == (6 - 3) * 8  # one add per element of each pooled row after the first
    rec = simulate(w, load_profile("ddr4_3200")).kernel("e")
    assert rec.flops == 24 and rec.end_ns > 0


def test_bad_indices_files_are_one_line_errors(tmp_path: Path) -> None:
    npy = tmp_path / "bags.npy"
    npy.write_bytes(b"not an array")
    with pytest.raises(WorkloadError, match=r"indices_file .*bags.npy.*: not a NumPy array"):
        bag_workload(npy, batch=2).kernel("e").lookups()
    txt = tmp_path / "bags.txt"
    txt.write_text("1 2\n")
    with pytest.raises(WorkloadError, match=r"bags.txt: kernel 'e': 1 bags; accepted: batch = 2"):
        bag_workload(txt, batch=2).kernel("e").lookups()
    np.save(tmp_path / "ok.npy", np.array([[1, 2], [3, 4]]))
    assert bag_workload(tmp_path / "ok.npy", batch=2).kernel("e").lookups() == 4
