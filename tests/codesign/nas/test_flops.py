"""FLOPs (2 per multiply-add; what is counted follows NASRec): published figures (which count
multiply-adds), reachability, hand counts, CLI."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from codesign.cli import main
from codesign.errors import SpecError
from codesign.nas.flops import count_flops
from codesign.nas.moves import sample
from codesign.nas.nasrec_json import from_nasrec_json, load_spec
from codesign.nas.space import BlockSpec, SubnetSpec
from tests.helpers.shared import NASREC_REFERENCE

REF = NASREC_REFERENCE
needs_ref = pytest.mark.skipif(not REF.is_dir(), reason="shared/reference/nasrec not present")


@needs_ref
@pytest.mark.parametrize("name,published", [("criteo_full_best.json", 1.45), ("criteo_small_best.json", 2.20)])
def test_reference_subnets_match_published_mflops(name: str, published: float) -> None:
    rep = count_flops(from_nasrec_json(REF / name), "criteo")
    # NASRec's README counts one FLOP per multiply-add
    assert abs(rep.total_macs / 1e6 - published) / published < 0.02
    assert rep.total_flops == 2 * rep.total_macs
    assert rep.total_flops == sum(k.flops for k in rep.kernels)
    assert rep.total_flops == sum(rep.per_block().values()) == sum(rep.per_op().values())


@needs_ref
def test_reference_full_exact_figures() -> None:
    rep = count_flops(from_nasrec_json(REF / "criteo_full_best.json"), (13, 26))
    assert rep.total_macs == 1_448_297 and rep.total_flops == 2 * 1_448_297
    # blocks 3, 4, 5 never reach the logit (only block 6 feeds it; it reads 0, 1, 2, 3)
    assert rep.blocks_reached == (True, True, True, False, False, False, True)
    small = count_flops(from_nasrec_json(REF / "criteo_small_best.json"), (13, 26))
    assert small.total_macs == 2_207_808


def _fc_block(inputs: tuple[int, ...], width: int, tokens: int = 16, **kw: object) -> BlockSpec:
    base = dict(
        dense_inputs=inputs, sparse_inputs=inputs, dense_left=0, dense_right=0,
        dense_op="fc", sparse_op="efc", dense_width=width, sparse_tokens=tokens,
        dense_to_sparse=False, deep_fm=False,
    )
    base.update(kw)
    return BlockSpec(**base)  # type: ignore[arg-type]


def chain(width: int = 32) -> SubnetSpec:
    return SubnetSpec(blocks=tuple(_fc_block((i,), width) for i in range(7)), space="small")


def test_hand_counted_chain() -> None:
    # 7 FC/EFC blocks in a chain, width 32, 16 tokens, on 13 dense + 26 sparse features.
    rep = count_flops(chain(32), (13, 26))
    fc = 13 * 32 + 6 * 32 * 32
    efc = 16 * 26 * 16 + 6 * 16 * 16 * 16
    final = 32 + 16 * 16
    assert rep.total_macs == fc + efc + final
    assert rep.total_flops == 2 * (fc + efc + final)  # 2 FLOPs per multiply-add
    efc_weights = 26 * 16 + 6 * 16 * 16  # token maps: N x T weights, applied to 16 rows
    assert rep.params_dense == fc + 7 * 64 + efc_weights + 7 * 32 + final + 1
    assert rep.params_embedding == 0  # no cardinalities given


def test_operator_formulas() -> None:
    blocks = list(chain(64).blocks)
    # block 6: dot-product of width 128 over dense [5] (64 wide) and sparse [5] (16 tokens)
    blocks[6] = _fc_block((5,), 128, dense_op="dot", sparse_op="attention", tokens=32,
                          dense_to_sparse=True, deep_fm=True)
    spec = SubnetSpec(blocks=tuple(blocks), space="full")
    rep = count_flops(spec, (13, 26))
    ops6 = {o.op: o.macs for o in rep.ops if o.block == 6}
    p = round(math.sqrt(2 * 128))  # 16 tokens: the 16 input tokens need no projection
    assert p == 16
    assert ops6["dot"] == 64 * 16 + (p + 1) ** 2 * 16 + (p * (p + 1) // 2) * 128
    t = 32
    assert ops6["attention"] == 16 * 16 * t + t * 16 * 48 + 2 * t * t * 16 + 3 * t * 16 * 16
    assert ops6["merge"] == 0  # width 128 = 8 x 16 tokens: no projection
    assert ops6["fm"] == 16 * 128
    final = [o for o in rep.ops if o.op == "final"][0]
    assert final.macs == 128 + 16 * (32 + 8) and final.flops == 2 * final.macs


def test_unreached_blocks_are_not_counted() -> None:
    base = chain(32)
    # block 6 reads only the raw features: blocks 0..5 never reach the logit
    blocks = list(base.blocks)
    blocks[6] = _fc_block((0,), 32)
    cut = replace(base, blocks=tuple(blocks))
    rep = count_flops(cut, (13, 26))
    assert rep.blocks_reached == (False,) * 6 + (True,)
    assert rep.total_flops == 2 * (13 * 32 + 16 * 26 * 16 + 32 + 16 * 16)
    # changing an unreached block changes nothing
    blocks[2] = _fc_block((1, 2), 1024, tokens=64)
    assert count_flops(replace(cut, blocks=tuple(blocks)), (13, 26)).total_flops == rep.total_flops


def test_sparse_only_path_skips_dense_operator() -> None:
    blocks = list(chain(32).blocks)
    # block 6 reads the sparse output of block 5 (source 6) and raw dense; no merge in 5
    blocks[6] = _fc_block((0,), 32, sparse_inputs=(6,))
    rep = count_flops(SubnetSpec(blocks=tuple(blocks), space="small"), (13, 26))
    ops5 = {o.op for o in rep.ops if o.block == 5}
    assert ops5 == {"efc"}
    # with the dense->sparse merge the dense operator is needed again
    blocks[5] = replace(blocks[5], dense_to_sparse=True)
    rep2 = count_flops(SubnetSpec(blocks=tuple(blocks), space="small"), (13, 26))
    assert {o.op for o in rep2.ops if o.block == 5} == {"fc", "efc", "merge"}


def test_counts_by_dataset_name_and_errors() -> None:
    spec = sample("full", np.random.default_rng(0))
    a = count_flops(spec, "criteo")
    b = count_flops(spec, (13, 26))
    assert a.total_flops == b.total_flops and a.params_embedding > 0
    kdd = count_flops(spec, "kdd")
    assert (kdd.n_dense, kdd.n_sparse) == (3, 10)
    with pytest.raises(SpecError, match="schema_or_counts"):
        count_flops(spec, 3.5)


# ------------------------------------------------------------------------------- CLI


@needs_ref
def test_cli_import_nasrec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "spec.json"
    rc = main(["import-nasrec", str(REF / "criteo_full_best.json"), "-o", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    # 1,448,297 multiply-adds, 2 FLOPs each
    assert "total: 2.8966 MFLOPs/sample, 2 FLOPs per multiply-add (1.4483 M multiply-adds" in text
    assert "gating" in text and "attention" in text and "(unused)" in text
    assert load_spec(out) == from_nasrec_json(REF / "criteo_full_best.json")


@needs_ref
def test_cli_flops_both_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flops", "--spec", str(REF / "criteo_small_best.json")]) == 0
    assert "total: 4.4156 MFLOPs/sample, 2 FLOPs per multiply-add" in capsys.readouterr().out
    ours = tmp_path / "s.json"
    main(["import-nasrec", str(REF / "criteo_small_best.json"), "-o", str(ours)])
    capsys.readouterr()
    assert main(["flops", "--spec", str(ours), "--dataset", "criteo", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["total_flops"] == 2 * 2_207_808 and rep["total_macs"] == 2_207_808
    assert rep["convention"] == "FLOPs per sample, 2 FLOPs per multiply-add"
    assert sum(k["flops"] for k in rep["kernels"]) == rep["total_flops"]


def test_cli_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.json"
    assert main(["flops", "--spec", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "nope.json: cannot read" in err and "Traceback" not in err
    bad = tmp_path / "bad.json"
    d = {"micro": [], "macro": [], "config": "xlarge", "num_blocks": 0}
    bad.write_text(json.dumps(d))
    assert main(["import-nasrec", str(bad)]) == 2
    assert "bad.json: blocks: 0 blocks; accepted: exactly 7" in capsys.readouterr().err
    other = tmp_path / "other.json"
    other.write_text('{"x": 1}')
    assert main(["flops", "--spec", str(other)]) == 2
    assert "not a subnet spec" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["flops", "--spec", str(other), "--dataset", "mnist"])
    assert exc.value.code == 2
