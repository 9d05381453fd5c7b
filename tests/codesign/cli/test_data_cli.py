"""``codesign data synth`` / ``codesign data prepare``: outputs and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from codesign.cli.main import main
from codesign.data.cache import SPLIT_SEED, CtrData
from codesign.data.prepare import DEFAULT_CHUNK_ROWS


def test_synth_then_prepare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "train.txt"
    assert main(["data", "synth", "--schema", "criteo", "--rows", "500", "--out", str(raw), "--seed", "4", "--quiet"]) == 0
    assert str(raw) in capsys.readouterr().out
    out = tmp_path / "cache"
    rc = main(["data", "prepare", "--dataset", "criteo", "--raw", str(raw), "--out", str(out), "--cap", "64", "--strict"])
    assert rc == 0
    captured = capsys.readouterr()
    assert "500 rows" in captured.out and "no malformed lines" in captured.err
    data = CtrData.open(out)
    assert data.n_rows == 500 and max(data.schema.cardinalities) == 64


def test_kdd_cli_folder(tmp_path: Path) -> None:
    assert main(["data", "synth", "--schema", "kdd", "--rows", "300", "--out", str(tmp_path / "k"), "--quiet"]) == 0
    assert main(["data", "prepare", "--dataset", "kdd", "--raw", str(tmp_path / "k"), "--out", str(tmp_path / "c"), "--quiet"]) == 0
    assert CtrData.open(tmp_path / "c").n_rows == 300


def test_errors_exit_2_with_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "train.txt"
    empty.write_bytes(b"")
    assert main(["data", "prepare", "--dataset", "criteo", "--raw", str(empty), "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("codesign: error:") and "empty file" in err and "Traceback" not in err
    bad = tmp_path / "bad.txt"
    bad.write_text("1\t2\n")
    assert main(["data", "prepare", "--dataset", "criteo", "--raw", str(bad), "--out", str(tmp_path / "c"), "--strict", "--quiet"]) == 2
    assert f"{bad}:1: wrong field count (2, expected 40)" in capsys.readouterr().err


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["data", "synth", "--schema", "criteo", "--rows", "-5", "--out", str(tmp_path / "x")])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["data", "prepare", "--dataset", "netflix", "--raw", "x", "--out", "y"])
    assert info.value.code == 2


def test_prepare_help_names_the_hash_and_the_defaults_the_code_uses(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["data", "prepare", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "splitmix64" in text and "FNV" not in text
    assert f"split seed (default: {SPLIT_SEED})" in text
    assert f"lines per chunk (default: {DEFAULT_CHUNK_ROWS})" in text
