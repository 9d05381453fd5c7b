"""Every output path of pimsim's commands is checked before any work starts, and every
input file that is not UTF-8 text is one line naming the file and the byte offset."""

from __future__ import annotations

from pathlib import Path

import pytest

from pimsim.cli import main
from pimsim.workload.graph import Workload, save_workload
from tests.helpers.shared import DRAMSIM3_REFERENCE

#: A profile name that does not exist: loading it is the first piece of work a command
#: does, so an error about the output path (and not the profile) shows the check ran first.
NO_PROFILE = "no_such_profile_anywhere"
#: Bytes that are not UTF-8 (a Latin-1 'é'), put after a valid first line.
LATIN1 = b"name: caf\xe9\n"


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def blocker(tmp_path: Path) -> Path:
    """A regular file: no output can be written below it."""
    path = tmp_path / "a_file"
    path.write_text("x")
    return path


@pytest.mark.parametrize("option", ["--out", "--chrome", "--timeline"])
def test_simulate_checks_each_output_before_the_work(option: str, blocker: Path,
                                                     tmp_path: Path, capsys) -> None:
    target = blocker / "sub" / ("t.parquet" if option == "--out" else "t.png")
    rc = main(["simulate", "--profile", NO_PROFILE, "--workload", str(tmp_path / "none.yaml"),
               option, str(target)])
    line = one_error_line(capsys)
    assert rc == 2 and line.startswith(f"pimsim: error: {option} {target}: ")
    assert "is a file, not a folder" in line and NO_PROFILE not in line


def test_sweep_replay_import_and_compare_check_their_outputs_first(blocker: Path, tmp_path: Path,
                                                                capsys) -> None:
    runs = [
        (["sweep", "--profile", NO_PROFILE, "--workload", "w.yaml", "--set",
          "dram.channels=4,8", "--out", str(blocker)], "--out", "is a file"),
        (["replay", "--profile", NO_PROFILE, "--trace", str(tmp_path / "none.trace"),
          "--out", str(blocker / "s.csv")], "--out", "is a file, not a folder"),
        (["profile", "import-dramsim3", str(tmp_path / "none.ini"), "-o",
          str(blocker / "p.yaml")], "--output", "is a file, not a folder"),
        (["simulate", "--profile", NO_PROFILE, "--workload", "w.yaml", "--out",
          str(tmp_path)], "--out", "is a folder; accepted: a file path"),
    ]
    for argv, option, why in runs:
        assert main(argv) == 2, argv
        line = one_error_line(capsys)
        assert f"{option} " in line and why in line and NO_PROFILE not in line, line
    assert main(["compare", "--profile", NO_PROFILE, "--out", str(blocker / "map")]) == 2
    line = one_error_line(capsys)
    assert f"--out {blocker / 'map'}" in line and "is a file, not a folder" in line
    assert NO_PROFILE not in line


def test_input_files_that_are_not_utf8_name_the_file_and_the_byte(
        tmp_path: Path, small_workload: Workload, capsys) -> None:
    bad = {}
    for name, head in (("w.yaml", b"# workload\n"), ("w.json", b"{\n"), ("p.yaml", b"# p\n"),
                       ("s.json", b"{}\n"), ("plan.json", b"{}\n"), ("r.trace", b"0x0 READ 0\n"),
                       ("d.ini", b"[dram_structure]\n"), ("idx.txt", b"1 2\n")):
        bad[name] = tmp_path / name
        bad[name].write_bytes(head + LATIN1)
    good_spec = tmp_path / "good.json"
    good_spec.write_text("{}")
    indexed = Workload(name="indexed", tables=small_workload.tables, kernels=[
        {"op": "embedding_bag", "name": "e", "table": "t0", "batch": 1,
         "indices_file": str(bad["idx.txt"])}])
    runs = [
        (["simulate", "--profile", "hbm2", "--workload", str(bad["w.yaml"])], "w.yaml"),
        (["simulate", "--profile", "hbm2", "--workload", str(bad["w.json"])], "w.json"),
        (["simulate", "--profile", str(bad["p.yaml"]), "--workload", "x.yaml"], "p.yaml"),
        (["simulate", "--profile", "hbm2", "--spec", str(bad["s.json"]), "--dataset",
          "criteo"], "s.json"),
        (["simulate", "--profile", "hbm2", "--spec", str(good_spec), "--dataset", "criteo",
          "--plan", str(bad["plan.json"])], "plan.json"),
        (["replay", "--profile", "hbm2", "--trace", str(bad["r.trace"])], "r.trace"),
        (["profile", "import-dramsim3", str(bad["d.ini"])], "d.ini"),
        (["profile", "check", str(bad["p.yaml"])], "p.yaml"),
        (["simulate", "--profile", "ddr4_3200", "--workload",
          str(save_workload(indexed, tmp_path / "indexed.yaml"))], "idx.txt"),
    ]
    for argv, name in runs:
        assert main(argv) == 2, argv
        line = one_error_line(capsys)
        offset = len(bad[name].read_bytes()) - len(LATIN1) + len(b"name: caf")
        assert f"{bad[name]}: cannot read " in line, line
        assert f"not UTF-8 text: byte {offset} (line 2) is 0xe9" in line, line


@pytest.mark.skipif(not (DRAMSIM3_REFERENCE / "HBM2_8Gb_x128.ini").is_file(),
                    reason="shared/reference/dramsim3 absent")
def test_outputs_are_written_where_the_check_let_them(tmp_path: Path, capsys) -> None:
    out = tmp_path / "new" / "folder" / "hbm2.yaml"
    assert main(["profile", "import-dramsim3", str(DRAMSIM3_REFERENCE / "HBM2_8Gb_x128.ini"),
                 "-o", str(out)]) == 0
    assert out.is_file() and "wrote" in capsys.readouterr().out
