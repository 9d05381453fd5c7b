"""Co-searches at several batch sizes on a tiny trained supernet: a latency-constrained
search never returns (as best or on its front) a genome over a limit, checked by simulating
each returned genome again here; a search with no feasible genome says so; a multi-batch
search resumes from its journal to the uninterrupted result; a single-batch journal (the
identity of a problem made with ``batch=B``) resumes, and is refused, naming the
batch, when resumed with other batches."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from codesign.cli.main import main as codesign_main
from codesign.cosearch import CoSearchProblem
from codesign.hw.evaluate import hardware_metrics, simulate_subnet
from codesign.search import CHECKPOINT_NAME, JOURNAL_NAME, SearchConfig, SearchError, run_search

pytestmark = pytest.mark.slow

BATCHES = (1, 256)


def _problem(paths: tuple[Path, Path], **kw: Any) -> CoSearchProblem:
    data, supernet = paths
    return CoSearchProblem(data_dir=str(data), supernet=str(supernet), profile="hbm2_pim",
                           dataset="criteo", finetune_steps=0, eval_rows=200, **kw)


def _latencies(prob: CoSearchProblem, genome_json: Any) -> dict[int, float]:
    """Latency (ns) of one request at each batch, simulated here without shared caches."""
    g = prob.from_json(genome_json)
    return {b: hardware_metrics(simulate_subnet(g.spec, prob.schema, g.plan, prob.hw_profile,
                                                batch=b, seed=prob.seed))["latency_ns"]
            for b in BATCHES}


def test_constrained_search_never_returns_a_genome_over_its_limits(
        tiny_supernet: tuple[Path, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    # limits at the latencies of a genome of the first generation (the median at batch 256),
    # so that generation holds both genomes within and genomes over the limits
    prob = _problem(tiny_supernet, batches=BATCHES)
    first = run_search(prob, SearchConfig(budget="tiny", mode="pareto", generations=0),
                       quiet=True).history.sort_values(["latency_ns@256", "index"])
    mid = first.iloc[len(first) // 2]
    limits_us = {b: float(mid[f"latency_ns@{b}"]) * (1 + 1e-9) / 1e3 for b in BATCHES}
    data, supernet = tiny_supernet
    out = tmp_path / "constrained"
    args = ["search", "--data", str(data), "--supernet", str(supernet), "--profile",
            "hbm2_pim", "--dataset", "criteo", "--mode", "constrained", "--budget", "tiny",
            "--finetune-steps", "0", "--eval-rows", "200", "--batch", "1,256",
            "--latency-limit-us", ",".join(repr(limits_us[b]) for b in BATCHES),
            "--out", str(out), "--quiet"]
    assert codesign_main(args) == 0
    printed = capsys.readouterr().out
    for b in BATCHES:
        assert f"batch {b}: latency" in printed and f"(limit {limits_us[b]:g} us)" in printed
    hist = pd.read_csv(out / "history.csv")
    over = (hist["latency_ns@1"] > limits_us[1] * 1e3) | (hist["latency_ns@256"]
                                                          > limits_us[256] * 1e3)
    assert over.any() and (~over).any()
    assert (hist["feasible"] == ~over).all()
    best = json.loads((out / "best.json").read_text())
    front = pd.read_csv(out / "front.csv")
    assert not front.empty and front["feasible"].all()
    returned = [json.loads(best["genome"]), *(json.loads(g) for g in front["genome"])]
    for genome in returned:
        for b, latency in _latencies(prob, genome).items():
            assert latency <= limits_us[b] * 1e3, (b, genome)
    # best: the lowest log loss among the genomes within every limit
    assert best["logloss"] == pytest.approx(hist.loc[~over, "logloss"].min())
    # the journal carries the per-batch figures
    records = [json.loads(line) for line in (out / JOURNAL_NAME).read_text().splitlines()]
    evals = [r for r in records if r["type"] == "eval"]
    assert evals and all({f"latency_ns@{b}" for b in BATCHES} <= set(r["objectives"])
                         for r in evals)
    assert records[0]["config"]["limits"] == {f"latency_ns@{b}": limits_us[b] * 1e3
                                              for b in BATCHES}

    # a limit no genome meets: no best, an empty front, and the command says so
    impossible = tmp_path / "impossible"
    assert codesign_main([*args[:args.index("--latency-limit-us") + 1], "0.001",
                          "--out", str(impossible), "--quiet"]) == 0
    assert "no feasible genome: none of the 16 evaluations meets every limit" in \
        capsys.readouterr().out
    assert json.loads((impossible / "best.json").read_text()) == {}
    assert pd.read_csv(impossible / "front.csv").empty


def _journal_with_first(src: Path, dst: Path, n_evals: int) -> None:
    """A copy of search folder ``src`` as a kill after its first ``n_evals`` results leaves
    it: the journal's header and those results, no checkpoint."""
    shutil.copytree(src, dst)
    (dst / CHECKPOINT_NAME).unlink()
    lines = (src / JOURNAL_NAME).read_text().splitlines(keepends=True)
    (dst / JOURNAL_NAME).write_text("".join(lines[:1 + n_evals]))


