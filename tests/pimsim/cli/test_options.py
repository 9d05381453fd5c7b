"""Every option of pimsim's commands is checked for its range and meaning, and an option
that does not apply to the chosen mode is refused (never silently ignored); the messages
say what is accepted in the user's terms."""

from __future__ import annotations

from pathlib import Path

import pytest

from pimsim.cli import main
from pimsim.workload.graph import Workload, save_workload


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one-line error of ``pimsim ARGV`` (exit status 2, from argparse or the command)."""
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse's own refusal
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2, (argv, err)
    last = err.strip().splitlines()[-1]
    assert "Traceback" not in err and "None" not in last, err
    return last


@pytest.fixture
def workload_file(tmp_path: Path, small_workload: Workload) -> str:
    return str(save_workload(small_workload, tmp_path / "w.yaml"))


def test_counts_out_of_range_are_refused_in_words(workload_file: str, tmp_path: Path,
                                                  capsys) -> None:
    sim = ["simulate", "--profile", "hbm2_pim", "--workload", workload_file]
    sweep = ["sweep", "--profile", "hbm2_pim", "--workload", workload_file, "--set",
             "pim.units_per_channel=8", "--out", str(tmp_path / "sw")]
    cases = [
        (["simulate", "--profile", "hbm2_pim", "--spec", "s.json", "--batch", "0"],
         "argument --batch: 0 is not a positive integer", "accepted: a positive integer"),
        (sim + ["--seed", "-1"], "--seed", "accepted: a whole number >= 0"),
        (sim + ["--replicate-hot-rows", "-4"], "--replicate-hot-rows",
         "accepted: a whole number >= 0"),
        (sweep + ["--workers", "0", "--scheduler", "pool"], "--workers",
         "accepted: a positive integer"),
        (sweep + ["--seed", "x"], "--seed", "accepted: a whole number >= 0"),
    ]
    for argv, option, accepted in cases:
        line = refused(argv, capsys)
        assert option in line and accepted in line, line


def test_options_that_do_not_apply_are_refused(workload_file: str, tmp_path: Path,
                                               capsys) -> None:
    sim = ["simulate", "--profile", "hbm2_pim", "--workload", workload_file]
    sweep = ["sweep", "--profile", "hbm2_pim", "--workload", workload_file, "--set",
             "pim.units_per_channel=8", "--out", str(tmp_path / "sw")]
    cases = [
        (sim + ["--batch", "8"], "--batch: only --spec reads it"),
        (sim + ["--plan", "p.json"], "--plan: only --spec reads it"),
        (sim + ["--dataset", "criteo", "--plan", "p.json"],
         "--dataset and --plan: only --spec reads them"),
        (sweep + ["--batch", "8"], "--batch: only --spec reads it"),
        # the small workload pools its table on the host: nothing to replicate
        (sim + ["--replicate-hot-rows", "4"], "no embedding kernel placed on pim"),
        (["simulate", "--profile", "hbm2", "--workload", workload_file,
          "--replicate-hot-rows", "4"], "profile 'hbm2' has no pim section"),
        (sweep + ["--workers", "2"], "--workers 2: --scheduler serial does not start"),
        (sweep + ["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
         "--workers 2: --scheduler tcp://127.0.0.1:1 does not start processes"),
        (sim + ["--out", str(tmp_path / "t.txt")],
         "unknown trace format .txt; accepted: a path ending in .parquet or .csv"),
        (sim + ["--out", str(tmp_path / "t.csv"), "--timeline", str(tmp_path / "t.csv")],
         "--out writes the same file"),
        (["profile", "import-dramsim3", "x.ini", "--name", " "],
         "accepted: a non-empty profile name"),
        (["simulate", "--profile", "hbm2_pim", "--spec", "s.json"], "--spec needs --dataset"),
    ]
    for argv, why in cases:
        line = refused(argv, capsys)
        assert why in line, line
    assert not (tmp_path / "sw").exists()  # nothing ran, nothing was written


def test_zero_replication_and_a_new_output_folder_are_fine(workload_file: str, tmp_path: Path,
                                                           capsys) -> None:
    out = tmp_path / "a" / "b" / "t.csv"
    assert main(["simulate", "--profile", "hbm2_pim", "--workload", workload_file,
                 "--replicate-hot-rows", "0", "--out", str(out)]) == 0
    assert out.is_file() and "trace:" in capsys.readouterr().out
