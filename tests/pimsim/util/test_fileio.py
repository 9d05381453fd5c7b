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
    check_writable,
    decode_text,
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


def test_read_text_gives_the_byte_offset_of_bad_utf8_in_a_large_file(tmp_path: Path) -> None:
    """The offset counts from the start of the file (the text reader decodes in chunks of
    8 KiB, so its own error counts from the start of a chunk), with the line it is on."""
    lines = b"".join(b"%05d\n" % i for i in range(4000))  # 24,000 bytes, lines 1..4000
    (tmp_path / "w.yaml").write_bytes(lines + b"name: caf\xe9\n")
    with pytest.raises(TraceFormatError) as info:
        read_text(tmp_path / "w.yaml", TraceFormatError, "the workload")
    msg = str(info.value)
    assert f"{tmp_path / 'w.yaml'}: cannot read the workload: not UTF-8 text: " in msg
    assert "byte 24009 (line 4001) is 0xe9" in msg and "\n" not in msg


def test_decode_text_counts_from_where_a_piece_starts() -> None:
    """A reader that decodes a file in pieces gives the offset and line in the whole file."""
    with pytest.raises(TraceFormatError, match=r"t.trace: cannot read the trace: not UTF-8 "
                       r"text: byte 1005 \(line 12\) is 0xff"):  # 1000 + len(b"ok\nab")
        decode_text(b"ok\nab\xff", "t.trace", TraceFormatError, "the trace", start=1000,
                    line=11)


def test_read_text_reads_newlines_as_a_text_file_does(tmp_path: Path) -> None:
    (tmp_path / "crlf.txt").write_bytes("a\r\nb\rc\né".encode())
    assert read_text(tmp_path / "crlf.txt", TraceFormatError, "text") == "a\nb\nc\né"


def test_check_writable_accepts_new_paths_and_refuses_the_impossible(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "dir").mkdir()
    ok = [(tmp_path / "t.json", False), (tmp_path / "new" / "deeper" / "t.json", False),
          (tmp_path / "dir", True), (tmp_path / "new_dir" / "sub", True),
          (tmp_path / "file.txt", False)]
    for path, folder in ok:
        assert check_writable(path, TraceFormatError, "--out", folder=folder) == path
    assert not (tmp_path / "new").exists() and not (tmp_path / "new_dir").exists()  # nothing made
    bad = [(tmp_path / "file.txt" / "t.json", False, "file.txt is a file, not a folder"),
           (tmp_path / "file.txt" / "a" / "b", True, "file.txt is a file, not a folder"),
           (tmp_path / "dir", False, "is a folder; accepted: a file path"),
           (tmp_path / "file.txt", True, "is a file; accepted: a folder")]
    for path, folder, why in bad:
        with pytest.raises(TraceFormatError, match=rf"^--chrome {path}: .*{why}"):
            check_writable(path, TraceFormatError, "--chrome", folder=folder)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_check_writable_refuses_a_read_only_folder(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(TraceFormatError, match="is not writable"):
            check_writable(ro / "t.json", TraceFormatError, "--out")
    finally:
        ro.chmod(0o700)
