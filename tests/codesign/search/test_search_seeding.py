"""Seeded initial populations (SearchConfig.initial_genomes) and the C rule of reproduce."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.pipeline.selection import select_c
from codesign.search import CHECKPOINT_NAME, SearchConfig, SearchError, pareto_front, run_search
from codesign.search.toy import IntVectorProblem


SEEDS = ([4, 4, 4, 4, 4, 0], [0, 0, 0, 0, 0, 0])


def _cfg(**kw: object) -> SearchConfig:
    base = dict(budget="tiny", seed=7, mode="pareto", generations=3)
    base.update(kw)
    return SearchConfig(**base)  # type: ignore[arg-type]


def test_seeds_come_first_and_count_in_the_budget() -> None:
    plain = run_search(IntVectorProblem(), _cfg(), quiet=True)
    prob = IntVectorProblem()
    seeded = run_search(prob, _cfg(initial_genomes=SEEDS), quiet=True)
    h = seeded.history
    assert [json.loads(g) for g in h["genome"][:2]] == [list(s) for s in SEEDS]
    assert list(h["seeded"]) == [True, True] + [False] * (len(h) - 2)
    assert (h["generation"][:2] == 0).all() and h["parent"][:2].isna().all()
    # the same number of evaluations as the unseeded search: seeds take population places
    assert len(h) == len(plain.history) == _cfg().total_evaluations
    assert len(prob.calls) == len(h)
    # a seed's objectives are exactly its evaluation
    assert h["logloss"][1] == pytest.approx(0.4 + 0.01 * (9 + 1 + 16 + 1 + 4 + 0))
    # the all-zero seed has the least latency and energy: it is on the front
    assert h["key"][1] in set(seeded.front["key"])
    # a seed never comes back as a sampled or mutated child (no duplicate evaluation)
    assert h["key"].is_unique


def test_seeded_search_is_deterministic_and_config_round_trips() -> None:
    cfg = _cfg(initial_genomes=SEEDS)
    a = run_search(IntVectorProblem(), cfg, quiet=True)
    b = run_search(IntVectorProblem(), SearchConfig.from_dict(cfg.to_dict()), quiet=True)
    pd.testing.assert_frame_equal(a.history, b.history)
    assert cfg.to_dict()["initial_genomes"] == [list(s) for s in SEEDS]
    assert _cfg().to_dict()["initial_genomes"] == []
    assert SearchConfig.from_dict(cfg.to_dict()) == cfg


class _DiesAt(IntVectorProblem):
    """Raises on its ``die_at``-th evaluation: a search process that died there."""

    die_at: int = 0

    def evaluate(self, genome: tuple[int, ...]) -> dict[str, float]:
        if len(self.calls) + 1 == self.die_at:
            raise KeyboardInterrupt("killed")
        return super().evaluate(genome)


@pytest.mark.parametrize("die_at", [2, 11])  # inside the seeds' generation 0; in generation 2
def test_seeded_search_survives_resume(tmp_path: Path, die_at: int) -> None:
    cfg = _cfg(initial_genomes=SEEDS)
    whole = run_search(IntVectorProblem(), cfg, quiet=True)
    dying = _DiesAt()
    dying.die_at = die_at
    with pytest.raises(KeyboardInterrupt):
        run_search(dying, cfg, out_dir=tmp_path, quiet=True)
    again = IntVectorProblem()
    res = run_search(again, cfg, out_dir=tmp_path, resume=True, quiet=True)
    pd.testing.assert_frame_equal(res.history, whole.history)
    assert len(dying.calls) == die_at - 1
    assert len(again.calls) == len(whole.history) - (die_at - 1)  # no evaluation lost or redone
    assert not set(again.calls) & set(dying.calls)
    ckpt = json.loads((tmp_path / CHECKPOINT_NAME).read_text())
    assert ckpt["config"]["initial_genomes"] == [list(s) for s in SEEDS]
    # resuming with other seeds is refused: the seeds are part of the config
    with pytest.raises(SearchError, match="initial_genomes"):
        run_search(IntVectorProblem(), _cfg(initial_genomes=SEEDS[:1]), out_dir=tmp_path,
                   resume=True, quiet=True)


def test_bad_seeds_are_refused() -> None:
    with pytest.raises(SearchError, match="at most population"):
        _cfg(initial_genomes=[[0] * 6] * 9)
    with pytest.raises(SearchError, match="initial_genomes: got str"):
        _cfg(initial_genomes="000000")
    with pytest.raises(SearchError, match=r"initial_genomes\[1\]: repeats"):
        run_search(IntVectorProblem(), _cfg(initial_genomes=[SEEDS[0], SEEDS[0]]), quiet=True)
    with pytest.raises(SearchError, match=r"initial_genomes\[0\].*is_valid"):
        run_search(IntVectorProblem(), _cfg(initial_genomes=[[4] * 6]), quiet=True)  # sum 24


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(1, 6), st.integers(1, 6)),
                min_size=0, max_size=25),
       st.tuples(st.integers(0, 6), st.integers(1, 6), st.integers(1, 6)))
def test_select_c_on_a_front_holding_b_never_loses_to_b(
    points: list[tuple[int, int, int]], b: tuple[int, int, int]
) -> None:
    """Seeding C's search with B puts B (or a point dominating it) on the front; then the
    tolerance rule applies and C's energy x latency is at most B's."""
    allp = np.array([b, *points], dtype=np.float64) * np.array([0.0005, 10.0, 3.0])
    allp[:, 0] += 0.44
    front = pd.DataFrame(allp[pareto_front(allp)], columns=["logloss", "latency_ns", "energy_pj"])
    i, met = select_c(front, float(allp[0, 0]))
    assert met
    c = front.iloc[i]
    assert c["logloss"] <= allp[0, 0] + 0.001
    assert c["latency_ns"] * c["energy_pj"] <= allp[0, 1] * allp[0, 2]
