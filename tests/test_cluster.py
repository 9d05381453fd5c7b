"""Sweeps and searches on a real Dask cluster: a ``dask scheduler`` and two ``dask worker``
processes on localhost, reached through ``--scheduler tcp://127.0.0.1:PORT``, give the
local pool's results; a worker killed mid-run loses nothing (its work is retried on the
other). Every process started here is stopped by the fixture's finalizer, also when a
test fails."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import torch

from codesign.cli.main import main as codesign_main
from codesign.data.synthetic import make_synthetic_cache
from pimsim.cli.main import main as pimsim_main
from pimsim.workload.graph import Workload, save_workload
from pimsim.workload.kernels import EmbeddingBag, Gemm, Table

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")
#: seconds a scheduler or a worker may take to come up on a loaded machine
START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalDaskCluster:
    """A scheduler and named workers, each its own process group (killed as a whole)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.procs: dict[str, subprocess.Popen] = {}
        self._spawn("scheduler", [str(DASK), "scheduler", "--host", "127.0.0.1", "--port",
                                  str(self.port), "--no-dashboard"])

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = (self.folder / f"{name}.log").open("w")
        self.procs[name] = subprocess.Popen(argv, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True,
                                            cwd=self.folder)

    def start_worker(self, name: str) -> None:
        self._spawn(name, [str(DASK), "worker", self.address, "--name", name, "--nthreads",
                           "1", "--no-nanny", "--no-dashboard", "--death-timeout", "60",
                           "--local-directory", str(self.folder / name)])

    def workers(self) -> int:
        from distributed import Client  # lazy: distributed, only for this test's polling

        with Client(self.address, timeout=START_TIMEOUT_S, set_as_default=False) as client:
            return len(client.scheduler_info()["workers"])

    def wait_for_workers(self, n: int) -> None:
        from distributed import Client  # lazy: distributed, only for this test's polling

        with Client(self.address, timeout=START_TIMEOUT_S, set_as_default=False) as client:
            client.wait_for_workers(n, timeout=START_TIMEOUT_S)

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        for name in list(self.procs):
            self.kill(name)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDaskCluster]:
    c = LocalDaskCluster(tmp_path_factory.mktemp("dask"))
    try:
        c.start_worker("w0")
        c.start_worker("w1")
        c.wait_for_workers(2)
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def workload_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workload = Workload(
        name="small", tables={"t0": Table(rows=100_000, dim=16)},
        kernels=[EmbeddingBag(name="emb", table="t0", batch=64, pooling=4,
                              distribution="zipf"),
                 Gemm(name="fc", m=1, k=1024, n=1024, dtype="fp16", placement="pim"),
                 Gemm(name="top", m=64, k=1040, n=1, dtype="fp32")],
        deps={"top": ["emb", "fc"]}, check_shapes=False)
    path = tmp_path_factory.mktemp("wl") / "small.yaml"
    save_workload(workload, path)
    return path


def _sweep(workload: Path, out: Path, scheduler: str, *sets: str) -> list[str]:
    argv = ["sweep", "--workload", str(workload), "--profile", "hbm2_pim", "--out", str(out),
            "--scheduler", scheduler, "--quiet"]
    for s in sets:
        argv += ["--set", s]
    if scheduler == "pool":
        argv += ["--workers", "2"]
    return argv


GRID = ("pim.units_per_channel=4,8,16", "pim.channels_used=2,4,8")


def test_sweep_on_the_cluster_is_the_pools(cluster: LocalDaskCluster, workload_file: Path,
                                           tmp_path: Path) -> None:
    assert pimsim_main(_sweep(workload_file, tmp_path / "pool", "pool", *GRID)) == 0
    assert pimsim_main(_sweep(workload_file, tmp_path / "dask", cluster.address, *GRID)) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask" / "results.parquet"),
                                  pd.read_parquet(tmp_path / "pool" / "results.parquet"))


def test_a_worker_killed_mid_sweep_loses_nothing(cluster: LocalDaskCluster,
                                                 workload_file: Path, tmp_path: Path) -> None:
    grid = ("pim.units_per_channel=1,2,4,8,16", "pim.channels_used=1,2,4,8",
            "timing.tCK_ns=1.0,1.25,1.5,2.0")  # 80 points, in chunks of 8
    n_points = 80
    reference = tmp_path / "serial"
    assert pimsim_main(_sweep(workload_file, reference, "serial", *grid)) == 0
    out = tmp_path / "killed"
    argv = [sys.executable, "-m", "pimsim.cli.main", *_sweep(workload_file, out,
                                                             cluster.address, *grid)]
    sweep = subprocess.Popen(argv, env=cluster.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    points = out / "points.jsonl"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and not (points.is_file() and points.read_text()):
            time.sleep(0.05)
        done_before = points.read_text().splitlines()
        assert 0 < len(done_before) < n_points, "the sweep was not mid-run"
        cluster.kill("w1")
        assert sweep.wait(timeout=120) == 0, sweep.stderr.read()
    finally:
        sweep.kill()
        sweep.wait()
        cluster.start_worker("w1")  # the next test gets two workers again
    lines = points.read_text().splitlines()
    # nothing finished is lost or redone: the points journalled before the kill are kept
    # as they were, and every point is journalled once
    assert lines[:len(done_before)] == done_before
    assert sorted(json.loads(line)["point"] for line in lines) == sorted(
        json.loads(line)["point"] for line in (reference / "points.jsonl").read_text().splitlines())
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"),
                                  pd.read_parquet(reference / "results.parquet"))


@pytest.fixture(scope="module")
def supernet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("search")
    data = make_synthetic_cache("criteo", 2_000, folder / "criteo", seed=3, cap=512)
    ck = folder / "supernet"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert codesign_main(["train-supernet", "--data", str(data.path), "--batch-size", "32",
                              "--train-rows", "64", "--quiet", "--out", str(ck),
                              "--supernet-warmup", "0"]) == 0
    finally:
        torch.set_num_threads(threads)
    return Path(data.path), ck


def test_search_on_the_cluster_is_the_pools(cluster: LocalDaskCluster,
                                            supernet: tuple[Path, Path],
                                            tmp_path: Path) -> None:
    data, ck = supernet
    cluster.wait_for_workers(2)

    def search(scheduler: str, out: Path) -> pd.DataFrame:
        argv = ["search", "--data", str(data), "--supernet", str(ck), "--profile",
                "hbm2_pim", "--mode", "pareto", "--budget", "tiny", "--out", str(out),
                "--scheduler", scheduler, "--dataset", "criteo", "--finetune-steps", "0",
                "--eval-rows", "64", "--quiet"]
        if scheduler == "pool":
            argv += ["--workers", "2"]
        assert codesign_main(argv) == 0
        return pd.read_csv(out / "history.csv")

    on_pool = search("pool", tmp_path / "pool")
    on_cluster = search(cluster.address, tmp_path / "dask")
    assert len(on_pool) == 16
    pd.testing.assert_frame_equal(on_cluster, on_pool)
