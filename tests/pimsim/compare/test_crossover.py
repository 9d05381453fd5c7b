"""The crossover batch of a shape, on ratio series written by hand."""

from __future__ import annotations

import math

import pandas as pd

from pimsim.compare.crossover import crossover, crossover_table

BATCHES = [1, 4, 16, 64, 256]


def test_weight_streaming_shape_wins_up_to_its_crossover() -> None:
    c = crossover(BATCHES, [4.2, 1.06, 0.26, 0.26, 0.25])
    assert (c.label, c.wins_up_to, c.loses_from) == ("up to 4", 4, 16)


def test_always_never_from_and_mixed() -> None:
    assert crossover(BATCHES, [3, 3, 2, 2, 1.1]).label == "always"
    assert crossover(BATCHES, [0.5, 0.4, 0.3, 0.2, 0.1]).label == "never"
    c = crossover(BATCHES, [0.4, 0.5, 0.8, 1.2, 1.4])
    assert (c.label, c.wins_up_to, c.loses_from) == ("from 64", None, 1)
    c = crossover(BATCHES, [1.5, 0.9, 0.8, 1.2, 0.7])
    assert (c.label, c.wins_up_to, c.loses_from) == ("at 1, 64", 1, 4)


def test_a_ratio_of_exactly_one_is_no_win_and_missing_points_are_skipped() -> None:
    assert crossover([1, 4], [1.0, 0.5]).label == "never"
    assert crossover([1, 4, 16], [2.0, math.nan, 0.5]).label == "up to 1"
    assert crossover([1, 4], [math.nan, math.nan]).label == "n/a"
    # batches given in any order are read ascending
    assert crossover([16, 1, 4], [0.5, 2.0, 1.5]).label == "up to 4"


def test_crossover_table_has_one_row_per_shape_with_both_metrics() -> None:
    rows = []
    for b, lat, en in ((1, 3.0, 2.0), (4, 0.9, 1.5), (16, 0.2, 0.8)):
        rows.append({"family": "gemm", "shape": "1024x512", "dtype": "fp16", "batch": b,
                     "latency_ratio": lat, "energy_ratio": en})
    rows.append({"family": "gemm", "shape": "16x64", "dtype": "fp16", "batch": 1,
                 "latency_ratio": math.nan, "energy_ratio": math.nan})
    x = crossover_table(pd.DataFrame(rows))
    first = x.iloc[0]
    assert (first["latency_crossover"], first["energy_crossover"]) == ("up to 1", "up to 4")
    assert first["ratio_b1"] == "3.00 / 2.00" and first["ratio_b16"] == "0.20 / 0.80"
    second = x.iloc[1]
    assert second["latency_crossover"] == "n/a" and second["ratio_b4"] == "n/a"
