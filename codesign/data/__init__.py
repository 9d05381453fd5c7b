"""CTR data: raw formats (Criteo, Avazu, KDD 2012), their reader, synthetic data, the cache.

Layers, each importing only those above it: ``schema`` (fields, cardinalities, base rates)
-> ``formats`` (raw layouts as data) -> ``hashing`` -> ``tokenize`` (chunk checks) ->
``cache`` (memory-mapped columns) and ``reader`` (file -> columns) -> ``kdd`` (the profile
join) -> ``prepare`` (raw -> cache) -> ``synth_text`` / ``synth_draws`` / ``synth_truth`` ->
``synthetic`` (synthetic raw files).

Entry points: ``prepare(dataset, raw_path, out_dir)`` -> ``CtrData``;
``CtrData.open(folder)``; ``write_synthetic(schema, rows, out_path, seed=...)``;
``make_synthetic_cache(schema, rows, out_dir, seed=..., cap=...)``; ``get_schema(name)``.
"""

from codesign.data.cache import SPLIT_SEED, Batch, CacheWriter, CtrData, stratified_split
from codesign.data.prepare import prepare
from codesign.data.reader import DEFAULT_CHUNK_ROWS
from codesign.data.schema import BASE_RATES, DEFAULT_SEARCH_CAP, SCHEMAS, DatasetSchema, get_schema
from codesign.data.synthetic import make_synthetic_cache, write_synthetic
from codesign.data.tokenize import SkipReport

__all__ = [
    "BASE_RATES",
    "Batch",
    "CacheWriter",
    "CtrData",
    "DEFAULT_CHUNK_ROWS",
    "DEFAULT_SEARCH_CAP",
    "DatasetSchema",
    "SCHEMAS",
    "SPLIT_SEED",
    "SkipReport",
    "get_schema",
    "make_synthetic_cache",
    "prepare",
    "stratified_split",
    "write_synthetic",
]
