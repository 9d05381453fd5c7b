"""codesign: NASRec-style weight-sharing supernet and PIM co-search for CTR models."""

from codesign.errors import CodesignError, DataFormatError, SpecError

__all__ = ["CodesignError", "DataFormatError", "SpecError"]
__version__ = "0.1.0"
