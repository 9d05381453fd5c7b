"""Precision: validation in the user's terms, canonical form and key, JSON round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from codesign.quant import (
    DENSE_DTYPES,
    TABLE_DTYPES,
    CrossbarQuant,
    Precision,
    PrecisionError,
    load_precision,
)

XBAR = {"rows": 128, "cell_bits": 2, "weight_bits": 8, "input_bits": 8, "dac_bits": 1, "adc_bits": 8}


def test_dtype_tuples_are_the_interface_ones() -> None:
    assert TABLE_DTYPES == ("fp32", "fp16", "int8", "int4")
    assert DENSE_DTYPES == ("fp32", "fp16", "bf16", "int8")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"tables": {"C1": "bf16"}}, r"precision\.tables\.C1: 'bf16'; accepted: fp32, fp16, int8, int4"),
    ({"ops": {"b3.fc": "int4"}}, r"precision\.ops\.b3\.fc: 'int4'; accepted: fp32, fp16, bf16, int8"),
    ({"ops": {"b3.fc.linear": "int8"}}, r"key 'b3\.fc\.linear'; accepted: b<block>\.<operator>"),
    ({"ops": {"fc": "int8"}}, r"key 'fc'; accepted"),
    ({"crossbar": {"b1.fc": dict(XBAR, adc_bits=0)}}, r"precision\.crossbar\.b1\.fc\.adc_bits: 0; accepted: an integer 1\.\.32"),
    ({"crossbar": {"b1.fc": dict(XBAR, dac_bits=9)}}, r"dac_bits: 9; accepted: at most input_bits \(8\)"),
    ({"crossbar": {"b1.fc": {"rows": 128}}}, r"precision\.crossbar\.b1\.fc: \['rows'\]; accepted: an object with exactly the fields"),
    ({"tables": ["C1"]}, r"precision\.tables: \['C1'\]; accepted: an object"),
])
def test_bad_fields_name_key_value_and_accepted(kwargs: dict, match: str) -> None:
    with pytest.raises(PrecisionError, match=match):
        Precision(**kwargs)


def test_fp32_entries_drop_and_all_fp32_has_the_empty_key() -> None:
    assert Precision().key() == ""
    explicit = Precision(tables={"C1": "fp32"}, ops={"b0.fc": "fp32", "final": "fp32"})
    assert explicit == Precision() and explicit.key() == "" and explicit.is_fp32
    a = Precision(tables={"C2": "int4", "C1": "int8"}, ops={"final": "fp16", "b0.fc": "fp32"})
    b = Precision(tables={"C1": "int8", "C2": "int4"}, ops={"final": "fp16"})
    assert a == b and a.key() == b.key() and len(a.key()) == 16 and hash(a) == hash(b)
    assert Precision(tables={"C1": "int4"}).key() != Precision(tables={"C1": "int8"}).key()
    assert Precision(ops={"b1.fc": "int8"}).key() != Precision(crossbar={"b1.fc": XBAR}).key()


def test_json_round_trip(tmp_path: Path) -> None:
    p = Precision(tables={"C3": "int4"}, ops={"b2.fc": "int8", "final": "bf16"},
                  crossbar={"b4.fc": XBAR})
    assert isinstance(p.crossbar["b4.fc"], CrossbarQuant)
    assert Precision.from_json(p.to_json()) == p
    path = tmp_path / "p.json"
    p.save(path)
    assert load_precision(path) == p and load_precision(path).key() == p.key()
    d = p.to_dict()
    assert d["format"] == "pimrec-precision/1" and d["crossbar"]["b4.fc"] == XBAR


def test_bad_files_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"tables": {"C1": "int2"}}')
    with pytest.raises(PrecisionError, match=r"bad\.json: precision\.tables\.C1: 'int2'"):
        load_precision(bad)
    bad.write_text('{"tables": {}, "dtype": "int8"}')
    with pytest.raises(PrecisionError, match=r"bad\.json: unknown fields \['dtype'\]"):
        load_precision(bad)
    bad.write_text('{"format": "pimrec-precision/9"}')
    with pytest.raises(PrecisionError, match=r"format: 'pimrec-precision/9'"):
        load_precision(bad)
    bad.write_text("{")
    with pytest.raises(PrecisionError, match=r"bad\.json:1:2: not valid JSON"):
        load_precision(bad)


@pytest.mark.parametrize(("rows", "cell", "dac", "bits"), [
    # largest partial sum with ISAAC's weight flipping: (2^dac - 1) * floor(rows * (2^cell - 1) / 2)
    (4, 2, 2, 5),      # 3 * floor(12 / 2) = 18 < 32
    (128, 2, 1, 8),    # 1 * 192: ISAAC Sec. 5, log R + v + w - 1 = 9 without flipping, 8 with
    (128, 2, 2, 10),   # 3 * 192 = 576 < 1024: log R + v + w = 11, one fewer
    (100, 1, 1, 6),    # 1 * 50 < 64
    (3, 2, 1, 3),      # 1 * floor(9 / 2) = 4 < 8
    (1, 1, 1, 0),      # a single one-bit cell is always stored as 0
])
def test_lossless_adc_bits_by_hand(rows: int, cell: int, dac: int, bits: int) -> None:
    q = CrossbarQuant(rows=rows, cell_bits=cell, weight_bits=8, input_bits=8, dac_bits=dac, adc_bits=8)
    assert q.lossless_adc_bits == bits
    assert q.max_partial_sum == (2**dac - 1) * (rows * (2**cell - 1) // 2)
