"""A search's progress bar counts what is already on disk as done (its rate, and so its ETA,
is that of the evaluations it runs), its files are strict JSON with the usual permissions,
and an objective that is not finite reads back as it was held."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from codesign.search import CHECKPOINT_NAME, JOURNAL_NAME, SearchConfig, run_search
from codesign.search.toy import IntVectorProblem


def _refuse(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def test_resumed_bar_starts_at_the_results_on_disk(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    cfg = SearchConfig(budget="tiny", seed=8, generations=3)
    run_search(IntVectorProblem(), cfg, out_dir=tmp_path, quiet=True)
    # a kill during generation 0: no checkpoint, 5 results in the journal
    (tmp_path / CHECKPOINT_NAME).unlink()
    journal = tmp_path / JOURNAL_NAME
    journal.write_text("".join(journal.read_text().splitlines(keepends=True)[:6]))
    capsys.readouterr()
    run_search(IntVectorProblem(), cfg, out_dir=tmp_path, resume=True)
    frames = capsys.readouterr().err.replace("\r", "\n").split("\n")
    counts = [f for f in frames if f"/{cfg.total_evaluations} " in f]
    # the first frame already holds the 5 journaled results; no frame counts them one by one
    assert f" 5/{cfg.total_evaluations} " in counts[0]
    assert not any(f" {k}/{cfg.total_evaluations} " in f for f in counts for k in (1, 2, 3, 4))


class _Diverging(IntVectorProblem):
    """Some genomes score an infinite or undefined objective, as a diverged model does."""

    def evaluate(self, genome):  # type: ignore[no-untyped-def]
        out = dict(super().evaluate(genome))
        if sum(genome) % 3 == 0:
            out["logloss"] = math.inf
        elif sum(genome) % 3 == 1:
            out["energy_pj"] = math.nan
        return out


def test_journal_and_checkpoint_are_strict_json_and_resume_identically(tmp_path: Path) -> None:
    cfg = SearchConfig(budget="tiny", seed=3, mode="pareto")
    reference = run_search(_Diverging(), cfg, quiet=True)
    first = run_search(_Diverging(), cfg, out_dir=tmp_path, quiet=True)
    for line in (tmp_path / JOURNAL_NAME).read_text().splitlines():
        json.loads(line, parse_constant=_refuse)
    json.loads((tmp_path / CHECKPOINT_NAME).read_text(), parse_constant=_refuse)
    assert all((tmp_path / n).stat().st_mode & 0o777 == 0o644
               for n in (JOURNAL_NAME, CHECKPOINT_NAME))
    (tmp_path / CHECKPOINT_NAME).unlink()  # resume from the journal alone
    resumed = run_search(_Diverging(), cfg, out_dir=tmp_path, resume=True, quiet=True)
    assert first.history[["logloss", "energy_pj"]].isna().any().all()  # both cases happen
    pd.testing.assert_frame_equal(resumed.history, reference.history)
    pd.testing.assert_frame_equal(first.history, reference.history)
