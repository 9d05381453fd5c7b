"""What a new user meets first: an output path that cannot be written is one line and exit 2
before any work, input files that are not UTF-8 name the byte offset, every option's value
is checked in the user's terms (and options that do not apply are refused), and a killed
``data prepare`` / ``data synth`` leaves nothing that a successful rerun keeps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codesign.cli.main import main
from codesign.data.cache import CtrData
from codesign.errors import SpecError
from codesign.hw.placement import load_plan

NOT_UTF8 = b'{"spec": "\xff"}'  # 0xff at offset 10 is never valid UTF-8


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "None" not in err, err  # what is accepted, in the user's terms
    return err


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    path = tmp_path / "train.txt"
    assert main(["data", "synth", "--schema", "criteo", "--rows", "300", "--out", str(path),
                 "--quiet"]) == 0
    return path


def test_unwritable_outputs_are_one_line_before_any_work(
        tmp_path: Path, raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    under = blocker / "out"  # a path below a regular file can never be created
    spec = tmp_path / "spec.json"
    spec.write_text("{}")
    commands = {
        "data prepare": ["data", "prepare", "--dataset", "criteo", "--raw", str(raw), "--out",
                         str(under), "--quiet"],
        "data synth": ["data", "synth", "--schema", "criteo", "--rows", "10", "--out",
                       str(under), "--quiet"],
        "import-nasrec": ["import-nasrec", str(spec), "-o", str(under)],
        "search": ["search", "--data", str(tmp_path), "--supernet", str(tmp_path), "--profile",
                   "hbm2", "--out", str(under), "--quiet"],
        "reproduce": ["reproduce", "--dataset", "criteo", "--synthetic-rows", "1000", "--out",
                      str(under), "--quiet"],
        "train-supernet": ["train-supernet", "--data", str(tmp_path), "--out", str(under),
                           "--quiet"],
        "train": ["train", "--spec", str(spec), "--data", str(tmp_path), "--out", str(under),
                  "--quiet"],
    }
    for name, argv in commands.items():
        assert main(argv) == 2, name
        err = _one_line(capsys)
        assert f"{under}: " in err and "is a file, not a folder" in err, (name, err)
    # a folder where a file goes, and a file where a folder goes
    assert main(["data", "prepare", "--dataset", "criteo", "--raw", str(raw), "--out",
                 str(blocker), "--quiet"]) == 2
    assert "is a file; accepted: a folder" in _one_line(capsys)
    assert main(["import-nasrec", str(spec), "-o", str(tmp_path)]) == 2
    assert "is a folder; accepted: a file path" in _one_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "spec.json", "train.txt"]


def test_inputs_that_are_not_utf8_name_the_byte_offset(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(NOT_UTF8)
    for argv in (["flops", "--spec", str(bad)], ["import-nasrec", str(bad)]):
        assert main(argv) == 2
        err = _one_line(capsys)
        assert str(bad) in err and "not UTF-8 text: byte 10 (line 1) is 0xff" in err
    with pytest.raises(SpecError, match=r"bad.json: cannot read a PIM plan JSON file: not UTF-8 "
                       r"text: byte 10 \(line 1\) is 0xff"):
        load_plan(bad)


def test_option_values_are_checked_in_the_users_terms(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    search = ["search", "--data", "d", "--supernet", "s", "--profile", "hbm2", "--out",
              str(tmp_path / "o")]
    usage_errors = {
        "seed": (["data", "synth", "--schema", "criteo", "--rows", "5", "--out", "x", "--seed",
                  "-1"], "-1 is negative; accepted: a whole number >= 0"),
        "split seed": (["data", "prepare", "--dataset", "criteo", "--raw", "x", "--out", "y",
                        "--seed", "-3"], "is negative"),
        "cap": (["data", "prepare", "--dataset", "criteo", "--raw", "x", "--out", "y", "--cap",
                 "1"], "1 is not an integer >= 2"),
        "limit": ([*search, "--mode", "constrained", "--limit", "latency_ns=-5"],
                  "not a finite number > 0"),
        "limit nan": ([*search, "--mode", "constrained", "--limit", "energy_pj=nan"],
                      "not a finite number > 0"),
        "finetune": ([*search, "--finetune-steps", "-1"], "is negative"),
        "workers": ([*search, "--workers", "0"], "not a positive integer"),
        "repro seed": (["reproduce", "--dataset", "criteo", "--synthetic-rows", "100", "--out",
                        "o", "--seed", "-2"], "is negative"),
    }
    for name, (argv, message) in usage_errors.items():
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2, name
        assert message in capsys.readouterr().err, name
    refused = {
        "limit outside constrained": ([*search, "--limit", "latency_ns=5"],
                                      "--limit: does not apply to --mode pareto"),
        "workers with serial": ([*search, "--workers", "2"],
                                "--workers: does not apply to --scheduler serial"),
        "unknown scheduler": ([*search, "--scheduler", "cluster"], "--scheduler cluster: unknown"),
        "reproduce workers": (["reproduce", "--dataset", "criteo", "--synthetic-rows", "100",
                               "--out", str(tmp_path / "r"), "--workers", "2"],
                              "--workers: does not apply"),
        "reproduce raw": (["reproduce", "--dataset", "criteo", "--raw", str(tmp_path / "none"),
                           "--out", str(tmp_path / "r")], "no such file or folder"),
    }
    for name, (argv, message) in refused.items():
        assert main(argv) == 2, name
        assert message in _one_line(capsys), name
    assert not (tmp_path / "o").exists() and not (tmp_path / "r").exists()


def test_a_killed_run_leaves_nothing_a_rerun_keeps(tmp_path: Path, raw: Path) -> None:
    out = tmp_path / "cache"
    # what `data prepare` leaves when killed: the cache being built, an old cache moved aside
    (tmp_path / ".cache.tmp-k1ll3d").mkdir()
    (tmp_path / ".cache.tmp-k1ll3d" / "dense.f32").write_bytes(b"\0" * 64)
    (tmp_path / ".cache.old-k1ll3d").mkdir()
    # what `data synth` leaves: the atomic write's temporary file
    (tmp_path / ".train.txt.k1ll3d.tmp").write_bytes(b"partial")
    assert main(["data", "synth", "--schema", "criteo", "--rows", "300", "--out", str(raw),
                 "--quiet"]) == 0
    assert main(["data", "prepare", "--dataset", "criteo", "--raw", str(raw), "--out", str(out),
                 "--cap", "64", "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "train.txt"]
    assert CtrData.open(out).n_rows == 300
    # the cache is identified by its content: the same rows give the same fingerprint
    again = tmp_path / "again"
    assert main(["data", "prepare", "--dataset", "criteo", "--raw", str(raw), "--out",
                 str(again), "--cap", "64", "--quiet"]) == 0
    meta = json.loads((again / "meta.json").read_text())
    assert meta["fingerprint"] == CtrData.open(out).fingerprint
    assert meta["fingerprint"].startswith("sha256:")
