"""The README's ``simulate`` example: independent kernels overlap in time, start/end are
printed in one number format, and the timeline names every kernel with a legend of exactly
what is drawn, placed where it hides no bar."""

from __future__ import annotations

import re

import pytest
import yaml

from pimsim.cli import main
from pimsim.hw.load import load_profile
from pimsim.sim.engine import simulate
from pimsim.sim.export import timeline_figure
from pimsim.sim.trace import IDLE_OP, Trace
from pimsim.workload.examples import EXAMPLE_DIR
from pimsim.workload.graph import load_workload

EXAMPLE = EXAMPLE_DIR / "dlrm_recnmp_2x128.yaml"
PROFILE = "ddr4_recnmp"
#: One number format for times: thousands separated by commas, one decimal (ns).
TIME = re.compile(r"^\d{1,3}(,\d{3})*\.\d$")


def ancestors_by_hand() -> dict[str, set[str]]:
    """Every kernel's transitive dependencies, from the YAML's deps (not the Workload)."""
    data = yaml.safe_load(EXAMPLE.read_text())
    deps = {k["name"]: set(data.get("deps", {}).get(k["name"], [])) for k in data["kernels"]}
    out: dict[str, set[str]] = {}

    def walk(name: str) -> set[str]:
        if name not in out:
            out[name] = set(deps[name]).union(*(walk(d) for d in deps[name]))
        return out[name]

    for name in deps:
        walk(name)
    return out


@pytest.fixture(scope="module")
def trace() -> Trace:
    return simulate(load_workload(EXAMPLE), load_profile(PROFILE))


def test_independent_kernels_of_the_example_overlap(trace: Trace) -> None:
    anc = ancestors_by_hand()
    recs = [r for r in trace.records if r.op != IDLE_OP]
    overlapping = [(a.name, b.name) for i, a in enumerate(recs) for b in recs[i + 1:]
                   if min(a.end_ns, b.end_ns) - max(a.start_ns, b.start_ns) > 0]
    assert overlapping, "no two kernels overlap in time"
    for a, b in overlapping:  # only kernels that do not wait for each other may overlap
        assert a not in anc[b] and b not in anc[a], (a, b)
        assert trace.kernel(a).unit != trace.kernel(b).unit, (a, b)
    assert ("b0.interact", "b1.emb0") in overlapping or ("b1.emb0", "b0.interact") in overlapping


def test_start_and_end_are_printed_in_one_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--profile", PROFILE, "--workload", str(EXAMPLE)]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = lines[1].split()
    rows = [line.split() for line in lines[2:] if line.strip() and not line.startswith(
        ("makespan", "(idle"))]
    assert len(rows) == 26
    for col in ("start_ns", "end_ns", "duration_ns"):
        i = head.index(col)
        assert all(TIME.match(r[i]) for r in rows), [r[i] for r in rows]


def test_timeline_names_each_kernel_and_its_legend_lists_what_is_drawn(trace: Trace) -> None:
    fig = timeline_figure(trace)
    ax = fig.axes[0]
    names = {r.name for r in trace.records if r.op != IDLE_OP}
    assert {t.get_text() for t in ax.get_yticklabels()} == names
    legend = fig.legends[0]
    drawn_ops = {r.op for r in trace.records if r.op != IDLE_OP}
    labels = {t.get_text() for t in legend.get_texts()}
    assert labels == drawn_ops | {"on PIM (hatched)"}
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = legend.get_window_extent(renderer)
    assert not box.overlaps(ax.get_window_extent(renderer))  # the legend hides no bar
    bars = [p for p in ax.patches]
    assert len(bars) == len(names)
    assert {p.get_hatch() for p in bars} == {"///", None}
