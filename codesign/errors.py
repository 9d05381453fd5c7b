"""The one exception family of codesign.

Every message names where the bad input is (file, line or key path), the value found and
what is accepted. The CLI prints the message and exits with status 2. :func:`read_json_file`
reads the JSON inputs (specs, plans, genomes) with such messages.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class CodesignError(Exception):
    """Base of every error codesign raises on bad input or an impossible request."""


class DataFormatError(CodesignError):
    """A raw or cached data file is malformed."""


class SpecError(CodesignError):
    """A subnet spec, PIM plan or search-space description is invalid."""


def read_json_file(path: str | os.PathLike[str], error: type[CodesignError] = CodesignError,
                   what: str = "a JSON file") -> Any:
    """The parsed JSON of the UTF-8 file ``path``; an unreadable file, bytes that are not
    UTF-8 (with their offset) or malformed JSON (with its line and column) raise ``error``
    with one line naming the file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise error(f"{p}: cannot read: {exc.strerror or exc}; accepted: {what}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{p}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                    f"accepted: {what} in UTF-8") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{p}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}; accepted: "
                    f"{what}") from None