def test_multi_batch_search_resumes_to_the_uninterrupted_result(
        tiny_supernet: tuple[Path, Path], tmp_path: Path) -> None:
    cfg = SearchConfig(budget="tiny", mode="pareto", population=6, sample=3, children=3,
                       generations=2)
    kw = dict(batches=BATCHES, batch_weights=(3.0, 1.0))
    whole = run_search(_problem(tiny_supernet, **kw), cfg, out_dir=tmp_path / "whole",
                       quiet=True)
    assert {f"energy_pj_per_sample@{b}" for b in BATCHES} <= set(whole.history.columns)
    _journal_with_first(tmp_path / "whole", tmp_path / "killed", 5)
    resumed = run_search(_problem(tiny_supernet, **kw), cfg, out_dir=tmp_path / "killed",
                         resume=True, quiet=True)
    assert resumed.evaluations_run == len(whole.history) - 5
    pd.testing.assert_frame_equal(resumed.history, whole.history)
    # another mix is another search: refused, naming it
    with pytest.raises(SearchError, match="another batch_mix"):
        run_search(_problem(tiny_supernet, batches=BATCHES), cfg, out_dir=tmp_path / "whole",
                   resume=True, quiet=True)


def test_a_single_batch_journal_resumes_and_refuses_other_batches(
        tiny_supernet: tuple[Path, Path], tmp_path: Path) -> None:
    cfg = SearchConfig(budget="tiny", mode="pareto", population=4, sample=2, children=2,
                       generations=1)
    out = tmp_path / "single"
    whole = run_search(_problem(tiny_supernet, batch=256), cfg, out_dir=out, quiet=True)
    header = json.loads((out / JOURNAL_NAME).read_text().splitlines()[0])
    # what a single-batch search stores: the batch as a number, nothing about a mix
    assert header["inputs"]["batch"] == 256
    assert not {"batches", "batch_mix", "batch_weights"} & set(header["inputs"])
    _journal_with_first(out, tmp_path / "killed", 3)
    for kw in (dict(batch=256), dict(batches=(256,))):  # old and new spelling, one search
        shutil.rmtree(tmp_path / "again", ignore_errors=True)
        shutil.copytree(tmp_path / "killed", tmp_path / "again")
        resumed = run_search(_problem(tiny_supernet, **kw), cfg, out_dir=tmp_path / "again",
                             resume=True, quiet=True)
        assert resumed.evaluations_run == len(whole.history) - 3
        pd.testing.assert_frame_equal(resumed.history, whole.history)
    with pytest.raises(SearchError, match=r"another batch \(256; this one: \[1, 256\]\)"):
        run_search(_problem(tiny_supernet, batches=BATCHES), cfg, out_dir=out, resume=True,
                   quiet=True)
