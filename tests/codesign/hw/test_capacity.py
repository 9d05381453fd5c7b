"""Plans on a crossbar PIM keep only the weights its crossbars hold on PIM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pimsim import capacity_refusals, load_profile, simulate
from codesign.data.schema import get_schema
from codesign.hw.greedy import greedy_plan
from codesign.hw.mapping import map_subnet, subnet_graph
from codesign.hw.placement import PimPlan, TablePlan
from codesign.hw.plans import apply_knobs, mutate_plan, reconcile_plan, sample_plan
from codesign.nas.moves import sample

SCHEMA = get_schema("criteo")


@pytest.fixture(scope="module")
def small_crossbars(tmp_path_factory) -> str:
    # 8 channels x 1 tile x 2 crossbars of 128 x 128 2-bit cells: 16 crossbars; an int8
    # weight takes 4 cells (columns) per weight, so a 128 x 128 weight fills 4 of them
    path = Path(tmp_path_factory.mktemp("xbar")) / "reram_small.yaml"
    path.write_text("name: reram_small\nextends: reram_pim\n"
                    "pim: {units_per_channel: 1, crossbars_per_tile: 2,\n"
                    "      searchable: {units_per_channel: [1], weight_replicas: [1]}}\n")
    return str(path)


def _spec():
    """A subnet of the full space with at least three weighted products."""
    rng = np.random.default_rng(2)
    while True:
        spec = sample("full", rng)
        if sum(k.weighted for k in subnet_graph(spec, SCHEMA).kernels) >= 3:
            return spec


def _fits(plan: PimPlan, spec, profile) -> None:
    prof = apply_knobs(profile, plan)
    wl = map_subnet(spec, SCHEMA, plan, batch=2, profile=prof)
    assert capacity_refusals(prof, [wl.kernel(n) for n in wl.topological_order()]) == {}
    simulate(wl, prof)  # runs without a capacity error


def test_every_weighted_kernel_on_pim_is_cut_to_what_fits(small_crossbars) -> None:
    profile = load_profile(small_crossbars)
    spec = _spec()
    graph = subnet_graph(spec, SCHEMA)
    weighted = [k.name for k in graph.kernels if k.weighted]
    everything = PimPlan(tables={f: TablePlan() for f in graph.tables},
                         dense={k.name: "pim" if k.weighted else "host" for k in graph.kernels})
    wl = map_subnet(spec, SCHEMA, everything, batch=2, profile=profile)
    refused = capacity_refusals(profile, [wl.kernel(n) for n in wl.topological_order()])
    assert refused  # the subnet's weights overflow 16 crossbars
    plan = reconcile_plan(everything, spec, SCHEMA, profile)
    on_pim = [n for n in weighted if plan.dense[n] == "pim"]
    assert on_pim and set(on_pim) == set(weighted) - set(refused)
    _fits(plan, spec, profile)


def test_sampled_mutated_and_greedy_plans_fit(small_crossbars) -> None:
    profile = load_profile(small_crossbars)
    spec = _spec()
    rng = np.random.default_rng(11)
    for _ in range(3):
        plan = sample_plan(spec, SCHEMA, profile, rng, 1.0)
        _fits(plan, spec, profile)
        plan = mutate_plan(plan, spec, SCHEMA, profile, rng, 3)
        _fits(plan, spec, profile)
    for objective in ("latency", "energy"):
        _fits(greedy_plan(spec, SCHEMA, profile, {}, objective=objective, batch=1), spec, profile)
