"""pimsim.util.executors: serial / pool / Dask LocalCluster give the same results (maps and
a whole search on the toy problem), and a pool's or a LocalCluster's workers end when the
process that started them is killed."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from codesign.search import SearchConfig, run_search
from pimsim.errors import PimsimError
from pimsim.workload.graph import Workload, save_workload
from pimsim.util.executors import DaskExecutor, ExecutorError, LocalExecutor, make_executor
from codesign.search.toy import IntVectorProblem, fail_on_three, slow_square

ROOT = Path(__file__).resolve().parents[3]
ITEMS = list(range(9))
SEARCH_CONFIG = SearchConfig(
    budget="tiny", seed=21, mode="pareto", population=8, sample=4, children=4, generations=3
)


def test_serial_executor_streams_in_order_and_stores_errors() -> None:
    with LocalExecutor(0) as ex:
        assert ex.workers == 1
        assert ex.map(slow_square, ITEMS) == [x * x for x in ITEMS]
        assert list(ex.imap_unordered(slow_square, [4, 5])) == [(0, 16), (1, 25)]
        futures = [ex.submit(fail_on_three, x) for x in (1, 3, 5)]
        assert not any(f.done() for f in futures)  # deferred until asked for
        assert futures[0].result() == 1
        with pytest.raises(ValueError, match="three"):
            futures[1].result()
        with pytest.raises(ValueError, match="three"):
            ex.map(fail_on_three, ITEMS)
    with pytest.raises(ExecutorError, match="after close"):
        ex.submit(slow_square, 1)


def test_make_executor_specs_and_errors() -> None:
    for spec in (None, "serial"):  # serial is the one default
        serial = make_executor(spec)
        assert isinstance(serial, LocalExecutor) and repr(serial) == "LocalExecutor(workers=0)"
    with pytest.raises(ExecutorError, match="'serial': got workers=3"):
        make_executor(None, workers=3)
    pool = make_executor("pool", workers=3)
    assert isinstance(pool, LocalExecutor) and pool.workers == 3
    pool.close()
    assert make_executor("pool").workers >= 1
    for spec in ("threads", "http://host:1"):
        with pytest.raises(ExecutorError, match="accepted"):
            make_executor(spec)
    with pytest.raises(ExecutorError, match="workers"):
        LocalExecutor(-1)
    with pytest.raises(ExecutorError, match="start_method"):
        LocalExecutor(2, start_method="teleport")
    with pytest.raises(ExecutorError, match="scheduler"):
        DaskExecutor("nowhere")
    assert issubclass(ExecutorError, PimsimError)


@pytest.fixture(scope="module")
def serial_search() -> pd.DataFrame:
    return run_search(IntVectorProblem(), SEARCH_CONFIG, quiet=True).history


def test_process_pool_map_and_search_match_serial(serial_search: pd.DataFrame) -> None:
    with LocalExecutor(2) as ex:
        assert ex.map(slow_square, ITEMS) == [x * x for x in ITEMS]
        pairs = list(ex.imap_unordered(slow_square, ITEMS))
        assert sorted(pairs) == [(i, i * i) for i in ITEMS]
        with pytest.raises(ValueError, match="three"):
            ex.map(fail_on_three, ITEMS)
        result = run_search(IntVectorProblem(), SEARCH_CONFIG, executor=ex, quiet=True)
    pd.testing.assert_frame_equal(result.history, serial_search)


@pytest.mark.slow
def test_dask_local_cluster_map_and_search_match_local(serial_search: pd.DataFrame) -> None:
    with make_executor("local", workers=2) as ex:
        assert isinstance(ex, DaskExecutor) and ex.workers == 2
        assert ex.map(slow_square, ITEMS) == [x * x for x in ITEMS]
        pairs = list(ex.imap_unordered(slow_square, ITEMS))
        assert sorted(pairs) == [(i, i * i) for i in ITEMS]
        result = run_search(IntVectorProblem(), SEARCH_CONFIG, executor=ex, quiet=True)
        # A second client on the same scheduler, as `--scheduler tcp://HOST:PORT` would make.
        address = ex.client.scheduler.address
        with make_executor(address) as remote:
            assert remote.map(slow_square, ITEMS) == [x * x for x in ITEMS]
    pd.testing.assert_frame_equal(result.history, serial_search)


#: a command that starts an executor, makes every worker run once, prints the worker and
#: child process ids, then waits to be killed
_PARENT = """
import json, os, sys, time
import psutil
from pimsim.util.executors import make_executor
from codesign.search.toy import slow_square
ex = make_executor(sys.argv[1], workers=2)
ex.map(slow_square, range(8))
kids = [p.pid for p in psutil.Process().children(recursive=True)]
print(json.dumps(kids), flush=True)
time.sleep(120)
"""


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.slow
def _kill_parent_and_wait_for(proc: subprocess.Popen, kids: list[int]) -> None:
    """SIGKILL ``proc``, then require its children ``kids`` to be gone within 20 s."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all(_gone(p) for p in kids):
        time.sleep(0.2)
    assert [p for p in kids if not _gone(p)] == []


def _reap(proc: subprocess.Popen, kids: list[int]) -> None:
    """Whatever the test found, nothing it started outlives it."""
    proc.kill()
    proc.wait()
    for pid in kids:
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).kill()


@pytest.mark.parametrize("spec", ["pool", "local"])
def test_workers_end_when_their_parent_is_killed(spec: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _PARENT, spec], stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    kids: list[int] = []
    try:
        kids = json.loads(proc.stdout.readline())
        # two workers, and a resource tracker
        assert len(kids) >= 3, kids
        _kill_parent_and_wait_for(proc, kids)
    finally:
        _reap(proc, kids)


@pytest.mark.slow
def test_pool_of_a_killed_sweep_command_ends(tmp_path: Path, small_workload: Workload) -> None:
    """``pimsim sweep --scheduler pool`` killed with SIGKILL mid-sweep leaves no process."""
    workload = save_workload(small_workload, tmp_path / "w.yaml")
    argv = [sys.executable, "-m", "pimsim.cli.main", "sweep", "--workload", str(workload),
            "--profile", "hbm2_pim", "--out", str(tmp_path / "out"), "--scheduler", "pool",
            "--workers", "2", "--quiet", "--set", "pim.units_per_channel=1,2,4,8,16",
            "--set", "pim.channels_used=1,2,4,8", "--set", "timing.tCK_ns=1.0,1.25,1.5,2.0"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    kids: list[int] = []
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(kids) < 3:  # two workers, the tracker
            kids = [p.pid for p in parent.children(recursive=True)]
            time.sleep(0.1)
        assert len(kids) >= 3 and proc.poll() is None, "the sweep ended before the kill"
        _kill_parent_and_wait_for(proc, kids)
    finally:
        _reap(proc, kids)
