"""The co-search's ``finetune_rows``: the estimate refits on that many rows, the problem's
identity and its accuracy cache carry it only when set (searches and caches written
without it resume as they were)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from codesign import cosearch
from codesign.cosearch import CoSearchProblem
from codesign.data.schema import get_schema
from codesign.nas.memo import BlockMemo
from pimsim import load_profile

SCHEMA = get_schema("criteo")


def _problem(monkeypatch, tmp_path: Path, calls: list[dict[str, Any]],
             rows: int | None) -> CoSearchProblem:
    prob = CoSearchProblem(data_dir="d", supernet="s", profile="hbm2_pim", dataset="criteo",
                           simulate=False, finetune_rows=rows, cache_dir=str(tmp_path),
                           p_greedy=0.0, p_replace=0.0)
    memo = {"schema": SCHEMA, "profile": load_profile("hbm2_pim"), "supernet": object(),
            "data": SimpleNamespace(fingerprint="sha256:data", schema=SCHEMA),
            "sim_caches": {}, "block_memo": BlockMemo()}
    monkeypatch.setattr(prob, "_memo", memo.__getitem__)
    monkeypatch.setattr(cosearch, "checkpoint_digest", lambda path: "sha256:ckpt")

    def fake(precision: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return SimpleNamespace(logloss=0.45, auc=0.7)

    monkeypatch.setattr(cosearch, "estimate_at", fake)
    return prob


def test_finetune_rows_reaches_the_estimate_and_names_its_cache(monkeypatch, tmp_path: Path) -> None:
    default_calls: list[dict[str, Any]] = []
    default = _problem(monkeypatch, tmp_path, default_calls, None)
    genome = default.sample(np.random.default_rng(4))
    default.evaluate(genome)
    assert default_calls[-1]["rows"] is None
    assert isinstance(default_calls[-1]["memo"], BlockMemo)  # the process's block memo
    assert "finetune_rows" not in default.identity()
    calls: list[dict[str, Any]] = []
    fewer = _problem(monkeypatch, tmp_path, calls, 4096)
    fewer.evaluate(genome)
    assert calls[-1]["rows"] == 4096 and fewer.identity()["finetune_rows"] == 4096
    # another refit size is another estimate: its own accuracy cache folder
    assert fewer._accuracy_dir() != default._accuracy_dir()
    assert len(calls) == 1  # computed, not read from the default problem's cache
