"""A reproduction stage's wall time counts every attempt at it: a stage that fails keeps
the time it ran, a running stage writes its time so far while it runs (so a run stopped
hard loses at most one heartbeat of it), and the attempt that finishes adds to them."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from codesign.pipeline import run as run_module
from codesign.pipeline.protocol import TIMINGS_NAME
from codesign.pipeline.run import Stages


def _on_disk(out: Path) -> dict[str, float]:
    return json.loads((out / TIMINGS_NAME).read_text())


def test_an_interrupted_stage_keeps_its_time_and_the_resumed_one_adds_to_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_module, "HEARTBEAT_S", 0.05)
    artefact = tmp_path / "done.json"
    seen_while_running: list[float] = []

    def interrupted() -> None:
        time.sleep(0.4)
        # the heartbeat has written the time so far while the stage still runs
        seen_while_running.append(_on_disk(tmp_path)["search B"])
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Stages(tmp_path, lambda _: None, None).run("search B", artefact, interrupted)
    first = _on_disk(tmp_path)["search B"]
    assert first >= 0.4
    assert 0.2 <= seen_while_running[0] <= first

    def finishes() -> None:
        time.sleep(0.2)
        artefact.write_text("{}")

    said: list[str] = []
    Stages(tmp_path, said.append, None).run("search B", artefact, finishes)
    total = _on_disk(tmp_path)["search B"]
    assert total >= first + 0.2
    assert any("before" in line for line in said)
    # a finished stage is skipped and keeps its time
    Stages(tmp_path, lambda _: None, None).run("search B", artefact, finishes)
    assert _on_disk(tmp_path)["search B"] == total
