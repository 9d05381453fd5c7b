"""``pimsim sweep`` and ``pimsim simulate`` with ``--workload`` or ``--spec``; the lookup of
the ``--spec`` builder through the ``pimsim.workload_builders`` entry points."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import pimsim.cli.spec
from codesign.hw.spec_workload import SpecWorkload
from pimsim.cli import main as pimsim_main
from pimsim.cli.spec import BUILDER_GROUP, SPEC_BUILDER, find_builder, spec_workload
from pimsim.errors import PimsimError, WorkloadError
from pimsim.hw.load import load_profile
from pimsim.sweep import run_sweep, set_params
from pimsim.workload.graph import Workload, save_workload
from tests.helpers.shared import NASREC_REFERENCE

REF = NASREC_REFERENCE
#: Name of the test-local builder the fake distribution below registers.
FAKE = "fake_for_tests"


class FakeBuildError(Exception):
    """The bad-input error of the fake builder's package (this test package)."""


class FakeBuilder:
    """A builder with the --spec interface; its spec file names the workload to return."""

    replicate_hot_rows = 0

    def __init__(self, workload: Workload) -> None:
        self.workload = workload

    @classmethod
    def from_files(cls, spec_path: str, dataset: str, plan_path: str | None,
                   batch: int) -> "FakeBuilder":
        text = Path(spec_path).read_text()
        if text == "bug":
            raise ZeroDivisionError("a bug in the builder")
        if text != "ok":
            raise FakeBuildError(f"{spec_path}: not a spec; accepted: 'ok'")
        return cls(FakeBuilder.template)

    def profile_for(self, profile):  # noqa: ANN001, ANN201
        return profile

    def __call__(self, profile):  # noqa: ANN001, ANN201
        return self.workload


@pytest.fixture
def fake_builder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 small_workload: Workload) -> Path:
    """A distribution on sys.path whose entry point registers :class:`FakeBuilder`."""
    dist = tmp_path / "site" / "fake_builder-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-builder\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        f"[{BUILDER_GROUP}]\n{FAKE} = {__name__}:FakeBuilder\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(FakeBuilder, "template", small_workload, raising=False)
    spec = tmp_path / "spec.txt"
    spec.write_text("ok")
    return spec


def test_builder_found_through_its_entry_point(fake_builder: Path) -> None:
    assert find_builder(FAKE) is FakeBuilder
    assert find_builder(SPEC_BUILDER) is SpecWorkload  # the one codesign declares
    with pytest.raises(PimsimError, match=r"no workload builder 'absent' is installed .*"
                                          rf"{FAKE}.*accepted: --workload FILE"):
        find_builder("absent")


def test_builder_errors_of_its_own_package_become_workload_errors(fake_builder: Path) -> None:
    assert isinstance(spec_workload(str(fake_builder), "any", name=FAKE), FakeBuilder)
    fake_builder.write_text("nonsense")
    with pytest.raises(WorkloadError, match=r"spec\.txt: not a spec; accepted: 'ok'"):
        spec_workload(str(fake_builder), "any", name=FAKE)
    fake_builder.write_text("bug")
    with pytest.raises(ZeroDivisionError):  # not bad input: a bug stays visible
        spec_workload(str(fake_builder), "any", name=FAKE)


