"""The one exception family of codesign.

Every message names where the bad input is (file, line or key path), the value found and
what is accepted. The CLI prints the message and exits with status 2. :func:`read_json_file`
reads the JSON inputs (specs, plans, genomes) with such messages.
"""

from __future__ import annotations

import json
import os
from typing import Any

from pimsim.util.fileio import read_text


class CodesignError(Exception):
    """Base of every error codesign raises on bad input or an impossible request."""


class DataFormatError(CodesignError):
    """A raw or cached data file is malformed."""


class SpecError(CodesignError):
    """A subnet spec, PIM plan or search-space description is invalid."""


def read_json_file(path: str | os.PathLike[str], error: type[CodesignError] = CodesignError,
                   what: str = "a JSON file") -> Any:
    """The parsed JSON of the UTF-8 file ``path``; an unreadable file, bytes that are not
    UTF-8 (with their offset, :func:`pimsim.util.fileio.read_text`) or malformed JSON (with
    its line and column) raise ``error`` with one line naming the file."""
    text = read_text(path, error, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}; accepted: "
                    f"{what}") from None
