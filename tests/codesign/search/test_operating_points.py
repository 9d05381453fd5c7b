"""Operating points of the co-search (codesign.hw.operating): per-batch figures and their
aggregate against simulations made separately here, the greedy plan over several batches,
the options' errors in the user's terms, and constrained results that keep only feasible
genomes (on the toy problem, against a brute-force dominance check)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from codesign.cli.main import main as codesign_main
from codesign.cosearch import CoSearchProblem, Genome
from codesign.errors import CodesignError
from codesign.hw.evaluate import hardware_metrics, simulate_subnet
from codesign.hw.greedy import cached_kernel_cost, greedy_plan
from codesign.hw.operating import (
    OperatingPoints,
    parse_batch_mix,
    parse_batches,
    parse_latency_limits,
)
from codesign.search import SearchConfig, fitness_order, run_search
from codesign.search.toy import IntVectorProblem
from pimsim import ENERGY_COLUMNS

BATCHES = (1, 256)


def _problem(**kw: Any) -> CoSearchProblem:
    # the hardware side needs only the profile and the data set's published schema
    return CoSearchProblem(data_dir="unused", supernet="unused", profile="hbm2_pim",
                           dataset="criteo", **kw)


def _genome(prob: CoSearchProblem, seed: int) -> Genome:
    """A sampled genome with some kernels on PIM, so host and PIM both appear."""
    rng = np.random.default_rng(seed)
    for _ in range(50):
        g = prob.sample(rng)
        if g.plan.on_pim():
            return g
    raise AssertionError("no sampled genome places anything on PIM")


def _separately(prob: CoSearchProblem, g: Genome, batch: int) -> dict[str, float]:
    """The figures of one batch from a simulation of its own (no shared cost cache)."""
    trace = simulate_subnet(g.spec, prob.schema, g.plan, prob.hw_profile, batch=batch,
                            seed=prob.seed)
    return hardware_metrics(trace)


def test_worst_case_is_the_max_of_per_batch_figures_per_sample() -> None:
    prob = _problem(batches=BATCHES)
    g = _genome(prob, 3)
    got = prob.hardware(g.spec, g.plan)
    sep = {b: _separately(prob, g, b) for b in BATCHES}
    for b, m in sep.items():
        assert got[f"latency_ns@{b}"] == pytest.approx(m["latency_ns"], rel=1e-12)
        assert got[f"energy_pj@{b}"] == pytest.approx(m["energy_pj"], rel=1e-12)
        assert got[f"energy_pj_per_sample@{b}"] == pytest.approx(m["energy_pj"] / b, rel=1e-12)
        assert got[f"edp@{b}"] == pytest.approx(m["latency_ns"] * m["energy_pj"], rel=1e-12)
    # latency per request as it is; energy and edp per sample, so batch 1 and 256 compare
    assert got["latency_ns"] == pytest.approx(max(m["latency_ns"] for m in sep.values()))
    per_sample = {b: m["energy_pj"] / b for b, m in sep.items()}
    assert got["energy_pj"] == pytest.approx(max(per_sample.values()))
    assert got["edp"] == pytest.approx(max(m["latency_ns"] * m["energy_pj"] / b
                                           for b, m in sep.items()))
    # the components are the worst batch's, per sample: they add up to energy_pj
    worst = max(per_sample, key=per_sample.__getitem__)
    parts = [got[f"energy_{c}"] for c in ENERGY_COLUMNS]
    assert parts == pytest.approx([sep[worst][f"energy_{c}"] / worst for c in ENERGY_COLUMNS])
    assert sum(parts) == pytest.approx(got["energy_pj"], rel=1e-9)
    # the batches differ, or the test would not tell max from either figure
    assert sep[1]["latency_ns"] < sep[256]["latency_ns"]
    assert per_sample[1] > per_sample[256]


def test_weighted_sum_by_hand() -> None:
    prob = _problem(batches=BATCHES, batch_weights=(3.0, 1.0))
    g = _genome(prob, 5)
    got = prob.hardware(g.spec, g.plan)
    l1, e1 = (_separately(prob, g, 1)[k] for k in ("latency_ns", "energy_pj"))
    l2, e2 = (_separately(prob, g, 256)[k] for k in ("latency_ns", "energy_pj"))
    assert got["latency_ns"] == pytest.approx(3 * l1 + l2)
    assert got["energy_pj"] == pytest.approx(3 * e1 + e2 / 256)
    assert got["energy_pj_per_sample"] == got["energy_pj"]
    assert got["edp"] == pytest.approx(3 * l1 * e1 + l2 * e2 / 256)
    assert prob.operating.mix == "3:1"
    assert prob.operating.identity() == {"batch": [1, 256], "batch_mix": "3:1"}


def test_one_batch_keeps_the_single_batch_figures() -> None:
    """``batch=64`` and ``batches=(64,)`` are one problem; its aggregate is the batch's own
    latency and energy (not per sample) and edp their product."""
    old, new = _problem(batch=64), _problem(batches=(64,))
    assert old.batch == new.batch == 64 and old.batches == new.batches == (64,)
    assert old.operating.identity() == {"batch": 64}
    g = _genome(old, 2)
    got = new.hardware(g.spec, g.plan)
    m = _separately(old, g, 64)
    assert got["latency_ns"] == pytest.approx(m["latency_ns"])
    assert got["energy_pj"] == pytest.approx(m["energy_pj"])
    assert got["edp"] == pytest.approx(m["latency_ns"] * m["energy_pj"])
    assert got["energy_pj_per_sample"] == pytest.approx(m["energy_pj"] / 64)
    assert _problem().batches == (256,)  # the default


def test_greedy_over_batches_is_the_best_per_batch_greedy_plan() -> None:
    """With two batches the greedy plan is one batch's greedy plan, and no other batch's
    greedy plan has a lower aggregate (both simulated here at each batch)."""
    cost = cached_kernel_cost()
    for mix in (None, (1.0, 1.0)):
        prob = _problem(batches=BATCHES, batch_weights=mix)
        spec = _genome(prob, 1).spec
        knobs = prob.naive(spec).knobs
        chosen = prob.greedy(spec, knobs, "latency")
        candidates = [greedy_plan(spec, prob.schema, prob.hw_profile, knobs, cost, "latency",
                                  batch=b) for b in BATCHES]
        assert candidates[0].key() != candidates[1].key()  # a real choice between the two
        assert chosen.key() in {p.key() for p in candidates}

        def aggregate(plan: Any) -> float:
            lat = [_separately(prob, Genome(spec, plan), b)["latency_ns"] for b in BATCHES]
            return max(lat) if mix is None else sum(lat)

        assert aggregate(chosen) <= min(aggregate(p) for p in candidates) * (1 + 1e-9)


def test_problem_refuses_inconsistent_operating_points() -> None:
    for kw, message in (
        (dict(batch=1, batches=(1, 256)), "batch=1 and batches=(1, 256)"),
        (dict(batches=(1, 1)), "distinct integers >= 1"),
        (dict(batches=(0,)), "distinct integers >= 1"),
        (dict(batches=BATCHES, batch_weights=(1.0,)), "one finite weight >= 0 per batch (2)"),
        (dict(batches=BATCHES, batch_weights=(0.0, 0.0)), "not all 0"),
        (dict(batches=BATCHES, latency_limit_us={16: 5.0}), "at a batch of [1, 256]"),
        (dict(batches=BATCHES, latency_limit_us={1: -5.0}), "a limit > 0 in us"),
    ):
        with pytest.raises(CodesignError, match=message.replace("(", r"\(").replace(
                ")", r"\)").replace("[", r"\[").replace("]", r"\]")):
            _problem(**kw)


def test_option_parsing() -> None:
    assert parse_batches("1, 16,256") == (1, 16, 256)
    assert parse_batch_mix("worst", BATCHES) is None
    assert parse_batch_mix("sum", BATCHES) == (1.0, 1.0)
    assert parse_batch_mix("0.9:0.1", BATCHES) == (0.9, 0.1)
    assert parse_latency_limits("500", BATCHES) == {1: 500.0, 256: 500.0}
    assert parse_latency_limits("200,2000", BATCHES) == {1: 200.0, 256: 2000.0}
    assert OperatingPoints(BATCHES, None, {1: 2.5}).search_limits() == {"latency_ns@1": 2500.0}


def test_cli_option_errors_in_the_users_terms(capsys: pytest.CaptureFixture[str]) -> None:
    """Refused before any data is read, each naming the option, the value and what is
    accepted."""
    base = ["search", "--data", "d", "--supernet", "s", "--profile", "hbm2_pim", "--out", "o",
            "--quiet"]
    refused = {
        "limit outside constrained": (["--latency-limit-us", "100"],
                                      "--latency-limit-us: does not apply to --mode pareto; "
                                      "accepted: --latency-limit-us with --mode constrained"),
        "limit count": (["--mode", "constrained", "--batch", "1,256", "--latency-limit-us",
                         "1,2,3"], "--latency-limit-us 1,2,3: 3 limits for 2 batches; "
                         "accepted: one latency in us for every batch, or one per batch"),
        "limit value": (["--mode", "constrained", "--latency-limit-us", "fast"],
                        "--latency-limit-us fast: 'fast' is not a number"),
        "limit sign": (["--mode", "constrained", "--latency-limit-us", "-3"], "not > 0"),
        "no limit": (["--mode", "constrained", "--batch", "1,256"],
                     "give at least one --limit KEY=V or --latency-limit-us X"),
        "mix count": (["--batch", "1,256", "--batch-mix", "1:2:3"],
                      "--batch-mix 1:2:3: 3 weight(s) for 2 batch(es); accepted: worst, sum, "
                      "or one weight >= 0 per batch (2: 1, 256)"),
        "mix name": (["--batch-mix", "best"], "--batch-mix best: 'best' is not a number; "
                     "accepted: worst, sum, or one weight"),
        "batch twice": (["--batch", "1,1"], "--batch 1,1: batch 1 is given twice"),
        "batch zero": (["--batch", "0,4"], "--batch 0,4: 0 is not >= 1"),
        "batch word": (["--batch", "one"], "--batch one: 'one' is not an integer"),
    }
    for name, (extra, message) in refused.items():
        assert codesign_main([*base, *extra]) == 2, name
        assert message in capsys.readouterr().err, name


def _feasible_front_by_hand(rows: list[dict[str, float]], names: tuple[str, ...]) -> set[int]:
    """Indices of the rows no other row dominates (all <=, one <), brute force."""
    out = set()
    for i, a in enumerate(rows):
        if not any(all(b[k] <= a[k] for k in names) and any(b[k] < a[k] for k in names)
                   for j, b in enumerate(rows) if j != i):
            out.add(i)
    return out


def test_constrained_front_and_best_hold_only_feasible_genomes() -> None:
    limit = 180.0  # latency_ns = 100 + 10 * sum(x): genomes with sum(x) <= 8
    cfg = SearchConfig(budget="small", mode="constrained", limits={"latency_ns": limit})
    res = run_search(IntVectorProblem(), cfg, quiet=True)
    h = res.history
    assert (h["latency_ns"] > limit).any() and (h["latency_ns"] <= limit).any()
    assert (h["feasible"] == (h["latency_ns"] <= limit)).all()
    assert not res.front.empty and (res.front["latency_ns"] <= limit).all()
    feasible = h[h["feasible"]].reset_index(drop=True)
    names = tuple(cfg.objectives)
    expected = _feasible_front_by_hand(feasible[list(names)].to_dict("records"), names)
    assert set(res.front["index"]) == {int(feasible["index"][i]) for i in expected}
    assert (h.loc[~h["feasible"], "front"] == -1).all()
    assert res.best is not None and res.best["latency_ns"] <= limit
    assert res.best["logloss"] == feasible["logloss"].min()


def test_constrained_with_no_feasible_genome_returns_none() -> None:
    # latency_ns >= 100 for every genome: a limit of 50 is never met
    cfg = SearchConfig(budget="tiny", mode="constrained", limits={"latency_ns": 50.0})
    res = run_search(IntVectorProblem(), cfg, quiet=True)
    assert not res.history["feasible"].any()
    assert res.best is None and res.best_genome is None
    assert res.front.empty


def test_constrained_ties_on_the_metric_go_to_the_cheaper_genome() -> None:
    """Genomes of one subnet share its log loss whatever their plan: among them the lower
    latency, then the lower energy (the config's other objectives, in order) ranks first;
    the violation still comes before everything."""
    objs = [
        {"logloss": 0.40, "latency_ns": 150.0, "energy_pj": 5.0},
        {"logloss": 0.40, "latency_ns": 120.0, "energy_pj": 9.0},
        {"logloss": 0.40, "latency_ns": 120.0, "energy_pj": 7.0},
        {"logloss": 0.39, "latency_ns": 190.0, "energy_pj": 9.0},
        {"logloss": 0.30, "latency_ns": 250.0, "energy_pj": 1.0},  # over the limit
    ]
    con = SearchConfig(mode="constrained", limits={"latency_ns": 200.0})
    assert list(fitness_order(objs, con)) == [3, 2, 1, 0, 4]
    # results without energy_pj: latency alone, then the older genome
    bare = [{"logloss": o["logloss"], "latency_ns": o["latency_ns"]} for o in objs]
    assert list(fitness_order(bare, con)) == [3, 1, 2, 0, 4]
