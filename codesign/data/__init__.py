"""CTR data: raw readers (Criteo, Avazu, KDD 2012), synthetic data, the memory-mapped cache.

Entry points: ``prepare(dataset, raw_path, out_dir)`` -> ``CtrData``;
``CtrData.open(folder)``; ``write_synthetic(schema, rows, out_path, seed=...)``;
``make_synthetic_cache(schema, rows, out_dir, seed=..., cap=...)``; ``get_schema(name)``.
"""

from codesign.data.cache import Batch, CacheWriter, CtrData, SkipReport, stratified_split
from codesign.data.schema import DEFAULT_SEARCH_CAP, SCHEMAS, DatasetSchema, get_schema
from codesign.data.prepare import prepare
from codesign.data.synthetic import BASE_RATES, make_synthetic_cache, write_synthetic

__all__ = [
    "BASE_RATES",
    "Batch",
    "CacheWriter",
    "CtrData",
    "DEFAULT_SEARCH_CAP",
    "DatasetSchema",
    "SCHEMAS",
    "SkipReport",
    "get_schema",
    "make_synthetic_cache",
    "prepare",
    "stratified_split",
    "write_synthetic",
]
