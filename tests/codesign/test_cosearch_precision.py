"""The co-search's accuracy at a genome's precision: the estimate cache's names (all-fp32
keeps the names of estimates without precision), the estimate's precision argument, what
the problem passes, its identity, and ``codesign search --precision-genes``."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from codesign import cosearch
from codesign.cli.main import main as codesign_main
from codesign.cosearch import CoSearchProblem
from codesign.data.schema import get_schema
from codesign.errors import CodesignError
from codesign.nas.memo import BlockMemo
from codesign.nas.moves import functional_hash, sample
from codesign.quant import Precision
from codesign.train import estimate_cache
from codesign.train.estimate_cache import EstimateCache, entry_name, estimate_at
from pimsim import load_profile

SCHEMA = get_schema("criteo")


def test_entry_names_keep_fp32_estimates_where_they_were() -> None:
    spec = sample("full", np.random.default_rng(1))
    h = functional_hash(spec)
    assert entry_name(spec) == entry_name(spec, Precision()) == h
    assert entry_name(spec, Precision(tables={"C1": "fp32"}, ops={"final": "fp32"})) == h
    a = entry_name(spec, Precision(tables={"C1": "int8"}))
    b = entry_name(spec, Precision(tables={"C1": "int4"}))
    assert len({h, a, b}) == 3 and a.startswith(h + "-")


def test_cache_computes_each_name_once_and_reads_it_back(tmp_path: Path) -> None:
    spec = sample("full", np.random.default_rng(2))
    calls: list[str] = []

    def compute(tag: str) -> Any:
        return lambda: calls.append(tag) or {"logloss": 0.5 if tag == "fp32" else 0.6,
                                            "auc": float("nan")}

    int8 = Precision(ops={"final": "int8"})
    cache = EstimateCache(tmp_path)
    assert cache.get_or_compute(spec, None, compute("fp32"))["logloss"] == 0.5
    assert cache.get_or_compute(spec, int8, compute("int8"))["logloss"] == 0.6
    assert cache.get_or_compute(spec, Precision(), compute("again")) == {
        "logloss": 0.5, "auc": pytest.approx(float("nan"), nan_ok=True)}
    assert calls == ["fp32", "int8"]
    # on disk: the fp32 entry under the subnet's name alone, strict JSON (NaN as null)
    stored = json.loads((tmp_path / f"{functional_hash(spec)}.json").read_text())
    assert stored == {"logloss": 0.5, "auc": None}
    fresh = EstimateCache(tmp_path)
    assert fresh.get_or_compute(spec, int8, compute("fresh"))["logloss"] == 0.6
    assert calls == ["fp32", "int8"]


def test_estimate_at_passes_a_precision_only_when_it_is_not_fp32(monkeypatch) -> None:
    seen: list[Any] = []

    def estimate(**kwargs: Any) -> str:
        seen.append(kwargs)
        return "estimate"

    int4 = Precision(tables={"C1": "int4"})
    monkeypatch.setattr(estimate_cache, "estimate_subnet", estimate)
    assert estimate_at(Precision(), spec="s") == "estimate" and seen == [{"spec": "s"}]
    assert estimate_at(None, spec="s") == "estimate" and seen[-1] == {"spec": "s"}
    assert estimate_at(int4, spec="s") == "estimate"
    assert seen[-1] == {"spec": "s", "precision": int4}


def _problem(monkeypatch, genes: bool, calls: list[Any]) -> CoSearchProblem:
    """A problem whose loaded inputs are stand-ins and whose estimate records its
    precision (no supernet or data needed)."""
    prob = CoSearchProblem(data_dir="d", supernet="s", profile="hbm2_pim", dataset="criteo",
                           simulate=False, precision_genes=genes, p_greedy=0.0, p_replace=0.0)
    memo = {"schema": SCHEMA, "profile": load_profile("hbm2_pim"), "supernet": object(),
            "data": SimpleNamespace(fingerprint="sha256:data", schema=SCHEMA),
            "sim_caches": {}, "block_memo": BlockMemo()}
    monkeypatch.setattr(prob, "_memo", memo.__getitem__)
    monkeypatch.setattr(cosearch, "checkpoint_digest", lambda path: "sha256:ckpt")

    def fake(precision: Precision | None, **kwargs: Any) -> Any:
        calls.append(precision)
        return SimpleNamespace(logloss=0.45, auc=0.7)

    monkeypatch.setattr(cosearch, "estimate_at", fake)
    return prob


def test_evaluate_estimates_at_the_plans_precision(monkeypatch) -> None:
    calls: list[Any] = []
    on = _problem(monkeypatch, True, calls)
    rng = np.random.default_rng(9)
    keys = set()
    for _ in range(6):
        g = on.mutate(on.sample(rng), rng, 2)
        assert on.evaluate(g)["logloss"] == 0.45
        assert calls[-1] == g.plan.to_precision(on.hw_profile)
        keys.add(calls[-1].key())
    assert len(keys) > 1  # not only all-fp32 estimates
    assert on.identity()["precision_genes"] is True
    off_calls: list[Any] = []
    off = _problem(monkeypatch, False, off_calls)
    off.evaluate(off.sample(np.random.default_rng(9)))
    assert off_calls == [None]
    assert "precision_genes" not in off.identity()  # stored searches resume as they were
    with pytest.raises(CodesignError, match="precision_genes: needs co_design"):
        CoSearchProblem(data_dir="d", supernet="s", profile="hbm2_pim", co_design=False,
                        precision_genes=True)


def test_search_cli_refuses_precision_genes_in_mode_accuracy(tmp_path: Path, capsys) -> None:
    out = tmp_path / "s"
    code = codesign_main(["search", "--data", str(tmp_path), "--supernet", str(tmp_path),
                          "--profile", "hbm2_pim", "--mode", "accuracy", "--out", str(out),
                          "--precision-genes"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "--precision-genes: does not apply to --mode accuracy" in err
    assert not out.exists()
