"""The one exception family of codesign.

Every message names where the bad input is (file, line or key path), the value found and
what is accepted. The CLI prints the message and exits with status 2.
"""

from __future__ import annotations


class CodesignError(Exception):
    """Base of every error codesign raises on bad input or an impossible request."""


class DataFormatError(CodesignError):
    """A raw or cached data file is malformed."""


class SpecError(CodesignError):
    """A subnet spec, PIM plan or search-space description is invalid."""
