"""``codesign search`` and ``codesign reproduce`` arguments: choices from the registries they
name, one executor default, and usage errors (the runs themselves are in
tests/codesign/pipeline)."""

from __future__ import annotations

import argparse

import pytest

from codesign.cli.main import COMMAND_MODULES, main as codesign_main
from codesign.data.schema import DATASET_NAMES
from codesign.pipeline.protocol import REPRO_BUDGETS, STAGES
from codesign.search import BUDGETS, FITNESS_MODES
from pimsim.util.cli import build_parser


def _options(command: str) -> dict[str, argparse.Action]:
    parser = build_parser("codesign", "", COMMAND_MODULES)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a for a in sub.choices[command]._actions}


def test_choices_come_from_the_registries() -> None:
    search, repro = _options("search"), _options("reproduce")
    assert tuple(search["mode"].choices) == tuple(FITNESS_MODES)
    assert tuple(search["budget"].choices) == tuple(BUDGETS)
    assert tuple(search["dataset"].choices) == tuple(DATASET_NAMES)
    assert tuple(repro["dataset"].choices) == tuple(DATASET_NAMES)
    assert tuple(repro["budget"].choices) == tuple(REPRO_BUDGETS)
    assert tuple(repro["stop_after"].choices) == STAGES
    # one executor default for both commands
    assert search["scheduler"].default == repro["scheduler"].default == "serial"
    # reproduce always continues a run: no --resume flag that would do nothing
    assert "resume" not in repro and "resume" in search


def test_cli_reproduce_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        codesign_main(["reproduce", "--dataset", "criteo", "--raw", "x", "--synthetic-rows",
                       "10", "--out", "y"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        codesign_main(["reproduce", "--dataset", "criteo", "--synthetic-rows", "10", "--out", "y", "--resume"])
    assert exc.value.code == 2
    rc = codesign_main(["reproduce", "--dataset", "criteo", "--synthetic-rows", "10",
                        "--out", "/nonexistent/never", "--quiet"])
    assert rc == 2 and "--synthetic-rows: 10" in capsys.readouterr().err


def test_cli_search_limit_syntax() -> None:
    base = ["search", "--data", "d", "--supernet", "s", "--profile", "hbm2", "--out", "o"]
    for bad in ("latency=5", "latency_ns=fast", "latency_ns"):
        with pytest.raises(SystemExit) as exc:
            codesign_main([*base, "--limit", bad])
        assert exc.value.code == 2
