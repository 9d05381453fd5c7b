"""The reproduction run the pipeline tests read: a micro budget on 3,000 synthetic rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from codesign.pipeline.protocol import ReproBudget
from codesign.pipeline.reproduce import reproduce

#: The ``tiny`` preset's search shrunk further and a thousand training rows, so that the
#: end-to-end run stays near a minute on 2 cores; ``--budget tiny`` is the same code path
#: with larger numbers (``make demo`` runs it).
MICRO = ReproBudget(
    name="micro", search="tiny", supernet_epochs=1, train_rows=1024, finetune_steps=2,
    finetune_batch=256, eval_rows=400, scratch_epochs=1, cap=2**10,
    search_overrides=(("population", 4), ("sample", 2), ("children", 2), ("generations", 1)),
)


@pytest.fixture(scope="package")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("repro")
    reproduce("criteo", out, profile="hbm2_pim", budget=MICRO, synthetic_rows=3000, seed=0,
              scheduler="serial", threads=1, quiet=True)
    return out