def test_cli_simulate_and_sweep_through_a_test_builder(
        fake_builder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(pimsim.cli.spec, "SPEC_BUILDER", FAKE)
    rc = pimsim_main(["simulate", "-p", "hbm2_pim", "--spec", str(fake_builder), "--dataset",
                      "any"])
    out = capsys.readouterr().out
    assert rc == 0 and "# small on hbm2_pim" in out and "fc" in out
    rc = pimsim_main(["sweep", "-p", "hbm2_pim", "--spec", str(fake_builder), "--dataset",
                      "any", "--set", "pim.units_per_channel=8,16", "--out",
                      str(tmp_path / "sw"), "--quiet"])
    assert rc == 0 and "2 points simulated" in capsys.readouterr().out
    fake_builder.write_text("nonsense")
    rc = pimsim_main(["simulate", "-p", "hbm2_pim", "--spec", str(fake_builder), "--dataset",
                      "any"])
    assert rc == 2 and "not a spec" in capsys.readouterr().err


def test_cli_sweep_workload_and_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    small_workload: Workload) -> None:
    wpath = save_workload(small_workload, tmp_path / "w.yaml")
    rc = pimsim_main(["sweep", "-p", "hbm2_pim", "-w", str(wpath), "--set",
                      "pim.units_per_channel=4,16", "--out", str(tmp_path / "a"), "--quiet"])
    assert rc == 0
    assert "2 points simulated" in capsys.readouterr().out
    rc = pimsim_main(["sweep", "-p", "hbm2_pim", "-w", str(wpath), "--set",
                      "pim.units_per_channel=4,16", "--out", str(tmp_path / "a"), "--quiet",
                      "--resume"])
    assert rc == 0 and "0 points simulated, 2 skipped" in capsys.readouterr().out
    rc = pimsim_main(["sweep", "-p", "hbm2_pim", "-w", str(wpath), "--set", "dram.nope=1",
                      "--out", str(tmp_path / "b"), "--quiet"])
    assert rc == 2 and "'nope' not found under dram" in capsys.readouterr().err
    if not REF.is_dir():
        pytest.skip("shared/reference/nasrec not present")
    spec = str(REF / "criteo_full_best.json")
    rc = pimsim_main(["sweep", "-p", "hbm2_pim", "--spec", spec, "--dataset", "criteo",
                      "--batch", "8", "--set", "dram.channels=4,8", "--out",
                      str(tmp_path / "c"), "--quiet"])
    assert rc == 0
    rows = pd.read_csv(tmp_path / "c" / "results.csv")
    assert list(rows["dram.channels"]) == [4, 8] and (rows["status"] == "ok").all()
    rc = pimsim_main(["sweep", "-p", "hbm2_pim", "--spec", spec, "--set", "dram.channels=4",
                      "--out", str(tmp_path / "d"), "--quiet"])
    assert rc == 2 and "--spec needs --dataset" in capsys.readouterr().err


def test_cli_simulate_spec_with_plan(tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    if not REF.is_dir():
        pytest.skip("shared/reference/nasrec not present")
    spec = str(REF / "criteo_small_best.json")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"dense": {"b0.fc.linear": "pim"},
                                "knobs": {"units_per_channel": 8}}))
    chrome = tmp_path / "t.json"
    rc = pimsim_main(["simulate", "-p", "hbm2_pim", "--spec", spec, "--dataset", "criteo",
                      "--plan", str(plan), "--batch", "4", "--chrome", str(chrome)])
    out = capsys.readouterr().out
    assert rc == 0 and "b0.fc.linear" in out and "final.logit" in out
    assert json.loads(chrome.read_text())["traceEvents"]
    plan.write_text(json.dumps({"dense": {"final.logit": "gpu"}}))
    rc = pimsim_main(["simulate", "-p", "hbm2_pim", "--spec", spec, "--dataset", "criteo",
                      "--plan", str(plan)])
    assert rc == 2 and "plan: dense.final.logit = " in capsys.readouterr().err


def test_sweep_starts_from_the_plans_knobs_and_simulate_refuses_two_replications(
        fake_builder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        small_workload: Workload, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(pimsim.cli.spec, "SPEC_BUILDER", FAKE)
    knobs = {"pim.channels_used": 4}  # what a plan's knobs set, through profile_for
    monkeypatch.setattr(FakeBuilder, "profile_for", lambda self, p: set_params(p, knobs))
    rc = pimsim_main(["sweep", "-p", "hbm2_pim", "--spec", str(fake_builder), "--dataset",
                      "any", "--set", "pim.units_per_channel=8", "--out", str(tmp_path / "sw"),
                      "--quiet"])
    assert rc == 0
    got = pd.read_csv(tmp_path / "sw" / "results.csv")["latency_ns"].iloc[0]
    base = load_profile("hbm2_pim")
    want = {c: run_sweep(set_params(base, k), small_workload,
                         [("pim.units_per_channel", [8])], plots=False).rows["latency_ns"].iloc[0]
            for c, k in (("knobs", knobs), ("shipped", {}))}
    assert want["knobs"] != want["shipped"]  # the knob matters for this workload
    assert got == pytest.approx(want["knobs"])
    monkeypatch.setattr(FakeBuilder, "replicate_hot_rows", {"emb": 4})
    rc = pimsim_main(["simulate", "-p", "hbm2_pim", "--spec", str(fake_builder), "--dataset",
                      "any", "--replicate-hot-rows", "2"])
    err = capsys.readouterr().err
    assert rc == 2 and "None" not in err
    assert "--replicate-hot-rows 2: the --spec workload already sets hot-row replication; " \
        "accepted: one of the two" in err
