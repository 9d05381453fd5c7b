"""Tests of codesign.search: Pareto sorting, fitness modes, evolution, checkpoint and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.errors import CodesignError
from codesign.search import (
    BUDGETS,
    CHECKPOINT_NAME,
    JOURNAL_NAME,
    SearchConfig,
    SearchError,
    crowding_distance,
    fitness_order,
    non_dominated_sort,
    pareto_front,
    run_search,
)

from codesign.search.toy import TARGET, IntVectorProblem, script_config

REPO = Path(__file__).resolve().parents[3]


# ---------------------------------------------------------------------------- Pareto sorting


def brute_force_fronts(points: np.ndarray, senses: list[str]) -> np.ndarray:
    """O(n^2) per front reference: peel the points no remaining point dominates."""
    q = points * np.where(np.array(senses) == "max", -1.0, 1.0)
    n = len(q)
    fronts = np.full(n, -1)
    remaining = set(range(n))
    level = 0
    while remaining:
        current = []
        for j in remaining:
            dominated = False
            for i in remaining:
                if all(q[i] <= q[j]) and any(q[i] < q[j]):
                    dominated = True
                    break
            if not dominated:
                current.append(j)
        for j in current:
            fronts[j] = level
            remaining.discard(j)
        level += 1
    return fronts


@st.composite
def point_sets(draw):  # type: ignore[no-untyped-def]
    m = draw(st.integers(1, 4))
    n = draw(st.integers(0, 30))
    # Few distinct values: many ties and exact duplicates.
    values = draw(st.lists(st.integers(0, 4), min_size=n * m, max_size=n * m))
    senses = draw(st.lists(st.sampled_from(["min", "max"]), min_size=m, max_size=m))
    return np.array(values, dtype=np.float64).reshape(n, m), senses


@settings(max_examples=150, deadline=None)
@given(point_sets())
def test_non_dominated_sort_matches_brute_force(data) -> None:  # type: ignore[no-untyped-def]
    points, senses = data
    expected = brute_force_fronts(points, senses)
    np.testing.assert_array_equal(non_dominated_sort(points, senses), expected)
    np.testing.assert_array_equal(pareto_front(points, senses), expected == 0)


def test_pareto_ties_duplicates_and_nan() -> None:
    pts = np.array([[1.0, 2.0], [1.0, 2.0], [2.0, 1.0], [2.0, 2.0], [np.nan, 0.0]])
    # Duplicates share the front; (2, 2) is dominated by both; NaN is the worst value but
    # 0.0 in the second column keeps the NaN point non-dominated.
    np.testing.assert_array_equal(non_dominated_sort(pts), [0, 0, 0, 1, 0])
    np.testing.assert_array_equal(pareto_front(pts[:4]), [True, True, True, False])
    np.testing.assert_array_equal(non_dominated_sort(np.array([[np.nan], [3.0]])), [1, 0])
    assert non_dominated_sort(np.zeros((0, 3))).shape == (0,)
    with pytest.raises(SearchError, match="senses"):
        pareto_front(pts, ["min", "up"])


def test_crowding_distance_known_values() -> None:
    pts = np.array([[0.0, 4.0], [1.0, 2.0], [2.0, 1.0], [4.0, 0.0]])
    d = crowding_distance(pts)
    assert np.isinf(d[0]) and np.isinf(d[3])
    # inner points: (2-0)/4 + (4-1)/4 = 1.25 and (4-1)/4 + (2-0)/4 = 1.25
    np.testing.assert_allclose(d[1:3], [1.25, 1.25])


def test_fitness_orders() -> None:
    objs = [
        {"logloss": 0.45, "latency_ns": 100.0, "energy_pj": 9.0},
        {"logloss": 0.40, "latency_ns": 300.0, "energy_pj": 9.0},
        {"logloss": 0.42, "latency_ns": 150.0, "energy_pj": 1.0},
        {"logloss": 0.41, "latency_ns": 250.0, "energy_pj": 9.0},
        {"logloss": 0.40, "latency_ns": 500.0, "energy_pj": 9.0},
    ]
    acc = SearchConfig(mode="accuracy")
    assert list(fitness_order(objs, acc)) == [1, 4, 3, 2, 0]  # tie 0.40: older first
    con = SearchConfig(mode="constrained", limits={"latency_ns": 200.0})
    # feasible (0, 2) by logloss, then infeasible by relative violation 0.25, 0.5, 1.5
    assert list(fitness_order(objs, con)) == [2, 0, 3, 1, 4]
    par = SearchConfig(mode="pareto")
    order = list(fitness_order(objs, par))
    assert set(order[:4]) == {0, 1, 2, 3} and order[4] == 4  # 4 is dominated by 1


# ---------------------------------------------------------------------------- configuration


def test_config_presets_and_validation() -> None:
    tiny = SearchConfig(budget="tiny")
    assert (tiny.population, tiny.sample, tiny.children, tiny.generations) == (8, 4, 2, 4)
    paper = SearchConfig(budget="paper")
    assert (paper.population, paper.sample, paper.children) == (128, 64, 8)
    assert paper.total_evaluations == 128 + 8 * paper.generations
    assert set(BUDGETS) == {"tiny", "small", "paper"}
    schedule = [paper.mutations_at(g) for g in range(1, paper.generations + 1)]
    assert schedule[0] == 6 and schedule[-1] == 1
    assert all(a >= b for a, b in zip(schedule, schedule[1:]))
    assert set(schedule) == {1, 2, 3, 4, 5, 6}
    assert SearchConfig.from_dict(paper.to_dict()) == paper
    for bad, match in [
        (dict(budget="huge"), "budget"),
        (dict(mode="fast"), "mode"),
        (dict(population=4, sample=5), "sample"),
        (dict(mode="constrained"), "limits"),
        (dict(limits={"latency_ns": "x"}), "limits.latency_ns"),
        (dict(senses=("min",)), "senses"),
        (dict(children=0), "children"),
    ]:
        with pytest.raises(SearchError, match=match):
            SearchConfig(**bad)
    with pytest.raises(SearchError, match="unknown key"):
        SearchConfig.from_dict({"budget": "tiny", "popsize": 3})
    assert issubclass(SearchError, CodesignError)


def test_config_integers_and_error_messages() -> None:
    # numpy integers are integers; booleans, fractions and numeric strings are not
    assert SearchConfig(seed=np.int64(3), population=np.int32(10)).seed == 3
    for name, bad in [("seed", True), ("population", 2.5), ("generations", "3"),
                      ("seed", -1)]:
        with pytest.raises(SearchError, match=rf"^search config {name}: got {bad!r}; accepted"):
            SearchConfig(**{name: bad})
    with pytest.raises(SearchError, match=r"limits\.energy_pj: got 0\.0; accepted: a finite"):
        SearchConfig(limits={"energy_pj": 0})
    with pytest.raises(SearchError, match="limits.latency_ns: got inf"):
        SearchConfig(limits={"latency_ns": float("inf")})
    with pytest.raises(SearchError, match=r"objectives: got \['a', 'a'\]; accepted: distinct"):
        SearchConfig(objectives=("a", "a"))
    with pytest.raises(SearchError, match=r"unknown key\(s\) \['popsize'\]"):
        SearchConfig(popsize=3)
    # senses default to "min" per objective; the JSON form holds them resolved
    cfg = SearchConfig(objectives=("logloss", "auc"))
    assert cfg.senses == ("min", "min")
    assert cfg.to_dict()["senses"] == ["min", "min"]
    assert SearchConfig.from_dict(cfg.to_dict()) == cfg


# ---------------------------------------------------------------------------- evolution


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_evolution_finds_the_optimum_region(seed: int) -> None:
    problem = IntVectorProblem()
    result = run_search(problem, SearchConfig(budget="small", seed=seed), quiet=True)
    # Optimum logloss is 0.40 at TARGET; one unit away is 0.41. The space has 5^6 genomes.
    assert result.best is not None and result.best["logloss"] <= 0.41 + 1e-12
    assert result.history["logloss"].min() == result.best["logloss"]
    # Every evaluated genome is valid and was evaluated exactly once.
    genomes = [tuple(json.loads(g)) for g in result.history["genome"]]
    assert all(problem.is_valid(g) for g in genomes)
    assert len(problem.calls) == len(set(problem.calls)) == len(result.history) == 128
    assert result.evaluations_run == 128
    assert result.redraws > 0  # the toy proposes invalid genomes; they were re-drawn
    assert len(result.population) == 32
    # Random search with the same budget and seed does clearly worse on average.
    rng = np.random.default_rng(seed)
    rand = rng.integers(0, 5, size=(128, 6))
    rand = rand[rand.sum(axis=1) <= 20]
    rand_best = (0.4 + 0.01 * ((rand - np.array(TARGET)) ** 2).sum(axis=1)).min()
    assert result.best["logloss"] <= rand_best


def test_evolution_never_evaluates_a_duplicate_in_a_tiny_space() -> None:
    # 3^2 = 9 genomes, 8 + 4 * 6 = 32 proposals: duplicates must be accepted from the cache.
    problem = IntVectorProblem(length=2, high=3, target=(1, 2), max_sum=10)
    cfg = SearchConfig(budget="tiny", seed=5, population=8, sample=4, children=4, generations=6)
    result = run_search(problem, cfg, quiet=True)
    assert len(problem.calls) == len(set(problem.calls)) == len(result.history) <= 9
    assert result.duplicates_accepted == cfg.total_evaluations - len(result.history)
    assert result.duplicates_accepted > 0
    assert len(result.population_keys) == 8
    assert set(result.population_keys) <= set(result.history["key"])
    assert result.best is not None and result.best["logloss"] == pytest.approx(0.4)


def test_evolution_is_deterministic_for_a_seed() -> None:
    cfg = SearchConfig(budget="tiny", seed=3, mode="pareto", generations=6)
    a = run_search(IntVectorProblem(), cfg, quiet=True)
    b = run_search(IntVectorProblem(), cfg, quiet=True)
    pd.testing.assert_frame_equal(a.history, b.history)
    assert a.population_keys == b.population_keys
    c = run_search(IntVectorProblem(), SearchConfig(**{**cfg.to_dict(), "seed": 4}), quiet=True)
    assert list(c.history["key"]) != list(a.history["key"])


def test_pareto_and_constrained_results() -> None:
    par = run_search(IntVectorProblem(), SearchConfig(budget="small", mode="pareto"), quiet=True)
    cols = ["logloss", "latency_ns", "energy_pj"]
    expected = pareto_front(par.history[cols].to_numpy())
    assert sorted(par.front["index"]) == sorted(par.history["index"][expected])
    assert (par.history["front"] == 0).sum() == expected.sum()
    assert par.best is not None and par.best["index"] in set(par.front["index"])
    con = run_search(
        IntVectorProblem(),
        SearchConfig(budget="small", mode="constrained", limits={"latency_ns": 180.0}),
        quiet=True,
    )
    assert con.best is not None and con.best["latency_ns"] <= 180.0 and con.best["feasible"]
    feasible = con.history[con.history["latency_ns"] <= 180.0]
    assert con.best["logloss"] == feasible["logloss"].min()
    # Optimum under sum(x) <= 8 is three unit steps below TARGET: 0.43.
    assert con.best["logloss"] <= 0.45 + 1e-12


class _NeverValid(IntVectorProblem):
    def is_valid(self, genome: tuple[int, ...]) -> bool:
        return False


class _MissingObjective(IntVectorProblem):
    def evaluate(self, genome: tuple[int, ...]) -> dict[str, float]:
        return {"loss": 1.0}


def test_bad_problems_raise_search_errors() -> None:
    with pytest.raises(SearchError, match="no valid genome in 5 tries"):
        run_search(_NeverValid(), SearchConfig(max_retries=5), quiet=True)
    with pytest.raises(SearchError, match=r"lacks \['logloss'\]"):
        run_search(_MissingObjective(), SearchConfig(), quiet=True)
    with pytest.raises(SearchError, match="lacks"):
        run_search(object(), SearchConfig(), quiet=True)  # type: ignore[arg-type]
    with pytest.raises(SearchError, match="without out_dir"):
        run_search(IntVectorProblem(), SearchConfig(), resume=True, quiet=True)


# ---------------------------------------------------------------------------- persistence


def test_checkpoint_contents_and_refusals(tmp_path: Path) -> None:
    cfg = SearchConfig(budget="tiny", seed=2, mode="pareto")
    first = run_search(IntVectorProblem(), cfg, out_dir=tmp_path, quiet=True)
    ckpt = json.loads((tmp_path / CHECKPOINT_NAME).read_text())
    assert ckpt["generation"] == cfg.generations
    assert ckpt["config"] == cfg.to_dict()
    assert ckpt["rng_state"]["bit_generator"] == "PCG64"
    assert len(ckpt["history"]) == len(first.history)
    lines = (tmp_path / JOURNAL_NAME).read_text().splitlines()
    assert json.loads(lines[0])["type"] == "header"
    assert len(lines) - 1 == len(first.history)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    with pytest.raises(SearchError, match="resume=True"):
        run_search(IntVectorProblem(), cfg, out_dir=tmp_path, quiet=True)
    with pytest.raises(SearchError, match="seed"):
        other = SearchConfig(**{**cfg.to_dict(), "seed": 9})
        run_search(IntVectorProblem(), other, out_dir=tmp_path, resume=True, quiet=True)
    # Resuming a finished search evaluates nothing and returns the same result.
    again_problem = IntVectorProblem()
    again = run_search(again_problem, cfg, out_dir=tmp_path, resume=True, quiet=True)
    assert again_problem.calls == []
    pd.testing.assert_frame_equal(again.history, first.history)
    fresh = run_search(IntVectorProblem(), cfg, out_dir=tmp_path, overwrite=True, quiet=True)
    pd.testing.assert_frame_equal(fresh.history, first.history)


def test_resume_from_journal_with_a_torn_last_line(tmp_path: Path) -> None:
    cfg = SearchConfig(budget="tiny", seed=8, generations=3)
    reference = run_search(IntVectorProblem(), cfg, quiet=True)
    run_search(IntVectorProblem(), cfg, out_dir=tmp_path, quiet=True)
    # Simulate a kill during generation 0: no checkpoint, 5 journaled results, a torn line.
    (tmp_path / CHECKPOINT_NAME).unlink()
    journal = tmp_path / JOURNAL_NAME
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines[:6]) + lines[6][:17])
    journaled = {json.loads(line)["key"] for line in lines[1:6]}
    problem = IntVectorProblem()
    resumed = run_search(problem, cfg, out_dir=tmp_path, resume=True, quiet=True)
    assert not journaled & set(problem.calls)
    assert len(problem.calls) == len(reference.history) - 5
    pd.testing.assert_frame_equal(resumed.history, reference.history)
    # A malformed line in the middle of the journal is an error that names file and line.
    text = journal.read_text().splitlines(keepends=True)
    journal.write_text(text[0] + "{not json\n" + "".join(text[1:]))
    with pytest.raises(SearchError, match=rf"{JOURNAL_NAME}:2: malformed"):
        run_search(IntVectorProblem(), cfg, out_dir=tmp_path, resume=True, quiet=True)


def _journal_keys(path: Path) -> list[str]:
    if not path.exists():
        return []
    keys = []
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("type") == "eval":
            keys.append(rec["key"])
    return keys


def test_sigkill_mid_generation_then_resume_loses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "search"
    calls_log = tmp_path / "calls.log"
    cfg = script_config()
    reference = run_search(IntVectorProblem(), cfg, quiet=True)
    assert len(reference.history) == cfg.total_evaluations == 32
    # Kill in generation 2: after the 8 + 4 evaluations of generations 0 and 1 and one more
    # have been journaled, while the next evaluation is running (it never returns).
    journaled_at_kill = cfg.population + cfg.children + 1
    pythonpath = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": pythonpath}
    proc = subprocess.Popen(
        [sys.executable, "-m", "codesign.search.toy", str(out), str(calls_log), "0.01",
         str(journaled_at_kill + 1)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60.0
        while len(_journal_keys(out / JOURNAL_NAME)) < journaled_at_kill:
            assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "the search subprocess made no progress"
            time.sleep(0.01)
        time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    journaled = _journal_keys(out / JOURNAL_NAME)
    assert len(journaled) == journaled_at_kill
    ckpt = json.loads((out / CHECKPOINT_NAME).read_text())
    # Killed mid-generation 2, with evaluations journaled beyond the last checkpoint.
    assert ckpt["generation"] == 1
    assert len(ckpt["history"]) == cfg.population + cfg.children < len(journaled)
    assert set(journaled) == set(calls_log.read_text().split())

    problem = IntVectorProblem()
    resumed = run_search(problem, cfg, out_dir=out, resume=True, quiet=True)
    assert not set(journaled) & set(problem.calls), "a journaled evaluation was recomputed"
    assert len(problem.calls) == len(reference.history) - len(set(journaled))
    pd.testing.assert_frame_equal(resumed.history, reference.history)
    assert resumed.population_keys == reference.population_keys
    assert resumed.best == reference.best
