"""The compiled scanner of DRAMsim3-format trace lines (pimsim.requests.tracefile): bytes
in, address / write / cycle arrays out, one pass, no intermediate strings.

It accepts exactly what :data:`pimsim.requests.tracefile.LINE` describes (leading zeros
allowed, at most 16 significant hex digits, a cycle of at most 19 significant digits and
at most 2**63 - 1) and stops at the first line it does not accept, or whose cycle is below
the previous request's; the reader then describes that line.
"""

from __future__ import annotations

import numpy as np

from pimsim.util.jit import njit

#: scanner state, kept from one block of a file to the next: the last request's cycle (-1
#: before the first), lines consumed so far, line number of the last request
ST_PREV_CYCLE, ST_LINES, ST_PREV_LINE = range(3)
N_ST = 3
#: what stopped a scan: nothing (the block is consumed), a malformed line, a cycle below
#: the previous one
SCAN_OK, SCAN_BAD_LINE, SCAN_DECREASING = range(3)
#: bytes of the shortest valid line, "0x0 read 0\n": a block of B bytes holds at most
#: B // MIN_LINE_BYTES + 1 requests
MIN_LINE_BYTES = 11

_NL, _HASH, _ZERO, _X, _SPACE = 10, 35, 48, 120, 32
_MAX_I64 = np.uint64((1 << 63) - 1)

#: value of each byte as a hex digit, -1 for a byte that is not one (the fast path's
#: table: one load instead of two range tests)
_HEX_DIGIT = np.full(256, -1, dtype=np.int8)
_HEX_DIGIT[48:58] = np.arange(10)
_HEX_DIGIT[97:103] = np.arange(10, 16)
_HEX_DIGIT[65:71] = np.arange(10, 16)
#: bytes the fast path may read from a line's start: "0x", 16 hex digits (a 17th ends the
#: read and refuses the line), a space, "write ", up to 19 decimal digits (a 19th refuses
#: the line) and the byte after them
FAST_LINE_BYTES = 2 + 16 + 1 + 6 + 19 + 1


@njit(inline="always")
def _is_space(ch):  # noqa: ANN001, ANN201
    return ch == 32 or ch == 9 or ch == 13 or ch == 11 or ch == 12


@njit(inline="always")
def _hex_value(ch):  # noqa: ANN001, ANN201
    if 48 <= ch <= 57:
        return np.int64(ch - 48)
    low = ch | 32
    if 97 <= low <= 102:
        return np.int64(low - 87)
    return np.int64(-1)


@njit(inline="always")
def _word_at(buf, p, e, word):  # noqa: ANN001, ANN201
    """``buf[p:e]`` starts with ``word`` (lower-case ASCII codes), in any case."""
    if p + word.shape[0] > e:
        return False
    for i in range(word.shape[0]):
        if (buf[p + i] | 32) != word[i]:
            return False
    return True


@njit(inline="always")
def _line_end(buf, p, n):  # noqa: ANN001, ANN201
    """The first newline at or after ``p`` (``n``: none in ``buf[:n]``)."""
    while p < n and buf[p] != _NL:
        p += 1
    return p


@njit(inline="always")
def _fast_line(buf, p):  # noqa: ANN001, ANN201
    """The line at ``p`` if it has the shape trace writers emit: ``0x<hex> READ|WRITE
    <decimal>`` then a newline, single spaces, no leading zeros, at most 16 hex and 18
    decimal digits (so the cycle fits in int64 unchecked). Returns (position of the
    newline, address, is_write, cycle), the position -1 for any other line, which the
    general path then reads. Reads at most :data:`FAST_LINE_BYTES` bytes from ``p``."""
    zero = np.uint64(0)
    if buf[p] != _ZERO or (buf[p + 1] | 32) != _X:
        return -1, zero, 0, zero
    p += 2
    d = _HEX_DIGIT[buf[p]]
    if d <= 0:  # not a digit, or a leading zero
        return -1, zero, 0, zero
    a = zero
    digits = 0
    while d >= 0 and digits < 17:
        a = (a << np.uint64(4)) | np.uint64(d)
        digits += 1
        p += 1
        d = _HEX_DIGIT[buf[p]]
    if digits > 16 or buf[p] != _SPACE:
        return -1, zero, 0, zero
    p += 1
    is_write = 0
    if ((buf[p] | 32) == 114 and (buf[p + 1] | 32) == 101 and (buf[p + 2] | 32) == 97
            and (buf[p + 3] | 32) == 100 and buf[p + 4] == _SPACE):
        p += 5
    elif ((buf[p] | 32) == 119 and (buf[p + 1] | 32) == 114 and (buf[p + 2] | 32) == 105
            and (buf[p + 3] | 32) == 116 and (buf[p + 4] | 32) == 101
            and buf[p + 5] == _SPACE):
        p += 6
        is_write = 1
    else:
        return -1, zero, 0, zero
    ch = buf[p]
    if ch < 48 or ch > 57 or (ch == _ZERO and 48 <= buf[p + 1] <= 57):
        return -1, zero, 0, zero
    c = zero
    digits = 0
    while 48 <= ch <= 57 and digits < 19:
        c = c * np.uint64(10) + np.uint64(ch - 48)
        digits += 1
        p += 1
        ch = buf[p]
    if digits > 18 or ch != _NL:
        return -1, zero, 0, zero
    return p, a, is_write, c


