"""DRAMsim3-format trace files: round trip, accepted variants, malformed lines."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from pimsim.errors import TraceFormatError
from pimsim.requests.arrays import Requests
from pimsim.requests.tracefile import iter_trace, read_trace, write_trace


def test_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    n = 20_000
    addresses = rng.integers(0, 2**48, n, dtype=np.uint64) * np.uint64(64)
    addresses[0] = np.uint64(2**64 - 1)
    addresses[1] = 0
    is_write = rng.random(n) < 0.3
    cycles = np.sort(rng.integers(0, 10**12, n)).astype(np.int64)
    path = write_trace(tmp_path / "t.trace", addresses, is_write, cycles)
    trace = read_trace(path)
    assert isinstance(trace, Requests) and len(trace) == n and trace.name == str(path)
    assert trace.addresses.dtype == np.uint64
    assert trace.is_write.dtype == np.bool_
    assert trace.arrival_cycles.dtype == np.int64
    np.testing.assert_array_equal(trace.addresses, addresses)
    np.testing.assert_array_equal(trace.is_write, is_write)
    np.testing.assert_array_equal(trace.arrival_cycles, cycles)
    assert [p.name for p in tmp_path.iterdir()] == ["t.trace"]  # no temporary file left
    first = path.read_text().splitlines()[0]
    assert first == f"0xffffffffffffffff {'WRITE' if is_write[0] else 'READ'} {cycles[0]}"


def test_accepted_variants(tmp_path: Path) -> None:
    path = tmp_path / "v.trace"
    path.write_text(
        "# a header comment\n"
        "\n"
        "0x40 READ 0\n"
        "0X0000AbC0\twrite   5   # trailing comment\n"
        "   0x0 read 5\n"
        "0x00000000000000000000ff WRITE 7\n"  # leading zeros beyond 16 digits
        "\n"
    )
    trace = read_trace(path)
    np.testing.assert_array_equal(trace.addresses, np.array([0x40, 0xABC0, 0, 0xFF], np.uint64))
    np.testing.assert_array_equal(trace.is_write, [False, True, False, True])
    np.testing.assert_array_equal(trace.arrival_cycles, [0, 5, 5, 7])


def test_empty_files(tmp_path: Path) -> None:
    for text in ("", "\n\n", "# only a comment\n"):
        path = tmp_path / "e.trace"
        path.write_text(text)
        assert len(read_trace(path)) == 0


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("0x40 READ", "2 field(s), expected 3"),
        ("0x40 READ 5 9", "4 field(s), expected 3"),
        ("40 READ 5", "is not a 0x-prefixed hex number"),
        ("0xZZ READ 5", "is not a 0x-prefixed hex number"),
        ("0x40 LOAD 5", "neither READ nor WRITE"),
        ("0x40 READ -5", "not a non-negative decimal integer"),
        ("0x40 READ 5.0", "not a non-negative decimal integer"),
        ("0x40 READ 0x10", "not a non-negative decimal integer"),
        ("0x40 \"READ 5", "neither READ nor WRITE"),
        ("0x1ffffffffffffffff READ 5", "too large"),
    ],
)
def test_malformed_lines(tmp_path: Path, line: str, why: str) -> None:
    path = tmp_path / "bad.trace"
    path.write_text(f"0x0 READ 0\n# comment\n\n{line}\n0x80 READ 9\n")
    with pytest.raises(TraceFormatError) as info:
        read_trace(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}:4: {line!r}: ")
    assert why in msg
    assert "accepted: '0x<hex address> READ|WRITE <decimal cycle>'" in msg


def test_decreasing_cycles(tmp_path: Path) -> None:
    path = tmp_path / "d.trace"
    path.write_text("0x0 READ 10\n0x40 READ 12\n\n0x80 WRITE 11\n")
    with pytest.raises(TraceFormatError, match=rf"^{path}:4: .*arrival cycle 11 is less than 12 "
                                               r"on line 2; accepted: non-decreasing"):
        read_trace(path)


def test_unreadable(tmp_path: Path) -> None:
    with pytest.raises(TraceFormatError, match="cannot read"):
        read_trace(tmp_path / "absent.trace")


def test_write_rejects_bad_arrays(tmp_path: Path) -> None:
    path = tmp_path / "w.trace"
    # the engine's request checks (pimsim.dram.validate_requests), named after the file
    with pytest.raises(TraceFormatError, match=rf"^{path}: is_write: length 1 differs"):
        write_trace(path, [0, 64], [False], [0, 1])
    with pytest.raises(TraceFormatError, match=r"arrival_cycles\[1\] = 3 is before "
                                               r"arrival_cycles\[0\] = 5; accepted: non-decr"):
        write_trace(path, [0, 64], [False, True], [5, 3])
    with pytest.raises(TraceFormatError, match=r"addresses\[0\] = -64 is negative"):
        write_trace(path, [-64, 0], [False, True], [0, 3])
    with pytest.raises(TraceFormatError, match="dtype float64 not accepted"):
        write_trace(path, [0.5, 0], [False, True], [0, 3])
    with pytest.raises(TraceFormatError, match=r"arrival_cycles\[0\] = -1 is negative"):
        write_trace(path, [0, 64], [False, True], [-1, 3])
    assert not path.exists()
    write_trace(path, np.zeros(0, np.uint64), np.zeros(0, bool), np.zeros(0, np.int64))
    assert path.read_text() == "" and len(read_trace(path)) == 0


def _compressed(tmp_path: Path, text: bytes) -> list[Path]:
    gz = tmp_path / "t.trace.gz"
    gz.write_bytes(gzip.compress(text))
    zst = tmp_path / "t.zst.trace"  # told by its first bytes, not its name
    zst.write_bytes(zstandard.ZstdCompressor().compress(text))
    return [gz, zst]


def test_gzip_and_zstd_read_as_their_text(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 5000
    addresses = rng.integers(0, 2**40, n, dtype=np.uint64)
    is_write = rng.random(n) < 0.4
    cycles = np.cumsum(rng.integers(0, 9, n)).astype(np.int64)
    plain = write_trace(tmp_path / "p.trace", addresses, is_write, cycles)
    for path in _compressed(tmp_path, plain.read_bytes()):
        trace = read_trace(path)
        np.testing.assert_array_equal(trace.addresses, addresses)
        np.testing.assert_array_equal(trace.is_write, is_write)
        np.testing.assert_array_equal(trace.arrival_cycles, cycles)


def test_blocks_of_any_size(tmp_path: Path) -> None:
    """Lines cut by block boundaries, a line longer than a block, no final newline."""
    text = ("# header\n0x40 READ 0\n\n0xabc0 write 5   # c\n   0x0 read 5\n"
            "0x00000000000000000000ff WRITE 7\n" + " " * 40 + "0x1 READ 8")
    path = tmp_path / "b.trace"
    path.write_text(text)
    for block in (16, 17, 23, 64, 1 << 20):
        parts = list(iter_trace(path, block_bytes=block))
        assert sum(len(p) for p in parts) == 5
        np.testing.assert_array_equal(np.concatenate([p.addresses for p in parts]),
                                      np.array([0x40, 0xABC0, 0, 0xFF, 1], np.uint64))
        np.testing.assert_array_equal(np.concatenate([p.arrival_cycles for p in parts]),
                                      [0, 5, 5, 7, 8])


@pytest.mark.parametrize("block", [16, 40, 1 << 20])
def test_errors_name_the_line_across_blocks(tmp_path: Path, block: int) -> None:
    lines = [f"0x{i * 64:x} READ {i}" for i in range(30)]
    bad = lines.copy()
    bad[20] = "0x500 READ 3"
    path = tmp_path / "d.trace"
    path.write_text("\n".join(bad) + "\n")
    with pytest.raises(TraceFormatError, match=rf"^{path}:21: '0x500 READ 3': arrival cycle 3 "
                                               r"is less than 19 on line 20"):
        read_trace(path) if block == 1 << 20 else list(iter_trace(path, block_bytes=block))
    bad = lines.copy()
    bad[25] = "0x500 FETCH 30"
    path.write_text("\n".join(bad) + "\n")
    for source in _compressed(tmp_path, path.read_bytes()) + [path]:
        with pytest.raises(TraceFormatError, match=rf"^{source}:26: '0x500 FETCH 30': "
                                                   "operation 'FETCH'"):
            list(iter_trace(source, block_bytes=block))


def test_corrupt_compressed_file(tmp_path: Path) -> None:
    path = tmp_path / "c.trace.gz"
    path.write_bytes(gzip.compress(b"0x0 READ 0\n" * 1000)[:40])
    with pytest.raises(TraceFormatError, match=rf"^{path}: cannot read the trace"):
        read_trace(path)


def _reference_parse(text: str) -> tuple[list[int], list[bool], list[int]]:
    """Python's own reading of the accepted lines (fields split on white space, comments
    cut), independent of the compiled scanner."""
    addr, wr, cyc = [], [], []
    for line in text.splitlines():
        body = line.split("#", 1)[0].split()
        if not body:
            continue
        a, op, c = body
        addr.append(int(a, 16))
        wr.append(op.lower() == "write")
        cyc.append(int(c))
    return addr, wr, cyc


_VARIANTS = [
    "0x{a:x} READ {c}", "0x{a:X} write {c}", "0X{a:x} Read {c}", "0x{a:016x} READ {c}",
    "0x0000000000000000000{a:x} WRITE {c}", "0x{a:x}\tREAD\t{c}", "  0x{a:x}  READ  {c}  ",
    "0x{a:x} READ {c}\r", "0x{a:x} READ 000{c}", "0x{a:x} WRITE {c} # note", "# comment", "",
]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_fast_and_general_paths_agree(tmp_path_factory: pytest.TempPathFactory,
                                      data: st.DataObject) -> None:
    """Lines of the writers' shape (read by the fast path) mixed with every accepted
    variant (the general path), at every distance from a block's end, read as Python
    reads them; the largest address and cycle take the general path's range checks."""
    n = data.draw(st.integers(1, 120))
    kinds = data.draw(st.lists(st.integers(-1, len(_VARIANTS) - 1), min_size=n, max_size=n))
    big = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    lines = []
    cycle = 0
    for i, (kind, large) in enumerate(zip(kinds, big)):
        cycle += i % 3
        a = 2**64 - 1 if large and i % 5 == 0 else (i * 2654435761) % 2**40
        c = 2**63 - 1 if large and i == n - 1 else cycle
        form = "0x{a:x} READ {c}" if kind < 0 else _VARIANTS[kind]
        lines.append(form.format(a=a, c=c))
    text = "\n".join(lines) + data.draw(st.sampled_from(["", "\n"]))
    path = tmp_path_factory.mktemp("fast") / "t.trace"
    path.write_text(text)
    want_a, want_w, want_c = _reference_parse(text)
    block = data.draw(st.sampled_from([64, 100, 257, 1 << 20]))
    parts = list(iter_trace(path, block_bytes=block))
    got = [np.concatenate([getattr(p, f) for p in parts]) if parts else np.zeros(0)
           for f in ("addresses", "is_write", "arrival_cycles")]
    assert got[0].astype(object).tolist() == want_a
    assert got[1].tolist() == want_w
    assert got[2].tolist() == want_c


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("0x1ffffffffffffffff READ 5", "too large"),
        ("0x40 READ 9223372036854775808", "too large"),
        ("0x40 READ 5 9", "4 field(s), expected 3"),
        ("0x40 READX 5", "neither READ nor WRITE"),
    ],
)
def test_malformed_line_amid_many(tmp_path: Path, line: str, why: str) -> None:
    """A bad line far from the end of its block (where the fast path reads) is refused
    with the same message as at the end."""
    good = [f"0x{64 * i:x} READ {i}" for i in range(200)]
    path = tmp_path / "m.trace"
    path.write_text("\n".join(good[:100] + [line] + good[100:]) + "\n")
    with pytest.raises(TraceFormatError) as info:
        read_trace(path)
    assert str(info.value).startswith(f"{path}:101: {line!r}: ")
    assert why in str(info.value)
