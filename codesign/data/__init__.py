"""CTR data: raw readers (Criteo, Avazu, KDD 2012), synthetic data, the memory-mapped cache."""

from codesign.data.cache import Batch, CacheWriter, CtrData, SkipReport, stratified_split
from codesign.data.schema import DEFAULT_SEARCH_CAP, SCHEMAS, DatasetSchema, get_schema

__all__ = [
    "Batch",
    "CacheWriter",
    "CtrData",
    "DEFAULT_SEARCH_CAP",
    "DatasetSchema",
    "SCHEMAS",
    "SkipReport",
    "get_schema",
    "stratified_split",
]
