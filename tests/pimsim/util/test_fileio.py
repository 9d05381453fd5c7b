"""pimsim.util.fileio: every form writes the whole file or leaves the old one, no temporaries."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from pimsim.errors import TraceFormatError
from pimsim.util.fileio import (
    atomic_write,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    read_text,
)


def test_each_form_writes_and_leaves_no_temporary(tmp_path: Path) -> None:
    assert atomic_write_text(tmp_path / "a" / "t.txt", "é\n").read_text(encoding="utf-8") == "é\n"
    assert atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    assert json.loads(atomic_write_json(tmp_path / "c.json", {"k": [1, 2]}).read_text()) == {
        "k": [1, 2]}
    path = atomic_write(tmp_path / "d.txt", lambda tmp: Path(tmp).write_text("by name"))
    assert path == tmp_path / "d.txt" and path.read_text() == "by name"
    names = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert names == ["b.bin", "c.json", "d.txt", "t.txt"]


def test_a_failing_writer_keeps_the_old_file(tmp_path: Path) -> None:
    target = atomic_write_text(tmp_path / "keep.txt", "old")

    def half_then_fail(tmp: str) -> None:
        Path(tmp).write_text("half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        atomic_write(target, half_then_fail)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_read_text_names_the_file_in_the_callers_error(tmp_path: Path) -> None:
    (tmp_path / "bad.trace").write_bytes(b"\xff\xfe")
    for name in ("absent.trace", "bad.trace"):
        with pytest.raises(TraceFormatError, match=rf"{name}: cannot read the trace: "):
            read_text(tmp_path / name, TraceFormatError, "the trace")


def test_written_files_get_the_permissions_of_a_plain_open(tmp_path: Path) -> None:
    """0666 less the umask, as ``open(path, "w")`` gives (a temporary file alone is 0600)."""
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    expected = stat.S_IMODE(os.stat(plain).st_mode)
    for name, write in [("t.txt", lambda p: atomic_write_text(p, "x")),
                        ("b.bin", lambda p: atomic_write_bytes(p, b"x")),
                        ("j.json", lambda p: atomic_write_json(p, {"a": 1})),
                        ("w.bin", lambda p: atomic_write(p, lambda tmp: Path(tmp).write_bytes(b"x")))]:
        write(tmp_path / name)
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == expected, name
