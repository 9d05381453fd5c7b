"""The reproduction protocol as data: budget presets, the stages in order, the simulated
batch, the published ratios it is compared with, and the run folder's small JSON files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codesign.errors import CodesignError, read_json_file
from pimsim.util.cli import to_jsonable
from pimsim.util.executors import DEFAULT_EXECUTOR
from pimsim.util.fileio import atomic_write_json

#: Published ratios of the reproduced work (FLOPs, energy, latency of B over C).
PUBLISHED = {"flops": 2.0, "energy": 1.8, "latency": 1.5}
#: Inference batch of the hardware simulation of B, C and B_host.
SIM_BATCH = 256
#: The stages, in order (names for ``stop_after`` and the timings).
STAGES = ("data", "supernet", "search B", "search C", "scratch B", "scratch C", "simulate",
          "report")
#: Wall seconds of each stage, in the output folder.
TIMINGS_NAME = "timings.json"
#: The run's arguments, in the output folder; a rerun must match them.
SETTINGS_NAME = "settings.json"


@dataclass(frozen=True)
class ReproBudget:
    """Training and evaluation sizes that go with a search budget preset.

    ``search``: the search preset (codesign.search.BUDGETS), with ``search_overrides``
    (population, sample, children, generations) on top; ``train_rows``: training rows per
    epoch for the supernet and for training from scratch (None: the whole split);
    ``finetune_steps`` / ``finetune_batch``: head fine-tuning per evaluated subnet;
    ``finetune_rows``: training rows of each head refit (None: the estimate's default);
    ``eval_rows``: validation rows per supernet estimate (None: all); ``cap``: bucket cap
    of the data cache (None: the published distinct counts).
    """

    name: str
    search: str
    supernet_epochs: int
    train_rows: int | None
    finetune_steps: int
    finetune_batch: int
    eval_rows: int | None
    scratch_epochs: int
    cap: int | None
    search_overrides: tuple[tuple[str, int], ...] = ()
    finetune_rows: int | None = None


#: ``tiny`` runs in about 5 minutes on 2 cores (50,000 synthetic rows); ``small`` trains
#: the supernet and B and C from scratch on 393,216 training rows (768 steps of 512), its
#: search is the ``small`` preset run for 92 generations (400 evaluations per search), each
#: estimate's head refitted on 4,096 training rows and validated on 2,048 val rows (the
#: same rows for every genome; benchmarks/search_speed.py measures its speed and its
#: answers against 20,000 / 16,384 rows), and its buckets are capped at 2**14 rows per
#: field, because supernet steps and head fine-tuning dominate on 2 cores.
REPRO_BUDGETS: dict[str, ReproBudget] = {
    "tiny": ReproBudget("tiny", "tiny", 1, 8192, 5, 512, 1000, 1, 2**12),
    "small": ReproBudget("small", "small", 1, 393_216, 10, 512, 2048, 1, 2**14,
                         (("generations", 92),), finetune_rows=4096),
    "paper": ReproBudget("paper", "paper", 1, None, 100, 512, None, 1, None),
}
#: Budget and profile of a run that names none.
DEFAULT_BUDGET = "tiny"
DEFAULT_PROFILE = "hbm2_pim"
#: Executor of ``codesign search`` and ``reproduce`` when they name none: pimsim's one
#: default (in-process).
DEFAULT_SCHEDULER = DEFAULT_EXECUTOR


def write_json(path: Path, data: Any) -> None:
    """One of the run folder's JSON files, written atomically as strict JSON (numpy numbers
    as plain ones, a value that is not finite as ``null``)."""
    atomic_write_json(path, to_jsonable(data), indent=1, allow_nan=False)


def read_json(path: Path) -> Any:
    """One of the run folder's JSON files (a damaged one is an error naming it)."""
    return read_json_file(path, CodesignError, "a JSON file of the run folder")


def read_timings(out: Path) -> dict[str, float]:
    """Wall seconds per stage of the run in ``out`` (stages skipped as done keep the time of
    the run that did them)."""
    path = out / TIMINGS_NAME
    if not path.is_file():
        return {}
    return {str(k): float(v) for k, v in read_json(path).items()}