@njit(cache=True, nogil=True)
def scan_block(buf, n, final, addr, wr, cyc, st):  # noqa: ANN001, ANN201
    """Parse the whole lines of ``buf[:n]`` (all of it when ``final``) into ``addr`` /
    ``wr`` / ``cyc``. Returns (requests parsed, bytes consumed, SCAN_* status, start and
    end of the offending line); ``st`` (ST_*) carries over to the next block.

    One pass over the bytes: a line is parsed as it is read, first by the fast path
    (:func:`_fast_line`) where the block has room for it, else by the general one, whose
    rules are the module docstring's; a line's end is searched for apart only after a
    comment, or when the line does not parse (to tell a line the end of the block cut
    from a malformed one)."""
    read_w = np.array([114, 101, 97, 100], dtype=np.uint8)
    write_w = np.array([119, 114, 105, 116, 101], dtype=np.uint8)
    k = 0
    i = 0
    prev = st[ST_PREV_CYCLE]
    lines = st[ST_LINES]
    prev_line = st[ST_PREV_LINE]
    status = SCAN_OK
    lo = 0
    hi = 0
    fast_end = n - FAST_LINE_BYTES
    while i < n:
        if i < fast_end:
            e, a, is_write, c = _fast_line(buf, i)
            if e >= 0 and np.int64(c) >= prev:
                addr[k] = a
                wr[k] = is_write
                cyc[k] = np.int64(c)
                k += 1
                prev = np.int64(c)
                lines += 1
                prev_line = lines
                i = e + 1
                continue
        p = i
        while p < n and _is_space(buf[p]):
            p += 1
        if p < n and buf[p] == _NL:  # a blank line
            lines += 1
            i = p + 1
            continue
        if p == n or buf[p] == _HASH:  # a blank last line, or a comment
            e = _line_end(buf, p, n)
            if e == n and not final:
                break
            lines += 1
            i = e + 1
            continue
        ok = False
        a = np.uint64(0)
        c = np.uint64(0)
        is_write = 0
        if p + 1 < n and buf[p] == _ZERO and (buf[p + 1] | 32) == _X:
            p += 2
            digits = 0
            significant = 0
            while p < n:
                d = _hex_value(buf[p])
                if d < 0:
                    break
                if significant > 0 or d != 0:
                    significant += 1
                a = (a << np.uint64(4)) | np.uint64(d)
                digits += 1
                p += 1
            if digits > 0 and significant <= 16 and p < n and _is_space(buf[p]):
                while p < n and _is_space(buf[p]):
                    p += 1
                op_len = 0
                if _word_at(buf, p, n, read_w):
                    op_len = 4
                elif _word_at(buf, p, n, write_w):
                    op_len = 5
                    is_write = 1
                p += op_len
                if op_len and p < n and _is_space(buf[p]):
                    while p < n and _is_space(buf[p]):
                        p += 1
                    digits = 0
                    significant = 0
                    while p < n and 48 <= buf[p] <= 57:
                        d = np.uint64(buf[p] - 48)
                        if significant > 0 or d != 0:
                            significant += 1
                        if significant <= 19:
                            c = c * np.uint64(10) + d
                        digits += 1
                        p += 1
                    if digits > 0 and significant <= 19 and c <= _MAX_I64:
                        while p < n and _is_space(buf[p]):
                            p += 1
                        ok = p == n or buf[p] == _NL or buf[p] == _HASH
        e = p if ok and p < n and buf[p] == _NL else _line_end(buf, p, n)
        if e == n and not final:
            break  # the line goes on in the next block (cut, it may yet parse)
        if not ok:
            status, lo, hi = SCAN_BAD_LINE, i, e
            break
        cycle = np.int64(c)
        if cycle < prev:
            status, lo, hi = SCAN_DECREASING, i, e
            break
        addr[k] = a
        wr[k] = is_write
        cyc[k] = cycle
        k += 1
        prev = cycle
        lines += 1
        prev_line = lines
        i = e + 1
    st[ST_PREV_CYCLE] = prev
    st[ST_LINES] = lines
    st[ST_PREV_LINE] = prev_line
    return k, min(i, n), status, lo, hi
