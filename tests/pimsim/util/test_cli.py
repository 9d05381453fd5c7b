"""pimsim.util.cli: argparse types, JSON of numpy values, flattening and printing."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from pimsim.errors import PimsimError
from pimsim.util.cli import (
    check_outputs,
    flatten,
    format_value,
    non_negative_int,
    positive_int,
    print_columns,
    to_jsonable,
)


def test_positive_int() -> None:
    assert positive_int("3") == 3
    for bad, why in (("0", "not a positive integer"), ("x", "not an integer")):
        with pytest.raises(argparse.ArgumentTypeError, match=why):
            positive_int(bad)


def test_numpy_values_become_json() -> None:
    value = {"a": np.int64(3), "b": [np.float32(0.5), (np.bool_(True),)],
             "c": np.arange(3), 4: "x"}
    assert json.loads(json.dumps(to_jsonable(value))) == {"a": 3, "b": [0.5, [True]],
                                                          "c": [0, 1, 2], "4": "x"}


def test_flatten_and_format() -> None:
    assert flatten({"a": 1, "e": {"x": 2, "y": {"z": 3}}}) == {"a": 1, "e.x": 2, "e.y.z": 3}
    assert [format_value(v) for v in (0.0, 1234.5, 2.5e7, 1e-5, 7)] == [
        "0.0", "1,234.5", "2.5e+07", "1e-05", "7"]


def test_print_columns_pads_each_column(capsys: pytest.CaptureFixture[str]) -> None:
    print_columns(("name", "v"), [("a", "10"), ("long", "2")])
    assert capsys.readouterr().out.splitlines() == ["name  v ", "a     10", "long  2 "]


def test_non_finite_floats_become_json_null() -> None:
    """NaN and infinities are not JSON: strict JSON (``allow_nan=False``) gets ``null``."""
    value = {"parent": float("nan"), "x": np.float64("inf"), "xs": np.array([1.0, -np.inf])}
    text = json.dumps(to_jsonable(value), allow_nan=False)
    assert json.loads(text) == {"parent": None, "x": None, "xs": [1.0, None]}


def test_counts_say_what_is_accepted_in_words() -> None:
    assert non_negative_int("0") == 0 and non_negative_int("7") == 7
    cases = [(positive_int, "0", "accepted: a positive integer"),
             (positive_int, "-3", "accepted: a positive integer"),
             (positive_int, "2.5", "accepted: a positive integer"),
             (non_negative_int, "-1", "accepted: a whole number >= 0"),
             (non_negative_int, "x", "accepted: a whole number >= 0")]
    for parse, text, accepted in cases:
        with pytest.raises(argparse.ArgumentTypeError, match=accepted) as info:
            parse(text)
        assert "None" not in str(info.value)


def test_check_outputs_checks_each_given_option_and_refuses_one_file_twice(tmp_path) -> None:
    (tmp_path / "f").write_text("x")
    given = argparse.Namespace(out=str(tmp_path / "t.csv"), chrome=None,
                               timeline=str(tmp_path / "f" / "t.png"))
    with pytest.raises(PimsimError, match=r"^--timeline .*f is a file, not a folder"):
        check_outputs(given, {"out": False, "chrome": False, "timeline": False}, PimsimError)
    same = argparse.Namespace(out=str(tmp_path / "t.json"), chrome=str(tmp_path / "t.json"))
    with pytest.raises(PimsimError, match="--chrome .*: --out writes the same file"):
        check_outputs(same, {"out": False, "chrome": False}, PimsimError)
    check_outputs(argparse.Namespace(out=str(tmp_path / "new" / "d")), {"out": True},
                  PimsimError)


_EXIT_SCRIPT = """
import atexit, sys, threading, time
from pathlib import Path
from pimsim.util.cli import exit_process
out = Path(sys.argv[1])
atexit.register(lambda: (out / "atexit").write_text("ran"))
if sys.argv[2] == "thread":
    def late() -> None:
        time.sleep(0.5)
        (out / "thread").write_text("finished")
    threading.Thread(target=late).start()
sys.stdout.write("buffered, no newline")
exit_process(3)
"""


@pytest.mark.parametrize("mode", ["alone", "thread"])
def test_exit_process_runs_exit_handlers_flushes_and_waits_for_threads(tmp_path, mode) -> None:
    proc = subprocess.run([sys.executable, "-c", _EXIT_SCRIPT, str(tmp_path), mode],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3
    assert proc.stdout == "buffered, no newline"
    assert (tmp_path / "atexit").read_text() == "ran"
    if mode == "thread":
        # another thread alive: the normal exit, which waits for it
        assert (tmp_path / "thread").read_text() == "finished"


_BLAS_SCRIPT = """
import contextlib, io, json, sys
if sys.argv[1] == "command":
    from pimsim.cli.main import main
    with contextlib.redirect_stdout(io.StringIO()):
        main(["profiles"])
import numpy, threadpoolctl
print(json.dumps([p["num_threads"] for p in threadpoolctl.threadpool_info()
                  if p["internal_api"] == "openblas"]))
"""


def _openblas_threads(env: dict[str, str], after: str) -> list[int]:
    """OpenBLAS's thread counts in a child process, after ``pimsim profiles`` (``after``
    "command") or after a plain ``import numpy`` ("import")."""
    out = subprocess.run([sys.executable, "-c", _BLAS_SCRIPT, after], capture_output=True,
                         text=True, timeout=120, env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_commands_run_numpy_blas_in_one_thread_unless_the_user_says_otherwise() -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: OpenBLAS starts one thread anyway")
    # OpenBLAS reads its thread count from any of these; a Dask nanny sets OMP_NUM_THREADS in
    # the environment of the process that starts it (an earlier test's cluster)
    limits = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")
    base = {k: v for k, v in os.environ.items() if k not in limits}
    plain = _openblas_threads(base, "import")
    if not plain or max(plain) < 2:
        pytest.skip("this numpy's BLAS is not a multi-threaded OpenBLAS")
    assert _openblas_threads(base, "command") == [1]
    assert _openblas_threads({**base, "OPENBLAS_NUM_THREADS": "2"}, "command") == [2]
